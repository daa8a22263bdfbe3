#!/usr/bin/env bash
# One throwaway PostgreSQL 15 cluster for one test program (C++ through tests/support/postgres.hpp,
# shell tests by running this script).
#
#   postgres.sh start OWNER_PID   prints the cluster's folder on stdout once it accepts connections
#                                 (made in $CHARTER_POSTGRES_PARENT, default /tmp);
#                                 the cluster is stopped and its folder removed when OWNER_PID
#                                 exits, however it ends (a detached watcher polls it)
#   postgres.sh url DIR DATABASE  prints the URL of DATABASE in the cluster at DIR
#   postgres.sh createdb DIR NAME creates an empty database NAME
#   postgres.sh psql DIR DATABASE runs psql on DATABASE (arguments after DATABASE go to psql)
#   postgres.sh dump DIR DATABASE prints DATABASE as SQL (pg_dump: schema and rows)
#   postgres.sh stop DIR          stops the cluster now and removes its folder
#   postgres.sh pause DIR         stops PostgreSQL (fast shutdown: connections are closed), keeping
#                                 the cluster; `resume DIR` starts it again (a database outage)
#
# The cluster belongs to the `postgres` user (initdb refuses root), listens only on a Unix socket
# in its folder (no port to collide on), trusts local connections, and does not fsync: it holds
# test data only (CHARTER_POSTGRES_DURABLE=1, for benchmarks: PostgreSQL's durable defaults, fsync
# and synchronous commit). Exit 77 (a skipped test) when PostgreSQL 15 or the postgres user is missing.
set -euo pipefail

bin=${CHARTER_POSTGRES_BIN:-/usr/lib/postgresql/15/bin}

as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

stop_cluster() {
    local dir=$1
    [ -d "$dir" ] || return 0
    as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}

case ${1:-} in
start)
    owner=${2:?usage: postgres.sh start OWNER_PID}
    if [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
        echo "skipped: PostgreSQL 15 is not installed ($bin/initdb missing; scripts/setup installs postgresql-15)" >&2
        exit 77
    fi
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        echo "skipped: there is no postgres user to run PostgreSQL as" >&2
        exit 77
    fi
    dir=$(mktemp -d "${CHARTER_POSTGRES_PARENT:-/tmp}/charter-pg.XXXXXX")
    chmod 0755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    if ! as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync --encoding=UTF8 \
        --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        rm -rf "$dir"
        exit 1
    fi
    cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$dir'
max_connections = 200
EOF
    if [ "${CHARTER_POSTGRES_DURABLE:-0}" = 1 ]; then
        echo "shared_buffers = 256MB" >>"$dir/data/postgresql.conf"
    else
        printf '%s\n' "fsync = off" "synchronous_commit = off" "full_page_writes = off" "shared_buffers = 32MB" >>"$dir/data/postgresql.conf"
    fi
    if ! as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1; then
        cat "$dir/server.log" >&2 || true
        rm -rf "$dir"
        exit 1
    fi
    # The watcher outlives this script, detached from the caller's pipes and process group.
    setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 0.5; done; exec "$2" stop "$3"' watcher \
        "$owner" "$(readlink -f "$0")" "$dir" </dev/null >/dev/null 2>&1 &
    echo "$dir"
    ;;
url)
    echo "postgresql://postgres@/${3:?usage: postgres.sh url DIR DATABASE}?host=${2}"
    ;;
createdb)
    "$bin/psql" -h "${2:?}" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt \
        -c "CREATE DATABASE \"${3:?usage: postgres.sh createdb DIR NAME}\"" >/dev/null
    ;;
psql)
    dir=${2:?}
    database=${3:?usage: postgres.sh psql DIR DATABASE [ARGUMENTS…]}
    shift 3
    exec "$bin/psql" -h "$dir" -U postgres -d "$database" -v ON_ERROR_STOP=1 -qAt "$@"
    ;;
dump)
    exec "$bin/pg_dump" -h "${2:?}" -U postgres "${3:?usage: postgres.sh dump DIR DATABASE}"
    ;;
stop)
    stop_cluster "${2:?usage: postgres.sh stop DIR}"
    ;;
pause)
    as_postgres "$bin/pg_ctl" -D "${2:?usage: postgres.sh pause DIR}/data" -m fast -w stop >/dev/null
    ;;
resume)
    dir=${2:?usage: postgres.sh resume DIR}
    as_postgres "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 && exit 0
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
    ;;
*)
    echo "usage: postgres.sh start OWNER_PID | url DIR DATABASE | createdb DIR NAME | psql DIR DATABASE … | dump DIR DATABASE | pause DIR | resume DIR | stop DIR" >&2
    exit 2
    ;;
esac
