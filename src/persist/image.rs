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
use crate::persist::digest::DIGEST_VERSION;
use crate::persist::snapshot::{
    self, Part, SnapNode, Snapshot, SnapshotError, ZxidDigest, OPEN_ACL_UNSAFE_ID,
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

/// Loads the snapshot file at `path` (named for `zxid`): one thread decodes
/// and checks the file while this one builds the tree from what it has
/// decoded so far, which on two cores takes about the time of the slower.
pub fn load_file(
    path: &std::path::Path,
    zxid: i64,
    extended_types: bool,
) -> Result<Loaded, LoadError> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Part>(8);
    let file = path.to_owned();
    let reader = std::thread::Builder::new()
        .name("rzk-snap-read".into())
        .spawn(move || {
            // A send fails only once the builder has given up: finish
            // reading anyway, so the error reported is the file's if any.
            snapshot::read_streaming(&file, LOAD_BATCH, |part| {
                let _ = tx.send(part);
            })
        })
        .map_err(|e| LoadError::Image(format!("cannot start a thread: {e}")))?;
    let mut loader: Option<Loader> = None;
    let mut sessions = Vec::new();
    let mut built: Result<(), String> = Ok(());
    for part in rx.iter() {
        match part {
            Part::Header { sessions: s, acls } => {
                sessions = s;
                loader = Some(Loader::new(acls, zxid, extended_types, 0));
            }
            Part::Nodes(nodes) => {
                let Some(l) = loader.as_mut() else { continue };
                built = nodes.into_iter().try_for_each(|n| l.add(n));
                if built.is_err() {
                    break;
                }
            }
        }
    }
    drop(rx);
    let digest = reader
        .join()
        .map_err(|_| LoadError::Image("the snapshot reader panicked".into()))?
        .map_err(LoadError::Read)?;
    built.map_err(LoadError::Image)?;
    let loader = loader.ok_or_else(|| LoadError::Image("no snapshot header".into()))?;
    let tree = loader.finish().map_err(LoadError::Image)?;
    Ok((tree, sessions, digest))
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

    fn add(&mut self, n: SnapNode) -> Result<(), String> {
        let acl = if n.acl == OPEN_ACL_UNSAFE_ID {
            self.open.clone()
        } else {
            self.lists.get(&n.acl).cloned().ok_or_else(|| {
                format!(
                    "node {} refers to ACL {} the snapshot does not have",
                    n.path, n.acl
                )
            })?
        };
        self.tree.add(n.path, Node::loaded(n.data, acl, n.stat))
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
