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
        return f"{self.path}:{self.line}:{self.col}: error: {self.message}"


class Located:
    """Turns LibCST nodes into positioned errors for one source file."""

    def __init__(self, path: str, positions):
        self.path = path
        self._positions = positions

    def position(self, node) -> tuple[int, int]:
        """(line, column), both 1-based, of `node`; (0, 0) for a node not in the source."""
        code_range = self._positions.get(node)
        if code_range is None:
            return 0, 0
        return code_range.start.line, code_range.start.column + 1

    def error(self, node, message: str) -> CodegenError:
        line, col = self.position(node)
        return CodegenError(message, self.path, line, col)
