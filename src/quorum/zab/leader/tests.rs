//! A three-voter ensemble (1 leads, 2 and 3 follow, 4 observes) driven by
//! hand, and the real learner code ([`super::super::learner_sync`]) run
//! against the leader through an in-memory link (`with_learner`).

mod with_learner;

use std::sync::Arc;

use bytes::Bytes;

use super::*;
use crate::jute::txn::{CreateTxn, TxnHeader};
use crate::proto::op;
use crate::quorum::verifier::tests::maj;
use crate::txn::TxnBody;

pub(super) const TICK: i64 = 100;
pub(super) const INIT: i64 = 10;
pub(super) const SYNC: i64 = 5;

const Z: fn(i64, i64) -> i64 = zxid::make;

pub(super) fn config(
    accepted: i64,
    current: i64,
    last_zxid: i64,
    log_count: usize,
) -> LeaderConfig {
    LeaderConfig {
        my_id: 1,
        verifier: maj(&[1, 2, 3], &[4]),
        tick_ms: TICK,
        init_limit: INIT,
        sync_limit: SYNC,
        commit_log_count: log_count,
        force_snap_sync: false,
        accepted_epoch: accepted,
        current_epoch: current,
        last_zxid,
    }
}

pub(super) fn create(zxid: i64) -> Txn {
    let n = zxid::counter_of(zxid);
    Txn {
        header: TxnHeader {
            client_id: 1,
            cxid: n as i32,
            zxid,
            time: 0,
            type_: op::CREATE,
        },
        body: TxnBody::Create(CreateTxn {
            path: format!("/n{}_{n}", zxid::epoch_of(zxid)),
            data: Some(Bytes::from(format!("{zxid:x}"))),
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

fn info(sid: u64, accepted: i64) -> QuorumPacket {
    packet::learner_info(kind::FOLLOWERINFO, sid, accepted, 0)
}

/// (type, zxid) of what `peer` is sent; a snapshot shows as (SNAP, -1).
fn sent_to(r: &Ready, peer: PeerId) -> Vec<(i32, i64)> {
    r.send
        .iter()
        .filter(|(p, _)| *p == peer)
        .map(|(_, o)| match o {
            Outgoing::Packet(q) => (q.type_, q.zxid),
            Outgoing::Snap => (kind::SNAP, -1),
        })
        .collect()
}

fn closed(r: &Ready) -> Vec<PeerId> {
    r.close.iter().map(|(p, _)| *p).collect()
}

/// Leader at epoch 1 with txns (1,1)..(1,n) committed.
fn leader_with(n: i64) -> Leader {
    let log: Vec<Txn> = (1..=n).map(|c| create(Z(1, c))).collect();
    Leader::new(config(1, 1, Z(1, n), 500), log, 0)
}

/// Peers 2 and 3 are sids 2 and 3; both register and ack the epoch.
/// Returns the leader, established at epoch 2 with sid 2 (sid 3 syncing
/// when `both`), and what the sync sent.
fn established(n: i64, both: bool) -> (Leader, Ready) {
    let mut l = leader_with(n);
    l.connected(2, 0);
    l.receive(2, info(2, 1), 1);
    l.receive(2, packet::ack_epoch(Z(1, n), 1), 2);
    if both {
        l.connected(3, 3);
        l.receive(3, info(3, 1), 3);
        l.receive(3, packet::ack_epoch(Z(1, n), 1), 4);
    }
    l.receive(2, pk(kind::ACK, Z(2, 0)), 5);
    assert!(l.is_established());
    let r = l.take_ready();
    (l, r)
}

#[test]
fn the_epoch_is_proposed_once_a_quorum_connected() {
    let mut l = Leader::new(config(3, 3, Z(3, 7), 500), vec![], 0);
    assert_eq!(l.epoch(), None);
    let r = l.take_ready();
    assert!(r.send.is_empty() && r.write_accepted_epoch.is_none());
    l.connected(10, 0);
    l.receive(10, info(2, 5), 1);
    assert_eq!(l.epoch(), Some(6), "one past the largest accepted epoch");
    let r = l.take_ready();
    assert_eq!(r.write_accepted_epoch, Some(6));
    assert_eq!(sent_to(&r, 10), vec![(kind::LEADERINFO, Z(6, 0))]);
    let Outgoing::Packet(li) = &r.send[0].1 else {
        panic!()
    };
    assert_eq!(packet::leader_protocol_version(li), Ok(0x10000));
    // A late joiner with a larger accepted epoch does not change it.
    l.connected(11, 2);
    l.receive(11, info(3, 9), 2);
    let r = l.take_ready();
    assert_eq!(r.write_accepted_epoch, None);
    assert_eq!(sent_to(&r, 11), vec![(kind::LEADERINFO, Z(6, 0))]);
}

#[test]
fn epoch_acks_then_sync_then_newleader_acks_establish() {
    let mut l = leader_with(3);
    l.connected(2, 0);
    l.receive(2, info(2, 1), 1);
    l.connected(3, 0);
    l.receive(3, info(3, 1), 1);
    let r = l.take_ready();
    assert_eq!(r.write_accepted_epoch, Some(2));
    // An ack of -1 (already accepted) does not count.
    l.receive(3, packet::ack_epoch(Z(1, 3), -1), 2);
    let r = l.take_ready();
    assert!(r.write_current_epoch.is_none() && r.send.is_empty());
    l.receive(2, packet::ack_epoch(Z(1, 3), 1), 3);
    let r = l.take_ready();
    assert_eq!(r.write_current_epoch, Some(2));
    for peer in [2, 3] {
        assert_eq!(
            sent_to(&r, peer),
            vec![(kind::DIFF, Z(1, 3)), (kind::NEWLEADER, Z(2, 0))]
        );
    }
    let newleader = r
        .send
        .iter()
        .find_map(|(_, o)| match o {
            Outgoing::Packet(p) if p.type_ == kind::NEWLEADER => Some(p.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        newleader.data.as_deref(),
        Some(maj(&[1, 2, 3], &[4]).config_string().as_bytes())
    );
    assert!(!l.is_established());
    // A proposal ack instead of the NEWLEADER ack is not counted.
    l.receive(3, pk(kind::ACK, Z(1, 3)), 4);
    assert!(!l.is_established());
    // What it sends now waits for its UPTODATE.
    l.receive(3, packet::request(7, 1, op::CREATE, b"x", &[]), 4);
    let r = l.take_ready();
    assert!(r.send.is_empty() && r.from_learners.is_empty());
    l.receive(2, pk(kind::ACK, Z(2, 0)), 5);
    assert!(l.is_established());
    let r = l.take_ready();
    assert_eq!(r.established, Some(2));
    assert_eq!(sent_to(&r, 2), vec![(kind::UPTODATE, -1)]);
    assert_eq!(sent_to(&r, 3), vec![(kind::UPTODATE, -1)]);
    assert_eq!(r.from_learners.len(), 1);
    assert_eq!(r.from_learners[0].2.type_, kind::REQUEST);
    // The UPTODATE ack is ignored.
    l.receive(2, pk(kind::ACK, Z(2, 0)), 6);
    let r = l.take_ready();
    assert!(r.send.is_empty() && r.commit.is_none() && r.close.is_empty());
}

#[test]
fn a_follower_ahead_of_the_leader_makes_it_give_up() {
    let mut l = leader_with(3);
    l.connected(2, 0);
    l.receive(2, info(2, 1), 1);
    l.take_ready();
    l.receive(2, packet::ack_epoch(Z(1, 4), 1), 2);
    let r = l.take_ready();
    assert!(r
        .give_up
        .as_deref()
        .unwrap()
        .contains("Follower is ahead of the leader"));
    assert_eq!(closed(&r), vec![2]);
    assert!(l.is_stopped() && l.next_deadline().is_none());
}

#[test]
fn sync_choices_for_late_learners() {
    // History (1,1)..(1,5); the leader is established with sid 2.
    let (mut l, _) = established(5, false);
    let cases: Vec<(i64, Vec<(i32, i64)>)> = vec![
        // Behind within the log: DIFF and the missing txns.
        (
            Z(1, 3),
            vec![
                (kind::DIFF, Z(1, 5)),
                (kind::PROPOSAL, Z(1, 4)),
                (kind::COMMIT, Z(1, 4)),
                (kind::PROPOSAL, Z(1, 5)),
                (kind::COMMIT, Z(1, 5)),
            ],
        ),
        // In step with the log: an empty DIFF.
        (Z(1, 5), vec![(kind::DIFF, Z(1, 5))]),
        // Ahead: TRUNC.
        (Z(1, 8), vec![(kind::TRUNC, Z(1, 5))]),
        // In step with the tree at (2,0): an empty DIFF.
        (Z(2, 0), vec![(kind::DIFF, Z(2, 0))]),
        // Older than the log: SNAP.
        (-1, vec![(kind::SNAP, -1)]),
    ];
    for (i, (peer_zxid, want)) in cases.into_iter().enumerate() {
        let peer = 20 + i as u64;
        l.connected(peer, 10);
        l.receive(peer, info(3, 2), 10);
        l.receive(peer, packet::ack_epoch(peer_zxid, -1), 11);
        let mut want = want;
        want.push((kind::NEWLEADER, Z(2, 0)));
        let r = l.take_ready();
        assert_eq!(sent_to(&r, peer)[1..], want[..], "peer at 0x{peer_zxid:x}");
        l.receive(peer, pk(kind::ACK, Z(2, 0)), 12);
        assert_eq!(sent_to(&l.take_ready(), peer), vec![(kind::UPTODATE, -1)]);
    }
}

/// The leader's disk log in memory: every txn from (1,1) on.
struct MemLog(Vec<Txn>, Arc<std::sync::atomic::AtomicUsize>);

impl TxnLogSource for MemLog {
    fn proposals_from(&mut self, peer: i64) -> Option<TxnLogRead<'_>> {
        self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if self.0.first()?.header.zxid > peer {
            return None;
        }
        Some(TxnLogRead {
            proposals: Box::new(self.0.iter().map(packet::proposal)),
            size_limit: 0,
        })
    }
}

#[test]
fn a_learner_behind_the_committed_log_is_synced_from_the_disk_log() {
    // (1,1)..(1,8) logged; only the last 3 in the committed log.
    let txns: Vec<Txn> = (1..=8).map(|c| create(Z(1, c))).collect();
    let reads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut l = Leader::new(config(1, 1, Z(1, 8), 3), txns.clone(), 0)
        .with_txn_log(Box::new(MemLog(txns.clone(), reads.clone())));
    l.connected(2, 0);
    l.receive(2, info(2, 1), 1);
    l.receive(2, packet::ack_epoch(Z(1, 2), 1), 2);
    let r = l.take_ready();
    let mut want = vec![(kind::LEADERINFO, Z(2, 0)), (kind::DIFF, Z(1, 8))];
    for c in 3..=8 {
        want.push((kind::PROPOSAL, Z(1, c)));
        want.push((kind::COMMIT, Z(1, c)));
    }
    want.push((kind::NEWLEADER, Z(2, 0)));
    assert_eq!(sent_to(&r, 2), want);
    assert_eq!(reads.load(std::sync::atomic::Ordering::Relaxed), 1);
    // The disk's PROPOSALs are the txns as logged.
    let first = r.send.iter().find_map(|(_, o)| match o {
        Outgoing::Packet(q) if q.type_ == kind::PROPOSAL => Some(q.clone()),
        _ => None,
    });
    assert_eq!(first, Some(packet::proposal(&txns[2])));
    l.receive(2, pk(kind::ACK, Z(2, 0)), 5);
    assert!(l.is_established());
    l.take_ready();
    // Established, with (2,1) outstanding: a late learner older than the
    // disk log gets a SNAP, one within it a DIFF, and both (2,1) after.
    l.propose(create(Z(2, 1)));
    l.take_ready();
    let mut short = MemLog(txns[4..].to_vec(), reads.clone());
    let plan_for = |peer: u64, zxid: i64, l: &mut Leader| {
        l.connected(peer, 10);
        l.receive(peer, info(3, 2), 10);
        l.receive(peer, packet::ack_epoch(zxid, -1), 11);
        sent_to(&l.take_ready(), peer)
    };
    let got = plan_for(3, Z(1, 1), &mut l);
    // (DIFF carries the committed log's last zxid, as Java's.)
    assert_eq!(
        got[1..3],
        [(kind::DIFF, Z(1, 8)), (kind::PROPOSAL, Z(1, 2))]
    );
    assert_eq!(
        got[got.len() - 2..],
        [(kind::PROPOSAL, Z(2, 1)), (kind::NEWLEADER, Z(2, 0))]
    );
    l = l.with_txn_log(Box::new(std::mem::replace(
        &mut short,
        MemLog(Vec::new(), reads.clone()),
    )));
    let got = plan_for(4, Z(1, 1), &mut l);
    assert_eq!(
        got[1..],
        [
            (kind::SNAP, -1),
            (kind::PROPOSAL, Z(2, 1)),
            (kind::NEWLEADER, Z(2, 0))
        ]
    );
}

#[test]
fn forced_snapshot_sync_snaps_even_a_learner_in_step() {
    let mut cfg = config(1, 1, Z(1, 5), 500);
    cfg.force_snap_sync = true;
    let log: Vec<Txn> = (1..=5).map(|c| create(Z(1, c))).collect();
    let mut l = Leader::new(cfg, log, 0);
    l.connected(2, 0);
    l.receive(2, info(2, 1), 1);
    l.receive(2, packet::ack_epoch(Z(1, 5), 1), 2);
    let r = l.take_ready();
    assert_eq!(
        sent_to(&r, 2),
        vec![
            (kind::LEADERINFO, Z(2, 0)),
            (kind::SNAP, -1),
            (kind::NEWLEADER, Z(2, 0))
        ]
    );
}

#[test]
fn commits_go_in_zxid_order_whatever_order_the_quorums_form() {
    let (mut l, _) = established(0, true);
    l.receive(3, pk(kind::ACK, Z(2, 0)), 6);
    l.take_ready();
    l.propose(create(Z(2, 1)));
    l.propose(create(Z(2, 2)));
    let r = l.take_ready();
    for peer in [2, 3] {
        assert_eq!(
            sent_to(&r, peer),
            vec![(kind::PROPOSAL, Z(2, 1)), (kind::PROPOSAL, Z(2, 2))]
        );
    }
    // (2,2) has a quorum first: it waits for (2,1).
    l.receive(2, pk(kind::ACK, Z(2, 2)), 7);
    l.receive(3, pk(kind::ACK, Z(2, 2)), 7);
    let r = l.take_ready();
    assert_eq!(r.commit, None);
    // The leader's own ack of (2,1) gives it a quorum with nobody else?
    // No: one voter of three is not a quorum.
    l.local_durable(Z(2, 1));
    assert_eq!(l.take_ready().commit, None);
    l.receive(2, pk(kind::ACK, Z(2, 1)), 8);
    let r = l.take_ready();
    assert_eq!(r.commit, Some(Z(2, 2)), "both, in order");
    assert_eq!(
        sent_to(&r, 2),
        vec![(kind::COMMIT, Z(2, 1)), (kind::COMMIT, Z(2, 2))]
    );
    assert_eq!(l.last_committed(), Z(2, 2));
    assert_eq!(l.outstanding_proposals(), 0);
    // Late and unknown acks change nothing.
    l.receive(3, pk(kind::ACK, Z(2, 1)), 9);
    l.receive(3, pk(kind::ACK, Z(2, 9)), 9);
    let r = l.take_ready();
    assert!(r.commit.is_none() && r.send.is_empty() && r.close.is_empty());
    // Two followers commit without the leader; the leader alone with one.
    l.propose(create(Z(2, 3)));
    l.receive(2, pk(kind::ACK, Z(2, 3)), 10);
    assert_eq!(l.take_ready().commit, None);
    l.local_durable(Z(2, 3));
    assert_eq!(l.take_ready().commit, Some(Z(2, 3)));
}

#[test]
fn late_followers_get_outstanding_proposals_and_observers_informs() {
    let (mut l, _) = established(2, false);
    l.propose(create(Z(2, 1)));
    l.take_ready();
    // Sid 3 joins with (2,1) outstanding: after its DIFF comes the
    // proposal, before NEWLEADER; its commit comes through the broadcast.
    l.connected(3, 10);
    l.receive(3, info(3, 2), 10);
    l.receive(3, packet::ack_epoch(Z(1, 2), -1), 11);
    // The observer too, but it gets no proposals.
    l.connected(4, 10);
    l.receive(4, packet::learner_info(kind::OBSERVERINFO, 4, 2, 0), 10);
    l.receive(4, packet::ack_epoch(Z(1, 2), -1), 11);
    let r = l.take_ready();
    assert_eq!(
        sent_to(&r, 3),
        vec![
            (kind::LEADERINFO, Z(2, 0)),
            (kind::DIFF, Z(1, 2)),
            (kind::PROPOSAL, Z(2, 1)),
            (kind::NEWLEADER, Z(2, 0)),
        ]
    );
    assert_eq!(
        sent_to(&r, 4),
        vec![
            (kind::LEADERINFO, Z(2, 0)),
            (kind::DIFF, Z(1, 2)),
            (kind::NEWLEADER, Z(2, 0)),
        ]
    );
    assert_eq!(l.synced_followers(), 2);
    assert_eq!(l.synced_observers(), 1);
    assert_eq!(l.learner_count(), 3);
    l.local_durable(Z(2, 1));
    l.receive(2, pk(kind::ACK, Z(2, 1)), 12);
    let r = l.take_ready();
    assert_eq!(r.commit, Some(Z(2, 1)));
    assert_eq!(sent_to(&r, 3), vec![(kind::COMMIT, Z(2, 1))]);
    assert_eq!(sent_to(&r, 4), vec![(kind::INFORM, Z(2, 1))]);
    let inform = r
        .send
        .iter()
        .find_map(|(p, o)| match o {
            Outgoing::Packet(q) if *p == 4 => Some(q.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(packet::txn_of(&inform).unwrap(), create(Z(2, 1)));
    // Observer acks do not count towards a quorum.
    l.receive(4, pk(kind::ACK, Z(2, 0)), 13);
    l.receive(4, pk(kind::ACK, Z(2, 0)), 13);
    assert_eq!(sent_to(&l.take_ready(), 4), vec![(kind::UPTODATE, -1)]);
    l.propose(create(Z(2, 2)));
    l.receive(4, pk(kind::ACK, Z(2, 2)), 14);
    l.local_durable(Z(2, 2));
    let r = l.take_ready();
    assert_eq!(sent_to(&r, 4), vec![], "no PROPOSAL to an observer");
    assert_eq!(r.commit, None);
}

#[test]
fn syncs_wait_for_what_was_proposed_before_them() {
    let (mut l, _) = established(0, false);
    let sync = pk(kind::SYNC, 0);
    l.sync(2, sync.clone());
    assert_eq!(sent_to(&l.take_ready(), 2), vec![(kind::SYNC, 0)]);
    l.propose(create(Z(2, 1)));
    l.sync(2, sync.clone());
    l.propose(create(Z(2, 2)));
    l.sync(2, sync);
    assert_eq!(l.pending_syncs(), 2);
    l.take_ready();
    l.local_durable(Z(2, 2));
    l.receive(2, pk(kind::ACK, Z(2, 1)), 7);
    let r = l.take_ready();
    assert_eq!(
        sent_to(&r, 2),
        vec![(kind::COMMIT, Z(2, 1)), (kind::SYNC, 0)]
    );
    l.receive(2, pk(kind::ACK, Z(2, 2)), 8);
    let r = l.take_ready();
    assert_eq!(
        sent_to(&r, 2),
        vec![(kind::COMMIT, Z(2, 2)), (kind::SYNC, 0)]
    );
    assert_eq!(l.pending_syncs(), 0);
}

#[test]
fn requests_and_pings_of_synced_learners_go_to_the_core() {
    let (mut l, _) = established(0, true);
    let req = packet::request(7, 1, op::CREATE, b"body", &[]);
    l.receive(3, pk(kind::ACK, Z(2, 0)), 6);
    let r = l.take_ready();
    assert_eq!(sent_to(&r, 3), vec![(kind::UPTODATE, -1)]);
    l.receive(3, req.clone(), 7);
    l.receive(3, packet::ping_reply(0, &[(7, 3000)]), 7);
    l.receive(3, packet::revalidate(7, 3000), 7);
    l.send(3, packet::revalidate_answer(7, true));
    let r = l.take_ready();
    let got: Vec<(PeerId, u64, i32)> = r
        .from_learners
        .iter()
        .map(|(p, s, q)| (*p, *s, q.type_))
        .collect();
    assert_eq!(
        got,
        vec![
            (3, 3, kind::REQUEST),
            (3, 3, kind::PING),
            (3, 3, kind::REVALIDATE)
        ]
    );
    assert_eq!(sent_to(&r, 3), vec![(kind::REVALIDATE, -1)]);
}

#[test]
fn pings_twice_a_tick_and_losing_the_quorum_gives_up() {
    let (mut l, _) = established(0, false);
    let start = 5;
    assert_eq!(l.next_deadline(), Some(start + TICK / 2));
    l.tick(start + TICK / 2);
    let r = l.take_ready();
    assert_eq!(sent_to(&r, 2), vec![(kind::PING, Z(2, 0))]);
    // Sid 2 answers every ping: the leader stays.
    let mut now = start + TICK / 2;
    for _ in 0..4 * (INIT + SYNC) {
        now += TICK / 2;
        l.receive(2, packet::ping_reply(Z(2, 0), &[]), now);
        l.tick(now);
        let r = l.take_ready();
        assert!(r.give_up.is_none(), "at {now}");
        assert_eq!(sent_to(&r, 2), vec![(kind::PING, Z(2, 0))]);
        assert_eq!(r.from_learners.len(), 1);
    }
    // Then it goes quiet: after syncLimit ticks it is no longer synced.
    let quiet_from = now;
    let mut gave_up = None;
    while gave_up.is_none() && now < quiet_from + 4 * SYNC * TICK {
        now += TICK / 2;
        l.tick(now);
        gave_up = l.take_ready().give_up;
    }
    let why = gave_up.expect("gave up");
    assert!(
        why.starts_with("Not sufficient followers synced, only synced with sids: [ 1 ]"),
        "{why}"
    );
    assert!(now - quiet_from > SYNC * TICK && now - quiet_from <= (SYNC + 1) * TICK + TICK);
    assert!(l.is_stopped());
}

#[test]
fn waiting_too_long_for_the_epoch_or_its_acks_gives_up() {
    let mut l = leader_with(0);
    assert_eq!(l.next_deadline(), Some(INIT * TICK));
    l.tick(INIT * TICK - 1);
    assert!(l.take_ready().give_up.is_none());
    l.tick(INIT * TICK);
    assert_eq!(
        l.take_ready().give_up.as_deref(),
        Some("Timeout while waiting for epoch from quorum")
    );

    let mut l = leader_with(0);
    l.connected(2, 500);
    l.receive(2, info(2, 0), 500);
    l.take_ready();
    l.tick(500 + INIT * TICK);
    assert_eq!(
        l.take_ready().give_up.as_deref(),
        Some("Timeout while waiting for epoch to be acked by quorum")
    );

    let mut l = leader_with(0);
    l.connected(2, 0);
    l.receive(2, info(2, 0), 0);
    l.receive(2, packet::ack_epoch(0, 0), 100);
    l.tick(100 + INIT * TICK);
    let r = l.take_ready();
    assert_eq!(
        r.give_up.as_deref(),
        Some("Waiting for a quorum of followers, only synced with sids: [ 1 ]")
    );
    assert_eq!(closed(&r), vec![2]);
}

#[test]
fn a_learner_too_slow_to_sync_or_to_ack_is_dropped() {
    let (mut l, _) = established(0, true);
    // Sid 3 never acks NEWLEADER: dropped after initLimit ticks of silence.
    let mut now = 5;
    while now < 4 + INIT * TICK + TICK {
        now += TICK / 2;
        l.receive(2, packet::ping_reply(Z(2, 0), &[]), now);
        l.tick(now);
    }
    let _ = l.take_ready();
    assert_eq!(l.learner_count(), 1);
    assert!(l.is_established());
    // Sid 2 does not ack a proposal within syncLimit ticks: dropped at a ping.
    l.propose(create(Z(2, 1)));
    let proposed = now;
    let mut dropped = false;
    while !dropped && now < proposed + 2 * SYNC * TICK {
        now += TICK / 2;
        l.receive(2, packet::ping_reply(Z(2, 0), &[]), now);
        l.tick(now);
        let r = l.take_ready();
        dropped = closed(&r) == vec![2];
    }
    assert!(dropped);
    assert!(now - proposed >= SYNC * TICK);
}

#[test]
fn strangers_and_malformed_packets_close_only_their_connection() {
    let (mut l, _) = established(0, false);
    let mut peer = 100;
    let mut expect_closed = |l: &mut Leader, packets: Vec<QuorumPacket>, what: &str| {
        peer += 1;
        l.connected(peer, 10);
        for p in packets {
            l.receive(peer, p, 10);
        }
        let r = l.take_ready();
        assert_eq!(closed(&r), vec![peer], "{what}");
        assert!(r.give_up.is_none(), "{what}");
        // Anything after the close is ignored.
        l.receive(peer, pk(kind::PING, 0), 11);
        assert!(l.take_ready().send.is_empty());
    };
    expect_closed(&mut l, vec![pk(kind::PING, 0)], "first packet not an info");
    expect_closed(&mut l, vec![info(9, 2)], "unknown sid");
    expect_closed(&mut l, vec![info(1, 2)], "our own sid");
    expect_closed(&mut l, vec![info(4, 2)], "an observer as a follower");
    expect_closed(
        &mut l,
        vec![packet::learner_info(kind::OBSERVERINFO, 3, 2, 0)],
        "a voter as an observer",
    );
    expect_closed(
        &mut l,
        vec![packet::learner_info(kind::FOLLOWERINFO, 3, 2, 1)],
        "a later config",
    );
    expect_closed(
        &mut l,
        vec![packet::packet(
            kind::FOLLOWERINFO,
            0,
            Some(Bytes::from_static(&[0, 0, 0])),
        )],
        "no sid",
    );
    expect_closed(
        &mut l,
        vec![
            info(3, 2),
            packet::packet(kind::ACKEPOCH, 0, Some(Bytes::from_static(&[0]))),
        ],
        "short ACKEPOCH",
    );
    expect_closed(
        &mut l,
        vec![info(3, 2), pk(kind::ACK, 0)],
        "ACK instead of ACKEPOCH",
    );
    expect_closed(
        &mut l,
        vec![info(3, 2), packet::ack_epoch(0, -1), pk(kind::PING, 0)],
        "PING instead of the NEWLEADER ack",
    );
    let synced = || vec![info(3, 2), packet::ack_epoch(0, -1), pk(kind::ACK, Z(2, 0))];
    let mut with = |extra: QuorumPacket, what: &str| {
        let mut v = synced();
        v.push(extra);
        expect_closed(&mut l, v, what);
    };
    with(
        packet::packet(kind::REQUEST, -1, Some(Bytes::from_static(&[1; 10]))),
        "short REQUEST",
    );
    with(
        packet::packet(kind::PING, 0, Some(Bytes::from_static(&[1; 13]))),
        "a PING reply with a partial touch",
    );
    with(
        packet::packet(kind::REVALIDATE, -1, Some(Bytes::from_static(&[1; 9]))),
        "short REVALIDATE",
    );
    with(info(3, 2), "FOLLOWERINFO again");
    // Sid 2 was never disturbed.
    assert!(l.is_established());
    assert_eq!(l.learners(), vec![(2, 2, false)]);
    // An unknown packet type is only logged (as Java does).
    l.receive(2, pk(99, 0), 12);
    let r = l.take_ready();
    assert!(r.close.is_empty());
}

#[test]
fn a_reconnecting_learner_replaces_its_old_connection() {
    let (mut l, _) = established(0, false);
    l.connected(7, 10);
    l.receive(7, info(2, 2), 10);
    let r = l.take_ready();
    assert_eq!(closed(&r), vec![2]);
    assert_eq!(sent_to(&r, 7), vec![(kind::LEADERINFO, Z(2, 0))]);
}

#[test]
fn rollover_and_out_of_order_proposals_stop_the_leader() {
    let (mut l, _) = established(0, false);
    l.propose(create(Z(2, 0xffff_ffff)));
    assert!(l.take_ready().give_up.unwrap().contains("rolled over"));
    let (mut l, _) = established(0, false);
    l.propose(create(Z(2, 2)));
    l.propose(create(Z(2, 1)));
    assert!(l.take_ready().give_up.is_some());
}
