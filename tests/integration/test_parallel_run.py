"""Configurations in worker processes give the same files as the serial order."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from twin.runner import run_scenario

VOLATILE = {"created_utc", "host", "wall_time_s"}


def _datasets(path: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    with h5py.File(path, "r") as f:
        out.update({f"@{k}": v for k, v in f.attrs.items() if k not in VOLATILE})
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


@pytest.mark.slow
def test_two_workers_equal_the_serial_run(small_scenario, tmp_path: Path) -> None:
    scenario = small_scenario(run={"hours": 1})
    serial = run_scenario(scenario, tmp_path / "serial")
    parallel = run_scenario(scenario, tmp_path / "parallel", workers=2)
    assert [o.configuration for o in parallel] == [o.configuration for o in serial]
    for a, b in zip(serial, parallel, strict=True):
        assert a.status == b.status and a.run_id == b.run_id
        da, db = _datasets(a.path), _datasets(b.path)
        assert da.keys() == db.keys()
        for k in da:
            va, vb = np.asarray(da[k]), np.asarray(db[k])
            if va.dtype.kind in "fc":
                assert np.array_equal(va, vb, equal_nan=True), k
            else:
                assert np.array_equal(va, vb), k
