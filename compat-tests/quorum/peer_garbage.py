#!/usr/bin/env python3
"""Strangers and bad input on a server's peer ports.

    peer_garbage.py <host> <quorum_port> <election_port> <wait_s>

Opens one connection per case at once, sends that case's bytes, and waits
(up to wait_s) for the server to close it. Prints one line per case:
"CASE <name> closed <seconds>" or "CASE <name> open" (still open at the
deadline), then "DONE". Every case is sent to both kinds of server alike;
what the server must do with each is the caller's to check.
"""
import socket
import struct
import sys
import threading
import time


def packet(type_, zxid, data):
    """A QuorumPacket as jute writes it: type, zxid, data, authinfo (none)."""
    out = struct.pack(">iq", type_, zxid)
    if data is None:
        out += struct.pack(">i", -1)
    else:
        out += struct.pack(">i", len(data)) + data
    return out + struct.pack(">i", -1)


FOLLOWERINFO = 11
# LearnerInfo: sid, protocol version 0x10000, config version.
unknown_sid = packet(FOLLOWERINFO, 0, struct.pack(">qiq", 99, 0x10000, 0))
# A data length of 100 MB: must be refused before anything is allocated.
oversized = struct.pack(">iqi", FOLLOWERINFO, 0, 100 << 20) + b"x" * 1024
# Half a FOLLOWERINFO, then our side closes.
truncated = unknown_sid[:10]


def election_header(version, sid, addr):
    a = addr.encode()
    body = struct.pack(">qi", sid, len(a)) + a
    return struct.pack(">q", version) + body


CASES = {
    # (port kind, bytes, close our sending side after)
    "quorum-garbage": ("q", b"\xde\xad\xbe\xef" * 8, False),
    "quorum-oversized": ("q", oversized, False),
    "quorum-truncated": ("q", truncated, True),
    "quorum-unknown-sid": ("q", unknown_sid, False),
    "quorum-silent": ("q", b"", False),
    "election-bad-version": ("e", struct.pack(">q", -123) + b"\x00" * 20, False),
    # Protocol version -65535 (V1) with a sid outside the config.
    "election-unknown-sid": ("e", election_header(-65535, 99, "127.0.0.1:1"), False),
}


def run(name, host, port, data, shut, deadline, results):
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect((host, port))
    except OSError as e:
        results[name] = f"connect-failed {e}"
        return
    t0 = time.monotonic()
    try:
        if data:
            s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
    except OSError:
        results[name] = f"closed {time.monotonic() - t0:.1f}"
        return
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            results[name] = "open"
            break
        s.settimeout(min(left, 1.0))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            chunk = b""
        if not chunk:
            results[name] = f"closed {time.monotonic() - t0:.1f}"
            break
        # Whatever the server says (a LEADERINFO, a notification), keep
        # waiting for it to close.
    s.close()


def main():
    host, qport, eport, wait_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    deadline = time.monotonic() + wait_s
    results = {}
    threads = []
    for name, (kind, data, shut) in CASES.items():
        port = qport if kind == "q" else eport
        t = threading.Thread(target=run, args=(name, host, port, data, shut, deadline, results))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    for name in CASES:
        print(f"CASE {name} {results.get(name, 'missing')}")
    print("DONE")


if __name__ == "__main__":
    main()
