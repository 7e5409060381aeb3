//! A client connection as both its own task and the core see it, and the
//! reads a connection answers by itself.
//!
//! A connection's task answers a read straight from the shared tree (on
//! whichever core the task runs) when nothing of its own is pending at the
//! core; everything else goes to the core task. Three rules keep the
//! client's view exactly what a single-threaded server gives:
//! - per-session order: while any earlier request of the connection is
//!   unanswered at the core (`at_core`), reads go to the core and queue
//!   behind it;
//! - a watch event precedes the reply to any later read that could see its
//!   change: the core counts the events it has made for a connection and
//!   not yet handed to its socket (`unsent_events`, raised under the tree's
//!   write lock); a read that finds one goes through the core instead;
//! - a read that sets a watch has its reply queued for the socket while it
//!   still holds the tree's read lock, so the event of any later change
//!   comes after the reply (a client registers the watch on the reply).

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

use crate::jute::data::Id;
use crate::jute::proto::RequestHeader;
use crate::jute::{JuteField, Reader};
use crate::proto::{op, xid};
use crate::server::db::Db;
use crate::server::reads::{is_local_read, Read};
use crate::server::reply::{reply_frame, Body};
use crate::watch::ConnId;

/// Per-connection statistics, for `cons` and `stat`.
#[derive(Debug, Clone, Default)]
pub struct ConnStats {
    pub packets_received: u64,
    pub packets_sent: u64,
    pub last_cxid: i32,
    pub last_zxid: i64,
    pub last_op: &'static str,
    pub established_ms: i64,
    /// Monotonic ms of the last response (Java's lresp).
    pub last_response_ms: i64,
}

impl ConnStats {
    /// Java's ServerCnxn.updateStatsForResponse. Requests are answered as
    /// soon as they can be, so request latency is always 0 and not tracked.
    pub fn responded(&mut self, cxid: i32, zxid: i64, op: &'static str, now_ms: i64) {
        if cxid >= 0 {
            self.last_cxid = cxid;
        }
        self.last_zxid = zxid;
        self.last_op = op;
        self.last_response_ms = now_ms;
    }
}

/// What a connection's task and the core share about it.
#[derive(Debug, Default)]
pub struct ConnShared {
    /// The session, once its ConnectResponse is out (0 before).
    session: AtomicI64,
    /// Requests handed to the core and not yet answered and sent.
    at_core: AtomicUsize,
    /// Watch events made for this connection and not yet sent.
    unsent_events: AtomicUsize,
    /// Every request goes to the core from now on (closing, expiring).
    core_only: AtomicBool,
    /// A request was answered here since the core last looked: the
    /// session is alive (the core touches it on its next tick).
    touched: AtomicBool,
    auth: Mutex<Arc<Vec<Id>>>,
    stats: Mutex<ConnStats>,
}

impl ConnShared {
    pub fn new(auth: Arc<Vec<Id>>, stats: ConnStats) -> ConnShared {
        ConnShared {
            auth: Mutex::new(auth),
            stats: Mutex::new(stats),
            ..Default::default()
        }
    }

    pub fn stats(&self) -> MutexGuard<'_, ConnStats> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn auth(&self) -> Arc<Vec<Id>> {
        self.auth.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    // ---- the core's side -------------------------------------------------

    pub(crate) fn set_auth(&self, auth: Arc<Vec<Id>>) {
        *self.auth.lock().unwrap_or_else(|e| e.into_inner()) = auth;
    }

    pub(crate) fn set_session(&self, session: i64) {
        self.session.store(session, Ordering::Release);
    }

    pub(crate) fn core_only(&self) {
        self.core_only.store(true, Ordering::Release);
    }

    /// The core answered and sent `n` more of this connection's requests.
    pub(crate) fn answered(&self, n: usize) {
        self.at_core.fetch_sub(n, Ordering::Release);
    }

    /// Called under the tree's write lock, as the event is made.
    pub(crate) fn event_made(&self) {
        self.unsent_events.fetch_add(1, Ordering::AcqRel);
    }

    /// Every event made so far has been handed to the socket.
    pub(crate) fn events_sent(&self) {
        self.unsent_events.store(0, Ordering::Release);
    }

    /// Was a request answered by the connection itself since the last call?
    pub(crate) fn take_touched(&self) -> bool {
        self.touched.swap(false, Ordering::AcqRel)
    }

    // ---- the connection's side -------------------------------------------

    /// A request is on its way to the core.
    pub fn to_core(&self) {
        self.at_core.fetch_add(1, Ordering::AcqRel);
    }

    /// Answers `frame` here if it is a read the connection may answer by
    /// itself now; `emit` gets the reply while the tree is still read-locked
    /// and must only queue it (no I/O under the lock). False: send the
    /// frame to the core.
    pub fn answer_locally(
        &self,
        db: &Db,
        conn: ConnId,
        frame: &Bytes,
        now_ms: i64,
        emit: impl FnOnce(&[u8]),
    ) -> bool {
        if self.at_core.load(Ordering::Acquire) != 0 || self.core_only.load(Ordering::Acquire) {
            return false;
        }
        let session = self.session.load(Ordering::Acquire);
        if session == 0 {
            return false;
        }
        let mut r = Reader::new(frame.clone());
        let Ok(h) = RequestHeader::read(&mut r) else {
            return false;
        };
        if h.type_ != op::PING && !is_local_read(h.type_) {
            return false;
        }
        let auth = self.auth();
        let tree = db.tree();
        if self.unsent_events.load(Ordering::Acquire) != 0 {
            return false;
        }
        let zxid = tree.last_processed_zxid;
        let (xid, reply) = if h.type_ == op::PING {
            (xid::PING, reply_frame(xid::PING, zxid, 0, Body::None))
        } else {
            let mut read = Read {
                tree: &tree,
                watches: db.watches_lazy(),
                conn,
                session,
                auth: &auth,
                fired: Vec::new(),
            };
            let (err, body) = match read.read_op(h.type_, r.rest()) {
                Ok(b) => (0, b),
                Err(e) => (e.code(), Body::None),
            };
            (h.xid, reply_frame(h.xid, zxid, err, body))
        };
        emit(&reply);
        drop(tree);
        db.count_received();
        db.count_sent();
        self.touched.store(true, Ordering::Release);
        let mut st = self.stats();
        st.packets_received += 1;
        st.packets_sent += 1;
        st.responded(xid, zxid, op_abbrev(h.type_), now_ms);
        true
    }
}

/// The four-letter operation names Java's `cons` shows as lop.
pub fn op_abbrev(type_: i32) -> &'static str {
    match type_ {
        op::PING => "PING",
        op::CREATE_SESSION => "SESS",
        op::MULTI => "MULT",
        op::MULTI_READ => "MLTR",
        op::CREATE | op::CREATE2 | op::CREATE_TTL | op::CREATE_CONTAINER => "CREA",
        op::DELETE | op::DELETE_CONTAINER => "DELE",
        op::SET_DATA => "SETD",
        op::RECONFIG => "RECO",
        op::SET_ACL => "SETA",
        op::CLOSE_SESSION => "CLOS",
        op::SYNC => "SYNC",
        op::CHECK => "CHEC",
        op::EXISTS => "EXIS",
        op::GET_DATA => "GETD",
        op::SET_WATCHES => "SETW",
        op::SET_WATCHES2 => "STW2",
        op::ADD_WATCH => "ADDW",
        op::GET_ACL => "GETA",
        op::GET_CHILDREN | op::GET_CHILDREN2 => "GETC",
        op::GET_ALL_CHILDREN_NUMBER => "GETACN",
        op::CHECK_WATCHES => "CHKW",
        op::REMOVE_WATCHES => "REMW",
        op::WHO_AM_I => "HOMI",
        op::GET_EPHEMERALS => "GETE",
        _ => "NA",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::proto::{GetDataRequest, ReplyHeader, SetDataRequest, SyncRequest};
    use crate::tree::DataTree;
    use bytes::BytesMut;

    fn frame<T: JuteField>(type_: i32, req: &T) -> Bytes {
        let mut w = BytesMut::new();
        RequestHeader { xid: 7, type_ }.write(&mut w);
        req.write(&mut w);
        w.freeze()
    }

    fn get(path: &str, watch: bool) -> Bytes {
        frame(
            op::GET_DATA,
            &GetDataRequest {
                path: path.into(),
                watch,
            },
        )
    }

    fn answered(shared: &ConnShared, db: &Db, f: &Bytes) -> Option<Bytes> {
        let mut out = Vec::new();
        shared
            .answer_locally(db, 1, f, 5, |b| out.extend_from_slice(b))
            .then(|| Bytes::from(out))
    }

    fn ready() -> (Db, ConnShared) {
        let shared = ConnShared::new(Arc::new(Vec::new()), ConnStats::default());
        shared.set_session(0x42);
        (Db::new(DataTree::new(false)), shared)
    }

    #[test]
    fn a_read_is_answered_here_with_the_trees_zxid() {
        let (db, shared) = ready();
        db.tree_mut().last_processed_zxid = 9;
        let f = answered(&shared, &db, &get("/", true)).expect("answered here");
        let mut r = Reader::new(f.slice(4..));
        let h = ReplyHeader::read(&mut r).unwrap();
        assert_eq!((h.xid, h.zxid, h.err), (7, 9, 0));
        assert_eq!(db.watches().data.watch_count(), 1, "the watch is set");
        assert!(shared.take_touched(), "the session is reported alive");
        assert_eq!(shared.stats().last_op, "GETD");
        let f = answered(&shared, &db, &get("/nope", false)).expect("errors too");
        let h = ReplyHeader::read(&mut Reader::new(f.slice(4..))).unwrap();
        assert_eq!(h.err, crate::proto::ErrorCode::NoNode.code());
    }

    #[test]
    fn what_must_go_through_the_core_does() {
        let (db, shared) = ready();
        let write = frame(
            op::SET_DATA,
            &SetDataRequest {
                path: "/".into(),
                data: None,
                version: -1,
            },
        );
        let sync = frame(op::SYNC, &SyncRequest { path: "/".into() });
        assert!(answered(&shared, &db, &write).is_none(), "writes");
        assert!(answered(&shared, &db, &sync).is_none(), "syncs");
        assert!(
            answered(&shared, &db, &Bytes::from_static(b"\0\0")).is_none(),
            "garbage"
        );
        // An earlier request still at the core: the read waits behind it.
        shared.to_core();
        assert!(answered(&shared, &db, &get("/", false)).is_none());
        shared.answered(1);
        assert!(answered(&shared, &db, &get("/", false)).is_some());
        // An event not yet sent: the reply must not overtake it.
        shared.event_made();
        assert!(answered(&shared, &db, &get("/", false)).is_none());
        shared.events_sent();
        assert!(answered(&shared, &db, &get("/", false)).is_some());
        // Before the handshake's answer, and once closing: never.
        let fresh = ConnShared::new(Arc::new(Vec::new()), ConnStats::default());
        assert!(answered(&fresh, &db, &get("/", false)).is_none());
        shared.core_only();
        assert!(answered(&shared, &db, &get("/", false)).is_none());
    }
}
