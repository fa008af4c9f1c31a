"""`gradcompare check --engine NAME[,NAME…]`: the case library run on other autodiff engines.

Shared by `check` (prints the verdicts) and `report` (adds the conformance page); the work is
compare.conformance's.
"""

from __future__ import annotations

import argparse
from typing import Optional

from ..errors import rejected_count
from .common import (EXIT_FAILED, EXIT_INVALID, EXIT_OK, Progress, library_line, load_selected,
                     print_errors, require_cases, text_table)


def engine_option(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--engine", metavar="NAME[,NAME...]", default=None,
                   help=f"{what} on other autodiff engines: torch, jax, jax-jit, micrograd, "
                        "autograd, or value:MODULE:CLASS for any micrograd-style class (each "
                        "case's value and gradient against the exact reference; install them "
                        "with pip install 'gradcompare[engines]')")


def engines_of(args: argparse.Namespace) -> Optional[list[str]]:
    """The --engine names, checked (a bad name is one line), or None without the option."""
    text = getattr(args, "engine", None)
    if text is None:
        return None
    from ..engines import parse_engines

    return parse_engines(text)


def run_conformance(args: argparse.Namespace, engines: list[str], reference_run=None):
    """The selected cases on `engines` (a missing engine: EngineMissing, one line, exit 2)."""
    from ..conformance import run

    library, limits = load_selected(args)
    require_cases(library, args)
    line = library_line(args)
    if line and reference_run is None:
        print(line)
    return run(library, engines, limits, jobs=getattr(args, "jobs", None),
               reference_run=reference_run, progress=Progress("engines"))


def check_main(args: argparse.Namespace, engines: list[str]) -> int:
    """Print every case that did not pass on each engine (and those that passed at a kink with
    another convention than PyTorch's), the kink table and the tally."""
    from ..conformance import GRADCOMPARE, ONE_SIDED, ONE_SIDED_COLUMN, PASS, SKIPPED

    result = run_conformance(args, engines)
    rows = [[r.case, r.engine, r.verdict + (f" ({r.kink})" if r.kink else ""), r.detail]
            for r in result.results if r.verdict != PASS or r.kink == ONE_SIDED]
    if rows:
        print(text_table(rows, ["case", "engine", "verdict", "detail"], width=160))
        print()
    if result.kinks:
        columns = [GRADCOMPARE, ONE_SIDED_COLUMN, *result.engines]
        cell = {(k.probe, k.engine): k.text for k in result.kinks}
        probes = list(dict.fromkeys(k.probe for k in result.kinks))
        print(text_table([[p, *(cell.get((p, c), "") for c in columns)] for p in probes],
                         ["at the kink", *columns], width=60))
        print()
    for name, version in result.engines.items():
        speed, cases, nodes = result.speed(name)
        timing = (f"; {speed:.2f} µs per node over {cases} cases ({nodes} nodes)"
                  if speed is not None else "")
        print(f"{name} {version}: {result.tally(name)}{timing}")
    if result.errors:
        print(f"{rejected_count(result.errors)} rejected")
        print_errors(result.errors)
        return EXIT_INVALID
    # As `check`: a case that could not be judged (no exact reference) is not a pass.
    skipped = any(r.verdict == SKIPPED for r in result.results)
    if result.failed or (skipped and not args.allow_unverified):
        return EXIT_FAILED
    return EXIT_OK
