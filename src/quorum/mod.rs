//! Quorum mode: what a server needs to run in an ensemble with Java 3.8
//! peers.
//!
//! Leader election (Java's QuorumCnxManager + FastLeaderElection, on the
//! election port):
//! - [`verifier`]: who votes and what a quorum is (QuorumMaj,
//!   QuorumHierarchical), and the config text peers exchange.
//! - [`vote`]: server states, votes and the order in which votes win.
//! - [`election_wire`]: the election port's byte formats (handshake,
//!   framing, notifications).
//! - [`election`]: FastLeaderElection as a deterministic state machine:
//!   messages and time in, messages to send and the decision out.
//! - [`cnx`]: the TCP transport between peers (QuorumCnxManager).
//! - [`election_service`]: a task joining the state machine to the
//!   transport, for the quorum peer's main loop.
//! - `election_sim` (tests only): a seeded simulation of several elections
//!   on a faulty network.
//! - `zab_sim` (tests only): a seeded simulation of whole ensembles
//!   (election, leader, learner sync, broadcast) with crashes, restarts
//!   and a faulty network, checking ZAB's invariants after every step.
//!
//! ZAB (the quorum port):
//! - [`zab`]: packets, a learner's epoch handshake and sync, and the
//!   leader's side as a state machine.
//!
//! - [`metrics`]: quorum counters for `mntr`.
//! - [`peer`]: the peer's main loop: recover, elect, then follow or lead.

pub mod cnx;
pub mod election;
pub mod election_service;
#[cfg(test)]
mod election_sim;
pub mod election_wire;
pub mod metrics;
pub mod peer;
pub mod verifier;
pub mod vote;
pub mod zab;
#[cfg(test)]
mod zab_sim;
