"""`Send`: one message about to go (or gone) to one recipient — the unit the ledger counts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError
from typing import Annotated

from compliance.errors import ComplianceError

#: Naive datetimes mean Asia/Shanghai (platform-rules.md, "A send").
DEFAULT_TZ: ZoneInfo = ZoneInfo("Asia/Shanghai")
#: Years a send time may fall in: windows and schedules add days and hours to it, which
#: overflows near `datetime`'s edges (the HTTP schema states the same range).
SEND_YEARS: tuple[int, int] = (1970, 2999)


class SendError(ComplianceError, ValueError):
    """A send given as a mapping that does not validate; the message lists every bad field."""


@dataclass(frozen=True, slots=True)
class Send:
    """One message to one recipient.

    Attributes:
        channel: channel id, e.g. ``"jd.sms"``.
        message_class: ``"marketing"``, ``"notice_optout"``, ``"notice_mandatory"``, ``"test"``, ...
        merchant: the sending merchant/account.
        recipient: phone number, openid, ... — whatever the channel addresses.
        at: send time. A naive datetime means Asia/Shanghai; it is stored timezone-aware.
        id: caller's id of the send. Needed for `Ledger.release` and shown in replay reports.
    """

    channel: str
    message_class: str
    merchant: str
    recipient: str
    at: datetime
    id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.at, datetime):
            raise SendError(f"Send.at must be a datetime, got {type(self.at).__name__}")
        if not SEND_YEARS[0] <= self.at.year <= SEND_YEARS[1]:
            raise SendError(f"Send.at {self.at.isoformat()} is outside the supported years "
                            f"{SEND_YEARS[0]}–{SEND_YEARS[1]}")
        if self.at.tzinfo is None:
            # Frozen dataclass: normalise once here so every later step sees an aware time.
            object.__setattr__(self, "at", self.at.replace(tzinfo=DEFAULT_TZ))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Send:
        """Build a send from user data (JSON, HTTP payloads, CSV rows), validating every field.

        ``at`` may be a datetime or an ISO-8601 string (``"2024-06-01T09:30:00+08:00"``; without
        an offset it means Asia/Shanghai). Raises `SendError` naming each bad field.
        """
        if not isinstance(data, Mapping):
            raise SendError(f"a send must be a mapping, got {type(data).__name__}")
        try:
            model = _SendModel.model_validate(dict(data))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(send)'}: {err['msg']}"
                for err in exc.errors()
            )
            raise SendError(f"invalid send: {problems}") from None
        return cls(
            channel=model.channel,
            message_class=model.message_class,
            merchant=model.merchant,
            recipient=model.recipient,
            at=model.at,
            id=model.id,
        )


_Name = Annotated[str, StringConstraints(min_length=1, strict=True)]


class _SendModel(BaseModel):
    """Boundary validation only; the hot path works on the plain dataclass."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    channel: _Name
    message_class: _Name
    merchant: _Name
    recipient: _Name
    at: datetime
    id: _Name | None = None


def as_send(value: Send | Mapping[str, Any]) -> Send:
    """A `Send` as is, or one built (and validated) from a mapping."""
    if isinstance(value, Send):
        return value
    return Send.from_mapping(value)
