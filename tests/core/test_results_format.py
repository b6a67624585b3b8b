"""Results format 2: dimension scales, labels as string datasets, units; xarray and pandas
see the same values; format 1 files (tests/data/results_v1.h5) still read."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import h5py
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from twin import metrics, results
from twin.units import UNKNOWN, units_of

V1 = Path(__file__).parents[1] / "data" / "results_v1.h5"

# Two 2-D power series over the same buses share one scale; every 2-D series gets the
# dimension its labels say (district, bus, line, sector) or the table's (battery).
SERIES = {
    "power": {
        "served_mw": [10.0, 6.0, 8.0],
        "customers_out": [{"city": 0.0, "v1": 1.0}, {"city": 50.0, "v1": 20.0}, {"city": 10.0, "v1": 2.0}],
        "bus_energised": [{"power/bus/B1": 1.0, "power/bus/B2": 1.0}, {"power/bus/B1": 0.0, "power/bus/B2": 1.0},
                          {"power/bus/B1": 1.0, "power/bus/B2": 1.0}],
        "bus_voltage_pu": [{"power/bus/B1": 1.0, "power/bus/B2": 0.99}] * 3,
        "line_loading_pct": [{"power/line/L1": 40.0}, {"power/line/L1": 0.0}, {"power/line/L1": 55.5}],
        "battery_soc": [{}, {}, {}],
    },
    "incidents": {"failed_assets": [{"power": 0.0, "water": 0.0}, {"power": 1.0, "water": 0.0},
                                    {"power": 1.0, "water": 1.0}]},
}


@pytest.fixture
def v2(tmp_path: Path, hand: SimpleNamespace) -> Path:
    reg = hand.region(hand.DISTRICTS)
    path = hand.make_file(tmp_path / "run.h5", reg, SERIES, hand.cascade_events())
    results.write_metrics(path, {"energy_not_served_mwh": 3.0, "cost_line_km": 12.5},
                          {"power": np.array([1.0, 0.6, 0.8])})
    return path


def test_layout_with_scales_and_units(v2: Path) -> None:
    with h5py.File(v2) as f:
        assert f.attrs["format_version"] == "2.0" == results.FORMAT_VERSION
        t = f["series/time_s"]
        assert t.is_scale and t.attrs["units"] == "s" and t[()].tolist() == [0, 1800, 3600]
        p = f["series/power"]
        assert p["time"].is_scale and p["time"][()].tolist() == [0, 1800, 3600]
        for name in SERIES["power"]:
            ds = p[name]
            assert ds.dims[0][0] == t and ds.dims[0][1] == p["time"], name
        # column labels: a string dataset attached to dim 1, shared between series with the same labels
        assert p["bus_energised"].dims[1][0] == p["bus"]
        assert p["bus"].asstr()[()].tolist() == ["power/bus/B1", "power/bus/B2"]
        assert p["bus_voltage_pu"].dims[1][0] == p["bus"]
        assert p["customers_out"].dims[1][0] == p["district"]
        assert p["district"].asstr()[()].tolist() == ["city", "v1"]
        assert p["line_loading_pct"].dims[1][0] == p["line"]
        assert p["battery_soc"].shape == (3, 0) and p["battery_soc"].dims[1][0] == p["battery"]
        assert f["series/incidents/failed_assets"].dims[1][0] == f["series/incidents/sector"]
        assert "columns" not in p["bus_energised"].attrs
        units = {n: p[n].attrs["units"] for n in SERIES["power"]}
        assert units == {"served_mw": "MW", "customers_out": "households", "bus_energised": "1",
                         "bus_voltage_pu": UNKNOWN, "line_loading_pct": "%", "battery_soc": "1"}
        assert f["metrics/energy_not_served_mwh"].attrs["units"] == "MWh"
        assert f["metrics/cost_line_km"].attrs["units"] == "km"
        assert f["metrics/performance/power"].attrs["units"] == "1"
        assert f["metrics/performance/power"].dims[0][1] == f["metrics/performance/time"]
        assert f["cost/line_km"][()] == 12.5 and f["cost/line_km"].attrs["units"] == "km"
        assert f["assets/x_m"].attrs["units"] == "m" and f["assets/p_mw"].attrs["units"] == "MW"
        assert f["assets/capacity"].attrs["units_column"] == "capacity_unit"
        assert f["assets/x_m"].dims[0][0] == f["assets/id"]
        assert f["districts/households"].attrs["units"] == "households"
        assert f["events/time_s"].attrs["units"] == "s" and "units" not in f["events/value"].attrs
        assert f["events/time_s"].dtype == np.int64


def test_every_numeric_dataset_has_units_and_scales(v2: Path) -> None:
    """What results/README.md promises, over the whole file."""
    missing: list[str] = []

    def visit(name: str, obj: object) -> None:
        if not isinstance(obj, h5py.Dataset):
            return
        if obj.dtype.kind in "fiu" and "units" not in obj.attrs:
            missing.append(name)
        if obj.ndim and not obj.is_scale and not all(len(d) for d in obj.dims):
            missing.append(f"{name} (unlabelled axis)")

    with h5py.File(v2) as f:
        f.visititems(visit)
    assert sorted(missing) == ["assets/capacity", "dependencies/row", "events/value"]


def test_xarray_opens_each_group_labelled(v2: Path) -> None:
    with xr.open_dataset(v2, group="series/power", engine="h5netcdf") as ds:
        assert ds["time"].values.tolist() == [0, 1800, 3600] and ds["time"].attrs["units"] == "s"
        co = ds["customers_out"]
        assert co.dims == ("time", "district") and co.attrs["units"] == "households"
        assert co.sel(time=1800, district="v1").item() == 20.0
        assert ds["bus_energised"].sel(bus="power/bus/B1").values.tolist() == [1.0, 0.0, 1.0]
        assert ds["line_loading_pct"].dims == ("time", "line")
        assert ds.sizes["battery"] == 0
        assert ds["served_mw"].dims == ("time",) and ds["served_mw"].attrs["units"] == "MW"
        xr.testing.assert_equal(ds, results.load(v2).to_xarray("power"))
    with xr.open_dataset(v2, group="assets", engine="h5netcdf") as a:
        assert a["x_m"].sel(id="water/pump/P1").item() == 3000.0
    with xr.open_dataset(v2, group="events", engine="h5netcdf") as e:
        assert e.sizes["event_id"] == 6 and e["kind"].values[1] == "failed"
    with xr.open_dataset(v2, group="metrics/performance", engine="h5netcdf") as m:
        assert m["power"].sel(time=1800).item() == 0.6
    with xr.open_datatree(v2, engine="h5netcdf") as tree:
        assert tree["metrics"]["energy_not_served_mwh"].attrs["units"] == "MWh"
        assert tree["series/power"]["customers_out"].sel(district="city").values.tolist() == [0.0, 50.0, 10.0]


def test_to_xarray_and_to_dataframe(v2: Path) -> None:
    r = results.load(v2)
    ds = r.to_xarray("power")
    assert ds.attrs["run_id"] == "run" and ds["customers_out"].attrs["units"] == "households"
    df = r.to_dataframe("power", "customers_out")
    assert df.index.name == "time" and df.columns.name == "district"
    assert df.loc[1800, "city"] == 50.0 and df.attrs["units"]["v1"] == "households"
    one = r.to_dataframe("power", "served_mw")
    assert one["served_mw"].tolist() == [10.0, 6.0, 8.0]
    flat = r.to_dataframe("power")
    assert list(flat.columns) == ["served_mw"] and flat.attrs["units"] == {"served_mw": "MW"}
    events = r.table("events")
    assert events.shape == (6, 8) and events.loc[1, "asset_id"] == "power/line/L1"
    assert r.table("assets").set_index("id").loc["power/load/L1", "customers"] == 100
    with pytest.raises(KeyError, match="no series of sector 'water'"):
        r.to_dataframe("water")


def test_reader_round_trip(v2: Path, hand: SimpleNamespace) -> None:
    r = results.load(v2)
    assert r.columns["power"]["bus_energised"] == ["power/bus/B1", "power/bus/B2"]
    assert r.dims["power"]["bus_energised"] == "bus" and r.dims["power"]["served_mw"] == ""
    assert r.column("power", "customers_out", "v1").tolist() == [1.0, 20.0, 2.0]
    assert sorted(r.series["power"]) == sorted(SERIES["power"])  # no scale read as a series
    assert r.cost == {"line_km": 12.5, "pipe_km": 4.0, "pv_mw": 0.0, "wells": 0.0}
    assert r.metrics == {"energy_not_served_mwh": 3.0, "cost_line_km": 12.5}
    assert r.metric_units["energy_not_served_mwh"] == "MWh"
    assert list(r.performance) == ["power"]
    assert r.events == hand.cascade_events()
    assert r.dependencies["coupling"].tolist() == ["power->water"]


def test_empty_event_table_keeps_its_types(tmp_path: Path, hand: SimpleNamespace) -> None:
    path = hand.make_file(tmp_path / "quiet.h5", hand.region(hand.DISTRICTS), hand.BASE, [])
    with h5py.File(path) as f:
        assert f["events/time_s"].dtype == np.int64 and f["events/value"].dtype == np.float64
    assert results.load(path).events == []


def test_reads_format_1(tmp_path: Path) -> None:
    r = results.load(V1)
    assert r.format_version == "1.0" and r.status == "complete"
    assert r.time_s.tolist() == list(range(0, 3600, 300))
    assert r.columns["power"]["customers_out"] == ["city", "town1", "town2", "village1a", "village2a"]
    assert r.dims["power"]["customers_out"] == "district" and r.dims["water"]["pump_on"] == "pump"
    assert r.dims["power"]["load_served_mw"] == "load" and r.dims["ict"]["site_state"] == "site"
    assert r.units["water"]["delivered_m3s"] == "m3/s" and r.units["water"]["customers_out"] == "people"
    assert r.cost["line_km"] == pytest.approx(47.594)
    assert r.metric_units["energy_not_served_mwh"] == "MWh"
    assert any(e["asset_id"] == "power/line/F4-1" and e["kind"] == "failed" for e in r.events)
    with h5py.File(V1) as f:  # the reader's values are the file's
        assert r.metrics["energy_not_served_mwh"] == f["metrics/energy_not_served_mwh"][()]
        np.testing.assert_array_equal(r.series["power"]["bus_energised"], f["series/power/bus_energised"][()])
    ds = r.to_xarray("power")
    assert ds["customers_out"].dims == ("time", "district")
    assert ds["line_loading_pct"].sel(line="power/line/F1-1").shape == (12,)
    df = r.to_dataframe("water", "tank_level_m")
    assert df.columns.tolist() == ["water/tank/T-city"] and df.attrs["units"]["water/tank/T-city"] == "m"
    # a format 1 file is still a finished run, and its metrics are recomputed alike
    assert results.is_complete(V1) and results.is_finished(V1)
    m, _ = metrics.compute(r, None)
    assert set(m) >= {"energy_not_served_mwh", "vehicle_delay_h"}


def test_newer_major_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.h5"
    shutil.copy(V1, path)
    with h5py.File(path, "a") as f:
        f.attrs["format_version"] = "3.0"
    with pytest.raises(results.ResultsError, match="format 3.0 is newer"):
        results.load(path)


def test_every_name_twin_writes_has_a_unit() -> None:
    """All series and metrics of a real run (the stored file) resolve to a unit."""
    r = results.load(V1)
    unknown = [f"{s}/{n}" for s, names in r.series.items() for n in names if units_of(n, s) == UNKNOWN]
    unknown += [f"metrics/{k}" for k in r.metrics if units_of(k, "metrics") == UNKNOWN]
    unknown += [f"cost/{k}" for k in r.cost if units_of(k, "cost") == UNKNOWN]
    assert unknown == []


@pytest.mark.parametrize(("name", "scope", "unit"), [
    ("energy_not_served_mwh", "metrics", "MWh"),  # _mwh, not _h
    ("pump_flow_m3s", "water", "m3/s"),  # _m3s, not _s
    ("water_not_served_m3", "metrics", "m3"),
    ("road_km", "cost", "km"),  # _km, not _m
    ("customers_out", "power", "households"),
    ("customers_out", "water", "people"),
    ("time_loss_h", "traffic", "vehicle h"),
    ("cost_index_meur", "metrics", "MEUR"),
    ("cost_wells", "metrics", "wells"),
    ("time_to_recover_power_censored", "metrics", "1"),
    ("site_state", "ict", "1"),
    ("water", "solver_failures", "steps"),
    ("something", "power", UNKNOWN),
])
def test_units_rule(name: str, scope: str, unit: str) -> None:
    assert units_of(name, scope) == unit


def test_column_dimension_rule() -> None:
    d = {"city", "v1"}
    assert results.column_dimension("x", ["city"], d) == "district"
    assert results.column_dimension("x", ["power", "ict"], d) == "sector"
    assert results.column_dimension("x", ["water/junction/a", "water/junction/b"], d) == "junction"
    assert results.column_dimension("load_served_mw", ["ict/site/a", "power/load/b"], d) == "load"
    assert results.column_dimension("x", ["ict/site/a", "power/load/b"], d) == "x_key"
    assert results.column_dimension("x", [], d) == "x_key"


def test_scale_names_never_collide(tmp_path: Path, hand: SimpleNamespace) -> None:
    """Other labels of an existing dimension (the first series in name order has the plain
    name), or a series named like one, get ``<dim>_<series>``."""
    series = {"power": {
        "line_loading_pct": [{"power/line/L1": 40.0}] * 2,
        "line_flow_mw": [{"power/line/L1": 1.0, "power/line/L2": 2.0}] * 2,
        "bus": [3.0, 4.0],
        "bus_energised": [{"power/bus/B1": 1.0}] * 2,
    }}
    path = hand.make_file(tmp_path / "names.h5", hand.region(hand.DISTRICTS), series, [])
    with h5py.File(path) as f:
        p = f["series/power"]
        assert p["line_flow_mw"].dims[1][0] == p["line"]
        assert p["line_loading_pct"].dims[1][0] == p["line_line_loading_pct"]
        assert p["line"].asstr()[()].tolist() == ["power/line/L1", "power/line/L2"]
        assert p["line_line_loading_pct"].asstr()[()].tolist() == ["power/line/L1"]
        assert p["bus_energised"].dims[1][0] == p["bus_bus_energised"]
        assert not p["bus"].is_scale and p["bus"][()].tolist() == [3.0, 4.0]
    r = results.load(path)
    assert r.dims["power"]["line_loading_pct"] == "line_line_loading_pct"
    assert r.series["power"]["bus"].shape == (2,)
    with xr.open_dataset(path, group="series/power", engine="h5netcdf") as ds:
        assert ds["line_flow_mw"].sel(line="power/line/L2").values.tolist() == [2.0, 2.0]
        assert ds["bus_energised"].dims == ("time", "bus_bus_energised")


def test_a_key_missing_at_a_step_is_nan_there(tmp_path: Path, hand: SimpleNamespace) -> None:
    """Per-step dicts become one column per key over the union of keys; a step without a
    key (a line added mid-run, say) has nan there, the others their values."""
    series = {"power": {"line_loading_pct": [{"power/line/L1": 40.0}, {"power/line/L1": 50.0, "power/line/L2": 7.0},
                                             {"power/line/L2": True}]}}
    path = hand.make_file(tmp_path / "gaps.h5", hand.region(hand.DISTRICTS), series, [])
    with h5py.File(path) as f:
        got = f["series/power/line_loading_pct"][()]
    np.testing.assert_array_equal(got, [[40.0, np.nan], [50.0, 7.0], [np.nan, 1.0]])


def test_dataframe_matches_pandas_of_h5py(v2: Path) -> None:
    """The documented pandas recipe on h5py alone gives the same frame."""
    with h5py.File(v2) as f:
        ds = f["series/power/customers_out"]
        labels = ds.dims[1][0]
        manual = pd.DataFrame(ds[()], index=pd.Index(ds.dims[0][0][()], name="time"),
                              columns=pd.Index(labels.asstr()[()], name=labels.name.rsplit("/", 1)[-1]))
    pd.testing.assert_frame_equal(manual, results.load(v2).to_dataframe("power", "customers_out"))


@pytest.mark.slow
def test_a_real_run_is_labelled_throughout(tmp_path: Path) -> None:
    """A one-hour run of the small region: every series and metric has a known unit, every
    group opens labelled in xarray, and twin's view equals xarray's."""
    from twin.config import validate_data
    from twin.runner import run_configuration

    scenario = validate_data({
        "run": {"hours": 1, "seed": 5, "configurations": ["centralised"], "baseline": False},
        "region": {"size": "small", "grid": "synthetic"},
        "hazards": [{"kind": "outage", "asset": "power/line/F4-1", "at_h": 0.25, "duration_h": 0.5}],
    }, "labelled")
    o = run_configuration(scenario, "centralised", tmp_path)
    assert o.status == "complete", o.error
    r = results.load(o.path)
    unknown = [f"{s}/{n}" for s, u in r.units.items() for n, unit in u.items() if unit == UNKNOWN]
    unknown += [k for k, unit in r.metric_units.items() if unit == UNKNOWN]
    assert unknown == []
    assert r.dims["power"]["bus_energised"] == "bus" and r.dims["water"]["junction_pressure_m"] == "junction"
    for sector in r.series:
        with xr.open_dataset(o.path, group=f"series/{sector}", engine="h5netcdf") as ds:
            assert ds["time"].values.tolist() == r.time_s.tolist()
            assert not [d for d in ds.dims if d.startswith("phony")]
            xr.testing.assert_equal(ds, r.to_xarray(sector))
    for group in ("assets", "districts", "dependencies", "events", "metrics/performance"):
        with xr.open_dataset(o.path, group=group, engine="h5netcdf") as ds:
            assert not [d for d in ds.dims if d.startswith("phony")], group
    # the reading examples of results/README.md run as written on this file
    readme = (Path(__file__).parents[2] / "results" / "README.md").read_text()
    examples = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert len(examples) >= 4
    for code in examples:
        exec(code.replace("results/<run_id>.h5", str(o.path)), {})  # noqa: S102
