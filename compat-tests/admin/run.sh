#!/usr/bin/env bash
# Differential test of the AdminServer: Debian's Java ZooKeeper 3.8.0
# (its Jetty AdminServer; Debian's zkServer.sh classpath lacks the servlet
# API, so servlet-api.jar is added here) and rzk, each standalone with the
# AdminServer on a free port and one Java client session holding the same
# znodes, ephemerals and watches (Holder.java). Every command, some aliases
# and HTTP edge cases are fetched from both and compared (compare.py).
# With --quorum (or ADMIN_QUORUM=1) also a 3-node Java and a 3-node rzk
# ensemble: leader, voting_view, zabstate, ... on each node.
#
#   compat-tests/admin/run.sh [--quorum]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT=${ADMIN_OUT:-$HERE/../out/admin}
QUORUM=${ADMIN_QUORUM:-0}
[[ ${1:-} == --quorum ]] && QUORUM=1
export ZK_JAVA_CP=/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar:/usr/share/java/servlet-api.jar
export SERVERS_WORKDIR=$OUT/servers QUORUM_OUT=$OUT/quorum
# shellcheck source=../lib/ensemble.sh
source "$HERE/../lib/ensemble.sh"
[[ -r /usr/share/java/servlet-api.jar ]] || { echo "admin: servlet-api.jar missing; run scripts/install-deps.sh" >&2; exit 1; }

rm -rf "$OUT" && mkdir -p "$OUT/classes"
javac -d "$OUT/classes" -cp /usr/share/java/zookeeper.jar "$HERE/Holder.java"
CLIENT_CP=/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-api.jar:$OUT/classes

HOLDER_PID=""
stop_holder() {
    [[ -n $HOLDER_PID ]] || return 0
    kill "$HOLDER_PID" 2>/dev/null || true
    wait "$HOLDER_PID" 2>/dev/null || true
    HOLDER_PID=""
}
trap stop_holder EXIT

one() { # kind
    local kind=$1 ap dir
    ap=$(free_port)
    start_server "$kind" admin.enableServer=true admin.serverAddress=127.0.0.1 "admin.serverPort=$ap"
    dir=$OUT/$kind
    mkdir -p "$dir"
    # The client holds its session while the commands are fetched.
    mkfifo "$OUT/$kind.in"
    java -cp "$CLIENT_CP" Holder "$SERVER_ADDR" <"$OUT/$kind.in" >"$OUT/$kind.holder" 2>"$OUT/$kind.holder.err" &
    HOLDER_PID=$!
    exec 9>"$OUT/$kind.in"
    local i
    for ((i = 0; i < 200; i++)); do
        grep -q READY "$OUT/$kind.holder" 2>/dev/null && break
        kill -0 "$HOLDER_PID" 2>/dev/null || { cat "$OUT/$kind.holder.err" >&2; return 1; }
        sleep 0.1
    done
    grep -q READY "$OUT/$kind.holder" || { echo "admin: client not ready on $kind" >&2; return 1; }
    python3 -c 'import json,sys; json.dump({"client_port": int(sys.argv[1]), "admin_port": int(sys.argv[2]), "dir": sys.argv[3]}, open(sys.argv[4], "w"))' \
        "$SERVER_PORT" "$ap" "$SERVER_DIR" "$dir/meta.json"
    python3 "$HERE/fetch.py" "$ap" "$dir"
    kill -0 "$SERVER_PID" || { echo "admin: $kind server died" >&2; return 1; }
    exec 9>&-
    stop_holder
    stop_server "$SERVER_PID"
}

ok=0
one java
one rzk
python3 "$HERE/compare.py" "$OUT/java" "$OUT/rzk" || ok=1
if ! diff <(python3 -m json.tool "$OUT/java/http.txt") <(python3 -m json.tool "$OUT/rzk/http.txt"); then
    echo "admin: HTTP behaviour differs (java <, rzk >)"
    ok=1
fi

# A standalone server whose admin port is taken exits with code 4
# (ExitCode.ERROR_STARTING_ADMIN_SERVER), Java and rzk alike.
bind_failure() { # kind
    local kind=$1 dir blocker bport cport rc=0
    dir=$OUT/bind-$kind
    mkdir -p "$dir/data"
    python3 -c 'import socket,sys,time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(120)' >"$dir/blocker.port" &
    blocker=$!
    for ((i = 0; i < 50; i++)); do [[ -s $dir/blocker.port ]] && break; sleep 0.1; done
    bport=$(cat "$dir/blocker.port")
    cport=$(free_port)
    write_zoo_cfg "$dir/zoo.cfg" "$dir/data" "$cport" admin.enableServer=true \
        admin.serverAddress=127.0.0.1 "admin.serverPort=$bport"
    case $kind in
    java) timeout 60 java -cp "$ZK_JAVA_CP" -Dorg.slf4j.simpleLogger.logFile="$dir/server.log" \
        org.apache.zookeeper.server.ZooKeeperServerMain "$dir/zoo.cfg" >"$dir/stdout.log" 2>&1 || rc=$? ;;
    rzk) timeout 60 "$RZK_BIN" server "$dir/zoo.cfg" >"$dir/server.log" 2>&1 || rc=$? ;;
    esac
    kill "$blocker" 2>/dev/null || true
    wait "$blocker" 2>/dev/null || true
    if ((rc != 4)); then
        echo "admin: $kind with its admin port taken exited $rc, not 4" >&2
        return 1
    fi
    echo "admin: $kind exits 4 when its admin port is taken"
}
bind_failure java || ok=1
bind_failure rzk || ok=1

quorum_case() { # kinds
    local kinds=$1 i c
    ens_init "admin-${kinds//,/-}" "$kinds" admin.enableServer=true admin.serverAddress=127.0.0.1
    local -a ap
    for ((i = 1; i <= ENS_N; i++)); do
        ap[i]=$(free_port)
        echo "admin.serverPort=${ap[i]}" >>"$(node_dir "$i")/zoo.cfg"
    done
    ens_start_all && wait_formed
    for ((i = 1; i <= ENS_N; i++)); do
        local d=$OUT/q-${kinds%%,*}/node$i
        mkdir -p "$d"
        for c in leader voting_view zabstate observers configuration is_read_only watch_summary; do
            python3 - "${ap[i]}" "$c" "$d/$c.json" <<'PY'
import sys, urllib.request
body = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/commands/{sys.argv[2]}", timeout=10).read()
open(sys.argv[3], "wb").write(body)
PY
        done
        python3 -c 'import json,sys; json.dump({"client_port": int(sys.argv[1]), "admin_port": int(sys.argv[2]), "dir": sys.argv[3]}, open(sys.argv[4], "w"))' \
            "${ENS_CPORT[i]}" "${ap[i]}" "$(node_dir "$i")" "$d/meta.json"
    done
    _ens_cleanup
}
if ((QUORUM)); then
    quorum_case java,java,java
    quorum_case rzk,rzk,rzk
    # Node by node: the same leader (the highest sid wins a fresh election).
    for i in 1 2 3; do
        python3 "$HERE/compare.py" "$OUT/q-java/node$i" "$OUT/q-rzk/node$i" || ok=1
    done
fi
((ok == 0)) && echo "admin: ok" || echo "admin: FAILED"
exit $ok
