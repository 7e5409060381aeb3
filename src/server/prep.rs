//! The prep stage: validates a write request, checks its ACLs against the
//! tree as it will be once every earlier transaction is applied, and turns
//! it into a transaction (Java's PrepRequestProcessor).
//!
//! Earlier, not yet applied transactions are seen through `Pending`, an
//! overlay of change records keyed by path. A request that fails still
//! becomes a transaction: an error txn that consumes its zxid, as in Java.

use std::collections::VecDeque;

use crate::fasthash::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use crate::jute::data::{StatPersisted, ACL};
use crate::jute::proto::{
    CheckVersionRequest, CreateRequest, CreateTTLRequest, DeleteRequest, MultiHeader,
    SetACLRequest, SetDataRequest,
};
use crate::jute::txn::{
    CheckVersionTxn, CloseSessionTxn, CreateContainerTxn, CreateTTLTxn, CreateTxn, DeleteTxn,
    ErrorTxn, SetACLTxn, SetDataTxn, TxnDigest, TxnHeader,
};
use crate::jute::{data::Id, JuteField, Reader};
use crate::persist::digest;
use crate::proto::{op, owner, perms, special, CreateMode, ErrorCode};
use crate::session::{Owner, SessionTracker};
use crate::tree;
use crate::tree::DataTree;
use crate::txn::{Txn, TxnBody};
use crate::{acl, path};

/// What a node will look like once pending transactions are applied.
#[derive(Debug, Clone)]
pub struct ChangeRecord {
    pub zxid: i64,
    /// None: the node will be deleted.
    pub stat: Option<StatPersisted>,
    pub child_count: i32,
    pub acl: Arc<Vec<ACL>>,
    pub data: Option<Bytes>,
}

/// Outstanding changes, oldest first.
#[derive(Default)]
pub struct Pending {
    by_path: HashMap<String, ChangeRecord>,
    order: VecDeque<(i64, String)>,
    /// The tree digest once every outstanding change is applied (None: the
    /// tree's own, nothing being outstanding).
    digest: Option<i64>,
}

impl Pending {
    fn add(&mut self, path: &str, rec: ChangeRecord) {
        self.order.push_back((rec.zxid, path.to_owned()));
        self.by_path.insert(path.to_owned(), rec);
    }

    /// Forgets records of transactions up to `zxid`, now applied.
    pub fn applied(&mut self, zxid: i64) {
        while let Some((z, _)) = self.order.front() {
            if *z > zxid {
                break;
            }
            let (z, p) = self.order.pop_front().expect("front exists");
            if self.by_path.get(&p).is_some_and(|r| r.zxid == z) {
                self.by_path.remove(&p);
            }
        }
        if self.order.is_empty() {
            self.digest = None;
        }
    }

    /// Drops the records a failed multi added.
    fn rollback(&mut self, zxid: i64, saved: HashMap<String, ChangeRecord>) {
        while self.order.back().is_some_and(|(z, _)| *z == zxid) {
            let (_, p) = self.order.pop_back().expect("back exists");
            self.by_path.remove(&p);
        }
        for (p, r) in saved {
            if self.order.iter().any(|(z, _)| *z <= r.zxid) {
                self.by_path.insert(p, r);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The tree digest once outstanding changes are applied, given the
    /// tree's own.
    pub fn digest_or(&self, tree_digest: i64) -> i64 {
        self.digest.unwrap_or(tree_digest)
    }
}

/// A prep failure: the error code to log as an ErrorTxn.
type PResult<T> = Result<T, ErrorCode>;

pub struct Prep<'a> {
    pub tree: &'a DataTree,
    pub pending: &'a mut Pending,
    pub sessions: &'a mut SessionTracker,
    pub extended_types: bool,
    /// Where the request came from (a leader checks the session's owner).
    pub owner: Owner,
}

fn read<T: JuteField>(r: &mut Reader) -> PResult<T> {
    T::read(r).map_err(|_| ErrorCode::MarshallingError)
}

/// Root is keyed "/" in the tree; Java's parent of "/a" is "".
fn key(p: &str) -> &str {
    path::parent_key(p)
}

impl Prep<'_> {
    fn record(&self, p: &str) -> PResult<ChangeRecord> {
        let p = key(p);
        let rec = match self.pending.by_path.get(p) {
            Some(r) => r.clone(),
            None => {
                let n = self.tree.get(p).ok_or(ErrorCode::NoNode)?;
                ChangeRecord {
                    zxid: -1,
                    stat: Some(n.stat()),
                    child_count: n.children().len() as i32,
                    acl: n.acl().clone(),
                    data: n.data_bytes(),
                }
            }
        };
        if rec.stat.is_none() {
            return Err(ErrorCode::NoNode);
        }
        Ok(rec)
    }

    fn exists(&self, p: &str) -> bool {
        self.record(p).is_ok()
    }

    /// The digest of a node as outstanding changes leave it (0 when gone).
    fn node_digest_now(&self, p: &str) -> i64 {
        match self.pending.by_path.get(p) {
            Some(rec) => rec
                .stat
                .as_ref()
                .map_or(0, |st| digest::node_digest(p, rec.data.as_deref(), st)),
            None => self.tree.get(p).map_or(0, |n| tree::node_digest_of(p, n)),
        }
    }

    fn tree_digest_now(&self) -> i64 {
        self.pending.digest.unwrap_or_else(|| self.tree.digest())
    }

    /// Records an outstanding change, carrying the tree digest along as
    /// Java's precalculated digests do.
    fn add_change(&mut self, p: &str, rec: ChangeRecord) {
        let before = self.node_digest_now(p);
        let after = rec
            .stat
            .as_ref()
            .map_or(0, |st| digest::node_digest(p, rec.data.as_deref(), st));
        let d = self
            .tree_digest_now()
            .wrapping_sub(before)
            .wrapping_add(after);
        self.pending.digest = Some(d);
        self.pending.add(p, rec);
    }

    fn check_session(&mut self, session: i64) -> PResult<()> {
        self.sessions.check(session, self.owner)
    }

    /// Builds the transaction for a write request. Never fails: a rejected
    /// request becomes an error transaction.
    #[allow(clippy::too_many_arguments)]
    pub fn prep(
        &mut self,
        session: i64,
        cxid: i32,
        type_: i32,
        body: Bytes,
        auth: &[Id],
        zxid: i64,
        time: i64,
    ) -> Txn {
        let header = TxnHeader {
            client_id: session,
            cxid,
            zxid,
            time,
            type_,
        };
        let mut r = Reader::new(body.clone());
        let result = match type_ {
            op::MULTI => self.prep_multi(session, &mut r, auth, zxid, time),
            op::CLOSE_SESSION => Ok(self.prep_close_session(session, zxid)),
            op::DELETE_CONTAINER => self.prep_delete_container(&body, zxid),
            _ => self.prep_one(type_, session, &mut r, auth, zxid, time),
        };
        match result {
            Ok(body) => Txn {
                header,
                body,
                digest: Some(TxnDigest {
                    version: digest::DIGEST_VERSION,
                    tree_digest: self.tree_digest_now(),
                }),
            },
            // Java logs a rejected request without a digest.
            Err(e) => Txn {
                header: TxnHeader {
                    type_: op::ERROR,
                    ..header
                },
                body: TxnBody::Error(ErrorTxn { err: e.code() }),
                digest: None,
            },
        }
    }

    fn prep_one(
        &mut self,
        type_: i32,
        session: i64,
        r: &mut Reader,
        auth: &[Id],
        zxid: i64,
        time: i64,
    ) -> PResult<TxnBody> {
        match type_ {
            op::CREATE | op::CREATE2 | op::CREATE_CONTAINER => {
                let c: CreateRequest = read(r)?;
                self.prep_create(
                    type_, session, c.path, c.data, c.acl, c.flags, -1, auth, zxid, time,
                )
            }
            op::CREATE_TTL => {
                let c: CreateTTLRequest = read(r)?;
                self.prep_create(
                    type_, session, c.path, c.data, c.acl, c.flags, c.ttl, auth, zxid, time,
                )
            }
            op::DELETE => {
                self.check_session(session)?;
                let d: DeleteRequest = read(r)?;
                self.prep_delete(d, auth, zxid)
            }
            op::SET_DATA => {
                self.check_session(session)?;
                let s: SetDataRequest = read(r)?;
                self.prep_set_data(s, auth, zxid, time)
            }
            op::SET_ACL => {
                self.check_session(session)?;
                let s: SetACLRequest = read(r)?;
                self.prep_set_acl(s, auth, zxid)
            }
            op::CHECK => {
                self.check_session(session)?;
                let c: CheckVersionRequest = read(r)?;
                self.prep_check(c, auth)
            }
            // Standalone servers have reconfig disabled.
            op::RECONFIG => Err(ErrorCode::ReconfigDisabled),
            _ => Err(ErrorCode::Unimplemented),
        }
    }

    fn validate(p: &str) -> PResult<()> {
        path::validate(p).map_err(|_| ErrorCode::BadArguments)
    }

    fn check_acl(rec: &ChangeRecord, perm: i32, auth: &[Id]) -> PResult<()> {
        acl::check(&rec.acl, perm, auth)
    }

    fn check_version(current: i32, expected: i32) -> PResult<i32> {
        if expected != -1 && expected != current {
            return Err(ErrorCode::BadVersion);
        }
        Ok(current.wrapping_add(1))
    }

    #[allow(clippy::too_many_arguments)]
    fn prep_create(
        &mut self,
        type_: i32,
        session: i64,
        mut p: String,
        data: Option<Bytes>,
        acls: Vec<ACL>,
        flags: i32,
        ttl: i64,
        auth: &[Id],
        zxid: i64,
        time: i64,
    ) -> PResult<TxnBody> {
        let mode = CreateMode::from_flag(flags).ok_or(ErrorCode::BadArguments)?;
        if mode.is_ttl() && !self.extended_types {
            return Err(ErrorCode::Unimplemented);
        }
        let ttl_ok = if mode.is_ttl() {
            owner::ttl_owner(ttl).is_some()
        } else {
            ttl < 0
        };
        if !ttl_ok {
            return Err(ErrorCode::BadArguments);
        }
        self.check_session(session)?;
        let slash = p.rfind('/').ok_or(ErrorCode::BadArguments)?;
        if p.contains('\0') {
            return Err(ErrorCode::BadArguments);
        }
        let parent_path = p[..slash].to_owned();
        let acls = acl::fixup(auth, &acls)?;
        let parent = self.record(&parent_path)?;
        Self::check_acl(&parent, perms::CREATE, auth)?;
        let parent_stat = parent.stat.clone().expect("record() returns live nodes");
        if mode.is_sequential() {
            p = format!("{p}{:010}", parent_stat.cversion);
        }
        Self::validate(&p)?;
        if self.exists(&p) {
            return Err(ErrorCode::NodeExists);
        }
        if owner::kind(parent_stat.ephemeral_owner, self.extended_types) == owner::Kind::Normal {
            return Err(ErrorCode::NoChildrenForEphemerals);
        }
        let new_cversion = parent_stat.cversion + 1;
        let body = match type_ {
            op::CREATE_CONTAINER => TxnBody::CreateContainer(CreateContainerTxn {
                path: p.clone(),
                data: data.clone(),
                acl: acls.clone(),
                parent_cversion: new_cversion,
            }),
            op::CREATE_TTL => TxnBody::CreateTtl(CreateTTLTxn {
                path: p.clone(),
                data: data.clone(),
                acl: acls.clone(),
                parent_cversion: new_cversion,
                ttl,
            }),
            _ => TxnBody::Create(CreateTxn {
                path: p.clone(),
                data: data.clone(),
                acl: acls.clone(),
                ephemeral: mode.is_ephemeral(),
                parent_cversion: new_cversion,
            }),
        };
        let ephemeral_owner = if mode.is_container() {
            owner::CONTAINER
        } else if mode.is_ttl() {
            owner::ttl_owner(ttl).unwrap_or(0)
        } else if mode.is_ephemeral() {
            session
        } else {
            0
        };
        let mut parent_stat = parent_stat;
        parent_stat.cversion = new_cversion;
        parent_stat.pzxid = zxid;
        self.add_change(
            key(&parent_path),
            ChangeRecord {
                zxid,
                stat: Some(parent_stat),
                child_count: parent.child_count + 1,
                ..parent
            },
        );
        self.add_change(
            &p,
            ChangeRecord {
                zxid,
                stat: Some(StatPersisted {
                    czxid: zxid,
                    mzxid: zxid,
                    ctime: time,
                    mtime: time,
                    version: 0,
                    cversion: 0,
                    aversion: 0,
                    ephemeral_owner,
                    pzxid: zxid,
                }),
                child_count: 0,
                acl: Arc::new(acls),
                data,
            },
        );
        Ok(body)
    }

    /// Parent of a path to delete; the server's own nodes cannot be deleted.
    fn parent_for_delete(p: &str) -> PResult<String> {
        let slash = p.rfind('/').ok_or(ErrorCode::BadArguments)?;
        if p.contains('\0')
            || ["/", special::ZOOKEEPER, special::QUOTA, special::CONFIG].contains(&p)
        {
            return Err(ErrorCode::BadArguments);
        }
        Ok(p[..slash].to_owned())
    }

    fn record_delete(&mut self, p: &str, parent_path: &str, parent: ChangeRecord, zxid: i64) {
        let mut ps = parent.stat.clone().expect("live parent");
        ps.pzxid = zxid;
        self.add_change(
            key(parent_path),
            ChangeRecord {
                zxid,
                stat: Some(ps),
                child_count: parent.child_count - 1,
                ..parent
            },
        );
        self.add_change(
            p,
            ChangeRecord {
                zxid,
                stat: None,
                child_count: -1,
                acl: Arc::new(Vec::new()),
                data: None,
            },
        );
    }

    fn prep_delete(&mut self, d: DeleteRequest, auth: &[Id], zxid: i64) -> PResult<TxnBody> {
        let parent_path = Self::parent_for_delete(&d.path)?;
        let parent = self.record(&parent_path)?;
        Self::check_acl(&parent, perms::DELETE, auth)?;
        let node = self.record(&d.path)?;
        Self::check_version(node.stat.as_ref().map_or(0, |s| s.version), d.version)?;
        if node.child_count > 0 {
            return Err(ErrorCode::NotEmpty);
        }
        self.record_delete(&d.path, &parent_path, parent, zxid);
        Ok(TxnBody::Delete(DeleteTxn { path: d.path }))
    }

    /// The container manager's delete of an empty container or expired TTL node.
    fn prep_delete_container(&mut self, body: &Bytes, zxid: i64) -> PResult<TxnBody> {
        let p = String::from_utf8_lossy(body).into_owned();
        let parent_path = Self::parent_for_delete(&p)?;
        let node = self.record(&p)?;
        if node.child_count > 0 {
            return Err(ErrorCode::NotEmpty);
        }
        let eo = node.stat.as_ref().map_or(0, |s| s.ephemeral_owner);
        if owner::kind(eo, self.extended_types) == owner::Kind::Normal {
            return Err(ErrorCode::BadVersion);
        }
        let parent = self.record(&parent_path)?;
        self.record_delete(&p, &parent_path, parent, zxid);
        Ok(TxnBody::Delete(DeleteTxn { path: p }))
    }

    fn prep_set_data(
        &mut self,
        s: SetDataRequest,
        auth: &[Id],
        zxid: i64,
        time: i64,
    ) -> PResult<TxnBody> {
        Self::validate(&s.path)?;
        let node = self.record(&s.path)?;
        Self::check_acl(&node, perms::WRITE, auth)?;
        let mut stat = node.stat.clone().expect("live node");
        let version = Self::check_version(stat.version, s.version)?;
        stat.version = version;
        stat.mtime = time;
        stat.mzxid = zxid;
        self.add_change(
            &s.path,
            ChangeRecord {
                zxid,
                stat: Some(stat),
                data: s.data.clone(),
                ..node
            },
        );
        Ok(TxnBody::SetData(SetDataTxn {
            path: s.path,
            data: s.data,
            version,
        }))
    }

    fn prep_set_acl(&mut self, s: SetACLRequest, auth: &[Id], zxid: i64) -> PResult<TxnBody> {
        Self::validate(&s.path)?;
        let acls = acl::fixup(auth, &s.acl)?;
        let node = self.record(&s.path)?;
        Self::check_acl(&node, perms::ADMIN, auth)?;
        let mut stat = node.stat.clone().expect("live node");
        let version = Self::check_version(stat.aversion, s.version)?;
        stat.aversion = version;
        self.add_change(
            &s.path,
            ChangeRecord {
                zxid,
                stat: Some(stat),
                acl: Arc::new(acls.clone()),
                ..node
            },
        );
        Ok(TxnBody::SetAcl(SetACLTxn {
            path: s.path,
            acl: acls,
            version,
        }))
    }

    fn prep_check(&mut self, c: CheckVersionRequest, auth: &[Id]) -> PResult<TxnBody> {
        Self::validate(&c.path)?;
        let node = self.record(&c.path)?;
        Self::check_acl(&node, perms::READ, auth)?;
        let version = Self::check_version(node.stat.as_ref().map_or(0, |s| s.version), c.version)?;
        Ok(TxnBody::Check(CheckVersionTxn {
            path: c.path,
            version,
        }))
    }

    /// closeSession: the session's ephemerals as they will be once pending
    /// changes land.
    fn prep_close_session(&mut self, session: i64, zxid: i64) -> TxnBody {
        // Java lists them in its HashSet order, which orders the deletions
        // and so the watch events they fire.
        let mut paths: Vec<String> = self.tree.ephemerals(session);
        for (p, rec) in &self.pending.by_path {
            match &rec.stat {
                None => paths.retain(|x| x != p),
                Some(s) if s.ephemeral_owner == session && !paths.contains(p) => {
                    paths.push(p.clone())
                }
                _ => {}
            }
        }
        for p in &paths {
            if let Some(parent_path) = path::parent(p) {
                if let Ok(parent) = self.record(parent_path) {
                    let mut ps = parent.stat.clone().expect("live parent");
                    ps.pzxid = zxid;
                    self.add_change(
                        key(parent_path),
                        ChangeRecord {
                            zxid,
                            stat: Some(ps),
                            ..parent
                        },
                    );
                }
            }
            self.add_change(
                p,
                ChangeRecord {
                    zxid,
                    stat: None,
                    child_count: 0,
                    acl: Arc::new(Vec::new()),
                    data: None,
                },
            );
        }
        self.sessions.set_closing(session);
        TxnBody::CloseSession(CloseSessionTxn {
            paths2_delete: paths,
        })
    }

    fn prep_multi(
        &mut self,
        session: i64,
        r: &mut Reader,
        auth: &[Id],
        zxid: i64,
        time: i64,
    ) -> PResult<TxnBody> {
        let ops = parse_multi_ops(r, false)?;
        let saved: HashMap<String, ChangeRecord> = ops
            .iter()
            .flat_map(|o| {
                let p = o.path().to_owned();
                let parent = path::parent(&p).map(|x| key(x).to_owned());
                std::iter::once(p).chain(parent)
            })
            .filter_map(|p| self.pending.by_path.get(&p).map(|r| (p, r.clone())))
            .collect();
        let digest_before = self.pending.digest;
        let mut failed = false;
        let mut out = Vec::with_capacity(ops.len());
        for o in ops {
            if failed {
                out.push(error_sub(ErrorCode::RuntimeInconsistency));
                continue;
            }
            let res = match o {
                MultiOp::Create { type_, req, ttl } => self.prep_create(
                    type_, session, req.path, req.data, req.acl, req.flags, ttl, auth, zxid, time,
                ),
                MultiOp::Delete(d) => self
                    .check_session(session)
                    .and_then(|_| self.prep_delete(d, auth, zxid)),
                MultiOp::SetData(s) => self
                    .check_session(session)
                    .and_then(|_| self.prep_set_data(s, auth, zxid, time)),
                MultiOp::Check(c) => self
                    .check_session(session)
                    .and_then(|_| self.prep_check(c, auth)),
                MultiOp::GetChildren(_) | MultiOp::GetData(_) => Err(ErrorCode::MarshallingError),
            };
            match res {
                Ok(body) => out.push((sub_type(&body), body)),
                Err(e) => {
                    failed = true;
                    out.push(error_sub(e));
                    self.pending.rollback(zxid, saved.clone());
                    self.pending.digest = digest_before;
                }
            }
        }
        Ok(TxnBody::Multi(out))
    }
}

fn error_sub(e: ErrorCode) -> (i32, TxnBody) {
    (op::ERROR, TxnBody::Error(ErrorTxn { err: e.code() }))
}

/// The op type a multi sub-transaction is logged under.
fn sub_type(body: &TxnBody) -> i32 {
    match body {
        TxnBody::Create(_) => op::CREATE,
        TxnBody::CreateTtl(_) => op::CREATE_TTL,
        TxnBody::CreateContainer(_) => op::CREATE_CONTAINER,
        TxnBody::Delete(_) => op::DELETE,
        TxnBody::SetData(_) => op::SET_DATA,
        TxnBody::Check(_) => op::CHECK,
        _ => op::ERROR,
    }
}

/// One op of a multi or multiRead request, as Java's MultiOperationRecord
/// rebuilds it (note: a create's opcode is re-derived from its flags, and
/// read ops lose their watch flag).
#[derive(Debug)]
pub enum MultiOp {
    Create {
        type_: i32,
        req: CreateRequest,
        ttl: i64,
    },
    Delete(DeleteRequest),
    SetData(SetDataRequest),
    Check(CheckVersionRequest),
    GetChildren(String),
    GetData(String),
}

impl MultiOp {
    pub fn path(&self) -> &str {
        match self {
            MultiOp::Create { req, .. } => &req.path,
            MultiOp::Delete(d) => &d.path,
            MultiOp::SetData(s) => &s.path,
            MultiOp::Check(c) => &c.path,
            MultiOp::GetChildren(p) | MultiOp::GetData(p) => p,
        }
    }

    fn is_read(&self) -> bool {
        matches!(self, MultiOp::GetChildren(_) | MultiOp::GetData(_))
    }
}

/// Parses a MultiOperationRecord: ops until a header marked done. Mixing
/// reads and writes is a marshalling error, as is an unknown op type.
pub fn parse_multi_ops(r: &mut Reader, reads: bool) -> PResult<Vec<MultiOp>> {
    let mut ops = Vec::new();
    loop {
        let h: MultiHeader = read(r)?;
        if h.done {
            break;
        }
        let o = match h.type_ {
            op::CREATE | op::CREATE2 | op::CREATE_CONTAINER => {
                let req: CreateRequest = read(r)?;
                let mode = CreateMode::from_flag(req.flags).unwrap_or(CreateMode::Persistent);
                let type_ = if mode.is_ttl() {
                    op::CREATE_TTL
                } else if mode.is_container() {
                    op::CREATE_CONTAINER
                } else {
                    op::CREATE
                };
                MultiOp::Create {
                    type_,
                    req,
                    ttl: -1,
                }
            }
            op::CREATE_TTL => {
                let t: CreateTTLRequest = read(r)?;
                let mode = CreateMode::from_flag(t.flags).unwrap_or(CreateMode::Persistent);
                let req = CreateRequest {
                    path: t.path,
                    data: t.data,
                    acl: t.acl,
                    flags: t.flags,
                };
                if mode.is_ttl() {
                    MultiOp::Create {
                        type_: op::CREATE_TTL,
                        req,
                        ttl: t.ttl,
                    }
                } else {
                    let type_ = if mode.is_container() {
                        op::CREATE_CONTAINER
                    } else {
                        op::CREATE
                    };
                    MultiOp::Create {
                        type_,
                        req,
                        ttl: -1,
                    }
                }
            }
            op::DELETE => MultiOp::Delete(read(r)?),
            op::SET_DATA => MultiOp::SetData(read(r)?),
            op::CHECK => MultiOp::Check(read(r)?),
            op::GET_CHILDREN => {
                let g: crate::jute::proto::GetChildrenRequest = read(r)?;
                MultiOp::GetChildren(g.path)
            }
            op::GET_DATA => {
                let g: crate::jute::proto::GetDataRequest = read(r)?;
                MultiOp::GetData(g.path)
            }
            _ => return Err(ErrorCode::MarshallingError),
        };
        if let Some(first) = ops.first() {
            if MultiOp::is_read(first) != o.is_read() {
                return Err(ErrorCode::MarshallingError);
            }
        }
        ops.push(o);
    }
    if ops.first().is_some_and(|o| o.is_read() != reads) {
        return Err(ErrorCode::MarshallingError);
    }
    Ok(ops)
}
