"""Part of normalisation: make every jump the last statement of its block.

`return`, `break` and `continue` may appear anywhere in a branch. This pass moves
the statements that follow an `if` whose branches may jump into the branches that
fall through (tail duplication), so that afterwards
- a `return` or `break` is always the last statement of its block, and nothing
  follows the `if` that contains it;
- `continue` is gone: it would be the last statement of the loop body anyway;
- a `return` inside a loop becomes `result = value; returned = True; break` (and
  `if returned: break` after each inner loop it leaves), with `returned = False;
  result = 0.0` before the outermost loop and `if returned: return result` after
  it: the flag is a value like any other, recorded with the branch decisions.

The reverse sweep can then replay any path through a function or a loop body
from the branch decisions alone, with no flags. Positions of restructured `if`
statements are kept in `origins` (new node -> the user's node) for error messages
and comments.
"""

from __future__ import annotations

import libcst as cst

from .errors import Located
from .names import Namer

_JUMPS = (cst.Return, cst.Break, cst.Continue)


class Structurer:
    def __init__(self, where: Located, taken=frozenset()):
        self.where = where
        self.origins: dict[cst.CSTNode, cst.CSTNode] = {}
        self.names = Namer(taken)  # the user-level names it adds avoid the file's

    def block(self, statements, in_loop: bool) -> list:
        """The statements of one block with jumps moved to block ends."""
        statements = list(statements)
        if not in_loop and any(isinstance(s, (cst.For, cst.While)) and _returns(s.body.body) for s in statements):
            statements = self._loop_returns(statements)
        out = []
        for index, statement in enumerate(statements):
            jump = _jump(statement)
            if jump is not None:
                if isinstance(jump, cst.Continue) and not in_loop:
                    raise self.where.error(jump, "`continue` outside a loop; use it inside `for` or `while`")
                if index + 1 < len(statements):
                    raise self.where.error(statements[index + 1], "unreachable code after `" + _word(jump) + "`; remove it, or move it before the `" + _word(jump) + "`")
                if not isinstance(jump, cst.Continue):
                    out.append(statement)
                elif len(statement.body) > 1:  # `a = 1; continue`
                    out.append(statement.with_changes(body=statement.body[:-1]))
                return out
            if isinstance(statement, cst.If) and _may_jump(statement, in_loop):
                # (the rest is sliced off only here: a slice per statement was quadratic)
                out.append(self._if(statement, statements[index + 1 :], in_loop))
                return out
            if isinstance(statement, (cst.For, cst.While)):
                if statement.orelse is not None:
                    raise self.where.error(statement.orelse, "`else` on a loop is not supported; set a flag before `break` and test it after the loop")
                body = self.block(statement.body.body, in_loop=True)
                new = statement.with_changes(body=statement.body.with_changes(body=body))
                self.origins[new] = self.origins.get(statement, statement)
                statement = new
            elif isinstance(statement, cst.If):
                statement = self._if(statement, [], in_loop)
            out.append(statement)
        return out

    # -- `return` inside a loop ---------------------------------------------------------

    def _loop_returns(self, statements) -> list:
        """Each loop of this (function-level) block that returns from inside: the
        returns become breaks that set a flag, and the function returns after it."""
        out = []
        for statement in statements:
            if not (isinstance(statement, (cst.For, cst.While)) and _returns(statement.body.body)):
                out.append(statement)
                continue
            origin = self.origins.get(statement, statement)
            flag, result = self.names.fresh("returned"), self.names.fresh("result")
            # `return loss, aux` gives each value a name of its own (`result, aux`).
            size = self._returned_size(statement)
            results = [result] + [self.names.fresh("aux") for _ in range(size - 1)]
            init = cst.SimpleStatementLine(
                [_assign(flag, cst.Name("False"))] + [_assign(name, cst.Float("0.0")) for name in results]
            )
            body = self._breaking(statement.body.body, flag, results)
            loop = statement.with_changes(body=statement.body.with_changes(body=body))
            give = cst.SimpleStatementLine([cst.Return(_names(results))])
            returns = _all_returns(statement.body.body)
            self.origins[give.body[0]] = returns[0] if returns else statement  # (for errors)
            if _endless(statement):  # `while True:` left only by a return
                after = give
            else:
                after = cst.If(test=cst.Name(flag), body=cst.IndentedBlock([give]))
            for new in (init, loop, after, give):
                self.origins[new] = origin
            out += [init, loop, after]
        return out

    def _returned_size(self, loop) -> int:
        """How many values the returns inside a loop give: 2 or more for `return a, b`
        (a tuple written out), else 1. They must all give the same number: the values
        leave the loop in variables of their own."""
        returns = [r for r in _all_returns(loop.body.body) if r.value is not None]
        sizes = [len(r.value.elements) if isinstance(r.value, cst.Tuple) else 1 for r in returns]
        for r, size in zip(returns, sizes):
            if size != sizes[0]:
                first = self.where.line(returns[0])
                raise self.where.error(
                    r, f"this `return` gives {_values(size)} and the one at line {first} gives {_values(sizes[0])}; "
                    "return the same number of values on every path"
                )
        return sizes[0] if sizes and sizes[0] >= 2 else 1

    def _breaking(self, statements, flag: str, results: list[str]) -> list:
        out = []
        for statement in statements:
            if isinstance(statement, cst.SimpleStatementLine) and any(isinstance(s, cst.Return) for s in statement.body):
                small = []
                for s in statement.body:
                    if isinstance(s, cst.Return) and s.value is None:  # refused by normalize, at the `return`
                        small.append(s)
                    elif isinstance(s, cst.Return):
                        target = _names(results)
                        set_result = (
                            cst.Assign([cst.AssignTarget(target)], s.value) if len(results) > 1 else _assign(results[0], s.value)
                        )
                        small += [set_result, _assign(flag, cst.Name("True")), cst.Break()]
                    else:
                        small.append(s)
                new = statement.with_changes(body=small)
                self.origins[new] = self.origins.get(statement, statement)
                out.append(new)
            elif isinstance(statement, cst.If) and _returns([statement]):
                new = self._breaking_if(statement, flag, results)
                self.origins[new] = self.origins.get(statement, statement)
                out.append(new)
            elif isinstance(statement, (cst.For, cst.While)) and _returns(statement.body.body):
                body = self._breaking(statement.body.body, flag, results)
                new = statement.with_changes(body=statement.body.with_changes(body=body))
                leave = cst.If(test=cst.Name(flag), body=cst.IndentedBlock([cst.SimpleStatementLine([cst.Break()])]))
                self.origins[new] = self.origins[leave] = self.origins.get(statement, statement)
                out += [new, leave]
            else:
                out.append(statement)
        return out

    def _breaking_if(self, node: cst.If, flag: str, results: list[str]) -> cst.If:
        body = node.body.with_changes(body=self._breaking(node.body.body, flag, results))
        orelse = node.orelse
        if isinstance(orelse, cst.If):
            orelse = self._breaking_if(orelse, flag, results)
        elif orelse is not None:
            orelse = orelse.with_changes(body=orelse.body.with_changes(body=self._breaking(orelse.body.body, flag, results)))
        return node.with_changes(body=body, orelse=orelse)

    # -- `if` ----------------------------------------------------------------------------

    def _if(self, node: cst.If, rest: list, in_loop: bool) -> cst.If:
        """The `if` with the statements after it moved into each branch that falls
        through (so nothing follows it)."""
        body = self.block(_then(node.body.body, rest), in_loop)
        if node.orelse is None:
            orelse_statements = list(rest)
        elif isinstance(node.orelse, cst.If):  # elif
            orelse_statements = _then([node.orelse], rest)
        else:
            orelse_statements = _then(node.orelse.body.body, rest)
        orelse = self.block(orelse_statements, in_loop)
        new = node.with_changes(
            body=node.body.with_changes(body=body),
            orelse=cst.Else(body=cst.IndentedBlock(body=orelse)) if orelse else None,
        )
        self.origins[new] = self.origins.get(node, node)
        return new


def _then(statements, rest) -> list:
    """`statements` followed by `rest`, unless they never fall through to it."""
    statements = list(statements)
    return statements + list(rest) if _falls_through(statements) else statements


def _falls_through(statements) -> bool:
    if not statements:
        return True
    last = statements[-1]
    if _jump(last) is not None:
        return False
    if isinstance(last, cst.If):
        if last.orelse is None:
            return True
        orelse = [last.orelse] if isinstance(last.orelse, cst.If) else last.orelse.body.body
        return _falls_through(last.body.body) or _falls_through(orelse)
    return True


def _jump(statement):
    if isinstance(statement, cst.SimpleStatementLine):
        for small in statement.body:
            if isinstance(small, _JUMPS):
                return small
    return None


def _word(jump) -> str:
    return {cst.Return: "return", cst.Break: "break", cst.Continue: "continue"}[type(jump)]


def _may_jump(node: cst.CSTNode, in_loop: bool) -> bool:
    """Whether a return (or, in a loop, a break/continue) can happen inside `node`:
    a return in a loop nested in it counts, its breaks and continues do not."""
    return _returns([node]) is not None or (in_loop and _jumps(node, (cst.Break, cst.Continue)))


def _jumps(node: cst.CSTNode, kinds) -> bool:
    """Whether a statement of `kinds` is inside `node`, not counting loops nested in it."""
    if isinstance(node, cst.SimpleStatementLine):
        return any(isinstance(s, kinds) for s in node.body)
    if isinstance(node, cst.If):
        branches = [node.body] + ([node.orelse] if node.orelse is not None else [])
        return any(_jumps(branch, kinds) for branch in branches)
    if isinstance(node, (cst.IndentedBlock, cst.Else)):
        body = node.body.body if isinstance(node, cst.Else) else node.body
        return any(_jumps(s, kinds) for s in body)
    return False  # a loop's jumps stay inside it


def _returns(statements):
    """The first `return` in these statements, at any depth (loops included)."""
    for statement in statements:
        found = _find_return(statement)
        if found is not None:
            return found
    return None


def _find_return(node: cst.CSTNode):
    if isinstance(node, cst.Return):
        return node
    if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
        return None
    for child in node.children:
        found = _find_return(child)
        if found is not None:
            return found
    return None


def _all_returns(statements) -> list:
    """Every `return` in these statements, at any depth (nested functions' aside)."""
    found = []

    def visit(node):
        if isinstance(node, cst.Return):
            found.append(node)
        elif not isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            for child in node.children:
                visit(child)

    for statement in statements:
        visit(statement)
    return found


def _values(count: int) -> str:
    return "1 value" if count == 1 else f"{count} values"


def _names(names: list[str]) -> cst.BaseExpression:
    """`a` for one name, `a, b` for several."""
    if len(names) == 1:
        return cst.Name(names[0])
    return cst.Tuple([cst.Element(cst.Name(n)) for n in names], lpar=[], rpar=[])


def _assign(name: str, value: cst.BaseExpression) -> cst.Assign:
    return cst.Assign([cst.AssignTarget(cst.Name(name))], value)


def _endless(loop) -> bool:
    """`while True:` with no `break` of its own: only a return leaves it."""
    return (
        isinstance(loop, cst.While)
        and isinstance(loop.test, cst.Name)
        and loop.test.value == "True"
        and not any(_jumps(s, cst.Break) for s in loop.body.body)
    )


