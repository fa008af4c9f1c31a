"""gradcompare: naive chain rule vs backpropagation vs SymPy, with counted operations.

    >>> import compare
    >>> r = compare.differentiate("(x + y) * z", "backprop", at={"x": 3, "y": -4, "z": 5})
    >>> r.value, r.gradient, r.counts.total
    (-5.0, {'x': 5.0, 'y': 5.0, 'z': -1.0}, 8)

The names below are loaded on first use (PEP 562), so `import compare` and the command line's
`--version` cost no SymPy or pandas import.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "Case": "cases", "Library": "cases", "load_library": "cases", "load_text": "cases",
    "CaseRun": "engine", "Run": "engine", "differentiate": "engine", "run_case": "engine",
    "run_library": "engine", "Verdict": "engine",
    "CaseError": "errors", "GradcompareError": "errors", "LimitError": "errors",
    "ParseError": "errors",
    "Graph": "graph",
    "DEFAULT_LIMITS": "limits", "Limits": "limits",
    "METHODS": "methods",
    "parse": "parser", "parse_steps": "parser",
    "Counts": "result", "Result": "result", "Status": "result",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'compare' has no attribute '{name}'")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
