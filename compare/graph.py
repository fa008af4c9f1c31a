"""The computational graph: a flat tape of nodes in topological order.

A node is an integer index.  Node i's operation is `op[i]` (a code into
`compare.primitives.OPS`), its arguments `a[i]` and `b[i]` (-1 when absent).  Because a node can
only refer to nodes created before it, index order *is* a topological order: every pass over the
graph is a plain loop, never a recursion, so a million-node chain is no harder than a small one.
Identical subexpressions are built once (hash-consing), which is how sharing arises: in
`sin(x*x) + cos(x*x)` the node `x*x` exists once and has two parents.

The graph holds no references between node objects (there are none), so it has no reference
cycles and dropping a large graph is immediate.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Iterator, Optional, Union

from .primitives import CODE, CONST, CONSTANTS, OPS, VAR, Primitive, leaf_precedence

Exact = Union[Fraction, str]


class Graph:
    """A computational graph with one output, built append-only."""

    __slots__ = ("op", "a", "b", "const", "exact", "var_name", "variables", "labels",
                 "output", "_memo", "share")

    def __init__(self, share: bool = True) -> None:
        self.op: list[int] = []
        self.a: list[int] = []
        self.b: list[int] = []
        self.const: dict[int, float] = {}
        self.exact: dict[int, Exact] = {}
        self.var_name: dict[int, str] = {}
        self.variables: dict[str, int] = {}   # name -> node, in order of first use
        self.labels: dict[int, str] = {}      # node -> step name (f1, f2, ...)
        self.output: int = -1
        self._memo: dict[tuple, int] = {}
        self.share = share                     # hash-cons identical subexpressions

    # -- building ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.op)

    def _append(self, code: int, a: int, b: int) -> int:
        i = len(self.op)
        self.op.append(code)
        self.a.append(a)
        self.b.append(b)
        self.output = i
        return i

    def variable(self, name: str) -> int:
        node = self.variables.get(name)
        if node is None:
            node = self._append(VAR, -1, -1)
            self.variables[name] = node
            self.var_name[node] = name
        else:
            self.output = node
        return node

    def variables_of(self, names: list[str]) -> list[int]:
        """The variables `names` (made on first use), many at once: a layer's weights.

        New names are appended in one step (list extends rather than one call per name), which
        is most of the cost of building a layer with named parameters.
        """
        first = len(self.op)
        fresh = dict.fromkeys(names)
        if not self.variables.keys().isdisjoint(fresh):
            fresh = dict.fromkeys(name for name in fresh if name not in self.variables)
        k = len(fresh)
        if k:
            nodes = range(first, first + k)
            self.op.extend([VAR] * k)
            self.a.extend([-1] * k)
            self.b.extend([-1] * k)
            self.variables.update(zip(fresh, nodes))
            self.var_name.update(zip(nodes, fresh))
        if names:
            self.output = self.variables[names[-1]]
        return [self.variables[name] for name in names]

    def constant(self, value: float, exact: Optional[Exact] = None) -> int:
        """A constant leaf.  `exact` is its exact value (defaults to the float's decimal)."""
        if exact is None:
            exact = Fraction(repr(float(value)))
        key = ("c", exact)
        node = self._memo.get(key) if self.share else None
        if node is None:
            node = self._append(CONST, -1, -1)
            self.const[node] = float(value)
            self.exact[node] = exact
            if self.share:
                self._memo[key] = node
        else:
            self.output = node
        return node

    def named_constant(self, name: str) -> int:
        value, _ = CONSTANTS[name]
        return self.constant(value, name)

    def apply(self, name: str, a: int, b: int = -1) -> int:
        """Append (or reuse) the node `name(a, b)`.

        `e ^ b` is built as `exp(b)`: the same function, drawn and differentiated as the
        lecture writes it (no constant node e, no ln(e) factor).
        """
        if name == "pow" and self.exact.get(a) == "e":
            name, a, b = "exp", b, -1
        code = CODE[name]
        if self.share:
            key = (code, a, b)
            node = self._memo.get(key)
            if node is not None:
                self.output = node
                return node
            node = self._append(code, a, b)
            self._memo[key] = node
            return node
        return self._append(code, a, b)

    def label(self, node: int, name: str) -> None:
        """Give a node a step name; the first name given wins."""
        self.labels.setdefault(node, name)

    def seal(self) -> "Graph":
        """Drop the hash-consing table once building is done (it is most of the memory)."""
        self._memo = {}
        return self

    # -- reading ----------------------------------------------------------------------------
    def primitive(self, i: int) -> Optional[Primitive]:
        return OPS[self.op[i]]

    def args(self, i: int) -> tuple[int, ...]:
        a, b = self.a[i], self.b[i]
        if a < 0:
            return ()
        return (a,) if b < 0 else (a, b)

    def is_leaf(self, i: int) -> bool:
        return self.op[i] <= CONST

    def live(self) -> list[bool]:
        """Which nodes the output depends on (unused steps are not part of the function)."""
        n = len(self.op)
        live = [False] * n
        out = self.output
        if out < 0:
            return live
        live[out] = True
        a, b = self.a, self.b
        for i in range(out, -1, -1):
            if live[i]:
                x = a[i]
                if x >= 0:            # b[i] >= 0 only when a[i] >= 0
                    live[x] = True
                    y = b[i]
                    if y >= 0:
                        live[y] = True
        return live

    def depends_on(self, wrt: list[str]) -> list[bool]:
        """Which nodes depend on at least one of the variables in `wrt` (or are one)."""
        dep = self.depends_bytes(wrt)
        return [flag == 1 for flag in dep[:-1]]

    def depends_bytes(self, wrt: list[str]) -> bytearray:
        """`depends_on` as a bytearray of n + 1 bytes (1 byte per node) for the fast sweeps.

        The extra last byte is always 0, so `dep[-1]` (reading "no argument") is false.
        """
        n = len(self.op)
        dep = bytearray(n + 1)
        first = n
        for name in wrt:
            node = self.variables.get(name)
            if node is not None:
                dep[node] = 1
                first = min(first, node)
        a, b = self.a, self.b
        for i in range(first + 1, n):
            x = a[i]
            if x >= 0 and (dep[x] or dep[b[i]]):   # b[i] = -1 reads the final 0
                dep[i] = 1
        return dep

    def edges(self) -> Iterator[tuple[int, int, int]]:
        """(parent, argument position, child) for every edge, in topological order."""
        for i in range(len(self.op)):
            if self.a[i] >= 0:
                yield i, 0, self.a[i]
            if self.b[i] >= 0:
                yield i, 1, self.b[i]

    def name(self, i: int) -> str:
        """A short display name: the step name, the variable, the constant, or n<i>."""
        if i in self.labels:
            return self.labels[i]
        if i in self.var_name:
            return self.var_name[i]
        if i in self.exact:
            return constant_text(self.exact[i])
        return f"n{i}"

    def parents(self) -> list[list[int]]:
        """Each node's parents (with repeats: `a + a` lists its parent twice), one pass."""
        parents: list[list[int]] = [[] for _ in self.op]
        for u, (x, y) in enumerate(zip(self.a, self.b)):
            if x >= 0:
                parents[x].append(u)
                if y >= 0:
                    parents[y].append(u)
        return parents

    def ancestors(self, node: int, parents: list[list[int]]) -> "set[int]":
        """`node` and every node above it: the nodes that depend on it.

        Costs the size of the answer (not of the graph), so asking for every variable of a
        wide graph stays linear in the work a per-variable method does anyway.
        """
        seen = {node}
        stack = [node]
        while stack:
            for p in parents[stack.pop()]:
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        return seen

    def paths_to(self, name: str, parents: Optional[list[list[int]]] = None
                 ) -> Iterator[list[tuple[int, int]]]:
        """The paths from the output down to variable `name`, depth first, `a` before `b`.

        Each path is a list of edges (parent, argument position).  With `parents` (from
        `parents()`, built once for many variables) only the nodes above the variable are
        visited; without it a pass over the graph finds them.  A generator with an explicit
        stack: the naive method walks every path, a handout takes only the few it
        shows of an exponential number.
        """
        target = self.variables.get(name, -1)
        if target < 0:
            return
        if parents is None:
            reaches: "list[bool] | set[int]" = self.depends_on([name])
        else:
            above = self.ancestors(target, parents)
            reaches = _Membership(above)
        ga, gb = self.a, self.b
        path: list[tuple[int, int]] = []
        stack: list[list[int]] = [[self.output, 0]]
        while stack:
            top = stack[-1]
            u = top[0]
            if u == target:
                yield list(path)
                stack.pop()
                if path:
                    path.pop()
                continue
            pos = top[1]
            child = -1
            while pos < 2:
                c = ga[u] if pos == 0 else gb[u]
                pos += 1
                if c >= 0 and reaches[c]:
                    child = c
                    break
            top[1] = pos
            if child < 0:
                stack.pop()
                if path:
                    path.pop()
                continue
            path.append((u, pos - 1))
            stack.append([child, 0])

    def describe(self, i: int, limit: int = 40) -> str:
        """The node as a short expression, e.g. `relu(x)`, or its name when that is shorter.

        Walks the node's subgraph with an explicit stack and gives up (returning the name)
        beyond `limit` characters or a few hundred nodes.
        """
        if i in self.labels or self.is_leaf(i):
            return self.name(i)
        text: dict[int, tuple[str, int]] = {}   # node -> (text, precedence)
        stack = [i]
        visited = 0
        while stack:
            u = stack[-1]
            if u in text:
                stack.pop()
                continue
            if u != i and (u in self.labels or self.is_leaf(u)):
                name = self.name(u)
                text[u] = (name, leaf_precedence(name))
                stack.pop()
                continue
            pending = [c for c in self.args(u) if c not in text]
            if pending:
                visited += 1
                if visited > 200:
                    return self.name(i)
                stack.extend(pending)
                continue
            prim = OPS[self.op[u]]
            # Precedence, associativity and symbols are the table's (compare.primitives).
            kids = [f"({k})" if prim.wraps(pos, binds) else k
                    for pos, (k, binds) in enumerate(text[c] for c in self.args(u))]
            t = prim.draw(kids)
            prec = prim.precedence
            if len(t) > limit:
                return self.name(i)
            text[u] = (t, prec)
            stack.pop()
        return text[i][0]

    def __repr__(self) -> str:
        return f"<Graph {len(self.op)} nodes, variables {list(self.variables)}>"


class _Membership:
    """A set read like a list of flags: `reaches[i]` is `i in nodes`."""

    __slots__ = ("nodes",)

    def __init__(self, nodes: "set[int]") -> None:
        self.nodes = nodes

    def __getitem__(self, i: int) -> bool:
        return i in self.nodes


def constant_text(exact: Exact) -> str:
    """How a constant is written: 3, -4, 2.5, 1/3, pi."""
    if isinstance(exact, str):
        return exact
    if exact.denominator == 1:
        return str(exact.numerator)
    as_float = float(exact)
    if Fraction(repr(as_float)) == exact:
        return repr(as_float)
    return f"{exact.numerator}/{exact.denominator}"
