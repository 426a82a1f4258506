"""The JSON API: Label Studio's paths and shapes, plus Quorum's own."""

from fastapi import APIRouter

from app.api.rest import (
    annotations,
    drafts,
    export_snapshots,
    exports,
    imports,
    label_stream,
    members,
    predictions,
    projects,
    system,
    tasks,
    users,
)

router = APIRouter()
for module in (
    system,
    users,
    projects,
    members,
    label_stream,
    imports,
    tasks,
    annotations,
    drafts,
    predictions,
    exports,
    export_snapshots,
):
    router.include_router(module.router)
