"""The sets validation checks against stay in step with the code that uses them, and
``twin run`` stops on the same problems as ``twin validate`` before anything is simulated."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from twin.cli import main
from twin.config import ASSET_TYPES, LoadCategory
from twin.events import COUPLINGS
from twin.validation import DEPENDENCY_COUPLINGS


def test_shed_categories_are_the_power_models() -> None:
    from twin.models.power.grid import DEFAULT_SHED_ORDER

    assert set(typing.get_args(LoadCategory)) == set(DEFAULT_SHED_ORDER)


def test_asset_types_cover_generated_regions(tmp_path: Path) -> None:
    from twin.region.builder import build_region
    from twin.region.params import CONFIGURATIONS, DEFAULTS

    for configuration in CONFIGURATIONS:
        region = build_region("small", 1, configuration, DEFAULTS[configuration], tmp_path)
        for a in region.assets:
            assert a["type"] in ASSET_TYPES[a["sector"]], a["id"]


def test_dependency_couplings_are_classified() -> None:
    assert set(DEPENDENCY_COUPLINGS) <= COUPLINGS


@pytest.mark.parametrize("extra", [
    "[[hazards]]\nkind = 'outage'\nasset = 'power/line/nope'\nat_h = 0.5\n",
    "[power]\npolicy = 'no_such_module_xyz:Policy'\n",
])
def test_run_stops_before_simulating(tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str) -> None:
    path = tmp_path / "s.toml"
    path.write_text('[run]\nhours = 1\nconfigurations = ["centralised"]\n[region]\nsize = "small"\n' + extra)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "Traceback" not in err
    assert not list(out.rglob("*.h5")) or all(".regions" in p.parts for p in out.rglob("*.h5"))


def test_sweep_validate_resolves_each_point(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "s.toml").write_text('[run]\nhours = 1\nconfigurations = ["centralised"]\n[region]\n'
                                     'size = "small"\ngrid = "synthetic"\n[[hazards]]\nkind = "outage"\nasset = "power/line/F1-2"\n'
                                     'at_h = 0.5\n')
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('base = "s.toml"\nseeds = 2\n[grid]\n"hazards[0].asset" = ["power/line/F1-2", "power/line/zzz"]\n')
    assert main(["validate", str(sweep), "--out", str(tmp_path / "out")]) == 2
    assert f"{sweep}: hazards[0].asset: no asset 'power/line/zzz'" in capsys.readouterr().err


def test_sweep_stops_on_a_bad_plugin_before_any_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "s.toml").write_text('[run]\nhours = 1\nconfigurations = ["centralised"]\n[region]\nsize = "small"\n')
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('base = "s.toml"\nseeds = 1\n[grid]\n"power.policy" = ["no_such_module_xyz:P"]\n')
    out = tmp_path / "out"
    assert main(["sweep", str(sweep), "--out", str(out), "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert f"{sweep}: power.policy: cannot import policy module 'no_such_module_xyz'" in capsys.readouterr().err
    assert not out.exists()


def test_sweep_validate_calls_each_plugin_set_once_per_region(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A sweep's points share a few plug-in sets: each is loaded and called once per region,
    and a bad set is still named (its problems are kept, not only its successes)."""
    import twin.validation

    (tmp_path / "s.toml").write_text('[run]\nhours = 1\nconfigurations = ["centralised"]\n[region]\n'
                                     'size = "small"\ngrid = "synthetic"\n[[hazards]]\nkind = "outage"\n'
                                     'asset = "power/line/F1-2"\nat_h = 0.5\n')
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('base = "s.toml"\nseeds = 1\n[grid]\n"power.policy_params.battery_mode" = ["backup", "nonsense"]\n'
                     '"hazards[0].at_h" = [0.25, 0.5, 0.75]\n')
    loaded: list[dict] = []
    called: list[dict] = []
    load, call = twin.validation.plugin_problems, twin.validation.plugin_output_problems
    monkeypatch.setattr(twin.validation, "plugin_problems",
                        lambda s: loaded.append(dict(s.power.policy_params)) or load(s))
    monkeypatch.setattr(twin.validation, "plugin_output_problems",
                        lambda s, r: called.append(dict(s.power.policy_params)) or call(s, r))
    assert main(["validate", str(sweep), "--out", str(tmp_path / "out")]) == 2
    assert "power.policy: " in (err := capsys.readouterr().err) and "unknown battery mode 'nonsense'" in err
    # grid order, the first key slowest: three points with "backup" (loaded and called once), then
    # "nonsense", which stops the check
    assert loaded == [{"battery_mode": "backup"}, {"battery_mode": "nonsense"}]
    assert called == [{"battery_mode": "backup"}]
