#!/usr/bin/env bash
# Runs every test rzk has, installing what they need first (Debian packages
# via scripts/install-deps.sh). The last line sums up: "suites: N passed, M failed".
#
#   scripts/test.sh                 # everything
#   DIFF_OPS=20000 DIFF_SEEDS="1 2 3 4" scripts/test.sh   # a longer differential run
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DIFF_OPS=${DIFF_OPS:-3000}
DIFF_SEEDS=${DIFF_SEEDS:-"1 2 3"}

scripts/install-deps.sh || { echo "suites: 0 passed, 1 failed"; exit 1; }

passed=0
failed=0
failures=()
suite() { # name command...
    local name=$1 t0=$SECONDS
    shift
    echo "=== $name"
    if "$@"; then
        passed=$((passed + 1))
        echo "=== $name: ok ($((SECONDS - t0))s)"
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "=== $name: FAILED ($((SECONDS - t0))s)"
    fi
}

differential() {
    local seed
    for seed in $DIFF_SEEDS; do
        DIFF_SEED=$seed DIFF_OPS=$DIFF_OPS cargo test --release --test differential -- --ignored || return 1
    done
}

suite format cargo fmt --check
suite clippy cargo clippy --all-targets --release -- -D warnings
suite cargo-test cargo test --release
suite election-java cargo test --release --test election_java -- --ignored --test-threads=1
suite build cargo build --release
suite differential differential
suite zkcli env RZK_BIN="$PWD/target/release/rzk" compat-tests/zkcli/run.sh
suite persistence env RZK_BIN="$PWD/target/release/rzk" compat-tests/persistence/run.sh
suite admin env RZK_BIN="$PWD/target/release/rzk" ADMIN_QUORUM=1 compat-tests/admin/run.sh
suite curator env RZK_BIN="$PWD/target/release/rzk" compat-tests/curator/run.sh
suite curator-test-dropin env RZK_BIN="$PWD/target/release/rzk" compat-tests/curator-test-dropin/run.sh
# Real 3-node ensembles (compat-tests/quorum): the all-Java reference
# first, then rzk following Java (node 1 loses ties to higher sids), rzk
# leading Java, rzk and Java together, and rzk alone.
quorum() { # kinds
    env RZK_BIN="$PWD/target/release/rzk" QUORUM_OUT="$PWD/compat-tests/out/quorum-${1//,/-}" \
        compat-tests/quorum/run.sh --kinds "$1"
}
for kinds in java,java,java rzk,java,java java,java,rzk rzk,rzk,java rzk,rzk,rzk; do
    suite "quorum-${kinds//,/-}" quorum "$kinds"
done
# 3 participants + 1 observer (node 4), one ensemble per mix: the all-Java
# reference, an rzk observer of a Java leader, a Java observer of an rzk
# leader, all rzk.
quorum_observer() {
    local mix kinds obs ok=0
    for mix in java,java,java+java java,java,java+rzk rzk,rzk,rzk+java rzk,rzk,rzk+rzk; do
        kinds=${mix%+*} obs=${mix#*+}
        env RZK_BIN="$PWD/target/release/rzk" QUORUM_OUT="$PWD/compat-tests/out/quorum-observer-${kinds//,/-}-$obs" \
            compat-tests/quorum/run.sh --kinds "$kinds" --observer "$obs" || ok=1
    done
    return $ok
}
suite quorum-observer quorum_observer
suite bench-smoke scripts/bench.sh --smoke --no-build
suite bench-ensemble-smoke scripts/bench.sh --ensemble --smoke --no-build
if [[ -x compat-tests/jute-golden/run.sh ]]; then
    suite jute-golden compat-tests/jute-golden/run.sh
fi

((failed == 0)) || echo "failed suites: ${failures[*]}"
echo "suites: $passed passed, $failed failed"
((failed == 0))
