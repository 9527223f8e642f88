#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1 for the test suite and print the URL.
#   eval "$(.ci/postgres.sh)"   # exports TEST_DATABASE_URL
# Trust authentication, listening on loopback only, data in a temporary directory: for tests,
# never for a deployment. Needs Debian's `postgresql` package (.ci/run installs it).
set -euo pipefail
PORT="${PGTEST_PORT:-54329}"
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$BIN/initdb" ] || { echo "postgresql not installed (apt-get install postgresql)" >&2; exit 1; }
DATA="${PGTEST_DATA:-/tmp/portal-pgtest-$PORT}"
if [ "$(id -u)" = 0 ]; then AS=(runuser -u postgres --); OWNER=postgres; else AS=(); OWNER="$(id -un)"; fi
if ! "${AS[@]}" "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  rm -rf "$DATA"; mkdir -p "$DATA"; chown "$OWNER" "$DATA"
  "${AS[@]}" "$BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  "${AS[@]}" "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w \
    -o "-h 127.0.0.1 -p $PORT -k $DATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null
fi
"${AS[@]}" "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -qtAc \
  "SELECT 1 FROM pg_database WHERE datname = 'portal_test'" | grep -q 1 ||
  "${AS[@]}" "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres portal_test
echo "export TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:$PORT/portal_test"
