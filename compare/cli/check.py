"""`gradcompare check`: the regression test — pass, fail or unverified, per case."""

from __future__ import annotations

import argparse

from ..errors import rejected_count
from .conformance import check_main, engine_option, engines_of
from .common import (EXIT_FAILED, EXIT_INVALID, EXIT_OK, jobs_option, methods_option,
                     print_errors, run_selected, text_table)

READS_CASES = True
HELP = "Regression test: do all methods agree and match `expect`?"
EXAMPLE = ("gradcompare check --cases cases/  # exit 0 pass, 1 fail or unverified, 2 invalid; "
           "gradcompare check --engine torch,micrograd")


def add(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "check", parents=[parent], help=HELP,
        description=HELP + "  A case passes when at least two methods, or one method and the "
        "case's `expect`, produced a gradient and agree; it is unverified when no method "
        "produced a gradient, or only one did and the case has no `expect`.  An ill-conditioned "
        "case (the decimal written and its float give exact answers differing beyond the "
        "tolerance) is listed as passed but flagged, with its condition estimate.",
        epilog=f"Example: {EXAMPLE}")
    methods_option(p)
    jobs_option(p)
    p.add_argument("--allow-unverified", action="store_true",
                   help="exit 0 even when some cases could not be verified (with --engine: "
                        "when some have no exact reference to judge an engine by)")
    engine_option(p, "instead, run the cases")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from ..engine import Verdict

    engines = engines_of(args)
    if engines is not None:
        return check_main(args, engines)
    run = run_selected(args, "check")
    rows = [[cr.case.name, f"{cr.case.file}:{cr.case.line}", cr.verdict.value, problem]
            for cr in run.runs if cr.verdict is not Verdict.PASS
            for problem in cr.problems or [cr.unverified_reason]]
    rows += [[cr.case.name, f"{cr.case.file}:{cr.case.line}", f"{cr.verdict.value}, flagged",
              cr.ill_conditioned] for cr in run.runs
             if cr.verdict is Verdict.PASS and cr.ill_conditioned]
    if rows:
        print(text_table(rows, ["case", "where", "verdict", "problem"], width=200))
    n = len(run.runs)
    print(f"{n} case{'s' if n != 1 else ''} checked: {run.verdicts_text()}, "
          f"{rejected_count(run.errors)} rejected")
    if run.errors:
        print_errors(run.errors)
        return EXIT_INVALID
    if run.count(Verdict.FAIL):
        return EXIT_FAILED
    if run.count(Verdict.UNVERIFIED) and not args.allow_unverified:
        return EXIT_FAILED
    return EXIT_OK
