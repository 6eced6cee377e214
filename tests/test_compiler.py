"""Generated code: readable, folded, and unable to run anything a rule file smuggles in."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from compliance.engine import Engine
from compliance.errors import RulesError


def write_pack(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "hostile.rules"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_generated_source_is_readable_and_folded(engine: Engine) -> None:
    source = engine.source("jd.message_box")
    assert "def eligibility(facts):" in source
    assert "# jd-mb-fans (JD-MB-01)" in source
    assert "_g_shop['fans'] >= 50000" in source  # 5w and the parameter folded to a constant
    compile(source, "<check>", "exec")


def test_string_literals_holding_python_stay_data(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    payload = f"\\\"); open({str(marker)!r}, 'w'); (\\\""
    path = write_pack(tmp_path, f'''
        pack evil {{
          fact shop {{ name: str }}
          eligibility evil-string {{
            require shop.name == "{payload}"
            message "{{shop.name}} \\"; __import__('os').system('touch {marker}') #"
          }}
        }}''')
    engine = Engine([path], use_cache=False)
    decision = engine.eligibility({"shop": {"name": "x"}}, channel="evil")
    assert not decision.eligible
    assert "__import__('os')" in decision.unmet[0].message  # rendered as text, not run
    assert not marker.exists()
    source = engine.source("evil")
    assert "open(" not in source.replace(repr(payload.replace('\\"', '"')), "")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("fact __class__ { a: int }", "may not start with '_'"),
        ("fact shop { __dict__: int }", "may not start with '_'"),
        ("fact shop { a: int }\n eligibility r { require shop.__class__ == 1 }", "unknown field shop.__class__"),
        ('eligibility r { require __import__("os") == 1 }', "unknown function __import__"),
        ("eligibility r { require eval == 1 }", "unknown name eval"),
        ('eligibility r { require true\n message "{__import__(1)}" }', "unknown function __import__"),
        ("eligibility r { require globals() == 1 }", "unknown function globals"),
    ],
)
def test_reaching_python_internals_is_rejected(tmp_path: Path, body: str, expected: str) -> None:
    path = write_pack(tmp_path, f"pack evil {{\n {body}\n}}\n")
    with pytest.raises(RulesError) as info:
        Engine([path], use_cache=False, builtins=False)
    assert expected in str(info.value)


def test_generated_code_has_no_builtins_to_escape_with(engine: Engine) -> None:
    namespace = engine.program("jd.sms").eligibility.__globals__
    assert set(namespace["__builtins__"]) == {"frozenset"}


def test_compile_cache_round_trip_and_corruption(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from compliance import diskcache as cache

    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(tmp_path / "cache"))
    first = Engine()
    files = list((tmp_path / "cache").glob("*.bin"))
    assert len(files) == 1
    second = Engine()  # served from the cache
    assert second.source("jd.sms") == first.source("jd.sms")
    # Corrupt the payload: the digest no longer matches, the file is discarded and rebuilt.
    data = bytearray(files[0].read_bytes())
    data[-10] ^= 0xFF
    files[0].write_bytes(bytes(data))
    key = files[0].stem
    assert cache.load(key) is None
    assert not files[0].exists()
    third = Engine()
    assert third.eligibility({"shop": {"sms_enabled": True, "signature": "好物", "sms_balance": 10,
                                       "main_category": "服饰"}, "send": {"audience_size": 5}},
                             channel="jd.sms").eligible
    assert cache.load(key) is not None
