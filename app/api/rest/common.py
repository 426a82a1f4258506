"""Small response helpers shared by the REST routers."""

from typing import Any

import orjson
from fastapi import Response


def json_response(data: Any, status_code: int = 200) -> Response:
    """JSON encoded with orjson (fast, and strict about NaN)."""
    return Response(orjson.dumps(data), status_code=status_code, media_type="application/json")


def no_content() -> Response:
    return Response(status_code=204)
