#!/usr/bin/env python3
"""Fetches every AdminServer command (and some aliases and HTTP edge cases)
from one server into a directory, for compare.py.

  fetch.py ADMIN_PORT OUT_DIR
"""
import http.client
import json
import os
import re
import socket
import sys

port, out = int(sys.argv[1]), sys.argv[2]
os.makedirs(out, exist_ok=True)


def get(path, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path)
    r = c.getresponse()
    body = r.read().decode("utf-8", "replace")
    c.close()
    return r.status, r.getheader("Content-Type"), body


def save(name, body):
    json.loads(body)  # must be JSON
    with open(os.path.join(out, name + ".json"), "w") as f:
        f.write(body)


status, _, listing = get("/commands")
assert status == 200, status
names = re.findall(r'<a href="/commands/([a-z_]+)">', listing)
checks = {"listing": listing, "listing_slash": get("/commands/")[2]}
for n in names:
    status, ctype, body = get("/commands/" + n)
    assert status == 200 and ctype == "application/json", (n, status, ctype)
    save(n, body)
# Aliases answer as their command; arguments come from the query.
for alias, primary in [("stat", "stats"), ("mntr", "monitor"), ("conf", "configuration"),
                       ("wchs", "watch_summary"), ("isro", "is_read_only"), ("cons", "connections"),
                       ("envi", "environment"), ("lead", "leader")]:
    save(f"{primary}.via_{alias}", get("/commands/" + alias)[2])
save("set_trace_mask.bad_arg", get("/commands/set_trace_mask?traceMask=abc")[2])
save("set_trace_mask.arg", get("/commands/set_trace_mask?traceMask=5&traceMask=6")[2])
save("get_trace_mask.after_set", get("/commands/gtmk")[2])
save("unknown.nosuch", get("/commands/nosuch")[2])
checks["unknown_status"] = get("/commands/nosuch")[0]
checks["nested_unknown"] = get("/commands/stat/extra")[2]
checks["other_path"] = get("/foo")[0]
checks["root"] = get("/")[0]
checks["post"] = get("/commands/ruok", "POST")[0]
checks["trace"] = get("/commands/ruok", "TRACE")[0]
checks["head"] = get("/commands/ruok", "HEAD")[0]
# Abuse: an oversized URL and garbage must be refused without harm.
try:
    s = get("/commands/" + "x" * 20000)[0]
    checks["huge_url_refused"] = s >= 400
except (OSError, http.client.HTTPException):
    checks["huge_url_refused"] = True
for junk in (b"\x00\xff garbage\r\n\r\n", b"GET /commands/ruok HTTP/9.9\r\n\r\n", b"x" * 100000):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(junk)
        s.shutdown(socket.SHUT_WR)
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()
checks["ruok_after_abuse"] = get("/commands/ruok")[0]
with open(os.path.join(out, "http.txt"), "w") as f:
    json.dump(checks, f, indent=1, sort_keys=True)
print(f"fetch: {len(names)} commands from port {port}")
