"""What the schemathesis fuzz (tests/integration/test_fuzz_api.py) found: an id past the INTEGER columns' range
made the database driver raise (500). Such ids are now a 422 wherever a client can send one."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.unit.api.staff_app import make_staff_app

HUGE = 2**70


@pytest.fixture(scope="module")
def staff(tmp_path_factory):
    return make_staff_app(tmp_path_factory.mktemp("ids"))


@pytest.mark.parametrize("path", [
    f"/api/v1/submissions/{HUGE}", f"/api/v1/submissions?assignment_id={HUGE}",
    f"/api/v1/submissions?assignment_id=-{HUGE}", f"/api/v1/assignments/{HUGE}/policy", f"/api/v1/regrades/{HUGE}",
])
def test_a_huge_id_is_422(staff, path):
    client = TestClient(staff.app, raise_server_exceptions=False)
    for who in ("alice", "prof"):
        assert client.get(path, headers=staff.headers(who)).status_code == 422


def test_a_huge_id_in_a_body_or_an_upload_path_is_422(staff):
    client = TestClient(staff.app, raise_server_exceptions=False)
    sha = staff.world.version.sha256
    r = client.post(f"/api/v1/assignments/{staff.world.assignment_id}/versions/{sha}/activate",
                    json={"regrade_run_id": HUGE}, headers=staff.headers("prof"))
    assert r.status_code == 422
    r = client.post(f"/api/v1/assignments/{HUGE}/submissions", headers=staff.headers("alice"),
                    files={"file": ("a.py", b"answer = 42\n")})
    assert r.status_code == 422
