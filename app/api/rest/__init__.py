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
#
# A request is matched against the routes in turn until one fits, a few microseconds each, so the
# label stream's paths, which annotators call most, come first (the submit's was the 41st tried:
# 100 us of matching per submit). No route takes another's requests (tests/api/test_routing.py), so
# the order decides nothing else.
router = APIRouter()
for module in (
    label_stream,
    annotations,
    drafts,
    tasks,
    system,
    users,
    projects,
    members,
    imports,
    predictions,
    exports,
    export_snapshots,
):
    router.routes.extend(module.router.routes)
