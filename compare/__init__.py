"""gradcompare: naive chain rule vs backpropagation vs SymPy, with counted operations.

    >>> import compare
    >>> r = compare.differentiate("(x + y) * z", "backprop", at={"x": 3, "y": -4, "z": 5})
    >>> r.value, r.gradient, r.counts.total
    (-5.0, {'x': 5.0, 'y': 5.0, 'z': -1.0}, 8)
"""

from .cases import Case, Library, load_library, load_text
from .engine import CaseRun, Run, differentiate, run_case, run_library
from .errors import CaseError, GradcompareError, LimitError, ParseError
from .graph import Graph
from .limits import DEFAULT_LIMITS, Limits
from .methods import METHODS
from .parser import parse, parse_steps
from .result import Counts, Result

__version__ = "0.1.0"

__all__ = ["Case", "CaseError", "CaseRun", "Counts", "DEFAULT_LIMITS", "GradcompareError",
           "Graph", "LimitError", "Library", "Limits", "METHODS", "ParseError", "Result", "Run",
           "differentiate", "load_library", "load_text", "parse", "parse_steps", "run_case",
           "run_library"]
