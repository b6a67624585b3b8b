"""A malformed-input corpus: every case is one bad scenario (or plug-in, or dependency CSV)
that ``twin validate`` must reject with exit 2, naming the file and the exact dotted key,
without a traceback and without writing a results file (docs/reliability.md counts them).

Cases that need the region (asset ids, sites, depots) share one cached small region; the
rest stop at the schema. Nothing here simulates.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
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
    assert (len(TABLES), len(REGION), len(PLUGINS), len(RETURNS), len(DEP_RULES)) == (53, 9, 28, 10, 18)
    doc = (ROOT / "docs" / "reliability.md").read_text()
    assert f"{len(TABLES) + len(REGION) + len(PLUGINS) + len(RETURNS) + len(DEP_RULES)} cases" in doc


def test_shipped_scenarios_still_validate(tmp_path: Path, shared_out: Path) -> None:
    for name in ("default.toml", "flood.toml", "cyber_attack.toml", "storm_72h.toml"):
        src = ROOT / "cosim_configs" / name
        assert main(["validate", str(src), "--set", 'region.size="small"', "--out", str(shared_out)]) == 0, name
    shutil.rmtree(tmp_path, ignore_errors=True)
