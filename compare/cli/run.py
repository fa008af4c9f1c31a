"""`gradcompare run`: every method on the selected cases, printed as one tidy table."""

from __future__ import annotations

import argparse
import sys

from ..errors import rejected_count
from .common import (EXIT_INVALID, EXIT_OK, format_option, jobs_option, methods_option,
                     print_errors, run_selected)

READS_CASES = True
HELP = "Run every method on the cases and print a table."
EXAMPLE = "gradcompare run --case lecture-sum-times --table gradients --format csv"


def add(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("run", parents=[parent], help=HELP, description=HELP + "  csv and json "
                       "carry every number exactly (floats round-trip, counts as integers).",
                       epilog=f"Example: {EXAMPLE}")
    p.add_argument("--table", choices=["cases", "costs", "gradients"], default="cases",
                   help="which table: one row per case (default), per (case, method), or per "
                        "(case, method, variable)")
    format_option(p)
    methods_option(p)
    jobs_option(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from ..tables import TABLES, render

    run = run_selected(args, "run", note_to=sys.stderr)
    if run.runs:
        sys.stdout.write(render(TABLES[args.table](run), args.format))
    if run.errors:
        print(f"\n{rejected_count(run.errors)} rejected:", file=sys.stderr)
        print_errors(run.errors)
        return EXIT_INVALID
    return EXIT_OK
