//! Persistence: the files Java ZooKeeper 3.8 keeps in its dataDir, read and
//! written byte for byte as Java does, so that a Java node and rzk can each
//! start on the other's data directory.
//!
//! - [`files`]: the directory layout: `version-2`, file names, the epoch files.
//! - [`txnlog`]: the transaction log: appending, group commit, reading,
//!   crash recovery.
//! - [`log_sync`]: a leader's read of its txn log for a learner's DIFF.

pub mod digest;
pub mod files;
pub mod image;
pub mod log_sync;
pub mod snapshot;
pub mod store;
pub mod txnlog;
