"""The ICT mosaik adapter: one entity ``ict`` (model ``Network``) over :class:`IctNetwork`.

``create(1, "Network", region_dir=..., seed=..., **params)`` with optional parameters:

- ``attacks``: list of cyber-attack entries in the incidents syntax (see
  :mod:`twin.models.ict.attacks`); ``false_data`` attacks are applied here;
- ``handle_takedowns`` (bool, default False): also apply ``takedown`` attacks here (normally
  the incidents simulator puts taken-down sites into ``failed``);
- ``recharge_ratio`` (default 1.0): battery hours regained per hour of grid supply.

Inputs: ``failed`` {asset: cause event} (only ``ict/...`` ids are used), ``dead_buses``
{bus: cause event}, ``unsupplied`` {site: its load's shed event} (as if its bus were dead).
Outputs: ``unreachable`` {endpoint: cause}, ``sites_down`` {site: cause},
``load_p_mw`` {site: MW}, ``compromised`` {site: attack event}, ``falsified`` {endpoint:
attack event} (reachable endpoints whose access site is compromised), ``false_value``
{endpoint: value reported instead of the measurement}, ``series``, ``events``.
"""

from __future__ import annotations

import logging
from typing import Any

import mosaik_api_v3

from twin.adapters import merge_sources
from twin.events import Event
from twin.models.ict.attacks import AttackSchedule, falsified_endpoints, parse_attacks
from twin.models.ict.build import load_graph
from twin.models.ict.calls import answer_sites, call_frac, serving_sites
from twin.models.ict.network import IctNetwork, endpoints_from_region
from twin.region.assets import load_region

log = logging.getLogger(__name__)

MODEL = "Network"
EID = "ict"
OUTPUTS = (
    "unreachable", "sites_down", "load_p_mw", "compromised", "falsified", "false_value",
    "series", "events",
)
INPUTS = ("failed", "dead_buses", "unsupplied")

META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {
        MODEL: {
            "public": True,
            "params": ["region_dir", "seed", "attacks", "handle_takedowns", "recharge_ratio"],
            "attrs": [*INPUTS, *OUTPUTS],
            "trigger": [],
        }
    },
}




class IctSim(mosaik_api_v3.Simulator):
    """Reachability of every endpoint, site power and batteries, cyber attacks."""

    def __init__(self) -> None:
        super().__init__(META)
        self.sid = "ICT"
        self.step_s = 300
        self.net: IctNetwork | None = None
        self.attacks: AttackSchedule | None = None
        self.endpoint_sites: dict[str, str] = {}
        self.events: list[Event] = []
        self.time_s = 0
        self.serving: dict[str, tuple[str, ...]] = {}
        self.answers: tuple[str, ...] = ()

    def init(self, sid: str, time_resolution: float = 1.0, step_s: int = 300, **sim_params: Any):
        if float(time_resolution) != 1.0:
            raise ValueError(f"twin runs with time_resolution 1 s, got {time_resolution}")
        if int(step_s) <= 0:
            raise ValueError(f"step_s must be > 0, got {step_s}")
        self.sid = sid
        self.step_s = int(step_s)
        return self.meta

    def create(self, num: int, model: str, region_dir: str = "", seed: int = 0,
               attacks: list[dict] | None = None, handle_takedowns: bool = False,
               recharge_ratio: float = 1.0, **params: Any) -> list[dict]:
        if num != 1 or model != MODEL or self.net is not None:
            raise ValueError(f"IctSim has exactly one entity of model {MODEL!r}")
        if params:
            log.warning("IctSim ignores unknown parameters %s", sorted(params))
        region = load_region(region_dir)
        graph = load_graph(region.path("ict"))
        endpoints = endpoints_from_region(region, graph)
        site_bus = {c: s for c, s in region.suppliers("power->ict").items() if c in graph}
        self.net = IctNetwork(graph, endpoints, site_bus, recharge_ratio=recharge_ratio)
        self.endpoint_sites = {e: ep.site for e, ep in endpoints.items()}
        self.answers = answer_sites(graph)
        self.serving = serving_sites(graph, region.districts) if self.answers else {}
        self.attacks = AttackSchedule(parse_attacks(attacks or []), seed, handle_takedowns)
        return [{"eid": EID, "type": MODEL}]

    def step(self, time: int, inputs: dict[str, Any], max_advance: int | None = None) -> int:
        assert self.net is not None and self.attacks is not None, "create() first"
        data = inputs.get(EID, {})
        failed = {k: v for k, v in merge_sources(data.get("failed")).items()
                  if k.startswith("ict/")}
        dead_buses = merge_sources(data.get("dead_buses"))
        events = self.attacks.advance(
            time, self.step_s, self.net.graph,
            set(self.net.sites_down) | {k for k in failed if k in self.net.graph},
            set(self.net.links_down) | {k for k in failed if k in self.net.links},
        )
        for s, cause in self.attacks.taken_down.items():
            failed.setdefault(s, cause)
        self.net.set_compromised(self.attacks.compromised)
        events += self.net.step(time, self.step_s, failed, dead_buses,
                                merge_sources(data.get("unsupplied")))
        self.events = events
        self.time_s = time
        return time + self.step_s

    def _series(self) -> dict[str, Any]:
        net = self.net
        assert net is not None
        reachable = net.reachable
        calls = ({"district_emergency_call_frac": call_frac(self.serving, self.answers,
                                                            net.reach.component_of)}
                 if self.answers else {})
        return {
            **calls,
            "endpoints_reachable": float(len(reachable)),
            "endpoints_total": float(len(net.endpoints)),
            "sites_up": float(len(net.sites) - len(net.sites_down)),
            "sites_compromised": float(sum(net.site_state(s) == 2 for s in net.sites)),
            "district_reachable_frac": net.district_reachable_frac(),
            "site_state": {s: float(net.site_state(s)) for s in net.sites},
            "battery_h": net.battery_h(),
            "endpoint_reachable": {e: float(e in reachable) for e in sorted(net.endpoints)},
        }

    def outputs(self) -> dict[str, Any]:
        """Every output of the entity at the current time (also used without mosaik)."""
        net, att = self.net, self.attacks
        assert net is not None and att is not None
        compromised = {s: c for s, c in sorted(net.compromised.items()) if s not in net.sites_down}
        falsified = falsified_endpoints(compromised, self.endpoint_sites, net.reachable)
        return {
            "unreachable": dict(sorted(net.unreachable.items())),
            "sites_down": dict(sorted(net.sites_down.items())),
            "load_p_mw": net.load_p_mw(),
            "compromised": compromised,
            "falsified": falsified,
            "false_value": {
                e: att.false_values[self.endpoint_sites[e]]
                for e in falsified if self.endpoint_sites[e] in att.false_values
            },
            "series": self._series(),
            "events": list(self.events),
        }

    def get_data(self, outputs: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for eid, attrs in outputs.items():
            if eid != EID:
                raise ValueError(f"unknown entity {eid!r}; IctSim has only {EID!r}")
            unknown = [a for a in attrs if a not in OUTPUTS]
            if unknown:
                raise ValueError(f"IctSim has no outputs {unknown}")
            values = self.outputs()
            out[eid] = {a: values[a] for a in attrs}
        return out


def main() -> None:
    """Run as a separate process (mosaik ``cmd:`` starter)."""
    mosaik_api_v3.start_simulation(
        IctSim(), "twin ICT simulator (networkx)", configure_logging=False
    )


if __name__ == "__main__":
    main()
