package rzk.curator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.nodes.GroupMember;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.recipes.nodes.PersistentTtlNode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

/** CuratorCache, PersistentNode, PersistentTtlNode, GroupMember, containers. */
public class NodeTests extends CuratorTestBase {
    // Java reports 0 as the ephemeralOwner of container and TTL nodes (it
    // keeps their type in the owner field internally but hides it from
    // clients), so these are told apart by behaviour: being reaped.

    record Ev(CuratorCacheListener.Type type, String path, String data) {
        @Override
        public String toString() {
            return type + " " + path + (data != null ? "=" + data : "");
        }
    }

    private static Ev next(BlockingQueue<Ev> q) throws InterruptedException {
        return poll(q, "a cache event");
    }

    /**
     * CuratorCache keeps a persistent recursive watch on its root: it must see
     * creates, updates and deletes anywhere below, including grandchildren
     * created after the cache started.
     */
    @Test
    void curatorCacheSeesDescendants() throws Exception {
        String top = path("cache");
        admin.create().forPath(top, b("top"));
        admin.create().forPath(top + "/pre", b("pre"));
        CuratorFramework cacheClient = newClient();
        CuratorCache cache = track(CuratorCache.build(cacheClient, top));
        BlockingQueue<Ev> events = new LinkedBlockingQueue<>();
        CountDownLatch initialized = new CountDownLatch(1);
        cache.listenable().addListener(new CuratorCacheListener() {
            @Override
            public void event(Type type, ChildData oldData, ChildData data) {
                ChildData d = data != null ? data : oldData;
                events.add(new Ev(type, d.getPath(), type == Type.NODE_DELETED ? null : s(d.getData())));
            }

            @Override
            public void initialized() {
                initialized.countDown();
            }
        });
        cache.start();
        assertTrue(initialized.await(WAIT_S, TimeUnit.SECONDS), "cache initialized");
        // Initial load: the two existing nodes, as creates.
        TreeSet<String> initial = new TreeSet<>();
        initial.add(next(events).toString());
        initial.add(next(events).toString());
        assertEquals(new TreeSet<>(List.of("NODE_CREATED " + top + "=top", "NODE_CREATED " + top + "/pre=pre")), initial);

        // The cache's session watches only its root (one persistent
        // recursive watch; wchc lists it with the data watches).
        awaitWatches("cache session's watch table", 5000, Map.of(sessionId(cacheClient), Set.of(top)));

        CuratorFramework writer = newClient();
        writer.create().forPath(top + "/a", b("1"));
        assertEquals("NODE_CREATED " + top + "/a=1", next(events).toString());
        writer.create().forPath(top + "/a/b", b("2"));
        assertEquals("NODE_CREATED " + top + "/a/b=2", next(events).toString());
        writer.create().forPath(top + "/a/b/c", b("3"));
        assertEquals("NODE_CREATED " + top + "/a/b/c=3", next(events).toString());
        writer.setData().forPath(top + "/a/b", b("2b"));
        assertEquals("NODE_CHANGED " + top + "/a/b=2b", next(events).toString());
        writer.setData().forPath(top + "/a/b/c", b("3b"));
        assertEquals("NODE_CHANGED " + top + "/a/b/c=3b", next(events).toString());
        writer.delete().forPath(top + "/a/b/c");
        assertEquals("NODE_DELETED " + top + "/a/b/c", next(events).toString());
        writer.setData().forPath(top, b("top2"));
        assertEquals("NODE_CHANGED " + top + "=top2", next(events).toString());
        writer.delete().deletingChildrenIfNeeded().forPath(top + "/a");
        TreeSet<String> dels = new TreeSet<>(List.of(next(events).toString(), next(events).toString()));
        assertEquals(new TreeSet<>(List.of("NODE_DELETED " + top + "/a", "NODE_DELETED " + top + "/a/b")), dels);
        // Ephemerals and sequentials too.
        String seq = writer.create().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath(top + "/pre/e-", b("e"));
        assertEquals("NODE_CREATED " + seq + "=e", next(events).toString());

        // The cache's view matches the server.
        await("cache contents", () -> cache.size() == 3);
        assertEquals("top2", s(cache.get(top).get().getData()));
        assertEquals("pre", s(cache.get(top + "/pre").get().getData()));
        assertTrue(cache.get(seq).isPresent());
        assertTrue(cache.get(top + "/a").isEmpty());
        Thread.sleep(200);
        assertNull(events.poll(), "no spurious events");
    }

    @Test
    void persistentNode() throws Exception {
        String p = path("pnode");
        CuratorFramework owner = newClient();
        PersistentNode node = track(new PersistentNode(owner, CreateMode.EPHEMERAL, false, p, b("v1")));
        node.start();
        assertTrue(node.waitForInitialCreate(WAIT_S, TimeUnit.SECONDS));
        assertEquals(p, node.getActualPath());
        Stat st = admin.checkExists().forPath(p);
        assertNotNull(st);
        assertEquals(sessionId(owner), st.getEphemeralOwner());
        assertEquals("v1", s(admin.getData().forPath(p)));

        // Deleted behind its back: recreated (it watches its node).
        admin.delete().forPath(p);
        awaitZk("node recreated", WAIT_S * 1000, () -> admin.checkExists().forPath(p) != null);
        assertEquals("v1", s(admin.getData().forPath(p)));

        node.setData(b("v2")); // applied in the background
        awaitZk("setData applied", WAIT_S * 1000, () -> "v2".equals(s(admin.getData().forPath(p))));

        // Protected sequential variant.
        PersistentNode seq = track(new PersistentNode(owner, CreateMode.EPHEMERAL_SEQUENTIAL, true, path("seq-"), b("s")));
        seq.start();
        assertTrue(seq.waitForInitialCreate(WAIT_S, TimeUnit.SECONDS));
        String actual = seq.getActualPath();
        assertTrue(actual.matches(".*/_c_[0-9a-f-]{36}-seq-\\d{10}"), actual);
        assertEquals("s", s(admin.getData().forPath(actual)));

        node.close();
        seq.close();
        assertNull(admin.checkExists().forPath(p), "closed PersistentNode deletes its node");
        assertNull(admin.checkExists().forPath(actual));
    }

    /**
     * PersistentTtlNode: a container holding a TTL child that is touched
     * every ttl/2; after close the child expires and the container is reaped
     * (the servers run with znode.container.checkIntervalMs=500).
     */
    @Test
    void persistentTtlNode() throws Exception {
        String p = path("ttl");
        long ttl = 1000;
        PersistentTtlNode node = track(new PersistentTtlNode(newClient(), p, ttl, b("ttl-data")));
        node.start();
        assertTrue(node.waitForInitialCreate(WAIT_S, TimeUnit.SECONDS));
        Stat st = admin.checkExists().forPath(p);
        assertNotNull(st);
        assertEquals(0L, st.getEphemeralOwner(), "a container shows ephemeralOwner 0");
        assertEquals("ttl-data", s(admin.getData().forPath(p)));
        String child = p + "/" + PersistentTtlNode.DEFAULT_CHILD_NODE_NAME;
        awaitZk("touch child", 5000, () -> admin.checkExists().forPath(child) != null);
        Stat cst = admin.checkExists().forPath(child);
        assertEquals(0L, cst.getEphemeralOwner(), "a TTL node shows ephemeralOwner 0");

        // Kept alive well past its TTL while running.
        Thread.sleep(3 * ttl);
        assertNotNull(admin.checkExists().forPath(p), "alive while touched");
        Stat later = admin.checkExists().forPath(child);
        assertNotNull(later);
        assertTrue(later.getMtime() > cst.getMtime(), "child was touched");

        node.close();
        awaitZk("TTL child expired after close", 15000, () -> admin.checkExists().forPath(child) == null);
        awaitZk("container reaped after its child expired", 15000, () -> admin.checkExists().forPath(p) == null);
    }

    @Test
    void creatingParentContainersIfNeeded() throws Exception {
        String leaf = path("x/y/z");
        CuratorFramework c = newClient();
        c.create().creatingParentContainersIfNeeded().forPath(leaf, b("leaf"));
        assertEquals(0L, admin.checkExists().forPath(path("x")).getEphemeralOwner());
        assertEquals(0L, admin.checkExists().forPath(path("x/y")).getEphemeralOwner());
        assertEquals(0L, admin.checkExists().forPath(leaf).getEphemeralOwner(), "leaf is persistent");
        assertEquals("leaf", s(admin.getData().forPath(leaf)));
        // Existing parents are left as they are.
        c.create().creatingParentContainersIfNeeded().withMode(CreateMode.EPHEMERAL).forPath(path("x/y/e"));
        assertEquals(sessionId(c), admin.checkExists().forPath(path("x/y/e")).getEphemeralOwner());
        // creatingParentsIfNeeded makes plain persistent parents.
        c.create().creatingParentsIfNeeded().forPath(path("p/q/r"));
        assertEquals(0L, admin.checkExists().forPath(path("p/q")).getEphemeralOwner());

        // Once empty, the containers are reaped bottom-up.
        c.delete().forPath(leaf);
        c.delete().forPath(path("x/y/e"));
        awaitZk("container y reaped", 15000, () -> admin.checkExists().forPath(path("x/y")) == null);
        awaitZk("container x reaped", 15000, () -> admin.checkExists().forPath(path("x")) == null);
        assertNotNull(admin.checkExists().forPath(path("p/q")), "persistent parents stay");
    }

    @Test
    void groupMember() throws Exception {
        String g = path("group");
        GroupMember[] members = new GroupMember[3];
        for (int i = 0; i < members.length; i++) {
            members[i] = track(new GroupMember(newClient(), g, "m" + i, b("payload" + i)));
            members[i].start();
        }
        for (GroupMember m : members) {
            await("all members visible", () -> m.getCurrentMembers().size() == 3);
        }
        Map<String, byte[]> view = members[0].getCurrentMembers();
        assertEquals(Set.of("m0", "m1", "m2"), view.keySet());
        assertArrayEquals(b("payload2"), view.get("m2"));

        members[1].setThisData(b("changed"));
        await("new data seen by others", () -> {
            byte[] d = members[2].getCurrentMembers().get("m1");
            return d != null && "changed".equals(s(d));
        });

        members[0].close();
        await("departure seen by others", () -> members[1].getCurrentMembers().keySet().equals(Set.of("m1", "m2"))
                && members[2].getCurrentMembers().keySet().equals(Set.of("m1", "m2")));
    }
}
