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
from compare.cli import build_parser, main
from compare.cotangent import sweep
from compare.engine import gradient_check, run_case
from compare.errors import GradcompareError
from compare.fmt import number_text
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
    "∂f/∂y = 1 **× ∂f2/∂f1\u00a0⟳** × ∂f1/∂y = 1 **× 5\u00a0⟳** × 1 = 5",
    "∂f/∂z = 1 × ∂f2/∂z = 1 × (−1) = −1",
    "| f2 | f1 · z | f1 = −1{sep}z = 5 | −5 |",
    "| 1 | f2 → f1 | ∂f/∂f2 = 1 | ∂f2/∂f1 = z | 5 | 1 × 5 = 5 | ∂f/∂f1 = 5 |",
    "| 2 | f2 → z | ∂f/∂f2 = 1 | ∂f2/∂z = f1 | −1 | 1 × (−1) = −1 | ∂f/∂z = −1 |",
    "| 3 | f1 → x | ∂f/∂f1 = 5 | ∂f1/∂x = 1 | 1 | 5 × 1 = 5 | ∂f/∂x = 5 |",
    "| 4 | f1 → y | ∂f/∂f1 = 5 | ∂f1/∂y = 1 | 1 | 5 × 1 = 5 | ∂f/∂y = 5 |",
    "- x ← x − α·∂f/∂x = 3 − 0{dot}1 × 5 = 2{dot}5",
    "- y ← y − α·∂f/∂y = −4 − 0{dot}1 × 5 = −4{dot}5",
    "- z ← z − α·∂f/∂z = 5 − 0{dot}1 × (−1) = 5{dot}1",
    "- ∂f/∂x = z",
    "- ∂f/∂z = x + y",
    '  n0(["x = 3<br/>∂f/∂x = 5"])',
    "| f1 | x + y | 1 | 1 | 0 |",            # forward mode: the three sweeps' tangents
    "| f2 | f1 · z | 5 | 5 | −1 |",
]
SEPARATORS = {"en": {"sep": ", ", "dot": "."}, "vi": {"sep": "; ", "dot": ","}}
PER_LANGUAGE = {
    "en": [
        "## Step 1 — The computational graph",
        "## Step 2 — The forward pass",
        "## Step 3 — The chain rule, variable by variable",
        "## Backpropagation: copy, do not compute again",
        "## What was saved",
        "## Forward mode: one forward sweep per variable",
        "## Gradient check: the central difference",
        "## Gradient descent",
        "**Output: f = f2 = −5**",
        "**The gradient: ∇f = (∂f/∂x, ∂f/∂y, ∂f/∂z) = (5, 5, −1)**",
        "- 1 × ∂f2/∂f1 = 5 was computed for x and is computed again for y. It is exactly "
        "∂f/∂f1 = 5: backpropagation computes it once and copies it.",
        "In total the naive way computed 5 local derivatives, 5 multiplications and 0 "
        "additions: 10 operations. Local derivatives marked ⟳: 1; with their "
        "multiplications, 2 operations of repeated work.",
        "| chain rule, variable by variable | 5 | 5 | 0 | **10** |",
        "| backpropagation | 4 | 4 | 0 | **8** |",
        "Backpropagation needed 8 operations instead of 10: 2 fewer (20% saved). The difference "
        "is Step 3's ⟳ marks: 1, two operations each (2 operations).",
        "At the new point x = 2.5, y = −4.5, z = 5.1: f = −10.2 (before the step: −5).",
        '  n2["f1 = x + y<br/>value −1<br/>∂f/∂f1 = 5"]',
        "| node | operation | sweep 1: ∂node/∂x | sweep 2: ∂node/∂y | sweep 3: ∂node/∂z |",
        "| **forward mode, 3 sweeps** | 5 | 5 | 0 | **10** |  |",
        "| **backpropagation, one sweep** | 4 | 4 | 0 | **8** |  |",
    ],
    "vi": [
        "## Bước 1 — Đồ thị tính toán",
        "## Bước 2 — Lan truyền thuận",
        "## Bước 3 — Áp dụng quy tắc chuỗi cho từng biến",
        "## Lan truyền ngược: chép lại, không tính lại",
        "## Tiết kiệm được bao nhiêu",
        "## Chế độ thuận: mỗi biến một lượt lan truyền thuận",
        "## Kiểm tra gradient bằng sai phân trung tâm",
        "## Hạ gradient",
        "**Đầu ra: f = f2 = −5**",
        "**Gradient: ∇f = (∂f/∂x; ∂f/∂y; ∂f/∂z) = (5; 5; −1)**",
        "- 1 × ∂f2/∂f1 = 5 đã được tính cho x, rồi bị tính lại cho y. Đó chính là "
        "∂f/∂f1 = 5: lan truyền ngược chỉ tính nó một lần rồi chép qua.",
        "Tổng cộng, cách tính theo từng biến đã tính 5 đạo hàm cục bộ, 5 phép nhân và 0 phép "
        "cộng: 10 phép tính. Có 1 đạo hàm cục bộ được đánh dấu ⟳: tính cả phép nhân đi kèm, "
        "đó là 2 phép tính thừa.",
        "| quy tắc chuỗi cho từng biến | 5 | 5 | 0 | **10** |",
        "| lan truyền ngược | 4 | 4 | 0 | **8** |",
        "Lan truyền ngược cần 8 phép tính thay vì 10: ít hơn 2 (tiết kiệm 20 %). Phần chênh "
        "lệch này chính là 1 dấu ⟳ ở Bước 3, mỗi dấu ứng với hai phép tính (2 phép tính).",
        "Tại điểm mới x = 2,5; y = −4,5; z = 5,1: f = −10,2 (trước khi cập nhật: −5).",
        '  n2["f1 = x + y<br/>giá trị −1<br/>∂f/∂f1 = 5"]',
        "| node | phép toán | lượt 1: ∂node/∂x | lượt 2: ∂node/∂y | lượt 3: ∂node/∂z |",
        "| **chế độ thuận, 3 lượt** | 5 | 5 | 0 | **10** |  |",
        "| **lan truyền ngược, một lượt** | 4 | 4 | 0 | **8** |  |",
    ],
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_lecture_example_numbers(runs, lang):
    text = page(runs, "lecture-sum-times", lang)
    lines = text.splitlines()
    common = [line.format(**SEPARATORS[lang]) for line in COMMON_LINES]
    for expected in common + PER_LANGUAGE[lang]:
        assert expected in lines, expected
    # The lecture's order: Step 1 graph, Step 2 forward, Step 3 the chain rule per variable,
    # then backpropagation, the saving, forward mode, the gradient check, descent.
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
    assert "Function: f = 1/(1 + e^(−(θ₀ + θ₁·x)))" in text
    assert "**Output: f = f6 = 1/2**" in text
    assert "**The gradient: ∇f = (∂f/∂x, ∂f/∂θ₀, ∂f/∂θ₁) = (3/4, 1/4, 1/4)**" in text
    assert "| 1 | f6 → f5 | ∂f/∂f6 = 1 | ∂f6/∂f5 = −1/f5² | −1/4 | 1 × (−1/4) = −1/4 |" in text
    assert "(The case gives no learning rate; α = 0.1 is taken.)" in text
    # The repeated prefix is ∂f/∂f2, said with its value.
    assert ("- 1 × ∂f6/∂f5 × ∂f5/∂f4 × ∂f4/∂f3 × ∂f3/∂f2 = 1/4 was computed for x and is "
            "computed again for θ₀. It is exactly ∂f/∂f2 = 1/4") in text
    assert "0.30000000000000004" not in text


# -- forward mode and the gradient check ---------------------------------------------------------
def section(text, start):
    """The lines of one `## ` section, from its heading to the next."""
    lines = text.splitlines()
    k = next(i for i, line in enumerate(lines) if line.startswith("## " + start))
    end = next((i for i in range(k + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[k:end]


def table_rows(lines):
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines
            if line.startswith("| ") and not line.startswith("|---")]


def tables(lines):
    """Each Markdown table of a section, as its rows of cells (the header first)."""
    groups, current = [], []
    for line in [*lines, ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            groups.append(table_rows(current))
            current = []
    return groups


@pytest.mark.parametrize("name", ["lecture-sum-times", "lecture-sigmoid", "shared-square",
                                  "neuron-30"])
def test_forward_mode_section_is_the_forward_method(runs, name):
    """One sweep per variable; the counts on the page are the forward method's and backprop's,
    side by side; the output row of the tangent table is the gradient."""
    cr = runs[name]
    fwd, backprop = cr.results["forward"], cr.results["backprop"]
    lines = section(page(runs, name), "Forward mode")
    tangents, counts = tables(lines)
    wrt = cr.case.wrt
    shown = min(len(wrt), handout.MAX_SWEEP_COLUMNS)
    assert len(tangents[0]) == 2 + shown                      # node, operation, one per sweep
    out = tangents[-1]                                        # the output comes last
    for k, v in enumerate(wrt[:shown]):
        assert out[2 + k] == number_text(backprop.gradient[v], "en")
    assert fwd.counts.passes == len(wrt)
    n = fwd.counts
    total = [r for r in counts if r[0].startswith("**forward mode, ")]
    assert total == [[f"**forward mode, {len(wrt)} sweeps**",
                      *[number_text(x, "en") for x in (n.derivatives, n.multiplications,
                                                       n.additions)],
                      f"**{number_text(n.total, 'en')}**", ""]]
    b = backprop.counts
    assert ["**backpropagation, one sweep**",
            *[number_text(x, "en") for x in (b.derivatives, b.multiplications, b.additions)],
            f"**{number_text(b.total, 'en')}**", ""] in counts
    assert [r[0].split(':')[0] for r in counts[1:1 + len(wrt)]] == [
        str(k) for k in range(1, len(wrt) + 1)]
    if len(wrt) > shown:
        assert (f"The table writes out the first {shown} sweeps; the other "
                f"{len(wrt) - shown} are counted in the table below.") in lines


@pytest.mark.parametrize("lang", LANGUAGES)
def test_lecture_gradient_check_section(runs, lang):
    """The central difference beside backprop's value, relative error and step: the engine's
    gradient check, as the page writes numbers."""
    cr = runs["lecture-sum-times"]
    text = page(runs, "lecture-sum-times", lang)
    lines = section(text, "Gradient check" if lang == "en" else "Kiểm tra gradient")
    (_, *rows), = tables(lines)
    checks = gradient_check(cr, against="backprop")
    assert [r.exact_method for r in checks] == ["backprop"] * 3
    yes = catalog(lang)["gc_yes"]
    for row, r in zip(rows, checks, strict=True):
        assert row == [r.variable, number_text(r.step, lang),
                       number_text(r.numeric, lang, handout.PRECISE),
                       number_text(cr.results["backprop"].gradient[r.variable], lang),
                       number_text(r.rel_error, lang, 3), yes]
        assert r.rel_error < 1e-9 and r.agrees
    # The estimate is an approximation, and the page shows it as one (5.00000000002, not 5).
    assert rows[0][2] != rows[0][3] and rows[0][2].startswith("5")


def test_gradient_check_at_a_kink_shows_both_sides(bundled):
    cr = bundled["kink-relu-of-product"]          # relu(x·y) at x·y = 0
    for lang, yes in (("en", "yes, between the two sides"), ("vi", "có, nằm giữa hai phía")):
        lines = section(render(cr, lang)[0], "Gradient check" if lang == "en"
                        else "Kiểm tra gradient")
        header, *rows = table_rows(lines)
        assert len(header) == 8
        checks = gradient_check(cr, against="backprop")
        for row, r in zip(rows, checks, strict=True):
            left, right = r.sides
            assert row[3:5] == [number_text(left, lang, handout.PRECISE),
                                number_text(right, lang, handout.PRECISE)]
            assert row[-1] == yes and min(left, right) <= r.exact <= max(left, right)
        assert any(r.sides[0] != r.sides[1] for r in checks)     # a real kink: sides differ
    smooth = section(render(bundled["lecture-sum-times"], "en")[0], "Gradient check")
    assert len(table_rows(smooth)[0]) == 6                       # no side columns without one


def test_exercise_leaves_forward_mode_and_the_check_blank(runs):
    text, key = render(runs["lecture-sum-times"], "en", exercise=True)
    blank = handout.BLANK_MD
    fm = section(text, "Forward mode")
    assert "| x | variable | 1 | 0 | 0 |" in fm                  # the seeds are given
    assert f"| f2 | f1 · z | {blank} | {blank} | {blank} |" in fm
    assert f"| **forward mode, {blank} sweeps** |" in "\n".join(fm)
    assert "| f2 | f1 · z | 5 | 5 | −1 |" in section(key, "Forward mode")
    gc = table_rows(section(text, "Gradient check"))[1:]
    steps = [number_text(r.step, "en") for r in gradient_check(runs["lecture-sum-times"])]
    assert [row[1] for row in gc] == steps                        # the steps are given
    assert all(row[2:] == [blank] * 4 for row in gc)
    assert "5.00000000002" not in text and "5.00000000002" in key


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
        f = [number_text(x, "en") for c in (n, b)
             for x in (c.derivatives, c.multiplications, c.additions, c.total)]
        assert f"| {f[0]} | {f[1]} | {f[2]} | **{f[3]}** |" in text
        assert f"| {f[4]} | {f[5]} | {f[6]} | **{f[7]}** |" in text
        again = n.derivatives - b.derivatives
        assert f"Local derivatives marked ⟳: {number_text(again, 'en')};" in text
        # What a student counts (two operations per ⟳) is the saving the table states.
        marks = text.count("\u00a0⟳**") // 2
        if n.additions == b.additions and "more paths, not written out" not in text:
            assert 2 * marks == n.total - b.total


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
    blank = handout.BLANK_MD
    assert "(5; 5; −1)" not in text and "(5; 5; −1)" in key
    assert text.startswith("# Bài tập") and "xây dựng đồ thị tính toán và chạy thuật toán lan truyền thuận" in text
    assert f"1 × {blank} × {blank} = {blank}" in text
    assert f"| f1 | x + y | x = 3; y = −4 | {blank} |" in text   # inputs given, value blank
    assert "∂f/∂f2 = 1" in text                                  # the seed is given
    assert "```mermaid" not in text and "```mermaid" in key      # the graph is to be drawn
    assert "⟳**" not in text and "\u00a0⟳**" in key             # so are the marks
    html = markdown.markdown(text, extensions=["tables", "fenced_code"])
    assert "<strong></strong>" not in html and "<em>" not in html     # blanks stay blanks
    assert "____" in html


# -- rendering ----------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGUAGES)
def test_renders_to_html_with_tables_and_diagram(runs, lang):
    html = markdown.markdown(page(runs, "lecture-sum-times", lang),
                             extensions=["tables", "fenced_code"])
    # forward pass, backprop, savings, forward mode's tangents and counts, gradient check
    assert html.count("<table>") == 6
    assert html.count("<tr>") == 3 + 5 + 4 + 6 + 6 + 4
    m = re.search(r'<code class="language-mermaid">(.*?)</code>', html, re.S)
    assert m, "the diagram block did not survive"
    assert m.group(1).startswith("flowchart LR") and "f1 = x + y&lt;br/&gt;" in m.group(1)
    assert "<strong>× ∂f2/∂f1\u00a0⟳</strong>" in html   # the recomputed derivative is marked


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


def test_sigmoid_exercise_descends_the_loss_moving_theta_only():
    """The lecture's exercise trains the neuron: target 1, J = −ln f = ln 2, ∇θJ = (−1/2, −1/2),
    one step at α = 0.1 gives θ = (−2.95, 3.05); the input x is data and stays."""
    from compare.cases import default_cases_path, load_library
    from compare.engine import run_case
    from compare.handout import render

    library = load_library(default_cases_path()).select(["lecture-sigmoid-neuron"], [])
    case = library.cases[0]
    assert case.parameters == ["theta0", "theta1"] and case.loss is not None
    expected = {
        "en": ("Held fixed (data, not parameters): x.", "J = ln 2 ≈ 0.693147",
               "∇θJ = (∂J/∂θ₀, ∂J/∂θ₁) = (−1/2, −1/2)",
               "- θ₀ ← θ₀ − α·∂J/∂θ₀ = −3 − 0.1 × (−1/2) = −2.95",
               "- θ₁ ← θ₁ − α·∂J/∂θ₁ = 3 − 0.1 × (−1/2) = 3.05"),
        "vi": ("Giữ nguyên (là dữ liệu, không phải tham số): x.", "J = ln 2 ≈ 0,693147",
               "∇θJ = (∂J/∂θ₀; ∂J/∂θ₁) = (−1/2; −1/2)",
               "- θ₀ ← θ₀ − α·∂J/∂θ₀ = −3 − 0,1 × (−1/2) = −2,95",
               "- θ₁ ← θ₁ − α·∂J/∂θ₁ = 3 − 0,1 × (−1/2) = 3,05"),
    }
    for lang, lines in expected.items():
        text, _ = render(run_case(case), lang)
        step = text.split("θ ← θ − α·∇θJ(θ)", 1)[1]
        for line in lines:
            assert line in step, (lang, line)
        assert "x ←" not in step and "∂J/∂x" not in step and "α·∇f" not in text


def test_a_case_without_a_loss_says_it_descends_f_and_holds_its_data():
    from compare.cases import default_cases_path, load_library
    from compare.engine import run_case

    library = load_library(default_cases_path()).select(["cs231n-sigmoid-neuron-2d"], [])
    case = library.cases[0]
    assert case.loss is None
    data = [v for v in case.wrt if v not in case.parameters]
    assert data
    text, _ = render(run_case(case), "en")
    step = text.split("## Gradient descent", 1)[1]
    assert "descends the function f itself" in step
    for v in data:
        assert f"- {handout.math_name(v)} ←" not in step


# -- the floors for every bundled case: Vietnamese without English, numbers the Vietnamese way ---
@pytest.fixture(scope="module")
def bundled(bundled_numeric_run):
    """Every bundled case, run with the numeric methods (SymPy's section is checked on the
    lecture fixtures above; here it would cost the suite seconds for no new text); the run is
    test_conformance's too (tests/conftest.py)."""
    _, run = bundled_numeric_run
    return {cr.case.name: cr for cr in run.runs}


# English words a Vietnamese handout must not contain: every word of the English catalog, and
# the words of the engine's notes that used to leak through.  Allowed: the terms the lecture
# itself uses in Vietnamese (node, gradient) and names (SymPy, PyTorch, Adam, RMSprop).
ALLOWED = {"node", "nodes", "gradient", "gradcompare", "sympy", "pytorch", "adam", "rmsprop",
           "momentum",
           "sigmoid", "relu", "tanh", "exp", "log", "sqrt", "max", "min", "abs", "sin", "cos",
           "tan", "sign", "softmax", "softplus", "logsumexp", "logistic", "logit", "entropy"}
LEAKED = {"digits", "predicted", "budget", "executed", "over", "not", "engine", "parameters",
          "field", "lecture", "taught", "vietnamese", "naive", "source", "case", "trained",
          "target", "points", "minimum", "at", "the", "of", "and", "with", "loss", "steps",
          "levels", "shared", "weights", "function", "example", "notes", "staged", "same",
          "written", "via", "far", "tail", "leaky", "approximation", "neuron", "hinge", "margin",
          "squared", "error", "line", "mean", "cross", "binary", "negative", "likelihood",
          "residual", "small", "large", "sphere", "squarings", "time", "hidden", "units",
          "inputs", "output", "exercise", "answer", "key", "blank"}


def english_words():
    words = {w.lower() for text in catalog("en").values()
             for w in re.findall(r"[A-Za-z]{3,}", re.sub(r"\{\w+\}", "", text))}
    return (words | LEAKED) - ALLOWED


def prose(text):
    """What a reader reads as words: without code, diagrams and HTML entities."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`]*`", "", text)
    return re.sub(r"&\w+;", "", text).replace("\\_", "_")


def test_vietnamese_handouts_of_every_bundled_case_have_no_english(bundled):
    english = english_words()
    assert {"the", "digits", "predicted", "operations", "backpropagation"} <= english
    found = {}
    for name, cr in bundled.items():
        names = set(cr.case.graph.variables) | {k for k, _ in cr.case.steps or []}
        page, key = render(cr, "vi", exercise=True)
        for text in (page, key, render(cr, "vi")[0]):
            words = {w for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", prose(text))
                     if w not in names}
            bad = {w for w in words if w.lower() in english}
            if bad:
                found[name] = sorted(bad)
    assert not found, found


THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:\.\d{3})+(?![\d,]|\.\d)")
VI_WRONG_NUMBER = [
    (re.compile(r"(?<![\w.])\d+\.\d"), "a decimal point"),
    (re.compile(r"(?<![\w)\]])-\d"), "a hyphen as minus"),
    (re.compile(r"\d%"), "a percent sign without its space"),
    (re.compile(r"\d+(?:,\d+)?, \d+,\d"), "decimals separated by a comma"),
]


def test_vietnamese_handouts_write_numbers_the_vietnamese_way(bundled):
    for name, cr in bundled.items():
        for text in (render(cr, "vi")[0], render(cr, "vi", exercise=True)[1]):
            body = re.sub(r"`[^`]*`", "", text)
            body = THOUSANDS.sub("N", body)      # 20.480: the thousands dot is right
            for pattern, what in VI_WRONG_NUMBER:
                m = pattern.search(body)
                assert m is None, (name, what, body[max(m.start() - 60, 0):m.end() + 20])
    sample = render(bundled["lecture-sigmoid-neuron-steps"], "vi")[0]
    assert "tiết kiệm 52,9 %" in sample and "α = 0,1" in sample


NUMBER = re.compile(r"(?<![\w.,/])−?\d+(?:,\d+)?(?:/\d+)?(?![\w/])")


def numbers(text):
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    return set(NUMBER.findall("\n".join(lines)))


@pytest.mark.parametrize("name", ["lecture-sum-times", "lecture-sum-times-steps",
                                  "lecture-sigmoid-neuron", "lecture-sigmoid-neuron-steps",
                                  "lecture-colah-fan-out"])
def test_exercise_gives_away_no_answer(bundled, name):
    """The exercise has none of the answer key's numbers but the inputs (and the numbers the
    text itself states: the seed 1, 0 in "starting from 0", the optimizers' constants)."""
    cr = bundled[name]
    page, key = render(cr, "vi", exercise=True)
    case = cr.case
    given = {number_text(v, "vi") for v in case.at.values()}
    given |= {number_text(v, "vi") for row in case.data for v in row.values()}
    given |= {number_text(case.learning_rate or handout.DEFAULT_LEARNING_RATE, "vi")}
    given |= numbers(case.text) | numbers(" ".join(catalog("vi").values()))
    given |= numbers(" ".join(case.sources.values()))
    given |= numbers(handout._decimal_comma(" ".join(label for rows in
                                                      handout._WORKINGS.values()
                                                      for _, label in rows), "vi"))
    given |= {"1", "2"}     # the optimizers' steps t = 1, 2
    # The gradient check's steps h are given: the student computes the estimate with them.
    given |= numbers(" ".join(number_text(r.step, "vi") for r in gradient_check(cr)))
    leaked = (numbers(page) & numbers(key)) - given
    assert not leaked, leaked
    assert len(numbers(key) - given) > 5                     # the key does carry the answers
    assert page.count(handout.BLANK_MD) > 20


def test_lecture_handouts_follow_the_lecture(bundled):
    for name in ("lecture-sum-times", "lecture-sum-times-steps"):
        for lang, order in (("en", ["Step 1", "Step 2", "Step 3", "Backpropagation",
                                    "What was saved", "Forward mode", "Gradient check",
                                    "Gradient descent"]),
                            ("vi", ["Bước 1", "Bước 2", "Bước 3", "Lan truyền ngược",
                                    "Tiết kiệm", "Chế độ thuận", "Kiểm tra gradient",
                                    "Hạ gradient"])):
            text = render(bundled[name], lang)[0]
            headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
            assert [any(h.startswith(o) for h in headings[k:k + 1])
                    for k, o in enumerate(order)] == [True] * 8, headings
            assert "= −5**" in text                                     # Step 2: f = −5
            assert "**× ∂f2/∂f1\u00a0⟳**" in text                       # Step 3: recomputed
            assert "(5, 5, −1)" in text or "(5; 5; −1)" in text


def test_fan_out_adds_the_gradients(bundled):
    text = render(bundled["lecture-colah-fan-out"], "en")[0]
    assert "∂f/∂b = 2 + 3 = 5" in text                      # naive: the two paths' products
    assert "| ∂f/∂b = 3 + 2 = 5 |" in text                  # backprop: added where they meet
    assert "b is used 2 times: the gradients arriving along its edges are added" in text


def test_handout_files_get_ordinary_permissions(tmp_path):
    import os

    mask = os.umask(0o022)
    os.umask(mask)
    assert main(["handout", "lecture-sum-times", "--cases", str(LECTURE), "--lang", "vi",
                 "--dir", str(tmp_path / "h")]) == 0
    mode = (tmp_path / "h" / "lecture-sum-times.vi.md").stat().st_mode & 0o777
    assert mode == 0o666 & ~mask        # 0644 under the usual umask, not mkstemp's 0600


def test_names_and_numbers_as_mathematics():
    assert [handout.math_name(n) for n in ("theta0", "w_1", "x2", "theta", "f1.1", "loss")] \
        == ["θ₀", "w₁", "x₂", "θ", "f1.1", "loss"]
    assert handout.math_names(["x1", "x_1", "theta0"]) == {"x1": "x1", "x_1": "x_1",
                                                            "theta0": "θ₀"}
    assert handout.formula_text("1/(1 + e^-(theta0 + theta1*x))", {"theta0": "θ₀",
                                "theta1": "θ₁"}, "en") == "1/(1 + e^(−(θ₀ + θ₁·x)))"
    assert handout.formula_text("max(0.01*x, x)", {}, "vi") == "max(0,01·x, x)"
    assert handout.formula_text("Heaviside(x)", {}, "en") is None
    for x, en, vi in ((0.1, "0.1", "0,1"), (-4, "−4", "−4"), (1e-8, "1 × 10⁻⁸", "1 × 10⁻⁸"),
                      (123456, "123,456", "123.456"), (-0.25, "−1/4", "−1/4"),
                      (2 ** 70, "≈ 1.18 × 10²¹ (22 digits)", "≈ 1,18 × 10²¹ (22 chữ số)")):
        assert (number_text(x, "en"), number_text(x, "vi")) == (en, vi)
    assert handout.percent_text(52.9, "vi") == "52,9 %" and handout.percent_text(52.9, "en") \
        == "52.9%"


def test_numbers_shares_and_lists_as_a_reader_expects():
    """No stray + in 10²¹; a share that is not all never rounds to 100 %; a Vietnamese list
    of parameters is separated by semicolons like its numbers."""
    from compare.fmt import number_text

    assert number_text(2.03416e21, "vi") == "2,03416 × 10²¹"
    assert number_text(2.5e-12, "en") == "2.5 × 10⁻¹²"
    assert handout._share(2027248, 2027348) == 99.995 and handout._share(2, 10) == 20.0
    assert handout._share(10, 10) == 100.0 and handout._share(0, 10) == 0.0
    assert 0 < handout._share(1, 10**9) < 0.1


def test_vietnamese_parameter_vectors_use_semicolons():
    library = load_library(Path(__file__).resolve().parent.parent / "cases" / "lecture.yaml")
    cr = run_case(next(c for c in library.cases if c.name == "lecture-sigmoid-neuron"))
    text = handout.render(cr, "vi")[0]
    assert "θ = (θ₀; θ₁)" in text and "θ = (θ₀, θ₁)" not in text
    assert "| θ = (θ₀; θ₁) | (−3; 3) | (−2,95; 3,05) |" in text
