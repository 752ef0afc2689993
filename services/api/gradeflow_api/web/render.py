"""Templates, their filters, and the one function that turns a template into a response (with security headers)."""
from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from gradeflow_api.web.session import CSRF_FIELD, csrf_token

HERE = Path(__file__).parent
# Pages run only our own files: scripts from /static, no inline script or style, images only as data: URLs
# (notebook outputs), no plugins, no framing. Sanitised notebook HTML is inert even if a filter missed something.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY", "Cache-Control": "no-store"}


def when(value: datetime | None, style: str = "datetime") -> Markup:
    """A <time> element: UTC in the HTML, rewritten into the viewer's time zone by static/app.js."""
    if value is None:
        return Markup("&mdash;")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    iso = value.isoformat().replace("+00:00", "Z")
    return Markup('<time datetime="{}" data-style="{}">{} UTC</time>').format(iso, style,
                                                                             value.strftime("%Y-%m-%d %H:%M"))


def score(value: float | None) -> str:
    """10.0 -> '10', 4.5 -> '4.5', None -> an em dash."""
    if value is None:
        return "—"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def plural(count: int, word: str, many: str = "", *, number: bool = True) -> str:
    """'1 student', '0 students', '3 submissions'; `many` for an irregular plural ('1 child', '2 children');
    number=False: the word alone, for a count shown apart."""
    word = word if count == 1 else (many or word + "s")
    return f"{count} {word}" if number else word


def _context(request: Request) -> dict[str, Any]:
    web = getattr(request.state, "web_session", None)
    token = csrf_token(web, secret=request.app.state.settings.secret_key) if web is not None else ""
    field = Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token)
    return {"user": getattr(request.state, "viewer", None), "csrf_token": token, "csrf_field": field}


@lru_cache
def templates() -> Jinja2Templates:
    engine = Jinja2Templates(directory=HERE / "templates", context_processors=[_context])
    engine.env.filters.update(when=when, score=score, duration=duration, plural=plural)
    engine.env.globals["escape"] = escape
    return engine


def page(request: Request, name: str, *, status_code: int = 200, headers: dict[str, str] | None = None,
         **context: Any) -> HTMLResponse:
    """Render a template (a whole page or an htmx fragment) with the security headers."""
    response = templates().TemplateResponse(request, name, context, status_code=status_code)
    response.headers.update(SECURITY_HEADERS | (headers or {}))
    return response
