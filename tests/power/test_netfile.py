"""The pickle beside a region's power.json (twin.models.power.netfile): the same net as
pandapower's from_json, never stale, and harmless when it cannot be written or is damaged."""

from __future__ import annotations

import pickle
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import pytest
from pandapower.toolbox import nets_equal

from twin.models.power.netfile import SUFFIX, read_net


@pytest.fixture
def net_file(tmp_path: Path) -> Path:
    path = tmp_path / "power.json"
    pp.to_json(pn.case14(), str(path))
    return path


def test_reads_what_from_json_reads_and_caches_it(net_file: Path) -> None:
    first = read_net(net_file)
    cache = net_file.with_name(net_file.name + SUFFIX)
    assert cache.is_file()
    second = read_net(net_file)  # from the pickle
    reference = pp.from_json(str(net_file))
    assert nets_equal(first, reference, check_only_results=False)
    assert nets_equal(second, reference, check_only_results=False)
    assert second is not first
    second.load.loc[0, "p_mw"] = 99.0  # each read is a fresh net
    assert read_net(net_file).load.at[0, "p_mw"] == reference.load.at[0, "p_mw"]


def test_an_edited_file_is_read_again(net_file: Path) -> None:
    read_net(net_file)
    net = pp.from_json(str(net_file))
    net.load.loc[0, "p_mw"] = 12.345
    pp.to_json(net, str(net_file))
    assert read_net(net_file).load.at[0, "p_mw"] == 12.345


def test_a_damaged_or_foreign_cache_is_replaced(net_file: Path) -> None:
    cache = net_file.with_name(net_file.name + SUFFIX)
    cache.write_bytes(b"not a pickle")
    assert len(read_net(net_file).bus) == 14
    cache.write_bytes(pickle.dumps((("other", "version"), "a stale net")))
    assert len(read_net(net_file).bus) == 14
    with cache.open("rb") as f:
        key, net = pickle.load(f)
    assert key != ("other", "version") and len(net.bus) == 14


def test_a_cache_that_cannot_be_written_only_costs_speed(net_file: Path) -> None:
    cache = net_file.with_name(net_file.name + SUFFIX)
    cache.mkdir()  # neither readable nor writable as a file
    assert nets_equal(read_net(net_file), pp.from_json(str(net_file)), check_only_results=False)
    assert cache.is_dir() and not list(net_file.parent.glob("*.tmp"))
