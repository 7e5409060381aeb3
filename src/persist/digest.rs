//! ZooKeeper's data tree digest, as Java 3.6+ computes it
//! (`DigestCalculator`, `NodeHashMapImpl`, `AdHash`).
//!
//! Each node's digest is the CRC-32 of its path, its data and nine stat
//! fields; the tree digest is the wrapping 64-bit sum of the digests of all
//! nodes outside `/zookeeper/`. Java stores the tree digest in snapshots
//! (after the data tree) and in the transaction log (after each
//! transaction), and compares them on load and replay; rzk must compute the
//! very same numbers.
//!
//! Details that matter:
//! - The bytes hashed are, in order: the path's bytes, the data (nothing
//!   for null or empty data), then 60 big-endian bytes: czxid, mzxid,
//!   **pzxid**, ctime, mtime (8 bytes each), version, cversion, aversion
//!   (4 bytes each), ephemeralOwner (8 bytes). Note pzxid moves up from its
//!   place in `StatPersisted`.
//! - The root is hashed under the path `""`; Java maps `"/"` to `""` too.
//! - Every path starting with `"/zookeeper/"` digests to 0 and is left out
//!   of the tree digest (quota nodes are updated locally); `/zookeeper`
//!   itself is included.
//! - Java hashes `path.getBytes()`, the JVM's default charset. That is
//!   UTF-8 on any JVM ≥ 18 and on older ones under a UTF-8 locale; rzk
//!   always hashes UTF-8 (a Java 17 node under a non-UTF-8 locale would
//!   disagree with itself across nodes for non-ASCII paths anyway).

use crate::jute::data::StatPersisted;

/// `DigestCalculator.DIGEST_VERSION`: the digest algorithm's version,
/// stored next to every digest Java writes. Java skips comparing digests
/// whose version differs from its own.
pub const DIGEST_VERSION: i32 = 2;

/// Paths starting with this are left out of the digest
/// (`ZooDefs.ZOOKEEPER_NODE_SUBTREE`).
pub const EXCLUDED_SUBTREE: &str = "/zookeeper/";

/// Whether Java leaves the node at `path` out of the tree digest.
pub fn is_excluded(path: &str) -> bool {
    path.starts_with(EXCLUDED_SUBTREE)
}

/// Java's `DigestCalculator.calculateDigest(path, data, stat)`: the CRC-32
/// of the path, the data and the stat fields, as a non-negative `long`;
/// 0 for nodes under `/zookeeper/`. `"/"` and `""` both name the root.
pub fn node_digest(path: &str, data: Option<&[u8]>, stat: &StatPersisted) -> i64 {
    if is_excluded(path) {
        return 0;
    }
    let path = if path == "/" { "" } else { path };
    let mut fields = [0u8; 60];
    let mut at = 0;
    let mut put = |b: &[u8]| {
        fields[at..at + b.len()].copy_from_slice(b);
        at += b.len();
    };
    put(&stat.czxid.to_be_bytes());
    put(&stat.mzxid.to_be_bytes());
    put(&stat.pzxid.to_be_bytes());
    put(&stat.ctime.to_be_bytes());
    put(&stat.mtime.to_be_bytes());
    put(&stat.version.to_be_bytes());
    put(&stat.cversion.to_be_bytes());
    put(&stat.aversion.to_be_bytes());
    put(&stat.ephemeral_owner.to_be_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(path.as_bytes());
    if let Some(d) = data {
        crc.update(d);
    }
    crc.update(&fields);
    i64::from(crc.finalize())
}

/// The tree digest (Java's `AdHash`): a wrapping sum of node digests, so
/// a change is applied by removing the node's old digest and adding its
/// new one, in any order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TreeDigest(i64);

impl TreeDigest {
    /// The digest of an empty set of nodes.
    pub const fn new() -> Self {
        TreeDigest(0)
    }

    /// Starts from a known value (e.g. one read from a snapshot).
    pub const fn from_value(v: i64) -> Self {
        TreeDigest(v)
    }

    /// Counts a node in (a digest from [`node_digest`]).
    pub fn add(&mut self, node_digest: i64) {
        self.0 = self.0.wrapping_add(node_digest);
    }

    /// Counts a node out.
    pub fn remove(&mut self, node_digest: i64) {
        self.0 = self.0.wrapping_sub(node_digest);
    }

    /// Counts in the node at `path` (nothing if Java leaves it out).
    pub fn add_node(&mut self, path: &str, data: Option<&[u8]>, stat: &StatPersisted) {
        self.add(node_digest(path, data, stat));
    }

    /// Counts out the node at `path`, with the data and stat it had.
    pub fn remove_node(&mut self, path: &str, data: Option<&[u8]>, stat: &StatPersisted) {
        self.remove(node_digest(path, data, stat));
    }

    /// The value Java logs and stores (`getTreeDigest()`).
    pub const fn value(self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::too_many_arguments)]
    fn stat(
        czxid: i64,
        mzxid: i64,
        pzxid: i64,
        ctime: i64,
        mtime: i64,
        version: i32,
        cversion: i32,
        aversion: i32,
        ephemeral_owner: i64,
    ) -> StatPersisted {
        StatPersisted {
            czxid,
            mzxid,
            ctime,
            mtime,
            version,
            cversion,
            aversion,
            ephemeral_owner,
            pzxid,
        }
    }

    // Expected values were computed by Java 3.8.0's own
    // DigestCalculator.calculateDigest (via src/persist/testdata/snapcheck,
    // `SnapCheck digest PATH DATAHEX czxid mzxid pzxid ctime mtime version
    // cversion aversion owner`, under -Dfile.encoding=UTF-8).

    #[test]
    fn root_is_hashed_as_empty_path() {
        let z = StatPersisted::default();
        assert_eq!(node_digest("", None, &z), 68323592);
        assert_eq!(node_digest("/", None, &z), 68323592);
        // Empty data hashes as no data.
        assert_eq!(node_digest("", Some(b""), &z), 68323592);
    }

    #[test]
    fn zookeeper_subtree_is_excluded_but_not_zookeeper_itself() {
        let z = StatPersisted::default();
        assert_eq!(node_digest("/zookeeper", None, &z), 1303661912);
        assert_eq!(node_digest("/zookeeper/quota", None, &z), 0);
        assert_eq!(node_digest("/zookeeper/config", Some(b"x"), &z), 0);
        assert_eq!(node_digest("/zookeeperx", None, &z), 1323802418);
        assert!(is_excluded("/zookeeper/quota/a/zookeeper_stats"));
        assert!(!is_excluded("/zookeeper"));
        let s = stat(100, 200, 300, 400, 500, 1, 2, 3, 4);
        assert_eq!(node_digest("/zookeeper", Some(&[1, 2]), &s), 1706960662);
    }

    #[test]
    fn fields_in_java_order() {
        // czxid=1 mzxid=2 pzxid=3 ctime=4 mtime=5 version=6 cversion=7
        // aversion=8 ephemeralOwner=9: pzxid is hashed third.
        let s = stat(1, 2, 3, 4, 5, 6, 7, 8, 9);
        assert_eq!(node_digest("/foo", Some(b"abc"), &s), 215293611);
    }

    #[test]
    fn non_ascii_paths_and_negative_fields() {
        let s = stat(12, 13, 14, 1700000000000, 1700000000001, 2, 3, 1, i64::MIN);
        let data = "dätä中".as_bytes();
        assert_eq!(node_digest("/ünï", Some(data), &s), 4248652092);
        // Beyond the BMP, Java's String.getBytes is plain 4-byte UTF-8.
        let s = stat(-1, -2, -3, -4, -5, -6, -7, -8, -71776119061217280);
        assert_eq!(node_digest("/😀", Some(&[0xff, 0]), &s), 2949671076);
    }

    #[test]
    fn tree_digest_of_a_fresh_java_tree() {
        // A new Java DataTree holds "", /zookeeper, /zookeeper/quota and
        // /zookeeper/config, all with zero stats; Java logs its digest as
        // 1371985504 when it loads an empty snapshot.
        let z = StatPersisted::default();
        let mut t = TreeDigest::new();
        for p in ["", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"] {
            t.add_node(p, Some(b""), &z);
        }
        assert_eq!(t.value(), 1371985504);
    }

    #[test]
    fn tree_digest_wraps_and_undoes() {
        let mut t = TreeDigest::from_value(i64::MAX);
        t.add(2);
        assert_eq!(t.value(), i64::MIN + 1);
        t.remove(2);
        assert_eq!(t.value(), i64::MAX);
        let s = stat(1, 2, 3, 4, 5, 6, 7, 8, 9);
        let mut t = TreeDigest::new();
        t.add_node("/foo", Some(b"abc"), &s);
        t.remove_node("/foo", Some(b"abc"), &s);
        assert_eq!(t, TreeDigest::new());
    }
}
