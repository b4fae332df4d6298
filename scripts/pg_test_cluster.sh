#!/usr/bin/env bash
# Start and stop a throwaway PostgreSQL cluster for the test suite.
#
# Usage:
#   scripts/pg_test_cluster.sh start DIR   initdb into DIR/data and start the server
#   scripts/pg_test_cluster.sh url DIR     print the DATABASE_URL for the cluster
#   scripts/pg_test_cluster.sh stop DIR    stop the server and delete DIR
#
# DIR must be an empty folder, usually from mktemp -d. The server listens on
# 127.0.0.1 only, on a free port chosen at start, with trust authentication
# for local and loopback connections, so it must never hold real data. Its
# Unix socket and log file are in DIR as well.
#
# Run as root, the server runs as the postgres user (through runuser), and
# DIR is handed to that user. Run as any other user, it runs as that user.
#
# Environment:
#   PG_BIN   folder with initdb and pg_ctl (default /usr/lib/postgresql/15/bin)
#   PG_DB    database created at start and named in the URL (default commonplace)
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DB=${PG_DB:-commonplace}
readonly PG_USER=postgres
# stop deletes DIR only when this file is in it, so a wrong argument
# cannot remove an unrelated folder.
readonly MARKER=.pg_test_cluster

usage() {
    echo "usage: $0 {start|url|stop} DIR" >&2
    exit 2
}

# Run a command as the account that owns the cluster.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u "$PG_USER" -- "$@"
    else
        "$@"
    fi
}

# Print a TCP port on 127.0.0.1 that is free right now. The kernel picks it,
# and another process could take it before the server binds, so start
# retries with a new port when the server fails to come up.
find_free_port() {
    python3 -c '
import socket
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
'
}

cmd_start() {
    local dir=$1
    if [[ ! -x $PG_BIN/initdb || ! -x $PG_BIN/pg_ctl ]]; then
        echo "error: initdb or pg_ctl not found in PG_BIN=$PG_BIN. Install PostgreSQL 15 (Debian: apt-get install postgresql-15) or set PG_BIN." >&2
        exit 1
    fi
    if [[ ! -d $dir ]]; then
        echo "error: cluster folder '$dir' does not exist. Create it first, for example with mktemp -d." >&2
        exit 1
    fi
    if [[ -n $(ls -A "$dir") ]]; then
        echo "error: cluster folder '$dir' is not empty. Pass a new empty folder." >&2
        exit 1
    fi

    touch "$dir/$MARKER"
    if [[ $(id -u) -eq 0 ]]; then
        if ! id "$PG_USER" >/dev/null 2>&1; then
            echo "error: user '$PG_USER' does not exist. Installing the postgresql-15 package creates it." >&2
            exit 1
        fi
        chown -R "$PG_USER:" "$dir"
    fi
    # Only the owner (and root) may read the folder, its socket and its logs.
    chmod 0700 "$dir"

    as_owner "$PG_BIN/initdb" --pgdata="$dir/data" --username="$PG_USER" \
        --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
        echo "error: initdb failed. Its output:" >&2
        cat "$dir/initdb.log" >&2
        exit 1
    }
    # Accept only Unix-socket and IPv4 loopback connections, without a password.
    cat >"$dir/data/pg_hba.conf" <<'EOF'
local all all              trust
host  all all 127.0.0.1/32 trust
EOF
    if [[ $(id -u) -eq 0 ]]; then
        chown "$PG_USER:" "$dir/data/pg_hba.conf"
    fi

    local attempt port
    for attempt in 1 2 3; do
        port=$(find_free_port)
        # Durability settings are off because the data is thrown away and the
        # test suite creates and drops databases often.
        if as_owner "$PG_BIN/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" \
            --wait --timeout=60 --silent \
            -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start; then
            echo "$port" >"$dir/port"
            as_owner "$PG_BIN/createdb" --host=127.0.0.1 --port="$port" --username="$PG_USER" "$PG_DB"
            echo "PostgreSQL started on 127.0.0.1:$port (data in $dir/data, log in $dir/server.log)"
            return 0
        fi
        echo "warning: PostgreSQL did not start on port $port (attempt $attempt of 3). Server log:" >&2
        tail -n 20 "$dir/server.log" >&2 || true
    done
    echo "error: PostgreSQL failed to start after 3 attempts. See $dir/server.log." >&2
    exit 1
}

cmd_url() {
    local dir=$1
    if [[ ! -f $dir/port ]]; then
        echo "error: no running test cluster in '$dir' (missing $dir/port). Run '$0 start $dir' first." >&2
        exit 1
    fi
    echo "postgres://$PG_USER@127.0.0.1:$(cat "$dir/port")/$PG_DB"
}

cmd_stop() {
    local dir=$1
    if [[ ! -d $dir ]]; then
        return 0
    fi
    if [[ ! -f $dir/$MARKER ]]; then
        echo "error: '$dir' was not created by '$0 start' (no $MARKER file). Not deleting it." >&2
        exit 1
    fi
    if [[ -f $dir/data/postmaster.pid ]]; then
        # Fast mode disconnects open sessions, such as a test run that was
        # interrupted, instead of waiting for them.
        as_owner "$PG_BIN/pg_ctl" --pgdata="$dir/data" --mode=fast --wait --timeout=60 --silent stop ||
            echo "warning: pg_ctl stop failed. See $dir/server.log." >&2
        echo "PostgreSQL stopped."
    fi
    rm -rf "$dir"
}

[[ $# -eq 2 ]] || usage
case $1 in
    start) cmd_start "$2" ;;
    url) cmd_url "$2" ;;
    stop) cmd_stop "$2" ;;
    *) usage ;;
esac
