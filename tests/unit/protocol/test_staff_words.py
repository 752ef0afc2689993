"""Words for the staff's outcomes: refusals, lateness, version states."""
from datetime import UTC, datetime, timedelta, timezone

import pytest

from gradeflow_protocol.enums import UploadRefusal, VersionState
from gradeflow_protocol.words import describe_lateness, describe_refusal, describe_version_state, when

AT = datetime(2026, 12, 1, 23, 59, 59, tzinfo=UTC)


def test_every_refusal_and_state_has_words():
    for refusal in UploadRefusal:
        assert describe_refusal(refusal, retry_at=AT, limit=3, deadline=AT)
        assert describe_refusal(refusal)
    for state in VersionState:
        assert describe_version_state(state)


def test_refusals_say_when():
    assert "2026-12-01 23:59:59 UTC" in describe_refusal(UploadRefusal.DAILY_LIMIT, retry_at=AT, limit=3)
    assert "all 3 submissions" in describe_refusal(UploadRefusal.DAILY_LIMIT, retry_at=AT, limit=3)
    assert "opens at 2026-12-01" in describe_refusal(UploadRefusal.NOT_OPEN, retry_at=AT)
    assert "extension" in describe_refusal(UploadRefusal.CLOSED, deadline=AT)


@pytest.mark.parametrize(("days", "percent", "accepted", "text"), [
    (0, 0, True, "on time"), (1, 10, True, "1 day late (-10%)"), (3, 12.5, True, "3 days late (-12.5%)"),
    (2, 0, True, "2 days late (no penalty)"), (1, 100, False, "late: past the cutoff, not counted")])
def test_lateness(days, percent, accepted, text):
    assert describe_lateness(days_late=days, penalty_percent=percent, accepted=accepted) == text


def test_when_is_utc():
    assert when(AT.astimezone(timezone(timedelta(hours=2)))) == "2026-12-01 23:59:59 UTC"
