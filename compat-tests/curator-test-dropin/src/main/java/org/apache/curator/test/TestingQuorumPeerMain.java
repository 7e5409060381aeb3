/*
 * rzk drop-in replacement for curator-test 5.4.0's class of the same name (same API).
 *
 * Stock curator-test uses this class for a server of a TestingCluster (2+ servers) when
 * ZooKeeper has no ZooKeeperServerEmbedded (before 3.7).  rzk has no quorum mode, so by
 * default start() throws FailedServerStartException with an explanation; with
 * -Drzk.cluster=java the stock in-process QuorumPeer runs (the code below is the stock
 * code).  A one-server configuration runs on rzk like TestingZooKeeperMain.
 */
package org.apache.curator.test;

import java.lang.reflect.Field;
import java.nio.channels.ServerSocketChannel;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.quorum.QuorumPeer;
import org.apache.zookeeper.server.quorum.QuorumPeerConfig;
import org.apache.zookeeper.server.quorum.QuorumPeerMain;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class TestingQuorumPeerMain extends QuorumPeerMain implements ZooKeeperMainFace {
    private static final Logger log = LoggerFactory.getLogger(TestingQuorumPeerMain.class);
    private volatile boolean isClosed = false;

    private volatile QuorumConfigBuilder configBuilder;
    private volatile int instanceIndex;
    private volatile RzkChildProcess rzk;

    TestingQuorumPeerMain() {
    }

    @Override
    public void kill() {
        RzkChildProcess child = rzk;
        if (child != null) {
            child.kill();
            return;
        }
        try {
            if (quorumPeer != null) {
                Field cnxnFactoryField = QuorumPeer.class.getDeclaredField("cnxnFactory");
                cnxnFactoryField.setAccessible(true);
                ServerCnxnFactory cnxnFactory = (ServerCnxnFactory) cnxnFactoryField.get(quorumPeer);
                Compatibility.serverCnxnFactoryCloseAll(cnxnFactory);

                Field ssField = cnxnFactory.getClass().getDeclaredField("ss");
                ssField.setAccessible(true);
                ServerSocketChannel ss = (ServerSocketChannel) ssField.get(cnxnFactory);
                ss.close();
            }
            close();
        } catch (Exception e) {
            e.printStackTrace();
        }
    }

    @Override
    public void close() {
        RzkChildProcess child = rzk;
        if (child != null) {
            child.stop();
            return;
        }
        if ((quorumPeer != null) && !isClosed) {
            isClosed = true;
            quorumPeer.shutdown();
        }
    }

    private void blockUntilStarted() {
        long startTime = System.currentTimeMillis();
        while ((quorumPeer == null) && ((System.currentTimeMillis() - startTime) <= TestingZooKeeperMain.MAX_WAIT_MS)) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (quorumPeer == null) {
            throw new FailedServerStartException("quorumPeer never got set");
        }
    }

    @Override
    public void configure(QuorumConfigBuilder configBuilder, int instanceIndex) {
        this.configBuilder = configBuilder;
        this.instanceIndex = instanceIndex;
    }

    @Override
    public QuorumPeerConfig getConfig() throws Exception {
        if (configBuilder != null) {
            return configBuilder.buildConfig(instanceIndex);
        }
        return null;
    }

    @Override
    public void start() {
        if (!RzkChildProcess.runsInProcess(configBuilder)) {
            // rzk for one server; FailedServerStartException (no quorum mode) for several.
            rzk = RzkChildProcess.start(configBuilder, instanceIndex);
            return;
        }
        new Thread(() -> {
            try {
                runFromConfig(getConfig());
            } catch (Exception e) {
                log.error("From testing server (random state: {}) for instance: {}",
                    configBuilder.isFromRandom(), configBuilder.getInstanceSpec(instanceIndex), e);
            }
        }).start();
        blockUntilStarted();
    }
}
