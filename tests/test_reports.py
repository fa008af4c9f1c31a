"""The bundled library: every case checks out, and the committed reports are up to date."""

import os
from pathlib import Path

import pytest

from compare.cases import load_library
from compare.cli import main
from compare.counting import predict_naive
from compare.engine import run_library
from compare.limits import DEFAULT_LIMITS

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "cases"
REPORTS = ROOT / "reports"


@pytest.fixture(scope="module")
def bundled_run():
    """The bundled library, run once for this module (as `gradcompare report` runs it: file
    names relative to the repository, traces recorded for the diagrams and handouts)."""
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        library = load_library("cases")
        assert not library.errors, [str(e) for e in library.errors]
        # SymPy's time limits appear nowhere in the reports unless a case runs past them, which
        # on a loaded machine (parallel tests) it may: the comparison is of content, not speed.
        unhurried = DEFAULT_LIMITS.with_overrides({"sympy_seconds": "120",
                                                   "sympy_total_seconds": "3600"})
        return run_library(library, limits=unhurried, record=True)
    finally:
        os.chdir(here)


def test_bundled_library_is_large_and_valid(bundled_run):
    assert len(bundled_run.runs) >= 40
    assert all(cr.case.source for cr in bundled_run.runs)
    assert all(cr.case.expect is not None for cr in bundled_run.runs)


def test_check_passes_on_the_bundled_library(bundled_run):
    failed = {cr.case.name: cr.problems for cr in bundled_run.runs if not cr.passed}
    assert not failed


def test_naive_prediction_equals_execution_on_every_bundled_case(bundled_run):
    executed = 0
    for cr in bundled_run.runs:
        naive = cr.results["naive"]
        if naive.predicted or naive.counts is None:
            continue
        predicted, _ = predict_naive(cr.case.graph, cr.case.wrt)
        if naive.status in ("ok", "nondifferentiable"):
            assert naive.counts == predicted, cr.case.name
            executed += 1
    assert executed >= 30


def _files(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and p.name != "timings.md"}


def test_committed_reports_match_a_fresh_run(bundled_run, tmp_path, monkeypatch):
    """What `gradcompare report` writes (pages, plot, the lecture handouts; its library call,
    on the module's run of the bundled library) and `gradcompare scale --summary` (the growth
    page) are exactly the committed reports/, byte for byte."""
    from compare.report import write_report

    monkeypatch.chdir(ROOT)  # file names in reports are shown relative to the working folder
    _, skipped = write_report(bundled_run, tmp_path)
    assert not skipped
    assert main(["scale", "--summary", "--out", str(tmp_path)]) == 0
    fresh, committed = _files(tmp_path), _files(REPORTS)
    assert any(k.endswith(".svg") for k in fresh)  # the plots are compared too
    assert sum(k.startswith("handouts/") for k in fresh) >= 10
    assert "scale/README.md" in fresh
    assert sorted(fresh) == sorted(committed), \
        "reports/ has missing or extra pages: run `gradcompare report` and commit reports/"
    stale = [k for k in fresh if fresh[k] != committed[k]]
    assert not stale, f"stale reports (run `gradcompare report` and commit): {stale}"


def test_following_the_readme_leaves_the_committed_tree_alone(tmp_path, monkeypatch):
    """`gradcompare handout` (and --exercise) write under ./handouts, never into reports/."""
    monkeypatch.chdir(tmp_path)
    assert main(["handout", "--cases", str(CASES), "--tag", "lecture"]) == 0
    assert main(["handout", "--cases", str(CASES), "lecture-sigmoid-neuron", "--exercise"]) == 0
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
                     if p.is_file() and p.name != ".gradcompare-manifest.json")
    assert written and all(name.startswith("handouts/") for name in written), written
    assert any(name.endswith(".exercise.md") for name in written)
