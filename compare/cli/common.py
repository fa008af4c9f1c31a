"""What every command shares: options, case selection, messages, exit codes, progress.

Only the CLI layer speaks argparse.  Nothing here imports SymPy, pandas or matplotlib: a
command pays for a heavy library only when it uses one.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

from ..errors import GradcompareError, printable
from ..limits import DEFAULT_LIMITS, Limits

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
METHOD_NAMES = ("naive", "backprop", "sympy", "forward", "numeric")   # compare.methods.METHODS, without importing it


class Progress:
    """A one-line progress bar on stderr, shown only when stderr is a terminal."""

    def __init__(self, label: str, enabled: Optional[bool] = None) -> None:
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled

    def __call__(self, done: int, total: int, name: str) -> None:
        if not self.enabled or total == 0:
            return
        width = 30
        filled = int(width * done / total)
        bar = "#" * filled + "-" * (width - filled)
        end = "\n" if done >= total else ""
        shown = printable(name[:30])
        sys.stderr.write(f"\r{self.label} [{bar}] {done}/{total} {shown:<30}{end}")
        sys.stderr.flush()


def parse_limits(pairs: Sequence[str]) -> Limits:
    """--limit NAME=VALUE options -> Limits (compare.limits holds the names and defaults)."""
    overrides = {}
    for pair in pairs or ():
        if "=" not in pair:
            raise GradcompareError(f"--limit expects NAME=VALUE, got '{pair}'; names: "
                                   f"{', '.join(Limits.names())}")
        name, value = pair.split("=", 1)
        overrides[name.strip()] = value.strip()
    return DEFAULT_LIMITS.with_overrides(overrides)


def limit_parent() -> argparse.ArgumentParser:
    """The --limit option, shared by every command."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--limit", metavar="NAME=VALUE", action="append", default=[],
                   help="raise or lower a limit, e.g. --limit sympy_seconds=60 "
                        f"(names: {', '.join(Limits.names())}; ranges in docs/case-format.md)")
    return p


def common_parent() -> argparse.ArgumentParser:
    """Options every command that reads cases shares."""
    p = argparse.ArgumentParser(add_help=False, parents=[limit_parent()])
    g = p.add_argument_group("selecting cases")
    g.add_argument("--cases", metavar="PATH", default=None,
                   help="a case folder (searched recursively for *.yaml and *.yml) or one "
                        "case file; "
                        "default: the library bundled with gradcompare (never ./cases "
                        "unless given)")
    g.add_argument("--case", metavar="NAME", action="append", default=[],
                   help="only this case (repeat for more)")
    g.add_argument("--tag", metavar="TAG", action="append", default=[],
                   help="only cases with this tag (repeat for more)")
    return p


def format_option(p: argparse.ArgumentParser) -> None:
    """--format for a printed table (compare.tables.render's formats)."""
    p.add_argument("--format", choices=["table", "csv", "json", "markdown"], default="table",
                   help="an aligned table (default), or csv/json with every number exact, "
                        "or markdown")


def methods_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--methods", metavar="M1,M2",
                   help=f"methods to run, any subset (default all: {','.join(METHOD_NAMES)})")


def jobs_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", metavar="N", type=int, default=None,
                   help="SymPy worker processes run at once (default: the number of cores, "
                        f"{os.cpu_count() or 1} here)")


def chosen_methods(args: argparse.Namespace) -> list[str]:
    from ..methods import METHODS

    text = getattr(args, "methods", None)
    methods = [m.strip() for m in text.split(",") if m.strip()] if text else list(METHODS)
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise GradcompareError(f"unknown method {', '.join(unknown) or '(none given)'}; "
                               f"known: {', '.join(METHODS)}")
    return list(dict.fromkeys(methods))


def load_selected(args: argparse.Namespace):
    """The library the options select, and the limits (`library_line` says which library it
    is when it is not the bundled one)."""
    from ..cases import default_cases_path, load_library

    limits = parse_limits(args.limit)
    path = Path(args.cases) if args.cases else default_cases_path()
    library = load_library(path, limits).select(args.case, args.tag)
    return library, limits


def library_line(args: argparse.Namespace) -> Optional[str]:
    """The first line of a command's output when the cases are not the bundled library."""
    if not getattr(args, "cases", None):
        return None
    from ..cases import is_bundled

    if is_bundled(args.cases):
        return None
    shown = printable(str(args.cases))
    if len(shown) > 200:
        shown = shown[:199] + "…"
    return f"cases from {shown} (not the bundled library)"


def run_selected(args: argparse.Namespace, label: str, record: bool = False,
                 note_to=None):
    """The selected cases, every chosen method run on them: the common start of `run`,
    `check` and `report`.  The 'not the bundled library' line goes to `note_to` (stdout by
    default; `run` keeps stdout for its table)."""
    from ..engine import run_library

    library, limits = load_selected(args)
    require_cases(library, args)
    line = library_line(args)
    if line:
        print(line, file=note_to or sys.stdout)
    run = run_library(library, chosen_methods(args), limits, progress=Progress(label),
                      jobs=args.jobs, record=record)
    warn_sympy_shortfall(run.runs)
    return run


def warn_sympy_shortfall(runs: Sequence) -> None:
    """One line on stderr when SymPy ran out of time on some cases: they still pass where two
    numeric methods agree, but without their exact reference, and a busy machine should not
    pass that off silently (a report written so would lose its exact columns)."""
    from ..result import TIMEOUT

    late = [cr for cr in runs if (r := cr.results.get("sympy")) is not None
            and r.status == TIMEOUT]
    if late:
        unstarted = sum("not started" in cr.results["sympy"].note for cr in late)
        why = (f"{unstarted} not started after the library-wide budget" if unstarted else
               "each past its own time budget")
        print(f"gradcompare: note: SymPy timed out on {len(late)} of {len(runs)} case"
              f"{'s' if len(runs) != 1 else ''} ({why}), so they have no exact reference; "
              "on a busy machine raise --limit sympy_seconds=… or --limit "
              "sympy_total_seconds=…", file=sys.stderr)


def require_cases(library, args: argparse.Namespace) -> None:
    """A command over nothing must not pass: a mistyped --tag or an empty file is a mistake."""
    if not library.cases and not library.errors:
        picked = [f"--case {c}" for c in args.case] + [f"--tag {t}" for t in args.tag]
        raise GradcompareError("no cases selected" + (f" by {' '.join(picked)}" if picked
                                                       else " (the library is empty)")
                               + "; `gradcompare list` shows the cases and their tags")


def text_table(rows: Sequence[Sequence[object]], headers: Sequence[str], width: int = 100
               ) -> str:
    """A plain-text table for the terminal: no markdown escapes, and every character that could
    act on a terminal (ESC, BEL, bidi overrides, …) shown as its U+XXXX code."""
    from tabulate import tabulate

    def shown(v: object) -> str:
        text = printable(str(v))
        return text if len(text) <= width else text[: width - 1] + "…"

    return tabulate([[shown(v) for v in row] for row in rows], headers=list(headers),
                    tablefmt="simple", disable_numparse=True)


PLOT_FORMATS = ("svg", "png", "pdf")


def plot_format(path: Optional[str]) -> Optional[str]:
    """The format a --plot FILE asks for (svg when it has no suffix), checked before any work:
    a long run must not end in a refusal."""
    if path is None:
        return None
    from ..files import check_output_file

    fmt = Path(path).suffix.lstrip(".").lower() or "svg"
    if fmt not in PLOT_FORMATS:
        raise GradcompareError(f"--plot writes .svg, .png or .pdf, not '.{fmt}'")
    check_output_file(path, "--plot")
    return fmt


def print_errors(errors: Sequence[GradcompareError], prefix: str = "error") -> None:
    for err in errors:
        print(f"{prefix}: {err}", file=sys.stderr)
