"""Headings of a rendered statement or notebook sit below the page's own h1 and h2 (sanitize.demote_headings)."""
import re

import nbformat
import pytest
from fastapi.testclient import TestClient
from gradeflow_api.main import create_app
from gradeflow_api.queue import ListEnqueuer
from gradeflow_api.settings import ApiSettings
from gradeflow_api.web.sanitize import demote_headings
from gradeflow_core.migrate import upgrade
from gradeflow_core.publishing import publish_folder

from tests.db_helpers import CHECKS, make_course
from tests.unit.api.web.test_pages import SECRET, csrf_of, sign_in

README = """# Headings

Intro with $\\mathbb{R}^n$.

## Part one

$$\\|x\\|_2 = \\sqrt{\\textstyle\\sum_i x_i^2}$$

### A detail

###### Deepest
"""
TOML = 'id = "headings"\ntitle = "Headings"\nkind = "notebook"\npoints = 2\n'


def headings(html: str) -> list[str]:
    return re.findall(r"<h([1-6])[^>]*>(.*?)</h\1>", html, flags=re.DOTALL)


def test_a_document_s_top_heading_goes_just_below_the_page_s_and_the_rest_keep_their_steps():
    assert demote_headings("<h1>A</h1><h2 class=\"x\">B</h2><h5>C</h5><h6>D</h6>", below=2) == \
        '<h3>A</h3><h4 class="x">B</h4><h6>C</h6><h6>D</h6>'  # capped at h6
    assert demote_headings("<h2>A</h2><p>&lt;h1&gt;</p><h3>B</h3>", below=2) == "<h3>A</h3><p>&lt;h1&gt;</p><h4>B</h4>"
    assert demote_headings("<h5>A</h5>", below=1) == "<h2>A</h2>"  # no gap under the page's heading
    assert demote_headings("<p>no headings</p><header>x</header>", below=2) == "<p>no headings</p><header>x</header>"


@pytest.fixture
def client(tmp_path):
    settings = ApiSettings(var_dir=tmp_path / "var", secret_key=SECRET, max_upload_bytes=200_000)
    settings.var_dir.mkdir()
    upgrade(settings.effective_database_url)
    app = create_app(settings, enqueuer=ListEnqueuer(), sweeper=False)
    folder = tmp_path / "headings"
    (folder / "checks").mkdir(parents=True)
    (folder / "assignment.toml").write_text(TOML)
    (folder / "checks" / "checks.py").write_text(CHECKS)
    (folder / "README.md").write_text(README)
    with app.state.session_factory() as session:
        course = make_course(session, app.state.blobs, tmp_path / "toy")["course"]
        publish_folder(session, app.state.blobs, course=course, folder=folder)
        session.commit()
    with TestClient(app, follow_redirects=False) as client:
        yield client


def test_the_statement_s_headings_sit_below_the_assignment_page_s(client):
    sign_in(client, "alice")
    html = client.get("/assignments/2").text
    assert headings(html)[0] == ("1", "Headings")  # the page's own title, once
    statement = html.split('<section class="statement"', 1)[1].split("</section>", 1)[0]
    assert headings(statement) == [("2", "Statement"), ("3", "Part one"), ("4", "A detail"), ("6", "Deepest")]
    assert statement.count("<math") == 2 and '<math display="block">' in statement


def test_a_submitted_notebook_s_headings_sit_below_the_submission_page_s(client):
    sign_in(client, "alice")
    token = csrf_of(client.get("/assignments/2").text)
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# My solution\n\n## Step 1\n\nWith $\\mathcal{N}(0, 1)$."),
        nbformat.v4.new_code_cell("answer = 42")])
    r = client.post("/assignments/2/submissions", data={"csrf_token": token},
                    files={"file": ("mine.ipynb", nbformat.writes(notebook).encode())})
    assert r.status_code == 303, r.text
    html = client.get(r.headers["location"]).text
    rendered = html.split('<div class="notebook">', 1)[1]
    assert [level for level, _ in headings(html.split('<div class="notebook">', 1)[0])][:1] == ["1"]
    assert headings(rendered)[:2] == [("3", "My solution"), ("4", "Step 1")]
    assert "<mi>𝒩</mi>" in rendered
