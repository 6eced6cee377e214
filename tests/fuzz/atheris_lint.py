"""atheris harness: bytes → text → `Engine.lint`, checking the report invariants.

Run it long (``make fuzz`` does, 60 s by default)::

    .venv/bin/python tests/fuzz/atheris_lint.py -max_total_time=60

or briefly (CI: ``tests/fuzz/test_fuzz_text.py`` runs it with ``-runs=N``). The first bytes choose
the channel (jd.sms or another one), whether the message is one string or a mapping of fields,
and whether the text is decoded from the raw bytes (invalid UTF-8 replaced, or lone surrogates
let through with ``surrogatepass``) or assembled from lexicon terms, message pieces and fuzzed
text. Only a `ComplianceError` may come out of lint; every report must satisfy
`check_report` (spans inside fields, fixes at their spans, JSON-serializable).
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the `fuzz` package

with atheris.instrument_imports(include=["compliance"]):
    # Imported here, not lazily by lint, so that coverage guides the fuzzer through them.
    import compliance.analyzer.matcher
    import compliance.analyzer.primitives
    import compliance.analyzer.scanners
    import compliance.analyzer.lint  # noqa: F401
    from compliance.analyzer.normalize import normalize
    from compliance.engine import Engine
    from compliance.errors import ComplianceError, FactError

from fuzz.test_fuzz_text import MESSAGES, _lexicon_material, check_report  # noqa: E402

CHANNELS = ("jd.sms", "wechat.template")
FIELDS = ("signature", "body", "optout", "title", "url")

ENGINE = Engine()
PIECES = _lexicon_material() + MESSAGES


def _text(fdp: atheris.FuzzedDataProvider, how: int) -> str:
    if how == 0:
        return fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 4096)).decode("utf-8", errors="replace")
    if how == 1:
        # What an embedding caller could hand over: lone surrogates included.
        return fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 4096)).decode("utf-8", errors="surrogatepass")
    parts: list[str] = []
    for _ in range(fdp.ConsumeIntInRange(0, 16)):
        if fdp.ConsumeBool():
            parts.append(PIECES[fdp.ConsumeIntInRange(0, len(PIECES) - 1)])
        else:
            parts.append(fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 8)))
    return "".join(parts)


def test_one_input(data: bytes) -> None:
    """One fuzz case: lint must give a valid report or a ComplianceError."""
    fdp = atheris.FuzzedDataProvider(data)
    mode = fdp.ConsumeIntInRange(0, 255)
    channel = CHANNELS[mode & 1]
    how = (mode >> 2) % 3
    try:
        if mode & 2:
            message: str | dict[str, str] = {
                name: _text(fdp, how) for name in FIELDS if fdp.ConsumeBool()
            }
        else:
            message = _text(fdp, how)
    except UnicodeDecodeError:
        return  # bytes that are not even surrogate-escaped UTF-8: no str to lint
    texts = [message] if isinstance(message, str) else list(message.values())
    has_surrogate = any(any("\ud800" <= c <= "\udfff" for c in t) for t in texts)
    try:
        report = ENGINE.lint(message, channel=channel)
    except FactError as exc:
        assert str(exc)
        return
    except ComplianceError as exc:
        assert str(exc) and not has_surrogate
        return
    assert not has_surrogate, "text with a lone surrogate must be refused"
    check_report(report, message, channel)
    for text in texts:
        offsets = normalize(text).offsets
        assert all(a <= b for a, b in zip(offsets, offsets[1:]))


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
