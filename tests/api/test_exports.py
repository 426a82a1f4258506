"""One-shot export over the API: formats, filters, streaming headers."""

import csv
import io

import pytest

from app.domain.exports.json_tasks import min_rows
from tests.api.test_tasks import CHOICE, project_with_tasks
from tests.factories import SENTIMENT

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


TRICKY_TEXTS = ["two\nlines", 'a "quoted", comma', "carriage\rreturn", "tab\there", "naïve ☃", ""]


async def test_text_with_line_breaks_quotes_and_delimiters_comes_out_as_it_went_in(team):
    """The database sends a batch as one text of a line per task, and the tables quote only the cells
    that need it: neither may change a task's text."""
    pid = (await project_with_tasks(team, 0))[0]
    body = [{"data": {"review_text": t}, "annotations": [{"result": CHOICE}]} for t in TRICKY_TEXTS]
    await team.client.post(f"/api/projects/{pid}/import", json=body, headers=team.headers())

    async def export(kind):
        url = f"/api/projects/{pid}/export?exportType={kind}"
        return await team.client.get(url, headers=team.headers())

    assert [t["data"]["review_text"] for t in (await export("JSON")).json()] == TRICKY_TEXTS
    for kind, delimiter in (("CSV", ","), ("TSV", "\t")):
        text = (await export(kind)).content.decode()
        rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))
        assert [r["review_text"] for r in rows] == TRICKY_TEXTS
        assert {r["sentiment"] for r in rows} == {"Positive"}


@pytest.mark.parametrize("only_ground_truth", [False, True])
async def test_json_min_rows_are_those_of_the_full_json_export(team, only_ground_truth):
    """JSON_MIN and the tables are built from a slimmer task than JSON's: it must carry every field
    their rows read."""
    pid, ids = await annotated_project(team)
    await team.client.post(
        f"/api/tasks/{ids[2]}/annotations/",
        json={"result": CHOICE, "lead_time": 4, "ground_truth": True},
        headers=team.headers(),
    )
    params = {"download_all_tasks": "true", "only_ground_truth": str(only_ground_truth).lower()}
    export = {
        kind: (
            await team.client.get(
                f"/api/projects/{pid}/export", params={**params, "exportType": kind}, headers=team.headers()
            )
        ).json()
        for kind in ("JSON", "JSON_MIN")
    }
    assert export["JSON_MIN"] == [row for task in export["JSON"] for row in min_rows(task)]
    assert len(export["JSON_MIN"]) == (1 if only_ground_truth else 2)


async def test_unknown_format_is_400_and_formats_are_listed(team):
    pid, _ = await annotated_project(team)
    response = await team.client.get(f"/api/projects/{pid}/export?exportType=XML", headers=team.headers())
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]
    formats = (await team.client.get(f"/api/projects/{pid}/export/formats", headers=team.headers())).json()
    assert {"JSON", "JSON_MIN", "CSV", "TSV"} <= {f["name"] for f in formats if not f["disabled"]}


def _content(tasks):
    """What a round trip must keep of each task: its data, meta, annotations and predictions."""
    keep = ("completed_by", "result", "was_cancelled", "ground_truth", "lead_time")
    return [
        (
            t["data"],
            t["meta"],
            [{k: a[k] for k in keep} for a in t["annotations"]],
            [(p["result"], p["score"], p["model_version"]) for p in t["predictions"]],
        )
        for t in sorted(tasks, key=lambda t: t["inner_id"])
    ]


async def test_importing_a_projects_export_into_a_new_project_gives_the_same_tasks(team):
    pid, ids = await annotated_project(team)
    truth = {"result": CHOICE, "ground_truth": True}
    await team.client.post(f"/api/tasks/{ids[2]}/annotations/", json=truth, headers=team.headers())
    prediction = {"task": ids[0], "result": CHOICE, "score": 0.25, "model_version": "v7"}
    await team.client.post("/api/predictions", json=prediction, headers=team.headers())
    await team.client.patch(f"/api/tasks/{ids[1]}", json={"meta": {"source": "s3"}}, headers=team.headers())
    query = "exportType=JSON&download_all_tasks=true"
    exported = (await team.client.get(f"/api/projects/{pid}/export?{query}", headers=team.headers())).json()
    copy = (
        await team.client.post(
            "/api/projects", json={"title": "copy", "label_config": SENTIMENT}, headers=team.headers()
        )
    ).json()["id"]
    imported = await team.client.post(f"/api/projects/{copy}/import", json=exported, headers=team.headers())
    assert imported.status_code == 201, imported.text
    again = (await team.client.get(f"/api/projects/{copy}/export?{query}", headers=team.headers())).json()
    content = _content(exported)
    assert [len(annotations) for _, _, annotations, _ in content] == [1, 1, 1]
    assert (content[1][1], content[2][2][0]["ground_truth"], content[0][3]) == (
        {"source": "s3"},
        True,
        [(CHOICE, 0.25, "v7")],
    )
    assert _content(again) == content
    assert {t["id"] for t in again}.isdisjoint(ids)  # new tasks, not the old ones
