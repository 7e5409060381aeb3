#!/usr/bin/env bash
# Jute golden bytes: proves that src/jute/golden.txt is what Apache
# ZooKeeper's own Java classes write.
#
#   compat-tests/jute-golden/run.sh            # regenerate with Java and diff
#   compat-tests/jute-golden/run.sh --update   # regenerate and overwrite golden.txt
#
# Compiles GenGolden.java (javac, into a temporary directory) against Debian's
# zookeeper jars (override with ZK_JARS, a classpath), runs it, writes its
# output to compat-tests/out/jute-golden/java.txt and diffs that against
# src/jute/golden.txt. Exit status 0 and "PASS jute-golden: ..." when they are
# identical; 1 and "FAIL jute-golden: ..." plus the diff otherwise; 2 when
# Java or the jars are missing (run scripts/install-deps.sh).
#
# The Rust half (rzk's encoding equals these bytes) is `cargo test --lib jute`.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
GOLDEN="$ROOT/src/jute/golden.txt"
OUT=${JUTE_GOLDEN_OUT:-$ROOT/compat-tests/out/jute-golden}
JARS=/usr/share/java
ZK_JARS=${ZK_JARS:-$JARS/zookeeper-jute.jar:$JARS/zookeeper.jar:$JARS/slf4j-api.jar}

update=0
case ${1:-} in
"") ;;
--update) update=1 ;;
*)
    echo "usage: $0 [--update]" >&2
    exit 2
    ;;
esac

for tool in java javac; do
    command -v "$tool" >/dev/null || {
        echo "FAIL jute-golden: $tool not found (run scripts/install-deps.sh)"
        exit 2
    }
done
IFS=: read -r -a jars <<<"$ZK_JARS"
for jar in "${jars[@]}"; do
    [[ -f $jar ]] || {
        echo "FAIL jute-golden: $jar not found (run scripts/install-deps.sh)"
        exit 2
    }
done

classes="$(mktemp -d "${TMPDIR:-/tmp}/jute-golden.XXXXXX")"
trap 'rm -rf "$classes"' EXIT

javac -nowarn -encoding UTF-8 -d "$classes" -cp "$ZK_JARS" "$HERE/GenGolden.java"
mkdir -p "$OUT"
# zookeeper.jar's classes pull in slf4j, which complains (on stderr) that no
# binding is present; that is harmless, so drop just those lines.
java -Dfile.encoding=UTF-8 -cp "$classes:$ZK_JARS" GenGolden >"$OUT/java.txt" 2>"$OUT/java.stderr" || {
    cat "$OUT/java.stderr" >&2
    echo "FAIL jute-golden: GenGolden failed"
    exit 1
}
grep -v '^SLF4J: ' "$OUT/java.stderr" >&2 || true

cases=$(wc -l <"$OUT/java.txt")
if ((update)); then
    cp "$OUT/java.txt" "$GOLDEN"
    echo "UPDATED jute-golden: $cases cases written to ${GOLDEN#"$ROOT"/}"
    exit 0
fi

if diff -u "$GOLDEN" "$OUT/java.txt" >"$OUT/diff.txt"; then
    echo "PASS jute-golden: $cases cases, src/jute/golden.txt is Java's encoding"
else
    cat "$OUT/diff.txt"
    echo "FAIL jute-golden: Java's output differs from src/jute/golden.txt (diff in ${OUT#"$ROOT"/}/diff.txt)"
    exit 1
fi
