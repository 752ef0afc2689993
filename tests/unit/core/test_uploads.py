import json

import nbformat
import pytest

from gradeflow_protocol.enums import SubmissionKind
from gradeflow_core.uploads import UploadError, check_upload, safe_filename

ACCEPTED = [".ipynb", ".py"]


def notebook_bytes() -> bytes:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    return nbformat.writes(nb).encode()


def test_valid_notebook_and_script_are_accepted():
    assert check_upload(filename="hw.ipynb", data=notebook_bytes(), accepted=ACCEPTED, max_bytes=10**6).kind is SubmissionKind.NOTEBOOK
    assert check_upload(filename="hw.py", data=b"x = 1\n", accepted=ACCEPTED, max_bytes=10**6).kind is SubmissionKind.SCRIPT


@pytest.mark.parametrize(("name", "data", "needle"), [
    ("hw.ipynb", b"{not json", "invalid JSON"),
    ("hw.ipynb", json.dumps({"cells": "nope", "nbformat": 4}).encode(), "not valid nbformat"),
    ("hw.ipynb", b"[]", "no 'cells'"),
    ("hw.py", b"\xff\xfe\x00bad", "not UTF-8"),
    ("hw.exe", b"MZ", "unknown extension"),
    ("hw.csv", b"a,b\n", "does not take .csv"),
    ("hw.py", b"", "empty"),
    ("hw.py", b"x" * 2000, "limit"),
])
def test_bad_uploads_get_a_message_with_the_fix(name, data, needle):
    with pytest.raises(UploadError, match=needle):
        check_upload(filename=name, data=data, accepted=ACCEPTED, max_bytes=1000)


def test_filenames_are_sanitised():
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\me\\my hw (1).py") == "my_hw_1_.py"
    assert safe_filename(".hidden.py") == "hidden.py"
