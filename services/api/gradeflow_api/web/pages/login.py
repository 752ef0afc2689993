"""Login, logout, the home page, and the account page (a user's signed-in sessions, "sign out everywhere")."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from gradeflow_api.deps import SessionDep, SettingsDep
from gradeflow_core import web_sessions
from gradeflow_core.accounts import MIN_PASSWORD, AccountError, set_password_with_invite, user_for_invite
from gradeflow_core.models import User
from gradeflow_core.security import verify_password
from gradeflow_api.settings import ApiSettings
from gradeflow_api.web.deps import (CsrfChecked, OptionalUser, PageUser, read_web_session, session_idle,
                                    session_lifetime, session_max_age)
from gradeflow_api.web.render import page
from gradeflow_api.web.session import (COOKIE_NAME, WebSession, browser_label, encode_session, new_session,
                                   password_fingerprint, safe_next)
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


def sign_in(response: Response, request: Request, session: Session, settings: ApiSettings, user: User) -> None:
    """Start a server-side session for `user` (committed before the browser follows the redirect) and send its
    cookie: a new token, so a session fixed before login is worth nothing."""
    web = new_session().signed_in_as(user.id, password_fingerprint(user.password_hash))
    web_sessions.start_session(session, user_id=user.id, token=web.nonce, lifetime=session_lifetime(settings),
                               user_agent=request.headers.get("user-agent", ""))
    session.commit()
    set_session_cookie(response, request, settings, web)


def _signed_out(request: Request) -> Response:
    request.state.web_session = None
    response = see_other("/login")
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")
    return response


@router.get("/login")
def login_form(request: Request, user: OptionalUser, settings: SettingsDep, next: str = "/") -> Response:
    if user is not None:
        return see_other(safe_next(next))
    web = read_web_session(request, settings)
    fresh = web is None or web.user_id is not None  # none yet, or one that ended: a new anonymous one
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
    response = see_other(safe_next(next))
    sign_in(response, request, session, settings, user)
    return response


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Ends this browser's session server-side: a copy of the cookie signs nobody in afterwards."""
    web = read_web_session(request, settings)
    if web is not None and web.user_id is not None:
        web_sessions.revoke(session, token=web.nonce)
        session.commit()
    return _signed_out(request)


@router.get("/account")
def account_page(request: Request, session: SessionDep, settings: SettingsDep, user: PageUser) -> Response:
    """The user's signed-in sessions (browser, when started, when last seen) and "sign out everywhere"."""
    web = read_web_session(request, settings)
    current = web_sessions.token_digest(web.nonce) if web is not None else ""
    rows = web_sessions.active_sessions(session, user_id=user.id, idle=session_idle(settings))
    listed = [{"browser": browser_label(row.user_agent), "created_at": row.created_at,
               "last_seen_at": row.last_seen_at, "current": row.id == current} for row in rows]
    return page(request, "account.html", account=user, sessions=listed,
                idle_minutes=settings.session_idle_minutes)


@router.post("/account/sign-out-everywhere", dependencies=[CsrfChecked])
def sign_out_everywhere(request: Request, session: SessionDep, user: PageUser) -> Response:
    """Ends every session of this user, this browser's included."""
    web_sessions.revoke_all_for_user(session, user_id=user.id)
    session.commit()
    return _signed_out(request)


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
    response = see_other("/")
    sign_in(response, request, session, settings, user)
    return response
