"""Every simulator also runs as a separate process (mosaik `cmd:`), with identical results."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twin import results
from twin.runner import run_configuration


def test_cmd_mode_equals_in_process(small_scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scenario = small_scenario(run={"hours": 1, "baseline": False})
    inproc = run_configuration(scenario, "centralised", tmp_path / "python", mode="python")
    procs = run_configuration(scenario, "centralised", tmp_path / "cmd", mode="cmd")
    assert inproc.status == procs.status == "complete", (inproc.error, procs.error)
    a, b = results.load(inproc.path), results.load(procs.path)
    assert a.events == b.events and a.events
    assert a.series.keys() == b.series.keys()
    for sector, series in a.series.items():
        for name, values in series.items():
            np.testing.assert_array_equal(values, b.series[sector][name], err_msg=f"{sector}/{name}")
    assert a.metrics.keys() == b.metrics.keys()
    for k, v in a.metrics.items():  # NaN (a metric not applicable) equals NaN
        np.testing.assert_array_equal(v, b.metrics[k], err_msg=k)
