//! How the leader brings one learner up to date: DIFF, TRUNC or SNAP, and
//! the committed txns that follow, chosen from the learner's last zxid and
//! the leader's in-memory committed log as Java 3.8's
//! LearnerHandler.syncFollower and queueCommittedProposals choose
//! (LearnerHandler.java:779-1041).
//!
//! Java's fifth case, reading older txns from the on-disk log when the
//! learner is behind the committed log, is not done: such a learner gets
//! a SNAP, which Java also falls back to when the disk log does not reach.

use std::collections::VecDeque;

use crate::jute::quorum::QuorumPacket;
use crate::quorum::zab::learner_sync::SyncMode;
use crate::quorum::zab::packet::{self, kind};
use crate::quorum::zab::zxid;

/// What to queue for a learner before NEWLEADER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub mode: SyncMode,
    /// DIFF or TRUNC, then PROPOSAL and COMMIT for each txn the learner
    /// lacks. Empty for SNAP (the snapshot stands in for all of it).
    pub packets: Vec<QuorumPacket>,
    /// The last zxid these packets (or the snapshot) bring the learner to:
    /// proposals after it are still to be forwarded (Java's startForwarding
    /// argument).
    pub forward_from: i64,
}

/// The plan for a learner whose last logged zxid is `peer`.
/// `log` holds the committed txns as PROPOSAL packets, oldest first;
/// `last_processed` is the leader tree's last processed zxid.
pub fn plan(log: &VecDeque<QuorumPacket>, last_processed: i64, peer: i64) -> Plan {
    let peer_new_epoch = zxid::counter_of(peer) == 0;
    let (min, max) = match (log.front(), log.back()) {
        (Some(first), Some(last)) => (first.zxid, last.zxid),
        // With no history, the tree's zxid stands for both ends.
        _ => (last_processed, last_processed),
    };
    if peer == last_processed {
        // Already in step: an empty DIFF.
        return Plan {
            mode: SyncMode::Diff,
            packets: vec![packet::packet(kind::DIFF, peer, None)],
            forward_from: peer,
        };
    }
    if peer > max && !peer_new_epoch {
        // The learner has txns we never committed (an old leader's tail).
        return Plan {
            mode: SyncMode::Trunc,
            packets: vec![packet::packet(kind::TRUNC, max, None)],
            forward_from: max,
        };
    }
    if min <= peer && peer <= max {
        if let Some(p) = from_log(log, peer, max) {
            return p;
        }
    }
    Plan {
        mode: SyncMode::Snap,
        packets: Vec::new(),
        forward_from: last_processed,
    }
}

/// DIFF (or TRUNC to the last zxid both have) plus the txns after the
/// learner's; None when only a snapshot will do (the learner's tail is of
/// another epoch than ours, which a TRUNC cannot cross).
fn from_log(log: &VecDeque<QuorumPacket>, peer: i64, last_committed: i64) -> Option<Plan> {
    let peer_new_epoch = zxid::counter_of(peer) == 0;
    let mut mode: Option<SyncMode> = None;
    let mut packets = Vec::new();
    let mut queued = peer;
    let mut prev = -1;
    for p in log {
        let z = p.zxid;
        if z < peer {
            prev = z;
            continue;
        }
        if mode.is_none() {
            if z == peer {
                packets.push(packet::packet(kind::DIFF, last_committed, None));
                mode = Some(SyncMode::Diff);
                continue;
            }
            if peer_new_epoch {
                // No txn has zxid (e, 0): never truncate such a learner.
                packets.push(packet::packet(kind::DIFF, last_committed, None));
                mode = Some(SyncMode::Diff);
            } else {
                // z > peer: the learner has a txn we lack.
                if zxid::epoch_of(z) != zxid::epoch_of(peer) || prev < 0 {
                    tracing::warn!(
                        "cannot TRUNC a learner at 0x{peer:x} across an epoch; sending a snapshot"
                    );
                    return None;
                }
                packets.push(packet::packet(kind::TRUNC, prev, None));
                mode = Some(SyncMode::Trunc);
            }
        }
        if z <= queued {
            continue;
        }
        packets.push(p.clone());
        packets.push(packet::packet(kind::COMMIT, z, None));
        queued = z;
    }
    if mode.is_none() && peer_new_epoch {
        packets.push(packet::packet(kind::DIFF, last_committed, None));
        mode = Some(SyncMode::Diff);
    }
    mode.map(|mode| Plan {
        mode,
        packets,
        forward_from: queued,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(zxids: &[(i64, i64)]) -> VecDeque<QuorumPacket> {
        zxids
            .iter()
            .map(|&(e, c)| packet::packet(kind::PROPOSAL, zxid::make(e, c), None))
            .collect()
    }

    fn shape(p: &Plan) -> Vec<(i32, i64)> {
        p.packets.iter().map(|q| (q.type_, q.zxid)).collect()
    }

    const Z: fn(i64, i64) -> i64 = zxid::make;

    #[test]
    fn in_step_gets_an_empty_diff() {
        let l = log(&[(1, 1), (1, 2)]);
        let p = plan(&l, Z(1, 2), Z(1, 2));
        assert_eq!(p.mode, SyncMode::Diff);
        assert_eq!(shape(&p), vec![(kind::DIFF, Z(1, 2))]);
        assert_eq!(p.forward_from, Z(1, 2));
        // Also with no history at all.
        let p = plan(&VecDeque::new(), 0, 0);
        assert_eq!(shape(&p), vec![(kind::DIFF, 0)]);
    }

    #[test]
    fn behind_within_the_log_gets_the_missing_txns() {
        let l = log(&[(1, 1), (1, 2), (2, 1), (2, 2)]);
        let p = plan(&l, Z(2, 2), Z(1, 2));
        assert_eq!(p.mode, SyncMode::Diff);
        assert_eq!(
            shape(&p),
            vec![
                (kind::DIFF, Z(2, 2)),
                (kind::PROPOSAL, Z(2, 1)),
                (kind::COMMIT, Z(2, 1)),
                (kind::PROPOSAL, Z(2, 2)),
                (kind::COMMIT, Z(2, 2)),
            ]
        );
        assert_eq!(p.forward_from, Z(2, 2));
    }

    #[test]
    fn a_learner_with_an_unknown_txn_is_truncated_to_the_last_common_one() {
        // The learner logged (1,3), which never committed; we went on with
        // (1,4) in the same epoch (cannot happen with real epochs, but
        // this is Java's rule) -> TRUNC to (1,2) then the rest.
        let l = log(&[(1, 1), (1, 2), (1, 4)]);
        let p = plan(&l, Z(1, 4), Z(1, 3));
        assert_eq!(p.mode, SyncMode::Trunc);
        assert_eq!(
            shape(&p),
            vec![
                (kind::TRUNC, Z(1, 2)),
                (kind::PROPOSAL, Z(1, 4)),
                (kind::COMMIT, Z(1, 4)),
            ]
        );
        // Across an epoch boundary a TRUNC is refused: SNAP.
        let l = log(&[(1, 1), (1, 2), (2, 1)]);
        let p = plan(&l, Z(2, 1), Z(1, 3));
        assert_eq!(p.mode, SyncMode::Snap);
        assert!(p.packets.is_empty());
        assert_eq!(p.forward_from, Z(2, 1));
    }

    #[test]
    fn ahead_of_the_log_is_truncated_to_its_end() {
        let l = log(&[(1, 1), (1, 2)]);
        let p = plan(&l, Z(1, 2), Z(1, 7));
        assert_eq!(p.mode, SyncMode::Trunc);
        assert_eq!(shape(&p), vec![(kind::TRUNC, Z(1, 2))]);
        assert_eq!(p.forward_from, Z(1, 2));
    }

    #[test]
    fn too_old_or_no_history_gets_a_snapshot() {
        let l = log(&[(1, 5), (1, 6)]);
        let p = plan(&l, Z(1, 6), Z(1, 2));
        assert_eq!(p.mode, SyncMode::Snap);
        assert_eq!(p.forward_from, Z(1, 6));
        let p = plan(&VecDeque::new(), Z(1, 6), Z(1, 2));
        assert_eq!(p.mode, SyncMode::Snap);
    }

    #[test]
    fn a_new_epoch_zxid_is_never_truncated() {
        // A learner that got a SNAP at (2,0): not in any log.
        let l = log(&[(1, 1), (1, 2), (2, 1), (2, 2)]);
        let p = plan(&l, Z(2, 2), Z(2, 0));
        assert_eq!(p.mode, SyncMode::Diff);
        assert_eq!(
            shape(&p),
            vec![
                (kind::DIFF, Z(2, 2)),
                (kind::PROPOSAL, Z(2, 1)),
                (kind::COMMIT, Z(2, 1)),
                (kind::PROPOSAL, Z(2, 2)),
                (kind::COMMIT, Z(2, 2)),
            ]
        );
        // Beyond the end of our history: not a TRUNC either.
        let l = log(&[(1, 1), (1, 2)]);
        let p = plan(&l, Z(1, 2), Z(3, 0));
        assert_eq!(p.mode, SyncMode::Snap);
    }
}
