"""Hostile input, round 2 (issue 12): the reproducers, each through the real command line.

Huge exact counts through every table, format, plot and handout; exceptions in the kink and
trace interpreters reported as statuses; a good case beside a bad one still computed.
"""

from __future__ import annotations

import math

import json
import subprocess
import sys

import pytest

from compare.cases import load_text
from compare.engine import run_case
from compare.fmt import count_text, digit_count, format_number, huge_int_text
from compare.tables import exact_integers

from clirun import gc

GOOD = "  - name: good\n    expression: (x + y) * z\n    at: {x: 3, y: -4, z: 5}\n" \
       "    expect: {value: -5, gradient: {x: 5, y: 5, z: -1}}\n"


def steps_case(name: str, first: str, step: str, n: int, at: str) -> str:
    lines = [f"  - name: {name}", "    steps:", f"      s0: {first}"]
    lines += [f"      s{k}: " + step.replace("P", f"s{k - 1}") for k in range(1, n + 1)]
    return "\n".join(lines + [f"    at: {at}"]) + "\n"


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
    # Each step is three shared products, (P·P)·(P·P) squared: 8 times the paths of the last.
    step = "((P*P)*(P*P))*((P*P)*(P*P))"
    (tmp_path / "c.yaml").write_text("cases:\n" + steps_case("big", "x + 0", step, 4800,
                                                             "{x: 1}") + GOOD, encoding="utf-8")
    proc = gc("check", "--cases", "c.yaml", "--allow-unverified", cwd=tmp_path)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "1 pass, 0 fail, 1 unverified" in proc.stdout
    proc = gc("run", "--cases", "c.yaml", "--table", "cases", "--format", "json", cwd=tmp_path)
    with exact_integers():
        big = next(r for r in json.loads(proc.stdout) if r["case"] == "big")
    assert big["paths"] == 8**4800 and digit_count(big["paths"]) == 4335   # every digit
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


def test_one_sided_slopes_at_a_kink_beside_a_root_at_0_are_those_of_sqrt():
    cases, _ = load_text("cases:\n  - name: k\n    expression: relu(x) + x**0.5\n"
                         "    at: {x: 0}\n")
    cr = run_case(cases[0])
    # x**0.5 at 0 is sqrt(x) there: no slope on the left, +inf on the right.
    assert cr.one_sided["x"] == (None, math.inf)
    assert {r.status for r in cr.results.values()} == {"nondifferentiable"}


def test_handout_of_sqrt_at_0_is_a_clear_line(tmp_path):
    (tmp_path / "c.yaml").write_text("cases:\n  - name: s\n    expression: sqrt(x)\n"
                                     "    at: {x: 0}\n", encoding="utf-8")
    proc = gc("handout", "s", "--cases", "c.yaml", "--lang", "en", "--out", "-", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "no handout" in proc.stderr


# -- output paths: a manifest, a whole-report swap, a lock, no links, ordinary permissions ---------
LECTURE = "cases:\n" + GOOD


@pytest.fixture
def lib(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(LECTURE, encoding="utf-8")
    return path


def test_report_refuses_to_overwrite_files_it_did_not_write(tmp_path, lib):
    (tmp_path / "README.md").write_text("the project's own readme\n")
    proc = gc("report", "--cases", str(lib), "--out", ".", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "was not written by gradcompare" in proc.stderr
    assert (tmp_path / "README.md").read_text() == "the project's own readme\n"
    assert not (tmp_path / "cases").exists()     # nothing half-written


def test_stale_pages_go_but_a_users_file_stays(tmp_path):
    from compare.files import OutputFolder

    out = OutputFolder(tmp_path / "rep")
    out.write_all({"README.md": "1", "cases/a.md": "a", "cases/b.md": "b"},
                  stale_under=("cases/",))
    (tmp_path / "rep" / "cases" / "notes.md").write_text("mine")
    out.write_all({"README.md": "2", "cases/a.md": "a"}, stale_under=("cases/",))
    names = sorted(p.name for p in (tmp_path / "rep" / "cases").iterdir())
    assert names == ["a.md", "notes.md"]                      # b.md was ours: gone
    assert oct((tmp_path / "rep" / "README.md").stat().st_mode & 0o777) == oct(
        0o666 & ~_umask())


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_links_in_the_output_folder_are_never_followed(tmp_path, lib):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.md").write_text("keep")
    rep = tmp_path / "rep"
    rep.mkdir()
    (rep / "cases").symlink_to(elsewhere)
    proc = gc("report", "--cases", str(lib), "--out", "rep", cwd=tmp_path)
    assert proc.returncode == 2 and "symbolic link" in proc.stderr
    assert [p.name for p in elsewhere.iterdir()] == ["keep.md"]
    target = tmp_path / "target.md"
    target.write_text("x")
    (tmp_path / "link.md").symlink_to(target)
    proc = gc("handout", "good", "--cases", str(lib), "--lang", "en", "--out", "link.md",
              cwd=tmp_path)
    assert proc.returncode == 2 and "symbolic link" in proc.stderr
    assert target.read_text() == "x" and (tmp_path / "link.md").is_symlink()


@pytest.mark.parametrize("argv, needle", [
    (["report", "--out", "afile"], "is not a folder"),
    (["handout", "good", "--lang", "en", "--out", "adir"], "a folder"),
    (["list", "--cases", "x" * 5000], "cannot read"),
])
def test_bad_output_and_input_paths_are_one_line(tmp_path, lib, argv, needle):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    if "--cases" not in argv:
        argv = argv + ["--cases", str(lib)]
    proc = gc(*argv, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line]
    assert len(errors) == 1 and needle in errors[0], errors


def test_a_full_disk_is_one_line(tmp_path, lib, monkeypatch, capsys):
    import errno
    import os

    from compare import files
    from compare.cli import main

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "rep/README.md")

    monkeypatch.setattr(files.os, "replace", full)
    assert main(["report", "--cases", str(lib), "--out", str(tmp_path / "rep")]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err


def test_a_second_writer_is_refused_while_the_first_holds_the_folder(tmp_path):
    from compare.errors import GradcompareError
    from compare.files import OutputFolder, _Lock

    (tmp_path / "rep").mkdir()
    with _Lock(tmp_path / "rep", "--out"):
        with pytest.raises(GradcompareError, match="another gradcompare is writing"):
            OutputFolder(tmp_path / "rep").write_all({"README.md": "x"})
    OutputFolder(tmp_path / "rep").write_all({"README.md": "x"})   # free again


def test_ctrl_c_during_the_swap_lands_after_the_whole_report(tmp_path, monkeypatch):
    """SIGINT arriving between two renames is held until every file is in place."""
    import os
    import signal

    from compare import files

    out = files.OutputFolder(tmp_path / "rep")
    out.write_all({"README.md": "old", "cases/a.md": "old"})
    real = os.replace
    calls = []

    def replace_then_interrupt(src, dst):
        real(src, dst)
        if ".gradcompare-staging" in str(src) and ".gradcompare-staging" not in str(dst):
            calls.append(dst)       # a rename of the swap itself
            if len(calls) == 1:
                os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(files.os, "replace", replace_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        out.write_all({"README.md": "new", "cases/a.md": "new"})
    assert (tmp_path / "rep" / "README.md").read_text() == "new"
    assert (tmp_path / "rep" / "cases" / "a.md").read_text() == "new"
    assert len(calls) == 2
    assert not [p for p in (tmp_path / "rep").iterdir() if p.name.startswith(".gradcompare-st")]


def test_an_unreadable_subfolder_is_named(tmp_path, unreadable_subfolders):
    from compare import cases

    (tmp_path / "lib" / "sub").mkdir(parents=True)
    (tmp_path / "lib" / "ok.yaml").write_text(LECTURE)
    library = cases.load_library(tmp_path / "lib")
    assert [c.name for c in library.cases] == ["good"]
    assert len(library.errors) == 1 and "Permission denied" in str(library.errors[0])
    assert "sub" in str(library.errors[0])


# -- messages: the lines an editor shows, file-level fields, named fields --------------------------
@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_line_numbers_are_the_editors_despite_yaml_only_line_breaks(separator):
    text = (f"# a comment{separator}\ncases:\n  - name: a\n    expression: x\n"
            "    at: {x: yes}\n")
    _, errors = load_text(text, "f.yaml")
    assert [str(e) for e in errors] == [
        "f.yaml:5: case 'a': at.x: expected a number, got boolean 'yes'"]


def test_a_bad_file_level_field_keeps_the_good_cases():
    text = "title: [not, text]\ncases:\n" + GOOD
    cases, errors = load_text(text, "f.yaml")
    assert [c.name for c in cases] == ["good"]
    assert [str(e) for e in errors] == ["f.yaml:1: title: expected text, got a list"]


@pytest.mark.parametrize("value, field", [
    ("{x: &a 1, y: 2, z: 3}", "at.x"), ("{x: !!float 1, y: 2, z: 3}", "at.x"),
])
def test_tags_and_anchors_name_their_field(value, field):
    text = f"cases:\n  - name: a\n    expression: x + y + z\n    at: {value}\n"
    _, errors = load_text(text, "f.yaml")
    assert len(errors) == 1 and errors[0].field == field, [str(e) for e in errors]


# -- injection through rendering -----------------------------------------------------------------
EVIL_TITLE = "\\e]0;pwned\\a\\e[2J ALL CASES PASS \\u202e\\0"


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "markdown"])
def test_terminal_control_characters_never_reach_the_terminal_raw(tmp_path, fmt):
    (tmp_path / "c.yaml").write_text(f'cases:\n  - name: evil\n    title: "{EVIL_TITLE}"\n'
                                     "    expression: x * 2\n    at: {x: 1}\n")
    proc = gc("run", "--cases", "c.yaml", "--format", fmt, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for raw in ("\x1b", "\x07", "\x00", "\u202e"):
        assert raw not in proc.stdout + proc.stderr, (fmt, raw)
    if fmt == "json":
        assert json.loads(proc.stdout)[0]["title"].startswith("\x1b]0;pwned")   # value kept


def test_csv_cells_that_a_spreadsheet_would_run_get_an_apostrophe(tmp_path):
    (tmp_path / "c.yaml").write_text('cases:\n  - name: f\n    title: "=HYPERLINK(1)"\n'
                                     "    expression: x - 7\n    at: {x: 1}\n")
    proc = gc("run", "--cases", "c.yaml", "--format", "csv", cwd=tmp_path)
    row = proc.stdout.splitlines()[1]
    assert ",'=HYPERLINK(1)," in row and ",-6.0," not in row   # numbers are never changed
    proc = gc("run", "--cases", "c.yaml", "--table", "gradients", "--format", "csv",
              cwd=tmp_path)
    assert "1.0" in proc.stdout


@pytest.mark.parametrize("description", ["---", "1986. A good year", "    indented code",
                                         "- a list", "+ a list", "# a heading",
                                         "$x^2$ and @someone", "> a quote"])
def test_a_description_never_becomes_block_markup(tmp_path, description):
    import markdown as md

    (tmp_path / "c.yaml").write_text(f'cases:\n  - name: d\n    description: "{description}"\n'
                                     "    expression: x * 2\n    at: {x: 1}\n")
    proc = gc("report", "--cases", "c.yaml", "--out", "rep", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "rep" / "cases" / "d.md").read_text(encoding="utf-8")
    body = page.split("\n\n")[2:4]
    paragraph = next(b for b in body if "f =" not in b and "Source" not in b)
    html = md.markdown(paragraph)
    assert html.startswith("<p>") and not any(tag in html for tag in
                                             ("<hr", "<ol", "<ul", "<pre", "<h1", "<blockquote"))
    assert "$" not in paragraph.replace("\\$", "") and "@" not in paragraph


# -- limits that break when raised -------------------------------------------------------------
def test_max_number_chars_can_be_raised_for_yaml_numbers_and_says_the_true_length():
    from compare.limits import Limits

    long = "1." + "1" * 78                      # 80 characters
    text = f"cases:\n  - name: a\n    expression: x*2\n    at: {{x: {long}}}\n"
    _, errors = load_text(text, "f.yaml")
    assert [str(e) for e in errors] == [
        "f.yaml:4: case 'a': at.x: expected a number, got a number of 80 characters (limit 40)"]
    cases, errors = load_text(text, "f.yaml", Limits(max_number_chars=100))
    assert not errors and cases[0].at["x"] == float(long)


@pytest.mark.parametrize("pair, needle", [
    ("sympy_seconds=2147484", "between"), ("sympy_seconds=1e18", "between"),
    ("max_file_bytes=3e10", "between"), ("max_number_chars=1e6", "between"),
    ("naive_budget=0", "positive"), ("sympy_seconds=nan", "finite"),
])
def test_limits_out_of_range_are_one_line(tmp_path, lib, pair, needle):
    proc = gc("check", "--cases", str(lib), "--limit", pair, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and needle in proc.stderr, proc.stderr


# -- found by an independent attack on this round's fixes ------------------------------------------
def test_the_default_terminal_table_shows_huge_counts_short(tmp_path):
    step = "*".join(["P"] * 16)
    (tmp_path / "c.yaml").write_text("cases:\n" + steps_case("h", "x * y", step, 4000,
                                                             "{x: 0.5, y: 0.5}") + GOOD)
    for table in ("cases", "costs"):
        proc = gc("run", "--cases", "c.yaml", "--table", table, "--methods", "naive,backprop",
                  cwd=tmp_path)
        assert proc.returncode == 0 and "digits)" in proc.stdout, proc.stderr
        assert "good" in proc.stdout


def test_descend_with_naive_counts_beyond_int64(tmp_path):
    text = ("cases:\n" + steps_case("h70", "x * 0.5", "P * P", 70, "{x: 0.9}")
            + "    parameters: [x]\n")
    (tmp_path / "c.yaml").write_text(text)
    proc = gc("descend", "h70", "--cases", "c.yaml", "--method", "naive", "--steps", "2",
              "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_a_megabyte_of_compact_dashes_is_refused_before_parsing():
    import time

    text = "cases:\n" + GOOD + "  - name: d\n    expression: x\n    at: {x: 1}\n" \
        "    tags:\n      " + "- " * 499_990 + "x\n"
    t0 = time.perf_counter()
    _, errors = load_text(text, "f.yaml")
    assert time.perf_counter() - t0 < 5      # a hang guard, not a benchmark
    assert [str(e) for e in errors] == [
        "f.yaml:10: nested deeper than 100 levels: not parsed (max_yaml_depth is 12)"]


def test_stale_cleanup_never_follows_a_linked_folder(tmp_path, lib):
    from compare.files import OutputFolder

    out = OutputFolder(tmp_path / "rep")
    out.write_all({"handouts/a.md": "x", "README.md": "1"})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a.md").write_text("a user's file")
    import shutil

    shutil.rmtree(tmp_path / "rep" / "handouts")
    (tmp_path / "rep" / "handouts").symlink_to(elsewhere)
    out.write_all({"README.md": "2"}, stale_under=("handouts/",))
    assert (elsewhere / "a.md").read_text() == "a user's file"


def test_a_file_where_a_folder_is_needed_is_refused_before_anything_changes(tmp_path):
    from compare.errors import GradcompareError
    from compare.files import MANIFEST, OutputFolder

    out = OutputFolder(tmp_path / "rep")
    out.write_all({"README.md": "old", "cases/a.md": "a", "handouts/h.md": "h"})
    import shutil

    shutil.rmtree(tmp_path / "rep" / "handouts")
    (tmp_path / "rep" / "handouts").write_text("mine")
    before = {p.name: p.read_bytes() for p in (tmp_path / "rep").rglob("*") if p.is_file()}
    with pytest.raises(GradcompareError, match="a file where gradcompare needs a folder"):
        out.write_all({"README.md": "new", "cases/b.md": "b", "handouts/h.md": "h"},
                      stale_under=("cases/",))
    after = {p.name: p.read_bytes() for p in (tmp_path / "rep").rglob("*") if p.is_file()}
    assert after == before and MANIFEST in after


def test_a_killed_runs_staging_folder_is_removed_by_the_next_run(tmp_path):
    from compare.files import OutputFolder

    (tmp_path / "rep" / ".gradcompare-staging-abc123" / "cases").mkdir(parents=True)
    (tmp_path / "rep" / ".gradcompare-staging-abc123" / "cases" / "x.md").write_text("x")
    OutputFolder(tmp_path / "rep").write_all({"README.md": "1"})
    assert not [p for p in (tmp_path / "rep").iterdir() if p.name.startswith(".gradcompare-st")]


@pytest.mark.parametrize("argv", [
    ["handout", "good", "--lang", "en", "--out", "TARGET"],
    ["descend", "good", "--plot", "TARGET.svg"],
    ["scale", "chain", "--sizes", "1:2", "--no-memory", "--plot", "TARGET.svg"],
])
def test_output_files_are_never_devices_pipes_or_links(tmp_path, lib, argv):
    import os

    for kind in ("fifo", "link", "empty"):
        target = tmp_path / f"t-{kind}"
        if kind == "fifo":
            os.mkfifo(target)
        elif kind == "link":
            (tmp_path / "real").write_text("keep")
            target.symlink_to(tmp_path / "real")
        name = "" if kind == "empty" else str(target)
        args = [a.replace("TARGET.svg", name + ".svg" if name else "").replace("TARGET", name)
                for a in argv]
        if kind != "empty" and args[-1].endswith(".svg"):
            os.rename(target, tmp_path / (target.name + ".svg"))
        if "scale" not in args:
            args += ["--cases", str(lib)]
        proc = gc(*args, cwd=tmp_path)
        assert proc.returncode == 2, (kind, args, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert (tmp_path / "real").read_text() == "keep"


def test_a_description_starting_with_a_line_break_stays_a_paragraph():
    from compare.escape import md_paragraph

    import markdown as md

    for text in ("\n---", "\r1986. x", "\n- item", "\n\n    code block"):
        html = md.markdown(md_paragraph(text))
        assert html.startswith("<p>") and "<hr" not in html and "<ol" not in html, html


def test_json_writes_every_invisible_character_as_an_escape():
    import pandas as pd

    from compare.tables import to_json

    text = to_json(pd.DataFrame([{"t": "a\ufff9b\U000e0041c\u202ed"}]))
    assert all(ch not in text for ch in "\ufff9\U000e0041\u202e")
    assert json.loads(text)[0]["t"] == "a\ufff9b\U000e0041c\u202ed"


@pytest.mark.parametrize("head", ["title: !!str x\n", "title: &a x\n", 'title: "\\ud800"\n',
                                  "title: a\ntitle: b\n", "<<: {a: 1}\n", "? [a]\n: 1\n"])
def test_file_level_constructs_keep_the_cases(head):
    cases, errors = load_text(head + "cases:\n" + GOOD, "f.yaml")
    assert [c.name for c in cases] == ["good"] and len(errors) == 1, [str(e) for e in errors]


def test_a_closed_pipe_is_quiet(tmp_path, lib):
    proc = subprocess.run(f"{sys.executable} -m compare list --cases {lib} | head -c 10",
                          shell=True, capture_output=True, text=True, timeout=60)
    assert "Broken pipe" not in proc.stderr and "Traceback" not in proc.stderr


def test_descend_asks_a_failing_method_once_and_names_its_status(monkeypatch):
    """A SymPy timeout at the start is one timeout for every optimizer, not five, and it is
    `timeout` (with J still evaluated), not `diverged`."""
    from compare import descent, methods
    from compare.result import TIMEOUT, Result

    calls = []

    def times_out(graph, point, wrt, limits=None):
        calls.append(dict(point))
        return Result("sympy", None, {v: None for v in wrt}, counts=None, status=TIMEOUT,
                      note="SymPy did not finish within 8 s")

    monkeypatch.setitem(methods.METHODS, "sympy", times_out)
    cases, _ = load_text("cases:\n  - name: q\n    expression: (x - 3)**2\n    at: {x: 1}\n"
                         "    parameters: [x]\n")
    _, trajectories = descent.run(cases[0], steps=3, method="sympy")
    assert len(calls) == 1
    for tr in trajectories:
        assert [s.status for s in tr.steps] == ["timeout"] and tr.steps[0].loss == 4.0
