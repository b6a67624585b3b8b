"""The engine on graphs small enough to work out by hand."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from twin.randomness import stream
from twin.screening.engine import (
    InterdependentSystem,
    Network,
    ScreeningError,
    erdos_renyi_edges,
    many_to_one,
    one_to_one,
    random_removal,
)


def path_network(name: str, n: int, sources: list[int] | None = None) -> Network:
    """0 - 1 - ... - n-1."""
    u = np.arange(n - 1)
    mask = None
    if sources is not None:
        mask = np.zeros(n, dtype=bool)
        mask[sources] = True
    return Network.from_edges(name, n, u, u + 1, sources=mask)


def removal(n: int, nodes: list[int]) -> np.ndarray:
    r = np.zeros(n, dtype=bool)
    r[nodes] = True
    return r


def test_source_rule_on_a_path() -> None:
    """Source at 0 of a 5-path: removing node 2 leaves 0, 1 fed; 3, 4 cut off."""
    system = InterdependentSystem([path_network("P", 5, sources=[0])])
    out = system.cascade({"P": removal(5, [2])})
    assert out.functional["P"].tolist() == [True, True, False, False, False]
    assert out.iterations == 1
    assert out.surviving_fraction(system) == {"P": pytest.approx(0.4)}


def test_giant_component_rule() -> None:
    """No sources: removing node 2 of a 7-path keeps the larger side 3..6."""
    system = InterdependentSystem([path_network("R", 7)])
    out = system.cascade({"R": removal(7, [2])})
    assert out.functional["R"].tolist() == [False, False, False, True, True, True, True]
    # intact: everything functions, no iterations
    intact = system.cascade()
    assert intact.functional["R"].all() and intact.iterations == 0


def test_dependency_chain_needs_several_rounds() -> None:
    """A (source at 0) path 0-1-2-3; B path 0-1-2-3 without sources. B's node 3 needs A's
    node 3; A's node 1 needs B's node 3. Removing A's 3: B loses 3 (dependency, round 1),
    then A loses 1 (dependency, round 2), which cuts A's 2 off (connectivity, round 3)."""
    a = path_network("A", 4, sources=[0])
    b = path_network("B", 4)
    links = [many_to_one("B", [3], "A", [3]), many_to_one("A", [1], "B", [3])]
    system = InterdependentSystem([a, b], links)
    out = system.cascade({"A": removal(4, [3])})
    assert out.functional["A"].tolist() == [True, False, False, False]
    assert out.functional["B"].tolist() == [True, True, True, False]
    assert out.iterations == 3


def test_consumer_needs_all_its_suppliers() -> None:
    """Node 0 of C depends on nodes 0 and 1 of S (two link sets): losing either kills it."""
    s = Network.from_edges("S", 2, np.array([], dtype=int), np.array([], dtype=int),
                           sources=np.ones(2, dtype=bool))
    c = Network.from_edges("C", 1, np.array([], dtype=int), np.array([], dtype=int),
                           sources=np.ones(1, dtype=bool))
    system = InterdependentSystem([s, c], [many_to_one("C", [0], "S", [0]), many_to_one("C", [0], "S", [1])])
    assert system.cascade({"S": removal(2, [1])}).functional["C"].tolist() == [False]
    assert system.cascade().functional["C"].tolist() == [True]


def test_one_to_one_and_partial_coupling() -> None:
    links = one_to_one("A", "B", 10)
    assert [lk.kind for lk in links] == ["one-to-one", "one-to-one"]
    assert np.array_equal(links[0].consumer_idx, links[0].supplier_idx)
    part = one_to_one("A", "B", 1000, q=0.3, rng=stream(1, "test"))
    fwd, back = part
    assert len(fwd.consumer_idx) == 300 and fwd.kind == "partial"
    assert len(set(fwd.consumer_idx.tolist())) == 300 and len(set(fwd.supplier_idx.tolist())) == 300
    # no-feedback condition: the pairs depend on each other
    assert np.array_equal(back.consumer_idx, fwd.supplier_idx) and np.array_equal(back.supplier_idx, fwd.consumer_idx)
    with pytest.raises(ScreeningError, match="rng"):
        one_to_one("A", "B", 10, q=0.5)
    with pytest.raises(ScreeningError, match="q must"):
        one_to_one("A", "B", 10, q=1.5)


def test_from_networkx_keeps_labels_and_matches_networkx_components() -> None:
    g = nx.gnm_random_graph(300, 280, seed=4)
    g = nx.relabel_nodes(g, {i: f"n{i}" for i in g.nodes})
    net = Network.from_networkx("G", g, sources=["n0", "n1"])
    out = InterdependentSystem([net]).cascade()
    fed = set()
    for comp in nx.connected_components(g):
        if comp & {"n0", "n1"}:
            fed |= comp
    assert {net.node_ids[i] for i in np.flatnonzero(out.functional["G"])} == fed
    assert net.index_of("n5") == list(g.nodes).index("n5")
    with pytest.raises(ScreeningError, match="not in the graph"):
        Network.from_networkx("G", g, sources=["nope"])


def test_erdos_renyi_edges_statistics() -> None:
    n = 20_000
    u, v = erdos_renyi_edges(n, 4.0, stream(3, "test-er"))
    assert (u < v).all()
    assert len(np.unique(u * n + v)) == len(u)  # no duplicates
    deg = np.bincount(np.concatenate([u, v]), minlength=n)
    assert deg.mean() == pytest.approx(4.0, abs=0.1)
    assert deg.var() == pytest.approx(4.0, abs=0.3)  # Poisson: variance = mean
    # giant component of ER(k=4): S = 1 - exp(-4 S) -> 0.9802
    net = Network.from_edges("E", n, u, v)
    assert InterdependentSystem([net]).cascade().functional["E"].mean() == pytest.approx(0.9802, abs=0.01)


def test_random_removal_is_seeded() -> None:
    n = 2000
    rng = stream(9, "test-er")
    a = Network.from_edges("A", n, *erdos_renyi_edges(n, 4.0, rng))
    b = Network.from_edges("B", n, *erdos_renyi_edges(n, 4.0, rng))
    system = InterdependentSystem([a, b], one_to_one("A", "B", n))
    s1, i1 = random_removal(system, {"A": 0.8}, 4, seed=7)
    s2, i2 = random_removal(system, {"A": 0.8}, 4, seed=7)
    assert np.array_equal(s1, s2) and np.array_equal(i1, i2)
    assert np.array_equal(s1[:, 0], s1[:, 1])  # one-to-one both ways: mirror images
    u = stream(7, "screen", "realisation-2").random(n)
    out = system.cascade({"A": u >= 0.8})
    assert s1[2, 0] == out.surviving_fraction(system)["A"]


def test_errors() -> None:
    net = path_network("P", 3)
    with pytest.raises(ScreeningError, match="unique"):
        InterdependentSystem([net, net])
    with pytest.raises(ScreeningError, match="unknown network"):
        InterdependentSystem([net], [many_to_one("Q", [0], "P", [0])])
    with pytest.raises(ScreeningError, match="outside"):
        InterdependentSystem([net], [many_to_one("P", [5], "P", [0])])
    with pytest.raises(ScreeningError, match="length 3"):
        InterdependentSystem([net]).cascade({"P": np.zeros(4, dtype=bool)})
    with pytest.raises(ScreeningError, match="edge end"):
        Network.from_edges("X", 2, np.array([0]), np.array([2]))
