"""Which route answers a request: the first whose path and method fit it."""

import re

import pytest
from starlette.routing import Match, Route

from app.config import Settings
from app.main import create_app

pytestmark = pytest.mark.core


def _answering(routes: list, method: str, path: str) -> Route | None:
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    return next((r for r in routes if r.matches(scope)[0] is Match.FULL), None)


def _shaped(route: Route) -> str:
    """A path of the route's own shape: each parameter a 1."""
    return re.sub(r"\{[^}]+\}", "1", route.path)


def test_every_route_answers_the_paths_of_its_own_shape(settings: Settings):
    """No route takes another's requests, so the order the routes are tried in (the label stream's
    first, for speed) changes no request's answer."""
    routes = create_app(settings).router.routes
    taken = [
        (method, route.path, found.path)
        for route in routes
        if isinstance(route, Route)
        for method in sorted(route.methods or ())
        if (found := _answering(routes, method, _shaped(route))) is not route and found is not None
    ]
    assert taken == []


def test_the_label_stream_paths_are_tried_among_the_first(settings: Settings):
    """Each route tried before the one that fits costs a few microseconds of every request."""
    routes = create_app(settings).router.routes
    for method, path in (("GET", "/api/projects/1/next"), ("POST", "/api/tasks/1/annotations")):
        found = _answering(routes, method, path)
        assert found is not None
        assert routes.index(found) < 10, (method, path)
