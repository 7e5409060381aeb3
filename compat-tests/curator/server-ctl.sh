#!/usr/bin/env bash
# Stop the suite's server, or start it again: same kind (java|rzk), same
# zoo.cfg, hence the same port and dataDir.  Used by RestartTests through
# CURATOR_SERVER_CTL.
#
#   server-ctl.sh stop     # SIGTERM (SIGKILL after 10 s); waits for the port to close
#   server-ctl.sh start    # relaunch; waits for ruok -> imok (rzk: listening port)
#
# Env (exported by run.sh): SERVER_KIND, SERVER_DIR, RZK_BIN, ZK_JAVA_CP,
# SERVER_JVMFLAGS (-D flags, for either kind of server: see servers.sh).
# The live server's PID is kept in $SERVER_DIR/current.pid; run.sh stops
# whatever it names at exit.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/servers.sh
source "$HERE/../lib/servers.sh" # free of side effects until start_server

action=${1:-}
: "${SERVER_KIND:?}" "${SERVER_DIR:?}"
pidfile=$SERVER_DIR/current.pid
port=$(sed -n 's/^clientPort=//p' "$SERVER_DIR/zoo.cfg")
[[ -n $port ]] || {
    echo "server-ctl: no clientPort in $SERVER_DIR/zoo.cfg" >&2
    exit 1
}

# 0 while pid is a live (non-zombie) process.
alive() {
    local st
    st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [[ $st != Z* ]]
}

case $action in
stop)
    pid=$(cat "$pidfile")
    if alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            alive "$pid" || break
            sleep 0.1
        done
        if alive "$pid"; then
            echo "server-ctl: pid $pid ignored SIGTERM, killing" >&2
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
        fi
    fi
    for ((i = 0; i < 100; i++)); do
        port_open "$port" || break
        sleep 0.1
    done
    if port_open "$port"; then
        echo "server-ctl: port $port still open after stopping pid $pid" >&2
        exit 1
    fi
    echo "server-ctl: stopped $SERVER_KIND pid $pid (port $port)"
    ;;
start)
    if port_open "$port"; then
        echo "server-ctl: port $port is already in use" >&2
        exit 1
    fi
    # Keep the previous run's logs next to the new ones.
    n=1
    while [[ -e $SERVER_DIR/server.log.$n ]]; do n=$((n + 1)); done
    [[ -e $SERVER_DIR/server.log ]] && mv "$SERVER_DIR/server.log" "$SERVER_DIR/server.log.$n"
    [[ -e $SERVER_DIR/stdout.log ]] && mv "$SERVER_DIR/stdout.log" "$SERVER_DIR/stdout.log.$n"
    _launch "$SERVER_KIND" "$SERVER_DIR"
    echo "$_pid" >"$pidfile"
    deadline=$((SECONDS + SERVER_START_TIMEOUT))
    tcp_ok=0
    while ((SECONDS < deadline)); do
        alive "$_pid" || {
            echo "server-ctl: $SERVER_KIND server exited on restart; log tail:" >&2
            tail -n 20 "$SERVER_DIR"/*.log >&2 || true
            exit 1
        }
        [[ $(four_letter "$port" ruok) == imok ]] && {
            echo "server-ctl: started $SERVER_KIND pid $_pid on port $port"
            exit 0
        }
        if [[ $SERVER_KIND == rzk ]] && port_open "$port"; then
            tcp_ok=$((tcp_ok + 1))
            ((tcp_ok >= 5)) && {
                echo "server-ctl: started $SERVER_KIND pid $_pid on port $port (no imok)"
                exit 0
            }
        fi
        sleep 0.1
    done
    echo "server-ctl: $SERVER_KIND server (pid $_pid) not serving on $port after ${SERVER_START_TIMEOUT}s" >&2
    exit 1
    ;;
*)
    echo "usage: server-ctl.sh stop|start" >&2
    exit 2
    ;;
esac
