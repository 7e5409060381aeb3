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
//!   ([`sync_plan`]), the proposals still outstanding, then NEWLEADER; a
//!   quorum of NEWLEADER acks establishes the leader, and UPTODATE follows;
//! - broadcast: PROPOSAL to followers, commit in zxid order once a quorum
//!   of voters acked, COMMIT to followers and INFORM to observers, SYNC
//!   answers once what was proposed before them is committed;
//! - liveness: PINGs twice a tick, learners dropped when silent, and the
//!   leadership given up when the synced voters are no longer a quorum.

pub mod sync_plan;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use bytes::{Buf, Bytes};

use crate::jute::quorum::QuorumPacket;
use crate::quorum::verifier::QuorumVerifier;
use crate::quorum::zab::learner_sync::SyncMode;
use crate::quorum::zab::packet::{self, kind, PROTOCOL_VERSION};
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

    // ---- phase 1: the epoch ---------------------------------------------

    fn on_info(&mut self, peer: PeerId, p: QuorumPacket, now_ms: i64) {
        if p.type_ != kind::FOLLOWERINFO && p.type_ != kind::OBSERVERINFO {
            let why = format!(
                "first packet {} is not FOLLOWERINFO or OBSERVERINFO",
                kind::name(p.type_)
            );
            return self.close(peer, why);
        }
        let observer = p.type_ == kind::OBSERVERINFO;
        let mut d = p.data.clone().unwrap_or_default();
        if d.len() < 8 {
            return self.close(peer, "learner info without a server id".into());
        }
        let sid = d.get_i64();
        let version = if d.len() >= 4 { d.get_i32() } else { 1 };
        if d.len() >= 8 {
            let config_version = d.get_i64();
            if config_version > self.cfg.verifier.version() {
                return self.close(
                    peer,
                    "Follower is ahead of the leader (has a later activated configuration)".into(),
                );
            }
        }
        let member = u64::try_from(sid)
            .ok()
            .filter(|&s| s != self.cfg.my_id && self.cfg.verifier.members().contains(&s));
        let Some(sid) = member else {
            return self.close(peer, format!("sid {sid} is not in the current config"));
        };
        let voter = self.cfg.verifier.is_voter(sid);
        if observer == voter {
            let why = format!(
                "sid {sid} sent {} but is {} in the config",
                kind::name(p.type_),
                if voter {
                    "a participant"
                } else {
                    "an observer"
                }
            );
            return self.close(peer, why);
        }
        if version < PROTOCOL_VERSION {
            return self.close(
                peer,
                format!("learner protocol {version:#x} is older than ZAB 1.0"),
            );
        }
        // A learner that reconnects replaces its old connection.
        let old: Vec<PeerId> = self
            .learners
            .iter()
            .filter(|(&q, l)| q != peer && l.sid == Some(sid))
            .map(|(&q, _)| q)
            .collect();
        for q in old {
            self.close(q, format!("sid {sid} connected again"));
        }
        let accepted_epoch = zxid::epoch_of(p.zxid);
        tracing::info!(
            "{} {sid} (connection {peer}), accepted epoch {accepted_epoch}",
            if observer { "observer" } else { "follower" }
        );
        let Some(l) = self.learners.get_mut(&peer) else {
            return;
        };
        l.sid = Some(sid);
        l.observer = observer;
        if self.phase == Phase::Discovery {
            l.stage = Stage::AwaitEpoch;
            if accepted_epoch >= self.epoch_candidate {
                self.epoch_candidate = accepted_epoch + 1;
            }
            if !observer {
                self.connecting.insert(sid);
            }
            self.try_decide_epoch(now_ms);
        } else {
            // The epoch is decided: a late joiner gets it at once.
            l.stage = Stage::AwaitAckEpoch;
            self.send_leader_info(peer);
        }
    }

    fn try_decide_epoch(&mut self, now_ms: i64) {
        let me = self.cfg.my_id;
        if self.phase != Phase::Discovery
            || !self.connecting.contains(&me)
            || !self.cfg.verifier.contains_quorum(&self.connecting)
        {
            return;
        }
        let e = self.epoch_candidate;
        tracing::info!("new epoch {e}, from voters [ {} ]", sids(&self.connecting));
        self.new_epoch = Some(e);
        self.ready.write_accepted_epoch = Some(e);
        self.last_proposed = zxid::make(e, 0);
        self.phase = Phase::EpochAcks;
        self.phase_deadline_ms = now_ms + self.cfg.init_limit * self.cfg.tick_ms;
        let waiting: Vec<PeerId> = self
            .learners
            .iter()
            .filter(|(_, l)| l.stage == Stage::AwaitEpoch)
            .map(|(&p, _)| p)
            .collect();
        for peer in waiting {
            if let Some(l) = self.learners.get_mut(&peer) {
                l.stage = Stage::AwaitAckEpoch;
            }
            self.send_leader_info(peer);
        }
        // Our own epoch ack.
        self.electing.insert(me);
        self.try_finish_epoch_acks(now_ms);
    }

    fn send_leader_info(&mut self, peer: PeerId) {
        let Some(e) = self.new_epoch else { return };
        let version = Bytes::copy_from_slice(&PROTOCOL_VERSION.to_be_bytes());
        self.push(
            peer,
            packet::packet(kind::LEADERINFO, zxid::make(e, 0), Some(version)),
        );
    }

    fn on_ack_epoch(&mut self, peer: PeerId, p: QuorumPacket, now_ms: i64) {
        if p.type_ != kind::ACKEPOCH {
            let why = format!("{} is not ACKEPOCH", kind::name(p.type_));
            return self.close(peer, why);
        }
        let d = p.data.as_deref().unwrap_or_default();
        if d.len() < 4 {
            return self.close(peer, "ACKEPOCH without an epoch".into());
        }
        let epoch = i64::from(i32::from_be_bytes([d[0], d[1], d[2], d[3]]));
        let last_zxid = p.zxid;
        let Some(l) = self.learners.get_mut(&peer) else {
            return;
        };
        l.peer_last_zxid = last_zxid;
        let sid = l.sid.unwrap_or_default();
        let observer = l.observer;
        if self.phase != Phase::EpochAcks {
            // The epoch is settled already: straight to the sync.
            return self.start_sync(peer);
        }
        l.stage = Stage::AwaitEpochQuorum;
        if epoch != -1 {
            let (ce, lz) = (self.cfg.current_epoch, self.cfg.last_zxid);
            if epoch > ce || (epoch == ce && last_zxid > lz) {
                return self.give_up(format!(
                    "Follower is ahead of the leader, leader summary: {ce} (current epoch), {lz} (last zxid); sid {sid} has {epoch}, {last_zxid}"
                ));
            }
            if last_zxid != -1 && !observer {
                self.electing.insert(sid);
            }
        }
        self.try_finish_epoch_acks(now_ms);
    }

    fn try_finish_epoch_acks(&mut self, now_ms: i64) {
        let me = self.cfg.my_id;
        if self.phase != Phase::EpochAcks
            || !self.electing.contains(&me)
            || !self.cfg.verifier.contains_quorum(&self.electing)
        {
            return;
        }
        let Some(e) = self.new_epoch else { return };
        tracing::info!("epoch {e} acked by [ {} ]", sids(&self.electing));
        self.ready.write_current_epoch = Some(e);
        self.phase = Phase::NewLeaderAcks;
        self.phase_deadline_ms = now_ms + self.cfg.init_limit * self.cfg.tick_ms;
        let waiting: Vec<PeerId> = self
            .learners
            .iter()
            .filter(|(_, l)| l.stage == Stage::AwaitEpochQuorum)
            .map(|(&p, _)| p)
            .collect();
        for peer in waiting {
            self.start_sync(peer);
        }
        self.newleader_acks.insert(me);
        self.try_establish(now_ms);
    }

    // ---- phase 2: synchronisation -----------------------------------------

    fn start_sync(&mut self, peer: PeerId) {
        let Some(e) = self.new_epoch else { return };
        let Some(l) = self.learners.get_mut(&peer) else {
            return;
        };
        let plan = sync_plan::plan(&self.committed_log, self.last_processed, l.peer_last_zxid);
        tracing::info!(
            "syncing learner {:?} at 0x{:x} by {:?} (leader at 0x{:x})",
            l.sid,
            l.peer_last_zxid,
            plan.mode,
            self.last_processed
        );
        l.stage = Stage::AwaitNewLeaderAck;
        l.forwarding = true;
        let follower = l.is_follower();
        if plan.mode == SyncMode::Snap {
            self.ready.send.push((peer, Outgoing::Snap));
        }
        for p in plan.packets {
            self.push(peer, p);
        }
        // What is proposed but not yet committed follows (to followers);
        // everything from now on comes through the broadcast.
        if follower {
            let pending: Vec<QuorumPacket> = self
                .outstanding
                .range(plan.forward_from + 1..)
                .map(|(_, p)| p.packet.clone())
                .collect();
            for p in pending {
                self.push(peer, p);
            }
        }
        let newleader = packet::packet(
            kind::NEWLEADER,
            zxid::make(e, 0),
            Some(self.config_bytes.clone()),
        );
        self.push(peer, newleader);
    }

    fn on_newleader_ack(&mut self, peer: PeerId, p: QuorumPacket, now_ms: i64) {
        if p.type_ != kind::ACK {
            let why = format!("{} instead of the ACK of NEWLEADER", kind::name(p.type_));
            return self.close(peer, why);
        }
        let Some(e) = self.new_epoch else { return };
        let Some(l) = self.learners.get_mut(&peer) else {
            return;
        };
        let sid = l.sid.unwrap_or_default();
        if p.zxid == zxid::make(e, 0) {
            if !l.observer {
                self.newleader_acks.insert(sid);
            }
        } else {
            tracing::error!(
                "NEWLEADER ACK from sid {sid} is from a different epoch - current 0x{:x} received 0x{:x}",
                zxid::make(e, 0),
                p.zxid
            );
        }
        if l.is_follower() {
            l.unacked = Some(VecDeque::new());
        }
        if self.phase == Phase::Broadcast {
            self.send_uptodate(peer);
        } else {
            l.stage = Stage::AwaitStart;
            self.try_establish(now_ms);
        }
    }

    fn try_establish(&mut self, now_ms: i64) {
        if self.phase != Phase::NewLeaderAcks
            || !self.newleader_acks.contains(&self.cfg.my_id)
            || !self.cfg.verifier.contains_quorum(&self.newleader_acks)
        {
            return;
        }
        let Some(e) = self.new_epoch else { return };
        tracing::info!(
            "established epoch {e}, NEWLEADER acked by [ {} ]",
            sids(&self.newleader_acks)
        );
        self.phase = Phase::Broadcast;
        self.ready.established = Some(e);
        // No txn has (e, 0); the tree counts as having processed it.
        self.last_committed = zxid::make(e, 0);
        self.last_processed = zxid::make(e, 0);
        self.next_half_tick_ms = Some(now_ms + (self.cfg.tick_ms / 2).max(1));
        self.tick_skip = true;
        let grace = now_ms + (self.cfg.init_limit + self.cfg.sync_limit) * self.cfg.tick_ms;
        for l in self.learners.values_mut() {
            l.ack_deadline_ms = l.ack_deadline_ms.max(grace);
        }
        let waiting: Vec<PeerId> = self
            .learners
            .iter()
            .filter(|(_, l)| l.stage == Stage::AwaitStart)
            .map(|(&p, _)| p)
            .collect();
        for peer in waiting {
            self.send_uptodate(peer);
        }
    }

    fn send_uptodate(&mut self, peer: PeerId) {
        let Some(l) = self.learners.get_mut(&peer) else {
            return;
        };
        l.stage = Stage::UpToDate;
        let sid = l.sid.unwrap_or_default();
        let held = std::mem::take(&mut l.held);
        self.push(peer, packet::packet(kind::UPTODATE, -1, None));
        for p in held {
            self.ready.from_learners.push((peer, sid, p));
        }
    }

    // ---- phase 3: broadcast -------------------------------------------------

    fn on_broadcast_packet(&mut self, peer: PeerId, p: QuorumPacket, now_ms: i64) {
        let sync_ms = self.cfg.sync_limit * self.cfg.tick_ms;
        let Some(l) = self.learners.get_mut(&peer) else {
            return;
        };
        l.ack_deadline_ms = now_ms + sync_ms;
        let sid = l.sid.unwrap_or_default();
        let malformed = match p.type_ {
            kind::ACK => {
                if let Some(u) = l.unacked.as_mut() {
                    while u.front().is_some_and(|&(z, _)| z <= p.zxid) {
                        u.pop_front();
                    }
                }
                self.process_ack(sid, p.zxid);
                return;
            }
            kind::PING => packet::parse_touches(&p).err().map(|e| e.to_string()),
            kind::REVALIDATE => (p.data.as_ref().map_or(0, |d| d.len()) < 12)
                .then(|| "REVALIDATE shorter than session id and timeout".to_string()),
            kind::REQUEST => packet::parse_request(&p).err().map(|e| e.to_string()),
            kind::FOLLOWERINFO
            | kind::OBSERVERINFO
            | kind::ACKEPOCH
            | kind::PROPOSAL
            | kind::COMMIT
            | kind::SYNC
            | kind::INFORM
            | kind::COMMITANDACTIVATE
            | kind::NEWLEADER
            | kind::UPTODATE
            | kind::DIFF
            | kind::TRUNC
            | kind::SNAP
            | kind::LEADERINFO
            | kind::INFORMANDACTIVATE => Some(format!("unexpected {}", kind::name(p.type_))),
            other => {
                // As Java: an unknown type is only logged.
                tracing::warn!("unknown quorum packet type {other} from sid {sid} ignored");
                return;
            }
        };
        if let Some(why) = malformed {
            return self.close(peer, why);
        }
        if l.stage == Stage::UpToDate {
            self.ready.from_learners.push((peer, sid, p));
        } else {
            l.held.push(p);
        }
    }

    fn process_ack(&mut self, sid: u64, z: i64) {
        if zxid::counter_of(z) == 0 || self.outstanding.is_empty() || z <= self.last_committed {
            // NEWLEADER/UPTODATE acks, or already committed.
            return;
        }
        let Some(p) = self.outstanding.get_mut(&z) else {
            tracing::warn!("Trying to commit future proposal: zxid 0x{z:x} from sid {sid}");
            return;
        };
        if self.cfg.verifier.is_voter(sid) {
            p.acks.insert(sid);
        }
        self.commit_ready();
    }

    /// Commits, in zxid order, every proposal at the front that has a
    /// quorum (a later one with a quorum waits for the earlier ones).
    fn commit_ready(&mut self) {
        while let Some(entry) = self.outstanding.first_entry() {
            if !self.cfg.verifier.contains_quorum(&entry.get().acks) {
                break;
            }
            let z = *entry.key();
            let p = entry.remove();
            self.commit(z, p.packet);
        }
    }

    fn commit(&mut self, z: i64, proposal: QuorumPacket) {
        self.last_committed = z;
        self.last_processed = z;
        self.ready.commit = Some(z);
        let commit = packet::packet(kind::COMMIT, z, None);
        let inform = packet::packet(kind::INFORM, z, proposal.data.clone());
        let targets: Vec<(PeerId, bool)> = self
            .learners
            .iter()
            .filter(|(_, l)| l.forwarding && l.sid.is_some())
            .map(|(&peer, l)| (peer, l.observer))
            .collect();
        for (peer, observer) in targets {
            let p = if observer {
                inform.clone()
            } else {
                commit.clone()
            };
            self.push(peer, p);
        }
        self.committed_log.push_back(proposal);
        while self.committed_log.len() > self.cfg.commit_log_count {
            self.committed_log.pop_front();
        }
        let released: Vec<i64> = self.pending_syncs.range(..=z).map(|(&k, _)| k).collect();
        for k in released {
            for (peer, reply) in self.pending_syncs.remove(&k).unwrap_or_default() {
                self.send(peer, reply);
            }
        }
    }

    // ---- liveness -----------------------------------------------------------

    fn half_tick(&mut self, now_ms: i64) {
        if !self.tick_skip {
            let mut synced: BTreeSet<u64> = BTreeSet::new();
            synced.insert(self.cfg.my_id);
            for l in self.learners.values() {
                if let Some(sid) = l.sid {
                    if now_ms <= l.ack_deadline_ms {
                        synced.insert(sid);
                    }
                }
            }
            if !self.cfg.verifier.contains_quorum(&synced) {
                let voters: BTreeSet<u64> = synced
                    .into_iter()
                    .filter(|&s| self.cfg.verifier.is_voter(s))
                    .collect();
                return self.give_up(format!(
                    "Not sufficient followers synced, only synced with sids: [ {} ]",
                    sids(&voters)
                ));
            }
        }
        self.tick_skip = !self.tick_skip;
        let sync_ms = self.cfg.sync_limit * self.cfg.tick_ms;
        let mut late = Vec::new();
        let mut ping = Vec::new();
        for (&peer, l) in &self.learners {
            if !matches!(
                l.stage,
                Stage::AwaitNewLeaderAck | Stage::AwaitStart | Stage::UpToDate
            ) {
                continue;
            }
            let oldest = l.unacked.as_ref().and_then(|u| u.front());
            match oldest {
                Some(&(z, sent)) if now_ms - sent >= sync_ms => late.push((peer, z)),
                _ => ping.push(peer),
            }
        }
        for (peer, z) in late {
            self.close(
                peer,
                format!("proposal 0x{z:x} not acked within syncLimit (transaction timeout)"),
            );
        }
        let p = packet::packet(kind::PING, self.last_proposed, None);
        for peer in ping {
            self.push(peer, p.clone());
        }
    }

    fn give_up(&mut self, reason: String) {
        if self.phase == Phase::Stopped {
            return;
        }
        tracing::warn!("leader gives up: {reason}");
        self.phase = Phase::Stopped;
        self.next_half_tick_ms = None;
        let peers: Vec<PeerId> = self.learners.keys().copied().collect();
        for peer in peers {
            self.close(peer, format!("the leader stops: {reason}"));
        }
        self.ready.give_up = Some(reason);
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
