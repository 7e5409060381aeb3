//! The read operations: what a read request answers, given the tree, the
//! watches and who asks. The same code runs in two places: in a
//! connection's task, straight against the shared tree (most reads), and
//! in the core, for a read that waited behind its session's write.

use bytes::{BufMut, Bytes, BytesMut};

use crate::acl;
use crate::jute::data::{ClientInfo, Id, ACL};
use crate::jute::proto::{
    AddWatchRequest, CheckWatchesRequest, ErrorResponse, ExistsRequest, ExistsResponse,
    GetACLRequest, GetACLResponse, GetAllChildrenNumberRequest, GetAllChildrenNumberResponse,
    GetChildren2Request, GetChildren2Response, GetChildrenRequest, GetChildrenResponse,
    GetDataRequest, GetEphemeralsRequest, GetEphemeralsResponse, MultiHeader, SetWatches,
    SetWatches2, SyncRequest, SyncResponse, WhoAmIResponse,
};
use crate::jute::{JuteField, Reader};
use crate::proto::{add_watch_mode, event, op, perms, watcher_type, ErrorCode};
use crate::server::db::Watches;
use crate::server::prep::{parse_multi_ops, MultiOp};
use crate::server::reply::Body;
use crate::tree::DataTree;
use crate::watch::{ConnId, Fired, Mode};

/// The requests that only read, answered by `Read::read_op` (ping aside).
pub fn is_read(type_: i32) -> bool {
    matches!(
        type_,
        op::EXISTS
            | op::GET_DATA
            | op::GET_ACL
            | op::GET_CHILDREN
            | op::GET_CHILDREN2
            | op::GET_ALL_CHILDREN_NUMBER
            | op::SYNC
            | op::SET_WATCHES
            | op::SET_WATCHES2
            | op::CHECK_WATCHES
            | op::REMOVE_WATCHES
            | op::GET_EPHEMERALS
            | op::MULTI_READ
            | op::ADD_WATCH
            | op::WHO_AM_I
    )
}

/// The reads a connection answers on its own, without the core: they
/// depend on nothing but the committed tree and the asker (a sync orders
/// itself among the writes, and setWatches fires events, so both go
/// through the core).
pub fn is_local_read(type_: i32) -> bool {
    is_read(type_) && !matches!(type_, op::SYNC | op::SET_WATCHES | op::SET_WATCHES2)
}

fn read<T: JuteField>(r: &mut Reader) -> Result<T, ErrorCode> {
    T::read(r).map_err(|_| ErrorCode::MarshallingError)
}

/// One read, by one connection, against the tree as it is now.
pub struct Read<'a> {
    pub tree: &'a DataTree,
    pub watches: Watches<'a>,
    pub conn: ConnId,
    pub session: i64,
    pub auth: &'a [Id],
    /// Events set off by setWatches, to send before the reply (never
    /// filtered by ACL, as Java's are not).
    pub fired: Vec<Fired>,
}

impl Read<'_> {
    fn node_acl_check(&self, path: &str, perm: i32, auth: &[Id]) -> Result<(), ErrorCode> {
        let n = self.tree.get(path).ok_or(ErrorCode::NoNode)?;
        acl::check(n.acl(), perm, auth)
    }

    /// Writes a GetDataResponse straight from the tree: the data is
    /// copied once, into the reply.
    fn get_data(
        &mut self,
        conn: ConnId,
        path: &str,
        watch: bool,
        auth: &[Id],
        w: &mut BytesMut,
    ) -> Result<(), ErrorCode> {
        self.node_acl_check(path, perms::READ, auth)?;
        let n = self.tree.get(path).ok_or(ErrorCode::NoNode)?;
        w.reserve(4 + n.data_len() + 68);
        match n.data() {
            Some(d) => {
                w.put_i32(d.len() as i32);
                w.put_slice(d);
            }
            // Java's null buffer.
            None => w.put_i32(-1),
        }
        self.tree.client_stat(n).write(w);
        if watch {
            self.watches.get().data.add(path, conn, Mode::Standard);
        }
        Ok(())
    }

    fn get_children(
        &mut self,
        conn: ConnId,
        path: &str,
        watch: bool,
        auth: &[Id],
    ) -> Result<(Vec<String>, crate::jute::data::Stat), ErrorCode> {
        self.node_acl_check(path, perms::READ, auth)?;
        let n = self.tree.get(path).ok_or(ErrorCode::NoNode)?;
        let children = n
            .children()
            .iteration_order()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let stat = self.tree.client_stat(n);
        if watch {
            self.watches.get().child.add(path, conn, Mode::Standard);
        }
        Ok((children, stat))
    }

    /// Answers a read request's body against the tree.
    pub fn read_op(&mut self, type_: i32, body: Bytes) -> Result<Body, ErrorCode> {
        let (conn, session) = (self.conn, self.session);
        let mut r = Reader::new(body);
        let auth = self.auth;
        match type_ {
            op::EXISTS => {
                let q: ExistsRequest = read(&mut r)?;
                if q.path.contains('\0') {
                    return Err(ErrorCode::BadArguments);
                }
                if q.watch {
                    self.watches.get().data.add(&q.path, conn, Mode::Standard);
                }
                let stat = self.tree.stat(&q.path).ok_or(ErrorCode::NoNode)?;
                Ok(Body::of(&ExistsResponse { stat }))
            }
            op::GET_DATA => {
                let q: GetDataRequest = read(&mut r)?;
                let mut w = BytesMut::new();
                self.get_data(conn, &q.path, q.watch, auth, &mut w)?;
                Ok(Body::Bytes(w.freeze()))
            }
            op::GET_CHILDREN => {
                let q: GetChildrenRequest = read(&mut r)?;
                let (children, _) = self.get_children(conn, &q.path, q.watch, auth)?;
                Ok(Body::of(&GetChildrenResponse { children }))
            }
            op::GET_CHILDREN2 => {
                let q: GetChildren2Request = read(&mut r)?;
                let (children, stat) = self.get_children(conn, &q.path, q.watch, auth)?;
                Ok(Body::of(&GetChildren2Response { children, stat }))
            }
            op::GET_ALL_CHILDREN_NUMBER => {
                let q: GetAllChildrenNumberRequest = read(&mut r)?;
                self.node_acl_check(&q.path, perms::READ, auth)?;
                let total_number = self.tree.all_children_number(&q.path);
                Ok(Body::of(&GetAllChildrenNumberResponse { total_number }))
            }
            op::GET_ACL => {
                let q: GetACLRequest = read(&mut r)?;
                self.node_acl_check(&q.path, perms::READ | perms::ADMIN, auth)?;
                let n = self.tree.get(&q.path).ok_or(ErrorCode::NoNode)?;
                let stat = self.tree.client_stat(n);
                let mut acl: Vec<ACL> = n.acl().to_vec();
                // Without ADMIN, digest hashes are hidden.
                if acl::check(n.acl(), perms::ADMIN, auth).is_err() {
                    for a in acl.iter_mut().filter(|a| a.id.scheme == "digest") {
                        let user = a.id.id.split(':').next().unwrap_or("").to_owned();
                        a.id.id = format!("{user}:x");
                    }
                }
                Ok(Body::of(&GetACLResponse { acl, stat }))
            }
            op::SYNC => {
                let q: SyncRequest = read(&mut r)?;
                Ok(Body::of(&SyncResponse { path: q.path }))
            }
            op::SET_WATCHES => {
                let q: SetWatches = read(&mut r)?;
                self.set_watches(
                    conn,
                    q.relative_zxid,
                    &q.data_watches,
                    &q.exist_watches,
                    &q.child_watches,
                    &[],
                    &[],
                );
                Ok(Body::None)
            }
            op::SET_WATCHES2 => {
                let q: SetWatches2 = read(&mut r)?;
                self.set_watches(
                    conn,
                    q.relative_zxid,
                    &q.data_watches,
                    &q.exist_watches,
                    &q.child_watches,
                    &q.persistent_watches,
                    &q.persistent_recursive_watches,
                );
                Ok(Body::None)
            }
            op::ADD_WATCH => {
                let q: AddWatchRequest = read(&mut r)?;
                let recursive = match q.mode {
                    add_watch_mode::PERSISTENT => false,
                    add_watch_mode::PERSISTENT_RECURSIVE => true,
                    _ => return Err(ErrorCode::MarshallingError),
                };
                self.watches.get().add_persistent(&q.path, conn, recursive);
                Ok(Body::of(&ErrorResponse { err: 0 }))
            }
            op::CHECK_WATCHES | op::REMOVE_WATCHES => {
                let q: CheckWatchesRequest = read(&mut r)?;
                let (data, child) = match q.type_ {
                    watcher_type::CHILDREN => (false, true),
                    watcher_type::DATA => (true, false),
                    watcher_type::ANY => (true, true),
                    _ => return Err(ErrorCode::MarshallingError),
                };
                let found = if type_ == op::CHECK_WATCHES {
                    let bad = |_| ErrorCode::MarshallingError;
                    let in_child = child
                        && self
                            .watches
                            .get()
                            .child
                            .contains(&q.path, conn)
                            .map_err(bad)?;
                    let in_data = data
                        && self
                            .watches
                            .get()
                            .data
                            .contains(&q.path, conn)
                            .map_err(bad)?;
                    in_child | in_data
                } else {
                    (child && self.watches.get().child.remove(&q.path, conn))
                        | (data && self.watches.get().data.remove(&q.path, conn))
                };
                if found {
                    Ok(Body::None)
                } else {
                    Err(ErrorCode::NoWatcher)
                }
            }
            op::GET_EPHEMERALS => {
                let q: GetEphemeralsRequest = read(&mut r)?;
                let prefix = q.prefix_path.trim();
                let all = self.tree.ephemerals(session);
                let ephemerals = if prefix.is_empty() || prefix == "/" {
                    all
                } else {
                    all.into_iter()
                        .filter(|p| p.starts_with(&q.prefix_path))
                        .collect()
                };
                Ok(Body::of(&GetEphemeralsResponse { ephemerals }))
            }
            op::WHO_AM_I => {
                let client_info = acl::in_java_set_order(auth)
                    .iter()
                    .map(|id| ClientInfo {
                        auth_scheme: id.scheme.clone(),
                        user: acl::user_name(id),
                    })
                    .collect();
                Ok(Body::of(&WhoAmIResponse { client_info }))
            }
            op::MULTI_READ => {
                let ops = parse_multi_ops(&mut r, true)?;
                let mut w = BytesMut::new();
                for o in ops {
                    let res = match &o {
                        MultiOp::GetChildren(p) => {
                            self.get_children(conn, p, false, auth)
                                .map(|(children, _)| {
                                    let mut b = BytesMut::new();
                                    GetChildrenResponse { children }.write(&mut b);
                                    (op::GET_CHILDREN, b)
                                })
                        }
                        MultiOp::GetData(p) => {
                            let mut b = BytesMut::new();
                            self.get_data(conn, p, false, auth, &mut b)
                                .map(|()| (op::GET_DATA, b))
                        }
                        _ => Err(ErrorCode::MarshallingError),
                    };
                    match res {
                        Ok((t, b)) => {
                            MultiHeader {
                                type_: t,
                                done: false,
                                err: 0,
                            }
                            .write(&mut w);
                            w.put_slice(&b);
                        }
                        Err(e) => {
                            MultiHeader {
                                type_: op::ERROR,
                                done: false,
                                err: e.code(),
                            }
                            .write(&mut w);
                            ErrorResponse { err: e.code() }.write(&mut w);
                        }
                    }
                }
                MultiHeader {
                    type_: -1,
                    done: true,
                    err: -1,
                }
                .write(&mut w);
                Ok(Body::Bytes(w.freeze()))
            }
            _ => Err(ErrorCode::Unimplemented),
        }
    }

    /// Re-registers a reconnected client's watches, firing at once those
    /// whose condition changed after `rel_zxid`.
    #[allow(clippy::too_many_arguments)]
    fn set_watches(
        &mut self,
        conn: ConnId,
        rel_zxid: i64,
        data: &[String],
        exist: &[String],
        child: &[String],
        persistent: &[String],
        recursive: &[String],
    ) {
        let mut fired = Vec::new();
        // Events set off by setWatches are not filtered by ACL (Java's neither).
        let ev = |type_, path: &String| Fired {
            conn,
            type_,
            path: path.clone(),
            acl: None,
        };
        for p in data {
            match self.tree.get(p) {
                None => fired.push(ev(event::NODE_DELETED, p)),
                Some(n) if n.stat().mzxid > rel_zxid => fired.push(ev(event::NODE_DATA_CHANGED, p)),
                Some(_) => self.watches.get().data.add(p, conn, Mode::Standard),
            }
        }
        for p in exist {
            if self.tree.get(p).is_some() {
                fired.push(ev(event::NODE_CREATED, p));
            } else {
                self.watches.get().data.add(p, conn, Mode::Standard);
            }
        }
        for p in child {
            match self.tree.get(p) {
                None => fired.push(ev(event::NODE_DELETED, p)),
                Some(n) if n.stat().pzxid > rel_zxid => {
                    fired.push(ev(event::NODE_CHILDREN_CHANGED, p))
                }
                Some(_) => self.watches.get().child.add(p, conn, Mode::Standard),
            }
        }
        for p in persistent {
            self.watches.get().add_persistent(p, conn, false);
        }
        for p in recursive {
            self.watches.get().add_persistent(p, conn, true);
        }
        self.fired.extend(fired);
    }
}
