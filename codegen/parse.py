"""Stage 1: source text -> the function to differentiate, with what surrounds it.

Only parses (LibCST); the user's code is never imported or executed. Statements
outside the supported subset are rejected here with a positioned error that says
what to write instead. Expressions are checked by `normalize`, which knows the rules.
"""

from __future__ import annotations

import ast
import hashlib
import io
import re
import tokenize
import warnings
from dataclasses import dataclass
from typing import Mapping

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .errors import CodegenError, Located
from .expressions import code, imports


@dataclass(frozen=True)
class Parsed:
    path: str
    function: cst.FunctionDef | None
    where: Located
    aliases: Mapping[str, str]  # local name -> qualified name, from the imports
    constants: Mapping[str, cst.BaseExpression]  # module-level NAME = value
    names: frozenset[str]  # every identifier-like word in the file (new names avoid them)
    functions: frozenset[str]  # functions defined at the top level
    module_functions: tuple[cst.FunctionDef, ...]  # their definitions (calls to them are inlined)
    source_sha256: str  # of the function's own text


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Statement kinds that are not supported, and what to write instead.
_UNSUPPORTED_STATEMENTS = {
    cst.With: "`with` blocks are not supported; move the block out of the loss",
    cst.Try: "`try` is not supported; move error handling out of the loss",
    cst.ClassDef: "classes are not supported inside a loss; define the class outside and pass values as parameters",
    cst.Global: "`global` is not supported; pass the value as a parameter",
    cst.Nonlocal: "`nonlocal` is not supported; pass the value as a parameter",
    cst.Del: "`del` is not supported; simply stop using the name",
    cst.Import: "imports inside the loss are not supported; import at module level",
    cst.ImportFrom: "imports inside the loss are not supported; import at module level",
    cst.Match: "`match` is not supported; use if/elif",
}


def parse(source: str, function: str | None, path: str = "<string>") -> Parsed:
    """The file's function `function` with its context; with `function=None`, only the
    context (a file whose functions a loss calls: `--include`)."""
    tree = compile_check(source, path)
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        raise CodegenError(
            f"codegen's parser (LibCST) cannot read this, though Python can: {' '.join(exc.message.split())}; "
            "write the line more plainly", path, exc.raw_line, exc.raw_column + 1,
        ) from None
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)  # the tree is ours alone
    where = Located(path, lambda: wrapper.resolve(PositionProvider), statement_lines(tree, module))
    module = wrapper.module

    found = [
        s for s in module.body if isinstance(s, cst.FunctionDef) and s.name.value == function
    ]
    if function is None:
        found = [None]
    elif not found:
        defined = sorted(s.name.value for s in module.body if isinstance(s, cst.FunctionDef))
        hint = f" (it defines: {', '.join(defined)})" if defined else ""
        raise CodegenError(
            f"no function `{function}` at the top level of {path}{hint}; name a function the file defines "
            "at the top level, as in PATH::loss", path, 1, 1,
        )
    fn = found[-1]
    if fn is not None:
        check_function(fn, where)
    text = "" if fn is None else code(fn.with_changes(leading_lines=()))
    return Parsed(
        path=path,
        function=fn,
        where=where,
        aliases=imports(module),
        constants=_constants(module, where),
        names=frozenset(_IDENTIFIER.findall(source)),
        functions=frozenset(s.name.value for s in module.body if isinstance(s, cst.FunctionDef)),
        module_functions=tuple(s for s in module.body if isinstance(s, cst.FunctionDef)),
        source_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


# How deep and how large a statement may be. Python's own compiler gives up at a few
# thousand levels, LibCST's parser and codegen's passes recurse (a sum of 700 terms
# exhausted Python's stack), and time grows with the size of one statement (Black
# formats it as one line): beyond these, the input is refused, with its position.
MAX_DEPTH = 100  # nested expressions in one statement: `x + x + ... + x` has one per term
MAX_NODES = 1000  # expression nodes in one statement


def compile_check(source: str, path: str) -> ast.Module:
    """The file as Python's own compiler reads it (compiled, never run): a file
    CPython rejects is refused with CPython's message, line and column (a duplicate
    parameter, `return` outside a function, a bogus `from __future__ import`), and a
    statement beyond MAX_DEPTH or MAX_NODES is refused before LibCST, whose parser
    and visitors recurse, reads it. Returns `ast`'s tree of the file."""
    if "\0" in source:
        at = source.index("\0")
        line, col = source.count("\n", 0, at) + 1, at - (source.rfind("\n", 0, at) + 1) + 1
        raise CodegenError(
            "the source holds a null character, which Python source cannot; remove it", path, line, col
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # `x is 1` and the like: not codegen's business
            tree = compile(source, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
            _check_size(tree, source, path)
            compile(tree, path, "exec", dont_inherit=True)  # symbol table, __future__, return outside def
    except SyntaxError as error:
        line = error.lineno or 1
        col = error.offset if error.offset and error.offset > 0 else 1
        raise CodegenError(
            f"{type(error).__name__.replace('Error', ' error').lower()}: {' '.join(str(error.msg).split())} "
            "(Python's own message: fix the file so that Python compiles it)",
            path, line, col,
        ) from None
    except (RecursionError, MemoryError):
        line, col = _widest_line(source)
        raise CodegenError(
            "this statement is nested too deeply for Python's own compiler; split it into several "
            f"assignments (codegen takes up to {MAX_DEPTH} levels)", path, line, col,
        ) from None
    return tree


def _check_size(tree: ast.Module, source: str, path: str) -> None:
    """Refuse a statement nesting expressions deeper than MAX_DEPTH, or holding more
    than MAX_NODES of them (a walk with its own stack: no recursion)."""
    lines = None
    stack = [(tree, 0, None)]  # (node, expression depth, the statement it is in)
    counts: dict[int, int] = {}
    while stack:
        node, depth, statement = stack.pop()
        if isinstance(node, ast.stmt):
            statement, depth = node, 0
        elif not isinstance(node, (ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop)):
            parts = _string_parts(node, source) if isinstance(node, (ast.Constant, ast.JoinedStr)) else 1
            depth += parts  # LibCST nests adjacent strings `'a' 'b' 'c'` one in another
            counts[id(statement)] = counts.get(id(statement), 0) + parts
            problem = None
            if depth > MAX_DEPTH:
                problem = f"nests expressions more than {MAX_DEPTH} deep"
            elif counts[id(statement)] > MAX_NODES:
                problem = f"has more than {MAX_NODES} parts"
            if problem is not None and statement is not None:
                lines = lines if lines is not None else source.splitlines()
                text = lines[statement.lineno - 1] if statement.lineno <= len(lines) else ""
                col = len(text.encode("utf-8")[: statement.col_offset].decode("utf-8", "replace")) + 1
                raise CodegenError(
                    f"this statement {problem}, beyond what codegen takes; split it into several "
                    "assignments (`a = x + y`, then `b = a + z`)", path, statement.lineno, col,
                )
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth, statement))


_NOT_CODE = (tokenize.INDENT, tokenize.DEDENT, tokenize.NL, tokenize.COMMENT, tokenize.NEWLINE, tokenize.ENDMARKER)


def _string_parts(node, source: str) -> int:
    """How many string literals one `ast` string stands for (`'a' 'b'` is one
    Constant); counted from its tokens only where it is long enough to matter."""
    if isinstance(node, ast.Constant) and not isinstance(node.value, (str, bytes)):
        return 1
    if node.end_lineno == node.lineno and (node.end_col_offset or 0) - node.col_offset < 2 * MAX_DEPTH:
        return 1
    segment = ast.get_source_segment(source, node) or ""
    try:
        tokens = tokenize.generate_tokens(io.StringIO("(" + segment + ")").readline)
        return max(1, sum(1 for token in tokens if token.type == tokenize.STRING))
    except (tokenize.TokenError, SyntaxError):
        return 1


def _widest_line(source: str) -> tuple[int, int]:
    """Where the logical line with the most tokens starts (the place Python's compiler
    ran out of stack), found without recursion."""
    best, start, count, at = 0, (1, 1), 0, None
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if at is None and token.type not in _NOT_CODE:
                at, count = token.start, 0
            count += 1
            if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER) and at is not None:
                if count > best:
                    best, start = count, (at[0], at[1] + 1)
                at = None
    except (tokenize.TokenError, SyntaxError):
        pass
    return start


def statement_lines(tree: ast.Module | str, module: cst.Module) -> dict:
    """The line each statement of the module's top-level functions starts on (each
    small statement of a line too: `return`, an assignment), from
    Python's own parser (`ast`: its tree, or the source to parse), which reads a file
    many times faster than LibCST works out positions. The two trees are walked side
    by side; if they disagree anywhere (or `ast` cannot parse the file), nothing is
    returned, and positions come from LibCST alone."""
    if isinstance(tree, str):
        try:
            tree = ast.parse(tree)
        except (SyntaxError, ValueError):
            return {}
    ours = [s for s in module.body if isinstance(s, cst.FunctionDef)]
    theirs = [s for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
    lines: dict = {}
    try:
        if len(ours) != len(theirs):
            raise _Disagree
        for mine, other in zip(ours, theirs):
            _pair(mine.body.body, other.body, lines)
    except _Disagree:
        return {}
    return lines


class _Disagree(Exception):
    pass


_COMPOUND = {cst.If: ast.If, cst.For: (ast.For, ast.AsyncFor), cst.While: ast.While}


def _pair(statements, others: list, lines: dict) -> None:
    """Record the lines of `statements` (LibCST) from `others` (ast), which must be the
    same statements."""
    index = 0
    for statement in statements:
        if isinstance(statement, cst.SimpleStatementLine):
            count = len(statement.body)
            if index + count > len(others) or any(isinstance(o, _COMPOUND_AST) for o in others[index : index + count]):
                raise _Disagree
            lines[statement] = others[index].lineno
            for small, other in zip(statement.body, others[index : index + count]):
                lines[small] = other.lineno  # (`a = f(x); return a`: a `return` has its line too)
            index += count
            continue
        if index >= len(others):
            raise _Disagree
        other = others[index]
        index += 1
        if isinstance(statement, cst.FunctionDef) and isinstance(other, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines[statement] = other.lineno  # a local function: its statements too
            _pair(statement.body.body, other.body, lines)
            continue
        expected = _COMPOUND.get(type(statement))
        if expected is None:  # a statement no later stage takes: parse refuses it
            lines[statement] = other.lineno
            continue
        if not isinstance(other, expected):
            raise _Disagree
        lines[statement] = other.lineno
        _pair(statement.body.body, other.body, lines)
        orelse = statement.orelse
        if isinstance(orelse, cst.If):  # elif
            _pair([orelse], other.orelse, lines)
        elif orelse is not None:
            _pair(orelse.body.body, other.orelse, lines)
        elif other.orelse:
            raise _Disagree
    if index != len(others):
        raise _Disagree


_COMPOUND_AST = (
    ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, getattr(ast, "TryStar", ast.Try),
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Match,
)


def check_function(fn: cst.FunctionDef, where: Located) -> None:
    """Refuse, with a position, what no later stage handles: decorators, *args,
    and statements outside the subset (at any depth)."""
    if fn.asynchronous is not None:
        raise where.error(fn, "an `async` function cannot be differentiated; write it as a plain `def`")
    if fn.decorators:
        raise where.error(
            fn.decorators[0], "decorated functions are not supported; differentiate the undecorated function"
        )
    params = fn.params
    if isinstance(params.star_arg, cst.Param):
        raise where.error(params.star_arg, "`*args` is not supported; name each parameter")
    if params.star_kwarg is not None:
        raise where.error(params.star_kwarg, "`**kwargs` is not supported; name each parameter")
    if not fn.body.body or all(_is_docstring(s) for s in fn.body.body):
        raise where.error(fn, f"`{fn.name.value}` has no body to differentiate; give it statements that end in `return <loss>`")
    _check_block(fn.body.body, where)


def _check_block(statements, where: Located) -> None:
    for statement in statements:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                _check_statement(small, where, first=statement is statements[0])
        elif isinstance(statement, cst.FunctionDef):  # a local function: inlined where it is called
            check_function(statement, where)
        elif isinstance(statement, (cst.If, cst.For, cst.While)):
            if isinstance(statement, cst.For) and statement.asynchronous is not None:
                raise where.error(statement, "`async for` is not supported; write a plain `for` loop")
            _check_block(statement.body.body, where)
            orelse = statement.orelse
            while isinstance(orelse, cst.If):
                _check_block(orelse.body.body, where)
                orelse = orelse.orelse
            if orelse is not None:
                _check_block(orelse.body.body, where)
        else:
            for kind, message in _UNSUPPORTED_STATEMENTS.items():
                if isinstance(statement, kind):
                    raise where.error(statement, message)
            raise where.error(statement, f"`{code(statement).split()[0]}` statements are not supported; write the loss with assignments, "
                "`if`, `for`, `while` and `return`")


def _check_statement(node: cst.CSTNode, where: Located, first: bool) -> None:
    if isinstance(node, cst.Assign):
        if len(node.targets) != 1:
            raise where.error(node, "chained assignment `a = b = ...` is not supported; assign once")
        _check_target(node.targets[0].target, where)
    elif isinstance(node, cst.AnnAssign):
        if node.value is None:
            raise where.error(node, "a bare annotation assigns nothing; give it a value")
        _check_target(node.target, where)
    elif isinstance(node, cst.AugAssign):
        if not isinstance(node.target, cst.Name):
            _check_target(node.target, where)
    elif isinstance(node, cst.Return):
        if node.value is None:
            raise where.error(node, "`return` without a value gives no loss; write `return loss` "
                              "(or `return loss, aux` for data returned beside it)")
    elif isinstance(node, (cst.Pass, cst.Break, cst.Continue, cst.Assert)):
        pass
    elif isinstance(node, cst.Raise):
        if node.exc is None:
            raise where.error(node, "a bare `raise` re-raises nothing here; raise an exception: `raise ValueError(...)`")
        if node.cause is not None:
            raise where.error(node.cause, "`raise ... from ...` is not supported; raise the exception alone")
    elif isinstance(node, cst.Expr):
        if isinstance(node.value, cst.Yield):
            raise where.error(node, "generators are not supported; return the loss")
        if _is_print(node.value) or _list_method(node.value) == "append":
            return
        if _list_method(node.value) is not None:
            raise where.error(
                node, f"`.{_list_method(node.value)}(...)` changes a list in place, which is not supported; "
                "build lists with `append` only (or compute the array whole: np.concatenate, np.where)",
            )
        if not (first and isinstance(node.value, (cst.SimpleString, cst.ConcatenatedString))):
            raise where.error(node, "an expression statement has no effect on the loss; assign it or remove it")
    else:
        for kind, message in _UNSUPPORTED_STATEMENTS.items():
            if isinstance(node, kind):
                raise where.error(node, message)
        raise where.error(node, f"`{code(node).split()[0]}` statements are not supported; write the loss with assignments, "
            "`if`, `for`, `while` and `return`")


def _check_target(target: cst.BaseAssignTargetExpression, where: Located, alone: bool = True) -> None:
    if isinstance(target, cst.Name):
        return
    if isinstance(target, cst.Subscript):
        if not alone:
            raise where.error(target, f"assign to `{code(target)}` in a statement of its own")
        if not isinstance(target.value, cst.Name):
            raise where.error(
                target,
                f"assignment into `{code(target.value)}` is not supported; assign into an array by its "
                "own name, as in `x[i] = v`",
            )
        return
    if isinstance(target, cst.Attribute):
        raise where.error(target, f"assignment to an attribute `{code(target)}` is not supported; assign to a plain name")
    if isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            if isinstance(element, cst.StarredElement):
                raise where.error(element, "starred assignment targets are not supported; unpack by index, as in `a, b = x[0], x[1:]`")
            _check_target(element.value, where, alone=False)
        return
    raise where.error(target, "only assignment to a plain name (or a tuple of names) is supported; assign to a name")


def _is_print(node) -> bool:
    """`print(...)`: an expression statement kept for its effect."""
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "print"


_LIST_METHODS = {"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse"}


def _list_method(node) -> str | None:
    """`ys.append(v)`, `ys.pop()`, ...: the method, for a statement that calls one on a name."""
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and isinstance(node.func.value, cst.Name)
        and node.func.attr.value in _LIST_METHODS
    ):
        return node.func.attr.value
    return None


def _is_docstring(statement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _constants(module: cst.Module, where: Located) -> dict[str, cst.BaseExpression]:
    """Module-level `NAME = value` assignments; a name assigned twice is left out
    (normalize reports it if the loss uses it)."""
    seen: dict[str, list[cst.BaseExpression]] = {}
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target, value = small.targets[0].target, small.value
            elif isinstance(small, cst.AnnAssign) and small.value is not None:
                target, value = small.target, small.value
            else:
                continue
            if isinstance(target, cst.Name):
                seen.setdefault(target.value, []).append(value)
    return {name: values[0] for name, values in seen.items() if len(values) == 1}
