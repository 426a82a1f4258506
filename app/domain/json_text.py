"""Reading JSON text without changing its numbers.

orjson reads a whole number past 64 bits as a float, so the value stored would differ from the one
sent, silently. The standard library's parser keeps it whole (and what cannot be stored is then
refused, saying why); it is slower, so it reads only a text that may hold one: twenty digits in a row.
"""

import json
import re
from typing import Any

import orjson

LONG_NUMBER = re.compile(rb"\d{20}")


def loads(text: bytes) -> Any:
    """Parse JSON; every failure is a `json.JSONDecodeError` (orjson's is one)."""
    if LONG_NUMBER.search(text) is None:
        return orjson.loads(text)
    try:
        return json.loads(text, parse_constant=_not_json)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", "", 0) from None


def _not_json(name: str) -> None:
    """orjson refuses NaN and Infinity, which are not JSON; so does this path."""
    raise json.JSONDecodeError(f"{name} is not a JSON value", name, 0)
