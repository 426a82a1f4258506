"""Random sequences of next / submit / skip / draft / clock advance / settings change / task import /
pause / ground truth against the real service on PostgreSQL, checked after every step against the
reference model in `app.domain.label_stream`; annotator evaluation (onboarding, pause on failed
evaluation) included."""

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
from app.domain.agreement import task_agreement
from app.domain.errors import Conflict
from app.domain.label_stream import (
    StreamState,
    TaskView,
    Work,
    check_invariant,
    failed_evaluation,
    has_room,
    needs_another_annotator,
    pause,
    progress,
    save_draft,
    serve,
    skip,
    submit,
    unpause,
)
from app.domain.label_stream.state import counted_users
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

USERS = 3
ANSWERS = ("Positive", "Negative")


def answer(choice: str = "Positive") -> list[dict]:
    return [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [choice]}}]


CHOICE = answer()


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
        onboarding=st.integers(0, 2) | st.none(),
        pass_mark=st.tuples(st.integers(1, 2), st.sampled_from([50, 100])) | st.none(),
        low_agreement=st.tuples(st.integers(1, 2), st.sampled_from(["pairwise", "consensus"])) | st.none(),
    )
    def setup(self, overlap, skip_queue, sampling, scores, onboarding, pass_mark, low_agreement):
        """`onboarding`: None without annotator evaluation; `pass_mark`: (tasks, score) to pass it,
        or None when failing does not pause; `low_agreement`: (most annotators added, methodology)
        of the low agreement strategy, whose threshold is 1 (any disagreement), or None."""
        self.engine = make_engine(self.database_url)
        self.maker = make_sessionmaker(self.engine)
        self.now = utcnow()
        self.answers: dict[tuple[int, int], str] = {}  # (user, task) -> their latest submitted choice
        self.truth: dict[int, str] = {}  # task -> its ground truth choice
        self.paused_by_hand: set[int] = set()
        self.added: dict[int, int] = {}  # task -> annotators added by the low agreement strategy
        self.run(self._setup(overlap, skip_queue, sampling, scores, onboarding, pass_mark, low_agreement))

    async def _setup(self, overlap, skip_queue, sampling, scores, onboarding, pass_mark, low_agreement):
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
            if pass_mark is not None:
                payload["pause_on_failed_annotator_evaluation"] = True
                payload["annotator_evaluation_minimum_tasks"] = pass_mark[0]
                payload["annotator_evaluation_minimum_score"] = pass_mark[1]
            if low_agreement is not None:
                payload["assign_additional_annotator_on_low_agreement"] = True
                payload["max_additional_annotators_assignable"] = low_agreement[0]
                payload["agreement_methodology"] = low_agreement[1]
                payload["agreement_threshold"] = 1
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

    async def _refresh(self, session, *, overlaps_settled=True):
        """The model's view of the project after the service changed it (settings, imports, a ground
        truth). The model keeps its own overlaps, which the service's must equal; after a ground
        truth the caller checks them, once the model has applied the low agreement strategy."""
        project = await projects.get_project(session, self.owner, self.project_id)
        self.settings = settings_of(project)
        rows = list(await session.scalars(select(Task).where(Task.project_id == self.project_id)))
        known = self.state.tasks
        for t in rows:  # the test changes no overlap setting, and imports keep every task's overlap
            assert not overlaps_settled or t.id not in known or t.overlap == known[t.id].overlap, t.id
        truth = set(await session.scalars(select(Annotation.task_id).where(Annotation.ground_truth)))
        views = {
            t.id: TaskView(
                t.id,
                t.inner_id,
                known[t.id].overlap if t.id in known else t.overlap,
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

    @rule(
        user=st.integers(0, USERS - 1),
        kind=st.sampled_from(["submit", "skip"]),
        choice=st.sampled_from(ANSWERS),
    )
    def work(self, user, kind, choice):
        actor = self.actors[user]
        if not self.held(actor.user_id):
            self.next(user)  # take a task first, so that work is done often enough to matter
        held = self.held(actor.user_id)
        if not held:
            return
        task_id = held[0]
        payload = {"result": answer(choice)} if kind == "submit" else {"result": [], "was_cancelled": True}

        async def call():
            async with self.maker() as session:
                await annotations.create_annotation(session, actor, task_id, payload, now=self.now)
                await session.commit()

        self.run(call())
        counted = self.counted(task_id)
        if kind == "submit":
            self.state = submit(self.settings, self.state, actor.user_id, task_id, self.now)
            self.answers[actor.user_id, task_id] = choice
        else:
            self.state = skip(self.settings, self.state, actor.user_id, task_id, None, self.now)
        self.low_agreement(task_id, counted)
        self.evaluate()

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

        if not paused and user_id in self.failed_evaluation():
            with pytest.raises(Conflict, match="relax the evaluation settings"):
                self.run(call())  # only relaxing the settings unpauses them
            return
        self.run(call())
        if paused:
            self.paused_by_hand.add(user_id)
            self.state = pause(self.state, user_id, "by hand")
        else:
            self.paused_by_hand.discard(user_id)
            self.state = unpause(self.state, user_id)
        self.evaluate()

    def failed_evaluation(self) -> dict[int, str]:
        """The members "Pause annotator on failed evaluation" pauses, and why: their mean agreement
        with ground truth (here, choices equal or not) over the ground-truth tasks they submitted."""
        failed = {}
        for actor in self.actors:
            user_id = actor.user_id
            agreed = [
                self.answers[user_id, task] == truth
                for task, truth in self.truth.items()
                if (user_id, task) in self.answers
            ]
            score = sum(agreed) / len(agreed) if agreed else None
            if why := failed_evaluation(self.settings, score, len(agreed)):
                failed[user_id] = why
        return failed

    def evaluate(self) -> None:
        """Pauses as they stand: by hand, and by evaluation (which does not end a reservation)."""
        paused = {user_id: "by hand" for user_id in self.paused_by_hand}
        self.state = replace(self.state, paused=paused | self.failed_evaluation())

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

    @rule(index=st.integers(0, 7), choice=st.sampled_from(ANSWERS))
    def ground_truth(self, index, choice):
        """A manager records the verified answer of a task (it never fills a slot)."""
        task_id = sorted(self.state.tasks)[index % len(self.state.tasks)]
        task = self.state.tasks[task_id]
        if task.has_ground_truth and not has_room(
            self.settings, self.state, task, self.owner.user_id, self.now
        ):
            return  # the earlier ground truth would become a plain annotation of a full task: overfilled by hand

        async def call():
            async with self.maker() as session:
                payload = {"result": answer(choice), "ground_truth": True}
                await annotations.create_annotation(session, self.owner, task_id, payload, now=self.now)
                await session.commit()
                await self._refresh(session, overlaps_settled=False)

        self.run(call())
        counted = self.counted(task_id)
        if task_id in self.truth:
            self.answers[self.owner.user_id, task_id] = self.truth[task_id]
        # one ground truth per task: an earlier one becomes a plain annotation
        earlier = tuple(
            replace(w, ground_truth=False) if w.task_id == task_id else w for w in self.state.work
        )
        work = Work(self.owner.user_id, task_id, "submit", self.now, ground_truth=True)
        self.state = replace(self.state, work=(*earlier, work))
        self.truth[task_id] = choice
        self.low_agreement(task_id, counted)
        self.evaluate()

    def counted(self, task_id: int) -> set[int]:
        """The users whose annotations fill a slot of the task."""
        return counted_users(self.settings, self.state, task_id)

    def low_agreement(self, task_id: int, counted_before: set[int]) -> None:
        """The low agreement strategy, when a change finished the task: one more annotator if its
        annotators disagree; then the service's overlap of the task is the model's."""
        view = self.state.tasks[task_id]
        if len(counted_before) < view.overlap <= len(self.counted(task_id)):
            choices = [choice for (_, task), choice in self.answers.items() if task == task_id]
            methodology = self.settings.quality.agreement.methodology
            agreement = task_agreement(
                [answer(c) for c in choices], {"sentiment": "Choices"}, {}, methodology
            )
            if needs_another_annotator(self.settings, agreement, self.added.get(task_id, 0)):
                self.added[task_id] = self.added.get(task_id, 0) + 1
                view = replace(view, overlap=view.overlap + 1)
                self.state = replace(self.state, tasks={**self.state.tasks, task_id: view})

        async def overlap():
            async with self.maker() as session:
                return await session.scalar(select(Task.overlap).where(Task.id == task_id))

        assert self.run(overlap()) == view.overlap, task_id

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
