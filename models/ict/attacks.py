"""Cyber attacks on the ICT layer: parsing, spread along links, and falsified telemetry.

An attack is a scenario event in the incidents syntax::

    {kind = "cyber", target = "ict/site/BS3", at_h = 6, mode = "takedown",
     spread_probability = 0.3, duration_h = 4}
    {kind = "cyber", target = "ict/site/BS5", at_h = 6, mode = "false_data", false_value = 0.2}

``takedown`` puts the target (and the sites it spreads to) down like damage; ``false_data``
leaves them up but compromised: telemetry of the endpoints they serve carries
``false_value`` instead of the measurement, so the controller decides wrongly.

Spread: starting at the target, the attack moves along up links to up neighbours. Each site
has one draw ``stream(seed, "attack-spread", site_id)``; a site is taken when its draw is
below ``spread_probability`` and it is adjacent to a taken site. The result does not depend
on visiting order; probability 0 keeps the attack on its target, probability 1 takes the
target's whole connected component. The draw depends on the site only, so the same sites
are vulnerable in every configuration (paired comparisons).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx

from twin.events import Event, make_event
from twin.randomness import uniform

AttackMode = Literal["takedown", "false_data"]
MODES: tuple[str, ...] = ("takedown", "false_data")


class AttackSpecError(ValueError):
    """A cyber-attack entry of the scenario is malformed."""


@dataclass(frozen=True)
class CyberAttack:
    """One scheduled attack on one ICT site."""

    target: str
    at_s: int
    mode: AttackMode
    spread_probability: float = 0.0
    false_value: float | None = None
    duration_s: int | None = None  # None: lasts to the end of the run
    damage_seed: int | None = None  # seed of the spread draws; None: the run's seed

    def ends_within(self, time_s: int, step_s: int) -> bool:
        """True if the attack ends during the step ``[time_s, time_s + step_s)`` or before."""
        return self.duration_s is not None and self.at_s + self.duration_s < time_s + step_s


def parse_attack(spec: Mapping[str, Any]) -> CyberAttack:
    """Validate one ``kind = "cyber"`` entry (keys ``target, at_h, mode`` required)."""
    if spec.get("kind", "cyber") != "cyber":
        raise AttackSpecError(f"not a cyber attack (kind={spec.get('kind')!r}): {dict(spec)}")
    allowed = {"kind", "target", "at_h", "mode", "spread_probability", "false_value",
               "duration_h", "id", "damage_seed"}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise AttackSpecError(f"cyber attack has unknown keys {unknown}; allowed {sorted(allowed)}")
    for key in ("target", "at_h", "mode"):
        if key not in spec:
            raise AttackSpecError(f"cyber attack lacks {key!r}: {dict(spec)}")
    target = str(spec["target"])
    if not target.startswith("ict/site/"):
        raise AttackSpecError(f"cyber attack target must be an ICT site id, got {target!r}")
    mode = str(spec["mode"])
    if mode not in MODES:
        raise AttackSpecError(f"cyber attack mode must be one of {MODES}, got {mode!r}")
    at_h = float(spec["at_h"])
    if at_h < 0:
        raise AttackSpecError(f"cyber attack at_h must be >= 0, got {at_h}")
    p = float(spec.get("spread_probability", 0.0))
    if not 0.0 <= p <= 1.0:
        raise AttackSpecError(f"spread_probability must be in [0, 1], got {p}")
    dur = spec.get("duration_h")
    if dur is not None and float(dur) <= 0:
        raise AttackSpecError(f"cyber attack duration_h must be > 0, got {dur}")
    fv = spec.get("false_value")
    return CyberAttack(
        target=target,
        at_s=round(at_h * 3600),
        mode=mode,  # type: ignore[arg-type]
        spread_probability=p,
        false_value=None if fv is None else float(fv),
        duration_s=None if dur is None else round(float(dur) * 3600),
        damage_seed=None if spec.get("damage_seed") is None else int(spec["damage_seed"]),
    )


def parse_attacks(specs: Iterable[Mapping[str, Any]]) -> list[CyberAttack]:
    """Parse the cyber entries of a list of scenario events (other kinds are skipped)."""
    return sorted(
        (parse_attack(s) for s in specs if s.get("kind", "cyber") == "cyber"),
        key=lambda a: (a.at_s, a.target, a.mode),
    )


def spread_attack(
    graph: nx.Graph,
    start: str,
    probability: float,
    seed: int,
    down_sites: Iterable[str] = (),
    down_links: Iterable[str] = (),
) -> list[str]:
    """Sites an attack on ``start`` reaches (``start`` included), sorted by id.

    Moves over up sites and up links (edges carry their link id in ``id``). Returns [] when
    ``start`` itself is down or unknown.
    """
    if not 0.0 <= probability <= 1.0:
        raise AttackSpecError(f"spread probability must be in [0, 1], got {probability}")
    dead_sites, dead_links = set(down_sites), set(down_links)
    if start not in graph or start in dead_sites:
        return []
    taken = {start}
    queue = deque([start])
    while queue:
        n = queue.popleft()
        for nb in sorted(graph.neighbors(n)):
            if nb in taken or nb in dead_sites or graph.edges[n, nb].get("id") in dead_links:
                continue
            if probability > 0.0 and uniform(seed, "attack-spread", nb) < probability:
                taken.add(nb)
                queue.append(nb)
    return sorted(taken)


def falsified_endpoints(
    compromised: Mapping[str, str],
    endpoint_sites: Mapping[str, str],
    reachable: Iterable[str] | None = None,
) -> dict[str, str]:
    """Endpoints whose telemetry is falsified: their access site is compromised.

    ``endpoint_sites`` maps endpoint -> access site (``RegionInfo.suppliers("ict-><sector>")``);
    the value is the attack event id. With ``reachable``, only endpoints whose telemetry
    reaches the controller at all are listed.
    """
    ok = None if reachable is None else set(reachable)
    return {
        e: compromised[s]
        for e, s in sorted(endpoint_sites.items())
        if s in compromised and (ok is None or e in ok)
    }


class AttackSchedule:
    """Applies scheduled attacks step by step: compromises (false data) and take-downs.

    Take-downs are normally written by the incidents simulator (the one writer of damage);
    ``handle_takedowns=True`` lets the ICT side apply them itself, as failures whose cause is
    the attack. Every effect's cause chain ends at the attack's root event (coupling
    ``attack``); sites reached by spreading carry it as cause with coupling ``ict``.
    """

    def __init__(self, attacks: Iterable[CyberAttack], seed: int, handle_takedowns: bool = False):
        self.seed = int(seed)
        self.handle_takedowns = bool(handle_takedowns)
        self._pending = sorted(attacks, key=lambda a: (a.at_s, a.target, a.mode))
        self._active: list[tuple[CyberAttack, list[str], str]] = []  # attack, sites, root id
        self.compromised: dict[str, str] = {}  # site -> root attack event id
        self.taken_down: dict[str, str] = {}  # site -> its take-down event (cause: the attack)
        self.false_values: dict[str, float] = {}  # site -> value its endpoints report

    def advance(
        self,
        time_s: int,
        step_s: int,
        graph: nx.Graph,
        down_sites: Iterable[str] = (),
        down_links: Iterable[str] = (),
    ) -> list[Event]:
        """Start the attacks due in ``[time_s, time_s + step_s)`` and end expired ones."""
        events: list[Event] = []
        for attack, sites, root in list(self._active):
            if attack.ends_within(time_s, step_s):
                self._active.remove((attack, sites, root))
                book = self.compromised if attack.mode == "false_data" else self.taken_down
                kind = "restored" if attack.mode == "false_data" else "repaired"
                for s in sites:
                    if s in book:
                        cause = book.pop(s)
                        self.false_values.pop(s, None)
                        events.append(make_event(time_s, "ict", s, kind, 1.0, cause, "repair"))
        dead_sites, dead_links = set(down_sites), set(down_links)
        while self._pending and self._pending[0].at_s < time_s + step_s:
            attack = self._pending.pop(0)
            if attack.mode == "takedown" and not self.handle_takedowns:
                continue
            if attack.target not in graph:
                raise AttackSpecError(f"cyber attack target {attack.target!r} is not an ICT site")
            sites = spread_attack(
                graph, attack.target, attack.spread_probability,
                self.seed if attack.damage_seed is None else attack.damage_seed,
                dead_sites | set(self.taken_down), dead_links,
            )
            if not sites:
                continue  # the target is already down: nothing to attack
            kind = "compromised" if attack.mode == "false_data" else "failed"
            book = self.compromised if attack.mode == "false_data" else self.taken_down
            value = 1.0 if attack.mode == "false_data" else 0.0
            root = make_event(time_s, "ict", attack.target, kind, value, "", "attack")
            events.append(root)
            rid = root["event_id"]
            owned = []
            for s in sites:
                if s in book:
                    continue  # already held by an earlier attack
                owned.append(s)
                own = rid
                if s != attack.target:
                    spread = make_event(time_s, "ict", s, kind, value, rid, "ict")
                    events.append(spread)
                    own = spread["event_id"]
                # compromised sites name the attack itself; taken-down sites their own event
                book[s] = rid if attack.mode == "false_data" else own
                if attack.mode == "false_data" and attack.false_value is not None:
                    self.false_values[s] = attack.false_value
            self._active.append((attack, owned, rid))
        return events
