"""A mosaik scenario that is not twin's own, using twin's element facades (docs/mosaik.md).

A plain pandapower net (pandapower's ``simple_mv_open_ring_net``) and a plain EPANET net
(``Net3``, shipped with wntr) are coupled element by element:

- a schedule simulator of this file fails ``line 1`` from 1 h to 4 h;
- the water pump ``water/pump/10`` is powered by ``bus 3`` (its ``energised`` output drives
  the pump's ``powered`` input);
- the pump's electrical draw is the demand of ``load 2`` one step later (time-shifted, the
  loop mosaik needs for a two-way coupling).

Run it:      python docs/examples/foreign_scenario.py --out values.json
In separate processes (the facades as ``cmd:`` simulators):
             python docs/examples/foreign_scenario.py --out values.json --cmd
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import mosaik
import mosaik_api_v3

STEP_S = 900
HOURS = 6
FAULT_H = (1.0, 4.0)  # line 1 is down in [1 h, 4 h)
RECORD = {  # "<simulator>.<element id>" -> outputs recorded each step
    "Power.bus 3": ["energised", "Vm[pu]"],
    "Power.bus 2": ["Vm[pu]"],
    "Power.line 0": ["loading[%]"],
    "Power.load 2": ["P[MW]"],
    "Water.water/pump/10": ["on", "P[MW]"],
    "Water.water/junction/10": ["pressure[m]"],
    "Water.water/junction/123": ["pressure[m]"],
    "Water.water/tank/1": ["level[m]"],
}


class Schedule(mosaik_api_v3.Simulator):
    """One entity whose output ``failed`` is 1 inside ``FAULT_H`` and 0 outside."""

    def __init__(self) -> None:
        super().__init__({"api_version": "3.0", "type": "time-based",
                          "models": {"Fault": {"public": True, "params": [], "attrs": ["failed"]}}})
        self.time = 0

    def init(self, sid: str, time_resolution: float = 1.0, **_: Any) -> dict:
        return self.meta

    def create(self, num: int, model: str) -> list[dict]:
        return [{"eid": "fault", "type": model}]

    def step(self, time: int, inputs: dict, max_advance: int) -> int:
        self.time = time
        return time + STEP_S

    def get_data(self, outputs: dict) -> dict:
        down = FAULT_H[0] * 3600 <= self.time < FAULT_H[1] * 3600
        return {"fault": {"failed": int(down)}}


class Collector(mosaik_api_v3.Simulator):
    """Keeps every value it receives, {time: {source: {attr: value}}}, and writes them to
    ``out`` (JSON) when the run ends."""

    def __init__(self) -> None:
        super().__init__({"api_version": "3.0", "type": "time-based",
                          "models": {"Monitor": {"public": True, "params": ["out"], "attrs": [], "any_inputs": True}}})
        self.data: dict[int, dict[str, dict[str, Any]]] = {}
        self.out = Path("foreign_values.json")

    def init(self, sid: str, time_resolution: float = 1.0, **_: Any) -> dict:
        return self.meta

    def create(self, num: int, model: str, out: str = "foreign_values.json") -> list[dict]:
        self.out = Path(out)
        return [{"eid": "monitor", "type": model}]

    def finalize(self) -> None:
        self.out.write_text(json.dumps({str(t): v for t, v in sorted(self.data.items())}, indent=1))

    def step(self, time: int, inputs: dict, max_advance: int) -> int:
        for attr, by_source in inputs.get("monitor", {}).items():
            for src, value in by_source.items():
                sid, _, eid = src.partition(".")  # "Power-0.bus 3" -> "Power.bus 3"
                name = f"{sid.rsplit('-', 1)[0]}.{eid}"
                self.data.setdefault(time, {}).setdefault(name, {})[attr] = value
        return time + STEP_S


def run(out: Path, cmd: bool = False) -> dict[str, dict[str, dict[str, Any]]]:
    """Run the scenario; return the collected values {time s: {element: {attr: value}}},
    which are also in ``out``."""
    import pandapower as pp
    import pandapower.networks as pn

    grid_file = Path(tempfile.mkdtemp(prefix="foreign-")) / "ring.json"
    pp.to_json(pn.simple_mv_open_ring_net(), str(grid_file))
    facade = {"Power": "twin.facade.power:PowerElements", "Water": "twin.facade.water:WaterElements"}
    sim_config: dict[str, dict[str, str]] = {
        name: ({"cmd": f"{sys.executable} -m {spec.split(':')[0]} %(addr)s"} if cmd else {"python": spec})
        for name, spec in facade.items()
    }
    sim_config["Schedule"] = {"python": f"{__name__}:Schedule"}  # the example simulators of this file
    sim_config["Collector"] = {"python": f"{__name__}:Collector"}

    with mosaik.World(sim_config, time_resolution=1.0, skip_greetings=True) as world:
        (power,) = world.start("Power", step_s=STEP_S).Network.create(1, file=str(grid_file))
        (water,) = world.start("Water", step_s=STEP_S).Network.create(1, file="wntr:Net3")
        (fault,) = world.start("Schedule").Fault.create(1)
        (monitor,) = world.start("Collector").Monitor.create(1, out=str(out))
        elements = {f"{sector}.{e.eid}": e for sector, net in (("Power", power), ("Water", water))
                    for e in net.children}

        world.connect(fault, elements["Power.line 1"], "failed")
        world.connect(elements["Power.bus 3"], elements["Water.water/pump/10"], ("energised", "powered"))
        world.connect(elements["Water.water/pump/10"], elements["Power.load 2"], "P[MW]",
                      time_shifted=True, initial_data={"P[MW]": 1.0})
        for full_id, attrs in RECORD.items():
            world.connect(elements[full_id], monitor, *attrs)
        world.run(until=HOURS * 3600, print_progress=False)
    return json.loads(out.read_text())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("foreign_values.json"), help="where the values go (JSON)")
    p.add_argument("--cmd", action="store_true", help="run the facades as separate processes")
    args = p.parse_args()
    data = run(args.out, args.cmd)
    print(f"{'time h':>6} {'bus 3 live':>10} {'Vm bus 2':>9} {'pump on':>7} {'p junction 10 m':>16}")
    for t, values in sorted(data.items(), key=lambda item: int(item[0])):
        print(f"{int(t) / 3600:6.2f} {values['Power.bus 3']['energised']:>10} {values['Power.bus 2']['Vm[pu]']:9.4f} "
              f"{values['Water.water/pump/10']['on']:>7} {values['Water.water/junction/10']['pressure[m]']:16.2f}")
    print(f"values: {args.out}")


if __name__ == "__main__":
    main()
