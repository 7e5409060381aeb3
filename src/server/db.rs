//! The committed state as every thread sees it: the data tree and the
//! watches on it.
//!
//! One place changes the tree: the core's apply path, which applies
//! committed transactions in zxid order (standalone, leader, follower and
//! observer alike) under the write lock. Reads come from every connection
//! task, on whichever core it runs, under the read lock; so do watch
//! registrations, which is why a read that sets a watch and the apply that
//! fires it cannot interleave: either the read saw the change, or its
//! watch was in place when the change fired.
//!
//! Lock order: tree, then watches. No lock here is held across I/O.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::server::core::Now;
use crate::tree::DataTree;
use crate::watch::WatchManager;

pub struct Db {
    tree: RwLock<DataTree>,
    watches: Mutex<WatchManager>,
    /// Client packets in and out, server-wide (`stat`, `mntr`).
    pub packets_received: AtomicU64,
    pub packets_sent: AtomicU64,
    /// The clock of the core and its connections.
    pub clock: Clock,
}

/// Server time, the same for the core and every connection.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
}

impl Clock {
    pub fn new() -> Clock {
        Clock {
            start: Instant::now(),
        }
    }

    pub fn now(&self) -> Now {
        let wall_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Now {
            // Offset so that monotonic time is never 0 (0 marks "never").
            mono_ms: self.start.elapsed().as_millis() as i64 + 1_000,
            wall_ms,
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

impl Db {
    pub fn new(tree: DataTree) -> Db {
        Db {
            tree: RwLock::new(tree),
            watches: Mutex::new(WatchManager::new()),
            packets_received: AtomicU64::new(0),
            packets_sent: AtomicU64::new(0),
            clock: Clock::new(),
        }
    }

    // A panic while a lock is held is a bug elsewhere; the state itself
    // is only changed by whole operations, so a poisoned lock is used as is.

    pub fn tree(&self) -> RwLockReadGuard<'_, DataTree> {
        self.tree.read().unwrap_or_else(|e| e.into_inner())
    }

    /// For the apply path only.
    pub fn tree_mut(&self) -> RwLockWriteGuard<'_, DataTree> {
        self.tree.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn watches(&self) -> MutexGuard<'_, WatchManager> {
        self.watches.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A lazily taken lock on the watches, for reads that may register one.
    pub fn watches_lazy(&self) -> Watches<'_> {
        Watches {
            m: &self.watches,
            guard: None,
        }
    }

    pub fn count_received(&self) {
        self.packets_received.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_sent(&self) {
        self.packets_sent.fetch_add(1, Ordering::Relaxed);
    }
}

/// The watch manager, locked on first use: most reads set no watch and
/// never take the lock.
pub struct Watches<'a> {
    m: &'a Mutex<WatchManager>,
    guard: Option<MutexGuard<'a, WatchManager>>,
}

impl Watches<'_> {
    pub fn get(&mut self) -> &mut WatchManager {
        let m = self.m;
        self.guard
            .get_or_insert_with(|| m.lock().unwrap_or_else(|e| e.into_inner()))
    }
}
