#!/usr/bin/env bash
# Make a PostgreSQL reachable for the test suite and print its admin URL.
# Order: the URL given (or 127.0.0.1:5432) if it answers; else start the installed cluster;
# else a throwaway trust-auth cluster on port 55432 under var/test-postgres (installing PostgreSQL when missing).
# GRADEFLOW_TEST_PG_SCRATCH=1 goes straight to the throwaway cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
url="${GRADEFLOW_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}"
answers() { python3 -c "import sys, psycopg; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$1" 2>/dev/null; }

if [ "${GRADEFLOW_TEST_PG_SCRATCH:-0}" != 1 ]; then
  if answers "$url"; then echo "$url"; exit 0; fi
  if command -v pg_ctlcluster >/dev/null; then
    cluster=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1{print $1" "$2}')
    [ -n "$cluster" ] && pg_ctlcluster $cluster start >/dev/null 2>&1 || true
    for _ in 1 2 3 4 5; do answers "$url" && { echo "$url"; exit 0; }; sleep 1; done
  fi
fi

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ]; then
  echo "installing postgresql for the database tests" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi
data="$PWD/var/test-postgres"
scratch="postgresql://postgres@127.0.0.1:55432/postgres"
if answers "$scratch"; then echo "$scratch"; exit 0; fi
as_pg=()
[ "$(id -u)" = 0 ] && as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups)
if [ ! -f "$data/PG_VERSION" ]; then
  mkdir -p "$data" && [ "$(id -u)" = 0 ] && chown postgres: "$data"
  "${as_pg[@]}" "$bin/initdb" -D "$data" -A trust -U postgres >/dev/null
fi
"${as_pg[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -o "-p 55432 -k $data -c listen_addresses=127.0.0.1" start >/dev/null
echo "$scratch"
