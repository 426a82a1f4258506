"""The stream's statements as PostgreSQL receives them: prepared once, they must stay cheap to plan."""

import itertools

from sqlalchemy.dialects import postgresql

from app.domain.task_state import SkipQueue
from app.services.label_stream import Form, _assigned_picks, _caller_statement, _queues


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
        query for form in _forms() for drafted in (False, True) for query, _ in _queues(form, drafted)
    ]
    statements += [
        query for flags in itertools.product((False, True), repeat=2) for query, _ in _assigned_picks(*flags)
    ]
    statements += [_caller_statement(False), _caller_statement(True)]
    for statement in statements:
        sql = _sql(statement)
        assert "LIMIT $" not in sql, sql
    assert "LIMIT 1" in _sql(statements[0])
