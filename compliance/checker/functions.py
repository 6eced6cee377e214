"""Functions callable from the rules language: the registry, signatures and implementations.

Each `Function` has a type rule (checked before anything runs), a scalar implementation used
by both the compiled program and the reference evaluator, and optionally a vectorized
(pyarrow.compute) implementation used when audience rules run over a whole table. Analyzer
primitives (lexicon matching, scanners) register here the same way.

Rule text can only call what is registered: there is no way to reach other Python.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from types import MappingProxyType
from dataclasses import dataclass, field
from typing import Any

import regex

from zoneinfo import ZoneInfo

from compliance.checker.types import (
    BOOL,
    DATE,
    DATETIME,
    DURATION,
    FLOAT,
    INT,
    PERIOD,
    STR,
    TIME,
    Period,
    Type,
    assignable,
    list_of,
    unify,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")

#: How long one `matches()` may run before the rule fails with an error (catastrophic
#: patterns in user rules must not hang a service).
REGEX_TIMEOUT_SECONDS = 0.05


class SignatureError(Exception):
    """Arguments that do not fit a function; the message says what was expected."""


TypeRule = Callable[[list[Type]], Type]


@dataclass(frozen=True)
class Function:
    name: str
    signature: str  # for docs and errors: "len(str | set | list) -> int"
    doc: str
    type_rule: TypeRule
    impl: Callable[..., Any]
    #: pyarrow.compute implementation over arrays (args are arrays or scalars), if any
    vector: Callable[..., Any] | None = None
    #: may be evaluated at compile time when every argument is constant
    pure: bool = True
    #: indexes of arguments that must be literals (e.g. a regex pattern)
    literal_args: tuple[int, ...] = field(default=())
    #: checks the constant arguments at load time; returns an error message or None
    validate: Callable[[list[Any]], str | None] | None = None
    #: the same items as `impl` as any iterable (a list, say): what a compiled ``find`` loop
    #: calls, sparing the copy into an immutable tuple that only values need
    iterate: Callable[..., Any] | None = None


REGISTRY: dict[str, Function] = {}

#: What the engine being checked adds to the built-in world (e.g. {"lexicons": {"brand"}}):
#: read by `Function.validate` hooks, set by the engine around checking.
CHECK_CONTEXT: ContextVar[Mapping[str, Any]] = ContextVar("compliance_check_context",
                                                          default=MappingProxyType({}))


def register(function: Function) -> Function:
    """Add a function to the rules language (analyzer primitives use this too)."""
    REGISTRY[function.name] = function
    return function


# --------------------------------------------------------------------------------------
# Type rules
# --------------------------------------------------------------------------------------


def _fixed(params: tuple[Type, ...], returns: Type) -> TypeRule:
    def rule(args: list[Type]) -> Type:
        if len(args) != len(params):
            raise SignatureError(f"takes {len(params)} argument(s), got {len(args)}")
        for i, (got, want) in enumerate(zip(args, params), 1):
            if not assignable(got, want):
                if got.optional and assignable(got.required(), want):
                    raise SignatureError(f"argument {i} may be null here ({got}); test it with `!= null` "
                                         "first or use coalesce(x, default)")
                raise SignatureError(f"argument {i} must be {want}, got {got}")
        return returns

    return rule


def _sized(args: list[Type]) -> Type:
    if len(args) != 1:
        raise SignatureError(f"takes 1 argument, got {len(args)}")
    if args[0].optional or args[0].name not in ("str", "set", "list"):
        raise SignatureError(f"argument 1 must be str, set or list, got {args[0]}")
    return INT


def _numeric_pair(args: list[Type]) -> Type:
    if len(args) != 2:
        raise SignatureError(f"takes 2 arguments, got {len(args)}")
    common = unify(args[0], args[1])
    if common is None or common.optional or common.name not in ("int", "float", "date", "datetime", "duration", "time"):
        raise SignatureError(f"arguments must be two comparable values, got {args[0]} and {args[1]}")
    return common


def _numeric_one(args: list[Type]) -> Type:
    if len(args) != 1 or not (args[0].numeric or args[0] == DURATION):
        raise SignatureError(f"takes one number or duration, got {', '.join(map(str, args)) or 'nothing'}")
    return args[0]


def _coalesce(args: list[Type]) -> Type:
    if len(args) != 2:
        raise SignatureError(f"takes 2 arguments, got {len(args)}")
    common = unify(args[0].required(), args[1])
    if common is None:
        raise SignatureError(f"the default must have the type of the value ({args[0].required()}), got {args[1]}")
    return common


# --------------------------------------------------------------------------------------
# Implementations
# --------------------------------------------------------------------------------------


def width(text: str) -> int:
    """Display width: CJK and full-width characters count 2, others 1."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole calendar months from start to end (negative when end is earlier)."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if months > 0 and end.day < start.day:
        months -= 1
    elif months < 0 and end.day > start.day:
        months += 1
    return months


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the end of a shorter month."""
    import calendar

    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return day.replace(year=year, month=month + 1, day=min(day.day, last))


_PATTERNS: dict[str, Any] = {}

#: Longest pattern `matches()` accepts, in characters.
MAX_PATTERN_CHARS = 1000
#: Largest product of counted repeats along one nesting chain (``(a{100}){100}`` is 10,000):
#: the `regex` module expands counted repeats when compiling, so ``(?:x{65535}){65535}``
#: would exhaust memory before any time-out could apply.
MAX_PATTERN_REPEAT = 1000

_QUANTIFIER = regex.compile(r"\{(\d*)(?:,(\d*))?\}")


def pattern_problem(pattern: str) -> str | None:
    """Why a `matches()` pattern is refused before compiling it (too long, repeats too large), or None.

    A conservative scan, not a regex parser: counted repeats ``{m}``, ``{m,n}`` multiply along
    group nesting; character classes and escapes are skipped.
    """
    if len(pattern) > MAX_PATTERN_CHARS:
        return f"pattern has {len(pattern):,} characters; the limit is {MAX_PATTERN_CHARS:,}"
    frames: list[list[int]] = [[1, 1]]  # per open group: [largest cost inside, cost of the last item]
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        frame = frames[-1]
        if ch == "\\":
            i += 2
            if i - 1 < len(pattern) and pattern[i - 1] in "pPNxuUgk" and pattern[i : i + 1] in ("{", "<"):
                close = pattern.find("}" if pattern[i] == "{" else ">", i)
                i = len(pattern) if close < 0 else close + 1
            frame[1] = 1
            continue
        if ch == "[":
            depth, i = 1, i + 1
            while i < len(pattern) and depth:
                if pattern[i] == "\\":
                    i += 1
                elif pattern[i] == "[":
                    depth += 1
                elif pattern[i] == "]" and depth and pattern[i - 1] != "[":
                    depth -= 1
                i += 1
            frame[1] = 1
            continue
        if ch == "(":
            frames.append([1, 1])
        elif ch == ")" and len(frames) > 1:
            inner = frames.pop()[0]
            frames[-1][1] = inner
            frames[-1][0] = max(frames[-1][0], inner)
        elif ch == "{" and (m := _QUANTIFIER.match(pattern, i)) and (m.group(1) or m.group(2)):
            counts = [c for c in m.groups() if c]
            count = max(int(c) if len(c) < 7 else 10**7 for c in counts)
            frame[1] *= max(count, 1)
            frame[0] = max(frame[0], frame[1])
            if frame[0] > MAX_PATTERN_REPEAT:
                return (f"counted repeats multiply to more than {MAX_PATTERN_REPEAT:,} "
                        f"(at {m.group(0)!r}); use + or * for long runs")
            i = m.end()
            continue
        elif ch not in "*+?|":
            frame[1] = 1
        i += 1
    return None


def compile_pattern(pattern: str) -> Any:
    """A compiled `regex` pattern (cached); raises `regex.error` for a bad one."""
    compiled = _PATTERNS.get(pattern)
    if compiled is None:
        compiled = _PATTERNS[pattern] = regex.compile(pattern)
    return compiled


def matches(text: str, pattern: str) -> bool:
    """Does the `regex` pattern occur in text? Bounded by `REGEX_TIMEOUT_SECONDS`.

    A search that runs out of time raises `EvaluationError` naming the pattern: the rule then
    fails with an error instead of deciding (callers treat that as no verdict, never a pass).
    """
    try:
        return compile_pattern(pattern).search(text, timeout=REGEX_TIMEOUT_SECONDS) is not None
    except TimeoutError:
        from compliance.errors import EvaluationError

        raise EvaluationError(f"matches(): pattern {pattern[:80]!r} ran longer than {REGEX_TIMEOUT_SECONDS:g} s "
                              f"on a text of {len(text):,} characters (catastrophic backtracking?)") from None


def _moment(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    return dt.datetime(value.year, value.month, value.day, tzinfo=SHANGHAI)


def period(start: dt.date | dt.datetime, end: dt.date | dt.datetime) -> Period:
    """[start, end); a date as end means the whole of that day (Asia/Shanghai)."""
    stop = _moment(end)
    if not isinstance(end, dt.datetime):
        stop += dt.timedelta(days=1)
    begin = _moment(start)
    if stop <= begin:
        raise ValueError(f"period ends ({stop:%Y-%m-%d %H:%M}) before it starts ({begin:%Y-%m-%d %H:%M})")
    return Period(begin, stop)


def next_clock(moment: dt.datetime, times: tuple[dt.time, ...]) -> dt.datetime:
    """The first moment at or after ``moment`` whose clock time (in its zone) is one of times."""
    if not times:
        return moment
    for days in range(0, 2):
        day = (moment + dt.timedelta(days=days)).date()
        for clock in sorted(times):
            candidate = dt.datetime.combine(day, clock, tzinfo=moment.tzinfo)
            if candidate >= moment:
                return candidate
    raise AssertionError("unreachable: a clock time recurs every day")


def within_hours(moment: dt.datetime, start: dt.time, end: dt.time) -> dt.datetime:
    """``moment`` when its clock time lies in [start, end), else the next ``start``."""
    clock = moment.timetz().replace(tzinfo=None)
    inside = start <= clock < end if start <= end else (clock >= start or clock < end)
    return moment if inside else next_clock(moment, (start,))


def add_working_days(moment: dt.datetime, days: int, holidays: frozenset[dt.date] = frozenset()) -> dt.datetime:
    """``moment`` moved forward by ``days`` working days (Monday–Friday, not in holidays)."""
    current = moment
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if current.isoweekday() <= 5 and current.date() not in holidays:
            remaining -= 1
    return current


def _period_rule(args: list[Type]) -> Type:
    if len(args) != 2 or any(a.optional or a.name not in ("date", "datetime") for a in args):
        raise SignatureError("takes a start and an end, each a date or a datetime")
    return PERIOD


def _working_days_rule(args: list[Type]) -> Type:
    if len(args) not in (2, 3):
        raise SignatureError(f"takes 2 or 3 arguments, got {len(args)}")
    wanted = (DATETIME, INT, Type("set", DATE))
    for i, (got, want) in enumerate(zip(args, wanted), 1):
        if not assignable(got, want):
            raise SignatureError(f"argument {i} must be {want}, got {got}")
    return DATETIME


def _pc() -> Any:
    import pyarrow.compute as pc

    return pc


def _scalar_value(value: Any) -> Any:
    return value.as_py() if hasattr(value, "as_py") else value


for _fn in (
    Function("len", "len(str | set | list) -> int", "Number of characters or items.", _sized, len,
             vector=lambda a: _pc().utf8_length(a)),
    Function("width", "width(str) -> int", "Display width; CJK and full-width characters count 2.",
             _fixed((STR,), INT), width),
    Function("contains", "contains(str, str) -> bool", "Does the first text contain the second?",
             _fixed((STR, STR), BOOL), lambda text, part: part in text,
             vector=lambda a, b: _pc().match_substring(a, pattern=_scalar_value(b)), literal_args=(1,)),
    Function("startswith", "startswith(str, str) -> bool", "Does the text start with the prefix?",
             _fixed((STR, STR), BOOL), lambda text, prefix: text.startswith(prefix),
             vector=lambda a, b: _pc().starts_with(a, pattern=_scalar_value(b)), literal_args=(1,)),
    Function("endswith", "endswith(str, str) -> bool", "Does the text end with the suffix?",
             _fixed((STR, STR), BOOL), lambda text, suffix: text.endswith(suffix),
             vector=lambda a, b: _pc().ends_with(a, pattern=_scalar_value(b)), literal_args=(1,)),
    Function("lower", "lower(str) -> str", "Lower-case (Latin letters).", _fixed((STR,), STR), str.lower,
             vector=lambda a: _pc().utf8_lower(a)),
    Function("upper", "upper(str) -> str", "Upper-case (Latin letters).", _fixed((STR,), STR), str.upper,
             vector=lambda a: _pc().utf8_upper(a)),
    Function("trim", "trim(str) -> str", "Without leading and trailing white space.", _fixed((STR,), STR),
             str.strip, vector=lambda a: _pc().utf8_trim_whitespace(a)),
    Function("matches", "matches(str, pattern: str) -> bool",
             "Does the regular expression (Python `regex` syntax) occur in the text? "
             f"Time-limited to {REGEX_TIMEOUT_SECONDS}s per call.",
             _fixed((STR, STR), BOOL), matches, literal_args=(1,)),
    Function("abs", "abs(number | duration) -> same", "Absolute value.", _numeric_one, abs,
             vector=lambda a: _pc().abs(a)),
    Function("min", "min(a, b) -> the smaller", "The smaller of two comparable values.", _numeric_pair, min,
             vector=lambda a, b: _pc().min_element_wise(a, b)),
    Function("max", "max(a, b) -> the larger", "The larger of two comparable values.", _numeric_pair, max,
             vector=lambda a, b: _pc().max_element_wise(a, b)),
    Function("coalesce", "coalesce(T?, T) -> T", "The value, or the default when it is null.", _coalesce,
             lambda value, default: default if value is None else value,
             vector=lambda a, b: _pc().coalesce(a, b)),
    Function("days", "days(duration) -> int", "Whole days in a duration (rounded down).",
             _fixed((DURATION,), INT), lambda d: d.days),
    Function("hours", "hours(duration) -> float", "Hours in a duration.", _fixed((DURATION,), FLOAT),
             lambda d: d.total_seconds() / 3600),
    Function("days_between", "days_between(date, date) -> int", "Days from the first date to the second.",
             _fixed((DATE, DATE), INT), lambda a, b: (b - a).days,
             vector=lambda a, b: _pc().days_between(a, b)),
    Function("months_between", "months_between(date, date) -> int",
             "Whole calendar months from the first date to the second.", _fixed((DATE, DATE), INT),
             months_between),
    Function("add_months", "add_months(date, int) -> date",
             "The same day n months later (clamped to a shorter month's end).", _fixed((DATE, INT), DATE),
             add_months),
    Function("day_of_month", "day_of_month(date) -> int", "Day of the month, 1–31.", _fixed((DATE,), INT),
             lambda d: d.day, vector=lambda a: _pc().day(a)),
    Function("weekday", "weekday(date) -> int", "Day of the week, Monday = 1 … Sunday = 7.",
             _fixed((DATE,), INT), lambda d: d.isoweekday(),
             vector=lambda a: _pc().day_of_week(a, count_from_zero=False)),
    Function("date_of", "date_of(datetime) -> date", "The calendar date of a moment (in its own zone).",
             _fixed((DATETIME,), DATE), lambda t: t.date()),
    Function("time_of", "time_of(datetime) -> time", "The clock time of a moment (in its own zone).",
             _fixed((DATETIME,), TIME), lambda t: t.timetz().replace(tzinfo=None)),
    Function("period", "period(start, end) -> period",
             "A span [start, end); a date as end includes that whole day (Asia/Shanghai).",
             _period_rule, period),
    Function("next_clock", "next_clock(datetime, list[time]) -> datetime",
             "The first moment at or after the given one at one of the clock times (review batches).",
             _fixed((DATETIME, list_of(TIME)), DATETIME), next_clock),
    Function("within_hours", "within_hours(datetime, time, time) -> datetime",
             "The moment itself when inside [start, end) of its day, else the next start.",
             _fixed((DATETIME, TIME, TIME), DATETIME), within_hours),
    Function("add_working_days", "add_working_days(datetime, int[, holidays: set[date]]) -> datetime",
             "Moved forward by working days (Monday–Friday, skipping the holidays given).",
             _working_days_rule, add_working_days),
    Function("in_period", "in_period(datetime, list[period]) -> bool",
             "Does the moment fall inside one of the periods?",
             _fixed((DATETIME, list_of(PERIOD)), BOOL),
             lambda t, periods: any(p.start <= t < p.end for p in periods)),
):
    register(_fn)
