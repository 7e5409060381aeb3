package rzk.curator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.barriers.DistributedBarrier;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.framework.recipes.queue.DistributedPriorityQueue;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.state.ConnectionState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

public class BarrierQueueTests extends CuratorTestBase {
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stopPool() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }

    @Test
    void distributedBarrier() throws Exception {
        String barrierPath = path("barrier");
        DistributedBarrier control = new DistributedBarrier(admin, barrierPath);
        // No barrier set: passes at once.
        assertTrue(new DistributedBarrier(newClient(), barrierPath).waitOnBarrier(1, TimeUnit.SECONDS));
        control.setBarrier();
        assertFalse(new DistributedBarrier(newClient(), barrierPath).waitOnBarrier(300, TimeUnit.MILLISECONDS),
                "a set barrier holds waiters until the timeout");
        AtomicInteger passed = new AtomicInteger();
        List<Future<Boolean>> fs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            DistributedBarrier b = new DistributedBarrier(newClient(), barrierPath);
            fs.add(pool.submit(() -> {
                boolean ok = b.waitOnBarrier(WAIT_S, TimeUnit.SECONDS);
                passed.incrementAndGet();
                return ok;
            }));
        }
        Thread.sleep(500);
        assertEquals(0, passed.get(), "nobody passes a set barrier");
        control.removeBarrier();
        for (Future<Boolean> f : fs) {
            assertTrue(f.get(WAIT_S, TimeUnit.SECONDS), "released by removeBarrier");
        }
        assertNull(admin.checkExists().forPath(barrierPath));
    }

    @Test
    void distributedDoubleBarrier() throws Exception {
        String barrierPath = path("double");
        int members = 3;
        AtomicInteger arrived = new AtomicInteger();
        AtomicInteger leaving = new AtomicInteger();
        List<Future<int[]>> fs = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            DistributedDoubleBarrier b = new DistributedDoubleBarrier(newClient(), barrierPath, members);
            final int delay = 200 * i;
            fs.add(pool.submit(() -> {
                Thread.sleep(delay); // stagger arrivals
                arrived.incrementAndGet();
                assertTrue(b.enter(WAIT_S, TimeUnit.SECONDS), "enter timed out");
                int seenOnEnter = arrived.get();
                Thread.sleep(delay);
                leaving.incrementAndGet();
                assertTrue(b.leave(WAIT_S, TimeUnit.SECONDS), "leave timed out");
                int seenOnLeave = leaving.get();
                return new int[] {seenOnEnter, seenOnLeave};
            }));
        }
        for (Future<int[]> f : fs) {
            int[] r = f.get(WAIT_S * 2, TimeUnit.SECONDS);
            assertEquals(members, r[0], "enter() returned before every member arrived");
            assertEquals(members, r[1], "leave() returned before every member left");
        }
        // Too few members: enter times out.
        DistributedDoubleBarrier lonely = new DistributedDoubleBarrier(newClient(), path("double2"), 2);
        assertFalse(lonely.enter(500, TimeUnit.MILLISECONDS));
    }

    static final QueueSerializer<String> STRINGS = new QueueSerializer<>() {
        @Override
        public byte[] serialize(String item) {
            return item.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public String deserialize(byte[] bytes) {
            return new String(bytes, StandardCharsets.UTF_8);
        }
    };

    static QueueConsumer<String> collectInto(BlockingQueue<String> out) {
        return new QueueConsumer<>() {
            @Override
            public void consumeMessage(String message) {
                out.add(message);
            }

            @Override
            public void stateChanged(CuratorFramework client, ConnectionState newState) {
            }
        };
    }

    @Test
    void distributedQueue() throws Exception {
        String qPath = path("queue");
        DistributedQueue<String> producer = track(QueueBuilder.builder(newClient(), null, STRINGS, qPath).buildQueue());
        producer.start();
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String item = "item-" + i;
            sent.add(item);
            producer.put(item);
        }
        assertTrue(producer.flushPuts(WAIT_S, TimeUnit.SECONDS));
        assertEquals(20, admin.getChildren().forPath(qPath).size());

        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        DistributedQueue<String> consumer = track(QueueBuilder.builder(newClient(), collectInto(got), STRINGS, qPath).buildQueue());
        consumer.start();
        List<String> received = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            received.add(poll(got, "queue item " + i));
        }
        assertEquals(sent, received, "FIFO order");
        // Items put while the consumer runs are delivered too (children watch).
        producer.put("late");
        assertEquals("late", poll(got, "late item"));
        awaitZk("queue drained", 5000, () -> admin.getChildren().forPath(qPath).isEmpty());
    }

    @Test
    void distributedPriorityQueue() throws Exception {
        String qPath = path("pqueue");
        DistributedPriorityQueue<String> producer = track(
                QueueBuilder.builder(newClient(), null, STRINGS, qPath).buildPriorityQueue(0));
        producer.start();
        int[] priorities = {5, -3, 12, 0, 7, -3, 100, 1};
        for (int i = 0; i < priorities.length; i++) {
            producer.put("p" + priorities[i] + "#" + i, priorities[i]);
        }
        assertTrue(producer.flushPuts(WAIT_S, TimeUnit.SECONDS));
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        DistributedPriorityQueue<String> consumer = track(
                QueueBuilder.builder(newClient(), collectInto(got), STRINGS, qPath).buildPriorityQueue(0));
        consumer.start();
        List<String> received = new ArrayList<>();
        for (int i = 0; i < priorities.length; i++) {
            received.add(poll(got, "priority item " + i));
        }
        // Lowest priority value first; equal priorities in insertion order.
        assertEquals(List.of("p-3#1", "p-3#5", "p0#3", "p1#7", "p5#0", "p7#4", "p12#2", "p100#6"), received);
        awaitZk("queue drained", 5000, () -> admin.getChildren().forPath(qPath).isEmpty());
    }
}
