#!/usr/bin/env python3
"""Normalise a raw driver.py transcript so that two servers fed the same
session can be diffed.  Masks only what legitimately differs between runs:

  - wall-clock dates (ctime/mtime)      -> <TIME>   (the epoch, which a fresh
    server shows for / and /zookeeper, is kept: it is not a clock reading)
  - session ids (ephemeralOwner, any other 0x + 12+ hex digits)
                                        -> <SESSION-n>, numbered by first
    appearance, so "same owner" / "different owner" is still compared
  - the server's port                   -> <PORT>
  - SLF4J "no binding" warnings zkCli prints at start-up
  - the order of getEphemerals' list and of whoami's identities: Java
    returns both in hash-set order, and neither API promises an order

zxids, versions, data lengths, children counts, error texts, stdout/stderr
placement and watch events are kept as they are.

usage: normalize.py RAW > NORMALISED
"""

import re
import sys

DATE_RE = re.compile(
    r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"[ 0-9]\d \d\d:\d\d:\d\d [A-Z]{2,5} \d{4}\b")
EPOCH = "Thu Jan 01 00:00:00 UTC 1970"
OWNER_RE = re.compile(r"^(out\| ephemeralOwner = )(0x[0-9a-f]+)$")
LONG_HEX_RE = re.compile(r"\b0x[0-9a-f]{12,}\b")
PORT_RE = re.compile(r"\b(127\.0\.0\.1|localhost):\d+\b")

sessions = {}


def session_label(hexid):
    if hexid not in sessions:
        sessions[hexid] = "<SESSION-%d>" % (len(sessions) + 1)
    return sessions[hexid]


def mask(line):
    line = DATE_RE.sub(lambda m: m.group(0) if m.group(0) == EPOCH else "<TIME>", line)
    m = OWNER_RE.match(line)
    if m and int(m.group(2), 16) != 0:
        line = m.group(1) + session_label(m.group(2))
    line = LONG_HEX_RE.sub(lambda m: session_label(m.group(0)), line)
    return PORT_RE.sub(r"\1:<PORT>", line)


def flush(header, body):
    if header is not None:
        print(header)
    # Hash-ordered lists (getEphemerals, whoami, ls) are compared as they
    # come: rzk reproduces Java's HashSet order.
    for line in body:
        print(line)


def main():
    header, body = None, []
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("=== "):
                flush(header, body)
                header, body = line, []
                continue
            if line.startswith("err| SLF4J: "):
                continue
            body.append(mask(line))
    flush(header, body)


if __name__ == "__main__":
    main()
