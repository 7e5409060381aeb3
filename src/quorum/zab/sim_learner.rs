//! The learner side of the ZAB simulation (`quorum::zab_sim`), tests only.
//!
//! The epoch handshake and sync are the production code,
//! [`learner_sync::sync_with_leader`], run as a coroutine: it runs on a
//! thread of its own against a [`LeaderLink`] made of two channels, and
//! the simulation resumes it with one packet at a time and waits until it
//! blocks for the next one (or ends). Only one side ever runs, so a seed
//! replays exactly. Its [`LearnerDisk`] is the simulated node's durable
//! state ([`Durable`]), shared with the simulation, which only looks at it
//! while the coroutine is parked.
//!
//! The broadcast phase after the sync (Java's Follower.processPacket and
//! rzk's `server::core::learner`) is small and is modelled in the
//! simulation itself: PROPOSAL logged, ACK once the log made it durable,
//! COMMIT applies the oldest pending proposal (any other zxid ends the
//! link), PING answered.

use std::collections::BTreeSet;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use bytes::Bytes;

use crate::jute::quorum::QuorumPacket;
use crate::jute::txn::{CreateTxn, TxnHeader};
use crate::persist::image;
use crate::persist::snapshot::Snapshot;
use crate::proto::op;
use crate::quorum::zab::learner_sync::{self, LeaderLink, LearnerDisk, LearnerStart, Synced};
use crate::quorum::zab::packet::{self, kind};
use crate::tree::DataTree;
use crate::txn::{Txn, TxnBody};

/// A txn as the simulation compares them: (zxid, content tag).
pub type Key = (i64, u64);

/// The simulation's txns: a create of `/z_<zxid>` holding the tag.
pub fn make_txn(zxid: i64, tag: u64) -> Txn {
    Txn {
        header: TxnHeader {
            client_id: 1,
            cxid: zxid as i32,
            zxid,
            time: 0,
            type_: op::CREATE,
        },
        body: TxnBody::Create(CreateTxn {
            path: format!("/z_{zxid:x}"),
            data: Some(Bytes::from(tag.to_string())),
            acl: crate::acl::open_acl_unsafe(),
            ephemeral: false,
            parent_cversion: 1,
        }),
        digest: None,
    }
}

pub fn key_of(t: &Txn) -> Key {
    let tag = match &t.body {
        TxnBody::Create(c) => c
            .data
            .as_ref()
            .and_then(|d| std::str::from_utf8(d).ok()?.parse().ok())
            .unwrap_or(0),
        _ => 0,
    };
    (t.header.zxid, tag)
}

/// The simulation txns a tree holds, in zxid order.
pub fn history_of(tree: &DataTree) -> Vec<Key> {
    let mut v: Vec<Key> = tree
        .paths()
        .filter(|p| p.starts_with("/z_"))
        .filter_map(|p| {
            let n = tree.get(p)?;
            let tag = std::str::from_utf8(n.data()?).ok()?.parse().ok()?;
            Some((n.stat().mzxid, tag))
        })
        .collect();
    v.sort();
    v
}

pub fn tree_of(txns: &[Txn], last_zxid: i64) -> DataTree {
    let mut t = DataTree::new(false);
    for txn in txns {
        t.apply(txn, &mut Vec::new());
    }
    t.last_processed_zxid = last_zxid;
    t
}

/// What survives a crash: the epoch files and the txns the log (and the
/// snapshots) hold. The log is kept as one history: `base` is the zxid of
/// the latest snapshot, which may be past the last txn (a snapshot at
/// (epoch, 0)).
#[derive(Debug, Default, Clone)]
pub struct Durable {
    pub accepted: i64,
    pub current: i64,
    pub base: i64,
    pub log: Vec<Txn>,
    /// Txns this node cut from its log (TRUNC, SNAP), not received again
    /// from a leader since: never to be applied here.
    pub truncated: BTreeSet<Key>,
    /// How many TRUNC and SNAP syncs cut something.
    pub cuts: u32,
}

impl Durable {
    pub fn last_zxid(&self) -> i64 {
        self.log
            .last()
            .map_or(self.base, |t| t.header.zxid.max(self.base))
    }

    pub fn tree(&self) -> DataTree {
        tree_of(&self.log, self.last_zxid())
    }

    pub fn keys(&self) -> Vec<Key> {
        self.log.iter().map(key_of).collect()
    }

    /// Drops every txn after `zxid` (and snapshots past it).
    pub fn cut_after(&mut self, zxid: i64) {
        let before = self.truncated.len();
        for t in self.log.iter().filter(|t| t.header.zxid > zxid) {
            self.truncated.insert(key_of(t));
        }
        if self.truncated.len() > before {
            self.cuts += 1;
        }
        self.log.retain(|t| t.header.zxid <= zxid);
        self.base = self.base.min(zxid);
    }

    /// A snapshot of `tree` replaces what is before it.
    fn snapshot(&mut self, tree: &DataTree) {
        let keys: BTreeSet<Key> = history_of(tree).into_iter().collect();
        let z = tree.last_processed_zxid;
        for t in self.log.iter().filter(|t| t.header.zxid <= z) {
            let k = key_of(t);
            if !keys.contains(&k) {
                self.truncated.insert(k);
            }
        }
        let mut log: Vec<Txn> = keys.iter().map(|&(z, tag)| make_txn(z, tag)).collect();
        log.extend(self.log.iter().filter(|t| t.header.zxid > z).cloned());
        self.log = log;
        self.base = z;
    }
}

pub type SharedDisk = Arc<Mutex<Durable>>;

fn lock(d: &SharedDisk) -> std::sync::MutexGuard<'_, Durable> {
    d.lock().unwrap_or_else(|e| e.into_inner())
}

struct SimDisk(SharedDisk);

impl LearnerDisk for SimDisk {
    fn write_accepted_epoch(&mut self, epoch: i64) -> Result<(), String> {
        lock(&self.0).accepted = epoch;
        Ok(())
    }
    fn write_current_epoch(&mut self, epoch: i64) -> Result<(), String> {
        lock(&self.0).current = epoch;
        Ok(())
    }
    fn truncate(&mut self, zxid: i64) -> Result<(DataTree, Vec<(i64, i32)>), String> {
        let mut d = lock(&self.0);
        d.cut_after(zxid);
        Ok((d.tree(), vec![]))
    }
    fn snapshot(&mut self, tree: &DataTree, _: &[(i64, i32)]) -> Result<(), String> {
        lock(&self.0).snapshot(tree);
        Ok(())
    }
    fn load(&mut self, snap: Snapshot, zxid: i64) -> Result<(DataTree, Vec<(i64, i32)>), String> {
        // As PeerDisk: what was logged after the snapshot is not the
        // leader's.
        lock(&self.0).cut_after(zxid);
        image::load(snap, zxid, false)
    }
    fn log_proposals(&mut self, txns: &[Txn]) -> Result<(), String> {
        // The real one fsyncs before it returns.
        lock(&self.0).log.extend(txns.iter().cloned());
        Ok(())
    }
}

/// What the simulation hands the parked learner.
pub enum Feed {
    Packet(QuorumPacket),
    /// A SNAP packet (zxid) and the snapshot streamed after it.
    Snap(i64, Snapshot),
    /// The read failed (timeout, connection closed).
    Fail(String),
}

/// What the learner did until it parked.
pub enum Event {
    Send(QuorumPacket),
    /// From now on reads time out after syncLimit.
    SyncedTimeouts,
    /// Parked in `recv`.
    Waiting,
    Done(Box<Result<Synced, String>>),
}

struct ChanLink {
    to_sim: Sender<Event>,
    from_sim: Receiver<Feed>,
    snap: Option<Snapshot>,
}

impl LeaderLink for ChanLink {
    fn recv(&mut self) -> Result<QuorumPacket, String> {
        self.to_sim
            .send(Event::Waiting)
            .map_err(|_| "simulation gone".to_string())?;
        match self.from_sim.recv() {
            Ok(Feed::Packet(p)) => Ok(p),
            Ok(Feed::Snap(z, s)) => {
                self.snap = Some(s);
                Ok(packet::packet(kind::SNAP, z, None))
            }
            Ok(Feed::Fail(why)) => Err(why),
            Err(_) => Err("connection dropped".into()),
        }
    }
    fn recv_snapshot(&mut self) -> Result<Snapshot, String> {
        self.snap.take().ok_or_else(|| "no snapshot".to_string())
    }
    fn send(&mut self, p: &QuorumPacket) -> Result<(), String> {
        self.to_sim
            .send(Event::Send(p.clone()))
            .map_err(|_| "simulation gone".to_string())
    }
    fn synced_timeouts(&mut self) {
        let _ = self.to_sim.send(Event::SyncedTimeouts);
    }
}

/// One run of the real learner sync, parked between packets.
pub struct SyncRun {
    to_learner: Option<Sender<Feed>>,
    from_learner: Receiver<Event>,
    thread: Option<JoinHandle<()>>,
    done: bool,
}

impl SyncRun {
    /// Starts the sync (it sends FOLLOWERINFO and parks); returns what it
    /// did.
    pub fn start(disk: SharedDisk, sid: u64) -> (SyncRun, Vec<Event>) {
        let (to_sim, from_learner) = channel();
        let (to_learner, from_sim) = channel();
        let d = lock(&disk).clone();
        let start = LearnerStart {
            sid,
            observer: false,
            accepted_epoch: d.accepted,
            current_epoch: d.current,
            tree: d.tree(),
            sessions: vec![],
        };
        let thread = std::thread::Builder::new()
            .name(format!("sim-learner-{sid}"))
            .stack_size(1 << 20)
            .spawn(move || {
                let mut link = ChanLink {
                    to_sim: to_sim.clone(),
                    from_sim,
                    snap: None,
                };
                let r = learner_sync::sync_with_leader(&mut link, &mut SimDisk(disk), start);
                let _ = to_sim.send(Event::Done(Box::new(r)));
            })
            .expect("spawn a learner thread");
        let mut run = SyncRun {
            to_learner: Some(to_learner),
            from_learner,
            thread: Some(thread),
            done: false,
        };
        let events = run.until_parked();
        (run, events)
    }

    /// Resumes the parked learner with `f`.
    pub fn feed(&mut self, f: Feed) -> Vec<Event> {
        if self.done {
            return Vec::new();
        }
        if let Some(tx) = &self.to_learner {
            let _ = tx.send(f);
        }
        self.until_parked()
    }

    fn until_parked(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        loop {
            match self.from_learner.recv() {
                Ok(Event::Waiting) => {
                    out.push(Event::Waiting);
                    return out;
                }
                Ok(e @ Event::Done(_)) => {
                    self.finish();
                    out.push(e);
                    return out;
                }
                Ok(e) => out.push(e),
                Err(_) => {
                    self.finish();
                    out.push(Event::Done(Box::new(Err("the learner thread died".into()))));
                    return out;
                }
            }
        }
    }

    fn finish(&mut self) {
        self.done = true;
        self.to_learner = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SyncRun {
    /// A crash or a lost link: the parked read fails, the thread ends
    /// before the simulation goes on (it touches the disk no more).
    fn drop(&mut self) {
        self.to_learner = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
