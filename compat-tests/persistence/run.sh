#!/usr/bin/env bash
# Data directories cross over between Java ZooKeeper 3.8 and rzk.
#
#   java -> rzk: Java runs a workload with every txn type and stops with a
#   session (and its ephemerals) still alive; rzk starts on that dataDir and
#   must serve the identical tree (every path, data, ACL and stat, times
#   included).
#   rzk -> java: the same the other way round; Java must find no digest
#   mismatch replaying rzk's logs, and Java's own TxnLogToolkit and
#   SnapshotFormatter must read every file rzk wrote.
#
# The trees are compared with `rzk dump-tree`. Last line: PASS/FAIL persistence.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPAT="$(dirname "$HERE")"
OUT=${PERSIST_OUT:-$COMPAT/out/persistence}
rm -rf "$OUT"
mkdir -p "$OUT/classes"
export SERVERS_WORKDIR="$OUT/servers"
# shellcheck source=../lib/servers.sh
source "$COMPAT/lib/servers.sh"
[[ -x $RZK_BIN ]] || { echo "FAIL persistence: no rzk binary at $RZK_BIN"; exit 2; }

ZK_CP=/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar
# The container manager runs every second, so the workload sees a container
# deleted (a deleteContainer txn) within its run.
export SERVER_JVMFLAGS="-Dznode.container.checkIntervalMs=1000"
javac -nowarn -cp "$ZK_CP" -d "$OUT/classes" "$HERE/Workload.java"

fail() {
    echo "FAIL persistence: $*"
    exit 1
}

# Runs the workload against $SERVER_ADDR; leaves it holding its session open
# (WORKLOAD_PID, stdin fd 7).
start_workload() {
    local fifo="$OUT/workload.in.$1"
    rm -f "$fifo"
    mkfifo "$fifo"
    java -cp "$ZK_CP:/usr/share/java/slf4j-nop.jar:$OUT/classes" Workload "$SERVER_ADDR" \
        <"$fifo" >"$OUT/workload.$1.out" 2>&1 &
    WORKLOAD_PID=$!
    exec 7>"$fifo"
    local i
    for ((i = 0; i < 600; i++)); do
        grep -q READY "$OUT/workload.$1.out" 2>/dev/null && return 0
        kill -0 "$WORKLOAD_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$OUT/workload.$1.out"
    fail "workload did not finish against $SERVER_KIND"
}

stop_workload() {
    exec 7>&-
    kill "$WORKLOAD_PID" 2>/dev/null || true
    wait "$WORKLOAD_PID" 2>/dev/null || true
}

# Starts the other kind of server on the stopped server's directory and port.
restart_as() { # kind
    local kind=$1 _pid i
    _launch "$kind" "$SERVER_DIR"
    _SERVERS_PIDS+=("$_pid")
    SERVER_PID=$_pid
    SERVER_KIND=$kind
    for ((i = 0; i < 300; i++)); do
        [[ $(four_letter "$SERVER_PORT" srvr) == *"Mode: "* ]] && return 0
        kill -0 "$_pid" 2>/dev/null || break
        sleep 0.1
    done
    tail -20 "$SERVER_DIR/server.log" || true
    fail "$kind did not start on the data directory of the other server"
}

crossover() { # from to
    local from=$1 to=$2
    # A small snapCount: snapshots (fuzzy ones) are taken during the workload.
    start_server "$from" snapCount=10 || fail "cannot start $from"
    start_workload "$from"
    "$RZK_BIN" dump-tree "$SERVER_ADDR" >"$OUT/$from-wrote.txt" || fail "dump-tree against $from"
    stop_server "$SERVER_PID"
    stop_workload
    restart_as "$to"
    "$RZK_BIN" dump-tree "$SERVER_ADDR" >"$OUT/$to-read.txt" || fail "dump-tree against $to"
    stop_server "$SERVER_PID"
    if ! diff -u "$OUT/$from-wrote.txt" "$OUT/$to-read.txt" >"$OUT/$from-to-$to.diff"; then
        cat "$OUT/$from-to-$to.diff"
        fail "$to serves a different tree from $from's data directory"
    fi
    echo "persistence: $from -> $to: $(wc -l <"$OUT/$from-wrote.txt") nodes identical"
    LAST_DIR=$SERVER_DIR
}

crossover java rzk
# rzk replayed Java's logs, comparing the digest Java logged with every txn.
if grep -qi 'digest mismatch' "$LAST_DIR/server.log"; then
    grep -i 'digest' "$LAST_DIR/server.log" | head
    fail "rzk's tree digest disagrees with the one Java logged"
fi
crossover rzk java

# Java replayed rzk's logs, comparing the digest logged with every txn.
if grep -qi 'digest mismatch\|digests are not matching' "$LAST_DIR/server.log"; then
    grep -i 'digest' "$LAST_DIR/server.log" | head
    fail "Java found digest mismatches replaying rzk's logs"
fi

# Java's own tools read every file rzk wrote (rzk's files are the first
# ones in that directory; Java added its own after restarting on it).
checked=0
for f in "$LAST_DIR"/data/version-2/log.* "$LAST_DIR"/data/version-2/snapshot.*; do
    case $f in
    */log.*) tool=org.apache.zookeeper.server.persistence.TxnLogToolkit ;;
    *) tool=org.apache.zookeeper.server.SnapshotFormatter ;;
    esac
    if ! java -cp "$ZK_CP:/usr/share/java/slf4j-nop.jar" "$tool" "$f" >"$OUT/formatter.out" 2>&1 ||
        grep -qiE 'exception|CRC ERROR' "$OUT/formatter.out"; then
        cat "$OUT/formatter.out"
        fail "Java's ${tool##*.} cannot read $f"
    fi
    checked=$((checked + 1))
done
echo "PASS persistence: Java <-> rzk data directories identical both ways; Java's formatters read $checked files"
