"""The pydantic models of the configuration (`compliance.config`): imported only when there is
a configuration to validate, since pydantic is a large share of a short lint's start.

`compliance.config.Config` and `compliance.config.BannedWord` are these classes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from compliance.config import ConfigMethods, _code, _kebab, _one_of, _severity
from compliance.findings import CATEGORIES


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=_kebab, populate_by_name=True, frozen=True, str_strip_whitespace=True
    )


class BannedWord(_Model):
    """An extra banned word."""

    word: str = Field(min_length=1, description="the word or phrase")
    category: str = Field(description="finding category, one of compliance.findings.CATEGORIES")
    severity: str = Field(default="error", description="error, warning or info")
    message: str | None = Field(default=None, description="message shown instead of the default")

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        return _one_of(value, CATEGORIES, "category")

    @field_validator("severity")
    @classmethod
    def _check_severity(cls, value: str) -> str:
        return _severity(value)


#: A rule id or prefix (validated per item so errors point at the item).
RuleCode = Annotated[str, AfterValidator(_code)]
SeverityName = Annotated[str, AfterValidator(_severity)]


class Config(ConfigMethods, _Model):
    """Validated settings. Build with `load_config`; ``Config()`` is the default."""

    default_channel: str | None = None
    extra_rules: list[Path] = Field(default_factory=list)
    extra_lexicons: list[Path] = Field(default_factory=list)
    allowed_words: list[str] = Field(default_factory=list)
    banned_words: list[BannedWord] = Field(default_factory=list)
    severity_overrides: dict[RuleCode, SeverityName] = Field(default_factory=dict)
    select: list[RuleCode] = Field(default_factory=list)
    ignore: list[RuleCode] = Field(default_factory=list)
    per_file_ignores: dict[str, list[RuleCode]] = Field(default_factory=dict)
    strict: bool = Field(default=False, strict=True)
    output_format: str = "text"
    exclude: list[str] = Field(default_factory=list)

    _source: Path | None = PrivateAttr(default=None)

    @field_validator("output_format")
    @classmethod
    def _check_format(cls, value: str) -> str:
        from compliance.output import FORMATS

        return _one_of(value, list(FORMATS), "output format")

    @field_validator("allowed_words")
    @classmethod
    def _check_words(cls, values: list[str]) -> list[str]:
        if any(not word for word in values):
            raise ValueError("allowed words must not be empty")
        return values
