//! Phases 1 and 2 for each learner connection (Java's LearnerHandler up to
//! UPTODATE, and Leader.getEpochToPropose, waitForEpochAck and
//! waitForNewLeaderAck): who the learner is, the new epoch, its sync and
//! NEWLEADER, and the leader's establishment.

use bytes::{Buf, Bytes};

use std::collections::VecDeque;

use super::{sids, sync_plan, Leader, Outgoing, PeerId, Phase, Stage};
use crate::jute::quorum::QuorumPacket;
use crate::quorum::zab::learner_sync::SyncMode;
use crate::quorum::zab::packet::{self, kind, PROTOCOL_VERSION};
use crate::quorum::zab::zxid;

impl Leader {
    // ---- phase 1: the epoch ---------------------------------------------

    pub(super) fn on_info(&mut self, peer: PeerId, p: QuorumPacket, now_ms: i64) {
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

    pub(super) fn try_decide_epoch(&mut self, now_ms: i64) {
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

    pub(super) fn send_leader_info(&mut self, peer: PeerId) {
        let Some(e) = self.new_epoch else { return };
        let version = Bytes::copy_from_slice(&PROTOCOL_VERSION.to_be_bytes());
        self.push(
            peer,
            packet::packet(kind::LEADERINFO, zxid::make(e, 0), Some(version)),
        );
    }

    pub(super) fn on_ack_epoch(&mut self, peer: PeerId, p: QuorumPacket, now_ms: i64) {
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

    pub(super) fn try_finish_epoch_acks(&mut self, now_ms: i64) {
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

    pub(super) fn start_sync(&mut self, peer: PeerId) {
        let Some(e) = self.new_epoch else { return };
        let Some(l) = self.learners.get_mut(&peer) else {
            return;
        };
        let plan = sync_plan::plan(
            &self.committed_log,
            self.last_processed,
            l.peer_last_zxid,
            self.cfg.force_snap_sync,
            &mut *self.txn_log,
        );
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

    pub(super) fn on_newleader_ack(&mut self, peer: PeerId, p: QuorumPacket, now_ms: i64) {
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

    pub(super) fn try_establish(&mut self, now_ms: i64) {
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

    pub(super) fn send_uptodate(&mut self, peer: PeerId) {
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
}
