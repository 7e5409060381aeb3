//! Quorum counters `mntr` reports. Process-wide, as Java's ServerMetrics
//! are: they survive a peer's changes of role.

use std::sync::atomic::{AtomicU64, Ordering};

/// Learners this server, leading, synced by DIFF or TRUNC (zk_diff_count).
pub static DIFF_SYNCS: AtomicU64 = AtomicU64::new(0);
/// Learners this server, leading, synced by SNAP (zk_snap_count).
pub static SNAP_SYNCS: AtomicU64 = AtomicU64::new(0);

/// Writes of /zookeeper/config (ZKDatabase.initConfigInZKDatabase): Java
/// counts them in the `zookeeper` namespace's write_per_namespace summary.
pub static CONFIG_WRITES: AtomicU64 = AtomicU64::new(0);
/// Their bytes (path and data): total, smallest, largest.
pub static CONFIG_WRITE_BYTES: AtomicU64 = AtomicU64::new(0);
pub static CONFIG_WRITE_MIN: AtomicU64 = AtomicU64::new(u64::MAX);
pub static CONFIG_WRITE_MAX: AtomicU64 = AtomicU64::new(0);

/// One write of /zookeeper/config, of `bytes` bytes as Java counts them
/// (the path's length and the data's).
pub fn config_written(bytes: usize) {
    let b = bytes as u64;
    CONFIG_WRITES.fetch_add(1, Ordering::Relaxed);
    CONFIG_WRITE_BYTES.fetch_add(b, Ordering::Relaxed);
    CONFIG_WRITE_MIN.fetch_min(b, Ordering::Relaxed);
    CONFIG_WRITE_MAX.fetch_max(b, Ordering::Relaxed);
}
