"""The real command line run in the test process: a new interpreter per call costs about half
a second (Python, pandas, SymPy imports), so tests that only read exit codes and output call
`main` directly; tests/test_cli.py keeps the real entry points honest."""

from __future__ import annotations

import subprocess


def gc(*argv: str, cwd) -> subprocess.CompletedProcess:
    """The real command line, run in this process (a new interpreter per call would cost a
    second each): exit code, stdout and stderr as a user sees them.  An exception escaping
    `main` fails the test, as a traceback would."""
    import contextlib
    import io
    import os

    from compare.cli import main

    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(argv))
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(list(argv), code, out.getvalue(), err.getvalue())
