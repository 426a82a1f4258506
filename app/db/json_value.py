"""A JSON object's field read as a number or as true/false where it holds one, and as null where it
holds anything else: a cast of any other value would fail the whole statement on PostgreSQL."""

from typing import Any, Literal

from sqlalchemy import Boolean, Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import coercions, roles
from sqlalchemy.sql._typing import _ColumnExpressionArgument
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType

JsonKind = Literal["number", "boolean"]
# the field's JSON type as each database names it
TYPES = {
    "postgresql": {"number": "('number')", "boolean": "('boolean')"},
    "sqlite": {"number": "('integer', 'real')", "boolean": "('true', 'false')"},
}


class json_value(ColumnElement[Any]):
    """`document[key]` as a number or a boolean (`kind`), null where it holds another kind."""

    inherit_cache = True
    _traverse_internals: _TraverseInternalsType = [  # noqa: RUF012 (declared so by SQLAlchemy)
        ("field", InternalTraversal.dp_clauseelement),
        ("value", InternalTraversal.dp_clauseelement),
        ("kind", InternalTraversal.dp_string),
    ]

    def __init__(self, document: _ColumnExpressionArgument[Any], key: str, kind: JsonKind) -> None:
        column: Any = coercions.expect(roles.ExpressionElementRole, document)
        self.kind = kind
        self.type = Float() if kind == "number" else Boolean()
        self.field: ColumnElement[Any] = column[key]  # the JSON value
        # a cast that fails on any other kind of value: reached only for this kind
        self.value: ColumnElement[Any] = (
            column[key].as_float() if kind == "number" else column[key].as_boolean()
        )


@compiles(json_value, "postgresql")
@compiles(json_value, "sqlite")
def _json_value(element: json_value, compiler: SQLCompiler, **kw: Any) -> str:
    field: Any = element.field
    dialect = compiler.dialect.name
    if dialect == "sqlite":  # asked of the document at the path: SQLite's value expression turns true into 1
        document, path = compiler.process(field.left, **kw), compiler.process(field.right, **kw)
        type_of = f"json_type({document}, {path})"
    else:
        type_of = f"jsonb_typeof({compiler.process(field, **kw)})"
    value = compiler.process(element.value, **kw)
    return f"(CASE WHEN {type_of} IN {TYPES[dialect][element.kind]} THEN {value} END)"
