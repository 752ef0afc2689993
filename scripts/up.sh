#!/usr/bin/env bash
# Start the whole service on the embedded default: SQLite and blobs under ./var, a local Redis (started when
# none answers), the demo course, the API on http://127.0.0.1:8000 and one bubblewrap grading worker per core
# (GRADEFLOW_WORKERS overrides), all supervised by `gradeflow up`: a process that exits is restarted with
# backoff; Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
export GRADEFLOW_VAR_DIR="${GRADEFLOW_VAR_DIR:-$PWD/var}"
# the student environments the demo course's assignments name (idempotent: skipped when already built)
python3 -m gradeflow_worker.environments build --assignments assignments
exec gradeflow up --host 127.0.0.1 --port 8000 --assignments assignments
