#!/usr/bin/env bash
# zkCli.sh conformance: run session.txt through zkCli 3.8 against Apache
# ZooKeeper 3.8 (reference) and against TARGET (rzk by default; TARGET=java
# runs the reference twice to prove the test itself is deterministic), then
# diff the normalised transcripts.
#
#   compat-tests/zkcli/run.sh            # Java vs rzk (RZK_BIN or target/release/rzk)
#   TARGET=java compat-tests/zkcli/run.sh
#
# Outputs land in compat-tests/out/zkcli/: reference.{raw,txt},
# target.{raw,txt}, diff.txt and servers/ (zoo.cfg, data, server.log).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPAT="$(dirname "$HERE")"
TARGET=${TARGET:-rzk}
OUT=${ZKCLI_OUT:-$COMPAT/out/zkcli}
SCRIPT=${ZKCLI_SCRIPT:-$HERE/session.txt}
ZKCLI=${ZKCLI:-/usr/share/zookeeper/bin/zkCli.sh}

case $TARGET in java | rzk) ;; *)
    echo "run.sh: TARGET must be java or rzk, got '$TARGET'" >&2
    exit 2
    ;;
esac
for tool in java python3; do
    command -v "$tool" >/dev/null || {
        echo "FAIL zkcli: $tool not found (run scripts/install-deps.sh)"
        exit 2
    }
done
[[ -x $ZKCLI ]] || {
    echo "FAIL zkcli: $ZKCLI not found (run scripts/install-deps.sh)"
    exit 2
}

# Concurrent runs would wipe each other's output dir: take turns.
mkdir -p "$(dirname "$OUT")"
exec 9>"$OUT.lock"
flock -w 600 9 || {
    echo "FAIL zkcli: another run still holds $OUT.lock after 600s"
    exit 2
}
rm -rf "$OUT"
mkdir -p "$OUT"
export SERVERS_WORKDIR="$OUT/servers"
# shellcheck source=../lib/servers.sh
source "$COMPAT/lib/servers.sh"
if [[ $TARGET == rzk && ! -x $RZK_BIN ]]; then
    echo "FAIL zkcli: rzk binary not found at $RZK_BIN (cargo build --release, or set RZK_BIN)"
    exit 2
fi

# One server, one pass of the session; servers run one after the other so
# the two passes do not compete for the CPU.
run_pass() { # kind label
    local kind=$1 label=$2 t0=$SECONDS rc=0
    # 9>&-: the server must not inherit (and outlive us holding) the lock
    start_server "$kind" 9>&- || {
        echo "FAIL zkcli: could not start $kind server"
        exit 1
    }
    echo "zkcli: $label: $kind server pid $SERVER_PID on $SERVER_ADDR ($SERVER_DIR)"
    python3 "$HERE/driver.py" --server "$SERVER_ADDR" --script "$SCRIPT" \
        --zkcli "$ZKCLI" --out "$OUT/$label.raw" || rc=$?
    stop_server "$SERVER_PID"
    python3 "$HERE/normalize.py" "$OUT/$label.raw" >"$OUT/$label.txt"
    echo "zkcli: $label: done in $((SECONDS - t0))s"
    if ((rc != 0)); then
        echo "FAIL zkcli: driver failed on $label (exit $rc), see $OUT/$label.raw"
        exit 1
    fi
}

start=$SECONDS
run_pass java reference
# Anything flagged on the reference run means the session script or the
# harness is wrong, not the server under test.
if grep -n '^!!|' "$OUT/reference.raw" >&2; then
    echo "FAIL zkcli: harness problems on the Java reference run (lines above)"
    exit 1
fi
run_pass "$TARGET" target

if diff -u --label "reference (java)" --label "target ($TARGET)" \
    "$OUT/reference.txt" "$OUT/target.txt" >"$OUT/diff.txt"; then
    steps=$(grep -c '^=== ' "$OUT/reference.txt")
    echo "PASS zkcli: $TARGET matches Java ZooKeeper 3.8 on $steps zkCli steps ($((SECONDS - start))s)"
    exit 0
fi
cat "$OUT/diff.txt"
echo "FAIL zkcli: $TARGET differs from Java ZooKeeper 3.8 ($(grep -c '^[-+][^-+]' "$OUT/diff.txt") lines differ; $OUT/diff.txt)"
exit 1
