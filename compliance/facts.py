"""Fact validation: facts checked against the declared types of a pack, by generated code.

Facts enter through `Engine.eligibility`, `Engine.audience` (one row, or a table),
`Engine.schedule` (the send and the facts beside it) and `Engine.lint` (message fields given as
a mapping); the example runner checks embedded examples the same way. Each time, the facts are
checked against the declared types of the fields the rules involved read, by one Python function
generated for that schema the first time it is needed (`build_validator`) and kept by the
engine. When every value already has its type — the common case — the function costs one class
test per field; anything else takes the careful path, which converts what strict mode accepts
(an ISO date string for a ``date``) and records every problem, so one `FactError` lists them
all.

Strict mode (the default) accepts, for each declared type:

| type       | accepted                                                            | becomes            |
|------------|---------------------------------------------------------------------|--------------------|
| `int`      | an int (not a bool)                                                 | int                |
| `float`    | a float, or an int (not a bool)                                     | float              |
| `bool`     | a bool                                                              | bool               |
| `str`      | a str                                                               | str                |
| `date`     | a `datetime.date` (not a datetime), or text ``YYYY-MM-DD``          | date               |
| `datetime` | a `datetime.datetime`, or text ``YYYY-MM-DDTHH:MM[:SS[.ffffff]]`` with an optional ``Z`` or ``±HH:MM`` (a space may replace the ``T``) | aware datetime (no offset: Asia/Shanghai) |
| `time`     | a `datetime.time`, or text ``HH:MM[:SS[.ffffff]]``                  | time               |
| `duration` | a `datetime.timedelta`, or ISO 8601 text such as ``P7D``, ``PT2H30M``, ``-PT90S`` (weeks, days, hours, minutes, seconds) | timedelta |
| `period`   | a `Period`, or a pair ``[start, end]`` of datetimes as above        | Period             |
| `set[T]`   | a set, frozenset, list or tuple of T                                | frozenset          |
| `list[T]`  | a list or tuple of T                                                | tuple              |
| `T?`       | also None (JSON null)                                               |                    |

A fact group is a mapping (a JSON object) of fields; fields the rules do not read are ignored,
and a missing field takes its declared default. A declaration with ``coerce = true`` (in the
rules language) or a call with ``coerce=True`` reads values leniently instead, with pydantic's
lax mode, as before strict facts: ``"12"`` is 12, ``"yes"`` is True, ``12.0`` is 12, a Unix
time is a datetime.

Table columns (audience rules over Arrow, Polars, pandas, DuckDB) are checked by type with
`check_columns`: an integer column for ``int``, a floating or integer column for ``float``,
boolean, string, date32/date64, timestamp, time, duration and list columns of fitting item
types; nulls only where the type is optional. With coercion a column of another type is cast
with pyarrow (``"12"`` → 12), and a cast that fails is a `FactError`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from compliance.errors import FactError, FactProblem
from compliance.checker.model import FactField, FactSchema
from compliance.checker.types import Period, Type, python_type

SHANGHAI = ZoneInfo("Asia/Shanghai")

#: A value not given (a missing key); `_BAD`: a value that did not fit (its problem is recorded).
_MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "<missing>"})()
_BAD: Any = type("_Bad", (), {"__repr__": lambda self: "<bad>"})()

#: Problems a `FactError`'s message lists (``FactError.problems`` holds them all): a hostile
#: list of 10,000 bad items must not make a 10,000-line answer.
MAX_LISTED = 100

#: Checks a present value (not None) of one declared type: the accepted value, or `_BAD` after
#: appending a `FactProblem` to the list.
Check = Callable[[Any, list[FactProblem]], Any]
#: A generated validator: facts → checked facts of the fields the rules read.
Validator = Callable[[Any], dict[str, Any]]

#: Said when text is given for a number or a bool: how to get the lenient reading if it is meant.
_TEXT_HINT = "text is not read as a {} unless coerce is on"
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_DATETIME_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
                            r"(Z|[+-][0-9]{2}:[0-9]{2})?", re.ASCII)
_TIME_TEXT = re.compile(r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?", re.ASCII)
_DURATION_TEXT = re.compile(r"(-)?P(?:([0-9]+)W)?(?:([0-9]+)D)?(?:T(?:([0-9]+)H)?(?:([0-9]+)M)?"
                            r"(?:([0-9]+(?:\.[0-9]+)?)S)?)?", re.ASCII)


def given_type(value: Any) -> str:
    """How a problem names the type of a value given: ``null`` for None, else its class."""
    if value is None:
        return "null"
    return type(value).__name__


def expected_type(t: Type) -> str:
    """How a problem names a declared type: ``int``, ``date or null``, ``set[str]``."""
    return f"{t.required()} or null" if t.optional else str(t)


# --------------------------------------------------------------------------------------
# One value
# --------------------------------------------------------------------------------------


def aware(value: Any) -> Any:
    """Naive datetimes are Asia/Shanghai (platform-rules.md); applied inside collections too."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value
    if isinstance(value, Period):
        return Period(aware(value.start), aware(value.end))
    if isinstance(value, frozenset):
        return frozenset(aware(v) for v in value)
    if isinstance(value, tuple):
        return tuple(aware(v) for v in value)
    return value


def strict_check(path: str, t: Type) -> Check:
    """The strict check of a present, non-null value of type t (see the module's table)."""
    expected = expected_type(t)

    def bad(value: Any, problems: list[FactProblem], detail: str = "") -> Any:
        problems.append(FactProblem(path, expected, given_type(value), detail))
        return _BAD

    name = t.name
    if name == "int":
        def check(value: Any, problems: list[FactProblem]) -> Any:
            if isinstance(value, int) and not isinstance(value, bool):
                return int(value)
            return bad(value, problems, _TEXT_HINT.format("number") if isinstance(value, str) else "")
    elif name == "float":
        def check(value: Any, problems: list[FactProblem]) -> Any:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                try:
                    return float(value)
                except OverflowError:
                    return bad(value, problems, "too large for a float")
            return bad(value, problems, _TEXT_HINT.format("number") if isinstance(value, str) else "")
    elif name == "bool":
        def check(value: Any, problems: list[FactProblem]) -> Any:
            if isinstance(value, bool):
                return value
            return bad(value, problems, _TEXT_HINT.format("bool") if isinstance(value, str) else "")
    elif name == "str":
        def check(value: Any, problems: list[FactProblem]) -> Any:
            return value if isinstance(value, str) else bad(value, problems)
    elif name == "date":
        def check(value: Any, problems: list[FactProblem]) -> Any:
            if isinstance(value, dt.datetime):
                return bad(value, problems, "a date-time; give its .date()")
            if isinstance(value, dt.date):
                return value
            if isinstance(value, str):
                if not _DATE_TEXT.fullmatch(value):
                    return bad(value, problems, "not a date written YYYY-MM-DD")
                try:
                    return dt.date.fromisoformat(value)
                except ValueError as exc:
                    return bad(value, problems, f"not a valid date: {exc}")
            return bad(value, problems)
    elif name == "datetime":
        def check(value: Any, problems: list[FactProblem]) -> Any:
            if isinstance(value, dt.datetime):
                return value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value
            if isinstance(value, str):
                if not _DATETIME_TEXT.fullmatch(value):
                    detail = ("a date without a time" if _DATE_TEXT.fullmatch(value)
                              else "not an ISO 8601 date-time such as 2026-11-25T10:00:00+08:00")
                    return bad(value, problems, detail)
                try:
                    parsed = dt.datetime.fromisoformat(value)
                except ValueError as exc:
                    return bad(value, problems, f"not a valid date-time: {exc}")
                return parsed.replace(tzinfo=SHANGHAI) if parsed.tzinfo is None else parsed
            return bad(value, problems)
    elif name == "time":
        def check(value: Any, problems: list[FactProblem]) -> Any:
            if isinstance(value, dt.time):
                return value
            if isinstance(value, str):
                if not _TIME_TEXT.fullmatch(value):
                    return bad(value, problems, "not a clock time written HH:MM or HH:MM:SS")
                try:
                    return dt.time.fromisoformat(value)
                except ValueError as exc:
                    return bad(value, problems, f"not a valid time: {exc}")
            return bad(value, problems)
    elif name == "duration":
        def check(value: Any, problems: list[FactProblem]) -> Any:
            if isinstance(value, dt.timedelta):
                return value
            if isinstance(value, str):
                parsed = _parse_duration(value)
                if parsed is None:
                    return bad(value, problems, "not an ISO 8601 duration such as P7D or PT2H30M")
                return parsed
            return bad(value, problems)
    elif name == "period":
        ends = strict_check(path, Type("datetime"))

        def check(value: Any, problems: list[FactProblem]) -> Any:
            if isinstance(value, (Period, list, tuple)) and len(value) == 2:
                found: list[FactProblem] = []
                start, end = ends(value[0], found), ends(value[1], found)
                if found:
                    return bad(value, problems, "a period is a pair [start, end] of date-times")
                return Period(start, end)
            return bad(value, problems, "a period is a pair [start, end] of date-times")
    elif name in ("set", "list"):
        item_type = t.arg if t.arg is not None else Type("any")
        is_set = name == "set"
        accepted = (set, frozenset, list, tuple) if is_set else (list, tuple)
        item_check = present_check(path, item_type, False)

        def check(value: Any, problems: list[FactProblem]) -> Any:
            if not isinstance(value, accepted):
                return bad(value, problems)
            out = []
            ok = True
            for index, item in enumerate(value):
                found: list[FactProblem] = []
                out.append(item_check(item, found))
                if found:  # the item's problems, named by its index
                    ok = False
                    problems.extend(replace(p, field=f"{path}[{index}]{p.field[len(path):]}") for p in found)
            if not ok:
                return _BAD
            try:
                return frozenset(out) if is_set else tuple(out)
            except TypeError as exc:  # an unhashable item
                return bad(value, problems, str(exc))
    elif name == "any":
        def check(value: Any, problems: list[FactProblem]) -> Any:
            return value
    else:  # pragma: no cover - the checker admits no other declared type
        raise ValueError(f"no strict check for type {t}")
    return check


def lax_check(path: str, t: Type) -> Check:
    """The lenient check of a present, non-null value: pydantic's lax mode (``"12"`` → 12)."""
    from pydantic import TypeAdapter, ValidationError

    adapter = TypeAdapter(python_type(t.required()))
    expected = expected_type(t)

    def check(value: Any, problems: list[FactProblem]) -> Any:
        try:
            return aware(adapter.validate_python(value))
        except ValidationError as exc:
            for err in exc.errors():
                where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
                problems.append(FactProblem(path + where, expected, given_type(value), err["msg"]))
            return _BAD

    return check


def present_check(path: str, t: Type, coerce: bool) -> Check:
    """The check of a value that was given (None included): null only for optional types."""
    inner = lax_check(path, t) if coerce else strict_check(path, t)
    optional = t.optional
    expected = expected_type(t)

    def check(value: Any, problems: list[FactProblem]) -> Any:
        if value is None:
            if optional:
                return None
            problems.append(FactProblem(path, expected, "null"))
            return _BAD
        return inner(value, problems)

    return check


def field_check(path: str, fld: FactField, coerce: bool) -> Check:
    """The check of one declared field or scalar fact, given or not (`_MISSING`)."""
    inner = lax_check(path, fld.type) if coerce or fld.coerce else strict_check(path, fld.type)
    has_default, default, optional = fld.has_default, fld.default, fld.type.optional
    expected = expected_type(fld.type)

    def check(value: Any, problems: list[FactProblem]) -> Any:
        if value is _MISSING:
            if has_default:
                return default
            problems.append(FactProblem(path, expected, "missing"))
            return _BAD
        if value is None:
            if optional:
                return None
            problems.append(FactProblem(path, expected, "null"))
            return _BAD
        return inner(value, problems)

    return check


def _parse_duration(text: str) -> dt.timedelta | None:
    match = _DURATION_TEXT.fullmatch(text)
    if match is None or not any(match.groups()[1:]) or text.endswith("T"):
        return None
    sign, weeks, days, hours, minutes, seconds = match.groups()
    try:
        value = dt.timedelta(weeks=int(weeks or 0), days=int(days or 0), hours=int(hours or 0),
                             minutes=int(minutes or 0), seconds=float(seconds or 0))
    except OverflowError:
        return None
    return -value if sign else value


# --------------------------------------------------------------------------------------
# A whole schema: the generated validator
# --------------------------------------------------------------------------------------


def _fast_test(var: str, t: Type) -> str:
    """A Python condition that is False when var certainly fits t as it is (no conversion):
    True for `_MISSING` (a class of its own) and for every value the careful path must see."""
    exact = {"int": "int", "float": "float", "bool": "bool", "str": "str", "date": "_date",
             "time": "_time", "duration": "_timedelta"}
    if t.name in exact:
        test = f"{var}.__class__ is not {exact[t.name]}"
    elif t.name == "datetime":
        test = f"{var}.__class__ is not _datetime or {var}.tzinfo is None"
    else:
        return "True"
    return f"{var} is not None and ({test})" if t.optional else test


def build_validator(pack: str, schemas: Mapping[str, FactSchema], reads: Iterable[tuple[str, ...]], *,
                    coerce: bool = False) -> tuple[Validator, str]:
    """A function checking facts for the rules reading ``reads``, and its source.

    The function takes the facts (a mapping of fact names to values) and returns a new dict
    holding, for each fact read, the checked value (a scalar) or a dict of the checked fields
    read (a group); defaults fill what is not given; fields and facts no rule reads are left
    out. It raises one `FactError` listing every problem. ``coerce`` reads every field
    leniently; otherwise only the fields declared with ``coerce = true`` are.
    """
    reads = sorted(set(reads))
    namespace: dict[str, Any] = {"_MISSING": _MISSING, "_BAD": _BAD, "_date": dt.date, "_time": dt.time,
                                 "_datetime": dt.datetime, "_timedelta": dt.timedelta,
                                 "_facts_of": _facts_of, "_group_of": _group_of, "_fail": _failure(pack)}
    lines = ["def validate(facts):",
             "    if facts.__class__ is not dict:",
             "        facts = _facts_of(facts)",
             "    problems = []"]
    result: list[str] = []
    counter = 0
    for group in sorted({path[0] for path in reads}):
        schema = schemas[group]
        # Subscripts in a try block: cheaper than .get when every key is there (the common case).
        if schema.scalar is not None:
            var = f"v{counter}"
            namespace[f"_check{counter}"] = field_check(group, schema.scalar, coerce)
            lines += ["    try:",
                      f"        {var} = facts[{group!r}]",
                      "    except KeyError:",
                      f"        {var} = _MISSING",
                      f"    if {_fast_test(var, schema.scalar.type)}:",
                      f"        {var} = _check{counter}({var}, problems)"]
            result.append(f"{group!r}: {var}")
            counter += 1
            continue
        assert schema.fields is not None
        names = sorted({path[1] for path in reads if path[0] == group and len(path) == 2})
        gvar, out = f"g{counter}", f"o{counter}"
        namespace[f"_name{counter}"] = group
        counter += 1
        variables = [f"v{counter + i}" for i in range(len(names))]
        lines += ["    try:",
                  f"        {gvar} = facts[{group!r}]",
                  "    except KeyError:",
                  f"        {gvar} = _MISSING",
                  f"    if {gvar}.__class__ is not dict:",
                  f"        {gvar} = _group_of({gvar}, _name{counter - 1}, problems)",
                  f"    if {gvar} is None:",
                  f"        {out} = None",
                  "    else:"]
        if names:
            lines.append("        try:")
            lines += [f"            {var} = {gvar}[{name!r}]" for var, name in zip(variables, names)]
            lines.append("        except KeyError:")
            lines += [f"            {var} = {gvar}.get({name!r}, _MISSING)" for var, name in zip(variables, names)]
        for var, name in zip(variables, names):
            fld = schema.fields[name]
            namespace[f"_check{var[1:]}"] = field_check(f"{group}.{name}", fld, coerce)
            lines += [f"        if {_fast_test(var, fld.type)}:",
                      f"            {var} = _check{var[1:]}({var}, problems)"]
        items = ", ".join(f"{name!r}: {var}" for var, name in zip(variables, names))
        lines.append(f"        {out} = {{{items}}}")
        result.append(f"{group!r}: {out}")
        counter += len(names)
    lines += ["    if problems:",
              "        raise _fail(problems)",
              f"    return {{{', '.join(result)}}}"]
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<fact validator of {pack}>", "exec"), namespace)  # noqa: S102 - generated above
    return namespace["validate"], source


def _facts_of(facts: Any) -> dict[str, Any]:
    if isinstance(facts, Mapping):
        return dict(facts)
    raise FactError(f"facts must be a mapping of fact names to values, got {type(facts).__name__}")


def _group_of(value: Any, name: str, problems: list[FactProblem]) -> dict[str, Any] | None:
    """A group's fields as a dict; {} when not given (defaults apply); None when it is no mapping."""
    if value is _MISSING:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    problems.append(FactProblem(name, "a group of fields (an object)", given_type(value)))
    return None


def _failure(pack: str) -> Callable[[list[FactProblem]], FactError]:
    def fail(problems: list[FactProblem]) -> FactError:
        lines = [str(p) for p in problems[:MAX_LISTED]]
        if len(problems) > MAX_LISTED:
            lines.append(f"… and {len(problems) - MAX_LISTED} more problem(s)")
        return FactError(f"facts do not fit pack {pack}:\n  " + "\n  ".join(lines), problems)

    return fail


# --------------------------------------------------------------------------------------
# Table columns
# --------------------------------------------------------------------------------------


def _arrow_fits(t: Type, arrow_type: Any) -> bool:
    import pyarrow as pa

    types = pa.types
    if types.is_dictionary(arrow_type):
        return _arrow_fits(t, arrow_type.value_type)
    if types.is_null(arrow_type):
        return t.optional
    name = t.name
    if name == "int":
        return bool(types.is_integer(arrow_type))
    if name == "float":
        return bool(types.is_floating(arrow_type) or types.is_integer(arrow_type))
    if name == "bool":
        return bool(types.is_boolean(arrow_type))
    if name == "str":
        return bool(types.is_string(arrow_type) or types.is_large_string(arrow_type)
                    or getattr(types, "is_string_view", lambda _: False)(arrow_type))
    if name == "date":
        return bool(types.is_date(arrow_type))
    if name == "datetime":
        return bool(types.is_timestamp(arrow_type))
    if name == "time":
        return bool(types.is_time(arrow_type))
    if name == "duration":
        return bool(types.is_duration(arrow_type))
    if name in ("set", "list"):
        if types.is_list(arrow_type) or types.is_large_list(arrow_type) or types.is_fixed_size_list(arrow_type):
            return t.arg is None or _arrow_fits(t.arg, arrow_type.value_type)
        return False
    return name == "any"


def _arrow_target(t: Type) -> Any:
    """The Arrow type a column is cast to when coercing (None: not cast)."""
    import pyarrow as pa

    return {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string(),
            "date": pa.date32()}.get(t.name)


def check_columns(table: Any, group: str, fields: Mapping[str, FactField], pack: str, *,
                  coerce: bool = False) -> Any:
    """The table with its columns checked against the declared types of a row group's fields.

    ``fields``: the fields the rules read, each a column of the table. A column of another
    type, or with nulls for a field that may not be null, is a problem; every problem is
    listed in one `FactError`. Coerced fields (``coerce`` here or ``coerce = true`` on the
    declaration) of another type are cast with pyarrow instead; a failed cast is a problem.
    """
    import pyarrow as pa

    problems: list[FactProblem] = []
    for name, fld in fields.items():
        path = f"{group}.{name}"
        index = table.schema.get_field_index(name)
        column = table.column(index)
        if not _arrow_fits(fld.type, column.type):
            target = _arrow_target(fld.type)
            if (coerce or fld.coerce) and target is not None:
                try:
                    column = column.cast(target)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    problems.append(FactProblem(path, expected_type(fld.type), f"column of {column.type}",
                                                f"cannot be cast: {str(exc).splitlines()[0]}"))
                    continue
                table = table.set_column(index, name, column)
            else:
                problems.append(FactProblem(path, expected_type(fld.type), f"column of {column.type}"))
                continue
        if not fld.type.optional and column.null_count:
            problems.append(FactProblem(path, expected_type(fld.type), "null",
                                        f"in {column.null_count} row(s)"))
    if problems:
        raise _failure(pack)(problems)
    return table
