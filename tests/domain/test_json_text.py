"""JSON text read without changing its numbers."""

import json

import pytest

from app.domain.json_text import loads


def test_a_whole_number_past_64_bits_is_read_whole():
    assert loads(b'{"n": 1180591620717411303424, "s": "x"}') == {"n": 2**70, "s": "x"}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (b"[" * 5000 + b"12345678901234567890" + b"]" * 5000, "nested too deeply"),
        (b"[12345678901234567890, Infinity]", "Infinity is not a JSON value"),
        (b"[12345678901234567890,", "Expecting value"),
        (b"[12345678901234567890, 1e400]", "1e400 is past the range of a number"),
    ],
)
def test_every_failure_is_a_json_decode_error(text, says):
    with pytest.raises(json.JSONDecodeError, match=says):
        loads(text)
