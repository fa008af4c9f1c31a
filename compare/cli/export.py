"""`gradcompare export`: the case library with exact references, for other engines."""

from __future__ import annotations

import argparse
import sys

from ..errors import rejected_count
from .common import EXIT_INVALID, EXIT_OK, jobs_option, print_errors, run_selected

READS_CASES = True
HELP = "Write the cases with their exact values and gradients as JSON, for other engines."
EXAMPLE = "gradcompare export --format json --out cases.json"


def add(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "export", parents=[parent], help=HELP,
        description=HELP + "  Each case: its nodes in topological order, its point, and its "
        "reference value and gradient, every number as a float with its exact value as text "
        "beside it (rationals as p/q).",
        epilog=f"Example: {EXAMPLE}")
    p.add_argument("--format", choices=["json"], default="json",
                   help="the document's format (json)")
    p.add_argument("--out", metavar="FILE", default="-",
                   help="the file to write (replacing it); - prints it (default)")
    jobs_option(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    import json

    from ..export import document
    from ..files import check_output_file, write_atomic

    if args.out != "-":
        check_output_file(args.out, "--out")
    args.methods = "backprop,sympy"   # the reference needs these two only
    run = run_selected(args, "export", note_to=sys.stderr)
    text = json.dumps(document(run), indent=1, ensure_ascii=True) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        write_atomic(check_output_file(args.out, "--out"), text)
        print(f"wrote {len(run.runs)} cases to {args.out} ({rejected_count(run.errors)} "
              f"rejected)", file=sys.stderr)
    print_errors(run.errors)
    return EXIT_INVALID if run.errors else EXIT_OK
