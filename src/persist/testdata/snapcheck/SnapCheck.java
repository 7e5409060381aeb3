// Test helper for rzk's snapshot interop tests (src/persist/snapshot.rs):
// reads a snapshot exactly as Java ZooKeeper 3.8's FileSnap.deserialize
// does (header, sessions, data tree, checksum seal, zxid digest, second
// seal), and reports what Java made of it. It lives in Java's persistence
// package only to reach the package-private SnapStream.checkSealIntegrity.
//
//   javac -cp /usr/share/java/zookeeper.jar -d OUT SnapCheck.java
//   java -cp OUT:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar \
//       org.apache.zookeeper.server.persistence.SnapCheck check FILE
//   ... SnapCheck rewrite FILE OUTFILE gz|snappy|plain
//   ... SnapCheck digest PATH DATAHEX|@DATAFILE|- czxid mzxid pzxid ctime mtime version
//       cversion aversion owner
package org.apache.zookeeper.server.persistence;

import java.io.File;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.CheckedInputStream;
import org.apache.jute.BinaryInputArchive;
import org.apache.jute.InputArchive;
import org.apache.zookeeper.data.StatPersisted;
import org.apache.zookeeper.server.DataTree;

public class SnapCheck {

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
        case "check":
            check(new File(args[1]));
            break;
        case "rewrite":
            rewrite(new File(args[1]), new File(args[2]), args[3]);
            break;
        case "digest":
            digest(args);
            break;
        default:
            throw new IllegalArgumentException(args[0]);
        }
    }

    static DataTree load(File f, Map<Long, Integer> sessions, boolean print) throws Exception {
        DataTree dt = new DataTree();
        long zxid = Util.getZxidFromName(f.getName(), FileSnap.SNAPSHOT_FILE_PREFIX);
        try (CheckedInputStream is = SnapStream.getInputStream(f)) {
            InputArchive ia = BinaryInputArchive.getArchive(is);
            new FileSnap(null).deserialize(dt, sessions, ia);
            SnapStream.checkSealIntegrity(is, ia);
            boolean hasDigest = dt.deserializeZxidDigest(ia, 0);
            if (hasDigest) {
                SnapStream.checkSealIntegrity(is, ia);
            }
            if (print) {
                System.out.println("hasDigest=" + hasDigest);
                DataTree.ZxidDigest d = dt.getDigestFromLoadedSnapshot();
                if (d != null) {
                    System.out.println("digestZxid=" + d.getZxid());
                    System.out.println("digestVersion=" + d.getDigestVersion());
                    System.out.println("digest=" + d.getDigest());
                }
            }
        }
        return dt;
    }

    static void check(File f) throws Exception {
        System.out.println("valid=" + SnapStream.isValidSnapshot(f));
        Map<Long, Integer> sessions = new HashMap<>();
        DataTree dt = load(f, sessions, true);
        // The node map holds the root under both "" and "/".
        System.out.println("nodes=" + (dt.getNodeCount() - 1));
        System.out.println("sessions=" + sessions.size());
        System.out.println("acls=" + dt.aclCacheSize());
        System.out.println("ephemerals=" + dt.getEphemeralsCount());
        System.out.println("containers=" + dt.getContainers().size());
        System.out.println("ttls=" + dt.getTtls().size());
        System.out.println("treeDigest=" + dt.getTreeDigest());
        System.out.println("ok");
    }

    static void rewrite(File in, File out, String mode) throws Exception {
        Map<Long, Integer> sessions = new HashMap<>();
        DataTree dt = load(in, sessions, false);
        SnapStream.setStreamMode(SnapStream.StreamMode.fromString(mode));
        new FileSnap(null).serialize(dt, sessions, out, true);
        System.out.println("ok");
    }

    static void digest(String[] a) throws Exception {
        byte[] data = null;
        if (a[2].startsWith("@")) {
            data = java.nio.file.Files.readAllBytes(java.nio.file.Paths.get(a[2].substring(1)));
        } else if (!a[2].equals("-")) {
            data = new byte[a[2].length() / 2];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) Integer.parseInt(a[2].substring(2 * i, 2 * i + 2), 16);
            }
        }
        StatPersisted s = new StatPersisted(
            Long.parseLong(a[3]), Long.parseLong(a[4]), Long.parseLong(a[6]), Long.parseLong(a[7]),
            Integer.parseInt(a[8]), Integer.parseInt(a[9]), Integer.parseInt(a[10]),
            Long.parseLong(a[11]), Long.parseLong(a[5]));
        Class<?> c = Class.forName("org.apache.zookeeper.server.DigestCalculator");
        Constructor<?> k = c.getDeclaredConstructor();
        k.setAccessible(true);
        Object calc = k.newInstance();
        Method m = c.getDeclaredMethod("calculateDigest", String.class, byte[].class, StatPersisted.class);
        m.setAccessible(true);
        System.out.println(m.invoke(calc, a[1], data, s));
    }
}
