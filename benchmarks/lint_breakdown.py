"""Where `engine.lint` spends its time on the corpus, measured inside the real pipeline.

Run: ``.venv/bin/python benchmarks/lint_breakdown.py`` (about a minute; needs ../shared/corpora).

Timing a stage on its own flatters it: in a loop of one function the interpreter, the
regex programs and the automaton stay in the CPU caches, and each stage runs ~1.3-1.5x faster
than inside a whole lint. So this script measures two ways, both over the 9,424 corpus
messages, best of several rounds of CPU time:

1. **Per primitive, in the pipeline**: each primitive the compiled jd.sms pack calls is
   wrapped with a timer while whole messages are linted (the wrapper's own cost, about
   0.13 µs a call, is subtracted).
2. **Bounds**: the whole lint again with the matcher, the scanners, or both replaced by
   functions that find nothing. What remains is what no faster matcher or scanner could
   remove: the floor of the pure-Python pipeline (splitting, facts, generated rule code,
   findings and the report).

The findings of the stubbed runs are of course wrong; only their time means something.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


ROUNDS = 5


def _messages() -> list[str]:
    from compliance import corpora

    return [text[:1] + text[1:] for text in corpora.all_texts()]


def _lint_time(engine: Any, messages: list[str]) -> float:
    """Best CPU time per message, in µs, of linting every message for jd.sms."""
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.process_time()
        for text in messages:
            engine.lint(text, channel="jd.sms")
        best = min(best, time.process_time() - start)
    return best / len(messages) * 1e6


def _timer_cost() -> float:
    """µs a call of an empty timing wrapper adds."""
    clock = time.perf_counter_ns
    start = clock()
    for _ in range(100_000):
        clock()
        clock()
    return (clock() - start) / 100_000 / 1000


def per_primitive(engine: Any, messages: list[str]) -> dict[str, float]:
    """µs per message spent in each primitive the compiled pack calls, inside whole lints."""
    namespace = engine.program("jd.sms").copy.__globals__
    saved = dict(namespace)
    spent: dict[str, list[int]] = {}
    calls: dict[str, list[int]] = {}
    clock = time.perf_counter_ns

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        total = spent.setdefault(name, [0])
        count = calls.setdefault(name, [0])

        def wrapper(*args: Any) -> Any:
            start = clock()
            result = fn(*args)
            total[0] += clock() - start
            count[0] += 1
            return result

        return wrapper

    for name in list(namespace):
        if name.startswith("_iter_") or name == "_lexicons_of":
            namespace[name] = timed(name, namespace[name])
    try:
        for _ in range(ROUNDS):
            for text in messages:
                engine.lint(text, channel="jd.sms")
    finally:
        namespace.update(saved)
    overhead = _timer_cost()
    n = ROUNDS * len(messages)
    return {name: max(0.0, total[0] / 1000 - calls[name][0] * overhead) / n for name, total in spent.items()}


def bounds(engine: Any, messages: list[str]) -> dict[str, float]:
    """µs per message of the whole lint, as is and with the matcher and/or scanners stubbed."""
    namespace = engine.program("jd.sms").copy.__globals__
    saved = dict(namespace)

    def no_hits(*_args: Any) -> tuple[()]:
        return ()

    def stub(matcher: bool, scanners: bool) -> None:
        namespace.update(saved)
        if matcher:
            namespace["_lexicons_of"] = lambda _text: {}
            namespace["_fn_lexicon"] = no_hits
        if scanners:
            for name in saved:
                if name.startswith("_iter_"):
                    namespace[name] = no_hits

    out: dict[str, float] = {}
    try:
        for label, matcher, scanners in (("whole lint", False, False),
                                         ("matcher finds nothing, at no cost", True, False),
                                         ("scanners find nothing, at no cost", False, True),
                                         ("both", True, True)):
            stub(matcher, scanners)
            out[label] = _lint_time(engine, messages)
    finally:
        namespace.update(saved)
    return out


def main() -> None:
    import compliance

    messages = _messages()
    engine = compliance.Engine()
    for text in messages:  # warm: jieba loaded, confirmation cache filled
        engine.lint(text, channel="jd.sms")
    from compliance.build import describe

    print(f"{len(messages):,} corpus messages, jd.sms, best of {ROUNDS} rounds of CPU time; "
          f"build: {describe()}\n")
    print("in the pipeline, per primitive (µs per message):")
    for name, spent in sorted(per_primitive(engine, messages).items(), key=lambda item: -item[1]):
        if spent >= 0.005:
            label = "matcher (fold + Aho-Corasick + hits)" if name == "_lexicons_of" else name.removeprefix("_iter_")
            print(f"  {label:<40} {spent:6.2f}")
    print("\nwhole lint with parts replaced by functions that find nothing (µs per message):")
    for label, spent in bounds(engine, messages).items():
        print(f"  {label:<40} {spent:6.2f}  = {1e6 / spent:>9,.0f} msg/s")


if __name__ == "__main__":
    main()
