"""Reading sources and writing generated modules: all or nothing, and never over an
input. Every failure is a `CodegenError` naming the path and saying what to do."""

from __future__ import annotations

import codecs
import io
import os
import stat
import tempfile
import tokenize
from pathlib import Path

from .errors import CodegenError


def read_source(path: str | Path) -> str:
    """The text of a Python source file, decoded the way Python decodes it: UTF-8, or
    the encoding its PEP 263 cookie (`# -*- coding: latin-1 -*-`) declares."""
    data = _read_bytes(path)
    shown = Path(path).as_posix()
    if b"\0" in data and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        at = data.index(b"\0")
        line, col = data.count(b"\n", 0, at) + 1, at - (data.rfind(b"\n", 0, at) + 1) + 1
        raise CodegenError(
            "the file holds a null byte, which Python source cannot (is it a binary file?); give a "
            "Python source file", shown, line, col,
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CodegenError(
            "the file is UTF-16 or UTF-32 (it starts with a byte-order mark), which Python does not "
            "read as source; save it as UTF-8", shown, 1, 1,
        )
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:  # an unknown encoding in the cookie, or bytes that are not UTF-8
        line = _cookie_line(data)
        if line:
            raise CodegenError(
                f"{_one_line(error.msg)}; declare an encoding Python knows, such as "
                "`# -*- coding: utf-8 -*-`, or none (UTF-8)", shown, line, 1,
            ) from None
        encoding = "utf-8"  # the decoding below says where the first bad byte is
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        col = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        bad = data[error.start : error.start + 1].hex()
        if encoding in ("utf-8", "utf-8-sig"):
            how = (
                "save it as UTF-8, or declare its encoding in a comment on line 1 or 2, such as "
                "`# -*- coding: latin-1 -*-`"
            )
            raise CodegenError(
                f"byte 0x{bad} is not UTF-8 and the file declares no encoding; {how}", shown, line, col
            ) from None
        raise CodegenError(
            f"byte 0x{bad} is not valid {encoding}, the encoding the file declares; fix the declaration "
            "or save the file as UTF-8", shown, line, col,
        ) from None


def _cookie_line(data: bytes) -> int:
    """The line (1 or 2) holding an encoding declaration, or 0."""
    for number, line in enumerate(data.split(b"\n", 2)[:2], start=1):
        if b"coding" in line and line.lstrip().startswith(b"#"):
            return number
    return 0


def read_text(path: str | Path) -> str:
    """A UTF-8 text file (a generated module, a header)."""
    data = _read_bytes(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise CodegenError(
            "the file is not UTF-8 text; give a module codegen generated", Path(path).as_posix(), line, 1
        ) from None


def _read_bytes(path: str | Path) -> bytes:
    if "\0" in str(path):
        raise CodegenError("the path holds a null character; give a file name without one", _shown(path))
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise CodegenError(f"cannot read it: {describe(error)}", _shown(path)) from None


def describe(error: OSError) -> str:
    """What went wrong, and what to do about the common cases."""
    advice = {
        "ENOENT": "check the path",
        "EISDIR": "give the path of a file, not a folder",
        "ENOTDIR": "a part of the path is a file, not a folder",
        "EACCES": "check its permissions",
        "EPERM": "check its permissions",
        "EROFS": "write somewhere else",
        "ENAMETOOLONG": "use a shorter name",
        "ENOSPC": "free some space",
        "ELOOP": "a symbolic link in the path points back at itself",
    }
    import errno

    reason = error.strerror or type(error).__name__
    hint = advice.get(errno.errorcode.get(error.errno or 0, ""), "")
    return f"{reason}; {hint}" if hint else reason


def _shown(path) -> str:
    return Path(path).as_posix() if str(path) else "''"


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file: the same path spelled differently, a
    symbolic link to it, or a hard link."""
    try:
        if os.path.samefile(a, b):
            return True
    except (OSError, ValueError):
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def inside(path: str | Path, folder: str | Path) -> bool:
    """Whether `path` is (or would be) inside `folder`, links resolved."""
    here, there = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    return there == here or there in here.parents


def write_atomically(path: str | Path, text: str | bytes) -> None:
    """Write `text` (or bytes) to `path` so that readers see the old file or the new
    one, never a part: write a temporary file beside it, flush it to disk, then rename.

    A symbolic link is written through: its target gets the new text (the temporary
    file sits in the target's folder), and the link stays a link. The temporary
    file's name is short (`.codegen-XXXXXXXX.tmp`), so any name the folder allows
    works. Failures are `CodegenError`s naming the path."""
    shown = _shown(path)
    if "\0" in str(path):
        raise CodegenError("the path holds a null character; give a file name without one", shown)
    target = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    folder = target.parent
    try:
        mode = os.stat(path).st_mode  # through links
    except (OSError, ValueError):
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        raise CodegenError(f"cannot write it: it is a folder; give a file name, such as {shown.rstrip('/')}/grad.py", shown)
    if mode is not None and not stat.S_ISREG(mode):  # a device, a pipe, a socket: the rename would replace it
        raise CodegenError(
            "cannot write it: it is not a regular file (a device, a pipe or a socket); give a file name, or "
            "leave -o out to write to standard output", shown,
        )
    if not folder.exists():
        raise CodegenError(f"cannot write it: the folder {folder.as_posix()} does not exist; create it first", shown)
    if not folder.is_dir():
        raise CodegenError(f"cannot write it: {folder.as_posix()} is a file, not a folder; write elsewhere", shown)
    try:
        fd, temporary = tempfile.mkstemp(prefix=".codegen-", suffix=".tmp", dir=folder)
    except OSError as error:
        raise CodegenError(f"cannot write in {folder.as_posix()}: {describe(error)}", shown) from None
    try:
        binary = isinstance(text, bytes)
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": "\n"})) as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if target.exists():
            os.chmod(temporary, target.stat().st_mode & 0o777)
        else:
            os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException as error:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        if isinstance(error, OSError):
            raise CodegenError(f"cannot write it: {describe(error)}", shown) from None
        raise


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
