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

# The modules' routes are added flat, not included: FastAPI matches an included router's routes
# again at each level of nesting, 70-230 us of every request. The modules' routers set nothing but
# tags, which their routes carry already.
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
    router.routes.extend(module.router.routes)
