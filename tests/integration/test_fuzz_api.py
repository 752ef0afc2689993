"""Fuzz the JSON API from its own OpenAPI document (schemathesis), in-process over ASGI: no request gets a 5xx,
and every documented response matches its declared schema.

Each generated request is sent as a student (alice) and as an instructor (prof, who may do all a TA may), and
to the worker's endpoints also with a live attempt token, against the staff world of tests/unit/core/world.py
(a published assignment, a queued submission, a fake queue, Redis unreachable). Bounded: schemathesis's
deterministic coverage cases plus a few random examples per operation, no shrinking, no example database;
about a minute on two cores.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.unit.api.staff_app import StaffApp, make_staff_app

MAX_EXAMPLES = 6  # random examples per operation, on top of the coverage phase's deterministic ones
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> StaffApp:
    staff = make_staff_app(tmp_path_factory.mktemp("fuzz"))
    upload = staff.client.post(f"/api/v1/assignments/{staff.world.assignment_id}/submissions",
                               headers=staff.headers("alice"), files={"file": ("a.py", b"answer = 42\n")})
    assert upload.status_code == 202, upload.text
    return staff


@pytest.fixture(scope="module")
def api_schema(world: StaffApp):
    return schemathesis.openapi.from_asgi("/openapi.json", world.app)


# /readyz answers 503 by design here (no Redis): tests/unit/api/test_health.py covers it
schema = schemathesis.pytest.from_fixture("api_schema").exclude(path="/readyz")


def identities(world: StaffApp, path: str) -> list[dict[str, str]]:
    callers = [world.headers("alice"), world.headers("prof")]
    if path.startswith("/api/v1/worker/") and world.queue.sent:
        callers.append({"Authorization": f"Bearer {world.queue.sent[-1][0].token}"})
    return callers


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))  # no shrinking: a failing request is printed as it was sent
def test_api_conforms_to_its_schema_and_never_answers_5xx(case, world):
    for headers in identities(world, case.operation.path):
        case.call_and_validate(headers=headers, checks=CHECKS)
