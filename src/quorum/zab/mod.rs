//! ZAB on the quorum port (2888), as Java ZooKeeper 3.8 speaks it.
//!
//! - [`packet`]: QuorumPacket types, framing on the stream, and the
//!   layouts of their data fields.
//! - [`zxid`]: zxids as (epoch, counter) pairs.
//! - [`learner_sync`]: a learner's epoch handshake and sync with its
//!   leader, over a link and a disk it is given.
//! - [`leader`]: the leader's side (epoch, per-learner sync with the
//!   DIFF/TRUNC/SNAP choice, broadcast, pings) as a deterministic state
//!   machine with no I/O.
//! - `sim_learner` (tests only): the real learner sync run as a coroutine
//!   for the ensemble simulation (`quorum::zab_sim`), and the simulated
//!   node's disk.

pub mod leader;
pub mod learner_sync;
pub mod packet;
#[cfg(test)]
pub mod sim_learner;
pub mod zxid;
