"""JAX: float64 enabled, `jax.value_and_grad` over the variables, un-jitted (`jax`) or
jitted (`jax-jit`; its time includes tracing and compiling, as a first call pays them).

A constant exponent is passed as a float (`x ** 2`), as JAX code writes it.
"""

from __future__ import annotations

import time
from typing import Any

from .base import OPERATORS, Adapter, Answer, make_apply, need, zero_for
from .program import Program, replay

# Each primitive as JAX code writes it: jax.numpy functions, and jax.nn's relu and sigmoid.
CALLS = {"exp": "exp", "log": "log", "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tan": "tan",
         "tanh": "tanh", "abs": "abs", "max": "maximum", "min": "minimum"}
NN_CALLS = {"sigmoid": "sigmoid", "relu": "relu"}


class JaxAdapter(Adapter):
    ops = OPERATORS | frozenset(CALLS) | frozenset(NN_CALLS)

    def __init__(self, jit: bool = False) -> None:
        self.jit = jit
        self.name = "jax-jit" if jit else "jax"
        self.jax: Any = None

    def load(self) -> str:
        if self.jax is None:
            need("jax", self.name)
            import jax

            jax.config.update("jax_enable_x64", True)
            jax.config.update("jax_platforms", "cpu")
            self.jax = jax
        return str(self.jax.__version__)

    def evaluate(self, program: Program) -> Answer:
        jax = self.jax
        jnp = jax.numpy
        names = list(program.names.values())
        apply = make_apply(lambda op: getattr(jax.nn, NN_CALLS[op]) if op in NN_CALLS
                           else getattr(jnp, CALLS[op]))

        def f(*xs: Any) -> Any:
            given = dict(zip(names, xs))

            return replay(program, given.__getitem__, jnp.float64, apply)[-1]

        start = time.perf_counter()
        grad_fn = jax.value_and_grad(f, argnums=tuple(range(len(names))))
        if self.jit:
            grad_fn = jax.jit(grad_fn)
        args = [jnp.float64(program.point[n]) for n in names]
        value, grads = grad_fn(*args)
        value = float(value)
        found = {n: float(g) for n, g in zip(names, grads)}
        seconds = time.perf_counter() - start
        return Answer(value, zero_for(program.wrt, found), seconds)


def adapter(jit: bool = False) -> JaxAdapter:
    return JaxAdapter(jit)
