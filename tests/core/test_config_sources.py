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
