#!/usr/bin/env bash
# Quorum-mode acceptance: real 3-node ensembles on 127.0.0.1, each node Java
# ZooKeeper 3.8 (QuorumPeerMain) or rzk, through the scenarios listed in
# README.md (formation, leader-kill, sync, expiry, session-move, minority).
#
#   compat-tests/quorum/run.sh --kinds java,java,java     # the reference
#   compat-tests/quorum/run.sh --kinds rzk,java,java      # a mix
#   compat-tests/quorum/run.sh --kinds ... --only sync,expiry
#   compat-tests/quorum/run.sh --kinds java,java,java --observer rzk   # + node 4, an observer
#
# With --observer KIND a fourth node of that kind joins as an observer, and
# the scenarios default to the observer scenario (the only one that needs it).
# Each scenario runs in its own process on its own ensemble (logs in
# compat-tests/out/quorum/<scenario>/node<i>/), bounded by a timeout, and
# prints PASS/FAIL <scenario>: <why>.  The last line is PASS/FAIL quorum;
# the exit status is 1 if any scenario failed.
# Env: RZK_BIN (needed in any mix: `rzk dump-tree` compares the trees),
# QUORUM_SCENARIO_TIMEOUT (seconds per scenario, default 150).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPAT="$(dirname "$HERE")"
export QUORUM_OUT=${QUORUM_OUT:-$COMPAT/out/quorum}
ALL_SCENARIOS=(formation leader-kill sync sync-txnlog expiry session-move minority datadir-swap peer-garbage committed-survives unacked-truncated)

KINDS=java,java,java
OBSERVER=""
ONLY=""
SCENARIO=""
while (($#)); do
    case $1 in
    --kinds) KINDS=$2; shift 2 ;;
    --observer) OBSERVER=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --scenario) SCENARIO=$2; shift 2 ;; # internal: run one scenario in this process
    *) echo "usage: run.sh [--kinds k1,k2,k3] [--observer java|rzk] [--only s1,s2]" >&2; exit 2 ;;
    esac
done
case $OBSERVER in
"" | java | rzk) ;;
*) echo "FAIL quorum: --observer is java or rzk, got '$OBSERVER'"; exit 2 ;;
esac

J=/usr/share/java
CLIENT_CP=$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-simple.jar
CLASSES=$QUORUM_OUT/classes

# ---------------------------------------------------------------- driver
if [[ -z $SCENARIO ]]; then
    IFS=, read -r -a kind_list <<<"$KINDS"
    if ((${#kind_list[@]} != 3)); then
        echo "FAIL quorum: the scenarios need 3 nodes, --kinds gave '$KINDS'"
        exit 2
    fi
    if [[ -n $OBSERVER ]]; then
        ALL_SCENARIOS=(observer)
    fi
    # shellcheck source=../lib/servers.sh
    source "$COMPAT/lib/servers.sh"
    for f in ${CLIENT_CP//:/ }; do
        [[ -r $f ]] || { echo "FAIL quorum: $f missing (run scripts/install-deps.sh)"; exit 2; }
    done
    [[ -x $RZK_BIN ]] || { echo "FAIL quorum: no rzk binary at $RZK_BIN (cargo build --release, or set RZK_BIN)"; exit 2; }
    for tool in java javac python3 timeout; do
        command -v "$tool" >/dev/null || { echo "FAIL quorum: $tool not found"; exit 2; }
    done
    mkdir -p "$QUORUM_OUT"
    exec 9>"$QUORUM_OUT.lock"
    flock -w 600 9 || { echo "FAIL quorum: another run holds $QUORUM_OUT.lock"; exit 2; }
    rm -rf "$QUORUM_OUT"
    mkdir -p "$CLASSES"
    if ! javac -nowarn -proc:none --release 17 -encoding UTF-8 -cp "$CLIENT_CP" -d "$CLASSES" \
        "$HERE/QuorumClient.java" >"$QUORUM_OUT/javac.log" 2>&1; then
        cat "$QUORUM_OUT/javac.log"
        echo "FAIL quorum: QuorumClient does not compile"
        exit 1
    fi
    scenarios=("${ALL_SCENARIOS[@]}")
    [[ -n $ONLY ]] && IFS=, read -r -a scenarios <<<"$ONLY"
    for s in "${scenarios[@]}"; do
        if [[ -n $OBSERVER && $s != observer ]] || [[ -z $OBSERVER && $s == observer ]]; then
            echo "FAIL quorum: the observer scenario runs with --observer, and only it"
            exit 2
        fi
    done
    t0=$SECONDS
    verdicts=()
    failed=0
    for s in "${scenarios[@]}"; do
        ts=$SECONDS
        out=$QUORUM_OUT/$s.txt
        mkdir -p "$QUORUM_OUT"
        # 9>&-: no node or client may keep the lock.
        timeout -k 15 "${QUORUM_SCENARIO_TIMEOUT:-150}" "$0" --kinds "$KINDS" ${OBSERVER:+--observer "$OBSERVER"} \
            --scenario "$s" 9>&- 2>&1 |
            tee "$out"
        rc=${PIPESTATUS[0]}
        if ((rc == 124 || rc == 137)); then
            echo "FAIL $s: timed out after ${QUORUM_SCENARIO_TIMEOUT:-150}s"
        fi
        if ((rc == 0)) && grep -q "^PASS $s:" "$out"; then
            verdicts+=("$s ok $((SECONDS - ts))s")
        else
            failed=1
            verdicts+=("$s FAILED $((SECONDS - ts))s")
        fi
    done
    summary="kinds $KINDS${OBSERVER:+ + $OBSERVER observer}: $(IFS=';'; echo "${verdicts[*]}" | sed 's/;/; /g') (total $((SECONDS - t0))s)"
    if ((failed)); then
        echo "FAIL quorum: $summary"
        exit 1
    fi
    echo "PASS quorum: $summary"
    exit 0
fi

# ---------------------------------------------------------------- one scenario
# shellcheck source=../lib/ensemble.sh
source "$COMPAT/lib/ensemble.sh"

CLIENT_PIDS=()
VERDICT=""
_scenario_exit() {
    local p
    for p in "${CLIENT_PIDS[@]}"; do client_kill "$p"; done
    [[ -n $VERDICT ]] || echo "FAIL $SCENARIO: aborted (see $ENS_DIR)"
}
trap _scenario_exit EXIT

fail() {
    echo "--- node status at failure:"
    ens_status
    VERDICT=fail
    echo "FAIL $SCENARIO: $*"
    exit 1
}
pass() {
    VERDICT=pass
    echo "PASS $SCENARIO: $*"
    exit 0
}
say() { ens_log "$*"; }

# Run a QuorumClient in the background, stdout to $ENS_DIR/<name>.out; sets
# CLIENT_PID (the JVM's own pid: expiry SIGSTOPs it).  Bounded by its own
# arguments, by wait_client, and killed on exit.
client_bg() { # name args...
    local name=$1
    shift
    java -Xmx96m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Dorg.slf4j.simpleLogger.logFile="$ENS_DIR/client-$name.log" \
        -Dorg.slf4j.simpleLogger.showDateTime=true \
        -Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS \
        -cp "$CLIENT_CP:$CLASSES" QuorumClient "$@" >"$ENS_DIR/$name.out" 2>&1 </dev/null &
    CLIENT_PID=$!
    CLIENT_PIDS+=("$CLIENT_PID")
}

client_kill() { # pid
    { kill -KILL "$1" && wait "$1"; } 2>/dev/null
    return 0
}

# Wait (bounded) until file contains a line matching regex; prints that line.
wait_line() { # file regex timeout_s
    local deadline=$((SECONDS + $3))
    while ((SECONDS < deadline)); do
        if grep -Eq -- "$2" "$1" 2>/dev/null; then
            grep -E -- "$2" "$1" | tail -1
            return 0
        fi
        sleep 0.2
    done
    return 1
}

# Wait for a background client to finish (bounded); 0 if it exited 0.
wait_client() { # pid timeout_s
    local k
    for ((k = 0; k < $2 * 10; k++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$1" 2>/dev/null && client_kill "$1" && return 1
    wait "$1" 2>/dev/null
}

# Start one writer per argument spec "tag:connect"; waits for all of them.
# Fails the scenario unless each acknowledged at least min writes.
run_writers() { # count min spec...
    local count=$1 min=$2 spec tag pids=() tags=()
    shift 2
    for spec in "$@"; do
        tag=${spec%%:*}
        client_bg "$tag" write "${spec#*:}" "$tag" 60 "$count" "$ENS_DIR/acked.$tag"
        pids+=("$CLIENT_PID")
        tags+=("$tag")
    done
    local k
    for k in "${!pids[@]}"; do
        wait_client "${pids[k]}" 90 || fail "writer ${tags[k]} failed: $(tail -3 "$ENS_DIR/${tags[k]}.out")"
        local n
        n=$(acked_count "${tags[k]}")
        ((n >= min)) || fail "writer ${tags[k]} got only $n of $count writes acknowledged (want $min)"
    done
}

acked_count() { # tag
    if [[ -e $ENS_DIR/acked.$1 ]]; then wc -l <"$ENS_DIR/acked.$1"; else echo 0; fi
}

# dump-tree of node i (stat times left out) into $ENS_DIR/tree.<i>.<label>.
dump_tree() { # i label
    local f=$ENS_DIR/tree.$1.$2
    timeout 60 "$RZK_BIN" dump-tree --no-stat-times "$(node_addr "$1")" >"$f" 2>"$f.err" ||
        fail "dump-tree of node $1 failed: $(head -3 "$f.err")"
    echo "$f"
}

# Every listed node serves the same tree (after their zxids agree), and every
# acknowledged write (acked.* files) is there with its acknowledged data.
check_trees() { # label ids...
    local label=$1 i first="" f
    shift
    wait_same_zxid 60 "$@" || fail "$label: the nodes' zxids did not converge"
    for i in "$@"; do
        f=$(dump_tree "$i" "$label")
        if [[ -z $first ]]; then
            first=$f
        elif ! cmp -s "$first" "$f"; then
            diff "$first" "$f" | head -10
            fail "$label: node $i's tree differs from node $1's ($first vs $f)"
        fi
    done
    local missing
    missing=$(python3 - "$first" "$ENS_DIR"/acked.* <<'EOF'
import sys, glob
tree = {}
for line in open(sys.argv[1]):
    path, _, rest = line.partition(" ")
    tree[path] = rest.split(" ", 1)[0]
bad, n = [], 0
for f in sys.argv[2:]:
    try:
        lines = open(f).read().splitlines()
    except OSError:
        continue
    for l in lines:
        path, data = l.split(" ", 1)
        n += 1
        if tree.get(path) != 'data="%s"' % data:
            bad.append("%s (%s)" % (path, tree.get(path, "absent")))
print("%d %d %s" % (n, len(bad), " ".join(bad[:5])))
EOF
    )
    read -r n_acked n_bad rest <<<"$missing"
    ((n_bad == 0)) || fail "$label: $n_bad of $n_acked acknowledged writes lost or wrong: $rest"
    say "$label: nodes $* have identical trees ($(wc -l <"$first") znodes), all $n_acked acknowledged writes present"
    TREE_FILE=$first
}

# The id of the node whose client address is ip:port.
node_of_addr() { # ip:port
    local i
    for ((i = 1; i <= ENS_N; i++)); do
        [[ $(node_addr "$i") == "$1" ]] && { echo "$i"; return 0; }
    done
    echo "?"
}

# Ids of all nodes but the given ones.
others() { # ids to leave out...
    local i out=()
    for ((i = 1; i <= ENS_N; i++)); do
        [[ " $* " == *" $i "* ]] || out+=("$i")
    done
    echo "${out[*]}"
}

form() { # [key=value ...]
    ens_init "$SCENARIO" "$KINDS${OBSERVER:+,$OBSERVER:observer}" "$@" || fail "cannot set up the ensemble"
    ens_start_all || fail "cannot start the nodes"
    local t0=$SECONDS
    wait_formed 90 || fail "the ensemble did not form"
    say "formed in $((SECONDS - t0))s; leader is node $(leader_of)"
}

# ---------------------------------------------------------------- scenarios

# a. All nodes form with one leader; srvr, stat and mntr agree on each node's
# role; writes through each node reach every node.
# The leader's mntr counts every other node as a learner and a synced
# follower (within 10s of formation: a follower may still be syncing).
check_leader_gauges() {
    local L want=$((ENS_N - 1)) deadline=$((SECONDS + 10)) mntr learners synced
    L=$(leader_of) || fail "no leader for the mntr check"
    while :; do
        mntr=$(node_4lw "$L" mntr)
        learners=$(awk '$1 == "zk_learners" { print $2 }' <<<"$mntr")
        synced=$(awk '$1 == "zk_synced_followers" { print $2 }' <<<"$mntr")
        [[ $learners == "$want" && $synced == "$want" ]] && break
        ((SECONDS < deadline)) ||
            fail "leader node $L (${ENS_KIND[L]}) mntr: zk_learners '${learners:-}', zk_synced_followers '${synced:-}', want $want"
        sleep 0.3
    done
    say "leader node $L (${ENS_KIND[L]}): mntr zk_learners $learners, zk_synced_followers $synced"
}

# mntr's keys (values ignored) on node i, in order, without the summaries of
# client namespaces (Java adds one per namespace clients touch).
mntr_keys() { # i
    node_4lw "$1" mntr | cut -f1 |
        awk '!/_(read|write)_per_namespace$/ || /^zk_[a-z]+_zookeeper_write_per_namespace$/'
}

# An rzk node's mntr has the keys of a Java node of the same role, when the
# ensemble has both.  (One leader: in practice the followers.)
check_mntr_keys() {
    local i j role compared=0 ki kj
    for ((i = 1; i <= ENS_N; i++)); do
        [[ ${ENS_KIND[i]} == rzk ]] || continue
        role=$(mode_of "$i")
        for ((j = 1; j <= ENS_N; j++)); do
            [[ ${ENS_KIND[j]} == java && $(mode_of "$j") == "$role" ]] || continue
            ki=$(mntr_keys "$i" | sort)
            kj=$(mntr_keys "$j" | sort)
            [[ -n $kj ]] || fail "java node $j answers no mntr"
            if [[ $ki != "$kj" ]]; then
                diff <(echo "$kj") <(echo "$ki") | sed 's/^/    /' | head -20
                fail "$role mntr keys: rzk node $i differs from java node $j (< java, > rzk)"
            fi
            say "$role mntr keys: rzk node $i = java node $j ($(wc -l <<<"$ki") keys)"
            compared=$((compared + 1))
            break
        done
    done
    ((compared)) || say "mntr keys: no rzk and java node share a role; not compared"
}

scenario_formation() {
    form
    local i m sm st leaders=0 specs=()
    for ((i = 1; i <= ENS_N; i++)); do
        m=$(mode_of "$i")
        sm=$(node_4lw "$i" stat | sed -n 's/^Mode: //p')
        [[ $m == leader || $m == follower ]] || fail "node $i srvr Mode '$m'"
        [[ $sm == "$m" ]] || fail "node $i: stat says Mode '$sm', srvr says '$m'"
        [[ $m == leader ]] && leaders=$((leaders + 1))
        st=$(mntr_of "$i" zk_server_state)
        [[ -z $st || $st == "$m" ]] || fail "node $i: mntr zk_server_state '$st', srvr Mode '$m'"
        say "node $i (${ENS_KIND[i]}): srvr/stat Mode $m, mntr zk_server_state ${st:-(absent)}"
        specs+=("via$i:$(node_addr "$i")")
    done
    ((leaders == 1)) || fail "$leaders leaders"
    check_leader_gauges
    check_mntr_keys
    run_writers 20 20 "${specs[@]}"
    # shellcheck disable=SC2046
    check_trees final $(others)
    for ((i = 1; i <= ENS_N; i++)); do
        [[ $(grep -c "^/qw/via$i-" "$TREE_FILE") == 20 ]] || fail "the 20 writes through node $i are not all there"
    done
    pass "one leader, Mode lines right on every node, 20 writes through each node seen on all"
}

# Each survivor of a leader kill has looked, been elected and been
# unavailable twice (at startup, after the kill), as mntr counts it on a
# Java node (QuorumPeer.run, Follower.followLeader/Leader.lead,
# QuorumPeer.setZabState); the new leader L2 was unavailable as leader once.
# Each node's mntr is kept in $ENS_DIR/mntr.after-kill.<i>.
check_election_metrics() { # L2 ids...
    local L2=$1 i key n f
    shift
    for i in "$@"; do
        f=$ENS_DIR/mntr.after-kill.$i
        node_4lw "$i" mntr >"$f"
        m() { awk -v k="$1" '$1 == k { print $2; exit }' "$f"; }
        for key in zk_looking_count zk_cnt_election_time zk_cnt_unavailable_time; do
            n=$(m "$key")
            ((${n:-0} >= 2)) || fail "node $i (${ENS_KIND[i]}) mntr $key '${n:-absent}', want >= 2"
        done
        if ((i == L2)); then
            n=$(m zk_cnt_leader_unavailable_time)
            ((${n:-0} >= 1)) || fail "new leader node $i mntr zk_cnt_leader_unavailable_time '${n:-absent}', want >= 1"
        fi
        say "node $i (${ENS_KIND[i]}) mntr: looking_count $(m zk_looking_count), election_time sum/cnt $(m zk_sum_election_time)/$(m zk_cnt_election_time) ms, unavailable_time max $(m zk_max_unavailable_time) ms"
    done
}

# b. kill -9 the leader under writers connected to every node.
scenario_leader_kill() {
    form
    local L i specs=() pids=() before=() t_kill
    L=$(leader_of) || fail "no leader"
    local stop=$ENS_DIR/stop-writers
    for ((i = 1; i <= ENS_N; i++)); do
        # shellcheck disable=SC2046
        client_bg "w$i" write "$(ens_connect "$i" $(others "$i"))" "w$i" 90 1000000 "$ENS_DIR/acked.w$i" "$stop"
        pids[i]=$CLIENT_PID
    done
    for ((i = 1; i <= ENS_N; i++)); do
        wait_line "$ENS_DIR/acked.w$i" . 30 >/dev/null || fail "writer w$i acknowledged nothing in 30s"
    done
    sleep 2
    local z1
    z1=$(zxid_of "$L")
    say "writers acked $(cat "$ENS_DIR"/acked.w* | wc -l) so far; kill -9 leader node $L (zxid $z1)"
    node_kill9 "$L"
    t_kill=$SECONDS
    # Counted once the leader is dead: nothing commits until a new one leads.
    for ((i = 1; i <= ENS_N; i++)); do before[i]=$(acked_count "w$i"); done
    wait_formed 60 || fail "no new leader after the leader was killed"
    local L2
    L2=$(leader_of)
    local z2
    z2=$(zxid_of "$L2")
    (((z2 >> 32) > (z1 >> 32))) || fail "new leader node $L2 zxid $z2 is not of a later epoch than $z1"
    say "node $L2 leads after $((SECONDS - t_kill))s, zxid $z2"
    # Every writer, the one that was on the dead node included, goes on.
    local deadline=$((SECONDS + 40)) all
    while :; do
        all=1
        for ((i = 1; i <= ENS_N; i++)); do
            (($(acked_count "w$i") > before[i] + 10)) || all=0
        done
        ((all)) && break
        ((SECONDS < deadline)) || fail "not every writer resumed within 40s of the new leader (acked now: $(for ((i = 1; i <= ENS_N; i++)); do echo -n "$(acked_count "w$i") "; done))"
        sleep 0.3
    done
    say "all writers resumed $((SECONDS - t_kill))s after the kill; restart node $L"
    # shellcheck disable=SC2046
    check_election_metrics "$L2" $(others "$L")
    node_start "$L"
    wait_formed 60 || fail "node $L did not rejoin"
    sleep 2
    touch "$stop"
    for ((i = 1; i <= ENS_N; i++)); do
        wait_client "${pids[i]}" 30 || fail "writer w$i failed: $(tail -3 "$ENS_DIR/w$i.out")"
        say "$(grep WRITER "$ENS_DIR/w$i.out")"
    done
    grep -q "servers=\[[^]]*,.*\]" "$ENS_DIR/w$L.out" ||
        fail "writer w$L never moved off the killed node: $(cat "$ENS_DIR/w$L.out")"
    # shellcheck disable=SC2046
    check_trees final $(others)
    pass "leader $L killed, node $L2 elected, writers moved on; $(cat "$ENS_DIR"/acked.* | wc -l) acked writes all on every node, trees equal"
}

# Which way did leader L bring follower F up to date after line <offset> of
# L's log?  Checks every witness there is: the Java follower's log, the Java
# leader's log, and (an rzk leader) mntr zk_diff_count/zk_snap_count deltas.
SYNC_PAT_FOLLOWER_DIFF="Getting a diff from the leader"
SYNC_PAT_FOLLOWER_SNAP="Getting a snapshot from leader"
SYNC_PAT_FOLLOWER_TRUNC="Truncating log to get in sync with the leader"
expect_sync() { # mode L F leader_log_offset diff_before snap_before
    local mode=$1 L=$2 F=$3 off=$4 d0=$5 s0=$6 witnesses=0 got line
    if [[ ${ENS_KIND[F]} == java ]]; then
        got=""
        grep -q "$SYNC_PAT_FOLLOWER_DIFF" "$(node_log "$F")" && got+=DIFF
        grep -q "$SYNC_PAT_FOLLOWER_SNAP" "$(node_log "$F")" && got+=SNAP
        grep -q "$SYNC_PAT_FOLLOWER_TRUNC" "$(node_log "$F")" && got+=TRUNC
        [[ $got == "$mode" ]] || fail "follower node $F (java) logged sync '${got:-none}', expected $mode"
        line=$(grep -E "Getting a (diff|snapshot)|Truncating log" "$(node_log "$F")" | head -1)
        say "follower node $F log: ${line#*- }"
        witnesses=$((witnesses + 1))
    fi
    if [[ ${ENS_KIND[L]} == java ]]; then
        local tail_log
        tail_log=$(tail -n +"$((off + 1))" "$(node_log "$L")")
        local sdiff strunc ssnap
        sdiff=$(grep -E "Sending DIFF zxid=0x[0-9a-f]+ +for peer sid: $F\$" <<<"$tail_log" | head -1)
        strunc=$(grep -E "Sending TRUNC (to follower )?zxid(ToSend)?=0x[0-9a-f]+ +for peer sid: ?$F\$" <<<"$tail_log" | head -1)
        ssnap=$(grep -E "Sending snapshot last zxid of peer" <<<"$tail_log" | head -1)
        got=""
        [[ -n $sdiff ]] && got+=DIFF
        [[ -n $ssnap ]] && got+=SNAP
        [[ -n $strunc ]] && got+=TRUNC
        [[ $got == "$mode" ]] || fail "leader node $L (java) logged sync '${got:-none}' for sid $F, expected $mode"
        line=$sdiff$ssnap$strunc
        say "leader node $L log: ${line#*- }"
        witnesses=$((witnesses + 1))
    fi
    local d1 s1
    d1=$(mntr_of "$L" zk_diff_count)
    s1=$(mntr_of "$L" zk_snap_count)
    say "leader node $L mntr: zk_diff_count ${d0:-absent} -> ${d1:-absent}, zk_snap_count ${s0:-absent} -> ${s1:-absent}"
    if [[ -n $d1 && -n $s1 && -n $d0 && -n $s0 ]]; then
        # Java counts a TRUNC as a diff sync (anything but a snapshot).
        case $mode in
        SNAP) ((s1 > s0 && d1 == d0)) || fail "mntr on leader node $L does not show one SNAP sync" ;;
        *) ((d1 > d0 && s1 == s0)) || fail "mntr on leader node $L does not show one non-snapshot sync" ;;
        esac
        witnesses=$((witnesses + 1))
    fi
    ((witnesses > 0)) || fail "no witness of how node $F was synced (no Java side, no mntr counts)"
}

# Stop follower F, run the writes, start F again; check the sync mode.
restart_follower_with_writes() { # mode count F L [tag]
    local mode=$1 count=$2 F=$3 L=$4 tag=${5:-${1,,}} off d0 s0 per
    node_stop "$F"
    say "$mode: follower node $F stopped; $count writes"
    # Two writers share the load; both on nodes that stay up.
    per=$(((count + 1) / 2))
    # shellcheck disable=SC2046
    run_writers "$per" "$per" "${tag}a:$(ens_connect $(others "$F"))" "${tag}b:$(ens_connect "$L")"
    off=$(wc -l <"$(node_log "$L")")
    d0=$(mntr_of "$L" zk_diff_count)
    s0=$(mntr_of "$L" zk_snap_count)
    node_start "$F"
    wait_formed 60 || fail "$mode: node $F did not rejoin"
    [[ $(leader_of) == "$L" ]] || fail "$mode: the leader changed while node $F restarted"
    check_trees "$tag" $(seq 1 "$ENS_N")
    expect_sync "$mode" "$L" "$F" "$off" "$d0" "$s0"
}

# Scenario (b) of ZAB: the leader L logs a proposal no follower acks, all
# three die, F and F2 elect a new leader, and L rejoins: it must be told
# TRUNC, and the proposal must be on no node.
trunc_unacked() { # L F F2
    local L=$1 F=$2 F2=$3
    # TRUNC. The followers freeze (SIGSTOP: their sockets stay open, so the
    # leader keeps leading for syncLimit ticks and logs the proposal), a
    # client's create reaches the leader, which logs it but cannot commit it.
    local go=$ENS_DIR/go-trunc hold z_old
    z_old=$(zxid_of "$L")
    client_bg hold hold-create "$(node_addr "$L")" /trunc-unacked "$go" 30
    hold=$CLIENT_PID
    wait_line "$ENS_DIR/hold.out" '^CONNECTED' 30 >/dev/null || fail "TRUNC: client did not connect to leader node $L"
    node_pause "$F"
    node_pause "$F2"
    touch "$go"
    local deadline=$((SECONDS + 15)) logged=""
    while ((SECONDS < deadline)); do
        if grep -aq /trunc-unacked "$(node_dir "$L")"/data/version-2/log.* 2>/dev/null; then
            logged=1
            break
        fi
        sleep 0.1
    done
    [[ -n $logged ]] || fail "TRUNC: leader node $L did not log the proposal within 15s"
    node_kill9 "$L"
    node_kill9 "$F"
    node_kill9 "$F2"
    wait_client "$hold" 20
    local result
    result=$(grep '^RESULT' "$ENS_DIR/hold.out")
    [[ $result != "RESULT OK" ]] || fail "TRUNC: the create was acknowledged ($result)"
    say "TRUNC: leader node $L logged /trunc-unacked, client got $result; all three killed"
    node_start "$F"
    node_start "$F2"
    wait_formed 60 || fail "TRUNC: nodes $F $F2 did not form"
    local L2 z2
    L2=$(leader_of)
    z2=$(zxid_of "$L2")
    (((z2 >> 32) > (z_old >> 32))) || fail "TRUNC: new leader node $L2 zxid $z2 is not of a later epoch than $z_old"
    say "TRUNC: node $L2 leads nodes $F $F2, zxid $z2; restart node $L"
    # No write in the new epoch before node $L returns: a Java leader sends
    # TRUNC only when the learner is ahead within an epoch it knows; with
    # newer-epoch txns in its log it sends a snapshot instead.
    local off d0 s0
    off=$(wc -l <"$(node_log "$L2")")
    d0=$(mntr_of "$L2" zk_diff_count)
    s0=$(mntr_of "$L2" zk_snap_count)
    node_start "$L"
    wait_formed 60 || fail "TRUNC: node $L did not rejoin"
    expect_sync TRUNC "$L2" "$L" "$off" "$d0" "$s0"
    # shellcheck disable=SC2046
    run_writers 20 20 "after:$(ens_connect $(seq 1 "$ENS_N"))"
    check_trees trunc $(seq 1 "$ENS_N")
    ! grep -q '^/trunc-unacked ' "$TREE_FILE" || fail "TRUNC: the unacknowledged /trunc-unacked exists"
}

# c. A restarted follower is brought up to date by DIFF (a few writes while
# it was down), by SNAP (more writes than the leader's committedLog holds),
# and a former leader with a proposal nobody acknowledged by TRUNC.
scenario_sync() {
    # Java syncs a follower from its on-disk txn log when the gap is past the
    # committedLog but still inside the current log file; a small snapCount
    # rolls the log (and snapshots) every 100-200 txns, so that a 1500-txn gap
    # spans log files and a snapshot is the only way.
    form snapCount=200
    local L F F2
    L=$(leader_of) || fail "no leader"
    read -r F F2 <<<"$(followers_of)"
    # A follower whose last zxid opens an epoch (xxx00000000) gets a
    # snapshot from a Java leader whatever the gap: give it txns first.
    # shellcheck disable=SC2046
    run_writers 5 5 "before:$(ens_connect $(seq 1 "$ENS_N"))"
    wait_same_zxid 30 || fail "the nodes' zxids did not converge"
    restart_follower_with_writes DIFF 20 "$F" "$L"
    # Java's leader keeps the last zookeeper.commitLogCount (500) txns in memory.
    restart_follower_with_writes SNAP 1500 "$F" "$L"

    trunc_unacked "$L" "$F" "$F2"
    pass "DIFF, SNAP and TRUNC syncs seen; the unacknowledged create is on no node"
}

# c2. A follower behind more than the leader's committedLog (500 txns) but
# within the leader's current txn log file gets a DIFF read from that log
# (Java: LearnerHandler.syncFollower, ZKDatabase.getProposalsFromTxnLog),
# the txns being small next to the newest snapshot (snapshotSizeFactor
# 0.33 of it): a 600 KB tree, snapshotted by the leader elected after all
# nodes restart (a leader snapshots when it starts).
scenario_sync_txnlog() {
    form
    local L F i
    "$RZK_BIN" bench populate --server "$(node_addr "$(leader_of)")" --sessions 4 --znodes 150 \
        --size 4000 >"$ENS_DIR/populate.out" 2>&1 || fail "populate failed: $(tail -3 "$ENS_DIR/populate.out")"
    wait_same_zxid 30 || fail "the nodes' zxids did not converge"
    for ((i = 1; i <= ENS_N; i++)); do node_stop "$i"; done
    ens_start_all || fail "cannot restart the nodes"
    wait_formed 60 || fail "the ensemble did not form again"
    L=$(leader_of) || fail "no leader"
    read -r F _ <<<"$(followers_of)"
    say "restarted with a 600 KB tree; leader is node $L, follower node $F leaves"
    # Txns in the new epoch first: the follower's zxid is in the new log.
    # shellcheck disable=SC2046
    run_writers 5 5 "before:$(ens_connect $(seq 1 "$ENS_N"))"
    wait_same_zxid 30 || fail "the nodes' zxids did not converge"
    restart_follower_with_writes DIFF 700 "$F" "$L" txnlog
    # Both kinds log Java's line when the txn log is used.
    grep -q "Use txnlog and committedLog" "$(node_log "$L")" ||
        fail "leader node $L did not log a sync from its txn log"
    pass "a follower 700 writes behind got a DIFF from the leader's txn log"
}

# The ephemeralOwner of path on node i ("" if the path is absent).
owner_on() { # i path
    "$RZK_BIN" dump-tree --no-stat-times "$(node_addr "$1")" 2>/dev/null |
        awk -v p="$2" '$1 == p { for (k = 2; k <= NF; k++) if ($k ~ /^ephemeralOwner=/) { sub(/^ephemeralOwner=/, "", $k); print $k } }'
}

# Wait until path has owner on every listed node ("" = absent everywhere).
wait_owner() { # path owner timeout_s ids...
    local path=$1 want=$2 deadline=$((SECONDS + $3)) i ok
    shift 3
    while ((SECONDS < deadline)); do
        ok=1
        for i in "$@"; do
            [[ $(owner_on "$i" "$path") == "$want" ]] || { ok=0; break; }
        done
        ((ok)) && return 0
        sleep 0.3
    done
    return 1
}

# d. An ephemeral made through a follower is on every node; when its client
# stops pinging, the session expires and the ephemeral goes from every node.
scenario_expiry() {
    form
    local F c sid t_stop
    read -r F _ <<<"$(followers_of)"
    client_bg eph ephemeral "$(node_addr "$F")" /eph 3000
    c=$CLIENT_PID
    wait_line "$ENS_DIR/eph.out" '^EPHEMERAL' 30 >/dev/null || fail "no ephemeral: $(cat "$ENS_DIR/eph.out")"
    sid=$(sed -n 's/^SESSION \(0x[0-9a-f]*\).*/\1/p' "$ENS_DIR/eph.out" | head -1)
    say "session $sid (timeout 3000 ms) made /eph through follower node $F"
    # shellcheck disable=SC2046
    wait_owner /eph "$sid" 15 $(seq 1 "$ENS_N") || fail "/eph not on every node with owner $sid"
    kill -STOP "$c"
    t_stop=$SECONDS
    say "/eph on all nodes; client paused (SIGSTOP)"
    # shellcheck disable=SC2046
    wait_owner /eph "" 30 $(seq 1 "$ENS_N") || fail "/eph still present 30s after its client stopped"
    local took=$((SECONDS - t_stop))
    client_kill "$c"
    # shellcheck disable=SC2046
    check_trees final $(seq 1 "$ENS_N")
    pass "ephemeral of $sid on every node, gone from every node ${took}s after its client stopped"
}

# e. kill -9 the node a client is on: the client carries on with the same
# session on another node, its ephemeral kept and seen on all live nodes.
scenario_session_move() {
    form
    local A sid line server
    read -r A _ <<<"$(followers_of)"
    # shellcheck disable=SC2046
    client_bg mover ephemeral "$(ens_connect "$A" $(others "$A"))" /moved 6000
    wait_line "$ENS_DIR/mover.out" '^EPHEMERAL' 30 >/dev/null || fail "no ephemeral: $(cat "$ENS_DIR/mover.out")"
    line=$(grep -m1 '^CONNECTED' "$ENS_DIR/mover.out")
    sid=$(sed 's/^CONNECTED session=\(0x[0-9a-f]*\).*/\1/' <<<"$line")
    [[ $line == *"server=$(node_addr "$A")" ]] || fail "client not on node $A first: $line"
    say "session $sid on node $A made /moved; kill -9 node $A"
    node_kill9 "$A"
    local deadline=$((SECONDS + 20))
    while :; do
        line=$(grep '^CONNECTED' "$ENS_DIR/mover.out" | grep -v "server=$(node_addr "$A")\$" | tail -1)
        [[ -n $line ]] && break
        ((SECONDS < deadline)) || fail "the client did not reconnect within 20s: $(tail -3 "$ENS_DIR/mover.out")"
        sleep 0.2
    done
    server=${line##*server=}
    server="node $(node_of_addr "$server") ($server)"
    ! grep '^CONNECTED' "$ENS_DIR/mover.out" | grep -vq "session=$sid server=" ||
        fail "the client got a new session: $(grep CONNECTED "$ENS_DIR/mover.out")"
    say "client back with session $sid on $server"
    # Past the session timeout: the session lives on, not merely not yet expired.
    sleep 7
    grep -q '^STATE Expired' "$ENS_DIR/mover.out" && fail "the session expired"
    # shellcheck disable=SC2046
    wait_owner /moved "$sid" 10 $(others "$A") || fail "/moved not owned by $sid on nodes $(others "$A")"
    node_start "$A"
    wait_formed 60 || fail "node $A did not rejoin"
    # shellcheck disable=SC2046
    wait_owner /moved "$sid" 20 $(seq 1 "$ENS_N") || fail "/moved not owned by $sid on restarted node $A"
    pass "session $sid moved from node $A to $server, its ephemeral kept on every node"
}

# f. One node of three left: it stops serving, a write to it fails, and the
# write is nowhere after the ensemble re-forms.
scenario_minority() {
    form
    local S reply k
    S=$(leader_of) || fail "no leader"
    local gone
    gone=$(others "$S")
    say "kill -9 nodes $gone; node $S (the leader) alone"
    for k in $gone; do node_kill9 "$k"; done
    local want="This ZooKeeper instance is not currently serving requests"
    local deadline=$((SECONDS + 30))
    while ((SECONDS < deadline)); do
        reply=$(node_4lw "$S" srvr)
        [[ $reply == "$want"$'\n' || $reply == "$want" ]] && break
        sleep 0.3
    done
    [[ $reply == "$want"$'\n' || $reply == "$want" ]] || fail "node $S srvr after losing quorum: '$reply'"
    say "node $S srvr: $want"
    client_bg minority try-create "$(node_addr "$S")" /minority-write 5
    wait_client "$CLIENT_PID" 30
    local result
    result=$(grep '^RESULT' "$ENS_DIR/minority.out")
    [[ -n $result && $result != "RESULT OK" ]] || fail "write to the lone node: '${result:-no result}'"
    say "write to node $S: $result"
    for k in $gone; do node_start "$k"; done
    wait_formed 60 || fail "the ensemble did not re-form"
    # shellcheck disable=SC2046
    run_writers 5 5 "after:$(ens_connect $(seq 1 "$ENS_N"))"
    check_trees final $(seq 1 "$ENS_N")
    ! grep -q '^/minority-write ' "$TREE_FILE" || fail "the failed write /minority-write exists"
    pass "lone node not serving, write refused ($result), ensemble re-formed without it"
}

# g. A follower restarts as the other kind on its own data directory and
# zoo.cfg (epoch files, txn logs, snapshots written by the other server),
# rejoins by DIFF, then goes back to its own kind the same way. On an
# all-Java ensemble it restarts as Java both times: the reference.
scenario_datadir_swap() {
    form
    local L F orig to k all_java=1
    L=$(leader_of) || fail "no leader"
    for ((k = 1; k <= ENS_N; k++)); do [[ ${ENS_KIND[k]} == java ]] || all_java=""; done
    # A Java follower if there is one, so that a mixed ensemble swaps
    # Java's files to rzk first.
    for F in $(followers_of) ""; do
        [[ -z $F || ${ENS_KIND[F]} == java ]] && break
    done
    [[ -n $F ]] || read -r F _ <<<"$(followers_of)"
    [[ -n $F ]] || fail "no follower"
    orig=${ENS_KIND[F]}
    if [[ -n $all_java ]]; then to=java; elif [[ $orig == java ]]; then to=rzk; else to=java; fi
    # shellcheck disable=SC2046
    run_writers 5 5 "before:$(ens_connect $(seq 1 "$ENS_N"))"
    wait_same_zxid 30 || fail "the nodes' zxids did not converge"
    say "follower node $F ($orig) restarts as $to on its data directory"
    ENS_KIND[F]=$to
    restart_follower_with_writes DIFF 20 "$F" "$L" swap
    say "follower node $F ($to) restarts as $orig again"
    ENS_KIND[F]=$orig
    restart_follower_with_writes DIFF 20 "$F" "$L" back
    pass "follower node $F went $orig -> $to -> $orig on one data directory, synced by DIFF each time, trees equal"
}

# h. Strangers and bad input on the leader's quorum and election ports
# (peer_garbage.py): the server drops every such connection (a silent one
# after initLimit at the latest; an election connection from an unknown
# larger sid as Java does, see below), and the ensemble keeps its leader
# and takes writes.
scenario_peer_garbage() {
    form
    local L out line bad=""
    L=$(leader_of) || fail "no leader"
    # initLimit ticks (10 s) for the silent stranger, plus slack.
    out=$(timeout 60 python3 "$HERE/peer_garbage.py" 127.0.0.1 "${ENS_QPORT[L]}" "${ENS_EPORT[L]}" 25)
    grep -q '^DONE$' <<<"$out" || fail "peer_garbage.py did not finish: $out"
    while read -r line; do
        [[ $line == CASE* ]] || continue
        say "leader node $L: ${line#CASE }"
        # Java 3.8 keeps an election connection from a larger sid that is
        # not in its config (it may be an observer it does not know yet):
        # that one is only reported.
        [[ $line == *" closed "* || $line == "CASE election-unknown-sid open" ]] || bad+=" ${line#CASE }"
    done <<<"$out"
    [[ -z $bad ]] || fail "connections the leader did not drop:$bad"
    node_running "$L" || fail "leader node $L died"
    [[ $(leader_of) == "$L" ]] || fail "the leader changed"
    # shellcheck disable=SC2046
    run_writers 10 10 "after:$(ens_connect $(seq 1 "$ENS_N"))"
    check_trees final $(seq 1 "$ENS_N")
    pass "every bad peer connection dropped; leader node $L kept leading and took writes"
}

# i. ZAB's scenario (a): txns committed while one follower was down (so
# that only the leader and the other follower have them) survive the
# leader's kill -9: the follower with the highest zxid becomes the leader
# (F2 is down first, not frozen: a frozen process still receives the
# proposals into its socket buffer), and once everyone is back every node
# has every acked write. F1 is the lower sid, so that a tie would elect F2.
scenario_committed_survives() {
    form
    local L F1 F2 z
    L=$(leader_of) || fail "no leader"
    read -r F1 F2 <<<"$(followers_of)"
    # shellcheck disable=SC2046
    run_writers 5 5 "before:$(ens_connect $(seq 1 "$ENS_N"))"
    wait_same_zxid 30 || fail "the nodes' zxids did not converge"
    node_kill9 "$F2"
    run_writers 10 10 "committed:$(ens_connect "$L")"
    z=$(zxid_of "$L")
    wait_same_zxid 20 "$L" "$F1" || fail "follower node $F1 did not reach the leader's zxid $z"
    say "node $F2 down; 10 writes committed by leader node $L and node $F1 (zxid $z); kill -9 node $L, start node $F2"
    node_kill9 "$L"
    node_start "$F2"
    wait_formed 60 || fail "nodes $F1 $F2 did not form"
    local L2
    L2=$(leader_of)
    [[ $L2 == "$F1" ]] || fail "node $L2 leads, not node $F1, which had the highest zxid"
    say "node $F1 (the highest zxid) leads; restart node $L"
    node_start "$L"
    wait_formed 60 || fail "node $L did not rejoin"
    # A write of the new epoch: until one, an established leader reports
    # the epoch's zero zxid and its followers their last txn (as Java).
    # shellcheck disable=SC2046
    run_writers 5 5 "after:$(ens_connect $(seq 1 "$ENS_N"))"
    check_trees final $(seq 1 "$ENS_N")
    pass "the txns committed before the leader's crash are on every node; node $F1, with the highest zxid, leads"
}

# j. ZAB's scenario (b) on its own (also the TRUNC step of sync).
scenario_unacked_truncated() {
    form
    local L F F2
    L=$(leader_of) || fail "no leader"
    read -r F F2 <<<"$(followers_of)"
    # shellcheck disable=SC2046
    run_writers 5 5 "before:$(ens_connect $(seq 1 "$ENS_N"))"
    wait_same_zxid 30 || fail "the nodes' zxids did not converge"
    trunc_unacked "$L" "$F" "$F2"
    pass "the crashed leader's unacknowledged proposal was truncated (TRUNC) and is on no node"
}

# k. An observer beside the three participants (run.sh --observer KIND: node
# 4, `server.4=...:observer`, peerType=observer in its zoo.cfg). It says
# Mode: observer, the leader counts it as a synced observer, writes through
# it commit everywhere and a sync through it sees writes made elsewhere, its
# session's close removes its ephemeral everywhere, a restart syncs it by
# DIFF; and it does not vote: the participants take writes without it, two
# participants without it are a quorum, and one participant with it is not.

# The leader's mntr counts each running learner (zk_learners), each
# running follower (zk_synced_followers) and each running observer
# (zk_synced_observers), within 10 s (a learner may still be syncing).
check_observer_gauges() { # label
    local L i want_l=0 want_f=0 want_o=0 deadline=$((SECONDS + 10)) mntr learners synced observers
    L=$(leader_of) || fail "$1: no leader for the mntr check"
    for ((i = 1; i <= ENS_N; i++)); do
        ((i == L)) && continue
        node_running "$i" || continue
        want_l=$((want_l + 1))
        if [[ ${ENS_ROLE[i]} == observer ]]; then want_o=$((want_o + 1)); else want_f=$((want_f + 1)); fi
    done
    while :; do
        mntr=$(node_4lw "$L" mntr)
        learners=$(awk '$1 == "zk_learners" { print $2 }' <<<"$mntr")
        synced=$(awk '$1 == "zk_synced_followers" { print $2 }' <<<"$mntr")
        observers=$(awk '$1 == "zk_synced_observers" { print $2 }' <<<"$mntr")
        [[ $learners == "$want_l" && $synced == "$want_f" && $observers == "$want_o" ]] && break
        ((SECONDS < deadline)) ||
            fail "$1: leader node $L (${ENS_KIND[L]}) mntr: zk_learners '${learners:-}', zk_synced_followers '${synced:-}', zk_synced_observers '${observers:-}'; want $want_l, $want_f, $want_o"
        sleep 0.3
    done
    say "$1: leader node $L (${ENS_KIND[L]}) mntr: zk_learners $learners, zk_synced_followers $synced, zk_synced_observers $observers"
}

# Node i answers srvr with exactly Java's not-serving text within timeout_s.
wait_not_serving() { # i timeout_s
    local want="This ZooKeeper instance is not currently serving requests" reply
    local deadline=$((SECONDS + $2))
    while :; do
        reply=$(node_4lw "$1" srvr)
        [[ $reply == "$want"$'\n' || $reply == "$want" ]] && return 0
        ((SECONDS < deadline)) || { say "node $1 srvr: '$reply'"; return 1; }
        sleep 0.3
    done
}

scenario_observer() {
    form
    local O=$ENS_N
    [[ ${ENS_ROLE[O]} == observer ]] || fail "node $O is not an observer (run.sh --observer java|rzk)"
    local L F1 F2 m sm st z2
    L=$(leader_of) || fail "no leader"
    read -r F1 F2 <<<"$(followers_of)"
    [[ -n $F2 ]] || fail "not two followers: '$F1 ${F2:-}'"
    m=$(mode_of "$O")
    sm=$(node_4lw "$O" stat | sed -n 's/^Mode: //p')
    st=$(mntr_of "$O" zk_server_state)
    [[ $m == observer && $sm == observer ]] || fail "observer node $O: srvr Mode '$m', stat Mode '$sm'"
    [[ $st == observer ]] || fail "observer node $O: mntr zk_server_state '$st'"
    say "observer node $O (${ENS_KIND[O]}): srvr/stat Mode observer, mntr zk_server_state observer; followers $F1 $F2"
    check_observer_gauges formed
    # For comparing runs (no two nodes of one ensemble share the observer's role).
    mntr_keys "$L" >"$ENS_DIR/mntr-keys.leader"
    mntr_keys "$F1" >"$ENS_DIR/mntr-keys.follower"
    mntr_keys "$O" >"$ENS_DIR/mntr-keys.observer"

    # Writes through the observer and through each participant at once.
    run_writers 20 20 "obs:$(node_addr "$O")" "via$L:$(node_addr "$L")" \
        "via$F1:$(node_addr "$F1")" "via$F2:$(node_addr "$F2")"
    # Through the observer: sync, then read the last write acked by each participant.
    local i paths=() want=() got
    for i in "$L" "$F1" "$F2"; do
        paths+=("$(tail -1 "$ENS_DIR/acked.via$i" | cut -d' ' -f1)")
        want+=("READ $(tail -1 "$ENS_DIR/acked.via$i")")
    done
    client_bg syncread sync-read "$(node_addr "$O")" 20 "${paths[@]}"
    wait_client "$CLIENT_PID" 40 || fail "sync-read through the observer failed: $(tail -3 "$ENS_DIR/syncread.out")"
    grep -q "server=$(node_addr "$O")\$" "$ENS_DIR/syncread.out" || fail "sync-read not on the observer: $(head -1 "$ENS_DIR/syncread.out")"
    got=$(grep '^READ ' "$ENS_DIR/syncread.out")
    [[ $got == "$(printf '%s\n' "${want[@]}")" ]] ||
        fail "after sync, the observer read '$got', want '$(printf '%s; ' "${want[@]}")'"
    say "observer node $O, after sync: the last writes through nodes $L $F1 $F2 read back"
    # shellcheck disable=SC2046
    check_trees writes $(seq 1 "$ENS_N")
    [[ $(grep -c '^/qw/obs-' "$TREE_FILE") == 20 ]] || fail "the 20 writes through the observer are not all there"

    # An ephemeral through the observer goes everywhere when its session closes.
    local close=$ENS_DIR/close-eph sid c t0
    client_bg eph ephemeral "$(node_addr "$O")" /eph-obs 10000 "$close"
    c=$CLIENT_PID
    wait_line "$ENS_DIR/eph.out" '^EPHEMERAL' 30 >/dev/null || fail "no ephemeral through the observer: $(cat "$ENS_DIR/eph.out")"
    sid=$(sed -n 's/^SESSION \(0x[0-9a-f]*\).*/\1/p' "$ENS_DIR/eph.out" | head -1)
    # shellcheck disable=SC2046
    wait_owner /eph-obs "$sid" 15 $(seq 1 "$ENS_N") || fail "/eph-obs not on every node with owner $sid"
    touch "$close"
    t0=$SECONDS
    wait_line "$ENS_DIR/eph.out" '^CLOSED' 15 >/dev/null || fail "the client did not close its session: $(tail -2 "$ENS_DIR/eph.out")"
    # Well within the session timeout (10 s): the close, not an expiry.
    # shellcheck disable=SC2046
    wait_owner /eph-obs "" 8 $(seq 1 "$ENS_N") || fail "/eph-obs still on some node 8s after its session closed"
    wait_client "$c" 10 || fail "the ephemeral client failed: $(tail -2 "$ENS_DIR/eph.out")"
    say "session $sid made /eph-obs through the observer; gone from every node $((SECONDS - t0))s after the close"

    # The observer restarts and catches up by DIFF: a writer makes writes
    # while it is down and goes on while it syncs (so that commits reach it,
    # as INFORMs, during its sync). Paced (25/s) so that the gap stays inside
    # the leader's committed log (500 txns): an unpaced writer outruns it on
    # a fast leader, and then Java's rule (txn log too big for the tiny
    # snapshot) rightly sends a SNAP.
    local off d0 s0 stop=$ENS_DIR/stop-bg bg
    node_stop "$O"
    off=$(wc -l <"$(node_log "$L")")
    d0=$(mntr_of "$L" zk_diff_count)
    s0=$(mntr_of "$L" zk_snap_count)
    client_bg bg write "$(node_addr "$F2")" bg 60 1000000 "$ENS_DIR/acked.bg" "$stop" 40
    bg=$CLIENT_PID
    wait_line "$ENS_DIR/acked.bg" '-000020 ' 30 >/dev/null || fail "writer bg acknowledged under 20 writes in 30s"
    say "observer node $O stopped; writer bg made $(acked_count bg) writes; start it"
    node_start "$O"
    wait_formed 60 || fail "the observer did not rejoin"
    [[ $(leader_of) == "$L" ]] || fail "the leader changed while the observer restarted"
    local n_bg
    n_bg=$(acked_count bg)
    sleep 1
    touch "$stop"
    wait_client "$bg" 30 || fail "writer bg failed: $(tail -3 "$ENS_DIR/bg.out")"
    (($(acked_count bg) > n_bg)) || fail "writer bg made no write after the observer rejoined"
    # shellcheck disable=SC2046
    check_trees obsdiff $(seq 1 "$ENS_N")
    expect_sync DIFF "$L" "$O" "$off" "$d0" "$s0"
    say "observer node $O restarted under writes ($(acked_count bg) by writer bg), synced by DIFF, trees equal"

    # The leader dies with the rest up: the followers elect a new leader,
    # which the observer must follow (synced, in the new leader's mntr)
    # within 8 s of the kill (Java: 1-2 s; an observer may adopt the dead
    # leader from the stale votes of peers still looking, and must give it
    # up as fast as Java does). A session on the old leader, with the
    # observer next in its connect string, moves to the observer.
    local mclose=$ENS_DIR/close-moved line z_old t_kill took L2 F
    client_bg mover ephemeral "$(ens_connect "$L" "$O")" /moved 6000 "$mclose"
    c=$CLIENT_PID
    wait_line "$ENS_DIR/mover.out" '^EPHEMERAL' 30 >/dev/null || fail "no ephemeral: $(cat "$ENS_DIR/mover.out")"
    sid=$(sed -n 's/^SESSION \(0x[0-9a-f]*\).*/\1/p' "$ENS_DIR/mover.out" | head -1)
    grep -q "^CONNECTED session=$sid server=$(node_addr "$L")\$" "$ENS_DIR/mover.out" ||
        fail "the client is not on node $L first: $(head -1 "$ENS_DIR/mover.out")"
    z_old=$(zxid_of "$L")
    say "kill -9 leader node $L (zxid $z_old) with the followers and the observer up"
    node_kill9 "$L"
    t_kill=$SECONDS
    wait_formed 30 || fail "no new leader with the observer within 30s of the leader's kill"
    L2=$(leader_of)
    check_observer_gauges "new leader"
    took=$((SECONDS - t_kill))
    ((took <= 8)) || fail "the observer followed new leader node $L2 only ${took}s after the kill (want <= 8s)"
    read -r F <<<"$(others "$L" "$L2" "$O")"
    line=$(wait_line "$ENS_DIR/mover.out" "^CONNECTED .*server=$(node_addr "$O")\$" 20) ||
        fail "the session did not move to the observer within 20s: $(tail -3 "$ENS_DIR/mover.out")"
    [[ $line == "CONNECTED session=$sid "* ]] || fail "the client got a new session on the observer: $line"
    run_writers 10 10 "noL:$(node_addr "$O")" "noLb:$(node_addr "$F")"
    z2=$(zxid_of "$L2")
    (((z2 >> 32) > (z_old >> 32))) || fail "new leader node $L2 zxid $z2 is not of a later epoch than $z_old"
    # Past the session timeout (6 s): the session lives on through the observer.
    sleep 2
    grep -q '^STATE Expired' "$ENS_DIR/mover.out" && fail "the session expired after moving to the observer"
    wait_owner /moved "$sid" 10 "$L2" "$F" "$O" || fail "/moved not owned by $sid on nodes $L2 $F $O"
    touch "$mclose"
    wait_line "$ENS_DIR/mover.out" '^CLOSED' 15 >/dev/null || fail "the moved client did not close: $(tail -2 "$ENS_DIR/mover.out")"
    wait_client "$c" 10 || fail "the moved client failed: $(tail -2 "$ENS_DIR/mover.out")"
    wait_owner /moved "" 8 "$L2" "$F" "$O" || fail "/moved still there 8s after its session closed"
    say "node $L2 leads (zxid $z2), the observer followed it ${took}s after the kill; session $sid moved to the observer; writes through it and node $F"

    # Observers do not vote: without the observer too, the two participants are a quorum.
    node_kill9 "$O"
    run_writers 10 10 "two:$(node_addr "$F")"
    say "observer and node $L down: leader $L2 and follower $F took writes"
    node_start "$O"
    wait_formed 60 || fail "the observer did not rejoin nodes $L2 $F"
    check_observer_gauges "observer back"
    run_writers 10 10 "obs2:$(node_addr "$O")"

    # One participant and the observer: not a quorum.
    say "kill -9 leader node $L2: node $F and the observer remain"
    node_kill9 "$L2"
    wait_not_serving "$F" 30 || fail "participant node $F still serving with only the observer"
    wait_not_serving "$O" 30 || fail "observer node $O still serving with one participant"
    client_bg minority try-create "$(node_addr "$O")" /minority-write 3
    wait_client "$CLIENT_PID" 30
    local result
    result=$(grep '^RESULT' "$ENS_DIR/minority.out")
    [[ -n $result && $result != "RESULT OK" ]] || fail "write through the observer in a minority: '${result:-no result}'"
    wait_not_serving "$F" 1 || fail "participant node $F serves again with only the observer"
    wait_not_serving "$O" 1 || fail "observer node $O serves again with one participant"
    say "node $F and observer node $O not serving; a write through the observer: $result"

    node_start "$L"
    node_start "$L2"
    wait_formed 60 || fail "the ensemble did not re-form"
    say "re-formed: node $(leader_of) leads, observer node $O observes"
    check_observer_gauges re-formed
    run_writers 10 10 "after:$(node_addr "$O")"
    # shellcheck disable=SC2046
    check_trees final $(seq 1 "$ENS_N")
    ! grep -q '^/minority-write ' "$TREE_FILE" || fail "the failed write /minority-write exists"
    pass "observer node $O (${ENS_KIND[O]}) observed, served writes and syncs, synced by DIFF; without it two participants were a quorum, with it one was not"
}

"scenario_${SCENARIO//-/_}"
