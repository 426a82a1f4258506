"""The JSON export built by PostgreSQL equals the one built in Python (used on SQLite and by snapshots)."""

import orjson
import pytest
from sqlalchemy import select

from app.db.engine import make_sessionmaker
from app.db.models import Task
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
    assert len(expected) == 3
