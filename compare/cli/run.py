"""`gradcompare run`: every method on the selected cases, printed as one tidy table."""

from __future__ import annotations

import argparse
import sys

from ..errors import rejected_count
from .common import (EXIT_INVALID, EXIT_OK, Progress, chosen_methods, jobs_option,
                     library_line, load_selected, methods_option, print_errors, require_cases)

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
    p.add_argument("--format", choices=["table", "csv", "json", "markdown"], default="table")
    methods_option(p)
    jobs_option(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from ..engine import run_library
    from ..tables import TABLES, render

    library, limits = load_selected(args)
    require_cases(library, args)
    line = library_line(args)
    if line:
        print(line, file=sys.stderr)
    run = run_library(library, chosen_methods(args), limits, progress=Progress("run"),
                      jobs=args.jobs)
    if run.runs:
        sys.stdout.write(render(TABLES[args.table](run), args.format))
    if run.errors:
        print(f"\n{rejected_count(run.errors)} rejected:", file=sys.stderr)
        print_errors(run.errors)
        return EXIT_INVALID
    return EXIT_OK
