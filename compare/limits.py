"""Every size and time limit in one place.

Case files are untrusted text: these bounds keep time and memory in check before any parsing or
symbolic work starts.  All can be raised from the command line (`--limit NAME=VALUE`) for
trusted libraries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 1_000_000          # size of one case file
    max_cases_per_file: int = 1_000          # cases in one file
    max_yaml_depth: int = 12                 # mappings and lists inside one another in a file
    max_expression_chars: int = 20_000       # length of one expression or step
    max_nesting: int = 100                   # parentheses and function calls inside one another
    max_number_chars: int = 40               # characters in one number (expression or YAML)
    max_nodes: int = 100_000                 # graph nodes built from one case's text
    max_steps: int = 10_000                  # named steps in one case
    max_constant_exponent: float = 1_000.0   # |b| in a ** b when b is a constant (symbolic method)
    naive_budget: int = 1_000_000            # operations the naive method may execute
    sympy_seconds: float = 10.0              # time budget of the symbolic method, per case
    sympy_memory_mb: int = 2_000             # memory the symbolic method's child may add
    sympy_max_nodes: int = 20_000            # larger graphs are not handed to SymPy at all
    sympy_max_tree: int = 200_000            # nor graphs larger than this written out as a tree
    exact_max_ops: int = 2_000               # derivatives up to this size are evaluated exactly

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def with_overrides(self, pairs: dict[str, str]) -> "Limits":
        """Return a copy with NAME=VALUE overrides (values as text, from the command line)."""
        from .errors import GradcompareError

        changes: dict[str, object] = {}
        known = {f.name: f.type for f in fields(self)}
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
            if known[name] in ("float", float):
                changes[name] = number
            elif number.is_integer():
                changes[name] = int(number)
            else:
                raise GradcompareError(f"limit {name}: expected a whole number, got '{text}'")
        return replace(self, **changes)


DEFAULT_LIMITS = Limits()
