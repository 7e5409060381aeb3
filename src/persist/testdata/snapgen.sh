#!/usr/bin/env bash
# Regenerates the Java-written snapshot fixtures in this directory
# (snap-java/snapshot.<zxid>, .gz, .snappy) with the Debian zookeeper 3.8.0
# package. Not run by the tests; the fixtures are committed.
#
#   src/persist/testdata/snapgen.sh
#
# A Java server is started on an empty dataDir, a tree with plain,
# sequential, null-data, non-ASCII, ACL'd, container, TTL, quota'd and
# ephemeral nodes is built with zkCli, and the two sessions owning the
# ephemerals are left open (zkCli exits at end of input without closing its
# session). The server is killed and restarted three times, once per
# zookeeper.snapshot.compression.method, each time without any snapshot:
# every start replays the whole log and writes a snapshot of the same tree,
# with those sessions and the digest of the last transaction.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out="$here/snap-java"
work=$(mktemp -d /tmp/rzk-snapgen.XXXXXX)
trap 'kill -9 $pid 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
pid=

export LANG=C.UTF-8 LC_ALL=C.UTF-8
CP=/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cat >"$work/zoo.cfg" <<EOF
tickTime=2000
dataDir=$work/data
clientPort=$port
clientPortAddress=127.0.0.1
EOF

start() { # $1: compression method ("" for plain)
    java -cp "$CP" -Dfile.encoding=UTF-8 -Dzookeeper.admin.enableServer=false \
        -Dzookeeper.extendedTypesEnabled=true -Dzookeeper.snapshot.trust.empty=true \
        -Dzookeeper.snapshot.compression.method="$1" \
        org.apache.zookeeper.server.ZooKeeperServerMain "$work/zoo.cfg" \
        >>"$work/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && return 0
        sleep 0.2
    done
    echo "server did not start" >&2
    cat "$work/server.log" >&2
    exit 1
}

stop() { kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

cli() { JVMFLAGS=-Dfile.encoding=UTF-8 /usr/share/zookeeper/bin/zkCli.sh -server 127.0.0.1:$port >>"$work/cli.log" 2>&1; }

start ""
cli <<'EOF'
create /app hello
create /app/a first
create /app/b
create -s /app/seq- s
set /app/a second
set /app/a third
setAcl /app/a world:anyone:cdrwa,ip:127.0.0.1:r
create /secure secret digest:alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=:cdrwa
create /ro readonly world:anyone:r
create /multi m world:anyone:r,ip:10.0.0.0/8:cdrwa
create /ünï dätä中
create -c /cont
create /cont/child c
create -t 3600000 /ttl t
create -s -t 3600000 /ttlseq- ts
setquota -n 10 /app
setquota -b 1000 /cont
quit
EOF
# Sessions left open: no "quit", so zkCli exits without closing them.
cli <<'EOF'
create -e /app/eph1 e1
create -e -s /app/ephseq- e2
EOF
cli <<'EOF'
create -e /eph2 e3
EOF
stop

mkdir -p "$out"
rm -f "$out"/snapshot.*
for mode in "" gz snappy; do
    # Without a snapshot the server replays the whole log, so the snapshot
    # it writes at startup carries the digest of the last transaction.
    rm -f "$work/data/version-2"/snapshot.*
    start "$mode"
    for _ in $(seq 50); do
        ls "$work/data/version-2" | grep -v '\.tmp$' | grep -q '^snapshot\.' && break
        sleep 0.2
    done
    sleep 0.5
    stop
    mv "$work/data/version-2"/snapshot.* "$out/"
done
ls -l "$out"
