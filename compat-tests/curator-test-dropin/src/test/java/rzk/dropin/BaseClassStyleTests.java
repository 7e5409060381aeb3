package rzk.dropin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.test.BaseClassForTests;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Written as a typical existing Curator-based test: extends curator-test's
 *  BaseClassForTests (its @BeforeEach creates `server`, a TestingServer) and knows nothing
 *  about rzk. */
@Timeout(120)
class BaseClassStyleTests extends BaseClassForTests {

    @Test
    void recipesOnTheInheritedServer() throws Exception {
        Util.assertServerKind(server.getPort(), server.getTempDirectory());
        try (CuratorFramework c = Util.client(server.getConnectString(), 30_000);
             CuratorCache cache = CuratorCache.build(c, "/cfg")) {
            CountDownLatch seen = new CountDownLatch(2);
            cache.listenable().addListener(CuratorCacheListener.builder()
                .forCreates(node -> seen.countDown()).build());
            cache.start();
            c.create().creatingParentsIfNeeded().forPath("/cfg/a", "1".getBytes(StandardCharsets.UTF_8));
            assertTrue(seen.await(10, TimeUnit.SECONDS), "CuratorCache saw no creates");

            InterProcessMutex lock = new InterProcessMutex(c, "/locks/x");
            assertTrue(lock.acquire(10, TimeUnit.SECONDS));
            server.restart();
            Util.assertServerKind(server.getPort(), server.getTempDirectory());
            // Same session after the restart: the lock node is still ours.
            assertEquals(1, c.getChildren().forPath("/locks/x").size());
            lock.release();
            assertEquals(0, c.getChildren().forPath("/locks/x").size());
        }
    }
}
