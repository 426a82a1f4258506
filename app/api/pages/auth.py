"""Sign in and out in the browser; the same form serves the legacy SDK's credential login."""

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from app.api.deps import Session
from app.api.pages.render import render
from app.domain.errors import Unauthorized
from app.services import users

router = APIRouter()
CSRF_COOKIE = "csrftoken"


@router.get("/user/login")
async def login_page(request: Request, next: str = "/projects") -> Response:
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(request, "auth/login.html", form_csrf=token, next=_safe(next), error=None)
    response.set_cookie(CSRF_COOKIE, token, httponly=False, samesite="lax")
    return response


def _safe(target: str) -> str:
    """Only redirect to our own paths after login."""
    return target if target.startswith("/") and not target.startswith("//") else "/projects"


@router.post("/user/login")
async def login(
    request: Request,
    session: Session,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrfmiddlewaretoken: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/projects",
) -> Response:
    """Double-submit CSRF check (cookie equals form field), then a fresh session."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie, csrfmiddlewaretoken):
        return render(
            request,
            "auth/login.html",
            status_code=403,
            form_csrf=cookie,
            next=_safe(next),
            error="The form expired; please sign in again.",
        )
    try:
        user = await users.user_by_password(session, email, password)
    except Unauthorized as exc:
        return render(
            request, "auth/login.html", status_code=401, form_csrf=cookie, next=_safe(next), error=exc.message
        )
    request.session.clear()
    request.session.update({"user_id": user.id, "csrf": secrets.token_urlsafe(32)})
    return RedirectResponse(_safe(next), status_code=303)


@router.post("/user/logout")
async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/user/login", status_code=303)


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/projects", status_code=303)
