"""The incidents simulator: the only writer of asset damage and repair.

It replays the damage schedule of :mod:`twin.hazards` and returns each failed asset after
the sector's repair time (or a repair reported by control). Output ``failed`` maps every
currently failed asset to the event that failed it.
"""

from __future__ import annotations

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
            "attrs": ["repairs", "failed", "series", "events"],
            "trigger": [],
        }
    },
}


class IncidentLog:
    """Damage state over time, without mosaik: apply failures and repairs step by step."""

    def __init__(self, schedule: list[Damage], repair_s: dict[str, int], sectors: dict[str, str]):
        self._pending = list(schedule)
        self._repair_s = repair_s
        self._sector = sectors  # asset id -> sector
        self.failed: dict[str, str] = {}  # asset id -> failure event id
        self._repair_at: dict[str, int] = {}
        self._hazards_started: set[str] = set()

    def advance(self, t: int, step_s: int, repaired_by_crews: set[str] | None = None) -> list[Event]:
        """Apply everything due in [t, t + step_s); return the events."""
        events: list[Event] = []
        for asset in sorted(self._repair_at):
            if self._repair_at[asset] <= t or asset in (repaired_by_crews or set()):
                cause = self.failed.pop(asset)
                del self._repair_at[asset]
                events.append(
                    make_event(t, self._sector[asset], asset, "repaired", 1.0, cause, "repair")
                )
        while self._pending and self._pending[0].time_s < t + step_s:
            d = self._pending.pop(0)
            if d.hazard_id not in self._hazards_started:
                self._hazards_started.add(d.hazard_id)
                events.append(make_event(d.hazard_time_s, "incidents", d.hazard_id, "hazard"))
            if d.asset_id in self.failed:
                continue
            root = make_event(d.hazard_time_s, "incidents", d.hazard_id, "hazard")["event_id"]
            ev = make_event(t, self._sector[d.asset_id], d.asset_id, "failed", 1.0, root, "hazard")
            events.append(ev)
            self.failed[d.asset_id] = ev["event_id"]
            sector = self._sector[d.asset_id]
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
        self.log = IncidentLog(schedule, repair_s, {a["id"]: a["sector"] for a in region.assets})
        self._sectors = sorted({a["sector"] for a in region.assets})
        return [{"eid": "incidents", "type": model}]

    def step(self, time: int, inputs: dict, max_advance: int | None = None) -> int:
        assert self.log is not None
        repaired: set[str] = set()
        for value in inputs.get("incidents", {}).get("repairs", {}).values():
            repaired.update(value or [])
        self._events = self.log.advance(int(time), self.step_s, repaired)
        return int(time) + self.step_s

    def get_data(self, outputs: dict) -> dict:
        assert self.log is not None
        counts = {s: 0.0 for s in self._sectors}
        for asset in self.log.failed:
            counts[asset.split("/", 1)[0]] += 1
        data = {
            "failed": dict(self.log.failed),
            "series": {"failed_assets": counts},
            "events": self._events,
        }
        return {"incidents": {a: data[a] for a in outputs.get("incidents", []) if a in data}}


def main() -> None:
    mosaik_api_v3.start_simulation(IncidentsSim())


if __name__ == "__main__":
    main()
