"""Every error message the case loader can produce, with its file, line, case and field.

Each bad input is checked for its exact one-line message; a meta-test reads the loader's source
(compare/cases.py, compare/yamlread.py) and fails when a message is added there that no test here
produces.  A bad case never stops the good case beside it.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

import compare.cases as cases_module
import compare.yamlread as yamlread_module
from compare.cases import load_file, load_library, load_text, read_number
from compare.errors import CaseError, GradcompareError, LimitError, ParseError, rejected_count
from compare.limits import Limits
from compare.yamlread import Node

GOOD = " - name: good\n   expression: x * x\n   at: {x: 3}\n"

C = "cases:\n - name: a\n"          # a case header: the case starts at line 2
E = C + "   expression: x\n"         # ... with an expression at line 3
INPUTS = {
# Inputs, one problem each; the file is called demo.yaml.
 # yamlread
 "empty-file": "",
 "only-comment": "# nothing here\n",
 "invalid-yaml": "cases: [\n",
 "tab-indent": "cases:\n\t- name: a\n",
 "control-char": "title: a\x07\ncases: []\n",
 "two-documents": "cases: []\n---\ncases: []\n",
 "alias": "title: demo\ncases: *c\n",
 "anchor": "cases: &c []\n",
 "tag": "cases: !!python/object/apply:os.system ['true']\n",
 "local-tag": "cases:\n - !case\n   name: a\n",
 "merge-key": "cases:\n - <<: {name: a}\n   expression: x\n   at: {x: 1}\n",
 "tag-in-case": E + "   at: {x: !!float 1}\n",
 "python-tag-in-case": C + "   expression: !!python/object/apply:os.system [true]\n   at: {}\n",
 "alias-in-case": E + "   at: {x: *one}\n",
 "anchor-in-case": E + "   at: &point {x: 1}\n",
 "duplicate-key-in-case": E + "   at: {x: 1}\n   at: {x: 2}\n",
 "tagged-key": E + "   at: {!!str x: 1}\n",
 "surrogate-in-case": C + "   title: \"\\ud83d\"\n   expression: x\n   at: {x: 1}\n",
 "duplicate-key": "cases: []\ntitle: a\ncases: []\n",
 "complex-key": "? [a, b]\n: 1\n",
 "too-deep": "title: " + "[" * 20 + "]" * 20 + "\ncases: []\n",
 "unclosed-brackets": "cases: []\ntitle: " + "[" * 20_000 + "\n",
 "lone-surrogate": 'title: "\\udc80"\ncases: []\n',
 # file level
 "file-is-list": "- a\n- b\n",
 "file-is-text": "hello\n",
 "unknown-file-field": "title: t\ncase: []\n",
 "file-title-list": "title: [a]\ncases: []\n",
 "no-cases": "title: t\n",
 "cases-null": "cases:\n",
 "cases-mapping": "cases: {a: 1}\n",
 # case level
 "case-is-text": "cases:\n - a\n",
 "name-not-text": "cases:\n - name: [a]\n   expression: x\n   at: {x: 1}\n",
 "bad-name": "cases:\n - name: Ce Loss\n   expression: x\n   at: {x: 1}\n",
 "unknown-field": E + "   at: {x: 1}\n   expect_value: 1\n",
 "unknown-field-no-hint": E + "   at: {x: 1}\n   zzz: 1\n",
 "unknown-language": E + "   at: {x: 1}\n   titles: {fr: un titre}\n",
 "missing-name": "cases:\n - expression: x\n   at: {x: 1}\n",
 "missing-at": E,
 "no-expression": C + "   at: {x: 1}\n",
 "both-expression-and-steps": E + "   steps: {f: x}\n   at: {x: 1}\n",
 "title-mapping": C + "   title: {a: 1}\n   expression: x\n   at: {x: 1}\n",
 "tags-text": E + "   at: {x: 1}\n   tags: lecture\n",
 "tag-list": E + "   at: {x: 1}\n   tags: [[a]]\n",
 "expression-list": C + "   expression: [x]\n   at: {x: 1}\n",
 "expression-syntax": C + "   expression: x +\n   at: {x: 1}\n",
 "steps-list": C + "   steps: [x]\n   at: {x: 1}\n",
 "steps-empty": C + "   steps: {}\n   at: {x: 1}\n",
 "step-not-text": C + "   steps:\n     f: [x]\n   at: {x: 1}\n",
 "step-syntax": C + "   steps:\n     f: x * 2\n     g: f +\n   at: {x: 1}\n",
 "step-bad-name": C + "   steps:\n     f g: x\n   at: {x: 1}\n",
 "step-reserved": C + "   steps:\n     exp: x\n   at: {x: 1}\n",
 "step-used-before": C + "   steps:\n     f: g * x\n     g: x\n   at: {x: 1}\n",
 "step-uses-itself": C + "   steps:\n     f: f * x\n   at: {x: 1}\n",
 "at-list": E + "   at: [1]\n",
 "at-boolean": E + "   at: {x: no}\n",
 "at-null": E + "   at: {x: ~}\n",
 "at-empty": E + "   at: {x: }\n",
 "at-nan": E + "   at: {x: .nan}\n",
 "at-inf": E + "   at: {x: -.inf}\n",
 "at-date": E + "   at: {x: 2024-01-31}\n",
 "at-sexagesimal": E + "   at: {x: 1:30}\n",
 "at-octal": E + "   at: {x: 010}\n",
 "at-octal-0o": E + "   at: {x: 0o17}\n",
 "at-hex": E + "   at: {x: 0x1F}\n",
 "at-quoted": E + "   at: {x: \"3\"}\n",
 "at-long": E + "   at: {x: " + "1" * 50 + "}\n",
 "at-too-large": E + "   at: {x: 1e999}\n",
 "at-too-small": E + "   at: {x: 1e-400}\n",
 "at-text": E + "   at: {x: three}\n",
 "at-underscore": E + "   at: {x: 1_000}\n",
 "at-fullwidth": E + "   at: {x: ３}\n",
 "at-mapping": E + "   at: {x: {y: 1}}\n",
 "at-unused": E + "   at: {x: 1, y: 2}\n",
 "at-missing": C + "   expression: x * y\n   at: {x: 1}\n",
 "no-variables": C + "   expression: 2 * 3\n   at: {}\n",
 "wrt-text": E + "   at: {x: 1}\n   wrt: x\n",
 "wrt-empty": E + "   at: {x: 1}\n   wrt: []\n",
 "wrt-unknown": E + "   at: {x: 1}\n   wrt: [y]\n",
 "parameters-not-in-wrt": C + "   expression: x * y\n" + "   at: {x: 1, y: 2}\n   wrt: [x]\n   parameters: [y]\n",
 "parameters-empty": E + "   at: {x: 1}\n   parameters: []\n",
 "wrt-twice": E + "   at: {x: 1}\n   wrt: [x, x]\n",
 "wrt-item-list": E + "   at: {x: 1}\n   wrt: [[x]]\n",
 "expect-list": E + "   at: {x: 1}\n   expect: [1]\n",
 "expect-unknown": E + "   at: {x: 1}\n   expect: {grad: {x: 1}}\n",
 "expect-value-text": E + "   at: {x: 1}\n   expect: {value: one}\n",
 "expect-gradient-list": E + "   at: {x: 1}\n   expect: {gradient: [1]}\n",
 "expect-gradient-unknown": E + "   at: {x: 1}\n   expect: {gradient: {y: 1}}\n",
 "expect-gradient-bool": E + "   at: {x: 1}\n   expect: {gradient: {x: yes}}\n",
 "expect-negative-tol": E + "   at: {x: 1}\n   expect: {abs_tol: -1e-9}\n",
 "learning-rate-zero": E + "   at: {x: 1}\n   learning_rate: 0\n",
 "learning-rate-text": E + "   at: {x: 1}\n   learning_rate: fast\n",
 "duplicate-name": E + "   at: {x: 1}\n - name: a\n   expression: x\n   at: {x: 2}\n",
 # data rows and the loss (compare.descent's objective)
 "data-empty": E + "   at: {x: 1}\n   data: []\n   loss: mean\n",
 "data-row-empty": E + "   at: {x: 1}\n   data: [{}]\n   loss: mean\n",
 "data-column-name": C + "   expression: w * x\n   at: {x: 1, w: 2}\n   data: [{x-1: 2}]\n   loss: mean\n",
 "data-row-missing": C + "   expression: w * x\n   at: {x: 1, w: 2}\n   data: [{x: 1}, {w: 2}]\n   loss: mean\n",
 "data-row-extra": C + "   expression: w * x\n   at: {x: 1, w: 2}\n   data: [{x: 1}, {x: 2, z: 3}]\n   loss: mean\n",
 "data-value-bool": C + "   expression: w * x\n   at: {x: 1, w: 2}\n   data: [{x: 1}, {x: no}]\n   loss: mean\n",
 "data-without-loss": C + "   expression: w * x\n   at: {x: 1, w: 2}\n   data: [{x: 1}]\n",
 "loss-unknown": C + "   expression: w * x\n   at: {x: 1, w: 2}\n   data: [{x: 1}]\n   loss: hinge\n",
 "loss-without-data": C + "   expression: w * x\n   at: {x: 1, w: 2}\n   loss: mean\n",
 "target-without-loss": C + "   expression: w * x\n   at: {x: 1, w: 2}\n   target: y\n",
 "target-with-mean": C + "   expression: w * x\n   at: {x: 1, w: 2}\n   data: [{x: 1, y: 0}]\n   loss: mean\n   target: y\n",
 "loss-needs-target": C + "   expression: w * x\n   at: {x: 1, w: 2}\n   data: [{x: 1}]\n   loss: squared_error\n",
 "target-is-variable": C + "   expression: w * x\n   at: {x: 1, w: 2}\n   data: [{x: 1}]\n   loss: squared_error\n   target: x\n",
 "target-not-column": C + "   expression: w * x\n   at: {x: 1, w: 2}\n   data: [{x: 1}]\n   loss: squared_error\n   target: y\n",
 "column-unknown": C + "   expression: w * x\n   at: {x: 1, w: 2}\n   data: [{x: 1, q: 2}]\n   loss: mean\n",
 "parameter-is-data": C + "   expression: w * x\n   at: {x: 1, w: 2}\n   parameters: [w, x]\n   data: [{x: 1}]\n   loss: mean\n",
 "all-data": E + "   at: {x: 1}\n   data: [{x: 2}]\n   loss: mean\n",
 "bce-target-range": C + "   expression: w * x\n   at: {x: 1, w: 2}\n   data: [{x: 1, y: 2}]\n   loss: binary_cross_entropy\n   target: y\n",
 "data-too-large": C + "   expression: w * x\n   at: {x: 1, w: 2}\n   data: [" + ", ".join(["{x: 1}"] * 10_000) + "]\n   loss: mean\n",
}

EXPECTED = {
    'empty-file': (CaseError, "demo.yaml:1: the file is empty; expected a mapping with a 'cases' list"),
    'only-comment': (CaseError, "demo.yaml:1: the file is empty; expected a mapping with a 'cases' list"),
    'invalid-yaml': (CaseError, "demo.yaml:2: not valid YAML: expected the node content, but found '<stream end>'"),
    'tab-indent': (CaseError, "demo.yaml:2: not valid YAML: found character '\\t' that cannot start any token"),
    'control-char': (CaseError, 'demo.yaml:1: not valid YAML: unacceptable character #x0007: special characters are not allowed'),
    'two-documents': (CaseError, 'demo.yaml:2: a case file holds one YAML document'),
    'alias': (CaseError, 'demo.yaml:2: cases: YAML aliases (*name) are not supported in case files'),
    'anchor': (CaseError, 'demo.yaml:1: cases: YAML anchors (&name) are not supported in case files'),
    'tag': (CaseError, 'demo.yaml:1: cases: YAML tags (tag:yaml.org,2002:python/object/apply:os.system) are not supported in case files'),
    'local-tag': (CaseError, "demo.yaml:2: case 'a': YAML tags (!case) are not supported in case files"),
    'tag-in-case': (CaseError, "demo.yaml:4: case 'a': at.x: YAML tags (tag:yaml.org,2002:float) are not supported in case files"),
    'python-tag-in-case': (CaseError, "demo.yaml:3: case 'a': expression: YAML tags (tag:yaml.org,2002:python/object/apply:os.system) are not supported in case files"),
    'alias-in-case': (CaseError, "demo.yaml:4: case 'a': at.x: YAML aliases (*name) are not supported in case files"),
    'anchor-in-case': (CaseError, "demo.yaml:4: case 'a': at: YAML anchors (&name) are not supported in case files"),
    'duplicate-key-in-case': (CaseError, "demo.yaml:5: case 'a': duplicate key 'at' (first at line 4)"),
    'tagged-key': (CaseError, "demo.yaml:4: case 'a': at: YAML tags (tag:yaml.org,2002:str) are not supported in case files"),
    'surrogate-in-case': (CaseError, "demo.yaml:3: case 'a': title: text with U+D83D, a lone surrogate (not a character); write the character itself"),
    'merge-key': (CaseError, 'demo.yaml:2: merge keys (<<) are not supported in case files'),
    'duplicate-key': (CaseError, "demo.yaml:3: duplicate key 'cases' (first at line 1)"),
    'complex-key': (CaseError, 'demo.yaml:1: a mapping key must be plain text'),
    'too-deep': (CaseError, 'demo.yaml:1: title[0][0][0][0][0][0][0][0][0][0][0]: nesting deeper than 12 levels (max_yaml_depth)'),
    'unclosed-brackets': (CaseError, 'demo.yaml:2: nested deeper than 100 levels: not parsed (max_yaml_depth is 12)'),
    'lone-surrogate': (CaseError, 'demo.yaml:1: title: text with U+DC80, a lone surrogate (not a character); write the character itself'),
    'file-is-list': (CaseError, 'demo.yaml:1: file: expected a mapping, got a list'),
    'file-is-text': (CaseError, "demo.yaml:1: file: expected a mapping, got 'hello'"),
    'unknown-file-field': (CaseError, "demo.yaml:2: case: unknown field 'case' (did you mean 'cases'?)"),
    'file-title-list': (CaseError, 'demo.yaml:1: title: expected text, got a list'),
    'no-cases': (CaseError, "demo.yaml:1: no 'cases' list in this file"),
    'cases-null': (CaseError, 'demo.yaml:1: cases: expected a list, got nothing (null)'),
    'cases-mapping': (CaseError, 'demo.yaml:1: cases: expected a list, got a mapping'),
    'case-is-text': (CaseError, "demo.yaml:2: case: expected a mapping, got 'a'"),
    'name-not-text': (CaseError, 'demo.yaml:2: name: expected text, got a list'),
    'bad-name': (CaseError, "demo.yaml:2: name: 'Ce Loss' is not a case name: lowercase letters, digits, '-' and '_', starting with a letter or digit, at most 64"),
    'unknown-field': (CaseError, "demo.yaml:5: case 'a': expect_value: unknown field 'expect_value' (did you mean 'expect'?)"),
    'unknown-field-no-hint': (CaseError, "demo.yaml:5: case 'a': zzz: unknown field 'zzz'; known: name, title, description, source, titles, sources, tags, expression, steps, at, wrt, expect, learning_rate, parameters, data, loss, target"),
    'unknown-language': (CaseError, "demo.yaml:5: case 'a': titles.fr: unknown language 'fr'; known: en, vi"),
    'missing-name': (CaseError, "demo.yaml:2: missing required field 'name'"),
    'missing-at': (CaseError, "demo.yaml:2: case 'a': missing required field 'at'"),
    'no-expression': (CaseError, "demo.yaml:2: case 'a': give exactly one of 'expression' or 'steps'"),
    'both-expression-and-steps': (CaseError, "demo.yaml:2: case 'a': give exactly one of 'expression' or 'steps'"),
    'title-mapping': (CaseError, "demo.yaml:3: case 'a': title: expected text, got a mapping"),
    'tags-text': (CaseError, "demo.yaml:5: case 'a': tags: expected a list, got 'lecture'"),
    'tag-list': (CaseError, "demo.yaml:5: case 'a': tags[0]: expected text, got a list"),
    'expression-list': (CaseError, "demo.yaml:3: case 'a': expression: expected text, got a list"),
    'expression-syntax': (ParseError, "demo.yaml:3: case 'a': expression: expression ends early at column 4: expected a number, a name or '('"),
    'steps-list': (CaseError, "demo.yaml:3: case 'a': steps: expected a mapping, got a list"),
    'steps-empty': (ParseError, "demo.yaml:3: case 'a': steps: expected at least one step"),
    'step-not-text': (CaseError, "demo.yaml:4: case 'a': steps.f: expected text, got a list"),
    'step-syntax': (ParseError, "demo.yaml:5: case 'a': steps.g: expression ends early at column 4: expected a number, a name or '('"),
    'step-bad-name': (ParseError, "demo.yaml:4: case 'a': steps.f g: step name 'f g' is not a name (a letter, then letters, digits or _)"),
    'step-reserved': (ParseError, "demo.yaml:4: case 'a': steps.exp: step name 'exp' is reserved (a function or constant)"),
    'step-used-before': (ParseError, "demo.yaml:5: case 'a': steps.g: step 'g' is defined after being used as a variable"),
    'step-uses-itself': (ParseError, "demo.yaml:4: case 'a': steps.f: step 'f' uses itself; a step may use only the steps before it"),
    'at-list': (CaseError, "demo.yaml:4: case 'a': at: expected a mapping, got a list"),
    'at-boolean': (CaseError, "demo.yaml:4: case 'a': at.x: expected a number, got boolean 'no'"),
    'at-null': (CaseError, "demo.yaml:4: case 'a': at.x: expected a number, got nothing (null)"),
    'at-empty': (CaseError, "demo.yaml:4: case 'a': at.x: expected a number, got nothing (null)"),
    'at-nan': (CaseError, "demo.yaml:4: case 'a': at.x: expected a number, got non-finite '.nan'"),
    'at-inf': (CaseError, "demo.yaml:4: case 'a': at.x: expected a number, got non-finite '-.inf'"),
    'at-date': (CaseError, "demo.yaml:4: case 'a': at.x: expected a number, got date '2024-01-31'"),
    'at-sexagesimal': (CaseError, "demo.yaml:4: case 'a': at.x: expected a number, got sexagesimal (base 60) '1:30'"),
    'at-octal': (CaseError, "demo.yaml:4: case 'a': at.x: expected a number, got octal-looking '010' (write it without leading zeros)"),
    'at-octal-0o': (CaseError, "demo.yaml:4: case 'a': at.x: expected a number, got octal-looking '0o17' (write it without leading zeros)"),
    'at-hex': (CaseError, "demo.yaml:4: case 'a': at.x: expected a number, got hexadecimal '0x1F'"),
    'at-quoted': (CaseError, "demo.yaml:4: case 'a': at.x: expected a number, got quoted text '3' (remove the quotes)"),
    'at-long': (CaseError, "demo.yaml:4: case 'a': at.x: expected a number, got a number of 50 characters (limit 40)"),
    'at-too-large': (CaseError, "demo.yaml:4: case 'a': at.x: expected a finite number, got '1e999' (too large for a float)"),
    'at-too-small': (CaseError, "demo.yaml:4: case 'a': at.x: expected a number, got '1e-400', too small for a float (it would be 0)"),
    'at-text': (CaseError, "demo.yaml:4: case 'a': at.x: expected a number, got text 'three'"),
    'at-underscore': (CaseError, "demo.yaml:4: case 'a': at.x: expected a number, got text '1_000'"),
    'at-fullwidth': (CaseError, "demo.yaml:4: case 'a': at.x: expected a number, got text '３' (numbers are written with the ASCII digits 0-9)"),
    'at-mapping': (CaseError, "demo.yaml:4: case 'a': at.x: expected a number, got a mapping"),
    'at-unused': (CaseError, "demo.yaml:4: case 'a': at.y: variable 'y' is not used by the expression (a typo?)"),
    'at-missing': (CaseError, "demo.yaml:4: case 'a': at: no value for 'y'; every variable needs a finite number"),
    'no-variables': (CaseError, "demo.yaml:3: case 'a': expression: no variables: nothing to differentiate"),
    'wrt-text': (CaseError, "demo.yaml:5: case 'a': wrt: expected a list, got 'x'"),
    'wrt-empty': (CaseError, "demo.yaml:5: case 'a': wrt: expected at least one variable"),
    'wrt-unknown': (CaseError, "demo.yaml:5: case 'a': wrt[0]: 'y' is not a variable of this case; variables: x"),
    'parameters-not-in-wrt': (CaseError, "demo.yaml:6: case 'a': parameters[0]: 'y' is not a differentiated variable; wrt: x"),
    'parameters-empty': (CaseError, "demo.yaml:5: case 'a': parameters: expected at least one variable"),
    'wrt-twice': (CaseError, "demo.yaml:5: case 'a': wrt[1]: 'x' is listed twice"),
    'wrt-item-list': (CaseError, "demo.yaml:5: case 'a': wrt[0]: expected text, got a list"),
    'expect-list': (CaseError, "demo.yaml:5: case 'a': expect: expected a mapping, got a list"),
    'expect-unknown': (CaseError, "demo.yaml:5: case 'a': expect.grad: unknown field 'grad' (did you mean 'gradient'?)"),
    'expect-value-text': (CaseError, "demo.yaml:5: case 'a': expect.value: expected a number, got text 'one'"),
    'expect-gradient-list': (CaseError, "demo.yaml:5: case 'a': expect.gradient: expected a mapping, got a list"),
    'expect-gradient-unknown': (CaseError, "demo.yaml:5: case 'a': expect.gradient.y: 'y' is not differentiated in this case (wrt: x)"),
    'expect-gradient-bool': (CaseError, "demo.yaml:5: case 'a': expect.gradient.x: expected a number, got boolean 'yes'"),
    'expect-negative-tol': (CaseError, "demo.yaml:5: case 'a': expect.abs_tol: expected a non-negative number, got -1e-09"),
    'learning-rate-zero': (CaseError, "demo.yaml:5: case 'a': learning_rate: expected a positive number, got 0"),
    'learning-rate-text': (CaseError, "demo.yaml:5: case 'a': learning_rate: expected a number, got text 'fast'"),
    'duplicate-name': (CaseError, "demo.yaml:5: case 'a': name: duplicate case name (first at demo.yaml:2)"),
    'data-empty': (CaseError, "demo.yaml:5: case 'a': data: expected at least one row"),
    'data-row-empty': (CaseError, "demo.yaml:5: case 'a': data[0]: a row needs at least one column"),
    'data-column-name': (CaseError, "demo.yaml:5: case 'a': data[0]: 'x-1' is not a column name (a variable name: letters, digits, _)"),
    'data-row-missing': (CaseError, "demo.yaml:5: case 'a': data[1]: no value for 'x'; every row has the first row's columns (x)"),
    'data-row-extra': (CaseError, "demo.yaml:5: case 'a': data[1]: column 'z' is not in the first row; every row has the first row's columns (x)"),
    'data-value-bool': (CaseError, "demo.yaml:5: case 'a': data[1].x: expected a number, got boolean 'no'"),
    'data-without-loss': (CaseError, "demo.yaml:5: case 'a': data: data rows need a loss (mean, squared_error, binary_cross_entropy)"),
    'loss-unknown': (CaseError, "demo.yaml:6: case 'a': loss: unknown loss 'hinge'; known: mean, squared_error, binary_cross_entropy"),
    'loss-without-data': (CaseError, "demo.yaml:5: case 'a': loss: a loss is taken over data rows: add 'data'"),
    'target-without-loss': (CaseError, "demo.yaml:5: case 'a': target: a target needs a loss (squared_error or binary_cross_entropy)"),
    'target-with-mean': (CaseError, "demo.yaml:7: case 'a': target: the mean loss takes no target: it averages the expression itself"),
    'loss-needs-target': (CaseError, "demo.yaml:6: case 'a': loss: the squared_error loss needs a target column: add 'target'"),
    'target-is-variable': (CaseError, "demo.yaml:7: case 'a': target: target 'x' is a variable of the expression; the target is a column of its own"),
    'target-not-column': (CaseError, "demo.yaml:7: case 'a': target: target 'y' is not a column of data (columns: x)"),
    'column-unknown': (CaseError, "demo.yaml:5: case 'a': data[0]: column 'q' is neither a variable of the expression nor the target"),
    'parameter-is-data': (CaseError, "demo.yaml:5: case 'a': parameters[1]: 'x' is a parameter and a data column: descent moves the parameters and keeps the data fixed"),
    'all-data': (CaseError, "demo.yaml:5: case 'a': data: every differentiated variable is a data column: nothing for descent to move; list the 'parameters'"),
    'bce-target-range': (CaseError, "demo.yaml:5: case 'a': data[0].y: binary cross-entropy needs a target from 0 to 1, got 2"),
    'data-too-large': (CaseError, "demo.yaml:5: case 'a': data: 10,000 rows × 11 nodes is above the objective's limit of 100,000 nodes (max_nodes)"),
}

def test_every_input_has_an_expected_message():
    assert set(INPUTS) == set(EXPECTED)


@pytest.mark.parametrize("name", list(INPUTS))
def test_message(name):
    kind, message = EXPECTED[name]
    cases, errors = load_text(INPUTS[name], "demo.yaml")
    assert [str(e) for e in errors] == [message]
    assert type(errors[0]) is kind
    assert errors[0].file == "demo.yaml"
    assert errors[0].line == int(message.split(":")[1])
    assert "Traceback" not in message


# Inputs whose problem is inside one case: a good case after it must still load.
CASE_LEVEL = [n for n, (_, m) in EXPECTED.items() if "case 'a'" in m] + [
    "bad-name", "name-not-text", "missing-name", "merge-key", "case-is-text"]


@pytest.mark.parametrize("name", CASE_LEVEL)
def test_good_case_beside_a_bad_one_still_loads(name):
    cases, errors = load_text(INPUTS[name] + GOOD, "demo.yaml")
    assert [c.name for c in cases if c.name == "good"] == ["good"]
    assert [str(e) for e in errors] == [EXPECTED[name][1]]
    good = next(c for c in cases if c.name == "good")
    assert good.at == {"x": 3.0} and good.wrt == ["x"]


def test_case_level_inputs_are_most_of_the_table():
    assert len(CASE_LEVEL) >= 50


# -- files and folders -----------------------------------------------------------------------
def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def file_level_messages(tmp: Path) -> dict[str, list[str]]:
    """Problems with files and folders (not with their text), as load_library reports them.

    Run inside `tmp` (paths are shown relative to the current folder).
    """
    assert Path.cwd() == tmp
    out: dict[str, list[str]] = {}
    lib = Path("lib")
    _write(lib, "good.yaml", "cases:\n" + GOOD)
    _write(lib, "sub/again.yaml", "cases:\n" + GOOD)
    (lib / "bytes.yaml").write_bytes(b"title: caf\xe9\ncases: []\n")
    outside = _write(tmp / "elsewhere", "secret.yaml", "cases: []\n")
    os.symlink(outside.resolve(), lib / "outside.yaml")
    os.symlink("good.yaml", lib / "inside-link.yaml")
    os.symlink("loop.yaml", lib / "loop.yaml")
    os.mkfifo(lib / "pipe.yaml")
    (lib / "folder.yaml").mkdir()
    library = load_library(lib)
    out["library"] = [str(e) for e in library.errors]
    out["cases"] = [c.name for c in library.cases]
    small = Limits(max_file_bytes=10)
    out["too-big"] = [str(e) for e in load_file(lib / "good.yaml", small)[1]]
    out["missing"] = [str(e) for e in load_library("nothing-here").errors]
    Path("empty").mkdir()
    out["no-yaml"] = [str(e) for e in load_library("empty").errors]
    out["select"] = [str(e) for e in library.select(["goood"]).errors[-1:]]
    many = "cases:\n" + " - {name: a}\n" * 3
    out["too-many-cases"] = [str(e) for e in load_text(many, "m.yaml", Limits(
        max_cases_per_file=2))[1]]
    steps = "cases:\n - name: s\n   steps: {a: x, b: a, c: b}\n   at: {x: 1}\n"
    out["too-many-steps"] = [str(e) for e in load_text(steps, "s.yaml", Limits(max_steps=2))[1]]
    return out


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return file_level_messages(tmp_path)


def test_library_refuses_links_outside_pipes_folders_and_bad_bytes(files):
    assert files["cases"] == ["good"]
    errors = files["library"]
    assert ("lib/bytes.yaml:1: not UTF-8 text: byte 0xE9 at offset 10; save the file as "
            "UTF-8") in errors
    assert "lib/folder.yaml: not a regular file" in errors
    assert "lib/pipe.yaml: not a regular file" in errors
    assert "lib/loop.yaml: cannot read: Too many levels of symbolic links" in errors
    assert any(e.startswith("lib/outside.yaml: link leads outside the library (to ")
               for e in errors)
    # A link inside the library is read; its case is then a duplicate of good.yaml's.
    assert ("lib/inside-link.yaml:2: case 'good': name: duplicate case name "
            "(first at lib/good.yaml:2)") in errors
    assert ("lib/sub/again.yaml:2: case 'good': name: duplicate case name "
            "(first at lib/good.yaml:2)") in errors
    assert len(errors) == 7


def test_file_size_is_checked_before_reading(files):
    assert files["too-big"] == [
        "lib/good.yaml: file is 56 bytes; the limit is 10 (max_file_bytes)"]


def test_missing_path_and_empty_folder(files):
    assert files["missing"] == ["nothing-here: no such file or folder"]
    assert files["no-yaml"] == ["empty: no *.yaml case files here"]


def test_unknown_case_name_suggests_close_ones(files):
    assert files["select"] == ["case 'goood': no case named 'goood'; did you mean good?"]


def test_count_limits(files):
    assert files["too-many-cases"] == ["m.yaml:2: cases: 3 cases; the limit is 2"]
    assert files["too-many-steps"] == ["s.yaml:3: case 's': steps: 3 steps; the limit is 2"]


def test_a_case_too_large_to_process_is_reported_not_raised(monkeypatch):
    def explode(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(cases_module, "parse", explode)
    cases, errors = load_text("cases:\n - name: a\n   expression: x\n   at: {x: 1}\n" + GOOD,
                              "demo.yaml")
    assert cases == []
    assert [str(e) for e in errors] == [
        "demo.yaml:2: input too large to process (RecursionError)",
        "demo.yaml:5: input too large to process (RecursionError)"]


# -- every message in the loader's source is produced by some test here ----------------------
_RAISERS = {"CaseError", "fail", "refuse"}


def _templates(module) -> list[str]:
    """The longest literal piece of every message the module builds."""
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        first = None
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in _RAISERS:
            first = node.args[0] if node.args else None
        elif isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "problem"
                                                   for t in node.targets):
            first = node.value
        elif isinstance(node, ast.AugAssign) and getattr(node.target, "id", "") == "problem":
            first = node.value
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            found.append(first.value)
        elif isinstance(first, ast.JoinedStr):
            pieces = [v.value for v in first.values if isinstance(v, ast.Constant)]
            found.append(max(pieces, key=len))
    return [t.strip(" ;:'") for t in found if t.strip(" ;:'")]


def _unreadable_folder_errors(tmp_path, request):
    """load_library on a folder whose subfolder cannot be listed (conftest simulates it)."""
    lib = tmp_path / "unreadable"
    (lib / "sub").mkdir(parents=True)
    request.getfixturevalue("unreadable_subfolders")
    return load_library(lib).errors


def test_every_loader_message_is_tested(tmp_path, monkeypatch, request):
    monkeypatch.chdir(tmp_path)
    produced = [m for _, m in EXPECTED.values()]
    for messages in file_level_messages(tmp_path).values():
        produced += messages
    produced.append("input too large to process (RecursionError)")
    produced += [str(e) for e in _unreadable_folder_errors(tmp_path, request)]
    text = "\n".join(produced)
    templates = _templates(cases_module) + _templates(yamlread_module)
    assert len(templates) > 40
    untested = [t for t in templates if t not in text]
    assert not untested, f"loader messages no test produces: {untested}"


# -- what is accepted ------------------------------------------------------------------------
@pytest.mark.parametrize("text, value", [
    ("0", 0.0), ("-0", 0.0), ("3", 3.0), ("+2", 2.0), ("-4.5", -4.5), ("3.", 3.0),
    (".5", 0.5), ("1e-3", 0.001), ("1E5", 1e5), ("2.5e+2", 250.0), ("0.0", 0.0),
    ("0.001", 0.001), ("1e308", 1e308), ("10", 10.0),
])
def test_numbers_are_read_as_written(text, value):
    assert read_number(Node(text, 1, "scalar", plain=True), "at.x") == value


@pytest.mark.parametrize("text", [
    "yes", "No", "TRUE", "off", "y", "~", "null", "", ".nan", "NaN", ".inf", "-.Inf", "inf",
    "2024-01-31", "2001-12-14t21:59:43.10-05:00", "1:30", "-1:30:00", "190:20:30.15", "010",
    "007", "0o17", "0x1F", "1_000", "1,5", "١", "３", "1e", "e3", "--1", "0b101", "½", "1e999",
])
def test_what_yaml_1_1_would_reinterpret_is_not_a_number(text):
    with pytest.raises(CaseError) as err:
        read_number(Node(text, 7, "scalar", plain=True), "at.x")
    assert err.value.line == 7 and err.value.field == "at.x"
    assert str(err.value).startswith("at.x: expected a")


def test_a_good_file_loads_with_lines_defaults_and_order():
    text = ("title: demo\n"
            "cases:\n"
            " - name: lecture-sum-times\n"
            "   title: (x + y) * z\n"
            "   tags: [lecture, small]\n"
            "   expression: (x + y) * z\n"
            "   at: {x: 3, y: -4, z: 5}\n"
            "   expect: {value: -5, gradient: {x: 5, y: 5, z: -1}, rel_tol: 1e-6}\n"
            " - name: steps-case\n"
            "   steps:\n"
            "     f1: x + y\n"
            "     f2: f1 * z\n"
            "   at: {x: 1, y: 2, z: 3}\n"
            "   wrt: [z, x]\n"
            "   learning_rate: 0.1\n")
    cases, errors = load_text(text, "demo.yaml")
    assert errors == []
    first, second = cases
    assert (first.name, first.line, first.tags) == ("lecture-sum-times", 3, ["lecture", "small"])
    assert first.wrt == ["x", "y", "z"]
    assert first.expect.value == -5 and first.expect.gradient == {"x": 5, "y": 5, "z": -1}
    assert first.expect.rel_tol == 1e-6 and first.expect.abs_tol == cases_module.DEFAULT_ABS_TOL
    assert second.steps == [("f1", "x + y"), ("f2", "f1 * z")]
    assert second.wrt == ["z", "x"] and second.learning_rate == 0.1 and second.expect is None


def test_errors_are_gradcompare_errors_with_a_kind():
    for kind, _ in EXPECTED.values():
        assert issubclass(kind, GradcompareError)
    assert {CaseError.kind, ParseError.kind, LimitError.kind} == {"case", "parse", "limit"}


def test_messages_never_carry_control_characters():
    text = 'cases:\n - name: a\n   expression: x\n   at: {x: 1, "\\e[2J\\u202e": 2}\n'
    cases, errors = load_text(text, "demo.yaml")
    message = str(errors[0])
    assert "\x1b" not in message and "\u202e" not in message
    assert "U+001B[2JU+202E" in message


def test_independent_problems_of_one_case_are_all_reported():
    text = ("cases:\n"
            " - name: many\n"                       # line 2
            "   title: [no]\n"                      # line 3: not text
            "   expression: x * y\n"
            "   at: {x: yes, y: two}\n"             # line 5: two bad values
            "   learning_rate: -1\n"                # line 6
            + GOOD)
    cases, errors = load_text(text, "demo.yaml")
    assert [c.name for c in cases] == ["good"]
    assert [str(e) for e in errors] == [
        "demo.yaml:3: case 'many': title: expected text, got a list",
        "demo.yaml:5: case 'many': at.x: expected a number, got boolean 'yes'",
        "demo.yaml:5: case 'many': at.y: expected a number, got text 'two'",
        "demo.yaml:6: case 'many': learning_rate: expected a positive number, got -1",
    ]
    assert [e.same_case for e in errors] == [False, True, True, True]
    assert rejected_count(errors) == 1


def test_a_problem_is_not_reported_again_as_its_consequences():
    # The expression does not parse, so its variables are unknown: wrt and expect, which are
    # checked against them, are not judged (they would only repeat the first problem).
    text = ("cases:\n"
            " - name: a\n"
            "   expression: x * sine(y)\n"          # line 3
            "   at: {x: 1, y: 2}\n"
            "   wrt: [z]\n"
            "   expect: {gradient: {z: 1}}\n"
            "   learning_rate: 0\n")                # line 7: independent, still reported
    _, errors = load_text(text, "demo.yaml")
    assert [str(e) for e in errors] == [
        "demo.yaml:3: case 'a': expression: unknown function 'sine' at column 5 "
        "(did you mean 'sin'?)",
        "demo.yaml:7: case 'a': learning_rate: expected a positive number, got 0",
    ]
    assert rejected_count(errors) == 1


def test_check_counts_a_case_with_several_problems_once(tmp_path, capsys):
    from compare.cli import main
    bad = tmp_path / "two.yaml"
    bad.write_text("cases:\n - name: b\n   expression: x\n   at: {x: no}\n   learning_rate: 0\n"
                   + GOOD)
    assert main(["check", "--cases", str(bad)]) == 2
    captured = capsys.readouterr()
    assert "1 case checked: 1 pass, 0 fail, 0 unverified, 1 rejected" in captured.out
    assert captured.err.count("error: ") == 2
