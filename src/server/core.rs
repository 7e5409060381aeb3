//! The server core: sessions, connections as the core sees them, the write
//! pipeline (prep -> log -> apply) and the read path, with no I/O.
//!
//! The network layer feeds it frames with `connect`/`request` and drains
//! `take_output` for frames to send and connections to close. The core is
//! single-threaded and owns all state, so no lock is ever held across I/O;
//! every request of a connection is answered in arrival order, and a watch
//! event is queued the moment its transaction is applied, so it always
//! precedes the reply to any later request that could observe the change.
//!
//! Writes: `request` preps a transaction (next zxid) and queues it for the
//! log stage (`take_log`); once the log stage has made it durable it calls
//! `durable`, which applies transactions in zxid order, fires watches and
//! replies. Reads answer at once from the applied tree, unless the same
//! connection has an unfinished write before them, in which case they wait
//! for it. Standalone is a quorum of one; a ZAB follower will feed the
//! leader's committed proposals through the same `durable` path.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};

use crate::acl;
use crate::jute::data::{ClientInfo, Id, ACL};
use crate::jute::proto::{
    AddWatchRequest, AuthPacket, CheckWatchesRequest, ConnectRequest, ConnectResponse,
    Create2Response, CreateResponse, ErrorResponse, ExistsRequest, ExistsResponse, GetACLRequest,
    GetACLResponse, GetAllChildrenNumberRequest, GetAllChildrenNumberResponse, GetChildren2Request,
    GetChildren2Response, GetChildrenRequest, GetChildrenResponse, GetDataRequest, GetDataResponse,
    GetEphemeralsRequest, GetEphemeralsResponse, MultiHeader, ReplyHeader, RequestHeader,
    SetACLResponse, SetDataResponse, SetSASLResponse, SetWatches, SetWatches2, SyncRequest,
    SyncResponse, WatcherEvent, WhoAmIResponse,
};
use crate::jute::txn::{CreateSessionTxn, TxnDigest, TxnHeader};
use crate::jute::{JuteField, Reader};
use crate::proto::{add_watch_mode, event, op, owner, perms, state, watcher_type, xid, ErrorCode};
use crate::server::prep::{parse_multi_ops, MultiOp, Pending, Prep};
use crate::session::{self, SessionTracker};
use crate::tree::{Change, DataTree, TxnResult};
use crate::txn::{Txn, TxnBody};
use crate::watch::{ConnId, Fired, Mode, WatchManager};

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
    /// Java's ServerCnxn.updateStatsForResponse. The core answers
    /// synchronously, so request latency is always 0 and not tracked.
    fn responded(&mut self, cxid: i32, zxid: i64, op: &'static str, now_ms: i64) {
        if cxid >= 0 {
            self.last_cxid = cxid;
        }
        self.last_zxid = zxid;
        self.last_op = op;
        self.last_response_ms = now_ms;
    }
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
    pub stats: ConnStats,
    /// Requests waiting their turn: a connection's replies go out in the
    /// order its requests came in, so a read that follows a write waits
    /// until that write is durable and applied.
    queue: VecDeque<Queued>,
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
    pub packets_received: u64,
    pub packets_sent: u64,
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
    pub tree: DataTree,
    pub sessions: SessionTracker,
    pub watches: WatchManager,
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
    /// On a learner: what goes to the leader (None when this server
    /// prepares its own writes).
    learner: Option<LearnerSide>,
    /// On a ZAB leader: prepared txns apply once a quorum has logged them
    /// (`committed`), not once they are durable here.
    leading: bool,
}

/// Frames a reply: length, header, optional body.
fn frame(hdr: &ReplyHeader, body: impl FnOnce(&mut BytesMut)) -> Bytes {
    let mut w = BytesMut::with_capacity(64);
    w.put_i32(0);
    hdr.write(&mut w);
    body(&mut w);
    let len = (w.len() - 4) as i32;
    w[..4].copy_from_slice(&len.to_be_bytes());
    w.freeze()
}

fn read<T: JuteField>(r: &mut Reader) -> Result<T, ErrorCode> {
    T::read(r).map_err(|_| ErrorCode::MarshallingError)
}

/// A reply body, built by the read and write paths.
enum Body {
    None,
    Bytes(Bytes),
}

impl Body {
    fn of<T: JuteField>(rec: &T) -> Body {
        Body::Bytes(crate::jute::encode(rec))
    }
}

impl Core {
    pub fn new(cfg: CoreConfig, tree: DataTree, now: Now) -> Core {
        let first = session::first_session_id(cfg.server_id, now.wall_ms);
        Core {
            sessions: SessionTracker::new(cfg.tick_ms, first),
            last_zxid: tree.last_processed_zxid,
            next_container_check: now.mono_ms + cfg.container_check_interval_ms,
            cfg,
            tree,
            watches: WatchManager::new(),
            pending: Pending::default(),
            conns: BTreeMap::new(),
            session_conn: HashMap::new(),
            out: Vec::new(),
            stats: ServerStats::default(),
            started: now,
            in_flight: VecDeque::new(),
            to_log: Vec::new(),
            learner: None,
            leading: false,
        }
    }

    /// The core of a learner: writes go to the leader (see `learner`).
    pub fn new_learner(cfg: CoreConfig, tree: DataTree, now: Now) -> Core {
        let mut core = Core::new(cfg, tree, now);
        core.learner = Some(LearnerSide::default());
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
        if self.leading {
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
                    if let Some(c) = self.conns.get_mut(&conn) {
                        c.stats.responded(0, last, "SESS", now.mono_ms);
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

    pub fn last_zxid(&self) -> i64 {
        self.tree.last_processed_zxid
    }

    fn send(&mut self, conn: ConnId, f: Bytes) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.stats.packets_sent += 1;
            self.stats.packets_sent += 1;
            self.out.push((conn, Outbound::Frame(f)));
        }
    }

    fn close(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.get_mut(&conn) {
            if !c.closing {
                c.closing = true;
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
                queue: VecDeque::new(),
                stats: ConnStats {
                    established_ms: now.wall_ms,
                    last_op: "NA",
                    last_cxid: -1,
                    last_zxid: -1,
                    ..Default::default()
                },
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
        self.watches.remove_conn(conn);
    }

    /// Is the connection past its handshake?
    pub fn established(&self, conn: ConnId) -> bool {
        self.conns.get(&conn).is_some_and(|c| c.session != 0)
    }

    /// The handshake: a ConnectRequest, possibly followed by readOnly.
    pub fn connect(&mut self, conn: ConnId, frame_body: Bytes, now: Now) {
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
        self.stats.packets_received += 1;
        if let Some(c) = self.conns.get_mut(&conn) {
            c.sent_read_only = read_only.is_some();
            c.stats.packets_received += 1;
        }
        if req.last_zxid_seen > self.tree.last_processed_zxid {
            tracing::info!(
                conn,
                "refusing session: client has seen zxid 0x{:x}, ours is 0x{:x}",
                req.last_zxid_seen,
                self.tree.last_processed_zxid
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
                tree_digest: self.pending.digest_or(self.tree.digest()),
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
        self.send(conn, w.freeze());
        if !valid {
            self.close(conn);
        }
    }

    // ---- requests --------------------------------------------------------

    /// One request frame (after the handshake).
    pub fn request(&mut self, conn: ConnId, frame_body: Bytes, now: Now) {
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
        c.stats.packets_received += 1;
        self.stats.packets_received += 1;
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
        if let Some(l) = self.learner.as_mut() {
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
            op::PING
            | op::EXISTS
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
            | op::WHO_AM_I => {
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
        if let Some(c) = self.conns.get_mut(&conn) {
            c.stats.responded(xid, zxid, op_abbrev(type_), now_ms);
        }
        let hdr = ReplyHeader { xid, zxid, err };
        let f = frame(&hdr, |w| {
            if let Body::Bytes(b) = body {
                w.put_slice(&b);
            }
        });
        self.send(conn, f);
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
        let rc = self.tree.apply(&txn, &mut changes);
        if let Some(d) = &txn.digest {
            if d.tree_digest != self.tree.digest() {
                self.stats.digest_mismatches += 1;
                tracing::error!(
                    "digest mismatch at zxid 0x{:x}: prepared {}, tree {}",
                    txn.header.zxid,
                    d.tree_digest,
                    self.tree.digest()
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
        self.fire(&changes);
        rc
    }

    fn fire(&mut self, changes: &[Change]) {
        let mut fired = Vec::new();
        for ch in changes {
            self.watches.on_change(ch, &mut fired);
        }
        for f in fired {
            self.notify(f);
        }
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
        let hdr = ReplyHeader {
            xid: xid::NOTIFICATION,
            zxid: -1,
            err: 0,
        };
        let ev = WatcherEvent {
            type_: f.type_,
            state: state::SYNC_CONNECTED,
            path: f.path,
        };
        self.send(f.conn, frame(&hdr, |w| ev.write(w)));
    }

    fn write(&mut self, conn: ConnId, session: i64, h: RequestHeader, body: Bytes, now: Now) {
        let zxid = self.next_zxid();
        let auth = self
            .conns
            .get(&conn)
            .map(|c| c.auth.clone())
            .unwrap_or_default();
        let auth: &[Id] = &auth;
        let txn = Prep {
            tree: &self.tree,
            pending: &mut self.pending,
            sessions: &mut self.sessions,
            extended_types: self.cfg.extended_types,
        }
        .prep(session, h.xid, h.type_, body, auth, zxid, now.wall_ms);
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
            if let Some(c) = self.conns.get_mut(&conn) {
                c.stats.responded(xid::PING, hdr.zxid, "PING", at.mono_ms);
            }
            self.send(conn, frame(&hdr, |_| {}));
            return;
        }
        let session = self.conns.get(&conn).map_or(0, |c| c.session);
        let (err, body) = match self.read_op(conn, session, h.type_, body) {
            Ok(b) => (0, b),
            Err(e) => (e.code(), Body::None),
        };
        // Every reply echoes its request's xid, setWatches' too (Java 3.8
        // clients send it with an ordinary xid and check it comes back).
        self.reply(conn, h.xid, err, body, h.type_, at.mono_ms);
    }

    // ---- reads -----------------------------------------------------------

    fn node_acl_check(&self, path: &str, perm: i32, auth: &[Id]) -> Result<(), ErrorCode> {
        let n = self.tree.get(path).ok_or(ErrorCode::NoNode)?;
        acl::check(&n.acl, perm, auth)
    }

    fn get_data(
        &mut self,
        conn: ConnId,
        path: &str,
        watch: bool,
        auth: &[Id],
    ) -> Result<GetDataResponse, ErrorCode> {
        self.node_acl_check(path, perms::READ, auth)?;
        let n = self.tree.get(path).ok_or(ErrorCode::NoNode)?;
        let rsp = GetDataResponse {
            data: n.data.clone(),
            stat: self.tree.client_stat(n),
        };
        if watch {
            self.watches.data.add(path, conn, Mode::Standard);
        }
        Ok(rsp)
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
            .children
            .iteration_order()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let stat = self.tree.client_stat(n);
        if watch {
            self.watches.child.add(path, conn, Mode::Standard);
        }
        Ok((children, stat))
    }

    fn read_op(
        &mut self,
        conn: ConnId,
        session: i64,
        type_: i32,
        body: Bytes,
    ) -> Result<Body, ErrorCode> {
        let mut r = Reader::new(body);
        let auth = self
            .conns
            .get(&conn)
            .map(|c| c.auth.clone())
            .unwrap_or_default();
        let auth: &[Id] = &auth;
        match type_ {
            op::EXISTS => {
                let q: ExistsRequest = read(&mut r)?;
                if q.path.contains('\0') {
                    return Err(ErrorCode::BadArguments);
                }
                if q.watch {
                    self.watches.data.add(&q.path, conn, Mode::Standard);
                }
                let stat = self.tree.stat(&q.path).ok_or(ErrorCode::NoNode)?;
                Ok(Body::of(&ExistsResponse { stat }))
            }
            op::GET_DATA => {
                let q: GetDataRequest = read(&mut r)?;
                Ok(Body::of(&self.get_data(conn, &q.path, q.watch, auth)?))
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
                let mut acl: Vec<ACL> = n.acl.to_vec();
                // Without ADMIN, digest hashes are hidden.
                if acl::check(&n.acl, perms::ADMIN, auth).is_err() {
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
                self.watches.add_persistent(&q.path, conn, recursive);
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
                    let in_child =
                        child && self.watches.child.contains(&q.path, conn).map_err(bad)?;
                    let in_data = data && self.watches.data.contains(&q.path, conn).map_err(bad)?;
                    in_child | in_data
                } else {
                    (child && self.watches.child.remove(&q.path, conn))
                        | (data && self.watches.data.remove(&q.path, conn))
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
                        MultiOp::GetData(p) => self.get_data(conn, p, false, auth).map(|d| {
                            let mut b = BytesMut::new();
                            d.write(&mut b);
                            (op::GET_DATA, b)
                        }),
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
                Some(n) if n.stat.mzxid > rel_zxid => fired.push(ev(event::NODE_DATA_CHANGED, p)),
                Some(_) => self.watches.data.add(p, conn, Mode::Standard),
            }
        }
        for p in exist {
            if self.tree.get(p).is_some() {
                fired.push(ev(event::NODE_CREATED, p));
            } else {
                self.watches.data.add(p, conn, Mode::Standard);
            }
        }
        for p in child {
            match self.tree.get(p) {
                None => fired.push(ev(event::NODE_DELETED, p)),
                Some(n) if n.stat.pzxid > rel_zxid => {
                    fired.push(ev(event::NODE_CHILDREN_CHANGED, p))
                }
                Some(_) => self.watches.child.add(p, conn, Mode::Standard),
            }
        }
        for p in persistent {
            self.watches.add_persistent(p, conn, false);
        }
        for p in recursive {
            self.watches.add_persistent(p, conn, true);
        }
        for f in fired {
            self.notify(f);
        }
    }

    // ---- time ------------------------------------------------------------

    /// Expires sessions and runs the container manager.
    pub fn tick(&mut self, now: Now) {
        // A learner's sessions and containers are the leader's to reap.
        if self.is_learner() {
            return;
        }
        for id in self.sessions.expire_due(now.mono_ms) {
            tracing::info!("expiring session 0x{id:x}");
            self.internal_write(id, op::CLOSE_SESSION, Bytes::new(), now);
        }
        if now.mono_ms >= self.next_container_check {
            self.next_container_check = now.mono_ms + self.cfg.container_check_interval_ms;
            for p in self.container_candidates(now.wall_ms) {
                self.internal_write(0, op::DELETE_CONTAINER, Bytes::from(p.into_bytes()), now);
            }
        }
    }

    fn internal_write(&mut self, session: i64, type_: i32, body: Bytes, now: Now) {
        let zxid = self.next_zxid();
        let txn = Prep {
            tree: &self.tree,
            pending: &mut self.pending,
            sessions: &mut self.sessions,
            extended_types: self.cfg.extended_types,
        }
        .prep(session, 0, type_, body, &[], zxid, now.wall_ms);
        self.submit(txn, Origin::Internal);
    }

    /// Empty containers that once had children, and expired empty TTL nodes.
    fn container_candidates(&self, wall_ms: i64) -> Vec<String> {
        let mut out = Vec::new();
        for p in self.tree.containers() {
            if let Some(n) = self.tree.get(p) {
                if n.children.is_empty() && n.stat.cversion > 0 {
                    out.push(p.clone());
                }
            }
        }
        for p in self.tree.ttls() {
            if let Some(n) = self.tree.get(p) {
                let ttl = owner::ttl_of(n.stat.ephemeral_owner);
                if n.children.is_empty() && ttl != 0 && wall_ms - n.stat.mtime > ttl {
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

/// The op a write's reply is counted under: a write refused in prep shows
/// as lop=NA in Java's `cons`.
fn reply_lop(type_: i32, rc: &TxnResult) -> i32 {
    if rc.type_ == op::ERROR && type_ != op::MULTI {
        op::ERROR
    } else {
        type_
    }
}

/// The reply to a write, from the result of applying it.
fn write_reply(type_: i32, rc: &TxnResult) -> (i32, Body) {
    if rc.type_ == op::ERROR {
        return (rc.err, Body::None);
    }
    let stat = || rc.stat.clone().unwrap_or_default();
    let body = match type_ {
        op::CREATE => Body::of(&CreateResponse {
            path: rc.path.clone(),
        }),
        op::CREATE2 | op::CREATE_TTL | op::CREATE_CONTAINER => Body::of(&Create2Response {
            path: rc.path.clone(),
            stat: stat(),
        }),
        op::SET_DATA | op::CHECK => Body::of(&SetDataResponse { stat: stat() }),
        op::SET_ACL => Body::of(&SetACLResponse { stat: stat() }),
        op::MULTI => {
            let mut w = BytesMut::new();
            for sub in &rc.multi {
                let err = if sub.type_ == op::ERROR { sub.err } else { 0 };
                let hdr_type = match sub.type_ {
                    op::CREATE_TTL | op::CREATE_CONTAINER => op::CREATE2,
                    op::DELETE_CONTAINER => op::DELETE,
                    t => t,
                };
                MultiHeader {
                    type_: hdr_type,
                    done: false,
                    err,
                }
                .write(&mut w);
                match sub.type_ {
                    op::CREATE => CreateResponse {
                        path: sub.path.clone(),
                    }
                    .write(&mut w),
                    op::CREATE2 | op::CREATE_TTL | op::CREATE_CONTAINER => Create2Response {
                        path: sub.path.clone(),
                        stat: sub.stat.clone().unwrap_or_default(),
                    }
                    .write(&mut w),
                    op::SET_DATA => SetDataResponse {
                        stat: sub.stat.clone().unwrap_or_default(),
                    }
                    .write(&mut w),
                    op::ERROR => ErrorResponse { err: sub.err }.write(&mut w),
                    _ => {}
                }
            }
            MultiHeader {
                type_: -1,
                done: true,
                err: -1,
            }
            .write(&mut w);
            Body::Bytes(w.freeze())
        }
        _ => Body::None,
    };
    // A write that reached the tree but failed there (e.g. on replay) reports it.
    (if type_ == op::MULTI { 0 } else { rc.err }, body)
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

mod leader;
mod learner;
pub use learner::Forward;
use learner::LearnerSide;

#[cfg(test)]
mod learner_tests;
#[cfg(test)]
mod mangled_input_tests;
#[cfg(test)]
mod tests;
