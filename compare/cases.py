"""The case library: reading `cases/**/*.yaml` (format version 1) into checked Case objects.

Every problem becomes a GradcompareError that names file, line, case and field; one bad case is
recorded and skipped, the others load.  The format is documented in docs/case-format.md and as a
JSON Schema in compare/case-schema.json (kept in step with this module by a test).
"""

from __future__ import annotations

import difflib
import io
import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

from .errors import CaseError, GradcompareError, shorten
from .graph import Graph
from .limits import DEFAULT_LIMITS, Limits
from .parser import NAME_RULE, parse, parse_steps
from .yamlread import Node, first_problem, read_yaml

CASE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}\Z")
FILE_FIELDS = ("title", "description", "cases")
CASE_FIELDS = ("name", "title", "description", "source", "titles", "sources", "tags",
               "expression", "steps", "at", "wrt", "expect", "learning_rate", "parameters",
               "data", "loss", "target")
# Languages a case's `titles` and `sources` may translate its title and source into (the
# handouts' languages; `title` and `source` are the English).
TRANSLATED = ("en", "vi")
REQUIRED_CASE_FIELDS = ("name", "at")
EXPECT_FIELDS = ("value", "gradient", "rel_tol", "abs_tol")
# The objective J(θ) over the data rows (compare.descent builds it): the mean over the rows of
# the expression itself, of its squared error against the target column, or of its binary
# cross-entropy against the target column.
LOSSES = ("mean", "squared_error", "binary_cross_entropy")
TARGET_LOSSES = ("squared_error", "binary_cross_entropy")
DEFAULT_REL_TOL = 1e-9
DEFAULT_ABS_TOL = 1e-12


def close(a: Optional[float], b: Optional[float], rel_tol: float = DEFAULT_REL_TOL,
          abs_tol: float = DEFAULT_ABS_TOL) -> bool:
    """Agreement of two numbers at a case's tolerance; NaN, inf and missing values never
    agree."""
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
        return False
    return abs(a - b) <= max(rel_tol * max(abs(a), abs(b)), abs_tol)

# ASCII digits only: Python's \d and float() also accept '١' and '１', which are not numbers here.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z", re.ASCII)
_BOOLEANS = {"y", "yes", "n", "no", "true", "false", "on", "off"}
_NULLS = {"", "~", "null"}
_NONFINITE = re.compile(r"[+-]?\.?(?:nan|inf|infinity)\Z", re.IGNORECASE)
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}(?:[Tt ].*)?\Z", re.ASCII)
_SEXAGESIMAL = re.compile(r"[+-]?\d+(?::[0-5]?\d)+(?:\.\d*)?\Z", re.ASCII)
_OCTAL_LOOKING = re.compile(r"[+-]?0(?:\d+|[oO][0-7]+)\Z", re.ASCII)
_HEX = re.compile(r"[+-]?0[xX][0-9a-fA-F]+\Z")


@dataclass
class Expect:
    value: Optional[float] = None
    gradient: dict[str, float] = field(default_factory=dict)
    rel_tol: float = DEFAULT_REL_TOL
    abs_tol: float = DEFAULT_ABS_TOL


@dataclass
class Case:
    """One checked case, with its graph already built."""

    name: str
    at: dict[str, float]
    wrt: list[str]
    graph: Graph
    expression: Optional[str] = None
    steps: Optional[list[tuple[str, str]]] = None
    title: str = ""
    description: str = ""
    source: str = ""
    titles: dict[str, str] = field(default_factory=dict)    # language -> title in it
    sources: dict[str, str] = field(default_factory=dict)   # language -> source in it
    tags: list[str] = field(default_factory=list)
    expect: Optional[Expect] = None
    learning_rate: Optional[float] = None
    # What a gradient-descent step moves (default: every differentiated variable); the other
    # variables are data, such as the input x of a neuron.
    parameters: list[str] = field(default_factory=list)
    # Data rows (column -> number) and the loss over them: what gradient descent minimizes.
    # Without them, descent minimizes the expression itself.
    data: list[dict[str, float]] = field(default_factory=list)
    loss: Optional[str] = None
    target: Optional[str] = None
    file: str = ""
    line: int = 0

    @property
    def data_columns(self) -> list[str]:
        """The data's columns that are variables of the expression (not the target)."""
        return [c for c in (self.data[0] if self.data else ()) if c != self.target]

    @property
    def text(self) -> str:
        """The case's definition as one line of text."""
        if self.expression is not None:
            return self.expression
        return "; ".join(f"{k} = {v}" for k, v in self.steps or [])


@dataclass
class Library:
    cases: list[Case] = field(default_factory=list)
    errors: list[GradcompareError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def select(self, names: Sequence[str] = (), tags: Sequence[str] = ()) -> "Library":
        """The cases named (or carrying one of the tags); unknown names become errors."""
        if not names and not tags:
            return self
        known = {c.name for c in self.cases}
        errors = list(self.errors)
        for n in names:
            if n not in known:
                close = difflib.get_close_matches(n, sorted(known), n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                errors.append(GradcompareError(f"no case named '{n}'{hint}", case=n))
        chosen = [c for c in self.cases if c.name in names or set(tags) & set(c.tags)]
        return Library(chosen, errors, self.files)


class Written(float):
    """A point value: the float every numeric method uses, carrying the decimal text the user
    wrote (`text`), so the exact reference can say where the two give different answers."""

    __slots__ = ("text",)

    def __new__(cls, value: float, text: str) -> "Written":
        self = super().__new__(cls, value)
        self.text = text
        return self

    def __reduce__(self) -> tuple:
        return (Written, (float(self), self.text))


# -- typed field readers ---------------------------------------------------------------------
def read_number(node: Node, what: str, limits: Limits = DEFAULT_LIMITS) -> float:
    """A finite number written plainly; everything YAML 1.1 would silently reinterpret is refused."""
    if node.kind != "scalar":
        raise CaseError(f"expected a number, got {node.describe()}", field=what, line=node.line)
    text = node.value.strip()
    shown = shorten(text)   # what messages quote; every check reads the whole text
    if not node.plain:
        raise CaseError(f"expected a number, got quoted text '{shown}' (remove the quotes)",
                        field=what, line=node.line)
    low = text.lower()
    problem = None
    if low in _BOOLEANS:
        problem = f"boolean '{shown}'"
    elif low in _NULLS:
        problem = "nothing (null)"
    elif _NONFINITE.match(text):
        problem = f"non-finite '{shown}'"
    elif _DATE.match(text):
        problem = f"date '{shown}'"
    elif _SEXAGESIMAL.match(text):
        problem = f"sexagesimal (base 60) '{shown}'"
    elif _OCTAL_LOOKING.match(text):
        problem = f"octal-looking '{shown}' (write it without leading zeros)"
    elif _HEX.match(text):
        problem = f"hexadecimal '{shown}'"
    elif not _NUMBER.match(text):
        problem = f"text '{shown}'"
        if not text.isascii():
            problem += " (numbers are written with the ASCII digits 0-9)"
    elif len(text) > limits.max_number_chars:
        problem = f"a number of {len(text)} characters (limit {limits.max_number_chars})"
    if problem:
        raise CaseError(f"expected a number, got {problem}", field=what, line=node.line)
    value = float(text)
    if not math.isfinite(value):
        raise CaseError(f"expected a finite number, got '{shown}' (too large for a float)",
                        field=what, line=node.line)
    mantissa = re.split(r"[eE]", text)[0]
    if value == 0 and any(c in "123456789" for c in mantissa):
        raise CaseError(f"expected a number, got '{shown}', too small for a float (it would "
                        f"be 0)", field=what, line=node.line)
    return value


def read_text(node: Node, what: str) -> str:
    if node.kind != "scalar":
        raise CaseError(f"expected text, got {node.describe()}", field=what, line=node.line)
    return node.value


def read_mapping(node: Node, what: str) -> dict[str, Node]:
    if node.kind != "mapping":
        raise CaseError(f"expected a mapping, got {node.describe()}", field=what, line=node.line)
    return node.value


def read_list(node: Node, what: str) -> list[Node]:
    if node.kind != "sequence":
        raise CaseError(f"expected a list, got {node.describe()}", field=what, line=node.line)
    return node.value


def _check_fields(mapping: Node, known: Sequence[str], what: str) -> None:
    for key in mapping.value:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; known: {', '.join(known)}"
            raise CaseError(f"unknown field '{key}'{hint}", field=f"{what}{key}" if what else key,
                            line=mapping.key_lines[key])


# -- one case --------------------------------------------------------------------------------
def read_case(node: Node, file: str, limits: Limits = DEFAULT_LIMITS) -> Case:
    """Check one case mapping and build its graph.  Raises a located GradcompareError."""
    case_name: Optional[str] = None
    try:
        problem = first_problem(node, file)
        if problem is not None:
            name = node.value.get("name") if node.kind == "mapping" else None
            if name is not None and name.kind == "scalar" and name.problem is None and \
                    CASE_NAME.match(name.value):
                case_name = name.value
            raise problem
        fields_ = read_mapping(node, "case")
        if "name" in fields_:
            case_name = read_text(fields_["name"], "name")
            if not CASE_NAME.match(case_name):
                bad, case_name = case_name, None
                raise CaseError(f"'{bad[:80]}' is not a case name: lowercase letters, digits, "
                                f"'-' and '_', starting with a letter or digit, at most 64",
                                field="name", line=fields_["name"].line)
        _check_fields(node, CASE_FIELDS, "")
        for required in REQUIRED_CASE_FIELDS:
            if required not in fields_:
                raise CaseError(f"missing required field '{required}'", line=node.line)
        if ("expression" in fields_) == ("steps" in fields_):
            raise CaseError("give exactly one of 'expression' or 'steps'", line=node.line)

        case = Case(name=case_name or "", at={}, wrt=[], graph=Graph(), file=file,
                    line=node.line)
        # From here on, fields are checked independently where they are independent: a case
        # with a bad tag, a bad value and a bad learning rate hears of all three.  A check that
        # needs an earlier field (wrt needs the variables) runs only when that field was fine,
        # so no problem is reported as a consequence of another.
        problems: list[GradcompareError] = []
        note = _Collect(problems)
        for key in ("title", "description", "source"):
            if key in fields_:
                with note:
                    setattr(case, key, read_text(fields_[key], key))
        for key in ("titles", "sources"):
            if key in fields_:
                with note:
                    setattr(case, key, _read_translations(fields_[key], key))
        if "tags" in fields_:
            with note:
                case.tags = [read_text(t, f"tags[{i}]")
                             for i, t in enumerate(read_list(fields_["tags"], "tags"))]

        graph_ok = note.ok(lambda: _read_graph(case, fields_, limits))
        at_node = fields_["at"]
        at_ok = note.ok(lambda: _read_at(case, at_node, limits, note))
        names_ok = False
        if graph_ok and at_ok and note.ok(lambda: _check_variables(case, fields_)):
            names_ok = note.ok(lambda: _read_wrt(case, fields_))
            if names_ok and "expect" in fields_:
                with note:
                    case.expect = _read_expect(fields_["expect"], case, limits)
        if "learning_rate" in fields_:
            with note:
                lr = read_number(fields_["learning_rate"], "learning_rate", limits)
                if lr <= 0:
                    raise CaseError(f"expected a positive number, got {lr:g}",
                                    field="learning_rate", line=fields_["learning_rate"].line)
                case.learning_rate = lr
        data_ok = "data" not in fields_ or note.ok(
            lambda: _read_data(case, fields_["data"], limits, note))
        loss_ok = note.ok(lambda: _read_loss(case, fields_, note))
        if names_ok and data_ok and case.data:
            _check_data(case, fields_, limits, note, loss_ok)
        if problems:
            raise CaseErrors(problems)
        return case
    except CaseErrors as many:
        for err in many.errors:
            err.located(file=file, line=node.line, case=case_name)
        raise
    except GradcompareError as err:
        raise err.located(file=file, line=node.line, case=case_name)


class CaseErrors(GradcompareError):
    """Several independent problems of one case, in field order (`errors`)."""

    def __init__(self, errors: list[GradcompareError]) -> None:
        super().__init__(errors[0].message)
        self.errors = errors
        for err in errors[1:]:
            err.same_case = True

    def __str__(self) -> str:
        return "\n".join(str(err) for err in self.errors)


class _Collect:
    """`with collect:` records a GradcompareError raised inside and goes on."""

    def __init__(self, problems: list[GradcompareError]) -> None:
        self.problems = problems

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, err: object, tb: object) -> bool:
        if isinstance(err, GradcompareError):
            self.problems.append(err)
            return True
        return False

    def ok(self, check: Callable[[], object]) -> bool:
        """Run `check`; False (and the problem recorded) if it raised a GradcompareError."""
        before = len(self.problems)
        with self:
            check()
        return len(self.problems) == before


def _read_graph(case: Case, fields_: dict[str, Node], limits: Limits) -> None:
    if "expression" in fields_:
        case.expression = read_text(fields_["expression"], "expression")
        try:
            case.graph = parse(case.expression, limits)
        except GradcompareError as err:
            raise err.located(field="expression", line=fields_["expression"].line)
        return
    steps_node = fields_["steps"]
    steps = read_mapping(steps_node, "steps")
    if len(steps) > limits.max_steps:
        raise CaseError(f"{len(steps)} steps; the limit is {limits.max_steps}",
                        field="steps", line=steps_node.line)
    case.steps = [(k, read_text(v, f"steps.{k}")) for k, v in steps.items()]
    try:
        case.graph = parse_steps(case.steps, limits)
    except GradcompareError as err:
        step = (err.field or "").split(".", 1)[-1]
        line = steps_node.key_lines.get(step, steps_node.line)
        raise err.located(line=line)


def _read_translations(node: Node, what: str) -> dict[str, str]:
    """`titles: {vi: ...}`: a text per known language."""
    out = {}
    for lang, text in read_mapping(node, what).items():
        if lang not in TRANSLATED:
            raise CaseError(f"unknown language '{lang}'; known: {', '.join(TRANSLATED)}",
                            field=f"{what}.{lang}", line=node.key_lines[lang])
        out[lang] = read_text(text, f"{what}.{lang}")
    return out


def _read_at(case: Case, at_node: Node, limits: Limits, note: _Collect) -> None:
    """The values in `at`; each bad one is noted and the others are still read."""
    for var, value in read_mapping(at_node, "at").items():
        with note:
            case.at[var] = Written(read_number(value, f"at.{var}", limits), value.value.strip())


def _check_variables(case: Case, fields_: dict[str, Node]) -> None:
    """Every variable of the graph has a value in `at`, and `at` names no other."""
    at_node = fields_["at"]
    used = case.graph.variables
    for var in case.at:
        if var not in used:
            raise CaseError(f"variable '{var}' is not used by the expression (a typo?)",
                            field=f"at.{var}", line=at_node.key_lines[var])
    missing = [v for v in used if v not in case.at]
    if missing:
        raise CaseError(f"no value for {', '.join(repr(m) for m in missing)}; every "
                        f"variable needs a finite number", field="at", line=at_node.line)
    if not used:
        where = "expression" if case.expression is not None else "steps"
        raise CaseError("no variables: nothing to differentiate", field=where,
                        line=fields_[where].line)


def _read_wrt(case: Case, fields_: dict[str, Node]) -> None:
    case.wrt = (_read_names(fields_["wrt"], "wrt", list(case.at),
                            "a variable of this case", "variables")
                if "wrt" in fields_ else list(case.at))
    case.parameters = (_read_names(fields_["parameters"], "parameters", case.wrt,
                                   "a differentiated variable", "wrt")
                       if "parameters" in fields_ else list(case.wrt))


def _read_names(node: Node, what: str, allowed: Sequence[str], kind: str, listed: str
                ) -> list[str]:
    """A non-empty list of distinct names, each one of `allowed` (wrt, parameters)."""
    names: list[str] = []
    for i, item in enumerate(read_list(node, what)):
        name = read_text(item, f"{what}[{i}]")
        if name not in allowed:
            raise CaseError(f"'{name}' is not {kind}; {listed}: {', '.join(allowed)}",
                            field=f"{what}[{i}]", line=item.line)
        if name in names:
            raise CaseError(f"'{name}' is listed twice", field=f"{what}[{i}]", line=item.line)
        names.append(name)
    if not names:
        raise CaseError("expected at least one variable", field=what, line=node.line)
    return names


def _read_data(case: Case, node: Node, limits: Limits, note: _Collect) -> None:
    """The rows: every row a mapping with the first row's columns, every value a number."""
    rows = read_list(node, "data")
    if not rows:
        raise CaseError("expected at least one row", field="data", line=node.line)
    # The first row names the columns; a problem there stops the reading of the rows.
    columns = list(read_mapping(rows[0], "data[0]"))
    if not columns:
        raise CaseError("a row needs at least one column", field="data[0]", line=rows[0].line)
    for col in columns:
        if not is_name(col):
            raise CaseError(f"'{shorten(col)}' is not a column name (a variable name: letters, "
                            f"digits, _)", field="data[0]", line=rows[0].key_lines[col])
    for r, row_node in enumerate(rows):
        with note:
            row = read_mapping(row_node, f"data[{r}]")
            values: dict[str, float] = {}
            for col, cell in row.items():
                with note:
                    values[col] = read_number(cell, f"data[{r}].{col}", limits)
            missing = [c for c in columns if c not in row]
            extra = [c for c in row if c not in columns]
            if missing or extra:
                what = (f"no value for {', '.join(repr(c) for c in missing)}" if missing else
                        f"column {', '.join(repr(shorten(c)) for c in extra)} is not in the "
                        f"first row")
                raise CaseError(f"{what}; every row has the first row's columns "
                                f"({', '.join(columns)})", field=f"data[{r}]",
                                line=row_node.line)
            case.data.append(values)


def _read_loss(case: Case, fields_: dict[str, Node], note: _Collect) -> None:
    """The loss's name and target column, and that data and loss come together."""
    if "loss" in fields_:
        with note:
            name = read_text(fields_["loss"], "loss")
            if name not in LOSSES:
                raise CaseError(f"unknown loss '{shorten(name)}'; known: {', '.join(LOSSES)}",
                                field="loss", line=fields_["loss"].line)
            case.loss = name
        if "data" not in fields_:
            raise CaseError("a loss is taken over data rows: add 'data'", field="loss",
                            line=fields_["loss"].line)
    elif "data" in fields_:
        raise CaseError(f"data rows need a loss ({', '.join(LOSSES)})", field="data",
                        line=fields_["data"].line)
    if "target" in fields_:
        target = read_text(fields_["target"], "target")
        line = fields_["target"].line
        if "loss" not in fields_:
            raise CaseError(f"a target needs a loss ({' or '.join(TARGET_LOSSES)})",
                            field="target", line=line)
        if case.loss == "mean":
            raise CaseError("the mean loss takes no target: it averages the expression itself",
                            field="target", line=line)
        case.target = target
    elif case.loss in TARGET_LOSSES:
        raise CaseError(f"the {case.loss} loss needs a target column: add 'target'",
                        field="loss", line=fields_["loss"].line)


def _check_data(case: Case, fields_: dict[str, Node], limits: Limits, note: _Collect,
                loss_ok: bool) -> None:
    """Columns against the expression, parameters and target; the objective's size.

    The target is judged only when the loss and target fields were sound themselves."""
    first = fields_["data"].value[0]
    columns = list(case.data[0])
    variables = case.graph.variables
    target = case.target if loss_ok else None
    if not loss_ok and "target" in fields_ and fields_["target"].kind == "scalar":
        target = fields_["target"].value      # not judged again, but not a stray column
    if target is not None and loss_ok:
        with note:
            if target in variables:
                raise CaseError(f"target '{shorten(target)}' is a variable of the expression; "
                                f"the target is a column of its own", field="target",
                                line=fields_["target"].line)
            if target not in columns:
                raise CaseError(f"target '{shorten(target)}' is not a column of data "
                                f"(columns: {', '.join(columns)})", field="target",
                                line=fields_["target"].line)
    for col in columns:
        if col != target and col not in variables:
            with note:
                raise CaseError(f"column '{col}' is neither a variable of the expression nor "
                                f"the target", field="data[0]", line=first.key_lines[col])
    if "parameters" in fields_:
        for i, (item, name) in enumerate(zip(fields_["parameters"].value, case.parameters)):
            if name in columns:
                with note:
                    raise CaseError(f"'{name}' is a parameter and a data column: descent moves "
                                    f"the parameters and keeps the data fixed",
                                    field=f"parameters[{i}]", line=item.line)
    else:
        case.parameters = [v for v in case.wrt if v not in columns]
        if not case.parameters:
            with note:
                raise CaseError("every differentiated variable is a data column: nothing for "
                                "descent to move; list the 'parameters'", field="data",
                                line=fields_["data"].line)
    if loss_ok and case.loss == "binary_cross_entropy" and target in columns:
        for r, row in enumerate(case.data):
            if not 0 <= row[target] <= 1:
                with note:
                    raise CaseError(f"binary cross-entropy needs a target from 0 to 1, got "
                                    f"{row[target]:g}", field=f"data[{r}].{target}",
                                    line=fields_["data"].value[r].key_lines[target])
    nodes = sum(case.graph.live()) + 8
    if len(case.data) * nodes > limits.max_nodes:
        with note:
            raise CaseError(f"{len(case.data):,} rows × {nodes} nodes is above the objective's "
                            f"limit of {limits.max_nodes:,} nodes (max_nodes)", field="data",
                            line=fields_["data"].line)


def _read_expect(node: Node, case: Case, limits: Limits) -> Expect:
    fields_ = read_mapping(node, "expect")
    _check_fields(node, EXPECT_FIELDS, "expect.")
    expect = Expect()
    if "value" in fields_:
        expect.value = read_number(fields_["value"], "expect.value", limits)
    if "gradient" in fields_:
        grad_node = fields_["gradient"]
        for var, value in read_mapping(grad_node, "expect.gradient").items():
            if var not in case.wrt:
                raise CaseError(f"'{var}' is not differentiated in this case (wrt: "
                                f"{', '.join(case.wrt)})", field=f"expect.gradient.{var}",
                                line=grad_node.key_lines[var])
            expect.gradient[var] = read_number(value, f"expect.gradient.{var}", limits)
    for key in ("rel_tol", "abs_tol"):
        if key in fields_:
            tol = read_number(fields_[key], f"expect.{key}", limits)
            if tol < 0:
                raise CaseError(f"expected a non-negative number, got {tol:g}",
                                field=f"expect.{key}", line=fields_[key].line)
            setattr(expect, key, tol)
    return expect


# -- files and folders -----------------------------------------------------------------------
def _display(path: Path) -> str:
    """A file as users see it: relative to the current folder when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def load_file(path: Path, limits: Limits = DEFAULT_LIMITS,
              root: Optional[Path] = None) -> tuple[list[Case], list[GradcompareError]]:
    """Load one case file; returns the good cases and an error per bad one."""
    shown = _display(path)

    def refuse(message: str) -> tuple[list[Case], list[GradcompareError]]:
        return [], [CaseError(message, file=shown)]

    def too_big(size: str) -> tuple[list[Case], list[GradcompareError]]:
        return refuse(f"file is {size} bytes; the limit is {limits.max_file_bytes:,} "
                      f"(max_file_bytes)")

    try:
        if path.is_symlink():
            # realpath, not resolve(): a link loop must be an error message, not RuntimeError.
            target = Path(os.path.realpath(path))
            base = Path(os.path.realpath(root or path.parent))
            if base != target and base not in target.parents:
                return refuse(f"link leads outside the library (to {target})")
        if not stat.S_ISREG(os.stat(path).st_mode):
            return refuse("not a regular file")
        # Check again on the opened file (it may have been swapped); O_NONBLOCK keeps a FIFO
        # put in its place from blocking, and reading stops just past the size limit.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                return refuse("not a regular file")
            if info.st_size > limits.max_file_bytes:
                return too_big(f"{info.st_size:,}")
            raw = _read_at_most(fh, limits.max_file_bytes + 1)
        if len(raw) > limits.max_file_bytes:
            return too_big(f"more than {limits.max_file_bytes:,}")
    except OSError as err:
        return refuse(f"cannot read: {err.strerror or err}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return [], [CaseError(f"not UTF-8 text: byte 0x{raw[err.start]:02X} at offset "
                              f"{err.start}; save the file as UTF-8", file=shown,
                              line=raw.count(b"\n", 0, err.start) + 1)]
    return load_text(text, shown, limits)


def _read_at_most(fh: "io.BufferedReader", limit: int, chunk: int = 1 << 20) -> bytes:
    """Up to `limit` bytes, read in chunks: a raised max_file_bytes never allocates a buffer of
    that size up front (the file may be far smaller, or grow while read)."""
    parts: list[bytes] = []
    size = 0
    while size < limit:
        part = fh.read(min(chunk, limit - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def load_text(text: str, file: str = "<text>",
              limits: Limits = DEFAULT_LIMITS) -> tuple[list[Case], list[GradcompareError]]:
    """Load the cases in one YAML text (as if it were a file named `file`)."""
    file_errors: list[GradcompareError] = []
    try:
        root = read_yaml(text, file, limits)
        problem = first_problem(root, file, skip=root.value.get("cases")
                                if root.kind == "mapping" else None)
        has_cases = root.kind == "mapping" and "cases" in root.value
        if problem is not None and (not has_cases or (problem.field or "").startswith("cases")):
            raise problem            # on the cases list itself, or no list: nothing to load
        top = read_mapping(root, "file")
        # A refused construct in another file-level field (a tag on the title, an anchor, a
        # duplicate title) is reported; the cases beside it still load.
        if problem is not None:
            file_errors.append(problem)
        # A bad file-level field is reported, but does not take the file's cases with it.
        flagged = (problem.field or "").split(".")[0].split("[")[0] if problem else ""
        for check in [lambda: _check_fields(root, FILE_FIELDS, "")] + [
                (lambda key=key: read_text(top[key], key))
                for key in ("title", "description") if key in top and key != flagged]:
            try:
                check()
            except GradcompareError as err:
                file_errors.append(err.located(file=file))
        if "cases" not in top:
            if file_errors:   # e.g. "unknown field 'case' (did you mean 'cases'?)" says it
                return [], file_errors
            raise CaseError("no 'cases' list in this file", line=root.line)
        items = read_list(top["cases"], "cases")
        if len(items) > limits.max_cases_per_file:
            raise CaseError(f"{len(items)} cases; the limit is {limits.max_cases_per_file}",
                            field="cases", line=top["cases"].line)
    except GradcompareError as err:
        return [], file_errors + [err.located(file=file)]
    cases: list[Case] = []
    errors: list[GradcompareError] = file_errors
    first_line: dict[str, int] = {}
    for item in items:
        try:
            case = read_case(item, file, limits)
        except CaseErrors as many:
            errors.extend(many.errors)
            continue
        except GradcompareError as err:
            errors.append(err)
            continue
        except (RecursionError, MemoryError) as err:  # never a traceback, whatever the input
            errors.append(CaseError(f"input too large to process ({type(err).__name__})",
                                    file=file, line=item.line))
            continue
        if case.name in first_line:
            errors.append(CaseError(f"duplicate case name (first at {file}:"
                                    f"{first_line[case.name]})", file=file, line=case.line,
                                    case=case.name, field="name"))
            continue
        first_line[case.name] = case.line
        cases.append(case)
    return cases, errors


def case_files(path: Path, unreadable: Optional[list[tuple[str, str]]] = None) -> list[Path]:
    """The *.yaml / *.yml files of a library folder (recursively, sorted), or the one file.

    A subfolder that cannot be read is not skipped in silence: (path, reason) goes into
    `unreadable` when given.
    """
    if not path.is_dir():
        return [path]
    found: list[Path] = []

    def note(err: OSError) -> None:
        if unreadable is not None:
            unreadable.append((str(err.filename or path), err.strerror or str(err)))

    for folder, dirs, names in os.walk(path, onerror=note):
        dirs.sort()
        # A folder named like a case file is listed too: it is reported, not skipped.
        found += [Path(folder) / n for n in names + dirs if n.endswith((".yaml", ".yml"))]
    return sorted(found)


def load_library(path: "str | os.PathLike[str]", limits: Limits = DEFAULT_LIMITS) -> Library:
    """Load every case file under `path` (a folder or one file).  Never raises for bad input:
    a path that cannot be read (permission, a name too long, a link loop) is an error entry."""
    try:
        return _load_library(Path(path), limits)
    except OSError as err:
        library = Library()
        library.errors.append(CaseError(f"cannot read: {err.strerror or err}",
                                        file=_shown_path(path)))
        return library


def _shown_path(path: "str | os.PathLike[str]", limit: int = 200) -> str:
    text = str(path)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _load_library(root: Path, limits: Limits) -> Library:
    library = Library()
    path = _shown_path(root)
    if not root.exists():
        library.errors.append(CaseError("no such file or folder", file=path))
        return library
    unreadable: list[tuple[str, str]] = []
    files = case_files(root, unreadable)
    for folder, reason in unreadable:
        library.errors.append(CaseError(f"cannot read this folder: {reason}",
                                        file=_display(Path(folder))))
    if root.is_dir() and not files and not unreadable:
        library.errors.append(CaseError("no *.yaml case files here", file=path))
    first_seen: dict[str, Case] = {}
    for f in files:
        cases, errors = load_file(f, limits, root if root.is_dir() else None)
        library.files.append(_display(f))
        library.errors.extend(errors)
        for case in cases:
            if case.name in first_seen:
                first = first_seen[case.name]
                library.errors.append(CaseError(
                    f"duplicate case name (first at {first.file}:{first.line})",
                    file=case.file, line=case.line, case=case.name, field="name"))
                continue
            first_seen[case.name] = case
            library.cases.append(case)
    return library


def bundled_cases_path() -> Path:
    """The case library shipped with gradcompare, found from the package, never the current folder.

    A wheel or `pip install .` carries the repository's cases/ as compare/bundled/ (mapped by
    pyproject.toml); a checkout, or an editable install of one, reads cases/ beside the package.
    """
    package = Path(__file__).resolve().parent
    installed = package / "bundled"
    checkout = package.parent / "cases"
    if (not installed.is_dir() and checkout.is_dir()
            and (package.parent / "pyproject.toml").is_file()):
        return checkout
    return installed


def default_cases_path() -> Path:
    """The library used when no --cases is given: always the bundled one (bundled_cases_path)."""
    return bundled_cases_path()


def is_bundled(path: "str | os.PathLike[str]") -> bool:
    """Whether `path` is the bundled library, or an existing file or folder inside it."""
    target = Path(os.path.realpath(path))
    root = Path(os.path.realpath(bundled_cases_path()))
    return target == root or (root in target.parents and target.exists())


def is_name(text: str) -> bool:
    return bool(NAME_RULE.match(text))
