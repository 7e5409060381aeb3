/*
 * rzk drop-in for Apache Curator's curator-test 5.4.0 (see ../../../../../../../README.md).
 *
 * Not part of Curator: this class only exists in rzk-curator-test.jar.  It runs one
 * rzk server (`rzk server <zoo.cfg>`) as a child process for the drop-in versions of
 * ZooKeeperServerEmbeddedAdapter, TestingZooKeeperMain and TestingQuorumPeerMain.
 */
package org.apache.curator.test;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One rzk server child process.
 *
 * <p>Settings, read from system properties each time a server starts:
 * <ul>
 * <li>{@code rzk.binary}: the rzk executable; else the environment variable {@code RZK_BIN};
 *     else {@code rzk} on {@code PATH}.</li>
 * <li>{@code rzk.cluster}: {@code fail} (default) or {@code java}: what a configuration of
 *     more than one server (TestingCluster of 2+) does.  rzk has no quorum mode, so by
 *     default starting such a server throws {@link FailedServerStartException}; with
 *     {@code java} those servers run in-process on Apache ZooKeeper as stock curator-test
 *     does, while single servers still run on rzk.</li>
 * <li>{@code rzk.logDir}: directory for the child's output, as {@code rzk-<port>.log};
 *     default: {@code rzk-server.log} in the instance's data directory (deleted with it).</li>
 * <li>{@code rzk.pidDir}: if set, a file {@code rzk-<pid>.pid} (pid, then the zoo.cfg path)
 *     exists there while the child runs, for harnesses that clean up after a dead JVM.</li>
 * <li>{@code rzk.startTimeoutMs} (default 60000, as the stock adapter's one minute) and
 *     {@code rzk.stopTimeoutMs} (SIGTERM grace before SIGKILL, default 10000).</li>
 * <li>{@code rzk.pdeathsig} (default true): on Linux, start the child through
 *     {@code setpriv --pdeathsig KILL} so that it dies with the JVM even when the JVM
 *     itself is SIGKILLed (shutdown hooks cover every other exit).</li>
 * </ul>
 *
 * <p>The child gets the instance's properties (QuorumConfigBuilder.buildConfigProperties,
 * plus admin.enableServer=false as the stock adapter adds) as {@code <dataDir>/rzk-zoo.cfg},
 * and in {@code SERVER_JVMFLAGS} the environment's SERVER_JVMFLAGS followed by this JVM's
 * system properties named {@code zookeeper.*}, {@code znode.*}, {@code jute.*} and
 * {@code readonlymode.enabled}: the in-process server would read those from this JVM.
 */
final class RzkChildProcess {
    private static final Logger log = LoggerFactory.getLogger(RzkChildProcess.class);

    static final String CONFIG_FILE_NAME = "rzk-zoo.cfg";
    static final String LOG_FILE_NAME = "rzk-server.log";
    /** What ZooKeeper's four-letter words answer while the server is not yet serving. */
    private static final String NOT_SERVING = "not currently serving requests";

    /** Children not yet stopped; the shutdown hook stops them. */
    private static final Set<RzkChildProcess> LIVE = ConcurrentHashMap.newKeySet();

    /**
     * Children are forked from this one long-lived thread: PR_SET_PDEATHSIG fires when the
     * forking *thread* ends, so forking from a test's (possibly short-lived) thread would
     * kill the server when that thread finishes.
     */
    private static final ExecutorService LAUNCHER = new ThreadPoolExecutor(1, 1, 0L,
        TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "rzk-child-launcher");
            t.setDaemon(true);
            return t;
        });

    private static volatile String setpriv; // "" = unavailable, null = not probed yet

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(RzkChildProcess::stopAllAtExit,
            "rzk-child-shutdown"));
    }

    private final InstanceSpec spec;
    private final Process process;
    private final long pid;
    private final Path configFile;
    private final Path logFile;
    private final Path pidFile;
    private volatile String ready = "";

    private RzkChildProcess(InstanceSpec spec, Process process, Path configFile, Path logFile,
                            Path pidFile) {
        this.spec = spec;
        this.process = process;
        this.pid = process.pid();
        this.configFile = configFile;
        this.logFile = logFile;
        this.pidFile = pidFile;
    }

    // ------------------------------------------------------------------ policy

    /** True when this instance is one of several servers and rzk.cluster=java asks for the
     *  stock in-process Apache ZooKeeper for those. */
    static boolean runsInProcess(QuorumConfigBuilder configBuilder) {
        return configBuilder != null && configBuilder.size() > 1
            && "java".equalsIgnoreCase(System.getProperty("rzk.cluster", "fail").trim());
    }

    static String clusterMessage(QuorumConfigBuilder configBuilder) {
        return "rzk curator-test drop-in: this server is one of " + configBuilder.size()
            + " (TestingCluster / QuorumConfigBuilder with several InstanceSpecs), which needs a"
            + " ZooKeeper quorum; rzk has no quorum mode yet. Run cluster tests without"
            + " rzk-curator-test.jar on the classpath, or pass -Drzk.cluster=java to run"
            + " multi-server clusters in-process on Apache ZooKeeper (single servers stay on rzk).";
    }

    // ------------------------------------------------------------------ start

    /**
     * Writes the zoo.cfg, starts rzk and returns once it answers on the client port.
     * Throws FailedServerStartException (as the stock classes do) on any failure, leaving
     * no process behind.
     */
    static RzkChildProcess start(QuorumConfigBuilder configBuilder, int instanceIndex) {
        if (configBuilder == null) {
            throw new FailedServerStartException(new NullPointerException("configBuilder"));
        }
        if (configBuilder.size() > 1) {
            throw new FailedServerStartException(clusterMessage(configBuilder));
        }
        InstanceSpec spec = configBuilder.getInstanceSpec(instanceIndex);
        Path configFile;
        Path logFile;
        Path pidFile = null;
        List<String> command = new ArrayList<>();
        String flags;
        try {
            Properties properties = configBuilder.buildConfigProperties(instanceIndex);
            // As the stock ZooKeeperServerEmbeddedAdapter does.
            properties.put("admin.enableServer", "false");
            Path dataDir = Paths.get(String.valueOf(properties.get("dataDir")));
            Files.createDirectories(dataDir);
            configFile = dataDir.resolve(CONFIG_FILE_NAME);
            writeConfig(configFile, properties, spec);
            String logDir = System.getProperty("rzk.logDir");
            if (logDir != null && !logDir.trim().isEmpty()) {
                Path dir = Paths.get(logDir.trim());
                Files.createDirectories(dir);
                logFile = dir.resolve("rzk-" + spec.getPort() + ".log");
            } else {
                logFile = dataDir.resolve(LOG_FILE_NAME);
            }
            String binary = findBinary();
            String sp = setprivPath();
            if (!sp.isEmpty()) {
                command.add(sp);
                command.add("--pdeathsig");
                command.add("KILL");
                command.add("--");
            }
            command.add(binary);
            command.add("server");
            command.add(configFile.toString());
            flags = serverJvmFlags();
            Files.write(logFile, ("=== " + Instant.now() + " rzk curator-test drop-in: "
                    + String.join(" ", command) + (flags.isEmpty() ? "" : "  [SERVER_JVMFLAGS=" + flags + "]")
                    + "\n").getBytes(StandardCharsets.UTF_8),
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (FailedServerStartException e) {
            throw e;
        } catch (Exception e) {
            throw new FailedServerStartException(e);
        }

        ProcessBuilder builder = new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        builder.environment().put("SERVER_JVMFLAGS", flags);
        Process process;
        try {
            process = LAUNCHER.submit(builder::start).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FailedServerStartException("Server start interrupted");
        } catch (ExecutionException e) {
            throw new FailedServerStartException(new IOException(
                "cannot run " + command + ": " + e.getCause().getMessage(), e.getCause()));
        }
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // nothing to close
        }
        String pidDir = System.getProperty("rzk.pidDir");
        if (pidDir != null && !pidDir.trim().isEmpty()) {
            try {
                Path dir = Paths.get(pidDir.trim());
                Files.createDirectories(dir);
                pidFile = dir.resolve("rzk-" + process.pid() + ".pid");
                Files.write(pidFile, (process.pid() + "\n" + configFile + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                log.warn("rzk drop-in: cannot write pid file in {}: {}", pidDir, e.toString());
                pidFile = null;
            }
        }
        RzkChildProcess child = new RzkChildProcess(spec, process, configFile, logFile, pidFile);
        LIVE.add(child);
        log.info("rzk drop-in: started rzk pid {} for {} ({}; log {})", child.pid,
            spec.getConnectString(), configFile, logFile);
        try {
            child.blockUntilServing(Long.getLong("rzk.startTimeoutMs", 60_000L));
        } catch (RuntimeException | Error e) {
            child.terminate(true);
            throw e;
        }
        log.info("rzk drop-in: rzk pid {} serving on {}: {}", child.pid, spec.getConnectString(),
            child.ready);
        return child;
    }

    private void blockUntilServing(long timeoutMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        String why = "no answer yet";
        while (true) {
            if (!process.isAlive()) {
                throw new FailedServerStartException("rzk (pid " + pid + ") exited with status "
                    + exitValueOrUnknown() + " before serving on port " + spec.getPort()
                    + " (" + configFile + "); last lines of " + logFile + ":\n" + logTail(20));
            }
            // Linux: the child owns a socket listening on the port, it accepts, and srvr does
            // not say "not currently serving" (Java listens before it has loaded its
            // database; rzk binds only once it can serve).
            // Elsewhere (/proc cannot tell): any answer to srvr.
            int owner = listenerOwner(pid, spec.getPort());
            if (owner == OWNER_UNKNOWN) {
                String reply = fourLetterWord(spec.getHostname(), spec.getPort(), "srvr");
                if (reply != null && !reply.isEmpty() && process.isAlive()) {
                    int nl = reply.indexOf('\n');
                    ready = nl < 0 ? reply : reply.substring(0, nl);
                    return;
                }
            } else if (owner == OWNER_CHILD) {
                if (accepts(spec.getHostname(), spec.getPort())) {
                    String reply = fourLetterWord(spec.getHostname(), spec.getPort(), "srvr");
                    if (reply != null && reply.contains(NOT_SERVING)) {
                        why = "srvr says: " + NOT_SERVING;
                    } else if (process.isAlive()) {
                        ready = "listening (pid " + pid + " owns the listening socket)";
                        return;
                    }
                }
            } else if (owner == OWNER_OTHER && process.isAlive()) {
                why = "port " + spec.getPort() + " is held by another process";
            }
            // process.isAlive() is checked after listenerOwner, which cannot tell once
            // /proc/<pid> is gone: a child that died meanwhile (e.g. could not bind because
            // someone else answers on the port) is reported by the next iteration.
            if (System.nanoTime() - deadline > 0) {
                throw new FailedServerStartException("Timed out waiting for server startup: rzk pid "
                    + pid + " not serving on " + spec.getConnectString() + " after " + timeoutMs
                    + " ms (" + why + "); last lines of " + logFile + ":\n" + logTail(20));
            }
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new FailedServerStartException("Server start interrupted");
            }
        }
    }

    // ------------------------------------------------------------------ stop

    /** close()/stop(): SIGTERM, wait (rzk.stopTimeoutMs), then SIGKILL if still running. */
    void stop() {
        terminate(false);
    }

    /** kill(): SIGKILL and wait, as an abrupt crash. */
    void kill() {
        terminate(true);
    }

    boolean isAlive() {
        return process.isAlive();
    }

    long pid() {
        return pid;
    }

    /** How start() knew the server was up: srvr's first line, or "listening ...". */
    String readiness() {
        return ready;
    }

    private void terminate(boolean forcibly) {
        boolean interrupted = false;
        try {
            if (process.isAlive()) {
                if (forcibly) {
                    process.destroyForcibly();
                } else {
                    process.destroy();
                    long graceMs = Long.getLong("rzk.stopTimeoutMs", 10_000L);
                    try {
                        if (!process.waitFor(graceMs, TimeUnit.MILLISECONDS)) {
                            log.warn("rzk drop-in: rzk pid {} still running {} ms after SIGTERM; killing it",
                                pid, graceMs);
                            process.destroyForcibly();
                        }
                    } catch (InterruptedException e) {
                        interrupted = true;
                        process.destroyForcibly();
                    }
                }
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (process.isAlive() && System.nanoTime() - until < 0) {
                    try {
                        process.waitFor(100, TimeUnit.MILLISECONDS);
                    } catch (InterruptedException e) {
                        interrupted = true; // finish reaping first
                    }
                }
                if (process.isAlive()) {
                    log.error("rzk drop-in: rzk pid {} did not exit after SIGKILL", pid);
                    return;
                }
                log.info("rzk drop-in: rzk pid {} on port {} {} (exit status {})", pid,
                    spec.getPort(), forcibly ? "killed" : "stopped", exitValueOrUnknown());
            }
        } finally {
            if (!process.isAlive()) {
                LIVE.remove(this);
                if (pidFile != null) {
                    try {
                        Files.deleteIfExists(pidFile);
                    } catch (IOException ignored) {
                        // harmless
                    }
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void stopAllAtExit() {
        List<RzkChildProcess> children = new ArrayList<>(LIVE);
        for (RzkChildProcess c : children) {
            c.process.destroy();
        }
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        for (RzkChildProcess c : children) {
            try {
                long left = until - System.nanoTime();
                if (left <= 0 || !c.process.waitFor(left, TimeUnit.NANOSECONDS)) {
                    c.process.destroyForcibly();
                    c.process.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                c.process.destroyForcibly();
            }
            if (!c.process.isAlive() && c.pidFile != null) {
                try {
                    Files.deleteIfExists(c.pidFile);
                } catch (IOException ignored) {
                    // harmless
                }
            }
        }
    }

    private String exitValueOrUnknown() {
        try {
            return String.valueOf(process.exitValue());
        } catch (IllegalThreadStateException e) {
            return "unknown";
        }
    }

    // ------------------------------------------------------------------ helpers

    private static String findBinary() {
        String configured = System.getProperty("rzk.binary");
        String origin = "-Drzk.binary";
        if (configured == null || configured.trim().isEmpty()) {
            configured = System.getenv("RZK_BIN");
            origin = "RZK_BIN";
        }
        if (configured != null && !configured.trim().isEmpty()) {
            File f = new File(configured.trim());
            if (f.isFile() && f.canExecute()) {
                return f.getAbsolutePath();
            }
            throw new FailedServerStartException("rzk curator-test drop-in: " + origin + "="
                + configured + " is not an executable file");
        }
        String found = onPath("rzk");
        if (found == null) {
            throw new FailedServerStartException("rzk curator-test drop-in: no rzk binary: pass"
                + " -Drzk.binary=/path/to/rzk, set RZK_BIN, or put rzk on PATH"
                + " (or remove rzk-curator-test.jar from the classpath to use in-process ZooKeeper)");
        }
        return found;
    }

    private static String onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            File f = new File(dir, name);
            if (f.isFile() && f.canExecute()) {
                return f.getAbsolutePath();
            }
        }
        return null;
    }

    private static String setprivPath() {
        if (!Boolean.parseBoolean(System.getProperty("rzk.pdeathsig", "true").trim())) {
            return "";
        }
        String sp = setpriv;
        if (sp == null) {
            sp = "";
            if (System.getProperty("os.name", "").toLowerCase().contains("linux")) {
                String found = onPath("setpriv");
                if (found == null && new File("/usr/bin/setpriv").canExecute()) {
                    found = "/usr/bin/setpriv";
                }
                if (found != null && probeSetpriv(found)) {
                    sp = found;
                }
            }
            if (sp.isEmpty()) {
                log.info("rzk drop-in: setpriv --pdeathsig unavailable; rzk children are stopped by a"
                    + " shutdown hook, but survive a SIGKILLed JVM");
            }
            setpriv = sp;
        }
        return sp;
    }

    private static boolean probeSetpriv(String path) {
        try {
            Process p = new ProcessBuilder(path, "--pdeathsig", "KILL", "--", "true")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** SERVER_JVMFLAGS for the child: the environment's, then this JVM's server-side -D properties. */
    private static String serverJvmFlags() {
        StringBuilder flags = new StringBuilder();
        String inherited = System.getenv("SERVER_JVMFLAGS");
        if (inherited != null) {
            flags.append(inherited.trim());
        }
        Properties sys = System.getProperties();
        for (String name : new TreeSet<>(sys.stringPropertyNames())) {
            if (!(name.startsWith("zookeeper.") || name.startsWith("znode.") || name.startsWith("jute.")
                || name.equals("readonlymode.enabled"))) {
                continue;
            }
            String value = sys.getProperty(name);
            if (value == null) {
                continue;
            }
            String flag = "-D" + name + "=" + value;
            if (flag.chars().anyMatch(Character::isWhitespace)) {
                log.warn("rzk drop-in: system property {} not passed to rzk: SERVER_JVMFLAGS cannot"
                    + " carry whitespace", name);
                continue;
            }
            if (flags.length() > 0) {
                flags.append(' ');
            }
            flags.append(flag);
        }
        return flags.toString();
    }

    /** The properties as a java.util.Properties file, sorted, escaped as Properties.store does. */
    private static void writeConfig(Path file, Properties properties, InstanceSpec spec) throws IOException {
        Map<String, String> sorted = new TreeMap<>();
        for (Map.Entry<Object, Object> e : properties.entrySet()) {
            // InstanceSpec custom properties are Objects; Java's parser toString()s them too.
            sorted.put(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
        }
        StringBuilder b = new StringBuilder();
        b.append("# Written by the rzk curator-test drop-in (rzk-curator-test.jar) from\n");
        b.append("# QuorumConfigBuilder.buildConfigProperties for ")
            .append(spec.toString().replace('\n', ' ').replace('\r', ' ')).append('\n');
        for (Map.Entry<String, String> e : sorted.entrySet()) {
            b.append(escape(e.getKey(), true)).append('=').append(escape(e.getValue(), false)).append('\n');
        }
        Files.write(file, b.toString().getBytes(StandardCharsets.ISO_8859_1));
    }

    private static String escape(String s, boolean key) {
        StringBuilder b = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\': b.append("\\\\"); break;
                case '\t': b.append("\\t"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\f': b.append("\\f"); break;
                case ' ':
                    if (key || i == 0) {
                        b.append('\\');
                    }
                    b.append(' ');
                    break;
                case '=': case ':': case '#': case '!':
                    if (key) {
                        b.append('\\');
                    }
                    b.append(c);
                    break;
                default:
                    if (c < 0x20 || c > 0x7e) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
            }
        }
        return b.toString();
    }

    static boolean accepts(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The reply to a four-letter word, or null if nothing answers. */
    static String fourLetterWord(String host, int port, String word) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 500);
            s.setSoTimeout(2000);
            OutputStream out = s.getOutputStream();
            out.write(word.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            StringBuilder reply = new StringBuilder();
            int n;
            while ((n = in.read(buf)) > 0) {
                reply.append(new String(buf, 0, n, StandardCharsets.UTF_8));
            }
            return reply.toString();
        } catch (IOException e) {
            return null;
        }
    }

    private static final int OWNER_UNKNOWN = 0; // /proc cannot tell
    private static final int OWNER_CHILD = 1;   // a listening socket on the port is one of pid's fds
    private static final int OWNER_NONE = 2;    // nothing listens on the port
    private static final int OWNER_OTHER = 3;   // something else listens on the port

    /**
     * Linux: who listens on {@code port}: {@code pid} (so the server answering is our child,
     * not a process that took the port first), nobody, or someone else.
     */
    private static int listenerOwner(long pid, int port) {
        Set<String> inodes = new HashSet<>();
        boolean readAny = false;
        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            Path p = Paths.get(table);
            if (!Files.isReadable(p)) {
                continue;
            }
            try {
                List<String> lines = Files.readAllLines(p, StandardCharsets.US_ASCII);
                readAny = true;
                for (int i = 1; i < lines.size(); i++) {
                    String[] f = lines.get(i).trim().split("\\s+");
                    if (f.length < 10 || !"0A".equals(f[3])) {
                        continue;
                    }
                    int colon = f[1].lastIndexOf(':');
                    if (colon < 0 || Integer.parseInt(f[1].substring(colon + 1), 16) != port) {
                        continue;
                    }
                    inodes.add(f[9]);
                }
            } catch (IOException | RuntimeException e) {
                return OWNER_UNKNOWN; // unreadable or unexpected format
            }
        }
        if (!readAny || inodes.contains("0")) {
            return OWNER_UNKNOWN;
        }
        if (inodes.isEmpty()) {
            return OWNER_NONE;
        }
        File[] fds = new File("/proc/" + pid + "/fd").listFiles();
        if (fds == null) {
            return OWNER_UNKNOWN;
        }
        for (File fd : fds) {
            try {
                String target = Files.readSymbolicLink(fd.toPath()).toString();
                if (target.startsWith("socket:[") && inodes.contains(target.substring(8, target.length() - 1))) {
                    return OWNER_CHILD;
                }
            } catch (IOException | UnsupportedOperationException | IndexOutOfBoundsException e) {
                // fd closed meanwhile
            }
        }
        return OWNER_OTHER;
    }

    private String logTail(int lines) {
        try {
            Deque<String> tail = new ArrayDeque<>();
            for (String line : Files.readAllLines(logFile, StandardCharsets.UTF_8)) {
                tail.addLast(line);
                if (tail.size() > lines) {
                    tail.removeFirst();
                }
            }
            return String.join("\n", tail);
        } catch (IOException | UncheckedIOException e) {
            return "(cannot read " + logFile + ": " + e + ")";
        } catch (RuntimeException e) {
            return "(cannot read " + logFile + ": " + e + ")";
        }
    }

    @Override
    public String toString() {
        return "rzk pid " + pid + " on " + spec.getConnectString();
    }
}
