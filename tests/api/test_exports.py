"""One-shot export over the API: formats, filters, streaming headers."""

import csv
import io

import pytest

from tests.api.test_tasks import CHOICE, project_with_tasks

pytestmark = pytest.mark.core


async def annotated_project(team):
    pid, ids = await project_with_tasks(team, 3)
    await team.client.post(
        f"/api/tasks/{ids[0]}/annotations/", json={"result": CHOICE, "lead_time": 1.5}, headers=team.headers()
    )
    await team.client.post(
        f"/api/tasks/{ids[1]}/annotations/",
        json={"result": [], "was_cancelled": True},
        headers=team.headers(),
    )
    return pid, ids


async def test_json_export_defaults_to_annotated_tasks_including_skips(team):
    pid, ids = await annotated_project(team)
    response = await team.client.get(f"/api/projects/{pid}/export?exportType=JSON", headers=team.headers())
    assert response.status_code == 200
    assert 'filename="project-' in response.headers["content-disposition"]
    body = response.json()
    assert [t["id"] for t in body] == ids[:2]
    assert body[0]["annotations"][0]["result"] == CHOICE
    assert body[0]["data"] == {"review_text": "t0"}


async def test_download_all_tasks_and_ids_filter(team):
    pid, ids = await annotated_project(team)
    everything = (
        await team.client.get(
            f"/api/projects/{pid}/export?export_type=JSON&download_all_tasks=true", headers=team.headers()
        )
    ).json()
    assert [t["id"] for t in everything] == ids
    some = await team.client.get(
        f"/api/projects/{pid}/export",
        params=[("download_all_tasks", "True"), ("ids", ids[0]), ("ids", ids[2])],
        headers=team.headers(),
    )
    assert [t["id"] for t in some.json()] == [ids[0], ids[2]]


async def test_json_min_and_csv_have_one_row_per_submitted_annotation(team):
    pid, ids = await annotated_project(team)
    rows = (
        await team.client.get(f"/api/projects/{pid}/export?exportType=JSON_MIN", headers=team.headers())
    ).json()
    assert len(rows) == 1
    assert rows[0]["sentiment"] == "Positive"
    assert rows[0]["review_text"] == "t0"
    assert rows[0]["id"] == ids[0]
    assert rows[0]["lead_time"] == 1.5
    text = (await team.client.get(f"/api/projects/{pid}/export?exportType=CSV", headers=team.headers())).text
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert list(parsed[0]) == [
        "annotation_id",
        "annotator",
        "created_at",
        "id",
        "lead_time",
        "review_text",
        "sentiment",
        "updated_at",
    ]
    assert (parsed[0]["sentiment"], parsed[0]["review_text"]) == ("Positive", "t0")
    tsv = (await team.client.get(f"/api/projects/{pid}/export?exportType=TSV", headers=team.headers())).text
    assert tsv.splitlines()[0].split("\t")[0] == "annotation_id"


async def test_unknown_format_is_400_and_formats_are_listed(team):
    pid, _ = await annotated_project(team)
    response = await team.client.get(f"/api/projects/{pid}/export?exportType=XML", headers=team.headers())
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]
    formats = (await team.client.get(f"/api/projects/{pid}/export/formats", headers=team.headers())).json()
    assert {"JSON", "JSON_MIN", "CSV", "TSV"} <= {f["name"] for f in formats if not f["disabled"]}
