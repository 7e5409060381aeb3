// A workload that leaves a data directory with every kind of transaction a
// standalone server logs, then keeps a session with ephemerals open until
// its stdin closes (so the server stops with live sessions).
// Usage: java -cp zookeeper.jar:... Workload host:port
import java.util.*;
import java.util.concurrent.CountDownLatch;
import org.apache.zookeeper.*;
import org.apache.zookeeper.data.*;

public class Workload {
    static ZooKeeper connect(String hostPort) throws Exception {
        CountDownLatch up = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(hostPort, 30000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) up.countDown();
        });
        up.await();
        return zk;
    }

    public static void main(String[] args) throws Exception {
        List<ACL> open = ZooDefs.Ids.OPEN_ACL_UNSAFE;
        ZooKeeper zk = connect(args[0]);
        zk.addAuthInfo("digest", "alice:secret".getBytes());
        zk.create("/w", "root".getBytes(), open, CreateMode.PERSISTENT);
        zk.create("/w/null", null, open, CreateMode.PERSISTENT);
        zk.create("/w/empty", new byte[0], open, CreateMode.PERSISTENT);
        zk.create("/w/seq-", "s".getBytes(), open, CreateMode.PERSISTENT_SEQUENTIAL);
        zk.create("/w/seq-", "s".getBytes(), open, CreateMode.PERSISTENT_SEQUENTIAL);
        zk.create("/w/c2", "c2".getBytes(), open, CreateMode.PERSISTENT, new Stat());
        zk.create("/w/ttl", "t".getBytes(), open, CreateMode.PERSISTENT_WITH_TTL, new Stat(), 3600_000);
        zk.create("/w/box", null, open, CreateMode.CONTAINER);
        zk.create("/w/box/item", "i".getBytes(), open, CreateMode.PERSISTENT);
        zk.create("/w/mine", "m".getBytes(), ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
        List<ACL> mixed = new ArrayList<>();
        mixed.add(new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE));
        mixed.add(new ACL(ZooDefs.Perms.ALL, new Id("ip", "127.0.0.0/8")));
        zk.create("/w/mixed", "x".getBytes(), mixed, CreateMode.PERSISTENT);
        zk.setData("/w", "root2".getBytes(), 0);
        zk.setData("/w/c2", new byte[2000], -1);
        zk.setACL("/w/empty", ZooDefs.Ids.READ_ACL_UNSAFE, 0);
        try { zk.create("/w", null, open, CreateMode.PERSISTENT); } catch (KeeperException.NodeExistsException e) { }
        try { zk.delete("/w/none", -1); } catch (KeeperException.NoNodeException e) { }
        zk.multi(Arrays.asList(
            Op.create("/w/m", "m".getBytes(), open, CreateMode.PERSISTENT),
            Op.setData("/w/m", "m2".getBytes(), 0),
            Op.check("/w", 1),
            Op.delete("/w/seq-0000000003", -1)));
        try {
            zk.multi(Arrays.asList(Op.create("/w/m2", null, open, CreateMode.PERSISTENT), Op.check("/w", 99)));
        } catch (KeeperException e) { }
        zk.delete("/w/box/item", -1);
        // The emptied container goes (deleteContainer) within a few checks.
        for (int i = 0; i < 100 && zk.exists("/w/box", false) != null; i++) {
            Thread.sleep(100);
        }
        if (zk.exists("/w/box", false) != null) {
            throw new IllegalStateException("the empty container /w/box was never deleted");
        }
        zk.create("/w/\u00e9t\u00e9-\u6f22", "unicode".getBytes(), open, CreateMode.PERSISTENT);
        // Quotas, as zkCli sets them.
        zk.create("/zookeeper/quota/w", null, open, CreateMode.PERSISTENT);
        zk.create("/zookeeper/quota/w/zookeeper_limits", "count=100,bytes=-1".getBytes(), open, CreateMode.PERSISTENT);
        zk.create("/zookeeper/quota/w/zookeeper_stats", "count=0,bytes=0".getBytes(), open, CreateMode.PERSISTENT);
        for (int i = 0; i < 40; i++) {
            zk.setData("/w/m", ("v" + i).getBytes(), -1);
        }
        ZooKeeper closed = connect(args[0]);
        closed.create("/w/gone", null, open, CreateMode.EPHEMERAL);
        closed.close();
        // A session left open with ephemerals when the server stops.
        zk.create("/w/eph", "e".getBytes(), open, CreateMode.EPHEMERAL);
        zk.create("/w/eph-seq-", null, open, CreateMode.EPHEMERAL_SEQUENTIAL);
        System.out.println("READY");
        System.out.flush();
        while (System.in.read() != -1) { }
        System.exit(0);
    }
}
