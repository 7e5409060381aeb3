//! The database image: the data tree and the sessions, to and from the
//! neutral snapshot representation of [`super::snapshot`].
//!
//! ACL lists are stored once each in a snapshot and referenced by id, as
//! Java's ReferenceCountedACLCache does; world:anyone:cdrwa is id -1.

use std::collections::HashMap;
use std::sync::Arc;

use crate::acl;
use crate::jute::data::ACL;
use crate::persist::digest::DIGEST_VERSION;
use crate::persist::snapshot::{SnapNode, Snapshot, ZxidDigest, OPEN_ACL_UNSAFE_ID};
use crate::tree::{DataTree, Node};

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
    let open = Arc::new(acl::open_acl_unsafe());
    let lists: HashMap<i64, Arc<Vec<ACL>>> = snap
        .acls
        .into_iter()
        .map(|(id, l)| (id, Arc::new(l)))
        .collect();
    let mut nodes = Vec::with_capacity(snap.nodes.len());
    for n in snap.nodes {
        let acl = if n.acl == OPEN_ACL_UNSAFE_ID {
            open.clone()
        } else {
            lists.get(&n.acl).cloned().ok_or_else(|| {
                format!(
                    "node {} refers to ACL {} the snapshot does not have",
                    n.path, n.acl
                )
            })?
        };
        nodes.push((n.path, Node::loaded(n.data, acl, n.stat)));
    }
    let tree = DataTree::from_nodes(nodes, extended_types, zxid)?;
    Ok((tree, snap.sessions))
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
    /// Paths still to visit, depth first.
    stack: Vec<String>,
    acl_ids: HashMap<Vec<ACL>, i64>,
    acls: Vec<(i64, Vec<ACL>)>,
    nodes: Vec<SnapNode>,
}

impl FuzzySnapshot {
    pub fn start(tree: &DataTree, sessions: Vec<(i64, i32)>) -> FuzzySnapshot {
        FuzzySnapshot {
            zxid: tree.last_processed_zxid,
            sessions,
            stack: vec!["/".to_owned()],
            acl_ids: HashMap::new(),
            acls: Vec::new(),
            nodes: Vec::with_capacity(tree.node_count()),
        }
    }

    /// Visits nodes until about `budget` nodes and child names have been
    /// handled; true once the walk is complete. (A node with a million
    /// children still orders them in one go.)
    pub fn step(&mut self, tree: &DataTree, budget: usize) -> bool {
        let open = acl::open_acl_unsafe();
        let mut spent = 0;
        while spent < budget {
            let Some(p) = self.stack.pop() else {
                return true;
            };
            // Deleted since it was queued: recovery's replay deletes it too.
            let Some(n) = tree.get(&p) else { continue };
            let id = if n.acl.as_slice() == open.as_slice() {
                OPEN_ACL_UNSAFE_ID
            } else {
                let next = self.acls.len() as i64 + 1;
                let acls = &mut self.acls;
                *self.acl_ids.entry(n.acl.to_vec()).or_insert_with(|| {
                    acls.push((next, n.acl.to_vec()));
                    next
                })
            };
            let kids = DataTree::child_paths(&p, n);
            self.nodes.push(SnapNode {
                // Java writes the root as "".
                path: if p == "/" { String::new() } else { p.clone() },
                data: n.data.clone(),
                acl: id,
                stat: n.stat.clone(),
            });
            spent += 1 + kids.len();
            self.stack.extend(kids.into_iter().rev());
        }
        self.stack.is_empty()
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
    use bytes::Bytes;

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
            parent_cversion: t.get(parent).unwrap().stat.cversion + 1,
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
        let mut want: Vec<String> = t.paths().cloned().collect();
        let mut got: Vec<String> = back.paths().cloned().collect();
        want.sort();
        got.sort();
        assert_eq!(got, want);
        for p in &want {
            assert_eq!(back.get(p).unwrap().stat, t.get(p).unwrap().stat, "{p}");
        }
        assert_eq!(back.digest(), t.digest());
    }
}
