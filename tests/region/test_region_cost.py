"""The cost proxy's road length (twin/region/builder.py ``road_length_m``) is what sumolib's
network model gives, read in one streaming pass."""

from __future__ import annotations

from pathlib import Path

import sumolib

from twin.models.traffic.build import build
from twin.region.builder import road_length_m
from twin.region.layout import make_layout
from twin.region.params import params_for


def test_road_length_equals_sumolib(tmp_path: Path) -> None:
    build(make_layout("small", 1), params_for("centralised"), "centralised", tmp_path)
    net_xml = tmp_path / "roads.net.xml"
    expected = sum(e.getLength() for e in sumolib.net.readNet(str(net_xml)).getEdges())
    assert expected > 10_000  # tens of km of roads: the file was read, not skipped
    assert road_length_m(net_xml) == expected
