"""The whole path on a small region: files, determinism, metrics recomputed from the file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from twin import results
from twin.config import run_id
from twin.events import CUSTOMER_SERVICE_KINDS, FAILURE_KINDS, ROOT_COUPLINGS, SERVICE_FAILURE_KINDS
from twin.runner import run_configuration, run_scenario

# Attributes allowed to differ between two identical runs.
VOLATILE = {"created_utc", "host", "wall_time_s"}


def test_one_complete_file_per_configuration(small_scenario, small_runs: tuple[Path, list]) -> None:
    out, outcomes = small_runs
    assert [o.configuration for o in outcomes] == ["centralised", "decentralised"]
    for o in outcomes:
        # every solver solved every step (a stuck car or two is congestion, not gridlock)
        assert o.status == "complete", o.error
        assert sum(v for k, v in o.metrics.items() if k.startswith("solver_failure_steps_")) == 0
        assert o.path == out / f"{o.run_id}.h5" and o.path.is_file()
        assert results.is_complete(o.path)
        res = results.load(o.path)
        assert res.attrs["format_version"] == results.FORMAT_VERSION
        assert res.attrs["configuration"] == o.configuration
        assert res.attrs["run_id"] == run_id(small_scenario(), o.configuration)
        assert "[[hazards]]" in res.attrs["scenario_toml"]
        assert json.loads(res.attrs["versions"])["pandapower"] == "3.5.6"
        for m in ("energy_not_served_mwh", "water_not_served_m3", "vehicle_delay_h",
                  "customer_outage_h", "secondary_failures"):
            assert m in res.metrics
        assert len(res.time_s) == 24
    assert not list(out.glob("*.partial.h5"))
    assert len(list((out / "baselines").glob("*.h5"))) == 2


def test_the_outage_cascades_across_sectors(small_runs: tuple[Path, list]) -> None:
    _, outcomes = small_runs
    res = results.load(outcomes[0].path)  # centralised
    by_id = {e["event_id"]: e for e in res.events}
    line = [e for e in res.events if e["asset_id"] == "power/line/F4-1" and e["kind"] == "failed"]
    assert line and line[0]["time_s"] == 1800 and line[0]["coupling"] == "hazard"
    stopped = [e for e in res.events if e["asset_id"] == "water/pump/PS2" and e["kind"] == "pump_stopped"]
    assert stopped, "the booster on the dead feeder stops"
    # its chain leads back to the outage through the bus and the power->water coupling
    cause = by_id[stopped[0]["cause_id"]]
    assert cause["sector"] == "power" and cause["kind"] == "de-energised"
    assert stopped[0]["coupling"] == "power->water"
    assert by_id[cause["cause_id"]]["asset_id"] == "power/line/F4-1"
    assert res.metrics["secondary_failures"] > 0
    assert res.metrics["energy_not_served_mwh"] > 0


def _recompute(path: Path, base: Path) -> dict[str, float]:
    """The five headline metrics from the HDF5 series and events alone (h5py + numpy)."""

    def totals(p: Path) -> dict[str, float]:
        with h5py.File(p, "r") as f:
            step_h = f.attrs["step_s"] / 3600.0
            s = f["series"]
            ens = np.sum(np.maximum(0, s["power/demand_mw"][()] - s["power/served_mw"][()])) * step_h
            wns = np.sum(np.maximum(0, s["water/required_m3s"][()] - s["water/delivered_m3s"][()])) \
                * f.attrs["step_s"]
            delay = np.sum(s["traffic/time_loss_h"][()])
            cust = (np.sum(s["power/customers_out"][()]) + np.sum(s["water/customers_out"][()])) * step_h
            kinds = f["events/kind"].asstr()[()]
            coup = f["events/coupling"].asstr()[()]
            # the definitions (what a failure is, what a root cause is) come from twin.events;
            # the counting here is independent of twin.metrics
            sec = sum(1 for k, c in zip(kinds, coup, strict=True)
                      if k in FAILURE_KINDS and c not in ROOT_COUPLINGS)
            assets = f["events/asset_id"].asstr()[()]
            customers = dict(zip(f["assets/id"].asstr()[()], f["assets/customers"][()], strict=True))
            service = sum(1 for k, c, a in zip(kinds, coup, assets, strict=True) if c not in ROOT_COUPLINGS and (
                k in SERVICE_FAILURE_KINDS or (k in CUSTOMER_SERVICE_KINDS and customers.get(a, 0) > 0)))
        return {"energy_not_served_mwh": ens, "water_not_served_m3": wns, "vehicle_delay_h": delay,
                "customer_outage_h": cust, "secondary_failures_all": sec, "secondary_failures": service}

    run, b = totals(path), totals(base)
    return {k: run[k] - b[k] for k in run}


def test_metrics_recomputed_from_the_file(small_scenario, small_runs: tuple[Path, list]) -> None:
    out, outcomes = small_runs
    for o in outcomes:
        res = results.load(o.path)
        base = out / "baselines" / f"{run_id(small_scenario().without_hazards(), o.configuration)}.h5"
        expected = _recompute(o.path, base)
        for k, v in expected.items():
            assert res.metrics[k] == pytest.approx(v, rel=1e-9, abs=1e-9), k


def _datasets(path: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    with h5py.File(path, "r") as f:
        out.update({f"@{k}": v for k, v in f.attrs.items() if k not in VOLATILE})

        def visit(name: str, obj: object) -> None:
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()]
            for k, v in getattr(obj, "attrs", {}).items():
                if k == "DIMENSION_LIST":  # object references: compare what they point to
                    v = [[f[r].name for r in refs] for refs in v]
                elif k == "REFERENCE_LIST":
                    v = [(f[r].name, int(i)) for r, i in v]
                out[f"{name}@{k}"] = v

        f.visititems(visit)
    return out


def test_same_seed_same_datasets(small_scenario, small_runs: tuple[Path, list], tmp_path: Path) -> None:
    _, outcomes = small_runs
    again = run_configuration(small_scenario(), "centralised", tmp_path)
    a, b = _datasets(outcomes[0].path), _datasets(again.path)
    assert a.keys() == b.keys()
    for k in a:
        va, vb = a[k], b[k]
        if isinstance(va, np.ndarray | np.floating) and np.asarray(va).dtype.kind == "f":
            np.testing.assert_array_equal(va, vb, err_msg=k)  # NaN (a metric not applicable) equals NaN
        elif isinstance(va, np.ndarray):
            assert va.tolist() == vb.tolist(), k
        else:
            assert va == vb, k


def test_complete_file_is_not_overwritten_without_force(small_scenario, small_runs: tuple[Path, list], tmp_path: Path) -> None:
    _, outcomes = small_runs
    target = tmp_path / outcomes[0].path.name
    shutil.copy(outcomes[0].path, target)
    before = target.stat().st_mtime_ns
    again = run_configuration(small_scenario(), "centralised", tmp_path)
    assert again.reused and again.path == target and target.stat().st_mtime_ns == before


def test_interrupt_leaves_no_complete_looking_file(small_scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import twin.world

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(twin.world, "run_world", interrupted)
    scenario = small_scenario(run={"baseline": False})
    with pytest.raises(KeyboardInterrupt):
        run_scenario(scenario, tmp_path)
    assert all(p.name.endswith(".partial.h5") for p in tmp_path.glob("*.h5"))
    partials = list(tmp_path.glob("*.partial.h5"))
    assert len(partials) == 1 and not results.is_complete(partials[0])
    with h5py.File(partials[0]) as f:
        assert f.attrs["status"] == "interrupted"


def test_simulator_error_is_a_failed_run(small_scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from twin.incidents import IncidentLog

    def boom(self: IncidentLog, t: int, step_s: int, repaired: object = None) -> list:
        if t >= 1800:
            raise RuntimeError("incident model exploded")
        return []

    monkeypatch.setattr(IncidentLog, "advance", boom)
    scenario = small_scenario(run={"baseline": False, "configurations": ["centralised"]})
    (o,) = run_scenario(scenario, tmp_path)
    assert o.status == "failed" and "incident model exploded" in o.error
    res = results.load(o.path)
    assert res.status == "failed" and "incident model exploded" in res.attrs["error"]
    assert not results.is_complete(o.path)
    assert len(res.time_s) == 6  # what was recorded before the failure is kept
