# shellcheck shell=bash
# Sourced by .ci/run (and by hand: `source .ci/postgres.sh`): makes sure a throwaway
# PostgreSQL cluster for the tests runs on loopback and exports TWINSYNC_TEST_POSTGRES_URL.
#
# - installs Debian's `postgresql` package when no server binaries are there;
# - keeps the cluster's data in target/pg (owned by the `postgres` user: initdb and the
#   server refuse to run as root, and CI runs as root); falls back to a folder under
#   /tmp when the checkout is not reachable by that user;
# - listens on 127.0.0.1 only, on TWINSYNC_PG_PORT (default 55432), with no Unix socket
#   and trust authentication: a local test cluster, never a server for anything else;
# - is idempotent: a cluster already running there is reused, nothing is stopped.
#
# The Postgres tests (crates/twinsync-postgres, crates/twinsync-cli/tests/postgres_cli.rs)
# read TWINSYNC_TEST_POSTGRES_URL and fail, never skip, without it.

twinsync_pg_start() {
  local port="${TWINSYNC_PG_PORT:-55432}"
  local db="twinsync_test"
  local bindir
  bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "postgres: installing Debian's postgresql"
    if ! apt-get install -y -q postgresql >/dev/null 2>&1; then
      apt-get update -q >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
    fi
    bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  fi
  local pguser=postgres
  if [ "$(id -u)" != 0 ]; then pguser="$(id -un)"; fi
  as_pg() {
    if [ "$(id -un)" = "$pguser" ]; then "$@"; else runuser -u "$pguser" -- "$@"; fi
  }

  local data="$PWD/target/pg"
  mkdir -p "$PWD/target"
  if ! as_pg test -x "$PWD/target"; then
    data="/tmp/twinsync-pg-$(echo "$PWD" | sha256sum | cut -c1-12)"
  fi
  if [ ! -s "$data/PG_VERSION" ]; then
    rm -rf "$data"
    mkdir -p "$data"
    chown "$pguser" "$data"
    chmod 700 "$data"
    as_pg "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-locale >"$data.initdb.log" 2>&1 \
      || { cat "$data.initdb.log"; return 1; }
  fi
  if as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    echo "postgres: reusing the cluster running in $data"
  else
    # Another checkout's cluster may hold the port: take the next free one.
    local tries=0
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && [ "$tries" -lt 50 ]; do
      port=$((port + 1))
      tries=$((tries + 1))
    done
    # A stale pid file from a killed server is handled by pg_ctl itself.
    as_pg "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='' -c max_connections=200 -c fsync=off" \
      >/dev/null || { tail -n 30 "$data/server.log"; return 1; }
    echo "postgres: started a cluster in $data on 127.0.0.1:$port"
  fi
  # The port of the running cluster (it may have been started with another one).
  port="$(sed -n 4p "$data/postmaster.pid")"
  if ! "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db" 2>/dev/null \
      || "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1
  fi
  export TWINSYNC_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/$db"
  echo "postgres: TWINSYNC_TEST_POSTGRES_URL=$TWINSYNC_TEST_POSTGRES_URL"
}
