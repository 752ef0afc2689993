#!/usr/bin/env bash
# The whole test suite: installs what it needs, starts its own Redis, and PostgreSQL when none answers (scripts/postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
# the student environments the tests run in (tests/integration/test_environments.py) and the demo course names,
# under var/environments (idempotent: skipped when the requirements are unchanged)
python3 -m gradeflow_worker.environments build numpy pytorch --assignments assignments
GRADEFLOW_TEST_POSTGRES_URL=$(scripts/postgres.sh)
export GRADEFLOW_TEST_POSTGRES_URL
# two processes (pytest-xdist): a test module stays on one, modules sharing the test dockerd or the tool venvs
# share one (tests/conftest.py); GRADEFLOW_TEST_PROCESSES=0 runs everything in this process
exec python3 -m pytest -n "${GRADEFLOW_TEST_PROCESSES:-2}" --dist loadgroup "$@"
