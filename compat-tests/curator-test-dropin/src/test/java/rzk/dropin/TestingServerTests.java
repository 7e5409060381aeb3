package rzk.dropin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** TestingServer, through its stock API only, on whichever server the classpath selects. */
@Timeout(120)
class TestingServerTests {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void identityThenCloseStopsAndCleansUp() throws Exception {
        TestingServer server = new TestingServer();
        File dir = server.getTempDirectory();
        int port = server.getPort();
        assertEquals("127.0.0.1:" + port, server.getConnectString());
        ProcessHandle child = Util.assertServerKind(port, dir);
        if (child != null) {
            assertTrue(child.isAlive());
        }
        server.close();
        // close() = stop (graceful, waited for) + delete the temp directory.
        assertFalse(Util.accepting(port), "port " + port + " still accepting after close()");
        assertFalse(dir.exists(), dir + " still exists after close()");
        if (child != null) {
            assertFalse(child.isAlive(), "rzk child " + child.pid() + " alive after close()");
        }
        server.close(); // idempotent
    }

    @Test
    void crudAndWatches() throws Exception {
        try (TestingServer server = new TestingServer();
             CuratorFramework c = Util.client(server.getConnectString(), 30_000)) {
            Util.assertServerKind(server.getPort(), server.getTempDirectory());

            assertEquals("/app/cfg", c.create().creatingParentsIfNeeded().forPath("/app/cfg", b("v1")));
            assertEquals("v1", s(c.getData().forPath("/app/cfg")));
            assertThrows(KeeperException.NodeExistsException.class, () -> c.create().forPath("/app/cfg"));
            assertThrows(KeeperException.NoNodeException.class, () -> c.getData().forPath("/app/none"));

            // Data watch, then a versioned write; a stale version fails.
            BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
            CuratorWatcher w = events::add;
            Stat stat = new Stat();
            c.getData().storingStatIn(stat).usingWatcher(w).forPath("/app/cfg");
            assertEquals(0, stat.getVersion());
            Stat after = c.setData().withVersion(0).forPath("/app/cfg", b("v2"));
            assertEquals(1, after.getVersion());
            WatchedEvent e = events.poll(10, TimeUnit.SECONDS);
            assertNotNull(e, "no NodeDataChanged");
            assertEquals(Watcher.Event.EventType.NodeDataChanged, e.getType());
            assertEquals("/app/cfg", e.getPath());
            assertThrows(KeeperException.BadVersionException.class,
                () -> c.setData().withVersion(0).forPath("/app/cfg", b("v3")));

            // Child watch and sequential names.
            c.getChildren().usingWatcher(w).forPath("/app");
            String seq0 = c.create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath("/app/job-", b("a"));
            String seq1 = c.create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath("/app/job-", b("b"));
            assertEquals("/app/job-0000000001", seq0); // cversion counts the earlier create of cfg
            assertEquals("/app/job-0000000002", seq1);
            e = events.poll(10, TimeUnit.SECONDS);
            assertNotNull(e, "no NodeChildrenChanged");
            assertEquals(Watcher.Event.EventType.NodeChildrenChanged, e.getType());
            List<String> kids = new ArrayList<>(c.getChildren().forPath("/app"));
            Collections.sort(kids);
            assertEquals(List.of("cfg", "job-0000000001", "job-0000000002"), kids);

            // Exists watch on an absent node fires on create; data watch fires on delete.
            assertNull(c.checkExists().usingWatcher(w).forPath("/app/later"));
            c.create().forPath("/app/later");
            e = events.poll(10, TimeUnit.SECONDS);
            assertNotNull(e, "no NodeCreated");
            assertEquals(Watcher.Event.EventType.NodeCreated, e.getType());
            c.getData().usingWatcher(w).forPath("/app/later");
            c.delete().forPath("/app/later");
            e = events.poll(10, TimeUnit.SECONDS);
            assertNotNull(e, "no NodeDeleted");
            assertEquals(Watcher.Event.EventType.NodeDeleted, e.getType());

            // A transaction: all or nothing.
            List<CuratorTransactionResult> results = c.transaction().forOperations(
                c.transactionOp().create().forPath("/app/t1", b("x")),
                c.transactionOp().setData().forPath("/app/cfg", b("v3")),
                c.transactionOp().delete().forPath("/app/job-0000000001"));
            assertEquals(3, results.size());
            assertThrows(KeeperException.class, () -> c.transaction().forOperations(
                c.transactionOp().create().forPath("/app/t2"),
                c.transactionOp().delete().forPath("/app/missing")));
            assertNull(c.checkExists().forPath("/app/t2"));
            assertEquals("v3", s(c.getData().forPath("/app/cfg")));

            // Background create with a callback; recursive delete.
            CountDownLatch done = new CountDownLatch(1);
            c.create().inBackground((cl, event) -> done.countDown()).forPath("/app/bg", b("bg"));
            assertTrue(done.await(10, TimeUnit.SECONDS));
            assertArrayEquals(b("bg"), c.getData().forPath("/app/bg"));
            c.delete().deletingChildrenIfNeeded().forPath("/app");
            assertNull(c.checkExists().forPath("/app"));
        }
    }

    @Test
    void sessionWithEphemeralsAndWatchesSurvivesRestart() throws Exception {
        try (TestingServer server = new TestingServer();
             CuratorFramework c = Util.client(server.getConnectString(), 60_000)) {
            ProcessHandle before = Util.assertServerKind(server.getPort(), server.getTempDirectory());
            BlockingQueue<ConnectionState> states = new LinkedBlockingQueue<>();
            c.getConnectionStateListenable().addListener((cl, st) -> states.add(st));
            ZooKeeper zk = c.getZookeeperClient().getZooKeeper();
            long session = zk.getSessionId();
            c.create().forPath("/r", b("persistent"));
            c.create().withMode(CreateMode.EPHEMERAL).forPath("/r-eph", b("mine"));
            CountDownLatch changed = new CountDownLatch(1);
            c.getData().usingWatcher((CuratorWatcher) ev -> {
                if (ev.getType() == Watcher.Event.EventType.NodeDataChanged) {
                    changed.countDown();
                }
            }).forPath("/r");

            server.restart();

            ProcessHandle after = Util.assertServerKind(server.getPort(), server.getTempDirectory());
            if (before != null) {
                assertFalse(before.isAlive(), "old rzk child still running after restart()");
                assertNotEquals(before.pid(), after.pid());
            }
            List<ConnectionState> seen = new ArrayList<>();
            while (!seen.contains(ConnectionState.RECONNECTED)) {
                ConnectionState st = states.poll(30, TimeUnit.SECONDS);
                assertNotNull(st, "no RECONNECTED after restart; saw " + seen);
                seen.add(st);
            }
            assertFalse(seen.contains(ConnectionState.LOST), "session lost: " + seen);
            assertEquals(session, c.getZookeeperClient().getZooKeeper().getSessionId());
            Stat eph = c.checkExists().forPath("/r-eph");
            assertNotNull(eph, "ephemeral gone after restart");
            assertEquals(session, eph.getEphemeralOwner());
            assertEquals("persistent", s(c.getData().forPath("/r")));

            // The watch set before the restart was re-registered and fires.
            try (CuratorFramework other = Util.client(server.getConnectString(), 30_000)) {
                other.setData().forPath("/r", b("changed"));
            }
            assertTrue(changed.await(15, TimeUnit.SECONDS), "watch from before the restart did not fire");
        }
    }

    @Test
    void stopRefusesClientsUntilRestart() throws Exception {
        try (TestingServer server = new TestingServer();
             CuratorFramework c = Util.client(server.getConnectString(), 60_000)) {
            int port = server.getPort();
            ProcessHandle child = Util.assertServerKind(port, server.getTempDirectory());
            BlockingQueue<ConnectionState> states = new LinkedBlockingQueue<>();
            c.getConnectionStateListenable().addListener((cl, st) -> states.add(st));
            c.create().forPath("/s", b("kept"));

            server.stop();
            assertFalse(Util.accepting(port), "port still accepting after stop()");
            if (child != null) {
                assertFalse(child.isAlive(), "rzk child still running after stop()");
            }
            assertEquals(ConnectionState.SUSPENDED, states.poll(30, TimeUnit.SECONDS));
            server.stop(); // no-op when stopped

            server.restart();
            Util.assertServerKind(port, server.getTempDirectory());
            assertEquals(ConnectionState.RECONNECTED, states.poll(30, TimeUnit.SECONDS));
            assertEquals("kept", s(c.getData().forPath("/s")));
        }
    }

    @Test
    void aNewServerOnTheSamePortAndDirectoryFindsTheData() throws Exception {
        TestingServer first = new TestingServer();
        int port = first.getPort();
        File dir = first.getTempDirectory();
        String lastSeq;
        try {
            try (CuratorFramework c = Util.client(first.getConnectString(), 30_000)) {
                c.create().forPath("/keep", b("k"));
                c.create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath("/seq-");
                lastSeq = c.create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath("/seq-");
            }
            first.stop(); // not close(): that would delete the directory

            TestingServer second = new TestingServer(port, dir);
            assertEquals(port, second.getPort());
            assertEquals(dir, second.getTempDirectory());
            Util.assertServerKind(port, dir);
            try (CuratorFramework c = Util.client(second.getConnectString(), 30_000)) {
                assertEquals("k", s(c.getData().forPath("/keep")));
                // The parent's cversion (the sequence counter) was persisted too.
                int next = Integer.parseInt(lastSeq.substring("/seq-".length())) + 1;
                assertEquals(String.format("/seq-%010d", next),
                    c.create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath("/seq-"));
            }
            second.close(); // TestingServer(port, dir) deletes dir on close, as stock does
            assertFalse(dir.exists(), dir + " not deleted by close()");
            assertFalse(Util.accepting(port));
        } finally {
            first.close();
        }
    }

    @Test
    void notStartedUntilStart() throws Exception {
        try (TestingServer server = new TestingServer(false)) {
            int port = server.getPort();
            assertFalse(Util.accepting(port), "serving before start()");
            assertTrue(Util.childrenFor(server.getTempDirectory()).isEmpty());
            server.start();
            Util.assertServerKind(port, server.getTempDirectory());
            try (CuratorFramework c = Util.client(server.getConnectString(), 30_000)) {
                assertNotNull(c.checkExists().forPath("/zookeeper"));
            }
        }
    }

    /** Curator writes minSessionTimeout=tickTime (Java's default is 2*tickTime), and leaves
     *  maxSessionTimeout at 20*tickTime: the negotiated bounds show both got through. */
    @Test
    void sessionTimeoutBoundsFollowCuratorsConfig() throws Exception {
        try (TestingServer server = new TestingServer()) {
            Util.assertServerKind(server.getPort(), server.getTempDirectory());
            int min = negotiated(server.getConnectString(), 500);
            int max = negotiated(server.getConnectString(), 600_000);
            assertTrue(min > 0 && min > 500, "min " + min);
            assertEquals(20 * min, max, "min " + min + " max " + max);
        }
    }

    /** TestingServer(InstanceSpec, start): tickTime, maxClientCnxns and a custom property
     *  (maxSessionTimeout) all reach the server. */
    @Test
    void instanceSpecSettingsReachTheServer() throws Exception {
        InstanceSpec spec = new InstanceSpec(null, -1, -1, -1, true, -1, 200, 5,
            Map.of("maxSessionTimeout", "3000")); // a String: stock cannot store other types
        try (TestingServer server = new TestingServer(spec, true)) {
            Util.assertServerKind(server.getPort(), server.getTempDirectory());
            assertEquals(200, negotiated(server.getConnectString(), 190)); // minSessionTimeout=tickTime
            assertEquals(3000, negotiated(server.getConnectString(), 600_000));

            // maxClientCnxns=5 per client address: a sixth connection is closed at once.
            List<Socket> open = new ArrayList<>();
            try {
                for (int i = 0; i < 5; i++) {
                    Socket s = new Socket("127.0.0.1", server.getPort());
                    open.add(s);
                }
                Thread.sleep(300);
                try (Socket sixth = new Socket("127.0.0.1", server.getPort())) {
                    sixth.setSoTimeout(1500);
                    int r;
                    try {
                        r = sixth.getInputStream().read();
                    } catch (java.net.SocketException e) {
                        r = -1; // reset: closed as well
                    }
                    assertEquals(-1, r, "sixth connection not closed");
                }
                for (Socket s : open) {
                    s.setSoTimeout(200);
                    assertThrows(java.net.SocketTimeoutException.class, () -> s.getInputStream().read(),
                        "one of the first five connections was closed");
                }
            } finally {
                for (Socket s : open) {
                    s.close();
                }
            }
        }
    }

    private static int negotiated(String connectString, int requested) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connectString, requested, ev -> {
            if (ev.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        try {
            assertTrue(connected.await(30, TimeUnit.SECONDS), "no session with timeout " + requested);
            return zk.getSessionTimeout();
        } finally {
            zk.close();
        }
    }

    /** The in-process server reads this JVM's system properties; the drop-in hands the
     *  server-side ones to rzk (zookeeper.extendedTypesEnabled, znode.container.*). */
    @Test
    void systemPropertiesReachTheServer() throws Exception {
        System.setProperty("zookeeper.extendedTypesEnabled", "true");
        System.setProperty("znode.container.checkIntervalMs", "100");
        try (TestingServer server = new TestingServer();
             CuratorFramework c = Util.client(server.getConnectString(), 30_000)) {
            Util.assertServerKind(server.getPort(), server.getTempDirectory());
            c.create().withTtl(200).withMode(CreateMode.PERSISTENT_WITH_TTL).forPath("/ttl", b("t"));
            c.create().withMode(CreateMode.CONTAINER).forPath("/box");
            c.create().forPath("/box/item");
            c.delete().forPath("/box/item");
            Util.await("TTL node reaped", 20_000, () -> exists(c, "/ttl") == Boolean.FALSE);
            Util.await("empty container reaped", 20_000, () -> exists(c, "/box") == Boolean.FALSE);
        } finally {
            System.clearProperty("zookeeper.extendedTypesEnabled");
            System.clearProperty("znode.container.checkIntervalMs");
        }
    }

    private static Boolean exists(CuratorFramework c, String path) {
        try {
            return c.checkExists().forPath(path) != null;
        } catch (Exception e) {
            return null;
        }
    }
}
