"""Staff endpoints: courses, roster, publish, regrade, policy, overrides, gradebook, queue.

Each module's routes authorise through the role dependencies in api/deps.py (outsiders 404, members
without the role 403) and call the core; this router gathers them for the app.
"""
from __future__ import annotations

from fastapi import APIRouter

from gradeflow_api.routes import courses, grades, gradebook, operations, publishing, regrades

router = APIRouter()
for _module in (courses, publishing, regrades, grades, gradebook, operations):
    router.include_router(_module.router)
