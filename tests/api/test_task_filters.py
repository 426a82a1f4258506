"""Data Manager filters of every column, operator and kind of value: each one the task list
accepts runs, each one it cannot run is a 400 naming the filter's value; numbers in data fields
compare as numbers."""

import itertools
import json

import pytest

from app.domain.task_query import KINDS, OPERATORS
from tests.api.test_projects import create

pytestmark = pytest.mark.core

DATA = [
    {"review_text": "t0", "score": 3},
    {"review_text": "5", "score": 7},
    {"review_text": "50% off_", "score": 10.5, "flag": True},
    {"review_text": "t3", "score": "n/a"},
    {"review_text": "t4", "score": [1]},
    {"review_text": "t5"},
]
VALUES = [
    None, True, 0, 3, 2**63, 1.5, 3.0, "", "3", "--3", "abc", "%", "\\", "2026-01-01T10:00:00Z", "2026-13-45",
    [], [3, "a"], [[1]], {"min": 1, "max": 9}, {"min": "a"}, {"min": None, "max": True},
]  # fmt: skip


def one_filter(column, operator, value):
    item = {"filter": f"filter:tasks:{column}", "operator": operator, "value": value, "type": "Number"}
    return json.dumps({"filters": {"conjunction": "and", "items": [item]}})


async def project_with_data(team):
    pid = (await create(team)).json()["id"]
    response = await team.client.post(
        f"/api/projects/{pid}/import?return_task_ids=1", json=DATA, headers=team.headers()
    )
    return pid, response.json()["task_ids"]


async def listed(team, pid, query):
    return await team.client.get(
        "/api/tasks", params={"project": pid, "query": query, "page_size": 100}, headers=team.headers()
    )


async def test_every_filter_runs_or_is_a_400_naming_its_value(team):
    """Every operator and kind of value the Data Manager or a script may send, on a column of each
    kind (whole number, true/false, date and time, data field of text, numbers and true/false)."""
    pid, _ = await project_with_data(team)
    columns = ["inner_id", "is_labeled", "created_at", "data.review_text", "data.score", "data.flag"]
    assert {KINDS[c] for c in columns if c in KINDS} == set(KINDS.values())
    refused = 0
    for column, operator, value in itertools.product(columns, sorted(OPERATORS), VALUES):
        response = await listed(team, pid, one_filter(column, operator, value))
        assert response.status_code in (200, 400), (column, operator, value, response.text)
        if response.status_code == 400:
            refused += 1
            assert "query.filters.items[0]" in response.json()["detail"], (column, operator, value)
    assert 0 < refused < len(columns) * len(OPERATORS) * len(VALUES)


async def test_numbers_in_data_fields_compare_as_numbers(team):
    """A number given for a data field compares with the numbers stored there (text, lists and
    missing values are never equal, less or greater), true/false with the true/false stored there;
    text compares as text."""
    pid, ids = await project_with_data(team)

    async def found(column, operator, value):
        response = await listed(team, pid, one_filter(column, operator, value))
        assert response.status_code == 200, response.text
        return [ids.index(t["id"]) for t in response.json()["tasks"]]

    assert await found("data.score", "greater", 5) == [1, 2]
    assert await found("data.score", "less_or_equal", 7.0) == [0, 1]
    assert await found("data.score", "equal", 3) == [0]
    assert await found("data.score", "not_equal", 3) == [1, 2]
    assert await found("data.score", "in", {"min": 4, "max": 11}) == [1, 2]
    assert await found("data.score", "not_in", {"min": 4, "max": 11}) == [0]
    assert await found("data.score", "in_list", [3, 10.5]) == [0, 2]
    assert await found("data.score", "equal", "n/a") == [3]
    assert await found("data.review_text", "equal", 5) == []  # "5" is text, not a number
    assert await found("data.review_text", "equal", "5") == [1]
    assert await found("data.review_text", "contains", 5) == [1, 2, 5]
    assert await found("data.review_text", "contains", "%") == [2]
    assert await found("data.review_text", "in_list", ["t0", 5]) == [0, 1]
    assert await found("data.flag", "equal", True) == [2]
    assert await found("data.flag", "in_list", [False]) == []
    assert await found("data.score", "equal", True) == []  # a number is not true


async def test_task_columns_take_their_values_as_the_data_manager_sends_them(team):
    """Whole numbers also as 3.0 or "3", true/false also as "true"/"1", dates as ISO text; what
    is not of the column's kind is a 400 that says what is wrong."""
    pid, ids = await project_with_data(team)

    async def found(column, operator, value):
        response = await listed(team, pid, one_filter(column, operator, value))
        assert response.status_code == 200, response.text
        return [ids.index(t["id"]) for t in response.json()["tasks"]]

    assert await found("inner_id", "greater", "4") == [4, 5]
    assert await found("inner_id", "less", 2.0) == [0]
    assert await found("inner_id", "in_list", [1, "6"]) == [0, 5]
    assert await found("is_labeled", "equal", "false") == [0, 1, 2, 3, 4, 5]
    assert await found("is_labeled", "equal", 1) == []
    assert await found("created_at", "greater", "2000-01-01T00:00:00Z") == [0, 1, 2, 3, 4, 5]
    assert await found("completed_at", "equal", None) == [0, 1, 2, 3, 4, 5]
    for column, operator, value, says in [
        ("inner_id", "greater", 1.5, "1.5 is not a whole number"),
        ("total_annotations", "in_list", [0, False], "items[0].value[1]: false is not a whole number"),
        ("id", "equal", 2**64, "out of range"),
        ("id", "less", None, "needs a value, not null"),
        ("is_labeled", "equal", "yes", '"yes" is not true or false'),
        ("updated_at", "in", {"min": "2026-01-01", "max": 3}, "items[0].value.max: 3 is not a date"),
        ("overlap", "in", [1, 2], "must be an object {min, max}"),
        ("data.score", "equal", {"a": 1}, "must be text or a number, not dict"),
        ("data.flag", "greater", True, "'greater' does not apply to true or false"),
    ]:
        response = await listed(team, pid, one_filter(column, operator, value))
        assert response.status_code == 400, (column, operator, value)
        assert says in response.json()["detail"], response.json()["detail"]
        assert response.json()["field"] == "query"


@pytest.mark.parametrize("operator", [[], {}, None, 3, "EQUAL"])
async def test_an_operator_that_is_not_one_of_the_names_is_a_400_naming_it(team, operator):
    pid, _ = await project_with_data(team)
    response = await listed(team, pid, one_filter("id", operator, 1))
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith("query.filters.items[0].operator: unknown operator")
