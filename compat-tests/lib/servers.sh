# shellcheck shell=bash
# Start/stop throw-away ZooKeeper servers (Apache ZooKeeper 3.8 from the Debian
# package, or rzk) for the compatibility tests.  Source this file, then:
#
#   start_server java|rzk [key=value ...]   # extra/overriding zoo.cfg lines
#   # -> SERVER_KIND SERVER_PID SERVER_PORT SERVER_ADDR SERVER_DIR SERVER_LOG
#   stop_server "$SERVER_PID"
#
# Every server gets a fresh directory (zoo.cfg, data/, server.log) under
# $SERVERS_WORKDIR (default compat-tests/out/servers), listens on 127.0.0.1
# only, and is stopped by PID from an EXIT trap even if the caller fails.
#
# Env: RZK_BIN (default <repo>/target/release/rzk), ZK_JAVA_CP (classpath of
# the Java server), SERVER_START_TIMEOUT (seconds, default 30), SERVER_JVMFLAGS
# (-D flags for both servers, as zkServer.sh takes them).

COMPAT_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPAT_DIR="$(dirname "$COMPAT_LIB_DIR")"
REPO_ROOT="$(dirname "$COMPAT_DIR")"

: "${RZK_BIN:=$REPO_ROOT/target/release/rzk}"
: "${SERVERS_WORKDIR:=$COMPAT_DIR/out/servers}"
: "${SERVER_START_TIMEOUT:=30}"
# zookeeper.jar's manifest pulls in its other jars; slf4j-simple is there only
# so the server logs to a file (see -Dorg.slf4j.simpleLogger.logFile below).
: "${ZK_JAVA_CP:=/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar}"

_SERVERS_PIDS=()
_SERVERS_TRAP_SET=""

# Print a TCP port that is free on 127.0.0.1 right now.  Racy by nature
# (someone may take it before the server binds); start_server retries.
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Send a four-letter word, print the reply (empty if none).
four_letter() { # port word
    python3 - "$1" "$2" <<'EOF'
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
    s.sendall(sys.argv[2].encode())
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    sys.stdout.write(data.decode("utf-8", "replace"))
except OSError:
    pass
EOF
}

# 0 if something accepts TCP connections on 127.0.0.1:port.
port_open() { # port
    python3 -c 'import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
except OSError:
    sys.exit(1)' "$1"
}

# zoo.cfg for one standalone server; later key=value arguments override
# earlier ones (the Java parser keeps the last occurrence, so we dedupe).
write_zoo_cfg() { # file datadir port [key=value ...]
    local file=$1 datadir=$2 port=$3
    shift 3
    python3 - "$file" "$datadir" "$port" "$@" <<'EOF'
import sys
file, datadir, port, *extra = sys.argv[1:]
cfg = {
    "tickTime": "2000",
    "dataDir": datadir,
    "clientPort": port,
    "clientPortAddress": "127.0.0.1",
    "4lw.commands.whitelist": "*",
    "extendedTypesEnabled": "true",
    # Java would otherwise start its Jetty admin server on 0.0.0.0:8080.
    "admin.enableServer": "false",
}
for kv in extra:
    k, sep, v = kv.partition("=")
    if not sep:
        sys.exit("write_zoo_cfg: not key=value: " + kv)
    cfg[k] = v
with open(file, "w") as f:
    for k, v in cfg.items():
        f.write("%s=%s\n" % (k, v))
EOF
}

_servers_cleanup() {
    local pid
    for pid in "${_SERVERS_PIDS[@]}"; do
        stop_server "$pid"
    done
}

_servers_install_trap() {
    [[ -n $_SERVERS_TRAP_SET ]] && return 0
    _SERVERS_TRAP_SET=1
    # Chain with a trap the caller may already have.
    local prev
    prev=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
    # shellcheck disable=SC2064
    trap "_servers_cleanup${prev:+; $prev}" EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# Stop one server by PID: TERM, up to 10 s grace, then KILL.
stop_server() { # pid
    local pid=$1 i
    [[ -n $pid ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "servers.sh: pid $pid ignored SIGTERM, killing" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
    local keep=() p
    for p in "${_SERVERS_PIDS[@]}"; do
        [[ $p == "$pid" ]] || keep+=("$p")
    done
    _SERVERS_PIDS=("${keep[@]}")
}

# Launch one server process in the background; sets _pid.
_launch() { # kind dir
    local kind=$1 dir=$2
    case $kind in
    java)
        # SERVER_JVMFLAGS as zkServer.sh takes it (rzk reads it from the environment).
        # shellcheck disable=SC2086
        java -Xmx512m -XX:+UseSerialGC ${SERVER_JVMFLAGS:-} \
            -Dorg.slf4j.simpleLogger.logFile="$dir/server.log" \
            -Dorg.slf4j.simpleLogger.showDateTime=true \
            -Dzookeeper.admin.enableServer=false \
            -cp "$ZK_JAVA_CP" org.apache.zookeeper.server.ZooKeeperServerMain \
            "$dir/zoo.cfg" >"$dir/stdout.log" 2>&1 </dev/null &
        _pid=$!
        ;;
    rzk)
        "$RZK_BIN" server "$dir/zoo.cfg" >"$dir/server.log" 2>&1 </dev/null &
        _pid=$!
        ;;
    esac
}

# start_server java|rzk [key=value ...]
start_server() {
    local kind=${1:-}
    shift || true
    case $kind in
    java)
        [[ -r /usr/share/java/zookeeper.jar ]] || {
            echo "servers.sh: /usr/share/java/zookeeper.jar missing; run scripts/install-deps.sh" >&2
            return 1
        }
        ;;
    rzk)
        [[ -x $RZK_BIN ]] || {
            echo "servers.sh: rzk binary not found at $RZK_BIN (build it or set RZK_BIN)" >&2
            return 1
        }
        ;;
    *)
        echo "servers.sh: start_server java|rzk, got '$kind'" >&2
        return 1
        ;;
    esac
    _servers_install_trap
    mkdir -p "$SERVERS_WORKDIR"

    local attempt dir port _pid deadline reply
    for attempt in 1 2 3; do
        dir=$(mktemp -d "$SERVERS_WORKDIR/$kind.XXXXXX")
        mkdir -p "$dir/data"
        port=$(free_port)
        write_zoo_cfg "$dir/zoo.cfg" "$dir/data" "$port" "$@"
        _launch "$kind" "$dir"
        _SERVERS_PIDS+=("$_pid")
        deadline=$((SECONDS + SERVER_START_TIMEOUT))
        local tcp_ok=0
        while ((SECONDS < deadline)); do
            if ! kill -0 "$_pid" 2>/dev/null; then
                break # died: maybe lost the port race, retry
            fi
            reply=$(four_letter "$port" ruok)
            if [[ $reply == imok ]]; then
                tcp_ok=-1
                break
            fi
            # rzk may not speak 4lw yet: accept a listening port after a few
            # tries that got no imok.
            if [[ $kind == rzk ]] && port_open "$port"; then
                tcp_ok=$((tcp_ok + 1))
                ((tcp_ok >= 5)) && break
            fi
            sleep 0.2
        done
        if kill -0 "$_pid" 2>/dev/null && { ((tcp_ok == -1)) || ((tcp_ok >= 5)); }; then
            SERVER_KIND=$kind
            SERVER_PID=$_pid
            SERVER_PORT=$port
            SERVER_ADDR=127.0.0.1:$port
            SERVER_DIR=$dir
            SERVER_LOG=$dir/server.log
            export SERVER_KIND SERVER_PID SERVER_PORT SERVER_ADDR SERVER_DIR SERVER_LOG
            return 0
        fi
        if kill -0 "$_pid" 2>/dev/null; then
            echo "servers.sh: $kind server (pid $_pid) not serving on $port after ${SERVER_START_TIMEOUT}s; see $dir" >&2
            stop_server "$_pid"
            return 1
        fi
        stop_server "$_pid"
        echo "servers.sh: $kind server exited during startup (attempt $attempt); log tail:" >&2
        tail -n 5 "$dir"/*.log >&2 || true
    done
    return 1
}
