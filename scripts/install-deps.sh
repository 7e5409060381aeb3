#!/usr/bin/env bash
# Install the system packages rzk's compatibility tests need (Debian 12):
#   zookeeper      Apache ZooKeeper 3.8 (reference server, zkCli.sh, jars)
#   zookeeper-bin  the C client tools (cli_mt, load_gen)
#   python3        the test harness (driver, normaliser, port/4lw helpers)
# Idempotent: does nothing (not even apt-get update) when all are installed.
set -euo pipefail

PKGS=(zookeeper zookeeper-bin python3)
PKGS+=(libcurator-framework-java libcurator-recipes-java libcurator-client-java libcurator-discovery-java junit5 openjdk-17-jdk-headless) # compat-tests/curator
PKGS+=(libcurator-test-java) # compat-tests/curator-test-dropin (curator-test 5.4.0: TestingServer)
PKGS+=(libjetty9-java libservlet-api-java) # compat-tests/admin: Java's Jetty AdminServer (servlet-api.jar is not on zkServer.sh's classpath)

missing=()
for pkg in "${PKGS[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
    echo "install-deps: all present (${PKGS[*]})"
    exit 0
fi

SUDO=()
if ((EUID != 0)); then
    command -v sudo >/dev/null || {
        echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
        exit 1
    }
    SUDO=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold "${missing[@]}"

# The harness runs these paths directly; fail loudly if the layout differs.
for f in /usr/share/zookeeper/bin/zkCli.sh /usr/share/java/zookeeper.jar \
    /usr/share/java/slf4j-simple.jar; do
    [[ -e $f ]] || {
        echo "install-deps: expected $f after install" >&2
        exit 1
    }
done
echo "install-deps: done"
