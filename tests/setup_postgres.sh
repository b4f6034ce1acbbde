#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the store tests (make test calls this).
#
# Installs Debian's postgresql when it is missing, creates a cluster in a scratch
# folder, starts it on a local port and creates the tutor_test database. Safe to
# run again: when the server already answers it only makes sure the database
# exists, which takes well under a second. Tests find it at
#   postgresql+psycopg://postgres@127.0.0.1:$TUTOR_PG_PORT/tutor_test
# (or wherever TUTOR_TEST_PG_URL points) and skip with a reason when it is absent.
set -euo pipefail

PORT="${TUTOR_PG_PORT:-54329}"
ROOT="${TUTOR_PG_DIR:-/tmp/tutor-pg}"
DATA="$ROOT/data"
DB="tutor_test"

say() { echo "setup_postgres: $*" >&2; }

find_bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
    done
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir; return 0
    fi
    if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
    return 1
}

BIN="$(find_bindir || true)"
if [ -z "$BIN" ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        say "PostgreSQL is not installed and cannot be installed here (needs root and apt-get)"
        exit 1
    fi
    say "installing PostgreSQL (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq postgresql >/dev/null
    BIN="$(find_bindir)"
fi

# The server refuses to run as root: as root, run it as the postgres user.
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$ROOT" --shell /bin/false postgres
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

psql_q() { "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qtAX "$@"; }

ensure_db() {
    if [ "$(psql_q -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != "1" ]; then
        psql_q -c "CREATE DATABASE $DB" >/dev/null
    fi
}

if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
    ensure_db
    exit 0
fi

mkdir -p "$ROOT"
[ "$(id -u)" -eq 0 ] && chown postgres "$ROOT"
if [ ! -s "$DATA/PG_VERSION" ]; then
    as_pg "$BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --no-sync >/dev/null
fi
# A scratch server: no fsync (tests do not survive power cuts), small footprint.
as_pg "$BIN/pg_ctl" -D "$DATA" -l "$ROOT/server.log" -w -t 60 start -o \
    "-p $PORT -k $ROOT -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50 -c shared_buffers=64MB" \
    >/dev/null || { say "server did not start; see $ROOT/server.log"; tail -n 20 "$ROOT/server.log" >&2; exit 1; }
ensure_db
say "PostgreSQL running on 127.0.0.1:$PORT (database $DB)"
