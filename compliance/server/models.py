"""Pydantic models of the HTTP payloads: what the OpenAPI document at /openapi.json shows.

They guard the boundary only; handlers turn them into the library's plain types (strings,
mappings, `Send`) before calling the engine.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictStr

#: A configured ledger's name in a request (never a URL or a path: those come from server config).
LEDGER_NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
#: A name the ledger accepts: at least one character that is not blank (it strips blanks the way
#: ``str.strip`` does, which also removes the separators U+001C..U+001F).
NON_BLANK_PATTERN = r"[^\s\x1c-\x1f]"


_YEAR = re.compile(r"(19[7-9][0-9]|2[0-9]{3})-")


def _iso_datetime(value: Any) -> Any:
    """Only ISO 8601 text (or a datetime, from Python callers): no numbers, no Unix times in strings.

    pydantic's lax mode would read ``0`` or ``"1700000000"`` as a Unix time, which the OpenAPI
    document (``type: string, format: date-time``) does not promise and no sender means.
    """
    if isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 date-time string")
    if not _YEAR.match(value):
        raise ValueError("expected an ISO 8601 date-time in the years 1970 to 2999")
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("expected an ISO 8601 date-time such as 2026-03-02T10:00:00+08:00") from None


def _whole_number(value: Any) -> Any:
    """A JSON integer: ``5`` or ``5.0`` (JSON Schema counts both as integers), never ``"5"`` or ``true``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("expected a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("expected a whole number")
        return int(value)
    return value


#: A count in a request: a JSON integer (no strings, no booleans), at least 0.
Count = Annotated[int, Field(ge=0), BeforeValidator(_whole_number)]


#: Years a request's date-time may have. Send times are the present give or take a few years;
#: the bound keeps the ledger's and schedule's calendar arithmetic (next day, 2-day windows,
#: time-zone shifts) far from datetime's year-1 and year-9999 edges, where it overflows.
DATETIME_PATTERN = r"^(19[7-9][0-9]|2[0-9]{3})-"

#: A date-time in a request: ISO 8601 text, year 1970 to 2999; without an offset, Asia/Shanghai.
IsoDateTime = Annotated[dt.datetime, BeforeValidator(_iso_datetime),
                        Field(json_schema_extra={"pattern": DATETIME_PATTERN})]
#: A non-blank name in a send (channel, class, merchant, recipient, id).
SendName = Annotated[StrictStr, Field(pattern=NON_BLANK_PATTERN)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SuggestionModel(BaseModel):
    """A compliant alternative for a finding: replace [start, end) of its field with ``text``."""

    text: str = Field(description="replacement text")
    start: int = Field(description="start offset into the finding's field, in Unicode code points")
    end: int = Field(description="end offset (exclusive), in Unicode code points")
    reason: str = Field("", description="why this wording is compliant (Chinese)")


class FindingModel(BaseModel):
    """One problem found by one rule (the library's `Finding`).

    Offsets (``start``, ``end``, and those of ``suggestions``) count Unicode code points of the
    field's text, as Python indexes strings: an emoji or another character outside the BMP is
    one code point (two UTF-16 code units in JavaScript, four UTF-8 bytes).
    """

    rule: str = Field(description="stable rule id")
    ref: str | None = Field(None, description="catalogue reference, e.g. JD-SMS-13")
    category: str
    severity: Literal["error", "warning", "info"]
    message: str = Field(description="human message (Chinese)")
    field: str | None = Field(None, description="message field the span points into")
    start: int | None = Field(None, description="offset into that field's original text, in Unicode code points")
    end: int | None = Field(None, description="end offset (exclusive), in Unicode code points")
    fix: str | None = Field(None, description="replacement text for [start, end) when a safe fix exists")
    suggestions: list[SuggestionModel] = Field(default_factory=list,
                                               description="ranked compliant alternatives (may cover a wider "
                                                           "span than [start, end)), best first")
    explanation: list[str] = Field(default_factory=list, description="values that decided the outcome")


class LintRequest(_Request):
    """A message to lint: the whole rendered text, or its fields."""

    message: StrictStr | dict[str, Any] = Field(
        description="whole rendered message, or fields (signature, body, optout, title, url; "
                    "image, deadline, variables, ...)",
        examples=["【好店】新品上市，全场五折。回T退订"])
    channel: StrictStr = Field(examples=["jd.sms"])
    at: IsoDateTime | None = Field(None, description="when it is to be sent; without an offset, Asia/Shanghai")
    via_template: StrictBool | None = Field(None, description="the text is a template body the platform completes")
    max_findings: Count | None = Field(
        None, description="most findings in the answer (default and ceiling: the server's limit, 200 unless "
                          "started with --max-findings; a larger value is lowered to it); 0 for counts only")


class FieldMeasureModel(BaseModel):
    characters: int = Field(description="code points")
    width: int = Field(description="display width: CJK and full-width characters count 2")


class MeasureModel(BaseModel):
    """The message's length as the channel's length rules count it."""

    characters: int = Field(description="characters as sent: 【signature】 + body + opt-out, in code points")
    width: int = Field(description="display width of the message as sent (CJK and full-width count 2)")
    segments: int | None = Field(description="SMS billing segments (1 up to sms_single_chars, else one per "
                                             "sms_part_chars); null when the channel's rules do not count them")
    sms_single_chars: int = Field(description="characters in a one-part SMS")
    sms_part_chars: int = Field(description="characters in each part of a concatenated SMS")
    fields: dict[str, FieldMeasureModel] = Field(description="each non-empty field's characters and width")
    limits: dict[str, int] = Field(description="the channel's length parameters, e.g. max_message_chars, "
                                               "max_signature_width, max_title_width")


class LintResponse(BaseModel):
    ok: bool = Field(description="false when any finding has severity error (all findings, shown or not)")
    channel: str
    findings: list[FindingModel] = Field(description="the findings, in the engine's order; when truncated, "
                                                      "the most severe ones (errors first), in that order")
    fields: dict[str, str] = Field(description="text of each field as linted (signature without 【】)")
    offsets: dict[str, int] = Field(description="for a rendered text, where each field starts in it")
    truncated: bool = Field(False, description="true when findings were left out (more than max_findings)")
    finding_count: int = Field(description="how many findings the engine reported, shown or not")
    measure: MeasureModel | None = Field(None, description="live counters of the message, counted as the "
                                                           "length rules count (the copy page shows them)")


#: The request field that reads mistyped facts leniently (`Engine.eligibility(coerce=True)`).
Coerce = Annotated[StrictBool, Field(description='read mistyped facts leniently ("12" as 12, "yes" as true) '
                                                 "instead of answering 400 invalid_facts")]


class EligibilityRequest(_Request):
    facts: dict[str, Any] = Field(description="fact groups by name, e.g. {shop: {...}, today: ...}")
    channel: StrictStr = Field(examples=["jd.message_box"])
    coerce: Coerce = False


class EligibilityResponse(BaseModel):
    eligible: bool
    unmet: list[FindingModel]
    grants: dict[str, Any]
    channel: str


class SendModel(_Request):
    """One message to one recipient (the library's `Send`)."""

    channel: SendName = Field(examples=["jd.sms"])
    message_class: SendName = Field(examples=["marketing"])
    merchant: SendName
    recipient: SendName
    at: IsoDateTime = Field(description="send time; without an offset, Asia/Shanghai")
    id: SendName | None = Field(None, description="caller's id of the send")


class ReserveRequest(_Request):
    send: SendModel
    ledger: str | None = Field(None, pattern=LEDGER_NAME_PATTERN,
                               description="name of a ledger configured on the server (default: 'default'); "
                                           "ledger URLs are server configuration, never part of a request")


class ReserveResponse(BaseModel):
    allowed: bool
    violations: list[FindingModel]
    retry_after: dt.datetime | None = Field(description="when denied, the earliest time the same send would pass")
    ledger: str = Field(description="name of the ledger that decided")
    degraded: bool = Field(False, description="true when a fail-open ledger allowed the send without being "
                                              "able to check it (its store failed); always false fail-closed")


class ScheduleSendModel(BaseModel):
    """A send as schedule rules read it: ``channel`` and ``at``, plus any ``send.KEY`` the
    channel's schedule rules read (``message_class``, ``template_approved``, ...)."""

    model_config = ConfigDict(extra="allow")

    channel: StrictStr = Field(examples=["jd.sms"])
    at: IsoDateTime = Field(description="requested send time; without an offset, Asia/Shanghai")


class ScheduleRequest(_Request):
    send: ScheduleSendModel
    facts: dict[str, Any] | None = Field(None, description="other fact groups the rules read (order, coupon, user, ...)")
    coerce: Coerce = False


class ScheduleResponse(BaseModel):
    allowed: bool = Field(description="may go out at the requested time")
    earliest: dt.datetime | None = Field(description="earliest time every schedule rule allows; "
                                                     "null when a rule forbids the send outright")
    reasons: list[FindingModel] = Field(description="one finding per rule that forbids or delays the send")
    channel: str


class RuleModel(BaseModel):
    id: str
    kind: str
    pack: str
    channel: str
    refs: list[str]
    severity: str
    category: str
    title: str
    message: str
    explain: str
    source: str = Field(description="rules file name and line")


class ExampleModel(BaseModel):
    outcome: Literal["pass", "fail"]
    text: str = Field(description="the example message, or its facts as written in the rules file")


class RuleDetailModel(BaseModel):
    """One rule explained, as ``compliance rule RULE_ID`` shows it."""

    id: str
    refs: list[str] = Field(description="catalogue references (docs/CATALOGUE.md)")
    kind: str
    severity: str
    category: str
    pack: str
    pack_title: str
    channel: str = Field(description="channel of the pack that defines the rule")
    title: str
    explain: str = Field(description="why the rule exists (may be empty)")
    when: str | None = Field(description="when the rule applies, as written in the rules language")
    condition: str | None = Field(description="what it requires (or selects), in the rules language")
    condition_kind: Literal["requires", "selects"] | None
    find: str | None = Field(None, description="for a copy rule: the expression that finds the spans it flags")
    on: list[str] = Field(default_factory=list, description="for a copy rule: the message fields it reads")
    tiers: list[str]
    message: str | None = Field(description="the message template")
    examples: list[ExampleModel]
    source: str = Field(description="rules file name and line")


class RulesResponse(BaseModel):
    channel: str | None
    rules: list[RuleModel]


class HealthResponse(BaseModel):
    status: Literal["ok"]


class ReadyResponse(BaseModel):
    status: Literal["ready", "not_ready"]
    channels: list[str]
    ledgers: dict[str, str] = Field(description="configured ledger name → ok (its store answers now) | error | "
                                                "not_implemented")


class ErrorDetail(BaseModel):
    code: str = Field(description="stable machine-readable code, e.g. validation_error")
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    """Every 4xx/5xx answer has this shape."""

    error: ErrorDetail
