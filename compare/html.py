"""Handouts as one self-contained HTML file each: printable on A4, readable anywhere.

The markdown a handout is written in (compare.handout) is converted with markdown-it-py
(CommonMark with GitHub's tables), raw HTML off, so case text stays text.  Every ```mermaid
block is replaced by the case's graph drawn as an SVG circuit (compare.svg) from the engine's
trace, never by parsing the Mermaid text: the block's marker line (diagram.read_marker:
`%% gradcompare: values grads blank`) says what that diagram shows; a block without one is
drawn with values and gradients (blanks on an exercise page).  The page has no JavaScript and
loads nothing: styles are inline, diagrams are inline SVG, fonts are the reader's own (a stack
whose every member carries Vietnamese diacritics).

Print CSS: A4 pages; tables, diagrams and code never split across a page break, headings stay
with what follows, the answer key starts a new page; diagrams are drawn at their own size
(12 px = 9 pt text): compare.svg lays them out to fit an A4 text width, top down when left
to right does not fit; only a graph too wide even so is scaled down to the printed page.
On a narrower screen a wide table or diagram scrolls sideways inside itself, as on GitHub;
the page never does.
"""

from __future__ import annotations

import re
from html import escape, unescape
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, Optional, Sequence

from .diagram import read_marker

if TYPE_CHECKING:  # pragma: no cover
    from .engine import CaseRun
    from .errors import GradcompareError

FONTS = ('"Noto Sans", "DejaVu Sans", "Segoe UI", "Helvetica Neue", Arial, '
         '"Liberation Sans", sans-serif')
MONO = '"Noto Sans Mono", "DejaVu Sans Mono", Consolas, "Liberation Mono", monospace'
AGAIN = "⟳"

CSS = f"""
:root {{ color-scheme: light; }}
html {{ background: #ffffff; }}
body {{ font-family: {FONTS}; font-size: 11pt; line-height: 1.45; color: #1f2328;
  background: #ffffff; max-width: 182mm; margin: 0 auto; padding: 12px;
  overflow-wrap: break-word; }}
h1 {{ font-size: 17pt; line-height: 1.25; }}
h2 {{ font-size: 14pt; margin-top: 1.4em; border-bottom: 1px solid #d0d7de; }}
h3 {{ font-size: 12pt; }}
h1, h2, h3, h4 {{ break-after: avoid-page; page-break-after: avoid; }}
p, li {{ orphans: 3; widows: 3; }}
code {{ font-family: {MONO}; font-size: 0.92em; background: #f3f4f6; padding: 0 0.2em;
  border-radius: 3px; overflow-wrap: anywhere; }}
pre {{ white-space: pre-wrap; overflow-wrap: anywhere; background: #f3f4f6; padding: 8px;
  break-inside: avoid; }}
table {{ border-collapse: collapse; margin: 0.6em 0; max-width: 100%; font-size: 10pt;
  break-inside: avoid; page-break-inside: avoid; }}
thead {{ display: table-header-group; }}
tr {{ break-inside: avoid; page-break-inside: avoid; }}
th, td {{ border: 1px solid #8c959f; padding: 3px 7px; text-align: left;
  vertical-align: top; overflow-wrap: break-word; }}
th {{ background: #f0f3f6; }}
figure.graph {{ margin: 0.8em 0; break-inside: avoid; page-break-inside: avoid;
  overflow-x: auto; }}
figure.graph svg {{ display: block; max-width: none; height: auto; }}
figure.graph figcaption {{ font-size: 9.5pt; color: #424a53; margin-top: 4px; }}
.page-break {{ break-before: page; page-break-before: always; }}
hr {{ border: 0; border-top: 1px solid #d0d7de; }}
@media screen {{
  table {{ display: block; width: max-content; max-width: 100%; overflow-x: auto; }}
}}
@page {{ size: A4; margin: 14mm; }}
@media print {{
  body {{ max-width: none; padding: 0; }}
  figure.graph {{ overflow: visible; }}
  figure.graph svg {{ max-width: 100%; }}   /* only a graph wider than A4 even top down */
  a {{ color: inherit; text-decoration: none; }}
}}
"""

Diagram = Callable[[str], Optional[str]]


def page(markdown: str, lang: str = "en", diagram: Optional[Diagram] = None,
         title: Optional[str] = None) -> str:
    """The whole HTML document for `markdown`.

    `diagram(content)` returns the HTML (an SVG figure) that replaces a ```mermaid block, or
    None to keep the block as code.  Lines equal to compare.handout.PAGE_BREAK start a new
    printed page.
    """
    from .handout import PAGE_BREAK

    chunks = markdown.replace(f" {AGAIN}", f"\u00a0{AGAIN}").split(f"\n{PAGE_BREAK}\n")
    body = '\n<div class="page-break"></div>\n'.join(_body(c, diagram) for c in chunks)
    if title is None:
        title = next((unescape(re.sub(r"\\(.)", r"\1", ln[2:].strip()))   # markdown's escapes
                      for ln in markdown.splitlines() if ln.startswith("# ")), "gradcompare")
    return ("<!DOCTYPE html>\n"
            f'<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"{body}</body>\n</html>\n")


def _body(markdown: str, diagram: Optional[Diagram]) -> str:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    default_fence = md.renderer.rules.get("fence")

    def fence(renderer, tokens, idx, options, env):  # type: ignore[no-untyped-def]
        token = tokens[idx]
        info = token.info.strip().split()
        if diagram is not None and info and info[0] == "mermaid":
            figure = diagram(token.content)
            if figure is not None:
                return figure
        return default_fence(tokens, idx, options, env)

    md.add_render_rule("fence", fence)
    return md.render(markdown)


def case_diagram(cr: "CaseRun", lang: str, blank_default: bool = False, *,
                 names: Optional[Mapping[int, str]] = None,
                 write: Optional[Callable[[Optional[float]], str]] = None) -> Diagram:
    """The `diagram` callback for pages about one case: its graph drawn from its trace.

    `names` (node -> name) and `write` (a number as text) default to the ones the handout's
    text uses (compare.handout.page_names, fmt.number_text): θ₀ and 0,5 in the drawing as in
    the words around it.
    """
    from .engine import trace_of
    from .fmt import number_text
    from .handout import Messages, page_names
    from .svg import circuit

    trace = trace_of(cr)
    graph = cr.case.graph
    if names is None:
        names = page_names(graph, trace.live, lang)[0]
    if write is None:
        def write(x: Optional[float]) -> str:
            return number_text(x, lang)
    msg = Messages(lang)
    legend = {"LR": msg("figure_legend_lr"), "TD": msg("figure_legend_td")}

    def draw(content: str) -> Optional[str]:
        shows = read_marker(content)
        if shows is None:
            shows = frozenset({"values", "grads"} | ({"blank"} if blank_default else set()))
        values = trace.values if "values" in shows else None
        grads = trace.grads if "grads" in shows else None
        svg = circuit(graph, values, grads, trace.rows if grads is not None else None,
                      names=names, blank="blank" in shows, write=write)
        if svg is None:
            return None
        direction = "TD" if 'data-direction="TD"' in svg else "LR"
        caption = legend[direction] if values is not None or grads is not None else ""
        cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
        return f'<figure class="graph">\n{svg}\n{cap}</figure>\n'

    return draw


def handout_pages(runs: Sequence["CaseRun"], files: dict[str, str]) -> dict[str, str]:
    """HTML for every markdown handout in `files` (as compare.handout.handout_set names them,
    `<case>.<lang>[.exercise|.answers].md`), each drawn from its case's run: `x.md` -> `x.html`.
    """
    from .handout import LANGUAGES

    out: dict[str, str] = {}
    for cr in runs:
        for lang in LANGUAGES:
            for kind in ("", ".exercise", ".answers"):
                stem = f"{cr.case.name}.{lang}{kind}"
                if f"{stem}.md" in files:
                    out[f"{stem}.html"] = page(files[f"{stem}.md"], lang,
                                               case_diagram(cr, lang, kind == ".exercise"))
    return out


def write_handouts(runs: Sequence["CaseRun"], out_dir: Path, langs: Sequence[str],
                   exercise: bool = False, lr: Optional[float] = None
                   ) -> tuple[list[Path], list["GradcompareError"]]:
    """As compare.handout.write_handouts, as HTML pages (`<case>.<lang>….html`)."""
    from .files import OutputFolder
    from .handout import handout_set

    files, errors = handout_set(runs, langs, exercise, lr)
    pages = handout_pages(runs, files)
    written = OutputFolder(Path(out_dir), "--dir").write_all(pages) if pages else []
    return written, errors


def handout(cr: "CaseRun", lang: str = "en", exercise: bool = False,
            lr: Optional[float] = None) -> tuple[str, Optional[str]]:
    """The HTML handout of one case: (page, answer key or None), as compare.handout.render."""
    from .handout import render

    text, key = render(cr, lang, exercise, lr)
    first = page(text, lang, case_diagram(cr, lang, exercise))
    return first, (page(key, lang, case_diagram(cr, lang)) if key is not None else None)


__all__ = ["CSS", "FONTS", "case_diagram", "handout", "handout_pages", "page",
           "write_handouts"]
