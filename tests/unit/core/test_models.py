"""Enum columns come back as their enums (no conversions at the call sites), and refuse unknown text."""
import pytest
from sqlalchemy import text

from gradeflow_core.models import Enrollment, Submission
from gradeflow_protocol.enums import Role, SubmissionKind, SubmissionPurpose, SubmissionStatus
from tests.unit.core.world import submit


def test_enum_columns_read_back_as_enums(staff_db):
    session, _, world = staff_db
    sid = submit(session, world, "alice").id
    session.commit()
    session.expire_all()
    row = session.get(Submission, sid)
    assert type(row.status) is SubmissionStatus and row.status is SubmissionStatus.QUEUED
    assert type(row.kind) is SubmissionKind and type(row.purpose) is SubmissionPurpose
    assert type(session.query(Enrollment).first().role) is Role


def test_text_outside_the_enum_is_refused_on_the_way_in_and_out(staff_db):
    session, _, world = staff_db
    row = submit(session, world, "alice")
    row.status = "runing"
    with pytest.raises(Exception, match="runing"):
        session.flush()
    session.rollback()
    sid = submit(session, world, "bob").id
    session.commit()
    session.execute(text("UPDATE submissions SET status = 'lost' WHERE id = :id"), {"id": sid})
    session.expire_all()
    with pytest.raises(ValueError, match="lost"):
        session.get(Submission, sid).status
