"""Hostile input, round 2 (issue 12): the reproducers, each through the real command line.

Huge exact counts through every table, format, plot and handout; exceptions in the kink and
trace interpreters reported as statuses; a good case beside a bad one still computed.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from compare.cases import load_text
from compare.engine import run_case
from compare.fmt import count_text, digit_count, format_number, huge_int_text
from compare.tables import exact_integers

GOOD = "  - name: good\n    expression: (x + y) * z\n    at: {x: 3, y: -4, z: 5}\n" \
       "    expect: {value: -5, gradient: {x: 5, y: 5, z: -1}}\n"


def steps_case(name: str, first: str, step: str, n: int, at: str) -> str:
    lines = [f"  - name: {name}", "    steps:", f"      s0: {first}"]
    lines += [f"      s{k}: " + step.replace("P", f"s{k - 1}") for k in range(1, n + 1)]
    return "\n".join(lines + [f"    at: {at}"]) + "\n"


def gc(*argv: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "compare", *argv], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_huge_integers_are_written_without_text_conversion():
    assert digit_count(10**4400) == 4401 and digit_count(10**4400 - 1) == 4400
    assert huge_int_text(3**2000) == "≈ 1.74 × 10^954 (955 digits)"
    assert format_number(2**70) == "≈ 1.18 × 10^21 (22 digits)"
    assert count_text(1160) == "1,160" and count_text(-7) == "-7"


def test_2_to_the_70_paths_survive_run_report_and_keep_the_good_case(tmp_path):
    text = "cases:\n" + steps_case("squares", "x + 0", "P * P", 70, "{x: 1}") + GOOD
    (tmp_path / "c.yaml").write_text(text, encoding="utf-8")
    proc = gc("run", "--cases", "c.yaml", "--table", "costs", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    naive = next(r for r in rows if r["case"] == "squares" and r["method"] == "naive")
    assert naive["predicted"] is True and naive["total"] > 2**70   # exact, not rounded
    assert {r["case"] for r in rows} == {"squares", "good"}
    for fmt in ("csv", "table", "markdown"):
        proc = gc("run", "--cases", "c.yaml", "--format", fmt, cwd=tmp_path)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    proc = gc("report", "--cases", "c.yaml", "--out", "rep", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "rep" / "cases" / "squares.md").read_text(encoding="utf-8")
    assert "× 10^21" in page and (tmp_path / "rep" / "cases" / "good.md").exists()


def test_counts_beyond_4300_digits_survive_check_json_and_report(tmp_path):
    step = "*".join(["P"] * 10)
    (tmp_path / "c.yaml").write_text("cases:\n" + steps_case("big", "x + 0", step, 4400,
                                                             "{x: 1}") + GOOD, encoding="utf-8")
    proc = gc("check", "--cases", "c.yaml", "--allow-unverified", cwd=tmp_path)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "1 pass, 0 fail, 1 unverified" in proc.stdout
    proc = gc("run", "--cases", "c.yaml", "--table", "cases", "--format", "json", cwd=tmp_path)
    with exact_integers():
        big = next(r for r in json.loads(proc.stdout) if r["case"] == "big")
    assert digit_count(big["paths"]) == 4401           # 10^4400 paths, every digit
    proc = gc("report", "--cases", "c.yaml", "--out", "rep", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_a_handout_with_10_to_the_331_paths(tmp_path):
    (tmp_path / "c.yaml").write_text("cases:\n" + steps_case("halves", "x + 0", "(P + P)/2",
                                                             1100, "{x: 0.5}"),
                                     encoding="utf-8")
    proc = gc("handout", "halves", "--cases", "c.yaml", "--lang", "en", "--out", "h.md",
              cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "(332 digits)" in (tmp_path / "h.md").read_text(encoding="utf-8")


def test_lattice_at_36_levels_overflows_no_int64(tmp_path):
    proc = gc("scale", "lattice", "--sizes", "36:36", "--no-memory", "--format", "json",
              cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    naive = next(r for r in json.loads(proc.stdout) if r["method"] == "naive")
    assert naive["operations"] > 2**63


@pytest.mark.parametrize("expression, at", [
    ("relu(x) + x**0.5", "{x: 0}"),
    ("abs(y) + x**y", "{x: -2, y: 0}"),
])
def test_kinks_beside_undefined_slopes_are_statuses(tmp_path, expression, at):
    (tmp_path / "c.yaml").write_text(f"cases:\n  - name: k\n    expression: {expression}\n"
                                     f"    at: {at}\n" + GOOD, encoding="utf-8")
    for argv in (["check", "--allow-unverified"], ["run", "--format", "csv"],
                 ["report", "--out", "rep"]):
        proc = gc(*argv, "--cases", "c.yaml", cwd=tmp_path)
        assert "Traceback" not in proc.stderr + proc.stdout, (argv, proc.stderr)
        assert proc.returncode in (0, 1), (argv, proc.stderr)


def test_one_sided_slopes_at_a_kink_beside_sqrt_at_0_are_unknown_not_an_error():
    cases, _ = load_text("cases:\n  - name: k\n    expression: relu(x) + x**0.5\n"
                         "    at: {x: 0}\n")
    cr = run_case(cases[0])
    left, right = cr.one_sided["x"]
    assert (left, right) == (None, None)   # x**0.5 has no derivative at 0: unknown, no error


def test_handout_of_sqrt_at_0_is_a_clear_line(tmp_path):
    (tmp_path / "c.yaml").write_text("cases:\n  - name: s\n    expression: sqrt(x)\n"
                                     "    at: {x: 0}\n", encoding="utf-8")
    proc = gc("handout", "s", "--cases", "c.yaml", "--lang", "en", "--out", "-", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "no handout" in proc.stderr
