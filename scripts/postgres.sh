#!/usr/bin/env bash
# Installs (Debian packages) and starts a throwaway PostgreSQL server for the test suite.
#   scripts/postgres.sh start   -> prints the database URL on stdout
#   scripts/postgres.sh stop
# The cluster lives in $KAIROS_PG_DIR (default /tmp/kairos-pg) and listens on 127.0.0.1:$KAIROS_PG_PORT.
set -euo pipefail

PGDIR=${KAIROS_PG_DIR:-/tmp/kairos-pg}
PORT=${KAIROS_PG_PORT:-55432}
DB=${KAIROS_PG_DB:-kairos_test}

find_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  return 1
}

install_server() {
  if ! find_bin >/dev/null; then
    echo "installing PostgreSQL from Debian packages..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
  fi
}

as_pg() {
  if [ "$(id -u)" = "0" ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  install_server
  local bin; bin=$(find_bin)
  if [ "$(id -u)" = "0" ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
  if [ ! -f "$PGDIR/PG_VERSION" ]; then
    mkdir -p "$PGDIR"
    [ "$(id -u)" = "0" ] && chown postgres "$PGDIR"
    as_pg "$bin/initdb" -D "$PGDIR" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
  fi
  if ! as_pg "$bin/pg_ctl" -D "$PGDIR" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$PGDIR" -l "$PGDIR/server.log" -w -t 60 start \
      -o "-p $PORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null
  fi
  if ! as_pg "$bin/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "select 1 from pg_database where datname='$DB'" | grep -q 1; then
    as_pg "$bin/psql" -h 127.0.0.1 -p "$PORT" -U postgres -qc "create database $DB" >/dev/null
  fi
  echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/$DB"
}

stop() {
  local bin; bin=$(find_bin) || return 0
  if [ -f "$PGDIR/PG_VERSION" ]; then
    as_pg "$bin/pg_ctl" -D "$PGDIR" -m fast stop >/dev/null 2>&1 || true
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
