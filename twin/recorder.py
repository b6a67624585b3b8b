"""The recorder simulator: collects every simulator's ``series`` and ``events`` each step.

It keeps the run in memory and writes it into the run's partial results file when mosaik
finalises the world, series and events in one atomic write (twin.atomic.edit); the runner
then adds metrics and publishes the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mosaik_api_v3

from twin.events import Event
from twin.progress import STEP_REPORTERS
from twin.results import write_series

META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {
        "Recorder": {
            "public": True,
            "params": ["out_path"],
            "attrs": ["series", "events"],
            "trigger": [],
        }
    },
}


def _sector(full_id: str) -> str:
    """'Power-0.power' -> 'power': the source entity's id is its sector."""
    return full_id.rsplit(".", 1)[-1]


class Recording:
    """Series and events of one run, step by step (no mosaik needed)."""

    def __init__(self) -> None:
        self.time_s: list[int] = []
        self.series: dict[str, dict[str, list[Any]]] = {}
        self.events: list[Event] = []
        self._seen: set[str] = set()

    def add_step(self, time_s: int, series: dict[str, dict[str, Any]], events: list[Event]) -> None:
        self.time_s.append(int(time_s))
        for sector, values in series.items():
            target = self.series.setdefault(sector, {})
            for name, value in values.items():
                target.setdefault(name, []).append(value)
        for ev in events:
            if ev["event_id"] not in self._seen:
                self._seen.add(ev["event_id"])
                self.events.append(ev)

    def write(self, path: Path) -> None:
        self.events.sort(key=lambda e: e["time_s"])  # stable: keeps emission order within a step
        write_series(path, self.time_s, self.series, self.events)  # one atomic write


# Recordings of in-process recorders by output path, so that the runner can still write
# what was recorded when a run fails before mosaik finalises the world.
ACTIVE: dict[str, Recording] = {}


class RecorderSim(mosaik_api_v3.Simulator):
    """mosaik adapter of :class:`Recording`."""

    def __init__(self) -> None:
        super().__init__(META)
        self.step_s = 300
        self.out_path: Path | None = None
        self.recording = Recording()

    def init(self, sid: str, time_resolution: float = 1.0, step_s: int = 300, **_: Any) -> dict:
        self.step_s = int(step_s)
        return self.meta

    def create(self, num: int, model: str, out_path: str) -> list[dict]:
        if num != 1 or self.out_path is not None:
            raise ValueError("RecorderSim supports exactly one entity")
        self.out_path = Path(out_path)
        ACTIVE[str(self.out_path)] = self.recording
        return [{"eid": "recorder", "type": model}]

    def step(self, time: int, inputs: dict, max_advance: int | None = None) -> int:
        data = inputs.get("recorder", {})
        series = {_sector(src): v for src, v in sorted(data.get("series", {}).items())}
        events: list[Event] = []
        for _src, evs in sorted(data.get("events", {}).items()):
            events.extend(evs or [])
        self.recording.add_step(int(time), series, events)
        if (report := STEP_REPORTERS.get(str(self.out_path))) is not None:
            report((int(time) + self.step_s) / 3600.0)  # simulated hours done
        return int(time) + self.step_s

    def get_data(self, outputs: dict) -> dict:
        return {}

    def finalize(self) -> None:
        if self.out_path is not None and self.recording.time_s:
            self.recording.write(self.out_path)
            ACTIVE.pop(str(self.out_path), None)


def main() -> None:
    mosaik_api_v3.start_simulation(RecorderSim())


if __name__ == "__main__":
    main()
