"""Contest routes: the leaderboards, a student's standing and final picks, the instructor's reveal."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, status

from gradeflow_api.deps import CurrentUser, InstructorAssignment, ReadableSubmission, SessionDep, VisibleAssignment
from gradeflow_api.deps import is_staff_for
from gradeflow_api.schemas_contest import (BoardEntry, LeaderboardPublic, MyContestEntry, RevealBody, RevealPublic,
                                           StandingPublic)
from gradeflow_core import contest_actions
from gradeflow_core.contest_board import BoardView, ContestRefused, board_view
from gradeflow_core.leaderboard import MAX_PICKS
from gradeflow_protocol.enums import Board, ContestGrading, ContestRefusal

router = APIRouter(prefix="/api/v1", tags=["contest"])

_STATUS = {ContestRefusal.NOT_A_CONTEST: status.HTTP_404_NOT_FOUND, ContestRefusal.HIDDEN: status.HTTP_403_FORBIDDEN,
           ContestRefusal.NOT_YOURS: status.HTTP_403_FORBIDDEN, ContestRefusal.NOT_SCORED: status.HTTP_409_CONFLICT,
           ContestRefusal.TOO_MANY_PICKS: status.HTTP_409_CONFLICT, ContestRefusal.PICKS_CLOSED: status.HTTP_409_CONFLICT,
           ContestRefusal.NOT_CLOSED: status.HTTP_409_CONFLICT}


def contest_error(exc: ContestRefused) -> HTTPException:
    return HTTPException(_STATUS[exc.refusal], exc.message)


def board_public(view: BoardView) -> LeaderboardPublic:
    return LeaderboardPublic(board=view.board, revealed=view.revealed, metric=view.metric, entries=[
        BoardEntry(rank=r.rank, team=view.names.get(r.team, "?"), score=r.score, submissions=r.submissions,
                   last_at=r.last_at, interval=r.interval if view.board is Board.PRIVATE else None)
        for r in view.rows])


@router.get("/assignments/{assignment_id}/leaderboard", response_model=LeaderboardPublic,
            summary="A contest's public board, or its private one (staff; students after the reveal)",
            responses={403: {"description": "the private board before the reveal"},
                       404: {"description": "no such assignment, or it is not a contest"}})
def leaderboard(assignment: VisibleAssignment, session: SessionDep, user: CurrentUser,
                board: Board = Query(Board.PUBLIC)) -> LeaderboardPublic:
    staff = is_staff_for(session, user, assignment.course_id)
    try:
        return board_public(board_view(session, assignment=assignment, board=board, staff=staff))
    except ContestRefused as exc:
        raise contest_error(exc) from None


@router.get("/assignments/{assignment_id}/contest/standing", response_model=StandingPublic,
            summary="The caller's (team's) place on the public board, scored submissions and final picks")
def my_standing(assignment: VisibleAssignment, session: SessionDep, user: CurrentUser) -> StandingPublic:
    try:
        mine = contest_actions.standing(session, assignment=assignment, user=user)
    except ContestRefused as exc:
        raise contest_error(exc) from None
    return StandingPublic(rank=mine.rank, picks=mine.picks, max_picks=MAX_PICKS, picks_close_at=mine.picks_close_at,
                          revealed=mine.revealed, entries=[MyContestEntry(**e.__dict__) for e in mine.entries])


def _change_picks(action, *, submission, session, user) -> StandingPublic:
    try:
        action(session, submission=submission, user=user)
    except ContestRefused as exc:
        raise contest_error(exc) from None
    session.commit()
    return my_standing(submission.assignment, session, user)


@router.put("/submissions/{submission_id}/final-pick", response_model=StandingPublic,
            summary="Make this submission one of the team's (at most two) final submissions for the private board")
def pick(submission: ReadableSubmission, session: SessionDep, user: CurrentUser) -> StandingPublic:
    return _change_picks(contest_actions.pick, submission=submission, session=session, user=user)


@router.delete("/submissions/{submission_id}/final-pick", response_model=StandingPublic,
               summary="Take this submission out of the team's final submissions")
def unpick(submission: ReadableSubmission, session: SessionDep, user: CurrentUser) -> StandingPublic:
    return _change_picks(contest_actions.unpick, submission=submission, session=session, user=user)


@router.post("/assignments/{assignment_id}/contest/reveal", response_model=RevealPublic,
             summary="Reveal the private board to students (instructors, after the close); the gradebook follows")
def reveal(assignment: InstructorAssignment, session: SessionDep, user: CurrentUser,
           body: RevealBody | None = None) -> RevealPublic:
    try:
        row = contest_actions.reveal(session, assignment=assignment, user=user, grading=body.grading if body else None)
    except ContestRefused as exc:
        raise contest_error(exc) from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    session.commit()
    return RevealPublic(revealed=True, revealed_at=row.revealed_at, grading=ContestGrading(row.gradebook_mode))


@router.delete("/assignments/{assignment_id}/contest/reveal", response_model=RevealPublic,
               summary="Hide the private board again (a reveal made by mistake)")
def hide(assignment: InstructorAssignment, session: SessionDep) -> RevealPublic:
    try:
        contest_actions.hide(session, assignment=assignment)
    except ContestRefused as exc:
        raise contest_error(exc) from None
    session.commit()
    return RevealPublic(revealed=False)
