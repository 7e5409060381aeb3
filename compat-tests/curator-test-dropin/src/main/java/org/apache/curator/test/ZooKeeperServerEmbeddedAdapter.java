/*
 * rzk drop-in replacement for curator-test 5.4.0's class of the same name (same public API).
 *
 * Stock curator-test 5.4.0 uses this class for every TestingServer / TestingCluster server
 * whenever ZooKeeper's org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded exists
 * (ZooKeeper 3.7+, so always with 3.8): it is the class that decides where the server runs.
 * This version runs rzk as a child process instead (see RzkChildProcess); multi-server
 * configurations fail clearly, or run in-process on Apache ZooKeeper as the stock class
 * does when -Drzk.cluster=java.
 */
package org.apache.curator.test;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Properties;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;
import org.apache.zookeeper.server.quorum.QuorumPeerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

public class ZooKeeperServerEmbeddedAdapter implements ZooKeeperMainFace {
    private static final Logger log = LoggerFactory.getLogger(ZooKeeperServerEmbeddedAdapter.class);
    private static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofMinutes(1);

    /** Only for -Drzk.cluster=java with several servers: the stock in-process server. */
    private volatile ZooKeeperServerEmbedded zooKeeperEmbedded;
    private volatile QuorumConfigBuilder configBuilder;
    private volatile int instanceIndex;
    private volatile RzkChildProcess rzk;

    public ZooKeeperServerEmbeddedAdapter() {
    }

    @Override
    public void configure(QuorumConfigBuilder config, int instanceIndex) throws Exception {
        this.configBuilder = config;
        this.instanceIndex = instanceIndex;
        if (RzkChildProcess.runsInProcess(config)) {
            // Exactly the stock adapter's configure().
            Properties properties = config.buildConfigProperties(instanceIndex);
            properties.put("admin.enableServer", "false");
            Path dataDir = Paths.get(properties.getProperty("dataDir"));
            zooKeeperEmbedded = ZooKeeperServerEmbedded.builder()
                .configuration(properties)
                .baseDir(dataDir.getParent())
                .build();
            log.info("Configure ZooKeeperServerEmbeddedAdapter with properties: {} (in-process:"
                + " -Drzk.cluster=java)", properties);
        }
    }

    @Override
    public QuorumPeerConfig getConfig() throws Exception {
        return configBuilder != null ? configBuilder.buildConfig(instanceIndex) : null;
    }

    @Override
    public void start() {
        if (zooKeeperEmbedded != null) {
            try {
                zooKeeperEmbedded.start(DEFAULT_STARTUP_TIMEOUT.toMillis());
            } catch (Exception e) {
                throw new FailedServerStartException(e);
            }
            return;
        }
        rzk = RzkChildProcess.start(configBuilder, instanceIndex);
    }

    /** TestingCluster.killServer(): SIGKILL the rzk child and wait for it (the stock adapter
     *  only has close(); an abrupt kill is what the quorum/standalone mains did). */
    @Override
    public void kill() {
        if (zooKeeperEmbedded != null) {
            close();
            return;
        }
        RzkChildProcess child = rzk;
        if (child != null) {
            child.kill();
        }
    }

    /** TestingServer.stop()/close()/restart(): SIGTERM (rzk shuts down cleanly) and wait. */
    @Override
    public void close() {
        if (zooKeeperEmbedded != null) {
            zooKeeperEmbedded.close();
            return;
        }
        RzkChildProcess child = rzk;
        if (child != null) {
            child.stop();
        }
    }
}
