"""The submission page shows what a zip submission holds rather than its bytes."""
from types import SimpleNamespace

from gradeflow_api.web.pages.student import _submitted_text

from tests.zips import make_zip, notebook


def test_a_zip_submission_is_listed_not_rendered():
    data = make_zip([("hw.ipynb", notebook("x = 1")), ("student_file.py", "X = 1")])
    blobs = SimpleNamespace(get=lambda sha: data)
    kind, text = _submitted_text(blobs, SimpleNamespace(blob_sha256="s", filename="hw.zip", kind="notebook"))
    assert kind == "text" and text.startswith("A zip; hw.ipynb runs") and "student_file.py (5 bytes)" in text
