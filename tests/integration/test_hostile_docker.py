"""The whole hostile suite again, with the Docker sandbox backend (a local dockerd and a locally built image)."""
from __future__ import annotations

import pytest

from tests.docker_env import IMAGE, docker_host  # noqa: F401  (fixture)
from tests.integration.test_hostile import *  # noqa: F401,F403  (the same tests, collected here again)
from tests.integration.test_spine import reference_notebook
from tests.stack import start_stack

pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.redis, pytest.mark.usefixtures("healthy_after")]


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_url, docker_host):  # noqa: F811 - overrides the bwrap stack for these tests
    env = {"GRADEFLOW_SANDBOX_BACKEND": "docker", "GRADEFLOW_DOCKER_HOST": docker_host, "GRADEFLOW_DOCKER_IMAGE": IMAGE}
    stack = start_stack(tmp_path_factory.mktemp("docker-stack"), redis_url=redis_url.rsplit("/", 1)[0] + "/6",
                        extra_env=env)
    yield stack
    stack.stop()


def test_reference_notebook_gets_full_marks_in_docker(stack):
    body = stack.grade("solution.ipynb", reference_notebook())
    assert body["status"] == "graded" and body["score"] == 10, body
    staff = stack.get(body["id"], username="ta1").json()
    assert staff["enforced"]["network"] == "docker --network none"
