package rzk.curator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.atomic.PromotedToLock;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.SharedCountListener;
import org.apache.curator.framework.recipes.shared.SharedCountReader;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryNTimes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

public class CounterTests extends CuratorTestBase {
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stopPool() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }

    @Test
    void sharedCount() throws Exception {
        String countPath = path("count");
        SharedCount a = track(new SharedCount(newClient(), countPath, 0));
        SharedCount b = track(new SharedCount(newClient(), countPath, 0));
        BlockingQueue<Integer> seenByB = new LinkedBlockingQueue<>();
        b.addListener(new SharedCountListener() {
            @Override
            public void countHasChanged(SharedCountReader reader, int newCount) {
                seenByB.add(newCount);
            }

            @Override
            public void stateChanged(CuratorFramework client, ConnectionState newState) {
            }
        });
        a.start();
        b.start();
        assertEquals(0, a.getCount());
        a.setCount(5);
        assertEquals(5, poll(seenByB, "B to see 5"));
        await("B's value is 5", () -> b.getCount() == 5);

        // Optimistic update with a stale version fails.
        VersionedValue<Integer> v = b.getVersionedValue();
        assertTrue(a.trySetCount(a.getVersionedValue(), 6));
        assertFalse(b.trySetCount(v, 100), "stale version must be rejected");
        await("B catches up to 6", () -> b.getCount() == 6);

        // Concurrent increments from four clients via compare-and-set.
        List<SharedCount> counters = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            SharedCount c = track(new SharedCount(newClient(), countPath, 0));
            c.start();
            counters.add(c);
        }
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Integer>> fs = new ArrayList<>();
        for (SharedCount c : counters) {
            fs.add(pool.submit(() -> {
                go.await();
                int conflicts = 0;
                for (int k = 0; k < 25; k++) {
                    while (true) {
                        // A conflict (BadVersion from the server) makes the
                        // recipe re-read the value.
                        VersionedValue<Integer> cur = c.getVersionedValue();
                        if (c.trySetCount(cur, cur.getValue() + 1)) {
                            break;
                        }
                        conflicts++;
                    }
                }
                return conflicts;
            }));
        }
        go.countDown();
        for (Future<Integer> f : fs) {
            f.get(WAIT_S * 2, TimeUnit.SECONDS);
        }
        await("final count 106 seen by A", () -> a.getCount() == 106);
        assertEquals(106, readCount(countPath));
    }

    private int readCount(String p) throws Exception {
        byte[] d = admin.getData().forPath(p);
        return java.nio.ByteBuffer.wrap(d).getInt();
    }

    @Test
    void distributedAtomicLong() throws Exception {
        String p = path("along");
        List<DistributedAtomicLong> longs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            longs.add(new DistributedAtomicLong(newClient(), p, new RetryNTimes(1000, 1)));
        }
        DistributedAtomicLong first = longs.get(0);
        assertTrue(first.initialize(10L));
        assertFalse(longs.get(1).initialize(99L), "initialize only once");
        assertEquals(10L, first.get().postValue());

        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> fs = new ArrayList<>();
        for (DistributedAtomicLong l : longs) {
            fs.add(pool.submit(() -> {
                go.await();
                for (int k = 0; k < 25; k++) {
                    AtomicValue<Long> r = l.increment();
                    assertTrue(r.succeeded(), "increment did not succeed");
                    assertEquals(r.preValue() + 1, r.postValue());
                }
                return null;
            }));
        }
        go.countDown();
        for (Future<?> f : fs) {
            f.get(WAIT_S * 2, TimeUnit.SECONDS);
        }
        assertEquals(110L, longs.get(3).get().postValue());

        AtomicValue<Long> cas = first.compareAndSet(110L, 200L);
        assertTrue(cas.succeeded());
        assertEquals(200L, cas.postValue());
        assertFalse(longs.get(1).compareAndSet(110L, 300L).succeeded(), "CAS with a stale expected value fails");
        assertEquals(195L, longs.get(2).subtract(5L).postValue());
        assertEquals(-1L, longs.get(2).trySet(-1L).postValue());
        assertEquals(-1L, first.get().postValue());

        // With promotion to a lock (optimistic tries 0 → always the mutex path).
        DistributedAtomicLong locked = new DistributedAtomicLong(newClient(), p, new RetryNTimes(0, 0),
                PromotedToLock.builder().lockPath(path("along-lock")).retryPolicy(new RetryNTimes(3, 100))
                        .timeout(WAIT_S, TimeUnit.SECONDS).build());
        AtomicValue<Long> r = locked.add(11L);
        assertTrue(r.succeeded());
        assertEquals(10L, r.postValue());
    }
}
