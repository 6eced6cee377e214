"""Scanners of the copy analyzer: pure functions from one message field to `Hit`s.

Every scanner takes the ORIGINAL text of one field and returns hits sorted by start whose
offsets point into that text. They are generic primitives: which channel forbids what is
decided by the rules packs, which pass parameters (an allowlist, a minimum word count, the
opt-out phrases) where a scanner needs them.
"""

from __future__ import annotations

from compliance.analyzer.scanners.contact import contacts, disallowed_links, domain_of, links
from compliance.analyzer.scanners.length import (
    MessageParts,
    char_count,
    signature_problems,
    sms_segments,
    split_message,
    width,
)
from compliance.analyzer.scanners.punctuation import halfwidth_punctuation, repeated_punctuation
from compliance.analyzer.scanners.symbols import brackets_outside_signature, special_symbols
from compliance.analyzer.scanners.template import (
    embedded_signature_or_optout,
    fixed_content_words,
    handwritten_values,
    incomplete_template,
    placeholders,
)

__all__ = [
    "MessageParts",
    "brackets_outside_signature",
    "char_count",
    "contacts",
    "disallowed_links",
    "domain_of",
    "embedded_signature_or_optout",
    "fixed_content_words",
    "halfwidth_punctuation",
    "handwritten_values",
    "incomplete_template",
    "links",
    "placeholders",
    "repeated_punctuation",
    "signature_problems",
    "sms_segments",
    "special_symbols",
    "split_message",
    "width",
]
