/*
 * rzk drop-in replacement for curator-test 5.4.0's class of the same name (same public API).
 *
 * Stock curator-test uses this class for a single server when ZooKeeper has no
 * ZooKeeperServerEmbedded (ZooKeeper before 3.7); code may also create it directly.  This
 * version runs rzk as a child process (see RzkChildProcess) instead of a ZooKeeperServer
 * in this JVM.  TestZooKeeperServer is kept, unchanged, for source/binary compatibility;
 * nothing here instantiates it.
 */
package org.apache.curator.test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.zookeeper.server.RequestProcessor;
import org.apache.zookeeper.server.ServerConfig;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.apache.zookeeper.server.persistence.FileTxnSnapLog;
import org.apache.zookeeper.server.quorum.QuorumPeerConfig;

public class TestingZooKeeperMain implements ZooKeeperMainFace {
    /** As stock: twice the time a local host name lookup takes, at least one second. */
    static final int MAX_WAIT_MS;

    static {
        long startMs = System.currentTimeMillis();
        try {
            InetAddress.getLocalHost().getCanonicalHostName();
        } catch (UnknownHostException e) {
            // as stock: ignore
        }
        long elapsed = System.currentTimeMillis() - startMs;
        MAX_WAIT_MS = Math.max((int) elapsed * 2, 1000);
    }

    private volatile QuorumConfigBuilder configBuilder;
    private volatile int instanceIndex;
    private volatile RzkChildProcess rzk;

    public TestingZooKeeperMain() {
    }

    /** Abrupt stop: SIGKILL the rzk child and wait for it.  As stock, never throws. */
    @Override
    public void kill() {
        try {
            RzkChildProcess child = rzk;
            if (child != null) {
                child.kill();
            }
        } catch (Exception e) {
            e.printStackTrace();
        }
    }

    @Override
    public QuorumPeerConfig getConfig() throws Exception {
        if (configBuilder != null) {
            return configBuilder.buildConfig(instanceIndex);
        }
        return null;
    }

    /** Graceful stop: SIGTERM the rzk child and wait for it to exit. */
    @Override
    public void close() throws IOException {
        RzkChildProcess child = rzk;
        if (child != null) {
            child.stop();
        }
    }

    @Override
    public void configure(QuorumConfigBuilder configBuilder, int instanceIndex) {
        this.configBuilder = configBuilder;
        this.instanceIndex = instanceIndex;
    }

    /** Starts rzk and blocks until it answers on the client port (FailedServerStartException
     *  otherwise, as stock). */
    @Override
    public void start() {
        rzk = RzkChildProcess.start(configBuilder, instanceIndex);
    }

    /** Unchanged from curator-test 5.4.0 (not used by the drop-in). */
    public static class TestZooKeeperServer extends ZooKeeperServer {
        private final FileTxnSnapLog txnLog;
        private final AtomicBoolean isRunning = new AtomicBoolean(false);

        public TestZooKeeperServer(FileTxnSnapLog txnLog, ServerConfig config) {
            this.txnLog = txnLog;
            this.setTxnLogFactory(txnLog);
            // tickTime would affect min and max session timeout: should be set first
            this.setTickTime(config.getTickTime());
            this.setMinSessionTimeout(config.getMinSessionTimeout());
            this.setMaxSessionTimeout(config.getMaxSessionTimeout());
        }

        @Override
        public synchronized void shutdown(boolean fullyShutDown) {
            super.shutdown(fullyShutDown);
            try {
                txnLog.close();
            } catch (IOException e) {
                // ignore
            }
        }

        public RequestProcessor getFirstProcessor() {
            return firstProcessor;
        }

        @Override
        protected void setState(State state) {
            this.state = state;
        }

        @Override
        protected void registerJMX() {
            // NOP
        }

        @Override
        protected void unregisterJMX() {
            // NOP
        }

        @Override
        public boolean isRunning() {
            return isRunning.get() || super.isRunning();
        }

        public void noteStartup() {
            synchronized (this) {
                isRunning.set(true);
                this.notifyAll();
            }
        }
    }
}
