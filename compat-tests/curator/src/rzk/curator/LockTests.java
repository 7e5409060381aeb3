package rzk.curator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.locks.InterProcessLock;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreMutex;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Locks and semaphores: mutual exclusion, fairness, herd-free waiting. */
public class LockTests extends CuratorTestBase {
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stopPool() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }

    /** Runs `threads` workers that take `lockFor(i)` and hold it 50 ms; checks exclusion. */
    private void contend(int threads, java.util.function.IntFunction<InterProcessLock> lockFor) throws Exception {
        AtomicInteger holders = new AtomicInteger();
        AtomicInteger maxHolders = new AtomicInteger();
        AtomicInteger acquired = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> fs = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            InterProcessLock lock = lockFor.apply(i);
            fs.add(pool.submit(() -> {
                start.await();
                assertTrue(lock.acquire(WAIT_S * 2, TimeUnit.SECONDS), "acquire timed out");
                try {
                    int h = holders.incrementAndGet();
                    maxHolders.accumulateAndGet(h, Math::max);
                    acquired.incrementAndGet();
                    Thread.sleep(50);
                    holders.decrementAndGet();
                } finally {
                    lock.release();
                }
                return null;
            }));
        }
        long t0 = System.nanoTime();
        start.countDown();
        for (Future<?> f : fs) {
            f.get(WAIT_S * 3, TimeUnit.SECONDS);
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertEquals(threads, acquired.get(), "every thread got the lock");
        assertEquals(1, maxHolders.get(), "never more than one holder");
        assertTrue(ms >= threads * 50L, "holds were serialised (" + ms + " ms)");
    }

    @Test
    void interProcessMutex() throws Exception {
        String lockPath = path("mutex");
        CuratorFramework[] clients = new CuratorFramework[5];
        for (int i = 0; i < clients.length; i++) {
            clients[i] = newClient();
        }
        contend(10, i -> new InterProcessMutex(clients[i % clients.length], lockPath));
        // Every lock node is gone again.
        assertEquals(List.of(), admin.getChildren().forPath(lockPath));

        // Re-entrant for the owning thread.
        InterProcessMutex m = new InterProcessMutex(clients[0], lockPath);
        assertTrue(m.acquire(5, TimeUnit.SECONDS));
        assertTrue(m.acquire(5, TimeUnit.SECONDS));
        assertTrue(m.isAcquiredInThisProcess());
        InterProcessMutex other = new InterProcessMutex(clients[1], lockPath);
        assertFalse(other.acquire(300, TimeUnit.MILLISECONDS), "second process must not get a held mutex");
        m.release();
        assertFalse(other.acquire(300, TimeUnit.MILLISECONDS), "still held once (re-entrant count)");
        m.release();
        assertTrue(other.acquire(5, TimeUnit.SECONDS));
        other.release();
    }

    private static String seqOf(String node) {
        return node.substring(node.length() - 10);
    }

    private List<String> sortedLockNodes(String lockPath) throws Exception {
        List<String> ch = new ArrayList<>(admin.getChildren().forPath(lockPath));
        ch.sort(Comparator.comparing(LockTests::seqOf));
        return ch;
    }

    /** Session id owning each (ephemeral) lock node. */
    private Map<String, Long> owners(String lockPath, Collection<String> nodes) throws Exception {
        Map<String, Long> m = new HashMap<>();
        for (String n : nodes) {
            Stat st = admin.checkExists().forPath(lockPath + "/" + n);
            assertNotNull(st, n);
            m.put(n, st.getEphemeralOwner());
        }
        return m;
    }

    /**
     * Eight waiters queue on a held mutex, each on its own session: each must
     * watch exactly its predecessor's node (no herd on the lock's children),
     * and the lock is granted in queue order.
     */
    @Test
    void mutexWaitersWatchOnlyPredecessor() throws Exception {
        String lockPath = path("fair");
        int n = 8;
        InterProcessMutex holder = new InterProcessMutex(newClient(), lockPath);
        assertTrue(holder.acquire(WAIT_S, TimeUnit.SECONDS));
        BlockingQueue<Integer> order = new LinkedBlockingQueue<>();
        List<Long> sessions = new ArrayList<>();
        List<CountDownLatch> releases = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            CuratorFramework c = newClient();
            sessions.add(sessionId(c));
            InterProcessMutex m = new InterProcessMutex(c, lockPath);
            CountDownLatch release = new CountDownLatch(1);
            releases.add(release);
            final int id = i;
            pool.submit(() -> {
                if (m.acquire(WAIT_S * 3, TimeUnit.SECONDS)) {
                    order.add(id);
                    release.await(WAIT_S * 3, TimeUnit.SECONDS);
                    m.release();
                } else {
                    order.add(-1 - id);
                }
                return null;
            });
            // Queue strictly one after the other.
            final int want = i + 2;
            awaitZk("waiter " + i + " queued", WAIT_S * 1000, () -> admin.getChildren().forPath(lockPath).size() == want);
        }
        List<String> nodes = sortedLockNodes(lockPath);
        Map<String, Long> owner = owners(lockPath, nodes);
        for (int i = 0; i < n; i++) {
            assertEquals(sessions.get(i), owner.get(nodes.get(i + 1)), "queue position " + (i + 1));
        }
        // Give the waiters' getData-with-watch time to land, then compare the
        // server's watch table with the predecessor rule.
        Map<Long, Set<String>> wantW = new HashMap<>();
        for (int i = 0; i < n; i++) {
            wantW.put(sessions.get(i), Set.of(lockPath + "/" + nodes.get(i)));
        }
        awaitWatches("every waiter watches its predecessor", 5000, wantW);
        Map<Long, TreeSet<String>> w = watchesBySession();
        for (Map.Entry<Long, TreeSet<String>> e : w.entrySet()) {
            assertFalse(e.getValue().contains(lockPath), "session 0x" + Long.toHexString(e.getKey())
                    + " watches the lock directory itself: " + e.getValue());
        }
        // Quiet while nothing changes: no polling by the waiters.
        long before = Long.parseLong(mntr().get("zk_packets_received"));
        Thread.sleep(1000);
        long after = Long.parseLong(mntr().get("zk_packets_received"));
        // A few pings (and our own mntr) at most; polling waiters would send far more.
        assertTrue(after - before <= n, "waiters were busy while waiting: " + (after - before) + " packets in 1 s");

        holder.release();
        for (int i = 0; i < n; i++) {
            assertEquals(i, poll(order, "waiter " + i + " to acquire"), "lock granted in queue order");
            Thread.sleep(30);
            assertNull(order.poll(), "only one holder at a time");
            releases.get(i).countDown();
        }
        awaitLockDirEmpty(lockPath);
    }

    @Test
    void interProcessSemaphoreMutex() throws Exception {
        String lockPath = path("semmutex");
        CuratorFramework[] clients = {newClient(), newClient(), newClient()};
        contend(6, i -> new InterProcessSemaphoreMutex(clients[i % clients.length], lockPath));

        // Not re-entrant: the same thread cannot take it twice.
        InterProcessSemaphoreMutex m = new InterProcessSemaphoreMutex(clients[0], lockPath);
        assertTrue(m.acquire(5, TimeUnit.SECONDS));
        assertFalse(m.acquire(300, TimeUnit.MILLISECONDS), "semaphore mutex is not re-entrant");
        InterProcessSemaphoreMutex other = new InterProcessSemaphoreMutex(clients[1], lockPath);
        assertFalse(other.acquire(300, TimeUnit.MILLISECONDS));
        m.release();
        assertTrue(other.acquire(5, TimeUnit.SECONDS));
        other.release();
    }

    @Test
    void readWriteLockSharingAndExclusion() throws Exception {
        String lockPath = path("rw");
        CuratorFramework[] clients = {newClient(), newClient(), newClient(), newClient()};
        InterProcessReadWriteLock[] rw = new InterProcessReadWriteLock[clients.length];
        for (int i = 0; i < clients.length; i++) {
            rw[i] = new InterProcessReadWriteLock(clients[i], lockPath);
        }
        // Three readers hold it at once.
        CountDownLatch allHolding = new CountDownLatch(3);
        CountDownLatch done = new CountDownLatch(1);
        List<Future<?>> readers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            InterProcessLock r = rw[i].readLock();
            readers.add(pool.submit(() -> {
                assertTrue(r.acquire(WAIT_S, TimeUnit.SECONDS));
                allHolding.countDown();
                done.await(WAIT_S, TimeUnit.SECONDS);
                r.release();
                return null;
            }));
        }
        assertTrue(allHolding.await(WAIT_S, TimeUnit.SECONDS), "readers share the lock");
        // A writer is excluded while they read.
        InterProcessLock writer = rw[3].writeLock();
        assertFalse(writer.acquire(500, TimeUnit.MILLISECONDS), "writer must wait for readers");
        done.countDown();
        for (Future<?> f : readers) {
            f.get(WAIT_S, TimeUnit.SECONDS);
        }
        assertTrue(writer.acquire(WAIT_S, TimeUnit.SECONDS));
        // Readers and other writers are excluded while it writes.
        assertFalse(rw[0].readLock().acquire(500, TimeUnit.MILLISECONDS), "reader must wait for the writer");
        assertFalse(rw[1].writeLock().acquire(500, TimeUnit.MILLISECONDS), "writers exclude each other");
        // The writer may downgrade: take the read lock while holding the write lock.
        assertTrue(rw[3].readLock().acquire(5, TimeUnit.SECONDS), "writer can also take the read lock");
        writer.release();
        assertTrue(rw[0].readLock().acquire(5, TimeUnit.SECONDS), "readers share with the downgraded writer");
        assertFalse(rw[1].writeLock().acquire(300, TimeUnit.MILLISECONDS));
        rw[0].readLock().release();
        rw[3].readLock().release();
        assertTrue(rw[1].writeLock().acquire(5, TimeUnit.SECONDS));
        rw[1].writeLock().release();
        awaitLockDirEmpty(lockPath);
    }

    /**
     * Queue W0 (holding), R1, R2, W3, R4, W5, each on its own session.  Each
     * waiter must watch only the node the recipe's rule names (a writer its
     * immediate predecessor, a reader the first writer ahead of it), and the
     * lock must be granted in queue order: R1+R2 together, then W3, then R4,
     * then W5.
     */
    @Test
    void readWriteLockQueueOrderAndWatches() throws Exception {
        String lockPath = path("rwq");
        String[] kinds = {"W", "R", "R", "W", "R", "W"};
        int n = kinds.length;
        List<Long> sessions = new ArrayList<>();
        List<CountDownLatch> releases = new ArrayList<>();
        BlockingQueue<Integer> granted = new LinkedBlockingQueue<>();
        for (int i = 0; i < n; i++) {
            CuratorFramework c = newClient();
            sessions.add(sessionId(c));
            InterProcessReadWriteLock rw = new InterProcessReadWriteLock(c, lockPath);
            InterProcessLock lock = kinds[i].equals("W") ? rw.writeLock() : rw.readLock();
            CountDownLatch release = new CountDownLatch(1);
            releases.add(release);
            final int id = i;
            pool.submit(() -> {
                if (lock.acquire(WAIT_S * 3, TimeUnit.SECONDS)) {
                    granted.add(id);
                    release.await(WAIT_S * 3, TimeUnit.SECONDS);
                    lock.release();
                } else {
                    granted.add(-1 - id);
                }
                return null;
            });
            final int want = i + 1;
            awaitZk(kinds[i] + i + " queued", WAIT_S * 1000, () -> admin.getChildren().forPath(lockPath).size() == want);
            if (i == 0) {
                assertEquals(0, poll(granted, "W0 to acquire"));
            }
        }
        List<String> nodes = sortedLockNodes(lockPath);
        Map<String, Long> owner = owners(lockPath, nodes);
        for (int i = 0; i < n; i++) {
            assertEquals(sessions.get(i), owner.get(nodes.get(i)), "queue position " + i);
            assertTrue(nodes.get(i).contains(kinds[i].equals("W") ? "__WRIT__" : "__READ__"), nodes.get(i));
        }
        // Expected watch per waiter (W0 holds and watches nothing).
        Map<Long, TreeSet<String>> want = new HashMap<>();
        for (int i = 1; i < n; i++) {
            int target = kinds[i].equals("W") ? i - 1 : 0; // first writer ahead of every reader is W0
            want.put(sessions.get(i), new TreeSet<>(List.of(lockPath + "/" + nodes.get(target))));
        }
        want.put(sessions.get(0), new TreeSet<>()); // the holder watches nothing
        awaitWatches("watches as the recipe prescribes", 5000, want);
        Thread.sleep(200);
        assertNull(granted.poll(), "nobody but W0 holds the lock yet");

        releases.get(0).countDown(); // W0 leaves: R1 and R2 together
        Set<Integer> both = new TreeSet<>(List.of(poll(granted, "R1/R2"), poll(granted, "R1/R2")));
        assertEquals(new TreeSet<>(List.of(1, 2)), both);
        Thread.sleep(200);
        assertNull(granted.poll(), "W3 waits for both readers; R4 waits behind W3");
        releases.get(1).countDown();
        Thread.sleep(200);
        assertNull(granted.poll(), "W3 still waits for R2");
        releases.get(2).countDown();
        assertEquals(3, poll(granted, "W3"));
        Thread.sleep(200);
        assertNull(granted.poll(), "R4 waits for W3");
        releases.get(3).countDown();
        assertEquals(4, poll(granted, "R4"));
        Thread.sleep(200);
        assertNull(granted.poll(), "W5 waits for R4");
        releases.get(4).countDown();
        assertEquals(5, poll(granted, "W5"));
        releases.get(5).countDown();
        awaitLockDirEmpty(lockPath);
    }

    @Test
    void interProcessSemaphoreV2() throws Exception {
        String semPath = path("sem");
        int maxLeases = 3;
        int threads = 8;
        CuratorFramework[] clients = {newClient(), newClient(), newClient(), newClient()};
        AtomicInteger inUse = new AtomicInteger();
        AtomicInteger maxInUse = new AtomicInteger();
        AtomicInteger leases = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> fs = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            InterProcessSemaphoreV2 sem = new InterProcessSemaphoreV2(clients[i % clients.length], semPath, maxLeases);
            fs.add(pool.submit(() -> {
                start.await();
                for (int k = 0; k < 2; k++) {
                    Lease lease = sem.acquire(WAIT_S * 2, TimeUnit.SECONDS);
                    assertNotNull(lease, "acquire timed out");
                    try {
                        int u = inUse.incrementAndGet();
                        maxInUse.accumulateAndGet(u, Math::max);
                        leases.incrementAndGet();
                        Thread.sleep(60);
                        inUse.decrementAndGet();
                    } finally {
                        sem.returnLease(lease);
                    }
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : fs) {
            f.get(WAIT_S * 3, TimeUnit.SECONDS);
        }
        assertEquals(threads * 2, leases.get());
        assertTrue(maxInUse.get() <= maxLeases, "at most " + maxLeases + " leases at once, saw " + maxInUse.get());
        assertTrue(maxInUse.get() >= 2, "leases were actually shared, max " + maxInUse.get());

        // All leases taken: the next acquire times out; returning one frees it.
        InterProcessSemaphoreV2 a = new InterProcessSemaphoreV2(clients[0], semPath, maxLeases);
        InterProcessSemaphoreV2 b = new InterProcessSemaphoreV2(clients[1], semPath, maxLeases);
        Collection<Lease> acquired = a.acquire(maxLeases, WAIT_S, TimeUnit.SECONDS);
        assertNotNull(acquired);
        List<Lease> three = new ArrayList<>(acquired);
        assertEquals(maxLeases, three.size());
        assertEquals(maxLeases, a.getParticipantNodes().size());
        assertNull(b.acquire(400, TimeUnit.MILLISECONDS), "no lease beyond maxLeases");
        Lease one = three.iterator().next();
        a.returnLease(one);
        Lease got = b.acquire(WAIT_S, TimeUnit.SECONDS);
        assertNotNull(got, "a returned lease can be taken");
        b.returnLease(got);
        three.remove(one);
        a.returnAll(three);
        await("no participants left", () -> {
            try {
                return a.getParticipantNodes().isEmpty();
            } catch (Exception e) {
                return false;
            }
        });
    }

    /** Every lock node is gone once every holder has released. The lock
     *  directory is a container: once empty, the server's container manager
     *  may delete it before we look, which says the same. */
    private void awaitLockDirEmpty(String lockPath) throws Exception {
        awaitNoChildren("lock directory empty", WAIT_S * 1000, lockPath);
    }
}
