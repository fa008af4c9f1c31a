"""How work is counted, and the exact predictions of the naive and forward methods' costs.

Definitions (pinned by tests; the reports quote them):

* An *edge* is (parent node, argument position).  `a + a` has two edges to `a`.
* An edge is *relevant* when its parent is live (the output depends on it) and its child
  depends on at least one variable being differentiated.
* A *path* is a sequence of relevant edges from the output down to one variable.
* **forward operations**: operation nodes evaluated by the forward pass (leaves are free).
* **naive** (per variable, per path, nothing reused): a path of length L costs L local-derivative
  evaluations and L multiplications (the running product starts from 1); a variable reached by
  P paths costs P − 1 additions.
* **backprop** (one reverse sweep): every relevant edge costs one local-derivative evaluation and
  one multiplication (upstream gradient × local derivative); a node that receives k
  contributions costs k − 1 additions.
* **forward** (forward mode, one tangent sweep per differentiated variable v that is in the
  function): in v's sweep every edge whose parent is live and whose child depends on v costs
  one local-derivative evaluation and one multiplication (local derivative × the child's
  tangent); a node where k such contributions meet costs k − 1 additions.  *Passes* = the
  number of sweeps (backprop: 1).
* **numeric** (central differences, no derivative evaluated): per differentiated variable in
  the function, each step h tried (h and 2h at least, then halvings while the truncation
  estimate dominates, see compare.methods.numeric) costs two forward passes (x + h and
  x − h), each evaluating every live operation node (*evaluations*), then one subtraction
  f(x + h) − f(x − h), counted as an addition, and one division by 2h, counted as a
  multiplication.  *Passes* = the forward passes.  Forming x ± h and comparing estimates is
  not counted.
* A variable with no path costs nothing in any method (its partial is 0).
* **total** = local-derivative evaluations + multiplications + additions + evaluations.
* Counts are those of a full run; a method that stopped early (a domain error, an infinite
  slope met in the sweep) reports the work done until then, labelled *partial* in the tables.
* The graph counted is the one built from the text: `e^X` is `exp(X)`; `-3` and `-(3)` are
  number leaves while `-x` is a negation; numbers merge by value (2 = 2.0 = 2e0); unary `+`
  is dropped; `x + y` and `y + x` are different nodes; identical subexpressions are one node.
* **SymPy size**: operations in SymPy's derivatives written out as trees (as printed, shared
  subexpressions repeated): a sum or product of k terms counts k − 1, a power or a function
  call counts 1, symbols and numbers 0; summed over the differentiated variables.  *After cse*:
  the same count over the common-subexpression elimination of the value and the derivatives
  (each shared piece written once).
"""

from __future__ import annotations

from dataclasses import dataclass

from .graph import Graph
from .result import Counts


@dataclass(frozen=True)
class Shape:
    """Size of a graph as the tables report it."""

    nodes: int          # live nodes, leaves included
    operations: int     # live operation nodes (the forward pass's count)
    edges: int          # live edges
    relevant_edges: int
    paths: int          # paths from the output to the differentiated variables, summed


def path_counts(graph: Graph, wrt: list[str]) -> dict[str, tuple[int, int]]:
    """Per variable: (number of paths from the output to it, their total length).

    One top-down pass over the tape, whatever the number of variables (Python ints: exact at
    any size): P(out) = 1, S(out) = 0, and over each edge u → c: P(c) += P(u),
    S(c) += S(u) + P(u).  A variable's paths are all paths of the DAG ending at it, so the
    pass serves every variable at once.
    """
    n = len(graph)
    out = graph.output
    p = [0] * n
    s = [0] * n
    if out >= 0:
        p[out] = 1
    ga, gb = graph.a, graph.b
    for u in range(out, -1, -1):
        pu = p[u]
        if not pu:
            continue
        su = s[u]
        c = ga[u]
        if c >= 0:
            p[c] += pu
            s[c] += su + pu
            c = gb[u]
            if c >= 0:
                p[c] += pu
                s[c] += su + pu
    result = {}
    for name in wrt:
        node = graph.variables.get(name, -1)
        result[name] = (p[node], s[node]) if node >= 0 else (0, 0)
    return result


def predict_naive(graph: Graph, wrt: list[str]) -> tuple[Counts, dict[str, int]]:
    """Exact naive cost, from `path_counts`: a path of length L costs L local derivatives and
    L multiplications; a variable reached by P paths costs P − 1 additions.
    Returns the counts and the number of paths per variable."""
    counts = Counts()
    paths: dict[str, int] = {}
    for name, (total_paths, length) in path_counts(graph, wrt).items():
        paths[name] = total_paths
        counts.derivatives += length
        counts.multiplications += length
        counts.additions += max(total_paths - 1, 0)
    return counts, paths


def predict_forward(graph: Graph, wrt: list[str]) -> Counts:
    """Exact forward-mode cost, by the definition above, computed without sweeping: for each
    variable v of `wrt` that is a live node, the live operation nodes with k ≥ 1 arguments
    depending on v contribute k local derivatives, k multiplications and k − 1 additions.
    O(n) per variable (the same order as the sweeps it predicts)."""
    live = graph.live()
    counts = Counts(passes=0)
    ga, gb = graph.a, graph.b
    for name in wrt:
        node = graph.variables.get(name)
        if node is None or not live[node]:
            continue
        counts.passes = (counts.passes or 0) + 1
        dep = graph.depends_bytes([name])     # dep[-1] == 0: "no second argument"
        for i in range(node + 1, len(graph)):
            if live[i] and ga[i] >= 0:
                k = dep[ga[i]] + dep[gb[i]]
                if k:
                    counts.derivatives += k
                    counts.multiplications += k
                    counts.additions += k - 1
    return counts


def shape(graph: Graph, wrt: list[str]) -> Shape:
    live = graph.live()
    dep = graph.depends_on(wrt)
    nodes = operations = edges = relevant = 0
    for i in range(len(graph)):
        if not live[i]:
            continue
        nodes += 1
        if graph.is_leaf(i):
            continue
        operations += 1
        for child in graph.args(i):
            edges += 1
            relevant += dep[child]
    _, paths = predict_naive(graph, wrt)
    return Shape(nodes, operations, edges, relevant, sum(paths.values()))
