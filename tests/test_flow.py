"""Issue 11's regressions: exact output, verdicts that mean something, views that only render."""

from __future__ import annotations

import csv
import io
import json

import pytest

from compare.cases import load_text
from compare.cli import main
from compare.engine import Verdict, run_case, run_library
from compare.result import Status

THIRD = """
cases:
  - name: third
    expression: x / 3 + y * 0.1
    at: {x: 1, y: 0.7}
"""


@pytest.fixture
def write(tmp_path):
    def make(text: str) -> str:
        path = tmp_path / "c.yaml"
        path.write_text(text, encoding="utf-8")
        return str(path)
    return make


# -- exact output ------------------------------------------------------------------------------
def test_json_carries_every_digit_and_escapes_nothing_needlessly(write, capsys):
    assert main(["run", "--cases", write(THIRD), "--table", "gradients", "--format",
                 "json"]) == 0
    text = capsys.readouterr().out
    rows = json.loads(text)
    backprop = {r["variable"]: r for r in rows if r["method"] == "backprop"}
    assert backprop["x"]["gradient"] == 1 / 3          # 0.3333333333333333, not 0.3333333333
    assert backprop["y"]["gradient"] == 0.1
    assert "0.3333333333333333" in text
    assert "\\/" not in text and backprop["x"]["reference_exact"] == "1/3"


def test_csv_carries_every_digit(write, capsys):
    assert main(["run", "--cases", write(THIRD), "--table", "costs", "--format", "csv"]) == 0
    assert main(["run", "--cases", write(THIRD), "--table", "cases", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert main(["run", "--cases", write(THIRD), "--table", "gradients", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    x = next(r for r in rows if r["method"] == "naive" and r["variable"] == "x")
    assert float(x["gradient"]) == 1 / 3 and x["reference_exact"] == "1/3"
    assert "backprop" in out


def test_huge_exact_counts_survive_the_tables():
    """2^70 paths: naive's predicted count is exact in the table, not an int64 overflow."""
    steps = "\n".join(f"      s{k}: s{k - 1} * s{k - 1}" for k in range(1, 71))
    cases, errors = load_text(f"cases:\n  - name: squares\n    steps:\n      s0: x + 0\n"
                              f"{steps}\n    at: {{x: 1}}\n")
    assert not errors
    from compare.engine import Run
    from compare.limits import DEFAULT_LIMITS
    from compare.tables import case_table, cost_table, render

    run = Run([run_case(cases[0], ("naive", "backprop"))], [], ["naive", "backprop"],
              DEFAULT_LIMITS)
    costs = cost_table(run)
    naive_total = costs.loc[costs["method"] == "naive", "total"].iloc[0]
    assert naive_total > 2**70 and isinstance(naive_total, int)
    records = json.loads(render(costs, "json"))
    assert records[0]["total"] == naive_total
    assert case_table(run)["naive_total"].iloc[0] == naive_total


# -- verdicts ----------------------------------------------------------------------------------
def test_a_case_no_method_could_differentiate_is_unverified_not_a_pass(write, capsys):
    path = write("cases:\n  - name: huge\n    expression: x * 9**9**9\n    at: {x: 2}\n")
    assert main(["check", "--cases", path]) == 1
    out = capsys.readouterr().out
    assert "0 pass, 0 fail, 1 unverified, 0 rejected" in out
    assert "no method produced a gradient" in out
    assert main(["check", "--cases", path, "--allow-unverified"]) == 0


def test_one_method_and_no_expect_is_unverified_but_with_expect_it_passes(write, capsys):
    bare = write("cases:\n  - name: sq\n    expression: x*x\n    at: {x: 3}\n")
    assert main(["check", "--cases", bare, "--methods", "backprop"]) == 1
    assert "1 unverified" in capsys.readouterr().out
    expected = write("cases:\n  - name: sq\n    expression: x*x\n    at: {x: 3}\n"
                     "    expect: {gradient: {x: 6}}\n")
    assert main(["check", "--cases", expected, "--methods", "backprop"]) == 0
    assert "1 pass, 0 fail, 0 unverified" in capsys.readouterr().out


def test_verdict_and_status_vocabularies_are_enums():
    cases, _ = load_text("cases:\n  - name: t\n    expression: log(x)\n    at: {x: 0}\n")
    cr = run_case(cases[0])
    assert all(isinstance(r.status, Status) for r in cr.results.values())
    assert cr.results["backprop"].status == "domain" and isinstance(cr.verdict, Verdict)


# -- views only render -------------------------------------------------------------------------
def test_handouts_and_diagrams_render_from_the_recorded_trace(monkeypatch):
    """Once the engine has recorded a case, no view runs a forward pass or a sweep again."""
    from compare import cotangent, diagram, forward, handout

    cases, _ = load_text("cases:\n  - name: t\n    steps: {f1: x + y, f2: f1 * z}\n"
                         "    at: {x: 3, y: -4, z: 5}\n")
    cr = run_case(cases[0], record=True)
    assert [r.product for r in cr.trace.rows] == [5.0, -1.0, 5.0, 5.0]

    def forbidden(*args, **kwargs):
        raise AssertionError("a view recomputed")

    real_forward = forward.forward

    def other_points_only(graph, point):
        # The descent step evaluates f at the *new* point θ − α∇f: that is new information.
        assert dict(point) != cr.case.at, "a view re-ran the forward pass at the case's point"
        return real_forward(graph, point)

    monkeypatch.setattr(forward, "forward", forbidden)
    monkeypatch.setattr(handout, "forward", other_points_only)
    monkeypatch.setattr(cotangent, "sweep", forbidden)
    page, _ = handout.render(cr, "en")
    block = diagram.for_case_run(cr)
    assert "∂f/∂f1 = 5" in block and "−5" in page


def test_the_report_does_not_recompute_the_growth_study(tmp_path, write, monkeypatch):
    from compare import scale

    def forbidden(*args, **kwargs):
        raise AssertionError("report recomputed the growth study")

    monkeypatch.setattr(scale, "sweep", forbidden)
    monkeypatch.setattr(scale, "summary_page", forbidden)
    assert main(["report", "--cases", write(THIRD), "--out", str(tmp_path / "r")]) == 0
    index = (tmp_path / "r" / "README.md").read_text(encoding="utf-8")
    assert "scale/README.md" in index


def test_run_library_uses_the_same_answers_as_run_case():
    cases, _ = load_text("cases:\n  - name: a\n    expression: sin(x)*x\n    at: {x: 0.5}\n"
                         "  - name: b\n    expression: exp(x) + x\n    at: {x: 1}\n")
    from compare.cases import Library

    run = run_library(Library(cases), jobs=2)
    for cr in run.runs:
        alone = run_case(cr.case)
        for m in cr.results:
            assert cr.results[m].gradient == alone.results[m].gradient
            assert cr.results[m].status == alone.results[m].status
        assert cr.verdict is Verdict.PASS
