"""Login, logout and the home page."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from gradeflow_api.deps import SessionDep, SettingsDep
from gradeflow_core.accounts import MIN_PASSWORD, AccountError, set_password_with_invite, user_for_invite
from gradeflow_core.models import User
from gradeflow_core.security import verify_password
from gradeflow_api.settings import ApiSettings
from gradeflow_api.web.deps import CsrfChecked, OptionalUser, PageUser, read_web_session, session_max_age
from gradeflow_api.web.render import page
from gradeflow_api.web.session import (COOKIE_NAME, WebSession, encode_session, new_session, password_fingerprint,
                                   safe_next)
from gradeflow_api.web.views import user_courses

router = APIRouter(include_in_schema=False)


def set_session_cookie(response: Response, request: Request, settings: ApiSettings, web: WebSession) -> None:
    """HTTP-only (no script reads it), SameSite=Lax (not sent on cross-site POSTs), Secure over HTTPS."""
    request.state.web_session = web
    response.set_cookie(COOKIE_NAME, encode_session(web, secret=settings.secret_key), max_age=session_max_age(settings),
                        httponly=True, samesite="lax", path="/",
                        secure=settings.mode == "production" or request.url.scheme == "https")


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/login")
def login_form(request: Request, user: OptionalUser, settings: SettingsDep, next: str = "/") -> Response:
    if user is not None:
        return see_other(safe_next(next))
    web = read_web_session(request, settings)
    fresh = web is None
    if fresh:
        request.state.web_session = web = new_session()  # carries the login form's CSRF token
    response = page(request, "login.html", next=safe_next(next), error="")
    if fresh:
        set_session_cookie(response, request, settings, web)
    return response


@router.post("/login", dependencies=[CsrfChecked])
def login(request: Request, session: SessionDep, settings: SettingsDep, username: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not password or not verify_password(password, user.password_hash):
        return page(request, "login.html", status_code=401, next=safe_next(next), username=username,
                    error="Wrong username or password.")
    web = read_web_session(request, settings) or new_session()
    response = see_other(safe_next(next))
    set_session_cookie(response, request, settings, web.signed_in_as(user.id, password_fingerprint(user.password_hash)))
    return response


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, settings: SettingsDep) -> Response:
    response = see_other("/login")
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")
    return response


@router.get("/")
def home(request: Request, session: SessionDep, user: PageUser) -> Response:
    courses = user_courses(session, user)
    if len(courses) == 1:
        return see_other(f"/courses/{courses[0][0].id}")
    return page(request, "home.html", courses=courses)


@router.get("/invite")
def invite_form(request: Request, session: SessionDep, settings: SettingsDep, token: str = "") -> Response:
    """The page an invitation link from a roster import opens: the new user chooses a password."""
    invited = user_for_invite(session, token, secret=settings.secret_key) if token else None
    web = read_web_session(request, settings)
    fresh = web is None
    if fresh:
        request.state.web_session = web = new_session()
    error = "" if invited else "This invitation is invalid, expired or already used; ask your instructor for a new one."
    response = page(request, "invite.html", status_code=200 if invited else 404, invited=invited, token=token,
                    error=error, min_length=MIN_PASSWORD)
    if fresh:
        set_session_cookie(response, request, settings, web)
    return response


@router.post("/invite", dependencies=[CsrfChecked])
def invite_accept(request: Request, session: SessionDep, settings: SettingsDep, token: Annotated[str, Form()] = "",
                  password: Annotated[str, Form()] = "") -> Response:
    try:
        user = set_password_with_invite(session, token=token, password=password, secret=settings.secret_key)
    except AccountError as exc:
        invited = user_for_invite(session, token, secret=settings.secret_key)
        return page(request, "invite.html", status_code=422, invited=invited, token=token, error=str(exc),
                    min_length=MIN_PASSWORD)
    session.commit()
    web = read_web_session(request, settings) or new_session()
    response = see_other("/")
    set_session_cookie(response, request, settings, web.signed_in_as(user.id, password_fingerprint(user.password_hash)))
    return response
