"""Access to essential services in a coupled run: the small region's storm closes roads."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twin import metrics, results


def test_storm_closing_roads_costs_hospital_access(small_runs: tuple[Path, list]) -> None:
    _, outcomes = small_runs
    for outcome in outcomes:
        run = results.load(outcome.path)
        m = run.metrics
        traffic = run.series["traffic"]
        assert traffic["roads_closed"].max() > 0  # the storm closes roads
        reach = traffic["hospital_reach_frac"]
        labels = run.columns["traffic"]["hospital_reach_frac"]
        assert {lab.split("|")[0] for lab in labels} == {str(d) for d in run.districts["id"]}
        cut = reach.min(axis=1) < 1.0
        assert cut.any() and (traffic["roads_closed"][cut] > 0).all()  # lost only with closures
        assert m["access_hospital_lost_person_h_applicable"] == 1.0
        assert m["access_hospital_lost_person_h"] > 0.0
        # the metric is the file's shares weighted by population, less the baseline's
        share = metrics.hospital_access_share(run)
        pop = np.asarray(run.districts["population"], float)
        raw = float(np.sum((1.0 - share) * pop) * run.step_s / 3600.0)
        assert 0.0 < m["access_hospital_lost_person_h"] <= raw + 1e-9
        assert m["access_emergency_call_lost_person_h_applicable"] == 1.0
        assert m["access_emergency_call_lost_person_h"] >= 0.0
        # the travel time of a district with a route is finite and within a day
        tt = traffic["hospital_travel_time_s"]
        assert np.nanmax(tt) < 86_400.0 and np.isfinite(tt[0]).all()
