"""SimBench's load and PV profiles as the power model's time series (models/power/sbprofiles.py).

Expected values are read straight from the ``simbench`` package (its own CSV reader on the
data it ships, ``get_all_simbench_profiles(0)``), not from the twin's cache of them.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from twin.models.power import sbprofiles
from twin.models.power.build import FACILITY_LOADS_MW, HOUSEHOLD_MEAN_KW
from twin.models.power.grid import PowerGrid
from twin.models.power.profiles import STORM_CLOUD_FACTOR, household_factor
from twin.models.power.sbprofiles import (
    FACILITY_PROFILES,
    HOUSEHOLD_PROFILES,
    PV_PROFILE,
    SEASON_DAYS,
    SimbenchSeries,
    household_scale,
    start_day,
)
from twin.models.power.testgrids import power_region


@pytest.fixture(scope="module")
def sb() -> dict:
    """SimBench's own profiles (scenario 0), as the package reads them."""
    import simbench

    return simbench.get_all_simbench_profiles(0)


@pytest.fixture(scope="module")
def region(tmp_path_factory) -> str:
    # the synthetic grid: its households get HOUSEHOLD_PROFILES (SimBench's grid keeps its rows')
    return str(power_region(tmp_path_factory.mktemp("sbp"), size="small", configuration="decentralised",
                            grid="synthetic") / "power.json")


def _date(sb: dict, day: int) -> dt.date:
    """SimBench's own time stamp of the first slot of ``day``."""
    stamp = str(sb["load"]["time"].iloc[day * 96])
    return dt.datetime.strptime(stamp[:10], "%d.%m.%Y").date() if "." in stamp[:3] else \
        dt.date.fromisoformat(stamp[:10])


def test_builder_names_profiles(region):
    import pandapower as pp

    net = pp.from_json(region)
    hh = net.load[net.load.category == "household"]
    kind = hh.district.str.extract(r"^(city|town|village)")[0]
    assert (hh.profile == kind.map(HOUSEHOLD_PROFILES)).all()
    assert set(kind) == set(HOUSEHOLD_PROFILES)
    for fid, prof in FACILITY_PROFILES.items():
        assert net.load.loc[net.load.name == f"power/load/{fid}", "profile"].tolist() == [prof]


@pytest.mark.parametrize("load,hour", [("power/load/city-1", 18.25), ("power/load/hospital", 10.5)])
def test_demand_equals_simbench(sb, region, load, hour):
    """A load's demand at a chosen time, on the day seed and season picked: a household's is
    1.6 p_mw (its design peak) x SimBench's value of that 15-min slot over the profile's
    highest of the year; a facility's p_mw x the slot's value over the profile's annual mean."""
    g = PowerGrid.from_file(region, seed=7, season="winter")
    t = int(hour * 3600)
    pos = g.load_names.index(load)
    col = sb["load"][f"{g.load_profile[pos]}_pload"].to_numpy(dtype=float)
    slot = g.series.day * 96 + t // 900
    if g.household[pos]:
        expected = g.base_p[pos] * 1.6 * col[slot] / col.max()
    else:
        expected = g.base_p[pos] * col[slot] / col.mean()
    r = g.step(t)
    assert r.telemetry["loads"][load]["demand_mw"] == pytest.approx(expected, rel=1e-9)


def test_simbench_grid_loads_keep_their_own_profile(sb, tmp_path):
    """On a SimBench grid every household load carries the profile of its SimBench row."""
    import pandapower as pp

    from twin.models.power.build import build
    from twin.region.layout import make_layout
    from twin.region.params import params_for

    build(make_layout("small", seed=1, grid="simbench"), params_for("centralised"), "centralised", tmp_path)
    net = pp.from_json(str(tmp_path / "power.json"))
    hh = net.load[net.load.category == "household"]
    assert hh.profile.str.match(r"^(lv_|mv_|H0|G|L|BL|WB)").all()
    assert set(hh.profile) - set(HOUSEHOLD_PROFILES.values())  # SimBench's rows, not our mapping
    g = PowerGrid(net, seed=3, season="summer")
    pos = int(np.flatnonzero(g.household)[0])
    col = sb["load"][f"{hh.profile.iloc[0]}_pload"].to_numpy(dtype=float)
    t = 13 * 3600
    r = g.step(t)
    expected = g.base_p[pos] * 1.6 * col[g.series.day * 96 + t // 900] / col.max()
    assert r.telemetry["loads"][g.load_names[pos]]["demand_mw"] == pytest.approx(expected, rel=1e-9)


def test_energy_scaling_by_hand(sb):
    """Shapes are scaled, not energy: over the year a load's mean is its p_mw; a day's energy
    is p_mw x 24 h x the day's SimBench mean over the year's; an hour-long step's factor is
    the mean of its four 15-min values."""
    name = HOUSEHOLD_PROFILES["city"]
    col = sb["load"][f"{name}_pload"].to_numpy(dtype=float)
    p_mw = 100 * HOUSEHOLD_MEAN_KW / 1000.0  # 100 households
    year = SimbenchSeries(0, "equinox", 900)
    year.start_slot = 0
    f = np.array([year.load_factor(name, k * 900) for k in range(len(col))])
    assert p_mw * f.mean() == pytest.approx(0.12, rel=1e-12)
    day = 10
    expected_mwh = p_mw * 24 * col[day * 96:(day + 1) * 96].mean() / col.mean()
    assert p_mw * f[day * 96:(day + 1) * 96].sum() * 0.25 == pytest.approx(expected_mwh, rel=1e-12)
    hourly = SimbenchSeries(0, "equinox", 3600)
    hourly.start_slot = day * 96
    four = col[day * 96 + 72: day * 96 + 76]  # 18:00-19:00
    assert hourly.load_factor(name, 18 * 3600) == pytest.approx(four.mean() / col.mean(), rel=1e-12)
    # a household load's year peaks at its design peak PEAK_FACTOR x p_mw (what the grid is
    # sized for), so its mean is p_mw x 1.6 / (peak over mean): the profile's load factor
    scale = household_scale(name)
    assert p_mw * (f * scale).max() == pytest.approx(1.6 * p_mw, rel=1e-12)
    assert p_mw * (f * scale).mean() == pytest.approx(p_mw * 1.6 * col.mean() / col.max(), rel=1e-12)
    # a facility keeps its nominal mean
    g3 = sb["load"][f"{FACILITY_PROFILES['hospital']}_pload"].to_numpy(dtype=float)
    assert FACILITY_LOADS_MW["hospital"] * (g3 / g3.mean()).mean() == pytest.approx(0.8, rel=1e-12)


def test_steps_inside_one_slot_get_the_same_value(sb):
    """5-min steps inside a 15-min slot all get that slot's value, the same float (so the
    power flow's injections repeat exactly); a 10-min step half in each of two slots their mean, and
    a step across the year's end wraps to its first slot."""
    name = HOUSEHOLD_PROFILES["city"]
    col = sb["load"][f"{name}_pload"].to_numpy(dtype=float)
    s = SimbenchSeries(0, "equinox", 300)
    s.start_slot = 40
    for slot in (0, 1, 7):
        values = [s.load_factor(name, slot * 900 + k * 300) for k in range(3)]
        assert values[0] == values[1] == values[2]
        assert values[0] == pytest.approx(col[40 + slot] / col.mean(), rel=1e-12)
    across = SimbenchSeries(0, "equinox", 600)
    across.start_slot = 40
    assert across.load_factor(name, 600) == pytest.approx((col[40] + col[41]) / 2 / col.mean(), rel=1e-12)
    s.start_slot = len(col) - 1  # the year's cumulative sum (~35,000) holds a slot to ~1e-11
    assert s.load_factor(name, 900) == pytest.approx(col[0] / col.mean(), rel=1e-10)
    assert s.load_factor(name, 600) == pytest.approx(col[-1] / col.mean(), rel=1e-10)


@pytest.mark.parametrize("season,months", [("winter", {12, 1, 2}), ("summer", {6, 7, 8}),
                                           ("equinox", {3, 4, 9, 10})])
def test_season_picks_a_day_of_its_window(sb, season, months):
    days = {start_day(seed, season) for seed in range(40)}
    assert days <= set(SEASON_DAYS[season])
    assert len(days) > 10  # the seed varies the day
    assert {_date(sb, d).month for d in days} <= months
    if season == "equinox":
        for d in days:
            date = _date(sb, d)
            ref = dt.date(2016, 3, 20) if date.month < 6 else dt.date(2016, 9, 22)
            assert abs((date - ref).days) <= 14


def test_determinism(region):
    """Same seed, same series; the day depends on the seed only through its own stream."""
    a = PowerGrid.from_file(region, seed=11, season="equinox")
    b = PowerGrid.from_file(region, seed=11, season="equinox")
    for t in (0, 8 * 3600, 12 * 3600, 19 * 3600):
        ra, rb = a.step(t), b.step(t)
        assert ra.series["demand_mw"] == rb.series["demand_mw"]
        assert ra.series["pv_mw"] == rb.series["pv_mw"]
    assert start_day(11, "equinox") == a.series.day
    other = next(s for s in range(12, 100) if start_day(s, "equinox") != a.series.day)
    c = PowerGrid.from_file(region, seed=other, season="equinox")
    assert c.step(19 * 3600).series["demand_mw"] != a.step(19 * 3600).series["demand_mw"]


def _storm_over_everything() -> dict:
    return {"track_m": [[-1e6, 0.0], [1e6, 0.0]], "start_h": 0.0, "end_h": 24.0,
            "peak_wind_ms": 60.0, "decay_m": 1e9}


def test_storm_cloud_factor_caps_simbench_pv(sb, region):
    """Under a storm, PV = min(the day's SimBench value, 0.25 x the clear-sky envelope: the
    same slot's maximum within +-7 days), hand-computed from SimBench's column."""
    col = sb["renewables"][PV_PROFILE].to_numpy(dtype=float)
    days = col.reshape(366, 96)
    t = 12 * 3600
    seed = next(s for s in range(200) if days[start_day(s, "equinox"), 48] > 0.5 * days[
        [(start_day(s, "equinox") + k) % 366 for k in range(-7, 8)], 48].max())
    clear = lambda d: days[[(d + k) % 366 for k in range(-7, 8)], 48].max()  # noqa: E731
    calm = PowerGrid.from_file(region, seed=seed, season="equinox", storms=[])
    storm = PowerGrid.from_file(region, seed=seed, season="equinox", storms=[_storm_over_everything()])
    d = calm.series.day
    rated = float(calm.pv_rated.sum())
    assert rated > 0
    assert calm.step(t).series["pv_mw"] == pytest.approx(rated * days[d, 48], rel=1e-9)
    expected = rated * min(days[d, 48], STORM_CLOUD_FACTOR * clear(d))
    assert expected < rated * days[d, 48]  # the storm dims it
    assert storm.step(t).series["pv_mw"] == pytest.approx(expected, rel=1e-9)


def test_synthetic_option_keeps_the_old_profile(region):
    """power.profiles = "synthetic": households follow the daily shape, facilities their p_mw."""
    g = PowerGrid.from_file(region, seed=1, season="winter", profiles="synthetic")
    assert g.series is None
    t = 18 * 3600
    r = g.step(t)
    pos = g.load_names.index("power/load/city-1")
    assert r.telemetry["loads"]["power/load/city-1"]["demand_mw"] == pytest.approx(
        g.base_p[pos] * household_factor(t, "winter"), rel=1e-12)
    assert r.telemetry["loads"]["power/load/hospital"]["demand_mw"] == pytest.approx(0.8)


def test_unknown_profile_is_refused(region):
    import pandapower as pp

    from twin.models.power.common import PowerGridError

    net = pp.from_json(region)
    net.load.loc[net.load.index[0], "profile"] = "no-such-profile"
    with pytest.raises(PowerGridError, match="no-such-profile"):
        PowerGrid(net, seed=1)
    with pytest.raises(PowerGridError, match="profiles"):
        PowerGrid(pp.from_json(region), profiles="measured")


def test_cache_written_once_and_equal_to_simbench(sb, tmp_path, monkeypatch):
    """The first use writes the profiles beside the grid cache; they equal SimBench's."""
    monkeypatch.setenv("TWIN_SIMBENCH_CACHE", str(tmp_path))
    for f in (sbprofiles._archive, sbprofiles.raw, sbprofiles.load_names):
        f.cache_clear()
    try:
        got = sbprofiles.raw("load", "H0-A")
        assert list(tmp_path.rglob("profiles-0.npz"))
        assert np.array_equal(got, sb["load"]["H0-A_pload"].to_numpy(dtype=float))
        assert np.array_equal(sbprofiles.raw("res", PV_PROFILE), sb["renewables"][PV_PROFILE].to_numpy(dtype=float))
    finally:
        for f in (sbprofiles._archive, sbprofiles.raw, sbprofiles.load_names):
            f.cache_clear()
