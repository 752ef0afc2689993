"""What staff read about a version is read consistently: `current` comes from the database as it is when the
version is read, not from an assignment object loaded earlier in the same request (the route's access check loads
it first; a validation result committed in between made a ready first version read as not current)."""
from __future__ import annotations

from gradeflow_api.present_staff import version_public
from gradeflow_core.models import Assignment, AssignmentVersion
from gradeflow_protocol.enums import VersionState
from tests.unit.api.staff_app import make_staff_app


def test_current_is_read_after_the_version_not_from_an_assignment_loaded_before(tmp_path):
    app = make_staff_app(tmp_path)
    with app.session() as request, app.session() as worker:
        assignment = request.get(Assignment, app.world.assignment_id)  # the route's access check, at the start
        old = assignment.current_version_id
        committed = worker.get(Assignment, app.world.assignment_id)
        fresh = AssignmentVersion(assignment_id=committed.id, sha256="f" * 64, bundle_blob="0" * 64,
                                  config=dict(app.world.version.config), state=VersionState.READY)
        worker.add(fresh)
        worker.flush()
        committed.current_version_id = fresh.id  # validated and made current in one commit, meanwhile
        worker.commit()
        shown = version_public(request, request.get(AssignmentVersion, fresh.id))
        assert old != fresh.id and shown.state is VersionState.READY and shown.current
