//! `rzk snap-dump [-d] [--json] <snapshotfile>`: a snapshot, as Java 3.8's
//! `SnapshotFormatter` prints it (`zkSnapShotToolkit.sh`), byte for byte.
//!
//! The default output:
//!
//! ```text
//! ZNode Details (count=26):
//! ----
//! /
//!   cZxid = 0x00000000000000
//!   ctime = Thu Jan 01 00:00:00 UTC 1970
//!   mZxid = 0x00000000000000
//!   mtime = Thu Jan 01 00:00:00 UTC 1970
//!   pZxid = 0x0000000000001c
//!   cversion = 9
//!   dataVersion = 0
//!   aclVersion = 0
//!   ephemeralOwner = 0x00000000000000
//!   dataLength = 0
//! ----
//! /app
//! ...
//! ----
//! Session Details (sid, timeout, ephemeralCount):
//! 0x10000238e4c0002, 30000, 1
//! ----
//! Last zxid: 0x1c
//! ```
//!
//! Nodes depth first from `/`, each node's children in the iteration order
//! of the `HashSet` Java's `DataTree` builds when it loads the snapshot;
//! the count is Java's `getNodeCount()`, which counts the root twice (as
//! `""` and `"/"`); the stat as stored (zxids `%#016x`, times as
//! `Date.toString()`); sessions in `HashMap` order with the number of
//! ephemerals each owns; the last zxid is the highest of the file name's
//! and every node's mzxid and pzxid. `-d` prints `  data = <base64>` (empty
//! for null data) in place of `dataLength`.
//!
//! `--json` is Java's `-json`: the ncdu export format, on one line with no
//! line end: `[1,0,{"progname":"SnapshotFormatter.java","progver":"0.01",
//! "timestamp":<now ms>}` then the root, each node `{"name":..,"asize":<data
//! length>,"dsize":<data length>,"dev":0,"ino":<1001, 1002, ...>}`, a node
//! with children as `[{node},child,child...]`, and a closing `]`.
//!
//! Unlike Java's tool (which does not check them) the checksum seals are
//! verified: a damaged snapshot prints nothing and fails. Java 3.8.0's tool
//! never prints the "Target zxid digest" line its code has (it does not read
//! the digest); neither does this.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};
use std::path::Path;

use base64::Engine as _;

use super::{java_date_string, json_string};
use crate::javahash::{insertion_order, JavaHashSet};
use crate::jute::data::StatPersisted;
use crate::persist::files;
use crate::persist::snapshot::{self, SnapNode, Snapshot, SnapshotError};

/// What to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Node details with data lengths, sessions, last zxid.
    Summary,
    /// The same with each node's data in base64 (Java's `-d`).
    Data,
    /// The ncdu JSON export (Java's `-json`).
    Json,
}

#[derive(Debug)]
pub enum SnapDumpError {
    /// The snapshot could not be read, or is damaged.
    Read(SnapshotError),
    /// Writing the output failed.
    Output(io::Error),
}

impl fmt::Display for SnapDumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapDumpError::Read(e) => write!(f, "{e}"),
            SnapDumpError::Output(e) => write!(f, "cannot write the output: {e}"),
        }
    }
}

impl std::error::Error for SnapDumpError {}

impl From<io::Error> for SnapDumpError {
    fn from(e: io::Error) -> Self {
        SnapDumpError::Output(e)
    }
}

/// The tree as Java's DataTree holds it after loading the snapshot.
struct Tree<'a> {
    nodes: &'a [SnapNode],
    /// Node index by path (the root under "").
    index: HashMap<&'a str, usize>,
    /// Children per node index, as `DataNode`'s `HashSet<>(8)`.
    children: Vec<Option<JavaHashSet>>,
    root: Option<usize>,
}

impl<'a> Tree<'a> {
    fn new(nodes: &'a [SnapNode]) -> Tree<'a> {
        let mut index = HashMap::with_capacity(nodes.len());
        let mut children: Vec<Option<JavaHashSet>> = vec![None; nodes.len()];
        let mut root = None;
        for (i, n) in nodes.iter().enumerate() {
            index.insert(n.path.as_str(), i);
            match n.path.rfind('/') {
                None => root = Some(i),
                Some(slash) => {
                    if let Some(&p) = index.get(&n.path[..slash]) {
                        children[p]
                            .get_or_insert_with(|| JavaHashSet::with_initial_capacity(8))
                            .insert(&n.path[slash + 1..]);
                    }
                }
            }
        }
        Tree {
            nodes,
            index,
            children,
            root,
        }
    }

    /// The child paths of node `i`, in Java's iteration order.
    fn child_paths(&self, i: usize) -> Vec<(String, usize)> {
        let Some(set) = &self.children[i] else {
            return Vec::new();
        };
        let base = &self.nodes[i].path;
        set.iteration_order()
            .into_iter()
            .filter_map(|name| {
                let p = format!("{base}/{name}");
                self.index.get(p.as_str()).map(|&c| (p, c))
            })
            .collect()
    }
}

/// The order in which a `java.util.HashMap<Long, _>` built by `put`s in
/// this order iterates: indices into `keys` (default capacity 16, doubling
/// past three quarters full, or, below 64, when a chain reaches 9).
fn long_hashmap_order(keys: &[i64]) -> Vec<usize> {
    // Long.hashCode, into a default (16) HashMap.
    let hashes: Vec<i32> = keys
        .iter()
        .map(|&v| (v ^ (v >> 32 & 0xffff_ffff)) as i32)
        .collect();
    insertion_order(&hashes, 16)
}

/// `String.format("%#016x", v)`.
fn hex16(v: i64) -> String {
    format!("{:#016x}", v as u64)
}

fn print_stat(out: &mut dyn Write, s: &StatPersisted) -> io::Result<()> {
    writeln!(out, "  cZxid = {}", hex16(s.czxid))?;
    writeln!(out, "  ctime = {}", java_date_string(s.ctime))?;
    writeln!(out, "  mZxid = {}", hex16(s.mzxid))?;
    writeln!(out, "  mtime = {}", java_date_string(s.mtime))?;
    writeln!(out, "  pZxid = {}", hex16(s.pzxid))?;
    writeln!(out, "  cversion = {}", s.cversion)?;
    writeln!(out, "  dataVersion = {}", s.version)?;
    writeln!(out, "  aclVersion = {}", s.aversion)?;
    writeln!(out, "  ephemeralOwner = {}", hex16(s.ephemeral_owner))
}

/// Reads the snapshot at `path` and prints it to `out`; `now_ms` is the
/// JSON header's timestamp.
pub fn dump(
    path: &Path,
    mode: Mode,
    out: &mut dyn Write,
    now_ms: i64,
) -> Result<(), SnapDumpError> {
    let snap = snapshot::read(path).map_err(SnapDumpError::Read)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file_zxid = files::zxid_from_name(&name, files::SNAPSHOT_PREFIX).unwrap_or(-1);
    match mode {
        Mode::Json => print_json(&snap, out, now_ms)?,
        _ => print_details(&snap, mode == Mode::Data, file_zxid, out)?,
    }
    Ok(())
}

fn print_details(
    snap: &Snapshot,
    with_data: bool,
    file_zxid: i64,
    out: &mut dyn Write,
) -> io::Result<()> {
    let tree = Tree::new(&snap.nodes);
    // DataTree.getNodeCount: the root is in the map under "" and "/".
    let count = snap.nodes.len() + usize::from(tree.root.is_some());
    writeln!(out, "ZNode Details (count={count}):")?;
    let mut last_zxid = i64::MIN;
    let mut stack: Vec<(String, usize)> =
        tree.root.map(|r| ("/".to_owned(), r)).into_iter().collect();
    while let Some((path, i)) = stack.pop() {
        let n = &snap.nodes[i];
        writeln!(out, "----")?;
        writeln!(out, "{path}")?;
        print_stat(out, &n.stat)?;
        last_zxid = last_zxid.max(n.stat.mzxid.max(n.stat.pzxid));
        if with_data {
            let b64 = n
                .data
                .as_ref()
                .map(|d| base64::engine::general_purpose::STANDARD.encode(d))
                .unwrap_or_default();
            writeln!(out, "  data = {b64}")?;
        } else {
            writeln!(
                out,
                "  dataLength = {}",
                n.data.as_ref().map_or(0, |d| d.len())
            )?;
        }
        let kids = tree.child_paths(i);
        stack.extend(kids.into_iter().rev());
    }
    writeln!(out, "----")?;

    writeln!(out, "Session Details (sid, timeout, ephemeralCount):")?;
    // HashMap.put: a repeated id keeps its place and takes the last timeout.
    let mut ids: Vec<i64> = Vec::new();
    let mut timeouts: HashMap<i64, i32> = HashMap::new();
    for &(id, to) in &snap.sessions {
        if timeouts.insert(id, to).is_none() {
            ids.push(id);
        }
    }
    let mut ephemerals: HashMap<i64, usize> = HashMap::new();
    for n in &snap.nodes {
        if n.stat.ephemeral_owner != 0 && !n.path.is_empty() {
            *ephemerals.entry(n.stat.ephemeral_owner).or_default() += 1;
        }
    }
    for i in long_hashmap_order(&ids) {
        let id = ids[i];
        writeln!(
            out,
            "{}, {}, {}",
            hex16(id),
            timeouts[&id],
            ephemerals.get(&id).copied().unwrap_or(0)
        )?;
    }
    writeln!(out, "----")?;
    writeln!(out, "Last zxid: 0x{:x}", file_zxid.max(last_zxid) as u64)
}

fn print_json(snap: &Snapshot, out: &mut dyn Write, now_ms: i64) -> io::Result<()> {
    let tree = Tree::new(&snap.nodes);
    let mut o = String::with_capacity(64 * snap.nodes.len() + 128);
    o.push_str(&format!(
        "[1,0,{{\"progname\":\"SnapshotFormatter.java\",\"progver\":\"0.01\",\"timestamp\":{now_ms}}}"
    ));
    enum Step {
        Enter(String, usize),
        Close,
    }
    let mut ino = 1000u64;
    let mut stack: Vec<Step> = tree
        .root
        .map(|r| Step::Enter("/".to_owned(), r))
        .into_iter()
        .collect();
    while let Some(step) = stack.pop() {
        let (path, i) = match step {
            Step::Close => {
                o.push(']');
                continue;
            }
            Step::Enter(p, i) => (p, i),
        };
        let name = if path == "/" {
            "/"
        } else {
            &path[path.rfind('/').map_or(0, |s| s + 1)..]
        };
        let len = snap.nodes[i].data.as_ref().map_or(0, |d| d.len());
        ino += 1;
        o.push(',');
        let kids = tree.child_paths(i);
        if !kids.is_empty() {
            o.push('[');
        }
        o.push_str("{\"name\":");
        json_string(&mut o, name);
        o.push_str(&format!(
            ",\"asize\":{len},\"dsize\":{len},\"dev\":0,\"ino\":{ino}}}"
        ));
        if !kids.is_empty() {
            stack.push(Step::Close);
            stack.extend(kids.into_iter().rev().map(|(p, c)| Step::Enter(p, c)));
        }
        if o.len() > 1 << 16 {
            out.write_all(o.as_bytes())?;
            o.clear();
        }
    }
    o.push(']');
    out.write_all(o.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::data::{Id, ACL};
    use crate::persist::snapshot::{Compression, ZxidDigest};
    use crate::tools::testutil::{zk_classpath, Scratch};
    use bytes::Bytes;
    use std::path::PathBuf;

    const JAVA_FIXTURES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/persist/testdata/snap-java"
    );

    fn stat(zxid: i64, owner: i64) -> StatPersisted {
        StatPersisted {
            czxid: zxid,
            mzxid: zxid,
            ctime: 1_795_301_670_000 + zxid,
            mtime: 1_795_301_670_000 + zxid,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: owner,
            pzxid: zxid,
        }
    }

    fn node(path: &str, data: Option<&[u8]>, s: StatPersisted) -> SnapNode {
        SnapNode {
            path: path.into(),
            data: data.map(Bytes::copy_from_slice),
            acl: -1,
            stat: s,
        }
    }

    fn sample() -> Snapshot {
        let mut nodes = vec![
            node("", Some(b""), stat(0, 0)),
            node("/zookeeper", Some(b""), stat(0, 0)),
            node("/zookeeper/quota", Some(b""), stat(0, 0)),
            node("/a", Some(b"hello"), stat(2, 0)),
            node("/a/null", None, stat(3, 0)),
            node("/a/eph", Some(b"e"), stat(4, 0x100_0000_0000_0001)),
            node("/b\"q", Some(&[0xff, 0, 1]), stat(5, 0x100_0000_0000_0001)),
            node("/c", Some(b"x"), stat(6, 0x100_0000_0000_0002)),
        ];
        nodes[0].stat.pzxid = 6;
        nodes[3].stat.mzxid = 9;
        Snapshot {
            sessions: vec![
                (0x100_0000_0000_0001, 30000),
                (0x100_0000_0000_0002, 4000),
                (0x100_0000_0000_0003, 5000),
            ],
            acls: vec![(
                1,
                vec![ACL {
                    perms: 1,
                    id: Id {
                        scheme: "world".into(),
                        id: "anyone".into(),
                    },
                }],
            )],
            nodes,
            digest: Some(ZxidDigest {
                zxid: 6,
                digest_version: 2,
                digest: 0,
            }),
        }
    }

    fn write(dir: &Path, snap: &Snapshot, name: &str, c: Compression) -> PathBuf {
        let p = dir.join(name);
        snapshot::write(&p, snap, c).unwrap();
        p
    }

    fn run(p: &Path, mode: Mode) -> String {
        let mut out = Vec::new();
        dump(p, mode, &mut out, 1234).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn summary_of_a_snapshot_written_by_rzk() {
        let dir = Scratch::new("snapdump-summary");
        let p = write(&dir.0, &sample(), "snapshot.6", Compression::None);
        let out = run(&p, Mode::Summary);
        let paths: Vec<&str> = out
            .lines()
            .zip(out.lines().skip(1))
            .filter(|(a, _)| *a == "----")
            .map(|(_, b)| b)
            .filter(|b| b.starts_with('/'))
            .collect();
        // Children in Java's HashSet order (checked against Java by the
        // interop test below): "b\"q" hashes to bucket 0, "a" to 1, "c" to 3.
        assert_eq!(
            paths,
            [
                "/",
                "/b\"q",
                "/a",
                "/a/null",
                "/a/eph",
                "/c",
                "/zookeeper",
                "/zookeeper/quota"
            ]
        );
        assert!(out.starts_with("ZNode Details (count=9):\n----\n/\n  cZxid = 0x00000000000000\n"));
        assert!(out.contains(
            "/a\n  cZxid = 0x00000000000002\n  ctime = Sat Nov 21 22:54:30 UTC 2026\n  mZxid = 0x00000000000009\n"
        ));
        assert!(out.contains("/a/null\n"));
        assert!(out.contains("  ephemeralOwner = 0x100000000000001\n  dataLength = 1\n"));
        assert!(
            out.ends_with(
                "----\nSession Details (sid, timeout, ephemeralCount):\n\
             0x100000000000001, 30000, 2\n0x100000000000002, 4000, 1\n0x100000000000003, 5000, 0\n\
             ----\nLast zxid: 0x9\n"
            ),
            "{out}"
        );

        let with_data = run(&p, Mode::Data);
        assert!(with_data.contains("/a\n") && with_data.contains("  data = aGVsbG8=\n"));
        assert!(with_data.contains("/a/null\n"));
        assert!(with_data.contains("  data = \n"));
        assert!(with_data.contains("  data = /wAB\n"));
        assert!(!with_data.contains("dataLength"));

        // The file name's zxid wins when it is higher.
        let p2 = write(&dir.0, &sample(), "snapshot.ff.gz", Compression::Gzip);
        assert!(run(&p2, Mode::Summary).ends_with("Last zxid: 0xff\n"));
        // A name with no zxid counts as -1.
        let p3 = write(&dir.0, &sample(), "odd-name", Compression::None);
        assert!(run(&p3, Mode::Summary).ends_with("Last zxid: 0x9\n"));
    }

    #[test]
    fn json_of_a_snapshot_written_by_rzk() {
        let dir = Scratch::new("snapdump-json");
        let p = write(&dir.0, &sample(), "snapshot.6.snappy", Compression::Snappy);
        let out = run(&p, Mode::Json);
        assert_eq!(
            out,
            concat!(
                r#"[1,0,{"progname":"SnapshotFormatter.java","progver":"0.01","timestamp":1234}"#,
                r#",[{"name":"/","asize":0,"dsize":0,"dev":0,"ino":1001}"#,
                r#",{"name":"b\"q","asize":3,"dsize":3,"dev":0,"ino":1002}"#,
                r#",[{"name":"a","asize":5,"dsize":5,"dev":0,"ino":1003}"#,
                r#",{"name":"null","asize":0,"dsize":0,"dev":0,"ino":1004}"#,
                r#",{"name":"eph","asize":1,"dsize":1,"dev":0,"ino":1005}]"#,
                r#",{"name":"c","asize":1,"dsize":1,"dev":0,"ino":1006}"#,
                r#",[{"name":"zookeeper","asize":0,"dsize":0,"dev":0,"ino":1007}"#,
                r#",{"name":"quota","asize":0,"dsize":0,"dev":0,"ino":1008}]]]"#,
            )
        );
    }

    #[test]
    fn a_damaged_snapshot_is_an_error() {
        let dir = Scratch::new("snapdump-bad");
        let p = write(&dir.0, &sample(), "snapshot.6", Compression::None);
        let mut b = std::fs::read(&p).unwrap();
        let n = b.len();
        b[n / 2] ^= 1;
        std::fs::write(&p, &b).unwrap();
        let mut out = Vec::new();
        let e = dump(&p, Mode::Summary, &mut out, 0).unwrap_err();
        assert!(out.is_empty());
        assert!(e.to_string().contains("snapshot.6"), "{e}");
    }

    #[test]
    fn session_order_is_java_hashmaps() {
        // Long.hashCode(id) = low ^ high; ids 1..=3 land in buckets 1..=3.
        assert_eq!(long_hashmap_order(&[3, 1, 2]), [1, 2, 0]);
        // 17 and 1 share bucket 1 of 16: insertion order within it; after
        // 13 entries the table has 32 buckets and 17 moves to bucket 17.
        assert_eq!(long_hashmap_order(&[17, 1]), [0, 1]);
        let many: Vec<i64> = (0..13).map(|i| 16 * i + 1).collect();
        let o = long_hashmap_order(&many);
        assert_eq!(many[o[0]], 1);
        assert_eq!(many[o[12]] % 32, 17);
        // Negative ids: the high word folds in.
        assert_eq!(long_hashmap_order(&[-1, 0]), [0, 1]);
    }

    /// Java's own snapshot fixture (Java 3.8, all three compressions).
    #[test]
    fn java_fixture_snapshots() {
        for name in ["snapshot.1c", "snapshot.1c.gz", "snapshot.1c.snappy"] {
            let p = Path::new(JAVA_FIXTURES).join(name);
            let out = run(&p, Mode::Summary);
            assert!(out.starts_with("ZNode Details (count=26):\n"), "{out}");
            assert!(out.ends_with(
                "Session Details (sid, timeout, ephemeralCount):\n\
                 0x10000238e4c0002, 30000, 1\n0x10000238e4c0001, 30000, 2\n----\nLast zxid: 0x1c\n"
            ));
            let json = run(&p, Mode::Json);
            assert!(json.ends_with(r#"{"name":"multi","asize":1,"dsize":1,"dev":0,"ino":1025}]]"#));
        }
    }

    fn java_formatter(args: &[&str], p: &Path) -> Vec<u8> {
        let out = std::process::Command::new("java")
            .env("TZ", "UTC")
            .arg("-Duser.timezone=UTC")
            .arg("-Duser.language=en")
            .arg("-cp")
            .arg(zk_classpath())
            .arg("org.apache.zookeeper.server.SnapshotFormatter")
            .args(args)
            .arg(p)
            .output()
            .expect("java");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Byte for byte what Java's SnapshotFormatter prints, in all three
    /// modes (the JSON timestamp aside), for Java's snapshots and rzk's.
    #[test]
    #[ignore = "needs Java and ZooKeeper 3.8 jars (RZK_ZK_CLASSPATH or /usr/share/java)"]
    fn interop_same_output_as_java_snapshot_formatter() {
        let dir = Scratch::new("snapdump-java");
        let mut files: Vec<PathBuf> = ["snapshot.1c", "snapshot.1c.gz", "snapshot.1c.snappy"]
            .iter()
            .map(|n| Path::new(JAVA_FIXTURES).join(n))
            .collect();
        files.push(write(&dir.0, &sample(), "snapshot.6", Compression::None));
        // A bigger tree: enough children for HashSets to resize.
        let mut big = sample();
        for i in 0..200 {
            big.nodes
                .push(node(&format!("/c/k{i}"), Some(b"v"), stat(10 + i, 0)));
        }
        files.push(write(&dir.0, &big, "snapshot.d2", Compression::None));
        for f in &files {
            for (args, mode) in [
                (&[][..], Mode::Summary),
                (&["-d"][..], Mode::Data),
                (&["-json"][..], Mode::Json),
            ] {
                let java = String::from_utf8(java_formatter(args, f)).unwrap();
                let mut ours = run(f, mode);
                if mode == Mode::Json {
                    // The header's timestamp is the time of the run.
                    let ts = java
                        .split("\"timestamp\":")
                        .nth(1)
                        .unwrap()
                        .split('}')
                        .next()
                        .unwrap();
                    ours = ours.replace("\"timestamp\":1234}", &format!("\"timestamp\":{ts}}}"));
                }
                assert!(
                    ours == java,
                    "{} {args:?}:\nrzk:\n{ours}\njava:\n{java}",
                    f.display()
                );
            }
        }
    }
}
