#!/usr/bin/env bash
# Start the whole service on the embedded default: SQLite and blobs under ./var, a local Redis,
# one Celery worker with bubblewrap sandboxes, the API on http://127.0.0.1:8000, the demo course.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
export GRADEFLOW_VAR_DIR="${GRADEFLOW_VAR_DIR:-$PWD/var}"
mkdir -p "$GRADEFLOW_VAR_DIR"
if [ -z "${GRADEFLOW_SECRET_KEY:-}" ]; then
  [ -f "$GRADEFLOW_VAR_DIR/secret" ] || python3 -c "import secrets;print(secrets.token_urlsafe(32))" > "$GRADEFLOW_VAR_DIR/secret"
  export GRADEFLOW_SECRET_KEY="$(cat "$GRADEFLOW_VAR_DIR/secret")"
fi
if ! redis-cli -u "${GRADEFLOW_REDIS_URL:-redis://127.0.0.1:6379/0}" ping >/dev/null 2>&1; then
  echo "starting a local Redis on 127.0.0.1:6379"
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --dir "$GRADEFLOW_VAR_DIR" --logfile "$GRADEFLOW_VAR_DIR/redis.log"
fi
gradeflow db upgrade
gradeflow demo --assignments assignments
gradeflow worker --queues cpu --concurrency "${GRADEFLOW_WORKERS:-1}" > "$GRADEFLOW_VAR_DIR/worker.log" 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null' EXIT INT TERM
echo "worker log: $GRADEFLOW_VAR_DIR/worker.log"
echo "API on http://127.0.0.1:8000 (docs at /docs); Ctrl-C stops everything"
gradeflow serve --host 127.0.0.1 --port 8000
