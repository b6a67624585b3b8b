"""SimBench grids (region.grid = "simbench"): shipped data, the N-1 design, and a built
region's grid meeting it at peak (pandapower power flows, models/power/simbench.py)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from twin.models.power import simbench as sbm
from twin.models.power.build import PEAK_FACTOR, build_net, check_net
from twin.region.layout import make_layout
from twin.region.params import CONFIGURATIONS, params_for


def test_split_weighted_sums_exactly() -> None:
    assert sbm.split_weighted(10, [1.0, 1.0, 2.0]) == [3, 2, 5]  # 2.5, 2.5, 5 -> first remainder wins
    assert sum(sbm.split_weighted(977, [0.243, 0.43, 0.1, 0.37])) == 977
    assert sbm.split_weighted(0, [1.0, 2.0]) == [0, 0]


def test_grids_ship_in_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A grid loads with every socket refused and an empty cache: nothing is downloaded."""
    monkeypatch.setenv("TWIN_SIMBENCH_CACHE", str(tmp_path))
    sbm._raw.cache_clear()

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network used")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    net = sbm._raw("1-LV-rural1--0-sw")
    sbm._raw.cache_clear()
    assert len(net.bus) == 15 and len(net.trafo) == 1  # SimBench LV rural 1
    assert list(tmp_path.glob("simbench-*/1-LV-rural1--0-sw.json"))  # cached for the next process


def _peak(net: object) -> object:
    import copy

    trial = copy.deepcopy(net)
    household = trial.load["category"] == "household"
    trial.load.loc[household, ["p_mw", "q_mvar"]] *= PEAK_FACTOR
    trial.sgen["p_mw"] = 0.0  # the evening peak: no PV
    return trial


N1_CASES = [
    pytest.param(size, conf, id=f"{size}-{conf}",
                 marks=[] if (size, conf) in {("small", "centralised"), ("default", "centralised"),
                                              ("default", "decentralised")} else [pytest.mark.slow])
    for size in ("small", "default", "large") for conf in CONFIGURATIONS
]


@pytest.mark.parametrize(("size", "conf"), N1_CASES)
def test_generated_region_meets_n1_at_peak(size: str, conf: str) -> None:
    """Every loop-switch transfer (either feeder losing its head) and every HV/MV transformer
    outage of the built grid (SimBench, the default of every size) at peak load: branches
    within rating, MV buses >= 0.95 pu; the normal state at most 60 % loaded (each a
    pandapower power flow)."""
    layout = make_layout(size, 1)
    assert layout.grid == "simbench"
    net, assets = build_net(layout, params_for(conf), conf)
    check_net(net)
    peak = _peak(net)
    cases = sbm.transfer_cases(peak)
    areas = {a["id"].split("/")[2].split("-")[0] for a in assets if a["type"] == "line" and "/S" in a["id"]}
    assert len(areas) >= 1 + len(layout.towns)  # the city's urban grid(s) and a grid per town
    assert len(cases) >= 2 * len(areas)  # at least one loop switch per area, two sides each
    base, worst, vmin = sbm.check_n1(peak, 1.0, cases)
    assert base <= sbm.BASE_MAX_LOADING
    assert worst <= sbm.N1_MAX_LOADING
    assert vmin >= sbm.N1_MIN_VM_PU
    # loop switches are normally open line switches, and feeder-head breakers exist
    sw = net.switch
    assert (~sw.closed[sw.et == "l"]).sum() >= 4
    assert ((sw.type == "CB") & (sw.et == "l")).sum() >= 4


def test_default_region_on_simbench_keeps_households() -> None:
    """Every district's households are on the grid exactly once, at 1.2 kW mean each."""
    layout = make_layout("default", 1, "simbench")
    net, _ = build_net(layout, params_for("decentralised"), "decentralised")
    households = net.load[net.load.category == "household"]
    for d in layout.districts:
        mine = households[households.district == d.id]
        assert int(mine.customers.sum()) == d.households, d.id
        assert mine.p_mw.sum() == pytest.approx(d.households * 1.2e-3, abs=1e-4)


@pytest.mark.slow
def test_design_table_is_the_computation() -> None:
    """DESIGNS (used when building) equals design() computed afresh (~35 s)."""
    for code, expected in sbm.DESIGNS.items():
        sbm.design.cache_clear()
        assert sbm.design(code) == expected


def test_unknown_grid_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`region.grid` outside synthetic | simbench: exit 2 naming the file and the key."""
    from twin.cli import main

    path = tmp_path / "s.toml"
    path.write_text('[run]\nhours = 1\n[region]\nsize = "small"\ngrid = "meshed"\n')
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "region.grid" in err
    with pytest.raises(ValueError, match="unknown power grid"):
        make_layout("small", 1, "meshed")  # type: ignore[arg-type]
