from gradeflow_protocol.enums import RunOutcome, SubmissionStatus
from gradeflow_protocol.words import describe_outcome, describe_status


def test_every_outcome_and_status_has_words():
    for outcome in RunOutcome:
        text = describe_outcome(outcome, limit="5 s")
        assert text and "{" not in text
    for status in SubmissionStatus:
        assert describe_status(status)


def test_limit_appears_in_the_sentence():
    assert "512 MB" in describe_outcome(RunOutcome.MEMORY_LIMIT, limit="512 MB")
    assert "os._exit" in describe_outcome(RunOutcome.CRASHED, detail="os._exit")
