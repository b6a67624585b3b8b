"""A malformed-input corpus: every case is one bad scenario (or plug-in, or dependency CSV)
that ``twin validate`` must reject with exit 2, naming the file and the exact dotted key,
without a traceback and without writing a results file (docs/reliability.md counts them).

Cases that need the region (asset ids, sites, depots) share one cached small region; the
rest stop at the schema. Nothing here simulates.
"""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from twin.cli import main

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "cosim_configs" / "data"

SMALL = '[run]\nhours = 2\nconfigurations = ["centralised"]\n[region]\nsize = "small"\n'
STORM = "[[hazards]]\nkind = 'storm'\ntrack_m = [[0, 0], [1000, 0]]\nstart_h = 0.5\nend_h = 1\npeak_wind_ms = 30\n"
IMPORTED = (
    '[run]\nhours = 2\nconfigurations = ["centralised"]\n[region.files]\npower = "pandapower:mv_oberrhein"\n'
    'water = "wntr:Net3"\ntraffic = "grid5_net.tntp"\ntraffic_nodes = "grid5_node.tntp"\ndependencies = "deps.csv"\n'
)

# ------------------------------------------------------------------ scenario tables
TABLES: list[tuple[str, str, str]] = [  # (case id, scenario text, dotted key)
    ("run-unknown-key", "[run]\nbogus = 1\n", "run.bogus"),
    ("run-hours-nan", "[run]\nhours = nan\n", "run.hours"),
    ("run-hours-zero", "[run]\nhours = 0\n", "run.hours"),
    ("run-step-not-minute", "[run]\nstep_s = 90\n", "run.step_s"),
    ("run-config-unknown", "[run]\nconfigurations = ['nowhere']\n", "run.configurations[0]"),
    ("run-seed-negative", "[run]\nseed = -1\n", "run.seed"),
    ("region-size", "[region]\nsize = 'huge'\n", "region.size"),
    ("region-unknown-key", "[region]\ncolour = 'red'\n", "region.colour"),
    ("region-config-name", "[region.configurations.nowhere]\nict_backup_h = 1\n", "region.configurations.nowhere"),
    ("region-backup-share", "[region.configurations.decentralised]\nbackup_capable_share = 1.5\n",
     "region.configurations.decentralised.backup_capable_share"),
    ("region-backup-kw", "[region.configurations.anchor_towns]\nbackup_kw_per_household = -3\n",
     "region.configurations.anchor_towns.backup_kw_per_household"),
    ("run-season", "[run]\nseason = 'monsoon'\n", "run.season"),
    ("region-files-suffix", "[region.files]\npower = 'grid.txt'\nwater = 'wntr:Net3'\ntraffic = 'x.tntp'\n",
     "region.files"),
    ("power-shed-bogus", "[power]\nshed_order = ['bogus', 'household']\n", "power.shed_order[0]"),
    ("power-shed-repeat", "[power]\nshed_order = ['household', 'household']\n", "power.shed_order"),
    ("power-efficiency-inf", "[power]\nbattery_efficiency = inf\n", "power.battery_efficiency"),
    ("power-battery-mode", "[power]\nbattery_mode = 'turbo'\n", "power.battery_mode"),
    ("power-policy-spec", "[power]\npolicy = 'no colon here'\n", "power.policy"),
    ("water-min-negative", "[water]\nminimum_pressure_m = -1\n", "water.minimum_pressure_m"),
    ("water-order", "[water]\nminimum_pressure_m = 30\nrequired_pressure_m = 20\n", "water.required_pressure_m"),
    ("water-nan", "[water]\nrequired_pressure_m = nan\n", "water.required_pressure_m"),
    ("traffic-mode", "[traffic]\nmode = 'nano'\n", "traffic.mode"),
    ("traffic-scale", "[traffic]\ndemand_scale = 2\n", "traffic.demand_scale"),
    ("traffic-unknown", "[traffic]\nlanes = 3\n", "traffic.lanes"),
    ("ict-unknown", "[ict]\nmeshing = 1\n", "ict.meshing"),
    ("ict-unknown-2", "[ict]\nbackup_h = 4\n", "ict.backup_h"),
    ("ict-unknown-3", "[ict.sites]\nBS1 = 1\n", "ict.sites"),
    ("control-type", "[control]\nwater_schedule = 'sometimes'\n", "control.water_schedule"),
    ("control-unknown", "[control]\nscada = true\n", "control.scada"),
    ("control-unknown-2", "[control.policy]\nx = 1\n", "control.policy"),
    ("repair-sector-typo", "[repair.hours]\npowr = 1.0\n", "repair.hours.powr"),
    ("repair-negative", "[repair.hours]\npower = -5.0\n", "repair.hours.power"),
    ("repair-nan", "[repair.hours]\nwater = nan\n", "repair.hours.water"),
    ("repair-mode", "[repair]\nmode = 'magic'\n", "repair.mode"),
    ("restoration-crews-sector", "[restoration.crews]\ngas = 1\n", "restoration.crews.gas"),
    ("restoration-crews-negative", "[restoration.crews]\npower = -1\n", "restoration.crews.power"),
    ("restoration-median-class", "[restoration.repair_median_h]\n'power/cable' = 3.0\n", "restoration.repair_median_h"),
    ("restoration-median-negative", "[restoration.repair_median_h]\n'power/line' = -3.0\n",
     'restoration.repair_median_h."power/line"'),
    ("restoration-speed-inf", "[restoration]\nblocked_speed_kmh = inf\n", "restoration.blocked_speed_kmh"),
    ("restoration-dispatch-spec", "[restoration]\ndispatch = 'module.Class'\n", "restoration.dispatch"),
    ("storm-track-nan", "[[hazards]]\nkind = 'storm'\ntrack_m = [[0, nan], [1000, 0]]\nstart_h = 1\nend_h = 2\n"
     "peak_wind_ms = 30\n", "hazards[0].track_m[0][1]"),
    ("storm-order", "[[hazards]]\nkind = 'storm'\ntrack_m = [[0, 0], [1000, 0]]\nstart_h = 3\nend_h = 2\n"
     "peak_wind_ms = 30\n", "hazards[0].end_h"),
    ("storm-after-horizon", "[run]\nhours = 6\n" + STORM.replace("start_h = 0.5\nend_h = 1", "start_h = 7\nend_h = 9"),
     "hazards[0].start_h"),
    ("storm-wind", STORM.replace("peak_wind_ms = 30", "peak_wind_ms = 300"), "hazards[0].peak_wind_ms"),
    ("random-types", "[[hazards]]\nkind = 'random'\nprobability = 0.1\ntypes = ['nosuchtype']\n", "hazards[0].types"),
    ("random-types-other-sector", "[[hazards]]\nkind = 'random'\nprobability = 0.1\nsectors = ['water']\n"
     "types = ['line']\n", "hazards[0].types"),
    ("random-probability", "[[hazards]]\nkind = 'random'\nprobability = 1.5\n", "hazards[0].probability"),
    ("random-sector-repeat", "[[hazards]]\nkind = 'random'\nprobability = 0.1\nsectors = ['power', 'power']\n",
     "hazards[0].sectors"),
    ("outage-after-horizon", "[run]\nhours = 2\n[[hazards]]\nkind = 'outage'\nasset = 'power/line/F1-2'\nat_h = 5\n",
     "hazards[0].at_h"),
    ("outage-negative", "[[hazards]]\nkind = 'outage'\nasset = 'power/line/F1-2'\nat_h = -1\n", "hazards[0].at_h"),
    ("flood-order", "[[hazards]]\nkind = 'flood'\npolygons_m = [[[0, 0], [1, 0], [1, 1]]]\ndepth_m = 1\n"
     "start_h = 2\nend_h = 1\n", "hazards[0].end_h"),
    ("flood-after-horizon", "[run]\nhours = 2\n[[hazards]]\nkind = 'flood'\npolygons_m = [[[0, 0], [1, 0], [1, 1]]]\n"
     "depth_m = 1\nstart_h = 3\n", "hazards[0].start_h"),
    ("flood-depth-nan", "[[hazards]]\nkind = 'flood'\npolygons_m = [[[0, 0], [1, 0], [1, 1]]]\ndepth_m = nan\n"
     "start_h = 0\n", "hazards[0].depth_m"),
    ("cyber-after-horizon", "[run]\nhours = 2\n[[hazards]]\nkind = 'cyber'\ntarget = 'ict/site/BS1'\nat_h = 2\n"
     "mode = 'takedown'\n", "hazards[0].at_h"),
    ("cyber-mode", "[[hazards]]\nkind = 'cyber'\ntarget = 'ict/site/BS1'\nat_h = 1\nmode = 'ddos'\n", "hazards[0].mode"),
    ("hazard-kind", "[[hazards]]\nkind = 'meteor'\n", "hazards[0]"),
]

# ------------------------------------------------------------------ ids the region must have
REGION: list[tuple[str, str, str]] = [
    ("outage-unknown-asset", SMALL + "[[hazards]]\nkind = 'outage'\nasset = 'power/line/nope'\nat_h = 0.5\n",
     "hazards[0].asset"),
    ("outage-unknown-asset-2", SMALL + "[[hazards]]\nkind = 'outage'\nasset = 'water/pump/P99'\nat_h = 0.5\n",
     "hazards[0].asset"),
    ("outage-unknown-asset-3", SMALL + STORM + "[[hazards]]\nkind = 'outage'\nasset = 'ict/site/BS999'\nat_h = 1\n",
     "hazards[1].asset"),
    ("cyber-unknown-site", SMALL + "[[hazards]]\nkind = 'cyber'\ntarget = 'ict/site/ZZ'\nat_h = 0.1\nmode = 'takedown'\n",
     "hazards[0].target"),
    ("cyber-unknown-site-2", SMALL + "[[hazards]]\nkind = 'cyber'\ntarget = 'ict/site/BS99'\nat_h = 0.1\n"
     "mode = 'false_data'\nfalse_value = 0\n", "hazards[0].target"),
    ("cyber-unknown-site-3", SMALL + STORM + "[[hazards]]\nkind = 'cyber'\ntarget = 'ict/site/'\nat_h = 1\n"
     "mode = 'takedown'\n", "hazards[1].target"),
    ("depot-unknown", SMALL + "[restoration.depots]\npower = ['nowhere']\n", "restoration.depots.power[0]"),
    ("depot-unknown-2", SMALL + "[restoration.depots]\nwater = ['water_plant', 'atlantis']\n",
     "restoration.depots.water[1]"),
    ("depot-unknown-3", SMALL + "[restoration.depots]\nict = ['district-9']\n", "restoration.depots.ict[0]"),
]

# ------------------------------------------------------------------ plug-ins
PLUGIN_MODULE = '''
class NoParams:
    def decide(self, *args, **kwargs):
        return []
    def assign(self, *args, **kwargs):
        return {}

class Raises:
    def __init__(self, **kwargs):
        raise RuntimeError("boom")

class NoMethod:
    pass

class NotCallable:
    decide = 3
    assign = 3

not_a_class = 42

class ReturnsList:
    def decide(self, telemetry):
        return [("power/load/x", 0.0)]
    def assign(self, time_s, crews, jobs):
        return [(c["id"], j["asset"]) for c, j in zip(crews, jobs)]

class ReturnsBare:
    def decide(self, telemetry):
        return {lid: 0.0 for lid in telemetry["loads"]}
    def assign(self, time_s, crews, jobs):
        return {c["id"]: 1 for c in crews}

class ReturnsNone:
    def decide(self, telemetry):
        pass
    def assign(self, time_s, crews, jobs):
        pass

class ReturnsNan:
    def decide(self, telemetry):
        return {lid: {"value": float("nan"), "cause_id": ""} for lid in telemetry["loads"]}

class RaisesInCall:
    def decide(self, telemetry):
        raise RuntimeError("boom in decide")
    def assign(self, time_s, crews, jobs):
        raise KeyError("x_m")

class ReturnsUnknown:
    def decide(self, telemetry):
        return {"power/load/nope": {"value": 0.0, "cause_id": ""}}

def a_function(**kwargs):
    return None
'''
BROKEN_MODULE = "raise RuntimeError('broken at import')\n"
SYNTAX_MODULE = "class Policy(:\n    pass\n"


def _plugin_cases() -> list[tuple[str, str, str]]:
    cases = []
    for table, key, params_key in (("power", "policy", "policy_params"),
                                   ("restoration", "dispatch", "dispatch_params")):
        dotted = f"{table}.{key}"
        modes = {
            "missing-module": (f"{key} = 'no_such_module_xyz:Policy'\n", ""),
            "missing-module-dotted": (f"{key} = 'no_such_pkg.sub:Policy'\n", ""),
            "no-class": (f"{key} = 'corpus_plugins:Absent'\n", ""),
            "no-class-in-twin": (f"{key} = 'twin.plugins:Absent'\n", ""),
            "not-a-class": (f"{key} = 'corpus_plugins:not_a_class'\n", ""),
            "not-a-class-function": (f"{key} = 'corpus_plugins:a_function'\n", ""),
            "wrong-params": (f"{key} = 'corpus_plugins:NoParams'\n", f"{params_key} = {{speed = 1}}\n"),
            "wrong-params-2": (f"{key} = 'corpus_plugins:NoParams'\n", f"{params_key} = {{a = 1, b = 2}}\n"),
            "init-raises": (f"{key} = 'corpus_plugins:Raises'\n", ""),
            "init-raises-params": (f"{key} = 'corpus_plugins:Raises'\n", f"{params_key} = {{x = 1}}\n"),
            "no-method": (f"{key} = 'corpus_plugins:NoMethod'\n", ""),
            "method-not-callable": (f"{key} = 'corpus_plugins:NotCallable'\n", ""),
            "import-raises": (f"{key} = 'corpus_broken:Policy'\n", ""),
            "import-syntax-error": (f"{key} = 'corpus_syntax:Policy'\n", ""),
        }
        for mode, (line, params) in modes.items():
            cases.append((f"{table}-{mode}", f"{SMALL}[{table}]\n{line}{params}", dotted))
    return cases


PLUGINS = _plugin_cases()

# Plug-ins that load but return garbage: caught by calling them once on a sample input of
# the region. (case id, spec, dotted key, what the message must say after the spec)
RETURNS: list[tuple[str, str, str, str]] = [
    ("policy-list", "corpus_plugins:ReturnsList", "power.policy",
     ".decide() returned a list, expected a dict of commands {asset: {value, cause_id}}"),
    ("policy-bare-value", "corpus_plugins:ReturnsBare", "power.policy",
     ".decide() returned a float for 'power/load/"),
    ("policy-none", "corpus_plugins:ReturnsNone", "power.policy", ".decide() returned None, expected a dict"),
    ("policy-nan", "corpus_plugins:ReturnsNan", "power.policy", ".decide() returned value nan (a float)"),
    ("policy-unknown-asset", "corpus_plugins:ReturnsUnknown", "power.policy",
     ".decide() returned a command for 'power/load/nope', which is no asset of the region"),
    ("dispatch-list", "corpus_plugins:ReturnsList", "restoration.dispatch",
     ".assign() returned a list, expected a dict {crew id: job asset}"),
    ("dispatch-not-strings", "corpus_plugins:ReturnsBare", "restoration.dispatch",
     ".assign() returned 'power-1': 1 (a str: an int)"),
    ("dispatch-none", "corpus_plugins:ReturnsNone", "restoration.dispatch", ".assign() returned None"),
    ("policy-raises", "corpus_plugins:RaisesInCall", "power.policy", ".decide() raised RuntimeError: boom in decide"),
    ("dispatch-raises", "corpus_plugins:RaisesInCall", "restoration.dispatch", ".assign() raised KeyError: 'x_m'"),
]

# ------------------------------------------------------------------ dependency CSV rules
DEP_RULES: list[tuple[str, str]] = [  # (case id, CSV body)
    ("columns-one", "water/pump/10\n"),
    ("columns-four", "water/pump/10,power/bus/Bus_178,power->water,extra\n"),
    ("columns-after-good", "water/pump/10,power/bus/Bus_178\nwater/pump/335\n"),
    ("id-syntax", "pump10,power/bus/Bus_178\n"),
    ("id-sector", "gas/pump/10,power/bus/Bus_178\n"),
    ("id-type", "water/pump/10,power/cable/C1\n"),
    ("coupling-unknown", "water/pump/10,power/bus/Bus_178,telepathy->water\n"),
    ("coupling-not-implemented", "power/bus/Bus_178,water/pump/10,water->power\n"),
    ("coupling-restoration", "traffic/road/1,power/bus/Bus_178,traffic->restoration\n"),
    ("direction-supplier", "water/pump/10,ict/site/S1,power->water\n"),
    ("direction-consumer", "ict/site/S1,power/bus/Bus_178,power->water\n"),
    ("direction-reversed", "power/bus/Bus_178,water/pump/10,power->water\n"),
    ("supplier-not-bus", "water/pump/10,power/line/L1\n"),
    ("supplier-not-site", "water/pump/10,ict/link/K1\n"),
    ("supplier-load", "water/pump/10,power/load/Load_1,power->water\n"),
    ("repeat-consumer", "water/pump/10,power/bus/Bus_178\nwater/pump/10,power/bus/Bus_1\n"),
    ("repeat-consumer-ict", "water/pump/10,ict/site/S1\nwater/pump/10,ict/site/S2,ict->water\n"),
    ("repeat-after-comment", "# note\nwater/pump/10,power/bus/Bus_178\n# again\nwater/pump/10,power/bus/Bus_2\n"),
]


# ------------------------------------------------------------------ import formats
# Each case breaks one file of a small imported region (a 3-bus pandapower grid, a MATPOWER
# case, a two-junction INP, a SUMO 3x3 grid, the grid5 TNTP files); twin validate imports
# the region and must name the scenario key, the file and what in it is wrong.
CASE_M = """function mpc = case4
mpc.version = '2';
mpc.baseMVA = 100;
mpc.bus = [
\t1\t3\t0\t0\t0\t0\t1\t1\t0\t20\t1\t1.1\t0.9;
\t2\t1\t2\t0.5\t0\t0\t1\t1\t0\t20\t1\t1.1\t0.9;
];
mpc.gen = [
\t1\t0\t0\t100\t-100\t1.02\t100\t1\t100\t0;
];
mpc.branch = [
\t1\t2\t0.01\t0.02\t0\t20\t20\t20\t0\t0\t1\t-360\t360;
];
"""
TINY_INP = """[TITLE]
tiny
[JUNCTIONS]
 J   10   0.5
 K   10   0.5
[RESERVOIRS]
 R   0
[PIPES]
 P1  J  K  1000  300  100  0  Open
[PUMPS]
 PU  R  J  HEAD 1
[CURVES]
 1  1  50
[COORDINATES]
 R  0   0
 J  90  95
 K  95  95
[OPTIONS]
 Units LPS
 Headloss H-W
[END]
"""
DISRUPTION = "\n[[hazards]]\nkind = 'disruption_file'\npath = 'x.csv'\n"
TNTP = {"traffic": "t.tntp", "traffic_nodes": "n.tntp"}
FIRST_LINK = "\t1\t6\t3600.0\t3.15"


def _json_with(good: dict[str, bytes], change: str) -> bytes:
    """The good pandapower grid with one change: no slack, a line to a missing bus, a nan load."""
    import pandapower as pp

    net = pp.from_json(good["grid.json"].decode())
    if change == "no-slack":
        net.ext_grid.drop(net.ext_grid.index, inplace=True)
    elif change == "bad-bus":
        net.line.at[0, "to_bus"] = 99
    else:
        net.load.at[0, "p_mw"] = float("nan")
    return pp.to_json(net).encode()


def _first(good: dict[str, bytes], name: str, old: str, new: str) -> bytes:
    return good[name].decode().replace(old, new, 1).encode()


# (case id, dotted key, {file given: body from the good files}, files the scenario names, message)
ImportBody = Callable[[dict[str, bytes]], bytes]
IMPORTS: list[tuple[str, str, dict[str, ImportBody], dict[str, str], str, str]] = [
    ("pandapower-not-json", "region.files.power", {"p.json": lambda g: b"{ not json"}, {"power": "p.json"},
     "", "not a readable power network"),
    ("pandapower-other-json", "region.files.power", {"p.json": lambda g: b'{"a": 1}'}, {"power": "p.json"},
     "", "JSON that is not a pandapower network (write it with pandapower.to_json)"),
    ("pandapower-no-slack", "region.files.power", {"p.json": lambda g: _json_with(g, "no-slack")},
     {"power": "p.json"}, "", "tables 'ext_grid' and 'gen' are empty"),
    ("pandapower-missing-bus", "region.files.power", {"p.json": lambda g: _json_with(g, "bad-bus")},
     {"power": "p.json"}, "", "line[0] 'AB': to_bus 99 is no bus of the network"),
    ("pandapower-nan-load", "region.files.power", {"p.json": lambda g: _json_with(g, "nan")},
     {"power": "p.json"}, "", "load[0] 'homes': p_mw nan is not a finite number"),
    ("matpower-garbage", "region.files.power", {"c.m": lambda g: b"this is not matpower\n"}, {"power": "c.m"},
     "", "no mpc.baseMVA"),
    ("matpower-no-branch", "region.files.power", {"c.m": lambda g: CASE_M.split("mpc.branch")[0].encode()},
     {"power": "c.m"}, "", "no mpc.branch"),
    ("matpower-bad-value", "region.files.power", {"c.m": lambda g: CASE_M.replace("\t2\t1\t2\t", "\t2\t1\tx\t").encode()},
     {"power": "c.m"}, "", "mpc.bus row 2 column 3: 'x' is not a number"),
    ("inp-not-utf8", "region.files.water", {"w.inp": lambda g: b"\xff\xfe\x00garbage"}, {"water": "w.inp"},
     "", "not UTF-8 text (byte 0)"),
    ("inp-bad-number", "region.files.water", {"w.inp": lambda g: TINY_INP.replace(" J   10", " J   ten").encode()},
     {"water": "w.inp"}, "", "[JUNCTIONS] line 4: J elevation 'ten' is not a number"),
    ("inp-missing-node", "region.files.water", {"w.inp": lambda g: TINY_INP.replace(" P1  J  K", " P1  J  Z").encode()},
     {"water": "w.inp"}, "", "[PIPES] line 9: P1 ends at 'Z'"),
    ("inp-no-nodes", "region.files.water", {"w.inp": lambda g: b"[TITLE]\nnothing\n[END]\n"}, {"water": "w.inp"},
     "", "no nodes: [JUNCTIONS], [RESERVOIRS] and [TANKS]"),
    ("sumo-not-xml", "region.files.traffic", {"r.net.xml": lambda g: b"<net><edge"}, {"traffic": "r.net.xml"},
     "", "not valid XML: unclosed token: line 1"),
    ("sumo-no-nodes", "region.files.traffic", {"r.net.xml": lambda g: b'<net version="1.9"></net>'},
     {"traffic": "r.net.xml"}, "", "netconvert failed: Error: No nodes loaded."),
    ("sumo-bad-shape", "region.files.traffic",
     {"r.net.xml": lambda g: re.sub(rb'shape="[^"]+"', b'shape="a,b c,d"', g["grid.net.xml"], count=1)},
     {"traffic": "r.net.xml"}, "", "Attribute 'shape' in definition of lane"),
    ("tntp-bad-length", "region.files.traffic",
     {"t.tntp": lambda g: _first(g, "grid5_net.tntp", FIRST_LINK, "\t1\t6\t3600.0\tlong"),
      "n.tntp": lambda g: g["grid5_node.tntp"]}, TNTP, "", "line 10: length 'long' is not a finite number"),
    ("tntp-negative-length", "region.files.traffic",
     {"t.tntp": lambda g: _first(g, "grid5_net.tntp", FIRST_LINK, "\t1\t6\t3600.0\t-3.15"),
      "n.tntp": lambda g: g["grid5_node.tntp"]}, TNTP, "", "line 10 (1->6) has length -3.15"),
    ("tntp-bad-node", "region.files.traffic_nodes",
     {"t.tntp": lambda g: g["grid5_net.tntp"],
      "n.tntp": lambda g: _first(g, "grid5_node.tntp", "2\t0.0\t3.0", "2\tnorth\t3.0")}, TNTP, "",
     "line 3: node 2: x 'north' or y '3.0' is not a number"),
    ("dependencies-unknown-supplier", "region.files.dependencies", {"d.csv": lambda g: b"water/pump/PU,power/bus/Z\n"},
     {"dependencies": "d.csv"}, "", "line 1: unknown asset id 'power/bus/Z'"),
    ("dependencies-unknown-consumer", "region.files.dependencies",
     {"d.csv": lambda g: b"water/pump/NOPE,power/bus/B\n"}, {"dependencies": "d.csv"}, "",
     "line 1: unknown asset id 'water/pump/NOPE'"),
    ("dependencies-not-utf8", "region.files.dependencies", {"d.csv": lambda g: b"water/pump/PU,power/bus/\xe9\n"},
     {"dependencies": "d.csv"}, "", "is not UTF-8 text (byte 24)"),
    ("disruption-header", "hazards[0].path", {"x.csv": lambda g: b"asset,when,fraction\npower/line/AB,0.5,1\n"}, {},
     DISRUPTION, "header 'asset,when,fraction': expected"),
    ("disruption-value", "hazards[0].path", {"x.csv": lambda g: b"asset,time_h,fraction\npower/line/AB,0.5,most\n"},
     {}, DISRUPTION, "row 2: fraction 'most' is not a number"),
    ("disruption-range", "hazards[0].path", {"x.csv": lambda g: b"asset,time_h,fraction\npower/line/AB,0.5,1.5\n"},
     {}, DISRUPTION, "row 2: fraction 1.5 is outside 0..1"),
    ("disruption-unknown", "hazards[0].path", {"x.csv": lambda g: b"asset,time_h,fraction\npower/line/XY,0.5,1\n"},
     {}, DISRUPTION, "1 unknown component ids ['power/line/XY']"),
    ("disruption-short-row", "hazards[0].path", {"x.csv": lambda g: b"asset,time_h,fraction\npower/line/AB,0.5\n"},
     {}, DISRUPTION, "row 2: 2 columns, expected asset,time_h,fraction"),
]


@pytest.fixture(scope="module")
def good_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The files of a small imported region that imports cleanly."""
    import os
    import subprocess

    import pandapower as pp
    import sumo

    folder = tmp_path_factory.mktemp("good-import")
    net = pp.create_empty_network()
    a = pp.create_bus(net, 20.0, name="A", geodata=(0.0, 0.0))
    b = pp.create_bus(net, 20.0, name="B", geodata=(1000.0, 0.0))
    pp.create_ext_grid(net, a, name="grid")
    pp.create_line(net, a, b, 1.0, "NA2XS2Y 1x185 RM/25 12/20 kV", name="AB")
    pp.create_load(net, b, p_mw=0.5, name="homes")
    home = Path(sumo.SUMO_HOME)
    subprocess.run([str(home / "bin" / "netgenerate"), "--grid", "--grid.number", "3", "--grid.length", "200",
                    "--default-junction-type", "traffic_light", "--no-warnings", "true",
                    "-o", str(folder / "grid.net.xml")],
                   check=True, capture_output=True, env={**os.environ, "SUMO_HOME": str(home)})
    return {"grid.json": pp.to_json(net).encode(), "tiny.inp": TINY_INP.encode(),
            "grid.net.xml": (folder / "grid.net.xml").read_bytes(),
            "grid5_net.tntp": (DATA / "grid5_net.tntp").read_bytes(),
            "grid5_node.tntp": (DATA / "grid5_node.tntp").read_bytes()}


def _imported(files: dict[str, str]) -> str:
    given = {"power": "grid.json", "water": "tiny.inp", "traffic": "grid.net.xml", **files}
    lines = "".join(f'{k} = "{v}"\n' for k, v in given.items())
    return ('[run]\nhours = 1\nconfigurations = ["centralised"]\n[region.files]\n' + lines
            + "[region.files.transforms.water]\nscale = 10.0\n")


def _write_plugins(folder: Path) -> None:
    (folder / "corpus_plugins.py").write_text(textwrap.dedent(PLUGIN_MODULE))
    (folder / "corpus_broken.py").write_text(BROKEN_MODULE)
    (folder / "corpus_syntax.py").write_text(SYNTAX_MODULE)


@pytest.fixture(scope="module")
def shared_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One results folder whose cached small region every region case uses."""
    out = tmp_path_factory.mktemp("corpus-out")
    return out


def _validate(tmp_path: Path, out: Path, capsys: pytest.CaptureFixture[str], text: str,
              monkeypatch: pytest.MonkeyPatch, extra_files: dict[str, str | bytes] | None = None,
              region: bool = False) -> tuple[int, str, Path]:
    """``twin validate`` of ``text``; ``region``: resolve against the shared cached region."""
    monkeypatch.chdir(tmp_path)  # a default results/ folder would land here
    case = tmp_path / "case"
    case.mkdir()
    _write_plugins(case)
    monkeypatch.syspath_prepend(str(case))
    for name, body in (extra_files or {}).items():
        (case / name).write_bytes(body if isinstance(body, bytes) else body.encode())
    path = case / "s.toml"
    path.write_text(text)
    code = main(["validate", str(path), *(["--out", str(out)] if region else [])])
    err = capsys.readouterr().err
    for mod in ("corpus_plugins", "corpus_broken", "corpus_syntax"):
        sys.modules.pop(mod, None)
    return code, err, path


def _assert_rejected(code: int, err: str, path: Path, key: str, out: Path) -> None:
    assert code == 2, err
    assert f"{path}: {key}:" in err, err
    assert "Traceback" not in err
    for folder in (out, path.parent.parent):
        assert not [p for p in folder.rglob("*.h5") if ".regions" not in p.parts], "no results file"


@pytest.mark.parametrize(("text", "key"), [pytest.param(t, k, id=i) for i, t, k in TABLES])
def test_scenario_tables(tmp_path: Path, shared_out: Path, capsys: pytest.CaptureFixture[str],
                         monkeypatch: pytest.MonkeyPatch, text: str, key: str) -> None:
    code, err, path = _validate(tmp_path, shared_out, capsys, text, monkeypatch)
    _assert_rejected(code, err, path, key, shared_out)


@pytest.mark.parametrize(("text", "key"), [pytest.param(t, k, id=i) for i, t, k in REGION])
def test_region_ids(tmp_path: Path, shared_out: Path, capsys: pytest.CaptureFixture[str],
                    monkeypatch: pytest.MonkeyPatch, text: str, key: str) -> None:
    code, err, path = _validate(tmp_path, shared_out, capsys, text, monkeypatch, region=True)
    _assert_rejected(code, err, path, key, shared_out)


@pytest.mark.parametrize(("text", "key"), [pytest.param(t, k, id=i) for i, t, k in PLUGINS])
def test_plugins(tmp_path: Path, shared_out: Path, capsys: pytest.CaptureFixture[str],
                 monkeypatch: pytest.MonkeyPatch, text: str, key: str) -> None:
    code, err, path = _validate(tmp_path, shared_out, capsys, text, monkeypatch, region=True)
    _assert_rejected(code, err, path, key, shared_out)
    spec = text.split(f"{key.split('.')[1]} = '")[1].split("'")[0]
    assert spec.split(":")[0] in err, "the message names the plug-in"


@pytest.mark.parametrize(("spec", "key", "says"), [pytest.param(s, k, m, id=i) for i, s, k, m in RETURNS])
def test_plugin_returns_garbage(tmp_path: Path, shared_out: Path, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch, spec: str, key: str, says: str) -> None:
    table, name = key.split(".")
    text = f"{SMALL}[{table}]\n{name} = '{spec}'\n"
    code, err, path = _validate(tmp_path, shared_out, capsys, text, monkeypatch, region=True)
    _assert_rejected(code, err, path, key, shared_out)
    assert spec + says in err, err
    assert len(err.strip().splitlines()) == 1, "one line"


@pytest.mark.parametrize("body", [pytest.param(b, id=i) for i, b in DEP_RULES])
def test_dependency_csv(tmp_path: Path, shared_out: Path, capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    files = {"deps.csv": "consumer,supplier,coupling\n" + body,
             "grid5_net.tntp": (DATA / "grid5_net.tntp").read_text(),
             "grid5_node.tntp": (DATA / "grid5_node.tntp").read_text()}
    code, err, path = _validate(tmp_path, shared_out, capsys, IMPORTED, monkeypatch, files)
    _assert_rejected(code, err, path, "region.files.dependencies", shared_out)
    assert "deps.csv line" in err


@pytest.mark.parametrize(("key", "bodies", "files", "tail", "says"),
                         [pytest.param(k, b, f, t, m, id=i) for i, k, b, f, t, m in IMPORTS])
def test_import_formats(tmp_path: Path, shared_out: Path, capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch, good_files: dict[str, bytes], key: str,
                        bodies: dict[str, ImportBody], files: dict[str, str], tail: str, says: str) -> None:
    given = {**good_files, **{name: body(good_files) for name, body in bodies.items()}}
    code, err, path = _validate(tmp_path, shared_out, capsys, _imported(files) + tail, monkeypatch, given,
                                region=True)
    _assert_rejected(code, err, path, key, shared_out)
    broken = next(iter(bodies)) if len(bodies) == 1 else files[key.rsplit(".", 1)[1]]
    assert f"{path.parent / broken}" in err, "the message names the file"
    assert says in err, err
    assert len(err.strip().splitlines()) == 1, "one line"


def test_all_problems_at_once(tmp_path: Path, shared_out: Path, capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    text = "[repair.hours]\npowr = 1.0\n[power]\nshed_order = ['bogus']\n[run]\nhours = 2\n" + STORM.replace(
        "start_h = 0.5\nend_h = 1", "start_h = 3\nend_h = 4")
    code, err, path = _validate(tmp_path, shared_out, capsys, text, monkeypatch)
    assert code == 2
    for key in ("repair.hours.powr", "power.shed_order[0]", "hazards[0].start_h"):
        assert f"{path}: {key}:" in err


def test_outside_horizon_is_a_warning_when_allowed(tmp_path: Path, shared_out: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.toml"
    path.write_text(SMALL + STORM.replace("start_h = 0.5\nend_h = 1", "start_h = 3\nend_h = 4"))
    capsys.readouterr()
    assert main(["validate", str(path), "--out", str(shared_out), "--allow-outside"]) == 0
    assert "hazards[0].start_h" in capsys.readouterr().err


def test_corpus_size() -> None:
    """docs/reliability.md states these counts."""
    counts = (len(TABLES), len(REGION), len(PLUGINS), len(RETURNS), len(DEP_RULES), len(IMPORTS))
    assert counts == (56, 9, 28, 10, 18, 26)
    doc = (ROOT / "docs" / "reliability.md").read_text()
    assert f"{sum(counts)} cases" in doc


def test_shipped_scenarios_still_validate(tmp_path: Path, shared_out: Path) -> None:
    for name in ("default.toml", "flood.toml", "cyber_attack.toml", "storm_72h.toml"):
        src = ROOT / "cosim_configs" / name
        assert main(["validate", str(src), "--set", 'region.size="small"', "--out", str(shared_out)]) == 0, name
    shutil.rmtree(tmp_path, ignore_errors=True)
