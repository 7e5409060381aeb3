//! Phase 3 and liveness: what synced learners send, acks and in-order
//! commits (Java's Leader.processAck and tryToCommit), and the half-tick
//! loop of Leader.lead (pings, the synced-quorum check).

use std::collections::BTreeSet;

use super::{sids, Leader, PeerId, Phase, Stage};
use crate::jute::quorum::QuorumPacket;
use crate::quorum::zab::packet::{self, kind};
use crate::quorum::zab::zxid;

impl Leader {
    // ---- phase 3: broadcast -------------------------------------------------

    pub(super) fn on_broadcast_packet(&mut self, peer: PeerId, p: QuorumPacket, now_ms: i64) {
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

    pub(super) fn process_ack(&mut self, sid: u64, z: i64) {
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
    pub(super) fn commit_ready(&mut self) {
        while let Some(entry) = self.outstanding.first_entry() {
            if !self.cfg.verifier.contains_quorum(&entry.get().acks) {
                break;
            }
            let z = *entry.key();
            let p = entry.remove();
            self.commit(z, p.packet);
        }
    }

    pub(super) fn commit(&mut self, z: i64, proposal: QuorumPacket) {
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

    pub(super) fn half_tick(&mut self, now_ms: i64) {
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

    pub(super) fn give_up(&mut self, reason: String) {
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
}
