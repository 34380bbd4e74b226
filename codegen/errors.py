"""Errors a user can cause, each carrying the place in their source it comes from."""

from __future__ import annotations


class CodegenError(Exception):
    """Bad input: an unsupported construct, an unknown name, a syntax error.

    `str(error)` is the compiler-style line `path:line:col: error: message` (line and
    column 1-based), which the CLI prints on stderr before exiting with status 2.
    """

    def __init__(self, message: str, path: str = "<string>", line: int = 0, col: int = 0):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.col = col

    def __str__(self) -> str:
        where = escape(self.path) if not self.line else f"{escape(self.path)}:{self.line}:{self.col}"
        return f"{where}: error: {escape(self.message)}"


def escape(text: str) -> str:
    """`text` on one line: control characters (a newline in a --wrt value, in a file
    name) written as Python escapes, so an error is always one line."""
    if str(text).isprintable():
        return str(text)
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


class Located:
    """Turns LibCST nodes into positioned errors for one source file.

    `positions` is LibCST's position mapping, or a function that works it out: then
    it is worked out the first time a position is asked for. That takes more time
    than the rest of parsing (a codegen pass over the whole module), and the common
    path needs only the lines of statements, which `lines` gives from Python's own
    parser (see parse.statement_lines)."""

    def __init__(self, path: str, positions, lines=None):
        self.path = path
        self._positions = None if callable(positions) else positions
        self._work_out = positions if callable(positions) else None
        self._lines = lines or {}
        self._by_id = None
        self._stand_ins: dict = {}  # a node made from the source -> the node it stands for

    def stands_for(self, node, original):
        """Let a node codegen builds from the source (`a < b` out of `a < b < c`) be
        placed where `original` is; returns `node`."""
        self._stand_ins[node] = self._stand_ins.get(original, original)
        return node

    def _mapping(self):
        """LibCST's positions, worked out on first use; None once forgotten."""
        if self._positions is None and self._work_out is not None:
            self._positions = self._work_out()
        return self._positions

    def position(self, node) -> tuple[int, int]:
        """(line, column), both 1-based, of `node`; (0, 0) for a node not in the source."""
        code_range = (self._mapping() or {}).get(self._stand_ins.get(node, node))
        if code_range is None:
            return 0, 0
        return code_range.start.line, code_range.start.column + 1

    def place(self, node) -> tuple:
        """A light handle on `node`'s position, for `position_of`: keeping it does not
        keep the node alive (a handle outliving `forget` gives (0, 0))."""
        return (self, id(self._stand_ins.get(node, node)))

    def position_of(self, node_id: int) -> tuple[int, int]:
        if self._by_id is None:
            self._by_id = {id(node): node for node in self._mapping() or ()}
        node = self._by_id.get(node_id)
        return (0, 0) if node is None else self.position(node)

    def forget(self) -> None:
        """Let the source tree go: later stages ask for no positions."""
        self._positions = self._work_out = self._by_id = None
        self._lines = {}
        self._stand_ins = {}

    def line(self, statement) -> int:
        """The line a statement starts on (0 for one not in the source)."""
        line = self._lines.get(statement)
        return line if line is not None else self.position(statement)[0]

    def error(self, node, message: str) -> CodegenError:
        line, col = self.position(node)
        return CodegenError(message, self.path, line, col)
