"""The lightsim2grid backend equals pandapower: every result table within 1e-6 pu / MW / kA /
percent of a fresh pandapower run on the same net, on the shipped test grids and on the
default region in all three configurations, through islanding (own slacks), a topology
change and its reversal; step results and events of a PowerGrid equal those with the
pandapower backend; nets with elements it does not handle go to pandapower, explicitly."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest

from twin.models.power import testgrids
from twin.models.power.fastsolver import TOL_PU, LightsimSolver, already_solved, unsupported_reason
from twin.models.power.grid import PowerGrid
from twin.models.power.solver import PandapowerSolver, make_solver
from twin.models.power.testgrids import power_region

TOL = 1e-6
TABLES = ("bus", "line", "trafo", "ext_grid", "gen", "load", "sgen", "storage")


def _reference(net):  # type: ignore[no-untyped-def]
    """A fresh pandapower run (DC start, numba and lightsim2grid off) on a copy of ``net``."""
    import pandapower as pp

    ref = copy.deepcopy(net)
    ref._ppc = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(ref, init="dc", numba=False, lightsim2grid=False, max_iteration=30)
    return ref


def _assert_tables_equal(net) -> int:  # type: ignore[no-untyped-def]
    """Every column of every result table equals pandapower's (NaN where it has NaN);
    returns the number of values compared."""
    ref = _reference(net)
    n = 0
    for table in TABLES:
        if not len(net[table]):
            continue
        got, want = net[f"res_{table}"], ref[f"res_{table}"]
        assert list(got.index) == list(want.index), table
        for col in want.columns:
            a = got[col].to_numpy(dtype=float)
            b = want[col].to_numpy(dtype=float)
            assert np.array_equal(np.isnan(a), np.isnan(b)), (table, col)
            m = np.isfinite(b)
            assert np.array_equal(a[~m & ~np.isnan(b)], b[~m & ~np.isnan(b)]), (table, col)  # inf
            np.testing.assert_allclose(a[m], b[m], rtol=0, atol=TOL, err_msg=f"res_{table}.{col}")
            n += int(m.sum())
    return n


# a storm in miniature: a town feeder head fails (its towns island or go dark), a city
# cable fails meanwhile, the transformer fails (the grid's island loses its supply: the
# plant or the microgrids carry their own islands), then everything is repaired, so that
# every topology comes back
def _failed_at(k: int) -> dict[str, str]:
    out = {}
    for asset, start, end in (("power/line/F6-1", 3, 9), ("power/line/F2-3", 6, 12),
                              ("power/trafo/TR1", 14, 18)):
        if start <= k < end:
            out[asset] = f"0|{asset}|failed"
    return out


STEPS = 22


@pytest.fixture(scope="module")
def regions(tmp_path_factory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("fastsolver")
    return {c: power_region(root / c, "default", c, grid="synthetic") for c in ("centralised", "decentralised", "anchor_towns")}


@pytest.mark.parametrize("configuration", ["centralised", "decentralised", "anchor_towns"])
def test_default_region_equals_pandapower_through_islanding_and_topology_changes(regions, configuration):
    fast = PowerGrid.from_file(regions[configuration] / "power.json", seed=1, step_s=300, solver="lightsim2grid")
    ref = PowerGrid.from_file(regions[configuration] / "power.json", seed=1, step_s=300, solver="pandapower")
    assert int(fast.net.line["parallel"].max()) >= 2  # parallel circuits: one ppc branch of half impedance
    assert fast.net.switch["type"].eq("CB").any()
    islanded = False
    for k in range(STEPS):
        t = 6 * 3600 + k * 300
        a = fast.step(t, failed=_failed_at(k))
        b = ref.step(t, failed=_failed_at(k))
        assert a.converged == b.converged
        if a.converged:
            assert _assert_tables_equal(fast.net) > 0
        assert a.dead_buses == b.dead_buses
        assert [(e["event_id"], e["cause_id"]) for e in a.events] == [(e["event_id"], e["cause_id"]) for e in b.events]
        for key, va in a.series.items():
            vb = b.series[key]
            if isinstance(va, dict):
                assert va.keys() == vb.keys(), key
                for name in va:
                    assert math.isclose(va[name], vb[name], abs_tol=TOL), (k, key, name)
            else:
                assert math.isclose(va, vb, abs_tol=TOL), (k, key)
        slacks = [i for i, n in fast.net.ext_grid["name"].items() if "#slack" in str(n)]
        islanded |= bool(fast.net.ext_grid.loc[slacks, "in_service"].any()) if slacks else False
    counts = fast.solver.counts
    assert counts["recycled"] > counts["full"]  # most solves took the fast path
    assert counts["fallback"] == 0 and fast.solver.fallback_reason is None
    if configuration != "anchor_towns":
        assert islanded  # a plant or a community battery was the slack of its own island


@pytest.mark.parametrize("make", [
    testgrids.lossless_island_feeder, testgrids.shedding_feeder, testgrids.shed_household_microgrid,
    testgrids.prosumer_feeder,
])
def test_test_grids_equal_pandapower(make):
    net = make()
    grid = PowerGrid(net, seed=3, step_s=300, household_profile=False, solver=LightsimSolver())
    first_line = str(net.line["name"].iloc[0])
    for k in range(8):
        failed = {first_line: f"0|{first_line}|failed"} if 3 <= k < 5 else {}
        r = grid.step(10 * 3600 + k * 300, failed=failed)
        if r.converged:
            _assert_tables_equal(grid.net)
    assert grid.solver.counts["recycled"] > 0


def test_same_topology_with_new_injections_reuses_the_model_and_stays_exact():
    import pandapower as pp

    net = testgrids.prosumer_feeder()
    solver = LightsimSolver()
    assert solver.solve(net, recycle=False)
    full = solver.counts["full"]
    for scale in (0.5, 1.3, 0.0, 2.0):
        net.load["p_mw"] = net.load["p_mw"] * 0 + 0.1 * scale
        net.sgen["p_mw"] = 0.05 * scale
        assert solver.solve(net, recycle=True)
        _assert_tables_equal(net)
    assert solver.counts["full"] == full and solver.counts["recycled"] == 4
    pp.create_load(net, int(net.bus.index[-1]), p_mw=0.01)  # a new element: still equal
    solver2 = LightsimSolver()
    assert solver2.solve(net, recycle=False) and solver2.solve(net, recycle=True)
    _assert_tables_equal(net)


def test_a_solve_is_skipped_only_where_lightsim2grid_would_not_iterate(tmp_path):
    """Steps of the default SimBench grid whose injections moved only by the profiles'
    rounding skip the solver: there lightsim2grid, asked, stops before its first iteration
    and returns the voltages unchanged; elsewhere (new load levels, a 1e-8 pu change) the
    pre-check hands the island to it. Either way the tables equal pandapower's."""
    from lightsim2grid.algorithm import NRSing_KLU

    region = power_region(tmp_path / "simbench", "default", "centralised", grid="simbench")
    grid = PowerGrid.from_file(region / "power.json", seed=1, step_s=300, solver="lightsim2grid")
    grid.step(6 * 3600 - 300)
    (topo,) = grid.solver._topologies.values()
    isl = topo.islands[0]
    verdicts = []
    for k in range(9):
        v0 = topo.v[isl.buses].copy()
        grid.step(6 * 3600 + k * 300)
        _assert_tables_equal(grid.net)
        sbus = _sbus(grid.net, topo)[isl.buses]
        skipped = already_solved(isl.ybus, v0, sbus, isl.pv, isl.pq)
        ls = NRSing_KLU()
        assert ls.compute_pf(isl.ybus, v0.copy(), sbus, isl.ref, isl.weights, isl.pv, isl.pq, 30, TOL_PU)
        if skipped:  # lightsim2grid would not have iterated: the same voltages, bit for bit
            assert ls.get_nb_iter() == 0 and np.array_equal(ls.get_V(), v0)
            assert np.array_equal(topo.v[isl.buses], v0)
        verdicts.append(skipped)
        bumped = sbus.copy()
        bumped[isl.pq[0]] += 1e-8
        assert not already_solved(isl.ybus, v0, bumped, isl.pv, isl.pq)
    assert any(verdicts) and not all(verdicts)  # 15-min profile slots: both kinds of step occur


def test_unchanged_injections_put_the_same_tables_again(monkeypatch):
    """A fast solve that re-solves nothing and meets the injections of the last write puts
    that write's tables again (restoring anything written over them since) instead of
    recomputing the flows; a change of 1e-9 MW is written afresh. Both equal pandapower."""
    net = testgrids.prosumer_feeder()
    solver = LightsimSolver()
    writes = []
    write = solver._write_results
    monkeypatch.setattr(solver, "_write_results", lambda *a: writes.append(1) or write(*a))
    assert solver.solve(net, recycle=False)
    for _ in range(3):  # until the voltages are lightsim2grid's own fixed point
        assert solver.solve(net, recycle=True)
    assert 1 <= len(writes) < 3  # at least one solve put the tables again
    kept = {t: net[f"res_{t}"].copy() for t in TABLES if len(net[t])}
    net.res_line.iloc[0, 0] = 99.0  # something wrote over a result
    n = len(writes)
    assert solver.solve(net, recycle=True) and len(writes) == n
    for t, df in kept.items():
        assert net[f"res_{t}"].equals(df), t
    first = net.load.index[0]
    net.load.loc[first, "p_mw"] += 1e-9
    assert solver.solve(net, recycle=True) and len(writes) == n + 1
    assert net.res_load.at[first, "p_mw"] == net.load.at[first, "p_mw"] != kept["load"].at[first, "p_mw"]
    _assert_tables_equal(net)


def _sbus(net, topo):  # type: ignore[no-untyped-def]
    """The per-unit bus injections the fast path solves for (its own formula, repeated)."""
    from twin.models.power.common import column
    from twin.models.power.fastsolver import PQ_TABLES

    n_ppc = len(topo.ppc_bus_vm)
    pd, qd = np.zeros(n_ppc), np.zeros(n_ppc)
    for table, sign in PQ_TABLES:
        tab = net[table]
        if not len(tab):
            continue
        rows, bus_ok = topo.pq_rows[table]
        active = np.asarray(column(tab, "in_service"), dtype=bool) & bus_ok
        scale = np.asarray(column(tab, "scaling"), dtype=float) * active
        pd += np.bincount(rows, weights=sign * np.asarray(column(tab, "p_mw"), dtype=float) * scale, minlength=n_ppc)
        qd += np.bincount(rows, weights=sign * np.asarray(column(tab, "q_mvar"), dtype=float) * scale,
                          minlength=n_ppc)
    return topo.s_gen - (pd[:topo.n_i] + 1j * qd[:topo.n_i]) / topo.base_mva


def test_unsupported_elements_fall_back_to_pandapower_explicitly():
    import pandapower as pp

    net = testgrids.prosumer_feeder()
    pp.create_ward(net, int(net.bus.index[-1]), ps_mw=0.02, qs_mvar=0.01, pz_mw=0.0, qz_mvar=0.0)
    assert unsupported_reason(net) == "element table 'ward'"
    solver = LightsimSolver()
    assert solver.solve(net, recycle=False) and solver.solve(net, recycle=True)
    assert solver.fallback_reason == "element table 'ward'" and solver.counts["fallback"] == 2
    assert solver.counts["recycled"] <= 1  # pandapower's own recycling, not the fast path
    _assert_tables_equal(net)


def test_two_slacks_in_one_island_hold_their_voltages_as_in_pandapower():
    import pandapower as pp

    net = testgrids.lossless_island_feeder()  # A (slack) -- B -- C (second slack)
    net.line["r_ohm_per_km"] = 0.2
    pp.create_ext_grid(net, int(net.bus.index[-1]), vm_pu=0.98, va_degree=-0.5, name="second")
    solver = LightsimSolver()
    assert solver.solve(net, recycle=False)
    for scale in (0.5, 1.5):
        net.load["p_mw"] = net.load["p_mw"] * scale
        assert solver.solve(net, recycle=True)
        _assert_tables_equal(net)
    assert solver.capture_skipped == 0 and solver.counts == {"full": 1, "recycled": 2, "failed": 0, "fallback": 0}


def test_two_slacks_on_one_bus_stay_with_pandapower():
    import pandapower as pp

    net = testgrids.lossless_island_feeder()
    pp.create_ext_grid(net, int(net.ext_grid.at[0, "bus"]), vm_pu=1.0, name="second")
    solver = LightsimSolver()
    assert solver.solve(net, recycle=False) and solver.solve(net, recycle=True)
    assert solver.capture_skipped == 1 and solver.counts["full"] == 2
    _assert_tables_equal(net)


def test_solver_by_name():
    assert isinstance(make_solver("pandapower"), PandapowerSolver)
    assert isinstance(make_solver("lightsim2grid"), LightsimSolver)
    with pytest.raises(ValueError, match="unknown power-flow solver"):
        make_solver("helm")


def test_imported_oberrhein_grid_equals_pandapower():
    """pandapower's mv_oberrhein (the imported-region example: 179 buses, 322 switches,
    153 sgens, two HV/MV transformers): new injections, a line out and back."""
    import pandapower.networks as pn

    net = pn.mv_oberrhein()
    assert unsupported_reason(net) == ""
    solver = LightsimSolver()
    line = int(net.line.index[5])
    base_load, base_sgen = net.load["p_mw"].to_numpy().copy(), net.sgen["p_mw"].to_numpy().copy()
    for k, scale in enumerate((1.0, 0.6, 1.2, 0.8, 1.1)):
        net.load["p_mw"] = base_load * scale
        net.sgen["p_mw"] = base_sgen * (1.5 - scale)
        net.line.at[line, "in_service"] = k not in (2, 3)
        assert solver.solve(net, recycle=k > 0)
        _assert_tables_equal(net)
    assert solver.counts["full"] == 2 and solver.counts["recycled"] == 3
