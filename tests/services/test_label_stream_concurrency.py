"""Many annotators on separate connections: overlap is never exceeded and every task ends full."""

import asyncio
import os
from collections import defaultdict

import pytest
from sqlalchemy import func, select

from app.db.base import utcnow
from app.db.engine import make_engine, make_sessionmaker
from app.db.models import Annotation, TaskReservation
from app.domain.roles import Role
from app.domain.task_import import TaskItem
from app.services import annotations, imports, label_stream, members
from tests.factories import make_actor, make_project

CHOICE = [
    {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
]


async def project_with_tasks(session, tasks, **settings):
    owner, _ = await make_actor(session, Role.OWNER)
    project = await make_project(session, owner, **settings)
    await imports.import_tasks(
        session, owner, project.id, [TaskItem({"review_text": str(i)}) for i in range(tasks)]
    )
    return owner, project


async def run_crowd(database_url, session, annotators, tasks, overlap):
    owner, project = await project_with_tasks(session, tasks, maximum_annotations=overlap)
    crowd = []
    for _ in range(annotators):
        actor, _ = await make_actor(session, Role.ANNOTATOR, organization_id=owner.organization_id)
        await members.add_member(session, owner, project.id, actor.user_id)
        crowd.append(actor)
    await session.commit()

    engine = make_engine(database_url, pool_size=annotators)
    maker = make_sessionmaker(engine)
    served: dict[int, set[int]] = defaultdict(set)

    async def work(actor):
        while True:
            async with maker() as s:
                result = await label_stream.next_task(s, actor, project.id, utcnow())
                await s.commit()
            if result.task is None:
                return
            served[result.task.id].add(actor.user_id)
            async with maker() as s:
                await annotations.create_annotation(s, actor, result.task.id, {"result": CHOICE})
                await s.commit()

    await asyncio.gather(*(work(a) for a in crowd))
    await engine.dispose()
    rows = await session.execute(
        select(
            Annotation.task_id,
            func.count(Annotation.id),
            func.count(func.distinct(Annotation.completed_by_id)),
        )
        .where(Annotation.project_id == project.id)
        .group_by(Annotation.task_id)
    )
    per_task = {task_id: (count, distinct) for task_id, count, distinct in rows}
    return served, per_task


@pytest.mark.skipif(os.environ.get("QUORUM_TEST_DB") == "sqlite", reason="the SQLite size runs below")
async def test_fifty_annotators_two_thousand_tasks_overlap_two(database_url, session):
    served, per_task = await run_crowd(database_url, session, annotators=50, tasks=2000, overlap=2)
    assert len(per_task) == 2000
    assert all(v == (2, 2) for v in per_task.values()), [t for t, v in per_task.items() if v != (2, 2)][:10]
    assert all(len(users) == 2 for users in served.values())


@pytest.mark.core
async def test_eight_annotators_hundred_tasks_overlap_two(database_url, session):
    served, per_task = await run_crowd(database_url, session, annotators=8, tasks=100, overlap=2)
    assert len(per_task) == 100
    assert all(v == (2, 2) for v in per_task.values())
    assert all(len(users) == 2 for users in served.values())


async def one_annotator(session):
    """A project of three tasks with one annotator, committed."""
    owner, project = await project_with_tasks(session, 3)
    actor, _ = await make_actor(session, Role.ANNOTATOR, organization_id=owner.organization_id)
    await members.add_member(session, owner, project.id, actor.user_id)
    await session.commit()
    return project, actor


async def held_tasks(session, actor):
    rows = await session.scalars(
        select(TaskReservation.task_id).where(TaskReservation.user_id == actor.user_id)
    )
    return list(rows)


async def next_with_other_tab_between(monkeypatch, maker, actor, project_id, other_tab):
    """`next_task`, with `other_tab(session)` run and committed by the same annotator between the
    call's first query (its project, membership and reservation) and its pick."""
    read_caller = label_stream._caller

    async def caller_then_other_tab(*args):
        caller = await read_caller(*args)
        monkeypatch.setattr(label_stream, "_caller", read_caller)
        async with maker() as other:
            await other_tab(other)
            await other.commit()
        return caller

    monkeypatch.setattr(label_stream, "_caller", caller_then_other_tab)
    async with maker() as s:
        served = await label_stream.next_task(s, actor, project_id, utcnow())
        await s.commit()
    return served


@pytest.mark.skipif(os.environ.get("QUORUM_TEST_DB") == "sqlite", reason="SQLite serialises the whole call")
async def test_next_reserves_a_task_when_the_annotators_reservation_went_meanwhile(
    database_url, session, monkeypatch
):
    """The caller's reservation row is read first and moved by the claim. A submit in another tab
    may delete it in between: the stream must still reserve a task, not answer "no more tasks"."""
    project, actor = await one_annotator(session)
    engine = make_engine(database_url)
    maker = make_sessionmaker(engine)
    async with maker() as s:
        first = (await label_stream.next_task(s, actor, project.id, utcnow())).task
        await s.commit()

    async def submit_first(other):
        await annotations.create_annotation(other, actor, first.id, {"result": CHOICE})

    served = await next_with_other_tab_between(monkeypatch, maker, actor, project.id, submit_first)
    await engine.dispose()
    assert served.task is not None
    assert served.task.id != first.id
    assert await held_tasks(session, actor) == [served.task.id]


@pytest.mark.skipif(os.environ.get("QUORUM_TEST_DB") == "sqlite", reason="SQLite serialises the whole call")
async def test_two_tabs_asking_at_once_share_the_one_reservation(database_url, session, monkeypatch):
    """Two tabs of one annotator without a reservation ask for a task at once. The one that reserves
    second finds the task the first reserved and gets that same reservation, not a database error."""
    project, actor = await one_annotator(session)
    engine = make_engine(database_url)
    maker = make_sessionmaker(engine)
    first = []

    async def ask(other):
        first.append((await label_stream.next_task(other, actor, project.id, utcnow())).task)

    served = await next_with_other_tab_between(monkeypatch, maker, actor, project.id, ask)
    await engine.dispose()
    assert served.task is not None
    assert served.task.id == first[0].id
    assert await held_tasks(session, actor) == [served.task.id]
