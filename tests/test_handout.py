"""Lecture handouts: the lecture's numbers in both languages, the catalogs, the rendering, the CLI."""

import ast
import itertools
import json
import re
import string
from pathlib import Path

import markdown
import pytest

from compare import handout
from compare.cases import load_library, load_text
from compare.cli import build_parser
from compare.cotangent import sweep
from compare.engine import run_case
from compare.errors import GradcompareError
from compare.forward import forward
from compare.handout import (LANGUAGES, MAX_ROWS, catalog,
                             naive_paths, render)
from compare.methods.common import local

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "handout"
LECTURE = FIXTURES / "lecture.yaml"
LARGE = FIXTURES / "large.yaml"


@pytest.fixture(scope="module")
def runs():
    out = {}
    for path in (LECTURE, LARGE):
        library = load_library(path)
        assert not library.errors, [str(e) for e in library.errors]
        out.update({c.name: run_case(c) for c in library.cases})
    return out


def page(runs, name, lang="en", **kw):
    text, _ = render(runs[name], lang, **kw)
    return text


# -- the lecture's worked example, number by number ----------------------------------------------
COMMON_LINES = [
    "∂f/∂x = 1 × ∂f2/∂f1 × ∂f1/∂x = 1 × 5 × 1 = 5",
    "∂f/∂y = 1 × **∂f2/∂f1 ⟳** × ∂f1/∂y = 1 × **5 ⟳** × 1 = 5",
    "∂f/∂z = 1 × ∂f2/∂z = 1 × (-1) = -1",
    "| f1 | x + y | x = 3, y = -4 | -1 |",
    "| f2 | f1 · z | f1 = -1, z = 5 | -5 |",
    "| 1 | f2 → f1 | ∂f/∂f2 = 1 | ∂f2/∂f1 = z | 5 | 1 × 5 = 5 | ∂f/∂f1 = 5 |",
    "| 2 | f2 → z | ∂f/∂f2 = 1 | ∂f2/∂z = f1 | -1 | 1 × (-1) = -1 | ∂f/∂z = -1 |",
    "| 3 | f1 → x | ∂f/∂f1 = 5 | ∂f1/∂x = 1 | 1 | 5 × 1 = 5 | ∂f/∂x = 5 |",
    "| 4 | f1 → y | ∂f/∂f1 = 5 | ∂f1/∂y = 1 | 1 | 5 × 1 = 5 | ∂f/∂y = 5 |",
    "- x ← x − α·∂f/∂x = 3 − 0.1 × 5 = 2.5",
    "- y ← y − α·∂f/∂y = -4 − 0.1 × 5 = -4.5",
    "- z ← z − α·∂f/∂z = 5 − 0.1 × (-1) = 5.1",
    "- ∂f/∂x = `z`",
    "- ∂f/∂z = `x + y`",
    '  n0(["x = 3<br/>∂f/∂x = 5"])',
]
PER_LANGUAGE = {
    "en": [
        "## Step 1 — The computational graph",
        "## Step 2 — Forward pass",
        "## The chain rule per variable (the naive way)",
        "## Step 3 — Backpropagation",
        "## What was saved",
        "## One step of gradient descent",
        "**Output: f = f2 = -5**",
        "**The gradient: ∇f = (∂f/∂x, ∂f/∂y, ∂f/∂z) = (5, 5, -1)**",
        "In total the naive way computed 5 local derivatives, 5 multiplications and 0 "
        "additions: 10 operations. Of these local derivatives, 1 (marked ⟳) repeated work "
        "already done.",
        "| chain rule per variable (naive) | 5 | 5 | 0 | **10** |",
        "| backpropagation | 4 | 4 | 0 | **8** |",
        "At the new point x = 2.5, y = -4.5, z = 5.1: f = -10.2 (before the step: -5).",
        '  n2["f1 = x + y<br/>value -1<br/>∂f/∂f1 = 5"]',
    ],
    "vi": [
        "## Bước 1 — Đồ thị tính toán",
        "## Bước 2 — Lan truyền thuận",
        "## Quy tắc chuỗi cho từng biến (cách làm thẳng)",
        "## Bước 3 — Lan truyền ngược",
        "## Tiết kiệm được gì",
        "## Một bước hạ gradient",
        "**Đầu ra: f = f2 = -5**",
        "**Gradient: ∇f = (∂f/∂x, ∂f/∂y, ∂f/∂z) = (5, 5, -1)**",
        "Tổng cộng cách làm thẳng đã tính 5 đạo hàm cục bộ, 5 phép nhân và 0 phép cộng: "
        "10 phép tính. Trong đó 1 đạo hàm cục bộ (⟳) là tính lại một phép tính đã làm.",
        "| quy tắc chuỗi cho từng biến (làm thẳng) | 5 | 5 | 0 | **10** |",
        "| lan truyền ngược | 4 | 4 | 0 | **8** |",
        "Tại điểm mới x = 2.5, y = -4.5, z = 5.1: f = -10.2 (trước bước cập nhật: -5).",
        '  n2["f1 = x + y<br/>giá trị -1<br/>∂f/∂f1 = 5"]',
    ],
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_lecture_example_numbers(runs, lang):
    text = page(runs, "lecture-sum-times", lang)
    lines = text.splitlines()
    for expected in COMMON_LINES + PER_LANGUAGE[lang]:
        assert expected in lines, expected
    # Same order of steps as the lecture: graph, forward, chain rule, backprop, savings, descent.
    headings = [line for line in lines if line.startswith("## ")]
    assert headings == [h for h in PER_LANGUAGE[lang] if h.startswith("## ")]


def test_vietnamese_uses_the_lecture_terms(runs):
    text = page(runs, "lecture-sum-times", "vi").lower()
    for term in ("đồ thị tính toán", "lan truyền thuận", "lan truyền ngược", "quy tắc chuỗi",
                 "đạo hàm", "đạo hàm riêng", "hạ gradient", "tốc độ học"):
        assert term in text, term


def test_expression_and_steps_forms_give_the_same_walk(runs):
    a = page(runs, "lecture-sum-times", "vi")
    b = page(runs, "lecture-sum-times-expression", "vi")
    body = "## Bước 1"
    assert a[a.index(body):] == b[b.index(body):]


def test_sigmoid_exercise(runs):
    text = page(runs, "lecture-sigmoid", "en")
    assert "**Output: f = f6 = 1/2**" in text
    assert "**The gradient: ∇f = (∂f/∂x, ∂f/∂theta0, ∂f/∂theta1) = (3/4, 1/4, 1/4)**" in text
    assert "| 1 | f6 → f5 | ∂f/∂f6 = 1 | ∂f6/∂f5 = −1/f5² | -1/4 | 1 × (-1/4) = -1/4 |" in text
    assert "(The case gives no learning rate; α = 0.1 is assumed." in text
    assert "0.30000000000000004" not in text


# -- the handout's walks are the engine's methods --------------------------------------------
@pytest.mark.parametrize("name", ["lecture-sum-times", "lecture-sigmoid", "shared-square",
                                  "logistic-10", "neuron-30"])
def test_walks_match_the_engine(runs, name):
    cr = runs[name]
    graph, case = cr.case.graph, cr.case
    values = forward(graph, case.at).values
    s = sweep(graph, values, graph.depends_bytes(case.wrt), record=True)
    rows, grads = s.rows, {i: g for i, g in enumerate(s.grad) if g is not None}
    backprop, naive = cr.results["backprop"], cr.results["naive"]
    assert len(rows) == backprop.counts.derivatives == backprop.counts.multiplications
    assert sum(r.before is not None for r in rows) == backprop.counts.additions
    for var in case.wrt:
        assert grads[graph.variables[var]] == pytest.approx(backprop.gradient[var], rel=1e-12)
    # Naive: every path, in the method's order; lengths and sums are the method's counts.
    derivatives = additions = 0
    for var in case.wrt:
        paths = list(naive_paths(graph, var))
        derivatives += sum(len(p) for p in paths)
        additions += max(len(paths) - 1, 0)
        total = 0.0
        for path in paths:
            product = 1.0
            for parent, pos in path:
                product *= local(graph, values, parent, pos)
            total += product
        assert total == pytest.approx(naive.gradient[var], rel=1e-9, abs=1e-12)
    assert (derivatives, additions) == (naive.counts.derivatives, naive.counts.additions)


def test_counts_on_the_page_are_the_engines(runs):
    for name in ("shared-square", "logistic-10"):
        cr = runs[name]
        text = page(runs, name)
        n, b = cr.results["naive"].counts, cr.results["backprop"].counts
        assert f"| {n.derivatives} | {n.multiplications} | {n.additions} | **{n.total}** |" in text
        assert f"| {b.derivatives} | {b.multiplications} | {b.additions} | **{b.total}** |" in text
        again = n.derivatives - b.derivatives
        assert f"Of these local derivatives, {again} (marked ⟳) repeated work" in text


# -- catalogs -----------------------------------------------------------------------------------
def placeholders(text):
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_catalogs_have_the_same_keys_and_placeholders():
    en, vi = catalog("en"), catalog("vi")
    assert set(en) == set(vi)
    for key in en:
        assert placeholders(en[key]) == placeholders(vi[key]), key
        assert vi[key].strip(), key


def test_every_message_used_in_the_code_exists_in_both_catalogs():
    tree = ast.parse(Path(handout.__file__).read_text(encoding="utf-8"))
    used = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(
                node.func, "attr", None)) == "msg" and node.args and isinstance(
                node.args[0], ast.Constant):
            used.add(node.args[0].value)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(
                r"(s\d_\w+|method_\w+|col_\w+|\w+_title)", node.value):
            used.add(node.value)
    assert len(used) > 40
    for lang in LANGUAGES:
        missing = used - set(catalog(lang))
        assert not missing, (lang, missing)


def test_catalog_files_are_valid_json():
    for lang in LANGUAGES:
        path = Path(handout.LOCALE_DIR) / f"{lang}.json"
        assert isinstance(json.loads(path.read_text(encoding="utf-8")), dict)


# -- exercise -----------------------------------------------------------------------------------
def test_exercise_has_blanks_and_a_separate_key(runs):
    text, key = render(runs["lecture-sum-times"], "vi", exercise=True)
    assert key is not None and key.startswith("# Đáp án")
    assert "(5, 5, -1)" not in text and "(5, 5, -1)" in key
    assert "1 × \\_\\_\\_\\_ × \\_\\_\\_\\_ = \\_\\_\\_\\_" in text
    assert "| f1 | x + y | x = 3, y = -4 | \\_\\_\\_\\_ |" in text   # inputs given, value blank
    assert "∂f/∂f2 = 1" in text                                       # the seed is given
    html = markdown.markdown(text, extensions=["tables", "fenced_code"])
    assert "<strong></strong>" not in html and "<em>" not in html     # blanks stay blanks
    assert "____" in html


# -- rendering ----------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGUAGES)
def test_renders_to_html_with_tables_and_diagram(runs, lang):
    html = markdown.markdown(page(runs, "lecture-sum-times", lang),
                             extensions=["tables", "fenced_code"])
    assert html.count("<table>") == 3              # forward, backprop, savings
    assert html.count("<tr>") == 3 + 5 + 4
    m = re.search(r'<code class="language-mermaid">(.*?)</code>', html, re.S)
    assert m, "the diagram block did not survive"
    assert m.group(1).startswith("flowchart LR") and "f1 = x + y&lt;br/&gt;" in m.group(1)
    assert "<strong>∂f2/∂f1 ⟳</strong>" in html   # the recomputed derivative is marked


def test_large_case_stays_readable(runs):
    text = page(runs, "logistic-10")
    assert "1020 more paths, not written out." in text
    assert "more factors" in text
    for line in text.splitlines():
        assert len(line) < 1500
    tables = re.findall(r"(?:^\|.*\n)+", text, re.M)
    assert all(t.count("\n") <= MAX_ROWS + 3 for t in tables)
    neuron = page(runs, "neuron-30")
    assert "α = 1/2" in neuron
    html = markdown.markdown(neuron, extensions=["tables", "fenced_code"])
    assert 'class="language-mermaid"' in html


def test_folding_beyond_the_row_limit():
    rows = [[str(i), "x"] for i in range(200)]
    table = handout._table(["a", "b"], rows, "… {n} more rows …")
    assert table.count("\n") + 1 == 2 + handout.HEAD_ROWS + 1 + handout.TAIL_ROWS
    assert "… 145 more rows …" in table


def test_deterministic(runs):
    assert page(runs, "lecture-sigmoid", "vi") == page(runs, "lecture-sigmoid", "vi")
    assert not re.search(r"20\d\d-\d\d-\d\d", page(runs, "lecture-sigmoid", "vi"))


def test_case_text_is_escaped():
    cases, errors = load_text("""
cases:
  - name: hostile
    title: "a | b <script>alert(1)</script> **bold**"
    source: "x\\n# heading"
    expression: x_1 * x_1
    at: {x_1: 2}
""")
    assert not errors
    text, _ = render(run_case(cases[0]), "en")
    assert "<script>" not in text and "a \\| b &lt;script&gt;" in text.splitlines()[0]
    assert "\n# heading" not in text
    html = markdown.markdown(text, extensions=["tables", "fenced_code"])
    assert "<script>" not in html and "<em>" not in html


def test_no_handout_without_a_gradient():
    cases, _ = load_text("cases:\n  - name: bad\n    expression: log(x)\n    at: {x: 0}\n")
    with pytest.raises(GradcompareError, match="no handout"):
        render(run_case(cases[0]), "en")


# -- the command --------------------------------------------------------------------------------
def cli(argv):
    args = build_parser().parse_args(argv)
    return args.func(args)


def test_command_writes_every_selected_case_in_both_languages(tmp_path, capsys):
    assert cli(["handout", "--cases", str(LECTURE), "--tag", "lecture",
                "--dir", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir() if p.name != ".gradcompare-manifest.json")
    assert (tmp_path / ".gradcompare-manifest.json").exists()   # what the tool wrote, listed
    expected = sorted(f"{c}.{lang}.md" for c, lang in itertools.product(
        ["lecture-sum-times", "lecture-sum-times-expression", "lecture-sigmoid"], LANGUAGES))
    assert names == expected
    assert "wrote 6 handouts" in capsys.readouterr().out


def test_command_one_file_and_exercise(tmp_path):
    out = tmp_path / "h.vi.md"
    assert cli(["handout", "lecture-sum-times", "--cases", str(LECTURE), "--lang", "vi",
                "--exercise", "--lr", "0.5", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("# Bài tập")
    key = (tmp_path / "h.vi.answers.md").read_text(encoding="utf-8")
    assert "α = 1/2" in key and "3 − (1/2) × 5 = 1/2" in key


def test_command_prints_with_out_dash(capsys):
    assert cli(["handout", "lecture-sigmoid", "--cases", str(LECTURE), "--lang", "en",
                "--out", "-"]) == 0
    assert "**Output: f = f6 = 1/2**" in capsys.readouterr().out


def test_command_errors(tmp_path, capsys):
    with pytest.raises(GradcompareError, match="one handout"):
        cli(["handout", "lecture-sum-times", "--cases", str(LECTURE), "--out", "x.md"])
    with pytest.raises(GradcompareError, match="positive"):
        cli(["handout", "lecture-sum-times", "--cases", str(LECTURE), "--lr", "-1"])
    assert cli(["handout", "no-such-case", "--cases", str(LECTURE), "--dir",
                str(tmp_path)]) == 2
    assert "no case named 'no-such-case'" in capsys.readouterr().err


def test_help_has_an_example(capsys):
    with pytest.raises(SystemExit):
        cli(["handout", "--help"])
    text = capsys.readouterr().out
    assert "Examples:" in text and "gradcompare handout lecture-sum-times" in text


def test_descent_step_moves_only_the_parameters():
    """The bundled exercise names θ0, θ1 as parameters: the input x is data and stays."""
    from compare.cases import default_cases_path, load_library
    from compare.engine import run_case
    from compare.handout import render

    library = load_library(default_cases_path()).select(["lecture-sigmoid-neuron"], [])
    case = library.cases[0]
    assert case.parameters == ["theta0", "theta1"] and "x" in case.wrt
    for lang, held in (("en", "Held fixed"), ("vi", "Giữ nguyên")):
        text, _ = render(run_case(case), lang)
        step = text.split("θ ← θ − α·∇f", 1)[1]
        assert "theta0 ← theta0 − α·∂f/∂theta0 = -3 − 0.1 × (1/4) = -3.025" in step
        assert "theta1 ← theta1 − α·∂f/∂theta1 = 3 − 0.1 × (1/4) = 2.975" in step
        assert "x ← x" not in step and f"{held} " in step
        assert "x = 1, theta0 = -3.025, theta1 = 2.975" in step
