#!/usr/bin/env bash
# rzk as a drop-in for Apache Curator's curator-test 5.4.0 (TestingServer/TestingCluster).
#
#   compat-tests/curator-test-dropin/run.sh               # build the jar, then the suite three ways
#   TARGET=rzk  compat-tests/curator-test-dropin/run.sh   # only with the drop-in (rzk child processes)
#   TARGET=java compat-tests/curator-test-dropin/run.sh   # only stock curator-test (in-process Java)
#   TARGET=java-child ...                                 # only the drop-in running Java (./java-server)
#   RZK_BIN=/path/to/rzk ...                              # default target/release/rzk
#
# 1. Compiles src/main (org.apache.curator.test.{ZooKeeperServerEmbeddedAdapter,
#    TestingZooKeeperMain, TestingQuorumPeerMain} + RzkChildProcess) against Debian's
#    curator-test and zookeeper jars into compat-tests/out/curator-test-dropin/rzk-curator-test.jar,
#    and checks with javap that the replaced classes keep curator-test's non-private API.
# 2. Compiles src/test (JUnit 5; only the stock TestingServer/TestingCluster API).
# 3. Runs it with the jar AHEAD of curator-test on the classpath (-Ddropin.expect=rzk: the
#    tests check srvr says "rzk" and that the server is a child process), then without the
#    jar (-Ddropin.expect=java: stock in-process server), then with the jar and
#    -Drzk.binary=java-server (-Ddropin.expect=java-child: Java ZooKeeper as the child
#    process, the out-of-process denominator for suites run through the drop-in).  All must pass.
# 4. rzk only: a JVM holding a TestingServer is SIGKILLed; its rzk child must die with it.
# After each JVM, no rzk process may be left: pid files (-Drzk.pidDir) and a /proc scan for
# the JVM's private java.io.tmpdir; leftovers are reported and killed by PID.
# Last line: `PASS curator-test-dropin: ...` or `FAIL curator-test-dropin: ...` (exit 1).
# About 75-120 s.  Outputs (git-ignored) in compat-tests/out/curator-test-dropin/:
# rzk-curator-test.jar, <kind>/{console.txt,client.log,TEST-*.xml,rzk-logs/,tmp/}, hardkill/.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPAT="$(dirname "$HERE")"
REPO="$(dirname "$COMPAT")"
TARGET=${TARGET:-both}
OUT=${DROPIN_OUT:-$COMPAT/out/curator-test-dropin}
SUITE_TIMEOUT=${DROPIN_SUITE_TIMEOUT:-600}
: "${RZK_BIN:=$REPO/target/release/rzk}"
NAME=curator-test-dropin

case $TARGET in both | rzk | java | java-child) ;; *)
    echo "run.sh: TARGET must be both, rzk, java or java-child, got '$TARGET'" >&2
    exit 2
    ;;
esac

J=/usr/share/java
LAUNCHER=$J/junit-platform-console-standalone.jar
# Manifests pull in guava, slf4j-api, zookeeper's own dependencies, junit-jupiter-api.
STOCK=$J/curator-test.jar:$J/curator-client.jar:$J/curator-framework.jar:$J/curator-recipes.jar
STOCK=$STOCK:$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar:$J/slf4j-simple.jar
for f in "$LAUNCHER" ${STOCK//:/ }; do
    [[ -r $f ]] || {
        echo "FAIL $NAME: $f missing (run scripts/install-deps.sh)"
        exit 2
    }
done
for tool in java javac jar javap python3 flock timeout; do
    command -v "$tool" >/dev/null || {
        echo "FAIL $NAME: $tool not found (run scripts/install-deps.sh)"
        exit 2
    }
done
if [[ ($TARGET == both || $TARGET == rzk) && ! -x $RZK_BIN ]]; then
    echo "FAIL $NAME: rzk binary not found at $RZK_BIN (cargo build --release, or set RZK_BIN)"
    exit 2
fi
if [[ $TARGET == both || $TARGET == rzk ]]; then
    RZK_BIN=$(cd "$(dirname "$RZK_BIN")" && pwd)/$(basename "$RZK_BIN")
fi

mkdir -p "$(dirname "$OUT")"
exec 9>"$OUT.lock"
flock -w 900 9 || {
    echo "FAIL $NAME: another run still holds $OUT.lock after 900s"
    exit 2
}
rm -rf "$OUT"
mkdir -p "$OUT/dropin-classes" "$OUT/test-classes"
JAR=$OUT/rzk-curator-test.jar

# Background JVM of the hard-kill check, and anything found by the stray scans.
HOLD_JVM=""
_dropin_cleanup() {
    if [[ -n $HOLD_JVM ]] && kill -0 "$HOLD_JVM" 2>/dev/null; then
        kill -KILL "$HOLD_JVM" 2>/dev/null || true
    fi
    local d
    for d in "$OUT"/rzk "$OUT"/java "$OUT"/java-child "$OUT"/hardkill; do
        [[ -d $d ]] && reap_strays "$d" >/dev/null
    done
    return 0
}
trap _dropin_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# pid_alive PID: running (a zombie, killed but not yet reaped by init, is not).
pid_alive() {
    [[ -r /proc/$1/status ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# reap_strays DIR: server processes a finished JVM left behind (pid files in DIR/pids, or a
# command line naming DIR/tmp/, the JVM's java.io.tmpdir).  Prints and SIGKILLs them by PID.
reap_strays() {
    local dir=$1 f pid cmd found=()
    for f in "$dir"/pids/*.pid; do
        [[ -e $f ]] || continue
        pid=$(head -n 1 "$f")
        [[ $pid =~ ^[0-9]+$ ]] || continue
        cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" || true)
        if [[ -n $cmd && $cmd == *"$(sed -n 2p "$f")"* ]]; then
            found+=("$pid")
        fi
    done
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        cmd=$(tr '\0' ' ' 2>/dev/null <"$f" || true)
        if [[ $cmd == *"$dir/tmp/"* && " ${found[*]} " != *" $pid "* ]]; then
            found+=("$pid")
        fi
    done
    for pid in "${found[@]}"; do
        echo "$pid $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" || true)"
        kill -KILL "$pid" 2>/dev/null || true
    done
}

start=$SECONDS
verdicts=()
failed_any=0
fail() {
    failed_any=1
    verdicts+=("$1")
}

# ---------------------------------------------------------------- 1. the drop-in jar
mapfile -t main_sources < <(find "$HERE/src/main" -name '*.java' | sort)
if ! javac -nowarn -Xlint:-path -encoding UTF-8 --release 11 -d "$OUT/dropin-classes" \
    -cp "$STOCK" "${main_sources[@]}" >"$OUT/javac-dropin.log" 2>&1; then
    cat "$OUT/javac-dropin.log"
    echo "FAIL $NAME: the drop-in does not compile"
    exit 1
fi
printf 'Implementation-Title: rzk curator-test drop-in\nImplementation-Version: for curator-test 5.4.0\n' \
    >"$OUT/manifest.txt"
jar --create --file "$JAR" --manifest "$OUT/manifest.txt" -C "$OUT/dropin-classes" .
echo "$NAME: built $JAR ($(jar tf "$JAR" | grep -c '\.class$') classes)"

# Same non-private members (signatures, throws, modifiers) as curator-test's classes.
api_diffs=0
# shellcheck disable=SC2016 # a literal '$': the nested class
for c in ZooKeeperServerEmbeddedAdapter TestingZooKeeperMain 'TestingZooKeeperMain$TestZooKeeperServer' \
    TestingQuorumPeerMain; do
    if ! diff <(javap -package -cp "$J/curator-test.jar" "org.apache.curator.test.$c" | grep -v '^Compiled from') \
        <(javap -package -cp "$JAR" "org.apache.curator.test.$c" | grep -v '^Compiled from') \
        >"$OUT/api-diff.txt" 2>&1; then
        echo "$NAME: API of org.apache.curator.test.$c differs from curator-test 5.4.0:"
        sed 's/^/    /' "$OUT/api-diff.txt"
        api_diffs=$((api_diffs + 1))
    fi
done
if ((api_diffs)); then
    fail "API differs for $api_diffs class(es)"
else
    echo "$NAME: API of the 4 replaced classes identical to curator-test 5.4.0 (javap -package)"
    verdicts+=("API identical")
fi

# ---------------------------------------------------------------- 2. the tests
mapfile -t test_sources < <(find "$HERE/src/test" -name '*.java' | sort)
if ! javac -nowarn -Xlint:-path -encoding UTF-8 --release 17 -d "$OUT/test-classes" \
    -cp "$STOCK:$LAUNCHER" "${test_sources[@]}" >"$OUT/javac-tests.log" 2>&1; then
    cat "$OUT/javac-tests.log"
    echo "FAIL $NAME: the tests do not compile"
    exit 1
fi

# jvm_flags KIND DIR: system properties for a test JVM.
jvm_flags() {
    local kind=$1 dir=$2
    flags=(-Xmx768m -Djava.io.tmpdir="$dir/tmp" -Ddropin.expect="$kind"
        -Dorg.slf4j.simpleLogger.logFile="$dir/client.log"
        -Dorg.slf4j.simpleLogger.showDateTime=true
        -Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS
        -Dorg.slf4j.simpleLogger.showThreadName=true)
    case $kind in
    rzk) flags+=(-Drzk.binary="$RZK_BIN" -Drzk.logDir="$dir/rzk-logs" -Drzk.pidDir="$dir/pids") ;;
    java-child) flags+=(-Drzk.binary="$HERE/java-server" -Drzk.logDir="$dir/rzk-logs" -Drzk.pidDir="$dir/pids") ;;
    esac
}

# ---------------------------------------------------------------- 3. the suite, per kind
run_suite() { # kind
    local kind=$1 dir=$OUT/$1 rc=0 t0=$SECONDS cp counts=(0 1 0) line strays
    mkdir -p "$dir/tmp"
    cp=$OUT/test-classes
    [[ $kind != java ]] && cp=$cp:$JAR # the drop-in goes AHEAD of curator-test
    cp=$cp:$STOCK
    jvm_flags "$kind" "$dir"
    timeout -k 10 "$SUITE_TIMEOUT" java "${flags[@]}" \
        -jar "$LAUNCHER" --disable-banner --details=tree --details-theme=ascii --disable-ansi-colors \
        --class-path "$cp" --scan-class-path "$OUT/test-classes" \
        --config junit.jupiter.execution.timeout.default=120s \
        --reports-dir "$dir" >"$dir/console.txt" 2>&1 9>&- </dev/null || rc=$?
    if ((rc == 124 || rc == 137)); then
        echo "$NAME: $kind: launcher killed after ${SUITE_TIMEOUT}s"
    fi
    while IFS= read -r line; do
        if [[ $line == counts\ * ]]; then
            read -r -a counts <<<"${line#counts }"
        else
            echo "$line"
        fi
    done < <(python3 "$COMPAT/curator/report.py" "$NAME: $kind" "$dir")
    echo "$NAME: $kind: ${counts[0]} passed, ${counts[1]} failed, ${counts[2]} skipped in $((SECONDS - t0))s ($dir/console.txt)"
    strays=$(reap_strays "$dir")
    if [[ -n $strays ]]; then
        echo "$NAME: $kind: stray processes left by the JVM (killed):"
        echo "    ${strays//$'\n'/$'\n'    }"
        fail "$kind left $(wc -l <<<"$strays") stray process(es)"
    fi
    if ((counts[1] > 0)); then
        fail "$kind ${counts[1]} of $((counts[0] + counts[1])) failed"
    elif ((counts[0] == 0)); then
        fail "$kind ran no test"
    else
        verdicts+=("$kind ${counts[0]}/${counts[0]} passed")
    fi
}

# ---------------------------------------------------------------- 4. SIGKILLed JVM
hard_kill_check() {
    local dir=$OUT/hardkill line child port i
    mkdir -p "$dir/tmp"
    jvm_flags rzk "$dir"
    java "${flags[@]}" -cp "$OUT/test-classes:$JAR:$STOCK:$LAUNCHER" rzk.dropin.HoldServer \
        >"$dir/stdout.txt" 2>"$dir/stderr.txt" 9>&- </dev/null &
    HOLD_JVM=$!
    line=""
    for ((i = 0; i < 600; i++)); do
        line=$(grep -m1 -E '^(HOLD|DEAD) ' "$dir/stdout.txt" 2>/dev/null || true)
        [[ -n $line ]] && break
        kill -0 "$HOLD_JVM" 2>/dev/null || break
        sleep 0.1
    done
    if [[ $line != HOLD\ * ]]; then
        echo "$NAME: hard-kill: no server (${line:-nothing printed}); see $dir/stderr.txt"
        tail -n 5 "$dir/stderr.txt" | sed 's/^/    /'
        fail "hard-kill check could not start a server"
        return
    fi
    read -r _ child port _ <<<"$line"
    if [[ $child == 0 ]]; then
        echo "$NAME: hard-kill: the server is not a child process: $line"
        fail "hard-kill check found no rzk child"
        kill -KILL "$HOLD_JVM" 2>/dev/null || true
        return
    fi
    kill -KILL "$HOLD_JVM"
    wait "$HOLD_JVM" 2>/dev/null || true
    HOLD_JVM=""
    for ((i = 0; i < 50; i++)); do
        pid_alive "$child" || break
        sleep 0.1
    done
    if pid_alive "$child"; then
        echo "$NAME: hard-kill: rzk pid $child outlived its SIGKILLed JVM (killing it)"
        kill -KILL "$child" 2>/dev/null || true
        fail "rzk child survived a SIGKILLed JVM"
    else
        echo "$NAME: hard-kill: rzk pid $child (port $port) died with its SIGKILLed JVM, started from a thread that had ended"
        verdicts+=("rzk child dies with a SIGKILLed JVM")
    fi
    reap_strays "$dir" >/dev/null
}

if [[ $TARGET == both || $TARGET == rzk ]]; then
    echo "$NAME: rzk: drop-in ahead of curator-test, rzk at $RZK_BIN"
    run_suite rzk
    hard_kill_check
fi
if [[ $TARGET == both || $TARGET == java ]]; then
    echo "$NAME: java: stock curator-test (in-process Apache ZooKeeper)"
    run_suite java
fi
if [[ $TARGET == both || $TARGET == java-child ]]; then
    echo "$NAME: java-child: drop-in ahead of curator-test, Apache ZooKeeper as the child ($HERE/java-server)"
    run_suite java-child
fi

summary=""
for v in "${verdicts[@]}"; do
    summary+="${summary:+; }$v"
done
summary+=" ($((SECONDS - start))s)"
if ((failed_any)); then
    echo "FAIL $NAME: $summary"
    exit 1
fi
echo "PASS $NAME: $summary"
