"""Reconcile the database (the truth) with the broker (which only carries work).

Redis may lose what it holds: a restart without persistence, a flush, a send that never arrived. Each sweeper
pass looks at the broker once (the API's edge does the probing) and hands the view here. `find_lost` decides,
without touching anything, which queued rows provably lost their message; `resend_lost` gives those a new
attempt, so a stale message that survives somewhere is refused at claim (grading.claim: SUPERSEDED).

Two proofs of loss, and nothing else, so a long healthy queue is never sent again:
- the marker key the sweeper leaves in Redis is gone: the broker lost its data. Rows sent before the broker
  started are re-sent (everything so far after a flush this process saw).
- a queue's lists have been empty for `grace` while rows of that queue, sent before the lists went empty, are
  still queued: no message for them is waiting, and no worker claimed them.
Either applies to a queue only while it holds fewer messages than it has queued rows.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gradeflow_core.models import Submission, utcnow
from gradeflow_protocol.enums import SubmissionStatus

# INFO reports uptime in whole seconds, and a row's queued_at is stamped just before its send: a margin so a
# row sent to the old broker in its last second is counted as lost (a row sent in the new one's first second
# gets a spare message, which is refused at claim).
START_MARGIN = timedelta(seconds=1)


class LossReason(StrEnum):
    BROKER_RESET = "the broker lost its messages (Redis restarted or was flushed); sent again"
    EMPTY_QUEUE = "the broker held no message for it; sent again"


@dataclass(frozen=True)
class BrokerView:
    """One look at the broker."""

    marker_present: bool  # the key the sweeper leaves is still there: the broker kept its data since it was set
    started_at: datetime  # when the broker process started (the look's time minus its uptime)
    depths: Mapping[str, int]  # messages waiting per queue, every priority list counted


@dataclass
class BrokerMemory:
    """What the sweeper remembers between passes, in its own process (forgetting it only costs spare sends)."""

    marker_seen_at: datetime | None = None
    empty_since: dict[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class Cutoff:
    """Queued rows of one queue whose queued_at is before `before` have no message in the broker."""

    before: datetime
    reason: LossReason


def find_lost(view: BrokerView, memory: BrokerMemory, *, queued: Mapping[str, int], now: datetime,
              grace: timedelta) -> dict[str, Cutoff]:
    """Per queue, the rows that lost their message (pure apart from updating `memory`).

    `queued` counts the database's queued rows per queue.
    """
    reset = None if view.marker_present else _reset_boundary(view, memory, now)
    _track_empty(memory, view, queued=queued, now=now)
    cutoffs = {}
    for queue, count in queued.items():
        if view.depths.get(queue, 0) >= count:  # a message per row is there: nothing provably missing
            continue
        found = [] if reset is None else [Cutoff(before=reset, reason=LossReason.BROKER_RESET)]
        empty = memory.empty_since.get(queue)
        if empty is not None and now - empty >= grace:
            found.append(Cutoff(before=empty, reason=LossReason.EMPTY_QUEUE))
        if found:
            cutoffs[queue] = max(found, key=lambda cutoff: cutoff.before)
    if view.marker_present:
        memory.marker_seen_at = now
    return cutoffs


def _reset_boundary(view: BrokerView, memory: BrokerMemory, now: datetime) -> datetime:
    """What a broker without our marker lost: everything sent before it started, when it started after we last
    saw the marker (a restart) or this process never saw the marker (a first start, or the API and Redis
    restarted together: a row queued since may have its message in a worker's hands, unclaimed yet); a flush
    seen by this process, everything so far. A flush this process did not see is left to the empty-queue proof."""
    if memory.marker_seen_at is None or view.started_at > memory.marker_seen_at:
        return min(view.started_at + START_MARGIN, now)
    return now


def _track_empty(memory: BrokerMemory, view: BrokerView, *, queued: Mapping[str, int], now: datetime) -> None:
    for queue in list(memory.empty_since):
        if queue not in queued or view.depths.get(queue, 0) > 0:
            del memory.empty_since[queue]
    for queue in queued:
        if view.depths.get(queue, 0) == 0:
            memory.empty_since.setdefault(queue, now)


def queued_per_queue(session: Session) -> dict[str, int]:
    """How many rows are queued on each broker queue."""
    rows = session.execute(select(Submission.queue, func.count()).where(Submission.status == SubmissionStatus.QUEUED)
                           .group_by(Submission.queue))
    return {queue: int(count) for queue, count in rows}


def resend_lost(session: Session, cutoffs: Mapping[str, Cutoff], *, now: datetime | None = None) -> list[Submission]:
    """Give every row the cutoffs name a new attempt (oldest first); returns them, to be sent after the commit.

    The bump is a compare-and-set on (status, attempt): a worker that claims the old attempt meanwhile wins,
    and the row is left alone. Runs are not counted: no worker ran these attempts.
    """
    now = now or utcnow()
    bumped = []
    for queue, cutoff in cutoffs.items():
        rows = session.scalars(select(Submission).where(Submission.status == SubmissionStatus.QUEUED,
                                                        Submission.queue == queue,
                                                        Submission.queued_at < cutoff.before)
                               .order_by(Submission.queued_at, Submission.id)).all()
        bumped += [row for row in rows if _bump_if_still_queued(session, row, reason=cutoff.reason, now=now)]
    return bumped


def _bump_if_still_queued(session: Session, row: Submission, *, reason: LossReason, now: datetime) -> bool:
    changed = session.execute(
        update(Submission)
        .where(Submission.id == row.id, Submission.attempt == row.attempt, Submission.status == SubmissionStatus.QUEUED)
        .values(attempt=row.attempt + 1, queued_at=now, last_heartbeat=None, progress="", error=reason.value)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(row)
    return changed == 1
