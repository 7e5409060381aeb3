//! Quorum counters `mntr` reports. Process-wide, as Java's ServerMetrics
//! are: they survive a peer's changes of role.

use std::sync::atomic::AtomicU64;

/// Learners this server, leading, synced by DIFF or TRUNC (zk_diff_count).
pub static DIFF_SYNCS: AtomicU64 = AtomicU64::new(0);
/// Learners this server, leading, synced by SNAP (zk_snap_count).
pub static SNAP_SYNCS: AtomicU64 = AtomicU64::new(0);
