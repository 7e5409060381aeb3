package rzk.curator;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.apache.curator.RetryPolicy;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * Common plumbing: the server's connect string comes from the system property
 * {@code zk.connect} (or the environment variable ZK_CONNECT), so the same
 * tests run against Apache ZooKeeper 3.8 and rzk.  Every test works below its
 * own root {@code /curator-compat/<Class>.<method>}, which is deleted after
 * the test together with every client and recipe the test opened.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
public abstract class CuratorTestBase {
    /** Bound for every single wait in the tests. */
    static final long WAIT_S = 20;

    static final String CONNECT = connectString();

    protected String root;
    protected CuratorFramework admin;
    private final Deque<Closeable> closeables = new ArrayDeque<>();

    static String connectString() {
        String s = System.getProperty("zk.connect");
        if (s == null || s.isEmpty()) {
            s = System.getenv("ZK_CONNECT");
        }
        if (s == null || s.isEmpty()) {
            throw new IllegalStateException("set -Dzk.connect=host:port (or ZK_CONNECT)");
        }
        return s;
    }

    @BeforeEach
    void setUpRoot(TestInfo info) throws Exception {
        String cls = info.getTestClass().map(Class::getSimpleName).orElse("test");
        String m = info.getTestMethod().map(java.lang.reflect.Method::getName).orElse("m");
        root = "/curator-compat/" + cls + "." + m;
        admin = newClient();
        if (admin.checkExists().forPath(root) != null) {
            admin.delete().deletingChildrenIfNeeded().forPath(root);
        }
        admin.create().creatingParentsIfNeeded().forPath(root);
    }

    @AfterEach
    void tearDownRoot() throws Exception {
        // Recipes and clients in reverse order of creation; admin last.
        while (!closeables.isEmpty()) {
            Closeable c = closeables.pop();
            try {
                c.close();
            } catch (Exception | AssertionError e) {
                // already closed by the test, or failing: nothing to clean
            }
        }
        CuratorFramework cleaner = newClientUntracked(new ExponentialBackoffRetry(100, 5), 30000);
        try {
            for (int i = 0; i < 5; i++) {
                try {
                    if (cleaner.checkExists().forPath(root) != null) {
                        cleaner.delete().deletingChildrenIfNeeded().forPath(root);
                    }
                    break;
                } catch (KeeperException.NotEmptyException | KeeperException.NoNodeException e) {
                    // a recipe still finishing in the background; try again
                    Thread.sleep(200);
                }
            }
        } finally {
            cleaner.close();
        }
    }

    /** Registers a recipe or client to be closed after the test (LIFO). */
    protected <T extends Closeable> T track(T c) {
        closeables.push(c);
        return c;
    }

    protected String path(String rel) {
        return root + "/" + rel;
    }

    protected CuratorFramework newClient() throws InterruptedException {
        return newClient(new ExponentialBackoffRetry(100, 6), 30000);
    }

    protected CuratorFramework newClient(RetryPolicy retry, int sessionTimeoutMs) throws InterruptedException {
        return track(newClientUntracked(retry, sessionTimeoutMs));
    }

    static CuratorFramework newClientUntracked(RetryPolicy retry, int sessionTimeoutMs) throws InterruptedException {
        CuratorFramework c = CuratorFrameworkFactory.builder()
                .connectString(CONNECT)
                .sessionTimeoutMs(sessionTimeoutMs)
                .connectionTimeoutMs(5000)
                .retryPolicy(retry)
                .build();
        c.start();
        if (!c.blockUntilConnected((int) WAIT_S, TimeUnit.SECONDS)) {
            c.close();
            fail("could not connect to " + CONNECT + " within " + WAIT_S + "s");
        }
        return c;
    }

    static long sessionId(CuratorFramework c) throws Exception {
        return c.getZookeeperClient().getZooKeeper().getSessionId();
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String s(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    /** Polls until cond holds; fails with msg after timeoutMs. */
    static void await(String msg, long timeoutMs, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeoutMs + " ms waiting for: " + msg);
            }
            Thread.sleep(20);
        }
    }

    static void await(String msg, BooleanSupplier cond) throws InterruptedException {
        await(msg, WAIT_S * 1000, cond);
    }

    /** Waits until a recipe's directory has no children. Recipe directories
     *  are containers: once empty, the server's container manager may delete
     *  them before we look, which says the same. */
    void awaitNoChildren(String msg, long timeoutMs, String path) throws Exception {
        awaitZk(msg, timeoutMs, () -> {
            try {
                return admin.getChildren().forPath(path).isEmpty();
            } catch (org.apache.zookeeper.KeeperException.NoNodeException e) {
                return true;
            }
        });
    }

    /** Like await, but for conditions that talk to the server. */
    interface Check {
        boolean ok() throws Exception;
    }

    static void awaitZk(String msg, long timeoutMs, Check cond) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        Exception last = null;
        while (true) {
            try {
                if (cond.ok()) {
                    return;
                }
            } catch (KeeperException e) {
                last = e;
            }
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeoutMs + " ms waiting for: " + msg
                        + (last != null ? " (last error: " + last + ")" : ""));
            }
            Thread.sleep(50);
        }
    }

    static <T> T poll(BlockingQueue<T> q, String what) throws InterruptedException {
        T v = q.poll(WAIT_S, TimeUnit.SECONDS);
        if (v == null) {
            fail("timed out after " + WAIT_S + "s waiting for " + what);
        }
        return v;
    }

    /** Records the connection states a client goes through. */
    static BlockingQueue<ConnectionState> recordStates(CuratorFramework c) {
        BlockingQueue<ConnectionState> q = new LinkedBlockingQueue<>();
        c.getConnectionStateListenable().addListener((client, state) -> q.add(state));
        return q;
    }

    /** Waits for the given state, skipping others (returned for inspection). */
    static List<ConnectionState> awaitState(BlockingQueue<ConnectionState> q, ConnectionState want, long timeoutMs)
            throws InterruptedException {
        List<ConnectionState> seen = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true) {
            long left = deadline - System.nanoTime();
            ConnectionState st = left > 0 ? q.poll(left, TimeUnit.NANOSECONDS) : null;
            if (st == null) {
                fail("timed out after " + timeoutMs + " ms waiting for connection state " + want + "; saw " + seen);
            }
            seen.add(st);
            if (st == want) {
                return seen;
            }
        }
    }

    // ---- four-letter words ------------------------------------------------

    static String fourLetter(String word) throws Exception {
        String hp = CONNECT.split(",")[0];
        int colon = hp.lastIndexOf(':');
        try (Socket sock = new Socket()) {
            sock.connect(new InetSocketAddress(hp.substring(0, colon), Integer.parseInt(hp.substring(colon + 1))), 5000);
            sock.setSoTimeout(5000);
            OutputStream out = sock.getOutputStream();
            out.write(word.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            sock.shutdownOutput();
            InputStream in = sock.getInputStream();
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            in.transferTo(buf);
            return buf.toString(StandardCharsets.UTF_8);
        }
    }

    /**
     * {@code wchc}: watched paths by session, as Java prints it
     * (a {@code 0x<session>} line, then one tab-indented path per line).
     */
    static Map<Long, TreeSet<String>> watchesBySession() throws Exception {
        Map<Long, TreeSet<String>> out = new LinkedHashMap<>();
        TreeSet<String> cur = null;
        for (String line : fourLetter("wchc").split("\n")) {
            if (line.startsWith("0x")) {
                cur = out.computeIfAbsent(Long.parseUnsignedLong(line.substring(2).trim(), 16), k -> new TreeSet<>());
            } else if (line.startsWith("\t") && cur != null && !line.trim().equals("/zookeeper/config")) {
                // (every Curator client watches /zookeeper/config: EnsembleTracker)
                cur.add(line.trim());
            }
        }
        return out;
    }

    /**
     * Waits until each listed session's data watches (wchc) are exactly the
     * given paths; the failure message shows the server's whole table.
     */
    static void awaitWatches(String msg, long timeoutMs, Map<Long, ? extends java.util.Set<String>> want) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        String raw = "";
        while (true) {
            raw = fourLetter("wchc");
            Map<Long, TreeSet<String>> got = watchesBySession();
            boolean ok = true;
            for (Map.Entry<Long, ? extends java.util.Set<String>> e : want.entrySet()) {
                java.util.Set<String> g = got.getOrDefault(e.getKey(), new TreeSet<>());
                if (!new TreeSet<>(e.getValue()).equals(g)) {
                    ok = false;
                }
            }
            if (ok) {
                return;
            }
            if (System.nanoTime() > deadline) {
                StringBuilder w = new StringBuilder();
                want.forEach((k, v) -> w.append("\n  0x").append(Long.toHexString(k)).append(" ").append(v));
                fail("timed out after " + timeoutMs + " ms waiting for: " + msg + "; want" + w
                        + "\n  wchc says:\n" + raw);
            }
            Thread.sleep(50);
        }
    }

    static Map<String, String> mntr() throws Exception {
        Map<String, String> m = new HashMap<>();
        for (String line : fourLetter("mntr").split("\n")) {
            String[] kv = line.split("\t", 2);
            if (kv.length == 2) {
                m.put(kv[0], kv[1].trim());
            }
        }
        return m;
    }
}
