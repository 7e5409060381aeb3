//! The data tree: znodes, their stats and ACLs, ephemeral/container/TTL
//! bookkeeping, and the application of transactions in zxid order.
//!
//! Pure data, no I/O. Applying a transaction returns what changed (for the
//! watch manager) alongside the result the reply is built from.

use std::collections::BTreeSet;
use std::sync::Arc;

use bytes::Bytes;

use crate::fasthash::HashMap;
use crate::javahash::{JavaHashSet, Name};
use crate::jute::data::{Stat, StatPersisted, ACL};
use crate::persist::digest::{self, TreeDigest};
use crate::proto::{op, owner, special, ErrorCode};
use crate::txn::{Txn, TxnBody};
use crate::{acl, path, quota};

mod packed;
use packed::{NodeTable, Packed};

/// A node as handed to the tree: loaded from a snapshot, or one of the
/// server's own.
#[derive(Debug, Clone)]
pub struct Node {
    pub data: Option<Bytes>,
    pub acl: Arc<Vec<ACL>>,
    pub stat: StatPersisted,
}

impl Node {
    /// A node read from a snapshot (its children are added as the tree is rebuilt).
    pub fn loaded(data: Option<Bytes>, acl: Arc<Vec<ACL>>, stat: StatPersisted) -> Node {
        Node { data, acl, stat }
    }
}

/// A node in the tree, as read.
#[derive(Clone, Copy)]
pub struct NodeRef<'a> {
    tree: &'a DataTree,
    n: &'a Packed,
}

impl<'a> NodeRef<'a> {
    pub fn path(&self) -> &'a str {
        self.n.path()
    }

    /// `None` is Java's null data, distinct from empty.
    pub fn data(&self) -> Option<&'a [u8]> {
        self.n.data()
    }

    /// A copy of the data, for records that own theirs.
    pub fn data_bytes(&self) -> Option<Bytes> {
        self.n.data().map(Bytes::copy_from_slice)
    }

    pub fn data_len(&self) -> usize {
        self.n.data_len()
    }

    pub fn stat(&self) -> StatPersisted {
        self.n.stat()
    }

    pub fn acl(&self) -> &'a Arc<Vec<ACL>> {
        self.tree.acls.get(self.n.acl())
    }

    pub fn children(&self) -> Children<'a> {
        if self.n.has_child_set() {
            self.tree.children_of(self.n.path())
        } else {
            Children(None)
        }
    }
}

/// A node's child names, in Java's HashSet order where it matters
/// (getChildren exposes it).
#[derive(Debug, Clone, Copy)]
pub struct Children<'a>(Option<&'a JavaHashSet>);

impl<'a> Children<'a> {
    pub fn len(&self) -> usize {
        self.0.map_or(0, |s| s.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.is_some_and(|s| s.contains(name))
    }

    /// Names in no particular order (cheaper than `iteration_order`).
    pub fn iter(&self) -> impl Iterator<Item = &'a str> {
        self.0.into_iter().flat_map(|s| s.iter())
    }

    /// Names in Java's iteration order.
    pub fn iteration_order(&self) -> Vec<&'a str> {
        self.0.map_or_else(Vec::new, |s| s.iteration_order())
    }

    /// Names in Java's iteration order, owned (short names without allocating).
    pub fn iteration_order_owned(&self) -> Vec<Name> {
        self.0.map_or_else(Vec::new, |s| s.iteration_order_owned())
    }
}

/// A change the watch manager must hear about, in the order it happened,
/// with the ACLs that decide who may hear of it (a watcher is told only if
/// it could read the node, as Java does since CVE-2024-23944).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Created {
        path: String,
        acl: Arc<Vec<ACL>>,
        parent_acl: Arc<Vec<ACL>>,
    },
    Deleted {
        path: String,
        acl: Arc<Vec<ACL>>,
        parent_acl: Arc<Vec<ACL>>,
    },
    DataChanged {
        path: String,
        acl: Arc<Vec<ACL>>,
    },
}

/// The outcome of applying one transaction (Java's ProcessTxnResult).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxnResult {
    pub type_: i32,
    pub err: i32,
    pub path: String,
    pub stat: Option<Stat>,
    pub multi: Vec<TxnResult>,
}

pub struct DataTree {
    nodes: NodeTable,
    /// Child names by parent path, for nodes that have had children. A
    /// set stays, possibly empty, until its node goes, as Java's does,
    /// keeping the table size it grew to.
    children: HashMap<Box<str>, JavaHashSet>,
    /// Per session, in Java's HashSet order (clients can see it). A set
    /// stays, possibly empty, until its session closes, as in Java.
    ephemerals: HashMap<i64, JavaHashSet>,
    containers: BTreeSet<String>,
    ttls: BTreeSet<String>,
    extended_types: bool,
    /// Sum of path and data lengths, as Java's approximateDataSize.
    data_size: u64,
    /// Paths with a quota (a zookeeper_limits node under /zookeeper/quota).
    quota_paths: BTreeSet<String>,
    /// Java's tree digest: the sum of every node's digest, kept current.
    digest: TreeDigest,
    acls: AclLists,
    pub last_processed_zxid: i64,
}

/// The ACL lists nodes use, each stored once under an id the nodes hold,
/// with a count of its users, as Java's ReferenceCountedACLCache does:
/// most nodes share a handful of lists.
#[derive(Default)]
struct AclLists {
    /// By id; a slot with no users is free (listed in `free`).
    slots: Vec<AclSlot>,
    ids: HashMap<Vec<ACL>, u32>,
    free: Vec<u32>,
    /// The list interned last, which a loader hands over and over.
    last: Option<(Arc<Vec<ACL>>, u32)>,
}

struct AclSlot {
    acl: Arc<Vec<ACL>>,
    users: u64,
}

impl AclLists {
    /// The id of `acl`, with one user more.
    fn intern(&mut self, acl: &[ACL]) -> u32 {
        match self.ids.get(acl) {
            Some(&id) => {
                self.slots[id as usize].users += 1;
                id
            }
            None => self.add(Arc::new(acl.to_vec())),
        }
    }

    fn intern_shared(&mut self, acl: Arc<Vec<ACL>>) -> u32 {
        if let Some((last, id)) = &self.last {
            if Arc::ptr_eq(last, &acl) && self.slots[*id as usize].users > 0 {
                self.slots[*id as usize].users += 1;
                return *id;
            }
        }
        let id = match self.ids.get(acl.as_slice()) {
            Some(&id) => {
                self.slots[id as usize].users += 1;
                id
            }
            None => self.add(acl.clone()),
        };
        self.last = Some((acl, id));
        id
    }

    fn add(&mut self, acl: Arc<Vec<ACL>>) -> u32 {
        let slot = AclSlot {
            acl: acl.clone(),
            users: 1,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = slot;
                id
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        self.ids.insert(acl.to_vec(), id);
        id
    }

    /// One user of `id` fewer; the list goes with its last user.
    fn release(&mut self, id: u32) {
        let slot = &mut self.slots[id as usize];
        slot.users -= 1;
        if slot.users == 0 {
            self.ids.remove(slot.acl.as_slice());
            slot.acl = Arc::default();
            self.free.push(id);
            if self.last.as_ref().is_some_and(|(_, l)| *l == id) {
                self.last = None;
            }
        }
    }

    fn get(&self, id: u32) -> &Arc<Vec<ACL>> {
        &self.slots[id as usize].acl
    }

    fn len(&self) -> usize {
        self.ids.len()
    }
}

/// A child was created: the parent's cversion moves to `cversion` (-1: one
/// on) and its pzxid to `zxid`, but never backwards, so replaying a create
/// a fuzzy snapshot already holds changes nothing (as Java).
fn advance_cversion(stat: &mut StatPersisted, cversion: i32, zxid: i64) {
    let cv = if cversion == -1 {
        stat.cversion + 1
    } else {
        cversion
    };
    if cv > stat.cversion {
        stat.cversion = cv;
        stat.pzxid = zxid;
    }
}

/// A node's digest as Java computes it (0 for the server's own nodes).
pub fn node_digest_of(p: &str, n: NodeRef) -> i64 {
    digest::node_digest(p, n.data(), &n.stat())
}

fn new_stat(zxid: i64, time: i64, ephemeral_owner: i64) -> StatPersisted {
    StatPersisted {
        czxid: zxid,
        mzxid: zxid,
        ctime: time,
        mtime: time,
        version: 0,
        cversion: 0,
        aversion: 0,
        ephemeral_owner,
        pzxid: zxid,
    }
}

impl DataTree {
    /// An empty tree: the root and the /zookeeper, /zookeeper/quota and
    /// /zookeeper/config nodes every Java server starts with.
    pub fn new(extended_types: bool) -> DataTree {
        let mut t = DataTree::empty(extended_types, 0);
        let open = Arc::new(acl::open_acl_unsafe());
        let empty = || Some(Bytes::new());
        for p in ["/", special::ZOOKEEPER, special::QUOTA] {
            t.insert_node(
                p,
                Node::loaded(empty(), open.clone(), StatPersisted::default()),
            );
        }
        t.insert_node(
            special::CONFIG,
            // Java sets this ACL with version -1, which leaves aversion at -1.
            Node::loaded(
                empty(),
                Arc::new(acl::read_acl_unsafe()),
                StatPersisted {
                    aversion: -1,
                    ..Default::default()
                },
            ),
        );
        t
    }

    /// No nodes at all, not even the root.
    fn empty(extended_types: bool, last_zxid: i64) -> DataTree {
        DataTree {
            nodes: NodeTable::default(),
            children: HashMap::default(),
            ephemerals: HashMap::default(),
            containers: BTreeSet::new(),
            ttls: BTreeSet::new(),
            extended_types,
            data_size: 0,
            quota_paths: BTreeSet::new(),
            digest: TreeDigest::new(),
            acls: AclLists::default(),
            last_processed_zxid: last_zxid,
        }
    }

    fn view<'a>(&'a self, n: &'a Packed) -> NodeRef<'a> {
        NodeRef { tree: self, n }
    }

    fn children_of(&self, p: &str) -> Children<'_> {
        Children(self.children.get(p))
    }

    /// Adds `name` to the children of the node at `parent`.
    fn add_child(&mut self, parent: &str, name: &str) {
        match self.children.get_mut(parent) {
            Some(set) => set.insert(name),
            None => {
                // DataNode creates its set as `new HashSet<>(8)`.
                let mut set = JavaHashSet::with_initial_capacity(8);
                set.insert(name);
                self.children.insert(parent.into(), set);
                if let Some(n) = self.nodes.get_mut(parent) {
                    n.mark_child_set();
                }
            }
        }
    }

    /// Adds a node whose parent is there (if it is not the root).
    fn insert_node(&mut self, p: &str, node: Node) {
        let acl = self.acls.intern_shared(node.acl);
        if p != "/" {
            let parent = path::parent_key(path::parent(p).unwrap_or(""));
            if self.nodes.contains(parent) {
                self.add_child(parent, path::name(p));
            }
        }
        let mut packed = Packed::new(p, node.data.as_deref(), acl, &node.stat);
        if self.children.contains_key(p) {
            packed.mark_child_set();
        }
        self.data_size += (p.len() + packed.data_len()) as u64;
        self.digest
            .add(digest::node_digest(p, packed.data(), &node.stat));
        if let Some(old) = self.nodes.insert(packed) {
            self.acls.release(old.acl());
        }
    }

    /// Java's tree digest of the tree as it is.
    pub fn digest(&self) -> i64 {
        self.digest.value()
    }

    /// The tree digest computed afresh from every node (the kept one must equal it).
    pub fn recompute_digest(&self) -> i64 {
        let mut d = TreeDigest::new();
        for n in self.nodes.iter() {
            d.add(digest::node_digest(n.path(), n.data(), &n.stat()));
        }
        d.value()
    }

    /// Changes a node's stat, keeping the tree digest current; with
    /// `data`, its data too.
    fn update_node<R>(
        &mut self,
        p: &str,
        data: Option<Option<&[u8]>>,
        f: impl FnOnce(&mut StatPersisted) -> R,
    ) -> Option<R> {
        let n = self.nodes.get_mut(p)?;
        let mut stat = n.stat();
        let before = digest::node_digest(p, n.data(), &stat);
        let r = f(&mut stat);
        match data {
            Some(d) => *n = n.with_data(d, &stat),
            None => n.set_stat(&stat),
        }
        let after = digest::node_digest(p, n.data(), &stat);
        self.digest.remove(before);
        self.digest.add(after);
        Some(r)
    }

    pub fn get(&self, path: &str) -> Option<NodeRef<'_>> {
        self.nodes.get(path).map(|n| self.view(n))
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Distinct ACL lists in use (Java's `ReferenceCountedACLCache` size).
    pub fn acl_list_count(&self) -> usize {
        self.acls.len()
    }

    pub fn approximate_data_size(&self) -> u64 {
        self.data_size
    }

    pub fn extended_types(&self) -> bool {
        self.extended_types
    }

    /// The stat a client sees: derived fields filled in, cversion in the
    /// "changes" counting clients expect, and only real sessions as owners.
    pub fn client_stat(&self, n: NodeRef) -> Stat {
        let s = n.stat();
        let num_children = n.children().len() as i32;
        let owner = match owner::kind(s.ephemeral_owner, self.extended_types) {
            owner::Kind::Normal => s.ephemeral_owner,
            _ => 0,
        };
        Stat {
            czxid: s.czxid,
            mzxid: s.mzxid,
            ctime: s.ctime,
            mtime: s.mtime,
            version: s.version,
            cversion: s.cversion.wrapping_mul(2).wrapping_sub(num_children),
            aversion: s.aversion,
            ephemeral_owner: owner,
            data_length: n.data_len() as i32,
            num_children,
            pzxid: s.pzxid,
        }
    }

    pub fn stat(&self, path: &str) -> Option<Stat> {
        self.get(path).map(|n| self.client_stat(n))
    }

    /// A session's ephemerals, in the order Java hands them out.
    pub fn ephemerals(&self, session: i64) -> Vec<String> {
        self.ephemerals
            .get(&session)
            .map(|s| {
                s.clone_iteration_order()
                    .into_iter()
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn ephemeral_count(&self) -> usize {
        self.ephemerals.values().map(|s| s.len()).sum()
    }

    pub fn ephemerals_by_session(&self) -> &HashMap<i64, JavaHashSet> {
        &self.ephemerals
    }

    pub fn containers(&self) -> &BTreeSet<String> {
        &self.containers
    }

    pub fn ttls(&self) -> &BTreeSet<String> {
        &self.ttls
    }

    /// Descendants of `path` at every depth (getAllChildrenNumber).
    pub fn all_children_number(&self, path: &str) -> i32 {
        if path == "/" {
            return self.nodes.len() as i32 - 1;
        }
        let mut count = 0;
        let mut stack = vec![path.to_owned()];
        while let Some(p) = stack.pop() {
            for c in self.children_of(&p).iter() {
                count += 1;
                stack.push(format!("{p}/{c}"));
            }
        }
        count
    }

    /// Applies a transaction, recording its zxid as processed.
    pub fn apply(&mut self, txn: &Txn, changes: &mut Vec<Change>) -> TxnResult {
        let h = &txn.header;
        let mut rc = self.apply_body(h.type_, h.client_id, h.zxid, h.time, &txn.body, changes);
        // Replaying a create whose node survived in a fuzzy snapshot must
        // still move the parent's cversion forward (as Java does).
        if h.type_ == op::CREATE && rc.err == ErrorCode::NodeExists.code() {
            if let TxnBody::Create(c) = &txn.body {
                let parent = path::parent_key(path::parent(&c.path).unwrap_or("")).to_owned();
                if let Err(e) = self.set_cversion_pzxid(&parent, c.parent_cversion, h.zxid) {
                    rc.err = e.code();
                }
            }
        }
        if h.zxid > self.last_processed_zxid {
            self.last_processed_zxid = h.zxid;
        }
        rc
    }

    fn apply_body(
        &mut self,
        type_: i32,
        client: i64,
        zxid: i64,
        time: i64,
        body: &TxnBody,
        changes: &mut Vec<Change>,
    ) -> TxnResult {
        let mut rc = TxnResult {
            type_,
            ..Default::default()
        };
        let res: Result<(), ErrorCode> = match body {
            TxnBody::Create(c) => {
                rc.path = c.path.clone();
                let owner = if c.ephemeral { client } else { 0 };
                self.create_node(
                    &c.path,
                    &c.data,
                    &c.acl,
                    owner,
                    c.parent_cversion,
                    zxid,
                    time,
                    changes,
                )
                .map(|s| {
                    if type_ == op::CREATE2 {
                        rc.stat = Some(s)
                    }
                })
            }
            TxnBody::CreateTtl(c) => {
                rc.path = c.path.clone();
                let owner = owner::ttl_owner(c.ttl).unwrap_or(0);
                self.create_node(
                    &c.path,
                    &c.data,
                    &c.acl,
                    owner,
                    c.parent_cversion,
                    zxid,
                    time,
                    changes,
                )
                .map(|s| rc.stat = Some(s))
            }
            TxnBody::CreateContainer(c) => {
                rc.path = c.path.clone();
                self.create_node(
                    &c.path,
                    &c.data,
                    &c.acl,
                    owner::CONTAINER,
                    c.parent_cversion,
                    zxid,
                    time,
                    changes,
                )
                .map(|s| rc.stat = Some(s))
            }
            TxnBody::Delete(d) => {
                rc.path = d.path.clone();
                self.delete_node(&d.path, zxid, changes)
            }
            TxnBody::SetData(s) => {
                rc.path = s.path.clone();
                self.set_data(&s.path, s.data.clone(), s.version, zxid, time, changes)
                    .map(|st| rc.stat = Some(st))
            }
            TxnBody::SetAcl(s) => {
                rc.path = s.path.clone();
                self.set_acl(&s.path, &s.acl, s.version)
                    .map(|st| rc.stat = Some(st))
            }
            TxnBody::CloseSession(c) => {
                self.kill_session(client, zxid, &c.paths2_delete, changes);
                Ok(())
            }
            TxnBody::Error(e) => {
                rc.err = e.err;
                Ok(())
            }
            TxnBody::Check(c) => {
                rc.path = c.path.clone();
                Ok(())
            }
            TxnBody::CreateSession(_) => Ok(()),
            TxnBody::Multi(ops) => {
                let failed = ops.iter().any(|(t, _)| *t == op::ERROR);
                let mut post_failed = false;
                for (t, sub) in ops {
                    let (t, sub) = if failed && *t != op::ERROR {
                        // A failed multi applies nothing: ops before the failure
                        // report OK, ops after it RuntimeInconsistency.
                        let ec = if post_failed {
                            ErrorCode::RuntimeInconsistency
                        } else {
                            ErrorCode::Ok
                        };
                        (
                            op::ERROR,
                            TxnBody::Error(crate::jute::txn::ErrorTxn { err: ec.code() }),
                        )
                    } else {
                        if *t == op::ERROR {
                            post_failed = true;
                        }
                        (*t, sub.clone())
                    };
                    let sub_rc = self.apply_body(t, client, zxid, time, &sub, changes);
                    if sub_rc.err != 0 && rc.err == 0 {
                        rc.err = sub_rc.err;
                    }
                    rc.multi.push(sub_rc);
                }
                Ok(())
            }
        };
        if let Err(e) = res {
            rc.err = e.code();
        }
        rc
    }

    #[allow(clippy::too_many_arguments)]
    fn create_node(
        &mut self,
        p: &str,
        data: &Option<Bytes>,
        acl: &[ACL],
        ephemeral_owner: i64,
        parent_cversion: i32,
        zxid: i64,
        time: i64,
        changes: &mut Vec<Change>,
    ) -> Result<Stat, ErrorCode> {
        let parent_path = path::parent(p).ok_or(ErrorCode::NoNode)?;
        let parent_key = path::parent_key(parent_path);
        let child = path::name(p);
        let parent = self.get(parent_key).ok_or(ErrorCode::NoNode)?;
        if parent.children().contains(child) {
            return Err(ErrorCode::NodeExists);
        }
        let parent_acl = parent.acl().clone();
        self.update_node(parent_key, None, |st| {
            advance_cversion(st, parent_cversion, zxid)
        });
        self.add_child(parent_key, child);
        let acl_id = self.acls.intern(acl);
        let node_acl = self.acls.get(acl_id).clone();
        let packed = Packed::new(
            p,
            data.as_deref(),
            acl_id,
            &new_stat(zxid, time, ephemeral_owner),
        );
        self.data_size += (p.len() + packed.data_len()) as u64;
        self.digest
            .add(digest::node_digest(p, packed.data(), &packed.stat()));
        if let Some(old) = self.nodes.insert(packed) {
            // Not reached: the parent's child set said it was not there.
            self.acls.release(old.acl());
        }
        let stat = self.stat(p).unwrap_or_default();
        match owner::kind(ephemeral_owner, self.extended_types) {
            owner::Kind::Container => {
                self.containers.insert(p.to_owned());
            }
            owner::Kind::Ttl => {
                self.ttls.insert(p.to_owned());
            }
            owner::Kind::Normal => {
                self.ephemerals
                    .entry(ephemeral_owner)
                    .or_default()
                    .insert(p);
            }
            owner::Kind::Void => {}
        }
        if parent_path.starts_with(quota::QUOTA_ROOT) {
            let quota_path = quota::trim_quota_path(parent_path).to_owned();
            if child == quota::LIMITS_NODE {
                self.quota_paths.insert(quota_path);
            } else if child == quota::STATS_NODE {
                self.recount_quota(&quota_path);
            }
        }
        let bytes = data.as_ref().map_or(0, |d| d.len()) as i64;
        self.quota_stat_add(p, 1, bytes);
        changes.push(Change::Created {
            path: p.to_owned(),
            acl: node_acl,
            parent_acl,
        });
        Ok(stat)
    }

    fn delete_node(
        &mut self,
        p: &str,
        zxid: i64,
        changes: &mut Vec<Change>,
    ) -> Result<(), ErrorCode> {
        let parent_path = path::parent(p).ok_or(ErrorCode::NoNode)?;
        let parent_key = path::parent_key(parent_path);
        let parent_acl = self.get(parent_key).ok_or(ErrorCode::NoNode)?.acl().clone();
        self.update_node(parent_key, None, |st| {
            if zxid > st.pzxid {
                st.pzxid = zxid;
            }
        });
        if let Some(set) = self.children.get_mut(parent_key) {
            set.remove(path::name(p));
        }
        let node = self.nodes.remove(p).ok_or(ErrorCode::NoNode)?;
        self.children.remove(p);
        let node_acl = self.acls.get(node.acl()).clone();
        self.acls.release(node.acl());
        let stat = node.stat();
        self.data_size -= (p.len() + node.data_len()) as u64;
        self.digest
            .remove(digest::node_digest(p, node.data(), &stat));
        let eo = stat.ephemeral_owner;
        match owner::kind(eo, self.extended_types) {
            owner::Kind::Container => {
                self.containers.remove(p);
            }
            owner::Kind::Ttl => {
                self.ttls.remove(p);
            }
            owner::Kind::Normal => {
                if let Some(set) = self.ephemerals.get_mut(&eo) {
                    set.remove(p);
                }
            }
            owner::Kind::Void => {}
        }
        if parent_path.starts_with(special::ZOOKEEPER) && path::name(p) == quota::LIMITS_NODE {
            self.quota_paths.remove(quota::trim_quota_path(parent_path));
        }
        self.quota_stat_add(p, -1, -(node.data_len() as i64));
        changes.push(Change::Deleted {
            path: p.to_owned(),
            acl: node_acl,
            parent_acl,
        });
        Ok(())
    }

    /// A quorum peer's /zookeeper/config: its ensemble's config text, as
    /// Java's ZKDatabase.initConfigInZKDatabase sets it (version -1, mzxid
    /// the config version).
    pub fn init_config_node(&mut self, config: &str, config_version: i64, wall_ms: i64) {
        let data = Some(Bytes::from(config.as_bytes().to_vec()));
        let mut changes = Vec::new();
        if self
            .set_data(
                "/zookeeper/config",
                data,
                -1,
                config_version,
                wall_ms,
                &mut changes,
            )
            .is_err()
        {
            tracing::warn!("no /zookeeper/config node to hold the ensemble's config");
        }
    }

    fn set_data(
        &mut self,
        p: &str,
        data: Option<Bytes>,
        version: i32,
        zxid: i64,
        time: i64,
        changes: &mut Vec<Change>,
    ) -> Result<Stat, ErrorCode> {
        let old_len = self.get(p).ok_or(ErrorCode::NoNode)?.data_len();
        let new_len = data.as_ref().map_or(0, |d| d.len());
        self.update_node(p, Some(data.as_deref()), |st| {
            st.mtime = time;
            st.mzxid = zxid;
            st.version = version;
        });
        self.data_size = self.data_size + new_len as u64 - old_len as u64;
        self.quota_stat_add(p, 0, new_len as i64 - old_len as i64);
        let n = self.get(p).ok_or(ErrorCode::NoNode)?;
        let acl = n.acl().clone();
        let stat = self.client_stat(n);
        changes.push(Change::DataChanged {
            path: p.to_owned(),
            acl,
        });
        Ok(stat)
    }

    fn set_acl(&mut self, p: &str, acl: &[ACL], version: i32) -> Result<Stat, ErrorCode> {
        if !self.nodes.contains(p) {
            return Err(ErrorCode::NoNode);
        }
        let id = self.acls.intern(acl);
        self.update_node(p, None, |st| st.aversion = version);
        if let Some(n) = self.nodes.get_mut(p) {
            let old = n.acl();
            n.set_acl(id);
            self.acls.release(old);
        }
        self.stat(p).ok_or(ErrorCode::NoNode)
    }

    fn set_cversion_pzxid(&mut self, p: &str, cversion: i32, zxid: i64) -> Result<(), ErrorCode> {
        let p = if p.len() > 1 {
            p.trim_end_matches('/')
        } else {
            p
        };
        self.update_node(p, None, |st| advance_cversion(st, cversion, zxid))
            .ok_or(ErrorCode::NoNode)
    }

    /// Deletes a closed session's ephemerals: those the txn lists first,
    /// then any the tree still knows of.
    fn kill_session(
        &mut self,
        session: i64,
        zxid: i64,
        listed: &[String],
        changes: &mut Vec<Change>,
    ) {
        let mut local = self.ephemerals.remove(&session).unwrap_or_default();
        for p in listed {
            local.remove(p);
            let _ = self.delete_node(p, zxid, changes);
        }
        let rest: Vec<String> = local
            .iteration_order()
            .into_iter()
            .map(str::to_owned)
            .collect();
        for p in rest {
            let _ = self.delete_node(&p, zxid, changes);
        }
    }

    /// The deepest quota'd path at or above `p` (never the root).
    fn quota_prefix(&self, p: &str) -> Option<String> {
        if self.quota_paths.is_empty() {
            return None;
        }
        let mut prefix = p;
        loop {
            if prefix.len() > 1 && self.quota_paths.contains(prefix) {
                return Some(prefix.to_owned());
            }
            match prefix.rfind('/') {
                Some(0) | None => return None,
                Some(i) => prefix = &prefix[..i],
            }
        }
    }

    /// Quota stats nodes change in place: no new zxid or version, as in Java.
    fn set_quota_stats(&mut self, quota_path: &str, stats: quota::StatsTrack) {
        let text = Bytes::from(stats.to_string());
        let new = text.len();
        let p = quota::stat_path(quota_path);
        let Some(old) = self.get(&p).map(|n| n.data_len()) else {
            return;
        };
        self.update_node(&p, Some(Some(&text)), |_| ());
        self.data_size = self.data_size + new as u64 - old as u64;
    }

    fn quota_stat_add(&mut self, p: &str, count: i64, bytes: i64) {
        let Some(qp) = self.quota_prefix(p) else {
            return;
        };
        let Some(n) = self.get(&quota::stat_path(&qp)) else {
            return;
        };
        let mut st = quota::StatsTrack::parse(&String::from_utf8_lossy(n.data().unwrap_or(&[])));
        st.add(count, bytes);
        self.set_quota_stats(&qp, st);
    }

    /// Counts a quota'd subtree afresh (its stats node was just created).
    fn recount_quota(&mut self, quota_path: &str) {
        let (mut count, mut bytes) = (0i64, 0i64);
        let mut stack = vec![quota_path.to_owned()];
        while let Some(p) = stack.pop() {
            if let Some(n) = self.get(&p) {
                count += 1;
                bytes += n.data_len() as i64;
                stack.extend(n.children().iter().map(|c| format!("{p}/{c}")));
            }
        }
        self.set_quota_stats(quota_path, quota::StatsTrack::counts(count, bytes));
    }

    /// Every path in the tree, for dumps.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().map(|n| n.path())
    }
}

/// A tree rebuilt from loaded nodes, added parents before children, in
/// the order a snapshot holds them (which decides the children's Java
/// order, as it does when Java loads a snapshot). "" names the root.
pub struct TreeBuilder {
    t: DataTree,
    /// The parent of the last node added. A snapshot is written depth
    /// first, so siblings come in runs and their parent is looked up once.
    last_parent: String,
    /// The quota limits nodes added, whose stats `finish` recounts.
    limits: Vec<String>,
}

impl TreeBuilder {
    pub fn new(extended_types: bool, last_zxid: i64, expected_nodes: usize) -> TreeBuilder {
        let mut t = DataTree::empty(extended_types, last_zxid);
        t.nodes.reserve(expected_nodes);
        TreeBuilder {
            t,
            last_parent: String::new(),
            limits: Vec::new(),
        }
    }

    /// Adds a node; its parent must be there already, and the path must
    /// be new (the errors say which was not).
    pub fn add(&mut self, p: String, node: Node) -> Result<(), String> {
        self.place(p, node, true)
    }

    /// [`add`](Self::add), leaving the node's digest to the caller, who
    /// sums the digests of the nodes it adds (on another thread, say) and
    /// hands the sum to [`add_digests`](Self::add_digests).
    pub fn add_digested(&mut self, p: String, node: Node) -> Result<(), String> {
        self.place(p, node, false)
    }

    /// Counts in a sum of [`digest::node_digest`]s of nodes added with
    /// [`add_digested`](Self::add_digested).
    pub fn add_digests(&mut self, sum: i64) {
        self.t.digest.add(sum);
    }

    fn place(&mut self, p: String, node: Node, digest: bool) -> Result<(), String> {
        let t = &mut self.t;
        let p = if p.is_empty() { "/".to_owned() } else { p };
        if p != "/" {
            let parent = path::parent_key(path::parent(&p).unwrap_or(""));
            if parent != self.last_parent {
                if !t.nodes.contains(parent) {
                    return Err(format!("node {p} comes before its parent {parent}"));
                }
                self.last_parent.clear();
                self.last_parent.push_str(parent);
            }
            t.add_child(parent, path::name(&p));
        }
        let eo = node.stat.ephemeral_owner;
        match owner::kind(eo, t.extended_types) {
            owner::Kind::Container => {
                t.containers.insert(p.clone());
            }
            owner::Kind::Ttl => {
                t.ttls.insert(p.clone());
            }
            owner::Kind::Normal => t.ephemerals.entry(eo).or_default().insert(&p),
            owner::Kind::Void => {}
        }
        if p.starts_with(quota::QUOTA_ROOT) && path::name(&p) == quota::LIMITS_NODE {
            self.limits.push(p.clone());
        }
        // A node's children come after it, so it has no child set yet.
        let acl = t.acls.intern_shared(node.acl);
        let packed = Packed::new(&p, node.data.as_deref(), acl, &node.stat);
        t.data_size += (p.len() + packed.data_len()) as u64;
        if digest {
            t.digest
                .add(digest::node_digest(&p, packed.data(), &node.stat));
        }
        if t.nodes.insert(packed).is_some() {
            return Err(format!("node {p} appears twice"));
        }
        Ok(())
    }

    /// The tree, with the server's own nodes added should the image lack
    /// them, and quota stats recounted.
    pub fn finish(self) -> Result<DataTree, String> {
        let mut t = self.t;
        if !t.nodes.contains("/") {
            return Err("no root node".into());
        }
        let base = DataTree::new(t.extended_types);
        for p in ["/zookeeper", special::QUOTA, special::CONFIG] {
            if let (false, Some(n)) = (t.nodes.contains(p), base.get(p)) {
                let node = Node::loaded(n.data_bytes(), n.acl().clone(), n.stat());
                t.insert_node(p, node);
            }
        }
        // Quotas: every limits node marks its path; stats are recounted.
        for l in &self.limits {
            let q = quota::trim_quota_path(path::parent(l).unwrap_or(""));
            t.quota_paths.insert(q.to_owned());
            t.recount_quota(q);
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests;
