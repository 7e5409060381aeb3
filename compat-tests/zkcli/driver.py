#!/usr/bin/env python3
"""Drive scripted zkCli.sh sessions against one ZooKeeper server and write a
raw transcript (to be normalised by normalize.py).

zkCli 3.8 without JLine reads commands from stdin but echoes nothing, writes
results to both stdout and stderr, and prints watch events from a separate
thread.  To get a deterministic transcript the driver feeds one command at a
time, followed by two marker commands:

  printwatches      -> "printwatches is on|off" on stdout.  Forces out any
                       half line buffered by out.print() (setAcl -R errors).
  __rzk_mark_<n>    -> unknown command: usage + "Command not found
                       __rzk_mark_<n>" on stderr.

zkCli runs commands strictly in order on its main thread, so once the stderr
marker is seen, everything the command wrote to stdout is already in the
stdout pipe (it was written earlier), and a non-blocking drain collects it.
Watch events ("\\nWATCHER::" / "\\nWatchedEvent ..." printlns from the event
thread) are cut out of the stdout byte stream and queued per session; they
are only printed at explicit "NAME? N" steps, which wait for N of them.

Script syntax (one step per line, '#' comments):
  open NAME                 start an interactive session (-waitforconnection)
  NAME> COMMAND             run a zkCli command in session NAME
  NAME? N                   wait for N unread watch events, print all unread
  NAME?~ N                  same, printed sorted (events from two client
                            threads, e.g. old session Closed + new Connected)
  oneshot ARGS...           zkCli.sh -server S ARGS (command mode, stdin null;
                            ARGS split on blanks, as the shell would)
${SERVER} in commands/args is replaced by host:port.
"""

import argparse
import os
import re
import select
import signal
import subprocess
import sys
import time

STEP_TIMEOUT = 20.0    # a zkCli request blocks at most ~session timeout
EVENT_TIMEOUT = 5.0
# Whole-session budget: a server that never answers must not make every
# remaining step wait out its own timeout (Java needs ~20 s for all of it).
BUDGET = float(os.environ.get("ZKCLI_BUDGET", "150"))
EVENT_SETTLE = 0.1     # after N events arrived, catch unexpected extras
USAGE_HEADER = "ZooKeeper -server host:port -client-configuration properties-file cmd args"
EVENT_RE = re.compile(rb"\n(WATCHER::|WatchedEvent [^\n]*)\n")
SENTINEL_OUT_RE = re.compile(r"printwatches is (on|off)$")


class ScriptError(Exception):
    pass


class Session:
    def __init__(self, name, argv, env):
        self.name = name
        # Own process group: zkCli.sh does not exec java, so killing only the
        # script would orphan the JVM.
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env, start_new_session=True)
        self.buf = {"out": b"", "err": b""}
        self.eof = {"out": False, "err": False}
        self.events = []      # unread watch events
        self.marks = 0
        self.dead = False

    def fds(self):
        res = {}
        if not self.eof["out"]:
            res[self.proc.stdout.fileno()] = "out"
        if not self.eof["err"]:
            res[self.proc.stderr.fileno()] = "err"
        return res

    def pump(self, timeout):
        """Read whatever is available (waiting up to timeout for the first
        chunk); returns False when both pipes are at EOF."""
        fds = self.fds()
        if not fds:
            return False
        ready, _, _ = select.select(list(fds), [], [], timeout)
        for fd in ready:
            chunk = os.read(fd, 65536)
            if chunk:
                self.buf[fds[fd]] += chunk
            else:
                self.eof[fds[fd]] = True
        self.extract_events()
        return True

    def drain(self):
        """Collect everything already written to the pipes, without waiting."""
        while True:
            fds = self.fds()
            if not fds:
                return
            ready, _, _ = select.select(list(fds), [], [], 0)
            if not ready:
                return
            self.pump(0)

    def extract_events(self):
        # An event is printed as println("\nWATCHER::") + println("\nWatchedEvent ...");
        # each println is one atomic write, so cutting exactly those bytes
        # leaves the other output intact (even a half line before it).
        # Bytes, not text: a read may end inside a UTF-8 sequence.
        def cut(m):
            if m.group(1).startswith(b"WatchedEvent"):
                self.events.append(m.group(1).decode("utf-8", "replace"))
            return b""

        self.buf["out"] = EVENT_RE.sub(cut, self.buf["out"])

    def send(self, text):
        try:
            self.proc.stdin.write(text.encode("utf-8"))
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass


def run_command(sess, cmd, emit):
    """Run one command (None: just sync up with the banner); emit its
    stdout/stderr lines."""
    sess.marks += 1
    mark = "__rzk_mark_%d" % sess.marks
    mark_line = "Command not found " + mark
    sess.send(("" if cmd is None else cmd + "\n") + "printwatches\n" + mark + "\n")
    deadline = time.time() + STEP_TIMEOUT
    while mark_line not in sess.buf["err"].decode("utf-8", "replace"):
        if time.time() > deadline:
            emit("!!| TIMEOUT: no response from zkCli within %ds; session killed" % STEP_TIMEOUT)
            kill_session(sess, emit)
            return
        if not sess.pump(0.5) and sess.proc.poll() is not None:
            # zkCli itself dies on some bad input (uncaught exceptions):
            # that is client behaviour to compare, not a harness failure.
            emit_rest(sess, emit)
            emit("exit| %d (zkCli died)" % sess.proc.returncode)
            sess.dead = True
            return
    sess.drain()

    # stderr: command output, then the marker's usage block and marker line.
    err = sess.buf["err"].decode("utf-8", "replace")
    idx = err.index(mark_line + "\n") if (mark_line + "\n") in err else err.index(mark_line)
    rest = err[idx + len(mark_line):].lstrip("\n")
    err = err[:idx]
    hdr = err.rfind(USAGE_HEADER)
    if hdr < 0:
        emit("!!| marker usage block missing")
    else:
        err = err[:hdr]
    sess.buf["err"] = rest.encode("utf-8")

    # stdout: command output, then the printwatches line (possibly glued to a
    # half line), then "Not connected" if the session is closed.
    out = sess.buf["out"].decode("utf-8", "replace")
    lines = out.split("\n")
    pos = None
    for i in range(len(lines) - 1, -1, -1):
        if SENTINEL_OUT_RE.search(lines[i]):
            pos = i
            break
    if pos is None:
        emit("!!| stdout marker missing")
        cmd_out_lines, partial, residue = lines, "", []
    else:
        cmd_out_lines = lines[:pos]
        partial = SENTINEL_OUT_RE.sub("", lines[pos])
        residue = lines[pos + 1:]
    sess.buf["out"] = b""
    for line in cmd_out_lines:
        emit("out| " + line)
    if partial:
        emit("out| " + partial)
        emit("out| \\ no newline")
    # The marker commands themselves print "Not connected" when the session
    # is closed; anything else after the stdout marker is unexpected.
    tail = [l for l in residue if l != ""]
    if tail and all(l == "Not connected" for l in tail):
        tail = tail[1:]  # printwatches' own; the unknown-command marker prints none
    for line in tail:
        emit("out| " + line + "   (after marker)")
    emit_text(emit, "err", err.encode("utf-8"))


def emit_text(emit, key, data):
    """Emit every line of data (bytes) as "key| line"; a final unterminated
    line is emitted too."""
    text = data.decode("utf-8", "replace")
    if not text:
        return
    for line in (text[:-1] if text.endswith("\n") else text).split("\n"):
        emit("%s| %s" % (key, line))


def emit_rest(sess, emit):
    sess.drain()
    sess.extract_events()
    for key in ("out", "err"):
        emit_text(emit, key, sess.buf[key])
        sess.buf[key] = b""


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def kill_session(sess, emit):
    kill_group(sess.proc)
    sess.dead = True


def quit_session(sess, emit, cmd="quit"):
    sess.send(cmd + "\n")
    try:
        sess.proc.stdin.close()
    except BrokenPipeError:
        pass
    deadline = time.time() + STEP_TIMEOUT
    while sess.pump(0.5):
        if time.time() > deadline:
            emit("!!| TIMEOUT waiting for zkCli to exit")
            kill_session(sess, emit)
            break
    rc = sess.proc.wait()
    emit_rest(sess, emit)
    # System.exit races the event thread printing "Closed": drop it.
    events = [e for e in sess.events if "state:Closed type:None" not in e]
    for e in events:
        emit("evt| " + e)
    sess.events = []
    emit("exit| %d" % rc)
    sess.dead = True


def wait_events(sess, n, sort, emit):
    deadline = time.time() + EVENT_TIMEOUT
    while len(sess.events) < n and time.time() < deadline:
        if not sess.pump(0.2) and sess.proc.poll() is not None:
            break
    settle = time.time() + EVENT_SETTLE
    while time.time() < settle:
        sess.pump(max(0.0, settle - time.time()))
    if len(sess.events) < n:
        emit("!!| expected %d event(s), got %d" % (n, len(sess.events)))
    events = sorted(sess.events) if sort else sess.events
    for e in events:
        emit("evt| " + e)
    sess.events = []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True, help="host:port")
    ap.add_argument("--script", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--zkcli", default="/usr/share/zookeeper/bin/zkCli.sh")
    args = ap.parse_args()

    env = dict(os.environ)
    # Same dates/charset whatever the caller's locale; lean, fast client JVMs.
    env["TZ"] = "UTC"
    env["LC_ALL"] = "C.UTF-8"
    env["CLIENT_JVMFLAGS"] = ("-Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 "
                              "-Dfile.encoding=UTF-8 -Duser.timezone=UTC")

    sessions = {}
    out = open(args.out, "w", encoding="utf-8")

    def emit(line):
        out.write(line + "\n")
        out.flush()

    def sub(s):
        return s.replace("${SERVER}", args.server)

    with open(args.script, encoding="utf-8") as f:
        steps = [(i + 1, l.rstrip("\n")) for i, l in enumerate(f)]

    deadline = time.time() + BUDGET
    try:
        for lineno, raw in steps:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            emit("=== " + line)
            if time.time() > deadline:
                emit("!!| not run: driver time budget (%ds) used up" % BUDGET)
                continue
            m = re.match(r"^open\s+(\w+)$", line)
            if m:
                name = m.group(1)
                if name in sessions and not sessions[name].dead:
                    raise ScriptError("line %d: session %s already open" % (lineno, name))
                sess = Session(name, [args.zkcli, "-waitforconnection", "-server", args.server], env)
                sessions[name] = sess
                # Banner: "Connecting to", SyncConnected (printed before the
                # connect latch opens), "Welcome", "JLine support is ...".
                banner = []
                run_command(sess, None, lambda l: (banner.append(l), emit(l)))
                if "out| JLine support is enabled" in banner:
                    raise ScriptError("zkCli picked up JLine; the driver needs the plain stdin reader")
                for e in sess.events:
                    emit("evt| " + e)
                sess.events = []
                continue
            m = re.match(r"^(\w+)>\s?(.*)$", line)
            if m:
                name, cmd = m.group(1), sub(m.group(2))
                sess = sessions.get(name)
                if sess is None:
                    raise ScriptError("line %d: unknown session %s" % (lineno, name))
                if sess.dead:
                    emit("!!| session %s is not running" % name)
                    continue
                if cmd.strip() == "quit":
                    quit_session(sess, emit)
                else:
                    run_command(sess, cmd, emit)
                continue
            m = re.match(r"^(\w+)\?(~?)\s*(\d+)$", line)
            if m:
                sess = sessions.get(m.group(1))
                if sess is None:
                    raise ScriptError("line %d: unknown session %s" % (lineno, m.group(1)))
                wait_events(sess, int(m.group(3)), m.group(2) == "~", emit)
                continue
            m = re.match(r"^oneshot\s+(.*)$", line)
            if m:
                argv = [args.zkcli, "-waitforconnection", "-server", args.server] + \
                    [sub(a) for a in m.group(1).split()]
                p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, start_new_session=True)
                try:
                    pout, perr = p.communicate(timeout=STEP_TIMEOUT)
                    evs = []
                    pout = EVENT_RE.sub(lambda mm: (evs.append(mm.group(1).decode("utf-8", "replace")) or b""),
                                        pout)
                    emit_text(emit, "out", pout)
                    for e in evs:
                        # "quit" races System.exit against the event thread
                        if e.startswith("WatchedEvent") and "state:Closed type:None" not in e:
                            emit("evt| " + e)
                    emit_text(emit, "err", perr)
                    emit("exit| %d" % p.returncode)
                except subprocess.TimeoutExpired:
                    kill_group(p)
                    emit("!!| TIMEOUT in oneshot")
                continue
            raise ScriptError("line %d: cannot parse: %s" % (lineno, raw))

        for name, sess in sessions.items():
            if not sess.dead:
                emit("=== (end of script) %s> quit" % name)
                quit_session(sess, emit)
    except ScriptError as e:
        emit("!!| script error: %s" % e)
        print("driver: script error: %s" % e, file=sys.stderr)
        return 2
    finally:
        for sess in sessions.values():
            kill_group(sess.proc)
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
