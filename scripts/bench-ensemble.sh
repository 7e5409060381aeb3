#!/usr/bin/env bash
# Three rzk nodes next to three Java ZooKeeper 3.8 nodes, on this one
# machine, with the same zoo.cfg (compat-tests/lib/ensemble.sh's: 127.0.0.1,
# tickTime 500, initLimit 20, syncLimit 10, forceSync on), loaded by
# `rzk bench`. Run as `scripts/bench.sh --ensemble [options]`.
#
# Per round and kind: a fresh 3-node ensemble, a pool of znodes, then
#   write-follower  setData through a follower (forwarded to the leader)
#   write-leader    setData through the leader
#   read-follower   getData from a follower
#   failover        kill -9 the leader; time until a setData through a
#                   surviving follower is acknowledged
# The kinds alternate which goes first from round to round; the table gives
# medians over rounds, and rzk/Java ratios.
#
# Java runs with the JVM's default heap and collector (as zkServer.sh), and
# logs at INFO to a file (the harness's slf4j-simple); rzk logs at info.
#
# Output: the table on stdout and in $OUT/table.md; raw results (JSON lines)
# in $OUT/results.jsonl; the ensembles' dirs and logs in $OUT/ensembles/.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

ROUNDS=3
WARMUP=2
DURATION=8
SESSIONS=16
INFLIGHT=16
ZNODES=10000
SMOKE=0
BUILD=1
OUT=""
while (($#)); do
    case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --sessions) SESSIONS=$2; shift 2 ;;
    --inflight) INFLIGHT=$2; shift 2 ;;
    --znodes) ZNODES=$2; shift 2 ;;
    --smoke) SMOKE=1; shift ;;
    --no-build) BUILD=0; shift ;;
    --out) OUT=$2; shift 2 ;;
    --help | -h)
        sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
        echo "Options: --rounds N [3] --warmup S [2] --duration S [8] --sessions C [16]"
        echo "         --inflight P [16] --znodes N [10000] --smoke --no-build --out DIR"
        exit 0
        ;;
    *) echo "bench-ensemble.sh: unknown option $1 (--help)" >&2; exit 2 ;;
    esac
done
if ((SMOKE)); then
    ROUNDS=1 WARMUP=0.2 DURATION=1 SESSIONS=4 INFLIGHT=4 ZNODES=200
fi
: "${OUT:=$REPO/compat-tests/out/bench-ensemble/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"

cd "$REPO"
if ((BUILD)); then cargo build --release --quiet; fi
# A copy, so that a concurrent build cannot swap the binary mid-run.
RZK=$OUT/rzk
cp target/release/rzk "$RZK"
export RZK_BIN=$RZK
export QUORUM_OUT=$OUT/ensembles
export ENS_JAVA_OPTS=""
# shellcheck source=../compat-tests/lib/ensemble.sh
source "$REPO/compat-tests/lib/ensemble.sh"

RESULTS=$OUT/results.jsonl
: >"$RESULTS"
FAILURES=0

record() { # kind round test json
    python3 -c 'import json,sys
r = json.loads(sys.argv[4]); r.update(kind=sys.argv[1], round=int(sys.argv[2]), test=sys.argv[3])
print(json.dumps(r))' "$@" >>"$RESULTS"
}

bench() { # kind round test pid port workload [options...]
    local kind=$1 round=$2 test=$3 pid=$4 port=$5 json
    shift 5
    if json=$("$RZK" bench "$@" --server "127.0.0.1:$port" --pid "$pid" --json --timeout 120 2>"$OUT/bench.err"); then
        record "$kind" "$round" "$test" "$json"
        python3 -c 'import json,sys
r = json.loads(sys.argv[3]); l = r["latency_ms"]
print("  %-5s %-15s %10.0f ops/s  p99 %8.3f ms  errors %d" % (sys.argv[1], sys.argv[2], r["ops_per_sec"], l["p99"], r["errors"]))' \
            "$kind" "$test" "$json" >&2
    else
        FAILURES=$((FAILURES + 1))
        echo "  $kind $test FAILED: $(tail -n 3 "$OUT/bench.err")" >&2
    fi
}

now_ns() { date +%s%N; }

run_kind() { # kind round
    local kind=$1 r=$2 L F i t0 t1
    ens_init "$kind-$r" "$kind,$kind,$kind" || return 1
    ens_start_all || return 1
    if ! wait_formed 90; then
        echo "  $kind: the ensemble did not form" >&2
        FAILURES=$((FAILURES + 1))
        return 0
    fi
    L=$(leader_of)
    read -r F _ <<<"$(followers_of)"
    local load=(--sessions "$SESSIONS" --inflight "$INFLIGHT" --znodes "$ZNODES" --warmup "$WARMUP" --duration "$DURATION")
    bench "$kind" "$r" pool "${ENS_PID[L]}" "${ENS_CPORT[L]}" populate --znodes "$ZNODES" --sessions "$SESSIONS" --inflight "$INFLIGHT"
    bench "$kind" "$r" write-follower "${ENS_PID[F]}" "${ENS_CPORT[F]}" write "${load[@]}"
    bench "$kind" "$r" write-leader "${ENS_PID[L]}" "${ENS_CPORT[L]}" write "${load[@]}"
    bench "$kind" "$r" read-follower "${ENS_PID[F]}" "${ENS_CPORT[F]}" read "${load[@]}"
    # Failover: from the leader's kill -9 to the next acknowledged write.
    t0=$(now_ns)
    node_kill9 "$L"
    if "$RZK" bench write-ready --server "127.0.0.1:${ENS_CPORT[F]}" --znodes "$ZNODES" --timeout 60 --json >/dev/null 2>"$OUT/bench.err"; then
        t1=$(now_ns)
        local ms=$(((t1 - t0) / 1000000))
        record "$kind" "$r" failover "{\"failover_ms\": $ms}"
        printf '  %-5s %-15s %10d ms\n' "$kind" failover "$ms" >&2
    else
        FAILURES=$((FAILURES + 1))
        echo "  $kind failover FAILED: $(tail -n 3 "$OUT/bench.err")" >&2
    fi
    for ((i = 1; i <= ENS_N; i++)); do node_stop "$i"; done
}

for ((r = 1; r <= ROUNDS; r++)); do
    echo "round $r of $ROUNDS" >&2
    if ((r % 2)); then order=(java rzk); else order=(rzk java); fi
    for kind in "${order[@]}"; do run_kind "$kind" "$r"; done
done

python3 - "$RESULTS" "$SMOKE" >"$OUT/table.md" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
smoke = sys.argv[2] == "1"
def med(kind, test, key):
    v = []
    for r in rows:
        if r["kind"] != kind or r["test"] != test:
            continue
        x = r.get(key) if key != "p99" else r.get("latency_ms", {}).get("p99")
        if x is not None:
            v.append(x)
    return statistics.median(v) if v else None
def fmt(x, unit):
    return "-" if x is None else (f"{x:,.0f}{unit}" if x >= 100 else f"{x:.2f}{unit}")
def ratio(a, b):
    return "-" if a is None or b in (None, 0) else f"{a / b:.2f}x"
print("| measure | Java 3.8.0 x3 | rzk x3 | rzk/Java |")
print("|---|---:|---:|---:|")
bad = []
for test in ["write-follower", "write-leader", "read-follower"]:
    for key, unit, name in [("ops_per_sec", " ops/s", "throughput"), ("p99", " ms", "p99")]:
        j, z = med("java", test, key), med("rzk", test, key)
        print(f"| {test} {name} | {fmt(j, unit)} | {fmt(z, unit)} | {ratio(z, j)} |")
        if smoke and key == "ops_per_sec" and not z:
            bad.append(f"rzk {test}: no operations")
    errs = sum(r.get("errors", 0) for r in rows if r["test"] == test)
    if errs:
        bad.append(f"{test}: {errs} errors")
j, z = med("java", "failover", "failover_ms"), med("rzk", "failover", "failover_ms")
print(f"| failover (kill -9 leader to next acked write) | {fmt(j, ' ms')} | {fmt(z, ' ms')} | {ratio(z, j)} |")
for b in bad:
    print(f"\nPROBLEM: {b}")
EOF
cat "$OUT/table.md"
if grep -q '^PROBLEM' "$OUT/table.md"; then FAILURES=$((FAILURES + 1)); fi
echo "results: $RESULTS" >&2
((FAILURES == 0))
