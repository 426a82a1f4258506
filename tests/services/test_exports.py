"""The JSON export built by PostgreSQL equals the one built in Python (used on SQLite and by snapshots)."""

import orjson
import pytest
from sqlalchemy import select

from app.db.engine import make_sessionmaker
from app.db.models import TASK_BUCKET, Task
from app.domain.task_import import TaskItem
from app.services import exports, imports
from tests.factories import make_actor, make_project

CHOICE = [
    {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
]


async def test_database_encoded_json_matches_the_python_shape(session, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("the database-encoded path is PostgreSQL's")
    actor, _ = await make_actor(session)
    project = await make_project(session, actor)
    items = [
        TaskItem(
            {"review_text": 'a ü "quoted"'},
            meta={"k": [1, 2.5]},
            annotations=[{"result": CHOICE, "lead_time": 1.25}],
        ),
        TaskItem({"review_text": "b"}, predictions=[{"result": CHOICE, "score": 0.5, "model_version": "v1"}]),
        TaskItem({"review_text": "c"}),
        TaskItem(  # what may be null or odd: no lead time, no score, a skip, a ground truth
            {"review_text": "d\\n\u2028"},
            annotations=[
                {"result": CHOICE, "ground_truth": True},
                {"result": [], "was_cancelled": True, "lead_time": 0},
            ],
            predictions=[{"result": CHOICE}],
        ),
    ]
    await imports.import_tasks(session, actor, project.id, items)
    await session.commit()
    prepared = await exports.prepare_export(
        session, actor, exports.ExportRequest(project.id, "JSON", all_tasks=True)
    )
    streamed = b"".join([chunk async for chunk in exports.stream_export(make_sessionmaker(engine), prepared)])
    rows = (await session.execute(exports._task_query(prepared.request, 0))).all()
    batch = select(Task.id).where(*exports.task_conditions(prepared.request))
    expected = await exports._task_dicts(session, rows, batch, False)
    assert orjson.loads(streamed) == orjson.loads(orjson.dumps(expected))
    assert len(expected) == 4


async def _exported_ids(engine, session, actor, request: exports.ExportRequest) -> list[int]:
    prepared = await exports.prepare_export(session, actor, request)
    streamed = b"".join([chunk async for chunk in exports.stream_export(make_sessionmaker(engine), prepared)])
    return [task["id"] for task in orjson.loads(streamed)]


async def test_an_export_holds_its_own_tasks_in_id_order_across_buckets_it_shares(session, engine):
    """Batches are id ranges within the project's task buckets: the tasks of another project in the
    same ranges, the holes and the ids filter leave exactly the asked tasks, each once."""
    actor, _ = await make_actor(session)
    mine, other = await make_project(session, actor), await make_project(session, actor)
    ids: dict[int, list[int]] = {mine.id: [], other.id: []}
    for size in (700, 1500, 300, 2500, 900, 1200):  # alternating, across several buckets of ids
        for project in (mine, other):
            items = [TaskItem({"review_text": "t"}, annotations=[{"result": CHOICE}]) for _ in range(size)]
            ids[project.id] += (await imports.import_tasks(session, actor, project.id, items)).task_ids
    await session.commit()
    assert max(ids[mine.id]) // TASK_BUCKET - min(ids[mine.id]) // TASK_BUCKET >= 3
    everything = exports.ExportRequest(mine.id, "JSON", all_tasks=True)
    assert await _exported_ids(engine, session, actor, everything) == ids[mine.id]
    some = sorted([*ids[mine.id][::997], ids[mine.id][-1]])
    asked = exports.ExportRequest(mine.id, "JSON", all_tasks=True, ids=(*some, ids[other.id][5]))
    assert await _exported_ids(engine, session, actor, asked) == some
    one_row_each = exports.ExportRequest(mine.id, "JSON_MIN", all_tasks=True)
    assert await _exported_ids(engine, session, actor, one_row_each) == ids[mine.id]
