"""One-shot export: tasks read in id order in batches and streamed through a format writer."""

import asyncio
import itertools
import re
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from contextlib import AsyncExitStack, aclosing, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
from sqlalchemy import (
    DateTime,
    Float,
    Integer,
    String,
    Text,
    TypeDecorator,
    bindparam,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from app.db.models import TASK_BUCKET, Annotation, Prediction, Project, Task, TaskBucket
from app.domain.exports import ExportWriter, export_context, export_formats, writer_for
from app.domain.exports.json_tasks import JsonMinWriter, JsonWriter
from app.domain.exports.tabular import TabularWriter
from app.domain.roles import Actor
from app.services.projects import config_of, get_project
from app.services.shapes import iso

BATCH = 1000

TASK_COLUMNS = (
    Task.id,
    Task.data,
    Task.meta,
    Task.project_id,
    Task.inner_id,
    Task.created_at,
    Task.updated_at,
    Task.updated_by_id,
    Task.is_labeled,
    Task.overlap,
    Task.total_annotations,
    Task.cancelled_annotations,
    Task.total_predictions,
)
ANNOTATION_COLUMNS = (
    Annotation.task_id,
    Annotation.id,
    Annotation.result,
    Annotation.completed_by_id,
    Annotation.was_cancelled,
    Annotation.ground_truth,
    Annotation.lead_time,
    Annotation.created_at,
    Annotation.updated_at,
    Annotation.last_action,
)
PREDICTION_COLUMNS = (
    Prediction.task_id,
    Prediction.id,
    Prediction.result,
    Prediction.score,
    Prediction.model_version,
    Prediction.created_at,
    Prediction.updated_at,
)


@dataclass(frozen=True)
class ExportRequest:
    project_id: int
    export_type: str
    all_tasks: bool
    ids: tuple[int, ...] = ()
    only_ground_truth: bool = False
    # Label Studio's task filters, each "only", "exclude" or None: tasks with a submitted annotation,
    # labeled tasks, tasks with a skip
    annotated: str | None = None
    finished: str | None = None
    skipped: str | None = None


@dataclass(frozen=True)
class PreparedExport:
    request: ExportRequest
    writer: ExportWriter
    filename: str


def project_writer(project: Project, export_type: str) -> ExportWriter:
    """The writer of a format for this project's labeling config and data keys."""
    return writer_for(export_type, export_context(config_of(project), project.data_columns))


async def prepare_export(session: AsyncSession, actor: Actor, request: ExportRequest) -> PreparedExport:
    """Check access and the format before the first byte is sent."""
    project = await get_project(session, actor, request.project_id)
    writer = project_writer(project, request.export_type)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d-%H-%M")
    return PreparedExport(request, writer, f"project-{project.id}-at-{stamp}.{writer.extension}")


def task_conditions(request: ExportRequest) -> list[Any]:
    """Which of the project's tasks the export holds, as conditions the database applies."""
    conditions: list[Any] = [Task.project_id == request.project_id]
    if not request.all_tasks:
        conditions.append(Task.total_annotations + Task.cancelled_annotations > 0)
    if request.ids:
        conditions.append(Task.id.in_(request.ids))
    kinds = (
        (request.annotated, Task.total_annotations > 0),
        (request.finished, Task.is_labeled.is_(True)),
        (request.skipped, Task.cancelled_annotations > 0),
    )
    conditions += [has if mode == "only" else ~has for mode, has in kinds if mode is not None]
    return conditions


def _task_query(request: ExportRequest, after: int) -> Any:
    query = select(*TASK_COLUMNS).where(*task_conditions(request), Task.id > after)
    return query.order_by(Task.id).limit(BATCH)


async def stream_export(
    sessionmaker: async_sessionmaker[AsyncSession], prepared: PreparedExport
) -> AsyncGenerator[bytes, None]:
    """Yield the export's bytes batch by batch from one snapshot; memory stays flat.

    On PostgreSQL the export reads one REPEATABLE READ snapshot, so tasks and annotations written
    meanwhile are either wholly in it or not at all, and the database builds each task as JSON: the
    JSON export sends that text as it is, other formats parse it (cheaper than building it here).
    On SQLite each batch is read in its own transaction (`_batches`).
    """
    writer = prepared.writer
    yield writer.start()
    bind = sessionmaker.kw["bind"]
    async with sessionmaker() as session:
        if bind.dialect.name == "postgresql":
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            # closed here when the client leaves, so its read ahead ends before the session does
            rows_only = isinstance(writer, TabularWriter | JsonMinWriter)
            encoding = _encoded_by_database(sessionmaker, session, prepared.request, rows_only=rows_only)
            async with aclosing(encoding) as batches:
                async for encoded in batches:
                    if isinstance(writer, JsonWriter):
                        chunk = writer.write_encoded(encoded)
                    else:
                        chunk = writer.write_many(_parsed(encoded))
                    if chunk:  # one send per batch, not per task
                        yield chunk
        else:
            async for tasks in _batches(session, prepared.request):
                if chunk := writer.write_many(tasks):
                    yield chunk
    yield writer.finish()


async def task_batches(
    sessionmaker: async_sessionmaker[AsyncSession], request: ExportRequest
) -> AsyncGenerator[list[dict[str, Any]], None]:
    """The asked tasks in the JSON export shape, a batch at a time in id order, for a background job.

    On PostgreSQL every batch comes from one REPEATABLE READ snapshot, built as JSON by the database,
    as in `stream_export`; on SQLite each batch is read in its own short transaction, so the job can
    record its progress between batches.
    """
    postgres = sessionmaker.kw["bind"].dialect.name == "postgresql"
    async with sessionmaker() as session:
        if postgres:
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            async with aclosing(_encoded_by_database(sessionmaker, session, request)) as batches:
                async for encoded in batches:
                    yield list(_parsed(encoded))
        else:
            async for tasks in _batches(session, request):
                yield tasks


def _parsed(encoded: bytes) -> Iterator[dict[str, Any]]:
    """A batch of `_encoded_by_database` as task dicts, parsed one at a time: parsing the whole
    batch at once keeps every task alive together, which costs the garbage collector more."""
    return map(orjson.loads, encoded.split(b"\n"))


async def _batches(session: AsyncSession, request: ExportRequest) -> AsyncIterator[list[dict[str, Any]]]:
    """SQLite: each batch in its own short transaction, which holds the database's write lock, so
    neither a slow download nor a long job keeps annotators from writing meanwhile."""
    after = 0
    while rows := (await session.execute(_task_query(request, after))).all():
        batch = select(Task.id).where(*task_conditions(request), Task.id > after, Task.id <= rows[-1].id)
        after = rows[-1].id
        tasks = await _task_dicts(session, rows, batch, request.only_ground_truth)
        await session.rollback()
        yield tasks


async def _task_dicts(
    session: AsyncSession, rows: Sequence[Any], batch: Any, only_ground_truth: bool
) -> list[dict[str, Any]]:
    """Tasks in the JSON export shape, with their annotations and predictions, in three queries.

    `batch` selects the rows' ids again, for the database to join on: cheaper than sending a
    thousand ids as parameters, which costs more to compile than the query costs to run."""
    ids = [r.id for r in rows]
    annotations: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    query = select(*ANNOTATION_COLUMNS).where(Annotation.task_id.in_(batch))
    if only_ground_truth:
        query = query.where(Annotation.ground_truth)
    for a in await session.execute(query.order_by(Annotation.id)):
        annotations[a.task_id].append(
            {
                "id": a.id,
                "completed_by": a.completed_by_id,
                "result": a.result,
                "was_cancelled": a.was_cancelled,
                "ground_truth": a.ground_truth,
                "created_at": iso(a.created_at),
                "updated_at": iso(a.updated_at),
                "lead_time": a.lead_time,
                "last_action": a.last_action,
                "task": a.task_id,
            }
        )
    predictions: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    query = select(*PREDICTION_COLUMNS).where(Prediction.task_id.in_(batch)).order_by(Prediction.id)
    for p in await session.execute(query):
        predictions[p.task_id].append(
            {
                "id": p.id,
                "result": p.result,
                "score": p.score,
                "model_version": p.model_version,
                "created_at": iso(p.created_at),
                "updated_at": iso(p.updated_at),
                "task": p.task_id,
            }
        )
    return [
        {
            "id": r.id,
            "data": r.data,
            "meta": r.meta,
            "annotations": annotations[r.id],
            "predictions": predictions[r.id],
            "drafts": [],
            "project": r.project_id,
            "inner_id": r.inner_id,
            "created_at": iso(r.created_at),
            "updated_at": iso(r.updated_at),
            "updated_by": r.updated_by_id,
            "is_labeled": r.is_labeled,
            "overlap": r.overlap,
            "total_annotations": r.total_annotations,
            "cancelled_annotations": r.cancelled_annotations,
            "total_predictions": r.total_predictions,
            "comment_count": 0,
            "unresolved_comment_count": 0,
            "last_comment_updated_at": None,
            "comment_authors": [],
            "file_upload": None,
        }
        for r in rows
    ]


async def list_formats(session: AsyncSession, actor: Actor, project_id: int) -> list[dict[str, Any]]:
    project = await get_project(session, actor, project_id)
    return export_formats(export_context(config_of(project), project.data_columns))


def _stamp(column: str) -> str:
    return f"""'"' || to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"'"""


@dataclass(frozen=True)
class _Sql:
    """SQL whose value is JSON text, for a field of `_json_object`."""

    sql: str


def _json_value(alias: str, column: Any) -> str:
    """SQL for a column's value as JSON text, by its type; null where the column may be null."""
    name = f"{alias}.{column.key}"
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    if isinstance(kind, DateTime):
        value = _stamp(name)
    elif isinstance(kind, String | Float):  # escaped text; NaN and infinities as strings, as to_json has them
        value = f"to_json({name})::text"
    else:  # integers, booleans and JSON print as JSON
        value = f"{name}::text"
    return f"coalesce({value}, 'null')" if column.nullable else value


def _json_object(alias: str, fields: Sequence[tuple[str, Any]]) -> str:
    """SQL building an object's JSON text by concatenation. PostgreSQL's json_build_object looks up
    each argument's type on every call: for a task of the export this costs it 40% less.

    A field is a column of the table under `alias`, SQL giving JSON text (`_Sql`), or a constant."""
    pieces: list[str | _Sql] = ["{"]
    for i, (key, value) in enumerate(fields):
        pieces.append(("," if i else "") + orjson.dumps(key).decode() + ":")
        if isinstance(value, InstrumentedAttribute):
            value = _Sql(_json_value(alias, value.expression))
        pieces.append(value if isinstance(value, _Sql) else orjson.dumps(value).decode())
    pieces.append("}")
    sql: list[str] = []
    constant = ""  # text between values, one SQL literal
    for piece in pieces:
        if isinstance(piece, _Sql):
            sql += [_quoted(constant), piece.sql] if constant else [piece.sql]
            constant = ""
        else:
            constant += piece
    return " || ".join([*sql, _quoted(constant)])


def _quoted(literal: str) -> str:
    return "'" + literal.replace("'", "''") + "'"


# What formats of one row per annotation read of it (`rows_only`), then the rest of the JSON shape.
ROW_FIELDS = (
    ("id", Annotation.id),
    ("completed_by", Annotation.completed_by_id),
    ("result", Annotation.result),
    ("was_cancelled", Annotation.was_cancelled),
    ("created_at", Annotation.created_at),
    ("updated_at", Annotation.updated_at),
    ("lead_time", Annotation.lead_time),
)
ANNOTATION_FIELDS = (
    *ROW_FIELDS,
    ("ground_truth", Annotation.ground_truth),
    ("last_action", Annotation.last_action),
    ("task", Annotation.task_id),
)
PREDICTION_FIELDS = (
    ("id", Prediction.id),
    ("result", Prediction.result),
    ("score", Prediction.score),
    ("model_version", Prediction.model_version),
    ("created_at", Prediction.created_at),
    ("updated_at", Prediction.updated_at),
    ("task", Prediction.task_id),
)


def _json_lists(table: str, alias: str, fields: Sequence[tuple[str, Any]], condition: str = "") -> Any:
    """Per task of a batch (ids in `(after, end]`), the JSON objects of its rows of `table`, in id
    order and joined by commas. One range scan serves the batch: a lookup per task cost PostgreSQL
    about a microsecond more per task."""
    objects = f"string_agg({_json_object(alias, fields)}, ',' ORDER BY {alias}.id)"
    rows = f"{alias}.task_id > :after AND {alias}.task_id <= :end {condition}"
    query = f"SELECT {alias}.task_id, {objects} AS objects FROM {table} {alias} WHERE {rows}"
    return (
        text(f"{query} GROUP BY {alias}.task_id")
        .columns(task_id=Integer, objects=Text)
        .subquery(f"{table}_json")
    )


def _listed(lists: Any) -> _Sql:
    return _Sql(f"'[' || coalesce({lists.name}.objects, '') || ']'")


@cache
def _task_json(only_ground_truth: bool, rows_only: bool = False) -> Any:
    """The tasks of a batch (ids in `(after, end]`), each with its JSON text in the export's shape,
    as PostgreSQL builds it; `rows_only`: just what formats of one row per annotation read, which
    spares reading predictions."""
    annotations = _json_lists(
        "annotations",
        "a",
        ROW_FIELDS if rows_only else ANNOTATION_FIELDS,
        "AND a.ground_truth" if only_ground_truth else "",
    )
    tasks = Task.__table__.outerjoin(annotations, annotations.c.task_id == Task.id)
    fields: list[tuple[str, Any]] = [("id", Task.id), ("data", Task.data)]
    if rows_only:
        fields.append(("annotations", _listed(annotations)))
    else:
        predictions = _json_lists("predictions", "p", PREDICTION_FIELDS)
        tasks = tasks.outerjoin(predictions, predictions.c.task_id == Task.id)
        fields += [
            ("meta", Task.meta),
            ("annotations", _listed(annotations)),
            ("predictions", _listed(predictions)),
            ("drafts", []),
            ("project", Task.project_id),
            ("inner_id", Task.inner_id),
            ("created_at", Task.created_at),
            ("updated_at", Task.updated_at),
            ("updated_by", Task.updated_by_id),
            ("is_labeled", Task.is_labeled),
            ("overlap", Task.overlap),
            ("total_annotations", Task.total_annotations),
            ("cancelled_annotations", Task.cancelled_annotations),
            ("total_predictions", Task.total_predictions),
            ("comment_count", 0),
            ("unresolved_comment_count", 0),
            ("last_comment_updated_at", None),
            ("comment_authors", []),
            ("file_upload", None),
        ]
    encoded = literal_column(_json_object("tasks", fields), Text).label("encoded")
    return (
        select(Task.id, encoded)
        .select_from(tasks)
        .where(Task.id > bindparam("after"), Task.id <= bindparam("end"))
    )


# Connections that build batches at once, all reading the export's one snapshot: PostgreSQL builds
# a batch's JSON in one backend, so one connection keeps one core busy and no more.
BUILDERS = 2
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+(-[0-9A-F]+)+")


@asynccontextmanager
async def _sharing(
    sessionmaker: async_sessionmaker[AsyncSession], snapshot: str
) -> AsyncIterator[AsyncSession]:
    """A session that reads the snapshot another transaction exported (`pg_export_snapshot`)."""
    if not _SNAPSHOT_ID.fullmatch(snapshot):  # interpolated below: SET takes no parameters
        raise ValueError(f"unexpected snapshot id {snapshot!r}")
    async with sessionmaker() as session:
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        await session.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
        yield session


async def _id_ranges(session: AsyncSession, request: ExportRequest) -> list[tuple[int, int]]:
    """The export's batches as id ranges `(after, end]`: each quarter of a task bucket of the project,
    from its kept counters. Finding them scans no tasks, so no batch waits on a plan the planner gets
    wrong before a large import's statistics are in (a sort of every task after it, per batch)."""
    query = (
        select(TaskBucket.bucket)
        .where(TaskBucket.project_id == request.project_id)
        .group_by(TaskBucket.bucket)
        .having(func.sum(TaskBucket.tasks) > 0)
        .order_by(TaskBucket.bucket)
    )
    if request.ids:
        query = query.where(TaskBucket.bucket.in_({i // TASK_BUCKET for i in request.ids}))
    step = TASK_BUCKET // 4
    return [
        (start - 1, start + step - 1)
        for bucket in await session.scalars(query)
        for start in range(bucket * TASK_BUCKET, (bucket + 1) * TASK_BUCKET, step)
    ]


async def _encoded_by_database(
    sessionmaker: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    request: ExportRequest,
    *,
    rows_only: bool = False,
) -> AsyncGenerator[bytes, None]:
    """Tasks as JSON text built by PostgreSQL, a batch at a time in id order, each batch one text of
    a line per task (JSON text holds no line breaks of its own).

    `session` (REPEATABLE READ) finds the batches; the builders, reading its exported snapshot, build
    the next batches at once while this one is sent. A batch comes as one value, not a row per task:
    rows trickling in as the database builds them wake the server a few dozen times a batch, which
    cost it more than the tasks' text.
    """
    tasks = _task_json(request.only_ground_truth, rows_only).where(*task_conditions(request)).subquery()
    built = select(func.string_agg(tasks.c.encoded, aggregate_order_by(literal_column("E'\\n'"), tasks.c.id)))
    snapshot = await session.scalar(text("SELECT pg_export_snapshot()"))
    ranges = iter(await _id_ranges(session, request))
    async with AsyncExitStack() as stack:
        builders = [
            await stack.enter_async_context(_sharing(sessionmaker, snapshot)) for _ in range(BUILDERS)
        ]

        async def build(builder: AsyncSession, after: int, end: int) -> bytes | None:
            encoded = await builder.scalar(built, {"after": after, "end": end})
            return None if encoded is None else encoded.encode()

        pending: deque[asyncio.Future[bytes | None]] = deque()
        turns = itertools.cycle(builders)

        def hand_out() -> None:
            """Give each free builder the next batch. Builders take batches in turn and the batches
            are sent in the same order, so a builder's previous batch is done when its turn comes."""
            while len(pending) < BUILDERS and (batch := next(ranges, None)) is not None:
                pending.append(asyncio.ensure_future(build(next(turns), *batch)))

        try:
            hand_out()
            while pending:
                batch = await pending.popleft()
                hand_out()  # the builders work on while this batch is sent
                if batch:
                    yield batch
        finally:
            # also when the client left: no builder's session is closed under its query
            await asyncio.gather(*pending, return_exceptions=True)
