"""The `gradcompare` command line: parses arguments, calls the library, turns errors into messages.

One module per command (`listing`, `run`, `report`, `check`, `handout`, `scale`, `descend`,
`numeric`, `export`),
each with an
`add(subparsers, parents)` that registers it and a `main(args) -> int`.  No computation lives
here, and no heavy library is imported before a command needs it, so `--version` and `--help`
answer at once.  Exit codes: 0 success; 1 a check failed (methods disagree, an expectation is
not met, or a case could not be verified); 2 invalid input or usage (every problem printed with
file, line, case and field, never a traceback).
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from .. import __version__
from ..errors import GradcompareError, printable
from . import check, descend, export, handout, listing, numeric, report, run, scale
from .common import EXIT_INVALID, EXIT_OK, common_parent, limit_parent

COMMANDS = (listing, run, report, check, handout, scale, descend, numeric, export)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradcompare",
        description="Differentiate every case several ways (naive chain rule, backprop, SymPy, "
                    "forward mode, central differences) "
                    "and compare values, agreement and operation counts.  Cases come from the "
                    "library bundled with gradcompare unless --cases names a folder or file.",
        epilog="Exit codes: 0 ok; 1 a check failed or a case could not be verified; 2 invalid "
               "input, usage, or no case selected.  "
               "Example: gradcompare report && gradcompare check")
    parser.add_argument("--version", action="version", version=f"gradcompare {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common, limits = common_parent(), limit_parent()
    for command in COMMANDS:
        command.add(sub, common if command.READS_CASES else limits)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command.  SIGTERM ends it like Ctrl-C does, through Python, so that `finally`
    blocks remove staging folders and close SymPy workers; the old handler comes back after."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return _main(argv)
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        return _main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _main(argv: Optional[Sequence[str]]) -> int:
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
    except BrokenPipeError:
        # The reader went away (`gradcompare list | head`): stop quietly, and keep Python from
        # complaining when it flushes stdout at exit.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as err:
        # A full disk, a read-only folder, a name too long: one line, never a traceback.
        where = f"{printable(str(err.filename))[:200]}: " if err.filename else ""
        print(f"gradcompare: {where}{err.strerror or err}", file=sys.stderr)
        return EXIT_INVALID
    except MemoryError:
        print("gradcompare: out of memory (lower the input's size or the limits)",
              file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("gradcompare: interrupted", file=sys.stderr)
        return 130


__all__ = ["build_parser", "main"]
