"""The projects list page."""

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from app.api.deps import Session
from app.api.pages.render import render
from app.db.models import User
from app.domain.errors import Forbidden
from app.domain.pagination import page_of
from app.services import projects, users

router = APIRouter()


@router.get("/projects")
async def projects_page(request: Request, session: Session, page: int = 1) -> Response:
    user_id = request.session.get("user_id")
    user = await session.get(User, user_id) if user_id else None
    if user is None:
        return RedirectResponse("/user/login?next=/projects", status_code=303)
    try:
        actor = await users.actor_for(session, user)
    except Forbidden as exc:
        return render(request, "projects/list.html", status_code=403, user=user, rows=[], error=exc.message)
    current = page_of(page, 50, default_size=50, max_size=50)
    rows, total = await projects.list_projects(session, actor, current)
    counters = await projects.project_counters(session, [p.id for p in rows])
    return render(
        request,
        "projects/list.html",
        user=user,
        rows=[(p, counters[p.id]) for p in rows],
        total=total,
        page=current.number,
        pages=max(1, (total + current.size - 1) // current.size),
        error=None,
    )
