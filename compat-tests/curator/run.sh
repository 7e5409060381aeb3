#!/usr/bin/env bash
# Apache Curator 5.4.0 recipes (Debian's jars) against Apache ZooKeeper 3.8
# (reference: proves each test right) and against rzk, each on a fresh server.
#
#   compat-tests/curator/run.sh                 # Java, then rzk (RZK_BIN or target/release/rzk)
#   TARGET=java compat-tests/curator/run.sh     # the reference only
#   RZK_PERSISTENCE=0 compat-tests/curator/run.sh
#       # for an rzk without persistence: failures of the tests tagged
#       # needs-persistence are then reported as expected, not failed
#       # (default 1: rzk persists since a3b83ab, so they must pass)
#   CURATOR_TESTS='LockTests*' ...              # only these classes (glob on simple names)
#   CURATOR_LOG_LEVEL=debug ...                 # Curator's own logging in <kind>-*/client.log
#
# Builds src/ with javac into compat-tests/out/curator/classes, then runs the
# JUnit 5 console launcher twice per server: every test not tagged
# needs-persistence, then the tagged ones.  Per-test lines, then a last line
# `PASS curator: ...` or `FAIL curator: ...` (exit 1).
# Outputs (git-ignored) in compat-tests/out/curator/: <kind>-{main,persistence}/
# (console.txt, client.log, TEST-*.xml) and servers/<kind>.XXXX/ (zoo.cfg,
# data/, server.log[.N] — .N are the logs from before a restart).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPAT="$(dirname "$HERE")"
TARGET=${TARGET:-rzk}
RZK_PERSISTENCE=${RZK_PERSISTENCE:-1}
OUT=${CURATOR_OUT:-$COMPAT/out/curator}
SUITE_TIMEOUT=${CURATOR_SUITE_TIMEOUT:-900}
# The container/TTL reaper runs every 60 s by default; the PersistentTtlNode
# and container tests need it to run often.  servers.sh hands SERVER_JVMFLAGS
# to both servers (as zkServer.sh does); server-ctl.sh inherits it.
export SERVER_JVMFLAGS="${SERVER_JVMFLAGS:+$SERVER_JVMFLAGS }-Dznode.container.checkIntervalMs=500"

case $TARGET in java | rzk) ;; *)
    echo "run.sh: TARGET must be java or rzk, got '$TARGET'" >&2
    exit 2
    ;;
esac

J=/usr/share/java
LAUNCHER=$J/junit-platform-console-standalone.jar
# Manifests of these jars pull in guava, jackson, slf4j-api, zookeeper, jute.
CP=$J/curator-client.jar:$J/curator-framework.jar:$J/curator-recipes.jar:$J/curator-x-discovery.jar
CP=$CP:$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-simple.jar
for f in "$LAUNCHER" ${CP//:/ }; do
    [[ -r $f ]] || {
        echo "FAIL curator: $f missing (run scripts/install-deps.sh)"
        exit 2
    }
done
for tool in java javac python3 flock timeout; do
    command -v "$tool" >/dev/null || {
        echo "FAIL curator: $tool not found (run scripts/install-deps.sh)"
        exit 2
    }
done

mkdir -p "$(dirname "$OUT")"
exec 9>"$OUT.lock"
flock -w 900 9 || {
    echo "FAIL curator: another run still holds $OUT.lock after 900s"
    exit 2
}
rm -rf "$OUT"
mkdir -p "$OUT/classes"
export SERVERS_WORKDIR="$OUT/servers"

# Servers relaunched by server-ctl.sh are not children of this shell: stop
# whatever the current.pid files name (servers.sh chains its own trap on).
_curator_cleanup() {
    local f pid
    for f in "$SERVERS_WORKDIR"/*/current.pid; do
        [[ -e $f ]] || continue
        pid=$(cat "$f")
        if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for ((i = 0; i < 100; i++)); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
}
trap _curator_cleanup EXIT
# shellcheck source=../lib/servers.sh
source "$COMPAT/lib/servers.sh"
export RZK_BIN ZK_JAVA_CP SERVER_START_TIMEOUT
if [[ $TARGET == rzk && ! -x $RZK_BIN ]]; then
    echo "FAIL curator: rzk binary not found at $RZK_BIN (cargo build --release, or set RZK_BIN)"
    exit 2
fi

start=$SECONDS
mapfile -t sources < <(find "$HERE/src" -name '*.java' | sort)
if ! javac -nowarn -encoding UTF-8 --release 17 -d "$OUT/classes" -cp "$CP:$LAUNCHER" "${sources[@]}" \
    >"$OUT/javac.log" 2>&1; then
    cat "$OUT/javac.log"
    echo "FAIL curator: the tests do not compile"
    exit 1
fi
echo "curator: compiled ${#sources[@]} files in $((SECONDS - start))s"

select_args=(--scan-class-path "$OUT/classes")
if [[ -n ${CURATOR_TESTS:-} ]]; then
    select_args+=(--include-classname ".*\\.(${CURATOR_TESTS//\*/.*})")
fi

# run_suite label tag-args... : one launcher run; sets counts=(passed failed skipped)
run_suite() {
    local label=$1 dir=$OUT/$1 rc=0 t0=$SECONDS
    shift
    mkdir -p "$dir"
    # 9>&-: neither the JVM nor servers it restarts may hold our lock.
    timeout -k 10 "$SUITE_TIMEOUT" java -Xmx768m \
        -Dzk.connect="$SERVER_ADDR" \
        -Dorg.slf4j.simpleLogger.logFile="$dir/client.log" \
        -Dorg.slf4j.simpleLogger.showDateTime=true \
        -Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS \
        -Dorg.slf4j.simpleLogger.showThreadName=true \
        -Dorg.slf4j.simpleLogger.log.org.apache.curator="${CURATOR_LOG_LEVEL:-info}" \
        -jar "$LAUNCHER" --disable-banner --details=tree --details-theme=ascii --disable-ansi-colors \
        --class-path "$OUT/classes:$CP" "${select_args[@]}" "$@" \
        --config junit.jupiter.execution.timeout.default=120s \
        --reports-dir "$dir" >"$dir/console.txt" 2>&1 9>&- </dev/null || rc=$?
    if ((rc == 124 || rc == 137)); then
        echo "curator: $label: launcher killed after ${SUITE_TIMEOUT}s"
    fi
    local line
    while IFS= read -r line; do
        if [[ $line == counts\ * ]]; then
            read -r -a counts <<<"${line#counts }"
        else
            echo "$line"
        fi
    done < <(python3 "$HERE/report.py" "curator: $label" "$dir")
    echo "curator: $label: ${counts[0]} passed, ${counts[1]} failed, ${counts[2]} skipped in $((SECONDS - t0))s ($dir/console.txt)"
}

verdicts=()
failed_any=0

# run_target kind
run_target() {
    local kind=$1 t0=$SECONDS main_counts pers_counts
    start_server "$kind" 9>&- || {
        echo "FAIL curator: could not start $kind server"
        exit 1
    }
    echo "$SERVER_PID" >"$SERVER_DIR/current.pid"
    export CURATOR_SERVER_CTL="$HERE/server-ctl.sh"
    echo "curator: $kind server pid $SERVER_PID on $SERVER_ADDR ($SERVER_DIR)"

    run_suite "$kind-main" --exclude-tag needs-persistence
    main_counts=("${counts[@]}")
    run_suite "$kind-persistence" --include-tag needs-persistence
    pers_counts=("${counts[@]}")

    stop_server "$(cat "$SERVER_DIR/current.pid")"
    stop_server "$SERVER_PID"
    echo "curator: $kind: done in $((SECONDS - t0))s"

    local total=$((main_counts[0] + main_counts[1] + pers_counts[0] + pers_counts[1]))
    if ((main_counts[1] > 0)); then
        failed_any=1
        verdicts+=("$kind ${main_counts[1]} of $((main_counts[0] + main_counts[1])) failed")
    elif ((main_counts[0] == 0)); then
        failed_any=1
        verdicts+=("$kind ran no test")
    fi
    if ((pers_counts[1] > 0)); then
        if [[ $kind == rzk && $RZK_PERSISTENCE == 0 ]]; then
            verdicts+=("$kind ${pers_counts[1]} expected failure(s) [needs-persistence, RZK_PERSISTENCE=0]")
        else
            failed_any=1
            verdicts+=("$kind ${pers_counts[1]} needs-persistence test(s) failed")
        fi
    elif [[ $kind == rzk && $RZK_PERSISTENCE == 0 && ${pers_counts[0]} -gt 0 ]]; then
        verdicts+=("$kind needs-persistence passed unexpectedly: run with RZK_PERSISTENCE=1")
    fi
    if ((main_counts[1] == 0 && pers_counts[1] == 0)); then
        verdicts+=("$kind $((main_counts[0] + pers_counts[0]))/$total passed")
    elif ((main_counts[1] == 0)); then
        verdicts+=("$kind ${main_counts[0]}/$((main_counts[0] + main_counts[1])) untagged passed")
    fi
    if [[ $kind == java ]] && ((main_counts[1] + pers_counts[1] > 0)); then
        echo "curator: tests failing on the Java reference are broken tests"
    fi
}

run_target java
if [[ $TARGET == rzk ]]; then
    run_target rzk
fi

summary=""
for v in "${verdicts[@]}"; do
    summary+="${summary:+; }$v"
done
summary+=" ($((SECONDS - start))s)"
if ((failed_any)); then
    echo "FAIL curator: $summary"
    exit 1
fi
echo "PASS curator: $summary"
