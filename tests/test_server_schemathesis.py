"""The HTTP service against its own OpenAPI document, with schemathesis (in process, over ASGI).

Every operation gets schema-valid and schema-violating requests (schemathesis's examples,
coverage and fuzzing phases) and every default check: no 5xx, status codes and bodies as
documented, content types, schema-violating requests rejected, schema-valid ones accepted.

One deliberate exception to "schema-valid is accepted": a channel's facts (and message fields)
are defined by its rule pack, not by the OpenAPI document, so facts that do not fit the pack
are a documented 400 ``invalid_facts``. `semantic_rejection_is_documented` allows exactly that
answer and nothing else (an ``invalid_send`` 400, say, would mean the request model and
`Send` disagree, and still fails).

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

# Built once at collection: schemathesis parametrizes from the schema at import time.
APP = create_app(Engine(), ledgers={"default": "memory://", "other": "memory://"})
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


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


def test_every_operation_is_exercised() -> None:
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert labels == {"POST /v1/lint", "POST /v1/eligibility", "POST /v1/reserve", "POST /v1/schedule",
                      "GET /v1/rules", "GET /healthz", "GET /readyz"}
