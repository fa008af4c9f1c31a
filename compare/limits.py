"""Every size and time limit in one place, each with the range it may be set to.

Case files are untrusted text: these bounds keep time and memory in check before any parsing or
symbolic work starts.  All can be raised from the command line (`--limit NAME=VALUE`) for
trusted libraries, but only within their range: past it a limit stops protecting and starts
breaking things (a poll timeout overflows a C int, a read buffer cannot be allocated, Python
refuses to convert an integer of more than 4,300 digits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any, Union

Number = Union[int, float]


def _limit(default: Number, low: Number, high: Number, what: str) -> Any:
    """A limit field: its default, its valid range (inclusive) and what it bounds."""
    return field(default=default, metadata={"low": low, "high": high, "help": what})


def _show(x: Number) -> str:
    """A bound as text: 2,000,000,000 rather than 2e+09; 1e+30 stays short."""
    if isinstance(x, int) or (float(x).is_integer() and abs(x) < 1e15):
        return f"{int(x):,}"
    return f"{x:g}"


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = _limit(
        1_000_000, 1, 2_000_000_000, "size of one case file, in bytes")
    max_cases_per_file: int = _limit(
        1_000, 1, 1_000_000, "cases in one file")
    max_yaml_depth: int = _limit(
        12, 1, 1_000, "mappings and lists inside one another in a file")
    max_expression_chars: int = _limit(
        20_000, 1, 10_000_000, "length of one expression or step")
    max_nesting: int = _limit(
        100, 1, 1_000_000, "parentheses and function calls inside one another")
    # Python refuses to turn more than 4,300 digits into an integer (exact values of literals).
    max_number_chars: int = _limit(
        40, 1, 4_000, "characters in one number, in an expression or in YAML")
    max_nodes: int = _limit(
        100_000, 1, 10_000_000, "graph nodes built from one case's text")
    max_steps: int = _limit(
        10_000, 1, 10_000_000, "named steps in one case")
    max_constant_exponent: float = _limit(
        1_000.0, 1e-9, 1e9, "|b| in a ** b when b is a constant, for the symbolic method")
    naive_budget: int = _limit(
        1_000_000, 1, 10_000_000_000, "operations the naive method may execute")
    # Forward mode sweeps the graph once per input, central differences evaluate it four times
    # or more per input: O(inputs × nodes), bounded here (about 10 s at 0.2 µs a visit).
    sweep_budget: int = _limit(
        50_000_000, 1, 10**12, "node visits forward mode and central differences may make "
        "(inputs × nodes, times 4 for central differences)")
    # Waits are taken in slices (poll() takes milliseconds as a C int, about 24.8 days).
    sympy_seconds: float = _limit(
        8.0, 0.01, 86_400, "time budget of the symbolic method per case, in seconds")
    # Work seconds summed over the workers, running ones included: with 2 workers the symbolic
    # phase of one run ends by 20 / 2 + 8 s even when every case runs to its deadline, so a
    # hostile file stays under 20 s; the bundled library needs about 4 s of it.
    sympy_total_seconds: float = _limit(
        20.0, 0.01, 10_000_000,
        "SymPy time summed over a library run, in seconds; later cases are not started")
    sympy_memory_mb: int = _limit(
        2_000, 64, 1_000_000, "memory (MB) the symbolic method's worker may add per case")
    sympy_max_nodes: int = _limit(
        20_000, 1, 10_000_000, "larger graphs are not handed to SymPy at all")
    sympy_max_tree: int = _limit(
        200_000, 1, 1e30, "nor graphs larger than this written out as a tree")
    exact_max_ops: int = _limit(
        2_000, 1, 10_000_000, "derivatives up to this size are evaluated exactly")
    engine_seconds: float = _limit(
        10.0, 0.01, 86_400, "deadline of another engine (check --engine) per case, in seconds")

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def ranges(cls) -> dict[str, tuple[Number, Number, str]]:
        """name -> (lowest, highest, what it bounds): for docs, --help and validation."""
        return {f.name: (f.metadata["low"], f.metadata["high"], f.metadata["help"])
                for f in fields(cls)}

    @classmethod
    def range_text(cls, name: str) -> str:
        """'between 0.01 and 86,400' for one limit."""
        low, high, _ = cls.ranges()[name]
        return f"between {_show(low)} and {_show(high)}"

    def with_overrides(self, pairs: dict[str, str]) -> "Limits":
        """Return a copy with NAME=VALUE overrides (values as text, from the command line)."""
        from .errors import GradcompareError

        changes: dict[str, object] = {}
        known = {f.name: f.type for f in fields(self)}
        ranges = self.ranges()
        for name, text in pairs.items():
            if name not in known:
                raise GradcompareError(
                    f"unknown limit '{name}'; known: {', '.join(self.names())}")
            try:
                number = float(text)
            except ValueError:
                raise GradcompareError(f"limit {name}: expected a number, got '{text}'") from None
            if not math.isfinite(number):
                raise GradcompareError(f"limit {name}: expected a finite number, got '{text}'")
            if number <= 0:
                raise GradcompareError(f"limit {name}: must be positive, got '{text}'")
            whole = known[name] not in ("float", float)
            if whole and not number.is_integer():
                raise GradcompareError(f"limit {name}: expected a whole number, got '{text}'")
            low, high, what = ranges[name]
            if not low <= number <= high:
                raise GradcompareError(
                    f"limit {name}: must be {self.range_text(name)} ({what}), got '{text}'")
            changes[name] = int(number) if whole else number
        return replace(self, **changes)


DEFAULT_LIMITS = Limits()
