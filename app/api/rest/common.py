"""Small response helpers shared by the REST routers."""

from collections.abc import AsyncGenerator
from typing import Any

import orjson
from fastapi import Response
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send


def json_response(data: Any, status_code: int = 200) -> Response:
    """JSON encoded with orjson (fast, and strict about NaN)."""
    return Response(orjson.dumps(data), status_code=status_code, media_type="application/json")


def no_content() -> Response:
    return Response(status_code=204)


class ClosingStream(StreamingResponse):
    """A streamed body whose generator is closed when the response ends, also when the client left
    mid-way: Starlette drops it unclosed, and what it holds (an export's database session, inside a
    transaction) would wait for the garbage collector."""

    def __init__(self, chunks: AsyncGenerator[bytes, None], **kwargs: Any) -> None:
        super().__init__(chunks, **kwargs)
        self.chunks = chunks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.chunks.aclose()
