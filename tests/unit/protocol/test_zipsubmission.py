"""A zip submission: which file runs, and which zips are refused (with the member named)."""
import pytest
from gradeflow_protocol.enums import SubmissionKind
from gradeflow_protocol.safezip import UnsafeZip
from gradeflow_protocol.zipsubmission import (
    is_zip_name,
    open_submission_zip,
    zip_listing,
)

from tests.zips import hostile_zips, make_zip, notebook


def test_the_one_notebook_runs_and_every_file_goes_beside_it():
    found = open_submission_zip(make_zip([("hw.ipynb", notebook("import student_file")),
                                          ("student_file.py", "X = 1\n"), ("inputs/a.csv", "a\n1\n")]))
    assert found.main == "hw.ipynb" and found.kind is SubmissionKind.NOTEBOOK
    assert sorted(found.files) == ["hw.ipynb", "inputs/a.csv", "student_file.py"]
    assert found.files["student_file.py"] == b"X = 1\n"


def test_a_wrapping_folder_and_os_clutter_are_left_out():
    found = open_submission_zip(make_zip([("hw1/hw.ipynb", notebook()), ("hw1/util.py", "Y = 2"),
                                          ("__MACOSX/hw1/._hw.ipynb", "junk"),
                                          ("hw1/.ipynb_checkpoints/hw-checkpoint.ipynb", notebook())]))
    assert found.main == "hw.ipynb" and sorted(found.files) == ["hw.ipynb", "util.py"]


def test_a_zip_without_a_notebook_runs_its_one_script():
    found = open_submission_zip(make_zip([("main.py", "print(1)"), ("lib/helpers.py", "")]))
    assert found.main == "main.py" and found.kind is SubmissionKind.SCRIPT


@pytest.mark.parametrize(("entries", "words"), [
    ([("a.ipynb", notebook()), ("b.ipynb", notebook())], "2 .ipynb files (a.ipynb, b.ipynb)"),
    ([("a.py", ""), ("b.py", "")], "2 .py files"),
    ([("data.csv", "a")], "no notebook (.ipynb) or script (.py)"),
    ([("sub/hw.ipynb", notebook()), ("x.csv", "a")], "'sub/hw.ipynb' is in a subfolder"),
    ([("hw.ipynb", notebook()), ("data/x.csv", "a")], "'data/x.csv': the folder data/ is where the assignment's"),
])
def test_zips_that_do_not_say_what_to_run_are_refused(entries, words):
    with pytest.raises(UnsafeZip, match=None) as caught:
        open_submission_zip(make_zip(entries))
    assert words in str(caught.value)


@pytest.mark.parametrize("name", sorted(hostile_zips()))
def test_hostile_zips_are_refused_naming_the_member(name):
    data, words = hostile_zips()[name]
    with pytest.raises(UnsafeZip) as caught:
        open_submission_zip(data)
    assert words in str(caught.value)


def test_zip_names():
    assert is_zip_name("HW.ZIP") and not is_zip_name("hw.ipynb")


def test_the_submission_page_lists_what_a_zip_holds():
    text = zip_listing(make_zip([("hw.ipynb", notebook()), ("student_file.py", "X = 1")]))
    assert text.startswith("A zip; hw.ipynb runs") and "student_file.py (5 bytes)" in text
    assert zip_listing(b"junk").startswith("This zip cannot be read: not a readable zip file")
