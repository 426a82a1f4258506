"""Export snapshots over the API: built by a job, downloaded, converted, listed, deleted; filters; errors."""

import asyncio
import csv
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from app.db.engine import make_sessionmaker
from app.db.models import ExportSnapshot, User
from app.domain.roles import Role
from app.services import export_snapshots, users
from app.services.jobs import take_pending
from tests.api.test_export_geometry import image_project
from tests.api.test_exports import annotated_project
from tests.api.test_projects import create as create_project
from tests.api.test_tasks import CHOICE

pytestmark = pytest.mark.core

LEGACY_OPTIONS = {
    "serialization_options": {
        "drafts": {"only_id": True},
        "predictions": {"only_id": True},
        "annotations__completed_by": {"only_id": True},
        "interpolate_key_frames": False,
    },
    "task_filter_options": {},
    "annotation_filter_options": {"usual": True, "ground_truth": True, "skipped": True},
}


async def create(team, pid, role=Role.OWNER, **body):
    response = await team.client.post(f"/api/projects/{pid}/exports/", json=body, headers=team.headers(role))
    assert response.status_code == 201, response.text
    return response.json()


async def poll(team, pid, export_id, done=lambda e: e["status"] != "in_progress", timeout=30.0):
    for _ in range(int(timeout / 0.05)):
        body = (
            await team.client.get(f"/api/projects/{pid}/exports/{export_id}", headers=team.headers())
        ).json()
        if done(body):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"export {export_id} still {body}")


async def built(team, pid, **body):
    created = await create(team, pid, **body)
    return await poll(team, pid, created["id"])


async def download(team, pid, export_id, export_type="JSON"):
    return await team.client.get(
        f"/api/projects/{pid}/exports/{export_id}/download?exportType={export_type}", headers=team.headers()
    )


async def folder_of(engine, export_id) -> Path:
    async with make_sessionmaker(engine)() as session:
        return Path(await session.scalar(select(ExportSnapshot.folder).where(ExportSnapshot.id == export_id)))


async def test_snapshot_is_built_downloaded_converted_listed_and_deleted(team, engine):
    pid, ids = await annotated_project(team)
    created = await create(team, pid, title="Weekly", **LEGACY_OPTIONS)
    assert created["status"] == "in_progress"
    assert created["title"] == "Weekly"
    assert created["created_by"]["email"] == "owner@example.com"
    assert created["converted_formats"] == []

    snapshot = await poll(team, pid, created["id"])
    assert snapshot["status"] == "completed", snapshot
    assert snapshot["counters"] == {"task_number": 3, "annotation_number": 2, "prediction_number": 0}
    assert snapshot["progress"] == {"tasks_done": 3, "tasks_total": 3}
    assert snapshot["finished_at"] is not None

    json_file = await download(team, pid, snapshot["id"])
    assert json_file.status_code == 200
    assert json_file.headers["content-disposition"].startswith('attachment; filename="project-')
    assert f'-{snapshot["md5"][:8]}.json"' in json_file.headers["content-disposition"]
    assert hashlib.md5(json_file.content).hexdigest() == snapshot["md5"]
    one_shot = await team.client.get(
        f"/api/projects/{pid}/export?exportType=JSON&download_all_tasks=true", headers=team.headers()
    )
    assert json_file.json() == one_shot.json()
    assert [t["id"] for t in json_file.json()] == ids

    converted = await team.client.post(
        f"/api/projects/{pid}/exports/{snapshot['id']}/convert",
        json={"export_type": "CSV", "download_resources": False},
        headers=team.headers(),
    )
    assert converted.status_code == 200
    assert converted.json()["export_type"] == "CSV"
    snapshot = await poll(
        team, pid, snapshot["id"], lambda e: e["converted_formats"][0]["status"] != "in_progress"
    )
    assert snapshot["converted_formats"] == [
        {
            "id": converted.json()["converted_format"],
            "export_type": "CSV",
            "status": "completed",
            "traceback": None,
        }
    ]
    csv_file = await download(team, pid, snapshot["id"], "CSV")
    assert csv_file.status_code == 200
    assert csv_file.headers["content-disposition"].endswith('.csv"')
    one_shot_csv = await team.client.get(f"/api/projects/{pid}/export?exportType=CSV", headers=team.headers())
    assert csv_file.text == one_shot_csv.text
    assert len([p for p in (await folder_of(engine, snapshot["id"])).iterdir()]) == 2

    newer = await built(team, pid, title="Newer")
    listed = (await team.client.get(f"/api/projects/{pid}/exports/", headers=team.headers())).json()
    assert [e["id"] for e in listed] == [newer["id"], snapshot["id"]]
    oldest_first = await team.client.get(
        f"/api/projects/{pid}/exports?ordering=created_at", headers=team.headers()
    )
    assert [e["id"] for e in oldest_first.json()] == [snapshot["id"], newer["id"]]

    folder = await folder_of(engine, snapshot["id"])
    assert folder.is_dir()
    deleted = await team.client.delete(
        f"/api/projects/{pid}/exports/{snapshot['id']}/", headers=team.headers()
    )
    assert deleted.status_code == 204
    await team.client.app.state.queue.drain()
    assert not folder.exists()
    gone = await team.client.get(f"/api/projects/{pid}/exports/{snapshot['id']}", headers=team.headers())
    assert gone.status_code == 404
    listed = (await team.client.get(f"/api/projects/{pid}/exports", headers=team.headers())).json()
    assert [e["id"] for e in listed] == [newer["id"]]


async def test_a_format_not_converted_yet_is_converted_while_downloading(team):
    pid, _ = await annotated_project(team)
    snapshot = await built(team, pid)
    response = await download(team, pid, snapshot["id"], "JSON_MIN")
    assert response.status_code == 200
    assert [row["sentiment"] for row in response.json()] == ["Positive"]
    assert response.headers["content-disposition"].endswith('.json"')


async def test_task_filters(team):
    pid, ids = await annotated_project(team)

    async def task_ids(task_filter_options):
        """The snapshot's tasks; its progress counts only those the filters keep."""
        snapshot = await built(team, pid, task_filter_options=task_filter_options)
        kept = [t["id"] for t in (await download(team, pid, snapshot["id"])).json()]
        assert snapshot["progress"] == {"tasks_done": len(kept), "tasks_total": len(kept)}
        return kept

    assert await task_ids({}) == ids
    assert await task_ids({"only_with_annotations": True}) == ids[:2]
    assert await task_ids({"annotated": "only"}) == ids[:1]
    assert await task_ids({"annotated": "exclude"}) == ids[1:]
    assert await task_ids({"skipped": "only"}) == ids[1:2]
    assert await task_ids({"finished": "only", "annotated": None}) == ids[:1]
    assert await task_ids({"finished": "exclude"}) == ids[1:]


async def test_annotation_filters_and_serialization(team):
    pid, ids = await annotated_project(team)
    await team.client.post(
        f"/api/tasks/{ids[2]}/annotations/",
        json={"result": CHOICE, "ground_truth": True},
        headers=team.headers(),
    )
    prediction = await team.client.post(
        "/api/predictions", json={"task": ids[2], "result": "Negative", "score": 0.2}, headers=team.headers()
    )

    async def annotations(**body):
        snapshot = await built(team, pid, **body)
        tasks = (await download(team, pid, snapshot["id"])).json()
        return snapshot, tasks, {t["id"]: [a["id"] for a in t["annotations"]] for t in tasks}

    _, tasks, everything = await annotations()
    assert [len(everything[i]) for i in ids] == [1, 1, 1]
    assert tasks[0]["annotations"][0]["completed_by"]["email"] == "owner@example.com"
    assert tasks[2]["predictions"][0]["score"] == 0.2

    snapshot, _, no_skips = await annotations(annotation_filter_options={"skipped": False})
    assert no_skips == {ids[0]: everything[ids[0]], ids[1]: [], ids[2]: everything[ids[2]]}
    assert snapshot["counters"]["annotation_number"] == 2
    assert snapshot["annotation_filter_options"] == {"usual": True, "ground_truth": True, "skipped": False}

    _, _, only_ground_truth = await annotations(annotation_filter_options={"usual": False, "skipped": False})
    assert only_ground_truth == {ids[0]: [], ids[1]: [], ids[2]: everything[ids[2]]}

    _, tasks, _ = await annotations(
        serialization_options={
            "predictions": {"only_id": True},
            "annotations__completed_by": {"only_id": True},
        }
    )
    assert tasks[2]["predictions"] == [prediction.json()["id"]]
    assert tasks[0]["annotations"][0]["completed_by"] == team.ids[Role.OWNER]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": 5}, "title"),
        ({"task_filter_options": {"annotated": "maybe"}}, "task_filter_options.annotated"),
        ({"task_filter_options": {"view": 3}}, "task_filter_options.view"),
        (
            {"task_filter_options": {"only_with_annotations": "yes"}},
            "task_filter_options.only_with_annotations",
        ),
        ({"annotation_filter_options": "all"}, "annotation_filter_options"),
        ({"serialization_options": {"drafts": {"only_id": 2}}}, "serialization_options.drafts.only_id"),
    ],
)
async def test_bad_options_are_400_naming_the_field(team, body, field):
    pid, _ = await annotated_project(team)
    response = await team.client.post(f"/api/projects/{pid}/exports", json=body, headers=team.headers())
    assert response.status_code == 400
    assert response.json()["field"] == field


async def test_unknown_snapshots_and_formats(team):
    pid, _ = await annotated_project(team)
    snapshot = await built(team, pid)
    base = f"/api/projects/{pid}/exports"
    for response in [
        await team.client.get(f"{base}/999", headers=team.headers()),
        await team.client.delete(f"{base}/999", headers=team.headers()),
        await team.client.get(f"{base}/999/download", headers=team.headers()),
        await team.client.post(f"{base}/999/convert", json={"export_type": "CSV"}, headers=team.headers()),
        await team.client.get(f"/api/projects/999/exports/{snapshot['id']}", headers=team.headers()),
    ]:
        assert response.status_code == 404
        assert "does not exist" in response.json()["detail"] or response.json()["detail"] == "Not found."
    unknown = await download(team, pid, snapshot["id"], "XML")
    assert unknown.status_code == 400
    assert "unknown export type" in unknown.json()["detail"]
    for body in [{"export_type": "XML"}, {"export_type": "JSON"}, {}]:
        response = await team.client.post(
            f"{base}/{snapshot['id']}/convert", json=body, headers=team.headers()
        )
        assert response.status_code == 400, body
    assert (await team.client.get(f"{base}?ordering=title", headers=team.headers())).status_code == 400


async def owner_actor(team, engine):
    async with make_sessionmaker(engine)() as session:
        return await users.actor_for(session, await session.get_one(User, team.ids[Role.OWNER]))


async def pending_snapshot(team, engine, pid, exports_dir):
    """A snapshot recorded but not sent to a runner: what a request leaves if no worker takes it."""
    actor = await owner_actor(team, engine)
    async with make_sessionmaker(engine)() as session:
        view = await export_snapshots.create_snapshot(session, actor, pid, title="t", exports_dir=exports_dir)
        await session.commit()
        take_pending(session)
    return view.snapshot.id


async def test_not_ready_snapshot_is_404_to_download_and_409_to_convert(team, engine, tmp_path):
    pid, _ = await annotated_project(team)
    export_id = await pending_snapshot(team, engine, pid, tmp_path)
    response = await download(team, pid, export_id)
    assert response.status_code == 404
    assert "not ready yet" in response.json()["detail"]
    response = await team.client.post(
        f"/api/projects/{pid}/exports/{export_id}/convert",
        json={"export_type": "CSV"},
        headers=team.headers(),
    )
    assert response.status_code == 409


async def test_a_build_that_cannot_write_fails_with_a_message(team, engine, tmp_path):
    pid, _ = await annotated_project(team)
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    export_id = await pending_snapshot(team, engine, pid, not_a_folder)
    await team.client.app.state.queue.send("run_export_snapshot", {"snapshot_id": export_id})
    snapshot = await poll(team, pid, export_id)
    assert snapshot["status"] == "failed"
    assert "NotADirectoryError" in snapshot["error"]
    response = await download(team, pid, export_id)
    assert response.status_code == 404
    assert "failed" in response.json()["detail"]


async def test_members_export_but_delete_only_their_own(team):
    pid, _ = await annotated_project(team)
    member = await team.client.post(
        f"/api/projects/{pid}/members", json={"user": team.ids[Role.ANNOTATOR]}, headers=team.headers()
    )
    assert member.status_code in (200, 201)
    owners = await built(team, pid)
    mine = await create(team, pid, Role.ANNOTATOR)
    path = f"/api/projects/{pid}/exports"
    denied = await team.client.delete(f"{path}/{owners['id']}", headers=team.headers(Role.ANNOTATOR))
    assert denied.status_code == 403
    allowed = await team.client.delete(f"{path}/{mine['id']}", headers=team.headers(Role.ANNOTATOR))
    assert allowed.status_code == 204
    other = await team.client.get(path, headers=team.headers(Role.REVIEWER))
    assert other.status_code == 404


@pytest.mark.parametrize("export_type", ["COCO", "YOLO", "VOC"])
async def test_image_formats_converted_from_the_snapshot_match_the_one_shot_export(team, export_type):
    pid = await image_project(team)
    snapshot = await built(team, pid)
    converted = await team.client.post(
        f"/api/projects/{pid}/exports/{snapshot['id']}/convert",
        json={"export_type": export_type},
        headers=team.headers(),
    )
    assert converted.status_code == 200
    await poll(team, pid, snapshot["id"], lambda e: e["converted_formats"][0]["status"] == "completed")
    stored = await download(team, pid, snapshot["id"], export_type)
    one_shot = await team.client.get(
        f"/api/projects/{pid}/export?exportType={export_type}&download_all_tasks=true",
        headers=team.headers(),
    )
    assert stored.headers["content-type"] == one_shot.headers["content-type"]
    assert unzipped(stored.content) == unzipped(one_shot.content)


def unzipped(content):
    """The archive's files, with the creation time COCO and YOLO write into their info left out."""
    files = {}
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            files[name] = archive.read(name)
            if name.endswith(".json"):
                files[name] = json.loads(files[name])
                files[name].get("info", {}).pop("date_created", None)
    return files


async def test_deleting_the_project_removes_its_snapshots_files(team, engine):
    pid, _ids = await annotated_project(team)
    snapshot = await built(team, pid, title="Kept until the project goes")
    folder = await folder_of(engine, snapshot["id"])
    assert folder.is_dir()
    assert (await team.client.delete(f"/api/projects/{pid}", headers=team.headers())).status_code == 204
    await team.client.app.state.queue.drain()
    assert not folder.exists()


BIG = [2**63, -(2**63), 2**64 - 1]  # past what ijson's C parser reads; the JSON columns hold them


async def test_whole_numbers_up_to_64_unsigned_bits_convert_and_import_back_exactly(team):
    """A snapshot of such numbers converts to another format (all read the snapshot by one parse), and
    its JSON file imports them unchanged."""
    pid = (await create_project(team)).json()["id"]
    tasks = [
        {"data": {"review_text": f"t{i}", "n": n}, "annotations": [{"result": CHOICE}]}
        for i, n in enumerate(BIG)
    ]
    body = json.dumps(tasks).encode()  # Python writes the numbers as they are
    json_headers = {**team.headers(), "Content-Type": "application/json"}
    assert (
        await team.client.post(f"/api/projects/{pid}/import", content=body, headers=json_headers)
    ).status_code == 201
    snapshot = await built(team, pid)
    response = await download(team, pid, snapshot["id"], "CSV")
    assert response.status_code == 200
    assert [row["n"] for row in csv.DictReader(io.StringIO(response.text))] == [str(n) for n in BIG]
    exported = (await download(team, pid, snapshot["id"])).content
    again = (await create_project(team)).json()["id"]
    response = await team.client.post(
        f"/api/projects/{again}/import?return_task_ids=1",
        files={"file": ("export.json", exported)},
        headers=team.headers(),
    )
    assert response.status_code == 201, response.text
    listed = await team.client.get(
        "/api/tasks", params={"project": again, "page_size": 10}, headers=team.headers()
    )
    assert sorted(t["data"]["n"] for t in listed.json()["tasks"]) == sorted(BIG)
