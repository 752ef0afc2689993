"""The web pages, mounted beside the JSON API by gradeflow_api.main: routers, static files, and errors shown as pages.

The bearer-token API is untouched: its paths keep FastAPI's JSON errors; only page requests (not under /api,
the docs or /static) get an HTML page with a message, and a page that needs a signed-in user redirects to login.
"""
from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from gradeflow_api.web.deps import LoginRequired, PageError, get_page_user
from gradeflow_api.web.pages import contest, instructor, login, overrides, staff, student
from gradeflow_api.web.pages import teams as team_pages
from gradeflow_api.web.pages import rubric as rubric_pages
from gradeflow_api.web.pages import report_viewer
from gradeflow_api.web.render import HERE, page
from gradeflow_api.web.static_files import PublicStatic

log = logging.getLogger(__name__)
_NOT_PAGES = ("/api/", "/docs", "/redoc", "/openapi.json", "/healthz", "/static/")
_STATUS_WORDS = {400: "Bad request", 401: "Sign in needed", 403: "Not allowed", 404: "Not found",
                 405: "Not allowed", 413: "Too large", 422: "Something is missing"}


def is_page_request(request: Request) -> bool:
    return not request.url.path.startswith(_NOT_PAGES)


def _fill_user(request: Request) -> None:
    """Error pages show the header of whoever is signed in (dependencies may not have run)."""
    if hasattr(request.state, "viewer"):
        return
    try:
        with request.app.state.session_factory() as session:
            get_page_user(request, session, request.app.state.settings)
    except Exception:  # an error page must render even when the database is the problem
        request.state.viewer = None


def error_page(request: Request, status_code: int, message: str, title: str = "") -> Response:
    _fill_user(request)
    return page(request, "error.html", status_code=status_code, message=message,
                title=title or _STATUS_WORDS.get(status_code, "Something went wrong"))


async def _login_required(request: Request, exc: LoginRequired) -> Response:
    target = "/login?next=" + quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    if request.headers.get("hx-request"):  # a polled fragment: tell htmx to load the login page
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def _page_error(request: Request, exc: PageError) -> Response:
    return error_page(request, exc.status_code, exc.message, exc.title)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if not is_page_request(request):
        return await http_exception_handler(request, exc)
    message = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else "There is no such page."
    return error_page(request, exc.status_code, message)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    if not is_page_request(request):
        return await request_validation_exception_handler(request, exc)
    fields = ", ".join(str(e.get("loc", ["?"])[-1]) for e in exc.errors())
    return error_page(request, 422, f"The request is missing or has a wrong value for: {fields}.")


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    if not is_page_request(request):
        return PlainTextResponse("Internal Server Error", status_code=500)
    return error_page(request, 500, "Something went wrong on our side. It has been logged; please try again.")


def install_pages(app: FastAPI) -> None:
    """Mount the pages (and their static files) on the app."""
    app.mount("/static", PublicStatic(directory=HERE / "static"), name="static")
    for module in (login, student, staff, instructor, overrides,
                   contest, team_pages, rubric_pages, report_viewer):
        app.include_router(module.router)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(PageError, _page_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _server_error)
