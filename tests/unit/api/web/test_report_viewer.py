"""The report viewer's page and files over HTTP: its own strict CSP (sandboxed, no fetch, framed only by our pages),
the CORS and script type its scripts need in an opaque origin (and only its scripts), the grading page framing
it sandboxed without allow-same-origin, and the vendored pdf.js matching its README."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from types import SimpleNamespace

from gradeflow_api.web.render import CSP
from gradeflow_core.models import Course, User
from tests.unit.api.web.test_pages import app, client, sign_in  # noqa: F401
from tests.unit.core.test_rubric import publish_report, upload

VENDOR = Path(__file__).parents[4] / "services/api/gradeflow_api/web/static/vendor/pdfjs"
VIEWER_CSP = ("sandbox allow-scripts; default-src 'none'; script-src 'self'; worker-src blob:; style-src 'self'; "
              "connect-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")


def test_the_viewer_has_its_own_strict_policy_and_only_our_pages_frame_it(client):  # noqa: F811
    r = client.get("/report-viewer")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == VIEWER_CSP
    assert r.headers["x-frame-options"] == "SAMEORIGIN" and r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer" and "set-cookie" not in r.headers
    scripts = re.findall(r"<script[^>]*>", r.text)
    assert scripts == ['<script type="module" src="/static/report-viewer.js">']  # no inline script
    assert "csrf" not in r.text.lower()


def test_only_the_viewers_scripts_are_shared_with_opaque_origins(client):  # noqa: F811
    for path in ("/static/vendor/pdfjs/pdf.min.mjs", "/static/vendor/pdfjs/pdf.worker.min.mjs",
                 "/static/report-viewer.js"):
        r = client.get(path, headers={"Origin": "null"})
        assert r.status_code == 200, path
        assert r.headers["access-control-allow-origin"] == "*" and "access-control-allow-credentials" not in r.headers
        assert r.headers["content-type"] == "text/javascript; charset=utf-8"
        assert r.headers["x-content-type-options"] == "nosniff"
    for path in ("/static/app.js", "/static/report-frame.js", "/static/style.css"):
        assert "access-control-allow-origin" not in client.get(path).headers, path
    assert client.get("/static/vendor/pdfjs/nothing.mjs").status_code == 404


def test_the_grading_page_frames_the_viewer_sandboxed_without_same_origin(app, client, tmp_path):  # noqa: F811
    with app.state.session_factory() as session:
        course = session.query(Course).filter_by(slug="c1").one()
        report = publish_report(session, app.state.blobs, SimpleNamespace(course=course), tmp_path)
        sid = upload(session, report, session.query(User).filter_by(username="alice").one()).id
        session.commit()
    sign_in(client, "tina")
    r = client.get(f"/submissions/{sid}/grade")
    assert r.status_code == 200, r.text
    [frame] = re.findall(r"<iframe[^>]*>", r.text)
    assert 'sandbox="allow-scripts"' in frame and "allow-same-origin" not in frame
    assert 'data-viewer="/report-viewer"' in frame and f'data-pdf="/submissions/{sid}/report.pdf"' in frame
    assert " src=" not in frame  # report-frame.js sets it once it listens for the viewer
    assert '<script src="/static/report-frame.js" defer></script>' in r.text
    assert f'href="/submissions/{sid}/report.pdf?download=1"' in r.text  # the fallback stays
    assert r.headers["content-security-policy"] == CSP and "default-src 'self'" in CSP  # frames: 'self' only
    assert r.headers["x-frame-options"] == "DENY"


def test_the_vendored_pdfjs_is_what_its_readme_says():
    readme = (VENDOR / "README.md").read_text()
    listed = dict(re.findall(r"\| `([^`]+)` \| `package/[^`]+` \| `([0-9a-f]{64})` \|", readme))
    files = {p.name for p in VENDOR.iterdir()} - {"README.md"}
    assert set(listed) == files == {"pdf.min.mjs", "pdf.worker.min.mjs", "LICENSE"}
    for name, digest in listed.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    version = re.search(r"pdfjs-dist@(\d+)\.(\d+)\.(\d+)", readme).groups()
    assert tuple(map(int, version)) >= (4, 2, 67)  # CVE-2024-4367 is fixed from 4.2.67 on
    assert f"pdfjs-dist@{'.'.join(version)}" in readme and "sourceMappingURL" not in (VENDOR / "pdf.min.mjs").read_text()
