"""The built-in rules, parsed once per machine rather than once per process.

Parsing templates/ with LibCST takes about 1.4 s, most of a cold `codegen generate`.
The parsed registry is pickled into the user's cache directory under a key that is
the SHA-256 of everything that could change it: codegen's version, Python's and
LibCST's versions, and the bytes of every file in codegen/ and templates/. A new
codegen, an edited template or another Python reads a new key; the old file is
removed when the new one is written. Black keeps its cache the same way.

The cache changes nothing but the time: a missing, unreadable or corrupt file is
parsed again, a directory that cannot be written is skipped without a word, and
the generated text is the same bytes either way (tests/test_project.py checks it).

Where: $CODEGEN_CACHE_DIR, else $XDG_CACHE_HOME/codegen, else ~/.cache/codegen.
CODEGEN_CACHE_DIR=off turns it off.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterable

from . import __version__


def cache_dir() -> Path | None:
    """The cache directory, or None where it is turned off."""
    chosen = os.environ.get("CODEGEN_CACHE_DIR")
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "no") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "codegen"


def key_of(files: Iterable[Path]) -> str:
    """The SHA-256 of codegen's and its dependencies' versions and of the files'
    names and bytes, in sorted order."""
    import libcst

    digest = hashlib.sha256()
    versions = (__version__, sys.version, getattr(libcst, "__version__", ""), str(pickle.HIGHEST_PROTOCOL))
    digest.update("\0".join(versions).encode())
    for path in sorted(files, key=lambda p: (p.parent.name, p.name)):
        digest.update(f"\0{path.parent.name}/{path.name}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cached(name: str, files: Iterable[Path], build: Callable[[], object]) -> object:
    """`build()`, or what an earlier call with the same `name` and files stored."""
    folder = cache_dir()
    if folder is None:
        return build()
    try:
        key = key_of(files)
    except OSError:
        return build()
    path = folder / f"{name}-{key[:32]}.pickle"
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        collecting = gc.isenabled()
        gc.disable()  # unpickling makes many objects and no garbage: 0.11 s becomes 0.07 s
        try:
            return pickle.loads(data)
        finally:
            if collecting:
                gc.enable()
    except Exception:  # missing, cut short or written by something else: parse again
        pass
    value = build()
    _store(folder, name, path, value)
    return value


def _store(folder: Path, name: str, path: Path, value: object) -> None:
    try:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
        for old in folder.glob(f"{name}-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError, RecursionError):
        pass  # no cache where the directory cannot be written: only slower
