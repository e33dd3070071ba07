#!/usr/bin/env bash
# A throwaway Postgres cluster for the test suite and benchmarks, run as an unprivileged user.
#   scripts/pg-cluster.sh start DIR PORT   → prints the cluster's URL (postgres://lastmile@127.0.0.1:PORT/postgres)
#   scripts/pg-cluster.sh createdb DIR NAME → a fresh, empty database in that cluster; prints its URL
#   scripts/pg-cluster.sh stop DIR
# Needs Debian's postgresql (13 or newer): apt-get install -y postgresql. As root, the cluster runs as the
# `postgres` user the package creates; otherwise as the current user. Durability is off (fsync=off): it is a test cluster.
set -euo pipefail
cmd="${1:?start|stop}"
dir="${2:?directory}"
pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  echo "Postgres is not installed. Install it with: sudo apt-get install -y postgresql" >&2
  exit 1
fi
as_owner() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$cmd" in
  start)
    port="${3:?port}"
    mkdir -p "$dir"
    [ "$(id -u)" = "0" ] && chown postgres "$dir"
    as_owner "$pgbin/initdb" -D "$dir/data" -U lastmile --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    echo "postgres://lastmile@127.0.0.1:$port/postgres"
    ;;
  createdb)
    name="${3:?database name}"
    port="$(cat "$dir/port")"
    "$pgbin/dropdb" -h 127.0.0.1 -p "$port" -U lastmile --if-exists "$name"
    "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U lastmile "$name"
    echo "postgres://lastmile@127.0.0.1:$port/$name"
    ;;
  stop)
    as_owner "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start DIR PORT | createdb DIR NAME | stop DIR" >&2; exit 2 ;;
esac
