"""Both SDK clients' export snapshot flows, unchanged, against a live Quorum."""

import csv
import io
import json
import time

import pytest
from label_studio_sdk import Client, LabelStudio

from tests.compat.test_sdk_tutorial import SENTIMENT

pytestmark = pytest.mark.core

POSITIVE = [
    {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
]


def wait(get, done, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not done(current := get()):
        assert time.monotonic() < deadline, current
        time.sleep(0.1)
    return current


def test_legacy_client_snapshot_flow(live, sdk_token, tmp_path):
    ls = Client(url=live.url, api_key=sdk_token)
    project = ls.start_project(title="Snapshots", label_config=SENTIMENT)
    task_ids = project.import_tasks([{"review_text": f"review {i}"} for i in range(5)])
    project.create_annotation(task_ids[0], result=POSITIVE)

    created = project.export_snapshot_create(title="Legacy snapshot")
    assert created["title"] == "Legacy snapshot"
    status = wait(lambda: project.export_snapshot_status(created["id"]), lambda s: not s.is_in_progress())
    assert status.is_completed(), status.response
    assert status.response["counters"]["task_number"] == 5

    code, filename = project.export_snapshot_download(created["id"], export_type="JSON", path=str(tmp_path))
    assert code == 200
    assert filename.endswith(".json")
    tasks = json.loads((tmp_path / filename).read_text())
    assert [t["id"] for t in tasks] == task_ids
    assert tasks[0]["annotations"][0]["result"] == POSITIVE

    code, filename = project.export_snapshot_download(created["id"], export_type="CSV", path=str(tmp_path))
    rows = list(csv.DictReader(io.StringIO((tmp_path / filename).read_text())))
    assert [(r["review_text"], r["sentiment"]) for r in rows] == [("review 0", "Positive")]

    exported = project.export(title="One call", export_type="JSON_MIN", output_dir=str(tmp_path / "out"))
    assert exported["status"] == 200
    assert json.loads((tmp_path / "out" / exported["filename"]).read_text())[0]["sentiment"] == "Positive"

    listed = project.export_snapshot_list()
    assert [s["id"] for s in listed] == [exported["export_id"], created["id"]]
    assert project.export_snapshot_delete(created["id"]) == 204
    assert [s["id"] for s in project.export_snapshot_list()] == [exported["export_id"]]


def test_new_client_snapshot_flow(live, sdk_token):
    client = LabelStudio(base_url=live.url, api_key=sdk_token)
    project = client.projects.create(title="New snapshots", label_config=SENTIMENT)
    imported = client.projects.import_tasks(
        id=project.id, request=[{"review_text": f"r{i}"} for i in range(4)], return_task_ids=True
    )
    client.annotations.create(id=imported.task_ids[1], result=POSITIVE)
    exports = client.projects.exports

    created = exports.create(
        id=project.id,
        title="Annotated only",
        task_filter_options={"only_with_annotations": True},
        serialization_options={"annotations__completed_by": {"only_id": True}},
    )
    assert created.status == "in_progress"
    snapshot = wait(
        lambda: exports.get(id=project.id, export_pk=created.id), lambda s: s.status != "in_progress"
    )
    assert snapshot.status == "completed"
    assert snapshot.counters == {"task_number": 1, "annotation_number": 1, "prediction_number": 0}
    assert snapshot.created_by.username
    assert [e.id for e in exports.list(id=project.id)] == [created.id]

    tasks = json.loads(b"".join(exports.download(id=project.id, export_pk=created.id, export_type="JSON")))
    assert [t["id"] for t in tasks] == [imported.task_ids[1]]
    assert isinstance(tasks[0]["annotations"][0]["completed_by"], int)

    converted = exports.convert(id=project.id, export_pk=created.id, export_type="TSV")
    assert converted.export_type == "TSV"
    snapshot = wait(
        lambda: exports.get(id=project.id, export_pk=created.id),
        lambda s: s.converted_formats and s.converted_formats[0].status == "completed",
    )
    assert snapshot.converted_formats[0].id == converted.converted_format
    tsv = b"".join(exports.download(id=project.id, export_pk=created.id, export_type="TSV")).decode()
    assert tsv.splitlines()[1].split("\t")[-2] == "Positive"

    assert [t["id"] for t in exports.as_json(project.id)] == imported.task_ids
    exports.delete(id=project.id, export_pk=created.id)
    assert exports.list(id=project.id) == []
