"""An exploratory round of test_fuzz_features' programs (not collected by pytest).

    PYTHONPATH=. python tests/fuzz_round.py N [--start SEED] [--jobs J] [--size small|default|larger]
        [--features zero-trip,reduce-0d,overwrite,trees,data,aux] [--failures FILE]

draws the programs of seeds START .. START+N-1 (the default test run draws the
first 60 of them: start past those), and runs on each the checks of the default
tests: the value against the original function's, each gradient against central
differences and (where autograd runs the program) autograd's, `grad_f` against
`value_and_grad_f`, inputs unchanged, and (for one program in SAME_TEXT_EVERY) the
same text from two generations. It prints, at the end (and every 250 programs):

- programs run, and the time;
- wrong values, wrong gradients, crashes (a generation that raises anything but
  CodegenError, a generated module that raises where the original does not, or a
  program that runs past 60 s), nondeterministic generations;
- refusals (CodegenError), counted by message with names and positions left out;
- how many programs autograd ran, and those it could not.

Every failure is written to FILE (default fuzz-failures.txt) with its seed, the
program, the inputs and the message; every refusal with its seed, reason and
program. `--size larger` draws longer programs (test_fuzz_control's LIMIT 22 and
TOP (3, 6)): slower, and they find more; `--size small` shorter ones, about twice
as fast. SIGINT or SIGTERM stops a round with its summary.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import re
import signal
import sys
import time
import traceback
import warnings
from pathlib import Path

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

import numpy as np  # noqa: E402

PER_PROGRAM_S = 60
# test_fuzz_control's program size (LIMIT, TOP) for --size: the default tests draw
# "default"; "small" programs generate about twice as fast (the features are
# drawn as often), "larger" ones find more.
SIZES = {"small": (3, (1, 2)), "default": (6, (2, 3)), "larger": (22, (3, 6))}
# Generation is most of a program's time: every SAME_TEXT_EVERY-th program is generated
# twice, to see the same text (the default tests compare another process's too).
SAME_TEXT_EVERY = 5


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def refusal_reason(message: str) -> str:
    """A refusal's message without its position and the names in it."""
    text = message.split(" error: ", 1)[-1]
    text = re.sub(r"`[^`]*`", "`…`", text)
    return text.split(";")[0].strip()


def _classify(message: str) -> str:
    if message.startswith("generating twice"):
        return "nondeterministic"
    if message.startswith("value ") or "differs from the function's" in message:
        return "wrong value"
    if message.startswith("the generated functions changed the input"):
        return "input changed"
    return "wrong gradient"


def run_one(args) -> tuple[int, str, str, str]:
    """(seed, outcome, detail, program) for one seed. outcome: "ok", "refused",
    "no program", "wrong value", "wrong gradient", "crash", ..."""
    seed, features, size = args
    import test_fuzz_features as tf
    from codegen import CodegenError, generate
    from conftest import load_generated

    tf._FeatureProgram.LIMIT, tf._FeatureProgram.TOP = SIZES[size]
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(PER_PROGRAM_S)
    source = ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                source, wrt, kwargs, drawn = tf.make_case(seed, features)
            except AssertionError as error:
                return seed, "no program", str(error), ""
            try:
                text = generate(source, "f", list(wrt), include=tf.includes(source))
            except CodegenError as error:
                return seed, "refused", refusal_reason(str(error)), source
            except Exception:
                return seed, "crash", "generation raised:\n" + traceback.format_exc(limit=-4), source
            if seed % SAME_TEXT_EVERY == 0 and generate(source, "f", list(wrt), include=tf.includes(source)) != text:
                return seed, "nondeterministic", "generating twice gave different text", source
            try:
                tf.check_program(seed, source, wrt, kwargs, text, aux=tf.has_aux(drawn), include=tf.includes(source))
            except AssertionError as error:
                message = str(error)
                return seed, _classify(message), message, source
            except _Timeout:
                raise
            except Exception:
                return seed, "crash", "the generated module raised:\n" + traceback.format_exc(limit=-4), source
            module = load_generated(text)
            ours = tf._as_tuple(module.grad_f(**tf._copy(kwargs)), wrt)
            try:
                theirs = tf.autograd_gradients(tf.for_autograd(source), wrt, kwargs, aux=tf.has_aux(drawn))
            except Exception as error:  # autograd's own limits
                return seed, "ok (autograd cannot run it)", f"{type(error).__name__}", source
            for name, mine, other in zip(wrt, ours, theirs):
                same = tf._structure(mine) == tf._structure(other)
                if not (same and np.allclose(tf.flatten(mine)[0], tf.flatten(other)[0], rtol=1e-9, atol=1e-12)):
                    detail = f"d_{name} = {mine!r}, autograd gives {other!r}"
                    return seed, "wrong gradient", detail + tf._context(seed, source, wrt, kwargs, text), source
            return seed, "ok", "", source
    except _Timeout:
        return seed, "crash", f"ran past {PER_PROGRAM_S} s", source
    finally:
        signal.alarm(0)


FAILURES = ("wrong value", "wrong gradient", "crash", "nondeterministic", "input changed")


def summary(counts, refusals, skipped, elapsed) -> str:
    done = sum(counts.values())
    lines = [f"programs run: {done} in {elapsed:.0f} s ({done / max(elapsed, 1e-9):.1f} a second)"]
    for outcome in FAILURES:
        lines.append(f"{outcome}: {counts.get(outcome, 0)}")
    ok = counts.get("ok", 0) + counts.get("ok (autograd cannot run it)", 0)
    lines.append(f"passed: {ok} (autograd compared on {counts.get('ok', 0)}; it could not run {sum(skipped.values())}:")
    lines += [f"    {n} {reason}" for reason, n in skipped.most_common()]
    lines.append(f"  )\nthe same text from two generations: checked on every {SAME_TEXT_EVERY}th program")
    lines.append(f"no program drawn: {counts.get('no program', 0)}")
    lines.append(f"refused: {counts.get('refused', 0)}")
    lines += [f"    {n} {reason}" for reason, n in refusals.most_common()]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("programs", type=int)
    parser.add_argument("--start", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--size", choices=sorted(SIZES), default="default")
    parser.add_argument("--features", default=None)
    parser.add_argument("--failures", default="fuzz-failures.txt")
    options = parser.parse_args(argv)
    import test_fuzz_features as tf

    features = tuple(options.features.split(",")) if options.features else tf.FEATURES
    jobs = [(seed, features, options.size) for seed in range(options.start, options.start + options.programs)]
    counts, refusals, skipped = collections.Counter(), collections.Counter(), collections.Counter()
    start = time.monotonic()
    print(
        f"seeds {options.start}..{options.start + options.programs - 1}, features {','.join(features)}, "
        f"size {options.size}, {options.jobs} processes",
        flush=True,
    )
    stopped = False
    signal.signal(signal.SIGINT, _interrupt)  # (a background job ignores SIGINT otherwise)
    signal.signal(signal.SIGTERM, _interrupt)
    with open(options.failures, "w") as failures, multiprocessing.Pool(options.jobs, maxtasksperchild=200) as pool:
        try:
            for index, (seed, outcome, detail, source) in enumerate(pool.imap_unordered(run_one, jobs, chunksize=4)):
                counts[outcome] += 1
                if outcome == "refused":
                    refusals[detail] += 1
                    failures.write(f"=== seed {seed}: refused: {detail}\n--- source ---\n{source}\n")
                elif outcome.startswith("ok (autograd"):
                    skipped[detail] += 1
                elif outcome in FAILURES:
                    print(f"seed {seed}: {outcome}: {detail.splitlines()[0] if detail else ''}", flush=True)
                    failures.write(f"=== seed {seed}: {outcome}\n{detail}\n--- source ---\n{source}\n")
                    failures.flush()
                if (index + 1) % 250 == 0:
                    print(summary(counts, refusals, skipped, time.monotonic() - start), flush=True)
        except KeyboardInterrupt:  # (kill -INT or -TERM: stop, and say what was run)
            stopped = True
            pool.terminate()
    print("=== stopped early (SIGINT or SIGTERM)" if stopped else "=== final", flush=True)
    print(summary(counts, refusals, skipped, time.monotonic() - start), flush=True)
    return 1 if any(counts.get(outcome) for outcome in FAILURES) else 0


if __name__ == "__main__":
    sys.exit(main())
