"""Configurations in worker processes give the same files as the serial order; the workers
build the regions the check reads, and a region that fails there is reported as in one process."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from twin.cli import main
from twin.events import EXIT_INPUT
from twin.region.assets import load_region
from twin.runner import region_for, run_scenario, worker_pool
from twin.validation import check_scenario

VOLATILE = {"created_utc", "host", "wall_time_s"}


def _datasets(path: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    with h5py.File(path, "r") as f:
        out.update({f"@{k}": v for k, v in f.attrs.items() if k not in VOLATILE})
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


def _assert_same_file(a: Path, b: Path) -> None:
    da, db = _datasets(a), _datasets(b)
    assert da.keys() == db.keys()
    for k in da:
        va, vb = np.asarray(da[k]), np.asarray(db[k])
        if va.dtype.kind in "fc":
            assert np.array_equal(va, vb, equal_nan=True), k
        else:
            assert np.array_equal(va, vb), k


def _assert_same_metrics(a: dict[str, float], b: dict[str, float]) -> None:
    assert a.keys() == b.keys()
    assert all(a[k] == b[k] or (np.isnan(a[k]) and np.isnan(b[k])) for k in a)


def _files(out: Path) -> dict[str, Path]:
    """The results files of runs and baselines under ``out``, by their path inside it."""
    return {p.relative_to(out).as_posix(): p for p in out.rglob("*.h5") if ".regions" not in p.parts}


@pytest.mark.slow
def test_two_workers_equal_the_serial_run(small_scenario, tmp_path: Path) -> None:
    scenario = small_scenario(run={"hours": 1})
    serial = run_scenario(scenario, tmp_path / "serial")
    parallel = run_scenario(scenario, tmp_path / "parallel", workers=2)
    assert [o.configuration for o in parallel] == [o.configuration for o in serial]
    for a, b in zip(serial, parallel, strict=True):
        assert a.status == b.status and a.run_id == b.run_id
        _assert_same_metrics(a.metrics, b.metrics)
    files = _files(tmp_path / "serial")
    assert len(files) == 4 and sum(k.startswith("baselines/") for k in files) == 2
    assert _files(tmp_path / "parallel").keys() == files.keys()
    for k, path in files.items():
        _assert_same_file(path, tmp_path / "parallel" / k)
    # one configuration: its baseline runs in the second worker, beside the run
    one = small_scenario(run={"hours": 1, "configurations": ["decentralised"]})
    (alone,) = run_scenario(one, tmp_path / "one_serial")
    (beside,) = run_scenario(one, tmp_path / "one_parallel", workers=2)
    assert beside.status == alone.status == "complete" and "baseline_s" in beside.timings
    _assert_same_metrics(beside.metrics, alone.metrics)
    files = _files(tmp_path / "one_serial")
    assert len(files) == 2 and _files(tmp_path / "one_parallel").keys() == files.keys()
    for k, path in files.items():
        _assert_same_file(path, tmp_path / "one_parallel" / k)
    # a finished run is reused and needs no baseline: none is computed beside it
    for path in (tmp_path / "one_parallel" / "baselines").glob("*.h5"):
        path.unlink()
    (again,) = run_scenario(one, tmp_path / "one_parallel", workers=2)
    assert again.reused and again.status == "complete"
    assert not list((tmp_path / "one_parallel" / "baselines").glob("*.h5"))


@pytest.mark.slow
def test_the_pool_builds_the_regions_the_check_and_the_runs_read(small_scenario, tmp_path: Path) -> None:
    scenario = small_scenario(run={"hours": 1})
    regions: dict = {}
    with worker_pool(2) as pool:
        check_scenario(scenario, "integration", tmp_path, regions, pool=pool)
        (run,) = run_scenario(small_scenario(run={"hours": 1, "configurations": ["decentralised"]}),
                              tmp_path, pool=pool)
    assert sorted(c for _, c in regions) == ["centralised", "decentralised"]
    for (_, configuration), region in regions.items():
        assert region.configuration == configuration
        assert region.root == region_for(scenario, configuration, tmp_path).root  # the cache the workers filled
        assert region.assets == load_region(region.root).assets
    assert run.status == "complete" and run.path.parent == tmp_path


def test_a_region_that_fails_in_a_worker_is_reported_as_in_one_process(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "s.toml").write_text(
        '[run]\nconfigurations = ["centralised", "decentralised"]\nhours = 1\n'
        '[region.files]\npower = "grid.json"\nwater = "wntr:Net3"\ntraffic = "roads.net.xml"\n')
    (tmp_path / "grid.json").write_text("{ not a pandapower net")
    (tmp_path / "roads.net.xml").write_text("<net/>")
    errors = []
    for workers in ("1", "2"):
        capsys.readouterr()
        assert main(["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / f"out{workers}"),
                     "--workers", workers]) == EXIT_INPUT
        errors.append(capsys.readouterr().err)
    assert errors[0] == errors[1]
    assert "region.files.power" in errors[1] and str(tmp_path / "grid.json") in errors[1]
    assert "(centralised, decentralised)" in errors[1]
    assert not list((tmp_path / "out2").glob("*.h5"))  # nothing ran


@pytest.mark.parametrize("baseline_last", [False, True])
def test_a_failed_baseline_fails_the_run_before_or_after_its_world(
        small_scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, baseline_last: bool) -> None:
    import twin.world
    from twin.runner import run_configuration

    real = twin.world.run_world
    worlds: list[bool] = []

    def baseline_breaks(scenario, region_dir, out_path, hazards=True, **kwargs):  # type: ignore[no-untyped-def]
        worlds.append(hazards)
        if not hazards:
            raise RuntimeError("the baseline's world broke")
        return real(scenario, region_dir, out_path, hazards=hazards, **kwargs)

    monkeypatch.setattr(twin.world, "run_world", baseline_breaks)
    scenario = small_scenario(run={"hours": 1, "configurations": ["centralised"]})
    out = run_configuration(scenario, "centralised", tmp_path, baseline_last=baseline_last)
    assert out.status == "failed" and "baseline of centralised failed" in out.error
    assert "the baseline's world broke" in out.error and out.path.parent.name == "baselines"
    assert worlds == ([True, False] if baseline_last else [False])  # the run's world first, or none
    assert not list(tmp_path.glob("*.h5"))  # no run file, partial or final
