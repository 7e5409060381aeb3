package rzk.curator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.leader.Participant;
import org.junit.jupiter.api.Test;

public class LeaderTests extends CuratorTestBase {

    private static List<LeaderLatch> leaders(List<LeaderLatch> latches) {
        List<LeaderLatch> out = new ArrayList<>();
        for (LeaderLatch l : latches) {
            if (l.getState() == LeaderLatch.State.STARTED && l.hasLeadership()) {
                out.add(l);
            }
        }
        return out;
    }

    /** Exactly one leader among N; closing the leader moves leadership on. */
    @Test
    void leaderLatch() throws Exception {
        String latchPath = path("latch");
        List<LeaderLatch> latches = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            LeaderLatch l = new LeaderLatch(newClient(), latchPath, "p" + i);
            latches.add(l);
            track(l);
            l.start();
        }
        List<String> formerLeaders = new ArrayList<>();
        while (!latches.isEmpty()) {
            await("one leader among " + latches.size(), () -> leaders(latches).size() == 1);
            Thread.sleep(200);
            List<LeaderLatch> now = leaders(latches);
            assertEquals(1, now.size(), "exactly one leader, stable");
            LeaderLatch leader = now.get(0);
            assertFalse(formerLeaders.contains(leader.getId()));
            // Everyone agrees on who leads.
            for (LeaderLatch l : latches) {
                Participant p = l.getLeader();
                assertEquals(leader.getId(), p.getId(), "leader as seen by " + l.getId());
                assertTrue(p.isLeader());
                assertEquals(latches.size(), l.getParticipants().size());
            }
            assertTrue(leader.await(1, TimeUnit.SECONDS));
            for (LeaderLatch l : latches) {
                if (l != leader) {
                    assertFalse(l.await(10, TimeUnit.MILLISECONDS));
                }
            }
            formerLeaders.add(leader.getId());
            latches.remove(leader);
            leader.close();
        }
        assertEquals(4, formerLeaders.size());
        awaitNoChildren("latch nodes gone", 5000, latchPath);
    }

    /** autoRequeue: each participant leads repeatedly, never two at a time. */
    @Test
    void leaderSelectorAutoRequeue() throws Exception {
        String selPath = path("selector");
        AtomicInteger current = new AtomicInteger();
        AtomicInteger maxConcurrent = new AtomicInteger();
        AtomicInteger total = new AtomicInteger();
        Map<String, AtomicInteger> perId = new ConcurrentHashMap<>();
        List<LeaderSelector> selectors = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String id = "s" + i;
            perId.put(id, new AtomicInteger());
            LeaderSelector sel = new LeaderSelector(newClient(), selPath, new LeaderSelectorListenerAdapter() {
                @Override
                public void takeLeadership(CuratorFramework client) throws Exception {
                    int c = current.incrementAndGet();
                    maxConcurrent.accumulateAndGet(c, Math::max);
                    perId.get(id).incrementAndGet();
                    total.incrementAndGet();
                    try {
                        Thread.sleep(80);
                    } finally {
                        current.decrementAndGet();
                    }
                }
            });
            sel.setId(id);
            sel.autoRequeue();
            selectors.add(sel);
            track(sel);
        }
        for (LeaderSelector s : selectors) {
            s.start();
        }
        await("each selector led at least 3 times", () -> perId.values().stream().allMatch(a -> a.get() >= 3));
        assertEquals(1, maxConcurrent.get(), "never two leaders at once");
        assertTrue(total.get() >= 9);
        // Participants are visible to all (a leader that just finished is
        // briefly absent while it requeues, hence the polling).
        for (LeaderSelector s : selectors) {
            await("3 participants seen by " + s.getId(), () -> {
                try {
                    return s.getParticipants().size() == 3;
                } catch (Exception e) {
                    return false;
                }
            });
        }
        for (LeaderSelector s : selectors) {
            s.close();
        }
        int after = total.get();
        Thread.sleep(300);
        assertTrue(total.get() <= after + 1, "no leadership after close");
    }
}
