package rzk.dropin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.FailedServerStartException;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** TestingCluster through its stock API: one server (standalone: rzk with the drop-in),
 *  and three (a quorum: not on rzk). */
@Timeout(120)
class ClusterTests {
    /**
     * n specs as TestingCluster(n) makes them, but with distinct client
     * ports: Curator picks each by binding port 0 and closing it, so two
     * can come out equal, and TestingCluster then fails on a duplicate map
     * key before any server starts (InstanceSpec equality is host and port).
     */
    static List<InstanceSpec> specs(int n) {
        List<InstanceSpec> specs = new ArrayList<>();
        Set<Integer> ports = new HashSet<>();
        while (specs.size() < n) {
            InstanceSpec s = InstanceSpec.newInstanceSpec();
            if (ports.add(s.getPort())) {
                specs.add(s);
            }
        }
        return specs;
    }


    @Test
    void oneServerClusterKillAndRestart() throws Exception {
        try (TestingCluster cluster = new TestingCluster(1)) {
            cluster.start();
            InstanceSpec spec = cluster.getInstances().iterator().next();
            int port = spec.getPort();
            ProcessHandle child = Util.assertServerKind(port, spec.getDataDirectory());
            try (CuratorFramework c = Util.client(cluster.getConnectString(), 60_000)) {
                c.create().forPath("/k", "v".getBytes(StandardCharsets.UTF_8));
                assertEquals(spec, cluster.findConnectionInstance(c.getZookeeperClient().getZooKeeper()));

                assertTrue(cluster.killServer(spec));
                assertFalse(Util.accepting(port), "port still accepting after killServer()");
                if (child != null) {
                    assertFalse(child.isAlive(), "rzk child still running after killServer()");
                }

                assertTrue(cluster.restartServer(spec));
                Util.assertServerKind(port, spec.getDataDirectory());
                // Written before the kill: durable on both servers.
                assertEquals("v", new String(c.getData().forPath("/k"), StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void threeServerCluster() throws Exception {
        if (Util.expectDropIn()) {
            // rzk has no quorum mode: the drop-in refuses clearly, and starts nothing.
            TestingCluster cluster = new TestingCluster(specs(3));
            try {
                FailedServerStartException e = assertThrows(FailedServerStartException.class, cluster::start);
                assertTrue(e.getMessage().contains("quorum") && e.getMessage().contains("rzk.cluster=java"),
                    e.getMessage());
                for (InstanceSpec spec : cluster.getInstances()) {
                    assertTrue(Util.childrenFor(spec.getDataDirectory()).isEmpty());
                    assertFalse(Util.accepting(spec.getPort()));
                }
            } finally {
                cluster.close();
            }
        }
        // -Drzk.cluster=java: clusters run in-process on Apache ZooKeeper, as stock
        // (without the drop-in the property means nothing).
        System.setProperty("rzk.cluster", "java");
        try (TestingCluster cluster = new TestingCluster(specs(3))) {
            cluster.start();
            for (InstanceSpec spec : cluster.getInstances()) {
                // srvr answers "not currently serving" until the quorum has formed.
                Util.await("server " + spec.getServerId() + " serving", 30_000, () -> {
                    String srvr = Util.fourLetter(spec.getPort(), "srvr");
                    return srvr != null && srvr.startsWith("Zookeeper version: ");
                });
                assertFalse(Util.versionLine(spec.getPort()).contains("rzk"));
                assertTrue(Util.childrenFor(spec.getDataDirectory()).isEmpty());
            }
            try (CuratorFramework c = Util.client(cluster.getConnectString(), 60_000)) {
                c.create().forPath("/q", "x".getBytes(StandardCharsets.UTF_8));
                InstanceSpec connected = cluster.findConnectionInstance(c.getZookeeperClient().getZooKeeper());
                assertNotNull(connected);
                assertTrue(cluster.killServer(connected));
                // A quorum of two remains; the client moves to another server.
                assertEquals("x", new String(c.getData().forPath("/q"), StandardCharsets.UTF_8));
            }
        } finally {
            System.clearProperty("rzk.cluster");
        }
    }
}
