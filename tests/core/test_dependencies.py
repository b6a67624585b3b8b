"""Proximity coupling picks the nearest bus / access site on a hand-checked case."""

from __future__ import annotations

import pytest

from twin.region.assets import make_asset
from twin.region.builder import RegionBuildError, coupled_loads, map_dependencies


def test_nearest_bus_and_site_by_hand() -> None:
    assets = [
        make_asset("power/bus/A", "power", "bus", 0, 0, "city", capacity_unit="load_bus"),
        make_asset("power/bus/B", "power", "bus", 1000, 0, "city", capacity_unit="load_bus"),
        make_asset("power/bus/HV", "power", "bus", 600, 0, "city", capacity_unit="hv"),  # not a load bus
        make_asset("ict/site/S1", "ict", "site", 0, 500, "city", capacity_unit="access"),
        make_asset("ict/site/R1", "ict", "site", 900, 10, "city", capacity_unit="router"),
        make_asset("ict/site/S2", "ict", "site", 2000, 0, "city", capacity_unit="access", needs_power=True, p_mw=0.01),
        # pump at (700, 100): |A| = 707, |B| = 316, |HV| = 141 but HV takes no loads -> B.
        make_asset("water/pump/P1", "water", "pump", 700, 100, "city", needs_power=True, p_mw=0.2, needs_ict=True),
        # signal at (400, 300): |A| = 500, |B| = 671 -> A; site S1 at 223 vs S2 at 1649 -> S1.
        make_asset("traffic/signal/J1", "traffic", "signal", 400, 300, "city", needs_power=True, p_mw=0.002,
                   needs_ict=True),
    ]
    deps = {(d["consumer"], d["coupling"]): d["supplier"] for d in map_dependencies(assets)}
    assert deps == {
        ("ict/site/S2", "power->ict"): "power/bus/B",
        ("water/pump/P1", "power->water"): "power/bus/B",
        ("traffic/signal/J1", "power->traffic"): "power/bus/A",
        ("water/pump/P1", "ict->water"): "ict/site/S1",  # S1 at 806 m, S2 at 1304 m
        ("traffic/signal/J1", "ict->traffic"): "ict/site/S1",
    }
    loads = coupled_loads(assets, map_dependencies(assets))
    assert ("water/pump/P1", "power/bus/B", 0.2, True) in loads  # pumps are critical loads
    assert ("traffic/signal/J1", "power/bus/A", 0.002, False) in loads


def test_missing_supplier_is_an_error() -> None:
    assets = [make_asset("water/pump/P1", "water", "pump", 0, 0, "city", needs_power=True)]
    with pytest.raises(RegionBuildError, match="no power supplier"):
        map_dependencies(assets)
