"""Contest pages: the leaderboards (public; private for staff, and for students after the reveal), a student's
standing with their final picks, and the instructor's reveal."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gradeflow_api.deps import SessionDep
from gradeflow_api.web.deps import AssignmentDep, CsrfChecked, PageError, PageUser, SubmissionDep
from gradeflow_api.web.pages.login import see_other
from gradeflow_api.web.render import page
from gradeflow_core import contest_actions
from gradeflow_core.contest_board import ContestRefused, board_view, contest_config
from gradeflow_core.leaderboard import MAX_PICKS
from gradeflow_protocol.enums import Board, ContestGrading, ContestMetric, ContestRefusal, Role
from gradeflow_protocol.words import describe_board, describe_contest_refusal, describe_metric

router = APIRouter(include_in_schema=False)
_STATUS = {"hidden": 403, "not_yours": 403, "not_a_contest": 404}


def _board(raw: str | None) -> Board:
    try:
        return Board(raw or Board.PUBLIC)
    except ValueError:
        raise PageError(422, "The board is 'public' or 'private'.") from None


def leaderboard_page(request: Request, found, session, user, *, board: Board, message: str = "", error: str = "",
                     status_code: int = 200) -> Response:
    assignment, staff = found.assignment, found.access.is_staff
    config = contest_config(assignment)
    if config is None:
        raise PageError(404, "This assignment is not a contest: it has no leaderboard.")
    try:
        view = board_view(session, assignment=assignment, board=board, staff=staff)
    except ContestRefused as exc:
        raise PageError(_STATUS.get(exc.refusal.value, 409), exc.message) from None
    mine = None if staff else contest_actions.standing(session, assignment=assignment, user=user)
    return page(request, "contest/leaderboard.html", status_code=status_code, course=assignment.course,
                role=found.access.role, assignment=assignment, view=view, board=board, mine=mine, config=config,
                board_words=describe_board(board), metric_words=describe_metric(ContestMetric(view.metric)),
                max_picks=MAX_PICKS, message=message, error=error,
                instructor=found.access.role is Role.INSTRUCTOR)


def _refusal_words(raw: str | None) -> str:
    """The words of a refusal a redirect named (?error=too_many_picks); anything else is ignored."""
    try:
        return describe_contest_refusal(ContestRefusal(raw), limit=MAX_PICKS) if raw else ""
    except ValueError:
        return ""


@router.get("/assignments/{assignment_id}/leaderboard")
def leaderboard(request: Request, found: AssignmentDep, session: SessionDep, user: PageUser) -> Response:
    query = request.query_params
    return leaderboard_page(request, found, session, user, board=_board(query.get("board")),
                            error=_refusal_words(query.get("error")))


@router.post("/submissions/{submission_id}/final-pick", dependencies=[CsrfChecked])
async def final_pick(request: Request, found: SubmissionDep, session: SessionDep, user: PageUser) -> Response:
    """Pick (or unpick) a final submission; a refusal comes back as a message on the leaderboard page."""
    form = await request.form()
    submission = found.submission
    action = contest_actions.unpick if form.get("action") == "unpick" else contest_actions.pick
    try:
        action(session, submission=submission, user=user)
    except ContestRefused as exc:
        session.rollback()
        return see_other(f"/assignments/{submission.assignment_id}/leaderboard?error={exc.refusal.value}")
    session.commit()
    return see_other(f"/assignments/{submission.assignment_id}/leaderboard#my-entries")


@router.post("/assignments/{assignment_id}/contest/reveal", dependencies=[CsrfChecked])
async def reveal(request: Request, found: AssignmentDep, session: SessionDep, user: PageUser) -> Response:
    if found.access.role is not Role.INSTRUCTOR:
        raise PageError(403, "Only the course's instructors can reveal the private leaderboard.")
    form = await request.form()
    assignment = found.assignment
    try:
        if form.get("action") == "hide":
            contest_actions.hide(session, assignment=assignment)
        else:
            grading = form.get("grading")
            contest_actions.reveal(session, assignment=assignment, user=user,
                                   grading=ContestGrading(grading) if grading in set(ContestGrading) else None)
    except (ContestRefused, ValueError) as exc:
        session.rollback()
        message = exc.message if isinstance(exc, ContestRefused) else str(exc)
        return leaderboard_page(request, found, session, user, board=Board.PRIVATE, error=message, status_code=409)
    session.commit()
    return see_other(f"/assignments/{assignment.id}/leaderboard?board=private")
