import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;

/**
 * Holds one session open with the same znodes and watches on whichever
 * server it is given, so that the AdminServer's answers about sessions,
 * ephemerals and watches can be compared. Prints READY once set up and
 * keeps the session until stdin closes.
 *
 *   java -cp zookeeper.jar:. Holder host:port
 */
public class Holder {
    public static void main(String[] args) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        Watcher w = e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        };
        ZooKeeper zk = new ZooKeeper(args[0], 30000, w);
        if (!connected.await(20, TimeUnit.SECONDS)) {
            throw new IllegalStateException("not connected to " + args[0]);
        }
        zk.create("/adm", "top".getBytes(), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create("/adm/c1", "child".getBytes(), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create("/adm/e1", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        zk.create("/adm/e2", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        zk.setData("/adm/c1", "changed".getBytes(), -1);
        // Data watches on two paths, an exists watch on a missing one, and a
        // child watch (the last is not in the data watch table).
        zk.getData("/adm", true, null);
        zk.getData("/adm/c1", true, null);
        zk.exists("/adm/missing", true);
        zk.getChildren("/adm", true);
        System.out.println("READY 0x" + Long.toHexString(zk.getSessionId()));
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        while (in.readLine() != null) {
            // wait for EOF
        }
        zk.close();
    }
}
