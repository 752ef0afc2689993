"""Regrading one submission: a new attempt against the official version, refused while it is in flight."""
import pytest

from gradeflow_core.models import GradingResult
from gradeflow_core.regrade import RerunError, rerun_submission
from gradeflow_protocol.enums import SubmissionStatus
from tests.unit.core.world import grade_now, submit


def test_a_graded_submission_is_graded_again_and_keeps_its_first_result(staff_db):
    session, _, world = staff_db
    sub = submit(session, world, "alice")
    with pytest.raises(RerunError, match="still queued"):
        rerun_submission(sub)
    grade_now(session, sub, 0.0)
    rerun_submission(sub)
    assert (sub.status, sub.attempt, sub.runs, sub.graded_at) == (SubmissionStatus.QUEUED, 2, 0, None)
    grade_now(session, sub, 2.0)
    assert sub.score == 2.0
    attempts = session.query(GradingResult).filter_by(submission_id=sub.id).order_by(GradingResult.attempt).all()
    assert [(r.attempt, r.score) for r in attempts] == [(1, 0.0), (2, 2.0)]
