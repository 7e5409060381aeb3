//! The server core: sessions, connections as the core sees them, the write
//! pipeline (prep -> log -> apply) and the reads that wait behind writes,
//! with no I/O.
//!
//! The network layer feeds it frames with `connect`/`request` and drains
//! `take_output` for frames to send and connections to close, then calls
//! `after_dispatch`. The core runs on one task; the committed state it
//! applies to (`Db`: tree and watches) is shared with the connection
//! tasks, which answer most reads themselves (see `server::conn`). Every
//! request of a connection is answered in arrival order, and a watch event
//! is queued the moment its transaction is applied, so it always precedes
//! the reply to any later request that could observe the change.
//!
//! Writes: `request` preps a transaction (next zxid) and queues it for the
//! log stage (`take_log`); once the log stage has made it durable it calls
//! `durable`, which applies transactions in zxid order, fires watches and
//! replies. A read that reaches the core answers at once from the applied
//! tree, unless the same connection has an unfinished write before it, in
//! which case it waits for it. Standalone is a quorum of one; the leader
//! applies what a quorum acked (`leader.rs`), a learner what the leader
//! commits (`learner.rs`), all through the same apply path (`commit`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, RwLockReadGuard};

use bytes::{BufMut, Bytes, BytesMut};

use crate::acl;
use crate::jute::data::Id;
use crate::jute::proto::{
    AuthPacket, ConnectRequest, ConnectResponse, ReplyHeader, RequestHeader, SetSASLResponse,
};
use crate::jute::txn::{CreateSessionTxn, TxnDigest, TxnHeader};
use crate::jute::{JuteField, Reader};
use crate::proto::{op, owner, perms, xid, ErrorCode};
use crate::server::conn::{op_abbrev, ConnShared, ConnStats};
use crate::server::db::Db;
use crate::server::prep::{Pending, Prep};
use crate::server::reads::{is_read, Read};
use crate::server::reply::{event_frame, frame, reply_frame, reply_lop, write_reply, Body};
use crate::session::{self, Owner, SessionTracker};
use crate::tree::{DataTree, TxnResult};
use crate::txn::{Txn, TxnBody};
use crate::watch::{ConnId, Fired};

/// What the core needs from the configuration.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    pub tick_ms: i64,
    pub min_session_timeout_ms: i32,
    pub max_session_timeout_ms: i32,
    pub extended_types: bool,
    pub super_digest: Option<String>,
    pub container_check_interval_ms: i64,
    /// Standalone session ids carry this id in their top byte.
    pub server_id: i64,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            tick_ms: 2000,
            min_session_timeout_ms: 4000,
            max_session_timeout_ms: 40000,
            extended_types: false,
            super_digest: None,
            container_check_interval_ms: 60_000,
            server_id: 1,
        }
    }
}

/// The clock, passed in so that tests control time.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    /// Monotonic milliseconds, for timeouts.
    pub mono_ms: i64,
    /// Wall-clock milliseconds since the epoch, for ctime/mtime.
    pub wall_ms: i64,
}

/// Something for the network layer to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// A length-prefixed frame to write.
    Frame(Bytes),
    /// Flush what was queued, then close.
    Close,
}

#[derive(Debug)]
pub struct Conn {
    pub remote: SocketAddr,
    /// 0 until the handshake completes.
    pub session: i64,
    pub timeout_ms: i32,
    /// Authenticated ids; shared so a request can hold them cheaply.
    pub auth: Arc<Vec<Id>>,
    /// Did the client send the readOnly flag (newer clients do)?
    pub sent_read_only: bool,
    /// Closed by the server; further frames are ignored.
    pub closing: bool,
    /// What the connection's task sees of it (its stats too).
    pub shared: Arc<ConnShared>,
    /// Requests waiting their turn: a connection's replies go out in the
    /// order its requests came in, so a read that follows a write waits
    /// until that write is durable and applied.
    queue: VecDeque<Queued>,
    /// Requests handled here and not yet reported answered to the
    /// connection's task (`after_dispatch`).
    handled: usize,
}

/// A connection's request waiting its turn.
#[derive(Debug)]
enum Queued {
    /// A write on its way through the log, by zxid.
    Write(i64),
    /// A write a learner forwarded to the leader, by cxid, waiting for
    /// its commit (or a sync, for the leader's answer).
    Forwarded { cxid: i32, type_: i32 },
    /// A read that arrived after an unfinished write.
    Read {
        h: RequestHeader,
        body: Bytes,
        at: Now,
    },
}

/// What a transaction on its way through the log came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// A client's write: reply when applied.
    Request { conn: ConnId, xid: i32, type_: i32 },
    /// A new session: send the ConnectResponse when applied.
    Connect { conn: ConnId },
    /// The server's own (session expiry, container cleanup).
    Internal,
}

/// A prepared transaction waiting to be durable.
struct InFlight {
    txn: Txn,
    origin: Origin,
}

/// Server-wide counters, for `stat`, `srvr` and `mntr`.
#[derive(Debug, Clone, Default)]
pub struct ServerStats {
    /// Txn log fsyncs so far, and their time.
    pub fsync_count: u64,
    pub fsync_total_us: u64,
    pub fsync_min_us: u64,
    pub fsync_max_us: u64,
    /// Transactions whose prepared digest disagreed with the tree once
    /// applied (Java's digest_mismatches_count); 0 unless there is a bug.
    pub digest_mismatches: u64,
}

pub struct Core {
    pub cfg: CoreConfig,
    /// The committed state: tree and watches, read by every connection.
    db: Arc<Db>,
    pub sessions: SessionTracker,
    pending: Pending,
    pub conns: BTreeMap<ConnId, Conn>,
    session_conn: HashMap<i64, ConnId>,
    /// Highest zxid handed out.
    last_zxid: i64,
    out: Vec<(ConnId, Outbound)>,
    pub stats: ServerStats,
    next_container_check: i64,
    /// When the core was created (`mntr`'s zk_uptime).
    pub started: Now,
    /// Prepared transactions, in zxid order, not yet durable.
    in_flight: VecDeque<InFlight>,
    /// Transactions for the log stage to make durable, then `durable()`.
    to_log: Vec<Txn>,
    /// What this core serves as: its own writes' preparer (standalone),
    /// the ensemble's (leader), or a learner forwarding to its leader.
    role: CoreRole,
    /// Connections whose requests may all be answered now (checked, and
    /// told, in `after_dispatch`).
    maybe_idle: Vec<ConnId>,
    /// Connections with events made this turn.
    evented: Vec<ConnId>,
}

impl Core {
    pub fn new(cfg: CoreConfig, tree: DataTree, now: Now) -> Core {
        let first = session::first_session_id(cfg.server_id, now.wall_ms);
        Core {
            sessions: SessionTracker::new(cfg.tick_ms, first),
            last_zxid: tree.last_processed_zxid,
            next_container_check: now.mono_ms + cfg.container_check_interval_ms,
            cfg,
            db: Arc::new(Db::new(tree)),
            pending: Pending::default(),
            conns: BTreeMap::new(),
            session_conn: HashMap::new(),
            out: Vec::new(),
            stats: ServerStats::default(),
            started: now,
            in_flight: VecDeque::new(),
            to_log: Vec::new(),
            role: CoreRole::Standalone,
            maybe_idle: Vec::new(),
            evented: Vec::new(),
        }
    }

    /// The committed state, as the connections share it.
    pub fn db(&self) -> &Arc<Db> {
        &self.db
    }

    /// The applied tree (read-locked: the core is its only writer, so
    /// this never waits on one).
    pub fn tree(&self) -> RwLockReadGuard<'_, DataTree> {
        self.db.tree()
    }

    /// The core of a learner: writes go to the leader (see `learner`).
    pub fn new_learner(cfg: CoreConfig, tree: DataTree, now: Now) -> Core {
        let mut core = Core::new(cfg, tree, now);
        core.role = CoreRole::Learner(LearnerSide::default());
        core
    }

    /// Transactions prepared since the last call, for the log stage. Once
    /// they are durable, the log stage calls `durable` with the last zxid.
    pub fn take_log(&mut self) -> Vec<Txn> {
        std::mem::take(&mut self.to_log)
    }

    /// Are transactions waiting for `take_log`?
    pub fn has_log(&self) -> bool {
        !self.to_log.is_empty()
    }

    /// The log stage of a server that keeps nothing on disk: everything
    /// prepared counts as durable at once.
    pub fn commit_in_memory(&mut self, now: Now) {
        let txns = self.take_log();
        if let Some(last) = txns.last() {
            self.durable(last.header.zxid, now);
        }
    }

    /// Prepared transactions not yet durable.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Transactions up to `zxid` are durable: apply them in order, fire
    /// their watches, answer them, and run the reads that were waiting on
    /// them.
    pub fn durable(&mut self, zxid: i64, now: Now) {
        if self.is_learner() {
            // A learner's log holds proposals: durable means ack, and
            // the leader's COMMIT applies them.
            return self.learner_durable(zxid);
        }
        if self.is_leader() {
            // The leader's own ack; a quorum of acks commits (`committed`).
            return;
        }
        self.apply_through(zxid, now);
    }

    /// Applies the prepared transactions up to `zxid`, in order, fires
    /// their watches, answers them, and runs the reads that were waiting
    /// on them.
    fn apply_through(&mut self, zxid: i64, now: Now) {
        while self
            .in_flight
            .front()
            .is_some_and(|f| f.txn.header.zxid <= zxid)
        {
            let Some(f) = self.in_flight.pop_front() else {
                break;
            };
            let txn_zxid = f.txn.header.zxid;
            let session = f.txn.header.client_id;
            let rc = self.commit(f.txn);
            match f.origin {
                Origin::Request { conn, xid, type_ } => {
                    let (err, body) = write_reply(type_, &rc);
                    self.reply(conn, xid, err, body, reply_lop(type_, &rc), now.mono_ms);
                    if type_ == op::CLOSE_SESSION {
                        self.close(conn);
                    }
                    self.finished_write(conn, txn_zxid);
                }
                Origin::Connect { conn } => {
                    tracing::info!("established session 0x{session:x}");
                    let last = self.last_zxid();
                    if let Some(c) = self.conns.get(&conn) {
                        c.shared.stats().responded(0, last, "SESS", now.mono_ms);
                    }
                    self.finish_connect(conn, true);
                    self.finished_write(conn, txn_zxid);
                }
                Origin::Internal => {
                    // An expired session's connection goes once its close is applied.
                    if rc.type_ == op::CLOSE_SESSION {
                        if let Some(conn) = self.session_conn.get(&session).copied() {
                            self.close(conn);
                        }
                    }
                }
            }
        }
    }

    /// A connection's write is done: run the reads queued behind it.
    fn finished_write(&mut self, conn: ConnId, zxid: i64) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if matches!(c.queue.front(), Some(Queued::Write(z)) if *z == zxid) {
            c.queue.pop_front();
        }
        self.run_queued_reads(conn);
    }

    /// Runs the reads at the head of a connection's queue, up to its next
    /// unfinished write.
    fn run_queued_reads(&mut self, conn: ConnId) {
        self.maybe_idle.push(conn);
        loop {
            let Some(c) = self.conns.get_mut(&conn) else {
                return;
            };
            if !matches!(c.queue.front(), Some(Queued::Read { .. })) {
                return;
            }
            if let Some(Queued::Read { h, body, at }) = c.queue.pop_front() {
                self.read_now(conn, h, body, at);
            }
        }
    }

    /// Prepares a write and sends it down the log stage.
    fn submit(&mut self, txn: Txn, origin: Origin) {
        let zxid = txn.header.zxid;
        if let Origin::Request { conn, .. } | Origin::Connect { conn } = origin {
            if let Some(c) = self.conns.get_mut(&conn) {
                c.queue.push_back(Queued::Write(zxid));
            }
        }
        self.to_log.push(txn.clone());
        self.in_flight.push_back(InFlight { txn, origin });
    }

    /// Frames and connections the network layer must act on, in order.
    pub fn take_output(&mut self) -> Vec<(ConnId, Outbound)> {
        std::mem::take(&mut self.out)
    }

    /// The output of `take_output` is with the connections: tell them
    /// which of their requests are answered and that their events are out,
    /// so that they may answer reads themselves again.
    pub fn after_dispatch(&mut self) {
        for conn in self.evented.drain(..) {
            if let Some(c) = self.conns.get(&conn) {
                c.shared.events_sent();
            }
        }
        for conn in self.maybe_idle.drain(..) {
            if let Some(c) = self.conns.get_mut(&conn) {
                if c.queue.is_empty() && c.handled > 0 {
                    c.shared.answered(c.handled);
                    c.handled = 0;
                }
            }
        }
    }

    pub fn last_zxid(&self) -> i64 {
        self.tree().last_processed_zxid
    }

    fn send(&mut self, conn: ConnId, f: Bytes) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.shared.stats().packets_sent += 1;
            self.db.count_sent();
            self.out.push((conn, Outbound::Frame(f)));
        }
    }

    fn close(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.get_mut(&conn) {
            if !c.closing {
                c.closing = true;
                c.shared.core_only();
                self.out.push((conn, Outbound::Close));
            }
        }
    }

    /// Should a frame from this connection be looked at?
    fn accepting(&self, conn: ConnId) -> bool {
        self.conns.get(&conn).is_some_and(|c| !c.closing)
    }

    // ---- connections -----------------------------------------------------

    pub fn open(&mut self, conn: ConnId, remote: SocketAddr, now: Now) {
        self.open_shared(conn, remote, Arc::new(new_shared(remote, now)), now);
    }

    /// A new connection, sharing `shared` with its task (made by
    /// `new_shared`).
    pub fn open_shared(
        &mut self,
        conn: ConnId,
        remote: SocketAddr,
        shared: Arc<ConnShared>,
        _now: Now,
    ) {
        let ip = remote.ip().to_string();
        self.conns.insert(
            conn,
            Conn {
                remote,
                session: 0,
                timeout_ms: 0,
                auth: Arc::new(vec![acl::id("ip", &ip)]),
                sent_read_only: false,
                closing: false,
                shared,
                queue: VecDeque::new(),
                handled: 0,
            },
        );
    }

    /// The connection is gone; its watches go with it, its session stays
    /// until it expires.
    pub fn closed(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.remove(&conn) {
            if self.session_conn.get(&c.session) == Some(&conn) {
                self.session_conn.remove(&c.session);
            }
        }
        self.db.watches().remove_conn(conn);
    }

    /// Is the connection past its handshake?
    pub fn established(&self, conn: ConnId) -> bool {
        self.conns.get(&conn).is_some_and(|c| c.session != 0)
    }

    /// The handshake: a ConnectRequest, possibly followed by readOnly.
    pub fn connect(&mut self, conn: ConnId, frame_body: Bytes, now: Now) {
        self.handled(conn);
        if !self.accepting(conn) {
            return;
        }
        let mut r = Reader::new(frame_body);
        let Ok(req) = ConnectRequest::read(&mut r) else {
            tracing::info!(conn, "malformed connect request; closing");
            self.close(conn);
            return;
        };
        let read_only = r.read_trailing_bool();
        self.db.count_received();
        if let Some(c) = self.conns.get_mut(&conn) {
            c.sent_read_only = read_only.is_some();
            c.shared.stats().packets_received += 1;
        }
        let ours = self.last_zxid();
        if req.last_zxid_seen > ours {
            tracing::info!(
                conn,
                "refusing session: client has seen zxid 0x{:x}, ours is 0x{ours:x}",
                req.last_zxid_seen,
            );
            self.close(conn);
            return;
        }
        let timeout = req
            .time_out
            .max(self.cfg.min_session_timeout_ms)
            .min(self.cfg.max_session_timeout_ms);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.timeout_ms = timeout;
        }
        if req.session_id == 0 && self.is_learner() {
            let id = self.sessions.next_session_id();
            tracing::debug!(
                "new session 0x{id:x} with negotiated timeout {timeout}, created by the leader"
            );
            self.forward_create_session(conn, id, timeout, now);
        } else if req.session_id == 0 {
            let id = self.sessions.next_session_id();
            self.sessions.add(id, timeout, now.mono_ms);
            self.sessions.set_owner(id, Owner::Local);
            let txn = self.create_session_txn(id, timeout, now);
            tracing::debug!("new session 0x{id:x} with negotiated timeout {timeout}");
            // Attached now, so requests pipelined behind the handshake queue
            // up behind the session's creation.
            self.attach(conn, id);
            self.submit(txn, Origin::Connect { conn });
        } else {
            let id = req.session_id;
            // A session lives on one connection: the new one replaces the old.
            if let Some(old) = self.session_conn.get(&id).copied() {
                if old != conn {
                    self.close(old);
                    self.closed(old);
                }
            }
            let pw_ok = req.passwd.as_deref() == Some(&session::password(id)[..]);
            if pw_ok && self.is_learner() {
                self.revalidate(conn, id, timeout);
                return;
            }
            let valid = pw_ok && self.sessions.touch(id, timeout, now.mono_ms);
            if valid {
                // Java's reopenSession: the session is this server's now.
                self.sessions.set_owner(id, Owner::Local);
                self.attach(conn, id);
            } else {
                tracing::info!("refusing to re-attach session 0x{id:x}: expired or wrong password");
            }
            self.finish_connect(conn, valid);
        }
    }

    /// A createSession txn with the next zxid.
    fn create_session_txn(&mut self, id: i64, timeout: i32, now: Now) -> Txn {
        let zxid = self.next_zxid();
        Txn {
            header: TxnHeader {
                client_id: id,
                cxid: 0,
                zxid,
                time: now.wall_ms,
                type_: op::CREATE_SESSION,
            },
            body: TxnBody::CreateSession(CreateSessionTxn { time_out: timeout }),
            digest: Some(TxnDigest {
                version: crate::persist::digest::DIGEST_VERSION,
                tree_digest: self.pending.digest_or(self.db.tree().digest()),
            }),
        }
    }

    fn attach(&mut self, conn: ConnId, session: i64) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.session = session;
        }
        self.session_conn.insert(session, conn);
    }

    fn finish_connect(&mut self, conn: ConnId, valid: bool) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let rsp = ConnectResponse {
            protocol_version: 0,
            time_out: if valid { c.timeout_ms } else { 0 },
            session_id: if valid { c.session } else { 0 },
            passwd: Some(Bytes::copy_from_slice(&if valid {
                session::password(c.session)
            } else {
                [0u8; 16]
            })),
        };
        let mut w = BytesMut::new();
        w.put_i32(0);
        rsp.write(&mut w);
        if c.sent_read_only {
            w.put_u8(0);
        }
        let len = (w.len() - 4) as i32;
        w[..4].copy_from_slice(&len.to_be_bytes());
        if valid {
            c.shared.set_session(c.session);
        }
        self.send(conn, w.freeze());
        if !valid {
            self.close(conn);
        }
    }

    /// A frame of `conn` reached the core.
    fn handled(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.handled += 1;
            self.maybe_idle.push(conn);
        }
    }

    // ---- requests --------------------------------------------------------

    /// One request frame (after the handshake).
    pub fn request(&mut self, conn: ConnId, frame_body: Bytes, now: Now) {
        self.handled(conn);
        if !self.accepting(conn) {
            return;
        }
        let mut r = Reader::new(frame_body);
        let Ok(h) = RequestHeader::read(&mut r) else {
            tracing::info!(conn, "malformed request header; closing");
            self.close(conn);
            return;
        };
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let session = c.session;
        let timeout = c.timeout_ms;
        c.shared.stats().packets_received += 1;
        self.db.count_received();
        let body = r.rest();

        match h.type_ {
            op::AUTH => return self.auth(conn, h.xid, body),
            op::SASL => {
                // No SASL server is configured: answer with an empty token.
                let hdr = ReplyHeader {
                    xid: h.xid,
                    zxid: 0,
                    err: 0,
                };
                let f = frame(&hdr, |w| SetSASLResponse { token: None }.write(w));
                return self.send(conn, f);
            }
            _ => {}
        }
        // Requests of a session that is gone or closing are dropped, as Java does.
        if !self.sessions.touch(session, timeout, now.mono_ms) && h.type_ != op::CLOSE_SESSION {
            tracing::debug!("dropping request of expired session 0x{session:x}");
            return;
        }
        if let Some(l) = self.role.learner() {
            l.touch(session, timeout);
        }
        // A learner's writes, and its syncs, are the leader's to order.
        let to_leader = |t| is_write(t) || t == op::SYNC || t == op::DELETE_CONTAINER;
        if self.is_learner() && to_leader(h.type_) {
            return self.forward(conn, session, h, body);
        }
        match h.type_ {
            t if is_write(t) => self.write(conn, session, h, body, now),
            op::DELETE_CONTAINER => {
                // Java accepts deleteContainer from a client and takes the
                // whole packet, header included, as the path: it never
                // validates (the header holds NULs), so the reply is
                // BadArguments and an error txn is logged.
                let mut whole = BytesMut::with_capacity(8 + body.len());
                h.write(&mut whole);
                whole.extend_from_slice(&body);
                self.write(conn, session, h, whole.freeze(), now)
            }
            t if t == op::PING || is_read(t) => {
                let Some(c) = self.conns.get_mut(&conn) else {
                    return;
                };
                if c.queue.is_empty() {
                    self.read_now(conn, h, body, now);
                } else {
                    c.queue.push_back(Queued::Read { h, body, at: now });
                }
            }
            other => {
                tracing::warn!(conn, "unknown request type {other}; closing");
                let hdr = ReplyHeader {
                    xid: h.xid,
                    zxid: -1,
                    err: ErrorCode::Unimplemented.code(),
                };
                self.send(conn, frame(&hdr, |_| {}));
                self.close(conn);
            }
        }
    }

    fn reply(&mut self, conn: ConnId, xid: i32, err: i32, body: Body, type_: i32, now_ms: i64) {
        let zxid = self.last_zxid();
        if let Some(c) = self.conns.get(&conn) {
            c.shared
                .stats()
                .responded(xid, zxid, op_abbrev(type_), now_ms);
        }
        self.send(conn, reply_frame(xid, zxid, err, body));
    }

    fn auth(&mut self, conn: ConnId, xid: i32, body: Bytes) {
        let Ok(pkt) = AuthPacket::read(&mut Reader::new(body)) else {
            self.close(conn);
            return;
        };
        let remote_ip = self
            .conns
            .get(&conn)
            .map(|c| c.remote.ip().to_string())
            .unwrap_or_default();
        let auth = pkt.auth.unwrap_or_default();
        match acl::authenticate(
            &pkt.scheme,
            &auth,
            &remote_ip,
            self.cfg.super_digest.as_deref(),
        ) {
            acl::AuthOutcome::Added(ids) => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    for id in ids {
                        if !c.auth.contains(&id) {
                            Arc::make_mut(&mut c.auth).push(id);
                        }
                    }
                    c.shared.set_auth(c.auth.clone());
                }
                let hdr = ReplyHeader {
                    xid,
                    zxid: 0,
                    err: 0,
                };
                self.send(conn, frame(&hdr, |_| {}));
            }
            acl::AuthOutcome::Failed => {
                tracing::info!(conn, scheme = pkt.scheme, "authentication failed; closing");
                let hdr = ReplyHeader {
                    xid,
                    zxid: 0,
                    err: ErrorCode::AuthFailed.code(),
                };
                self.send(conn, frame(&hdr, |_| {}));
                self.close(conn);
            }
        }
    }

    fn next_zxid(&mut self) -> i64 {
        self.last_zxid += 1;
        self.last_zxid
    }

    /// Applies a transaction and fires the watches it triggers. This is
    /// where a ZAB follower will hand in the leader's committed proposals.
    pub fn commit(&mut self, txn: Txn) -> TxnResult {
        let mut changes = Vec::new();
        let mut fired = Vec::new();
        let (rc, digest) = {
            let mut tree = self.db.tree_mut();
            let rc = tree.apply(&txn, &mut changes);
            // The events are made, and counted against their connections,
            // before any reader can see the change (see `server::conn`).
            let mut watches = self.db.watches();
            for ch in &changes {
                watches.on_change(ch, &mut fired);
            }
            for f in &fired {
                if let Some(c) = self.conns.get(&f.conn) {
                    c.shared.event_made();
                }
            }
            (rc, tree.digest())
        };
        self.evented.extend(fired.iter().map(|f| f.conn));
        if let Some(d) = &txn.digest {
            if d.tree_digest != digest {
                self.stats.digest_mismatches += 1;
                tracing::error!(
                    "digest mismatch at zxid 0x{:x}: prepared {}, tree {digest}",
                    txn.header.zxid,
                    d.tree_digest,
                );
            }
        }
        self.pending.applied(txn.header.zxid);
        if txn.header.type_ == op::CLOSE_SESSION {
            let id = txn.header.client_id;
            self.sessions.remove(id);
        }
        if txn.header.type_ == op::CREATE_SESSION {
            if let TxnBody::CreateSession(cs) = &txn.body {
                if self.sessions.get(txn.header.client_id).is_none() {
                    self.sessions.add(txn.header.client_id, cs.time_out, 0);
                }
            }
        }
        for f in fired {
            self.notify(f);
        }
        rc
    }

    fn notify(&mut self, f: Fired) {
        if let Some(acl) = &f.acl {
            let auth = self
                .conns
                .get(&f.conn)
                .map(|c| c.auth.as_slice())
                .unwrap_or(&[]);
            if acl::check(acl, perms::READ, auth).is_err() {
                return;
            }
        }
        self.send(f.conn, event_frame(&f));
    }

    fn write(&mut self, conn: ConnId, session: i64, h: RequestHeader, body: Bytes, now: Now) {
        let zxid = self.next_zxid();
        let auth = self
            .conns
            .get(&conn)
            .map(|c| c.auth.clone())
            .unwrap_or_default();
        let auth: &[Id] = &auth;
        let txn = {
            let tree = self.db.tree();
            Prep {
                tree: &tree,
                pending: &mut self.pending,
                sessions: &mut self.sessions,
                extended_types: self.cfg.extended_types,
                owner: Owner::Local,
            }
            .prep(session, h.xid, h.type_, body, auth, zxid, now.wall_ms)
        };
        let origin = Origin::Request {
            conn,
            xid: h.xid,
            type_: h.type_,
        };
        self.submit(txn, origin);
    }

    /// Answers a read (or ping) against the tree as it is now.
    fn read_now(&mut self, conn: ConnId, h: RequestHeader, body: Bytes, at: Now) {
        if h.type_ == op::PING {
            let hdr = ReplyHeader {
                xid: xid::PING,
                zxid: self.last_zxid(),
                err: 0,
            };
            if let Some(c) = self.conns.get(&conn) {
                c.shared
                    .stats()
                    .responded(xid::PING, hdr.zxid, "PING", at.mono_ms);
            }
            self.send(conn, frame(&hdr, |_| {}));
            return;
        }
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let (session, auth) = (c.session, c.auth.clone());
        let ((err, body), fired) = {
            let tree = self.db.tree();
            let mut read = Read {
                tree: &tree,
                watches: self.db.watches_lazy(),
                conn,
                session,
                auth: &auth,
                fired: Vec::new(),
            };
            let res = match read.read_op(h.type_, body) {
                Ok(b) => (0, b),
                Err(e) => (e.code(), Body::None),
            };
            (res, std::mem::take(&mut read.fired))
        };
        for f in fired {
            self.notify(f);
        }
        // Every reply echoes its request's xid, setWatches' too (Java 3.8
        // clients send it with an ordinary xid and check it comes back).
        self.reply(conn, h.xid, err, body, h.type_, at.mono_ms);
    }

    // ---- time ------------------------------------------------------------

    /// Expires sessions and runs the container manager.
    pub fn tick(&mut self, now: Now) {
        self.sweep_touches(now);
        // A learner's sessions and containers are the leader's to reap.
        if self.is_learner() {
            return;
        }
        for id in self.sessions.expire_due(now.mono_ms) {
            tracing::info!("expiring session 0x{id:x}");
            if let Some(c) = self.session_conn.get(&id).and_then(|c| self.conns.get(c)) {
                c.shared.core_only();
            }
            self.internal_write(id, op::CLOSE_SESSION, Bytes::new(), now);
        }
        if now.mono_ms >= self.next_container_check {
            self.next_container_check = now.mono_ms + self.cfg.container_check_interval_ms;
            for p in self.container_candidates(now.wall_ms) {
                self.internal_write(0, op::DELETE_CONTAINER, Bytes::from(p.into_bytes()), now);
            }
        }
    }

    /// Sessions whose connections answered requests themselves since the
    /// last sweep are alive: touch them as a request to the core would.
    pub(super) fn sweep_touches(&mut self, now: Now) {
        for c in self.conns.values() {
            if c.session == 0 || !c.shared.take_touched() {
                continue;
            }
            if !self.sessions.touch(c.session, c.timeout_ms, now.mono_ms) {
                c.shared.core_only();
            }
            if let Some(l) = self.role.learner() {
                l.touch(c.session, c.timeout_ms);
            }
        }
    }

    fn internal_write(&mut self, session: i64, type_: i32, body: Bytes, now: Now) {
        let zxid = self.next_zxid();
        let txn = {
            let tree = self.db.tree();
            Prep {
                tree: &tree,
                pending: &mut self.pending,
                sessions: &mut self.sessions,
                extended_types: self.cfg.extended_types,
                owner: Owner::Local,
            }
            .prep(session, 0, type_, body, &[], zxid, now.wall_ms)
        };
        self.submit(txn, Origin::Internal);
    }

    /// Empty containers that once had children, and expired empty TTL nodes.
    fn container_candidates(&self, wall_ms: i64) -> Vec<String> {
        let tree = self.tree();
        let mut out = Vec::new();
        for p in tree.containers() {
            if let Some(n) = tree.get(p) {
                if n.children().is_empty() && n.stat().cversion > 0 {
                    out.push(p.clone());
                }
            }
        }
        for p in tree.ttls() {
            if let Some(n) = tree.get(p) {
                let ttl = owner::ttl_of(n.stat().ephemeral_owner);
                if n.children().is_empty() && ttl != 0 && wall_ms - n.stat().mtime > ttl {
                    out.push(p.clone());
                }
            }
        }
        out
    }

    /// The connection a session is attached to, if any.
    pub fn conn_of(&self, session: i64) -> Option<ConnId> {
        self.session_conn.get(&session).copied()
    }
}

/// Client requests that become transactions (deleteContainer aside, see
/// `Core::request`).
fn is_write(type_: i32) -> bool {
    matches!(
        type_,
        op::CREATE
            | op::CREATE2
            | op::CREATE_TTL
            | op::CREATE_CONTAINER
            | op::DELETE
            | op::SET_DATA
            | op::SET_ACL
            | op::CHECK
            | op::MULTI
            | op::RECONFIG
            | op::CLOSE_SESSION
    )
}

/// The role a core plays; the pieces (sessions, the prep stage, the
/// apply path, the connections) are the same in all of them.
#[derive(Debug)]
enum CoreRole {
    /// Prepares, logs and applies its own writes: a quorum of one.
    Standalone,
    /// A ZAB leader: prepares every write of the ensemble and applies it
    /// once a quorum has logged it (`leader.rs`).
    Leader,
    /// A follower or observer: forwards writes and applies what the leader
    /// commits (`learner.rs`).
    Learner(LearnerSide),
}

impl CoreRole {
    fn learner(&mut self) -> Option<&mut LearnerSide> {
        match self {
            CoreRole::Learner(l) => Some(l),
            _ => None,
        }
    }
}

/// What a new connection shares with its task: its `ip` id, and stats
/// from now.
pub fn new_shared(remote: SocketAddr, now: Now) -> ConnShared {
    ConnShared::new(
        Arc::new(vec![acl::id("ip", &remote.ip().to_string())]),
        ConnStats {
            established_ms: now.wall_ms,
            last_op: "NA",
            last_cxid: -1,
            last_zxid: -1,
            ..Default::default()
        },
    )
}

mod leader;
mod learner;
pub use learner::Forward;
use learner::LearnerSide;

#[cfg(test)]
mod leader_tests;
#[cfg(test)]
mod learner_tests;
#[cfg(test)]
mod mangled_input_tests;
#[cfg(test)]
mod tests;
