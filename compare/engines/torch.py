"""PyTorch: 0-dim float64 tensors, `backward()` on the output, `.grad` of the leaf tensors.

Variables are leaf tensors with requires_grad; constants are tensors without it, except a
constant exponent, passed as a float (`x ** 2`), as PyTorch code writes it.
"""

from __future__ import annotations

import time
from typing import Any

from .base import OPERATORS, Adapter, Answer, make_apply, need, zero_for
from .program import Program, replay

# Each primitive as PyTorch code writes it (the functions are looked up on the torch module).
CALLS = {"exp": "exp", "log": "log", "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tan": "tan",
         "tanh": "tanh", "sigmoid": "sigmoid", "relu": "relu", "abs": "abs",
         "max": "maximum", "min": "minimum"}


class TorchAdapter(Adapter):
    name = "torch"
    ops = OPERATORS | frozenset(CALLS)

    def __init__(self) -> None:
        self.torch: Any = None

    def load(self) -> str:
        if self.torch is None:
            need("torch", self.name)
            import torch

            torch.set_num_threads(1)   # scalars: threads only add overhead (and noise)
            self.torch = torch
        return str(self.torch.__version__)

    def evaluate(self, program: Program) -> Answer:
        torch = self.torch
        leaves: dict[str, Any] = {}

        def leaf(name: str) -> Any:
            leaves[name] = torch.tensor(program.point[name], dtype=torch.float64,
                                        requires_grad=True)
            return leaves[name]

        def const(c: float) -> Any:
            return torch.tensor(c, dtype=torch.float64)

        apply = make_apply(lambda op: getattr(torch, CALLS[op]))

        start = time.perf_counter()
        built = replay(program, leaf, const, apply)
        out = built[-1]
        if out.requires_grad:
            out.backward()
        value = float(out.item())
        found = {n: float(t.grad.item()) for n, t in leaves.items() if t.grad is not None}
        seconds = time.perf_counter() - start
        return Answer(value, zero_for(program.wrt, found), seconds)


def adapter() -> TorchAdapter:
    return TorchAdapter()
