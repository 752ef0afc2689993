"""An assignment of several notebooks: each notebook graded on its own (a fresh kernel each, its own locked cells
and checks), a missing one scored 0 with its name, the run's time shared, one merged result (fakes, no sandbox)."""
import json

import pytest
from gradeflow_core.uploads import UploadError, check_upload
from gradeflow_graders.api import CheckSpec
from gradeflow_protocol.enums import RunOutcome, SubmissionKind
from gradeflow_protocol.messages import (
    CheckResult,
    JobSpec,
    Limits,
    ResultPost,
    RunReport,
)
from gradeflow_protocol.safezip import UnsafeZip
from gradeflow_protocol.zipsubmission import open_submission_zip, zip_listing
from gradeflow_worker.notebook_set import BadPlan, grade_set, load_plan, plan_files
from gradeflow_worker.unpack import UnreadableSubmission, unpack_submission

from tests.zips import make_zip, notebook

PLAN = {"notebooks": [{"file": "one.ipynb", "checks": ["one.ipynb: a", "one.ipynb: b"], "restore": {"cells": [1]}},
                      {"file": "two.ipynb", "checks": ["two.ipynb: a"], "restore": {"cells": [2]}}]}
SPECS = [CheckSpec(name=n, points=p, function=lambda s, r: None) for n, p in
         (("one.ipynb: a", 2), ("one.ipynb: b", 3), ("two.ipynb: a", 1))]


def job(time_limit: float = 100) -> JobSpec:
    return JobSpec(submission_id=1, attempt=1, kind=SubmissionKind.NOTEBOOK, filename="ps1.zip",
                   submission_sha256="0" * 64, bundle_sha256="0" * 64, assignment_slug="ps1",
                   limits=Limits(time_limit_s=time_limit), seed=3)


def plan(tmp_path, content=PLAN):
    (tmp_path / "notebooks.json").write_text(json.dumps(content))
    return load_plan(tmp_path)


class FakeRuns:
    """Stands for the harness's one-kernel run: records what each notebook got."""

    def __init__(self, outcome=RunOutcome.COMPLETED, clock=None):
        self.calls, self.outcome = [], outcome

    def __call__(self, part_job, submitted, specs, restore):
        self.calls.append((submitted.filename, submitted.data, sorted(submitted.files), [s.name for s in specs],
                           restore, part_job.limits.time_limit_s))
        checks = [CheckResult(name=s.name, score=s.points, max_score=s.points, passed=True) for s in specs]
        message = "" if self.outcome is RunOutcome.COMPLETED else "Your code ran out of time."
        run = RunReport(outcome=self.outcome, wall_seconds=1, message=message, environment="default")
        return ResultPost(submission_id=1, attempt=1, checks=checks, run=run, output=f"out of {submitted.filename}",
                          log=f"log of {submitted.filename}")


def submitted(*names):
    data = make_zip([(n, notebook(f"x = {n!r}")) for n in names] + [("helper.py", "Y = 1")])
    return unpack_submission(filename="ps1.zip", kind=SubmissionKind.NOTEBOOK, data=data,
                             notebooks=("one.ipynb", "two.ipynb"))


def test_each_notebook_runs_alone_with_its_own_checks_and_locked_cells(tmp_path):
    runs = FakeRuns()
    result = grade_set(job(), submitted=submitted("one.ipynb", "two.ipynb"), specs=SPECS, plan=plan(tmp_path),
                       run_one=runs)
    assert [(c[0], c[3], c[4]) for c in runs.calls] == [
        ("one.ipynb", ["one.ipynb: a", "one.ipynb: b"], {"cells": [1]}), ("two.ipynb", ["two.ipynb: a"], {"cells": [2]})]
    assert all(c[2] == ["helper.py", "one.ipynb", "two.ipynb"] for c in runs.calls)  # every file beside each
    assert b"'two.ipynb'" in runs.calls[1][1]  # the second run's cells are the second notebook's
    assert [c.name for c in result.checks] == ["one.ipynb: a", "one.ipynb: b", "two.ipynb: a"] and result.score == 6
    assert "=== one.ipynb ===\nout of one.ipynb" in result.output and "log of two.ipynb" in result.log
    assert result.run.outcome is RunOutcome.COMPLETED and result.run.environment == "default"


def test_a_missing_notebook_scores_zero_with_its_name(tmp_path):
    runs = FakeRuns()
    result = grade_set(job(), submitted=submitted("one.ipynb"), specs=SPECS, plan=plan(tmp_path), run_one=runs)
    assert [c[0] for c in runs.calls] == ["one.ipynb"]
    missing = result.checks[-1]
    assert missing.name == "two.ipynb: a" and missing.score == 0 and "has no two.ipynb" in missing.message
    assert result.score == 5 and "two.ipynb: Two.ipynb is not in the submission" in result.run.message


def test_the_time_limit_is_shared_and_a_limit_is_the_runs_outcome(tmp_path):
    runs = FakeRuns(outcome=RunOutcome.TIMEOUT)
    result = grade_set(job(50), submitted=submitted("one.ipynb", "two.ipynb"), specs=SPECS, plan=plan(tmp_path),
                       run_one=runs)
    assert runs.calls[0][5] <= 50 and runs.calls[1][5] <= runs.calls[0][5]
    assert result.run.outcome is RunOutcome.TIMEOUT and result.run.message.startswith("one.ipynb: Your code ran out")


def test_no_plan_is_an_ordinary_assignment_and_a_broken_one_is_refused(tmp_path):
    assert load_plan(tmp_path) is None
    with pytest.raises(BadPlan, match="import the assignment again"):
        plan(tmp_path, {"notebooks": [{"file": "a.ipynb"}]})
    with pytest.raises(BadPlan, match="twice"):
        plan(tmp_path, {"notebooks": [{"file": "a.ipynb", "checks": []}, {"file": "a.ipynb", "checks": []}]})
    assert plan_files(plan(tmp_path)) == ("one.ipynb", "two.ipynb")


def test_a_zip_of_the_sets_notebooks_is_read_and_others_are_refused():
    names = ("one.ipynb", "two.ipynb")
    both = open_submission_zip(make_zip([("ps1/two.ipynb", notebook()), ("ps1/one.ipynb", notebook())]),
                               notebooks=names)
    assert both.main == "one.ipynb" and both.notebooks == names
    with pytest.raises(UnsafeZip, match="exactly one"):  # an ordinary assignment still takes one notebook
        open_submission_zip(make_zip([("one.ipynb", notebook()), ("two.ipynb", notebook())]))
    with pytest.raises(UnsafeZip, match="'three.ipynb' is not one of this assignment's notebooks"):
        open_submission_zip(make_zip([("one.ipynb", notebook()), ("three.ipynb", notebook())]), notebooks=names)
    with pytest.raises(UnsafeZip, match="'sub/two.ipynb' is not one of"):
        open_submission_zip(make_zip([("one.ipynb", notebook()), ("sub/two.ipynb", notebook())]), notebooks=names)
    with pytest.raises(UnsafeZip, match="none of this assignment's notebooks"):
        open_submission_zip(make_zip([("helper.py", "x = 1")]), notebooks=names)
    with pytest.raises(UnreadableSubmission, match="three.ipynb"):
        unpack_submission(filename="ps1.zip", kind=SubmissionKind.NOTEBOOK, notebooks=names,
                          data=make_zip([("three.ipynb", notebook())]))


def test_the_upload_checks_every_notebook_of_the_set_and_the_page_lists_them():
    names = ["one.ipynb", "two.ipynb"]
    good = make_zip([("one.ipynb", notebook()), ("two.ipynb", notebook()), ("helper.py", "Y = 1")])
    assert check_upload(filename="ps1.zip", data=good, accepted=[".zip"], max_bytes=10**6, notebooks=names).kind \
        is SubmissionKind.NOTEBOOK
    broken = make_zip([("one.ipynb", notebook()), ("two.ipynb", "{not json")])
    with pytest.raises(UploadError, match="In the zip, two.ipynb: This is not a Jupyter notebook"):
        check_upload(filename="ps1.zip", data=broken, accepted=[".zip"], max_bytes=10**6, notebooks=names)
    with pytest.raises(UploadError, match="exactly one"):  # an assignment without a notebook list
        check_upload(filename="ps1.zip", data=good, accepted=[".zip"], max_bytes=10**6)
    assert zip_listing(good).splitlines() == [
        "A zip of 2 notebooks (one.ipynb, two.ipynb), each run on its own, with these files beside them:",
        "  helper.py (5 bytes)"]
