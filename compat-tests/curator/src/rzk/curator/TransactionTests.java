package rzk.curator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.api.CuratorEventType;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.api.transaction.OperationType;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

/** client.transaction().forOperations(...), foreground and background. */
public class TransactionTests extends CuratorTestBase {

    private static List<Integer> errors(List<OpResult> rs) {
        List<Integer> out = new ArrayList<>();
        for (OpResult r : rs) {
            out.add(r instanceof OpResult.ErrorResult ? ((OpResult.ErrorResult) r).getErr() : Integer.MIN_VALUE);
        }
        return out;
    }

    @Test
    void successfulTransaction() throws Exception {
        CuratorFramework c = newClient();
        String t = path("t");
        c.create().forPath(t);
        List<CuratorTransactionResult> rs = c.transaction().forOperations(
                c.transactionOp().create().forPath(t + "/a", b("a")),
                c.transactionOp().create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(t + "/s-", b("s")),
                c.transactionOp().create().withMode(CreateMode.EPHEMERAL).forPath(t + "/e"),
                c.transactionOp().setData().forPath(t + "/a", b("a2")),
                c.transactionOp().check().withVersion(1).forPath(t + "/a"),
                c.transactionOp().create().forPath(t + "/gone"),
                c.transactionOp().delete().forPath(t + "/gone"));
        assertEquals(7, rs.size());
        assertEquals(OperationType.CREATE, rs.get(0).getType());
        assertEquals(t + "/a", rs.get(0).getForPath());
        assertEquals(t + "/a", rs.get(0).getResultPath());
        assertEquals(t + "/s-0000000001", rs.get(1).getResultPath(), "sequence counts the parent's children so far");
        assertEquals(OperationType.SET_DATA, rs.get(3).getType());
        Stat st = rs.get(3).getResultStat();
        assertNotNull(st);
        assertEquals(1, st.getVersion());
        assertEquals(OperationType.CHECK, rs.get(4).getType());
        assertEquals(OperationType.DELETE, rs.get(6).getType());
        for (CuratorTransactionResult r : rs) {
            assertEquals(0, r.getError(), r.getType() + " " + r.getForPath());
        }
        // All ops share one zxid.
        Stat sa = admin.checkExists().forPath(t + "/a");
        Stat se = admin.checkExists().forPath(t + "/e");
        assertEquals(sa.getMzxid(), se.getCzxid());
        assertEquals(sa.getCzxid(), sa.getMzxid());
        assertEquals("a2", s(admin.getData().forPath(t + "/a")));
        assertEquals(sessionId(c), se.getEphemeralOwner());
        assertNull(admin.checkExists().forPath(t + "/gone"));
    }

    @Test
    void failingTransactionIsAtomic() throws Exception {
        CuratorFramework c = newClient();
        String t = path("t");
        c.create().forPath(t);
        c.create().forPath(t + "/a", b("a"));
        Stat before = admin.checkExists().forPath(t);

        // Second op fails (bad version): nothing is applied; the results say why.
        KeeperException e = assertThrows(KeeperException.BadVersionException.class, () -> c.transaction().forOperations(
                c.transactionOp().create().forPath(t + "/c", b("c")),
                c.transactionOp().setData().withVersion(99).forPath(t + "/a", b("x")),
                c.transactionOp().delete().forPath(t + "/a")));
        assertEquals(List.of(0, KeeperException.Code.BADVERSION.intValue(), KeeperException.Code.RUNTIMEINCONSISTENCY.intValue()),
                errors(e.getResults()));
        assertNull(admin.checkExists().forPath(t + "/c"), "failed transaction created nothing");
        assertEquals("a", s(admin.getData().forPath(t + "/a")));
        assertEquals(before.getPzxid(), admin.checkExists().forPath(t).getPzxid());

        // Other failure kinds.
        KeeperException noNode = assertThrows(KeeperException.NoNodeException.class, () -> c.transaction().forOperations(
                c.transactionOp().delete().forPath(t + "/missing"),
                c.transactionOp().create().forPath(t + "/d")));
        assertEquals(List.of(KeeperException.Code.NONODE.intValue(), KeeperException.Code.RUNTIMEINCONSISTENCY.intValue()),
                errors(noNode.getResults()));
        KeeperException exists = assertThrows(KeeperException.NodeExistsException.class, () -> c.transaction().forOperations(
                c.transactionOp().check().forPath(t + "/a"),
                c.transactionOp().create().forPath(t + "/a")));
        assertEquals(List.of(0, KeeperException.Code.NODEEXISTS.intValue()), errors(exists.getResults()));
        KeeperException notEmpty = assertThrows(KeeperException.NotEmptyException.class, () -> c.transaction().forOperations(
                c.transactionOp().delete().forPath(t)));
        assertEquals(List.of(KeeperException.Code.NOTEMPTY.intValue()), errors(notEmpty.getResults()));
        assertThrows(KeeperException.BadVersionException.class, () -> c.transaction().forOperations(
                c.transactionOp().check().withVersion(7).forPath(t + "/a")));

        // Background: the event carries the code and per-op results.
        BlockingQueue<CuratorEvent> events = new LinkedBlockingQueue<>();
        c.transaction().inBackground((client, event) -> events.add(event)).forOperations(
                c.transactionOp().create().forPath(t + "/bg1"),
                c.transactionOp().create().forPath(t + "/bg1"));
        CuratorEvent ev = poll(events, "background transaction result");
        assertEquals(CuratorEventType.TRANSACTION, ev.getType());
        assertEquals(KeeperException.Code.NODEEXISTS.intValue(), ev.getResultCode());
        List<CuratorTransactionResult> rs = ev.getOpResults();
        assertNotNull(rs);
        assertEquals(2, rs.size());
        assertEquals(0, rs.get(0).getError());
        assertEquals(KeeperException.Code.NODEEXISTS.intValue(), rs.get(1).getError());
        assertNull(admin.checkExists().forPath(t + "/bg1"));

        c.transaction().inBackground((client, event) -> events.add(event)).forOperations(
                c.transactionOp().create().forPath(t + "/bg2", b("ok")));
        ev = poll(events, "background transaction result");
        assertEquals(0, ev.getResultCode());
        assertEquals(t + "/bg2", ev.getOpResults().get(0).getResultPath());
        assertEquals("ok", s(admin.getData().forPath(t + "/bg2")));
    }
}
