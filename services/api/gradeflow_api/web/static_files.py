"""/static, with what the report viewer's scripts need: they are loaded by a page whose origin is opaque.

The viewer (/report-viewer) runs sandboxed without allow-same-origin, so to the browser every URL is
cross-origin to it: its module scripts and its worker's import are CORS requests (Origin: null, no cookies).
Those files, and only those, are sent with `Access-Control-Allow-Origin: *` (public, the same for everyone,
never credentialed) and with a JavaScript type that `nosniff` holds the browser to.
"""
from __future__ import annotations

from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

CORS_FILES = ("vendor/pdfjs/", "report-viewer.js")
JAVASCRIPT = "text/javascript; charset=utf-8"


def shared_with_opaque_origins(path: str) -> bool:
    """Whether a path under /static is one of the viewer's scripts (relative, as StaticFiles sees it)."""
    return path.startswith(CORS_FILES)


class PublicStatic(StaticFiles):
    """StaticFiles adding CORS and a script type to the viewer's files; every other file is served as before."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if shared_with_opaque_origins(path) and response.status_code in (200, 304):
            response.headers["Access-Control-Allow-Origin"] = "*"
            response.headers["X-Content-Type-Options"] = "nosniff"
            if path.endswith((".mjs", ".js")) and response.status_code == 200:
                response.headers["Content-Type"] = JAVASCRIPT
        return response
