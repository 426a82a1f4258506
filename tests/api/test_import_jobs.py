"""Large imports run as jobs: `{"import": id}` at once, then polled until completed or failed."""

import asyncio

import orjson
import pytest

from app.services import imports
from tests.api.test_imports import count_tasks, project_id, upload

pytestmark = pytest.mark.core


async def poll(team, pid, import_id, timeout=60.0):
    for _ in range(int(timeout / 0.1)):
        body = (
            await team.client.get(f"/api/projects/{pid}/imports/{import_id}/", headers=team.headers())
        ).json()
        if body["status"] in ("completed", "failed"):
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"import {import_id} still {body['status']}")


def big_tasks(n):
    return [{"review_text": f"review {i} " + "x" * 80} for i in range(n)]


async def test_large_json_body_becomes_a_job_with_task_ids(team):
    pid = await project_id(team)
    tasks = big_tasks(2000)
    response = await team.client.post(
        f"/api/projects/{pid}/import?return_task_ids=true",
        content=orjson.dumps(tasks),
        headers={**team.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 201
    assert set(response.json()) == {"import"}
    job = await poll(team, pid, response.json()["import"])
    assert job["status"] == "completed", job
    assert job["task_count"] == 2000
    assert len(job["task_ids"]) == 2000
    assert job["progress"] == {"rows_done": 2000, "rows_total": 2000}
    assert await count_tasks(team, pid) == 2000
    first = (await team.client.get(f"/api/tasks/{job['task_ids'][0]}", headers=team.headers())).json()
    assert first["data"] == tasks[0]
    assert first["inner_id"] == 1


async def test_large_csv_upload_becomes_a_job(team):
    pid = await project_id(team)
    content = "review_text,n\n" + "".join(f"row {i} {'y' * 60},{i}\n" for i in range(3000))
    response = await upload(team, pid, "big.csv", content.encode())
    job = await poll(team, pid, response.json()["import"])
    assert job["status"] == "completed"
    assert await count_tasks(team, pid) == 3000


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ({"other": "missing the key"}, "review_text"),
        ({"review_text": "late in the file", "note": "a NUL \u0000 here"}, "NUL"),  # no database write fails
    ],
)
async def test_a_bad_row_fails_the_job_naming_it_and_nothing_is_written(team, bad, says):
    pid = await project_id(team)
    tasks = big_tasks(2000)
    tasks[1499] = bad
    response = await team.client.post(
        f"/api/projects/{pid}/import",
        content=orjson.dumps(tasks),
        headers={**team.headers(), "Content-Type": "application/json"},
    )
    job = await poll(team, pid, response.json()["import"])
    assert job["status"] == "failed"
    assert "task 1500" in job["error"]
    assert says in job["error"]
    assert await count_tasks(team, pid) == 0


async def test_broken_json_file_fails_the_job(team):
    pid = await project_id(team)
    content = orjson.dumps(big_tasks(1000))[:-5]
    response = await upload(team, pid, "broken.json", content)
    job = await poll(team, pid, response.json()["import"])
    assert job["status"] == "failed"
    assert "not valid JSON" in job["error"]
    assert await count_tasks(team, pid) == 0


async def test_unknown_import_is_404(team):
    pid = await project_id(team)
    assert (
        await team.client.get(f"/api/projects/{pid}/imports/999", headers=team.headers())
    ).status_code == 404


async def test_a_job_stores_predictions_given_as_a_bare_label_as_full_results(team):
    """The job reads its file twice, to check and then to write: the write must store what the
    check made of each prediction, as a small import does."""
    pid = await project_id(team)
    tasks = [{"data": row, "predictions": [{"result": "Positive", "score": 0.5}]} for row in big_tasks(2000)]
    response = await team.client.post(
        f"/api/projects/{pid}/import?return_task_ids=true",
        content=orjson.dumps(tasks),
        headers={**team.headers(), "Content-Type": "application/json"},
    )
    job = await poll(team, pid, response.json()["import"])
    assert job["status"] == "completed", job
    task = (await team.client.get(f"/api/tasks/{job['task_ids'][-1]}", headers=team.headers())).json()
    result = task["predictions"][0]["result"]
    assert isinstance(result, list), result
    [result] = result
    assert (result["from_name"], result["value"]) == ("sentiment", {"choices": ["Positive"]})


async def test_a_cell_past_128_kib_is_imported_by_a_job(team):
    pid = await project_id(team)
    long = "z" * 200_000
    content = "review_text,n\n" + "".join(f"row {i},{i}\n" for i in range(100)) + f"{long},100\n"
    job = await poll(team, pid, (await upload(team, pid, "big.csv", content.encode())).json()["import"])
    assert job["status"] == "completed", job
    assert await count_tasks(team, pid) == 101


def uploads(team) -> list:
    return sorted((team.client.app.state.settings.data_dir / "imports").glob("*"))


async def test_a_failed_job_removes_its_upload(team):
    pid = await project_id(team)
    before = uploads(team)
    content = orjson.dumps(big_tasks(1000))[:-5]
    job = await poll(team, pid, (await upload(team, pid, "broken.json", content)).json()["import"])
    assert job["status"] == "failed"
    assert uploads(team) == before


async def test_an_unforeseen_error_reading_the_file_fails_the_job_instead_of_retrying_it(team, monkeypatch):
    """An error that recurs on every run must end the job; the reaper would otherwise run it forever."""

    def broken(config, items, first_row=1):
        raise RuntimeError("a server bug")

    monkeypatch.setattr(imports, "check_items", broken)
    pid = await project_id(team)
    content = orjson.dumps(big_tasks(1000))
    job = await poll(team, pid, (await upload(team, pid, "tasks.json", content)).json()["import"])
    assert job["status"] == "failed"
    assert (
        job["error"]
        == "the file could not be read from task 1 on (a server error, logged); nothing was imported"
    )
    assert await count_tasks(team, pid) == 0
