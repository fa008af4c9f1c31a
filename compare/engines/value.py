"""Any micrograd-style `Value` class: `value:MODULE:CLASS` (the student's engine), and micrograd.

The class is constructed from a float; `+ - * / **` and unary `-` are its operators; `exp`,
`log`, `tanh`, `relu`, `sigmoid`, `sqrt`, `sin`, `cos`, `tan` are methods used where the class
has them (`abs` is `abs(v)` when the class defines `__abs__`); `.backward()` on the output fills
`.grad` of every leaf, and `.data` is a node's value.  Constants become instances of the class
(leaves nobody reads the gradient of), except a constant exponent, passed as a float
(`x ** 2`), as such classes expect.  What the class lacks makes a case unsupported; whether it
takes a variable exponent is asked once, when it is loaded.
"""

from __future__ import annotations

import importlib
import operator
import os
import sys
import time
from typing import Any, Optional

from .base import Adapter, Answer, EngineMissing, make_apply, version_of, zero_for
from .program import Program, replay

# The special method a class needs for each operator-written primitive.
DUNDERS = {"add": "__add__", "sub": "__sub__", "mul": "__mul__", "div": "__truediv__",
           "pow": "__pow__", "neg": "__neg__", "abs": "__abs__"}
METHODS = ("exp", "log", "tanh", "relu", "sigmoid", "sqrt", "sin", "cos", "tan")


class ValueAdapter(Adapter):
    """A micrograd-style class, found as MODULE:CLASS (MODULE importable from the current
    folder or sys.path)."""

    def __init__(self, module: str, cls: str, name: Optional[str] = None,
                 distribution: Optional[str] = None) -> None:
        self.module, self.cls_name = module, cls
        self.name = name or f"value:{module}:{cls}"
        self.distribution = distribution
        self.cls: Any = None

    @classmethod
    def of(cls, klass: type, name: Optional[str] = None) -> "ValueAdapter":
        """An adapter for a class already in hand (tests, compare.testing)."""
        adapter = cls(klass.__module__, klass.__qualname__, name)
        adapter._use(klass)
        return adapter

    def load(self) -> str:
        if self.cls is None:
            if "" not in sys.path and os.getcwd() not in sys.path:
                sys.path.append(os.getcwd())   # a student's module in the current folder
            try:
                module = importlib.import_module(self.module)
            except ImportError as err:
                raise EngineMissing(f"engine '{self.name}': cannot import module "
                                    f"'{self.module}' ({err})") from None
            except Exception as err:   # the module itself fails: still one line
                raise EngineMissing(f"engine '{self.name}': importing '{self.module}' "
                                    f"raised {type(err).__name__}: {err}") from None
            klass = getattr(module, self.cls_name, None)
            if not isinstance(klass, type):
                raise EngineMissing(f"engine '{self.name}': module '{self.module}' has no "
                                    f"class '{self.cls_name}'")
            self._use(klass)
        return version_of(self.distribution) if self.distribution else "local class"

    def _use(self, klass: type) -> None:
        self.cls = klass
        ops = {op for op, dunder in DUNDERS.items() if callable(getattr(klass, dunder, None))}
        ops |= {m for m in METHODS if callable(getattr(klass, m, None))}
        self.ops = frozenset(ops)
        self.pow_variable = "pow" in ops and self._takes_variable_exponent()

    def _takes_variable_exponent(self) -> bool:
        try:
            out = self.cls(2.0) ** self.cls(3.0)
            return abs(float(out.data) - 8.0) < 1e-12
        except Exception:
            return False

    def evaluate(self, program: Program) -> Answer:
        cls = self.cls
        leaves: dict[str, Any] = {}

        def leaf(name: str) -> Any:
            leaves[name] = cls(float(program.point[name]))
            return leaves[name]

        apply = make_apply(lambda op: abs if op == "abs" else operator.methodcaller(op))

        start = time.perf_counter()
        built = replay(program, leaf, lambda c: cls(float(c)), apply)
        out = built[-1]
        out.backward()
        value = float(out.data)
        found = {name: float(v.grad) for name, v in leaves.items()}
        seconds = time.perf_counter() - start
        return Answer(value, zero_for(program.wrt, found), seconds)
