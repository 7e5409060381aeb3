//! The core on a learner (a ZAB follower or observer): clients are served
//! here, but every write goes to the leader.
//!
//! A learner never prepares a transaction. A client's write, a new
//! session's creation, a closeSession and a sync travel to the leader as
//! REQUEST packets (`take_forwards`); the leader prepares them and, once a
//! quorum has logged them, commits them back to every server, this one
//! included (`apply_committed`). The committed txn carries the client's
//! session id and cxid, which is how this server knows the txn answers
//! one of its own clients (Java's CommitProcessor matches them the same
//! way). Sessions are the leader's: a learner neither expires sessions
//! nor runs the container manager, it only reports which of its sessions
//! were active (`take_touches`, sent with every PING reply), and asks the
//! leader before re-attaching a session (REVALIDATE).

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};

use super::{Core, CoreRole, Now, Queued};
use crate::fasthash::HashMap;
use crate::jute::data::Id;
use crate::jute::proto::{RequestHeader, SyncRequest, SyncResponse};
use crate::jute::{JuteField, Reader};
use crate::proto::op;
use crate::server::reply::{reply_lop, write_reply, Body};
use crate::txn::Txn;
use crate::watch::ConnId;

/// Something a learner sends the leader for its clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forward {
    /// A REQUEST packet: a client's request (or a new session) for the
    /// leader to prepare.
    Request {
        session: i64,
        cxid: i32,
        type_: i32,
        body: Bytes,
        auth: Arc<Vec<Id>>,
    },
    /// A REVALIDATE packet: may this session re-attach here?
    Revalidate { session: i64, timeout_ms: i32 },
    /// An ACK: the proposal with this zxid is durable here.
    Ack(i64),
}

/// The learner's part of the core.
#[derive(Debug, Default)]
pub struct LearnerSide {
    /// Packets for the leader, in order.
    forwards: Vec<Forward>,
    /// Sessions that made requests since the last PING reply, with their
    /// timeouts (Java's LearnerSessionTracker touch table).
    touched: HashMap<i64, i32>,
    /// Connections waiting for the leader's word on their session.
    revalidating: HashMap<i64, ConnId>,
    /// Forwarded syncs, oldest first, with the path to echo: the leader
    /// answers them in order.
    syncs: VecDeque<(ConnId, i32, String)>,
    /// Proposals handed to the log and not yet committed, in zxid order
    /// (Java's pendingTxns): a COMMIT names the first of them.
    proposals: VecDeque<Txn>,
    /// Zxids of proposals handed to the log and not yet acked.
    unacked: VecDeque<i64>,
}

impl LearnerSide {
    pub(super) fn touch(&mut self, session: i64, timeout_ms: i32) {
        self.touched.insert(session, timeout_ms);
    }
}

/// The body of a forwarded createSession: the negotiated timeout.
fn create_session_body(timeout_ms: i32) -> Bytes {
    let mut b = BytesMut::with_capacity(4);
    b.put_i32(timeout_ms);
    b.freeze()
}

impl Core {
    /// Is this the core of a learner?
    pub fn is_learner(&self) -> bool {
        matches!(self.role, CoreRole::Learner(_))
    }

    /// Packets to send the leader, in the order they were made.
    pub fn take_forwards(&mut self) -> Vec<Forward> {
        self.role
            .learner()
            .map(|l| std::mem::take(&mut l.forwards))
            .unwrap_or_default()
    }

    /// The sessions active since the last call, for a PING reply.
    pub fn take_touches(&mut self, now: Now) -> Vec<(i64, i32)> {
        self.sweep_touches(now);
        let Some(l) = self.role.learner() else {
            return Vec::new();
        };
        let mut v: Vec<(i64, i32)> = l.touched.drain().collect();
        v.sort_unstable();
        v
    }

    /// A client's request goes to the leader; its reply waits for the
    /// commit (or, for a sync, the leader's SYNC).
    pub(super) fn forward(&mut self, conn: ConnId, session: i64, h: RequestHeader, body: Bytes) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let auth = c.auth.clone();
        c.queue.push_back(Queued::Forwarded {
            cxid: h.xid,
            type_: h.type_,
        });
        let Some(l) = self.role.learner() else {
            return;
        };
        if h.type_ == op::SYNC {
            let path = SyncRequest::read(&mut Reader::new(body.clone()))
                .map(|r| r.path)
                .unwrap_or_default();
            l.syncs.push_back((conn, h.xid, path));
        }
        l.forwards.push(Forward::Request {
            session,
            cxid: h.xid,
            type_: h.type_,
            body,
            auth,
        });
    }

    /// A new session: its id is made here (this server's id in the top
    /// byte), its creation is the leader's.
    pub(super) fn forward_create_session(
        &mut self,
        conn: ConnId,
        id: i64,
        timeout_ms: i32,
        now: Now,
    ) {
        // Tracked at once, so requests pipelined behind the handshake queue
        // up behind the session's creation instead of being dropped.
        self.sessions.add(id, timeout_ms, now.mono_ms);
        self.attach(conn, id);
        let h = RequestHeader {
            xid: 0,
            type_: op::CREATE_SESSION,
        };
        self.forward(conn, id, h, create_session_body(timeout_ms));
    }

    /// A client re-attaching a session whose password checked out: the
    /// leader decides whether it still lives.
    pub(super) fn revalidate(&mut self, conn: ConnId, session: i64, timeout_ms: i32) {
        let Some(l) = self.role.learner() else {
            return;
        };
        l.revalidating.insert(session, conn);
        l.forwards.push(Forward::Revalidate {
            session,
            timeout_ms,
        });
    }

    /// The leader's answer to a REVALIDATE.
    pub fn revalidated(&mut self, session: i64, valid: bool, now: Now) {
        let Some(conn) = self
            .role
            .learner()
            .and_then(|l| l.revalidating.remove(&session))
        else {
            return;
        };
        if !self.accepting(conn) {
            return;
        }
        if valid {
            self.attach(conn, session);
            let timeout = self.conns.get(&conn).map_or(0, |c| c.timeout_ms);
            if let Some(l) = self.role.learner() {
                l.touch(session, timeout);
            }
        } else {
            tracing::info!("the leader refused to re-attach session 0x{session:x}");
        }
        let last = self.last_zxid();
        if let Some(c) = self.conns.get_mut(&conn) {
            c.shared.stats().responded(0, last, "SESS", now.mono_ms);
        }
        self.finish_connect(conn, valid);
    }

    /// The leader has answered this server's oldest outstanding sync: every
    /// txn committed before it was asked has been applied here.
    pub fn sync_done(&mut self, now: Now) {
        let Some((conn, cxid, path)) = self.role.learner().and_then(|l| l.syncs.pop_front()) else {
            tracing::warn!("the leader answered a sync nobody asked for");
            return;
        };
        let body = Body::of(&SyncResponse { path });
        self.finish_forwarded(conn, cxid, 0, body, op::SYNC, now);
    }

    /// A PROPOSAL from the leader: logged, acked once durable, applied on
    /// its COMMIT. An observer (`ack` false) logs without acking.
    pub fn proposed(&mut self, txn: Txn, ack: bool) {
        let Some(l) = self.role.learner() else {
            return;
        };
        if ack {
            l.unacked.push_back(txn.header.zxid);
        }
        l.proposals.push_back(txn.clone());
        self.to_log.push(txn);
    }

    /// A proposal the sync logged already (at NEWLEADER): acked at once,
    /// applied on its COMMIT, not logged again.
    pub fn proposed_logged(&mut self, txn: Txn, ack: bool) {
        let Some(l) = self.role.learner() else {
            return;
        };
        if ack {
            l.forwards.push(Forward::Ack(txn.header.zxid));
        }
        l.proposals.push_back(txn);
    }

    /// The log has made everything up to `zxid` durable: ack it.
    pub(super) fn learner_durable(&mut self, zxid: i64) {
        let Some(l) = self.role.learner() else {
            return;
        };
        while l.unacked.front().is_some_and(|z| *z <= zxid) {
            if let Some(z) = l.unacked.pop_front() {
                l.forwards.push(Forward::Ack(z));
            }
        }
    }

    /// A COMMIT: applies the oldest pending proposal, which it must name
    /// (else this learner has lost track of the leader, and must resync).
    pub fn commit_zxid(&mut self, zxid: i64, now: Now) -> Result<(), String> {
        let Some(l) = self.role.learner() else {
            return Err("not a learner".into());
        };
        match l.proposals.front() {
            Some(t) if t.header.zxid == zxid => {}
            Some(t) => {
                return Err(format!(
                    "committing 0x{zxid:x}, but the oldest pending proposal is 0x{:x}",
                    t.header.zxid
                ))
            }
            None => {
                tracing::warn!("committing 0x{zxid:x} with no pending proposal");
                return Ok(());
            }
        }
        if let Some(txn) = l.proposals.pop_front() {
            // FollowerZooKeeperServer.commit, Observer's INFORM.
            let latency = &crate::quorum::metrics::COMMIT_PROPAGATION_LATENCY;
            crate::quorum::metrics::log_latency(latency, now.wall_ms, txn.header.time);
            self.apply_committed(txn, now);
        }
        Ok(())
    }

    /// Applies a txn the leader committed, and answers it if one of this
    /// server's clients asked for it.
    pub fn apply_committed(&mut self, txn: Txn, now: Now) {
        let session = txn.header.client_id;
        let cxid = txn.header.cxid;
        let txn_type = txn.header.type_;
        let rc = self.commit(txn);
        let Some(conn) = self.session_conn.get(&session).copied() else {
            return;
        };
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let asked = match c.queue.front() {
            Some(Queued::Forwarded { cxid: q, type_ }) if *q == cxid => Some(*type_),
            _ => None,
        };
        match asked {
            Some(op::CREATE_SESSION) => {
                tracing::info!("established session 0x{session:x}");
                let last = self.last_zxid();
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.queue.pop_front();
                    c.shared.stats().responded(0, last, "SESS", now.mono_ms);
                }
                self.finish_connect(conn, true);
                self.run_queued_reads(conn);
            }
            Some(type_) => {
                let (err, body) = write_reply(type_, &rc);
                self.finish_forwarded(conn, cxid, err, body, reply_lop(type_, &rc), now);
                if type_ == op::CLOSE_SESSION {
                    self.close(conn);
                }
            }
            None => {
                // Another server's client, or this session expired by the
                // leader: its connection goes once the close is applied.
                if txn_type == op::CLOSE_SESSION {
                    self.close(conn);
                }
            }
        }
    }

    /// Replies to the forwarded request at the head of a connection's
    /// queue, then runs the reads that waited for it.
    fn finish_forwarded(
        &mut self,
        conn: ConnId,
        cxid: i32,
        err: i32,
        body: Body,
        lop: i32,
        now: Now,
    ) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        match c.queue.front() {
            Some(Queued::Forwarded { cxid: q, .. }) if *q == cxid => {
                c.queue.pop_front();
            }
            _ => {
                tracing::warn!(conn, cxid, "a forwarded request finished out of order");
                c.queue
                    .retain(|q| !matches!(q, Queued::Forwarded { cxid: x, .. } if *x == cxid));
            }
        }
        self.reply(conn, cxid, err, body, lop, now.mono_ms);
        self.run_queued_reads(conn);
    }
}
