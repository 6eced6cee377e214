"""Vectorized evaluation of checked expressions over a columnar table (pyarrow.compute).

Audience rules select users from tables of millions of rows. The same checked predicate that
runs on one user dict runs here once per table: each syntax node becomes one pyarrow kernel
call over whole columns, so the cost per row is a few machine instructions, not a Python
call. Functions without a pyarrow kernel fall back to a Python call per row for that node
only. Null semantics match the scalar path for checked expressions: a comparison with null
is unknown, `and`/`or` follow Kleene logic, and a row whose verdict is unknown is not selected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compliance.grammar import ast
from compliance.checker.evaluator import apply_binary
from compliance.checker.functions import REGISTRY

_COMPARE = {"==": "equal", "!=": "not_equal", "<": "less", "<=": "less_equal", ">": "greater",
            ">=": "greater_equal"}
_ARITH = {"+": "add", "-": "subtract", "*": "multiply"}


def to_arrow_table(rows: Any) -> Any:
    """A pyarrow Table from a pyarrow Table/RecordBatch, a Polars or pandas DataFrame, or a
    DuckDB relation (anything exposing the Arrow PyCapsule stream or a to_arrow/arrow method)."""
    import pyarrow as pa

    if isinstance(rows, pa.Table):
        return rows
    if isinstance(rows, pa.RecordBatch):
        return pa.Table.from_batches([rows])
    for method in ("to_arrow", "arrow", "to_arrow_table"):
        convert = getattr(rows, method, None)
        if callable(convert):
            result = convert()
            if hasattr(result, "read_all"):  # a RecordBatchReader (newer DuckDB)
                result = result.read_all()
            return result if isinstance(result, pa.Table) else pa.table(result)
    if hasattr(rows, "__arrow_c_stream__"):
        return pa.table(rows)
    raise TypeError(f"cannot read a table from {type(rows).__name__}")


class _Evaluator:
    def __init__(self, table: Any, row_group: str, scalars: Mapping[str, Any]):
        import pyarrow as pa
        import pyarrow.compute as pc

        self.pa = pa
        self.pc = pc
        self.table = table
        self.row_group = row_group
        self.scalars = scalars

    def column(self, name: str) -> Any:
        if name not in self.table.column_names:
            raise KeyError(f"{self.row_group}.{name}")
        return self.table.column(name)

    def eval(self, e: ast.Expr) -> Any:
        pc = self.pc
        match e:
            case ast.Literal(value=value):
                return value
            case ast.Attribute(value=ast.Name(name=group), name=field) if group == self.row_group:
                return self.column(field)
            case ast.Attribute(value=ast.Name(name=group), name=field):
                return self.scalars[group][field]
            case ast.Name(name=name):
                return self.scalars[name]
            case ast.Unary(op="not", operand=operand):
                return self._lift(operand, pc.invert, lambda v: not v)
            case ast.Unary(op="-", operand=operand):
                return self._lift(operand, pc.negate, lambda v: -v)
            case ast.Binary(op="and", left=left, right=right):
                return self._combine(pc.and_kleene, self.eval(left), self.eval(right), lambda a, b: a and b)
            case ast.Binary(op="or", left=left, right=right):
                return self._combine(pc.or_kleene, self.eval(left), self.eval(right), lambda a, b: a or b)
            case ast.Binary(op="==" | "!=", left=left, right=right) if _null(left) or _null(right):
                side = self.eval(right if _null(left) else left)
                if not self._is_array(side):
                    return (side is None) == (e.op == "==")
                return pc.is_null(side) if e.op == "==" else pc.is_valid(side)
            case ast.Binary(op=op, left=left, right=right) if op in _COMPARE or op in _ARITH or op == "/":
                a, b = self.eval(left), self.eval(right)
                if not self._is_array(a) and not self._is_array(b):
                    return apply_binary(op, a, b)
                if op == "/":
                    a, b = self._as_float(a), self._as_float(b)
                    return pc.divide(a, b)
                kernel = getattr(pc, _COMPARE.get(op) or _ARITH[op])
                return kernel(a, b)
            case ast.Binary(op="in" | "not_in", left=left, right=right):
                a, b = self.eval(left), self.eval(right)
                if not self._is_array(a):
                    return apply_binary(e.op, a, b)
                found = pc.is_in(a, value_set=self.pa.array(sorted(b) if isinstance(b, frozenset) else list(b)))
                # is_in never yields null; a null row is "unknown" like a comparison
                found = pc.if_else(pc.is_null(a), self.pa.scalar(None, self.pa.bool_()), found)
                return found if e.op == "in" else pc.invert(found)
            case ast.Call(name=name, args=args):
                return self._call(name, [self.eval(a) for a in args])
            case ast.SetLiteral(items=items):
                return frozenset(self.eval(i) for i in items)
            case ast.ListLiteral(items=items):
                return tuple(self.eval(i) for i in items)
        raise TypeError(f"cannot vectorize {type(e).__name__}")

    # helpers ---------------------------------------------------------------------------

    def _is_array(self, value: Any) -> bool:
        return isinstance(value, (self.pa.Array, self.pa.ChunkedArray))

    def _as_float(self, value: Any) -> Any:
        if self._is_array(value):
            return self.pc.cast(value, self.pa.float64())
        return float(value)

    def _lift(self, operand: ast.Expr, kernel: Any, scalar: Any) -> Any:
        value = self.eval(operand)
        return kernel(value) if self._is_array(value) else scalar(value)

    def _combine(self, kernel: Any, a: Any, b: Any, scalar: Any) -> Any:
        if not self._is_array(a) and not self._is_array(b):
            return scalar(a, b)
        return kernel(a, b)

    def _call(self, name: str, args: list[Any]) -> Any:
        fn = REGISTRY[name]
        if not any(self._is_array(a) for a in args):
            return fn.impl(*args)
        if fn.vector is not None:
            try:
                return fn.vector(*args)
            except (self.pa.ArrowNotImplementedError, self.pa.ArrowInvalid, TypeError):
                pass  # e.g. a non-literal pattern: fall back below
        # No kernel: call the scalar function per row for this node only (nulls stay null).
        length = len(self.table)
        columns = [a.to_pylist() if self._is_array(a) else [a] * length for a in args]
        values = [None if any(v is None for v in row) else fn.impl(*row) for row in zip(*columns)]
        return self.pa.array(values)


def _null(e: ast.Expr) -> bool:
    return isinstance(e, ast.Literal) and e.value is None


def evaluate_table(expr: ast.Expr, table: Any, row_group: str, scalars: Mapping[str, Any]) -> Any:
    """A boolean pyarrow array: where expr holds for each row (unknown counts as false)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    result = _Evaluator(table, row_group, scalars).eval(expr)
    if not isinstance(result, (pa.Array, pa.ChunkedArray)):
        return pa.array([bool(result)] * len(table), pa.bool_())
    return pc.fill_null(result, False)
