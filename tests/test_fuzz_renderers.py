"""Fuzzing every renderer (issue 12): generated cases — kinks, domain edges, huge exact counts,
hostile text — go through the engine with its trace and then through every view a command
renders: the three tables in every text format, the report (index, case pages, plot,
diagrams, handouts) and the handouts in both languages, with and without blanks.  Nothing may
raise but the toolkit's own "no handout" error, and the terminal text carries no control
character.
"""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import sympy  # noqa: F401  # imported here, so the forked SymPy workers start warm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compare.cases import Library
from compare.engine import run_library
from compare.errors import GradcompareError
from compare.handout import render
from compare.limits import Limits
from compare.parser import parse_steps
from compare.report import write_report
from compare.tables import TABLES, render as render_table
from test_fuzz import expressions

# Each example writes a whole report with its plot: fewer than the parser fuzzers run.
EXAMPLES = int(os.environ.get("GRADCOMPARE_FUZZ_EXAMPLES", "150")) // 10
LIMITS = Limits(max_expression_chars=2_000, max_nodes=5_000, naive_budget=20_000,
                sympy_seconds=2, sympy_total_seconds=4)
HOSTILE_TEXT = st.sampled_from([
    "plain", "a | b", "\x1b]0;x\x07\x1b[2J", "\u202eevil", "---", "1986. year", "    code",
    "- list", "=1+2", "$x$ @bob", "<script>", "θ₀ · ∂f/∂x", "",
])


def _case(text: str, point: dict, title: str, description: str, tag: str):
    from compare.cases import Case
    from compare.parser import parse

    graph = parse(text, LIMITS)
    at = {name: point.get(name, 0.5) for name in graph.variables}
    return Case(name="fuzz", at=at, wrt=list(graph.variables), graph=graph, expression=text,
                title=title, description=description, tags=[tag], parameters=list(at),
                file="fuzz.yaml", line=1)


def _squares(n: int, x: float, title: str):
    """n steps s_k = s_{k-1} · s_{k-1}: 2^n paths, an exact count far beyond int64."""
    from compare.cases import Case

    steps = [("s0", "x + 0")] + [(f"s{k}", f"s{k - 1} * s{k - 1}") for k in range(1, n + 1)]
    graph = parse_steps(dict(steps), LIMITS)
    return Case(name="squares", at={"x": x}, wrt=["x"], graph=graph, steps=steps, title=title,
                tags=["lecture"], parameters=["x"], file="fuzz.yaml", line=1)


def _render_everything(cases) -> None:
    run = run_library(Library(cases), ("naive", "backprop", "sympy"), LIMITS, record=True,
                      jobs=1)
    assert not run.errors
    for name, build in TABLES.items():
        df = build(run)
        for fmt in ("table", "csv", "json", "markdown"):
            text = render_table(df, fmt)
            if fmt in ("table", "csv"):
                assert not any(ch in text for ch in "\x1b\x07\x00\u202e"), (name, fmt)
    with tempfile.TemporaryDirectory() as out:
        write_report(run, Path(out), handout_tag="lecture")
        assert (Path(out) / "README.md").is_file()
    for cr in run.runs:
        for lang in ("en", "vi"):
            for exercise in (False, True):
                try:
                    page, key = render(cr, lang, exercise)
                except GradcompareError as err:
                    assert "no handout" in str(err)
                    continue
                assert page and (key is not None) == exercise


FUZZ = settings(max_examples=EXAMPLES, deadline=timedelta(seconds=30),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(expressions(),
       st.sampled_from([0.0, 1.0, -1.0, 0.5, 1e-300, 700.0, -3.0]),
       st.sampled_from([0.0, 2.0, -0.5, 1e300, 0.5]),
       HOSTILE_TEXT, HOSTILE_TEXT, st.sampled_from(["lecture", "other"]))
def test_every_view_renders_any_case_at_kinks_and_domain_edges(text, x, y, title, description,
                                                              tag):
    _render_everything([_case(text, {"x": x, "y": y}, title, description, tag)])


@settings(max_examples=max(EXAMPLES // 5, 5), deadline=timedelta(seconds=60),
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=60, max_value=400), st.sampled_from([1.0, 0.0, -1.0, 1.0001]),
       HOSTILE_TEXT)
def test_every_view_renders_huge_exact_counts(n, x, title):
    _render_everything([_squares(n, x, title)])
