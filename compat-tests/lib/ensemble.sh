# shellcheck shell=bash
# Throw-away ZooKeeper ensembles on 127.0.0.1 for the quorum tests: N nodes,
# each either Apache ZooKeeper 3.8 (Debian's QuorumPeerMain) or rzk, all on
# the same server.N lines.  Source this file, then:
#
#   ens_init <name> java,rzk,java [key=value ...]   # write zoo.cfg + myid per node
#   ens_init <name> java,rzk,java,rzk:observer      # node 4 an observer
#   ens_start_all && wait_formed                     # launch every node at once
#   node_kill9 "$(leader_of)"; node_start 2; ...
#
# Nodes are numbered 1..N (their myid).  Each node gets
#   $ENS_DIR/node<i>/zoo.cfg, data/myid, server.log (server.log.<k>: the logs
#   of earlier runs of the same node; every node_start begins a new one),
# with ENS_DIR=$QUORUM_OUT/<name> (default compat-tests/out/quorum/<name>).
# Every node started here is stopped by PID from an EXIT trap.
#
# A kind with the suffix `:observer` makes that node an observer: its
# server.N line ends in `:observer` (on every node) and its own zoo.cfg has
# peerType=observer, as Java requires.
#
# Per node: ENS_KIND[i] ENS_ROLE[i] (participant or observer) ENS_CPORT[i]
# (client) ENS_QPORT[i] (quorum) ENS_EPORT[i] (election) ENS_PID[i] (empty
# when not running).  ENS_VOTERS: how many nodes are participants.
#
# Env: RZK_BIN, ZK_JAVA_CP (as servers.sh), ENS_JVMFLAGS (extra -D flags for
# the Java nodes), ENS_JAVA_OPTS (the Java nodes' heap/GC/JIT flags instead
# of the test defaults), ENS_TICK (tickTime ms, default 500).

ENS_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=servers.sh
source "$ENS_LIB_DIR/servers.sh"

: "${QUORUM_OUT:=$COMPAT_DIR/out/quorum}"
# tickTime 500 ms: Java's election and sync finish in a second or two, while
# syncLimit/initLimit (in ticks) leave several seconds of slack for a JVM
# that a loaded 2-core machine stalls.
: "${ENS_TICK:=500}"
ENS_INIT_LIMIT=20
ENS_SYNC_LIMIT=10
# Bound on how long a node may take to honour SIGTERM.
: "${ENS_STOP_GRACE:=10}"

ENS_N=0
ENS_NAME=""
ENS_DIR=""
ENS_KIND=()
ENS_ROLE=()
ENS_VOTERS=0
ENS_CPORT=()
ENS_QPORT=()
ENS_EPORT=()
ENS_PID=()
_ENS_TRAP_SET=""

ens_log() { echo "[$(date +%H:%M:%S)] $ENS_NAME: $*"; }

# Print N*3 distinct ports, all free at once on 127.0.0.1.
_ens_free_ports() { # count
    python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
}

_ens_cleanup() {
    local i
    for ((i = 1; i <= ENS_N; i++)); do
        [[ -n ${ENS_PID[i]:-} ]] || continue
        # A paused node ignores TERM until it runs again.
        kill -CONT "${ENS_PID[i]}" 2>/dev/null || true
        node_stop "$i" >/dev/null 2>&1 || true
    done
}

_ens_install_trap() {
    [[ -n $_ENS_TRAP_SET ]] && return 0
    _ENS_TRAP_SET=1
    local prev
    prev=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
    # shellcheck disable=SC2064
    trap "_ens_cleanup${prev:+; $prev}" EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# ens_init name kinds [key=value ...]: a fresh directory and config per node.
# Stops the nodes of a previous ensemble of this shell first.
ens_init() {
    local name=$1 kinds=$2 i
    shift 2
    _ens_cleanup
    _ens_install_trap
    local -a kind_list
    IFS=, read -r -a kind_list <<<"$kinds"
    ENS_N=${#kind_list[@]}
    ENS_NAME=$name
    ENS_DIR=$QUORUM_OUT/$name
    ENS_KIND=() ENS_ROLE=() ENS_CPORT=() ENS_QPORT=() ENS_EPORT=() ENS_PID=()
    ENS_VOTERS=0
    ((ENS_N >= 1)) || { echo "ensemble.sh: no node kinds given" >&2; return 1; }
    for ((i = 1; i <= ENS_N; i++)); do
        ENS_KIND[i]=${kind_list[i - 1]%:observer}
        if [[ ${kind_list[i - 1]} == *:observer ]]; then
            ENS_ROLE[i]=observer
        else
            ENS_ROLE[i]=participant
            ENS_VOTERS=$((ENS_VOTERS + 1))
        fi
        case ${ENS_KIND[i]} in
        java) [[ -r /usr/share/java/zookeeper.jar ]] || {
            echo "ensemble.sh: /usr/share/java/zookeeper.jar missing; run scripts/install-deps.sh" >&2
            return 1
        } ;;
        rzk) [[ -x $RZK_BIN ]] || {
            echo "ensemble.sh: rzk binary not found at $RZK_BIN (build it or set RZK_BIN)" >&2
            return 1
        } ;;
        *)
            echo "ensemble.sh: node kinds are java or rzk, got '${ENS_KIND[i]}'" >&2
            return 1
            ;;
        esac
    done
    local -a ports
    read -r -a ports <<<"$(_ens_free_ports $((3 * ENS_N)))"
    for ((i = 1; i <= ENS_N; i++)); do
        ENS_CPORT[i]=${ports[3 * (i - 1)]}
        ENS_QPORT[i]=${ports[3 * (i - 1) + 1]}
        ENS_EPORT[i]=${ports[3 * (i - 1) + 2]}
        ENS_PID[i]=""
    done
    rm -rf "$ENS_DIR"
    local servers=()
    for ((i = 1; i <= ENS_N; i++)); do
        local obs=""
        [[ ${ENS_ROLE[i]} == observer ]] && obs=:observer
        servers+=("server.$i=127.0.0.1:${ENS_QPORT[i]}:${ENS_EPORT[i]}$obs;127.0.0.1:${ENS_CPORT[i]}")
    done
    for ((i = 1; i <= ENS_N; i++)); do
        mkdir -p "$(node_dir "$i")/data"
        echo "$i" >"$(node_dir "$i")/data/myid"
        local own=()
        [[ ${ENS_ROLE[i]} == observer ]] && own=(peerType=observer)
        write_zoo_cfg "$(node_dir "$i")/zoo.cfg" "$(node_dir "$i")/data" "${ENS_CPORT[i]}" \
            "tickTime=$ENS_TICK" "initLimit=$ENS_INIT_LIMIT" "syncLimit=$ENS_SYNC_LIMIT" \
            "${servers[@]}" "${own[@]}" "$@"
    done
    ens_log "kinds $kinds; client ports ${ENS_CPORT[*]:1}; in $ENS_DIR"
}

node_dir() { echo "$ENS_DIR/node$1"; }
# java or rzk, with :observer for an observer.
node_kind() { echo "${ENS_KIND[$1]}${ENS_ROLE[$1]/#participant/}" | sed 's/observer$/:observer/'; }
node_log() { echo "$ENS_DIR/node$1/server.log"; }
node_addr() { echo "127.0.0.1:${ENS_CPORT[$1]}"; }
node_running() { [[ -n ${ENS_PID[$1]:-} ]] && kill -0 "${ENS_PID[$1]}" 2>/dev/null; }

# Connect string of the given nodes (default all), in that order.
ens_connect() {
    local ids=("$@") out="" i
    ((${#ids[@]})) || for ((i = 1; i <= ENS_N; i++)); do ids+=("$i"); done
    for i in "${ids[@]}"; do out+="${out:+,}$(node_addr "$i")"; done
    echo "$out"
}

# Launch node i in the background (no wait).  A previous log is kept as
# server.log.<k> so that each run's log tells only that run's story.
node_start() { # i
    local i=$1 dir k
    dir=$(node_dir "$i")
    if node_running "$i"; then
        echo "ensemble.sh: node $i already running (pid ${ENS_PID[i]})" >&2
        return 1
    fi
    if [[ -e $dir/server.log ]]; then
        for ((k = 1; k < 100; k++)); do [[ -e $dir/server.log.$k ]] || break; done
        mv "$dir/server.log" "$dir/server.log.$k"
    fi
    case ${ENS_KIND[i]} in
    java)
        # C1 only and a serial GC: three JVMs plus clients on two cores
        # (ENS_JAVA_OPTS replaces these; the benchmark sets the JVM's defaults).
        # LearnerHandler at debug: the leader logs TRUNC only at that level.
        local jopts=${ENS_JAVA_OPTS--Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}
        # shellcheck disable=SC2086
        java $jopts ${SERVER_JVMFLAGS:-} ${ENS_JVMFLAGS:-} \
            -Dorg.slf4j.simpleLogger.logFile="$dir/server.log" \
            -Dorg.slf4j.simpleLogger.showDateTime=true \
            -Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS \
            -Dorg.slf4j.simpleLogger.showThreadName=true \
            -Dorg.slf4j.simpleLogger.log.org.apache.zookeeper.server.quorum.LearnerHandler=debug \
            -Dzookeeper.admin.enableServer=false \
            -cp "$ZK_JAVA_CP" org.apache.zookeeper.server.quorum.QuorumPeerMain \
            "$dir/zoo.cfg" >"$dir/stdout.log" 2>&1 </dev/null &
        ;;
    rzk)
        "$RZK_BIN" server "$dir/zoo.cfg" >"$dir/server.log" 2>&1 </dev/null &
        ;;
    esac
    ENS_PID[i]=$!
    echo "$(date +%H:%M:%S.%N | cut -c1-12) start pid ${ENS_PID[i]}" >>"$dir/events"
}

ens_start_all() {
    local i
    for ((i = 1; i <= ENS_N; i++)); do node_start "$i" || return 1; done
}

# SIGTERM, then SIGKILL after ENS_STOP_GRACE seconds.
node_stop() { # i
    local i=$1 pid k
    pid=${ENS_PID[i]:-}
    [[ -n $pid ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((k = 0; k < ENS_STOP_GRACE * 10; k++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "ensemble.sh: node $i (pid $pid) ignored SIGTERM for ${ENS_STOP_GRACE}s, killing" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
    ENS_PID[i]=""
    echo "$(date +%H:%M:%S.%N | cut -c1-12) stop pid $pid" >>"$(node_dir "$i")/events"
}

node_kill9() { # i
    local i=$1 pid
    pid=${ENS_PID[i]:-}
    [[ -n $pid ]] || return 0
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    ENS_PID[i]=""
    echo "$(date +%H:%M:%S.%N | cut -c1-12) kill -9 pid $pid" >>"$(node_dir "$i")/events"
}

node_pause() { # i
    [[ -n ${ENS_PID[$1]:-} ]] && kill -STOP "${ENS_PID[$1]}"
    echo "$(date +%H:%M:%S.%N | cut -c1-12) SIGSTOP" >>"$(node_dir "$1")/events"
}

node_resume() { # i
    [[ -n ${ENS_PID[$1]:-} ]] && kill -CONT "${ENS_PID[$1]}"
    echo "$(date +%H:%M:%S.%N | cut -c1-12) SIGCONT" >>"$(node_dir "$1")/events"
}

# The reply to a four-letter word from node i (empty if none).
node_4lw() { # i word
    node_running "$1" || return 0
    four_letter "${ENS_CPORT[$1]}" "$2"
}

# leader, follower, observer, standalone; "not-serving" when the node answers
# that it is not serving; "" when it does not answer.
mode_of() { # i
    local reply
    reply=$(node_4lw "$1" srvr)
    if [[ $reply == *"not currently serving requests"* ]]; then
        echo not-serving
    else
        sed -n 's/^Mode: //p' <<<"$reply" | head -1
    fi
}

# The last zxid node i reports in srvr, as 0x... ("" if it does not answer).
zxid_of() { # i
    node_4lw "$1" srvr | sed -n 's/^Zxid: //p' | head -1
}

# The value of one mntr key on node i ("" when absent).
mntr_of() { # i key
    node_4lw "$1" mntr | awk -v k="$2" '$1 == k { print $2; exit }'
}

# Wait until node i reports leader, follower or observer in srvr.
wait_serving() { # i [timeout_s]
    local i=$1 deadline=$((SECONDS + ${2:-60})) m
    while ((SECONDS < deadline)); do
        node_running "$i" || { echo "ensemble.sh: node $i is not running" >&2; return 1; }
        m=$(mode_of "$i")
        [[ $m == leader || $m == follower || $m == observer ]] && return 0
        sleep 0.2
    done
    echo "ensemble.sh: node $i not serving after ${2:-60}s (mode '${m:-}')" >&2
    return 1
}

# Print one line per node: "i kind pid mode zxid".
ens_status() {
    local i
    for ((i = 1; i <= ENS_N; i++)); do
        if node_running "$i"; then
            echo "  node $i $(node_kind "$i") pid ${ENS_PID[i]} mode=$(mode_of "$i") zxid=$(zxid_of "$i")"
        else
            echo "  node $i $(node_kind "$i") down"
        fi
    done
}

# Wait until every running participant is leader or follower, every running
# observer is observer, exactly one is leader, and a majority of the
# participants is running.
wait_formed() { # [timeout_s]
    local deadline=$((SECONDS + ${1:-60})) i m leaders running ok
    while ((SECONDS < deadline)); do
        leaders=0 running=0 ok=1
        for ((i = 1; i <= ENS_N; i++)); do
            node_running "$i" || continue
            m=$(mode_of "$i")
            if [[ ${ENS_ROLE[i]} == observer ]]; then
                [[ $m == observer ]] || ok=0
                continue
            fi
            running=$((running + 1))
            case $m in
            leader) leaders=$((leaders + 1)) ;;
            follower) ;;
            standalone)
                # Never changes: the node ignored its server.N lines.
                echo "ensemble.sh: node $i (${ENS_KIND[i]}) runs standalone on an ensemble config" >&2
                ens_status >&2
                return 1
                ;;
            *) ok=0 ;;
            esac
        done
        if ((ok && leaders == 1 && 2 * running > ENS_VOTERS)); then
            return 0
        fi
        sleep 0.3
    done
    echo "ensemble.sh: $ENS_NAME did not form within ${1:-60}s:" >&2
    ens_status >&2
    return 1
}

# The id of the single running node in Mode: leader (fails unless exactly one).
leader_of() {
    local i found=()
    for ((i = 1; i <= ENS_N; i++)); do
        node_running "$i" || continue
        [[ $(mode_of "$i") == leader ]] && found+=("$i")
    done
    ((${#found[@]} == 1)) || return 1
    echo "${found[0]}"
}

# Ids of the running nodes in Mode: follower.
followers_of() {
    local i out=()
    for ((i = 1; i <= ENS_N; i++)); do
        node_running "$i" || continue
        [[ $(mode_of "$i") == follower ]] && out+=("$i")
    done
    echo "${out[*]}"
}

# Wait until the given nodes (default: all running) report the same zxid.
wait_same_zxid() { # [timeout_s] [ids...]
    local timeout=${1:-30} deadline i z first same
    shift || true
    local ids=("$@")
    ((${#ids[@]})) || for ((i = 1; i <= ENS_N; i++)); do node_running "$i" && ids+=("$i"); done
    deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        first="" same=1
        for i in "${ids[@]}"; do
            z=$(zxid_of "$i")
            [[ -n $z ]] || { same=0; break; }
            [[ -z $first ]] && first=$z
            [[ $z == "$first" ]] || same=0
        done
        ((same)) && return 0
        sleep 0.3
    done
    echo "ensemble.sh: zxids did not converge within ${timeout}s:" >&2
    ens_status >&2
    return 1
}
