// Drives a Java ZooKeeper 3.8 server to produce a transaction log with
// every txn kind a standalone server logs. Usage: GenJavaLog host:port
import java.util.*;
import java.util.concurrent.CountDownLatch;
import org.apache.zookeeper.*;
import org.apache.zookeeper.data.*;

public class GenJavaLog {
    static ZooKeeper connect(String hp) throws Exception {
        CountDownLatch l = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(hp, 30000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) l.countDown();
        });
        l.await();
        return zk;
    }

    public static void main(String[] a) throws Exception {
        String hp = a[0];
        ZooKeeper zk = connect(hp);                                   // createSession
        List<ACL> open = ZooDefs.Ids.OPEN_ACL_UNSAFE;
        zk.create("/a", "hello".getBytes(), open, CreateMode.PERSISTENT);          // create
        zk.create("/a/b", null, open, CreateMode.PERSISTENT);                      // create, null data
        zk.create("/a/s-", "x".getBytes(), open, CreateMode.PERSISTENT_SEQUENTIAL);
        zk.create("/e", "eph".getBytes(), open, CreateMode.EPHEMERAL);             // ephemeral
        zk.create("/a/es-", new byte[0], open, CreateMode.EPHEMERAL_SEQUENTIAL);
        zk.create("/a/c2", "c2".getBytes(), open, CreateMode.PERSISTENT, new org.apache.zookeeper.data.Stat()); // create2
        zk.create("/ttl", "t".getBytes(), open, CreateMode.PERSISTENT_WITH_TTL, null, 500);   // createTTL
        zk.create("/cont", null, open, CreateMode.CONTAINER);                      // createContainer
        zk.create("/cont/kid", null, open, CreateMode.PERSISTENT);
        zk.setData("/a", "world".getBytes(), -1);                                   // setData
        zk.setData("/a", "again".getBytes(), 1);
        zk.setACL("/a/b", ZooDefs.Ids.READ_ACL_UNSAFE, -1);                         // setACL
        List<ACL> digestAcl = new ArrayList<>();
        digestAcl.add(new ACL(ZooDefs.Perms.ALL, new Id("digest", "u:7x4bKeR1mtP8B+bMqm3DKhtG4WQ=")));
        digestAcl.add(new ACL(ZooDefs.Perms.READ, new Id("world", "anyone")));
        zk.setACL("/a/c2", digestAcl, 0);
        try { zk.create("/a", null, open, CreateMode.PERSISTENT); } catch (KeeperException.NodeExistsException e) {} // error txn
        try { zk.delete("/nope", -1); } catch (KeeperException.NoNodeException e) {}                                      // error txn
        zk.multi(Arrays.asList(                                                        // multi: create, setData, check, delete
            Op.create("/m", "m".getBytes(), open, CreateMode.PERSISTENT),
            Op.create("/m/x", null, open, CreateMode.EPHEMERAL),
            Op.setData("/m", "m2".getBytes(), 0),
            Op.check("/a", 2),
            Op.delete("/a/s-0000000001", -1)));
        try {                                                                            // failed multi: ErrorTxns
            zk.multi(Arrays.asList(
                Op.create("/m2", null, open, CreateMode.PERSISTENT),
                Op.check("/a", 99)));
        } catch (KeeperException e) {}
        zk.delete("/cont/kid", -1);                                                   // container now empty -> deleteContainer later
        zk.delete("/a/c2", -1);                                                       // delete
        // unicode path, and a larger payload
        zk.create("/\u00e9t\u00e9-\u6f22", new byte[3000], open, CreateMode.PERSISTENT);
        for (int i = 0; i < 30; i++) {                                               // enough txns to roll the log (snapCount)
            zk.setData("/a", ("v" + i).getBytes(), -1);
        }
        Thread.sleep(3000);                                                          // let the container manager remove /cont and /ttl
        zk.close();                                                                   // closeSession (deletes /e, /a/es-, /m/x)
        ZooKeeper zk2 = connect(hp);
        zk2.create("/last", "bye".getBytes(), open, CreateMode.PERSISTENT);
        zk2.close();
    }
}
