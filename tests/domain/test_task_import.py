"""Reading uploads row by row."""

import gc
import io
import sys

import pytest

from app.domain.errors import Invalid
from app.domain.task_import import TaskItem, check_inline, iter_items


@pytest.mark.parametrize(("name", "body"), [("a.csv", b"text,text\nx,y\n"), ("a.tsv", b"text\nx\ty\n")])
def test_an_upload_refused_part_way_leaves_nothing_failing_after_its_file_is_closed(name, body):
    """The request closes its upload once the 400 is sent; the half-read rows are dropped later."""
    unraisable = []
    hook, sys.unraisablehook = sys.unraisablehook, unraisable.append
    try:
        stream = io.BytesIO(body)
        items = iter_items(stream, name, "text")
        with pytest.raises(Invalid) as refused:
            list(items)
        stream.close()
        del items, refused
        gc.collect()
    finally:
        sys.unraisablehook = hook
    assert [str(u.exc_value) for u in unraisable] == []


def read(name: str, body: bytes) -> list[dict]:
    return [item.data for item in iter_items(io.BytesIO(body), name, "text")]


@pytest.mark.parametrize(("name", "sep"), [("a.csv", b","), ("a.tsv", b"\t")])
def test_a_cell_of_any_length_is_read_whole(name, sep):
    """Python's csv module stops at 128 KiB a cell; an upload's cell is as long as the upload."""
    long = "a" * 300_000
    assert read(name, b"text" + sep + b"n\n" + long.encode() + sep + b"1\n") == [{"text": long, "n": "1"}]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'[{"text": "x"}, {"text": "\\udc80z"}]', "task 2: a text is not valid Unicode"),
        (b'[{"text": "x"}, {"text": tru}]', "the file is not valid JSON at task 2: lexical error"),
    ],
)
def test_a_json_array_file_names_the_task_it_could_not_read(body, says):
    with pytest.raises(Invalid) as refused:
        read("a.json", body)
    assert refused.value.message.startswith(says)
    assert "\n" not in refused.value.message
    assert "b'" not in refused.value.message


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("item", "says"),
    [
        (TaskItem({"text": "x", "deep": nested(300)}), "nested more than 250 levels deep"),
        (TaskItem({"text": "x"}, annotations=[{"result": [], "was_cancelled": "false"}]), "was_cancelled"),
        (TaskItem({"text": "x"}, annotations=[{"result": [], "ground_truth": 1}]), "ground_truth"),
        (TaskItem({"text": "x"}, annotations=[{"result": [], "was_cancelled": 0}]), "was_cancelled"),
        (TaskItem({"text": "x"}, predictions=[{"result": [], "model_version": "m" * 201}]), "200 characters"),
    ],
)
def test_what_the_database_could_not_store_as_given_is_refused(item, says):
    with pytest.raises(Invalid, match=says):
        check_inline(item)


def test_what_fits_is_taken():
    check_inline(
        TaskItem(
            {"text": "x", "deep": nested(240)},
            annotations=[
                {"result": [], "was_cancelled": False, "ground_truth": True},
                {"was_cancelled": None},
            ],
            predictions=[{"result": [], "model_version": "m" * 200}],
        )
    )
