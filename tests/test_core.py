"""The lecture's numbers and the counting definitions, pinned."""

import pytest

import compare
from compare.counting import predict_naive, shape
from compare.methods import METHODS, backprop, naive, symbolic
from compare.parser import parse, parse_steps

LECTURE = {"x": 3, "y": -4, "z": 5}
SIGMOID = {"theta0": -3, "theta1": 3, "x": 1}


@pytest.mark.parametrize("graph", [parse("(x + y) * z"),
                                   parse_steps({"f1": "x + y", "f2": "f1 * z"})])
def test_lecture_example_exact(graph):
    wrt = ["x", "y", "z"]
    n = naive.differentiate(graph, LECTURE, wrt)
    b = backprop.differentiate(graph, LECTURE, wrt)
    s = symbolic.differentiate(graph, LECTURE, wrt, isolate=False)
    for r in (n, b, s):
        assert r.value == -5
        assert r.gradient == {"x": 5, "y": 5, "z": -1}
        assert r.status == "ok"
    assert (n.counts.derivatives, n.counts.multiplications, n.counts.additions) == (5, 5, 0)
    assert (b.counts.derivatives, b.counts.multiplications, b.counts.additions) == (4, 4, 0)
    assert s.details["exact"] == {"x": "5", "y": "5", "z": "-1"}


def test_lecture_steps_keep_node_names():
    g = parse_steps({"f1": "x + y", "f2": "f1 * z"})
    assert g.name(g.output) == "f2"
    assert sorted(g.labels.values()) == ["f1", "f2"]


@pytest.mark.parametrize("text", ["1/(1 + e^-(theta0 + theta1*x))",
                                  "1/(1 + exp(-(theta0 + theta1*x)))",
                                  "sigmoid(theta0 + theta1*x)"])
def test_sigmoid_exercise(text):
    g = parse(text)
    wrt = ["theta0", "theta1", "x"]
    s = symbolic.differentiate(g, SIGMOID, wrt, isolate=False)
    assert s.details["exact"] == {"theta0": "1/4", "theta1": "1/4", "x": "3/4"}
    assert s.details["value_exact"] == "1/2"
    for method in (naive, backprop):
        r = method.differentiate(g, SIGMOID, wrt)
        assert r.value == pytest.approx(0.5, rel=1e-15)
        assert r.gradient["theta0"] == pytest.approx(0.25, rel=1e-15)
        assert r.gradient["theta1"] == pytest.approx(0.25, rel=1e-15)
        assert r.gradient["x"] == pytest.approx(0.75, rel=1e-15)


def test_backprop_counts_shared_node():
    # (a + b) * (b + 1): b has two parents, so backprop adds once at b.
    g = parse("(a + b) * (b + 1)")
    r = backprop.differentiate(g, {"a": 2, "b": 1}, ["a", "b"])
    assert r.gradient == {"a": 2, "b": 5}
    # relevant edges: mul->(a+b), mul->(b+1), (a+b)->a, (a+b)->b, (b+1)->b  = 5
    assert (r.counts.derivatives, r.counts.multiplications, r.counts.additions) == (5, 5, 1)
    n = naive.differentiate(g, {"a": 2, "b": 1}, ["a", "b"])
    # a: one path of length 2; b: two paths of length 2 -> 6 derivatives, 1 addition
    assert (n.counts.derivatives, n.counts.multiplications, n.counts.additions) == (6, 6, 1)


def test_reused_node_counts_each_edge():
    g = parse("a + a")
    b = backprop.differentiate(g, {"a": 3}, ["a"])
    n = naive.differentiate(g, {"a": 3}, ["a"])
    assert b.gradient == n.gradient == {"a": 2}
    assert (b.counts.derivatives, b.counts.additions) == (2, 1)
    assert (n.counts.derivatives, n.counts.additions) == (2, 1)


def test_hash_consing_shares_subexpressions():
    g = parse("sin(x*x) + cos(x*x)")
    assert g.op.count(g.op[g.a[g.a[g.output]]]) == 1  # one x*x node
    assert len(g) == 5  # x, x*x, sin, cos, +


@pytest.mark.parametrize("text", ["(x + y) * z", "(a + b) * (b + 1)", "a + a", "x",
                                  "sin(x*x) + cos(x*x)", "x*y*x*y + x"])
def test_naive_prediction_equals_execution(text):
    g = parse(text)
    wrt = list(g.variables)
    point = {v: 0.5 + i for i, v in enumerate(wrt)}
    predicted, _ = predict_naive(g, wrt)
    executed = naive.differentiate(g, point, wrt).counts
    assert predicted == executed


def test_naive_over_budget_reports_prediction():
    steps = {"l1": "4*l0*(1 - l0)"}
    for k in range(2, 31):
        steps[f"l{k}"] = f"4*l{k-1}*(1 - l{k-1})"
    g = parse_steps(steps)
    r = naive.differentiate(g, {"l0": 0.3}, ["l0"])
    assert r.status == "over_budget" and r.predicted
    assert r.counts.additions == 2**30 - 1
    b = backprop.differentiate(g, {"l0": 0.3}, ["l0"])
    assert b.counts.derivatives == shape(g, ["l0"]).relevant_edges


def test_public_api_differentiate():
    r = compare.differentiate("(x + y) * z", "naive", at=LECTURE)
    assert r.gradient == {"x": 5, "y": 5, "z": -1}
    with pytest.raises(compare.GradcompareError):
        compare.differentiate("(x + y) * z", "fancy", at=LECTURE)
    assert set(METHODS) == {"naive", "backprop", "sympy"}
