"""Manual scores: reasons required, bounds, clearing, and the audit log (who, when, old, new)."""
from __future__ import annotations

import pytest

from gradeflow_core.gradebook import cell_for
from gradeflow_core.models import Assignment
from gradeflow_core.overrides import OverrideError, override_log, overrides_in_force, record_override
from tests.unit.core.world import grade_now, submit


def test_set_change_clear_and_the_log(staff_db):
    session, _, world = staff_db
    assignment = session.get(Assignment, world.assignment_id)
    alice, prof, tina = world.users["alice"], world.users["prof"], world.users["tina"]
    grade_now(session, submit(session, world, "alice"), 1)
    record_override(session, assignment=assignment, student=alice, score=2, reason="late check bug",
                    author=tina, previous=1)
    assert cell_for(session, assignment=assignment, student=alice).final == 2
    record_override(session, assignment=assignment, student=alice, score=1.5, reason="second look",
                    author=prof, previous=2)
    record_override(session, assignment=assignment, student=alice, score=None, reason="back to computed",
                    author=prof, previous=1.5)
    assert cell_for(session, assignment=assignment, student=alice).final == 1
    assert overrides_in_force(session, [assignment.id]) == {}
    log = override_log(session, assignment.id)
    assert [(r.score, r.previous_score, r.author.username, r.reason) for r in log] == [
        (None, 1.5, "prof", "back to computed"), (1.5, 2, "prof", "second look"), (2, 1, "tina", "late check bug")]
    assert all(r.created_at is not None for r in log)


@pytest.mark.parametrize(("score", "reason", "message"), [(1, "", "Give a reason"), (1, "  x ", "Give a reason"),
                                                          (-1, "typo fix", "between 0 and 2"),
                                                          (2.5, "bonus", "between 0 and 2"),
                                                          (None, "nothing to clear", "no override")])
def test_refused_overrides_write_nothing(staff_db, score, reason, message):
    session, _, world = staff_db
    assignment = session.get(Assignment, world.assignment_id)
    with pytest.raises(OverrideError, match=message):
        record_override(session, assignment=assignment, student=world.users["bob"], score=score, reason=reason,
                        author=world.users["prof"], previous=None)
    assert override_log(session, assignment.id) == []
