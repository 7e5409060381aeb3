//! The database image: the data tree and the sessions, to and from the
//! neutral snapshot representation of [`super::snapshot`].
//!
//! ACL lists are stored once each in a snapshot and referenced by id, as
//! Java's ReferenceCountedACLCache does; world:anyone:cdrwa is id -1.

use bytes::{Bytes, BytesMut};
use std::collections::HashMap;
use std::sync::Arc;

use crate::acl;
use crate::jute::data::ACL;
use crate::persist::digest::{TreeDigest, DIGEST_VERSION};
use crate::persist::snapshot::{
    self, Order, Part, SnapNode, Snapshot, SnapshotError, ZxidDigest, OPEN_ACL_UNSAFE_ID,
};
use crate::tree::{DataTree, Node, TreeBuilder};

/// A snapshot of `tree` and `sessions` as they are (consistent: its digest
/// is the tree's at its last processed zxid).
pub fn snapshot_of(tree: &DataTree, sessions: &[(i64, i32)]) -> Snapshot {
    let mut walk = FuzzySnapshot::start(tree, sessions.to_vec());
    walk.step(tree, usize::MAX);
    walk.finish(tree)
}

/// The tree and sessions a snapshot holds.
pub fn load(
    snap: Snapshot,
    zxid: i64,
    extended_types: bool,
) -> Result<(DataTree, Vec<(i64, i32)>), String> {
    let mut loader = Loader::new(snap.acls, zxid, extended_types, snap.nodes.len());
    for n in snap.nodes {
        loader.add(n)?;
    }
    Ok((loader.finish()?, snap.sessions))
}

/// Why [`load_file`] failed.
#[derive(Debug)]
pub enum LoadError {
    /// The file is not a whole snapshot (an older one may do).
    Read(SnapshotError),
    /// The snapshot reads back whole but does not make a tree.
    Image(String),
}

/// What [`load_file`] found: the tree, the sessions and the digest.
pub type Loaded = (DataTree, Vec<(i64, i32)>, Option<ZxidDigest>);

/// Nodes per piece handed from the decoding thread to the building one.
const LOAD_BATCH: usize = 4096;

/// What the decoding thread hands the building one.
enum Piece {
    Header {
        sessions: Vec<(i64, i32)>,
        acls: Vec<(i64, Vec<ACL>)>,
    },
    /// Nodes, and the sum of their digests (computed by the decoder,
    /// which has the time: building is the slower half).
    Nodes(Vec<SnapNode>, i64),
}

/// Loads the snapshot file at `path` (named for `zxid`): one thread decodes
/// and checks the file while this one builds the tree from what it has
/// decoded so far, which on two cores takes about the time of the slower.
/// The builder finds nodes out of order or repeated (with the lookups it
/// makes anyway); those are faults of the file, as the decoder's are.
pub fn load_file(
    path: &std::path::Path,
    zxid: i64,
    extended_types: bool,
) -> Result<Loaded, LoadError> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Piece>(8);
    let file = path.to_owned();
    let reader = std::thread::Builder::new()
        .name("rzk-snap-read".into())
        .spawn(move || {
            // A send fails only once the builder has given up: finish
            // reading anyway, so the error reported is the file's if any.
            snapshot::read_streaming(&file, LOAD_BATCH, Order::Consumer, |part| {
                let piece = match part {
                    Part::Header { sessions, acls } => Piece::Header { sessions, acls },
                    Part::Nodes(nodes) => {
                        let mut sum = TreeDigest::new();
                        for n in &nodes {
                            sum.add_node(&n.path, n.data.as_deref(), &n.stat);
                        }
                        Piece::Nodes(nodes, sum.value())
                    }
                };
                let _ = tx.send(piece);
            })
        })
        .map_err(|e| LoadError::Image(format!("cannot start a thread: {e}")))?;
    let mut loader: Option<Loader> = None;
    let mut sessions = Vec::new();
    let mut built: Result<(), AddError> = Ok(());
    for piece in rx.iter() {
        match piece {
            Piece::Header { sessions: s, acls } => {
                sessions = s;
                loader = Some(Loader::new(acls, zxid, extended_types, 0));
            }
            Piece::Nodes(nodes, digests) => {
                let Some(l) = loader.as_mut() else { continue };
                built = nodes.into_iter().try_for_each(|n| l.add_digested(n));
                if built.is_err() {
                    break;
                }
                l.tree.add_digests(digests);
            }
        }
    }
    drop(rx);
    let digest = reader
        .join()
        .map_err(|_| LoadError::Image("the snapshot reader panicked".into()))?
        .map_err(LoadError::Read)?;
    built.map_err(|e| match e {
        AddError::Tree(what) => LoadError::Read(SnapshotError::Tree {
            path: path.to_owned(),
            what,
        }),
        AddError::Acl(what) => LoadError::Image(what),
    })?;
    let loader = loader.ok_or_else(|| LoadError::Image("no snapshot header".into()))?;
    let tree = loader.finish().map_err(LoadError::Image)?;
    Ok((tree, sessions, digest))
}

/// Why a node could not be added.
enum AddError {
    /// It does not fit the tree (its parent is missing, or it is there).
    Tree(String),
    /// Its ACL id is not in the snapshot's cache.
    Acl(String),
}

/// Builds a tree from a snapshot's ACL cache and nodes.
struct Loader {
    open: Arc<Vec<ACL>>,
    lists: HashMap<i64, Arc<Vec<ACL>>>,
    tree: TreeBuilder,
}

impl Loader {
    fn new(acls: Vec<(i64, Vec<ACL>)>, zxid: i64, extended_types: bool, nodes: usize) -> Loader {
        Loader {
            open: Arc::new(acl::open_acl_unsafe()),
            lists: acls.into_iter().map(|(id, l)| (id, Arc::new(l))).collect(),
            tree: TreeBuilder::new(extended_types, zxid, nodes),
        }
    }

    fn acl(&self, n: &SnapNode) -> Result<Arc<Vec<ACL>>, AddError> {
        if n.acl == OPEN_ACL_UNSAFE_ID {
            return Ok(self.open.clone());
        }
        self.lists.get(&n.acl).cloned().ok_or_else(|| {
            AddError::Acl(format!(
                "node {} refers to ACL {} the snapshot does not have",
                n.path, n.acl
            ))
        })
    }

    fn add(&mut self, n: SnapNode) -> Result<(), String> {
        let acl = self
            .acl(&n)
            .map_err(|(AddError::Acl(e) | AddError::Tree(e))| e)?;
        self.tree.add(n.path, Node::loaded(n.data, acl, n.stat))
    }

    /// [`add`](Self::add), its digest counted by the caller.
    fn add_digested(&mut self, n: SnapNode) -> Result<(), AddError> {
        let acl = self.acl(&n)?;
        self.tree
            .add_digested(n.path, Node::loaded(n.data, acl, n.stat))
            .map_err(AddError::Tree)
    }

    fn finish(self) -> Result<DataTree, String> {
        self.tree.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::snapshot;
    use std::path::Path;

    fn java_fixture() -> Snapshot {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/persist/testdata/snap-java/snapshot.1c");
        snapshot::read(&p).expect("Java's fixture snapshot")
    }

    #[test]
    fn a_java_snapshot_loads_and_writes_back_the_same() {
        let java = java_fixture();
        let (tree, sessions) = load(java.clone(), 0x1c, true).unwrap();
        let again = snapshot_of(&tree, &sessions);
        let paths = |s: &Snapshot| s.nodes.iter().map(|n| n.path.clone()).collect::<Vec<_>>();
        assert_eq!(paths(&again), paths(&java), "same nodes in Java's order");
        for (a, b) in again.nodes.iter().zip(&java.nodes) {
            assert_eq!((&a.data, &a.stat), (&b.data, &b.stat), "{}", a.path);
        }
        assert_eq!(again.sessions, java.sessions);
        assert_eq!(again.digest.unwrap().digest, java.digest.unwrap().digest);
        assert_eq!(again.digest.unwrap().zxid, 0x1c);
    }

    #[test]
    fn acl_ids_resolve_and_dedupe() {
        let java = java_fixture();
        let (tree, sessions) = load(java, 0x1c, true).unwrap();
        let snap = snapshot_of(&tree, &sessions);
        let mut seen = std::collections::HashSet::new();
        for (id, list) in &snap.acls {
            assert!(*id > 0);
            assert!(seen.insert(list.clone()), "each ACL list stored once");
        }
        for n in &snap.nodes {
            assert!(n.acl == OPEN_ACL_UNSAFE_ID || snap.acls.iter().any(|(id, _)| *id == n.acl));
        }
    }

    fn scratch(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("rzk-image-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn snap_node(path: &str, data: &[u8], zxid: i64) -> SnapNode {
        let stat = crate::jute::data::StatPersisted {
            czxid: zxid,
            mzxid: zxid,
            pzxid: zxid,
            ..Default::default()
        };
        SnapNode {
            path: path.into(),
            data: Some(Bytes::copy_from_slice(data)),
            acl: OPEN_ACL_UNSAFE_ID,
            stat,
        }
    }

    /// More nodes than one batch, a quota whose stats node is stale, and
    /// a node with a listed ACL.
    fn many_nodes() -> Snapshot {
        let mut nodes = vec![
            snap_node("", b"", 0),
            snap_node("/zookeeper", b"", 0),
            snap_node("/zookeeper/quota", b"", 0),
            snap_node("/zookeeper/quota/q", b"", 1),
            snap_node(
                "/zookeeper/quota/q/zookeeper_limits",
                b"count=10,bytes=-1",
                1,
            ),
            snap_node("/zookeeper/quota/q/zookeeper_stats", b"count=0,bytes=0", 1),
            snap_node("/zookeeper/config", b"", 0),
            snap_node("/q", b"top", 2),
        ];
        for i in 0..LOAD_BATCH + 900 {
            nodes.push(snap_node(&format!("/q/c{i}"), &[i as u8; 7], 3 + i as i64));
            if i % 1000 == 0 {
                nodes.push(snap_node(&format!("/q/c{i}/g"), b"", 3 + i as i64));
            }
        }
        nodes.push(snap_node("/r", b"restricted", 9999));
        nodes.last_mut().unwrap().acl = 1;
        let mut snap = Snapshot {
            sessions: vec![(5, 4000)],
            acls: vec![(1, vec![acl::open_acl_unsafe()[0].clone()])],
            nodes,
            digest: None,
        };
        snap.acls[0].1[0].perms = 1;
        snap.digest = Some(ZxidDigest {
            zxid: 9999,
            digest_version: DIGEST_VERSION,
            digest: snap.tree_digest(),
        });
        snap
    }

    #[test]
    fn a_file_loads_as_the_same_snapshot_in_memory_does() {
        let dir = scratch("same");
        let file = dir.join("snapshot.270f");
        let snap = many_nodes();
        snapshot::write(&file, &snap, snapshot::Compression::None).unwrap();
        let (tree, sessions, digest) = load_file(&file, 9999, true).unwrap();
        let (expected, _) = load(snap.clone(), 9999, true).unwrap();

        assert_eq!(sessions, snap.sessions);
        assert_eq!(digest.unwrap().digest, snap.digest.unwrap().digest);
        // The digests summed on the decoding thread add up to the tree's.
        assert_eq!(tree.digest(), tree.recompute_digest());
        assert_eq!(tree.digest(), expected.digest());
        assert_eq!(tree.node_count(), expected.node_count());
        for p in expected.paths() {
            let (a, b) = (tree.get(p).unwrap(), expected.get(p).unwrap());
            assert_eq!(
                (a.data(), a.stat(), a.acl()),
                (b.data(), b.stat(), b.acl()),
                "{p}"
            );
            let order = |n: crate::tree::NodeRef| n.children().iteration_order().join(",");
            assert_eq!(order(a), order(b), "{p}");
        }
        // The stale quota stats were recounted: /q and everything under it.
        let stats = tree.get("/zookeeper/quota/q/zookeeper_stats").unwrap();
        let count = 1 + LOAD_BATCH + 900 + (LOAD_BATCH + 900).div_ceil(1000);
        assert!(
            String::from_utf8_lossy(stats.data().unwrap()).starts_with(&format!("count={count},")),
            "{:?}",
            String::from_utf8_lossy(stats.data().unwrap())
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Writes `nodes` as a snapshot file, without the checks `write` makes.
    fn write_unchecked(path: &std::path::Path, nodes: &[&str]) {
        use crate::jute::JuteField;
        let mut buf = BytesMut::new();
        snapshot::SNAP_MAGIC.write(&mut buf);
        snapshot::SNAP_VERSION.write(&mut buf);
        snapshot::SNAP_DBID.write(&mut buf);
        0i32.write(&mut buf);
        0i32.write(&mut buf);
        for p in nodes {
            p.to_string().write(&mut buf);
            None::<Bytes>.write(&mut buf);
            OPEN_ACL_UNSAFE_ID.write(&mut buf);
            crate::jute::data::StatPersisted::default().write(&mut buf);
        }
        "/".to_owned().write(&mut buf);
        i64::from(adler2::adler32_slice(&buf)).write(&mut buf);
        "/".to_owned().write(&mut buf);
        std::fs::write(path, &buf).unwrap();
    }

    #[test]
    fn nodes_out_of_order_or_repeated_make_the_file_unreadable() {
        // Recovery then tries an older snapshot, as Java does when a file
        // does not deserialize into a tree.
        let dir = scratch("order");
        let file = dir.join("snapshot.1");
        for (nodes, says) in [
            (&["", "/a/b"][..], "before its parent"),
            (&["", "/a", "/b", "/a"][..], "/a appears twice"),
            (&["", "/a", "/a/b", "/c", "/a/b"][..], "/a/b appears twice"),
        ] {
            write_unchecked(&file, nodes);
            match load_file(&file, 1, true) {
                Err(LoadError::Read(e @ SnapshotError::Tree { .. })) => {
                    assert!(e.to_string().contains(says), "{e}")
                }
                Err(e) => panic!("{nodes:?}: {e:?}"),
                Ok(_) => panic!("{nodes:?} loaded"),
            }
            // The reader alone finds the same fault.
            assert!(snapshot::read(&file).is_err(), "{nodes:?}");
        }
        write_unchecked(&file, &["", "/a", "/a/b", "/c"]);
        assert!(load_file(&file, 1, true).is_ok());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_missing_acl_is_an_error() {
        let mut java = java_fixture();
        java.acls.clear();
        assert!(load(java, 0x1c, true).is_err());
    }
}

/// A snapshot taken a slice at a time between requests, as Java's fuzzy
/// snapshots are: the walk starts at the tree's last processed zxid `Z`
/// and sees some changes made after it, which recovery makes consistent by
/// replaying the log from `Z + 1` (replay is idempotent for exactly this).
/// As in Java, its digest is the tree's when the walk ends, tagged with that
/// moment's zxid, which recovery checks when its replay reaches that zxid.
pub struct FuzzySnapshot {
    pub zxid: i64,
    sessions: Vec<(i64, i32)>,
    /// The root is still to visit.
    root_pending: bool,
    /// Children still to visit, depth first: the top frame's come next.
    stack: Vec<PendingChildren>,
    acl_ids: HashMap<Vec<ACL>, i64>,
    acls: Vec<(i64, Vec<ACL>)>,
    nodes: Vec<SnapNode>,
    /// Where the nodes' data is copied to: big chunks, not a small
    /// allocation per node, so that the heap they used goes back to the
    /// system whole once the snapshot is written.
    arena: BytesMut,
}

/// The size of a data arena chunk.
const ARENA_CHUNK: usize = 1 << 20;

/// A visited node's children, named when it was visited (ones created
/// since are left to replay; ones deleted since are skipped).
struct PendingChildren {
    /// The parent's path, "" for the root.
    base: String,
    /// Child names in reverse Java order: the next is at the end.
    names: Vec<crate::javahash::Name>,
}

/// `d` copied into the arena (a new chunk when it is full).
fn copy_to_arena(arena: &mut BytesMut, d: &[u8]) -> Bytes {
    if arena.capacity() - arena.len() < d.len() {
        *arena = BytesMut::with_capacity(ARENA_CHUNK.max(d.len()));
    }
    arena.extend_from_slice(d);
    arena.split().freeze()
}

impl FuzzySnapshot {
    pub fn start(tree: &DataTree, sessions: Vec<(i64, i32)>) -> FuzzySnapshot {
        FuzzySnapshot {
            zxid: tree.last_processed_zxid,
            sessions,
            root_pending: true,
            stack: Vec::new(),
            acl_ids: HashMap::new(),
            acls: Vec::new(),
            nodes: Vec::with_capacity(tree.node_count()),
            arena: BytesMut::new(),
        }
    }

    /// The next path to visit, if any.
    fn next_path(&mut self) -> Option<String> {
        if std::mem::take(&mut self.root_pending) {
            return Some("/".to_owned());
        }
        loop {
            let top = self.stack.last_mut()?;
            match top.names.pop() {
                Some(name) => return Some(format!("{}/{name}", top.base)),
                None => {
                    self.stack.pop();
                }
            }
        }
    }

    /// Visits nodes until about `budget` nodes have been handled (ordering
    /// a node's children counts a quarter per child); true once the walk is
    /// complete. A node with a million children has them ordered in one
    /// go, but their paths are made and visited a slice at a time.
    pub fn step(&mut self, tree: &DataTree, budget: usize) -> bool {
        let open = acl::open_acl_unsafe();
        let mut spent = 0;
        while spent < budget {
            let Some(p) = self.next_path() else {
                return true;
            };
            // Deleted since it was queued: recovery's replay deletes it too.
            let Some(n) = tree.get(&p) else { continue };
            let id = if n.acl().as_slice() == open.as_slice() {
                OPEN_ACL_UNSAFE_ID
            } else {
                let next = self.acls.len() as i64 + 1;
                let acls = &mut self.acls;
                *self.acl_ids.entry(n.acl().to_vec()).or_insert_with(|| {
                    acls.push((next, n.acl().to_vec()));
                    next
                })
            };
            spent += 1 + n.children().len() / 4;
            if !n.children().is_empty() {
                let mut names = n.children().iteration_order_owned();
                names.reverse();
                let base = if p == "/" { String::new() } else { p.clone() };
                self.stack.push(PendingChildren { base, names });
            }
            self.nodes.push(SnapNode {
                // Java writes the root as "".
                path: if p == "/" { String::new() } else { p },
                data: n.data().map(|d| copy_to_arena(&mut self.arena, d)),
                acl: id,
                stat: n.stat(),
            });
        }
        !self.root_pending && self.stack.iter().all(|f| f.names.is_empty())
    }

    /// The finished snapshot; `tree` is the tree as the walk ends.
    pub fn finish(self, tree: &DataTree) -> Snapshot {
        Snapshot {
            sessions: self.sessions,
            acls: self.acls,
            nodes: self.nodes,
            digest: Some(ZxidDigest {
                zxid: tree.last_processed_zxid,
                digest_version: DIGEST_VERSION,
                digest: tree.digest(),
            }),
        }
    }
}

#[cfg(test)]
mod fuzzy_tests {
    use super::*;
    use crate::jute::txn::{CreateTxn, DeleteTxn, TxnHeader};
    use crate::proto::op;
    use crate::txn::{Txn, TxnBody};

    #[test]
    fn the_arena_keeps_every_copy_whole() {
        let mut arena = BytesMut::new();
        let big = vec![9u8; ARENA_CHUNK + 5];
        let pieces: Vec<Vec<u8>> = (0..3000)
            .map(|i| vec![i as u8; i % 700])
            .chain([big.clone(), vec![], big])
            .collect();
        let copies: Vec<Bytes> = pieces
            .iter()
            .map(|p| copy_to_arena(&mut arena, p))
            .collect();
        for (p, c) in pieces.iter().zip(&copies) {
            assert_eq!(&p[..], &c[..]);
        }
    }

    fn apply(t: &mut DataTree, zxid: i64, type_: i32, body: TxnBody) {
        let txn = Txn {
            header: TxnHeader {
                client_id: 0,
                cxid: 0,
                zxid,
                time: zxid,
                type_,
            },
            body,
            digest: None,
        };
        t.apply(&txn, &mut Vec::new());
    }

    /// A create as the prep stage writes it: the parent's new cversion is
    /// absolute, which is what makes replaying it over a fuzzy image safe.
    fn create(t: &DataTree, p: &str) -> TxnBody {
        let parent = crate::path::parent_key(crate::path::parent(p).unwrap());
        TxnBody::Create(CreateTxn {
            path: p.into(),
            data: Some(Bytes::from_static(b"d")),
            acl: acl::open_acl_unsafe(),
            ephemeral: false,
            parent_cversion: t.get(parent).unwrap().stat().cversion + 1,
        })
    }

    #[test]
    fn a_quiet_tree_gives_the_same_nodes_as_a_consistent_snapshot() {
        let mut t = DataTree::new(false);
        for (z, p) in ["/a", "/a/b", "/c", "/a/b/d"].iter().enumerate() {
            let body = create(&t, p);
            apply(&mut t, z as i64 + 1, op::CREATE, body);
        }
        let mut f = FuzzySnapshot::start(&t, vec![(7, 3000)]);
        while !f.step(&t, 2) {}
        let fuzzy = f.finish(&t);
        let consistent = snapshot_of(&t, &[(7, 3000)]);
        assert_eq!(fuzzy.nodes, consistent.nodes);
        assert_eq!(fuzzy.sessions, consistent.sessions);
        assert_eq!(fuzzy.digest, consistent.digest);
    }

    #[test]
    fn changes_during_the_walk_are_made_good_by_replay() {
        let mut t = DataTree::new(false);
        let mut log = Vec::new();
        for (z, p) in ["/a", "/a/x", "/b", "/b/y"].iter().enumerate() {
            let body = create(&t, p);
            apply(&mut t, z as i64 + 1, op::CREATE, body);
        }
        let mut f = FuzzySnapshot::start(&t, vec![]);
        assert_eq!(f.zxid, 4);
        f.step(&t, 2);
        // Meanwhile: a new node, a deletion and a node under a visited parent.
        let steps: [(i64, i32, &str); 3] = [
            (5, op::CREATE, "/a/z"),
            (6, op::DELETE, "/b/y"),
            (7, op::CREATE, "/c"),
        ];
        for (z, type_, p) in steps {
            let body = if type_ == op::CREATE {
                create(&t, p)
            } else {
                TxnBody::Delete(DeleteTxn { path: p.into() })
            };
            apply(&mut t, z, type_, body.clone());
            log.push((z, type_, body));
        }
        while !f.step(&t, 2) {}
        let snap = f.finish(&t);
        assert_eq!(
            snap.digest.unwrap().zxid,
            7,
            "the digest is the tree's as the walk ends"
        );
        // Recovery: load the fuzzy snapshot, replay the log after its zxid.
        let (mut back, _) = load(snap, 4, false).unwrap();
        for (z, type_, body) in log {
            apply(&mut back, z, type_, body);
        }
        let mut want: Vec<String> = t.paths().map(str::to_owned).collect();
        let mut got: Vec<String> = back.paths().map(str::to_owned).collect();
        want.sort();
        got.sort();
        assert_eq!(got, want);
        for p in &want {
            assert_eq!(back.get(p).unwrap().stat(), t.get(p).unwrap().stat(), "{p}");
        }
        assert_eq!(back.digest(), t.digest());
    }
}
