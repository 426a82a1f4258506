"""`create_app(settings)`: the ASGI application, built from settings and nothing else."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from app import __version__
from app.api import errors
from app.api.middleware import BodyLimit, StripTrailingSlash
from app.api.pages import router as pages_router
from app.api.rest import router as rest_router
from app.config import Settings
from app.db.base import utcnow
from app.db.engine import make_engine, make_sessionmaker
from app.workers.queue import ArqQueue, InProcessQueue, Queue
from app.workers.settings import FUNCTIONS

WEB = Path(__file__).resolve().parent.parent / "web"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.resolved_database_url)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        queue: Queue
        if settings.redis_url:
            queue = await ArqQueue.connect(settings.redis_url)
        else:
            queue = InProcessQueue(app.state.sessionmaker, FUNCTIONS)
            if settings.reap_seconds > 0:
                queue.every(settings.reap_seconds, "reap_imports")
                queue.every(settings.reap_seconds, "reap_export_snapshots")
        app.state.queue = queue
        # what exists once started lives as long as the process: leave it out of every collection,
        # so a full collection walks only what requests made (tens of ms less per pause); once per
        # process, so an app started later in it (tests) cannot freeze live requests' garbage
        if not gc.get_freeze_count():
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            await queue.close()
            await engine.dispose()

    app = FastAPI(title="Quorum", version=__version__, lifespan=lifespan, docs_url="/docs", redoc_url=None)
    app.state.settings = settings
    app.state.clock = utcnow
    errors.install(app)
    app.router.routes.extend(rest_router.routes)  # flat: see app.api.rest
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=WEB / "static", check_dir=False), name="static")
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key,
        session_cookie="quorum_session",
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(StripTrailingSlash)
    return app
