"""The queue position a student sees follows the order the queue serves: priority first, then arrival."""
from __future__ import annotations

from datetime import timedelta

from gradeflow_core.blobs import MemoryBlobStore
from gradeflow_core.db import make_engine, make_session_factory
from gradeflow_protocol.enums import SubmissionPurpose, SubmissionStatus
from gradeflow_core.migrate import upgrade
from gradeflow_core.models import utcnow
from gradeflow_core.grading import priority_of, queue_position
from tests.db_helpers import add_submission, make_course


def test_background_work_queued_earlier_is_not_ahead_of_a_student(sqlite_url, tmp_path):
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    session = make_session_factory(engine)()
    world = make_course(session, MemoryBlobStore(), tmp_path / "toy")
    start = utcnow() - timedelta(minutes=10)

    def queued(purpose: SubmissionPurpose, minutes: int, status=SubmissionStatus.QUEUED):
        sub = add_submission(session, user=world["alice"], version=world["version"])
        sub.purpose, sub.status, sub.queued_at = purpose, status, start + timedelta(minutes=minutes)
        session.flush()
        sub.priority = priority_of(session, sub)  # as commit_and_send decides it when sending
        return sub

    regrades = [queued(SubmissionPurpose.REGRADE, m) for m in range(3)]
    validation = queued(SubmissionPurpose.VALIDATION, 3)
    first = queued(SubmissionPurpose.STUDENT, 4)
    queued(SubmissionPurpose.STUDENT, 1, status=SubmissionStatus.RUNNING)  # running: no longer waiting
    second = queued(SubmissionPurpose.STUDENT, 5)
    session.flush()
    assert [queue_position(session, s) for s in (first, second)] == [1, 2]
    assert queue_position(session, validation) == 3  # behind both students, though queued before them
    assert [queue_position(session, s) for s in regrades] == [4, 5, 6]
    session.close()
    engine.dispose()
