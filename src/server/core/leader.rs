//! The core on a ZAB leader: it prepares every write in the ensemble, its
//! own clients' and those its learners forward, and applies them once a
//! quorum has logged them.
//!
//! Prepared txns still go down the log stage (`take_log`), and to the
//! learners as proposals; the log's durability is only this server's ack,
//! and the commit comes from the ZAB leader (`committed`). Sessions are
//! all tracked here: learners report their clients' activity in PING
//! replies (`touch_sessions`) and ask before re-attaching one
//! (`revalidate_session`).

use std::sync::Arc;

use bytes::{Buf, Bytes};

use super::{Core, CoreRole, Now, Origin};
use crate::jute::data::Id;
use crate::proto::op;
use crate::quorum::zab::zxid;
use crate::server::prep::Prep;
use crate::session::Owner;
use crate::tree::DataTree;

impl Core {
    /// The core of a ZAB leader (serving once `begin_epoch` says so).
    pub fn new_leader(cfg: super::CoreConfig, tree: DataTree, now: Now) -> Core {
        let mut core = Core::new(cfg, tree, now);
        core.role = CoreRole::Leader;
        core
    }

    /// The leader is established in `epoch`: its zxids count from the
    /// start of it, and (as Java's Leader.startZkServer has it) so does
    /// the tree's last processed zxid, which clients and `srvr` see.
    pub fn begin_epoch(&mut self, epoch: i64) {
        self.last_zxid = zxid::make(epoch, 0);
        let mut tree = self.db.tree_mut();
        tree.last_processed_zxid = tree.last_processed_zxid.max(self.last_zxid);
    }

    pub fn is_leader(&self) -> bool {
        matches!(self.role, CoreRole::Leader)
    }

    /// Every txn prepared up to `zxid` is committed: apply and answer.
    pub fn committed(&mut self, zxid: i64, now: Now) {
        // Leader.tryToCommit's latency and Leader.commit's count, per txn.
        for f in self
            .in_flight
            .iter()
            .take_while(|f| f.txn.header.zxid <= zxid)
        {
            use crate::quorum::metrics;
            metrics::COMMIT_COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            metrics::log_latency(&metrics::QUORUM_ACK_LATENCY, now.wall_ms, f.txn.header.time);
        }
        self.apply_through(zxid, now);
    }

    /// A request learner `learner` forwarded for one of its clients:
    /// prepared here, answered there (when the learner applies the commit).
    #[allow(clippy::too_many_arguments)]
    pub fn remote_request(
        &mut self,
        learner: u64,
        session: i64,
        cxid: i32,
        type_: i32,
        body: Bytes,
        auth: Arc<Vec<Id>>,
        now: Now,
    ) {
        if type_ == op::CREATE_SESSION {
            let mut b = body;
            if b.remaining() < 4 {
                tracing::warn!("a forwarded createSession without a timeout; ignored");
                return;
            }
            let timeout = b.get_i32();
            self.sessions.add(session, timeout, now.mono_ms);
            self.sessions.set_owner(session, Owner::Learner(learner));
            let txn = self.create_session_txn(session, timeout, now);
            return self.submit(txn, Origin::Internal);
        }
        let timeout = self.sessions.get(session).map_or(0, |s| s.timeout_ms);
        if !self.sessions.touch(session, timeout, now.mono_ms) && type_ != op::CLOSE_SESSION {
            tracing::debug!("dropping a forwarded request of expired session 0x{session:x}");
            return;
        }
        let zxid = self.next_zxid();
        let txn = {
            let tree = self.db.tree();
            Prep {
                tree: &tree,
                pending: &mut self.pending,
                sessions: &mut self.sessions,
                extended_types: self.cfg.extended_types,
                owner: Owner::Learner(learner),
            }
            .prep(session, cxid, type_, body, &auth, zxid, now.wall_ms)
        };
        self.submit(txn, Origin::Internal);
    }

    /// Learner `learner` asks whether `session` may re-attach there; it
    /// may if it lives (and then it is touched, and owned by that learner).
    pub fn revalidate_session(
        &mut self,
        learner: u64,
        session: i64,
        timeout_ms: i32,
        now: Now,
    ) -> bool {
        let valid = self.sessions.touch(session, timeout_ms, now.mono_ms);
        if valid {
            self.sessions.set_owner(session, Owner::Learner(learner));
        }
        valid
    }

    /// Sessions a learner's clients kept alive since its last PING reply.
    pub fn touch_sessions(&mut self, touches: &[(i64, i32)], now: Now) {
        for (id, timeout) in touches {
            self.sessions.touch(*id, *timeout, now.mono_ms);
        }
    }
}
