package rzk.dropin;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.test.TestingServer;

/**
 * For run.sh's hard-kill check: starts a TestingServer from a short-lived thread, waits
 * until that thread has ended, prints "HOLD <child pid> <port>" (pid 0: no child, the
 * stock in-process server) and sleeps until killed.  run.sh then SIGKILLs this JVM and
 * checks that the rzk child died with it.
 */
public final class HoldServer {
    public static void main(String[] args) throws Exception {
        AtomicReference<TestingServer> server = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread starter = new Thread(() -> {
            try {
                server.set(new TestingServer());
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "short-lived-starter");
        starter.start();
        starter.join();
        if (failure.get() != null) {
            failure.get().printStackTrace();
            System.exit(1);
        }
        Thread.sleep(500); // the starting thread is gone: the server must still be up
        List<ProcessHandle> children = Util.childrenFor(server.get().getTempDirectory());
        long pid = children.isEmpty() ? 0 : children.get(0).pid();
        if (pid != 0 && !children.get(0).isAlive()) {
            System.out.println("DEAD " + pid);
            System.exit(1);
        }
        System.out.println("HOLD " + pid + " " + server.get().getPort() + " "
            + Util.versionLine(server.get().getPort()));
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
