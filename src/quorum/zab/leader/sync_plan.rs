//! How the leader brings one learner up to date: DIFF, TRUNC or SNAP, and
//! the committed txns that follow, chosen from the learner's last zxid,
//! the leader's in-memory committed log and, for a learner behind that,
//! the leader's on-disk txn log, as Java 3.8's LearnerHandler.syncFollower
//! and queueCommittedProposals choose (LearnerHandler.java:779-1041).
//!
//! The cases, in Java's order:
//! 1. `forceSnapshotSync`: SNAP.
//! 2. The learner is at the leader's last processed zxid: an empty DIFF.
//! 3. The learner is past the committed log (and its zxid is not an
//!    epoch's first, `(e, 0)`, which no txn has): TRUNC to the log's end.
//! 4. The learner is within the committed log: DIFF (or TRUNC to the last
//!    txn both have) and the txns it lacks.
//! 5. The learner is behind the committed log: the txns from the on-disk
//!    log up to the committed log's first, then the committed log, if the
//!    disk log reaches back to the learner's zxid, joins the committed log
//!    without a gap and is small enough ([`TxnLogSource`]); else SNAP.
//!
//! Anything else (an `(e, 0)` learner beyond the committed log, or a log
//! whose txns the learner cannot be truncated to across an epoch) gets a
//! SNAP.
//!
//! The on-disk log comes from the caller ([`TxnLogSource`]): this module
//! does no I/O. The one difference from Java is there: Java's size limit
//! (`zookeeper.snapshotSizeFactor` times the newest snapshot's size) is
//! compared only with the sizes of the log files after the one holding
//! the learner's zxid, so the txns of that file are never counted and a
//! gap inside the current log is sent whatever its size. rzk also stops
//! reading, and sends a SNAP, once the txns taken from the disk log exceed
//! the limit, so that the memory a sync takes stays bounded.

use std::borrow::Borrow;
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

/// The leader's on-disk txn log, read for a learner behind the committed
/// log (case 5).
pub trait TxnLogSource {
    /// Java's `ZKDatabase.getProposalsFromTxnLog(peer,
    /// calculateTxnLogSizeLimit())`: the logged txns as PROPOSAL packets,
    /// oldest first, from the first txn of the log file that holds `peer`
    /// (so the first is at or before `peer`), read as they are consumed;
    /// the reading ends at the logs' end or at a damaged record. `None`
    /// when the disk log cannot serve: the on-disk sync is off
    /// (`snapshotSizeFactor` < 0), the logs start after `peer`, the files
    /// after the first are larger than the limit, or they cannot be read.
    fn proposals_from(&mut self, peer: i64) -> Option<TxnLogRead<'_>>;
}

/// What a [`TxnLogSource`] returns.
pub struct TxnLogRead<'a> {
    pub proposals: Box<dyn Iterator<Item = QuorumPacket> + 'a>,
    /// Java's sizeLimit, in bytes; 0 for none (Java's rule: a snapshot of
    /// 0 bytes or a factor of 0). Once the data of the PROPOSALs taken from
    /// the disk log exceeds it, the read stops and the learner gets a SNAP.
    pub size_limit: u64,
}

/// No disk log (tests, or a leader without one): a learner behind the
/// committed log gets a SNAP.
pub struct NoTxnLog;

impl TxnLogSource for NoTxnLog {
    fn proposals_from(&mut self, _peer: i64) -> Option<TxnLogRead<'_>> {
        None
    }
}

fn snap(last_processed: i64) -> Plan {
    Plan {
        mode: SyncMode::Snap,
        packets: Vec::new(),
        forward_from: last_processed,
    }
}

/// The plan for a learner whose last logged zxid is `peer`.
/// `log` holds the committed txns as PROPOSAL packets, oldest first;
/// `last_processed` is the leader tree's last processed zxid;
/// `force_snap` is Java's `zookeeper.forceSnapshotSync`; `disk` is asked
/// only in case 5.
pub fn plan(
    log: &VecDeque<QuorumPacket>,
    last_processed: i64,
    peer: i64,
    force_snap: bool,
    disk: &mut dyn TxnLogSource,
) -> Plan {
    let peer_new_epoch = zxid::counter_of(peer) == 0;
    let (min, max) = match (log.front(), log.back()) {
        (Some(first), Some(last)) => (first.zxid, last.zxid),
        // With no history, the tree's zxid stands for both ends.
        _ => (last_processed, last_processed),
    };
    if force_snap {
        tracing::warn!("Forcing snapshot sync - should not see this in production");
        return snap(last_processed);
    }
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
        let mut q = Queue::default();
        let plan = q
            .committed(log.iter(), peer, None, max, 0)
            .ok()
            .and_then(|queued| q.finish(queued));
        return plan.unwrap_or_else(|| snap(last_processed));
    }
    if peer < min {
        if let Some(read) = disk.proposals_from(peer) {
            if let Some(p) = from_disk(read, log, peer, min, max) {
                return p;
            }
            return snap(last_processed);
        }
    }
    tracing::warn!(
        "no DIFF or TRUNC for a learner at 0x{peer:x} (committed log 0x{min:x}..0x{max:x}, last processed 0x{last_processed:x}): sending a snapshot"
    );
    snap(last_processed)
}

/// Case 5: the disk log's txns up to `min` (the committed log's first),
/// then the committed log's, as one DIFF (or TRUNC); None when only a
/// snapshot will do.
fn from_disk(
    read: TxnLogRead<'_>,
    log: &VecDeque<QuorumPacket>,
    peer: i64,
    min: i64,
    max: i64,
) -> Option<Plan> {
    let mut q = Queue::default();
    let queued = match q.committed(read.proposals, peer, Some(min), max, read.size_limit) {
        Ok(z) => z,
        Err(taken) => {
            tracing::info!(
                "txn log to send to a learner at 0x{peer:x} exceeds {} bytes after {taken} txns: sending a snapshot",
                read.size_limit
            );
            return None;
        }
    };
    if queued < min {
        tracing::info!(
            "Detected gap between end of txnlog: 0x{queued:x} and start of committedLog: 0x{min:x}"
        );
        return None;
    }
    tracing::info!("Use txnlog and committedLog for a learner at 0x{peer:x}");
    let queued = q.committed(log.iter(), queued, None, max, 0).ok()?;
    q.finish(queued)
}

/// The packets queued so far (Java's queuedPackets), and the op packet's
/// mode once one is queued (Java's needOpPacket, negated).
#[derive(Default)]
struct Queue {
    packets: Vec<QuorumPacket>,
    mode: Option<SyncMode>,
}

impl Queue {
    /// The plan, once an op packet (DIFF or TRUNC) went first; None when
    /// none could (Java's `needOpPacket && !needSnap`: a snapshot).
    fn finish(self, queued: i64) -> Option<Plan> {
        self.mode.map(|mode| Plan {
            mode,
            packets: self.packets,
            forward_from: queued,
        })
    }

    /// Java's queueCommittedProposals: queues the txns of `proposals` in
    /// `(peer, max_zxid]`, after DIFF (with `last_committed`) or TRUNC
    /// if no op packet is queued yet; returns the last zxid queued (`peer`
    /// if none). A `size_limit` above 0 bounds the bytes of data queued
    /// from `proposals`: past it, Err with the number of txns queued
    /// before (the caller sends a snapshot).
    fn committed<P: Borrow<QuorumPacket>>(
        &mut self,
        proposals: impl Iterator<Item = P>,
        peer: i64,
        max_zxid: Option<i64>,
        last_committed: i64,
        size_limit: u64,
    ) -> Result<i64, usize> {
        let peer_new_epoch = zxid::counter_of(peer) == 0;
        let mut queued = peer;
        let mut prev = -1;
        let mut bytes = 0u64;
        let mut taken = 0usize;
        for p in proposals {
            let p = p.borrow();
            let z = p.zxid;
            if max_zxid.is_some_and(|m| z > m) {
                break;
            }
            if z < peer {
                prev = z;
                continue;
            }
            if self.mode.is_none() {
                if z == peer {
                    self.packets
                        .push(packet::packet(kind::DIFF, last_committed, None));
                    self.mode = Some(SyncMode::Diff);
                    continue;
                }
                if peer_new_epoch {
                    // No txn has zxid (e, 0): never truncate such a learner.
                    self.packets
                        .push(packet::packet(kind::DIFF, last_committed, None));
                    self.mode = Some(SyncMode::Diff);
                } else {
                    // z > peer: the learner has a txn we lack.
                    // (No txn before it is Java's TRUNC to -1; it cannot
                    // happen with a log that reaches back to the learner.)
                    if zxid::epoch_of(z) != zxid::epoch_of(peer) || prev < 0 {
                        tracing::warn!(
                            "cannot TRUNC a learner at 0x{peer:x} across an epoch; sending a snapshot"
                        );
                        return Ok(queued);
                    }
                    self.packets.push(packet::packet(kind::TRUNC, prev, None));
                    self.mode = Some(SyncMode::Trunc);
                }
            }
            if z <= queued {
                continue;
            }
            if size_limit > 0 {
                bytes += p.data.as_ref().map_or(0, |d| d.len() as u64);
                if bytes > size_limit {
                    return Err(taken);
                }
            }
            self.packets.push(p.clone());
            self.packets.push(packet::packet(kind::COMMIT, z, None));
            queued = z;
            taken += 1;
        }
        if self.mode.is_none() && peer_new_epoch {
            self.packets
                .push(packet::packet(kind::DIFF, last_committed, None));
            self.mode = Some(SyncMode::Diff);
        }
        Ok(queued)
    }
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
        let p = plan(&l, Z(1, 2), Z(1, 2), false, &mut NoTxnLog);
        assert_eq!(p.mode, SyncMode::Diff);
        assert_eq!(shape(&p), vec![(kind::DIFF, Z(1, 2))]);
        assert_eq!(p.forward_from, Z(1, 2));
        // Also with no history at all.
        let p = plan(&VecDeque::new(), 0, 0, false, &mut NoTxnLog);
        assert_eq!(shape(&p), vec![(kind::DIFF, 0)]);
    }

    #[test]
    fn behind_within_the_log_gets_the_missing_txns() {
        let l = log(&[(1, 1), (1, 2), (2, 1), (2, 2)]);
        let p = plan(&l, Z(2, 2), Z(1, 2), false, &mut NoTxnLog);
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
        let p = plan(&l, Z(1, 4), Z(1, 3), false, &mut NoTxnLog);
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
        let p = plan(&l, Z(2, 1), Z(1, 3), false, &mut NoTxnLog);
        assert_eq!(p.mode, SyncMode::Snap);
        assert!(p.packets.is_empty());
        assert_eq!(p.forward_from, Z(2, 1));
    }

    #[test]
    fn ahead_of_the_log_is_truncated_to_its_end() {
        let l = log(&[(1, 1), (1, 2)]);
        let p = plan(&l, Z(1, 2), Z(1, 7), false, &mut NoTxnLog);
        assert_eq!(p.mode, SyncMode::Trunc);
        assert_eq!(shape(&p), vec![(kind::TRUNC, Z(1, 2))]);
        assert_eq!(p.forward_from, Z(1, 2));
    }

    #[test]
    fn too_old_or_no_history_gets_a_snapshot() {
        let l = log(&[(1, 5), (1, 6)]);
        let p = plan(&l, Z(1, 6), Z(1, 2), false, &mut NoTxnLog);
        assert_eq!(p.mode, SyncMode::Snap);
        assert_eq!(p.forward_from, Z(1, 6));
        let p = plan(&VecDeque::new(), Z(1, 6), Z(1, 2), false, &mut NoTxnLog);
        assert_eq!(p.mode, SyncMode::Snap);
    }

    #[test]
    fn a_new_epoch_zxid_is_never_truncated() {
        // A learner that got a SNAP at (2,0): not in any log.
        let l = log(&[(1, 1), (1, 2), (2, 1), (2, 2)]);
        let p = plan(&l, Z(2, 2), Z(2, 0), false, &mut NoTxnLog);
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
        let p = plan(&l, Z(1, 2), Z(3, 0), false, &mut NoTxnLog);
        assert_eq!(p.mode, SyncMode::Snap);
    }

    // ---- forceSnapshotSync and the on-disk txn log (case 5) ----------------

    /// A disk log of one file: from its first txn on, None when it starts
    /// after the learner (Java's getProposalsFromTxnLog).
    struct Disk {
        log: Vec<QuorumPacket>,
        size_limit: u64,
        asked: Vec<i64>,
    }

    impl TxnLogSource for Disk {
        fn proposals_from(&mut self, peer: i64) -> Option<TxnLogRead<'_>> {
            self.asked.push(peer);
            if self.log.first()?.zxid > peer {
                return None;
            }
            Some(TxnLogRead {
                proposals: Box::new(self.log.iter().cloned()),
                size_limit: self.size_limit,
            })
        }
    }

    /// PROPOSALs with 100 bytes of data each.
    fn disk(zxids: &[(i64, i64)], size_limit: u64) -> Disk {
        let log = zxids
            .iter()
            .map(|&(e, c)| {
                let data = bytes::Bytes::from(vec![0u8; 100]);
                packet::packet(kind::PROPOSAL, zxid::make(e, c), Some(data))
            })
            .collect();
        Disk {
            log,
            size_limit,
            asked: Vec::new(),
        }
    }

    fn proposals(zxids: &[i64]) -> Vec<(i32, i64)> {
        zxids
            .iter()
            .flat_map(|&z| [(kind::PROPOSAL, z), (kind::COMMIT, z)])
            .collect()
    }

    const ONE_TO_TEN: [(i64, i64); 10] = [
        (1, 1),
        (1, 2),
        (1, 3),
        (1, 4),
        (1, 5),
        (1, 6),
        (1, 7),
        (1, 8),
        (1, 9),
        (1, 10),
    ];

    #[test]
    fn forced_snapshot_sync_always_snaps() {
        let l = log(&[(1, 1), (1, 2)]);
        for peer in [Z(1, 2), Z(1, 1), Z(1, 5)] {
            let p = plan(&l, Z(1, 2), peer, true, &mut NoTxnLog);
            assert_eq!(p.mode, SyncMode::Snap, "peer {peer:x}");
            assert!(p.packets.is_empty());
            assert_eq!(p.forward_from, Z(1, 2));
        }
    }

    #[test]
    fn behind_the_committed_log_gets_a_diff_from_the_disk_log() {
        // The disk log holds everything; the committed log its last five.
        let l = log(&ONE_TO_TEN[5..]);
        let mut d = disk(&ONE_TO_TEN, 0);
        let p = plan(&l, Z(1, 10), Z(1, 3), false, &mut d);
        assert_eq!(d.asked, vec![Z(1, 3)]);
        assert_eq!(p.mode, SyncMode::Diff);
        // DIFF with the last committed zxid, the disk's txns up to the
        // committed log's first (1,6) included, then the committed log's
        // after it: each txn once.
        let mut want = vec![(kind::DIFF, Z(1, 10))];
        want.extend(proposals(&(4..=10).map(|c| Z(1, c)).collect::<Vec<_>>()));
        assert_eq!(shape(&p), want);
        assert_eq!(p.forward_from, Z(1, 10));
        // The disk's txns carry their data; the committed log's are its own.
        assert_eq!(p.packets[1].data.as_ref().map(|d| d.len()), Some(100));
        assert_eq!(p.packets[11].data, None);
        // Within the committed log the disk is not asked.
        let mut d = disk(&ONE_TO_TEN, 0);
        let p = plan(&l, Z(1, 10), Z(1, 7), false, &mut d);
        assert!(d.asked.is_empty());
        assert_eq!(p.mode, SyncMode::Diff);
        // With an empty committed log, the tree's zxid is its first.
        let mut d = disk(&ONE_TO_TEN[..8], 0);
        let p = plan(&VecDeque::new(), Z(1, 8), Z(1, 6), false, &mut d);
        let mut want = vec![(kind::DIFF, Z(1, 8))];
        want.extend(proposals(&[Z(1, 7), Z(1, 8)]));
        assert_eq!(shape(&p), want);
    }

    #[test]
    fn a_disk_log_larger_than_the_limit_falls_back_to_a_snapshot() {
        let l = log(&ONE_TO_TEN[5..]);
        // (1,4), (1,5) and (1,6) come from the disk: 300 bytes of data.
        let mut d = disk(&ONE_TO_TEN, 299);
        let p = plan(&l, Z(1, 10), Z(1, 3), false, &mut d);
        assert_eq!(p.mode, SyncMode::Snap);
        assert!(p.packets.is_empty());
        assert_eq!(p.forward_from, Z(1, 10));
        // At the limit exactly, or with no limit (0), a DIFF.
        for limit in [300, 0] {
            let mut d = disk(&ONE_TO_TEN, limit);
            let p = plan(&l, Z(1, 10), Z(1, 3), false, &mut d);
            assert_eq!(p.mode, SyncMode::Diff, "limit {limit}");
            assert_eq!(p.packets.len(), 1 + 2 * 7);
        }
        // The txns before the learner's are read, not counted.
        let mut d = disk(&ONE_TO_TEN, 100);
        let p = plan(&l, Z(1, 10), Z(1, 5), false, &mut d);
        assert_eq!(p.mode, SyncMode::Diff);
    }

    #[test]
    fn a_learner_zxid_the_disk_log_does_not_hold_gets_a_snapshot() {
        let l = log(&ONE_TO_TEN[7..]);
        // The logs start after it (purged): the source has nothing.
        let mut d = disk(&ONE_TO_TEN[4..], 0);
        let p = plan(&l, Z(1, 10), Z(1, 2), false, &mut d);
        assert_eq!(d.asked, vec![Z(1, 2)]);
        assert_eq!(p.mode, SyncMode::Snap);
        // No disk log at all.
        let p = plan(&l, Z(1, 10), Z(1, 2), false, &mut NoTxnLog);
        assert_eq!(p.mode, SyncMode::Snap);
        // The learner logged (1,3), which we never did, and we went on in
        // a later epoch: no TRUNC across it.
        let l = log(&[(2, 3), (2, 4)]);
        let mut d = disk(&[(1, 1), (1, 2), (2, 1), (2, 2), (2, 3), (2, 4)], 0);
        let p = plan(&l, Z(2, 4), Z(1, 3), false, &mut d);
        assert_eq!(p.mode, SyncMode::Snap);
        assert_eq!(p.forward_from, Z(2, 4));
        // In the same epoch (Java's rule): TRUNC to the last common txn,
        // then the rest.
        let l = log(&[(1, 6), (1, 7)]);
        let mut d = disk(&[(1, 1), (1, 2), (1, 4), (1, 5), (1, 6), (1, 7)], 0);
        let p = plan(&l, Z(1, 7), Z(1, 3), false, &mut d);
        assert_eq!(p.mode, SyncMode::Trunc);
        let mut want = vec![(kind::TRUNC, Z(1, 2))];
        want.extend(proposals(&[Z(1, 4), Z(1, 5), Z(1, 6), Z(1, 7)]));
        assert_eq!(shape(&p), want);
        assert_eq!(p.forward_from, Z(1, 7));
    }

    #[test]
    fn a_disk_log_that_does_not_reach_the_committed_log_gets_a_snapshot() {
        // The disk log ends at (1,4); the committed log starts at (1,6).
        let l = log(&ONE_TO_TEN[5..]);
        let mut d = disk(&ONE_TO_TEN[..4], 0);
        let p = plan(&l, Z(1, 10), Z(1, 2), false, &mut d);
        assert_eq!(p.mode, SyncMode::Snap);
        assert!(p.packets.is_empty());
        // Up to (1,6) exactly is enough.
        let mut d = disk(&ONE_TO_TEN[..6], 0);
        let p = plan(&l, Z(1, 10), Z(1, 2), false, &mut d);
        assert_eq!(p.mode, SyncMode::Diff);
        assert_eq!(p.packets.len(), 1 + 2 * 8);
    }

    #[test]
    fn a_new_epoch_learner_behind_the_committed_log_gets_a_diff() {
        // Synced by a snapshot at (2,0); the disk log's file starts in
        // epoch 1 and goes on in epoch 2.
        let l = log(&[(2, 4), (2, 5)]);
        let mut d = disk(&[(1, 1), (1, 2), (2, 1), (2, 2), (2, 3), (2, 4), (2, 5)], 0);
        let p = plan(&l, Z(2, 5), Z(2, 0), false, &mut d);
        assert_eq!(p.mode, SyncMode::Diff);
        let mut want = vec![(kind::DIFF, Z(2, 5))];
        want.extend(proposals(&(1..=5).map(|c| Z(2, c)).collect::<Vec<_>>()));
        assert_eq!(shape(&p), want);
    }
}
