"""How long gradcompare's commands take, wall clock, against the floors of issue 11.

Each command runs as a user runs it (a fresh `python -m compare` process, from an empty
folder), several times; the best time is printed beside its floor with the ratio floor / time
(above 1: within the floor).  Timings stay out of the test suite; this script asserts nothing
and exits 0 unless a command fails.

    python bench/commands.py              # commands only
    python bench/commands.py --suite      # also the whole test suite (python -m pytest)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THREE_CASES = """\
cases:
  - name: sum-times
    expression: (x + y) * z
    at: {x: 3, y: -4, z: 5}
  - name: neuron
    expression: 1/(1 + e^-(theta0 + theta1*x))
    at: {x: 1, theta0: -3, theta1: 3}
  - name: logistic
    steps: {l1: 4*l*(1 - l), l2: 4*l1*(1 - l1), l3: 4*l2*(1 - l2)}
    at: {l: 0.3}
"""


def timed(argv: list[str], cwd: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        if proc.returncode not in (0,):
            sys.exit(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
        best = min(best, elapsed)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per command (best is kept)")
    ap.add_argument("--suite", action="store_true", help="also time `python -m pytest`")
    args = ap.parse_args()
    py = [sys.executable, "-m", "compare"]
    with tempfile.TemporaryDirectory() as empty:
        Path(empty, "three.yaml").write_text(THREE_CASES, encoding="utf-8")
        rows = [
            ("gradcompare --version", py + ["--version"], 0.5),
            ("gradcompare --help", py + ["--help"], 0.5),
            ("gradcompare list", py + ["list"], 0.5),
            ("gradcompare check (bundled library)", py + ["check"], 5.0),
            ("gradcompare report (3-case file)",
             py + ["report", "--cases", "three.yaml", "--out", "out"], 3.0),
        ]
        print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}; best of {args.repeat}")
        print(f"{'command':<40} {'seconds':>8} {'floor':>7} {'floor/time':>10}")
        for label, argv, floor in rows:
            t = timed(argv, empty, args.repeat)
            print(f"{label:<40} {t:8.2f} {floor:7.1f} {floor / t:10.2f}")
        if args.suite:
            t = timed([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                      str(ROOT), 1)
            print(f"{'python -m pytest (whole suite)':<40} {t:8.2f} {75.0:7.1f} {75.0 / t:10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
