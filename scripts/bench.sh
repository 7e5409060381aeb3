#!/usr/bin/env bash
# rzk next to Java ZooKeeper 3.8, on the same machine, loaded by `rzk bench`.
#
#   scripts/bench.sh                    # the default comparison (about 10 min on 2 cores)
#   scripts/bench.sh --smoke            # every workload for ~1 s: checks the tool end to end (CI)
#   scripts/bench.sh --sweep-sessions   # also: throughput and p99 at 1..256 sessions
#   scripts/bench.sh --sweep-znodes     # also: populate, memory, reads, restart at 10k..1M znodes
#   scripts/bench.sh --help             # every option
#   scripts/bench.sh --ensemble [...]   # three rzk vs three Java (scripts/bench-ensemble.sh)
#
# Java is the Debian package's 3.8.0, started as its zkServer.sh would start
# it: QuorumPeerMain, the package's classpath (no SLF4J binding: no logging),
# JMX local only, the OOM flags, and the JVM's default heap and collector
# (zkEnv.sh sets no heap). rzk is target/release/rzk (built first, then
# copied so that a concurrent build cannot swap it mid-run). Both get the
# same zoo.cfg on a fresh dataDir: compat-tests/lib/servers.sh's (127.0.0.1,
# admin server off), plus forceSync=yes and maxClientCnxns=0 (Java's default
# of 60 per address would refuse the storm and the larger sweeps).
#
# Each round starts both servers fresh and runs every workload on one, then
# on the other, the order flipping from workload to workload and round to
# round; the table gives the median over rounds. Memory and restart are
# measured on servers of their own: populate 200,000 znodes, read VmRSS,
# stop, start again on the same dataDir and time until a getData succeeds.
#
# Output: the table on stdout; every raw result (one JSON object per line)
# in $OUT/results.jsonl, the table in $OUT/table.md, servers' dirs and logs
# in $OUT/servers/. Exit status 1 if a run failed (or, with --smoke, if a
# result looks wrong: no operations, or errors).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ ${1:-} == --ensemble ]]; then
    shift
    exec "$REPO/scripts/bench-ensemble.sh" "$@"
fi
RZK_BIN_GIVEN=${RZK_BIN:-}
# shellcheck source=../compat-tests/lib/servers.sh
source "$REPO/compat-tests/lib/servers.sh"

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
    cat <<'EOF'
Options (defaults in brackets):
  --smoke                 quick end-to-end check, tiny sizes; no timing checks
  --rounds N              rounds of the main comparison [3]
  --warmup S              seconds of load before measuring [2]
  --duration S            seconds measured per workload [8]
  --sessions C            sessions [16]
  --inflight P            requests in flight per session [16]
  --znodes N              pool the workloads read and write [10000]
  --big N                 znodes for the memory and restart figures [200000]
  --storm N               sessions per connect-storm round [1000]
  --threads T             client threads [1]
  --timeout S             bound on a run's setup and draining, beyond its warmup
                          and duration (a stalled server fails the run) [120]
  --sweep-sessions[=LIST] also sweep sessions [1,4,16,64,256] (in flight: --sweep-inflight)
  --sweep-inflight P      requests in flight per session in that sweep [1]
  --sweep-znodes[=LIST]   also sweep sizes [10000,100000,1000000]
  --only java|rzk         one server only (ratios left out)
  --skip-main             only the sweeps
  --no-build              use target/release/rzk as it is
  --out DIR               results [compat-tests/out/bench/<date>]
Env: RZK_BIN (the rzk to test instead of target/release/rzk), BENCH_JAVA_FLAGS
(extra JVM flags), BENCH_JAVA_LOG=1 (log Java to a file via slf4j-simple).
EOF
}

SMOKE=0
ROUNDS=3
WARMUP=2
DURATION=8
SESSIONS=16
INFLIGHT=16
ZNODES=10000
BIG=200000
STORM=1000
THREADS=1
TIMEOUT=120
SWEEP_SESSIONS=""
SWEEP_INFLIGHT=1
SWEEP_ZNODES=""
ONLY=""
SKIP_MAIN=0
BUILD=1
OUT=""

while (($#)); do
    case $1 in
    --smoke) SMOKE=1 ;;
    --rounds) ROUNDS=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --sessions) SESSIONS=$2; shift ;;
    --inflight) INFLIGHT=$2; shift ;;
    --znodes) ZNODES=$2; shift ;;
    --big) BIG=$2; shift ;;
    --storm) STORM=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --timeout) TIMEOUT=$2; shift ;;
    --sweep-sessions) SWEEP_SESSIONS="1,4,16,64,256" ;;
    --sweep-sessions=*) SWEEP_SESSIONS=${1#*=} ;;
    --sweep-inflight) SWEEP_INFLIGHT=$2; shift ;;
    --sweep-znodes) SWEEP_ZNODES="10000,100000,1000000" ;;
    --sweep-znodes=*) SWEEP_ZNODES=${1#*=} ;;
    --only) ONLY=$2; shift ;;
    --skip-main) SKIP_MAIN=1 ;;
    --no-build) BUILD=0 ;;
    --out) OUT=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

for n in "$ROUNDS" "$SESSIONS" "$INFLIGHT" "$ZNODES" "$BIG" "$STORM" "$THREADS" "$SWEEP_INFLIGHT" "$TIMEOUT"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: not a positive integer: $n" >&2; exit 2; }
done
for l in "$SWEEP_SESSIONS" "$SWEEP_ZNODES"; do
    [[ -z $l || $l =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "bench.sh: not a comma-separated list: $l" >&2; exit 2; }
done

JAVA_CP="/etc/zookeeper/conf:/usr/share/java/zookeeper.jar"
java_available() { [[ -r /usr/share/java/zookeeper.jar ]] && command -v java >/dev/null; }

if ((SMOKE)); then
    ROUNDS=1 WARMUP=0.5 DURATION=1 SESSIONS=4 INFLIGHT=4 ZNODES=500 BIG=5000 STORM=100 TIMEOUT=30
    SWEEP_SESSIONS=${SWEEP_SESSIONS:-1,8}
    SWEEP_ZNODES=${SWEEP_ZNODES:-1000,3000}
fi

case $ONLY in
"") KINDS=(java rzk) ;;
java | rzk) KINDS=("$ONLY") ;;
*) echo "bench.sh: --only java|rzk" >&2; exit 2 ;;
esac
if [[ " ${KINDS[*]} " == *" java "* ]] && ! java_available; then
    if ((SMOKE)) && [[ -z $ONLY ]]; then
        echo "bench.sh: Java ZooKeeper not installed; smoke-testing rzk only" >&2
        KINDS=(rzk)
    else
        echo "bench.sh: /usr/share/java/zookeeper.jar or java missing; run scripts/install-deps.sh (or --only rzk)" >&2
        exit 1
    fi
fi

OUT=${OUT:-$REPO/compat-tests/out/bench/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT/servers"
SERVERS_WORKDIR="$OUT/servers"
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"

# One benchmark at a time on this machine: they would skew each other.
exec 9>"$REPO/compat-tests/out/bench.lock"
if ! flock -w 1800 9; then
    echo "bench.sh: another benchmark still holds compat-tests/out/bench.lock" >&2
    exit 1
fi

if ((BUILD)) && [[ -z $RZK_BIN_GIVEN ]]; then
    (cd "$REPO" && cargo build --release --quiet) || { echo "bench.sh: build failed" >&2; exit 1; }
fi
[[ -x $RZK_BIN ]] || { echo "bench.sh: no rzk at $RZK_BIN" >&2; exit 1; }
cp "$RZK_BIN" "$OUT/rzk"
RZK="$OUT/rzk"
RZK_BIN="$RZK"

# The storm and the larger sweeps need many descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

CFG=(forceSync=yes maxClientCnxns=0)
BENCH_PIDS=()
FAILURES=0

# shellcheck disable=SC2317 # called from the EXIT trap
bench_cleanup() {
    local p
    for p in "${BENCH_PIDS[@]}"; do
        stop_server "$p"
    done
    return 0
}

# Stop a server we started (TERM, then KILL after 10 s) and forget it.
stop_srv() { # pid
    local keep=() p
    stop_server "$1"
    for p in "${BENCH_PIDS[@]}"; do
        [[ $p == "$1" ]] || keep+=("$p")
    done
    BENCH_PIDS=("${keep[@]}")
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Start a server on an existing directory (zoo.cfg in it); sets LPID.
launch() { # kind dir
    local kind=$1 dir=$2
    case $kind in
    java)
        local cp=$JAVA_CP log=()
        if [[ ${BENCH_JAVA_LOG:-0} == 1 ]]; then
            cp="$cp:/usr/share/java/slf4j-simple.jar"
            log=("-Dorg.slf4j.simpleLogger.logFile=$dir/server.log" -Dorg.slf4j.simpleLogger.showDateTime=true)
        fi
        # As zkServer.sh start-foreground with Debian's zkEnv.sh (JVMFLAGS empty).
        # shellcheck disable=SC2086
        (cd "$dir" && exec java "-Dzookeeper.log.dir=$dir" -Dzookeeper.log.file=zookeeper.log \
            -XX:+HeapDumpOnOutOfMemoryError "-XX:OnOutOfMemoryError=kill -9 %p" \
            -cp "$cp" ${BENCH_JAVA_FLAGS:-} "${log[@]}" \
            -Dcom.sun.management.jmxremote -Dcom.sun.management.jmxremote.local.only=true \
            org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg") \
            >>"$dir/stdout.log" 2>&1 </dev/null &
        LPID=$!
        ;;
    rzk)
        "$RZK" server "$dir/zoo.cfg" >>"$dir/server.log" 2>&1 </dev/null &
        LPID=$!
        ;;
    esac
    BENCH_PIDS+=("$LPID")
}

# Wait until the server serves: `srvr` reports a mode (Java answers ruok
# with imok before it has loaded its data and accepts sessions).
wait_serving() { # pid port
    local i
    for ((i = 0; i < 300; i++)); do
        kill -0 "$1" 2>/dev/null || return 1
        [[ $(four_letter "$2" srvr) == *"Mode: "* ]] && return 0
        sleep 0.1
    done
    return 1
}

# Start a server on a fresh dataDir; sets SPID SPORT SDIR.
start_fresh() { # kind
    local kind=$1 attempt
    for attempt in 1 2 3; do
        SDIR=$(mktemp -d "$SERVERS_WORKDIR/$kind.XXXXXX")
        mkdir -p "$SDIR/data"
        SPORT=$(free_port)
        write_zoo_cfg "$SDIR/zoo.cfg" "$SDIR/data" "$SPORT" "${CFG[@]}"
        launch "$kind" "$SDIR"
        SPID=$LPID
        wait_serving "$SPID" "$SPORT" && return 0
        echo "bench.sh: $kind did not start on $SPORT (attempt $attempt); see $SDIR" >&2
        stop_srv "$SPID"
    done
    return 1
}

# Record one result line: kind round test json.
record() {
    printf '{"kind":"%s","round":%s,"test":"%s","result":%s}\n' "$1" "$2" "$3" "$4" >>"$RESULTS"
}

# Run `rzk bench` and record its JSON; a failure is noted and the run goes on.
bench() { # kind round test pid port workload [options...]
    local kind=$1 round=$2 test=$3 pid=$4 port=$5
    shift 5
    local json err="$OUT/bench.err"
    [[ " $* " == *" --timeout "* ]] || set -- "$@" --timeout "$TIMEOUT"
    if json=$("$RZK" bench "$@" --server "127.0.0.1:$port" --pid "$pid" --threads "$THREADS" --json 2>"$err"); then
        record "$kind" "$round" "$test" "$json"
        printf '  %-5s %-22s %s\n' "$kind" "$test" "$(summary "$json")" >&2
    else
        FAILURES=$((FAILURES + 1))
        echo "  $kind $test FAILED: $(tail -n 3 "$err")" >&2
        record "$kind" "$round" "$test" "{\"failed\":true}"
    fi
}

summary() {
    python3 -c 'import json,sys
r = json.loads(sys.argv[1]); l = r["latency_ms"]
print("%10.0f ops/s  p50 %7.3f  p99 %8.3f ms  errors %d" % (r["ops_per_sec"], l["p50"], l["p99"], r["errors"]))' "$1"
}

now_ns() { date +%s%N; }

WORKLOADS=(read write mixed create-delete watch connect-storm)

main_round() { # round
    local r=$1 kind i w
    declare -A PID PORT
    for kind in "${KINDS[@]}"; do
        start_fresh "$kind" || { FAILURES=$((FAILURES + 1)); return 0; }
        PID[$kind]=$SPID
        PORT[$kind]=$SPORT
        bench "$kind" "$r" pool "$SPID" "$SPORT" populate --znodes "$ZNODES" \
            --sessions "$SESSIONS" --inflight "$INFLIGHT"
    done
    i=$r
    for w in "${WORKLOADS[@]}"; do
        local order=("${KINDS[@]}")
        if ((${#KINDS[@]} == 2 && i % 2 == 0)); then order=("${KINDS[1]}" "${KINDS[0]}"); fi
        i=$((i + 1))
        for kind in "${order[@]}"; do
            bench "$kind" "$r" "$w" "${PID[$kind]}" "${PORT[$kind]}" "$w" \
                --sessions "$SESSIONS" --inflight "$INFLIGHT" --znodes "$ZNODES" \
                --warmup "$WARMUP" --duration "$DURATION" --count "$STORM"
        done
    done
    for kind in "${KINDS[@]}"; do stop_srv "${PID[$kind]}"; done
}

# Populate N znodes on a fresh server, read its memory; with reads > 0,
# also read over the whole pool; then restart it on the same dataDir and
# time until it serves a getData. Tests are named <prefix>populate,
# <prefix>read, <prefix>restart.
size_run() { # kind round n prefix with_reads
    local kind=$1 r=$2 n=$3 prefix=$4 reads=$5 t0 t1 json
    start_fresh "$kind" || { FAILURES=$((FAILURES + 1)); return 0; }
    bench "$kind" "$r" "${prefix}populate" "$SPID" "$SPORT" populate --znodes "$n" \
        --sessions "$SESSIONS" --inflight "$INFLIGHT" --timeout 900
    if ((reads)); then
        bench "$kind" "$r" "${prefix}read" "$SPID" "$SPORT" read --znodes "$n" \
            --sessions "$SESSIONS" --inflight "$INFLIGHT" --warmup "$WARMUP" --duration "$DURATION"
    fi
    stop_srv "$SPID"
    t0=$(now_ns)
    launch "$kind" "$SDIR"
    if json=$("$RZK" bench ready --server "127.0.0.1:$SPORT" --timeout "$((TIMEOUT > 60 ? TIMEOUT : 60))" --json 2>"$OUT/bench.err"); then
        t1=$(now_ns)
        local rss
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$LPID/status" 2>/dev/null || echo null)
        record "$kind" "$r" "${prefix}restart" \
            "{\"ready_ms\":$(((t1 - t0) / 1000000)),\"rss_kb\":${rss:-null},\"probe\":$json}"
        printf '  %-5s %-22s %8d ms to serving\n' "$kind" "${prefix}restart" "$(((t1 - t0) / 1000000))" >&2
    else
        FAILURES=$((FAILURES + 1))
        echo "  $kind ${prefix}restart FAILED: $(tail -n 3 "$OUT/bench.err")" >&2
        record "$kind" "$r" "${prefix}restart" "{\"failed\":true}"
    fi
    stop_srv "$LPID"
}

sweep_sessions() {
    local c i=0 kind
    declare -A PID PORT
    for kind in "${KINDS[@]}"; do
        start_fresh "$kind" || { FAILURES=$((FAILURES + 1)); return 0; }
        PID[$kind]=$SPID
        PORT[$kind]=$SPORT
        bench "$kind" 1 sweep-pool "$SPID" "$SPORT" populate --znodes "$ZNODES" --sessions 16 --inflight 16
    done
    for c in ${SWEEP_SESSIONS//,/ }; do
        for w in read write; do
            local order=("${KINDS[@]}")
            if ((${#KINDS[@]} == 2 && i % 2 == 1)); then order=("${KINDS[1]}" "${KINDS[0]}"); fi
            i=$((i + 1))
            for kind in "${order[@]}"; do
                bench "$kind" 1 "sweep-$w-$c" "${PID[$kind]}" "${PORT[$kind]}" "$w" \
                    --sessions "$c" --inflight "$SWEEP_INFLIGHT" --znodes "$ZNODES" \
                    --warmup "$WARMUP" --duration "$DURATION"
            done
        done
    done
    for kind in "${KINDS[@]}"; do stop_srv "${PID[$kind]}"; done
}

sweep_znodes() {
    local n i=0 kind
    for n in ${SWEEP_ZNODES//,/ }; do
        local order=("${KINDS[@]}")
        if ((${#KINDS[@]} == 2 && i % 2 == 1)); then order=("${KINDS[1]}" "${KINDS[0]}"); fi
        i=$((i + 1))
        for kind in "${order[@]}"; do
            size_run "$kind" 1 "$n" "size-$n-" 1
        done
    done
}

machine() {
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -h | awk '/^Mem:/ {print $2 " RAM, " $7 " available"}'), kernel $(uname -r)"
    echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- rzk: $("$RZK" version) (git $(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null)$(cd "$REPO" && git diff --quiet 2>/dev/null || echo '+changes'))"
    if java_available && [[ " ${KINDS[*]} " == *" java "* ]]; then
        echo "- Java: ZooKeeper$(dpkg-query -W -f=' ${Version} (Debian package)' zookeeper 2>/dev/null), $(java -version 2>&1 | head -n1), default heap and GC ($(java -XX:+PrintFlagsFinal -version 2>/dev/null | awk '$2 == "MaxHeapSize" {printf "max heap %d MiB", $4 / 1048576} $2 == "UseG1GC" && $4 == "true" {printf ", G1"} $2 == "UseSerialGC" && $4 == "true" {printf ", Serial"}'))"
    fi
    echo "- settings: ${SESSIONS} sessions x ${INFLIGHT} in flight, pool ${ZNODES} znodes of 100 bytes, warmup ${WARMUP} s, ${DURATION} s measured, ${ROUNDS} round(s) (median), storm ${STORM} sessions, client threads ${THREADS}; zoo.cfg: forceSync=yes maxClientCnxns=0"
}

# The markdown tables from results.jsonl (medians over rounds); with
# check=1, also a sanity check of every result (exit 1 if one fails it).
tables() { # results big check skip_main sessions_list znodes_list
    python3 - "$@" <<'EOF'
import json, statistics, sys

path, big, check, skip_main, s_list, z_list = sys.argv[1:7]
big, check, skip_main = int(big), check == "1", skip_main == "1"
rows = [json.loads(l) for l in open(path) if l.strip()]
by = {}
for r in rows:
    by.setdefault((r["kind"], r["test"]), []).append(r["result"])
kinds = [k for k in ("java", "rzk") if any(r["kind"] == k for r in rows)]
NAME = {"java": "Java 3.8.0", "rzk": "rzk"}

def med(kind, test, f):
    vals = []
    for res in by.get((kind, test), []):
        if res.get("failed"):
            continue
        try:
            v = f(res)
        except (KeyError, TypeError, ZeroDivisionError):
            continue
        if v is not None:
            vals.append(v)
    return statistics.median(vals) if vals else None

def fmt(v):
    if v is None:
        return "fail"
    if v >= 1000:
        return "{:,.0f}".format(v)
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    if v >= 1:
        return "%.2f" % v
    return "%.3f" % v

def ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    return "%.2f" % (a / b)

def table(head, lines):
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---:" if i else "---" for i in range(len(head))) + "|")
    for l in lines:
        print("| " + " | ".join(l) + " |")
    print()

def cells(test, f):
    vals = [med(k, test, f) for k in kinds]
    out = [fmt(v) for v in vals]
    if len(kinds) == 2:
        out.append(ratio(vals[1], vals[0]))
    return out

def head(first):
    h = [first] + [NAME[k] for k in kinds]
    if len(kinds) == 2:
        h.append("rzk/Java")
    return h

ops = lambda r: r["ops_per_sec"]
p99 = lambda r: r["latency_ms"]["p99"]
def op_p99(name):
    return lambda r: r["by_op"][name]["p99"]
rss = lambda r: r["rss_kb"] / 1024
extra = lambda k: (lambda r: r["extra"][k])

if not skip_main:
    main = [
        ("read throughput (ops/s) ↑", "read", ops),
        ("write throughput, setData 100 B (ops/s) ↑", "write", ops),
        ("mixed 90/10 throughput (ops/s) ↑", "mixed", ops),
        ("create+delete throughput (ops/s) ↑", "create-delete", ops),
        ("watch round trips (events/s) ↑", "watch", ops),
        ("connect-storm (sessions/s) ↑", "connect-storm", ops),
        ("read p99 (ms) ↓", "read", p99),
        ("write p99 (ms) ↓", "write", p99),
        ("mixed p99 (ms) ↓", "mixed", p99),
        ("create+delete p99 (ms) ↓", "create-delete", p99),
        ("watch p99, setData ack → event (ms) ↓", "watch", p99),
        ("watch p99, setData sent → event (ms) ↓", "watch", op_p99("notify")),
        ("connect-storm p99, connect (ms) ↓", "connect-storm", p99),
        ("populate %s znodes (creates/s) ↑" % format(big, ","), "big-populate", ops),
        ("RSS after populating %s znodes (MiB) ↓" % format(big, ","), "big-populate", rss),
        ("restart to serving on that dataDir (s) ↓", "big-restart", lambda r: r["ready_ms"] / 1000),
        ("RSS right after that restart (MiB) ↓", "big-restart", rss),
    ]
    table(head("metric"), [[m] + cells(t, f) for m, t, f in main])
    print("↑ higher is better, ↓ lower is better; rzk/Java above 1 is rzk's advantage on ↑ rows, below 1 on ↓ rows.")
    print()
    diag = []
    for w in ("read", "write", "mixed", "create-delete", "watch"):
        diag.append(["server CPU during %s (cores)" % w] + cells(w, extra("server_cpu_cores")))
        diag.append(["server CPU per op, %s (µs)" % w]
                    + cells(w, lambda r: r["extra"]["server_cpu_cores"] * 1e6 / r["ops_per_sec"]))
    for w in ("read", "write"):
        diag.append(["client CPU during %s (cores)" % w] + cells(w, extra("client_cpu_cores")))
    print("Diagnostics:")
    print()
    table(head("figure"), diag)

if s_list:
    lines = []
    for c in s_list.split(","):
        lines.append([c] + cells("sweep-read-" + c, ops) + cells("sweep-write-" + c, ops)
                     + cells("sweep-read-" + c, p99) + cells("sweep-write-" + c, p99))
    h = ["sessions"]
    for what in ("read ops/s", "write ops/s", "read p99 ms", "write p99 ms"):
        h += ["%s %s" % (what, NAME[k]) for k in kinds] + (["rzk/Java"] if len(kinds) == 2 else [])
    print("Sessions sweep:")
    print()
    table(h, lines)

if z_list:
    lines = []
    for n in z_list.split(","):
        p = "size-%s-" % n
        lines.append([format(int(n), ",")] + cells(p + "populate", ops) + cells(p + "populate", rss)
                     + cells(p + "read", ops) + cells(p + "restart", lambda r: r["ready_ms"] / 1000))
    h = ["znodes"]
    for what in ("populate creates/s", "RSS MiB", "read ops/s", "restart s"):
        h += ["%s %s" % (what, NAME[k]) for k in kinds] + (["rzk/Java"] if len(kinds) == 2 else [])
    print("Size sweep:")
    print()
    table(h, lines)

errs = ["%s %s (round %s): %d (%s)" % (r["kind"], r["test"], r["round"], r["result"]["errors"],
         ", ".join("%s x%s" % (c, n) for c, n in r["result"].get("error_codes", {}).items()))
        for r in rows if r["result"].get("errors")]
fails = ["%s %s (round %s)" % (r["kind"], r["test"], r["round"]) for r in rows if r["result"].get("failed")]
if errs:
    print("Runs with errors (error code x count; -4 is a session that could not be opened):")
    print()
    for e in errs:
        print("- " + e)
    print()
if fails:
    print("Failed runs (left out of the medians): " + "; ".join(fails))
    print()

if check:
    problems = []
    for r in rows:
        name = "%s %s (round %s)" % (r["kind"], r["test"], r["round"])
        res = r["result"]
        if res.get("failed"):
            problems.append(name + ": failed")
        elif r["test"].endswith("restart"):
            if not res.get("ready_ms", 0) > 0 or not res.get("rss_kb"):
                problems.append(name + ": no restart time or RSS")
        else:
            if not res.get("ops", 0) > 0 or not res.get("ops_per_sec", 0) > 0:
                problems.append(name + ": no operations")
            if res.get("errors", 1) != 0:
                problems.append(name + ": %s errors %s" % (res.get("errors"), res.get("error_codes")))
            if res.get("rss_kb") is None or not res["latency_ms"]["p50"] >= 0:
                problems.append(name + ": no RSS or latency")
    expected = [] if skip_main else \
        ["read", "write", "mixed", "create-delete", "watch", "connect-storm", "big-populate", "big-restart"]
    expected += ["sweep-%s-%s" % (w, c) for c in s_list.split(",") if c for w in ("read", "write")]
    expected += ["size-%s-%s" % (n, t) for n in z_list.split(",") if n for t in ("populate", "read", "restart")]
    for k in kinds:
        for t in expected:
            if (k, t) not in by:
                problems.append("%s %s: missing" % (k, t))
    if problems:
        print("SMOKE FAILED:")
        for p in problems:
            print("- " + p)
        sys.exit(1)
    print("smoke: %d results from %s, every one with operations and no errors" % (len(rows), " and ".join(kinds)))
EOF
}

HEADER=$(machine)
echo "$HEADER" >&2
echo "results: $OUT" >&2
T_START=$SECONDS

if ((!SKIP_MAIN)); then
    for ((r = 1; r <= ROUNDS; r++)); do
        echo "== round $r/$ROUNDS" >&2
        main_round "$r"
        order=("${KINDS[@]}")
        if ((${#KINDS[@]} == 2 && r % 2 == 0)); then order=("${KINDS[1]}" "${KINDS[0]}"); fi
        for kind in "${order[@]}"; do
            size_run "$kind" "$r" "$BIG" big- 0
        done
    done
fi
if [[ -n $SWEEP_SESSIONS ]]; then
    echo "== sessions sweep: $SWEEP_SESSIONS" >&2
    sweep_sessions
fi
if [[ -n $SWEEP_ZNODES ]]; then
    echo "== size sweep: $SWEEP_ZNODES" >&2
    sweep_znodes
fi

echo "($((SECONDS - T_START)) s)" >&2
{
    echo "$HEADER"
    echo
    tables "$RESULTS" "$BIG" "$SMOKE" "$SKIP_MAIN" "$SWEEP_SESSIONS" "$SWEEP_ZNODES"
} | tee "$OUT/table.md"
status=${PIPESTATUS[0]}
if ((FAILURES)); then
    echo "bench.sh: $FAILURES run(s) failed; see $OUT" >&2
    exit 1
fi
exit "$status"
