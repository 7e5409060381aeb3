//! The database on disk: recovery at startup (newest valid snapshot, then
//! the logs after it), the log thread that makes transactions durable in
//! groups, and snapshot writing.
//!
//! Durability: a transaction is acknowledged only after the log thread has
//! written it and fsynced the log (fdatasync, see `TxnLogWriter::sync`), so
//! an acknowledged write survives a crash. Many transactions share one
//! fsync: the thread takes every batch queued while it was syncing.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use crate::config::SnapshotCompression;
use crate::persist::snapshot::{self, Compression, Snapshot};
use crate::persist::txnlog::{TxnLogIterator, TxnLogWriter};
use crate::persist::{files, image};
use crate::proto::op;
use crate::tree::DataTree;
use crate::txn::{Txn, TxnBody};

/// Where and how the database is kept.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// dataDir/version-2: snapshots (and epoch files in dataDir).
    pub snap_dir: PathBuf,
    /// dataLogDir/version-2: transaction logs.
    pub log_dir: PathBuf,
    pub force_sync: bool,
    pub prealloc_bytes: u64,
    pub compression: Compression,
    /// Start with logs but no snapshot (Java's snapshot.trust.empty).
    pub trust_empty_snapshot: bool,
    pub fsync_warning_ms: u64,
}

impl StoreConfig {
    pub fn from_config(cfg: &crate::config::ServerConfig) -> StoreConfig {
        StoreConfig {
            snap_dir: files::version_dir(&cfg.data_dir),
            log_dir: files::version_dir(&cfg.data_log_dir),
            force_sync: cfg.force_sync,
            prealloc_bytes: cfg.pre_alloc_size_kb * 1024,
            compression: match cfg.snapshot_compression {
                SnapshotCompression::Checked => Compression::None,
                SnapshotCompression::Gzip => Compression::Gzip,
                SnapshotCompression::Snappy => Compression::Snappy,
            },
            trust_empty_snapshot: cfg.snapshot_trust_empty,
            fsync_warning_ms: cfg.fsync_warning_threshold_ms,
        }
    }

    /// Fails unless a file can be created in the snapshot directory.
    pub fn check_snap_dir_writable(&self) -> io::Result<()> {
        let probe = self
            .snap_dir
            .join(format!(".rzk-write-probe.{}", std::process::id()));
        std::fs::File::create(&probe)?;
        std::fs::remove_file(&probe)
    }

    /// Creates the version-2 directories if they are missing.
    pub fn create_dirs(&self) -> io::Result<()> {
        std::fs::create_dir_all(&self.snap_dir)?;
        std::fs::create_dir_all(&self.log_dir)
    }
}

/// Replayed transactions kept in [`Recovered::tail`] (Java's
/// commitLogCount default).
pub const RECOVERED_TAIL: usize = 500;

/// What recovery found.
pub struct Recovered {
    pub tree: DataTree,
    /// Live sessions and their timeouts.
    pub sessions: Vec<(i64, i32)>,
    /// The zxid of the snapshot loaded (0 with none).
    pub snapshot_zxid: i64,
    /// Transactions replayed from the logs.
    pub replayed: usize,
    /// The last replayed transactions (at most [`RECOVERED_TAIL`]), oldest
    /// first: a new leader's committed log, for DIFF syncs (as Java fills
    /// its committedLog while replaying).
    pub tail: std::collections::VecDeque<Txn>,
    /// Replayed transactions whose logged digest disagreed with the tree.
    pub digest_mismatches: usize,
    /// Where the time went: loading the snapshot, replaying the logs.
    pub load_ms: u128,
    pub replay_ms: u128,
}

/// Loads the newest snapshot that reads back whole (older ones when it does
/// not, as Java), then replays the logs after it. A torn record at the end
/// of the last log (a crash mid-append) is cut off; any other damage stops
/// startup with a message naming the file and offset.
pub fn recover(cfg: &StoreConfig, extended_types: bool) -> Result<Recovered, String> {
    let mut snaps = files::list_snapshots(&cfg.snap_dir)
        .map_err(|e| format!("cannot list {}: {e}", cfg.snap_dir.display()))?;
    snaps.reverse();
    let t_load = Instant::now();
    let mut loaded = None;
    for p in snaps.iter().take(100) {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let Some(zxid) = snapshot::zxid_from_file_name(name) else {
            continue;
        };
        if !snapshot::is_valid(p) {
            tracing::warn!("skipping invalid snapshot {}", p.display());
            continue;
        }
        tracing::info!("loading snapshot {}", p.display());
        match image::load_file(p, zxid, extended_types) {
            Ok(l) => {
                loaded = Some((l, zxid));
                break;
            }
            Err(image::LoadError::Read(e)) => {
                tracing::warn!(
                    "cannot use snapshot {}: {e}; trying an older one",
                    p.display()
                )
            }
            Err(image::LoadError::Image(e)) => {
                return Err(format!("snapshot {}: {e}", p.display()))
            }
        }
    }
    // A snapshot's digest is the tree's at some zxid at or after the
    // snapshot's own (later for a fuzzy one): checked when replay gets there.
    let mut snap_digest = None;
    let (mut tree, sessions, snapshot_zxid) = match loaded {
        Some(((tree, sessions, digest), zxid)) => {
            snap_digest = digest.filter(|d| d.zxid >= zxid);
            (tree, sessions, zxid)
        }
        None => {
            let logged = crate::persist::txnlog::last_logged_zxid(&cfg.log_dir)
                .map_err(|e| e.to_string())?;
            if logged.is_some() && !cfg.trust_empty_snapshot {
                return Err(format!(
                    "{} has transaction logs but no valid snapshot; refusing to start \
                     (set snapshot.trust.empty=true to start from the logs alone)",
                    cfg.log_dir.display()
                ));
            }
            (DataTree::new(extended_types), Vec::new(), 0)
        }
    };
    let load_ms = t_load.elapsed().as_millis();
    let t_replay = Instant::now();
    let mut sessions: std::collections::BTreeMap<i64, i32> = sessions.into_iter().collect();
    let mut it = TxnLogIterator::open(&cfg.log_dir, tree.last_processed_zxid + 1)
        .map_err(|e| e.to_string())?;
    let mut replayed = 0;
    let mut tail = std::collections::VecDeque::new();
    let mut digest_mismatches = 0;
    let mut changes = Vec::new();
    let mut check_snapshot_digest = |tree: &DataTree, mismatches: &mut usize| {
        if let Some(d) = snap_digest.filter(|d| d.zxid == tree.last_processed_zxid) {
            snap_digest = None;
            if d.digest != tree.digest() {
                *mismatches += 1;
                tracing::error!(
                    "the snapshot's digest for zxid 0x{:x} is {}, the recovered tree's {}",
                    d.zxid,
                    d.digest,
                    tree.digest()
                );
            }
        }
    };
    check_snapshot_digest(&tree, &mut digest_mismatches);
    for entry in &mut it {
        let entry = entry.map_err(|e| format!("cannot recover: {e}"))?;
        if entry.header.zxid <= tree.last_processed_zxid {
            continue;
        }
        match (&entry.body, entry.header.type_) {
            (TxnBody::CreateSession(cs), op::CREATE_SESSION) => {
                sessions.insert(entry.header.client_id, cs.time_out);
            }
            (_, op::CLOSE_SESSION) => {
                sessions.remove(&entry.header.client_id);
            }
            _ => {}
        }
        let txn = Txn {
            header: entry.header,
            body: entry.body,
            digest: entry.digest,
        };
        tree.apply(&txn, &mut changes);
        changes.clear();
        replayed += 1;
        if tail.len() == RECOVERED_TAIL {
            tail.pop_front();
        }
        tail.push_back(txn.clone());
        check_snapshot_digest(&tree, &mut digest_mismatches);
        // As Java: a logged digest that disagrees with the replayed tree is
        // reported, not fatal.
        if let Some(d) = &txn.digest {
            if d.tree_digest != tree.digest() {
                digest_mismatches += 1;
                if digest_mismatches <= 10 {
                    tracing::error!(
                        "digest mismatch replaying zxid 0x{:x}: logged {}, tree {}",
                        txn.header.zxid,
                        d.tree_digest,
                        tree.digest()
                    );
                }
            }
        }
    }
    if let Some(torn) = it.torn_tail() {
        tracing::warn!("{torn}; cutting it off (a crash interrupted that write)");
        torn.truncate()
            .map_err(|e| format!("cannot truncate {}: {e}", torn.file.display()))?;
    }
    crate::heap::trim();
    Ok(Recovered {
        tree,
        sessions: sessions.into_iter().collect(),
        snapshot_zxid,
        replayed,
        tail,
        digest_mismatches,
        load_ms,
        replay_ms: t_replay.elapsed().as_millis(),
    })
}

/// Writes a snapshot named after its zxid; returns its path.
pub fn write_snapshot(cfg: &StoreConfig, snap: &Snapshot, zxid: i64) -> io::Result<PathBuf> {
    let path = cfg
        .snap_dir
        .join(snapshot::file_name(zxid, cfg.compression));
    let t0 = Instant::now();
    snapshot::write(&path, snap, cfg.compression)?;
    tracing::info!(
        "snapshot {} written in {} ms ({} nodes)",
        path.display(),
        t0.elapsed().as_millis(),
        snap.nodes.len()
    );
    Ok(path)
}

/// Work for the log thread.
pub enum LogCmd {
    Append(Vec<Txn>),
    /// Start a new log file with the next append (after a snapshot).
    Roll,
    /// Make everything durable, close the log and say so: the server is
    /// changing roles and will read its logs back.
    Close(mpsc::Sender<()>),
}

/// Sends work to the log thread.
#[derive(Clone)]
pub struct LogHandle {
    tx: mpsc::Sender<LogCmd>,
}

impl LogHandle {
    pub fn append(&self, txns: Vec<Txn>) {
        let _ = self.tx.send(LogCmd::Append(txns));
    }

    pub fn roll(&self) {
        let _ = self.tx.send(LogCmd::Roll);
    }

    /// Makes everything appended durable and stops the log thread; returns
    /// once it has (blocking).
    pub fn close(&self) {
        let (tx, rx) = mpsc::channel();
        if self.tx.send(LogCmd::Close(tx)).is_ok() {
            let _ = rx.recv();
        }
    }
}

/// fsync timings, for `mntr`.
#[derive(Debug, Default, Clone, Copy)]
pub struct FsyncStats {
    pub count: u64,
    pub total_us: u64,
    pub min_us: u64,
    pub max_us: u64,
}

/// Starts the log thread. `durable(zxid)` is called (on that thread) once
/// every transaction up to `zxid` is on stable storage.
pub fn spawn_log_thread(
    cfg: StoreConfig,
    durable: impl Fn(i64, FsyncStats) + Send + 'static,
) -> io::Result<LogHandle> {
    let (tx, rx) = mpsc::channel::<LogCmd>();
    let mut writer = TxnLogWriter::new(cfg.log_dir.clone(), cfg.prealloc_bytes);
    std::thread::Builder::new()
        .name("rzk-txnlog".into())
        .spawn(move || {
            let mut stats = FsyncStats::default();
            let mut closed = None;
            while let Ok(first) = rx.recv() {
                let mut last = None;
                let mut next = Some(first);
                while let Some(cmd) = next.take() {
                    let res = match cmd {
                        LogCmd::Append(txns) => txns.iter().try_for_each(|t| {
                            last = Some(t.header.zxid);
                            writer.append_txn(t, None)
                        }),
                        LogCmd::Roll => writer.flush().and_then(|_| writer.roll()),
                        LogCmd::Close(done) => {
                            closed = Some(done);
                            break;
                        }
                    };
                    if let Err(e) = res {
                        fatal(&cfg.log_dir, &e);
                    }
                    next = rx.try_recv().ok();
                }
                if let Err(e) = writer.flush() {
                    fatal(&cfg.log_dir, &e);
                }
                if cfg.force_sync {
                    let t0 = Instant::now();
                    if let Err(e) = writer.sync() {
                        fatal(&cfg.log_dir, &e);
                    }
                    let us = t0.elapsed().as_micros() as u64;
                    stats.count += 1;
                    stats.total_us += us;
                    stats.max_us = stats.max_us.max(us);
                    stats.min_us = if stats.count == 1 {
                        us
                    } else {
                        stats.min_us.min(us)
                    };
                    if us / 1000 > cfg.fsync_warning_ms {
                        tracing::warn!(
                            "fsync of the txn log took {} ms, over fsync.warningthresholdms={}",
                            us / 1000,
                            cfg.fsync_warning_ms
                        );
                    }
                }
                if let Some(z) = last {
                    durable(z, stats);
                }
                if closed.is_some() {
                    break;
                }
            }
            if let Err(e) = writer.close() {
                tracing::error!("cannot close the txn log: {e}");
            }
            if let Some(done) = closed {
                let _ = done.send(());
            }
        })?;
    Ok(LogHandle { tx })
}

/// A log write failed: nothing after it can be acknowledged, so stop, as
/// Java does.
fn fatal(dir: &Path, e: &io::Error) -> ! {
    tracing::error!(
        "cannot write the transaction log in {}: {e}; exiting",
        dir.display()
    );
    eprintln!(
        "rzk: cannot write the transaction log in {}: {e}",
        dir.display()
    );
    std::process::exit(3);
}
