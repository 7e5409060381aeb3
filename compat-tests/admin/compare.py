#!/usr/bin/env python3
"""Compares the AdminServer answers of Java and rzk fetched by run.sh.

  compare.py JAVA_DIR RZK_DIR

Each directory holds <command>.json (one per command) and meta.json (the
server's ports and dirs, for masking). Every response must have the same
keys and JSON types recursively; values are compared exactly except where
they must differ (times, ids, ports, paths, sizes, counts that depend on
timing), listed in MASK below. Exits 1 on any difference."""
import json
import os
import sys

# Values that must differ between two servers; paths are JSON keys joined
# by "/", "*" matches any key (or list index).
MASK = {
    "configuration": ["client_port", "data_dir", "data_log_dir"],
    "connections": ["connections/*/remote_socket_address", "connections/*/packets_received",
                    "connections/*/packets_sent", "connections/*/session_id",
                    "connections/*/established", "connections/*/last_response_time",
                    "connections/*/last_latency", "connections/*/min_latency",
                    "connections/*/avg_latency", "connections/*/max_latency",
                    "connections/*/last_cxid", "connections/*/last_zxid",
                    "connections/*/last_operation"],
    "dirs": ["datadir_size", "logdir_size"],
    "dump": ["expiry_time_to_session_ids/*"],
    "environment": ["*"],
    "last_snapshot": ["timestamp", "zxid"],
    "monitor": ["*"],
    "server_stats": ["version", "server_stats/*", "client_response/*"],
    "stats": ["version", "server_stats/*", "client_response/*",
              "connections/*/remote_socket_address", "connections/*/packets_received",
              "connections/*/packets_sent"],
    "system_properties": ["*"],
    "initial_configuration": [],
    "zabstate": ["quorum_address/*", "election_address/*", "client_address",
                 "last_zxid", "zab_epoch", "zab_counter"],
    "watches_by_path": ["path_to_session_ids/*/*"],
    "voting_view": ["current_config/*/server_addresses", "current_config/*/election_addresses",
                    "current_config/*/client_address"],
}
# Maps whose keys are session ids or times: compared by their values, in
# key order.
ID_KEYED = {"dump": ["expiry_time_to_session_ids", "session_id_to_ephemeral_paths"],
            "watches": ["session_id_to_watched_paths"]}
# Answers that must be the same bytes (Jackson's layout included).
BYTE_EXACT = {"ruok", "is_read_only", "watch_summary", "hash", "unknown", "get_trace_mask",
              "set_trace_mask", "observers", "leader", "connection_stat_reset",
              "stat_reset", "observer_connection_stat_reset"}
# Monitor values that must agree after the same operations.
MONITOR_EXACT = ["server_state", "znode_count", "ephemerals_count", "global_sessions",
                 "watch_count", "num_alive_connections", "outstanding_requests"]


def jtype(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if v is None:
        return "null"
    return type(v).__name__


def masked(path, masks):
    for m in masks:
        mp = m.split("/")
        if len(mp) <= len(path) and all(a == "*" or a == b for a, b in zip(mp, path)):
            return True
    return False


def compare(a, b, path, masks, errs, cmd):
    where = cmd + ":" + "/".join(path)
    if jtype(a) != jtype(b):
        # A null in one and a value in the other is a type difference too.
        errs.append(f"{where}: type {jtype(a)} (java) vs {jtype(b)} (rzk)")
        return
    if isinstance(a, dict):
        # Jackson orders a bean's getters (ServerStats, MultipleAddresses) as
        # the JVM's reflection lists them: not stable, not compared.
        if list(a) != list(b) and set(a) == set(b) and cmd.split(".")[0] not in ("server_stats", "stats", "zabstate"):
            errs.append(f"{where}: key order {list(a)} (java) vs {list(b)} (rzk)")
        for k in sorted(set(a) | set(b)):
            if k not in b:
                errs.append(f"{where}: key {k!r} only in java")
            elif k not in a:
                errs.append(f"{where}: key {k!r} only in rzk")
            else:
                compare(a[k], b[k], path + [k], masks, errs, cmd)
    elif isinstance(a, list):
        if len(a) != len(b):
            errs.append(f"{where}: {len(a)} items (java) vs {len(b)} (rzk)")
            return
        for i, (x, y) in enumerate(zip(a, b)):
            compare(x, y, path + [str(i)], masks, errs, cmd)
    elif a != b and not masked(path, masks):
        errs.append(f"{where}: {a!r} (java) vs {b!r} (rzk)")


def load(d, name):
    with open(os.path.join(d, name + ".json")) as f:
        return json.load(f)


def main():
    jdir, rdir = sys.argv[1], sys.argv[2]
    jmeta, rmeta = load(jdir, "meta"), load(rdir, "meta")
    names = sorted(n[:-5] for n in os.listdir(jdir) if n.endswith(".json") and n != "meta.json")
    errs = []
    for cmd in names:
        if not os.path.exists(os.path.join(rdir, cmd + ".json")):
            errs.append(f"{cmd}: no rzk answer")
            continue
        a, b = load(jdir, cmd), load(rdir, cmd)
        base = cmd.split(".")[0]
        if base in BYTE_EXACT:
            raw = [open(os.path.join(d, cmd + ".json"), "rb").read() for d in (jdir, rdir)]
            if raw[0] != raw[1]:
                errs.append(f"{cmd}: bytes {raw[0]!r} (java) vs {raw[1]!r} (rzk)")
        for key in ID_KEYED.get(base, []):
            # Session ids and expiry times differ: keep the values, in order.
            for m in (a, b):
                if isinstance(m.get(key), dict):
                    m[key] = list(m[key].values())
        if base == "initial_configuration":
            for m, meta in ((a, jmeta), (b, rmeta)):
                m["initial_configuration"] = (m["initial_configuration"]
                                              .replace(meta["dir"], "DIR")
                                              .replace(str(meta["client_port"]), "CPORT")
                                              .replace(str(meta["admin_port"]), "APORT"))
        if base == "configuration":
            for m, meta in ((a, jmeta), (b, rmeta)):
                if m.get("client_port") != meta["client_port"]:
                    errs.append(f"{cmd}: client_port {m.get('client_port')} is not {meta['client_port']}")
                for k in ("data_dir", "data_log_dir"):
                    if m.get(k) != meta["dir"] + "/data/version-2":
                        errs.append(f"{cmd}: {k} {m.get(k)} is not <dataDir>/version-2")
        if base == "monitor":
            # Known gap: rzk's mntr (4lw and JSON alike) has no per-namespace
            # read/write summaries yet.
            for m in (a, b):
                for k in [k for k in m if k.endswith("_per_namespace")]:
                    del m[k]
            for k in MONITOR_EXACT:
                if k in a and a.get(k) != b.get(k):
                    errs.append(f"{cmd}: {k} {a.get(k)!r} (java) vs {b.get(k)!r} (rzk)")
        if base == "system_properties":
            za = {k: v for k, v in a.items() if k.startswith("zookeeper.") and k != "zookeeper.admin.serverPort"}
            zb = {k: v for k, v in b.items() if k.startswith("zookeeper.") and k != "zookeeper.admin.serverPort"}
            if za != zb:
                errs.append(f"{cmd}: zookeeper.* properties {za} (java) vs {zb} (rzk)")
            # The JVM's own properties: only the shared ones are compared.
            a = {k: v for k, v in a.items() if k in b or k in ("command", "error")}
            b = {k: v for k, v in b.items() if k in a}
        compare(a, b, [], MASK.get(base, []), errs, cmd)
    for e in errs:
        print("DIFF " + e)
    print(f"compare: {len(names)} responses, {len(errs)} differences")
    sys.exit(1 if errs else 0)


main()
