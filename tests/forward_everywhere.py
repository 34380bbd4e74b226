"""A pytest plugin (not collected) for one exploratory run: every program the test
suite generates in reverse mode is generated in forward mode and in hvp mode too,
and what fails is tallied.

    PYTHONPATH=tests python -m pytest -p forward_everywhere [tests...]

It prints, at the end, how many distinct programs reverse mode accepted, and how
many of those forward mode and hvp mode refused (CodegenError, by message) or
crashed on (any other exception), and writes them to forward-everywhere.txt (each crash, and the first program
refused for each reason)."""

from __future__ import annotations

import collections
import re
import traceback

import codegen
import codegen.pipeline

_original = codegen.pipeline.generate
_seen: set = set()
_tally = {"programs": 0, "forward": collections.Counter(), "hvp": collections.Counter()}
_failures: list[str] = []


def _reason(message: str) -> str:
    text = message.split(" error: ", 1)[-1]
    return re.sub(r"`[^`]*`", "`…`", text).split(";")[0]


def _generate(source, function, wrt=None, **options):
    text = _original(source, function, wrt, **options)
    mode = options.get("mode", "reverse")
    key = (source, function, str(wrt), repr(sorted((k, str(v)) for k, v in options.items())))
    if mode == "reverse" and key not in _seen:
        _seen.add(key)
        _tally["programs"] += 1
        for other in ("forward", "hvp"):
            try:
                _original(source, function, wrt, **dict(options, mode=other))
                _tally[other]["ok"] += 1
            except codegen.CodegenError as error:
                reason = "refused: " + _reason(str(error))
                if not _tally[other][reason]:  # the first program of each reason, to read
                    _failures.append(f"=== {other}: {reason}\n{error}\n--- source ---\n{source}\n")
                _tally[other][reason] += 1
            except Exception as error:  # a crash: the point of the run
                _tally[other][f"CRASH {type(error).__name__}"] += 1
                _failures.append(f"=== {other}: {type(error).__name__}\n{traceback.format_exc()}\n--- source ---\n{source}\n")
    return text


codegen.generate = codegen.pipeline.generate = _generate


def pytest_sessionfinish(session, exitstatus):
    lines = [f"programs reverse mode generated: {_tally['programs']}"]
    for mode in ("forward", "hvp"):
        lines.append(f"{mode}:")
        lines += [f"  {count:6d} {what}" for what, count in _tally[mode].most_common()]
    report = "\n".join(lines)
    print("\n" + report)
    with open("forward-everywhere.txt", "w") as out:
        out.write(report + "\n\n" + "\n".join(_failures))
