"""Fuzzing: arbitrary text as an expression and arbitrary YAML-ish documents never produce
anything but the toolkit's own errors (GradcompareError subclasses), within a time limit.

Whatever hypothesis generates, parsing either builds a graph or raises ParseError/LimitError;
loading either gives cases or located errors; the numeric methods give a status, never an
exception; every message is one printable line.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from datetime import timedelta

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compare.cases import load_text, read_number
from compare.errors import CaseError, GradcompareError, LimitError, ParseError
from compare.escape import md_cell, md_code, mermaid_label
from compare.limits import Limits
from compare.methods import METHODS
from compare.parser import parse
from compare.result import (DOMAIN, ERROR, NONDIFFERENTIABLE, NONFINITE, OK, OVER_BUDGET,
                            OVERFLOW)
from compare.yamlread import Node

# GRADCOMPARE_FUZZ_EXAMPLES=5000 fuzzes harder (the default keeps the suite fast).
EXAMPLES = int(os.environ.get("GRADCOMPARE_FUZZ_EXAMPLES", "150"))
FAST = settings(max_examples=EXAMPLES, deadline=timedelta(seconds=2),
                suppress_health_check=[HealthCheck.too_slow])
SMALL = Limits(max_expression_chars=2_000, max_nodes=2_000, naive_budget=20_000)


def assert_clean_message(err: GradcompareError) -> None:
    text = str(err)
    assert text and "\n" not in text and "Traceback" not in text
    assert text.isprintable(), repr(text)


def parse_or_error(text: str, limits: Limits = SMALL):
    try:
        return parse(text, limits)
    except (ParseError, LimitError) as err:
        assert_clean_message(err)
        return None


# -- expressions -----------------------------------------------------------------------------
@FAST
@given(st.text(max_size=300))
def test_any_text_parses_or_raises_our_error(text):
    parse_or_error(text)


TOKENS = ["x", "y", "z", "sin", "cos", "exp", "log", "sqrt", "relu", "abs", "max", "min",
          "tanh", "sigmoid", "pi", "e", "(", ")", ",", "+", "-", "*", "/", "**", "^", " ",
          "0", "1", "2.5", ".5", "3.", "1e3", "1e-999999", "9" * 45, "10", "\u0445", "__", "_x",
          "lambda", "import", "'", '"', ".", "[", "]", "=", ";", "\t", "\n", "\u202e", "#"]


@FAST
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
def test_expression_like_text_parses_or_raises_our_error(text):
    parse_or_error(text)


STATUSES = {OK, NONDIFFERENTIABLE, DOMAIN, OVERFLOW, NONFINITE, OVER_BUDGET, ERROR}
VALID = ["x", "y", "2", "0", "0.5", "pi"]
UNARY = ["sin", "cos", "exp", "log", "sqrt", "relu", "abs", "tanh", "sigmoid", "tan", "-"]
BINARY = ["+", "-", "*", "/", "**"]


def expressions():
    """Syntactically valid expressions, to exercise the methods past the parser."""
    def extend(inner):
        return st.one_of(
            st.tuples(st.sampled_from(UNARY), inner).map(
                lambda t: f"-({t[1]})" if t[0] == "-" else f"{t[0]}({t[1]})"),
            st.tuples(inner, st.sampled_from(BINARY), inner).map(
                lambda t: f"({t[0]}) {t[1]} ({t[2]})"),
            st.tuples(st.sampled_from(["max", "min"]), inner, inner).map(
                lambda t: f"{t[0]}({t[1]}, {t[2]})"))
    return st.recursive(st.sampled_from(VALID), extend, max_leaves=12)


@settings(max_examples=EXAMPLES, deadline=timedelta(seconds=2),
          suppress_health_check=[HealthCheck.too_slow])
@given(expressions(), st.sampled_from([0.0, 1.0, -1.0, 0.5, 1e-300, 700.0, -3.0]),
       st.sampled_from([0.0, 2.0, -0.5, 1e300]))
def test_numeric_methods_give_a_status_never_an_exception(text, x, y):
    graph = parse(text, SMALL)
    point = {name: (x if name == "x" else y) for name in graph.variables}
    for name in ("naive", "backprop"):
        result = METHODS[name](graph, point, list(graph.variables), SMALL)
        assert result.status in STATUSES
        if result.status == OK:
            assert result.value is not None and math.isfinite(result.value)
            assert all(g is not None and math.isfinite(g) for g in result.gradient.values())


# -- YAML documents --------------------------------------------------------------------------
def check_load(text: str) -> None:
    try:
        cases, errors = load_text(text, "fuzz.yaml", SMALL)
    except GradcompareError as err:  # pragma: no cover - load_text reports, never raises
        raise AssertionError(f"load_text raised {err!r}") from err
    for err in errors:
        assert isinstance(err, GradcompareError)
        assert err.file == "fuzz.yaml"
        assert_clean_message(err)
    for case in cases:
        assert case.at and all(math.isfinite(v) for v in case.at.values())
        assert set(case.wrt) <= set(case.at)


@FAST
@given(st.text(max_size=400))
def test_any_text_as_a_case_file(text):
    check_load(text)


FRAGMENTS = ["cases:", "- name: a", "  - name: b", "    expression: x*y", "expression: (x",
             "at: {x: 1, y: 2}", "at: {x: no}", "  at:", "    x: 2024-01-01", "    y: 1:30",
             "wrt: [x]", "wrt: x", "steps: {f: x, g: f*y}", "steps:", "  f: f", "title: |",
             "  text", "expect: {value: 1, gradient: {x: 1}}", "&a", "*a", "<<: *a",
             "!!python/object/apply:os.system ['true']", "!tag", "? [a]", ": 1", "---", "...",
             "\t", "{", "}", "[", "]", "- ", ": ", "'", '"', "#", "%YAML 1.1", "cases: []",
             "name: a", "name: a", "at: {x: .nan}", "at: {x: 010}", "learning_rate: 0",
             "tags: [a, [b]]", "\u202e", "\x00", "\ufeff"]


@FAST
@given(st.lists(st.tuples(st.sampled_from(["", " ", "  ", "   ", "    "]),
                          st.sampled_from(FRAGMENTS)), max_size=25))
def test_yaml_like_documents(lines):
    check_load("\n".join(indent + fragment for indent, fragment in lines))


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                    st.text(max_size=20), st.dates(), st.sampled_from(["x", "y", "x*y", "sin(x)"]))
keys = st.one_of(st.sampled_from(["cases", "name", "expression", "steps", "at", "wrt", "expect",
                                  "value", "gradient", "x", "y", "f", "title", "tags"]),
                 st.text(max_size=8))
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)), max_leaves=30)


@FAST
@given(documents, st.booleans())
def test_structured_documents(data, flow):
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)
    check_load(text)
    check_load(yaml.safe_dump({"cases": [data]}, default_flow_style=flow, allow_unicode=True))


@FAST
@given(st.fixed_dictionaries({
    "name": st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True),
    "expression": st.one_of(expressions(), st.text(max_size=30)),
    "at": st.dictionaries(st.sampled_from(["x", "y", "z"]),
                          st.one_of(st.floats(), st.integers(), st.text(max_size=5)),
                          max_size=3),
}))
def test_nearly_valid_cases(case):
    check_load(yaml.safe_dump({"cases": [case]}, allow_unicode=True))


# -- numbers and rendering -------------------------------------------------------------------
@FAST
@given(st.text(max_size=50), st.booleans())
def test_read_number_accepts_only_plain_ascii_decimals(text, plain):
    try:
        value = read_number(Node(text, 1, "scalar", plain=plain), "at.x")
    except CaseError as err:
        assert_clean_message(err)
        return
    assert plain and math.isfinite(value)
    assert re.fullmatch(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*", text, re.ASCII)


@FAST
@given(st.text(max_size=300))
def test_rendered_case_text_stays_in_its_cell(text):
    cell = md_cell(text)
    assert "\n" not in cell and "<" not in cell and not re.search(r"(?<!\\)\|", cell)
    assert not {unicodedata.category(ch) for ch in cell} & {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}
    code = md_code(text)
    assert "\n" not in code and "|" not in code
    fence = re.match("`+", code).group()
    assert fence not in code[len(fence):-len(fence)]
    assert not set(mermaid_label(text)) & set('"[]<>|`\n{}')


@FAST
@given(st.text(max_size=100), st.text(max_size=20))
def test_error_messages_are_always_one_printable_line(message, field):
    err = CaseError(message, file="f.yaml", line=3, case="c", field=field)
    text = str(err)
    assert text.isprintable()
    assert text.startswith("f.yaml:3: case 'c': ")
