"""The command line through its real entry points: exit codes, output, help on every command."""

import subprocess
from pathlib import Path
import sys

import pytest

from compare.cli import build_parser, main

GOOD = """
title: demo
cases:
  - name: lecture-sum-times
    title: "(x + y) · z"
    source: lecture
    tags: [lecture]
    expression: (x + y) * z
    at: {x: 3, y: -4, z: 5}
    expect: {value: -5, gradient: {x: 5, y: 5, z: -1}}
  - name: square
    expression: x*x
    at: {x: 3}
    expect: {gradient: {x: 6}}
"""

WRONG = GOOD.replace("gradient: {x: 6}", "gradient: {x: 7}")
INVALID = GOOD + """
  - name: ce-loss
    expression: x + 1
    at: {x: no}
"""


@pytest.fixture
def library(tmp_path):
    def make(text: str) -> str:
        path = tmp_path / "demo.yaml"
        path.write_text(text)
        return str(path)
    return make


def test_check_passes_on_good_library(library, capsys):
    assert main(["check", "--cases", library(GOOD)]) == 0
    assert "2 cases checked: 2 pass, 0 fail, 0 unverified, 0 rejected" in capsys.readouterr().out


def test_check_fails_with_a_table_of_what_failed(library, capsys):
    assert main(["check", "--cases", library(WRONG)]) == 1
    out = capsys.readouterr().out
    assert "square" in out and "expected 7" in out
    assert "lecture-sum-times" not in out.split("cases checked")[0]


def test_check_invalid_input_exits_2_and_other_cases_still_run(library, capsys):
    assert main(["check", "--cases", library(INVALID)]) == 2
    captured = capsys.readouterr()
    assert "case 'ce-loss': at.x: expected a number, got boolean 'no'" in captured.err
    assert ":18: case 'ce-loss'" in captured.err
    assert "2 cases checked: 2 pass, 0 fail, 0 unverified, 1 rejected" in captured.out
    assert "Traceback" not in captured.err


def test_run_formats(library, capsys):
    path = library(GOOD)
    assert main(["run", "--cases", path, "--table", "gradients", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0]
    assert header.startswith("case,method,variable,gradient,reference")
    assert len(out.strip().splitlines()) == 1 + 5 * (3 + 1)   # methods x variables
    assert main(["run", "--cases", path, "--table", "costs", "--format", "json"]) == 0
    import json
    rows = json.loads(capsys.readouterr().out)
    lecture = {r["method"]: r for r in rows if r["case"] == "lecture-sum-times"}
    assert lecture["naive"]["total"] == 10 and lecture["backprop"]["total"] == 8


def test_case_selection_and_unknown_case(library, capsys):
    path = library(GOOD)
    assert main(["list", "--cases", path, "--case", "square"]) == 0
    out = capsys.readouterr().out
    assert "square" in out and "lecture-sum-times" not in out
    assert main(["check", "--cases", path, "--case", "squares"]) == 2
    assert "no case named 'squares'; did you mean square?" in capsys.readouterr().err


def test_limit_override_and_bad_limit(library, capsys):
    path = library(GOOD)
    assert main(["check", "--cases", path, "--limit", "naive_budget=5"]) == 0
    assert main(["check", "--cases", path, "--limit", "speed=5"]) == 2
    assert "unknown limit 'speed'" in capsys.readouterr().err


def test_missing_path_is_a_clear_error(tmp_path, capsys):
    assert main(["check", "--cases", str(tmp_path / "nope")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_report_writes_index_and_pages(library, tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["report", "--cases", library(INVALID), "--out", str(out)]) == 2  # written, but invalid input is reported
    index = (out / "README.md").read_text()
    assert "[lecture-sum-times](cases/lecture-sum-times.md)" in index
    assert "## Rejected input" in index and "ce-loss" in index
    assert (out / "cases" / "square.md").exists()
    assert (out / "costs.svg").read_bytes().startswith(b"<?xml")


def every_subcommand():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return sorted(sub.choices)


@pytest.mark.parametrize("command", every_subcommand())
def test_every_command_has_help_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "Example" in out and "gradcompare " + command in out


def test_real_entry_points(library):
    path = library(INVALID)
    for argv in (["gradcompare"], [sys.executable, "-m", "compare"]):
        proc = subprocess.run(argv + ["check", "--cases", path], capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "expected a number, got boolean 'no'" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_check_of_nothing_does_not_pass(tmp_path, capsys):
    from compare.cli import main

    assert main(["check", "--tag", "no-such-tag"]) == 2
    assert "no cases selected by --tag no-such-tag" in capsys.readouterr().err
    empty = tmp_path / "empty.yaml"
    empty.write_text("cases: []\n")
    assert main(["check", "--cases", str(empty)]) == 2


def test_report_exits_2_when_a_case_is_rejected(tmp_path, capsys):
    from compare.cli import main

    f = tmp_path / "t.yaml"
    f.write_text("cases:\n - name: good\n   expression: x*x\n   at: {x: 2}\n"
                 " - name: bad\n   expression: x +\n   at: {x: 1}\n")
    assert main(["report", "--cases", str(f), "--out", str(tmp_path / "rep")]) == 2
    assert (tmp_path / "rep" / "cases" / "good.md").exists()
    assert "case 'bad'" in capsys.readouterr().err


def test_list_prints_plain_text(library, capsys):
    """A terminal shows the titles as written: no markdown escapes, no HTML entities."""
    path = library(GOOD.replace('title: "(x + y) · z"', 'title: "x_1 > 0 & a*b | `c`"'))
    assert main(["list", "--cases", path]) == 0
    out = capsys.readouterr().out
    assert "x_1 > 0 & a*b | `c`" in out
    assert "&gt;" not in out and "\\_" not in out and "&amp;" not in out


def test_sympy_running_out_of_time_is_said_not_passed_off(tmp_path):
    """Cases still pass on the numeric methods, but a shortfall of the exact reference is one
    line on stderr (a busy machine must not silently lose the exact columns)."""
    from clirun import gc

    cases = str(Path(__file__).resolve().parent.parent / "cases" / "lecture.yaml")
    done = gc("check", "--cases", cases, "--limit", "sympy_seconds=0.01", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    note = [l for l in done.stderr.splitlines() if "SymPy timed out" in l]
    assert len(note) == 1 and "no exact reference" in note[0] and "--limit" in note[0]
    done = gc("check", "--cases", cases, "--case", "lecture-sum-times", cwd=tmp_path)
    assert done.returncode == 0 and "SymPy timed out" not in done.stderr
