"""`gradcompare list`: the cases of the library, as plain text in a terminal."""

from __future__ import annotations

import argparse

from ..errors import rejected_count
from ..fmt import plural
from .common import (EXIT_INVALID, EXIT_OK, library_line, load_selected, print_errors,
                     text_table)

READS_CASES = True
HELP = "List the cases of the library."
EXAMPLE = "gradcompare list --tag lecture"


def add(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("list", parents=[parent], help=HELP, description=HELP,
                       epilog=f"Example: {EXAMPLE}")
    p.add_argument("--format", choices=["table", "markdown"], default="table",
                   help="plain text (default) or a markdown table")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    library, _ = load_selected(args)
    line = library_line(args)
    if line:
        print(line)
    headers = ["case", "where", "tags", "variables", "title"]
    rows = [[c.name, f"{c.file}:{c.line}", ",".join(c.tags), ", ".join(c.wrt),
             c.title or c.text] for c in library.cases]
    if rows and args.format == "markdown":
        from ..markdown import md_table

        print(md_table(rows, headers))
    elif rows:
        print(text_table(rows, headers, width=200))
    print(f"{plural(len(library.cases), 'case')} in {plural(len(library.files), 'file')}"
          + (f", {rejected_count(library.errors)} rejected" if library.errors else ""))
    print_errors(library.errors)
    return EXIT_INVALID if library.errors else EXIT_OK
