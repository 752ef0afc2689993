"""The Docker sandbox image carries the student's libraries and none of the service's own stack."""
from __future__ import annotations

import subprocess

import pytest

from tests.docker_env import IMAGE, docker_host  # noqa: F401  (fixture)

pytestmark = [pytest.mark.integration, pytest.mark.docker]

SERVICE_STACK = ["sqlalchemy", "alembic", "psycopg", "fastapi", "starlette", "uvicorn", "jinja2", "argon2", "jwt",
                 "gradeflow_core", "gradeflow_api", "gradeflow_worker", "gradeflow_graders", "gradeflow_protocol"]
PROBE = """
import importlib.util, importlib.metadata as md, json
names = {n: importlib.util.find_spec(n) is not None for n in %r + ["numpy", "ipykernel"]}
dists = sorted(d.metadata["Name"].lower() for d in md.distributions())
print(json.dumps({"found": names, "dists": dists}))
""" % SERVICE_STACK


def test_the_sandbox_image_has_numpy_and_ipykernel_and_no_service_stack(docker_host):  # noqa: F811
    import json

    out = subprocess.run(["docker", "-H", docker_host, "run", "--rm", "--network", "none", IMAGE, "python3", "-c",
                          PROBE], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["found"]["numpy"] and report["found"]["ipykernel"]
    assert [name for name in SERVICE_STACK if report["found"][name]] == []
    assert not {"sqlalchemy", "psycopg", "fastapi", "argon2-cffi", "pyjwt"} & set(report["dists"])
