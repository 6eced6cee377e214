"""The service an owner can expose: bearer-token authentication, request ids and the access log,
the ``serve`` command's start-up checks (tokens, ledgers, bind address).

Authentication is checked on every route the app has (iterated from ``app.routes``, so a new
endpoint cannot be forgotten); ``/healthz`` and the copy page's static files (``/``,
``/static/page.js``, ``/static/page.css``) are the open paths.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the server extra (fastapi, uvicorn) is not installed")
httpx = pytest.importorskip("httpx", reason="httpx (dev extra) is needed to talk to the server")

from fastapi.testclient import TestClient  # noqa: E402

from compliance.engine import Engine  # noqa: E402
from compliance.server import create_app  # noqa: E402
from compliance.server import auth as auth_module  # noqa: E402
from compliance.server.command import cmd_serve, is_loopback, register  # noqa: E402
from compliance.server.tokens import (  # noqa: E402
    ENV_VAR,
    ApiTokenError,
    load_api_tokens,
    read_token_file,
    token_from_environment,
)

TOKEN = "tok-3f9a1c77e0b24d51a6c0b8f2"
OTHER = "second.token_for:rotation-2026"
SEND = {"channel": "jd.sms", "message_class": "marketing", "merchant": "m0", "recipient": "13800000000",
        "at": "2026-03-02T10:00:00+08:00"}
MB_OK = {"fans": 86_000, "private_posts_last_month": 52, "avg_material_uv": 210.5, "category_avg_uv": 150.0,
         "bottom3_click_rate_months": 0, "messages_last_month": 24, "revoked_on": None}
#: A request each POST route accepts (200). A new POST route must get one here.
VALID_BODIES: dict[str, dict[str, Any]] = {
    "/v1/lint": {"message": "【好店】新品上市。回T退订", "channel": "jd.sms"},
    "/v1/eligibility": {"facts": {"shop": MB_OK, "today": "2026-11-25"}, "channel": "jd.message_box"},
    "/v1/reserve": {"send": SEND},
    "/v1/schedule": {"send": {"channel": "jd.sms", "at": "2026-03-02T12:00:00+08:00", "message_class": "marketing",
                              "audience_size": 10}},
}
HEX32 = re.compile(r"^[0-9a-f]{32}$")
#: A value for each path parameter, so that a route with one answers 200 with a valid token.
PATH_PARAMS = {"{rule_id}": "copy-ad-law"}


@pytest.fixture(scope="module")
def secured_app(engine: Engine) -> Any:
    return create_app(engine, ledgers="memory://", api_tokens=[TOKEN, OTHER])


@pytest.fixture(scope="module")
def secured(secured_app: Any) -> Iterator[TestClient]:
    with TestClient(secured_app) as client:
        yield client


def routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, path) the app answers, from its route table."""
    found = []
    for route in app.routes:
        for method in sorted(getattr(route, "methods", None) or ()):
            found.append((method, route.path))
    return found


def _call(client: TestClient, method: str, path: str, headers: dict[str, str] | None = None) -> Any:
    body = VALID_BODIES.get(path)
    for name, value in PATH_PARAMS.items():
        path = path.replace(name, value)
    assert "{" not in path, f"add a value for the path parameter of {path} to PATH_PARAMS"
    return client.request(method, path, json=body if method == "POST" else None, headers=headers)


def _refused(response: Any, code: str) -> None:
    assert response.status_code == 401, (response.request.method, response.request.url, response.text)
    assert response.headers["www-authenticate"].startswith('Bearer realm="compliance"')
    assert response.headers["x-request-id"]
    if response.request.method != "HEAD":
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
        assert body["error"]["code"] == code and body["error"]["message"]


# -- authentication ------------------------------------------------------------------------------


def test_the_route_table_is_what_the_tests_iterate(secured_app: Any) -> None:
    paths = {path for _, path in routes(secured_app)}
    assert {"/v1/lint", "/v1/eligibility", "/v1/reserve", "/v1/schedule", "/v1/rules", "/healthz", "/readyz",
            "/openapi.json", "/docs", "/redoc"} <= paths


@pytest.mark.parametrize("headers, code", [
    (None, "missing_token"),
    ({"Authorization": "Bearer wrong-token"}, "invalid_token"),
    ({"Authorization": f"Bearer {TOKEN}x"}, "invalid_token"),
    ({"Authorization": f"Bearer {TOKEN[:-1]}"}, "invalid_token"),
    ({"Authorization": f"Basic {TOKEN}"}, "missing_token"),
    ({"Authorization": "Bearer"}, "missing_token"),
    ({"Authorization": TOKEN}, "missing_token"),
    ({"X-API-Token": TOKEN}, "missing_token"),
])
def test_every_endpoint_but_healthz_needs_a_valid_token(secured: TestClient, secured_app: Any,
                                                        headers: dict[str, str] | None, code: str) -> None:
    checked = 0
    for method, path in routes(secured_app):
        if path in auth_module.OPEN_PATHS:
            continue
        _refused(_call(secured, method, path, headers), code)
        checked += 1
    assert checked >= 10
    _refused(secured.get("/v1/no-such-route", headers=headers), code)  # routes are not revealed


def test_two_authorization_headers_are_refused(secured: TestClient) -> None:
    response = secured.get("/v1/rules", headers=[("Authorization", f"Bearer {TOKEN}"),
                                                 ("Authorization", f"Bearer {TOKEN}")])
    _refused(response, "invalid_token")


def test_a_valid_token_is_accepted_everywhere(secured: TestClient, secured_app: Any) -> None:
    for token in (TOKEN, OTHER):
        for method, path in routes(secured_app):
            if method == "POST":
                assert path in VALID_BODIES, f"add a valid request for the new route POST {path} to VALID_BODIES"
            response = _call(secured, method, path, {"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, (method, path, response.text)
    assert secured.get("/v1/rules", headers={"Authorization": f"bearer  {TOKEN} "}).status_code == 200
    assert secured.get("/v1/no-such-route", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404


def test_healthz_is_open(secured: TestClient) -> None:
    for headers in (None, {"Authorization": "Bearer wrong-token"}):
        response = secured.get("/healthz", headers=headers)
        assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_only_healthz_and_the_page_files_are_open(secured: TestClient) -> None:
    from compliance.server.page import STATIC_FILES, static_file

    assert auth_module.OPEN_PATHS == {"/healthz", "/", "/static/page.js", "/static/page.css"}
    for path, (name, _) in STATIC_FILES.items():
        for headers in (None, {"Authorization": "Bearer wrong-token"}):
            response = secured.get(path, headers=headers)
            assert response.status_code == 200 and response.content == static_file(name), path
    # Open means those exact paths: nothing under /static or beside / is served without a token.
    for path in ("/static/", "/static/page.js/", "/index.html", "/static/../v1/rules"):
        assert secured.get(path).status_code == 401, path


def test_a_refused_request_is_not_read_or_routed(engine: Engine) -> None:
    seen: list[str] = []

    class Watching:
        channels = engine.channels

        def __getattr__(self, name: str) -> Any:
            seen.append(name)
            return getattr(engine, name)

    with TestClient(create_app(Watching(), api_tokens=[TOKEN], max_body_bytes=100)) as client:
        seen.clear()
        big = client.post("/v1/lint", content=b"x" * 10_000, headers={"content-type": "text/plain"})
        _refused(big, "missing_token")  # not 413 or 415: nothing about the request is looked at first
        assert big.headers["connection"] == "close"
        _refused(client.post("/v1/lint", json=VALID_BODIES["/v1/lint"]), "missing_token")
    assert "lint" not in seen


def test_tokens_are_compared_in_constant_time_against_every_token(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = auth_module.hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth_module.hmac, "compare_digest", counting)
    middleware = auth_module.BearerAuthMiddleware(lambda *a: None, ["first-token", "second-token", "third-token"])
    for credential, valid in ((b"first-token", True), (b"third-token", True), (b"nope", False), (b"f", False)):
        calls.clear()
        assert middleware.valid(credential) is valid
        assert len(calls) == 3, "one comparison per token, even after a match"
        assert {len(a) for a, _ in calls} == {len(b) for _, b in calls} == {32}, "digests: equal lengths"


def test_create_app_refuses_tokens_that_are_no_tokens(engine: Engine) -> None:
    for tokens, problem in (([], "no token"), ("one-token", "list of tokens"), (["two words"], "character 4"),
                            ([""], "empty"), (["tök"], "visible ASCII"), ([3], "must be a string")):
        with pytest.raises(ApiTokenError, match=problem):
            create_app(engine, api_tokens=tokens)  # type: ignore[arg-type]


def test_without_tokens_the_service_stays_open(engine: Engine) -> None:
    with TestClient(create_app(engine, ledgers="memory://")) as client:
        assert client.post("/v1/lint", json=VALID_BODIES["/v1/lint"]).status_code == 200
        assert client.get("/readyz").status_code == 200
        spec = client.get("/openapi.json").json()
        assert "securitySchemes" not in spec.get("components", {})


def test_the_openapi_document_declares_the_bearer_scheme(secured: TestClient) -> None:
    spec = secured.get("/openapi.json", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": spec["components"]["securitySchemes"]["bearer"]["description"]}
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            if path in auth_module.OPEN_PATHS:
                assert "security" not in operation and "401" not in operation["responses"]
            else:
                assert operation["security"] == [{"bearer": []}] and "401" in operation["responses"]


# -- tokens from a file and from the environment ---------------------------------------------------


def test_a_token_file_holds_one_token_a_line(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text(f"# the service's tokens\n\n  {TOKEN}  \n# rotated out: old-token\n{OTHER}\n{TOKEN}\n",
                    encoding="utf-8")
    assert read_token_file(path) == [TOKEN, OTHER]


@pytest.mark.parametrize("content, problem", [
    (None, "no such file"),
    ("", "holds no token"),
    ("# only a comment\n\n   \n", "holds no token"),
    (f"{TOKEN}\nhas a space\n", r"tokens:2: an API token is visible ASCII"),
    (b"\xff\xfe", "not UTF-8"),
    ("dir", "cannot read it"),
])
def test_a_token_file_that_cannot_be_used_is_an_error(tmp_path: Path, content: str | bytes | None,
                                                      problem: str) -> None:
    path = tmp_path / "tokens"
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ApiTokenError, match=problem) as info:
        read_token_file(path)
    assert str(path) in str(info.value)


def test_the_token_from_the_environment() -> None:
    assert token_from_environment({}) is None
    assert token_from_environment({ENV_VAR: f" {TOKEN}\n"}) == TOKEN
    with pytest.raises(ApiTokenError, match="set but blank"):
        token_from_environment({ENV_VAR: "  "})
    with pytest.raises(ApiTokenError, match=ENV_VAR):
        token_from_environment({ENV_VAR: "two words"})


def test_file_and_environment_tokens_add_up(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text(f"{TOKEN}\n", encoding="utf-8")
    assert load_api_tokens(None, {}) is None
    assert load_api_tokens(path, {}) == [TOKEN]
    assert load_api_tokens(None, {ENV_VAR: OTHER}) == [OTHER]
    assert load_api_tokens(path, {ENV_VAR: OTHER}) == [TOKEN, OTHER]


# -- the serve command (uvicorn.run replaced: nothing listens) ---------------------------------------


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What `cmd_serve` hands to uvicorn.run, instead of serving."""
    import uvicorn

    runs: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: runs.append({"app": app, **kwargs}))
    monkeypatch.delenv(ENV_VAR, raising=False)
    return runs


def _serve(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="compliance")
    register(parser.add_subparsers(dest="command"))
    return cmd_serve(parser.parse_args(["serve", *argv]))


def test_serve_reads_tokens_from_the_file(served: list[dict[str, Any]], tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text(f"# ops\n{TOKEN}\n", encoding="utf-8")
    assert _serve("--api-token-file", str(path), "--ledger", "memory://") == 0
    with TestClient(served[0]["app"]) as client:
        _refused(client.get("/v1/rules"), "missing_token")
        assert client.get("/v1/rules", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_serve_reads_the_token_from_the_environment(served: list[dict[str, Any]],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, OTHER)
    assert _serve() == 0
    with TestClient(served[0]["app"]) as client:
        _refused(client.post("/v1/lint", json=VALID_BODIES["/v1/lint"], headers={"Authorization": f"Bearer {TOKEN}"}),
                 "invalid_token")
        assert client.post("/v1/lint", json=VALID_BODIES["/v1/lint"],
                           headers={"Authorization": f"Bearer {OTHER}"}).status_code == 200


@pytest.mark.parametrize("setup, problem", [
    (lambda p, mp: None, "no such file"),
    (lambda p, mp: p.write_text("# none yet\n", encoding="utf-8"), "holds no token"),
    (lambda p, mp: mp.setenv(ENV_VAR, ""), "set but blank"),
])
def test_serve_does_not_start_on_unusable_tokens(served: list[dict[str, Any]], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                 setup: Any, problem: str) -> None:
    path = tmp_path / "tokens"
    setup(path, monkeypatch)
    argv = () if ENV_VAR in os.environ else ("--api-token-file", str(path))
    assert _serve(*argv) == 2
    assert served == []
    assert problem in capsys.readouterr().err


@pytest.mark.parametrize("host, warned", [
    ("0.0.0.0", True), ("::", True), ("192.168.1.20", True), ("myhost.example", True),
    ("127.0.0.1", False), ("127.0.0.2", False), ("::1", False), ("localhost", False),
])
def test_serve_warns_when_exposed_without_a_token(served: list[dict[str, Any]], capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path, host: str, warned: bool) -> None:
    assert is_loopback(host) is not warned
    assert _serve("--host", host) == 0
    err = capsys.readouterr().err
    assert ("warning: serving on" in err and "without authentication" in err) is warned
    path = tmp_path / "tokens"
    path.write_text(TOKEN, encoding="utf-8")
    assert _serve("--host", host, "--api-token-file", str(path)) == 0
    assert "warning" not in capsys.readouterr().err
    assert [run["host"] for run in served] == [host, host]


def test_serve_logs_access_lines_itself(served: list[dict[str, Any]]) -> None:
    assert _serve("--max-findings", "7", "--log-level", "warning") == 0
    run = served[0]
    assert run["access_log"] is False  # uvicorn's own access log cannot show the request id
    access = run["log_config"]["loggers"]["compliance.server.access"]
    assert access["level"] == "WARNING" and run["log_config"]["handlers"][access["handlers"][0]]
    assert run["app"].state.compliance.max_findings == 7


# -- request ids and the access log -------------------------------------------------------------


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine, ledgers="memory://", max_body_bytes=4096)) as test_client:
        yield test_client


@pytest.mark.parametrize("given", ["abc", "4f0c2a0e-7b1d-4c3a-9e55-0a1b2c3d4e5f", "trace:01.02_03-x", "x" * 128])
def test_a_well_formed_request_id_is_echoed(client: TestClient, given: str) -> None:
    response = client.post("/v1/lint", json=VALID_BODIES["/v1/lint"], headers={"X-Request-ID": given})
    assert response.status_code == 200 and response.headers["x-request-id"] == given


@pytest.mark.parametrize("given", [b"", b"x" * 129, b"two words", b'quote"d', b"back\\slash", b"semi;colon",
                                   "ü".encode(), b"a/b", b"tab\there"])
def test_a_missing_or_malformed_request_id_is_replaced(client: TestClient, given: bytes) -> None:
    response = client.get("/healthz", headers=[(b"X-Request-ID", given)])
    assert response.headers["x-request-id"] != given.decode("latin-1")
    assert HEX32.match(response.headers["x-request-id"])
    fresh = [client.get("/healthz").headers["x-request-id"] for _ in range(3)]
    assert all(HEX32.match(f) for f in fresh) and len(set(fresh)) == 3
    two = client.get("/healthz", headers=[("X-Request-ID", "abc"), ("X-Request-ID", "def")])
    assert HEX32.match(two.headers["x-request-id"])


def test_error_answers_carry_the_request_id(client: TestClient, secured: TestClient, engine: Engine) -> None:
    J = {"content-type": "application/json"}
    answers = {
        401: secured.get("/v1/rules", headers={"X-Request-ID": "rid-401"}),
        404: client.get("/v1/nothing", headers={"X-Request-ID": "rid-404"}),
        405: client.get("/v1/lint", headers={"X-Request-ID": "rid-405"}),
        413: client.post("/v1/lint", content=b"{" + b" " * 5000 + b"}", headers={**J, "X-Request-ID": "rid-413"}),
        415: client.post("/v1/lint", content=b"x", headers={"content-type": "text/plain", "X-Request-ID": "rid-415"}),
        400: client.post("/v1/lint", content=b'{"message": ', headers={**J, "X-Request-ID": "rid-400"}),
        422: client.post("/v1/lint", json={"message": 3}, headers={"X-Request-ID": "rid-422"}),
    }

    class Broken:
        channels = engine.channels

        def lint(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("boom")

    with TestClient(create_app(Broken()), raise_server_exceptions=False) as broken:
        answers[500] = broken.post("/v1/lint", json=VALID_BODIES["/v1/lint"], headers={"X-Request-ID": "rid-500"})
        unnamed = broken.post("/v1/lint", json=VALID_BODIES["/v1/lint"])
        assert unnamed.status_code == 500 and HEX32.match(unnamed.headers["x-request-id"])

    release = threading.Event()

    class Stuck:
        channels = engine.channels

        def lint(self, *args: Any, **kwargs: Any) -> Any:
            release.wait(30)
            return engine.lint(*args, **kwargs)

    try:
        with TestClient(create_app(Stuck(), request_timeout_s=0.2)) as stuck:
            answers[504] = stuck.post("/v1/lint", json=VALID_BODIES["/v1/lint"], headers={"X-Request-ID": "rid-504"})
    finally:
        release.set()
    for status, response in answers.items():
        assert response.status_code == status, (status, response.text)
        assert response.headers["x-request-id"] == f"rid-{status}", status
        assert response.json()["error"]["code"]


def test_the_access_log_has_one_line_per_request_with_its_id(client: TestClient, secured: TestClient,
                                                             engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        channels = engine.channels

        def lint(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("boom")

    with caplog.at_level(logging.INFO, logger="compliance.server.access"):
        client.post("/v1/lint", json=VALID_BODIES["/v1/lint"], headers={"X-Request-ID": "log-200"})
        client.get("/v1/nothing?x=1", headers={"X-Request-ID": "log-404"})
        secured.get("/readyz", headers={"X-Request-ID": "log-401"})
        generated = client.get("/healthz").headers["x-request-id"]
        with TestClient(create_app(Broken()), raise_server_exceptions=False) as broken:
            broken.post("/v1/lint", json=VALID_BODIES["/v1/lint"], headers={"X-Request-ID": "log-500"})
    lines = [r.getMessage() for r in caplog.records if r.name == "compliance.server.access"]
    assert len(lines) == 5, lines
    assert re.fullmatch(r'testclient:\d+ - "POST /v1/lint HTTP/1.1" 200 \d+\.\dms request_id=log-200', lines[0])
    assert '"GET /v1/nothing?x=1 HTTP/1.1" 404' in lines[1] and lines[1].endswith("request_id=log-404")
    assert '"GET /readyz HTTP/1.1" 401' in lines[2] and lines[2].endswith("request_id=log-401")
    assert '"GET /healthz HTTP/1.1" 200' in lines[3] and lines[3].endswith(f"request_id={generated}")
    assert '"POST /v1/lint HTTP/1.1" 500' in lines[4] and lines[4].endswith("request_id=log-500")
    errors = [r for r in caplog.records if r.name == "compliance.server" and r.levelno == logging.ERROR]
    assert any("request_id=log-500" in r.getMessage() for r in errors)


def test_the_access_log_cannot_be_forged_by_a_request_target() -> None:
    from compliance.server.access import _target

    scope = {"raw_path": b'/v1/x" 200 0.1ms request_id=forged\n\x1b[2J\xc3\xbc', "query_string": b'a="b c"'}
    assert _target(scope) == "/v1/x%22%20200%200.1ms%20request_id=forged%0A%1B[2J%C3%BC?a=%22b%20c%22"


# -- a real server ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_real_server_with_a_token_file_logs_each_request_with_its_id(tmp_path: Path) -> None:
    from load_driver import load_http

    tokens = tmp_path / "tokens"
    tokens.write_text(f"# test\n{TOKEN}\n", encoding="utf-8")
    with load_http.running_server(tmp_path, extra=["--api-token-file", str(tokens), "--log-level", "info"]) as base:
        with httpx.Client(base_url=base, timeout=10.0) as http:
            refused = http.get("/v1/rules", headers={"X-Request-ID": "live-401"})
            assert refused.status_code == 401 and refused.headers["x-request-id"] == "live-401"
            assert refused.headers["www-authenticate"].startswith("Bearer")
            ok = http.post("/v1/lint", json=VALID_BODIES["/v1/lint"],
                           headers={"Authorization": f"Bearer {TOKEN}", "X-Request-ID": "live-200"})
            assert ok.status_code == 200 and ok.headers["x-request-id"] == "live-200"
        port = base.rsplit(":", 1)[1]
    log = (tmp_path / f"server-{port}.log").read_text(encoding="utf-8")
    assert re.search(r'"GET /v1/rules HTTP/1.1" 401 \d+\.\dms request_id=live-401', log), log
    assert re.search(r'"POST /v1/lint HTTP/1.1" 200 \d+\.\dms request_id=live-200', log), log
    assert len(re.findall(r'"POST /v1/lint HTTP/1.1"', log)) == 1, "one access line per request, not two"


@pytest.mark.parametrize("url, reason", [
    ("foo://x", "unknown scheme 'foo'"),
    ("redis://127.0.0.1:1/0", "could not reach Redis"),
    ("sqlite:///nonexistent-dir/x.db", "unable to open database file"),
])
def test_serve_on_a_ledger_that_cannot_be_used_exits_2_before_serving(tmp_path: Path, url: str,
                                                                       reason: str) -> None:
    from redis_server import free_port

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]),
                                                        os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "compliance", "serve", "--port", str(free_port()), "--ledger", url],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2, done
    assert "error: not serving: ledger 'default': " in done.stderr and reason in done.stderr, done.stderr
    assert "Uvicorn running" not in done.stdout + done.stderr
