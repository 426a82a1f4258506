"""The stream's statements as PostgreSQL plans them: once per connection, reading only the tasks served."""

import itertools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import inspect, select, update
from sqlalchemy.dialects import postgresql

from app.db.base import utcnow
from app.db.engine import make_sessionmaker
from app.db.models import Task
from app.domain.roles import Role
from app.domain.task_import import TaskItem
from app.domain.task_state import SkipQueue
from app.services import annotations, imports, label_stream, members
from app.services.label_stream import Form, _assigned_picks, _caller_statement, _queues
from app.services.projects import settings_of
from tests.factories import make_actor, make_project


def _forms() -> list[Form]:
    return [
        Form(skip_queue, ordering, gt_first, overlap_first, by_version, evaluation)
        for skip_queue, ordering, (gt_first, overlap_first, by_version, evaluation) in itertools.product(
            SkipQueue, ("id", "random", "uncertainty"), itertools.product((False, True), repeat=4)
        )
    ]


def _sql(statement: object) -> str:
    return str(statement.compile(dialect=postgresql.asyncpg.dialect()))  # type: ignore[attr-defined]


def test_every_pick_states_its_limit_so_postgresql_can_reuse_one_plan() -> None:
    """A LIMIT sent as a parameter makes PostgreSQL plan for an unknown row count, judge its generic
    plan costlier than a custom one, and plan the pick again at every call."""
    statements = [
        query
        for form in _forms()
        for drafted in (False, True)
        for picking, _ in _queues(form, drafted)
        for query in (picking.first, picking.again)
    ]
    statements += [
        query for flags in itertools.product((False, True), repeat=2) for query, _ in _assigned_picks(*flags)
    ]
    statements += [_caller_statement(False), _caller_statement(True)]
    for statement in statements:
        sql = _sql(statement)
        assert "LIMIT $" not in sql, sql
    assert "LIMIT 1" in _sql(statements[0])


@pytest.mark.parametrize(
    ("sampling", "order"), [("Sequential sampling", Task.id), ("Uniform sampling", Task.random_key)]
)
async def test_the_pick_reads_only_the_first_open_task_even_on_statistics_from_before_labeling(
    engine, session, sampling, order
):
    """Statistics gathered at import say no task is labeled; labeling then fills the head of the
    stream's order. The pick must still go straight to the first open task through an index that
    skips labeled tasks: not walk an index past every labeled task, nor check every open task and
    sort them."""
    owner, _ = await make_actor(session, Role.OWNER)
    project = await make_project(session, owner, sampling=sampling)
    await imports.import_tasks(
        session, owner, project.id, [TaskItem({"review_text": str(i)}) for i in range(3000)]
    )
    annotator, _ = await make_actor(session, Role.ANNOTATOR, organization_id=owner.organization_id)
    await members.add_member(session, owner, project.id, annotator.user_id)
    await session.commit()
    async with engine.connect() as conn:
        await conn.exec_driver_sql("ANALYZE tasks")
    in_order = select(Task.id).where(Task.project_id == project.id).order_by(order)
    first_open = await session.scalar(in_order.offset(2000).limit(1))
    await session.execute(update(Task).where(Task.id.in_(in_order.limit(2000))).values(is_labeled=True))
    await session.commit()

    picks: list[tuple[str, Any]] = []

    def capture(query: Any) -> None:  # the pick runs on the driver itself: its log sees every statement
        if "SKIP LOCKED" in query.query:
            picks.append((query.query, tuple(query.args)))

    async with make_sessionmaker(engine)() as s:
        driver = (await (await s.connection()).get_raw_connection()).driver_connection
        driver.add_query_logger(capture)
        try:
            served = await label_stream.next_task(s, annotator, project.id, utcnow())
            assert served.task is not None
            assert served.task.id == first_open
            await s.rollback()
        finally:
            driver.remove_query_logger(capture)

    statement, parameters = picks[0]
    async with engine.connect() as conn:
        plan = (
            await conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters)
        ).scalar_one()
    scans = [node for node in _nodes(plan[0]["Plan"]) if node.get("Relation Name") == "tasks"]
    read = scans[0]["Actual Rows"] + scans[0].get("Rows Removed by Filter", 0)
    assert read <= 3, scans[0]  # not the 2,000 labeled tasks, nor the 1,000 open ones sorted


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


async def test_a_candidate_found_full_under_its_lock_is_passed_over_for_the_next(session):
    """The pick's snapshot can be older than the claim's (another annotator filled the task meanwhile):
    the claim refuses it, and the pick runs again without it. Here the candidates ignore room, so the
    first one is full for certain."""
    owner, _ = await make_actor(session, Role.OWNER)
    project = await make_project(session, owner, maximum_annotations=1)
    imported = await imports.import_tasks(
        session, owner, project.id, [TaskItem({"review_text": str(i)}) for i in range(3)]
    )
    full, first_open = imported.task_ids[:2]
    await annotations.create_annotation(session, owner, full, {"result": []}, cancelled=False)
    annotator, _ = await make_actor(session, Role.ANNOTATOR, organization_id=owner.organization_id)
    await members.add_member(session, owner, project.id, annotator.user_id)
    await session.commit()

    now = utcnow()
    settings = settings_of(project)
    params = label_stream._params(project.id, annotator.user_id, now, settings)
    params["expires_at"] = now + timedelta(minutes=5)
    every_task = label_stream._picking(select(Task).where(Task.project_id == project.id).order_by(Task.id))
    picked = await label_stream._pick(session, every_task, settings, params)
    assert picked is not None
    assert picked.id == first_open
    assert inspect(picked).persistent
