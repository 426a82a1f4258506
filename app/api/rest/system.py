"""Version and health: the first calls every client makes."""

from fastapi import APIRouter, Response

from app import __version__
from app.api.rest.common import json_response

router = APIRouter(tags=["system"])


@router.get("/api/version")
async def version() -> Response:
    """Label Studio's version object; `edition` Community keeps clients on one-shot export."""
    return json_response(
        {
            "release": __version__,
            "edition": "Community",
            "quorum": {"version": __version__},
            "label-studio-os-package": {"version": __version__, "short_version": __version__},
        }
    )


@router.get("/health")
async def health() -> Response:
    return json_response({"status": "UP"})
