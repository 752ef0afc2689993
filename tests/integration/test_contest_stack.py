"""The wafer-defects contest through the real stack (API, Celery worker, Redis, SQLite, bubblewrap): a predictions
CSV is scored without a sandbox, a notebook's predictions.csv is read back and scored, every bad CSV gets its
row-numbered message through the API and is void (it does not use up the day's upload), and the private score is
stored for the reveal but shown nowhere a student or the TA log reaches.

Its own stack (own database, Redis database 12) with only wafer-defects published, so the policy it sets stays here.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import httpx
import nbformat
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from gradeflow_core.models import ContestScore, Submission
from gradeflow_graders.contest import Metric, Solution, parse_predictions, score_split
from tests.conftest import ASSIGNMENTS, REPO, require
from tests.stack import start_stack

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis]
SLUG = "wafer-defects"
BUNDLE = ASSIGNMENTS / SLUG
SOLUTION = Solution.read(BUNDLE / "hidden" / "solution.csv")
ENVIRONMENT = Path(os.environ.get("GRADEFLOW_ENVIRONMENTS_DIR", REPO / "var" / "environments")) / "scientific"
STUDENT = "student3"  # in no team and with no upload yet: the daily limit counts only the uploads here


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_url):
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    require((ENVIRONMENT / "bin" / "python").exists(),
            "the scientific environment is not built (python -m gradeflow_worker.environments build scientific)")
    stack = start_stack(tmp_path_factory.mktemp("contest"), redis_url=redis_url.rsplit("/", 1)[0] + "/12",
                        demo_only=(SLUG,))
    yield stack
    stack.stop()


def rows_csv(rows: list[list[str]], header: str = "id,label") -> bytes:
    return "\n".join([header, *(",".join(row) for row in rows)]).encode() + b"\n"


def half_right() -> list[list[str]]:
    return [[id_, label if i % 3 else "none"] for i, (id_, label) in enumerate(zip(SOLUTION.ids, SOLUTION.labels))]


def scores_of(data: bytes) -> tuple[float, float]:
    public, private = score_split(parse_predictions(data, SOLUTION, Metric.MACRO_F1), SOLUTION, Metric.MACRO_F1)
    return round(public, 4), round(private, 4)


def stored(stack, submission_id: int) -> tuple[Submission, ContestScore | None]:
    """The submission's row and its contest scores, read from the stack's SQLite database."""
    engine = create_engine(f"sqlite:///{stack.var_dir / 'gradeflow.db'}")
    try:
        with Session(engine) as session:
            submission = session.get(Submission, submission_id)
            score = session.scalar(select(ContestScore).where(ContestScore.submission_id == submission_id))
            session.expunge_all()
            return submission, score
    finally:
        engine.dispose()


def secrets_in(text: str, score: ContestScore) -> list[str]:
    values = [score.private, score.private_low, score.private_high]
    return [s for v in values for s in (f"{v:.4f}", f"{v:.3f}", repr(v)) if s in text]


def test_a_predictions_csv_is_scored_by_its_public_part_and_the_private_score_kept_for_the_reveal(stack):
    data = rows_csv(half_right())
    public, private = scores_of(data)
    assert public != private
    body = stack.grade("predictions.csv", data, slug=SLUG)
    assert body["status"] == "graded" and body["kind"] == "predictions", body
    assert body["score"] == public and body["max_score"] == 1.0
    [check] = body["checks"]
    assert check["name"] == "Public score (macro-F1)" and f"{public:.4f}" in check["message"]
    assert "no code ran" in body["run"]["message"]
    submission, score = stored(stack, body["id"])
    assert not submission.void and score is not None
    assert (score.metric, score.public, score.private) == ("macro_f1", public, private)
    assert score.private_low <= private <= score.private_high and score.problem == ""
    student_view = json.dumps(body)
    staff_view = stack.get(body["id"], username="ta1").text
    assert "no kernel or sandbox started" in staff_view  # the TA log is there ...
    assert secrets_in(student_view, score) == [] and secrets_in(staff_view, score) == []  # ... without the secret


BAD = [
    ("wrong header", rows_csv(half_right(), header="Id,Predicted"), "row 1: the header is 'Id,Predicted'; expected"),
    ("missing ids", rows_csv(half_right()[:-2]), "2 test ids have no prediction, the first is 'w0398'"),
    ("duplicate id", rows_csv([*half_right()[:3], half_right()[0], *half_right()[3:]]),
     "row 5: id 'w0000' appears twice (first at row 2)"),
    ("unknown label", rows_csv([["w0000", "crack"], *half_right()[1:]]), "row 2: the label is 'crack'; expected one"),
    ("NaN", rows_csv([["w0000", "nan"], *half_right()[1:]]), "row 2: the label is 'nan'"),
    ("too many rows", rows_csv([*half_right(), ["w0000", "none"]]), "row 402: too many rows"),
    ("blank", b"\n \n", "the file is empty"),
]


def test_every_bad_csv_is_graded_with_its_message_and_void(stack):
    ids = {}
    for case, data, _ in BAD:
        response = stack.submit(f"{case.replace(' ', '_')}.csv", data, slug=SLUG)
        assert response.status_code == 202, (case, response.text)
        ids[case] = response.json()["id"]
    for case, _, message in BAD:
        body = stack.wait(ids[case])
        [check] = body["checks"]
        assert body["status"] == "graded" and body["score"] == 0, (case, body)
        assert message in check["message"] and message in body["run"]["message"], (case, check)
        assert "does not count against your daily limit" in body["run"]["message"]
        submission, score = stored(stack, ids[case])
        assert submission.void and score.public is None and score.private is None, case
        assert message in score.problem


def test_a_csv_that_is_not_utf8_is_refused_at_upload_with_the_fix(stack):
    response = stack.submit("latin1.csv", "id,label\nw0000,n\u00f6ne\n".encode("latin-1"), slug=SLUG)
    assert response.status_code == 422, response.text
    assert "not UTF-8 text (byte 16 is invalid). Save it as UTF-8." in response.text


def test_a_bad_csv_does_not_use_up_the_days_upload(stack):
    aid = stack.assignment_id(SLUG, "prof")
    policy = httpx.put(f"{stack.base_url}/api/v1/assignments/{aid}/policy", json={"max_per_day": 1},
                       headers=stack.headers("prof"))
    assert policy.status_code == 200, policy.text
    try:
        bad = stack.grade("bad.csv", rows_csv(half_right(), header="id,prediction"), slug=SLUG, username=STUDENT)
        assert bad["score"] == 0 and "row 1: the header" in bad["checks"][0]["message"]
        good = stack.submit("good.csv", rows_csv(half_right()), slug=SLUG, username=STUDENT)
        assert good.status_code == 202, good.text  # the void upload left the day's one upload unused
        stack.wait(good.json()["id"], username=STUDENT)
        again = stack.submit("again.csv", rows_csv(half_right()), slug=SLUG, username=STUDENT)
        assert again.status_code == 429, again.text
    finally:
        reset = httpx.put(f"{stack.base_url}/api/v1/assignments/{aid}/policy", json={}, headers=stack.headers("prof"))
        assert reset.status_code == 200, reset.text


def test_a_notebook_writing_predictions_is_scored_and_one_writing_none_says_so(stack):
    body = stack.grade("starter.ipynb", (BUNDLE / "starter.ipynb").read_bytes(), slug=SLUG, username="student2")
    assert body["status"] == "graded" and body["run"]["outcome"] == "completed", body
    [check] = body["checks"]
    assert check["name"] == "Public score (macro-F1)" and check["passed"] and body["score"] > 0.5, check
    submission, score = stored(stack, body["id"])
    assert score.public == body["score"] and score.private is not None and not submission.void
    assert secrets_in(json.dumps(body), score) == []

    silent = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import numpy as np\nx = np.load("
                                                                       "'data/test_images.npy', allow_pickle=False)")])
    body = stack.grade("silent.ipynb", nbformat.writes(silent).encode(), slug=SLUG, username="student2")
    [check] = body["checks"]
    assert body["status"] == "graded" and body["score"] == 0
    assert "your notebook did not write predictions.csv in its working folder" in check["message"]
    submission, score = stored(stack, body["id"])
    assert score is None and not submission.void  # the notebook ran: it counts as an upload
