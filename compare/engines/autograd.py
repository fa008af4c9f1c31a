"""autograd (HIPS): `autograd.value_and_grad` of a function of the variables' vector.

autograd has no relu: it is written `np.maximum(a, 0.0)`, as autograd code writes it (so at 0
it follows maximum's tie rule; the kink table shows what that gives).  sigmoid is
`autograd.scipy.special.expit` (needs SciPy; without it sigmoid is unsupported).
"""

from __future__ import annotations

import time
from typing import Any

from .base import OPERATORS, Adapter, Answer, make_apply, need, version_of, zero_for
from .program import Program, replay

CALLS = {"exp": "exp", "log": "log", "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tan": "tan",
         "tanh": "tanh", "abs": "abs", "max": "maximum", "min": "minimum"}


class AutogradAdapter(Adapter):
    name = "autograd"

    def __init__(self) -> None:
        self.np: Any = None
        self.expit: Any = None
        self.value_and_grad: Any = None

    def load(self) -> str:
        if self.np is None:
            need("autograd", self.name)
            import autograd
            import autograd.numpy as anp

            try:
                from autograd.scipy.special import expit
            except ImportError:
                expit = None
            self.np, self.expit, self.value_and_grad = anp, expit, autograd.value_and_grad
            self.ops = OPERATORS | frozenset(CALLS) | {"relu"} | (
                {"sigmoid"} if expit is not None else set())
        return version_of("autograd")

    def evaluate(self, program: Program) -> Answer:
        anp = self.np
        names = list(program.names.values())

        special = {"relu": lambda x: anp.maximum(x, 0.0), "sigmoid": self.expit}
        apply = make_apply(lambda op: special[op] if op in special else getattr(anp, CALLS[op]))

        def f(xs: Any) -> Any:
            given = {n: xs[k] for k, n in enumerate(names)}
            return replay(program, given.__getitem__, float, apply)[-1]

        start = time.perf_counter()
        point = anp.array([float(program.point[n]) for n in names], dtype=float)
        value, grads = self.value_and_grad(f)(point)
        value = float(value)
        found = {n: float(grads[k]) for k, n in enumerate(names)}
        seconds = time.perf_counter() - start
        return Answer(value, zero_for(program.wrt, found), seconds)


def adapter() -> AutogradAdapter:
    return AutogradAdapter()
