#!/usr/bin/env bash
# The whole test suite: installs what it needs, starts its own Redis, and PostgreSQL when none answers (scripts/postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
GRADEFLOW_TEST_POSTGRES_URL=$(scripts/postgres.sh)
export GRADEFLOW_TEST_POSTGRES_URL
exec python3 -m pytest "$@"
