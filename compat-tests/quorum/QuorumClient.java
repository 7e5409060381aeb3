// Client side of the quorum scenarios (compat-tests/quorum/run.sh): the
// Java ZooKeeper 3.8 client doing what a scenario needs against an ensemble,
// reporting on stdout what the servers acknowledged.
//
//   write <connect> <tag> <seconds> <count> <ackfile> [stopfile]
//       creates /qw/<tag>-NNNNNN with data "<tag>:N", N = 0, 1, ... one at a
//       time for at most <seconds> / <count> writes (or until stopfile
//       exists); appends "path data" to ackfile for each create the server
//       acknowledged, and nothing for one that failed (connection loss: maybe
//       applied, maybe not; the next write gets the next N). Reconnects on
//       its own, and with a new session if the old one expired.
//   hold-create <connect> <path> <gofile> <seconds>
//       connects, prints CONNECTED, waits for gofile, then sends one create
//       and prints RESULT <code> (or RESULT NOACK after <seconds>).
//   try-create <connect> <path> <seconds>
//       sends one create at once (queued until connected) and prints RESULT.
//   ephemeral <connect> <path> <sessionTimeoutMs> [closefile]
//       creates an ephemeral and keeps its session until killed (or, with
//       closefile, until that file exists: then closes the session, prints
//       CLOSED and exits; gives up after 120 s); prints
//       CONNECTED session=0x... server=ip:port at every (re)connection,
//       SESSION 0x... timeout=<negotiated ms> once, STATE <state> on others.
//   sync-read <connect> <seconds> <path>...
//       connects, then for each path: sync(path), getData(path), and prints
//       READ <path> <data> (or READ <path> ABSENT); RESULT OK at the end,
//       RESULT TIMEOUT if a sync did not complete within <seconds>.
//
// <connect> is host:port,...; the hosts are tried in the order given (the
// stock client shuffles them), so a scenario chooses which node a client is
// on first. hold-create and try-create end with Runtime.halt: a close()
// would send a closeSession the scenario does not want.

import java.io.FileWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.HostProvider;

public class QuorumClient {

    /** Hosts in the order given, round and round; a pause after each full turn without success. */
    static final class OrderedHosts implements HostProvider {
        private final List<InetSocketAddress> hosts = new ArrayList<>();
        private int next = 0;
        private int triedSinceConnected = 0;

        OrderedHosts(String connect) {
            for (String hp : connect.split(",")) {
                int colon = hp.lastIndexOf(':');
                hosts.add(new InetSocketAddress(hp.substring(0, colon), Integer.parseInt(hp.substring(colon + 1))));
            }
        }

        @Override
        public synchronized int size() {
            return hosts.size();
        }

        @Override
        public InetSocketAddress next(long spinDelay) {
            boolean pause;
            InetSocketAddress a;
            synchronized (this) {
                pause = triedSinceConnected >= hosts.size();
                if (pause) {
                    triedSinceConnected = 0;
                }
                a = hosts.get(next);
                next = (next + 1) % hosts.size();
                triedSinceConnected++;
            }
            if (pause && spinDelay > 0) {
                try {
                    Thread.sleep(spinDelay);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return a;
        }

        @Override
        public synchronized void onConnected() {
            triedSinceConnected = 0;
        }

        @Override
        public boolean updateServerList(Collection<InetSocketAddress> addresses, InetSocketAddress current) {
            return false;
        }
    }

    /** A client that can say which server it is connected to. */
    static final class Zk extends ZooKeeper {
        Zk(String connect, int timeoutMs, Watcher w) throws IOException {
            super(connect, timeoutMs, w, false, new OrderedHosts(connect));
        }

        String server() {
            SocketAddress a = testableRemoteSocketAddress();
            if (a instanceof InetSocketAddress) {
                InetSocketAddress i = (InetSocketAddress) a;
                return (i.getAddress() != null ? i.getAddress().getHostAddress() : i.getHostString()) + ":" + i.getPort();
            }
            return "none";
        }
    }

    static void say(String s) {
        System.out.println(s);
        System.out.flush();
    }

    static final class StateLog implements Watcher {
        final BlockingQueue<Event.KeeperState> states = new ArrayBlockingQueue<>(1024);
        volatile Zk zk;
        final boolean print;

        StateLog(boolean print) {
            this.print = print;
        }

        @Override
        public void process(WatchedEvent e) {
            if (e.getType() != Event.EventType.None) {
                return;
            }
            states.offer(e.getState());
            Zk z = zk;
            if (!print || z == null) {
                return;
            }
            if (e.getState() == Event.KeeperState.SyncConnected) {
                say("CONNECTED session=0x" + Long.toHexString(z.getSessionId()) + " server=" + z.server());
            } else {
                say("STATE " + e.getState());
            }
        }

        boolean awaitConnected(long deadlineNanos) throws InterruptedException {
            while (true) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                Event.KeeperState s = states.poll(left, TimeUnit.NANOSECONDS);
                if (s == Event.KeeperState.SyncConnected) {
                    return true;
                }
            }
        }
    }

    static Zk connect(String connect, int timeoutMs, StateLog log, int waitSeconds) throws Exception {
        Zk zk = new Zk(connect, timeoutMs, log);
        log.zk = zk;
        if (waitSeconds > 0 && !log.awaitConnected(System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds))) {
            throw new IllegalStateException("not connected to " + connect + " within " + waitSeconds + "s");
        }
        return zk;
    }

    static void write(String[] a) throws Exception {
        String connect = a[1], tag = a[2];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(a[3]));
        int count = Integer.parseInt(a[4]);
        String stopFile = a.length > 6 ? a[6] : null;
        // Optional pacing: ms between writes (bounds how many land in a window).
        long pauseMs = a.length > 7 ? Long.parseLong(a[7]) : 0;
        StateLog log = new StateLog(false);
        Zk zk = connect(connect, 4000, log, 30);
        Set<String> servers = new TreeSet<>();
        servers.add(zk.server());
        int acked = 0, failed = 0, sessions = 1;
        try (PrintWriter out = new PrintWriter(new FileWriter(a[5], true), true)) {
            try {
                zk.create("/qw", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            } catch (KeeperException.NodeExistsException e) {
                // another writer made it
            }
            for (int n = 0; n < count && System.nanoTime() < deadline; n++) {
                if (stopFile != null && Files.exists(Paths.get(stopFile))) {
                    break;
                }
                String path = String.format("/qw/%s-%06d", tag, n);
                String data = tag + ":" + n;
                try {
                    zk.create(path, data.getBytes("UTF-8"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                    out.println(path + " " + data);
                    acked++;
                    servers.add(zk.server());
                    if (pauseMs > 0) {
                        Thread.sleep(pauseMs);
                    }
                } catch (KeeperException.SessionExpiredException e) {
                    failed++;
                    zk.close();
                    zk = connect(connect, 4000, log = new StateLog(false), 0);
                    sessions++;
                } catch (KeeperException.ConnectionLossException e) {
                    failed++;
                    Thread.sleep(50);
                }
            }
        }
        say("WRITER " + tag + " acked=" + acked + " failed=" + failed + " sessions=" + sessions + " servers=" + servers);
        zk.close();
    }

    /** Sends one create and prints RESULT; the process ends in halt, without closing the session. */
    static void createOnce(Zk zk, String path, int seconds) throws Exception {
        BlockingQueue<Integer> rc = new ArrayBlockingQueue<>(1);
        zk.create(path, "unacked?".getBytes("UTF-8"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
            (code, p, ctx, name) -> rc.offer(code), null);
        Integer code = rc.poll(seconds, TimeUnit.SECONDS);
        say("RESULT " + (code == null ? "NOACK" : KeeperException.Code.get(code).name()));
        Runtime.getRuntime().halt(0);
    }

    static void holdCreate(String[] a) throws Exception {
        Zk zk = connect(a[1], 10000, new StateLog(false), 30);
        say("CONNECTED session=0x" + Long.toHexString(zk.getSessionId()) + " server=" + zk.server());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(Paths.get(a[3]))) {
            if (System.nanoTime() > deadline) {
                say("RESULT NOGO");
                Runtime.getRuntime().halt(1);
            }
            Thread.sleep(20);
        }
        createOnce(zk, a[2], Integer.parseInt(a[4]));
    }

    static void tryCreate(String[] a) throws Exception {
        Zk zk = connect(a[1], 4000, new StateLog(false), 0);
        createOnce(zk, a[2], Integer.parseInt(a[3]));
    }

    static void ephemeral(String[] a) throws Exception {
        StateLog log = new StateLog(true);
        Zk zk = connect(a[1], Integer.parseInt(a[3]), log, 30);
        say("SESSION 0x" + Long.toHexString(zk.getSessionId()) + " timeout=" + zk.getSessionTimeout());
        zk.create(a[2], ("owner:0x" + Long.toHexString(zk.getSessionId())).getBytes("UTF-8"),
            ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        say("EPHEMERAL " + a[2]);
        if (a.length < 5) {
            Thread.sleep(Long.MAX_VALUE);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.exists(Paths.get(a[4]))) {
            if (System.nanoTime() > deadline) {
                say("RESULT NOGO");
                Runtime.getRuntime().halt(1);
            }
            Thread.sleep(20);
        }
        zk.close();
        say("CLOSED");
    }

    static void syncRead(String[] a) throws Exception {
        int seconds = Integer.parseInt(a[2]);
        Zk zk = connect(a[1], 10000, new StateLog(false), seconds);
        say("CONNECTED session=0x" + Long.toHexString(zk.getSessionId()) + " server=" + zk.server());
        for (int k = 3; k < a.length; k++) {
            String path = a[k];
            BlockingQueue<Integer> rc = new ArrayBlockingQueue<>(1);
            zk.sync(path, (code, p, ctx) -> rc.offer(code), null);
            Integer code = rc.poll(seconds, TimeUnit.SECONDS);
            if (code == null) {
                say("RESULT TIMEOUT sync " + path);
                Runtime.getRuntime().halt(1);
            }
            if (code != 0) {
                say("RESULT " + KeeperException.Code.get(code).name() + " sync " + path);
                Runtime.getRuntime().halt(1);
            }
            try {
                say("READ " + path + " " + new String(zk.getData(path, false, null), "UTF-8"));
            } catch (KeeperException.NoNodeException e) {
                say("READ " + path + " ABSENT");
            }
        }
        say("RESULT OK");
        zk.close();
    }

    public static void main(String[] a) throws Exception {
        switch (a.length > 0 ? a[0] : "") {
            case "write":
                write(a);
                break;
            case "hold-create":
                holdCreate(a);
                break;
            case "try-create":
                tryCreate(a);
                break;
            case "ephemeral":
                ephemeral(a);
                break;
            case "sync-read":
                syncRead(a);
                break;
            default:
                System.err.println("usage: QuorumClient write|hold-create|try-create|ephemeral|sync-read ...");
                System.exit(2);
        }
    }
}
