"""Hostile and broken input (issue 6): nothing executes, nothing hangs, every error is clear,
other cases go on.

Every input below sits in a case file next to a good case.  For each one we assert the exact
error (kind and one-line message with file, line, case and field), that a marker file which the
input would create if anything evaluated it does not exist, that the good case beside it still
loads and runs, and that the real command line exits 2 without a traceback.  Then: numeric
trouble at the point as per-case statuses naming the node, big-but-valid inputs within their
limits, the symbolic time budget, limits from the command line, escaping of case text wherever
it is rendered, and atomic reports.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compare import files, isolation
from compare.cases import load_library, load_text
from compare.cli import main
from compare.engine import run_case
from compare.errors import CaseError, GradcompareError, LimitError, ParseError
from compare.escape import md_cell, md_code, mermaid_label
from compare.limits import Limits
from compare.parser import parse
from compare.result import TIMEOUT

from clirun import gc

ROOT = Path(__file__).resolve().parent.parent

GOOD = (" - name: {good}\n"
        "   expression: (x + y) * z\n"
        "   at: {x: 3, y: -4, z: 5}\n"
        "   expect: {value: -5, gradient: {x: 5, y: 5, z: -1}}\n")


def expr(text, at="{x: 1}"):
    return (" - name: bad\n   expression: |-\n     " + text.replace("\n", "\n     ")
            + f"\n   at: {at}\n")

def steps(pairs, at="{x: 1}"):
    body = "".join(f"     {k}: |-\n       {v}\n" for k, v in pairs)
    return f" - name: bad\n   steps:\n{body}   at: {at}\n"

HOSTILE = [
    # code in the expression: nothing is evaluated
    ("os-system", expr("__import__('os').system('touch {marker}')")),
    ("open-file", expr("open('{marker}', 'w').write('x')")),
    ("exec", expr("exec(\"open('{marker}','w')\")")),
    ("eval", expr("eval('1+1') * x")),
    ("lambda", expr("(lambda: open('{marker}', 'w'))()")),
    ("comprehension", expr("[open('{marker}','w') for _ in (1,)]")),
    ("generator-sum", expr("sum(open('{marker}','w') for i in x)")),
    ("dunder-class", expr("x.__class__.__base__.__subclasses__()")),
    ("dunder-name", expr("__builtins__ * x")),
    ("getattr", expr("getattr(x, '__globals__')")),
    ("walrus", expr("(y := open('{marker}','w'))")),
    ("conditional", expr("x if open('{marker}','w') else x")),
    ("fstring", expr("f'{{open(\"{marker}\",\"w\")}}'")),
    ("semicolon", expr("x; import os; os.system('touch {marker}')")),
    ("sympy-sympify-trick", expr("Symbol('x').__init__.__globals__")),
    ("step-code", steps([("f", "__import__('os').system('touch {marker}')")])),
    # YAML that a non-safe loader would turn into objects (CVE-2017-18342, -1747, -14343)
    ("yaml-apply", " - name: bad\n   expression: !!python/object/apply:os.system ['touch {marker}']\n   at: {x: 1}\n"),
    ("yaml-new", " - name: bad\n   expression: !!python/object/new:os.system ['touch {marker}']\n   at: {x: 1}\n"),
    ("yaml-name", " - name: bad\n   expression: !!python/name:os.system\n   at: {x: 1}\n"),
    ("yaml-open", " - name: bad\n   title: !!python/object/apply:builtins.open ['{marker}', 'w']\n   expression: x\n   at: {x: 1}\n"),
    ("yaml-fullloader-1747", " - name: bad\n   expression: !!python/object/new:tuple [!!python/object/new:map [!!python/name:eval , [\"open('{marker}','w')\"]]]\n   at: {x: 1}\n"),
    ("yaml-state-14343", " - name: bad\n   expression: !!python/object/new:str\n     args: []\n     state: !!python/tuple\n     - \"open('{marker}','w')\"\n     - !!python/object/new:staticmethod\n       args: [0]\n       state:\n         update: !!python/name:exec\n   at: {x: 1}\n"),
    ("yaml-tag-on-number", " - name: bad\n   expression: x\n   at: {x: !!float 1}\n"),
    ("billion-laughs", " - name: bad\n   expression: x\n   at: &a {x: 1}\n   expect: {gradient: *a}\n"),
    ("alias-expansion", " - name: bad\n   tags: [*lol, *lol, *lol]\n   expression: x\n   at: {x: 1}\n"),
    ("merge-key", " - name: bad\n   expression: x\n   at:\n     <<: {x: 1}\n"),
    ("duplicate-key", " - name: bad\n   expression: x\n   expression: __import__('os')\n   at: {x: 1}\n"),
    ("duplicate-case-name", " - name: {good}\n   expression: x\n   at: {x: 1}\n"),
    # size and depth: refused before any work
    ("100k-characters", expr("+".join(["x"] * 50_000))),
    ("300-nested-parentheses", expr("(" * 300 + "x" + ")" * 300)),
    ("300-nested-calls", expr("sin(" * 300 + "x" + ")" * 300)),
    ("50-digit-literal", expr("x * " + "9" * 50)),
    ("exponent-literal-hang", expr("x * 1e-999999999999")),
    ("huge-literal", expr("x * 1e999")),
    ("deep-yaml", " - name: bad\n   tags: " + "[" * 40 + "]" * 40 + "\n   expression: x\n   at: {x: 1}\n"),
    # Unicode look-alikes and invisible characters
    ("cyrillic-x", expr("\u0445 * 2", at="{x: 1}")),
    ("greek-omicron", expr("c\u03bfs(x)")),
    ("fullwidth-digit", expr("x * \uff12")),
    ("right-to-left-override", expr("x \u202e+ 1")),
    ("zero-width-space", expr("x\u200b+ 1")),
    ("no-break-space", expr("x\u00a0+ 1")),
    ("unicode-minus", expr("x \u2212 1")),
    # numbers YAML 1.1 would reinterpret
    ("boolean-no", " - name: bad\n   expression: x\n   at: {x: no}\n"),
    ("date", " - name: bad\n   expression: x\n   at: {x: 2024-03-01}\n"),
    ("octal", " - name: bad\n   expression: x\n   at: {x: 0777}\n"),
    ("sexagesimal", " - name: bad\n   expression: x\n   at: {x: 3:25:45}\n"),
    ("nan", " - name: bad\n   expression: x\n   at: {x: .NaN}\n"),
    ("infinity", " - name: bad\n   expression: x\n   at: {x: -.inf}\n"),
    ("arabic-digit", " - name: bad\n   expression: x\n   at: {x: \u0663}\n"),
    # broken structure
    ("case-is-text", " - __import__('os').system('touch {marker}')\n"),
    ("unknown-field", " - name: bad\n   expression: x\n   at: {x: 1}\n   exec: open('{marker}','w')\n"),
    ("step-uses-itself", steps([("f", "f * x")])),
    ("missing-variable", expr("x * y")),
]

EXPECTED = {
    'os-system': (ParseError, "demo.yaml:7: case 'bad': expression: unexpected character ''' (U+0027 APOSTROPHE) at column 12"),
    'open-file': (ParseError, "demo.yaml:7: case 'bad': expression: unexpected character ''' (U+0027 APOSTROPHE) at column 6"),
    'exec': (ParseError, 'demo.yaml:7: case \'bad\': expression: unexpected character \'"\' (U+0022 QUOTATION MARK) at column 6'),
    'eval': (ParseError, "demo.yaml:7: case 'bad': expression: unexpected character ''' (U+0027 APOSTROPHE) at column 6"),
    'lambda': (ParseError, "demo.yaml:7: case 'bad': expression: unexpected character ':' (U+003A COLON) at column 8"),
    'comprehension': (ParseError, "demo.yaml:7: case 'bad': expression: unexpected character '[' (U+005B LEFT SQUARE BRACKET) at column 1"),
    'generator-sum': (ParseError, "demo.yaml:7: case 'bad': expression: unexpected character ''' (U+0027 APOSTROPHE) at column 10"),
    'dunder-class': (ParseError, "demo.yaml:7: case 'bad': expression: unexpected character '.' (U+002E FULL STOP) at column 2"),
    'dunder-name': (ParseError, "demo.yaml:7: case 'bad': expression: name '__builtins__' at column 1 is not allowed; names start with a letter"),
    'getattr': (ParseError, "demo.yaml:7: case 'bad': expression: unexpected character ''' (U+0027 APOSTROPHE) at column 12"),
    'walrus': (ParseError, "demo.yaml:7: case 'bad': expression: unexpected character ':' (U+003A COLON) at column 4"),
    'conditional': (ParseError, "demo.yaml:7: case 'bad': expression: unexpected character ''' (U+0027 APOSTROPHE) at column 11"),
    'fstring': (ParseError, "demo.yaml:7: case 'bad': expression: unexpected character ''' (U+0027 APOSTROPHE) at column 2"),
    'semicolon': (ParseError, "demo.yaml:7: case 'bad': expression: unexpected character ';' (U+003B SEMICOLON) at column 2"),
    'sympy-sympify-trick': (ParseError, "demo.yaml:7: case 'bad': expression: unexpected character ''' (U+0027 APOSTROPHE) at column 8"),
    'step-code': (ParseError, "demo.yaml:8: case 'bad': steps.f: unexpected character ''' (U+0027 APOSTROPHE) at column 12"),
    'yaml-apply': (CaseError, "demo.yaml:7: case 'bad': expression: YAML tags (tag:yaml.org,2002:python/object/apply:os.system) are not supported in case files"),
    'yaml-new': (CaseError, "demo.yaml:7: case 'bad': expression: YAML tags (tag:yaml.org,2002:python/object/new:os.system) are not supported in case files"),
    'yaml-name': (CaseError, "demo.yaml:7: case 'bad': expression: YAML tags (tag:yaml.org,2002:python/name:os.system) are not supported in case files"),
    'yaml-open': (CaseError, "demo.yaml:7: case 'bad': title: YAML tags (tag:yaml.org,2002:python/object/apply:builtins.open) are not supported in case files"),
    'yaml-fullloader-1747': (CaseError, "demo.yaml:7: case 'bad': expression: YAML tags (tag:yaml.org,2002:python/object/new:tuple) are not supported in case files"),
    'yaml-state-14343': (CaseError, "demo.yaml:7: case 'bad': expression: YAML tags (tag:yaml.org,2002:python/object/new:str) are not supported in case files"),
    'yaml-tag-on-number': (CaseError, "demo.yaml:8: case 'bad': at.x: YAML tags (tag:yaml.org,2002:float) are not supported in case files"),
    'billion-laughs': (CaseError, "demo.yaml:8: case 'bad': at: YAML anchors (&name) are not supported in case files"),
    'alias-expansion': (CaseError, "demo.yaml:7: case 'bad': tags[2]: YAML aliases (*name) are not supported in case files"),
    'merge-key': (CaseError, "demo.yaml:9: case 'bad': at: merge keys (<<) are not supported in case files"),
    'duplicate-key': (CaseError, "demo.yaml:8: case 'bad': duplicate key 'expression' (first at line 7)"),
    'duplicate-case-name': (CaseError, "demo.yaml:6: case 'good': name: duplicate case name (first at demo.yaml:2)"),
    '100k-characters': (LimitError, "demo.yaml:7: case 'bad': expression: expression has 99999 characters; the limit is 20000"),
    '300-nested-parentheses': (LimitError, "demo.yaml:7: case 'bad': expression: nesting deeper than 100 at column 101"),
    '300-nested-calls': (LimitError, "demo.yaml:7: case 'bad': expression: nesting deeper than 100 at column 401"),
    '50-digit-literal': (LimitError, "demo.yaml:7: case 'bad': expression: number at column 5 has 50 characters; the limit is 40"),
    'exponent-literal-hang': (ParseError, "demo.yaml:7: case 'bad': expression: number 1e-999999999999 at column 5 is too small for a float"),
    'huge-literal': (ParseError, "demo.yaml:7: case 'bad': expression: number 1e999 at column 5 is too large for a float"),
    'deep-yaml': (CaseError, "demo.yaml:7: case 'bad': tags[0][0][0][0][0][0][0][0][0]: nesting deeper than 12 levels (max_yaml_depth)"),
    'cyrillic-x': (ParseError, "demo.yaml:7: case 'bad': expression: unexpected character 'х' (U+0445 CYRILLIC SMALL LETTER HA) at column 1; names are ASCII letters, digits and _ (a look-alike letter?)"),
    'greek-omicron': (ParseError, "demo.yaml:7: case 'bad': expression: unexpected character 'ο' (U+03BF GREEK SMALL LETTER OMICRON) at column 2; names are ASCII letters, digits and _ (a look-alike letter?)"),
    'fullwidth-digit': (ParseError, "demo.yaml:7: case 'bad': expression: unexpected character '２' (U+FF12 FULLWIDTH DIGIT TWO) at column 5; numbers are written with the ASCII digits 0-9"),
    'right-to-left-override': (ParseError, "demo.yaml:7: case 'bad': expression: unexpected character U+202E RIGHT-TO-LEFT OVERRIDE at column 3"),
    'zero-width-space': (ParseError, "demo.yaml:7: case 'bad': expression: unexpected character U+200B ZERO WIDTH SPACE at column 2"),
    'no-break-space': (ParseError, "demo.yaml:7: case 'bad': expression: unexpected character U+00A0 NO-BREAK SPACE at column 2"),
    'unicode-minus': (ParseError, "demo.yaml:7: case 'bad': expression: unexpected character '−' (U+2212 MINUS SIGN) at column 3; write '-' instead"),
    'boolean-no': (CaseError, "demo.yaml:8: case 'bad': at.x: expected a number, got boolean 'no'"),
    'date': (CaseError, "demo.yaml:8: case 'bad': at.x: expected a number, got date '2024-03-01'"),
    'octal': (CaseError, "demo.yaml:8: case 'bad': at.x: expected a number, got octal-looking '0777' (write it without leading zeros)"),
    'sexagesimal': (CaseError, "demo.yaml:8: case 'bad': at.x: expected a number, got sexagesimal (base 60) '3:25:45'"),
    'nan': (CaseError, "demo.yaml:8: case 'bad': at.x: expected a number, got non-finite '.NaN'"),
    'infinity': (CaseError, "demo.yaml:8: case 'bad': at.x: expected a number, got non-finite '-.inf'"),
    'arabic-digit': (CaseError, "demo.yaml:8: case 'bad': at.x: expected a number, got text '٣' (numbers are written with the ASCII digits 0-9)"),
    'case-is-text': (CaseError, "demo.yaml:6: case: expected a mapping, got '__import__('os').system('touch …"),
    'unknown-field': (CaseError, "demo.yaml:9: case 'bad': exec: unknown field 'exec' (did you mean 'expect'?)"),
    'step-uses-itself': (ParseError, "demo.yaml:8: case 'bad': steps.f: step 'f' uses itself; a step may use only the steps before it"),
    'missing-variable': (CaseError, "demo.yaml:9: case 'bad': at: no value for 'y'; every variable needs a finite number"),
}


def test_at_least_40_hostile_inputs():
    assert len(HOSTILE) >= 40
    assert [h[0] for h in HOSTILE] == list(EXPECTED)


def file_text(bad: str, marker: Path, good: str = "good") -> str:
    """The good case first (lines 2-5), then the hostile one (from line 6)."""
    return "cases:\n" + (GOOD + bad).replace("{marker}", str(marker)).replace("{good}", good)


def expected_message(name: str, file: str = "demo.yaml", good: str = "good") -> str:
    return EXPECTED[name][1].replace("demo.yaml", file).replace("'good'", f"'{good}'")


def matches(actual: str, expected: str) -> bool:
    if expected.endswith("…"):
        return actual.startswith(expected[:-1])
    return actual == expected


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "pwned-marker"
    yield path
    assert not path.exists(), "something from a case file was executed"


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("name, bad", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_input_is_refused_precisely_and_the_good_case_loads(name, bad, marker, in_tmp):
    Path("demo.yaml").write_text(file_text(bad, marker), encoding="utf-8")
    t0 = time.perf_counter()
    library = load_library("demo.yaml")
    assert time.perf_counter() - t0 < 5
    assert [c.name for c in library.cases] == ["good"]
    assert len(library.errors) == 1
    err = library.errors[0]
    assert type(err) is EXPECTED[name][0]
    assert matches(str(err), expected_message(name)), str(err)
    assert err.file == "demo.yaml" and err.line >= 6
    cr = run_case(library.cases[0], methods=("naive", "backprop"))  # SymPy: in the CLI tests
    assert cr.passed and cr.results["backprop"].gradient == {"x": 5.0, "y": 5.0, "z": -1.0}


@pytest.mark.parametrize("name, bad", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_check_command_exits_2_names_the_problem_and_runs_the_good_case(name, bad, marker,
                                                                        in_tmp, capsys):
    Path("demo.yaml").write_text(file_text(bad, marker), encoding="utf-8")
    code = main(["check", "--cases", "demo.yaml", "--methods", "naive,backprop"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in out + err
    assert "1 case checked: 1 pass, 0 fail, 0 unverified, 1 rejected" in out
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and matches(lines[0][len("error: "):], expected_message(name)), err


def test_real_cli_on_a_folder_of_every_hostile_file(tmp_path):
    """The real command line (in process, tests/clirun.py) over all the files at once: exit
    2, every problem named, no traceback, every good case checked with every method."""
    folder = tmp_path / "hostile"
    folder.mkdir()
    marker = tmp_path / "pwned-marker"
    for k, (name, bad) in enumerate(HOSTILE):
        (folder / f"{name}.yaml").write_text(file_text(bad, marker, good=f"good-{k}"),
                                             encoding="utf-8")
    proc = gc("check", "--cases", "hostile", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr + proc.stdout
    n = len(HOSTILE)
    assert f"{n} cases checked: {n} pass, 0 fail, 0 unverified, {n} rejected" in proc.stdout
    errors = [line[len("error: "):] for line in proc.stderr.splitlines()
              if line.startswith("error: ")]
    assert len(errors) == n
    for k, (name, _) in enumerate(HOSTILE):
        want = expected_message(name, file=f"hostile/{name}.yaml", good=f"good-{k}")
        assert any(matches(e, want) for e in errors), want
    assert not marker.exists()


def test_real_cli_refuses_a_whole_file_of_python_objects(tmp_path):
    marker = tmp_path / "pwned-marker"
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "a-good.yaml").write_text("cases:\n" + GOOD.replace("{good}", "good"))
    (lib / "evil.yaml").write_text(
        f"!!python/object/apply:os.system ['touch {marker}']\n")
    (lib / "evil2.yaml").write_text(
        f"cases: !!python/object/new:os.system ['touch {marker}']\n")
    proc = gc("run", "--cases", str(lib), "--format", "csv", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "evil.yaml:1: YAML tags (tag:yaml.org,2002:python/object/apply:os.system) are not " \
           "supported in case files" in proc.stderr
    assert "evil2.yaml:1: cases: YAML tags (tag:yaml.org,2002:python/object/new:os.system)" in \
           proc.stderr
    assert proc.stdout.splitlines()[1].startswith("good,")
    assert not marker.exists()


# -- files that are not case files -----------------------------------------------------------
def test_pipes_folders_links_and_binary_files_do_not_hang_or_crash(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "good.yaml").write_text("cases:\n" + GOOD.replace("{good}", "good"))
    os.mkfifo(lib / "pipe.yaml")                        # reading it would block forever
    os.symlink("/dev/zero", lib / "zero.yaml")          # endless
    os.symlink("/etc/passwd", lib / "passwd.yaml")      # outside the library
    os.symlink("loop.yaml", lib / "loop.yaml")          # a link loop
    (lib / "binary.yaml").write_bytes(bytes(range(256)) * 4)
    (lib / "huge.yaml").write_text("cases: []\n" + "#" * 2_000_000)
    (lib / "empty.yaml").write_text("")
    (lib / "nocases.yaml").write_text("title: only a title\n")
    proc = subprocess.run([sys.executable, "-m", "compare", "list", "--cases", "lib"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    err = proc.stderr
    assert "error: lib/pipe.yaml: not a regular file" in err
    assert "error: lib/zero.yaml: link leads outside the library (to /dev/zero)" in err
    assert "error: lib/passwd.yaml: link leads outside the library (to /etc/passwd)" in err
    assert "error: lib/loop.yaml: cannot read: Too many levels of symbolic links" in err
    assert "error: lib/binary.yaml:2: not UTF-8 text: byte 0x80 at offset 128" in err
    assert "error: lib/huge.yaml: file is 2,000,010 bytes; the limit is 1,000,000 " \
           "(max_file_bytes)" in err
    assert "error: lib/empty.yaml:1: the file is empty; expected a mapping with a 'cases' " \
           "list" in err
    assert "error: lib/nocases.yaml:1: no 'cases' list in this file" in err
    assert "1 case in 9 files, 8 rejected" in proc.stdout


# -- numeric trouble at the point: statuses, not errors --------------------------------------
def _run(expression: str, at: str, limits: Limits = Limits(),
         methods: tuple = ("naive", "backprop", "sympy")):
    cases, errors = load_text(f"cases:\n - name: t\n   expression: {expression}\n"
                              f"   at: {at}\n", "t.yaml", limits)
    assert errors == []
    return run_case(cases[0], methods, limits=limits)


@pytest.mark.parametrize("expression, at, status, node", [
    ("log(x) * y", "{x: 0, y: 2}", "domain", "log(x)"),
    ("sqrt(x) + y", "{x: -1, y: 1}", "domain", "sqrt(x)"),
    ("x / y", "{x: 0, y: 0}", "domain", "x / y"),
    ("exp(x) + 1", "{x: 1000}", "overflow", "exp(x)"),
    ("exp(exp(x))", "{x: 10}", "overflow", "exp(exp(x))"),
    ("x ** y", "{x: -8, y: 0.5}", "domain", "x ^ y"),
    ("relu(x) * y", "{x: 0, y: 3}", "nondifferentiable", "relu(x)"),
    ("abs(x - y)", "{x: 2, y: 2}", "nondifferentiable", "abs(x − y)"),
    ("max(x, y)", "{x: 1, y: 1}", "nondifferentiable", "max(x, y)"),
])
def test_numeric_trouble_is_a_status_naming_the_node(expression, at, status, node):
    cr = _run(expression, at)
    for method in ("naive", "backprop"):
        r = cr.results[method]
        assert (r.status, r.node) == (status, node), r.note
        assert r.note
    # SymPy has its own conventions at kinks (sign(0) = 0 is reported as ok).
    assert cr.results["sympy"].status in (status, "domain", "nondifferentiable", "ok")
    assert not any("error" in p for p in cr.problems)


def test_overflowing_gradient_is_overflow_in_every_method():
    cr = _run("log(x)", "{x: 1e-320}")
    assert cr.results["backprop"].value == pytest.approx(-736.8, rel=1e-3)
    for m in ("naive", "backprop", "sympy"):
        assert cr.results[m].status == "overflow", m
        assert "∂f/∂x overflows a float" in cr.results[m].note


def test_constant_exponents_sympy_would_expand_are_too_large():
    cr = _run("x * 9**9**9", "{x: 1}")
    assert cr.results["naive"].status == "overflow"
    assert cr.results["sympy"].status == "too_large"
    assert "max_constant_exponent" in cr.results["sympy"].note
    cr = _run("x ** (10**10)", "{x: 1}")
    assert cr.results["backprop"].status == "ok"
    assert cr.results["sympy"].status == "too_large" and cr.results["sympy"].node


def test_domain_status_shows_in_the_costs_table_and_check_still_passes(in_tmp, capsys):
    Path("t.yaml").write_text("cases:\n" + GOOD.replace("{good}", "good")
                              + " - name: log-zero\n   expression: log(x)\n   at: {x: 0}\n")
    assert main(["run", "--table", "costs", "--format", "csv", "--cases", "t.yaml"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("log-zero,")]
    assert [r.split(",")[1:3] for r in rows] == [["naive", "domain"], ["backprop", "domain"],
                                                 ["sympy", "domain"], ["forward", "domain"],
                                                 ["numeric", "domain"]]
    assert "log(x)" in rows[0]


# -- big but valid: bounded time, the right status -------------------------------------------
def test_40_chained_steps_backprop_answers_naive_is_over_budget_sympy_times_out():
    steps = "".join(f"     v{i}: sin(v{i - 1}) * cos(v{i - 1})\n" for i in range(1, 41))
    text = f"cases:\n - name: chain\n   steps:\n{steps}   at: {{v0: 0.5}}\n"
    # By default SymPy is not even started: written out as a tree the chain has ~2^41 nodes.
    cases, errors = load_text(text, "c.yaml")
    assert errors == []
    t0 = time.perf_counter()
    cr = run_case(cases[0])
    assert time.perf_counter() - t0 < 5
    assert cr.results["sympy"].status == "too_large"
    assert "written out as a tree" in cr.results["sympy"].note
    # With that limit raised, the time budget stops it.
    limits = Limits(sympy_seconds=1, sympy_max_tree=10**30)
    t0 = time.perf_counter()
    cr = run_case(cases[0], limits=limits)
    assert time.perf_counter() - t0 < 10
    assert cr.results["backprop"].status == "ok"
    assert cr.results["naive"].status == "over_budget" and cr.results["naive"].predicted
    assert cr.results["sympy"].status == TIMEOUT
    assert cr.results["sympy"].note == "SymPy did not finish within 1 s"


def test_symbolic_timeout_through_the_cli_is_bounded(in_tmp, capsys):
    steps = "".join(f"     v{i}: sin(v{i - 1}) * cos(v{i - 1})\n" for i in range(1, 41))
    Path("c.yaml").write_text(f"cases:\n - name: chain\n   steps:\n{steps}"
                              f"   at: {{v0: 0.5}}\n")
    t0 = time.perf_counter()
    code = main(["run", "--table", "costs", "--format", "csv", "--cases", "c.yaml",
                 "--limit", "sympy_seconds=1", "--limit", "sympy_max_tree=1e30"])
    assert time.perf_counter() - t0 < 10
    assert code == 0
    assert "chain,sympy,timeout" in capsys.readouterr().out


def test_an_expression_of_5000_terms():
    cr = _run("+".join(["x"] * 5000), "{x: 0.5}")
    assert cr.results["backprop"].gradient == {"x": 5000.0}
    assert cr.results["sympy"].gradient == {"x": 5000.0}
    # 5,000 paths of up to 5,000 edges: predicted exactly, not executed.
    assert cr.results["naive"].status == "over_budget" and cr.results["naive"].predicted
    distinct = " + ".join(f"{k}*x" for k in range(1, 5001))
    limits = Limits(max_expression_chars=100_000)
    cr = _run(distinct, "{x: 2}", limits, methods=("naive", "backprop"))
    assert cr.results["backprop"].gradient["x"] == 5000 * 5001 / 2
    # Only backprop answered and there is no `expect`: nothing was compared, so not a pass.
    assert cr.results["naive"].status == "over_budget" and cr.verdict == "unverified"


def test_100000_characters_are_refused_by_default_and_accepted_when_raised():
    text = "+".join(["x"] * 50_000)
    with pytest.raises(LimitError, match="expression has 99999 characters; the limit is 20000"):
        parse(text)
    cr = _run(text, "{x: 1}", Limits(max_expression_chars=200_000))
    assert cr.results["backprop"].gradient == {"x": 50_000.0}
    assert cr.results["sympy"].status == "too_large"      # above sympy_max_nodes


def test_long_unary_chains_and_deep_power_towers_stay_statuses():
    cr = _run("-" * 10_000 + "x", "{x: 2}")
    assert cr.results["backprop"].gradient == {"x": 1.0}
    t0 = time.perf_counter()
    cr = _run("x" + "**x" * 3000, "{x: 1}", Limits(sympy_seconds=5))
    assert time.perf_counter() - t0 < 20
    assert cr.results["backprop"].status == "ok"
    assert cr.results["sympy"].status in ("error", "timeout", "too_large")


def test_huge_point_values_cannot_exhaust_time_or_memory():
    t0 = time.perf_counter()
    cr = _run("x ** y", "{x: 2, y: 10000000000}", Limits(sympy_seconds=1))
    assert time.perf_counter() - t0 < 10
    assert cr.results["backprop"].status == "overflow"
    assert cr.results["sympy"].status in ("timeout", "error")


def test_graph_node_limit():
    with pytest.raises(LimitError, match="the graph has more than 50 nodes"):
        parse(" + ".join(f"{k}*x" for k in range(1, 60)), Limits(max_nodes=50))


# -- the time and memory budget of the symbolic method really interrupts ---------------------
def _spin(seconds: float) -> str:
    end = time.time() + seconds
    while time.time() < end:
        pass
    return "finished"


def _hog(megabytes: int) -> int:
    return len(bytearray(megabytes * 2**20))


def test_deadline_kills_the_child():
    t0 = time.perf_counter()
    assert isolation.call_with_deadline(_spin, (60,), 0.5) == (isolation.TIMEOUT, None)
    assert time.perf_counter() - t0 < 5
    assert isolation.call_with_deadline(_spin, (0,), 5) == (isolation.DONE, "finished")


def test_memory_cap_turns_a_runaway_allocation_into_an_answer():
    status, message = isolation.call_with_deadline(_hog, (400,), 30, memory_mb=100)
    assert status == isolation.CRASHED and message.startswith("MemoryError")
    assert isolation.call_with_deadline(_hog, (10,), 30, memory_mb=100) == (
        isolation.DONE, 10 * 2**20)


# -- limits from the command line ------------------------------------------------------------
@pytest.mark.parametrize("pair, message", [
    ("max_nodes=inf", "limit max_nodes: expected a finite number, got 'inf'"),
    ("max_nodes=1e400", "limit max_nodes: expected a finite number, got '1e400'"),
    ("sympy_seconds=nan", "limit sympy_seconds: expected a finite number, got 'nan'"),
    ("max_nodes=0.5", "limit max_nodes: expected a whole number, got '0.5'"),
    ("max_nodes=-1", "limit max_nodes: must be positive, got '-1'"),
    ("max_nodes=lots", "limit max_nodes: expected a number, got 'lots'"),
    ("max_nodez=5", "unknown limit 'max_nodez'; known: "),
    ("max_nodes", "--limit expects NAME=VALUE, got 'max_nodes'"),
])
def test_bad_limits_are_messages(pair, message, in_tmp, capsys):
    Path("t.yaml").write_text("cases:\n" + GOOD.replace("{good}", "good"))
    assert main(["check", "--cases", "t.yaml", "--limit", pair]) == 2
    err = capsys.readouterr().err
    assert f"gradcompare: {message}" in err and "Traceback" not in err


def test_every_limit_can_be_raised_from_the_command_line():
    wanted = {name: min(12345, high) for name, (_, high, _) in Limits.ranges().items()}
    limits = Limits().with_overrides({name: str(v) for name, v in wanted.items()})
    assert all(getattr(limits, name) == v for name, v in wanted.items())


# -- escaping wherever case text is rendered -------------------------------------------------
EVIL_TITLE = 'a | b\\n<script>alert(1)</script> \\u202e [x](javascript:1) `code` # h'


def _cells(row: str) -> int:
    return len(re.findall(r"(?<!\\)\|", row))


def test_case_text_changes_nothing_but_its_own_cell(in_tmp, capsys):
    Path("t.yaml").write_text(
        "cases:\n" + GOOD.replace("{good}", "good")
        + f' - name: evil\n   title: "{EVIL_TITLE}"\n   tags: ["|<b>"]\n'
          f'   description: "line1\\nline2 <img src=x onerror=alert(1)>"\n'
          f'   expression: x * 2\n   at: {{x: 1}}\n'
        + ' - name: bad\n   expression: x\n   at: {x: 1, "y|<i>\\u202e": 2}\n',
        encoding="utf-8")
    assert main(["list", "--cases", "t.yaml", "--format", "markdown"]) == 2
    out = capsys.readouterr().out
    table = [line for line in out.splitlines() if line.startswith("|")]
    assert len(table) == 4 and len({_cells(row) for row in table}) == 1
    assert "<script>" not in out and "\u202e" not in out

    assert main(["report", "--cases", "t.yaml", "--out", "rep"]) == 2   # case "bad" is rejected
    index = Path("rep/README.md").read_text(encoding="utf-8")
    page = Path("rep/cases/evil.md").read_text(encoding="utf-8")
    for text in (index, page):
        assert "<script>" not in text and "<img" not in text and "<i>" not in text
        assert "\u202e" not in text
        for block in re.findall(r"(?:^\|.*\n)+", text, flags=re.M):
            rows = block.strip().splitlines()
            assert len({_cells(row) for row in rows}) == 1, rows
    assert page.splitlines()[0].startswith("# a \\| b &lt;script&gt;")
    rejected = index.split("## Rejected input", 1)[1]
    assert "t.yaml" in rejected and "bad" in rejected and "U+202E" in rejected


@pytest.mark.parametrize("text", [
    "a|b", "x\ny", "<script>alert(1)</script>", "\u202eevil", "]]>", '"]; click A call x',
    "`a``b`", "\x1b[2J", "[link](http://x)", "&amp;", "#60;",
])
def test_escape_functions_keep_text_inside_its_cell(text):
    cell = md_cell(text)
    assert "\n" not in cell and not re.search(r"(?<!\\)\|", cell)
    assert "<" not in cell and "\u202e" not in cell and "\x1b" not in cell
    code = md_code(text)
    assert "|" not in code and "\n" not in code
    fence = re.match("`+", code).group()
    assert fence not in code[len(fence):-len(fence)]
    label = mermaid_label(text)
    assert not set(label) & set('"[]<>|`\n{}')


# -- reports are written atomically ----------------------------------------------------------
def test_an_interrupted_report_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "README.md"
    files.write_atomic(path, "old report\n")

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", crash)
    with pytest.raises(OSError):
        files.write_atomic(path, "new report\n")
    assert path.read_text() == "old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]


def test_report_of_a_library_with_only_rejected_cases(in_tmp, capsys):
    Path("t.yaml").write_text("cases:\n - name: bad\n   expression: x +\n   at: {x: 1}\n")
    assert main(["report", "--cases", "t.yaml", "--out", "rep"]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert "## Rejected input" in Path("rep/README.md").read_text()


# -- the error type ---------------------------------------------------------------------------
def test_every_expected_error_is_a_gradcompare_error():
    assert all(issubclass(kind, GradcompareError) for kind, _ in EXPECTED.values())
    assert {kind for kind, _ in EXPECTED.values()} == {CaseError, ParseError, LimitError}
