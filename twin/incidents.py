"""The incidents simulator: the only writer of asset damage and repair.

It replays the damage schedule of :mod:`twin.hazards` and returns each failed asset after
the sector's repair time (``[repair] mode = "fixed"``) or when control reports that a crew
repaired it (``mode = "crews"``: input ``repairs`` {asset: the crew's ``crew_finished``
event}, which becomes the cause of the ``repaired`` event). Damage with its own duration
(an outage's ``duration_h``, a flooded road until the water recedes) ends by itself in both
modes. Output ``failed`` maps every currently failed asset to the event that failed it;
``needs_crew`` the subset that waits for a crew; ``damage`` {asset: {"mode", "fraction"}}
how each of them is damaged (:class:`twin.hazards.Damage`: ``failed``, ``leak`` or ``break``,
and the damaged fraction), for sectors that model partial damage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import mosaik_api_v3

from twin.config import Scenario
from twin.events import Event, make_event
from twin.hazards import Damage, damage_schedule
from twin.region.assets import load_region

META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {
        "Incidents": {
            "public": True,
            "params": ["region_dir", "scenario_toml"],
            "attrs": ["repairs", "failed", "needs_crew", "damage", "series", "events"],
            "trigger": [],
        }
    },
}


class IncidentLog:
    """Damage state over time, without mosaik: apply failures and repairs step by step."""

    def __init__(self, schedule: list[Damage], repair_s: dict[str, int], sectors: dict[str, str],
                 mode: str = "fixed"):
        if mode not in ("fixed", "crews"):
            raise ValueError(f"unknown repair mode {mode!r}; choose 'fixed' or 'crews'")
        self.mode = mode
        self._pending = list(schedule)
        self._repair_s = repair_s
        self._sector = sectors  # asset id -> sector
        self.failed: dict[str, str] = {}  # asset id -> failure event id
        self.damage: dict[str, dict[str, float | str]] = {}  # asset id -> {"mode", "fraction"}
        self._repair_at: dict[str, int | None] = {}  # None: waits for a crew
        self._hazards_started: set[str] = set()

    @property
    def needs_crew(self) -> dict[str, str]:
        """Failed assets that only a crew brings back (mode ``crews``): asset -> failure event."""
        return {a: self.failed[a] for a, due in self._repair_at.items() if due is None}

    def advance(self, t: int, step_s: int,
                repaired_by_crews: Mapping[str, str] | Iterable[str] | None = None) -> list[Event]:
        """Apply everything due in [t, t + step_s); return the events.

        ``repaired_by_crews`` {asset: crew event} (or asset ids): those assets are repaired
        now; the crew event is the ``repaired`` event's cause (else the failure is).
        """
        events: list[Event] = []
        crews: dict[str, str] = (dict(repaired_by_crews) if isinstance(repaired_by_crews, Mapping)
                                 else {a: "" for a in repaired_by_crews or ()})
        for asset in sorted(self._repair_at):
            due = self._repair_at[asset]
            if (due is not None and due <= t) or asset in crews:
                cause = self.failed.pop(asset)
                self.damage.pop(asset, None)
                del self._repair_at[asset]
                events.append(make_event(t, self._sector[asset], asset, "repaired", 1.0,
                                         crews.get(asset) or cause, "repair"))
        while self._pending and self._pending[0].time_s < t + step_s:
            d = self._pending.pop(0)
            if d.hazard_id not in self._hazards_started:
                self._hazards_started.add(d.hazard_id)
                events.append(make_event(d.hazard_time_s, "incidents", d.hazard_id, "hazard"))
            if d.asset_id in self.failed:
                continue
            root = make_event(d.hazard_time_s, "incidents", d.hazard_id, "hazard")["event_id"]
            if d.mode == "transient":  # cleared by the recloser within the step: no outage
                fault = make_event(t, self._sector[d.asset_id], d.asset_id, "transient_fault", 1.0, root, "hazard")
                events += [fault, make_event(t, self._sector[d.asset_id], d.asset_id, "reclosed", 1.0,
                                             fault["event_id"], "protection")]
                continue
            ev = make_event(t, self._sector[d.asset_id], d.asset_id, "failed", d.fraction, root, "hazard")
            events.append(ev)
            self.failed[d.asset_id] = ev["event_id"]
            self.damage[d.asset_id] = {"mode": d.mode, "fraction": float(d.fraction)}
            sector = self._sector[d.asset_id]
            if d.duration_s is None and self.mode == "crews":
                self._repair_at[d.asset_id] = None
                continue
            duration = d.duration_s if d.duration_s is not None else self._repair_s.get(sector, 0)
            self._repair_at[d.asset_id] = t + max(duration, step_s)
        return events


class IncidentsSim(mosaik_api_v3.Simulator):
    """mosaik adapter of :class:`IncidentLog`."""

    def __init__(self) -> None:
        super().__init__(META)
        self.step_s = 300
        self.log: IncidentLog | None = None
        self._events: list[Event] = []

    def init(self, sid: str, time_resolution: float = 1.0, step_s: int = 300, **_: Any) -> dict:
        self.step_s = int(step_s)
        return self.meta

    def create(self, num: int, model: str, region_dir: str, scenario_toml: str) -> list[dict]:
        if num != 1 or self.log is not None:
            raise ValueError("IncidentsSim supports exactly one entity")
        import tomllib

        scenario = Scenario.model_validate(tomllib.loads(scenario_toml))
        region = load_region(region_dir)
        schedule = damage_schedule(scenario, region.assets)
        repair_s = {k: round(v * 3600) for k, v in scenario.repair.hours.items()}
        self.log = IncidentLog(schedule, repair_s, {a["id"]: a["sector"] for a in region.assets},
                               scenario.repair.mode)
        self._sectors = sorted({a["sector"] for a in region.assets})
        return [{"eid": "incidents", "type": model}]

    def step(self, time: int, inputs: dict, max_advance: int | None = None) -> int:
        assert self.log is not None
        repaired: dict[str, str] = {}
        for value in inputs.get("incidents", {}).get("repairs", {}).values():
            if isinstance(value, Mapping):
                repaired.update({str(k): str(v) for k, v in value.items()})
            else:
                repaired.update({str(a): "" for a in value or []})
        self._events = self.log.advance(int(time), self.step_s, repaired)
        return int(time) + self.step_s

    def get_data(self, outputs: dict) -> dict:
        assert self.log is not None
        counts = {s: 0.0 for s in self._sectors}
        for asset in self.log.failed:
            counts[asset.split("/", 1)[0]] += 1
        data = {
            "failed": dict(self.log.failed),
            "needs_crew": self.log.needs_crew,
            "damage": dict(self.log.damage),
            "series": {"failed_assets": counts},
            "events": self._events,
        }
        return {"incidents": {a: data[a] for a in outputs.get("incidents", []) if a in data}}


def main() -> None:
    mosaik_api_v3.start_simulation(IncidentsSim())


if __name__ == "__main__":
    main()
