"""`gradcompare report`: the markdown report (index, a page per case, plots, handouts)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import rejected_count
from ..fmt import plural
from .conformance import engine_option, engines_of, run_conformance
from .common import (EXIT_INVALID, EXIT_OK, jobs_option, methods_option, print_errors,
                     run_selected)

READS_CASES = True
HELP = "Write markdown reports: an index, a page per case, and the lecture cases' handouts."
EXAMPLE = "gradcompare report --out reports"


def add(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("report", parents=[parent], help=HELP, description=HELP,
                       epilog=f"Example: {EXAMPLE}")
    p.add_argument("--out", metavar="DIR", default="reports",
                   help="output folder (default: reports)")
    p.add_argument("--handouts", metavar="TAG", default="lecture",
                   help="also write handouts (both languages) of the cases with this tag into "
                        "DIR/handouts/ (default: lecture; '' for none)")
    p.add_argument("--html", action="store_true",
                   help="also write each handout as one self-contained HTML page (diagrams "
                        "drawn as SVG, laid out for printing on A4) beside its markdown")
    methods_option(p)
    jobs_option(p)
    engine_option(p, "also run the cases (a conformance page linked from the index)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from ..report import write_report

    engines = engines_of(args)
    run = run_selected(args, "report", record=True)
    conformance = None
    if engines is not None:
        reuse = run if {"backprop", "sympy"} <= set(run.methods) else None
        conformance = run_conformance(args, engines, reference_run=reuse)
    out = Path(args.out)
    written, skipped = write_report(run, out, handout_tag=args.handouts or None,
                                  html=args.html, conformance=conformance)
    print(f"wrote {plural(len(written), 'file')} to {out}/ ({plural(len(run.runs), 'case')}, "
          f"{run.verdicts_text()}, {rejected_count(run.errors)} rejected)")
    print_errors(skipped, prefix="no handout")
    print_errors(run.errors)
    return EXIT_INVALID if run.errors else EXIT_OK
