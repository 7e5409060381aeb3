package rzk.dropin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;

/**
 * Helpers for the suite.  The tests use only the stock curator-test API (TestingServer,
 * TestingCluster); which server is behind it is set by the classpath and -Drzk.binary, and
 * told to the tests by -Ddropin.expect so they can check they got that one: {@code rzk}
 * (the drop-in running rzk), {@code java-child} (the drop-in running Java ZooKeeper through
 * the java-server wrapper) or {@code java} (no drop-in: stock in-process server).
 */
final class Util {
    private Util() {
    }

    static final String EXPECT = System.getProperty("dropin.expect", "rzk");

    /** The server is rzk. */
    static boolean expectRzk() {
        return "rzk".equals(EXPECT);
    }

    /** rzk-curator-test.jar is ahead of curator-test: servers are child processes. */
    static boolean expectDropIn() {
        return "rzk".equals(EXPECT) || "java-child".equals(EXPECT);
    }

    /** A four-letter word's reply, or null when nothing accepts the connection. */
    static String fourLetter(int port, String word) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(word.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        }
    }

    static boolean accepting(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static String versionLine(int port) {
        String srvr = fourLetter(port, "srvr");
        assertTrue(srvr != null && srvr.startsWith("Zookeeper version: "),
            "srvr on port " + port + " answered: " + srvr);
        return srvr.substring(0, srvr.indexOf('\n') < 0 ? srvr.length() : srvr.indexOf('\n'));
    }

    /** Child processes of this JVM whose command line mentions dir (the rzk drop-in's
     *  zoo.cfg lives in the server's temp directory). */
    static List<ProcessHandle> childrenFor(File dir) {
        String path;
        try {
            path = dir.getCanonicalPath();
        } catch (IOException e) {
            path = dir.getAbsolutePath();
        }
        final String p = path;
        return ProcessHandle.current().children()
            .filter(h -> h.info().commandLine().orElse("").contains(p)
                || String.join(" ", h.info().arguments().orElse(new String[0])).contains(p))
            .collect(Collectors.toList());
    }

    /** Checks that the server on port/dir is the expected kind: a child process of this JVM
     *  (with the drop-in) or the stock in-process server, and rzk ("rzk" in srvr's version
     *  line) or Java. Returns the child, or null for an in-process server. */
    static ProcessHandle assertServerKind(int port, File dir) {
        String version = versionLine(port);
        List<ProcessHandle> children = childrenFor(dir);
        assertEquals(expectRzk(), version.contains("rzk"), "expected " + EXPECT + ", srvr says: " + version);
        if (expectDropIn()) {
            assertTrue(children.size() == 1, "expected one child process for " + dir + ", found "
                + children.stream().map(h -> h.pid() + " " + h.info().commandLine().orElse("?"))
                .collect(Collectors.toList()));
            return children.get(0);
        }
        assertTrue(children.isEmpty(), "expected no child process for " + dir);
        return null;
    }

    static CuratorFramework client(String connectString, int sessionTimeoutMs) throws InterruptedException {
        CuratorFramework c = CuratorFrameworkFactory.builder()
            .connectString(connectString)
            .sessionTimeoutMs(sessionTimeoutMs)
            .connectionTimeoutMs(10_000)
            .retryPolicy(new RetryNTimes(60, 250))
            .build();
        c.start();
        assertTrue(c.blockUntilConnected(30, TimeUnit.SECONDS), "no connection to " + connectString);
        return c;
    }

    static void await(String what, long timeoutMs, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeoutMs + " ms waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }
}
