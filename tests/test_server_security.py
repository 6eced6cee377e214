"""The HTTP service against hostile requests: size and time limits, bodies that are not strict
JSON, hostile text, and no file named by a request ever opened (watched with an audit hook)."""

from __future__ import annotations

import importlib.util
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the server extra (fastapi, uvicorn) is not installed")
httpx = pytest.importorskip("httpx", reason="httpx (dev extra) is needed to talk to the server")

from fastapi.testclient import TestClient  # noqa: E402

from compliance.engine import Engine  # noqa: E402
from compliance.server import create_app  # noqa: E402
from compliance.server.bodies import MAX_JSON_DEPTH, max_depth  # noqa: E402
from compliance.server.limits import BodyLimitMiddleware  # noqa: E402

pytestmark = pytest.mark.hostile

J = {"content-type": "application/json"}
SEND = {"channel": "jd.sms", "message_class": "marketing", "merchant": "m0", "recipient": "13800000000",
        "at": "2026-03-02T10:00:00+08:00"}
MB_OK = {"fans": 86_000, "private_posts_last_month": 52, "avg_material_uv": 210.5, "category_avg_uv": 150.0,
         "bottom3_click_rate_months": 0, "messages_last_month": 24, "revoked_on": None}


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[TestClient]:
    app = create_app(engine, ledgers="memory://", max_body_bytes=1 << 20)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


# -- bodies that are not strict JSON -----------------------------------------------------------


@pytest.mark.parametrize("body, status, code", [
    (b"[" * 100_000 + b"]" * 100_000, 400, "too_deeply_nested"),
    (b'{"message": {"body": ' + b'{"a":' * 20_000 + b"1" + b"}" * 20_001 + b', "channel": "jd.sms"}', 400,
     "too_deeply_nested"),
    (b'{"message": "\xff\xfe", "channel": "jd.sms"}', 400, "invalid_utf8"),
    ('{"message": "你好", "channel": "jd.sms"}'.encode("utf-16"), 400, "invalid_utf8"),
    (b'{"message": "\\ud800", "channel": "jd.sms"}', 400, "invalid_text"),  # was a 500 on the echo
    (b'{"message": "x", "channel": "jd.sms", "channel": "jd.message_box"}', 400, "malformed_json"),
    (b'{"message": ', 400, "malformed_json"),
    (b'{"message": "x", "channel": "jd.sms", "via_template": ' + b"9" * 5000 + b"}", 400, "malformed_json"),
    (b"null", 422, "validation_error"),
    (b"[]", 422, "validation_error"),
])
def test_bodies_that_are_not_strict_json_are_refused(client: TestClient, body: bytes, status: int, code: str) -> None:
    _error(client.post("/v1/lint", content=body, headers=J), status, code)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_facts_are_refused_not_compared(client: TestClient, constant: str) -> None:
    # A NaN compares false with everything: `fans < 50000` would not fire. Never let it in.
    body = json.dumps({"facts": {"shop": {**MB_OK, "fans": 0}, "today": "2026-11-25"}, "channel": "jd.message_box"})
    error = _error(client.post("/v1/eligibility", content=body.replace('"fans": 0', f'"fans": {constant}'),
                               headers=J), 400, "malformed_json")
    assert constant.lstrip("-") in error["message"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                          "", "application/xml"])
def test_other_media_types_are_415(client: TestClient, content_type: str) -> None:
    error = _error(client.post("/v1/lint", content=b'{"message": "x", "channel": "jd.sms"}',
                               headers={"content-type": content_type}), 415, "unsupported_media_type")
    assert "application/json" in error["message"]


def test_json_media_types_with_parameters_are_accepted(client: TestClient) -> None:
    for content_type in ("application/json; charset=utf-8", "application/problem+json", "Application/JSON"):
        response = client.post("/v1/lint", content=b'{"message": "x", "channel": "jd.sms"}',
                               headers={"content-type": content_type})
        assert response.status_code == 200, (content_type, response.text)


def test_depth_is_counted_outside_strings_only() -> None:
    text = '{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "b": [1, [2]]}'
    assert max_depth(text) == (3, text.index("[2]"))
    assert max_depth(r'{"a": "\"[[[[", "b": {}}')[0] == 2
    deep = "[" * (MAX_JSON_DEPTH + 1)
    assert max_depth(deep)[0] == MAX_JSON_DEPTH + 1


def test_nesting_within_the_limit_reaches_the_engine(client: TestClient) -> None:
    facts = {"shop": MB_OK, "today": "2026-11-25", "extra": [[[[["x"]]]]]}
    response = client.post("/v1/eligibility", json={"facts": facts, "channel": "jd.message_box"})
    assert response.status_code == 200 and response.json()["eligible"] is True  # 5 levels: the engine decides


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "1700000000", "0"])
def test_send_times_out_of_range_are_422_not_500(client: TestClient, at: str) -> None:
    # 9999-12-31 overflowed the ledger's and schedule's calendar arithmetic (500) before the bound.
    value: Any = 0 if at == "0" else at
    _error(client.post("/v1/reserve", json={"send": {**SEND, "at": value}}), 422, "validation_error")
    _error(client.post("/v1/schedule", json={"send": {"channel": "jd.sms", "at": value}}), 422, "validation_error")


# -- hostile text within the limits gets a verdict ---------------------------------------------


@pytest.mark.parametrize("text, ok", [
    ("【好店】全网最\u200b低价，限时抢购。回T退订", False),    # zero-width inside a banned phrase
    ("【好店】全网\u202e价低最\u202c，限时抢购。回T退订", None),  # RTL override
    ("【好店】\x00全网最低价\x00回T退订", False),              # NUL bytes
    ("\ufeff【好店】新品上市。回T退订", None),                  # BOM inside the text
    ("好" * 200_000, False),                                       # 600 KB of one character
    ("【好店】" + "\u200b" * 100_000 + "回T退订", None),          # nothing but zero-width
])
def test_hostile_text_gets_a_verdict(client: TestClient, engine: Engine, text: str, ok: bool | None) -> None:
    started = time.monotonic()
    response = client.post("/v1/lint", json={"message": text, "channel": "jd.sms"})
    assert time.monotonic() - started < 30, "a verdict within 30 s on a 2-core CI box"
    assert response.status_code == 200, response.text
    body = response.json()
    report = engine.lint(text, channel="jd.sms")
    assert body["ok"] is report.ok and len(body["findings"]) == len(report.findings)
    if ok is not None:
        assert body["ok"] is ok
    for finding in body["findings"]:
        if finding["start"] is not None:
            field = body["fields"][finding["field"]]
            assert 0 <= finding["start"] <= finding["end"] <= len(field)


def test_hostile_channel_names_are_404(client: TestClient) -> None:
    for channel in ("jd.sms\x00", "../../rules/jd.sms", "/etc/passwd", "jd.sms/../x", "\u202ejd.sms"):
        error = _error(client.post("/v1/lint", json={"message": "你好", "channel": channel}), 404, "unknown_channel")
        assert "/etc" not in error["message"] or channel == "/etc/passwd"


# -- size limit: refused without reading the body ----------------------------------------------


def _asgi_post(app: Any, headers: list[tuple[bytes, bytes]], chunks: Iterator[bytes]) -> tuple[int, int]:
    """Drive ``app`` directly over ASGI; returns (status, number of body chunks it read)."""
    import anyio

    read = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        chunk = next(chunks, None)
        return {"type": "http.request", "body": chunk or b"", "more_body": chunk is not None}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "method": "POST", "path": "/v1/lint", "headers": headers, "query_string": b"",
             "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 80), "root_path": ""}
    anyio.run(app, scope, receive, send)
    return status, read


def test_declared_oversize_body_is_refused_before_reading() -> None:
    def endless() -> Iterator[bytes]:
        while True:
            yield b"x" * 4096

    async def unreachable(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the application must not run")

    app = BodyLimitMiddleware(unreachable, max_body_bytes=1024)
    status, read = _asgi_post(app, [(b"content-type", b"application/json"), (b"content-length", b"10000000000")],
                              endless())
    assert (status, read) == (413, 0)
    # Chunked (no Content-Length), endless: refused as soon as it goes over, after one 4 KiB chunk.
    status, read = _asgi_post(app, [(b"content-type", b"application/json")], endless())
    assert (status, read) == (413, 1)


def test_ten_megabyte_message_is_413_by_default(engine: Engine) -> None:
    with TestClient(create_app(engine)) as small:
        body = json.dumps({"message": "好" * (10 * 1024 * 1024 // 3), "channel": "jd.sms"}).encode()
        error = _error(small.post("/v1/lint", content=body, headers=J), 413, "payload_too_large")
        assert error["details"]["limit_bytes"] == 64 * 1024


# -- time limit: 504, and timed-out work is bounded --------------------------------------------


def test_timed_out_work_still_running_is_bounded(engine: Engine) -> None:
    release = threading.Event()

    class Stuck:
        channels = engine.channels

        def lint(self, *args: Any, **kwargs: Any) -> Any:
            release.wait(60)
            return engine.lint(*args, **kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(engine, name)

    payload = {"message": "你好", "channel": "jd.sms"}
    try:
        with TestClient(create_app(Stuck(), request_timeout_s=0.2, max_abandoned=3)) as client:
            for _ in range(3):
                _error(client.post("/v1/lint", json=payload), 504, "timeout")
            error = _error(client.post("/v1/lint", json=payload), 503, "overloaded")
            assert error["details"] == {"abandoned": 3, "limit": 3}
            assert client.get("/healthz").json() == {"status": "ok"}  # the process still answers
            release.set()
            deadline = time.monotonic() + 30
            while client.app.state.compliance.work.count and time.monotonic() < deadline:
                time.sleep(0.01)
            assert client.post("/v1/lint", json=payload).status_code == 200  # and recovers
    finally:
        release.set()


def test_a_slow_body_over_a_real_socket_gets_504(tmp_path: Path) -> None:
    """Slowloris on the body: headers promise 1000 bytes, 10 arrive, then nothing."""
    spec = importlib.util.spec_from_file_location(
        "load_http", Path(__file__).resolve().parents[1] / "benchmarks" / "load_http.py")
    assert spec is not None and spec.loader is not None
    load_http = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("load_http", load_http)
    spec.loader.exec_module(load_http)
    with load_http.running_server(tmp_path, extra=["--timeout", "1"]) as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
            sock.sendall(b"POST /v1/lint HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000\r\n\r\n{\"message\"")
            started = time.monotonic()
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
            waited = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 504"), answer[:200]
        assert waited < 15, "answered at the time limit (1 s), not when the client gives up"
        assert httpx.get(f"{base}/healthz").status_code == 200


# -- no file named by a request is ever opened -------------------------------------------------

_WATCHED = ("open", "os.listdir", "os.scandir", "os.chdir", "sqlite3.connect", "shutil.copyfile", "socket.connect",
            "subprocess.Popen", "os.system", "exec", "compile", "import")
_recording: list[list[tuple[str, str]]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _recording and event in _WATCHED:
        _recording[-1].append((event, repr(args)[:300]))


_hook_installed = False


@pytest.fixture
def audit_events() -> Iterator[list[tuple[str, str]]]:
    """Every watched audit event (file opens, directory listings, connects, ...) while the test runs."""
    global _hook_installed
    if not _hook_installed:  # audit hooks cannot be removed: one per process, idle when not recording
        sys.addaudithook(_audit)
        _hook_installed = True
    events: list[tuple[str, str]] = []
    _recording.append(events)
    try:
        yield events
    finally:
        _recording.remove(events)


MARK = "cmpl-probe"
HOSTILE_PATHS = ["/etc/passwd", "file:///etc/passwd", f"../../{MARK}", f"../../rules/{MARK}", f"/tmp/{MARK}.rules",
                 f"sqlite:///tmp/{MARK}.db", f"redis://127.0.0.1:1/{MARK}", f"~/{MARK}", f"C:\\{MARK}",
                 f"\\\\server\\{MARK}"]


def test_no_path_from_a_request_is_opened(engine: Engine, tmp_path: Path, audit_events: list[tuple[str, str]]) -> None:
    ledger_file = tmp_path / "configured.db"
    with TestClient(create_app(engine, ledgers={"default": f"sqlite:///{ledger_file}", "..": "memory://"}),
                    raise_server_exceptions=False) as client:
        client.post("/v1/reserve", json={"send": SEND})  # the configured ledger opens (allowed)
        for path in HOSTILE_PATHS:
            answers = [
                client.post("/v1/lint", json={"message": {"body": path, "url": path, "image": path}, "channel": "jd.sms"}),
                client.post("/v1/lint", json={"message": path, "channel": path}),
                client.post(f"/v1/lint?rules={path}&pack={path}", json={"message": path, "channel": "jd.sms"},
                            headers={"x-rules": path.encode("utf-8", "replace").decode("latin-1")}),
                client.post("/v1/eligibility", json={"facts": {"rules": path, "shop": {**MB_OK, "fans": path},
                                                               "today": path}, "channel": "jd.message_box"}),
                client.post("/v1/reserve", json={"send": {**SEND, "recipient": path, "merchant": path, "id": path},
                                                 "ledger": path}),
                client.post("/v1/reserve", json={"send": {**SEND, "recipient": path}, "ledger": ".."}),
                client.post("/v1/schedule", json={"send": {**SEND, "template": path, "rules": path},
                                                  "facts": {"file": path, "order": {"path": path}}}),
                client.get("/v1/rules", params={"channel": path}),
                client.get(f"/{path}"),
            ]
            assert all(a.status_code < 500 for a in answers), [a.text for a in answers if a.status_code >= 500]
    hostile = ("passwd", MARK, "127.0.0.1:1")
    touched = [(event, args) for event, args in audit_events if any(h in args for h in hostile)]
    assert touched == []
    opened = [args for event, args in audit_events if event in ("open", "sqlite3.connect")]
    assert any("configured.db" in args for args in opened), "the watch sees the configured ledger open"
