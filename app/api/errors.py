"""Every error the API returns, mapped in one place: DRF-style bodies, a person's message."""

import logging
from typing import TypeVar

import orjson
from asyncpg import PostgresError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, StatementError
from starlette.exceptions import HTTPException

from app.db.engine import REGEX_SECONDS
from app.domain.errors import QuorumError

log = logging.getLogger("quorum")
E = TypeVar("E", bound=BaseException)


def quorum_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, QuorumError)
    body = {"detail": exc.message, **exc.extra}
    if exc.field:
        body["field"] = exc.field
    headers = {"WWW-Authenticate": "Token"} if exc.status_code == 401 else None
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


def validation_error(_: Request, exc: Exception) -> Response:
    """FastAPI's own parameter errors, reworded as 400s that name the parameter."""
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    field = ".".join(str(p) for p in first["loc"][1:]) or None
    message = f"{field}: {first['msg']}" if field else str(first["msg"])
    return JSONResponse({"detail": message, "field": field}, status_code=400)


def http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def _cause(exc: BaseException | None, kind: type[E]) -> E | None:
    """The exception of `kind` in `exc`'s chain, if any."""
    while exc is not None:
        if isinstance(exc, kind):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


# PostgreSQL errors only a request's own values cause (SQLSTATE: what to tell the client)
REFUSED_VALUES = {
    "2201B": "A regular expression in the request is not one PostgreSQL can run",
    "22001": "A text in the request is longer than its field holds",
    "22021": "Text in the request holds a character the database cannot store (such as NUL)",
    "22P05": "Text in the request holds a character the database cannot store (such as \\u0000)",
}
# SQLite runs one function of ours, the regex filter's (`app.db.engine`): its failure is the pattern's
SQLITE_FUNCTION_FAILED = "user-defined function raised exception"


def driver_error(request: Request, exc: Exception) -> Response:
    """A number from the request (a path, query or body id) past what the database's column holds
    reaches the driver as an overflow: the client's mistake, a 400, on every route and database; so
    is a value PostgreSQL refuses as such (`REFUSED_VALUES`), or one the JSON columns' encoder refuses,
    whether it came through SQLAlchemy or through asyncpg directly (a bulk COPY), and a regex filter
    SQLite gave up on.
    A connection lost mid-request (the database restarted) rolled the request back: a 503 to retry."""
    if _cause(exc, OverflowError):
        return JSONResponse({"detail": "A number in the request is out of range."}, status_code=400)
    if unstorable := _cause(exc, orjson.JSONEncodeError):  # the JSON columns' encoder's limits
        detail = f"A JSON value in the request cannot be stored: {unstorable}."
        return JSONResponse({"detail": detail}, status_code=400)
    orig = getattr(exc, "orig", exc)
    if refused := REFUSED_VALUES.get(getattr(orig, "sqlstate", None) or ""):
        return JSONResponse({"detail": f"{refused}: {orig}"}, status_code=400)
    if str(orig) == SQLITE_FUNCTION_FAILED:
        late = f"A regular expression in the request did not finish within {REGEX_SECONDS:g} s; simplify it"
        return JSONResponse({"detail": late}, status_code=400)
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        log.warning("database connection lost: %s", exc.orig)
        return JSONResponse(
            {"detail": "The database connection was lost; nothing was saved. Retry the request."},
            status_code=503,
            headers={"Retry-After": "1"},
        )
    return unexpected_error(request, exc)


def unexpected_error(_: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse({"detail": "Internal error; it has been logged."}, status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(QuorumError, quorum_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(StatementError, driver_error)  # DBAPIError too; and what binding raised
    app.add_exception_handler(PostgresError, driver_error)
    app.add_exception_handler(OverflowError, driver_error)
    app.add_exception_handler(orjson.JSONEncodeError, driver_error)  # a bulk COPY encodes by itself
    app.add_exception_handler(Exception, unexpected_error)
