"""The worker reads a zip again itself (safezip), puts every member in the home, runs its one notebook."""
import os
from types import SimpleNamespace

import pytest
from gradeflow_graders.api import CheckSpec
from gradeflow_protocol.enums import RunOutcome, SubmissionKind
from gradeflow_protocol.messages import JobSpec, Limits
from gradeflow_worker.harness import _refused
from gradeflow_worker.kernel import ExecResult, ExecStatus
from gradeflow_worker.unpack import UnreadableSubmission, unpack_submission
from gradeflow_worker.warm import INBOX, hand_over

from tests.zips import hostile_zips, make_zip, notebook


def test_a_plain_upload_is_its_own_one_file():
    found = unpack_submission(filename="hw.ipynb", kind=SubmissionKind.NOTEBOOK, data=b"{}")
    assert found.files == {"hw.ipynb": b"{}"} and found.zip_name is None and found.support_files == []


def test_a_zip_gives_its_notebook_and_every_file():
    data = make_zip([("hw1/hw.ipynb", notebook("import student_file")), ("hw1/student_file.py", "X = 1"),
                     ("hw1/inputs/a.csv", "a")])
    found = unpack_submission(filename="hw.zip", kind=SubmissionKind.SCRIPT, data=data)  # the job's kind is not trusted
    assert found.filename == "hw.ipynb" and found.kind is SubmissionKind.NOTEBOOK and found.zip_name == "hw.zip"
    assert found.support_files == ["inputs/a.csv", "student_file.py"] and b"student_file" in found.data


@pytest.mark.parametrize("name", sorted(hostile_zips()))
def test_a_hostile_zip_is_refused_by_the_worker_too(name):
    data, words = hostile_zips()[name]
    with pytest.raises(UnreadableSubmission) as caught:
        unpack_submission(filename="hw.zip", kind=SubmissionKind.NOTEBOOK, data=data)
    assert words in str(caught.value)


def test_the_refusal_is_a_verdict_not_a_retry():
    job = JobSpec(submission_id=3, attempt=1, kind=SubmissionKind.NOTEBOOK, filename="hw.zip", submission_sha256="0" * 64,
                  bundle_sha256="0" * 64, assignment_slug="hw", limits=Limits(), seed=1)
    spec = CheckSpec(name="q1", points=2, function=lambda s: None)
    post = _refused(job, [spec], "The zip hw.zip was refused: 'x' is a symbolic link.")
    assert post.run.outcome is RunOutcome.CRASHED and "symbolic link" in post.run.message
    assert post.checks[0].score == 0 and post.checks[0].message.startswith("Not run: The zip hw.zip was refused")


class FakeKernel:
    def __init__(self, ipc_dir):
        self.spec = SimpleNamespace(ipc_dir=ipc_dir)
        self.sandbox = SimpleNamespace(ipc_path=lambda spec: "/gf")
        self.code = []

    def execute(self, code, timeout, sink):
        self.code.append(code)
        return ExecResult(ExecStatus.OK)


def test_hand_over_places_subfolders_in_the_inbox_and_copies_the_tree_into_home(tmp_path):
    (tmp_path / "ipc").mkdir()
    kernel = FakeKernel(tmp_path / "ipc")
    slot = SimpleNamespace(kernel=kernel, public_dir=tmp_path / "public")
    hand_over(slot, files={"hw.ipynb": b"{}", "files/deep/a.csv": b"a"}, public_src=None)
    inbox = tmp_path / "ipc" / INBOX
    assert (inbox / "files" / "deep" / "a.csv").read_bytes() == b"a" and (inbox / "hw.ipynb").read_bytes() == b"{}"
    assert oct((inbox / "files").stat().st_mode & 0o777) == "0o755"
    assert "_gf_place('/gf/inbox')" in kernel.code[0]
    moved = tmp_path / "home"
    moved.mkdir()
    here = os.getcwd()
    os.chdir(moved)
    try:
        exec(kernel.code[0].replace("/gf/inbox", str(inbox)), {})  # noqa: S102 - the kernel's copy code, run here
    finally:
        os.chdir(here)
    assert (moved / "files" / "deep" / "a.csv").read_bytes() == b"a" and (moved / "hw.ipynb").exists()
    with pytest.raises(ValueError, match="escapes"):
        hand_over(slot, files={"../../x": b""}, public_src=None)
