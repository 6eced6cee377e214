"""What the copy page needs from the service, in process: the static files at ``/`` (open,
with a strict content security policy), ``GET /v1/rules/{rule_id}``, the lint answer's
``measure`` counters and ``suggestions``, and their OpenAPI documentation.

The page itself, in a browser, is tests/test_copy_page.py.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the server extra (fastapi, uvicorn) is not installed")
pytest.importorskip("httpx", reason="httpx (dev extra) is needed to talk to the server")

from fastapi.testclient import TestClient  # noqa: E402

from compliance.analyzer.primitives import rendered_length  # noqa: E402
from compliance.analyzer.scanners.length import sms_segments, width  # noqa: E402
from compliance.engine import Engine  # noqa: E402
from compliance.server import create_app  # noqa: E402
from compliance.server.app import suggestion_dict  # noqa: E402
from compliance.server.page import STATIC_FILES, static_file  # noqa: E402

TOKEN = "server-page-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine, api_tokens=[TOKEN])) as client:
        yield client


def test_page_files_are_open_and_locked_down(client: TestClient) -> None:
    for path, (name, media_type) in STATIC_FILES.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"] == media_type
        assert response.content == static_file(name) and response.content
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"
    page = client.get("/").text
    assert 'lang="zh-CN"' in page and 'name="viewport"' in page
    assert "static/page.js" in page and "static/page.css" in page
    # Nothing from another origin, nothing inline: the policy would refuse it anyway.
    for text in (page, client.get("/static/page.js").text, client.get("/static/page.css").text):
        assert "http://" not in text.replace("http://www.w3.org", "") and "//cdn" not in text
    assert "<script>" not in page and " style=" not in page
    # The API stays closed; the page files are the only new open paths.
    assert client.get("/v1/rules").status_code == 401
    assert client.get("/static/other.js").status_code == 401
    assert client.post("/", json={}).status_code == 405


def test_page_script_never_parses_text_as_html() -> None:
    script = static_file("page.js").decode()
    assert "innerHTML" not in script.replace("never innerHTML", "") and "outerHTML" not in script
    assert "insertAdjacentHTML" not in script and "document.write" not in script and "eval(" not in script


def test_rule_detail(client: TestClient, engine: Engine) -> None:
    pack, rule = engine.rule("jd-sms-length")
    detail = client.get("/v1/rules/jd-sms-length", headers=AUTH).json()
    assert detail["id"] == "jd-sms-length" and detail["refs"] == list(rule.refs) == ["JD-SMS-07"]
    assert detail["pack"] == rule.pack and detail["pack_title"] == pack.title and detail["channel"] == "jd.sms"
    assert detail["title"] == rule.title and detail["severity"] == "warning" and detail["kind"] == "copy"
    assert detail["condition_kind"] == "requires" and detail["condition"].endswith("<= 64")  # params shown by value
    assert detail["when"] and detail["message"] == rule.message.source
    assert [e["outcome"] for e in detail["examples"]] == [e.outcome for e in rule.examples]
    assert detail["source"] == f"jd_sms.rules:{rule.pos.line}"  # the file name, never the server's path
    copy = client.get("/v1/rules/copy-ad-law", headers=AUTH).json()
    assert "lexicon" in copy["find"] and "body" in copy["on"] and "广告法" in copy["explain"]
    facts = client.get("/v1/rules/jd-sms-service-opened", headers=AUTH).json()
    assert facts["kind"] == "eligibility" and facts["examples"]
    assert all(e["text"].startswith("{ ") and "shop.sms_enabled" in e["text"] for e in facts["examples"])
    missing = client.get("/v1/rules/copy-ad-lw", headers=AUTH)
    assert missing.status_code == 404
    error = missing.json()["error"]
    assert error["code"] == "unknown_rule" and "copy-ad-law" in error["message"]
    assert client.get("/v1/rules/copy-ad-law").status_code == 401


def test_lint_measure_counts_as_the_length_rules(client: TestClient, engine: Engine) -> None:
    message = "【好物小铺】" + "春季新品上新" * 12 + "😀 回T退订"
    answer = client.post("/v1/lint", json={"message": message, "channel": "jd.sms"}, headers=AUTH).json()
    fields = answer["fields"]
    measure = answer["measure"]
    characters = rendered_length(fields["signature"], fields["body"], fields["optout"])
    assert measure["characters"] == characters == len(message) - 1  # the space before the opt-out
    assert measure["segments"] == sms_segments(characters) == 2
    assert (measure["sms_single_chars"], measure["sms_part_chars"]) == (70, 67)
    assert measure["width"] == width(f"【{fields['signature']}】{fields['body']}{fields['optout']}")
    assert measure["fields"]["signature"] == {"characters": 4, "width": 8}
    assert measure["limits"] == {"max_message_chars": 64, "max_signature_width": 18}
    # The segment finding and the counter agree.
    assert any(f["rule"] == "jd-sms-segments" and "2 条" in f["message"] for f in answer["findings"])

    box = client.post("/v1/lint", json={"message": {"title": "🎉新品", "body": "新品上市"}, "channel": "jd.message_box"},
                      headers=AUTH).json()["measure"]
    assert box["segments"] is None  # the message box counts no SMS segments
    assert box["limits"]["max_title_width"] == 30 and box["fields"]["title"] == {"characters": 3, "width": 6}


def test_findings_carry_suggestions_and_code_point_offsets(client: TestClient, engine: Engine) -> None:
    message = "【好物小铺】😀𠮷全网最低价 回T退订"
    answer = client.post("/v1/lint", json={"message": message, "channel": "jd.sms"}, headers=AUTH).json()
    banned = next(f for f in answer["findings"] if f["rule"] == "copy-ad-law")
    body = answer["fields"]["body"]
    assert body[banned["start"]:banned["end"]] == "全网最低价"  # Python indexes code points
    start = answer["offsets"]["body"] + banned["start"]
    assert message[start:start + 5] == "全网最低价"
    library = engine.lint(message, channel="jd.sms").findings
    for shown, finding in zip(answer["findings"], library, strict=True):
        assert shown["suggestions"] == [suggestion_dict(s) for s in finding.to_dict().get("suggestions") or ()]


class Suggesting:
    """An engine whose findings carry suggestions (as issue 16's `Finding.suggestions` will)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def lint(self, message: Any, channel: str, **kwargs: Any) -> Any:
        report = self._engine.lint(message, channel=channel, **kwargs)
        findings = []
        for finding in report.findings:
            data = finding.to_dict()
            if data["rule"] == "copy-ad-law":
                data["suggestions"] = (("超值价", data["start"], data["end"], "价格用语不用绝对化"),
                                       {"text": "特惠价", "start": data["start"] + 2, "end": data["end"]})
            findings.append(data)
        return SimpleNamespace(ok=report.ok, channel=report.channel, findings=findings, fields=report.fields,
                               offsets=report.offsets)


def test_suggestions_reach_the_answer(engine: Engine) -> None:
    with TestClient(create_app(Suggesting(engine))) as client:
        answer = client.post("/v1/lint", json={"message": "【好物小铺】全网最低价 回T退订", "channel": "jd.sms"}).json()
    banned = next(f for f in answer["findings"] if f["rule"] == "copy-ad-law")
    assert banned["suggestions"] == [{"text": "超值价", "start": 0, "end": 5, "reason": "价格用语不用绝对化"},
                                     {"text": "特惠价", "start": 2, "end": 5, "reason": ""}]
    assert all(f["suggestions"] == [] for f in answer["findings"] if f["rule"] != "copy-ad-law")


def test_suggestion_forms() -> None:
    expected = {"text": "优惠价", "start": 1, "end": 4, "reason": "r"}
    Named = namedtuple("Named", "text start end reason")
    for form in (("优惠价", 1, 4, "r"), Named("优惠价", 1, 4, "r"), dict(expected),
                 SimpleNamespace(to_dict=lambda: dict(expected))):
        assert suggestion_dict(form) == expected


def test_openapi_documents_the_rule_endpoint_and_offset_unit(client: TestClient) -> None:
    spec = client.get("/openapi.json", headers=AUTH).json()
    assert "/" not in spec["paths"] and not any(p.startswith("/static") for p in spec["paths"])
    operation = spec["paths"]["/v1/rules/{rule_id}"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/RuleDetailModel")
    assert "404" in operation["responses"] and operation["security"] == [{"bearer": []}]
    schemas = spec["components"]["schemas"]
    finding = schemas["FindingModel"]
    assert "code point" in finding["description"] and "code points" in finding["properties"]["start"]["description"]
    assert finding["properties"]["suggestions"]["items"]["$ref"].endswith("/SuggestionModel")
    assert "code points" in schemas["SuggestionModel"]["properties"]["start"]["description"]
    assert {"MeasureModel", "RuleDetailModel"} <= set(schemas)
