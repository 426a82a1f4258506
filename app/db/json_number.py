"""A JSON object's field read as a number where it holds one, and as null where it holds anything
else: a cast of text that is not a number would fail the whole statement on PostgreSQL."""

from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import coercions, roles
from sqlalchemy.sql._typing import _ColumnExpressionArgument
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType


class json_number(ColumnElement[float]):
    """`document[key]` as a number, or null when it is text, true/false, a list, an object or absent."""

    inherit_cache = True
    type = Float()
    _traverse_internals: _TraverseInternalsType = [  # noqa: RUF012 (declared so by SQLAlchemy)
        ("field", InternalTraversal.dp_clauseelement),
        ("number", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, document: _ColumnExpressionArgument[Any], key: str) -> None:
        column: Any = coercions.expect(roles.ExpressionElementRole, document)
        self.field: ColumnElement[Any] = column[key]  # the JSON value
        self.number: ColumnElement[Any] = column[
            key
        ].as_float()  # a cast text would fail: reached for numbers only


@compiles(json_number, "postgresql")
def _json_number_postgresql(element: json_number, compiler: SQLCompiler, **kw: Any) -> str:
    field, number = compiler.process(element.field, **kw), compiler.process(element.number, **kw)
    return f"(CASE WHEN jsonb_typeof({field}) = 'number' THEN {number} END)"


@compiles(json_number, "sqlite")
def _json_number_sqlite(element: json_number, compiler: SQLCompiler, **kw: Any) -> str:
    field, number = compiler.process(element.field, **kw), compiler.process(element.number, **kw)
    return f"(CASE WHEN json_type({field}) IN ('integer', 'real') THEN {number} END)"
