//! The real learner ([`learner_sync::sync_with_leader`]) against the
//! leader, through an in-memory link; the test plays the driver (its tree,
//! snapshots taken where the leader asks for them, commits applied).

use std::collections::{BTreeMap, VecDeque};

use super::{config, create, Z};
use crate::jute::quorum::QuorumPacket;
use crate::persist::image;
use crate::persist::snapshot::Snapshot;
use crate::quorum::zab::leader::{Leader, LeaderConfig, Outgoing, PeerId};
use crate::quorum::zab::learner_sync::{
    self, LeaderLink, LearnerDisk, LearnerStart, SyncMode, Synced,
};
use crate::quorum::zab::packet::{self, kind};
use crate::tree::DataTree;
use crate::txn::Txn;

enum Item {
    Packet(QuorumPacket),
    Snap(i64, Snapshot),
}

/// The leader and what its driver holds.
struct Node {
    leader: Leader,
    tree: DataTree,
    txns: BTreeMap<i64, Txn>,
    now: i64,
    inbox: BTreeMap<PeerId, VecDeque<Item>>,
}

fn tree_of(txns: &[Txn]) -> DataTree {
    let mut t = DataTree::new(false);
    for txn in txns {
        t.apply(txn, &mut Vec::new());
    }
    t
}

impl Node {
    fn new(cfg: LeaderConfig, history: Vec<Txn>) -> Node {
        let tree = tree_of(&history);
        let txns = history.iter().map(|t| (t.header.zxid, t.clone())).collect();
        Node {
            leader: Leader::new(cfg, history, 0),
            tree,
            txns,
            now: 0,
            inbox: BTreeMap::new(),
        }
    }

    /// Does what the leader's Ready says: sends (a snapshot of the tree
    /// as it is where a Snap item stands), then applies commits.
    fn pump(&mut self) {
        let r = self.leader.take_ready();
        assert!(r.give_up.is_none(), "{:?}", r.give_up);
        assert!(r.close.is_empty(), "{:?}", r.close);
        for (peer, o) in r.send {
            let item = match o {
                Outgoing::Packet(p) => Item::Packet(p),
                Outgoing::Snap => Item::Snap(
                    self.tree.last_processed_zxid,
                    image::snapshot_of(&self.tree, &[]),
                ),
            };
            self.inbox.entry(peer).or_default().push_back(item);
        }
        if let Some(z) = r.commit {
            let from = self.tree.last_processed_zxid;
            for (_, t) in self.txns.range(from + 1..=z) {
                self.tree.apply(t, &mut Vec::new());
            }
        }
    }

    fn receive(&mut self, peer: PeerId, p: QuorumPacket) {
        self.now += 1;
        self.leader.receive(peer, p, self.now);
        self.pump();
    }

    fn propose(&mut self, txn: Txn) {
        self.txns.insert(txn.header.zxid, txn.clone());
        self.leader.propose(txn);
        self.pump();
    }
}

type Hook<'a> = &'a mut dyn FnMut(&mut Node, &QuorumPacket);

struct Link<'a> {
    node: &'a mut Node,
    peer: PeerId,
    snap: Option<Snapshot>,
    hook: Hook<'a>,
}

impl LeaderLink for Link<'_> {
    fn recv(&mut self) -> Result<QuorumPacket, String> {
        match self
            .node
            .inbox
            .get_mut(&self.peer)
            .and_then(|q| q.pop_front())
        {
            Some(Item::Packet(p)) => Ok(p),
            Some(Item::Snap(z, s)) => {
                self.snap = Some(s);
                Ok(packet::packet(kind::SNAP, z, None))
            }
            None => Err("the leader has nothing more to send".into()),
        }
    }
    fn recv_snapshot(&mut self) -> Result<Snapshot, String> {
        self.snap.take().ok_or_else(|| "no snapshot".to_string())
    }
    fn send(&mut self, p: &QuorumPacket) -> Result<(), String> {
        self.node.receive(self.peer, p.clone());
        (self.hook)(self.node, p);
        Ok(())
    }
    fn synced_timeouts(&mut self) {}
}

/// The learner's disk: its txn log.
struct Disk {
    log: Vec<Txn>,
}

impl LearnerDisk for Disk {
    fn write_accepted_epoch(&mut self, _: i64) -> Result<(), String> {
        Ok(())
    }
    fn write_current_epoch(&mut self, _: i64) -> Result<(), String> {
        Ok(())
    }
    fn truncate(&mut self, zxid: i64) -> Result<(DataTree, Vec<(i64, i32)>), String> {
        self.log.retain(|t| t.header.zxid <= zxid);
        let mut t = tree_of(&self.log);
        t.last_processed_zxid = zxid;
        Ok((t, vec![]))
    }
    fn snapshot(&mut self, _: &DataTree, _: &[(i64, i32)]) -> Result<(), String> {
        Ok(())
    }
    fn load(&mut self, snap: Snapshot, zxid: i64) -> Result<(DataTree, Vec<(i64, i32)>), String> {
        image::load(snap, zxid, false)
    }
    fn log_proposals(&mut self, txns: &[Txn]) -> Result<(), String> {
        self.log.extend(txns.iter().cloned());
        Ok(())
    }
}

/// Runs the learner `sid` with `log` against the node on connection `peer`.
fn run_learner(
    node: &mut Node,
    peer: PeerId,
    sid: u64,
    observer: bool,
    epochs: (i64, i64),
    log: Vec<Txn>,
    hook: Hook<'_>,
) -> Synced {
    node.now += 1;
    node.leader.connected(peer, node.now);
    let start = LearnerStart {
        sid,
        observer,
        accepted_epoch: epochs.0,
        current_epoch: epochs.1,
        tree: tree_of(&log),
        sessions: vec![],
    };
    let mut disk = Disk { log };
    let mut link = Link {
        node,
        peer,
        snap: None,
        hook,
    };
    learner_sync::sync_with_leader(&mut link, &mut disk, start).expect("synced")
}

/// The learner's tree once it applied what the leader committed.
fn finish(mut s: Synced) -> DataTree {
    for t in &s.to_log {
        if s.committed.contains(&t.header.zxid) {
            s.tree.apply(t, &mut Vec::new());
        }
    }
    s.tree
}

fn contents(t: &DataTree) -> Vec<(String, Option<bytes::Bytes>, i64)> {
    let mut v: Vec<_> = t
        .paths()
        .map(|p| {
            let n = t.get(p).unwrap();
            (p.to_owned(), n.data_bytes(), n.stat().mzxid)
        })
        .collect();
    v.sort();
    v
}

fn history(zxids: &[(i64, i64)]) -> Vec<Txn> {
    zxids.iter().map(|&(e, c)| create(Z(e, c))).collect()
}

fn no_hook() -> impl FnMut(&mut Node, &QuorumPacket) {
    |_: &mut Node, _: &QuorumPacket| {}
}

#[test]
fn diff_trunc_and_snap_leave_the_learner_with_the_leaders_history() {
    struct Case {
        what: &'static str,
        leader: Vec<Txn>,
        leader_epochs: i64,
        log_count: usize,
        learner: Vec<Txn>,
        mode: SyncMode,
    }
    let cases = vec![
        Case {
            what: "behind within the log",
            leader: history(&[(1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (1, 6)]),
            leader_epochs: 1,
            log_count: 500,
            learner: history(&[(1, 1), (1, 2), (1, 3)]),
            mode: SyncMode::Diff,
        },
        Case {
            what: "in step",
            leader: history(&[(1, 1), (1, 2)]),
            leader_epochs: 1,
            log_count: 500,
            learner: history(&[(1, 1), (1, 2)]),
            mode: SyncMode::Diff,
        },
        Case {
            what: "an unknown txn inside the log",
            leader: history(&[(1, 1), (1, 2), (1, 4)]),
            leader_epochs: 2,
            log_count: 500,
            learner: history(&[(1, 1), (1, 2), (1, 3)]),
            mode: SyncMode::Trunc,
        },
        Case {
            what: "ahead of the log",
            leader: history(&[(1, 1), (1, 2)]),
            leader_epochs: 2,
            log_count: 500,
            learner: history(&[(1, 1), (1, 2), (1, 3)]),
            mode: SyncMode::Trunc,
        },
        Case {
            what: "older than the log",
            leader: history(&[(1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (1, 6)]),
            leader_epochs: 1,
            log_count: 2,
            learner: history(&[(1, 1)]),
            mode: SyncMode::Snap,
        },
        Case {
            what: "an unknown txn across an epoch",
            leader: history(&[(1, 1), (1, 2), (2, 1), (2, 2)]),
            leader_epochs: 2,
            log_count: 500,
            learner: history(&[(1, 1), (1, 2), (1, 3)]),
            mode: SyncMode::Snap,
        },
    ];
    for c in cases {
        let last = c.leader.last().map_or(0, |t| t.header.zxid);
        let e = c.leader_epochs;
        let mut node = Node::new(config(e, e, last, c.log_count), c.leader);
        let s = run_learner(&mut node, 2, 2, false, (1, 1), c.learner, &mut no_hook());
        assert_eq!(s.mode, c.mode, "{}", c.what);
        assert_eq!(s.new_epoch, e + 1, "{}", c.what);
        assert!(node.leader.is_established(), "{}", c.what);
        let t = finish(s);
        assert_eq!(contents(&t), contents(&node.tree), "{}", c.what);
        assert_eq!(t.last_processed_zxid, last, "{}", c.what);
    }
}

#[test]
fn a_late_learner_gets_outstanding_proposals_and_commits_after_newleader() {
    for observer in [false, true] {
        let hist = history(&[(1, 1), (1, 2), (1, 3)]);
        let mut node = Node::new(config(1, 1, Z(1, 3), 500), hist.clone());
        // Sid 3, by hand, establishes the leader.
        node.leader.connected(3, 0);
        node.receive(3, packet::learner_info(kind::FOLLOWERINFO, 3, 1, 0));
        node.receive(3, packet::ack_epoch(Z(1, 3), 1));
        node.receive(3, packet::packet(kind::ACK, Z(2, 0), None));
        assert!(node.leader.is_established());
        node.propose(create(Z(2, 1)));
        // While the learner syncs, (2,1) commits and (2,2) is proposed.
        let mut hook = |n: &mut Node, p: &QuorumPacket| {
            if p.type_ == kind::ACKEPOCH {
                n.leader.local_durable(Z(2, 1));
                n.receive(3, packet::packet(kind::ACK, Z(2, 1), None));
                n.propose(create(Z(2, 2)));
            }
        };
        let (sid, peer) = if observer { (4, 4) } else { (2, 2) };
        let s = run_learner(&mut node, peer, sid, observer, (1, 1), hist, &mut hook);
        assert_eq!(s.mode, SyncMode::Diff);
        let logged: Vec<i64> = s.to_log.iter().map(|t| t.header.zxid).collect();
        if observer {
            // INFORM of the commit only; no proposals.
            assert_eq!(logged, vec![Z(2, 1)]);
        } else {
            assert_eq!(logged, vec![Z(2, 1), Z(2, 2)]);
        }
        assert_eq!(s.committed, vec![Z(2, 1)]);
        let t = finish(s);
        assert_eq!(contents(&t), contents(&node.tree), "observer {observer}");
        assert_eq!(t.last_processed_zxid, Z(2, 1));
        if observer {
            assert_eq!(node.leader.synced_observers(), 1);
        } else {
            assert_eq!(node.leader.synced_followers(), 2);
        }
    }
}
