"""compare.diagram: the computational graph as a Mermaid flowchart."""

import re

from compare.diagram import MAX_NODES, mermaid, mermaid_block, node_names
from compare.forward import forward
from compare.cotangent import sweep
from compare.parser import parse, parse_steps

LECTURE_STEPS = [("f1", "x + y"), ("f2", "f1 * z")]
POINT = {"x": 3, "y": -4, "z": 5}
NODE = re.compile(r'^  (n\d+|hidden)[\[\(\{]')
EDGE = re.compile(r"^  (n\d+|hidden) --> (n\d+|hidden)$")


def annotated(graph, point, wrt):
    fw = forward(graph, point)
    s = sweep(graph, fw.values, graph.depends_bytes(wrt))
    return fw.values, {i: g for i, g in enumerate(s.grad) if g is not None}


def declared_and_edges(text):
    nodes, edges = set(), []
    for line in text.splitlines():
        m = NODE.match(line)
        if m:
            nodes.add(m.group(1))
        m = EDGE.match(line)
        if m:
            edges.append(m.groups())
    return nodes, edges


def test_lecture_example_is_annotated_like_the_board():
    g = parse_steps(LECTURE_STEPS)
    values, grads = annotated(g, POINT, ["x", "y", "z"])
    text = mermaid(g, values, grads)
    assert text.startswith("flowchart LR\n")
    assert '["f1 = x + y<br/>value -1<br/>∂f/∂f1 = 5"]' in text
    assert '["f = f2 = f1 · z<br/>value -5<br/>∂f/∂f2 = 1"]' in text
    assert '(["x = 3<br/>∂f/∂x = 5"])' in text
    assert '(["z = 5<br/>∂f/∂z = -1"])' in text
    nodes, edges = declared_and_edges(text)
    assert len(nodes) == 5 and len(edges) == 4
    assert all(a in nodes and b in nodes for a, b in edges)


def test_expression_form_gets_the_lecture_names():
    steps, expr = parse_steps(LECTURE_STEPS), parse("(x + y) * z")
    assert mermaid(steps) == mermaid(expr)
    assert sorted(node_names(expr).values()) == ["f1", "f2", "x", "y", "z"]


def test_helpers_inside_a_named_step_are_named_after_it():
    g = parse_steps([("h", "x*y + sin(x)"), ("f", "h * h")])
    names = set(node_names(g).values())
    assert {"h", "f", "x", "y", "h.1", "h.2"} <= names
    assert "f = f = " not in mermaid(g)   # a step already called f is not renamed


def test_deterministic():
    g = parse("sin(x*x) + cos(x*x) + x*y")
    values, grads = annotated(g, {"x": 0.5, "y": 2}, ["x", "y"])
    assert mermaid(g, values, grads) == mermaid(parse("sin(x*x) + cos(x*x) + x*y"),
                                                values, grads)


def test_blank_hides_values_and_gradients_but_not_the_seed():
    g = parse_steps(LECTURE_STEPS)
    values, grads = annotated(g, POINT, ["x", "y", "z"])
    text = mermaid(g, values, grads, blank=True)
    assert "value ____" in text and "∂f/∂f1 = ____" in text and "∂f/∂f2 = 1" in text
    assert "-5" not in text and "value -1" not in text


def test_words_are_escaped():
    g = parse_steps(LECTURE_STEPS)
    values, grads = annotated(g, POINT, ["x", "y", "z"])
    text = mermaid(g, values, grads, value_word='va"l<script>]')
    assert "<script>" not in text and 'va"l' not in text and "#34;" in text
    for line in text.splitlines():
        if NODE.match(line):
            label = line.split('"', 1)[1].rsplit('"', 1)[0]
            assert '"' not in label


def test_large_graph_collapses_and_stays_consistent():
    steps = [(f"l{k}", f"4*l{k - 1}*(1 - l{k - 1})") for k in range(1, 16)]
    g = parse_steps(steps)
    assert sum(g.live()) > MAX_NODES
    text = mermaid(g)
    nodes, edges = declared_and_edges(text)
    assert len(nodes) <= MAX_NODES + 1
    assert "hidden" in nodes and "more nodes" in text
    assert all(a in nodes and b in nodes for a, b in edges)
    assert 'f = l15 = l15.1 · l15.2' in text
    assert text.startswith("flowchart TD")   # a deep chain is drawn top down


def test_block_is_fenced():
    block = mermaid_block(parse("x*y"))
    assert block.startswith("```mermaid\nflowchart") and block.endswith("\n```")


def test_report_hook_draws_a_case_run():
    from compare.cases import load_text
    from compare.diagram import for_case_run
    from compare.engine import run_case

    cases, _ = load_text("cases:\n  - name: t\n    expression: (x + y) * z\n"
                         "    at: {x: 3, y: -4, z: 5}\n")
    block = for_case_run(run_case(cases[0], record=True))
    assert block.startswith("```mermaid\nflowchart LR")
    assert "f = f2 = f1 · z<br/>value -5<br/>∂f/∂f2 = 1" in block
