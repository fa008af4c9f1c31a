"""The `gradcompare` command line: parses arguments, calls the library, turns errors into messages.

No logic lives here.  Exit codes: 0 success; 1 a check failed (methods disagree or an
expectation is not met); 2 invalid input or usage (every problem printed with file, line, case
and field, never a traceback).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Optional, Sequence

from .cases import Library, default_cases_path, load_library
from .engine import Run, run_library
from .errors import GradcompareError, rejected_count
from .fmt import plural
from .limits import DEFAULT_LIMITS, Limits
from .methods import METHODS

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


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
        sys.stderr.write(f"\r{self.label} [{bar}] {done}/{total} {name[:30]:<30}{end}")
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
                        f"(names: {', '.join(Limits.names())})")
    return p


def common_parent() -> argparse.ArgumentParser:
    """Options every command that reads cases shares."""
    p = argparse.ArgumentParser(add_help=False, parents=[limit_parent()])
    g = p.add_argument_group("selecting cases")
    g.add_argument("--cases", metavar="PATH", default=None,
                   help="a case folder (searched recursively for *.yaml) or one case file; "
                        "default: the bundled cases/")
    g.add_argument("--case", metavar="NAME", action="append", default=[],
                   help="only this case (repeat for more)")
    g.add_argument("--tag", metavar="TAG", action="append", default=[],
                   help="only cases with this tag (repeat for more)")
    return p


def load_selected(args: argparse.Namespace) -> tuple[Library, Limits]:
    limits = parse_limits(args.limit)
    path = Path(args.cases) if args.cases else default_cases_path()
    library = load_library(path, limits).select(args.case, args.tag)
    return library, limits


def print_errors(errors: Sequence[GradcompareError]) -> None:
    for err in errors:
        print(f"error: {err}", file=sys.stderr)


def _run(args: argparse.Namespace, label: str) -> tuple[Run, Library]:
    library, limits = load_selected(args)
    if not library.cases and not library.errors:
        # A check of nothing must not pass: a mistyped --tag or an empty file is a mistake.
        picked = [f"--case {c}" for c in args.case] + [f"--tag {t}" for t in args.tag]
        raise GradcompareError("no cases selected" + (f" by {' '.join(picked)}" if picked
                                                       else " (the library is empty)")
                               + "; `gradcompare list` shows the cases and their tags")
    methods = args.methods.split(",") if getattr(args, "methods", None) else list(METHODS)
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise GradcompareError(f"unknown method {', '.join(unknown)}; known: "
                               f"{', '.join(METHODS)}")
    run = run_library(library, methods, limits, progress=Progress(label))
    return run, library


# -- commands --------------------------------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    from .report import md_table

    library, _ = load_selected(args)
    rows = [[c.name, f"{c.file}:{c.line}", ",".join(c.tags), ", ".join(c.wrt),
             c.title or c.text] for c in library.cases]
    if rows:
        print(md_table(rows, ["case", "where", "tags", "variables", "title"]))
    print(f"{plural(len(library.cases), 'case')} in {plural(len(library.files), 'file')}"
          + (f", {rejected_count(library.errors)} rejected" if library.errors else ""))
    print_errors(library.errors)
    return EXIT_INVALID if library.errors else EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from .tables import TABLES

    run, _ = _run(args, "run")
    df = TABLES[args.table](run)
    if not run.runs:
        pass  # nothing ran: only the errors below
    elif args.format == "csv":
        sys.stdout.write(df.to_csv(index=False))
    elif args.format == "json":
        sys.stdout.write(df.to_json(orient="records", indent=2) + "\n")
    elif args.format == "markdown":
        from .report import md_table

        print(md_table(df.values.tolist(), list(df.columns)))
    else:
        import pandas as pd

        with pd.option_context("display.max_rows", None, "display.max_columns", None,
                               "display.width", 200, "display.max_colwidth", 40):
            print(df.to_string(index=False))
    if run.errors:
        print(f"\n{rejected_count(run.errors)} rejected:", file=sys.stderr)
        print_errors(run.errors)
        return EXIT_INVALID
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    run, _ = _run(args, "report")
    out = Path(args.out)
    written = write_report(run, out, **report_extras())
    passed = sum(cr.passed for cr in run.runs)
    print(f"wrote {plural(len(written), 'file')} to {out}/ ({plural(len(run.runs), 'case')}, "
          f"{passed} pass, {len(run.runs) - passed} fail, {rejected_count(run.errors)} rejected)")
    print_errors(run.errors)
    return EXIT_INVALID if run.errors else EXIT_OK


def report_extras() -> dict:
    """What other modules contribute to the report: graph diagrams and the scale study."""
    from .diagram import for_case_run
    from .scale import report_section

    section, files = report_section()
    return {"diagram": for_case_run, "extra_sections": [section], "extra_files": files}


def cmd_check(args: argparse.Namespace) -> int:
    from .report import md_table

    run, _ = _run(args, "check")
    failed = [cr for cr in run.runs if not cr.passed]
    if failed:
        rows = [[cr.case.name, f"{cr.case.file}:{cr.case.line}", problem]
                for cr in failed for problem in cr.problems]
        print(md_table(rows, ["case", "where", "problem"]))
    print(f"{plural(len(run.runs), 'case')} checked: {len(run.runs) - len(failed)} pass, "
          f"{len(failed)} fail, {rejected_count(run.errors)} rejected")
    if run.errors:
        print_errors(run.errors)
        return EXIT_INVALID
    return EXIT_FAILED if failed else EXIT_OK


EXAMPLES = {
    "list": "gradcompare list --tag lecture",
    "run": "gradcompare run --case lecture-sum-times --table gradients --format csv",
    "report": "gradcompare report --out reports",
    "check": "gradcompare check --cases cases/  # exit 0 pass, 1 fail, 2 invalid input",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradcompare",
        description="Differentiate every case three ways (naive chain rule, backprop, SymPy) "
                    "and compare values, agreement and operation counts.",
        epilog="Exit codes: 0 ok, 1 a check failed, 2 invalid input.  "
               "Example: gradcompare report && gradcompare check")
    parser.add_argument("--version", action="version", version="gradcompare 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = common_parent()

    def add(name: str, func: Callable[[argparse.Namespace], int], help_: str
            ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_, description=help_,
                           epilog=f"Example: {EXAMPLES[name]}",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(func=func)
        return p

    add("list", cmd_list, "List the cases of the library.")
    p = add("run", cmd_run, "Run every method on the cases and print a table.")
    p.add_argument("--table", choices=["cases", "costs", "gradients"], default="cases",
                   help="which table: one row per case (default), per (case, method), or per "
                        "(case, method, variable)")
    p.add_argument("--format", choices=["table", "csv", "json", "markdown"], default="table")
    p.add_argument("--methods", metavar="M1,M2", help=f"methods to run (default all: "
                                                      f"{','.join(METHODS)})")
    p = add("report", cmd_report, "Write markdown reports: an index and a page per case.")
    p.add_argument("--out", metavar="DIR", default="reports", help="output folder "
                                                                   "(default: reports)")
    p = add("check", cmd_check, "Regression test: do all methods agree and match `expect`?")
    p.add_argument("--methods", metavar="M1,M2", help="methods to run (default all)")
    from .handout import add_command as add_handout
    from .scale import add_command as add_scale

    add_handout(sub, common)
    add_scale(sub, limit_parent())
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_INVALID
    try:
        return args.func(args)
    except GradcompareError as err:
        print(f"gradcompare: {err}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("gradcompare: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
