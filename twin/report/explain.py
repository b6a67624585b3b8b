"""Why did an asset fail? The chain of causes from one failure back to its hazard.

Every event names the event that caused it (``cause_id``) and the dependency it travelled
(``coupling``), so the chain is read straight off the event log of a results file
(:func:`twin.metrics.chain`). This module picks the failure to explain, and prints the chain
with times and couplings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from twin.events import ROOT_COUPLINGS, Event, is_failure
from twin.metrics import chain
from twin.report.analysis import undoes
from twin.results import Results


class ExplainError(ValueError):
    """The asset, the time or the failure to explain does not exist in the results file."""


_HHMM = re.compile(r"^(\d+):([0-5]\d)(?::([0-5]\d))?$")
_HOURS = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)\s*h$")
_SECONDS = re.compile(r"^(\d+)\s*s?$")


def parse_time(text: str) -> int:
    """Seconds from the start of the run: ``12600``, ``12600s``, ``03:30``, ``3:30:00`` or ``3.5h``.

    ``HH`` may exceed 23 (day two starts at ``24:00``).
    """
    t = text.strip().lower()
    if m := _HHMM.match(t):
        return int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3] or 0)
    if m := _HOURS.match(t):
        return round(float(m[1]) * 3600)
    if m := _SECONDS.match(t):
        return int(m[1])
    raise ExplainError(f"cannot read time {text!r}: use seconds (12600), HH:MM (03:30) or hours (3.5h)")


def format_time(time_s: int | float) -> str:
    """``HH:MM`` from the start of the run (``HH:MM:SS`` when not on a minute; HH may exceed 23)."""
    s = int(round(time_s))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" if sec == 0 else f"{h:02d}:{m:02d}:{sec:02d}"


@dataclass(frozen=True)
class Explanation:
    """The failure explained and its chain of causes, effect first, root last."""

    asset_id: str
    event: Event
    chain: list[Event]
    recovered_s: int | None  # when the asset recovered from this failure, None if never
    complete: bool  # True when the chain ends at a root (hazard, attack, scheduled outage)
    other_failures: tuple[Event, ...] = ()  # the asset's other failure events, in time order


def asset_events(r: Results, asset_id: str) -> list[Event]:
    """The asset's events in time order (log order among equal times)."""
    evs = [e for e in r.events if e["asset_id"] == asset_id]
    return sorted(evs, key=lambda e: e["time_s"])


def _known(r: Results, asset_id: str) -> bool:
    return asset_id in set(map(str, r.assets["id"])) or any(e["asset_id"] == asset_id for e in r.events)


def _suggest(r: Results, asset_id: str) -> str:
    ids = sorted({*map(str, r.assets["id"]), *(e["asset_id"] for e in r.events)})
    name = asset_id.rsplit("/", 1)[-1]
    close = [i for i in ids if i.rsplit("/", 1)[-1] == name or asset_id in i][:5]
    return f" (did you mean {', '.join(close)}?)" if close else ""


def explain(r: Results, asset_id: str, at_s: int | None = None) -> Explanation:
    """Explain one failure of ``asset_id``.

    Without ``at_s``, its first failure; with it, the last failure at or before ``at_s`` (the
    one in force then, or the most recent one if the asset had recovered by then).
    """
    if not _known(r, asset_id):
        raise ExplainError(f"{r.path}: no asset {asset_id!r} in the asset table or the event log"
                           + _suggest(r, asset_id))
    evs = asset_events(r, asset_id)
    failures = [e for e in evs if is_failure(e["kind"])]
    if not failures:
        raise ExplainError(f"{asset_id} never failed in {r.path}")
    if at_s is None:
        event = failures[0]
    else:
        before = [e for e in failures if e["time_s"] <= at_s]
        if not before:
            times = ", ".join(format_time(e["time_s"]) for e in failures[:8])
            raise ExplainError(f"{asset_id} had not failed by {format_time(at_s)}; it failed at {times}")
        event = before[-1]
    later = evs[evs.index(event) + 1:]
    recovered = next((e["time_s"] for e in later if undoes(e["kind"], event["kind"])), None)
    events = chain(r, event["event_id"])
    root = events[-1]
    complete = root["coupling"] in ROOT_COUPLINGS or root["kind"] == "hazard" or (
        root["sector"] == "incidents" and not root["cause_id"])
    others = tuple(e for e in failures if e is not event)
    return Explanation(asset_id, event, events, recovered, complete, others)


# Couplings that are not a sector's own network, read as what acted.
_ACTED = {
    "overload": "overload (protection tripped the breaker)",
    "protection": "protection (automatic reclosing)",
    "control": "control (a command)",
    "repair": "repair (a crew)",
    "policy": "policy (a decision)",
    "voltage_collapse": "voltage_collapse (shed so that the power flow converges)",
    "simulator": "simulator (a solver failure)",
}


def _coupling_label(coupling: str) -> str:
    if "->" in coupling or coupling in ROOT_COUPLINGS:
        return coupling
    if coupling in _ACTED:
        return _ACTED[coupling]
    return f"{coupling} (inside the {coupling} network)" if coupling else "(no coupling named)"


def format_chain(ex: Explanation, one_line: bool = False) -> str:
    """The chain as text: one event per line with the coupling between them, or one line.

    One line reads ``03:15 water/pump/PS2 pump_stopped <- power->water <- 03:10 ...``.
    """
    if one_line:
        parts = []
        for i, e in enumerate(ex.chain):
            parts.append(f"{format_time(e['time_s'])} {e['asset_id']} {e['kind']}")
            if i < len(ex.chain) - 1:
                parts.append(e["coupling"] or "?")
        text = " <- ".join(parts)
        if not ex.complete:
            text += f" <- ? (cause {ex.chain[-1]['cause_id'] or 'not recorded'})"
        return text
    width = max(len(e["asset_id"]) for e in ex.chain)
    lines = []
    for i, e in enumerate(ex.chain):
        lines.append(f"{format_time(e['time_s']):>8}  {e['asset_id']:<{width}}  {e['kind']}")
        if i < len(ex.chain) - 1:
            lines.append(f"{'':>8}    <- {_coupling_label(e['coupling'])}")
    last = ex.chain[-1]
    if not ex.complete:
        missing = last["cause_id"] or "not recorded"
        lines.append(f"{'':>8}    <- {_coupling_label(last['coupling'])}: cause {missing} is not in the event log")
    return "\n".join(lines)


def headline(ex: Explanation) -> str:
    """One sentence above the chain: what failed when, how deep, and whether it recovered."""
    depth = len(ex.chain) - 1
    text = (f"{ex.asset_id} {ex.event['kind']} at {format_time(ex.event['time_s'])}: "
            f"{depth} step{'s' if depth != 1 else ''} from its root cause")
    if ex.recovered_s is not None:
        text += f"; recovered at {format_time(ex.recovered_s)}"
    else:
        text += "; not recovered by the end of the run"
    if ex.other_failures:
        shown = ", ".join(f"{e['kind']} at {format_time(e['time_s'])}" for e in ex.other_failures[:5])
        more = f" and {len(ex.other_failures) - 5} more" if len(ex.other_failures) > 5 else ""
        text += f"\nits other failures (explain one with --at): {shown}{more}"
    return text
