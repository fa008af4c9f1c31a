"""The builder, the families and the cost-growth study: counts, growth, the table, the command."""

import math

import pytest

from compare import families as F
from compare.cli import build_parser
from compare.counting import predict_naive, shape
from compare.forward import forward
from compare.limits import Limits
from compare.methods import backprop, naive, symbolic
from compare.parser import parse, parse_steps
from compare.scale import (COLUMNS, growth, growth_summary_markdown, parse_sizes,
                           plot, sweep)

FAST = Limits(sympy_seconds=30.0)


def test_builder_matches_parser():
    b = F.Builder()
    s = b.add(b.var("x"), b.var("y"))
    g = b.finish(b.mul(s, b.var("z")))
    p = parse("(x + y) * z")
    assert (g.op, g.a, g.b) == (p.op, p.a, p.b)
    r = backprop.differentiate(g, {"x": 3, "y": -4, "z": 5}, ["x", "y", "z"])
    assert r.gradient == {"x": 5, "y": 5, "z": -1}


def test_builder_reuses_constants_and_checks_nodes():
    b = F.Builder()
    x = b.var("x")
    assert b.const(2.0) == b.const(2.0)
    with pytest.raises(IndexError):
        b.sin(x + 5)
    with pytest.raises(KeyError):
        b.op("frobnicate", x)
    assert b.op("tanh", x) == len(b.graph) - 1


def test_builder_makes_many_variables_at_once():
    b = F.Builder()
    x = b.var("x")
    nodes = b.vars(["w0", "x", "w1", "w0"])     # an existing name and a repeated one
    assert nodes == [1, x, 2, 1]
    assert b.graph.variables == {"x": 0, "w0": 1, "w1": 2}
    assert b.graph.var_name == {0: "x", 1: "w0", 2: "w1"}
    assert (b.graph.op, b.graph.a, b.graph.b) == ([0, 0, 0], [-1] * 3, [-1] * 3)
    assert b.vars([]) == [] and len(b.graph) == 3
    one_by_one = F.Builder()
    for name in ["x", "w0", "w1"]:
        one_by_one.var(name)
    assert (one_by_one.graph.op, one_by_one.graph.variables) == (b.graph.op, b.graph.variables)


def test_builder_with_hash_consing_shares():
    b = F.Builder(share=True)
    x = b.var("x")
    assert b.mul(x, x) == b.mul(x, x)


def test_logistic_family_is_the_parsed_logistic_map():
    steps = {"l1": "4*l0*(1 - l0)", "l2": "4*l1*(1 - l1)", "l3": "4*l2*(1 - l2)"}
    p = parse_steps(steps)
    inst = F.logistic(3)
    assert sorted(inst.graph.op) == sorted(p.op)
    mine = backprop.differentiate(inst.graph, inst.point, inst.wrt)
    parsed = backprop.differentiate(p, inst.point, inst.wrt)
    assert (mine.value, mine.gradient, mine.counts) == (parsed.value, parsed.gradient,
                                                        parsed.counts)
    assert predict_naive(inst.graph, inst.wrt) == predict_naive(p, inst.wrt)


@pytest.mark.parametrize("family", list(F.FAMILIES))
@pytest.mark.parametrize("n", [1, 2, 5])
def test_families_agree_with_sympy_and_prediction(family, n):
    inst = F.FAMILIES[family](n)
    g, point, wrt = inst.graph, inst.point, inst.wrt
    b = backprop.differentiate(g, point, wrt)
    nv = naive.differentiate(g, point, wrt)
    s = symbolic.differentiate(g, point, wrt, FAST)
    assert b.status == nv.status == s.status == "ok"
    for v in wrt:
        assert b.gradient[v] == pytest.approx(s.gradient[v], rel=1e-9, abs=1e-12)
        assert nv.gradient[v] == pytest.approx(s.gradient[v], rel=1e-9, abs=1e-12)
    assert predict_naive(g, wrt)[0] == nv.counts           # prediction == execution
    assert b.counts.derivatives == shape(g, wrt).relevant_edges


def test_exact_counts_per_family():
    # lattice: 3^n paths; backprop 10 operations per level (4 edges × 2 + 2 additions).
    for n in range(1, 8):
        g = F.lattice(n).graph
        counts, paths = predict_naive(g, ["x"])
        assert paths == {"x": 3**n}
        r = backprop.differentiate(g, {"x": -0.4}, ["x"])
        assert r.counts.total == 10 * n
        assert forward(g, {"x": -0.4}).operations == 2 * n
    # logistic: 2^n paths; backprop 9 per iteration; forward 3 per iteration.
    for n in range(1, 8):
        inst = F.logistic(n)
        assert predict_naive(inst.graph, inst.wrt)[1] == {"l0": 2**n}
        assert backprop.differentiate(inst.graph, inst.point, inst.wrt).counts.total == 9 * n
    # chain: one path of length n.
    inst = F.chain(50)
    assert predict_naive(inst.graph, ["x"])[0].total == 100
    assert backprop.differentiate(inst.graph, inst.point, ["x"]).counts.total == 100


def test_sweep_table_and_growth():
    df = sweep("lattice", range(1, 13), methods=["naive", "backprop"], memory=False)
    assert list(df.columns) == COLUMNS
    assert len(df) == 12 * 2
    nv = df[df.method == "naive"].set_index("n")
    assert not nv.loc[9, "predicted"] and nv.loc[10, "predicted"]   # budget 10^6
    assert nv.loc[10, "status"] == "over_budget" and nv.loc[9, "status"] == "ok"
    assert nv.loc[12, "additions"] == 3**12 - 1
    gr = growth(df).set_index("series")
    assert gr.loc["backprop operations", "difference_per_step"] == pytest.approx(10.0)
    assert 3.0 < gr.loc["naive operations", "ratio_per_step"] < 3.4
    assert gr.loc["backprop / forward operations", "last"] == pytest.approx(5.0)


def test_sweep_logistic_sympy_swell():
    df = sweep("logistic", range(4, 8), methods=["sympy", "backprop"], limits=FAST,
               memory=False)
    sy = df[df.method == "sympy"].set_index("n")
    raw = [int(sy.loc[n, "size_raw"]) for n in range(4, 8)]
    cse = [int(sy.loc[n, "size_cse"]) for n in range(4, 8)]
    ratios = [b / a for a, b in zip(raw, raw[1:])]
    assert all(2.2 <= r <= 3.0 for r in ratios), ratios
    assert all(b - a < 40 for a, b in zip(cse, cse[1:])), cse     # far from exponential
    bp = df[df.method == "backprop"]
    assert set(bp.operations / bp.forward_ops) == {3.0}


def test_sympy_skipped_after_timeout():
    df = sweep("lattice", [3, 40, 41], methods=["sympy"],
               limits=Limits(sympy_seconds=2.0, sympy_max_tree=10**30), memory=False)
    st = list(df.status)
    assert st[0] == "ok" and st[1] == "timeout" and st[2] == "skipped"


def test_memory_column_and_bad_input():
    df = sweep("chain", [100], methods=["backprop"])
    assert df.memory_bytes.iloc[0] > 0
    with pytest.raises(Exception, match="unknown family"):
        sweep("spiral", [1])
    with pytest.raises(Exception, match="unknown method"):
        sweep("chain", [1], methods=["guess"])


@pytest.mark.parametrize("text,sizes", [("1:4", [1, 2, 3, 4]), ("2:9:3", [2, 5, 8]),
                                        ("10,100", [10, 100]), ("7", [7])])
def test_parse_sizes(text, sizes):
    assert parse_sizes(text) == sizes


@pytest.mark.parametrize("text", ["0:3", "a:b", "1:2:3:4", "3:1:0", ""])
def test_parse_sizes_rejects(text):
    with pytest.raises(Exception):
        parse_sizes(text)


def test_growth_summary_is_deterministic():
    a = growth_summary_markdown(sizes=(1, 2, 3, 4))
    b = growth_summary_markdown(sizes=(1, 2, 3, 4))
    assert a == b
    assert "**lattice**" in a and "**logistic**" in a
    assert "| 4 | 8 | " in a            # lattice n = 4: 8 forward operations
    assert "s" not in a.split("|")[1]    # no timing column


def test_plot_svg_is_reproducible(tmp_path):
    df = sweep("lattice", range(9, 13), methods=["naive", "backprop"], memory=False)
    df["seconds"] = [1e-4 * (i + 1) for i in range(len(df))]   # fixed, for a byte comparison
    p1, p2 = tmp_path / "a.svg", tmp_path / "b.svg"
    plot(df, str(p1))
    plot(df, str(p2))
    assert p1.read_bytes() == p2.read_bytes()
    assert b"predicted" in p1.read_bytes()
    png = tmp_path / "c.png"
    plot(df, str(png))
    assert png.read_bytes()[:4] == b"\x89PNG"


def _parser():
    return build_parser()


def test_scale_command(tmp_path, capsys):
    plot_file = tmp_path / "chain.svg"
    args = _parser().parse_args(["scale", "chain", "--sizes", "1:5", "--methods",
                                 "naive,backprop", "--plot", str(plot_file)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "backprop / forward operations = 2.00" in out
    assert plot_file.exists()
    args = _parser().parse_args(["scale", "lattice", "--sizes", "1,2", "--format", "csv",
                                 "--methods", "backprop", "--no-memory"])
    assert args.func(args) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("family,n,nodes") and len(lines) == 3


def test_scale_command_help_and_errors(capsys):
    with pytest.raises(SystemExit):
        _parser().parse_args(["scale", "spiral"])
    with pytest.raises(SystemExit):
        _parser().parse_args(["scale", "--help"])
    assert "FAMILY" in capsys.readouterr().out
    args = _parser().parse_args(["scale", "chain", "--sizes", "x"])
    with pytest.raises(Exception, match="--sizes"):
        args.func(args)


def test_mlp_gradient_against_finite_differences():
    inst = F.mlp(6, hidden=3)
    r = backprop.differentiate(inst.graph, inst.point, inst.wrt)
    for name in ("w0_0", "b2", "v1", "c"):
        h = 1e-6
        up, down = dict(inst.point), dict(inst.point)
        up[name] += h
        down[name] -= h
        fd = (forward(inst.graph, up).value - forward(inst.graph, down).value) / (2 * h)
        assert r.gradient[name] == pytest.approx(fd, rel=1e-5, abs=1e-9)
    assert math.isfinite(r.value)
