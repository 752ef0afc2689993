"""The report viewer: a page with no data of its own that draws a PDF with the vendored pdf.js (static/vendor/pdfjs).

The grading page frames it with `sandbox="allow-scripts"` (no allow-same-origin) and its own CSP says
`sandbox allow-scripts` too, so it runs in an opaque origin even when opened on its own: a script in it (pdf.js,
or an exploit of pdf.js) cannot read the TA's cookies or CSRF token, read the parent page, or call the API as
the TA. The parent page fetches the PDF and posts its bytes in (static/report-frame.js); the viewer
(static/report-viewer.js) posts back the page count or an error. docs/web.md, "Safety of what is shown".
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gradeflow_api.web.render import page

router = APIRouter(include_in_schema=False)

# Each source, and why pdf.js needs it (anything else is refused):
VIEWER_CSP = "; ".join((
    "sandbox allow-scripts",  # an opaque origin even when the URL is opened outside the grading page's frame
    "default-src 'none'",
    "script-src 'self'",  # our report-viewer.js and pdf.min.mjs (no inline script, no eval, no wasm)
    "worker-src blob:",  # pdf.js's worker: a blob that imports pdf.worker.min.mjs (which script-src allows)
    "style-src 'self'",  # static/report-viewer.css
    "connect-src 'none'",  # the viewer fetches nothing: the bytes arrive by postMessage
    # no img-src, no font-src: pdf.js decodes images itself and hands a PDF's fonts to the browser as bytes
    # (FontFace), never as URLs; an embedded TrueType font and a JPEG draw under this policy (the browser test)
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'self'",  # only our own pages may frame it
))
VIEWER_HEADERS = {"Content-Security-Policy": VIEWER_CSP, "X-Frame-Options": "SAMEORIGIN",
                  "Referrer-Policy": "no-referrer"}


@router.get("/report-viewer")
def report_viewer(request: Request) -> Response:
    """The same HTML for everyone (no session read, nothing about a user or a submission in it)."""
    return page(request, "report_viewer.html", headers=VIEWER_HEADERS)
