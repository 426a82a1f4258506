"""Random sequences of next / submit / skip / draft / clock advance / settings change / task import /
pause against the real service on PostgreSQL, checked after every step against the reference model
in `app.domain.label_stream`."""

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from app.db.base import utcnow
from app.db.engine import make_engine, make_sessionmaker
from app.db.models import Annotation, Organization, Task
from app.domain.label_stream import (
    StreamState,
    TaskView,
    Work,
    check_invariant,
    has_room,
    pause,
    progress,
    save_draft,
    serve,
    skip,
    submit,
    unpause,
)
from app.domain.roles import Role
from app.domain.task_import import TaskItem
from app.domain.task_query import TaskQuery
from app.services import (
    annotations,
    assignments,
    drafts,
    imports,
    label_stream,
    members,
    predictions,
    projects,
    users,
)
from app.services.projects import settings_of
from tests.conftest import empty_tables
from tests.factories import SENTIMENT

CHOICE = [
    {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
]
USERS = 3


class StreamMachine(RuleBasedStateMachine):
    database_url = ""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.engine = None

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    @initialize(
        overlap=st.integers(1, 3),
        skip_queue=st.sampled_from(["REQUEUE_FOR_ME", "REQUEUE_FOR_OTHERS", "IGNORE_SKIPPED"]),
        sampling=st.sampled_from(["Sequential sampling", "Uniform sampling", "Uncertainty sampling"]),
        scores=st.lists(st.none() | st.floats(0, 1), min_size=1, max_size=6),
        onboarding=st.none() | st.integers(0, 2),
    )
    def setup(self, overlap, skip_queue, sampling, scores, onboarding):
        self.engine = make_engine(self.database_url)
        self.maker = make_sessionmaker(self.engine)
        self.now = utcnow()
        self.run(self._setup(overlap, skip_queue, sampling, scores, onboarding))

    async def _setup(self, overlap, skip_queue, sampling, scores, onboarding):
        async with self.maker() as session:
            org = Organization(title="model")
            session.add(org)
            await session.flush()
            tag = uuid.uuid4().hex[:8]
            owner_user, _ = await users.create_user(
                session, email=f"o{tag}@x.io", role=Role.OWNER, organization_id=org.id
            )
            owner = await users.actor_for(session, owner_user)
            payload = {
                "label_config": SENTIMENT,
                "maximum_annotations": overlap,
                "skip_queue": skip_queue,
                "sampling": sampling,
                "model_version": "v1",
                "annotator_evaluation_enabled": onboarding is not None,
                "annotator_evaluation_onboarding_tasks": onboarding or 0,
            }
            project = await projects.create_project(session, owner, payload)
            self.owner = owner
            imported = await imports.import_tasks(
                session, owner, project.id, [TaskItem({"review_text": str(i)}) for i in range(len(scores))]
            )
            for task_id, score in zip(imported.task_ids, scores, strict=True):
                if score is not None:
                    prediction = {"task": task_id, "result": CHOICE, "score": score, "model_version": "v1"}
                    await predictions.create_prediction(session, owner, prediction)
            self.actors = []
            for i in range(USERS):
                user, _ = await users.create_user(
                    session, email=f"a{i}{tag}@x.io", role=Role.ANNOTATOR, organization_id=org.id
                )
                await members.add_member(session, owner, project.id, user.id)
                self.actors.append(await users.actor_for(session, user))
            await session.commit()
            self.project_id = project.id
            self.state = StreamState(tasks={})
            self.scores = dict(zip(imported.task_ids, scores, strict=True))
            await self._refresh(session)

    async def _refresh(self, session):
        """The model's view of the project after the service changed it (settings, imports)."""
        project = await projects.get_project(session, self.owner, self.project_id)
        self.settings = settings_of(project)
        rows = await session.scalars(select(Task).where(Task.project_id == self.project_id))
        truth = set(await session.scalars(select(Annotation.task_id).where(Annotation.ground_truth)))
        views = {
            t.id: TaskView(
                t.id,
                t.inner_id,
                t.overlap,
                t.random_key,
                t.allow_skip,
                has_ground_truth=t.id in truth,
                prediction_score=self.scores.get(t.id),
            )
            for t in rows
        }
        self.state = replace(self.state, tasks=views)

    @rule(user=st.integers(0, USERS - 1))
    def next(self, user):
        actor = self.actors[user]
        expected_state, decision = serve(self.settings, self.state, actor.user_id, self.now)

        async def call():
            async with self.maker() as session:
                served = await label_stream.next_task(session, actor, self.project_id, self.now)
                await session.commit()
                return served.task.id if served.task else None

        assert self.run(call()) == decision.task_id, decision
        self.state = expected_state

    @rule(user=st.integers(0, USERS - 1), kind=st.sampled_from(["submit", "skip"]))
    def work(self, user, kind):
        actor = self.actors[user]
        held = self.held(actor.user_id)
        if not held:
            return
        task_id = held[0]
        payload = {"result": CHOICE} if kind == "submit" else {"result": [], "was_cancelled": True}

        async def call():
            async with self.maker() as session:
                await annotations.create_annotation(session, actor, task_id, payload, now=self.now)
                await session.commit()

        self.run(call())
        if kind == "submit":
            self.state = submit(self.settings, self.state, actor.user_id, task_id, self.now)
        else:
            self.state = skip(self.settings, self.state, actor.user_id, task_id, None, self.now)

    def held(self, user_id):
        worked = {w.task_id for w in self.state.work if w.user_id == user_id}
        return [
            r.task_id
            for r in self.state.reservations
            if r.user_id == user_id and r.expires_at > self.now and r.task_id not in worked
        ]

    @rule(user=st.integers(0, USERS - 1), held=st.booleans())
    def draft(self, user, held):
        """Save a draft of the task the user holds, or of any task they open directly."""
        actor = self.actors[user]
        candidates = self.held(actor.user_id) if held else sorted(self.state.tasks)
        worked = {w.task_id for w in self.state.work if w.user_id == actor.user_id}
        candidates = [t for t in candidates if t not in worked]
        if not candidates:
            return
        task_id = candidates[0]

        async def call():
            async with self.maker() as session:
                await drafts.save_draft(session, actor, task_id, {"result": CHOICE}, self.now)
                await session.commit()

        self.run(call())
        self.state = save_draft(self.settings, self.state, actor.user_id, task_id, self.now)

    @rule(user=st.integers(0, USERS - 1), paused=st.booleans())
    def pause(self, user, paused):
        user_id = self.actors[user].user_id

        async def call():
            async with self.maker() as session:
                await members.set_paused(
                    session, self.owner, self.project_id, user_id, paused=paused, reason="by hand"
                )
                await session.commit()

        self.run(call())
        self.state = pause(self.state, user_id, "by hand") if paused else unpause(self.state, user_id)

    @rule(user=st.integers(0, USERS - 1), index=st.integers(0, 7))
    def assign(self, user, index):
        """An assignment left from manual assignment holds a slot in the automatic stream (T05)."""
        user_id = self.actors[user].user_id
        task_id = sorted(self.state.tasks)[index % len(self.state.tasks)]
        if not has_room(self.settings, self.state, self.state.tasks[task_id], user_id, self.now):
            return  # a manager overfilling a task by hand is outside the stream's invariant

        async def call():
            async with self.maker() as session:
                query = TaskQuery(selected_all=False, selected_ids=(task_id,))
                await assignments.assign(session, self.owner, self.project_id, [user_id], query, "AN")
                await session.commit()

        self.run(call())
        self.state = replace(self.state, assignments=self.state.assignments | {(user_id, task_id)})

    @rule(index=st.integers(0, 7))
    def ground_truth(self, index):
        """A manager records the verified answer of a task (it never fills a slot)."""
        task_id = sorted(self.state.tasks)[index % len(self.state.tasks)]
        task = self.state.tasks[task_id]
        if task.has_ground_truth and not has_room(
            self.settings, self.state, task, self.owner.user_id, self.now
        ):
            return  # the earlier ground truth would become a plain annotation of a full task: overfilled by hand

        async def call():
            async with self.maker() as session:
                payload = {"result": CHOICE, "ground_truth": True}
                await annotations.create_annotation(session, self.owner, task_id, payload, now=self.now)
                await session.commit()
                await self._refresh(session)

        self.run(call())
        # one ground truth per task: an earlier one becomes a plain annotation
        earlier = tuple(
            replace(w, ground_truth=False) if w.task_id == task_id else w for w in self.state.work
        )
        work = Work(self.owner.user_id, task_id, "submit", self.now, ground_truth=True)
        self.state = replace(self.state, work=(*earlier, work))

    @rule(count=st.integers(1, 2))
    def import_tasks(self, count):
        async def call():
            async with self.maker() as session:
                items = [TaskItem({"review_text": f"more {i}"}) for i in range(count)]
                await imports.import_tasks(session, self.owner, self.project_id, items)
                await session.commit()
                await self._refresh(session)

        self.run(call())

    @rule(
        skip_queue=st.sampled_from(["REQUEUE_FOR_ME", "REQUEUE_FOR_OTHERS", "IGNORE_SKIPPED"]),
        sampling=st.sampled_from(["Sequential sampling", "Uniform sampling", "Uncertainty sampling"]),
    )
    def change_settings(self, skip_queue, sampling):
        async def call():
            async with self.maker() as session:
                payload = {"skip_queue": skip_queue, "sampling": sampling}
                await projects.update_project(session, self.owner, self.project_id, payload)
                await session.commit()
                await self._refresh(session)

        self.run(call())

    @rule(minutes=st.sampled_from([0, 1, 30, 1441]))
    def tick(self, minutes):
        self.now += timedelta(minutes=minutes, seconds=1)

    @invariant()
    def overlap_holds(self):
        if self.engine is None:
            return
        assert check_invariant(self.state, self.now, self.settings) == []

    @invariant()
    def queue_counters_agree(self):
        """Each user's queue counters (served from maintained counters and small sets) are the model's."""
        if self.engine is None:
            return

        async def call():
            async with self.maker() as session:
                project = await projects.get_project(session, self.owner, self.project_id)
                return [await label_stream.queue_counters(session, a, project, self.now) for a in self.actors]

        for actor, counters in zip(self.actors, self.run(call()), strict=True):
            expected = progress(self.settings, self.state, actor.user_id, self.now)
            assert counters == {key: expected[key] for key in counters}, actor.user_id

    def teardown(self):
        if self.engine is not None:
            self.run(self.engine.dispose())
        self.loop.close()


def test_service_agrees_with_the_reference_model(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the stateful comparison runs on PostgreSQL")
    StreamMachine.database_url = database_url
    try:
        run_state_machine_as_test(
            StreamMachine, settings=settings(max_examples=30, stateful_step_count=25, deadline=None)
        )
    finally:
        engine = make_engine(database_url)

        async def clean():
            await empty_tables(engine)
            await engine.dispose()

        asyncio.run(clean())
