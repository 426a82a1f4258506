"""The label stream over the API, one test per rule, named after the spec's wording."""

from datetime import datetime, timedelta

import pytest

from app.db.base import utcnow
from app.domain.roles import Role
from tests.api.test_projects import create
from tests.api.test_tasks import CHOICE

pytestmark = pytest.mark.core
AN = Role.ANNOTATOR


async def stream_project(team, n=3, **settings):
    pid = (await create(team, **settings)).json()["id"]
    ids = (
        await team.client.post(
            f"/api/projects/{pid}/import?return_task_ids=1",
            json=[{"review_text": f"t{i}"} for i in range(n)],
            headers=team.headers(),
        )
    ).json()["task_ids"]
    for role in (Role.ANNOTATOR, Role.REVIEWER):
        await team.client.post(
            f"/api/projects/{pid}/members", json={"user": team.ids[role]}, headers=team.headers()
        )
    return pid, ids


async def next_(team, pid, role=AN):
    return await team.client.get(f"/api/projects/{pid}/next", headers=team.headers(role))


async def submit(team, task_id, role=AN, **extra):
    return await team.client.post(
        f"/api/tasks/{task_id}/annotations/", json={"result": CHOICE, **extra}, headers=team.headers(role)
    )


async def skip(team, task_id, role=AN, **extra):
    return await team.client.post(
        f"/api/tasks/{task_id}/annotations/",
        json={"result": [], "was_cancelled": True, **extra},
        headers=team.headers(role),
    )


def set_clock(team, delta):
    team.client.app.state.clock = lambda: utcnow() + delta


async def test_tasks_are_shown_in_ascending_order_by_id_until_none_remain(team):
    pid, ids = await stream_project(team)
    served = []
    for _ in ids:
        task = (await next_(team, pid)).json()
        served.append(task["id"])
        assert (await submit(team, task["id"])).status_code == 201
    assert served == ids
    done = await next_(team, pid)
    assert done.status_code == 404
    assert "no more tasks" in done.json()["detail"]


async def test_next_returns_the_same_reserved_task_until_submitted(team):
    pid, ids = await stream_project(team)
    first = (await next_(team, pid)).json()
    again = (await next_(team, pid)).json()
    assert first["id"] == again["id"] == ids[0]
    assert again["queue"] == "reservation"


async def test_two_annotators_with_overlap_1_never_share_a_task(team):
    pid, _ids = await stream_project(team)
    a = (await next_(team, pid, AN)).json()["id"]
    b = (await next_(team, pid, Role.REVIEWER)).json()["id"]
    assert a != b


async def test_with_overlap_2_two_annotators_can_reserve_a_task_simultaneously(team):
    pid, ids = await stream_project(team, maximum_annotations=2)
    a = (await next_(team, pid, AN)).json()["id"]
    b = (await next_(team, pid, Role.REVIEWER)).json()["id"]
    assert a == b == ids[0]


async def test_the_task_reservation_time_expires_and_the_task_goes_to_another_annotator(team):
    pid, ids = await stream_project(team, custom_task_lock_ttl=60)
    assert (await next_(team, pid, AN)).json()["id"] == ids[0]
    assert (await next_(team, pid, Role.REVIEWER)).json()["id"] == ids[1]
    set_clock(team, timedelta(seconds=61))
    assert (await next_(team, pid, Role.REVIEWER)).json()["id"] == ids[0]  # expired by time alone


async def test_late_submit_after_the_slot_was_taken_is_409_kept_as_a_draft_and_not_counted(team):
    pid, ids = await stream_project(team, n=1, custom_task_lock_ttl=60)
    await next_(team, pid, AN)
    set_clock(team, timedelta(minutes=2))
    assert (await next_(team, pid, Role.REVIEWER)).json()["id"] == ids[0]
    late = await submit(team, ids[0], AN, lead_time=7)
    assert late.status_code == 409
    assert "expired" in late.json()["detail"]
    kept = (await team.client.get(f"/api/drafts/{late.json()['draft_id']}", headers=team.headers(AN))).json()
    assert (kept["task"], kept["result"], kept["lead_time"]) == (ids[0], CHOICE, 7)
    assert (await submit(team, ids[0], Role.REVIEWER)).status_code == 201
    task = (await team.client.get(f"/api/tasks/{ids[0]}", headers=team.headers())).json()
    assert task["total_annotations"] == 1


async def test_requeue_skipped_tasks_back_to_the_annotator_shows_it_at_the_end_of_their_queue(team):
    pid, ids = await stream_project(team, skip_queue="REQUEUE_FOR_ME")
    assert (await skip(team, ids[0])).status_code == 201
    order = []
    for _ in range(3):
        task = (await next_(team, pid)).json()
        order.append((task["id"], task["queue"]))
        await submit(team, task["id"])
    assert order == [(ids[1], "order"), (ids[2], "order"), (ids[0], "requeued_skip")]


async def test_requeue_skipped_tasks_to_others_means_the_annotator_cannot_return_to_it(team):
    pid, ids = await stream_project(team, n=2)
    await next_(team, pid)
    await skip(team, ids[0])
    assert (await next_(team, pid)).json()["id"] == ids[1]
    await submit(team, ids[1])
    assert (await next_(team, pid)).status_code == 404
    assert (await next_(team, pid, Role.REVIEWER)).json()["id"] == ids[0]


async def test_ignore_skipped_with_overlap_1_marks_the_skipped_task_completed(team):
    pid, ids = await stream_project(team, n=1, skip_queue="IGNORE_SKIPPED")
    await next_(team, pid)
    await skip(team, ids[0])
    task = (await team.client.get(f"/api/tasks/{ids[0]}", headers=team.headers())).json()
    assert task["is_labeled"] is True
    assert (await next_(team, pid, Role.REVIEWER)).status_code == 404


async def test_skipping_is_refused_when_allow_skipping_is_off_or_a_comment_is_required(team):
    pid, ids = await stream_project(team, show_skip_button=False)
    refused = await skip(team, ids[0])
    assert refused.status_code == 400
    assert "Skipping is turned off" in refused.json()["detail"]
    await team.client.patch(
        f"/api/projects/{pid}",
        json={"show_skip_button": True, "require_comment_on_skip": True},
        headers=team.headers(),
    )
    assert "comment" in (await skip(team, ids[0])).json()["detail"]
    assert (await skip(team, ids[0], comment="unreadable")).status_code == 201


async def test_empty_annotations_are_refused_unless_allowed(team):
    _pid, ids = await stream_project(team, enable_empty_annotation=False)
    response = await team.client.post(
        f"/api/tasks/{ids[0]}/annotations/", json={"result": []}, headers=team.headers(AN)
    )
    assert response.status_code == 400
    assert "empty" in response.json()["detail"]


async def test_limit_by_number_of_tasks_pauses_the_annotator_and_raising_it_unpauses(team):
    pid, _ids = await stream_project(team, annotation_limit_count=1)
    await submit(team, (await next_(team, pid)).json()["id"])
    paused = await next_(team, pid)
    assert paused.status_code == 404
    assert "limit of 1 tasks" in paused.json()["detail"]
    await team.client.patch(
        f"/api/projects/{pid}", json={"annotation_limit_count": 2}, headers=team.headers()
    )
    assert (await next_(team, pid)).status_code == 200


async def test_managers_can_pause_a_member_with_a_reason_the_stream_shows(team):
    pid, ids = await stream_project(team)
    await next_(team, pid)
    annotator = team.ids[AN]
    response = await team.client.post(
        f"/api/projects/{pid}/members/{annotator}/pause",
        json={"reason": "check guidelines"},
        headers=team.headers(),
    )
    assert response.json()["paused"] is True
    paused = await next_(team, pid)
    assert paused.status_code == 404
    assert "check guidelines" in paused.json()["detail"]
    assert (await next_(team, pid, Role.REVIEWER)).json()["id"] == ids[0]  # the reservation was released
    await team.client.post(f"/api/projects/{pid}/members/{annotator}/unpause", headers=team.headers())
    assert (await next_(team, pid)).status_code == 200


async def test_manual_assignment_serves_only_assigned_tasks(team):
    pid, ids = await stream_project(
        team, assignment_settings={"label_stream_task_distribution": "assigned_only"}
    )
    body = {"users": [team.ids[AN]], "selectedItems": {"all": False, "included": [ids[2]]}, "type": "AN"}
    assigned = await team.client.post(
        f"/api/projects/{pid}/tasks/assignees", json=body, headers=team.headers()
    )
    assert assigned.json() == {"assignments": 1}
    again = await team.client.post(f"/api/projects/{pid}/tasks/assignees", json=body, headers=team.headers())
    assert again.json() == {"assignments": 0}
    task = (await next_(team, pid)).json()
    assert (task["id"], task["queue"]) == (ids[2], "assigned")
    assert (await next_(team, pid, Role.REVIEWER)).status_code == 404
    await submit(team, ids[2])
    assert (await next_(team, pid)).status_code == 404


async def test_unassigning_removes_tasks_from_the_annotators_queue(team):
    pid, ids = await stream_project(
        team, assignment_settings={"label_stream_task_distribution": "assigned_only"}
    )
    body = {"users": [team.ids[AN]], "selectedItems": {"all": True, "excluded": []}, "type": "AN"}
    assert (
        await team.client.post(f"/api/projects/{pid}/tasks/assignees", json=body, headers=team.headers())
    ).json() == {"assignments": 3}
    removed = await team.client.post(
        f"/api/dm/actions?id=delete_annotators&project={pid}",
        json={"selectedItems": {"all": False, "included": ids[:2]}},
        headers=team.headers(),
    )
    assert removed.json() == {"processed_items": 2}
    assert (await next_(team, pid)).json()["id"] == ids[2]


async def test_only_project_members_can_be_assigned(team):
    pid, _ = await stream_project(team)
    body = {"users": [team.ids[Role.MANAGER]], "selectedItems": {"all": True}, "type": "AN"}
    response = await team.client.post(
        f"/api/projects/{pid}/tasks/assignees", json=body, headers=team.headers()
    )
    assert response.status_code == 400
    assert str(team.ids[Role.MANAGER]) in response.json()["detail"]


async def test_random_ordering_is_a_fixed_order_per_project(team):
    pid, ids = await stream_project(team, n=20, sampling="Uniform sampling")
    first = (await next_(team, pid)).json()["id"]
    second = (await next_(team, pid, Role.REVIEWER)).json()["id"]
    assert first != second
    assert {first, second} <= set(ids)


async def predict(team, task_id, score, model_version="v2"):
    body = {"task": task_id, "result": CHOICE, "score": score, "model_version": model_version}
    assert (await team.client.post("/api/predictions", json=body, headers=team.headers())).status_code == 201


async def served_order(team, pid, n):
    order = []
    for _ in range(n):
        task_id = (await next_(team, pid)).json()["id"]
        order.append(task_id)
        assert (await submit(team, task_id)).status_code == 201
    return order


async def test_uncertainty_sampling_shows_the_least_confident_prediction_first_then_tasks_without(team):
    pid, ids = await stream_project(team, n=5, sampling="Uncertainty sampling", model_version="v2")
    for index, score in ((0, 0.9), (1, 0.2), (3, 0.5)):
        await predict(team, ids[index], score)
    await predict(team, ids[3], 0.95)
    await predict(team, ids[4], 0.01, model_version="v1")
    expected = [ids[1], ids[3], ids[0], ids[2], ids[4]]
    assert await served_order(team, pid, 5) == expected


async def test_ground_truth_first_leads_uncertainty_sampling(team):
    pid, ids = await stream_project(
        team, n=4, sampling="Uncertainty sampling", model_version="v2", show_ground_truth_first=True
    )
    await predict(team, ids[0], 0.7)
    await predict(team, ids[1], 0.1)
    gt = {"result": CHOICE, "ground_truth": True}
    await team.client.post(f"/api/tasks/{ids[3]}/annotations", json=gt, headers=team.headers())
    assert await served_order(team, pid, 4) == [ids[3], ids[1], ids[0], ids[2]]


async def overlaps(team, pid):
    body = (await team.client.get(f"/api/tasks?project={pid}&page_size=1000", headers=team.headers())).json()
    return {t["id"]: t["overlap"] for t in body["tasks"]}


async def test_coverage_enforces_the_overlap_for_that_share_of_tasks_kept_when_tasks_are_added(team):
    pid, _ids = await stream_project(team, n=10, maximum_annotations=3, overlap_cohort_percentage=50)
    first = await overlaps(team, pid)
    assert sorted(first.values()) == [1] * 5 + [3] * 5
    await team.client.post(
        f"/api/projects/{pid}/import",
        json=[{"review_text": f"n{i}"} for i in range(10)],
        headers=team.headers(),
    )
    second = await overlaps(team, pid)
    assert sorted(second.values()) == [1] * 10 + [3] * 10
    assert all(second[t] == 3 for t, o in first.items() if o == 3)


async def test_show_tasks_with_overlap_first(team):
    pid, _ids = await stream_project(
        team, n=10, maximum_annotations=2, overlap_cohort_percentage=30, show_overlap_first=True
    )
    cohort = {t for t, o in (await overlaps(team, pid)).items() if o == 2}
    assert len(cohort) == 3
    served = (await next_(team, pid)).json()
    assert served["id"] == min(cohort)


async def test_lowering_the_overlap_recomputes_which_tasks_are_labeled(team):
    pid, ids = await stream_project(team, n=2, maximum_annotations=2)
    await submit(team, (await next_(team, pid)).json()["id"])
    task = (await team.client.get(f"/api/tasks/{ids[0]}", headers=team.headers())).json()
    assert (task["overlap"], task["is_labeled"]) == (2, False)
    await team.client.patch(f"/api/projects/{pid}", json={"maximum_annotations": 1}, headers=team.headers())
    task = (await team.client.get(f"/api/tasks/{ids[0]}", headers=team.headers())).json()
    assert (task["overlap"], task["is_labeled"]) == (1, True)
    assert task["completed_at"] is not None


async def test_a_draft_is_saved_resumed_and_keeps_the_reservation_alive(team):
    pid, ids = await stream_project(team, n=2, custom_task_lock_ttl=60)
    task = (await next_(team, pid)).json()
    saved = await team.client.post(
        f"/api/tasks/{task['id']}/drafts", json={"result": CHOICE, "lead_time": 4}, headers=team.headers(AN)
    )
    assert saved.status_code == 201
    set_clock(team, timedelta(seconds=50))
    again = await team.client.post(
        f"/api/tasks/{task['id']}/drafts", json={"result": CHOICE, "lead_time": 9}, headers=team.headers(AN)
    )
    assert again.json()["id"] == saved.json()["id"]
    set_clock(team, timedelta(seconds=100))  # past the first reservation's end, within the renewed one
    assert (await next_(team, pid, Role.REVIEWER)).json()["id"] == ids[1]
    resumed = (await next_(team, pid)).json()
    assert resumed["id"] == task["id"]
    assert resumed["drafts"][0]["lead_time"] == 9
    assert (
        await team.client.get(f"/api/tasks/{task['id']}/annotations", headers=team.headers())
    ).json() == []


async def test_submitting_consumes_the_draft_and_drafts_are_private(team):
    pid, _ids = await stream_project(team, n=1)
    task_id = (await next_(team, pid)).json()["id"]
    draft = (
        await team.client.post(f"/api/tasks/{task_id}/drafts", json={"result": []}, headers=team.headers(AN))
    ).json()
    assert (
        await team.client.get(f"/api/drafts/{draft['id']}", headers=team.headers(Role.REVIEWER))
    ).status_code == 404
    await submit(team, task_id)
    assert (await team.client.get(f"/api/drafts/{draft['id']}", headers=team.headers(AN))).status_code == 404
    assert (await team.client.get(f"/api/tasks/{task_id}/drafts", headers=team.headers(AN))).json() == []


async def queue_of(team, pid, role=AN):
    body = (await team.client.get(f"/api/projects/{pid}", headers=team.headers(role))).json()
    return (body["queue_done"], body["queue_left"], body["queue_total"]), body["finished_task_number"]


@pytest.mark.parametrize(
    ("skip_queue", "queue", "finished"),
    [
        # the skipped task waits at the end of the skipper's queue and is not completed
        ("REQUEUE_FOR_ME", (1, 2, 3), 1),
        # the skipper is done with it; it goes back to the others' queue, not completed
        ("REQUEUE_FOR_OTHERS", (2, 1, 3), 1),
        # a skip is a valid completion
        ("IGNORE_SKIPPED", (2, 1, 3), 2),
    ],
)
async def test_each_skip_queue_mode_counts_toward_progress_and_the_queue_counters(
    team, skip_queue, queue, finished
):
    pid, _ids = await stream_project(team, n=3, skip_queue=skip_queue)
    assert await queue_of(team, pid) == ((0, 3, 3), 0)
    await submit(team, (await next_(team, pid)).json()["id"])
    await skip(team, (await next_(team, pid)).json()["id"])
    assert await queue_of(team, pid) == (queue, finished)


async def test_queue_counters_follow_the_task_limit_and_a_pause(team):
    pid, _ids = await stream_project(team, n=4, annotation_limit_count=2)
    assert (await queue_of(team, pid))[0] == (0, 2, 2)
    await submit(team, (await next_(team, pid)).json()["id"])
    assert (await queue_of(team, pid))[0] == (1, 1, 2)
    user = team.ids[Role.REVIEWER]
    await team.client.post(f"/api/projects/{pid}/members/{user}/pause", json={}, headers=team.headers())
    assert (await queue_of(team, pid, Role.REVIEWER))[0] == (0, 0, 0)


async def test_another_annotators_reservation_takes_the_last_slot_out_of_my_queue(team):
    pid, _ids = await stream_project(team, n=2)
    await next_(team, pid, Role.REVIEWER)
    assert (await queue_of(team, pid))[0] == (0, 1, 1)


async def test_an_assignee_who_skipped_their_task_no_longer_holds_its_slot(team):
    pid, ids = await stream_project(team, n=2, skip_queue="REQUEUE_FOR_ME")
    await skip(team, (await next_(team, pid)).json()["id"])
    body = {"users": [team.ids[AN]], "selectedItems": {"all": False, "included": [ids[0]]}, "type": "AN"}
    await team.client.post(f"/api/projects/{pid}/tasks/assignees", json=body, headers=team.headers())
    assert (await next_(team, pid)).json()["id"] == ids[1]
    assert (await next_(team, pid, Role.REVIEWER)).json()["id"] == ids[0]
    assert (await submit(team, ids[0], Role.REVIEWER)).status_code == 201
    assert (await queue_of(team, pid))[0] == (1, 1, 2)
    assert (await submit(team, ids[1])).status_code == 201
    # the skipped task is full now: it does not come back to the skipper, assignment or not
    assert (await next_(team, pid)).status_code == 404


async def test_a_task_labeled_by_a_settings_change_stays_in_the_queue_of_its_reserver(team):
    pid, ids = await stream_project(team, n=2, skip_queue="REQUEUE_FOR_OTHERS")
    await skip(team, (await next_(team, pid)).json()["id"])
    assert (await next_(team, pid, Role.REVIEWER)).json()["id"] == ids[0]
    # the skip now completes the task, but the reviewer holds it: next resumes it and it counts
    await team.client.patch(
        f"/api/projects/{pid}", json={"skip_queue": "IGNORE_SKIPPED"}, headers=team.headers()
    )
    assert (await queue_of(team, pid, Role.REVIEWER))[0] == (0, 2, 2)
    resumed = (await next_(team, pid, Role.REVIEWER)).json()
    assert (resumed["id"], resumed["queue"]) == (ids[0], "reservation")


async def test_a_skip_that_becomes_a_completion_holds_one_slot_with_its_reservation(team):
    """Under requeue to me a skip keeps its reservation; once skips count ("ignore skipped") that
    skipper holds one slot, not two: the other slot of an overlap-2 task is still free."""
    pid, ids = await stream_project(team, n=1, skip_queue="REQUEUE_FOR_ME", maximum_annotations=2)
    await skip(team, (await next_(team, pid)).json()["id"])
    await team.client.patch(
        f"/api/projects/{pid}", json={"skip_queue": "IGNORE_SKIPPED"}, headers=team.headers()
    )
    assert (await queue_of(team, pid, Role.REVIEWER))[0] == (0, 1, 1)
    assert (await next_(team, pid, Role.REVIEWER)).json()["id"] == ids[0]


async def test_skipped_tasks_come_back_in_the_order_they_were_skipped_on_the_streams_clock(team):
    """The skip time is the stream's clock, as reservation times are, not the machine's."""
    pid, ids = await stream_project(team, n=2, skip_queue="REQUEUE_FOR_ME")
    set_clock(team, timedelta(hours=1))
    await skip(team, (await next_(team, pid)).json()["id"])
    set_clock(team, timedelta(0))  # the second skip is earlier on the stream's clock
    await skip(team, (await next_(team, pid)).json()["id"])
    assert (await next_(team, pid)).json()["id"] == ids[1]


async def test_a_task_labeled_by_a_submit_is_completed_on_the_streams_clock(team):
    """The task's completion time is the submitted annotation's own, from the same clock."""
    pid, ids = await stream_project(team, n=1)
    set_clock(team, timedelta(days=3))
    annotation = (await submit(team, (await next_(team, pid)).json()["id"])).json()
    task = (await team.client.get(f"/api/tasks/{ids[0]}", headers=team.headers())).json()
    assert task["is_labeled"]
    assert task["completed_at"] == annotation["created_at"]


async def test_a_skip_edited_into_a_submission_completes_the_task_on_the_streams_clock(team):
    """An edit stamps the annotation, and the completion it causes, with the same clock as a submit."""
    pid, ids = await stream_project(team, n=1)
    skipped = (await skip(team, (await next_(team, pid)).json()["id"])).json()
    set_clock(team, timedelta(days=3))
    edit = {"was_cancelled": False, "result": CHOICE}
    response = await team.client.patch(
        f"/api/annotations/{skipped['id']}", json=edit, headers=team.headers(AN)
    )
    edited = response.json()
    task = (await team.client.get(f"/api/tasks/{ids[0]}", headers=team.headers())).json()
    assert task["is_labeled"]
    assert task["completed_at"] == edited["updated_at"]
    assert datetime.fromisoformat(edited["updated_at"]) > utcnow() + timedelta(days=2)


async def test_a_task_with_the_annotators_draft_is_resumed_before_the_queue(team):
    pid, ids = await stream_project(team, n=3)
    draft = {"result": CHOICE, "lead_time": 2}
    await team.client.post(f"/api/tasks/{ids[2]}/drafts", json=draft, headers=team.headers(AN))
    served = (await next_(team, pid)).json()
    assert (served["id"], served["queue"]) == (ids[2], "draft")
    assert [d["result"] for d in served["drafts"]] == [CHOICE]
    await submit(team, ids[2])
    served = (await next_(team, pid)).json()
    assert (served["id"], served["drafts"]) == (ids[0], [])


async def ground_truth_on(team, task_id):
    gt = {"result": CHOICE, "ground_truth": True}
    response = await team.client.post(f"/api/tasks/{task_id}/annotations", json=gt, headers=team.headers())
    assert response.status_code == 201


async def test_onboarding_evaluation_presents_ground_truth_tasks_first(team):
    pid, ids = await stream_project(
        team, n=5, annotator_evaluation_enabled=True, annotator_evaluation_onboarding_tasks=2
    )
    for task_id in (ids[3], ids[4]):
        await ground_truth_on(team, task_id)
    assert await served_order(team, pid, 5) == [ids[3], ids[4], ids[0], ids[1], ids[2]]


async def test_ground_truth_tasks_are_not_constrained_by_the_overlap_under_evaluation(team):
    pid, ids = await stream_project(
        team, n=2, annotator_evaluation_enabled=True, annotator_evaluation_onboarding_tasks=1
    )
    await ground_truth_on(team, ids[1])
    assert (await next_(team, pid)).json()["id"] == ids[1]
    assert (await next_(team, pid, Role.REVIEWER)).json()["id"] == ids[1]
    assert (await submit(team, ids[1])).status_code == 201
    assert (await submit(team, ids[1], Role.REVIEWER)).status_code == 201


async def test_an_assignment_left_in_the_automatic_stream_holds_its_slot_until_the_assignee_works_on_it(team):
    pid, ids = await stream_project(team, n=2)
    reviewer = team.ids[Role.REVIEWER]
    assert (await next_(team, pid, Role.REVIEWER)).json()["id"] == ids[0]
    await submit(team, ids[0], Role.REVIEWER)
    body = {"users": [reviewer], "selectedItems": {"all": False, "included": [ids[1]]}, "type": "AN"}
    await team.client.post(f"/api/projects/{pid}/tasks/assignees", json=body, headers=team.headers())
    assert (await next_(team, pid)).status_code == 404
    assert (await next_(team, pid, Role.REVIEWER)).json()["id"] == ids[1]


async def test_an_assignment_does_not_take_a_task_past_its_overlap_once_a_managers_change_filled_it(team):
    pid, ids = await stream_project(team, n=1, skip_queue="REQUEUE_FOR_ME")
    await skip(team, (await next_(team, pid, Role.REVIEWER)).json()["id"], Role.REVIEWER)
    body = {"users": [team.ids[AN]], "selectedItems": {"all": False, "included": ids}, "type": "AN"}
    await team.client.post(f"/api/projects/{pid}/tasks/assignees", json=body, headers=team.headers())
    # the reviewer's skip now completes the task (overlap 1): the assignment waits on a full task
    await team.client.patch(
        f"/api/projects/{pid}", json={"skip_queue": "IGNORE_SKIPPED"}, headers=team.headers()
    )
    assert (await next_(team, pid)).status_code == 404
    assert (await queue_of(team, pid))[0] == (0, 0, 0)


async def test_an_assignment_under_automatic_assignment_holds_its_slot_once_the_assignee_annotated_elsewhere(
    team,
):
    """Ambiguity 6: the assignee keeps their slot on a task others reserved meanwhile, whatever else
    they annotated in the project."""
    pid, ids = await stream_project(team, n=3)
    assert (await next_(team, pid)).json()["id"] == ids[0]
    assert (await submit(team, ids[0])).status_code == 201
    assert (await next_(team, pid, Role.REVIEWER)).json()["id"] == ids[1]
    body = {"users": [team.ids[AN]], "selectedItems": {"all": False, "included": [ids[1]]}, "type": "AN"}
    await team.client.post(f"/api/projects/{pid}/tasks/assignees", json=body, headers=team.headers())
    assert (await next_(team, pid)).json()["id"] == ids[1]


NEGATIVE = [{**CHOICE[0], "value": {"choices": ["Negative"]}}]


async def member_row(team, pid, role=AN):
    rows = (await team.client.get(f"/api/projects/{pid}/members", headers=team.headers())).json()
    return next(row for row in rows if row["user"]["id"] == team.ids[role])


async def evaluated_project(team, n, **settings):
    """A stream project under annotator evaluation that pauses those who fail it."""
    evaluation = {"annotator_evaluation_enabled": True, "pause_on_failed_annotator_evaluation": True}
    return await stream_project(team, n=n, **evaluation, **settings)


async def test_pause_annotator_on_failed_evaluation_once_they_did_the_number_of_tasks_for_evaluation(team):
    pid, ids = await evaluated_project(
        team, n=4, annotator_evaluation_minimum_score="50", annotator_evaluation_minimum_tasks=2
    )
    for task_id in ids[:3]:
        await ground_truth_on(team, task_id)
    assert (await submit(team, ids[0], result=NEGATIVE)).status_code == 201
    assert (await next_(team, pid)).status_code == 200  # one wrong task: not evaluated yet
    assert (await submit(team, ids[1])).status_code == 201
    assert (await next_(team, pid)).status_code == 200  # 50% over 2 tasks passes
    assert (await submit(team, ids[2], result=NEGATIVE)).status_code == 201
    paused = await next_(team, pid)
    assert paused.status_code == 404
    assert "agreement with ground truth (33% over 3 tasks)" in paused.json()["detail"]
    row = await member_row(team, pid)
    assert (row["paused"], row["evaluation_tasks"]) == (True, 3)
    assert row["evaluation_score"] == pytest.approx(1 / 3)
    unpause = await team.client.post(
        f"/api/projects/{pid}/members/{team.ids[AN]}/unpause", headers=team.headers()
    )
    assert unpause.status_code == 409
    assert "relax the evaluation settings" in unpause.json()["detail"]
    assert (await next_(team, pid, Role.REVIEWER)).status_code == 200  # others are not affected
    relaxed = {"annotator_evaluation_minimum_score": "30"}
    await team.client.patch(f"/api/projects/{pid}", json=relaxed, headers=team.headers())
    assert (await next_(team, pid)).status_code == 200


async def test_managers_are_unaffected_by_evaluation_requirements(team):
    pid, ids = await evaluated_project(team, n=2, annotator_evaluation_minimum_tasks=1)
    manager = team.ids[Role.MANAGER]
    await team.client.post(f"/api/projects/{pid}/members", json={"user": manager}, headers=team.headers())
    await ground_truth_on(team, ids[0])
    assert (await submit(team, ids[0], Role.MANAGER, result=NEGATIVE)).status_code == 201
    row = await member_row(team, pid, Role.MANAGER)
    assert (row["paused"], row["evaluation_score"], row["evaluation_tasks"]) == (False, 0.0, 1)
    assert (await next_(team, pid, Role.MANAGER)).status_code == 200
    unpause = f"/api/projects/{pid}/members/{manager}/unpause"
    assert (await team.client.post(unpause, headers=team.headers())).status_code == 200


async def test_without_pausing_the_evaluation_is_calculated_in_the_background(team):
    pid, ids = await stream_project(
        team, n=2, annotator_evaluation_enabled=True, annotator_evaluation_minimum_tasks=1
    )
    await ground_truth_on(team, ids[0])
    mine = await submit(team, ids[0], result=NEGATIVE)
    row = await member_row(team, pid)
    assert (row["paused"], row["evaluation_score"], row["evaluation_tasks"]) == (False, 0.0, 1)
    assert (await next_(team, pid)).status_code == 200
    # the ground truth moves to the annotator's answer: their score follows
    truth = {"result": NEGATIVE, "ground_truth": True}
    await team.client.post(f"/api/tasks/{ids[0]}/annotations", json=truth, headers=team.headers())
    assert (await member_row(team, pid))["evaluation_score"] == 1.0
    await team.client.delete(f"/api/annotations/{mine.json()['id']}", headers=team.headers())
    row = await member_row(team, pid)
    assert (row["evaluation_score"], row["evaluation_tasks"]) == (None, 0)


async def test_imported_ground_truth_evaluates_the_imported_annotators(team):
    pid, _ids = await stream_project(team, n=1, annotator_evaluation_enabled=True)
    task = {
        "data": {"review_text": "imported"},
        "annotations": [
            {"result": CHOICE, "ground_truth": True},
            {"result": NEGATIVE, "completed_by": team.ids[AN]},
        ],
    }
    imported = await team.client.post(f"/api/projects/{pid}/import", json=[task], headers=team.headers())
    assert imported.status_code == 201, imported.text
    row = await member_row(team, pid)
    assert (row["evaluation_score"], row["evaluation_tasks"]) == (0.0, 1)


async def low_agreement_project(team, n=1):
    pid, ids = await stream_project(
        team,
        n=n,
        maximum_annotations=2,
        assign_additional_annotator_on_low_agreement=True,
        agreement_threshold="0.9",
        max_additional_annotators_assignable=1,
    )
    await team.client.post(
        f"/api/projects/{pid}/members", json={"user": team.ids[Role.MANAGER]}, headers=team.headers()
    )
    return pid, ids


async def task_state(team, task_id):
    task = (await team.client.get(f"/api/tasks/{task_id}", headers=team.headers())).json()
    return task["is_labeled"], task["overlap"]


async def test_assign_additional_annotator_when_agreement_is_below_the_threshold_one_at_a_time(team):
    pid, ids = await low_agreement_project(team)
    for role, result in ((AN, CHOICE), (Role.REVIEWER, NEGATIVE)):
        assert (await next_(team, pid, role)).json()["id"] == ids[0]
        assert (await submit(team, ids[0], role, result=result)).status_code == 201
    assert await task_state(team, ids[0]) == (False, 3)
    assert (await next_(team, pid, Role.MANAGER)).json()["id"] == ids[0]
    assert (await submit(team, ids[0], Role.MANAGER, result=NEGATIVE)).status_code == 201
    # agreement is 1/3, still low, but the maximum of additional annotators is reached
    assert await task_state(team, ids[0]) == (True, 3)


async def test_a_task_whose_annotators_agree_is_complete_at_its_overlap(team):
    pid, ids = await low_agreement_project(team)
    for role in (AN, Role.REVIEWER):
        assert (await next_(team, pid, role)).json()["id"] == ids[0]
        assert (await submit(team, ids[0], role)).status_code == 201
    assert await task_state(team, ids[0]) == (True, 2)
    assert (await next_(team, pid, Role.MANAGER)).status_code == 404
