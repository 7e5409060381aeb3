//! A learner's first two ZAB phases with its leader: the epoch handshake
//! (FOLLOWERINFO, LEADERINFO, ACKEPOCH) and synchronisation (DIFF, TRUNC
//! or SNAP, the txns that follow, NEWLEADER, UPTODATE), as Java 3.8's
//! Learner.registerWithLeader and syncWithLeader run them.
//!
//! The leader connection and the disk are behind two small traits, so the
//! same code runs against a Java leader over TCP and against a scripted
//! leader in tests. What the sync leaves to the broadcast phase comes back
//! as [`Synced`]: the tree, the proposals still to be logged (and acked
//! once durable) and the zxids the leader has already committed among them.

use std::collections::{BTreeMap, VecDeque};

use crate::jute::quorum::QuorumPacket;
use crate::persist::snapshot::Snapshot;
use crate::proto::op;
use crate::quorum::zab::packet::{self, kind};
use crate::quorum::zab::zxid;
use crate::tree::DataTree;
use crate::txn::{Txn, TxnBody};

/// The leader, as the sync sees it.
pub trait LeaderLink {
    fn recv(&mut self) -> Result<QuorumPacket, String>;
    /// The snapshot streamed after a SNAP packet.
    fn recv_snapshot(&mut self) -> Result<Snapshot, String>;
    fn send(&mut self, p: &QuorumPacket) -> Result<(), String>;
    /// From NEWLEADER on, the leader must be heard from every syncLimit
    /// ticks instead of initLimit.
    fn synced_timeouts(&mut self);
}

/// What the sync does to the disk.
pub trait LearnerDisk {
    fn write_accepted_epoch(&mut self, epoch: i64) -> Result<(), String>;
    fn write_current_epoch(&mut self, epoch: i64) -> Result<(), String>;
    /// TRUNC: drop every logged txn after `zxid` and load what remains.
    fn truncate(&mut self, zxid: i64) -> Result<(DataTree, Vec<(i64, i32)>), String>;
    /// A durable snapshot of the synced tree (after SNAP or TRUNC).
    fn snapshot(&mut self, tree: &DataTree, sessions: &[(i64, i32)]) -> Result<(), String>;
    /// The tree a SNAP stream describes, as of `zxid`.
    fn load(&mut self, snap: Snapshot, zxid: i64) -> Result<(DataTree, Vec<(i64, i32)>), String>;
    /// At NEWLEADER: the proposals the sync brought, appended to the txn
    /// log and durable before currentEpoch is written and NEWLEADER acked.
    /// A learner that acked NEWLEADER counts towards the quorum holding the
    /// new leader's history; if it crashed with the new currentEpoch and
    /// without those txns, its vote would beat a server that has them, and
    /// as leader it would truncate committed txns (ZOOKEEPER-4646; Java
    /// 3.8.0 and rzk before this acked first, as `zab_sim` seed 335 shows).
    fn log_proposals(&mut self, txns: &[Txn]) -> Result<(), String>;
}

/// Where the learner starts from.
pub struct LearnerStart {
    pub sid: u64,
    pub observer: bool,
    pub accepted_epoch: i64,
    pub current_epoch: i64,
    pub tree: DataTree,
    pub sessions: Vec<(i64, i32)>,
}

/// How the leader brought this learner up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    Diff,
    Trunc,
    Snap,
}

/// What synchronisation leaves for the broadcast phase.
pub struct Synced {
    pub new_epoch: i64,
    pub mode: SyncMode,
    pub tree: DataTree,
    pub sessions: Vec<(i64, i32)>,
    /// Proposals to log (and ack once durable), in zxid order.
    pub to_log: Vec<Txn>,
    /// The first `logged` of `to_log` are logged already (at NEWLEADER):
    /// they are acked at once, not logged again.
    pub logged: usize,
    /// Zxids of `to_log` the leader has committed, in order: applied once
    /// handed to the core.
    pub committed: Vec<i64>,
}

fn unexpected(p: &QuorumPacket, when: &str) -> String {
    format!(
        "unexpected {} packet (type {}) {when}",
        kind::name(p.type_),
        p.type_
    )
}

/// Registers with the leader and syncs with it; on any error the caller
/// drops the connection and goes back to looking, as Java does.
pub fn sync_with_leader(
    link: &mut dyn LeaderLink,
    disk: &mut dyn LearnerDisk,
    start: LearnerStart,
) -> Result<Synced, String> {
    let LearnerStart {
        sid,
        observer,
        accepted_epoch,
        current_epoch,
        mut tree,
        sessions,
    } = start;
    let last_logged = tree.last_processed_zxid;

    // ---- phase 1: the epoch -------------------------------------------
    let info_type = if observer {
        kind::OBSERVERINFO
    } else {
        kind::FOLLOWERINFO
    };
    link.send(&packet::learner_info(info_type, sid, accepted_epoch, 0))?;
    let p = link.recv()?;
    if p.type_ != kind::LEADERINFO {
        return Err(unexpected(&p, "instead of LEADERINFO"));
    }
    let version = packet::leader_protocol_version(&p).map_err(|e| e.to_string())?;
    if version < packet::PROTOCOL_VERSION {
        return Err(format!(
            "the leader speaks protocol {version:#x}, older than ZAB 1.0"
        ));
    }
    let new_epoch = zxid::epoch_of(p.zxid);
    let ack_epoch = if new_epoch > accepted_epoch {
        // Durable before it is acknowledged: this learner promises not to
        // accept an older leader from now on.
        disk.write_accepted_epoch(new_epoch)?;
        current_epoch as i32
    } else if new_epoch == accepted_epoch {
        // Already acked this epoch (joining an established leader): say
        // so, so that the ack is not counted twice.
        -1
    } else {
        return Err(format!(
            "the leader's epoch {new_epoch} is less than the accepted epoch {accepted_epoch}"
        ));
    };
    link.send(&packet::ack_epoch(last_logged, ack_epoch))?;

    // ---- phase 2: synchronisation -------------------------------------
    let mut sessions: BTreeMap<i64, i32> = sessions.into_iter().collect();
    let p = link.recv()?;
    let mode = match p.type_ {
        kind::DIFF => SyncMode::Diff,
        kind::SNAP => {
            let snap = link.recv_snapshot()?;
            let (t, s) = disk.load(snap, p.zxid)?;
            tree = t;
            sessions = s.into_iter().collect();
            SyncMode::Snap
        }
        kind::TRUNC => {
            let (t, s) = disk.truncate(p.zxid)?;
            if t.last_processed_zxid != p.zxid {
                return Err(format!(
                    "told to truncate to 0x{:x}, but the log then ends at 0x{:x}",
                    p.zxid, t.last_processed_zxid
                ));
            }
            tree = t;
            sessions = s.into_iter().collect();
            SyncMode::Trunc
        }
        _ => return Err(unexpected(&p, "instead of DIFF, TRUNC or SNAP")),
    };
    tracing::info!(
        "syncing with the leader by {mode:?} (0x{:x}), new epoch {new_epoch}",
        p.zxid
    );
    // After SNAP or TRUNC, txns committed before NEWLEADER go straight into
    // the tree (the snapshot taken at NEWLEADER covers them); after DIFF,
    // and for everything after NEWLEADER, they are logged first.
    let mut write_to_log = mode == SyncMode::Diff;
    let mut not_committed: VecDeque<Txn> = VecDeque::new();
    let mut to_log: Vec<Txn> = Vec::new();
    let mut committed: Vec<i64> = Vec::new();
    let newleader_zxid = zxid::make(new_epoch, 0);
    let mut seen_newleader = false;
    let mut logged = 0;
    loop {
        let p = link.recv()?;
        match p.type_ {
            kind::PROPOSAL => {
                let txn = packet::txn_of(&p).map_err(|e| e.to_string())?;
                if seen_newleader {
                    to_log.push(txn);
                } else {
                    not_committed.push_back(txn);
                }
            }
            kind::COMMIT => {
                if !write_to_log {
                    match not_committed.front() {
                        Some(t) if t.header.zxid == p.zxid => {
                            if let Some(t) = not_committed.pop_front() {
                                apply_in_memory(&mut tree, &mut sessions, &t);
                            }
                        }
                        _ => tracing::warn!(
                            "committing 0x{:x}, but the first pending proposal is another",
                            p.zxid
                        ),
                    }
                } else {
                    // Also a commit after NEWLEADER of a proposal sent
                    // before it (Java 3.8.0's followers fail on this one).
                    committed.push(p.zxid);
                }
            }
            kind::INFORM => {
                let txn = packet::txn_of(&p).map_err(|e| e.to_string())?;
                if !write_to_log {
                    apply_in_memory(&mut tree, &mut sessions, &txn);
                } else {
                    committed.push(txn.header.zxid);
                    if seen_newleader {
                        to_log.push(txn);
                    } else {
                        not_committed.push_back(txn);
                    }
                }
            }
            kind::NEWLEADER => {
                if p.zxid != newleader_zxid {
                    return Err(format!(
                        "NEWLEADER of 0x{:x}, expected 0x{newleader_zxid:x}",
                        p.zxid
                    ));
                }
                if mode != SyncMode::Diff {
                    let s: Vec<(i64, i32)> = sessions.iter().map(|(k, v)| (*k, *v)).collect();
                    disk.snapshot(&tree, &s)?;
                }
                disk.log_proposals(not_committed.make_contiguous())?;
                disk.write_current_epoch(new_epoch)?;
                write_to_log = true;
                seen_newleader = true;
                link.synced_timeouts();
                to_log.extend(not_committed.drain(..));
                logged = to_log.len();
                link.send(&packet::packet(kind::ACK, newleader_zxid, None))?;
            }
            kind::UPTODATE => {
                if !seen_newleader {
                    return Err("UPTODATE before NEWLEADER".into());
                }
                link.send(&packet::packet(kind::ACK, newleader_zxid, None))?;
                break;
            }
            // Not answered while syncing, as in Java: the leader allows
            // initLimit + syncLimit ticks for the sync.
            kind::PING | kind::REVALIDATE | kind::SYNC => {}
            other => tracing::warn!("ignoring {} packet while syncing", kind::name(other)),
        }
    }
    // A commit can only be for a proposal we have; the rest is the
    // leader's business (a Java follower would exit here).
    let proposed: std::collections::HashSet<i64> = to_log.iter().map(|t| t.header.zxid).collect();
    committed.retain(|z| {
        let known = proposed.contains(z);
        if !known {
            tracing::warn!("the leader committed 0x{z:x}, which it never proposed to us");
        }
        known
    });
    Ok(Synced {
        new_epoch,
        mode,
        tree,
        sessions: sessions.into_iter().collect(),
        to_log,
        logged,
        committed,
    })
}

/// Applies a committed txn during a SNAP or TRUNC sync. A fuzzy snapshot
/// may already hold part of it; the tree's results for such a replay
/// (node exists, no node) are expected and harmless, as in Java.
fn apply_in_memory(tree: &mut DataTree, sessions: &mut BTreeMap<i64, i32>, txn: &Txn) {
    let mut changes = Vec::new();
    tree.apply(txn, &mut changes);
    match (&txn.body, txn.header.type_) {
        (TxnBody::CreateSession(cs), op::CREATE_SESSION) => {
            sessions.insert(txn.header.client_id, cs.time_out);
        }
        (_, op::CLOSE_SESSION) => {
            sessions.remove(&txn.header.client_id);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::txn::{CreateTxn, TxnHeader};

    /// A leader that plays a script and records what the learner sent.
    struct Script {
        incoming: VecDeque<QuorumPacket>,
        snapshot: Option<Snapshot>,
        sent: Vec<QuorumPacket>,
        synced_timeouts: bool,
    }

    impl LeaderLink for Script {
        fn recv(&mut self) -> Result<QuorumPacket, String> {
            self.incoming.pop_front().ok_or_else(|| "EOF".to_string())
        }
        fn recv_snapshot(&mut self) -> Result<Snapshot, String> {
            self.snapshot
                .take()
                .ok_or_else(|| "no snapshot".to_string())
        }
        fn send(&mut self, p: &QuorumPacket) -> Result<(), String> {
            self.sent.push(p.clone());
            Ok(())
        }
        fn synced_timeouts(&mut self) {
            self.synced_timeouts = true;
        }
    }

    fn script(incoming: Vec<QuorumPacket>, snapshot: Option<Snapshot>) -> Script {
        Script {
            incoming: incoming.into(),
            snapshot,
            sent: vec![],
            synced_timeouts: false,
        }
    }

    #[derive(Default)]
    struct Disk {
        accepted: Vec<i64>,
        current: Vec<i64>,
        snapshots: usize,
        truncated: Vec<i64>,
        /// (zxids logged at NEWLEADER, the current epoch then).
        logged: Vec<(Vec<i64>, Option<i64>)>,
    }

    impl LearnerDisk for Disk {
        fn write_accepted_epoch(&mut self, e: i64) -> Result<(), String> {
            self.accepted.push(e);
            Ok(())
        }
        fn write_current_epoch(&mut self, e: i64) -> Result<(), String> {
            self.current.push(e);
            Ok(())
        }
        fn truncate(&mut self, zxid: i64) -> Result<(DataTree, Vec<(i64, i32)>), String> {
            self.truncated.push(zxid);
            let mut t = DataTree::new(false);
            t.last_processed_zxid = zxid;
            Ok((t, vec![]))
        }
        fn snapshot(&mut self, _: &DataTree, _: &[(i64, i32)]) -> Result<(), String> {
            self.snapshots += 1;
            Ok(())
        }
        fn load(&mut self, _: Snapshot, zxid: i64) -> Result<(DataTree, Vec<(i64, i32)>), String> {
            let mut t = DataTree::new(false);
            t.last_processed_zxid = zxid;
            Ok((t, vec![(77, 5000)]))
        }
        fn log_proposals(&mut self, txns: &[Txn]) -> Result<(), String> {
            let zxids = txns.iter().map(|t| t.header.zxid).collect();
            self.logged.push((zxids, self.current.last().copied()));
            Ok(())
        }
    }

    fn create(zxid: i64, path: &str) -> Txn {
        Txn {
            header: TxnHeader {
                client_id: 1,
                cxid: 1,
                zxid,
                time: 0,
                type_: op::CREATE,
            },
            body: TxnBody::Create(CreateTxn {
                path: path.into(),
                data: None,
                acl: crate::acl::open_acl_unsafe(),
                ephemeral: false,
                parent_cversion: 1,
            }),
            digest: None,
        }
    }

    fn pk(t: i32, z: i64) -> QuorumPacket {
        packet::packet(t, z, None)
    }

    fn leader_info(epoch: i64) -> QuorumPacket {
        packet::packet(
            kind::LEADERINFO,
            zxid::make(epoch, 0),
            Some(bytes::Bytes::from_static(&[0, 1, 0, 0])),
        )
    }

    fn start(accepted: i64, current: i64, last_zxid: i64) -> LearnerStart {
        let mut tree = DataTree::new(false);
        tree.last_processed_zxid = last_zxid;
        LearnerStart {
            sid: 2,
            observer: false,
            accepted_epoch: accepted,
            current_epoch: current,
            tree,
            sessions: vec![],
        }
    }

    #[test]
    fn a_diff_sync_leaves_proposals_to_log_and_commits_to_apply() {
        let e = 5;
        let mut link = script(
            vec![
                leader_info(e),
                pk(kind::DIFF, zxid::make(4, 2)),
                packet::proposal(&create(zxid::make(4, 2), "/a")),
                pk(kind::COMMIT, zxid::make(4, 2)),
                packet::proposal(&create(zxid::make(4, 3), "/b")),
                pk(kind::PING, 0),
                pk(kind::NEWLEADER, zxid::make(e, 0)),
                // A commit, after NEWLEADER, of a proposal sent before it.
                pk(kind::COMMIT, zxid::make(4, 3)),
                packet::proposal(&create(zxid::make(e, 1), "/c")),
                pk(kind::UPTODATE, -1),
            ],
            None,
        );
        let mut disk = Disk::default();
        let s = sync_with_leader(&mut link, &mut disk, start(4, 4, zxid::make(4, 1))).unwrap();
        assert_eq!(s.mode, SyncMode::Diff);
        assert_eq!(s.new_epoch, e);
        let logged: Vec<i64> = s.to_log.iter().map(|t| t.header.zxid).collect();
        assert_eq!(
            logged,
            vec![zxid::make(4, 2), zxid::make(4, 3), zxid::make(e, 1)]
        );
        assert_eq!(s.committed, vec![zxid::make(4, 2), zxid::make(4, 3)]);
        assert_eq!(
            disk.logged,
            vec![(vec![zxid::make(4, 2), zxid::make(4, 3)], None)],
            "the proposals before NEWLEADER are durable before currentEpoch"
        );
        assert_eq!(s.logged, 2, "only the one after NEWLEADER is left to log");
        assert_eq!(disk.accepted, vec![e], "acceptedEpoch before ACKEPOCH");
        assert_eq!(disk.current, vec![e], "currentEpoch at NEWLEADER");
        assert_eq!(disk.snapshots, 0, "no snapshot after a DIFF");
        assert!(link.synced_timeouts);
        let sent: Vec<(i32, i64)> = link.sent.iter().map(|p| (p.type_, p.zxid)).collect();
        assert_eq!(
            sent,
            vec![
                (kind::FOLLOWERINFO, zxid::make(4, 0)),
                (kind::ACKEPOCH, zxid::make(4, 1)),
                (kind::ACK, zxid::make(e, 0)),
                (kind::ACK, zxid::make(e, 0)),
            ]
        );
        assert_eq!(
            &link.sent[1].data.as_ref().unwrap()[..],
            &4i32.to_be_bytes()
        );
    }

    #[test]
    fn a_learner_that_accepted_the_epoch_acks_it_with_minus_one() {
        let mut link = script(vec![leader_info(3), pk(kind::DIFF, 0)], None);
        let mut disk = Disk::default();
        assert!(
            sync_with_leader(&mut link, &mut disk, start(3, 2, 0)).is_err(),
            "EOF"
        );
        assert!(disk.accepted.is_empty());
        assert_eq!(
            &link.sent[1].data.as_ref().unwrap()[..],
            &(-1i32).to_be_bytes()
        );
    }

    #[test]
    fn an_older_leader_is_refused() {
        let mut link = script(vec![leader_info(2)], None);
        let Err(err) = sync_with_leader(&mut link, &mut Disk::default(), start(3, 3, 0)) else {
            panic!("synced")
        };
        assert!(err.contains("less than the accepted epoch"), "{err}");
        assert_eq!(link.sent.len(), 1, "no ACKEPOCH");
    }

    #[test]
    fn snap_and_trunc_apply_early_commits_in_memory_and_snapshot_at_newleader() {
        for first in [kind::SNAP, kind::TRUNC] {
            let base = zxid::make(1, 4);
            let mut link = script(
                vec![
                    leader_info(2),
                    pk(first, base),
                    packet::proposal(&create(zxid::make(1, 5), "/x")),
                    pk(kind::COMMIT, zxid::make(1, 5)),
                    packet::proposal(&create(zxid::make(1, 6), "/y")),
                    pk(kind::NEWLEADER, zxid::make(2, 0)),
                    pk(kind::UPTODATE, -1),
                ],
                Some(Snapshot::default()),
            );
            let mut disk = Disk::default();
            let s = sync_with_leader(&mut link, &mut disk, start(1, 1, zxid::make(1, 9))).unwrap();
            assert!(
                s.tree.get("/x").is_some(),
                "{first}: applied before NEWLEADER"
            );
            assert!(s.tree.get("/y").is_none());
            assert_eq!(s.to_log.len(), 1, "the uncommitted proposal is logged");
            assert!(s.committed.is_empty());
            assert_eq!(disk.snapshots, 1);
            if first == kind::TRUNC {
                assert_eq!(disk.truncated, vec![base]);
            } else {
                assert_eq!(s.sessions, vec![(77, 5000)]);
            }
        }
    }

    #[test]
    fn garbage_instead_of_a_sync_packet_ends_the_sync() {
        let mut link = script(vec![leader_info(2), pk(kind::PROPOSAL, 1)], None);
        let Err(err) = sync_with_leader(&mut link, &mut Disk::default(), start(1, 1, 0)) else {
            panic!("synced")
        };
        assert!(err.contains("instead of DIFF"), "{err}");
    }
}
