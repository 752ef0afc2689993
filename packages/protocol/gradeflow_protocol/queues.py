"""The broker's vocabulary, shared by the API (producer) and the worker (consumer); declared once.

Both sides must configure the same priority steps: a message published to a priority list the consumer does
not read would never be served.
"""
from __future__ import annotations

TASK_NAME = "gradeflow.grade"
QUEUES = ("cpu", "gpu")

# Redis priority lists inside each queue, served lowest first. Students' work takes 0-2 (fair share: a
# student's first waiting upload 0, a second 1, any more 2), a publish's validation runs 3, regrades 6.
STUDENT_PRIORITIES = (0, 1, 2)
VALIDATION_PRIORITY = 3
REGRADE_PRIORITY = 6
PRIORITY_STEPS = [0, 1, 2, 3, 6, 9]


def transport_options(visibility_timeout_s: int) -> dict:
    """Kombu's Redis transport options both sides share."""
    return {"visibility_timeout": visibility_timeout_s, "priority_steps": PRIORITY_STEPS}
