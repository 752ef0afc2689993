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
exec python3 -m pytest "$@"
