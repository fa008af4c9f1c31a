"""`gradcompare handout`: lecture handouts in English and Vietnamese."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from ..errors import GradcompareError
from ..fmt import plural
from .common import (EXIT_INVALID, EXIT_OK, Progress, library_line, load_selected,
                     print_errors, warn_sympy_shortfall)

READS_CASES = True
LANGUAGES = ("en", "vi")          # compare.handout.LANGUAGES, without importing it
DEFAULT_DIR = "handouts"
DEFAULT_LEARNING_RATE = 0.1       # compare.handout.DEFAULT_LEARNING_RATE (a test ties them)
FORMATS = ("md", "html")
HELP = "Write lecture handouts (English and Vietnamese) that walk through a case step by step."
EPILOG = f"""\
Examples:
  gradcompare handout lecture-sum-times --lang vi --out handout.vi.md
  gradcompare handout --tag lecture                 # {DEFAULT_DIR}/<name>.{{en,vi}}.md
  gradcompare handout lecture-sum-times --exercise  # blanks, answer key in its own file
  gradcompare handout lecture-sum-times --lang en --out -   # print to the terminal
  gradcompare handout --tag lecture --format html   # one printable page each, diagrams drawn"""


def add(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("handout", parents=[parent], help=HELP, description=HELP
                       + " Without NAME (or --case/--tag) every case gets a handout.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", nargs="?", metavar="NAME", help="the case (same as --case NAME)")
    p.add_argument("--lang", choices=LANGUAGES, help="one language (default: both)")
    p.add_argument("--exercise", action="store_true",
                   help="values and gradients left blank; the answer key goes in its own file")
    p.add_argument("--out", metavar="FILE",
                   help="write one handout to FILE ('-' prints it); needs one case and --lang")
    p.add_argument("--dir", metavar="DIR", default=DEFAULT_DIR,
                   help=f"folder for the handouts when --out is not given (default: "
                        f"./{DEFAULT_DIR}; `gradcompare report` writes the lecture cases' "
                        f"handouts into reports/handouts/)")
    p.add_argument("--format", choices=FORMATS, default="md",
                   help="md: markdown with Mermaid diagrams (default); html: one self-contained "
                        "page per handout (no scripts, no network), diagrams drawn as SVG, "
                        "laid out for printing on A4")
    p.add_argument("--lr", metavar="ALPHA", type=float,
                   help="learning rate of the gradient-descent step (default: the case's "
                        f"learning_rate, else {DEFAULT_LEARNING_RATE})")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from ..engine import run_library
    from ..files import check_output_file, write_atomic
    from ..handout import PAGE_BREAK, render, write_handouts

    if args.lr is not None and not (math.isfinite(args.lr) and args.lr > 0):
        raise GradcompareError(f"--lr expects a positive number, got {args.lr:g}")
    if args.name:
        args.case = [args.name, *[n for n in args.case if n != args.name]]
    library, limits = load_selected(args)
    if library.errors:
        print_errors(library.errors)
        if not library.cases:
            return EXIT_INVALID
    if not library.cases:
        raise GradcompareError("no cases selected")
    langs = [args.lang] if args.lang else list(LANGUAGES)
    if args.out is not None and args.out != "-":
        check_output_file(args.out, "--out")   # before any work
    if args.out and (len(library.cases) != 1 or len(langs) != 1):
        raise GradcompareError(f"--out writes one handout: select one case and one "
                               f"language (--lang {' or --lang '.join(LANGUAGES)}); "
                               f"selected {len(library.cases)} case(s), {len(langs)} "
                               f"language(s)")
    line = library_line(args)
    if line and not args.out:   # --out: one file (or stdout), and one line if it fails
        print(line)
    # The whole selection at once: SymPy on every core, under the library-wide budget.
    runs = run_library(library, limits=limits, record=True,
                       progress=Progress("handout")).runs
    warn_sympy_shortfall(runs)
    status = EXIT_INVALID if library.errors else EXIT_OK
    html = args.format == "html"
    if args.out:
        if html:
            from ..html import handout as html_handout

            page, key = html_handout(runs[0], langs[0], args.exercise, args.lr)
        else:
            page, key = render(runs[0], langs[0], args.exercise, args.lr)
        if args.out == "-":
            if key and html:
                sys.stdout.write(page + key)      # two documents, the answer key second
            else:
                sys.stdout.write(page + (f"\n{PAGE_BREAK}\n\n{key}" if key else ""))
            return status
        out = check_output_file(args.out, "--out")
        answers = out.with_name(f"{out.stem}.answers{out.suffix or '.' + args.format}")
        if key is not None:
            check_output_file(answers, "--out")
        write_atomic(out, page)
        written = [out]
        if key is not None:
            write_atomic(answers, key)
            written.append(answers)
        print("wrote " + ", ".join(str(p) for p in written))
        return status
    if html:
        from ..html import write_handouts as write_html

        written, errors = write_html(runs, Path(args.dir), langs, args.exercise, args.lr)
    else:
        written, errors = write_handouts(runs, Path(args.dir), langs, args.exercise, args.lr)
    print(f"wrote {plural(len(written), 'handout')} to {args.dir}/ "
          f"({plural(len(runs) - len(errors), 'case')}, {plural(len(langs), 'language')})")
    print_errors(errors, prefix="skipped")
    if errors and len(runs) == 1:
        return EXIT_INVALID
    return status
