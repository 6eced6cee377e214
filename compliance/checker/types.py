"""Types of the rules language, and the Python values that carry them.

| type       | Python value                      |
|------------|-----------------------------------|
| int        | int                               |
| float      | float (an int is accepted)        |
| bool       | bool                              |
| str        | str                               |
| date       | datetime.date                     |
| datetime   | datetime.datetime (tz-aware)      |
| time       | datetime.time (a clock time)      |
| duration   | datetime.timedelta                |
| set[T]     | frozenset                         |
| list[T]    | tuple                             |
| T?         | the value or None                 |
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple


class Period(NamedTuple):
    """A half-open span of time [start, end), e.g. a big-promotion period (JD-SMS-24)."""

    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True, slots=True)
class Type:
    name: str
    arg: "Type | None" = None
    optional: bool = False

    def __str__(self) -> str:
        text = self.name if self.arg is None else f"{self.name}[{self.arg}]"
        return text + ("?" if self.optional else "")

    def required(self) -> "Type":
        """The same type without `?`."""
        return Type(self.name, self.arg, False) if self.optional else self

    def nullable(self) -> "Type":
        return Type(self.name, self.arg, True)

    @property
    def numeric(self) -> bool:
        return self.name in ("int", "float") and not self.optional


INT = Type("int")
FLOAT = Type("float")
BOOL = Type("bool")
STR = Type("str")
DATE = Type("date")
DATETIME = Type("datetime")
TIME = Type("time")
DURATION = Type("duration")
NULL = Type("null", optional=True)
#: the element type of an empty collection; fits any element type
ANY = Type("any")
HIT = Type("hit")
PERIOD = Type("period")

SCALAR_NAMES = ("int", "float", "bool", "str", "date", "datetime", "time", "duration", "period")
COLLECTION_NAMES = ("set", "list")


def set_of(t: Type) -> Type:
    return Type("set", t)


def list_of(t: Type) -> Type:
    return Type("list", t)


def assignable(value: Type, target: Type) -> bool:
    """May a value of type ``value`` be used where ``target`` is expected?"""
    if value.name == "null":
        return target.optional
    if value.optional and not target.optional:
        return False
    if value.name == "any" or target.name == "any":
        return True
    if value.name == "int" and target.name == "float":
        return True
    if value.name != target.name:
        return False
    if value.arg is None or target.arg is None:
        return value.arg == target.arg
    return assignable(value.arg, target.arg)


def unify(a: Type, b: Type) -> Type | None:
    """The common type of two values (for collection items and comparisons), or None."""
    if a.name == "null":
        return b.nullable()
    if b.name == "null":
        return a.nullable()
    optional = a.optional or b.optional
    if a.name == "any":
        return Type(b.name, b.arg, optional)
    if b.name == "any":
        return Type(a.name, a.arg, optional)
    if {a.name, b.name} == {"int", "float"}:
        return Type("float", None, optional)
    if a.name != b.name:
        return None
    if a.arg is None and b.arg is None:
        return Type(a.name, None, optional)
    if a.arg is None or b.arg is None:
        return None
    arg = unify(a.arg, b.arg)
    return None if arg is None else Type(a.name, arg, optional)


def type_of_value(value: Any) -> Type:
    """The rules-language type of a Python constant (for literals and parameters)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    if isinstance(value, str):
        return STR
    if isinstance(value, dt.datetime):
        return DATETIME
    if isinstance(value, dt.date):
        return DATE
    if isinstance(value, dt.time):
        return TIME
    if isinstance(value, dt.timedelta):
        return DURATION
    if isinstance(value, Period):
        return PERIOD
    if isinstance(value, (frozenset, set, tuple, list)):
        item = ANY
        for element in value:
            merged = unify(item, type_of_value(element))
            item = merged if merged is not None else item
        return set_of(item) if isinstance(value, (frozenset, set)) else list_of(item)
    raise TypeError(f"no rules-language type for {type(value).__name__}")


def python_type(t: Type) -> Any:
    """The Python annotation pydantic validates facts of type t with."""
    base: Any
    if t.name in ("set", "list"):
        inner = python_type(t.arg) if t.arg is not None else Any
        base = frozenset[inner] if t.name == "set" else tuple[inner, ...]  # type: ignore[valid-type]
    else:
        base = {
            "int": int,
            "float": float,
            "bool": bool,
            "str": str,
            "date": dt.date,
            "datetime": dt.datetime,
            "time": dt.time,
            "duration": dt.timedelta,
            "period": Period,
            "any": Any,
        }[t.name]
    return base | None if t.optional else base
