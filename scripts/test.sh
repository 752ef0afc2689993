#!/usr/bin/env bash
# The whole test suite: installs what it needs, starts its own Redis (and PostgreSQL when installed but stopped).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && command -v pg_ctlcluster >/dev/null; then
  cluster=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1{print $1" "$2}')
  [ -n "$cluster" ] && pg_ctlcluster $cluster start 2>/dev/null || true
fi
exec python3 -m pytest "$@"
