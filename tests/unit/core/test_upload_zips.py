"""Zip uploads: accepted only where the assignment says so, checked member by member, refused with the member
named and nothing returned to store."""
import pytest
from gradeflow_core.uploads import UploadError, check_upload
from gradeflow_protocol.bundles import AssignmentConfig
from gradeflow_protocol.enums import SubmissionKind

from tests.zips import hostile_zips, make_zip, notebook

ACCEPTS = [".ipynb", ".zip"]


def upload(data, accepted=ACCEPTS, name="hw.zip"):
    return check_upload(filename=name, data=data, accepted=accepted, max_bytes=5_000_000)


def test_a_zip_is_a_notebook_submission_kept_whole():
    data = make_zip([("hw.ipynb", notebook("import student_file")), ("student_file.py", "X = 1")])
    checked = upload(data)
    assert checked.kind is SubmissionKind.NOTEBOOK and checked.filename == "hw.zip" and checked.data == data


def test_zips_are_opt_in():
    with pytest.raises(UploadError, match="does not take .zip files"):
        upload(make_zip([("hw.ipynb", notebook())]), accepted=[".ipynb"])
    assert AssignmentConfig(id="a", title="A", kind="notebook", points=1, accepts=ACCEPTS).accepted_extensions() == ACCEPTS
    with pytest.raises(ValueError, match="use .ipynb, .py, .csv, .zip or .pdf"):
        AssignmentConfig(id="a", title="A", kind="notebook", points=1, accepts=[".tar"])


@pytest.mark.parametrize("name", sorted(hostile_zips()))
def test_hostile_zips_are_refused_with_the_member_named(name):
    data, words = hostile_zips()[name]
    with pytest.raises(UploadError) as caught:
        upload(data)
    assert str(caught.value).startswith("The zip was refused: ") and words in str(caught.value)


@pytest.mark.parametrize(("entries", "words"), [
    ([("a.ipynb", notebook()), ("b.ipynb", notebook())], "exactly one"),
    ([("hw.ipynb", "{not json"), ("x.py", "")], "In the zip, hw.ipynb: This is not a Jupyter notebook"),
])
def test_a_zip_must_hold_one_valid_notebook(entries, words):
    with pytest.raises(UploadError, match=None) as caught:
        upload(make_zip(entries))
    assert words in str(caught.value)


def test_something_that_is_not_a_zip_is_refused():
    with pytest.raises(UploadError, match="not a readable zip file"):
        upload(b"PK not really")
