"""HTML pages rendered from web/templates with htmx."""

from fastapi import APIRouter

from app.api.pages import auth, projects

router = APIRouter(include_in_schema=False)
router.include_router(auth.router)
router.include_router(projects.router)
