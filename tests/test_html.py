"""compare.svg and compare.html: handouts as self-contained pages, tested as a reader sees them.

The last tests render the lecture handouts in headless Chromium (skipped when it is absent; CI
installs Debian's `chromium`): two launches per session, one measuring the pages at an A4 text
width and a phone width (--dump-dom of a harness page; the handouts themselves have no script),
one printing them to PDF to find where each table falls.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import xml.etree.ElementTree as ET
from html import escape
from pathlib import Path

import pytest

from compare.cases import load_library
from compare.cli import main
from compare.cotangent import sweep
from compare.diagram import MARKER, mermaid, node_names, read_marker
from compare.engine import run_case
from compare.forward import forward
from compare.handout import catalog
from compare.html import handout, page
from compare.parser import parse, parse_steps
from compare.svg import COLOR, FONT_PX, MAX_WIDTH, circuit

CASES = Path(__file__).resolve().parent.parent / "cases" / "lecture.yaml"
LECTURE = ("lecture-sum-times-steps", "lecture-sigmoid-neuron")
SVG = "{http://www.w3.org/2000/svg}"
A4_TEXT_PX = 688          # 210 mm less two 14 mm margins, in CSS px (96 per inch)
PHONE_PX = 375


def drawn(graph, point, wrt, **options):
    fw = forward(graph, point)
    s = sweep(graph, fw.values, graph.depends_bytes(wrt), record=True)
    grads = {i: g for i, g in enumerate(s.grad) if g is not None}
    return circuit(graph, fw.values, grads, s.rows, **options)


def texts_by_colour(svg: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for t in ET.fromstring(svg).iter(f"{SVG}text"):
        out.setdefault(t.get("fill"), []).append(t.text)
    return out


@pytest.fixture(scope="module")
def runs():
    library = load_library(CASES)
    return {c.name: run_case(c, record=True) for c in library.cases if c.name in LECTURE}


# -- the circuit ---------------------------------------------------------------------------
def test_lecture_circuit_values_above_gradients_below_locals_on_wires():
    g = parse_steps({"f1": "x + y", "f2": "f1 * z"})
    svg = drawn(g, {"x": 3, "y": -4, "z": 5}, ["x", "y", "z"])
    root = ET.fromstring(svg)
    assert root.get("data-direction") == "LR" and float(root.get("width")) <= MAX_WIDTH
    assert float(root.get("font-size")) >= FONT_PX == 12       # 9 pt printed
    assert not any(t.get("font-size") for t in root.iter(f"{SVG}text"))
    by = texts_by_colour(svg)
    assert sorted(by[COLOR["value"]]) == sorted(["3", "−4", "5", "−1", "−5"])
    assert sorted(by[COLOR["grad"]]) == sorted(["5", "5", "−1", "5", "1"])   # x y z f1, seed
    assert sorted(by[COLOR["local"]]) == sorted(["1", "1", "5", "−1"])      # one per edge
    assert {"f1", "x + y", "f2", "f1 · z", "x", "y", "z", "f"} <= set(by[COLOR["text"]])
    # values above the wire, gradients below: each input's value sits higher than its gradient
    ys = {}
    for t in root.iter(f"{SVG}text"):
        ys.setdefault((t.text, t.get("fill")), []).append(float(t.get("y")))
    assert min(ys[("3", COLOR["value"])]) < min(ys[("5", COLOR["grad"])])


def test_argument_order_and_constants_written_into_their_operation():
    g = parse("1 / (1 + exp(-(w * x)))")
    svg = drawn(g, {"w": 2, "x": -1}, ["w", "x"], direction="LR")
    text = texts_by_colour(svg)[COLOR["text"]]
    assert "1 / f4" in text and "1 + f3" in text      # numerator and denominator named
    assert "1" not in text                             # the constant is not a box of its own
    quotient = parse("a / b")
    labels = texts_by_colour(drawn(quotient, {"a": 1, "b": 2}, ["a", "b"]))
    assert "a / b" in labels[COLOR["text"]]
    assert sorted(labels[COLOR["local"]]) == ["1/2", "−1/4"]     # ∂/∂a = 1/b, ∂/∂b = −a/b²


def test_gradients_add_where_paths_meet():
    g = parse("(a + b) * (b + 1)")        # colah: de/db = 1·2 + 1·3 = 5
    by = texts_by_colour(drawn(g, {"a": 2, "b": 1}, ["a", "b"]))
    assert {"2 + 3 = 5", "3 + 2 = 5"} & set(by[COLOR["grad"]])
    neg = texts_by_colour(drawn(parse("a * (0 - a)"), {"a": 1}, ["a"]))
    assert any(re.fullmatch(r"−?1 \+ \(−1\) = −2", t) for t in neg[COLOR["grad"]])


def test_exercise_circuit_keeps_inputs_and_seed_blanks_the_rest():
    g = parse_steps({"f1": "x + y", "f2": "f1 * z"})
    svg = drawn(g, {"x": 3, "y": -4, "z": 5}, ["x", "y", "z"], blank=True)
    by = texts_by_colour(svg)
    assert sorted(by[COLOR["value"]]) == sorted(["3", "−4", "5"])     # the inputs are given
    assert by[COLOR["grad"]] == ["1"] and COLOR["local"] not in by    # the seed is given
    boxes: dict[str, int] = {}
    for r in ET.fromstring(svg).iter(f"{SVG}rect"):
        if r.get("data-blank"):
            assert float(r.get("width")) >= 50 and float(r.get("height")) >= 18  # to write in
            boxes[r.get("stroke")] = boxes.get(r.get("stroke"), 0) + 1
    assert boxes == {COLOR["value"]: 2, COLOR["grad"]: 4, COLOR["local"]: 4}


def test_deep_graph_goes_top_down_and_large_graph_is_not_drawn():
    g = parse("1 / (1 + exp(-(theta0 + theta1 * x)))")
    svg = drawn(g, {"x": 1, "theta0": -3, "theta1": 3}, ["x", "theta0", "theta1"])
    root = ET.fromstring(svg)
    assert root.get("data-direction") == "TD" and float(root.get("width")) <= MAX_WIDTH
    big = parse(" + ".join(f"x{i} * y{i}" for i in range(30)))
    assert drawn(big, {**{f"x{i}": 1 for i in range(30)}, **{f"y{i}": 2 for i in range(30)}},
                 ["x0"]) is None


def test_case_text_is_escaped_in_the_svg():
    g = parse("x + y")
    names = {i: ("<x&" if n == "x" else n) for i, n in node_names(g).items()}
    svg = circuit(g, names=names)
    ET.fromstring(svg)                       # well-formed: the name was escaped
    assert "<x&" not in svg and "&lt;x&amp;" in svg and "&lt;x&amp; + y" in svg


# -- mermaid for GitHub --------------------------------------------------------------------
def test_mermaid_classes_set_a_text_colour_and_carry_the_marker():
    g = parse_steps({"f1": "x + y", "f2": "f1 * z"})
    fw = forward(g, {"x": 3, "y": -4, "z": 5})
    text = mermaid(g, fw.values, {g.output: 1.0}, blank=True)
    class_defs = [ln for ln in text.splitlines() if ln.strip().startswith("classDef")]
    assert len(class_defs) == 4 and all("color:#" in ln for ln in class_defs)
    classed = {n for ln in text.splitlines() if ln.strip().startswith("class ")
               for n in ln.split()[1].split(",")}
    declared = set(re.findall(r"^  (n\d+)[\[\(]", text, re.M))
    assert declared and declared <= classed          # every box is light with dark text
    assert text.splitlines()[1].strip().startswith(MARKER)
    assert read_marker(text) == {"values", "grads", "blank"}
    assert read_marker(mermaid(g)) == frozenset() and read_marker("flowchart LR\n") is None


# -- the page --------------------------------------------------------------------------------
def test_page_is_self_contained_and_escapes_text():
    html = page("# T <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
                "| a | b |\n|---|---|\n| 1 | 2 |\n\n```mermaid\nflowchart LR\n```\n",
                "vi", diagram=lambda content: None)
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert '<html lang="vi">' in html and '<meta charset="utf-8">' in html
    assert "<table>" in html and 'class="language-mermaid"' in html
    assert not re.search(r"<[a-z][^>]*\s(src|href)=", html)      # nothing loaded
    assert not re.search(r"<link|@import|url\(|https?://(?!www\.w3\.org/2000/svg)", html)


def test_handout_pages_draw_every_diagram_from_the_trace(runs):
    for name, cr in runs.items():
        for lang in ("en", "vi"):
            html, key = handout(cr, lang)
            assert key is None and "```mermaid" not in html and "language-mermaid" not in html
            assert html.count("<svg") >= 1 and "<script" not in html
            legend = "figure_legend_lr" if name == LECTURE[0] else "figure_legend_td"
            assert escape(catalog(lang)[legend]) in html
            drawing = html.split("<svg")[1]
            if name == LECTURE[0]:
                assert "−5" in drawing       # f = −5 on the output wire
            else:   # the drawing names its nodes as the page does: θ₀, not theta0
                assert "θ₀" in drawing and "theta0" not in drawing
            for svg in re.findall(r"<svg.*?</svg>", html, re.S):
                ET.fromstring(svg)
            ex, answers = handout(cr, lang, exercise=True)
            assert answers is not None and answers.count("<svg") >= 1
            if "<svg" in ex:
                assert 'data-blank="1"' in ex.split("<svg")[1].split("</svg>")[0]


def test_cli_writes_html_handouts_with_ordinary_permissions(tmp_path, capsys):
    out = tmp_path / "one.html"
    assert main(["handout", "lecture-sum-times-steps", "--cases", str(CASES), "--lang", "vi",
                 "--exercise", "--format", "html", "--out", str(out)]) == 0
    answers = tmp_path / "one.answers.html"
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "<svg" in answers.read_text(encoding="utf-8")
    folder = tmp_path / "h"
    assert main(["handout", "--cases", str(CASES), "--case", "lecture-sum-times-steps",
                 "--format", "html", "--dir", str(folder)]) == 0
    names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    assert names == ["lecture-sum-times-steps.en.html", "lecture-sum-times-steps.vi.html"]
    mask = os.umask(0)
    os.umask(mask)
    for p in [out, answers, *(folder / n for n in names)]:
        assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask


def test_report_html_writes_each_handout_beside_its_markdown(tmp_path):
    out = tmp_path / "r"
    assert main(["report", "--cases", str(CASES), "--case", "lecture-sum-times-steps",
                 "--html", "--out", str(out)]) == 0
    names = sorted(p.name for p in (out / "handouts").iterdir())
    assert names == [f"lecture-sum-times-steps.{lang}.{ext}"
                     for lang in ("en", "vi") for ext in ("html", "md")]
    html = (out / "handouts" / "lecture-sum-times-steps.vi.html").read_text(encoding="utf-8")
    md = (out / "handouts" / "lecture-sum-times-steps.vi.md").read_text(encoding="utf-8")
    assert "<svg" in html and md.splitlines()[0][2:] in html     # the same handout, drawn


# -- in a browser ----------------------------------------------------------------------------
def _chromium() -> str | None:
    for name in (os.environ.get("GRADCOMPARE_CHROMIUM", ""), "chromium", "chromium-browser",
                 "google-chrome", "google-chrome-stable"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _launch(chrome: str, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([chrome, "--headless", "--no-sandbox", "--disable-gpu",
                           "--no-first-run", "--no-default-browser-check",
                           "--disable-extensions", f"--user-data-dir={tmp / 'profile'}",
                           *args], capture_output=True, text=True, timeout=180)


MEASURE = """
<script>
window.addEventListener('load', () => {
  const res = [];
  for (const fr of document.querySelectorAll('iframe')) {
    const d = fr.contentDocument, root = d.documentElement;
    const r = {name: fr.dataset.name, width: fr.clientWidth, scrollWidth: root.scrollWidth,
               clientWidth: root.clientWidth, svgs: 0, texts: 0, minPx: 1e9, clipped: [],
               overlaps: [], scrolls: []};
    for (const e of d.querySelectorAll('table, figure, pre'))
      if (e.scrollWidth > e.clientWidth + 1) r.scrolls.push(e.tagName + ':' + (e.querySelector('th') ? e.querySelector('th').textContent + '|' + e.querySelectorAll('th').length : ''));
    for (const s of d.querySelectorAll('svg')) {
      r.svgs++;
      const box = s.getBoundingClientRect(), scale = box.width / s.viewBox.baseVal.width;
      const rects = [];
      for (const t of s.querySelectorAll('text')) {
        r.texts++;
        r.minPx = Math.min(r.minPx, parseFloat(getComputedStyle(t).fontSize) * scale);
        const b = t.getBoundingClientRect();
        if (b.left < box.left - 1 || b.right > box.right + 1 || b.top < box.top - 1
            || b.bottom > box.bottom + 1) r.clipped.push(t.textContent);
        for (const [o, text] of rects) {
          const w = Math.min(b.right, o.right) - Math.max(b.left, o.left);
          const h = Math.min(b.bottom, o.bottom) - Math.max(b.top, o.top);
          if (w > 1 && h > 3) r.overlaps.push([text, t.textContent]);
        }
        rects.push([b, t.textContent]);
      }
    }
    res.push(r);
  }
  document.getElementById('out').textContent = JSON.stringify(res);
});
</script>"""


@pytest.fixture(scope="module")
def rendered(runs, tmp_path_factory):
    chrome = _chromium()
    if chrome is None:
        if os.environ.get("GRADCOMPARE_REQUIRE_BROWSER"):
            pytest.fail("GRADCOMPARE_REQUIRE_BROWSER is set but no Chromium was found")
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("chromium")
    pages = {f"{name}.{lang}": handout(cr, lang)[0]
             for name, cr in runs.items() for lang in ("en", "vi")}
    frames = "\n".join(
        f'<iframe data-name="{name}.{width}" style="width:{width}px;height:600px;border:0" '
        f'srcdoc="{escape(html)}"></iframe>'
        for name, html in pages.items() for width in (A4_TEXT_PX, PHONE_PX))
    harness = tmp / "measure.html"
    harness.write_text(f"<!DOCTYPE html><html><body>{frames}<pre id='out'></pre>"
                       f"{MEASURE}</body></html>", encoding="utf-8")
    dom = _launch(chrome, tmp, "--virtual-time-budget=20000", "--dump-dom",
                  harness.as_uri())
    found = re.search(r"<pre id=\"out\">(.*?)</pre>", dom.stdout, re.S)
    assert found, f"Chromium gave no measurements: {dom.stderr[-2000:]}"
    measures = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    # One PDF of all four pages (same CSS), every table marked in its first and last row by
    # an absolutely positioned white word: it moves with its cell and takes no room.
    tables = 0

    def mark(m: re.Match) -> str:
        nonlocal tables
        tables += 1
        t = m.group(0)
        t = t.replace("<th>", f'<th><span class="tm">TBL{tables}A</span>', 1)
        last = t.rfind("<td>")
        return t[:last] + f'<td><span class="tm">TBL{tables}Z</span>' + t[last + 4:]

    # Three 25-row tables (each about half a page) make sure some table meets a page break.
    rows = "".join(f"| {k} | {k / 7:.6f} | ∂f/∂x{k} |\n" for k in range(25))
    straddle = page("\n\n".join(f"Table {t}\n\n| # | value | name |\n|---|---|---|\n{rows}"
                                  for t in range(3)))
    head = next(iter(pages.values())).split("<body>")[0]
    bodies = [h.split("<body>")[1].split("</body>")[0] for h in [*pages.values(), straddle]]
    combined = (head.replace("</style>", "th, td { position: relative; } .tm { position: "
                             "absolute; left: 0; top: 0; font-size: 4px; color: #fff; }"
                             "</style>")
                + "<body>" + '<div class="page-break"></div>'.join(bodies) + "</body></html>")
    combined = re.sub(r"<table>.*?</table>", mark, combined, flags=re.S)
    printable = tmp / "print.html"
    printable.write_text(combined, encoding="utf-8")
    pdf = tmp / "print.pdf"
    _launch(chrome, tmp, "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
            printable.as_uri())
    assert pdf.exists(), "Chromium printed no PDF"
    return {"measures": measures, "pdf": pdf, "tables": tables, "pages": pages}


def test_pages_fit_a4_and_a_phone_and_diagram_text_is_9pt(rendered):
    measures = rendered["measures"]
    assert len(measures) == 2 * len(rendered["pages"])
    for m in measures:
        assert m["scrollWidth"] <= m["clientWidth"], m        # no horizontal overflow
        assert m["svgs"] >= 1 and m["texts"] > 5, m
        assert not m["clipped"], m                             # no label cut off
        assert not m["overlaps"], m                            # no label over another
        if m["name"].endswith(f".{A4_TEXT_PX}"):
            assert m["minPx"] >= 12 - 1e-6, m                  # 12 px = 9 pt printed
            assert not m["scrolls"], m         # at A4 width nothing needs to scroll


def test_printing_to_pdf_splits_no_table(rendered):
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(str(rendered["pdf"]))
    assert len(reader.pages) >= 6                 # four handouts, each from a new page
    where: dict[str, int] = {}         # first page of a table's head, last of its last row
    for number, pdf_page in enumerate(reader.pages):
        for marker in re.findall(r"TBL\d+[AZ]", pdf_page.extract_text() or ""):
            where[marker] = where.get(marker, number) if marker.endswith("A") else number
    assert rendered["tables"] >= 8 + 3
    for k in range(1, rendered["tables"] + 1):
        assert f"TBL{k}A" in where and f"TBL{k}Z" in where, (k, sorted(where))
        assert where[f"TBL{k}A"] == where[f"TBL{k}Z"], f"table {k} is split across pages"


def test_the_drawing_writes_numbers_as_its_page_does():
    """Vietnamese pages write 0,5 in the circuit as in the text (one formatter for both)."""
    library = load_library(Path(__file__).resolve().parent.parent / "cases" / "activations.yaml")
    cr = run_case(next(c for c in library.cases if c.name == "act-elu-negative"), record=True)
    texts = {}
    for lang in ("en", "vi"):
        svg = re.findall(r"<svg.*?</svg>", handout(cr, lang)[0], re.S)[0]
        texts[lang] = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "0.606531" in texts["en"] and "0,606531" in texts["vi"]      # e^(−1/2)
    assert not [t for t in texts["vi"] if re.search(r"\d\.\d", t)]


def test_the_page_title_is_escaped_once():
    html = page("# A <b> & C\n\ntext\n".replace("<", "&lt;"), "en", diagram=lambda c: None)
    assert "<title>A &lt;b&gt; &amp; C</title>" in html
