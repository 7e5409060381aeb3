//! The leader's side of ZAB as a deterministic state machine: packets from
//! learners, the core's proposals and the time come in; packets to send,
//! connections to drop, epoch files to write and commits to apply come
//! out, in a [`Ready`]. No sockets, no disk, no clock: the driver does
//! those and calls in.
//!
//! It runs Java 3.8's Leader.lead and one LearnerHandler per connection:
//! - discovery: FOLLOWERINFO/OBSERVERINFO from each learner; once voters
//!   forming a quorum with us have connected, the new epoch is one past
//!   every accepted epoch seen, and LEADERINFO goes out; a quorum of
//!   ACKEPOCHs (us included) fixes it as the current epoch;
//! - synchronisation: each learner gets DIFF, TRUNC or SNAP
//!   ([`sync_plan`]; a learner behind the committed log may get a DIFF
//!   read from the on-disk txn log, which the driver lends through a
//!   [`TxnLogSource`]), the proposals still outstanding, then NEWLEADER; a
//!   quorum of NEWLEADER acks establishes the leader, and UPTODATE follows;
//! - broadcast: PROPOSAL to followers, commit in zxid order once a quorum
//!   of voters acked, COMMIT to followers and INFORM to observers, SYNC
//!   answers once what was proposed before them is committed;
//! - liveness: PINGs twice a tick, learners dropped when silent, and the
//!   leadership given up when the synced voters are no longer a quorum.
//!
//! Submodules: `handshake` (phases 1 and 2 per connection), `broadcast`
//! (phase 3 and the half-tick loop), [`sync_plan`] (the DIFF/TRUNC/SNAP
//! choice).
//!
//! Where this differs from Java on purpose: an unknown sid, a FOLLOWERINFO
//! from an observer or an OBSERVERINFO from a voter, and a protocol older
//! than ZAB 1.0 close the connection (Java lets them connect uncounted); a
//! follower ahead of the leader at ACKEPOCH makes the leader give up (Java
//! drops only that connection); a learner that connects again with the
//! same sid replaces its old connection; a packet type that makes no sense
//! from a learner (FOLLOWERINFO after the handshake, a PROPOSAL, ...)
//! closes its connection (Java ignores it; unknown types are still only
//! logged); a proposal whose quorum is complete commits as soon as the
//! proposals before it did (Java waits for its next ack); a DIFF from the
//! on-disk txn log also stops, for a SNAP, once what it takes from the
//! disk exceeds the size limit (see [`sync_plan`]).

mod broadcast;
mod handshake;
pub mod sync_plan;
#[cfg(test)]
mod tests;

pub use sync_plan::{NoTxnLog, TxnLogRead, TxnLogSource};

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use bytes::Bytes;

use crate::jute::quorum::QuorumPacket;
use crate::quorum::verifier::QuorumVerifier;
use crate::quorum::zab::packet::{self, kind};
use crate::quorum::zab::zxid;
use crate::txn::Txn;

/// A connection handle the driver assigns to each accepted quorum-port
/// connection (not the learner's sid).
pub type PeerId = u64;

pub struct LeaderConfig {
    pub my_id: u64,
    pub verifier: QuorumVerifier,
    pub tick_ms: i64,
    pub init_limit: i64,
    pub sync_limit: i64,
    /// Java's commitLogCount: committed proposals kept for DIFF syncs.
    pub commit_log_count: usize,
    /// zookeeper.forceSnapshotSync: every learner gets a SNAP.
    pub force_snap_sync: bool,
    /// The leader's own epoch files.
    pub accepted_epoch: i64,
    pub current_epoch: i64,
    /// The leader's last logged (and, at start, applied) zxid.
    pub last_zxid: i64,
}

/// One thing to send to a learner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    Packet(QuorumPacket),
    /// SNAP: the driver sends the SNAP packet with zxid = the leader tree's
    /// last processed zxid, then streams the tree's snapshot, at this
    /// point of the peer's packet order. The tree then reflects every txn
    /// committed so far (exactly, if the driver applies a Ready's commits
    /// after sending its packets, or takes a Ready after every call; any
    /// later txns in it are re-applied by the learner, as with Java's fuzzy
    /// snapshots).
    Snap,
}

/// What the driver must do after a call.
#[derive(Debug, Default)]
pub struct Ready {
    /// In order per peer.
    pub send: Vec<(PeerId, Outgoing)>,
    /// Drop these connections (the reason is for the log).
    pub close: Vec<(PeerId, String)>,
    /// Durable before any of `send` goes out.
    pub write_accepted_epoch: Option<i64>,
    pub write_current_epoch: Option<i64>,
    /// The new epoch: a quorum acked NEWLEADER; the core may start serving
    /// and proposing.
    pub established: Option<i64>,
    /// Apply every proposed txn up to and including this zxid, in order.
    pub commit: Option<i64>,
    /// REQUEST, REVALIDATE and PING replies of synced learners, for the
    /// core, with the learner's sid (PING replies carry session touches:
    /// `packet::parse_touches`; their data has been checked).
    pub from_learners: Vec<(PeerId, u64, QuorumPacket)>,
    /// Lost quorum, or the epoch or NEWLEADER acks did not come in time:
    /// the leader must stop and go back to LOOKING. Every connection is
    /// in `close` too.
    pub give_up: Option<String>,
}

/// The leader's own progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for voters forming a quorum to send FOLLOWERINFO.
    Discovery,
    /// The epoch is proposed; waiting for a quorum of ACKEPOCHs.
    EpochAcks,
    /// Learners are syncing; waiting for a quorum of NEWLEADER acks.
    NewLeaderAcks,
    /// Established: broadcasting.
    Broadcast,
    /// Gave up; nothing more happens.
    Stopped,
}

/// Where one learner connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Nothing received yet: FOLLOWERINFO or OBSERVERINFO expected.
    Info,
    /// Registered; the epoch is not decided yet.
    AwaitEpoch,
    /// LEADERINFO sent; ACKEPOCH expected.
    AwaitAckEpoch,
    /// ACKEPOCH received; waiting for a quorum of them.
    AwaitEpochQuorum,
    /// Sync and NEWLEADER queued; its ACK expected.
    AwaitNewLeaderAck,
    /// NEWLEADER acked; waiting for the leader to be established.
    AwaitStart,
    /// UPTODATE sent: broadcast.
    UpToDate,
}

#[derive(Debug)]
struct Learner {
    /// Known from the first packet on.
    sid: Option<u64>,
    observer: bool,
    stage: Stage,
    /// When a packet last came from it.
    last_heard_ms: i64,
    /// Java's tickOfNextAckDeadline, in ms: counted as synced until then.
    ack_deadline_ms: i64,
    peer_last_zxid: i64,
    /// Receives the broadcast (Java's forwardingFollowers or
    /// observingLearners), from its sync plan on.
    forwarding: bool,
    /// REQUEST, REVALIDATE and PING replies that came before UPTODATE
    /// was sent (Java reads them only then).
    held: Vec<QuorumPacket>,
    /// Proposals sent since its NEWLEADER ack and not acked yet, with the
    /// time sent (Java's SyncLimitCheck).
    unacked: Option<VecDeque<(i64, i64)>>,
}

impl Learner {
    fn is_follower(&self) -> bool {
        self.sid.is_some() && !self.observer
    }
}

struct Proposal {
    packet: QuorumPacket,
    acks: BTreeSet<u64>,
}

pub struct Leader {
    cfg: LeaderConfig,
    /// The NEWLEADER data: the config text Java sends.
    config_bytes: Bytes,
    phase: Phase,
    /// When the current pre-broadcast wait times out.
    phase_deadline_ms: i64,
    /// The epoch being worked out (Java's Leader.epoch).
    epoch_candidate: i64,
    new_epoch: Option<i64>,
    /// Voters that sent their accepted epoch (us included).
    connecting: BTreeSet<u64>,
    /// Voters that acked the epoch (us included).
    electing: BTreeSet<u64>,
    /// Voters that acked NEWLEADER (us included).
    newleader_acks: BTreeSet<u64>,
    learners: BTreeMap<PeerId, Learner>,
    /// The last committed txns as PROPOSAL packets, oldest first.
    committed_log: VecDeque<QuorumPacket>,
    /// The on-disk txn log, for learners behind `committed_log`.
    txn_log: Box<dyn TxnLogSource + Send>,
    /// Proposed, not yet committed, by zxid.
    outstanding: BTreeMap<i64, Proposal>,
    last_proposed: i64,
    last_committed: i64,
    /// The leader tree's last processed zxid (what a SNAP carries).
    last_processed: i64,
    /// SYNC answers waiting for the commit of a zxid.
    pending_syncs: BTreeMap<i64, Vec<(PeerId, QuorumPacket)>>,
    next_half_tick_ms: Option<i64>,
    tick_skip: bool,
    /// The latest time seen (for calls that carry none).
    now_ms: i64,
    proposal_sizes: Option<(usize, usize, usize)>,
    ready: Ready,
}

impl Leader {
    /// `committed_log`: the tail of the leader's logged history, oldest
    /// first (at most `commit_log_count` are kept).
    pub fn new(cfg: LeaderConfig, committed_log: Vec<Txn>, now_ms: i64) -> Leader {
        let mut log: VecDeque<QuorumPacket> = committed_log.iter().map(packet::proposal).collect();
        while log.len() > cfg.commit_log_count {
            log.pop_front();
        }
        let config_bytes = Bytes::from(cfg.verifier.config_string().into_bytes());
        let deadline = now_ms + cfg.init_limit * cfg.tick_ms;
        let mut l = Leader {
            config_bytes,
            phase: Phase::Discovery,
            phase_deadline_ms: deadline,
            epoch_candidate: cfg.accepted_epoch + 1,
            new_epoch: None,
            connecting: BTreeSet::new(),
            electing: BTreeSet::new(),
            newleader_acks: BTreeSet::new(),
            learners: BTreeMap::new(),
            committed_log: log,
            txn_log: Box::new(NoTxnLog),
            outstanding: BTreeMap::new(),
            last_proposed: cfg.last_zxid,
            last_committed: cfg.last_zxid,
            last_processed: cfg.last_zxid,
            pending_syncs: BTreeMap::new(),
            next_half_tick_ms: None,
            tick_skip: true,
            now_ms,
            proposal_sizes: None,
            ready: Ready::default(),
            cfg,
        };
        if l.cfg.verifier.is_voter(l.cfg.my_id) {
            l.connecting.insert(l.cfg.my_id);
        }
        l.try_decide_epoch(now_ms);
        l
    }

    /// The on-disk txn log a learner behind the committed log is synced
    /// from (by default none: such a learner gets a SNAP). Read during the
    /// call that starts that learner's sync.
    pub fn with_txn_log(mut self, txn_log: Box<dyn TxnLogSource + Send>) -> Leader {
        self.txn_log = txn_log;
        self
    }

    // ---- the driver's calls ---------------------------------------------

    pub fn connected(&mut self, peer: PeerId, now_ms: i64) {
        self.now_ms = self.now_ms.max(now_ms);
        if self.phase == Phase::Stopped {
            self.ready
                .close
                .push((peer, "the leader has stopped".to_string()));
            return;
        }
        let limits = (self.cfg.init_limit + self.cfg.sync_limit) * self.cfg.tick_ms;
        self.learners.insert(
            peer,
            Learner {
                sid: None,
                observer: false,
                stage: Stage::Info,
                last_heard_ms: now_ms,
                ack_deadline_ms: now_ms + limits,
                peer_last_zxid: -1,
                forwarding: false,
                held: Vec::new(),
                unacked: None,
            },
        );
    }

    pub fn receive(&mut self, peer: PeerId, p: QuorumPacket, now_ms: i64) {
        self.now_ms = self.now_ms.max(now_ms);
        if self.phase == Phase::Stopped {
            return;
        }
        let Some(l) = self.learners.get_mut(&peer) else {
            tracing::debug!(
                "{} from closed connection {peer} ignored",
                kind::name(p.type_)
            );
            return;
        };
        l.last_heard_ms = now_ms;
        match l.stage {
            Stage::Info => self.on_info(peer, p, now_ms),
            Stage::AwaitAckEpoch => self.on_ack_epoch(peer, p, now_ms),
            Stage::AwaitNewLeaderAck => self.on_newleader_ack(peer, p, now_ms),
            Stage::AwaitStart | Stage::UpToDate => self.on_broadcast_packet(peer, p, now_ms),
            Stage::AwaitEpoch | Stage::AwaitEpochQuorum => {
                let what = format!(
                    "unexpected {} while waiting for the epoch",
                    kind::name(p.type_)
                );
                self.close(peer, what);
            }
        }
    }

    pub fn disconnected(&mut self, peer: PeerId) {
        if let Some(l) = self.learners.remove(&peer) {
            tracing::info!("learner {:?} (connection {peer}) disconnected", l.sid);
        }
        self.forget(peer);
    }

    /// The leader's core prepared a txn (zxids strictly increasing, of the
    /// new epoch). Only valid once established.
    pub fn propose(&mut self, txn: Txn) {
        if self.phase != Phase::Broadcast {
            tracing::error!(
                "proposal 0x{:x} while not established, dropped",
                txn.header.zxid
            );
            return;
        }
        let z = txn.header.zxid;
        if zxid::counter_of(z) == 0xffff_ffff {
            self.give_up(
                "zxid lower 32 bits have rolled over, forcing re-election, and therefore new epoch start"
                    .into(),
            );
            return;
        }
        if z <= self.last_proposed || Some(zxid::epoch_of(z)) != self.new_epoch {
            self.give_up(format!(
                "proposal 0x{z:x} does not follow 0x{:x} in epoch {:?}",
                self.last_proposed, self.new_epoch
            ));
            return;
        }
        let p = packet::proposal(&txn);
        let size = p.data.as_ref().map_or(0, |d| d.len());
        self.proposal_sizes = Some(match self.proposal_sizes {
            None => (size, size, size),
            Some((_, min, max)) => (size, min.min(size), max.max(size)),
        });
        self.last_proposed = z;
        let now = self.now_ms;
        let mut to = Vec::new();
        for (&peer, l) in self.learners.iter_mut() {
            if l.forwarding && l.is_follower() {
                if let Some(u) = l.unacked.as_mut() {
                    u.push_back((z, now));
                }
                to.push(peer);
            }
        }
        for peer in to {
            self.push(peer, p.clone());
        }
        self.outstanding.insert(
            z,
            Proposal {
                packet: p,
                acks: BTreeSet::new(),
            },
        );
    }

    /// The leader's own log has made every proposal up to `zxid` durable.
    pub fn local_durable(&mut self, zxid: i64) {
        if self.phase != Phase::Broadcast {
            return;
        }
        let me = self.cfg.my_id;
        if !self.cfg.verifier.is_voter(me) {
            return;
        }
        for (_, p) in self.outstanding.range_mut(..=zxid) {
            p.acks.insert(me);
        }
        self.commit_ready();
    }

    /// A learner's SYNC: `reply` goes to `peer` once every txn proposed so
    /// far is committed.
    pub fn sync(&mut self, peer: PeerId, reply: QuorumPacket) {
        if !self.learners.contains_key(&peer) {
            return;
        }
        if self.outstanding.is_empty() {
            self.push(peer, reply);
        } else {
            self.pending_syncs
                .entry(self.last_proposed)
                .or_default()
                .push((peer, reply));
        }
    }

    /// A packet for a learner (REVALIDATE answers).
    pub fn send(&mut self, peer: PeerId, p: QuorumPacket) {
        if self.learners.contains_key(&peer) {
            self.push(peer, p);
        }
    }

    pub fn tick(&mut self, now_ms: i64) {
        self.now_ms = self.now_ms.max(now_ms);
        let limit = |ticks: i64, tick_ms: i64| ticks * tick_ms;
        match self.phase {
            Phase::Stopped => return,
            Phase::Discovery | Phase::EpochAcks | Phase::NewLeaderAcks
                if now_ms >= self.phase_deadline_ms =>
            {
                let reason = match self.phase {
                    Phase::Discovery => "Timeout while waiting for epoch from quorum".to_string(),
                    Phase::EpochAcks => {
                        "Timeout while waiting for epoch to be acked by quorum".to_string()
                    }
                    _ => format!(
                        "Waiting for a quorum of followers, only synced with sids: [ {} ]",
                        sids(&self.newleader_acks)
                    ),
                };
                self.give_up(reason);
                return;
            }
            _ => {}
        }
        let init = limit(self.cfg.init_limit, self.cfg.tick_ms);
        let sync = limit(self.cfg.sync_limit, self.cfg.tick_ms);
        let silent: Vec<(PeerId, String)> = self
            .learners
            .iter()
            .filter_map(|(&peer, l)| {
                let (allowed, what) = if l.stage == Stage::UpToDate {
                    (sync, "syncLimit")
                } else {
                    (init, "initLimit")
                };
                (now_ms - l.last_heard_ms > allowed).then(|| {
                    (
                        peer,
                        format!("nothing from learner {:?} for {what} ({allowed} ms)", l.sid),
                    )
                })
            })
            .collect();
        for (peer, why) in silent {
            self.close(peer, why);
        }
        if let Some(at) = self.next_half_tick_ms {
            if now_ms >= at {
                let half = (self.cfg.tick_ms / 2).max(1);
                let mut next = at + half;
                if next <= now_ms {
                    next = now_ms + half;
                }
                self.next_half_tick_ms = Some(next);
                self.half_tick(now_ms);
            }
        }
    }

    /// When `tick` next has something to do.
    pub fn next_deadline(&self) -> Option<i64> {
        let mut at: Option<i64> = match self.phase {
            Phase::Stopped => return None,
            Phase::Broadcast => self.next_half_tick_ms,
            _ => Some(self.phase_deadline_ms),
        };
        let init = self.cfg.init_limit * self.cfg.tick_ms;
        let sync = self.cfg.sync_limit * self.cfg.tick_ms;
        for l in self.learners.values() {
            let allowed = if l.stage == Stage::UpToDate {
                sync
            } else {
                init
            };
            let t = l.last_heard_ms + allowed + 1;
            at = Some(at.map_or(t, |a| a.min(t)));
        }
        at
    }

    pub fn take_ready(&mut self) -> Ready {
        std::mem::take(&mut self.ready)
    }

    /// The new epoch, once decided.
    pub fn epoch(&self) -> Option<i64> {
        self.new_epoch
    }

    pub fn is_established(&self) -> bool {
        self.phase == Phase::Broadcast
    }

    /// Whether the leader gave up.
    pub fn is_stopped(&self) -> bool {
        self.phase == Phase::Stopped
    }

    // ---- for mntr ---------------------------------------------------------

    /// Learner connections (zk_learners).
    pub fn learner_count(&self) -> usize {
        self.learners.len()
    }

    /// Followers receiving the broadcast (zk_synced_followers).
    pub fn synced_followers(&self) -> usize {
        self.learners
            .values()
            .filter(|l| l.forwarding && l.is_follower())
            .count()
    }

    /// Observers receiving INFORMs (zk_synced_observers).
    pub fn synced_observers(&self) -> usize {
        self.learners
            .values()
            .filter(|l| l.forwarding && l.observer)
            .count()
    }

    /// Zxids with SYNC answers waiting (zk_pending_syncs).
    pub fn pending_syncs(&self) -> usize {
        self.pending_syncs.len()
    }

    pub fn outstanding_proposals(&self) -> usize {
        self.outstanding.len()
    }

    pub fn last_proposed(&self) -> i64 {
        self.last_proposed
    }

    pub fn last_committed(&self) -> i64 {
        self.last_committed
    }

    /// Sizes of the proposals' data: (last, min, max)
    /// (zk_last/min/max_proposal_size).
    pub fn proposal_sizes(&self) -> Option<(usize, usize, usize)> {
        self.proposal_sizes
    }

    /// (connection, sid, observer) of every learner that said who it is.
    pub fn learners(&self) -> Vec<(PeerId, u64, bool)> {
        self.learners
            .iter()
            .filter_map(|(&p, l)| l.sid.map(|s| (p, s, l.observer)))
            .collect()
    }

    // ---- helpers --------------------------------------------------------------

    fn push(&mut self, peer: PeerId, p: QuorumPacket) {
        self.ready.send.push((peer, Outgoing::Packet(p)));
    }

    /// Drops a connection: nothing more is sent to it.
    fn close(&mut self, peer: PeerId, why: String) {
        if let Some(l) = self.learners.remove(&peer) {
            tracing::warn!("closing learner {:?} (connection {peer}): {why}", l.sid);
            self.ready.close.push((peer, why));
        }
        self.forget(peer);
    }

    fn forget(&mut self, peer: PeerId) {
        self.ready.send.retain(|(p, _)| *p != peer);
        for waiting in self.pending_syncs.values_mut() {
            waiting.retain(|(p, _)| *p != peer);
        }
        self.pending_syncs.retain(|_, w| !w.is_empty());
    }
}

fn sids(s: &BTreeSet<u64>) -> String {
    s.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(",")
}
