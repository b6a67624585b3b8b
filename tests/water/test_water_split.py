"""Splitting every pipe for leaks (``network._split_pipes``) writes exactly the INP that
``wntr.morph.split_pipe`` on every pipe writes: same junctions, elevations, coordinates,
pipes, lengths, vertices and check valves; only faster (no name scan per pipe)."""

from __future__ import annotations

import logging
import shutil
import warnings
from pathlib import Path

import pytest
import wntr

from twin.models.water.importer import shipped_inp
from twin.models.water.network import SPLIT_HALF, SPLIT_NODE, InpOptionError, _split_pipes
from twin.models.water.testing import make_test_region


def _reference(src: Path, out: Path) -> dict[str, tuple[str, str]]:
    """The split done by wntr's own ``split_pipe``, pipe by pipe, written in LPS."""
    wn = wntr.network.WaterNetworkModel(str(src))
    split = {}
    logging.getLogger("wntr.morph.link").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for pipe in list(wn.pipe_name_list):
            node, half = pipe + SPLIT_NODE, pipe + SPLIT_HALF
            wntr.morph.split_pipe(wn, pipe, half, node, split_at_point=0.5, return_copy=False)
            split[pipe] = (node, half)
    wntr.network.write_inpfile(wn, str(out), units="LPS", version=2.2)
    return split


def _with_vertices(src: Path, out: Path) -> Path:
    """``src`` with bends in some pipes (one, two and three vertices) and a vertex on the
    start node's point, to exercise the vertex rules."""
    wn = wntr.network.WaterNetworkModel(str(src))
    for k, name in enumerate(wn.pipe_name_list[:12]):
        pipe = wn.get_link(name)
        (x0, y0), (x1, y1) = pipe.start_node.coordinates, pipe.end_node.coordinates
        n = k % 3 + 1
        pipe.vertices = [(x0 + (x1 - x0) * i / (n + 1) + 7.0 * i, y0 + (y1 - y0) * i / (n + 1) - 3.0)
                         for i in range(1, n + 1)]
        if k == 5:
            pipe.vertices = [(x0, y0), *pipe.vertices]
    wntr.network.write_inpfile(wn, str(out), version=2.2)
    return out


def _body(inp: Path) -> list[str]:
    """An INP's lines but the header's file name and time of writing."""
    return [line for line in inp.read_text().splitlines()
            if not line.startswith(("; Filename:", "; Created:"))]


def _same_split(src: Path, tmp_path: Path) -> None:
    ours, ref = tmp_path / "ours.inp", tmp_path / "ref.inp"
    shutil.copyfile(src, ours)
    split = _split_pipes(ours)
    assert split == _reference(src, ref)
    assert _body(ours) == _body(ref)
    wn = wntr.network.WaterNetworkModel(str(ours))
    assert len(wn.pipe_name_list) == 2 * len(split)


@pytest.mark.parametrize("name", ["Net3", "Net1"])
def test_split_equals_wntr_on_shipped_networks(name: str, tmp_path: Path) -> None:
    _same_split(shipped_inp(name), tmp_path)


def test_split_equals_wntr_with_vertices(tmp_path: Path) -> None:
    _same_split(_with_vertices(shipped_inp("Net3"), tmp_path / "bent.inp"), tmp_path)


def test_split_equals_wntr_on_a_generated_region(tmp_path: Path) -> None:
    region = make_test_region(tmp_path / "region", "small", "decentralised")
    _same_split(region / "water.inp", tmp_path)


def test_split_refuses_a_name_already_taken(tmp_path: Path) -> None:
    wn = wntr.network.WaterNetworkModel(str(shipped_inp("Net1")))
    pipe = wn.pipe_name_list[0]
    wn.add_junction(pipe + SPLIT_NODE, coordinates=(0.0, 0.0))
    inp = tmp_path / "taken.inp"
    wntr.network.write_inpfile(wn, str(inp), version=2.2)
    with pytest.raises(InpOptionError, match="cannot split pipe"):
        _split_pipes(inp)
