"""codegen.expressions: its own printer and walker against LibCST's, on real code and
on odd spacing."""

import re
from pathlib import Path

import libcst as cst
import pytest

from codegen.expressions import code, parenthesize, reads, substitute, transform

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    [*ROOT.glob("generated_examples/*.py"), *ROOT.glob("bench/losses/*.py"), *ROOT.glob("templates/**/*.py")]
)
ODD = [
    "a+b", "a  +b", "( a )", "((a))", "(\na)", "- x", "not  x", "x . y", "a . \\\n b",
    "f( x , y = 2 )", "f(y=2)", "f(a,)", "f(*a, **k)", "f(a\n, b)", "f(\n  x)", "f(x)(y)",
    "np.sum(x, axis=1)", '"s" "t"', "~x", "+x", "1_000j", "x[1:2]", "(a, b)", "a if b else c",
    "x ** -1", "a and  b", "lambda q: q + 1", "[a for a in b]", "a < b <= c", "a not in b",
]


class _Expressions(cst.CSTVisitor):
    def __init__(self):
        self.found = []

    def on_visit(self, node):
        if isinstance(node, cst.BaseExpression):
            self.found.append(node)
        return True


def _expressions():
    for path in SOURCES:
        visitor = _Expressions()
        cst.parse_module(path.read_text()).visit(visitor)
        yield from ((path.name, node) for node in visitor.found)
    for text in ODD:
        yield text, cst.parse_expression(text)


def test_printer_agrees_with_libcst():
    checked = 0
    for where, node in _expressions():
        assert code(node) == cst.Module([]).code_for_node(node), where
        checked += 1
    assert checked > 5000  # the sources above hold that many expressions


def test_printer_agrees_on_built_nodes():
    # Nodes the stages build, with LibCST's default spacing and sentinels.
    call = cst.Call(cst.Name("f"), [cst.Arg(cst.Name("y")), cst.Arg(cst.Name("x"), keyword=cst.Name("k"))])
    wrapped = cst.BinaryOperation(cst.Name("a"), cst.Add(), call, lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    for node in (call, wrapped, cst.UnaryOperation(cst.Not(), wrapped), cst.Attribute(wrapped, cst.Name("T"))):
        assert code(node) == cst.Module([]).code_for_node(node)


@pytest.mark.parametrize("text", ODD + ["g(k=x, *x)", "x.x(x=x)[x]", "{x: x}", "(x := 2)", "[x.x(x=x) for x in y]"])
def test_substitute_replaces_variables_only(text):
    # Attribute and keyword names are not variables, on the direct walk and on the
    # LibCST fallback alike (a lambda, a comprehension, a dict go through it).
    node = cst.parse_expression(re.sub(r"\b[abq]\b", "x", text))
    replaced = substitute(node, {"x": cst.Name("z")})
    assert "x" not in reads(replaced)
    assert code(replaced).count("z") == len([n for n in _names(node) if n == "x"])


def _names(node):
    """Variable names read, with repeats (LibCST's own visitor, as the reference)."""
    found = []

    class Names(cst.CSTVisitor):
        def visit_Name(self, n):
            found.append(n.value)

        def visit_Attribute(self, n):
            n.value.visit(self)
            return False

        def visit_Arg(self, n):
            n.value.visit(self)
            return False

        def visit_DictElement(self, n):
            n.key.visit(self)
            n.value.visit(self)
            return False

    node.visit(Names())
    return found


def test_transform_keeps_unchanged_subtrees():
    node = cst.parse_expression("np.exp(a * b) + c[1:] - f(d, k=e)")
    assert transform(node, lambda n: n) is node
    assert parenthesize(node) is node  # nothing to add


def test_parenthesize_after_substitution():
    node = substitute(cst.parse_expression("x ** 2 * y"), {"x": cst.parse_expression("-a"), "y": cst.parse_expression("b + c")})
    assert code(node) == "(-a) ** 2 * (b + c)"


# -- statement lines: Python's parser standing in for LibCST's positions ------------------

LINES_SOURCE = '''
import numpy as np


def f(x, n):
    """Doc."""
    a = x; b = a * 2
    if a > 0:
        c = (a
             + b)
    elif a < -1:
        c = a
    else:
        # a comment
        c = b
    for i in range(n):
        while c > 1:
            c = c / 2
            break
    return c


async def g():
    with open("f") as h:
        pass
'''


@pytest.mark.parametrize("path", [None, *SOURCES], ids=lambda p: "inline" if p is None else p.name)
def test_statement_lines_agree_with_libcst_positions(path):
    from libcst.metadata import MetadataWrapper, PositionProvider

    from codegen.parse import statement_lines

    source = LINES_SOURCE if path is None else path.read_text()
    module = cst.parse_module(source)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    lines = statement_lines(source, module)
    in_functions = set().union(*(_statements_of(fn) for fn in module.body if isinstance(fn, cst.FunctionDef)))
    statements = [
        n for n in positions
        if isinstance(n, (cst.SimpleStatementLine, cst.BaseSmallStatement, cst.If, cst.For, cst.While, cst.With,
                          cst.FunctionDef, cst.Try))
        and n in in_functions
    ]
    assert statements and set(lines) == set(statements)
    for statement in statements:
        assert lines[statement] == positions[statement].start.line


def _statements_of(fn):
    found = set()

    class Collect(cst.CSTVisitor):
        def on_visit(self, node):
            if isinstance(node, (cst.BaseStatement, cst.BaseSmallStatement)) and node is not fn:
                found.add(node)
            return not isinstance(node, (cst.With, cst.Try))  # parse refuses both: their bodies are never read

    fn.visit(Collect())
    return found


def test_statement_lines_give_up_when_the_parsers_disagree():
    from codegen.parse import statement_lines

    module = cst.parse_module("def f(x):\n    return x\n")
    assert statement_lines("def f(x):\n    y = x\n    return y\n", module) == {}
    assert statement_lines("def f(x) return", module) == {}
