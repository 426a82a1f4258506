"""The tutorial's SDK code, run unchanged against a live Quorum with only the URL and key changed."""

import time

import pytest
from label_studio_sdk import Client, LabelStudio

pytestmark = pytest.mark.core

SENTIMENT = """
    <View>
      <Text name="text" value="$review_text"/>
      <Choices name="sentiment" toName="text" choice="single">
        <Choice value="Positive"/>
        <Choice value="Negative"/>
        <Choice value="Neutral"/>
      </Choices>
    </View>
    """


def test_legacy_client_tutorial_flow(live, sdk_token):
    ls = Client(url=live.url, api_key=sdk_token)
    assert ls.check_connection()["status"] == "UP"
    project = ls.start_project(title="Product Review Sentiment", label_config=SENTIMENT)
    tasks = [
        {"data": {"review_text": "This product exceeded my expectations!"}},
        {"data": {"review_text": "Terrible quality, broke after one day."}},
        {"data": {"review_text": "It works as described. Nothing special."}},
    ]
    task_ids = project.import_tasks(tasks)
    assert len(task_ids) == 3

    batch = [{"data": {"review_text": f"review {i}"}} for i in range(250)]
    for i in range(0, len(batch), 100):
        project.import_tasks(batch[i : i + 100])

    all_tasks = project.get_tasks()
    assert len(all_tasks) == 253
    page = project.get_paginated_tasks(page=2, page_size=100)
    assert len(page["tasks"]) == 100

    result = [
        {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
    ]
    project.create_annotation(task_ids[0], result=result)
    assert [t["id"] for t in project.get_labeled_tasks()] == [task_ids[0]]
    assert len(project.get_unlabeled_tasks()) == 252

    project.update_task(task_ids[1], meta={"needs_review": True})
    assert project.get_task(task_ids[1])["meta"] == {"needs_review": True}

    annotations = project.export_tasks(export_type="JSON")
    assert [t["id"] for t in annotations] == [task_ids[0]]
    training = [
        {"text": t["data"]["review_text"], "label": r["value"]["choices"][0]}
        for t in annotations
        for r in t["annotations"][0]["result"]
        if r["type"] == "choices"
    ]
    assert training == [{"text": "This product exceeded my expectations!", "label": "Positive"}]

    project.create_prediction(task_ids[2], result="Negative", score=0.3, model_version="v1")
    assert project.get_predictions_coverage() is not None
    assert ls.get_project(project.id).title == "Product Review Sentiment"
    assert [p.id for p in ls.list_projects()] == [project.id]
    assert {u.email for u in ls.get_users()} == {"sdk@example.com"}
    project.set_params(maximum_annotations=2)
    assert ls.get_project(project.id).params["maximum_annotations"] == 2


def test_new_client_projects_import_and_task_listing(live, sdk_token):
    client = LabelStudio(base_url=live.url, api_key=sdk_token)
    assert client.versions.get().edition == "Community"
    project = client.projects.create(title="New client", label_config=SENTIMENT, maximum_annotations=1)
    imported = client.projects.import_tasks(
        id=project.id, request=[{"review_text": f"r{i}"} for i in range(120)], return_task_ids=True
    )
    assert len(imported.task_ids) == 120
    listed = list(client.tasks.list(project=project.id))
    assert [t.id for t in listed] == imported.task_ids
    task = client.tasks.update(id=str(imported.task_ids[0]), meta={"k": "v"})
    assert task.meta == {"k": "v"}
    client.annotations.create(
        id=imported.task_ids[0],
        result=[
            {
                "from_name": "sentiment",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": ["Neutral"]},
            }
        ],
    )
    assert len(client.annotations.list(id=imported.task_ids[0])) == 1
    exported = client.projects.exports.as_json(project_id=project.id)
    assert len(exported) == 120
    assert [p.id for p in client.projects.list()] == [project.id]
    client.projects.update(id=project.id, title="Renamed")
    assert client.projects.get(id=project.id).title == "Renamed"
    client.projects.delete(id=project.id)
    assert list(client.projects.list()) == []


def test_both_clients_follow_a_large_import_job(live, sdk_token):
    ls = Client(url=live.url, api_key=sdk_token)
    project = ls.start_project(title="Bulk", label_config=SENTIMENT)
    tasks = [{"data": {"review_text": f"review {i} " + "z" * 100}} for i in range(1500)]
    task_ids = project.import_tasks(tasks)
    assert len(task_ids) == 1500
    assert len(project.get_tasks(only_ids=True)) == 1500

    client = LabelStudio(base_url=live.url, api_key=sdk_token)
    started = client.projects.import_tasks(id=project.id, request=tasks, return_task_ids=True)
    status = client.tasks.create_many_status(id=project.id, import_pk=started.import_)
    for _ in range(100):
        if status.status == "completed":
            break
        time.sleep(0.1)
        status = client.tasks.create_many_status(id=project.id, import_pk=started.import_)
    assert status.status == "completed"
    assert len(status.task_ids) == 1500
