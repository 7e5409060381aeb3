package rzk.curator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.retry.RetryUntilElapsed;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Connection loss and session expiry across a server restart.  The server is
 * stopped and started again on the same port and dataDir by the helper named
 * in CURATOR_SERVER_CTL (compat-tests/curator/server-ctl.sh).
 */
public class RestartTests extends CuratorTestBase {
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private boolean serverDown;

    @AfterEach
    void restoreServer() throws Exception {
        pool.shutdownNow();
        if (serverDown) {
            serverCtl("start");
        }
    }

    /** Runs the restart helper: "stop" or "start". */
    void serverCtl(String action) throws Exception {
        String ctl = System.getenv("CURATOR_SERVER_CTL");
        if (ctl == null || ctl.isEmpty()) {
            fail("CURATOR_SERVER_CTL is not set (run the suite through compat-tests/curator/run.sh)");
        }
        Process p = new ProcessBuilder(ctl, action).redirectErrorStream(true).start();
        p.getOutputStream().close();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> {
            try {
                p.getInputStream().transferTo(out);
            } catch (java.io.IOException ignored) {
            }
        });
        reader.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("server-ctl " + action + " did not finish in 60 s");
        }
        reader.join(5000);
        String text = out.toString(StandardCharsets.UTF_8);
        System.out.print(text);
        assertEquals(0, p.exitValue(), "server-ctl " + action + " failed: " + text);
        serverDown = action.equals("stop");
    }

    /**
     * An operation issued while the server is down is retried by Curator and
     * succeeds once the server is back on the same address.
     */
    @Test
    void connectionLossRetriedAcrossRestart() throws Exception {
        CuratorFramework c = newClient(new RetryUntilElapsed(45000, 250), 30000);
        BlockingQueue<ConnectionState> states = recordStates(c);
        c.create().forPath(path("before"), b("x"));

        serverCtl("stop");
        awaitState(states, ConnectionState.SUSPENDED, 15000);
        Future<String> during = pool.submit(
                () -> c.create().creatingParentsIfNeeded().forPath(path("during"), b("y")));
        Thread.sleep(1000);
        assertFalse(during.isDone(), "create cannot complete while the server is down");

        serverCtl("start");
        assertEquals(path("during"), during.get(45, TimeUnit.SECONDS));
        awaitState(states, ConnectionState.RECONNECTED, 30000);
        assertEquals("y", s(c.getData().forPath(path("during"))));
        // The client is fully usable again.
        c.setData().forPath(path("during"), b("z"));
        assertEquals("z", s(admin.getData().forPath(path("during"))));
    }

    /**
     * The server stays down longer than the session timeout: Curator declares
     * the session LOST, gets a new session once the server is back, the old
     * session's ephemeral goes away, and a PersistentNode re-establishes
     * itself under the new session.  (No LeaderLatch here: Curator 5.4's
     * latch, reconnecting while its old node still exists, adopts that node
     * and never notices its later expiry — a client-side problem that later
     * Curator releases reworked, CURATOR-696/CURATOR-724.)
     */
    @Test
    void sessionLostDuringLongOutageRecipesRecover() throws Exception {
        CuratorFramework c = newClient(new ExponentialBackoffRetry(200, 10), 4000);
        BlockingQueue<ConnectionState> states = recordStates(c);
        long oldSession = sessionId(c);
        c.create().withMode(CreateMode.EPHEMERAL).forPath(path("eph"));
        PersistentNode pn = track(new PersistentNode(c, CreateMode.EPHEMERAL, false, path("pnode"), b("p")));
        pn.start();
        assertTrue(pn.waitForInitialCreate(WAIT_S, TimeUnit.SECONDS));

        serverCtl("stop");
        awaitState(states, ConnectionState.SUSPENDED, 15000);
        // No server for longer than the 4 s session timeout.
        awaitState(states, ConnectionState.LOST, 20000);

        serverCtl("start");
        awaitState(states, ConnectionState.RECONNECTED, 30000);
        long newSession = sessionId(c);
        assertNotEquals(oldSession, newSession, "a new session after LOST");
        awaitZk("old session's ephemeral removed", 30000, () -> admin.checkExists().forPath(path("eph")) == null);
        awaitZk("PersistentNode recreated under the new session", 30000, () -> {
            Stat st = admin.checkExists().forPath(path("pnode"));
            return st != null && st.getEphemeralOwner() == newSession;
        });
        assertEquals("p", s(admin.getData().forPath(path("pnode"))));
    }

    /**
     * A short outage (within the session timeout): the session, its ephemeral
     * node, the data and a watch all survive; zxids continue.  Needs a server
     * that keeps its data and sessions across a restart (txn log/snapshot).
     */
    @Test
    @Tag("needs-persistence")
    void restartKeepsSessionDataAndWatches() throws Exception {
        CuratorFramework c = newClient(new ExponentialBackoffRetry(200, 10), 20000);
        BlockingQueue<ConnectionState> states = recordStates(c);
        long sid = sessionId(c);
        c.create().forPath(path("data"), b("persisted"));
        c.create().withMode(CreateMode.EPHEMERAL).forPath(path("eph"), b("e"));
        assertEquals(path("seq-0000000002"), c.create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(path("seq-")));
        Stat before = admin.checkExists().forPath(path("data"));
        BlockingQueue<WatchedEvent> watched = new LinkedBlockingQueue<>();
        // Connection events (type None) reach this watcher too: keep node events only.
        c.getData().usingWatcher((CuratorWatcher) e -> {
            if (e.getType() != Watcher.Event.EventType.None) {
                watched.add(e);
            }
        }).forPath(path("data"));

        serverCtl("stop");
        awaitState(states, ConnectionState.SUSPENDED, 15000);
        serverCtl("start");
        List<ConnectionState> seen = awaitState(states, ConnectionState.RECONNECTED, 30000);
        assertFalse(seen.contains(ConnectionState.LOST), "session must survive a short restart; states " + seen);
        assertEquals(sid, sessionId(c), "same session after the restart");

        Stat after = admin.checkExists().forPath(path("data"));
        assertNotNull(after, "persistent node survives the restart");
        assertEquals(before.getMzxid(), after.getMzxid());
        assertEquals(before.getCzxid(), after.getCzxid());
        assertArrayEquals(b("persisted"), admin.getData().forPath(path("data")));
        Stat eph = admin.checkExists().forPath(path("eph"));
        assertNotNull(eph, "the live session's ephemeral survives");
        assertEquals(sid, eph.getEphemeralOwner());
        assertEquals(path("seq-0000000003"), c.create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(path("seq-")),
                "parent's sequence counter survives");
        Stat fresh = admin.checkExists().forPath(path("seq-0000000003"));
        assertTrue(fresh.getCzxid() > before.getMzxid(), "zxids continue after the restart");

        // The data watch set before the restart is still armed (re-sent by the client).
        admin.setData().forPath(path("data"), b("changed"));
        WatchedEvent ev = poll(watched, "the pre-restart data watch");
        assertEquals(Watcher.Event.EventType.NodeDataChanged, ev.getType());
        assertEquals(path("data"), ev.getPath());
    }
}
