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

/// A snapshot of `tree` and `sessions`, taken at `zxid` (the tree's last
/// processed zxid: the image is consistent, so its digest is exact).
pub fn snapshot_of(tree: &DataTree, sessions: &[(i64, i32)]) -> Snapshot {
    let open = acl::open_acl_unsafe();
    let mut ids: HashMap<&[ACL], i64> = HashMap::new();
    let mut acls = Vec::new();
    let mut nodes = Vec::with_capacity(tree.node_count());
    tree.walk_java_order(|p, n| {
        let id = if n.acl.as_slice() == open.as_slice() {
            OPEN_ACL_UNSAFE_ID
        } else {
            let list: &[ACL] = n.acl.as_slice();
            let next = acls.len() as i64 + 1;
            *ids.entry(list).or_insert_with(|| {
                acls.push((next, list.to_vec()));
                next
            })
        };
        nodes.push(SnapNode {
            path: p.to_owned(),
            data: n.data.clone(),
            acl: id,
            stat: n.stat.clone(),
        });
    });
    let mut snap = Snapshot {
        sessions: sessions.to_vec(),
        acls,
        nodes,
        digest: None,
    };
    snap.digest = Some(ZxidDigest {
        zxid: tree.last_processed_zxid,
        digest_version: DIGEST_VERSION,
        digest: snap.tree_digest(),
    });
    snap
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
