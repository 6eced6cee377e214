"""The HTTP service against its own OpenAPI document, with schemathesis (in process, over ASGI).

Every operation gets schema-valid and schema-violating requests (schemathesis's examples,
coverage and fuzzing phases) and every default check: no 5xx, status codes and bodies as
documented, content types, schema-violating requests rejected, schema-valid ones accepted.

One deliberate exception to "schema-valid is accepted": a channel's facts (and message fields)
are defined by its rule pack, not by the OpenAPI document, so facts that do not fit the pack
are a documented 400 ``invalid_facts``. `semantic_rejection_is_documented` allows exactly that
answer and nothing else (an ``invalid_send`` 400, say, would mean the request model and
`Send` disagree, and still fails).

Both ways the service runs are fuzzed: open (no API token) and with bearer-token authentication,
where the document declares the scheme on every operation but ``/healthz`` and schemathesis's
``ignored_auth`` check also sends each operation without the token and with a wrong one, and
expects the documented 401.

Budget: ``COMPLIANCE_FUZZ_EXAMPLES`` (200 derandomized cases per operation by default; ``make
fuzz`` style long runs with more).
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the server extra (fastapi, uvicorn) is not installed")
schemathesis = pytest.importorskip("schemathesis", reason="schemathesis (dev extra) is not installed")

from fuzz.budget import fuzz_settings  # noqa: E402
from schemathesis.openapi.checks import RejectedPositiveData  # noqa: E402
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

from compliance.engine import Engine  # noqa: E402
from compliance.server import create_app  # noqa: E402

#: Pack-defined content the OpenAPI document cannot describe: 400 invalid_facts is the answer.
SEMANTIC_400 = {"invalid_facts"}

TOKEN = "schemathesis-api-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
OPERATIONS = {"POST /v1/lint", "POST /v1/eligibility", "POST /v1/reserve", "POST /v1/schedule",
              "GET /v1/rules", "GET /v1/rules/{rule_id}", "GET /healthz", "GET /readyz", "GET /metrics"}

# Built once at collection: schemathesis parametrizes from the schema at import time.
ENGINE = Engine()
APP = create_app(ENGINE, ledgers={"default": "memory://", "other": "memory://"})
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
SECURED_APP = create_app(ENGINE, ledgers={"default": "memory://", "other": "memory://"}, api_tokens=[TOKEN])
secured_schema = schemathesis.openapi.from_asgi("/openapi.json", SECURED_APP, headers=AUTH)


@secured_schema.auth()
class BearerToken:
    """The valid token on every case, except the cases schemathesis sends without it on purpose."""

    def get(self, case: Any, context: Any) -> str:
        return TOKEN

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.check
def semantic_rejection_is_documented(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schema-valid requests are accepted, except facts a pack rejects (400 invalid_facts)."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if response.status_code == 400 and _error_code(response) in SEMANTIC_400:
            return None
        raise


def _error_code(response: Any) -> str | None:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


@pytest.mark.fuzz
@schema.parametrize()
@fuzz_settings()
def test_service_conforms_to_its_openapi(case: Any) -> None:
    case.call_and_validate(excluded_checks=[positive_data_acceptance],
                           additional_checks=[semantic_rejection_is_documented])


@pytest.mark.fuzz
@secured_schema.parametrize()
@fuzz_settings()
def test_service_with_authentication_conforms_to_its_openapi(case: Any) -> None:
    case.call_and_validate(excluded_checks=[positive_data_acceptance],
                           additional_checks=[semantic_rejection_is_documented])


def test_every_operation_is_exercised() -> None:
    for each in (schema, secured_schema):
        assert {result.ok().label for result in each.get_all_operations()} == OPERATIONS


def test_the_secured_document_declares_the_token_everywhere_but_healthz() -> None:
    operations = [result.ok() for result in secured_schema.get_all_operations()]
    for operation in operations:
        declared = operation.definition.raw.get("security")
        if operation.label == "GET /healthz":
            assert declared is None and "401" not in operation.definition.raw["responses"]
        else:
            assert declared == [{"bearer": []}], operation.label
            assert operation.definition.raw["responses"]["401"]["content"]["application/json"]["schema"] == \
                {"$ref": "#/components/schemas/ErrorResponse"}
    assert all("security" not in result.ok().definition.raw for result in schema.get_all_operations())
