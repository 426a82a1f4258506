"""Leases of snapshot builds and conversions: only the runner holding one renews it or records the outcome.

Each call runs in its own committed transaction, as a runner's job units do.
"""

import pytest

from app.db.engine import make_sessionmaker
from app.db.models import ExportFormat, ExportSnapshot
from app.domain.errors import Conflict
from app.services import export_snapshots
from tests.workers.test_export_snapshots import (
    expire_lease,
    in_unit,
    project_with_snapshot,
    snapshot_with_conversion,
    stored,
)

pytestmark = pytest.mark.core


async def nothing(*_args):
    """Progress nobody records: the runner's writes to the database are what the test calls itself."""


async def test_a_runner_whose_snapshot_was_taken_over_cannot_renew_fail_or_finish_it(
    session, engine, tmp_path
):
    _, _, export_id = await project_with_snapshot(session, tmp_path, n=3)
    units = make_sessionmaker(engine)
    slow = await in_unit(units, export_snapshots.claim_snapshot, export_id)
    await expire_lease(units, ExportSnapshot, export_id)
    fast = await in_unit(units, export_snapshots.claim_snapshot, export_id)
    assert fast.runner != slow.runner
    slow_written = await export_snapshots.write_snapshot(units, slow, nothing)

    with pytest.raises(Conflict):
        await in_unit(units, export_snapshots.record_progress, slow, 3)
    assert await in_unit(units, export_snapshots.fail_snapshot, slow, "too slow") is False
    assert await in_unit(units, export_snapshots.finish_snapshot, slow, slow_written) is False
    snapshot = await stored(units, ExportSnapshot, export_id)
    assert (snapshot.status, snapshot.error, snapshot.file_path) == ("in_progress", "", "")
    assert (snapshot.runner, snapshot.tasks_done) == (fast.runner, 0)

    await in_unit(units, export_snapshots.record_progress, fast, 3)
    fast_written = await export_snapshots.write_snapshot(units, fast, nothing)
    assert await in_unit(units, export_snapshots.finish_snapshot, fast, fast_written) is True
    snapshot = await stored(units, ExportSnapshot, export_id)
    assert (snapshot.status, snapshot.file_path, snapshot.md5) == (
        "completed",
        str(fast.path),
        fast_written.md5,
    )
    assert (snapshot.tasks_done, snapshot.runner, snapshot.lease_until) == (3, None, None)


async def test_a_runner_whose_conversion_was_taken_over_cannot_renew_fail_or_finish_it(
    session, engine, tmp_path
):
    c = await snapshot_with_conversion(session, engine, tmp_path)
    units, format_id = c.units, c.format_id
    slow = await in_unit(units, export_snapshots.claim_conversion, format_id)
    await expire_lease(units, ExportFormat, format_id)
    fast = await in_unit(units, export_snapshots.claim_conversion, format_id)
    assert fast.runner != slow.runner
    await export_snapshots.write_conversion(slow, nothing)

    with pytest.raises(Conflict):
        await in_unit(units, export_snapshots.renew_conversion, slow)
    assert await in_unit(units, export_snapshots.fail_conversion, slow, "too slow") is False
    assert await in_unit(units, export_snapshots.finish_conversion, slow) is False
    converted = await stored(units, ExportFormat, format_id)
    assert (converted.status, converted.traceback, converted.file_path) == ("in_progress", "", "")
    assert converted.runner == fast.runner

    await in_unit(units, export_snapshots.renew_conversion, fast)
    await export_snapshots.write_conversion(fast, nothing)
    assert await in_unit(units, export_snapshots.finish_conversion, fast) is True
    converted = await stored(units, ExportFormat, format_id)
    assert (converted.status, converted.file_path, converted.runner) == ("completed", str(fast.path), None)
