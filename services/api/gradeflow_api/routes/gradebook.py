"""The gradebook export: JSON, a full CSV, or a CSV for Canvas's gradebook import (staff)."""
from __future__ import annotations

from enum import StrEnum

from fastapi import APIRouter, Response

from gradeflow_api.deps import SessionDep, StaffCourse
from gradeflow_api.present_staff import gradebook_public
from gradeflow_api.schemas_grades import GradebookPublic
from gradeflow_core.gradebook import build_gradebook
from gradeflow_core.gradebook_export import to_canvas, to_csv

router = APIRouter(prefix="/api/v1", tags=["gradebook"])


class GradebookFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    CANVAS = "canvas"


@router.get("/courses/{course}/gradebook", response_model=GradebookPublic,
            summary="One row per student, one column per published assignment, and the total (staff); late "
                    "penalties and overrides applied (csv shows them per assignment)",
            responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV for format=csv|canvas"}})
def gradebook(course: StaffCourse, session: SessionDep, format: GradebookFormat = GradebookFormat.JSON):
    book = build_gradebook(session, course)
    if format is GradebookFormat.JSON:
        return gradebook_public(book)
    text = to_canvas(book) if format is GradebookFormat.CANVAS else to_csv(book)
    name = f"{course.slug}-gradebook{'-canvas' if format is GradebookFormat.CANVAS else ''}.csv"
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
