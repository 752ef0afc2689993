"""The staff's submission list: pages, filters, neighbours, a student's other work (core/submission_list.py)."""
import pytest

from gradeflow_core.submission_list import SubmissionFilters, list_page, neighbours, paginate, same_student_work
from gradeflow_protocol.enums import SubmissionStatus
from tests.unit.core.world import fail_now, grade_now, submit


@pytest.mark.parametrize(("total", "asked", "page", "pages", "offset"), [
    (0, 1, 1, 1, 0), (50, 1, 1, 1, 0), (51, 2, 2, 2, 50), (340, 7, 7, 7, 300),
    (340, 99, 7, 7, 300),  # past the end: the last page
    (340, 0, 1, 7, 0), (340, -3, 1, 7, 0)])
def test_paginate_keeps_the_page_in_range(total, asked, page, pages, offset):
    paging = paginate(total, asked, per_page=50)
    assert (paging.page, paging.pages, paging.offset) == (page, pages, offset)
    assert paging.has_previous == (page > 1) and paging.has_next == (page < pages)


def test_paginate_refuses_an_empty_page_size():
    with pytest.raises(ValueError):
        paginate(10, 1, per_page=0)


def test_pages_filters_and_neighbours(staff_db):
    session, _, world = staff_db
    subs = [submit(session, world, name) for name in ("alice", "bob", "alice", "carol", "alice")]
    grade_now(session, subs[0], 2.0)
    fail_now(session, subs[1])
    course = world.course.id
    first, paging = list_page(session, course_id=course, filters=SubmissionFilters(), page=1, per_page=2)
    assert [s.id for s in first] == [subs[4].id, subs[3].id] and (paging.total, paging.pages) == (5, 3)
    last, paging = list_page(session, course_id=course, filters=SubmissionFilters(), page=3, per_page=2)
    assert [s.id for s in last] == [subs[0].id] and not paging.has_next
    mine, paging = list_page(session, course_id=course, filters=SubmissionFilters(username="alice"), page=1)
    assert [s.id for s in mine] == [subs[4].id, subs[2].id, subs[0].id] and paging.total == 3
    failed, _ = list_page(session, course_id=course, filters=SubmissionFilters(status=SubmissionStatus.FAILED), page=1)
    assert [s.id for s in failed] == [subs[1].id]
    none, paging = list_page(session, course_id=course, filters=SubmissionFilters(username="nobody"), page=4)
    assert none == [] and (paging.page, paging.pages) == (1, 1)
    around = neighbours(session, subs[2], course_id=course)
    assert (around.previous_id, around.next_id) == (subs[3].id, subs[1].id)
    assert neighbours(session, subs[4], course_id=course).previous_id is None
    assert neighbours(session, subs[0], course_id=course).next_id is None
    assert [s.id for s in same_student_work(session, subs[2])] == [subs[4].id, subs[0].id]
