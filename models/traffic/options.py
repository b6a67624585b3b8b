"""How SUMO runs: the traffic model's options and the SUMO command line built from them.

:class:`TrafficOptions` is the one source of the traffic sector's SUMO defaults (the mosaik
adapter, the element facade and ``[traffic]`` of a scenario pass their values through).
:func:`sumo_command` turns them into SUMO's command line; ``sumo_args`` overrides or adds
SUMO options (``("--meso-edgelength", "400", ...)``), which is how
``benchmarks/bench_traffic.py`` measures SUMO's own options (docs/traffic.md, "Cost").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from twin.randomness import stream

from .build import sumo_binary

Mode = Literal["meso", "micro"]
Backend = Literal["libsumo", "traci"]


@dataclass(frozen=True)
class TrafficOptions:
    """How SUMO runs. Units in the names."""

    mode: Mode = "meso"
    backend: Backend = "libsumo"
    demand_scale: float = 0.3  # simulated share of the region's car trips (docs/traffic.md)
    car_trips_per_person_day: float = 1.2
    time_to_teleport_s: float = 300.0  # SUMO teleports a vehicle blocked this long
    stuck_wait_s: float = 120.0  # a vehicle waiting this long counts as stuck
    rerouting_period_s: float = 300.0  # demand vehicles re-plan their route this often
    step_length_s: float = 1.0
    sumo_args: tuple[str, ...] = ()  # extra SUMO options, name/value pairs; override ours

    def __post_init__(self) -> None:
        if self.mode not in ("meso", "micro"):
            raise ValueError(f"traffic mode must be 'meso' or 'micro', got {self.mode!r}")
        if self.backend not in ("libsumo", "traci"):
            raise ValueError(f"traffic backend must be 'libsumo' or 'traci', got {self.backend!r}")
        if len(self.sumo_args) % 2 or not all(
                str(k).startswith("--") for k in self.sumo_args[::2]):
            raise ValueError("sumo_args must be pairs of '--option', 'value', got "
                             f"{list(self.sumo_args)!r}")
        object.__setattr__(self, "sumo_args", tuple(str(a) for a in self.sumo_args))


def override(cmd: list[str], args: tuple[str, ...]) -> list[str]:
    """``cmd`` with each ``--name value`` pair of ``args`` replacing ``cmd``'s or appended."""
    out = list(cmd)
    for name, value in zip(args[::2], args[1::2], strict=True):
        if name in out:
            out[out.index(name) + 1] = value
        else:
            out += [name, value]
    return out


def sumo_command(options: TrafficOptions, net_file: Path, seed: int,
                 additional_file: Path | None = None) -> list[str]:
    """The SUMO command line (deterministic: SUMO's seed comes from the twin seed)."""
    o = options
    sumo_seed = int(stream(seed, "traffic-sumo").integers(0, 2**31 - 1))
    cmd = [
        str(sumo_binary("sumo")), "--net-file", str(net_file),
        "--begin", "0", "--step-length", str(o.step_length_s), "--seed", str(sumo_seed),
        "--no-step-log", "true", "--no-warnings", "true", "--duration-log.disable", "true",
        # SUMO's trip statistics (the tripinfo device) without writing a tripinfo line per
        # vehicle (formatting them cost ~5 % of a day at 0.3); --verbose false keeps the
        # statistics option from printing SUMO's messages and summary on stdout
        "--duration-log.statistics", "true", "--verbose", "false",
        "--ignore-route-errors", "true",
        "--time-to-teleport", str(o.time_to_teleport_s),
        "--device.rerouting.period", str(o.rerouting_period_s),
        "--device.rerouting.adaptation-interval", "60",
        "--weights.minor-penalty", "0",
        # A* (distance over the vehicle's top speed as its bound, admissible: the fastest
        # route, as Dijkstra finds it) for the routes at insertion, the re-routing device and
        # closures' findRoute: the same routes at a third less SUMO time on the city's day
        # (every step's statistics equal on the default and city regions, docs/traffic.md)
        "--routing-algorithm", "astar",
        "--precision", "6",
    ]
    if additional_file is not None:
        cmd += ["--additional-files", str(additional_file)]
    if o.mode == "meso":
        cmd += ["--mesosim", "true", "--meso-junction-control", "true"]
    return override(cmd, o.sumo_args)
