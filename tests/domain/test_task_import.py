"""Reading uploads row by row."""

import gc
import io
import re
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


def read_items(name: str, body: bytes) -> list[TaskItem]:
    return list(iter_items(io.BytesIO(body), name, "text"))


def read(name: str, body: bytes) -> list[dict]:
    return [item.data for item in read_items(name, body)]


@pytest.mark.parametrize(("name", "sep"), [("a.csv", b","), ("a.tsv", b"\t")])
def test_a_cell_of_any_length_is_read_whole(name, sep):
    """Python's csv module stops at 128 KiB a cell; an upload's cell is as long as the upload."""
    long = "a" * 300_000
    assert read(name, b"text" + sep + b"n\n" + long.encode() + sep + b"1\n") == [{"text": long, "n": "1"}]


@pytest.mark.parametrize(
    ("name", "body", "says"),
    [
        (
            "a.json",
            b'[{"text": 12345678901234567890}, {"text": "\xe9"}]',
            "the file is not valid JSON at task 1: 'utf-8' codec can't decode byte 0xe9",
        ),
        ("a.json", b'[{"text": "x"}, {"text": tru}]', "the file is not valid JSON at task 2: lexical error"),
        ("a.csv", b"", "the file is empty: its first line must be a header row naming the columns"),
        ("a.csv", b"text,n,\nx,1,\n", "line 1: the header row must name every column; column 3 has no name"),
        # past the blocks the reader decodes ahead in, saved by a tool that does not write UTF-8
        ("a.csv", b"text\n" + b"ok\n" * 5000 + b"caf\xe9\n", "line 5002: byte 0xe9 is not UTF-8 text"),
        ("a.txt", b"one\ncaf\xe9\n", "line 2: byte 0xe9 is not UTF-8 text; save the file as UTF-8"),
        # past the first block of the search, a character split across the blocks before it
        ("a.txt", b"x" * (2**20 - 3) + "𝄞\n".encode() + b"\xff\n\n", "line 2: byte 0xff is not UTF-8"),
        ("a.txt", b"one\ntwo \xc3", "line 2: byte 0xc3 is not UTF-8"),  # cut off mid-character
    ],
)
def test_a_file_it_cannot_read_is_refused_in_one_line_saying_where(name, body, says):
    with pytest.raises(Invalid) as refused:
        read(name, body)
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
        (TaskItem({"text": "x", "deep": nested(300)}), "a value cannot be stored (Recursion limit reached)"),
        (TaskItem({"text": "x"}, annotations=[{"result": [], "was_cancelled": "false"}]), "was_cancelled"),
        (TaskItem({"text": "x"}, annotations=[{"result": [], "ground_truth": 1}]), "ground_truth"),
        (TaskItem({"text": "x"}, annotations=[{"result": [], "was_cancelled": 0}]), "was_cancelled"),
        (TaskItem({"text": "x"}, predictions=[{"result": [], "model_version": "m" * 201}]), "200 characters"),
    ],
)
def test_what_the_database_could_not_store_as_given_is_refused(item, says):
    with pytest.raises(Invalid, match=re.escape(says)):
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


def test_a_json_file_reads_whole_numbers_past_64_signed_bits_exactly():
    big = [2**63, -(2**63), 2**64 - 1, 10**19, 1_733_500_000_000_000_000]
    assert read("a.json", f'[{{"text": "a", "n": {big}}}]'.encode())[0]["n"] == big


@pytest.mark.parametrize("before", [18, 10, 1])
def test_a_number_past_64_signed_bits_is_found_across_the_blocks_the_file_is_scanned_in(before):
    """The number starts `before` bytes ahead of the end of the first 1 MiB block read."""
    head = '[{"text": "'
    tail = '"}, {"text": "a", "n": '
    padding = "x" * (2**20 - before - len(head) - len(tail))
    body = f"{head}{padding}{tail}{2**63}}}]".encode()
    assert body.index(str(2**63).encode()) == 2**20 - before
    assert read("a.json", body)[1]["n"] == 2**63


def test_a_whole_number_past_64_bits_is_refused_naming_why():
    item = read_items("a.json", f'[{{"text": "a", "n": {2**64}}}]'.encode())[0]
    with pytest.raises(Invalid, match=r"a value cannot be stored \(Integer exceeds 64-bit range\)"):
        check_inline(item)


@pytest.mark.parametrize("text", ["\\ud800x", "\\udc80z", "x\\ud83d"])
def test_half_a_surrogate_pair_in_a_json_file_is_refused_not_replaced(text):
    """ijson's C parser made a lone half "?" (stored so) or failed; it is read as it is, and refused."""
    item = read_items("a.json", b'[{"text": "%s"}]' % text.encode())[0]
    with pytest.raises(
        Invalid, match=re.escape("a value cannot be stored (str is not valid UTF-8: surrogates")
    ):
        check_inline(item)


def test_a_whole_surrogate_pair_in_a_json_file_is_its_character():
    assert read("a.json", b'[{"text": "\\ud83d\\ude00"}]') == [{"text": "\U0001f600"}]
