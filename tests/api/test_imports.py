"""Importing tasks: JSON bodies and files, Label Studio's response shape, errors that name the row."""

import codecs

import orjson
import pytest

from tests.api.test_projects import create

pytestmark = pytest.mark.core


async def project_id(team) -> int:
    return (await create(team)).json()["id"]


async def count_tasks(team, pid) -> int:
    return (await team.client.get(f"/api/projects/{pid}", headers=team.headers())).json()["task_number"]


async def test_json_body_import_answers_in_community_shape(team):
    pid = await project_id(team)
    tasks = [{"data": {"review_text": "good"}}, {"review_text": "flat form"}]
    response = await team.client.post(
        f"/api/projects/{pid}/import?return_task_ids=1", json=tasks, headers=team.headers()
    )
    assert response.status_code == 201
    body = response.json()
    assert body["task_count"] == 2
    assert len(body["task_ids"]) == 2
    assert body["prediction_count"] == body["predictions_count"] == 0
    task = (await team.client.get(f"/api/tasks/{body['task_ids'][1]}", headers=team.headers())).json()
    assert task["data"] == {"review_text": "flat form"}
    assert task["inner_id"] == 2


async def test_task_ids_only_when_asked(team):
    pid = await project_id(team)
    body = (
        await team.client.post(
            f"/api/projects/{pid}/import", json=[{"review_text": "a"}], headers=team.headers()
        )
    ).json()
    assert "task_ids" not in body


async def test_single_object_is_one_task(team):
    pid = await project_id(team)
    body = (
        await team.client.post(
            f"/api/projects/{pid}/import", json={"review_text": "a"}, headers=team.headers()
        )
    ).json()
    assert body["task_count"] == 1


async def test_inline_annotations_and_predictions_are_imported(team):
    pid = await project_id(team)
    result = [
        {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Negative"]}}
    ]
    tasks = [
        {
            "data": {"review_text": "bad"},
            "annotations": [{"result": result}],
            "predictions": [{"result": result, "score": 0.4, "model_version": "m1"}],
        }
    ]
    body = (
        await team.client.post(
            f"/api/projects/{pid}/import?return_task_ids=true", json=tasks, headers=team.headers()
        )
    ).json()
    assert body["annotation_count"] == 1
    assert body["prediction_count"] == 1
    task = (await team.client.get(f"/api/tasks/{body['task_ids'][0]}", headers=team.headers())).json()
    assert task["is_labeled"] is True
    assert task["total_annotations"] == 1
    assert task["annotations"][0]["result"] == result
    assert task["predictions"][0]["score"] == 0.4


async def test_missing_data_key_is_400_naming_the_key_and_row(team):
    pid = await project_id(team)
    tasks = [{"review_text": "ok"}, {"other": "x"}]
    response = await team.client.post(f"/api/projects/{pid}/import", json=tasks, headers=team.headers())
    assert response.status_code == 400
    assert "task 2" in response.json()["detail"]
    assert "review_text" in response.json()["detail"]
    assert await count_tasks(team, pid) == 0


async def test_bad_inline_result_names_the_row_and_nothing_is_imported(team):
    pid = await project_id(team)
    bad = [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Maybe"]}}]
    tasks = [{"review_text": "ok"}, {"data": {"review_text": "x"}, "annotations": [{"result": bad}]}]
    response = await team.client.post(f"/api/projects/{pid}/import", json=tasks, headers=team.headers())
    assert response.status_code == 400
    assert "task 2" in response.json()["detail"]
    assert "Maybe" in response.json()["detail"]
    assert await count_tasks(team, pid) == 0


async def upload(team, pid, name, content: bytes):
    return await team.client.post(
        f"/api/projects/{pid}/import?return_task_ids=true",
        files={"file": (name, content)},
        headers=team.headers(),
    )


async def test_a_nul_character_is_400_naming_the_row_and_nothing_is_imported(team):
    """PostgreSQL's text and jsonb cannot hold \\u0000: refused before any write, on every database,
    so a project moves between them."""
    pid = await project_id(team)
    tasks = [{"review_text": "fine"}, {"data": {"review_text": "ok"}, "meta": {"x\u0000": 1}}]
    response = await team.client.post(f"/api/projects/{pid}/import", json=tasks, headers=team.headers())
    assert response.status_code == 400
    assert "task 2" in response.json()["detail"]
    assert "NUL" in response.json()["detail"]
    assert await count_tasks(team, pid) == 0
    backslash = [{"review_text": "a literal \\u0000 is six characters"}]
    response = await team.client.post(f"/api/projects/{pid}/import", json=backslash, headers=team.headers())
    assert response.status_code == 201


async def test_csv_tsv_json_and_jsonl_uploads(team):
    pid = await project_id(team)
    cases = {
        "a.csv": b'review_text,stars\ngreat,5\n"with, comma",3\n',
        "b.tsv": b"review_text\tstars\nfine\t4\n",
        "c.json": b'[{"review_text": "j1"}, {"data": {"review_text": "j2"}}]',
        "d.jsonl": b'{"review_text": "l1"}\n\n{"review_text": "l2"}\n',
    }
    counts = {}
    for name, content in cases.items():
        response = await upload(team, pid, name, content)
        assert response.status_code == 201, response.text
        counts[name] = response.json()["task_count"]
    assert counts == {"a.csv": 2, "b.tsv": 1, "c.json": 2, "d.jsonl": 2}
    page = (await team.client.get(f"/api/tasks?project={pid}&page_size=100", headers=team.headers())).json()
    texts = [t["data"]["review_text"] for t in page["tasks"]]
    assert texts == ["great", "with, comma", "fine", "j1", "j2", "l1", "l2"]
    assert page["tasks"][0]["data"]["stars"] == "5"


async def test_malformed_json_lines_upload_names_the_line(team):
    pid = await project_id(team)
    response = await upload(team, pid, "x.jsonl", b'{"review_text": "a"}\n{"review_text": \n')
    assert response.status_code == 400
    assert "line 2" in response.json()["detail"]
    assert await count_tasks(team, pid) == 0


async def test_ragged_csv_row_names_the_line(team):
    pid = await project_id(team)
    response = await upload(team, pid, "x.csv", b"review_text,stars\na,1\nb,2,3\n")
    assert response.status_code == 400
    assert "line 3" in response.json()["detail"]
    assert await count_tasks(team, pid) == 0


async def test_unknown_file_type_is_400(team):
    pid = await project_id(team)
    response = await upload(team, pid, "x.exe", b"MZ")
    assert response.status_code == 400
    assert ".csv" in response.json()["detail"]


async def test_bulk_prediction_import_and_unknown_task(team):
    pid = await project_id(team)
    ids = (
        await team.client.post(
            f"/api/projects/{pid}/import?return_task_ids=1",
            json=[{"review_text": "a"}],
            headers=team.headers(),
        )
    ).json()["task_ids"]
    good = [{"task": ids[0], "result": "Positive", "score": 0.9, "model_version": "v2"}]
    response = await team.client.post(
        f"/api/projects/{pid}/import/predictions", json=good, headers=team.headers()
    )
    assert response.status_code == 201
    assert response.json() == {"created": 1}
    prediction = (await team.client.get(f"/api/predictions?task={ids[0]}", headers=team.headers())).json()[0]
    assert prediction["result"][0]["value"] == {"choices": ["Positive"]}
    bad = [{"task": 999999, "result": "Positive"}]
    response = await team.client.post(
        f"/api/projects/{pid}/import/predictions", json=bad, headers=team.headers()
    )
    assert response.status_code == 400
    assert "999999" in response.json()["detail"]
    for task in (True, "1", None):  # JSON's true is no task id, though Python counts it as 1
        response = await team.client.post(
            f"/api/projects/{pid}/import/predictions", json=[{"task": task}], headers=team.headers()
        )
        assert response.status_code == 400
        assert response.json()["detail"] == "prediction 1: needs a task id"


async def test_what_the_database_could_not_store_as_sent_is_400_naming_the_task(team):
    """A model version past its column, a value nested past what the JSON columns' encoder writes:
    each a 400 naming the task and field, on every database, with nothing imported."""
    pid = await project_id(team)
    deep = b"[" * 300 + b"]" * 300  # JSON text: no encoder writes it
    json_headers = {**team.headers(), "Content-Type": "application/json"}
    version = orjson.dumps(
        {"data": {"review_text": "b"}, "predictions": [{"result": [], "model_version": "m" * 201}]}
    )
    for body, says in [
        (
            b'[{"review_text": "a"}, ' + version + b"]",
            "task 2: predictions[0].model_version is longer than 200",
        ),
        (
            b'[{"review_text": "a", "deep": ' + deep + b"}]",
            "task 1: a value cannot be stored (Recursion limit reached)",
        ),
    ]:
        response = await team.client.post(f"/api/projects/{pid}/import", content=body, headers=json_headers)
        assert response.status_code == 400, response.text
        assert response.json()["detail"].startswith(says)
    assert await count_tasks(team, pid) == 0
    imported = await team.client.post(
        f"/api/projects/{pid}/import?return_task_ids=1", json=[{"review_text": "a"}], headers=team.headers()
    )
    task = imported.json()["task_ids"][0]
    response = await team.client.post(
        f"/api/projects/{pid}/import/predictions",
        json=[{"task": task, "result": "Positive", "model_version": "m" * 201}],
        headers=team.headers(),
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "prediction 1: model_version is longer than 200 characters"
    patch = b'{"data": {"review_text": "a", "deep": ' + deep + b"}}"
    response = await team.client.patch(f"/api/tasks/{task}", content=patch, headers=json_headers)
    assert response.status_code == 400, response.text
    assert (
        response.json()["detail"] == "A JSON value in the request cannot be stored: Recursion limit reached."
    )


RATED = '<View><Text name="text" value="$text"/><Rating name="stars" toName="text"/></View>'


@pytest.mark.parametrize("label", ["99999999999999999999999", 2**64])
async def test_a_rating_past_what_json_columns_store_is_400(team, label):
    """One prediction (through the ORM) and many (a bulk COPY, encoding by itself) alike."""
    pid = (await create(team, label_config=RATED)).json()["id"]
    imported = await team.client.post(
        f"/api/projects/{pid}/import?return_task_ids=1", json=[{"text": "a"}], headers=team.headers()
    )
    task = imported.json()["task_ids"][0]
    one = await team.client.post(
        "/api/predictions", json={"task": task, "result": label}, headers=team.headers()
    )
    many = await team.client.post(
        f"/api/projects/{pid}/import/predictions",
        json=[{"task": task, "result": label}],
        headers=team.headers(),
    )
    for response in (one, many):
        assert response.status_code == 400, response.text
        assert (
            response.json()["detail"]
            == "A JSON value in the request cannot be stored: Integer exceeds 64-bit range."
        )


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("a.json", b'[{"review_text": "bom"}]'),
        ("a.json", b'{"review_text": "bom"}'),
        ("a.jsonl", b'{"review_text": "bom"}\n'),
        ("a.csv", b"review_text\nbom\n"),
    ],
)
async def test_a_file_starting_with_a_utf8_byte_order_mark_is_read_as_without(team, name, content):
    """Windows editors save UTF-8 with a byte order mark."""
    pid = await project_id(team)
    response = await upload(team, pid, name, codecs.BOM_UTF8 + content)
    assert response.status_code == 201, response.text
    page = (await team.client.get(f"/api/tasks?project={pid}", headers=team.headers())).json()
    assert [t["data"] for t in page["tasks"]] == [{"review_text": "bom"}]


async def test_a_json_body_starting_with_a_byte_order_mark_is_read_as_without(team):
    pid = await project_id(team)
    body = codecs.BOM_UTF8 + b'[{"review_text": "bom"}]'
    headers = {**team.headers(), "Content-Type": "application/json"}
    response = await team.client.post(f"/api/projects/{pid}/import", content=body, headers=headers)
    assert response.status_code == 201, response.text
    assert await count_tasks(team, pid) == 1


@pytest.mark.parametrize(
    ("second", "detail"),
    [
        (("bad.csv", b"review_text\nb,c\n"), "bad.csv: line 2: 2 fields where the header has 1"),
        (
            ("second.json", b'[{"review_text": "c"}, {"other": "d"}]'),
            "second.json: task 2: task data lacks 'review_text'",
        ),
    ],
    ids=["unreadable", "invalid task"],
)
async def test_a_bad_file_among_several_is_named_and_so_is_the_task_s_number_in_it(team, second, detail):
    """A line that cannot be read, or a task that fails validation, is named by its file and its
    place in that file, not counted across the files (the first file fills several of the parts
    an import is checked and written in)."""
    pid = await project_id(team)
    first = b"review_text\n" + b"".join(b"r%d\n" % i for i in range(60))
    response = await team.client.post(
        f"/api/projects/{pid}/import",
        files=[("file", ("first.csv", first)), ("file", second)],
        headers=team.headers(),
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)
    assert await count_tasks(team, pid) == 0


async def test_whole_numbers_are_stored_as_sent_or_refused_never_changed(team):
    """A whole number past 64 bits would be read as a float, another number: it is refused instead,
    in a body and in JSON lines; up to 2^64 - 1, and digits in a text, are kept exactly."""
    pid = await project_id(team)
    json_headers = {**team.headers(), "Content-Type": "application/json"}
    past = b'[{"review_text": "a", "n": 123456789012345678901234}]'
    for response in (
        await team.client.post(f"/api/projects/{pid}/import", content=past, headers=json_headers),
        await upload(team, pid, "a.jsonl", past[1:-1] + b"\n"),
    ):
        assert response.status_code == 400, response.text
        assert response.json()["detail"].startswith(
            "task 1: a value cannot be stored (Integer exceeds 64-bit range)"
        )
    nan = b'[{"review_text": "12345678901234567890123", "n": NaN}]'
    response = await team.client.post(f"/api/projects/{pid}/import", content=nan, headers=json_headers)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - NaN is not a JSON value")
    kept = b'[{"review_text": "12345678901234567890123", "n": 18446744073709551615}]'
    response = await team.client.post(f"/api/projects/{pid}/import", content=kept, headers=json_headers)
    assert response.status_code == 201, response.text
    page = (await team.client.get(f"/api/tasks?project={pid}", headers=team.headers())).json()
    assert [t["data"] for t in page["tasks"]] == [{"review_text": "12345678901234567890123", "n": 2**64 - 1}]


async def test_half_a_surrogate_pair_is_refused_and_a_whole_one_kept(team):
    """A lone escaped half was stored as "?" from a .json file; JSON bodies and lines refused it."""
    pid = await project_id(team)
    response = await upload(team, pid, "a.json", b'[{"review_text": "ok"}, {"review_text": "\\ud800x"}]')
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith("task 2: a value cannot be stored (str is not valid UTF-8")
    response = await upload(team, pid, "a.json", b'[{"review_text": "\\ud83d\\ude00"}]')
    assert response.status_code == 201
    page = (await team.client.get(f"/api/tasks?project={pid}", headers=team.headers())).json()
    assert [t["data"] for t in page["tasks"]] == [{"review_text": "\U0001f600"}]
