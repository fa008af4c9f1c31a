"""Large graphs: correctness, exact counts, no recursion, memory per node, no reference cycles.

No timing is asserted here (bench/engines.py measures speed); these tests check that the fast
paths give the same answers and counts as the definitions, at sizes where recursion, cycles or
per-node waste would show.
"""

import gc
import math
import tracemalloc

import pytest

from compare import families as F
from compare.counting import predict_naive
from compare.forward import _careful, forward, values_and_dependence
from compare.methods import backprop, naive, symbolic
from compare.parser import parse, parse_steps


def lattice_reference(levels: int, x: float) -> tuple[float, float]:
    """v ← v·v + v and its derivative, by a plain loop (the independent oracle)."""
    v, dv = x, 1.0
    for _ in range(levels):
        v, dv = v * v + v, dv * (2 * v + 1)
    return v, dv


def test_million_node_lattice():
    levels = 500_000
    inst = F.lattice(levels)
    assert len(inst.graph) == 2 * levels + 1
    r = backprop.differentiate(inst.graph, inst.point, inst.wrt)
    value, grad = lattice_reference(levels, inst.point["x"])
    assert r.status == "ok"
    assert r.value == value                     # same operations in the same order
    assert r.gradient["x"] == pytest.approx(grad, rel=1e-12)
    assert (r.counts.derivatives, r.counts.multiplications, r.counts.additions) == (
        4 * levels, 4 * levels, 2 * levels)
    assert forward(inst.graph, inst.point).operations == 2 * levels


def test_two_million_deep_chain_every_method():
    depth = 2_000_000
    inst = F.chain(depth)
    b = backprop.differentiate(inst.graph, inst.point, inst.wrt)
    v, dv = 0.5, 1.0
    for _ in range(depth):
        v, dv = math.sin(v), dv * math.cos(v)
    assert b.status == "ok" and b.value == v
    assert b.gradient["x"] == pytest.approx(dv, rel=1e-9)
    assert b.counts.total == 2 * depth
    n = naive.differentiate(inst.graph, inst.point, inst.wrt)
    assert n.status == "over_budget" and n.predicted and n.counts.total == 2 * depth
    s = symbolic.differentiate(inst.graph, inst.point, inst.wrt)
    assert s.status == "too_large"


def test_naive_executes_a_long_path_and_matches_prediction():
    inst = F.chain(200_000, "tanh")
    r = naive.differentiate(inst.graph, inst.point, inst.wrt)
    assert r.status == "ok" and not r.predicted
    assert r.counts == predict_naive(inst.graph, inst.wrt)[0]
    b = backprop.differentiate(inst.graph, inst.point, inst.wrt)
    assert r.gradient["x"] == b.gradient["x"]


@pytest.mark.parametrize("family,n", [("lattice", 6), ("logistic", 9), ("fanin", 300),
                                      ("mlp", 40), ("chain", 1000)])
def test_naive_prediction_equals_execution_on_families(family, n):
    inst = F.FAMILIES[family](n)
    r = naive.differentiate(inst.graph, inst.point, inst.wrt)
    assert r.status == "ok" and not r.predicted
    assert r.counts == predict_naive(inst.graph, inst.wrt)[0]


def test_large_mlp_gradient_matches_naive():
    inst = F.mlp(2_000, hidden=8)
    b = backprop.differentiate(inst.graph, inst.point, inst.wrt)
    assert b.status == "ok" and len(b.gradient) == 8 * 2_000 + 8 + 8 + 1
    small = F.mlp(30, hidden=3)
    bs = backprop.differentiate(small.graph, small.point, small.wrt)
    ns = naive.differentiate(small.graph, small.point, small.wrt)
    for v in small.wrt:
        assert bs.gradient[v] == pytest.approx(ns.gradient[v], rel=1e-12, abs=1e-15)


def test_memory_per_node():
    tracemalloc.start()
    try:
        inst = F.lattice(100_000)
        graph_bytes = tracemalloc.get_traced_memory()[0]
        backprop.differentiate(inst.graph, inst.point, inst.wrt)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    nodes = len(inst.graph)
    assert graph_bytes / nodes < 100
    assert peak / nodes < 250


def test_dropping_a_large_graph_leaves_no_cycles():
    gc.collect()
    inst = F.lattice(200_000)
    backprop.differentiate(inst.graph, inst.point, inst.wrt)
    del inst
    assert gc.collect() == 0     # nothing was left for the cycle collector


# -- the fast paths against the careful ones ------------------------------------------------
CASES = [
    ("(x + y) * z", {"x": 3, "y": -4, "z": 5}),
    ("relu(x) + abs(y) * max(x, y)", {"x": 0, "y": 0}),          # kinks
    ("relu(x) + x", {"x": 2}),
    ("log(x) + 1", {"x": -1}),                                      # domain
    ("exp(x) * 0", {"x": 1000}),                                    # overflow
    ("1 / (x - x)", {"x": 2}),
    ("sqrt(x) + x", {"x": 0}),
    ("sin(exp(x))", {"x": 800}),
    # The kink screen: a tie with no zero anywhere; a zero made inside; zeros with no kink;
    # the negative zero.
    ("max(x, y) + relu(x)", {"x": 1, "y": 1}),
    ("relu(x - y) + abs(x)", {"x": 1.5, "y": 1.5}),
    ("relu(x) * 0 + abs(y - 2)", {"x": -1, "y": 3}),
    ("relu(-x) + x", {"x": 0}),
]


@pytest.mark.parametrize("text,point", CASES)
def test_fast_forward_equals_careful(text, point):
    g = parse(text)
    live = g.live()
    careful = _careful(g, point, live)
    fast = values_and_dependence(g, point, ())

    def on_live(values):   # unused nodes are not part of the function
        return [v for v, alive in zip(values, live) if alive]

    if fast is None:
        assert not careful.ok or careful.values  # the careful loop decided
    else:
        assert careful.ok
        values, _, kinks = fast
        assert on_live(values) == on_live(careful.values)
        assert [i for i in kinks if live[i]] == careful.kinks
    fw = forward(g, point)
    assert (fw.status, on_live(fw.values), fw.operations, fw.kinks, fw.node) == (
        careful.status, on_live(careful.values), careful.operations, careful.kinks,
        careful.node)


@pytest.mark.parametrize("text,point", CASES)
def test_backprop_fused_path_agrees_with_forward(text, point):
    g = parse(text)
    wrt = list(g.variables)
    r = backprop.differentiate(g, point, wrt)
    fw = forward(g, point)
    if not fw.ok:
        assert r.status == fw.status and r.note == fw.message
    else:
        assert r.value == fw.value
        fused = values_and_dependence(g, point, wrt)
        if fused is not None:
            assert fused[2] == fw.kinks
            live_values = [v for v, alive in zip(fused[0], fw.live) if alive]
            assert live_values == [v for v, alive in zip(fw.values, fw.live) if alive]


def test_unused_steps_do_not_fail_or_count():
    # The step `bad` is not used by the output: its domain error and its kink are irrelevant.
    g = parse_steps({"bad": "log(x - 5) + relu(x - 2)", "f": "x * x"})
    fw = forward(g, {"x": 2})
    assert fw.ok and fw.kinks == [] and fw.operations == 1
    r = backprop.differentiate(g, {"x": 2}, ["x"])
    assert r.status == "ok" and r.gradient == {"x": 4.0}
    assert r.counts.total == 5   # x*x: two edges to x, two products, one addition
