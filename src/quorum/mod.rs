//! Quorum mode: the peer side of a ZooKeeper ensemble.
//!
//! - [`zab`]: the ZAB protocol on the quorum port: packets and the
//!   learner's state machine.

pub mod zab;
