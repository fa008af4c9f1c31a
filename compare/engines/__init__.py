"""Other autodiff engines, run on the case library (the conformance suite, compare.conformance).

One module per adapter: `torch`, `jax` (and `jax-jit`), `micrograd`, `autograd` (HIPS), and
`value:MODULE:CLASS` for any micrograd-style class (`value`).  `adapter_for(spec)` makes one;
nothing here imports an engine: an adapter imports it in `load()`, inside a worker process.
"""

from __future__ import annotations

from ..errors import GradcompareError
from .base import Adapter, Answer, EngineMissing

# The bundled adapters by name (`value:MODULE:CLASS` is the open-ended one).
ENGINES = ("torch", "jax", "jax-jit", "micrograd", "autograd")


def adapter_for(spec: str) -> Adapter:
    """The adapter an `--engine` name asks for; a bad name is one line (GradcompareError)."""
    spec = spec.strip()
    if spec == "torch":
        from .torch import adapter

        return adapter()
    if spec in ("jax", "jax-jit"):
        from .jax import adapter as jax_adapter

        return jax_adapter(jit=spec == "jax-jit")
    if spec == "micrograd":
        from .micrograd import adapter as micrograd_adapter

        return micrograd_adapter()
    if spec == "autograd":
        from .autograd import adapter as autograd_adapter

        return autograd_adapter()
    if spec.startswith("value:"):
        parts = spec.split(":")
        if len(parts) == 3 and all(p and all(s.isidentifier() for s in p.split("."))
                                   for p in parts[1:]):
            from .value import ValueAdapter

            return ValueAdapter(parts[1], parts[2])
        raise GradcompareError(f"--engine '{spec}': write value:MODULE:CLASS, e.g. "
                               f"value:mygrad.engine:Value")
    raise GradcompareError(f"unknown engine '{spec}'; known: {', '.join(ENGINES)}, "
                           f"value:MODULE:CLASS")


def parse_engines(text: str) -> list[str]:
    """`torch,micrograd` -> the names, each once; each checked by adapter_for."""
    names = list(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    if not names:
        raise GradcompareError("--engine needs at least one engine name")
    for name in names:
        adapter_for(name)
    return names


__all__ = ["ENGINES", "Adapter", "Answer", "EngineMissing", "adapter_for", "parse_engines"]
