"""The JSON Schema of the case format (compare/case-schema.json) stays in step with the loader.

Choice for numbers: yaml.safe_load (YAML 1.1) reads `1e-3` (exponent, no dot) as the string
'1e-3', while the loader reads it as 0.001.  The schema therefore accepts, where a number is
expected, a number or a string in exponent notation (and nothing else).  The schema is a
structural check for editors and CI; the loader is stricter about how numbers are spelled
(010, 1:30, .nan, quoted numbers), which safe_load hides from any schema.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from compare import cases
from compare.cases import load_text
from compare.parser import NAME_RULE

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = ROOT / "compare" / "case-schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
CASE = SCHEMA["$defs"]["case"]
BUNDLED = sorted(p for p in (ROOT / "cases").rglob("*") if p.suffix in (".yaml", ".yml"))


def _anchored(python_pattern: str) -> str:
    """A Python full-match pattern (ending in \\Z) as a JSON Schema pattern."""
    assert python_pattern.endswith("\\Z")
    return "^" + python_pattern[:-2] + "$"


def test_schema_is_valid_draft_2020_12():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_fields_match_the_loader():
    assert list(SCHEMA["properties"]) == list(cases.FILE_FIELDS)
    assert list(CASE["properties"]) == list(cases.CASE_FIELDS)
    assert list(CASE["properties"]["expect"]["properties"]) == list(cases.EXPECT_FIELDS)
    assert CASE["required"] == list(cases.REQUIRED_CASE_FIELDS)
    assert SCHEMA["required"] == ["cases"]
    assert SCHEMA["additionalProperties"] is False and CASE["additionalProperties"] is False
    assert CASE["properties"]["expect"]["additionalProperties"] is False


def test_name_patterns_match_the_loader():
    assert CASE["properties"]["name"]["pattern"] == _anchored(cases.CASE_NAME.pattern)
    variable = _anchored(NAME_RULE.pattern)
    assert SCHEMA["$defs"]["variable"]["pattern"] == variable
    for field in ("steps", "at"):
        assert CASE["properties"][field]["propertyNames"]["pattern"] == variable
    gradient = CASE["properties"]["expect"]["properties"]["gradient"]
    assert gradient["propertyNames"]["pattern"] == variable


@pytest.mark.parametrize("text", [
    "1e-3", "1E5", "-2.5e+3", ".5e1", "3.e2", "1e", "e3", "1.5", "3", "yes", "1_000e3",
    "0x1F", "1e-3x", " 1e3", "١e3", ".nan",
])
def test_numeric_strings_are_the_loaders_exponent_numbers(text):
    """A string passes the schema's number check iff the loader reads it as a number and
    YAML 1.1 would not (an exponent, so safe_load keeps it a string)."""
    import re

    pattern = SCHEMA["$defs"]["number"]["anyOf"][1]["pattern"]
    loader_number = bool(cases._NUMBER.match(text))
    assert bool(re.search(pattern, text)) == (loader_number and "e" in text.lower())


GOOD = """
title: demo
cases:
  - name: lecture-sum-times
    title: (x + y) * z
    source: lecture 3
    tags: [lecture]
    expression: (x + y) * z
    at: {x: 3, y: -4, z: 5}
    wrt: [x, y, z]
    expect: {value: -5, gradient: {x: 5, y: 5, z: -1}, rel_tol: 1e-9, abs_tol: 0}
  - name: steps-1
    steps: {f1: x + y, f2: f1 * 2}
    at: {x: 1e-3, y: 2.5}
    learning_rate: 0.1
    parameters: [x]
"""


def _errors(text: str) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(yaml.safe_load(text))]


def test_a_good_file_passes_both():
    assert _errors(GOOD) == []
    loaded, errors = load_text(GOOD, "good.yaml")
    assert errors == [] and len(loaded) == 2


@pytest.mark.parametrize("change", [
    ("name: lecture-sum-times", "name: Lecture"),            # name pattern
    ("name: steps-1", "nam: steps-1"),                       # unknown field, missing name
    ("    at: {x: 3, y: -4, z: 5}\n", ""),                   # missing at
    ("    expression: (x + y) * z\n", ""),                   # neither expression nor steps
    ("    steps:", "    expression: x\n    steps:"),          # both
    ("at: {x: 3,", "at: {x: yes,"),                          # boolean
    ("at: {x: 3,", "at: {x: 2024-01-01,"),                   # date
    ("at: {x: 3,", "at: {x: three,"),                        # text
    ("wrt: [x, y, z]", "wrt: []"),                           # empty wrt
    ("wrt: [x, y, z]", "wrt: [x, x]"),                       # repeated
    ("rel_tol: 1e-9", "rel_tol: -0.5"),                      # negative tolerance
    ("value: -5", "valu: -5"),                               # unknown expect field
    ("learning_rate: 0.1", "learning_rate: 0"),              # not positive
    ("parameters: [x]", "parameters: []"),                   # empty parameters
    ("parameters: [x]", "parameters: [x, x]"),               # repeated parameter
    ("tags: [lecture]", "tags: lecture"),                    # not a list
    ("title: demo", "titel: demo"),                          # unknown file field
])
def test_what_the_loader_refuses_the_schema_refuses(change):
    old, new = change
    text = GOOD.replace(old, new, 1)
    assert text != GOOD
    assert _errors(text), "the schema accepts it"
    loaded, errors = load_text(text, "bad.yaml")
    assert errors, "the loader accepts it"


def test_bundled_cases_exist_or_are_being_written():
    # The library is written by another engineer; while it is empty the next test skips.
    assert (ROOT / "cases").is_dir()


@pytest.mark.parametrize("path", BUNDLED, ids=[p.name for p in BUNDLED])
def test_bundled_case_file_validates(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in VALIDATOR.iter_errors(data)]
    assert not problems, problems
    loaded, errors = load_text(path.read_text(encoding="utf-8"), str(path))
    assert not errors, [str(e) for e in errors]


# -- docs/case-format.md stays in step too ---------------------------------------------------
DOC = (ROOT / "docs" / "case-format.md").read_text(encoding="utf-8")


def test_docs_limits_table_lists_every_limit_with_its_default():
    from compare.limits import Limits

    table = DOC.split("\n## Limits\n", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `(\w+)` \| ([\d,.]+) \|", table, flags=re.M))
    assert list(rows) == Limits.names()
    for name, shown in rows.items():
        assert float(shown.replace(",", "")) == getattr(Limits(), name), name
    ranges = dict(re.findall(r"^\| `(\w+)` \| [\d,.]+ \| ([^|]+) \|", table, flags=re.M))
    for name, shown in ranges.items():
        expected = Limits.range_text(name).replace("between ", "").replace(" and ", " to ")
        assert shown.strip() == expected, name


def test_docs_describe_every_field():
    for field in (*cases.FILE_FIELDS, *cases.CASE_FIELDS, *cases.EXPECT_FIELDS):
        assert f"| `{field}` |" in DOC, field
