"""The JSON API: Label Studio's paths and shapes, plus Quorum's own."""

from fastapi import APIRouter

from app.api.rest import annotations, imports, predictions, projects, system, tasks, users

router = APIRouter()
for module in (system, users, projects, imports, tasks, annotations, predictions):
    router.include_router(module.router)
