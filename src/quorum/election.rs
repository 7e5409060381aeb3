//! FastLeaderElection (Java's electionAlg=3) as a deterministic state
//! machine: notifications and the time come in, notifications to send and
//! the decision come out. It never touches the network or a clock, so the
//! same inputs always give the same outputs (see `election_sim` for the
//! seeded simulation this allows).
//!
//! It covers both halves of Java's FastLeaderElection: the WorkerReceiver,
//! which answers peers whatever our state (non-voters at once, lagging
//! LOOKING peers with our proposal, LOOKING peers with our settled vote
//! once we follow or lead), and lookForLeader, one election round:
//! - the round number (logicalclock) goes up by one per round and jumps to
//!   any higher round a LOOKING peer is in, dropping the votes gathered;
//! - a proposal is replaced by any better vote (epoch, zxid, sid), and
//!   every change is sent to all voters;
//! - once a quorum agrees with our proposal we wait finalizeWait (200 ms)
//!   for a better vote before deciding; a worse one restarts the wait;
//! - FOLLOWING/LEADING notifications let us join an ensemble that already
//!   has a leader, if a quorum backs it and the leader itself says it leads;
//! - with no notification for a while, ours are sent again, the wait
//!   doubling from 200 ms to 60 s.
//!
//! Messages to ourselves (Java's loopback) are handled inside.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::election_wire::{Notification, NOTIFICATION_VERSION};
use super::verifier::QuorumVerifier;
use super::vote::{beats, ServerState, Vote};

/// FastLeaderElection.finalizeWait, and the first resend interval.
pub const FINALIZE_WAIT_MS: i64 = 200;
/// maxNotificationInterval: the longest wait between resends.
pub const MAX_NOTIFICATION_INTERVAL_MS: i64 = 60_000;
/// Notifications kept while LOOKING before a round starts (Java's
/// receive queue holds 100 and drops the oldest).
const PENDING_CAPACITY: usize = 100;
/// Loopback messages handled per call; they cannot cascade further than
/// a couple of rounds, this only bounds a bug.
const LOOPBACK_LIMIT: usize = 64;

/// What a call asks the caller to do.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Output {
    /// Notifications to send, by recipient sid.
    pub send: Vec<(u64, Notification)>,
    /// Set when the round ended: the vote and the state to go to.
    pub decided: Option<(Vote, ServerState)>,
    /// Make sure there is a connection to every peer (after a quiet spell).
    pub connect_all: bool,
}

/// The running round's bookkeeping.
#[derive(Debug)]
struct Round {
    /// Votes of this round, by sender (recvset).
    votes: BTreeMap<u64, Vote>,
    /// Votes of servers that say they follow or lead (outofelection).
    settled_votes: BTreeMap<u64, Vote>,
    /// The current resend interval (notTimeout).
    interval: i64,
    /// When to resend, or when to decide if finalizing.
    deadline: i64,
    /// A quorum agrees with the proposal; deciding at `deadline` unless a
    /// better vote comes.
    finalizing: bool,
}

pub struct Election {
    my_id: u64,
    qv: QuorumVerifier,
    participant: bool,
    /// The config text every notification carries.
    config: Vec<u8>,
    state: ServerState,
    logical_clock: i64,
    /// (leader, zxid, peer epoch) we propose.
    proposal: (i64, i64, i64),
    /// Our last zxid and epoch, as given to `look`.
    last_zxid: i64,
    current_epoch: i64,
    /// QuorumPeer.currentVote: what we answer with when asked by
    /// non-voters or, once settled, by LOOKING peers. None before the first
    /// round.
    current_vote: Option<Vote>,
    round: Option<Round>,
    /// Received while LOOKING before the first round started.
    pending: VecDeque<(u64, Notification)>,
    loopback: VecDeque<Notification>,
}

impl Election {
    /// `participant` is our learner type (false for an observer).
    pub fn new(my_id: u64, qv: QuorumVerifier, participant: bool) -> Election {
        let config = qv.config_string().into_bytes();
        Election {
            my_id,
            qv,
            participant,
            config,
            state: ServerState::Looking,
            logical_clock: 0,
            proposal: (-1, -1, 0),
            last_zxid: -1,
            current_epoch: -1,
            current_vote: None,
            round: None,
            pending: VecDeque::new(),
            loopback: VecDeque::new(),
        }
    }

    pub fn my_id(&self) -> u64 {
        self.my_id
    }

    pub fn state(&self) -> ServerState {
        self.state
    }

    pub fn logical_clock(&self) -> i64 {
        self.logical_clock
    }

    /// (leader, zxid, peer epoch) we currently propose.
    pub fn proposal(&self) -> (i64, i64, i64) {
        self.proposal
    }

    pub fn current_vote(&self) -> Option<Vote> {
        self.current_vote
    }

    /// Whether a round is running.
    pub fn is_looking(&self) -> bool {
        self.round.is_some()
    }

    pub fn verifier(&self) -> &QuorumVerifier {
        &self.qv
    }

    /// Starts a round (lookForLeader): next round number, vote for
    /// ourselves, tell every voter.
    pub fn look(&mut self, last_zxid: i64, current_epoch: i64, now_ms: i64) -> Output {
        let mut out = Output::default();
        self.state = ServerState::Looking;
        self.last_zxid = last_zxid;
        self.current_epoch = current_epoch;
        self.current_vote
            .get_or_insert(Vote::new(self.my_id as i64, last_zxid, -1, current_epoch));
        self.logical_clock += 1;
        self.proposal = self.initial_vote();
        self.round = Some(Round {
            votes: BTreeMap::new(),
            settled_votes: BTreeMap::new(),
            interval: FINALIZE_WAIT_MS,
            deadline: now_ms + FINALIZE_WAIT_MS,
            finalizing: false,
        });
        self.send_notifications(&mut out);
        let pending = std::mem::take(&mut self.pending);
        for (from, n) in pending {
            self.handle(from, n, now_ms, &mut out);
        }
        self.drain_loopback(now_ms, &mut out);
        out
    }

    /// One notification from `from`, in any state.
    pub fn receive(&mut self, from: u64, n: Notification, now_ms: i64) -> Output {
        let mut out = Output::default();
        self.handle(from, n, now_ms, &mut out);
        self.drain_loopback(now_ms, &mut out);
        out
    }

    /// Time passed: decide after the finalize wait, or resend after a quiet
    /// spell and double the wait.
    pub fn tick(&mut self, now_ms: i64) -> Output {
        let mut out = Output::default();
        let Some(round) = &mut self.round else {
            return out;
        };
        if now_ms < round.deadline {
            return out;
        }
        if round.finalizing {
            let (leader, zxid, epoch) = self.proposal;
            let vote = Vote::new(leader, zxid, self.logical_clock, epoch);
            self.decide(leader, vote, &mut out);
        } else {
            // Java resends if its queues drained and reconnects otherwise;
            // resending covers both, since a send opens a missing connection.
            round.interval = (round.interval * 2).min(MAX_NOTIFICATION_INTERVAL_MS);
            round.deadline = now_ms + round.interval;
            out.connect_all = true;
            self.send_notifications(&mut out);
            self.drain_loopback(now_ms, &mut out);
        }
        out
    }

    /// We follow, lead or observe now (or our vote changed, e.g. a new
    /// epoch): answer LOOKING peers with this vote. Ends any round.
    pub fn settled(&mut self, state: ServerState, vote: Vote) {
        if state == ServerState::Looking {
            return;
        }
        self.state = state;
        self.current_vote = Some(vote);
        self.round = None;
        self.loopback.clear();
    }

    /// When `tick` next has something to do.
    pub fn next_deadline(&self) -> Option<i64> {
        self.round.as_ref().map(|r| r.deadline)
    }

    /// getInitId, getInitLastLoggedZxid, getPeerEpoch.
    fn initial_vote(&self) -> (i64, i64, i64) {
        let id = if self.qv.is_voter(self.my_id) {
            self.my_id as i64
        } else {
            i64::MIN
        };
        if self.participant {
            (id, self.last_zxid, self.current_epoch)
        } else {
            (id, i64::MIN, i64::MIN)
        }
    }

    fn learning_state(&self) -> ServerState {
        if self.participant {
            ServerState::Following
        } else {
            ServerState::Observing
        }
    }

    fn notification(&self, state: ServerState, vote: (i64, i64, i64), epoch: i64) -> Notification {
        Notification {
            state: state.wire(),
            leader: vote.0,
            zxid: vote.1,
            election_epoch: epoch,
            peer_epoch: vote.2,
            version: NOTIFICATION_VERSION,
            config: Some(self.config.clone()),
        }
    }

    fn send_to(&mut self, sid: u64, n: Notification, out: &mut Output) {
        if sid == self.my_id {
            self.loopback.push_back(n);
        } else {
            out.send.push((sid, n));
        }
    }

    fn send_notifications(&mut self, out: &mut Output) {
        for sid in self.qv.voters() {
            let n = self.notification(ServerState::Looking, self.proposal, self.logical_clock);
            self.send_to(sid, n, out);
        }
    }

    fn drain_loopback(&mut self, now_ms: i64, out: &mut Output) {
        for _ in 0..LOOPBACK_LIMIT {
            let Some(n) = self.loopback.pop_front() else {
                return;
            };
            self.handle(self.my_id, n, now_ms, out);
        }
        self.loopback.clear();
    }

    /// WorkerReceiver: answer what needs answering, then hand the
    /// notification to the round if one runs.
    fn handle(&mut self, from: u64, n: Notification, now_ms: i64, out: &mut Output) {
        let Some(current) = self.current_vote else {
            // Before the first round: keep it for that round.
            if self.pending.len() == PENDING_CAPACITY {
                self.pending.pop_front();
            }
            self.pending.push_back((from, n));
            return;
        };
        let cur = (current.id, current.zxid, current.peer_epoch);
        if !self.qv.is_voter(from) {
            // Observers and servers outside the config get our vote at once.
            let reply = self.notification(self.state, cur, self.logical_clock);
            self.send_to(from, reply, out);
            return;
        }
        let Some(their_state) = ServerState::from_wire(n.state) else {
            return;
        };
        if self.state == ServerState::Looking {
            if their_state == ServerState::Looking && n.election_epoch < self.logical_clock {
                let reply =
                    self.notification(ServerState::Looking, self.proposal, self.logical_clock);
                self.send_to(from, reply, out);
            }
            if self.round.is_some() {
                self.process(from, their_state, &n, now_ms, out);
            }
        } else if their_state == ServerState::Looking {
            let reply = self.notification(self.state, cur, current.election_epoch);
            self.send_to(from, reply, out);
        }
    }

    /// One iteration of lookForLeader's loop for a received notification.
    fn process(
        &mut self,
        from: u64,
        state: ServerState,
        n: &Notification,
        now_ms: i64,
        out: &mut Output,
    ) {
        let their = (n.leader, n.zxid, n.peer_epoch);
        let Some(round) = &mut self.round else {
            return;
        };
        if round.finalizing {
            if beats(&self.qv, their, self.proposal) {
                // A better vote: back to the main loop, which takes it next.
                round.finalizing = false;
            } else {
                // Java's finalize loop drops worse votes and waits again.
                round.deadline = now_ms + FINALIZE_WAIT_MS;
                return;
            }
        }
        round.deadline = now_ms + round.interval;
        if !self.qv.is_voter(from) || !self.qv.is_voter_id(n.leader) {
            return;
        }
        match state {
            ServerState::Looking => self.process_looking(from, n, now_ms, out),
            ServerState::Observing => {}
            ServerState::Following | ServerState::Leading => {
                self.process_settled(from, state, n, out)
            }
        }
    }

    fn process_looking(&mut self, from: u64, n: &Notification, now_ms: i64, out: &mut Output) {
        if self.initial_vote().1 == -1 || n.zxid == -1 {
            return;
        }
        let their = (n.leader, n.zxid, n.peer_epoch);
        if n.election_epoch > self.logical_clock {
            self.logical_clock = n.election_epoch;
            if let Some(r) = &mut self.round {
                r.votes.clear();
            }
            let init = self.initial_vote();
            self.proposal = if beats(&self.qv, their, init) {
                their
            } else {
                init
            };
            self.send_notifications(out);
        } else if n.election_epoch < self.logical_clock {
            return;
        } else if beats(&self.qv, their, self.proposal) {
            self.proposal = their;
            self.send_notifications(out);
        }
        let (leader, zxid, epoch) = self.proposal;
        let ours = Vote::new(leader, zxid, self.logical_clock, epoch);
        let Some(round) = &mut self.round else {
            return;
        };
        round.votes.insert(
            from,
            Vote::new(n.leader, n.zxid, n.election_epoch, n.peer_epoch),
        );
        if has_quorum(&self.qv, &round.votes, &ours) {
            round.finalizing = true;
            round.deadline = now_ms + FINALIZE_WAIT_MS;
        }
    }

    /// receivedFollowingNotification (LEADING goes the same way without
    /// an oracle).
    fn process_settled(
        &mut self,
        from: u64,
        state: ServerState,
        n: &Notification,
        out: &mut Output,
    ) {
        let theirs = Vote {
            version: n.version,
            id: n.leader,
            zxid: n.zxid,
            election_epoch: n.election_epoch,
            peer_epoch: n.peer_epoch,
            state,
        };
        let end_vote = Vote::new(n.leader, n.zxid, n.election_epoch, n.peer_epoch);
        let clock = self.logical_clock;
        let my_id = self.my_id;
        let Some(round) = &mut self.round else {
            return;
        };
        if n.election_epoch == clock {
            // Same round: they count with the LOOKING votes (stored, as
            // Java does, with format version 0).
            round.votes.insert(
                from,
                Vote {
                    version: 0,
                    ..theirs
                },
            );
            if has_quorum(&self.qv, &round.votes, &theirs)
                && check_leader(&round.votes, n.leader, n.election_epoch, my_id, clock)
            {
                self.decide(n.leader, end_vote, out);
                return;
            }
        }
        // Any round: enough servers that say they follow this leader, and
        // the leader saying it leads, are an ensemble to join.
        round.settled_votes.insert(from, theirs);
        if has_quorum(&self.qv, &round.settled_votes, &theirs)
            && check_leader(
                &round.settled_votes,
                n.leader,
                n.election_epoch,
                my_id,
                clock,
            )
        {
            self.logical_clock = n.election_epoch;
            self.decide(n.leader, end_vote, out);
        }
    }

    fn decide(&mut self, leader: i64, vote: Vote, out: &mut Output) {
        let state = if leader == self.my_id as i64 {
            ServerState::Leading
        } else {
            self.learning_state()
        };
        self.state = state;
        self.current_vote = Some(vote);
        self.round = None;
        // leaveInstance drops whatever is queued.
        self.loopback.clear();
        out.decided = Some((vote, state));
    }
}

/// SyncedLearnerTracker over one config: the voters whose vote agrees
/// with `vote` make a quorum.
fn has_quorum(qv: &QuorumVerifier, votes: &BTreeMap<u64, Vote>, vote: &Vote) -> bool {
    let acks: BTreeSet<u64> = votes
        .iter()
        .filter(|(&sid, v)| qv.is_voter(sid) && vote.agrees_with(v))
        .map(|(&sid, _)| sid)
        .collect();
    qv.contains_quorum(&acks)
}

/// checkLeader: another leader must itself say it leads; we may only lead
/// from our own round.
fn check_leader(
    votes: &BTreeMap<u64, Vote>,
    leader: i64,
    election_epoch: i64,
    my_id: u64,
    clock: i64,
) -> bool {
    if leader != my_id as i64 {
        u64::try_from(leader)
            .ok()
            .and_then(|sid| votes.get(&sid))
            .is_some_and(|v| v.state == ServerState::Leading)
    } else {
        clock == election_epoch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quorum::verifier::tests::{hier, maj};

    fn looking(leader: i64, zxid: i64, round: i64, epoch: i64) -> Notification {
        Notification {
            state: ServerState::Looking.wire(),
            leader,
            zxid,
            election_epoch: round,
            peer_epoch: epoch,
            version: NOTIFICATION_VERSION,
            config: None,
        }
    }

    fn settled(state: ServerState, leader: i64, round: i64, epoch: i64) -> Notification {
        Notification {
            state: state.wire(),
            ..looking(leader, 0x1_0000_0000, round, epoch)
        }
    }

    fn targets(out: &Output) -> Vec<u64> {
        out.send.iter().map(|(s, _)| *s).collect()
    }

    /// Delivers everything at once, in order, until nothing moves; then
    /// jumps to the next deadline. Returns the decisions.
    fn run(nodes: &mut [Election], outs: Vec<(u64, Output)>) -> BTreeMap<u64, (Vote, ServerState)> {
        let mut decided = BTreeMap::new();
        let mut queue: VecDeque<(u64, u64, Notification)> = VecDeque::new();
        let collect =
            |from: u64, out: Output, queue: &mut VecDeque<_>, decided: &mut BTreeMap<_, _>| {
                for (to, n) in out.send {
                    queue.push_back((from, to, n));
                }
                if let Some(d) = out.decided {
                    decided.insert(from, d);
                }
            };
        for (from, out) in outs {
            collect(from, out, &mut queue, &mut decided);
        }
        let mut now = 0;
        for _ in 0..10_000 {
            if let Some((from, to, n)) = queue.pop_front() {
                if let Some(node) = nodes.iter_mut().find(|e| e.my_id() == to) {
                    let out = node.receive(from, n, now);
                    collect(to, out, &mut queue, &mut decided);
                }
                continue;
            }
            let Some(next) = nodes.iter().filter_map(|e| e.next_deadline()).min() else {
                break;
            };
            now = now.max(next);
            for node in nodes.iter_mut() {
                let id = node.my_id();
                let out = node.tick(now);
                collect(id, out, &mut queue, &mut decided);
            }
        }
        decided
    }

    #[test]
    fn three_fresh_servers_elect_the_highest_sid() {
        let qv = maj(&[1, 2, 3], &[]);
        let mut nodes: Vec<Election> = (1..=3)
            .map(|i| Election::new(i, qv.clone(), true))
            .collect();
        let outs: Vec<(u64, Output)> = nodes
            .iter_mut()
            .map(|e| (e.my_id(), e.look(0, 0, 0)))
            .collect();
        // Each tells the other two (and itself, inside).
        assert_eq!(targets(&outs[0].1), vec![2, 3]);
        assert_eq!(outs[0].1.send[0].1.leader, 1);
        let decided = run(&mut nodes, outs);
        assert_eq!(decided.len(), 3);
        assert_eq!(decided[&3].1, ServerState::Leading);
        assert_eq!(decided[&1].1, ServerState::Following);
        assert_eq!(decided[&2].1, ServerState::Following);
        for (vote, _) in decided.values() {
            assert_eq!((vote.id, vote.zxid, vote.election_epoch), (3, 0, 1));
        }
    }

    #[test]
    fn highest_zxid_then_epoch_wins() {
        let qv = maj(&[1, 2, 3], &[]);
        let mut nodes: Vec<Election> = (1..=3)
            .map(|i| Election::new(i, qv.clone(), true))
            .collect();
        let zxids = [0x1_0000_0007, 0x1_0000_0003, 0x1_0000_0003];
        let outs: Vec<(u64, Output)> = nodes
            .iter_mut()
            .zip(zxids)
            .map(|(e, z)| (e.my_id(), e.look(z, 1, 0)))
            .collect();
        let decided = run(&mut nodes, outs);
        assert_eq!(decided[&1].1, ServerState::Leading);
        assert!(decided
            .values()
            .all(|(v, _)| v.id == 1 && v.zxid == 0x1_0000_0007));
        // A higher epoch beats a higher zxid.
        let mut nodes: Vec<Election> = (1..=3)
            .map(|i| Election::new(i, qv.clone(), true))
            .collect();
        let outs = vec![
            (1, nodes[0].look(0x1_0000_0009, 1, 0)),
            (2, nodes[1].look(0x2_0000_0000, 2, 0)),
            (3, nodes[2].look(0x1_0000_0009, 1, 0)),
        ];
        let decided = run(&mut nodes, outs);
        assert!(decided.values().all(|(v, _)| v.id == 2));
    }

    #[test]
    fn joins_an_established_ensemble_in_the_same_round() {
        let mut e = Election::new(3, maj(&[1, 2, 3], &[]), true);
        e.look(0, 0, 0);
        // 1 follows 2: 2 has no LEADING word yet, so no decision.
        let out = e.receive(1, settled(ServerState::Following, 2, 1, 1), 10);
        assert_eq!(out.decided, None);
        let out = e.receive(2, settled(ServerState::Leading, 2, 1, 1), 20);
        let (vote, state) = out.decided.expect("joins");
        assert_eq!(state, ServerState::Following);
        assert_eq!((vote.id, vote.election_epoch, vote.peer_epoch), (2, 1, 1));
        assert_eq!(e.next_deadline(), None);
    }

    #[test]
    fn joins_an_ensemble_from_another_round() {
        let mut e = Election::new(3, maj(&[1, 2, 3], &[]), true);
        e.look(0, 0, 0);
        // The ensemble was elected in round 5; we are in round 1.
        assert_eq!(
            e.receive(2, settled(ServerState::Leading, 2, 5, 4), 10)
                .decided,
            None
        );
        let (vote, state) = e
            .receive(1, settled(ServerState::Following, 2, 5, 4), 20)
            .decided
            .expect("joins");
        assert_eq!((vote.id, state), (2, ServerState::Following));
        assert_eq!(e.logical_clock(), 5);
    }

    #[test]
    fn check_leader_wants_the_leader_itself() {
        let mut e = Election::new(3, maj(&[1, 2, 3, 4, 5], &[]), true);
        e.look(0, 0, 0);
        // Three followers of 2, a quorum, but 2 never says it leads.
        for from in [1, 4, 5] {
            let out = e.receive(from, settled(ServerState::Following, 2, 7, 1), 10);
            assert_eq!(out.decided, None);
        }
        // A server claiming to follow a leader that is not a voter: ignored.
        let out = e.receive(1, settled(ServerState::Following, 9, 7, 1), 11);
        assert_eq!(out.decided, None);
        let out = e.receive(2, settled(ServerState::Leading, 2, 7, 1), 12);
        assert_eq!(out.decided.map(|d| d.0.id), Some(2));
    }

    #[test]
    fn finalize_wait_lets_a_better_late_vote_win() {
        let mut e = Election::new(1, maj(&[1, 2, 3], &[]), true);
        e.look(0, 0, 0);
        // 2 proposes itself: better, we switch and tell everyone.
        let out = e.receive(2, looking(2, 0, 1, 0), 10);
        assert_eq!(targets(&out), vec![2, 3]);
        assert!(out.send.iter().all(|(_, n)| n.leader == 2));
        // 2 and we agree: a quorum, finalizing until 10 + 200.
        assert_eq!(e.next_deadline(), Some(210));
        assert_eq!(e.tick(209).decided, None);
        // A worse vote restarts the wait.
        let out = e.receive(3, looking(1, 0, 1, 0), 150);
        assert!(out.send.is_empty() && out.decided.is_none());
        assert_eq!(e.next_deadline(), Some(350));
        // 3 arrives, better: the outcome changes.
        let out = e.receive(3, looking(3, 0, 1, 0), 300);
        assert!(out.send.iter().all(|(_, n)| n.leader == 3));
        assert_eq!(e.tick(350).decided, None);
        // Only we and 3 back 3: a quorum again; decide after the wait.
        assert_eq!(e.next_deadline(), Some(500));
        let (vote, state) = e.tick(500).decided.expect("decides");
        assert_eq!((vote.id, state), (3, ServerState::Following));
    }

    #[test]
    fn without_a_better_vote_the_wait_ends_in_a_decision() {
        let mut e = Election::new(3, maj(&[1, 2, 3], &[]), true);
        e.look(0, 0, 0);
        e.receive(1, looking(3, 0, 1, 0), 5);
        assert_eq!(e.tick(204).decided, None);
        let (vote, state) = e.tick(205).decided.expect("decides");
        assert_eq!(
            (vote.id, vote.election_epoch, state),
            (3, 1, ServerState::Leading)
        );
    }

    #[test]
    fn higher_round_resets_and_lower_round_is_answered() {
        let mut e = Election::new(1, maj(&[1, 2, 3], &[]), true);
        e.look(0, 0, 0);
        // A peer in round 4 voting for 2: we jump to round 4 and adopt.
        let out = e.receive(2, looking(2, 0, 4, 0), 1);
        assert_eq!(e.logical_clock(), 4);
        assert!(out
            .send
            .iter()
            .all(|(_, n)| n.election_epoch == 4 && n.leader == 2));
        // A peer in round 4 voting for a worse server: we go back to our
        // own vote (compared with our initial vote, not the proposal).
        let mut f = Election::new(2, maj(&[1, 2, 3], &[]), true);
        f.look(0, 0, 0);
        let out = f.receive(1, looking(1, 0, 4, 0), 1);
        assert!(out
            .send
            .iter()
            .all(|(_, n)| n.leader == 2 && n.election_epoch == 4));
        // A lagging peer gets our proposal, and its vote is not counted.
        let out = e.receive(3, looking(3, 0, 2, 0), 2);
        assert_eq!(targets(&out), vec![3]);
        assert_eq!(out.send[0].1.election_epoch, 4);
        assert_eq!(out.send[0].1.leader, 2);
        assert_eq!(e.proposal().0, 2);
    }

    #[test]
    fn quiet_rounds_resend_with_doubling_waits() {
        let mut e = Election::new(1, maj(&[1, 2, 3], &[]), true);
        let out = e.look(0, 0, 0);
        assert_eq!(targets(&out), vec![2, 3]);
        let mut now = 0;
        let mut waits = Vec::new();
        for _ in 0..12 {
            let next = e.next_deadline().expect("looking");
            waits.push(next - now);
            now = next;
            let out = e.tick(now);
            assert!(out.connect_all);
            assert_eq!(targets(&out), vec![2, 3]);
        }
        assert_eq!(
            waits,
            vec![200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000, 60000]
        );
        // Early ticks do nothing.
        assert_eq!(e.tick(now + 1), Output::default());
    }

    #[test]
    fn non_voters_are_answered_with_the_current_vote() {
        let mut e = Election::new(1, maj(&[1, 2, 3], &[4]), true);
        e.look(0x5, 1, 0);
        // 4 observes, 9 is not in the config: both get our current vote
        // (not the proposal), whatever state they claim, even a bad one.
        for from in [4, 9] {
            let out = e.receive(from, looking(i64::MIN, i64::MIN, 1, i64::MIN), 1);
            assert_eq!(targets(&out), vec![from]);
            let n = &out.send[0].1;
            assert_eq!((n.state, n.leader, n.zxid, n.peer_epoch), (0, 1, 5, 1));
        }
        let mut bad = looking(1, 1, 1, 1);
        bad.state = 9;
        assert_eq!(targets(&e.receive(9, bad.clone(), 2)), vec![9]);
        // From a voter, an unknown state is dropped.
        assert_eq!(e.receive(2, bad, 2), Output::default());
    }

    #[test]
    fn settled_servers_answer_looking_peers() {
        let mut e = Election::new(2, maj(&[1, 2, 3], &[]), true);
        e.look(0, 0, 0);
        let vote = Vote::new(2, 0x1_0000_0000, 3, 1);
        e.settled(ServerState::Leading, vote);
        assert_eq!(e.next_deadline(), None);
        let out = e.receive(3, looking(3, 0, 1, 0), 5);
        assert_eq!(targets(&out), vec![3]);
        let n = &out.send[0].1;
        assert_eq!(
            (n.state, n.leader, n.zxid, n.election_epoch, n.peer_epoch),
            (2, 2, 0x1_0000_0000, 3, 1)
        );
        // Settled peers talk among themselves without answers.
        assert!(e
            .receive(1, settled(ServerState::Following, 2, 3, 1), 6)
            .send
            .is_empty());
    }

    #[test]
    fn observers_follow_the_ensemble() {
        let qv = maj(&[1, 2, 3], &[4]);
        let mut o = Election::new(4, qv, false);
        let out = o.look(0, 0, 0);
        // It tells the voters it backs nobody.
        assert_eq!(targets(&out), vec![1, 2, 3]);
        assert!(out
            .send
            .iter()
            .all(|(_, n)| n.leader == i64::MIN && n.zxid == i64::MIN));
        assert!(o
            .receive(1, settled(ServerState::Following, 3, 1, 1), 1)
            .decided
            .is_none());
        let (vote, state) = o
            .receive(3, settled(ServerState::Leading, 3, 1, 1), 2)
            .decided
            .expect("observes");
        assert_eq!((vote.id, state), (3, ServerState::Observing));
    }

    #[test]
    fn notifications_before_the_first_round_are_kept() {
        let mut e = Election::new(3, maj(&[1, 2, 3], &[]), true);
        assert_eq!(
            e.receive(1, settled(ServerState::Following, 2, 1, 1), 0),
            Output::default()
        );
        assert_eq!(
            e.receive(2, settled(ServerState::Leading, 2, 1, 1), 0),
            Output::default()
        );
        let out = e.look(0, 0, 1);
        assert_eq!(out.decided.map(|d| d.0.id), Some(2));
    }

    #[test]
    fn a_server_outside_the_config_is_never_counted() {
        let mut e = Election::new(1, maj(&[1, 2, 3], &[]), true);
        e.look(0, 0, 0);
        // 9 votes for 3: answered, but does not count towards 3.
        e.receive(9, looking(3, 0, 1, 0), 1);
        e.receive(3, looking(3, 0, 1, 0), 2);
        // Now 1 and 3 back 3: a quorum, from voters only.
        assert_eq!(e.next_deadline(), Some(202));
        // A vote for a candidate outside the config is ignored.
        let mut f = Election::new(1, maj(&[1, 2, 3], &[]), true);
        f.look(0, 0, 0);
        let out = f.receive(2, looking(9, 100, 1, 100), 1);
        assert!(out.send.is_empty());
        assert_eq!(f.proposal().0, 1);
    }

    #[test]
    fn a_weight_zero_server_is_never_elected() {
        let weights = BTreeMap::from([(3, 0)]);
        let qv = hier(&[1, 2, 3], vec![(1, vec![1, 2, 3])], weights);
        let mut nodes: Vec<Election> = (1..=3)
            .map(|i| Election::new(i, qv.clone(), true))
            .collect();
        let outs: Vec<(u64, Output)> = nodes
            .iter_mut()
            .map(|e| (e.my_id(), e.look(0, 0, 0)))
            .collect();
        let decided = run(&mut nodes, outs);
        assert_eq!(decided.len(), 3);
        assert!(decided.values().all(|(v, _)| v.id == 2), "{decided:?}");
        assert_eq!(decided[&2].1, ServerState::Leading);
    }

    #[test]
    fn a_server_missing_from_its_own_config_follows_the_ensemble() {
        // We are 9, in nobody's config: we back nobody and learn the
        // leader from the voters' answers.
        let mut e = Election::new(9, maj(&[1, 2, 3], &[]), true);
        let out = e.look(0, 0, 0);
        assert_eq!(targets(&out), vec![1, 2, 3]);
        assert!(out.send.iter().all(|(_, n)| n.leader == i64::MIN));
        e.receive(1, settled(ServerState::Following, 3, 1, 1), 1);
        let (vote, state) = e
            .receive(3, settled(ServerState::Leading, 3, 1, 1), 2)
            .decided
            .expect("follows");
        assert_eq!((vote.id, state), (3, ServerState::Following));
    }
}
