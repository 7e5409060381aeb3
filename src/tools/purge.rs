//! `rzk purge [-n COUNT] <dataLogDir> [snapDir]`: removes old snapshots and
//! transaction logs as Java 3.8's `PurgeTxnLog` (`zkCleanup.sh -n COUNT`),
//! and the autopurge thread of `DatadirCleanupManager`.
//!
//! The directories are dataLogDir and dataDir as in zoo.cfg: the files are
//! in their `version-2` subdirectories. The rule is Java's:
//!
//! - keep the COUNT newest snapshots that pass Java's quick validity check
//!   (`SnapStream.isValidSnapshot`; at least 3, Java's minimum); the
//!   oldest of them is at zxid Z;
//! - keep the logs needed to replay from Z: every log starting after Z and
//!   the newest one starting at or before it (`FileTxnLog.getLogFiles`);
//! - remove every other `log.*` and `snapshot.*` file whose name's zxid is
//!   below Z (a name whose zxid does not parse counts as -1).
//!
//! With fewer valid snapshots than COUNT nothing older than the oldest is
//! kept either; with none, nothing is removed. Each removal is reported,
//! before it happens, as Java prints it:
//!
//! ```text
//! Removing file: Nov 21, 2026, 10:54:30 PM<TAB>/data/version-2/log.1
//! ```
//!
//! (the file's modification time, here in UTC, a tab, the path), logs
//! first, then snapshots, each in directory order; a failure is reported
//! as `Failed to remove <path>`.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, UNIX_EPOCH};

use super::java_medium;
use crate::persist::{files, snapshot};

/// Java's minimum for `-n` and `autopurge.snapRetainCount`.
pub const MIN_RETAIN: usize = 3;
/// Java's message for a smaller count.
pub const COUNT_ERR_MSG: &str = "count should be greater than or equal to 3";

#[derive(Debug)]
pub enum PurgeError {
    /// A count below [`MIN_RETAIN`].
    Count(usize),
    /// A directory could not be listed.
    List { dir: PathBuf, source: io::Error },
    /// dataLogDir and dataDir differ but hold each other's files (Java's
    /// `FileTxnSnapLog` refuses these, naming a likely misconfiguration).
    Mixed(String),
}

impl fmt::Display for PurgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PurgeError::Count(n) => write!(f, "{COUNT_ERR_MSG} (got {n})"),
            PurgeError::List { dir, source } => {
                write!(f, "cannot list {}: {source}", dir.display())
            }
            PurgeError::Mixed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for PurgeError {}

/// What happens, as it happens.
#[derive(Debug)]
pub enum Event<'a> {
    /// About to remove `path`; `line` is Java's report of it.
    Removing { path: &'a Path, line: String },
    /// Removing `path` failed.
    Failed { path: &'a Path, error: io::Error },
}

/// What a purge did.
#[derive(Debug, Default)]
pub struct PurgeReport {
    /// The snapshots kept as the COUNT newest valid ones, newest first.
    pub kept_snapshots: Vec<PathBuf>,
    /// Files removed.
    pub removed: Vec<PathBuf>,
    /// Files that could not be removed.
    pub failed: Vec<PathBuf>,
}

fn zxid_or_minus_one(p: &Path, prefix: &str) -> i64 {
    p.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| files::zxid_from_name(n, prefix))
        .unwrap_or(-1)
}

fn name_starts(p: &Path, prefix: &str) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(prefix))
}

fn list(dir: &Path) -> Result<Vec<PathBuf>, PurgeError> {
    files::list_dir(dir).map_err(|source| PurgeError::List {
        dir: dir.to_owned(),
        source,
    })
}

/// The files a purge keeping `count` snapshots would remove, logs first,
/// and the snapshots it keeps. `data_log_dir` and `snap_dir` are the
/// parents of the `version-2` directories.
pub fn plan(
    data_log_dir: &Path,
    snap_dir: &Path,
    count: usize,
) -> Result<(Vec<PathBuf>, Vec<PathBuf>), PurgeError> {
    if count < MIN_RETAIN {
        return Err(PurgeError::Count(count));
    }
    let log_dir = files::version_dir(data_log_dir);
    let snap_dir = files::version_dir(snap_dir);
    let log_entries = list(&log_dir)?;
    let snap_entries = if snap_dir == log_dir {
        log_entries.clone()
    } else {
        let s = list(&snap_dir)?;
        // FileTxnSnapLog's checkLogDir / checkSnapDir.
        if log_entries.iter().any(|f| name_starts(f, "snapshot.")) {
            return Err(PurgeError::Mixed(format!(
                "Log directory {} has snapshot files. Check if dataLogDir and dataDir \
                 configuration is correct.",
                log_dir.display()
            )));
        }
        if s.iter().any(|f| name_starts(f, "log.")) {
            return Err(PurgeError::Mixed(format!(
                "Snapshot directory {} has log files. Check if dataLogDir and dataDir \
                 configuration is correct.",
                snap_dir.display()
            )));
        }
        s
    };

    // FileSnap.findNValidSnapshots: newest first (a stable sort, as Java's).
    let mut snaps = snap_entries.clone();
    files::sort_by_zxid(&mut snaps, files::SNAPSHOT_PREFIX, false);
    let kept: Vec<PathBuf> = snaps
        .into_iter()
        .filter(|f| snapshot::is_valid(f))
        .take(count)
        .collect();
    let Some(oldest) = kept.last() else {
        return Ok((Vec::new(), kept));
    };
    let least = zxid_or_minus_one(oldest, files::SNAPSHOT_PREFIX);
    let retained_logs = files::log_files_from(&log_entries, least);

    let mut remove: Vec<PathBuf> = log_entries
        .into_iter()
        .filter(|f| {
            name_starts(f, "log.")
                && !retained_logs.contains(f)
                && zxid_or_minus_one(f, files::LOG_PREFIX) < least
        })
        .collect();
    remove.extend(snap_entries.into_iter().filter(|f| {
        name_starts(f, "snapshot.") && zxid_or_minus_one(f, files::SNAPSHOT_PREFIX) < least
    }));
    Ok((remove, kept))
}

/// Java's report line for removing `path`.
pub fn removal_line(path: &Path) -> String {
    let mtime = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as i64);
    format!("Removing file: {}\t{}", java_medium(mtime), path.display())
}

/// Purges as Java's `PurgeTxnLog.purge(dataLogDir, snapDir, count)`,
/// telling `on` about each removal before it happens and each failure.
pub fn purge(
    data_log_dir: &Path,
    snap_dir: &Path,
    count: usize,
    mut on: impl FnMut(Event<'_>),
) -> Result<PurgeReport, PurgeError> {
    let (remove, kept) = plan(data_log_dir, snap_dir, count)?;
    let mut report = PurgeReport {
        kept_snapshots: kept,
        ..Default::default()
    };
    for f in remove {
        on(Event::Removing {
            path: &f,
            line: removal_line(&f),
        });
        match std::fs::remove_file(&f) {
            Ok(()) => report.removed.push(f),
            Err(error) => {
                on(Event::Failed { path: &f, error });
                report.failed.push(f);
            }
        }
    }
    Ok(report)
}

/// The running autopurge task; [`stop`](Self::stop) ends it. Dropping the
/// handle leaves it running (as Java's daemon timer) until the process
/// exits.
pub struct Autopurge {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Autopurge {
    /// Stops the task (after the purge in progress, if any) and waits for
    /// its thread.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// One run of the task, logged as Java's `PurgeTask`.
fn run_once(snap_dir: &Path, log_dir: &Path, retain: usize) {
    tracing::info!("Purge task started.");
    let r = purge(log_dir, snap_dir, retain, |e| match e {
        Event::Removing { line, .. } => tracing::info!("{line}"),
        Event::Failed { path, error } => {
            tracing::warn!("Failed to remove {}: {error}", path.display())
        }
    });
    if let Err(e) = r {
        tracing::error!("Error occurred while purging: {e}");
    }
    tracing::info!("Purge task completed.");
}

/// Starts autopurge as Java's `DatadirCleanupManager.start()`: with
/// `interval_hours` > 0, a background thread purges `snap_dir` (dataDir)
/// and `log_dir` (dataLogDir), keeping `retain` snapshots, at once and
/// then every `interval_hours` hours (at a fixed rate). With 0 nothing is
/// scheduled and `None` is returned. The directories are the configured
/// ones, not their `version-2` subdirectories.
pub fn spawn_autopurge(
    snap_dir: PathBuf,
    log_dir: PathBuf,
    retain: u32,
    interval_hours: u32,
) -> Option<Autopurge> {
    tracing::info!("autopurge.snapRetainCount set to {retain}");
    tracing::info!("autopurge.purgeInterval set to {interval_hours}");
    if interval_hours == 0 {
        tracing::info!("Purge task is not scheduled.");
        return None;
    }
    let interval = Duration::from_secs(3600 * u64::from(interval_hours));
    match spawn_autopurge_every(snap_dir, log_dir, retain as usize, interval) {
        Ok(a) => Some(a),
        Err(e) => {
            tracing::error!("cannot start the purge task: {e}");
            None
        }
    }
}

/// [`spawn_autopurge`] with any interval.
pub fn spawn_autopurge_every(
    snap_dir: PathBuf,
    log_dir: PathBuf,
    retain: usize,
    interval: Duration,
) -> io::Result<Autopurge> {
    let (tx, rx) = mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("rzk-purge".into())
        .spawn(move || {
            let mut next = Instant::now();
            loop {
                run_once(&snap_dir, &log_dir, retain);
                next += interval;
                let now = Instant::now();
                if now >= next {
                    // Behind schedule: Timer.scheduleAtFixedRate catches up.
                    continue;
                }
                match rx.recv_timeout(next - now) {
                    Ok(()) => return,
                    Err(RecvTimeoutError::Timeout) => {}
                    // The handle is gone: no one can stop us any more.
                    Err(RecvTimeoutError::Disconnected) => {
                        std::thread::sleep(next.saturating_duration_since(Instant::now()))
                    }
                }
            }
        })?;
    Ok(Autopurge { stop: tx, thread })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::snapshot::{Compression, SnapNode, Snapshot};
    use crate::persist::txnlog::TxnLogWriter;
    use crate::tools::testutil::{zk_classpath, Scratch};
    use std::fs;

    fn names(v: &[PathBuf]) -> Vec<String> {
        let mut n: Vec<String> = v
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    }

    fn dir_names(dir: &Path) -> Vec<String> {
        names(&files::list_dir(dir).unwrap())
    }

    /// A real, valid snapshot at `zxid` (rzk's writer).
    fn snap(dir: &Path, zxid: i64) {
        let s = Snapshot {
            nodes: vec![SnapNode {
                path: String::new(),
                data: None,
                acl: -1,
                stat: Default::default(),
            }],
            ..Default::default()
        };
        snapshot::write(
            &dir.join(snapshot::file_name(zxid, Compression::None)),
            &s,
            Compression::None,
        )
        .unwrap();
    }

    /// A real log starting at `zxid` with `n` txns (rzk's writer).
    fn log(dir: &Path, zxid: i64, n: i64) {
        use crate::jute::txn::{CreateSessionTxn, TxnHeader};
        use crate::txn::TxnBody;
        let mut w = TxnLogWriter::new(dir, 0);
        for z in zxid..zxid + n {
            let h = TxnHeader {
                client_id: 1,
                cxid: 0,
                zxid: z,
                time: 0,
                type_: crate::proto::op::CREATE_SESSION,
            };
            w.append(
                &h,
                &TxnBody::CreateSession(CreateSessionTxn { time_out: 1 }),
                None,
            )
            .unwrap();
        }
        w.close().unwrap();
    }

    /// dataDir with logs and snapshots together, as a default zoo.cfg has.
    fn populate(v2: &Path) {
        fs::create_dir_all(v2).unwrap();
        log(v2, 1, 10); // 1..=10
        snap(v2, 5);
        log(v2, 11, 10); // 11..=20
        snap(v2, 0x12);
        log(v2, 0x15, 10);
        snap(v2, 0x1a);
        snap(v2, 0x20);
        log(v2, 0x1f, 10);
        snap(v2, 0x30);
        fs::write(v2.join("acceptedEpoch"), "0").unwrap();
    }

    #[test]
    fn keeps_count_snapshots_and_the_logs_they_need() {
        let d = Scratch::new("purge-same");
        let v2 = files::version_dir(&d.0);
        populate(&v2);
        let mut lines = Vec::new();
        let r = purge(&d.0, &d.0, 3, |e| match e {
            Event::Removing { line, .. } => lines.push(line),
            Event::Failed { path, error } => panic!("{}: {error}", path.display()),
        })
        .unwrap();
        // Oldest kept snapshot: 0x1a. Logs: 0x15 holds it, 0x1f is later.
        assert_eq!(
            names(&r.kept_snapshots),
            ["snapshot.1a", "snapshot.20", "snapshot.30"]
        );
        assert_eq!(
            names(&r.removed),
            ["log.1", "log.b", "snapshot.12", "snapshot.5"]
        );
        assert!(r.failed.is_empty());
        assert_eq!(
            dir_names(&v2),
            [
                "acceptedEpoch",
                "log.15",
                "log.1f",
                "snapshot.1a",
                "snapshot.20",
                "snapshot.30"
            ]
        );
        // Logs are reported before snapshots, each line as Java's.
        assert_eq!(lines.len(), 4);
        assert!(lines[..2].iter().all(|l| l.contains("/version-2/log.")));
        assert!(lines[2..]
            .iter()
            .all(|l| l.contains("/version-2/snapshot.")));
        for l in &lines {
            let (head, path) = l.split_once('\t').unwrap();
            assert!(head.starts_with("Removing file: "), "{l}");
            assert!(head.ends_with(" AM") || head.ends_with(" PM"), "{l}");
            assert!(path.starts_with(&d.0.display().to_string()));
        }
        // Nothing more to do the second time.
        let again = purge(&d.0, &d.0, 3, |_| {}).unwrap();
        assert!(again.removed.is_empty());
        // Every log the oldest kept snapshot needs is still readable.
        let it = crate::persist::txnlog::TxnLogIterator::open(&v2, 0x1b).unwrap();
        let zxids: Vec<i64> = it.map(|e| e.unwrap().header.zxid).collect();
        assert_eq!(zxids.first(), Some(&0x1b));
    }

    #[test]
    fn separate_log_dir_and_invalid_snapshots() {
        let d = Scratch::new("purge-split");
        let logs = d.0.join("logs");
        let data = d.0.join("data");
        let lv2 = files::version_dir(&logs);
        let sv2 = files::version_dir(&data);
        fs::create_dir_all(&lv2).unwrap();
        fs::create_dir_all(&sv2).unwrap();
        for z in [1, 0x10, 0x20, 0x30, 0x40] {
            log(&lv2, z, 4);
        }
        for z in [0x3, 0x12, 0x22, 0x33] {
            snap(&sv2, z);
        }
        // Newer, but not valid: not counted, and not removed (above Z).
        fs::write(sv2.join("snapshot.50"), b"junk").unwrap();
        // Older junk with snapshot and log names goes.
        fs::write(sv2.join("snapshot.xyz"), b"junk").unwrap();
        fs::write(lv2.join("log.nothex"), b"junk").unwrap();
        fs::write(lv2.join("other"), b"stays").unwrap();
        let r = purge(&logs, &data, 3, |_| {}).unwrap();
        assert_eq!(
            names(&r.kept_snapshots),
            ["snapshot.12", "snapshot.22", "snapshot.33"]
        );
        // Z = 0x12: log.10 starts at or before it; log.1 goes.
        assert_eq!(
            dir_names(&lv2),
            ["log.10", "log.20", "log.30", "log.40", "other"]
        );
        assert_eq!(
            dir_names(&sv2),
            ["snapshot.12", "snapshot.22", "snapshot.33", "snapshot.50"]
        );
        assert_eq!(r.removed.len(), 4);

        // Keeping 4: all valid snapshots are kept.
        assert!(purge(&logs, &data, 4, |_| {}).unwrap().removed.is_empty());
    }

    #[test]
    fn refusals() {
        let d = Scratch::new("purge-refuse");
        assert!(matches!(
            purge(&d.0, &d.0, 2, |_| {}),
            Err(PurgeError::Count(2))
        ));
        assert_eq!(
            PurgeError::Count(1).to_string(),
            "count should be greater than or equal to 3 (got 1)"
        );
        // No snapshots at all: nothing is removed.
        let v2 = files::version_dir(&d.0);
        fs::create_dir_all(&v2).unwrap();
        log(&v2, 1, 2);
        assert!(purge(&d.0, &d.0, 3, |_| {}).unwrap().removed.is_empty());
        assert_eq!(dir_names(&v2), ["log.1"]);
        // Missing directories: nothing to do.
        let r = purge(&d.0.join("nope"), &d.0.join("nope2"), 3, |_| {}).unwrap();
        assert!(r.removed.is_empty());
        // A snapshot in the log directory when the two differ.
        let other = d.0.join("snaps");
        fs::create_dir_all(files::version_dir(&other)).unwrap();
        snap(&v2, 1);
        let e = purge(&d.0, &other, 3, |_| {}).unwrap_err();
        assert!(e.to_string().contains("has snapshot files"), "{e}");
    }

    #[test]
    fn autopurge_runs_at_once_then_every_interval_and_stops() {
        let d = Scratch::new("purge-auto");
        let v2 = files::version_dir(&d.0);
        populate(&v2);
        assert!(spawn_autopurge(d.0.clone(), d.0.clone(), 3, 0).is_none());
        let task =
            spawn_autopurge_every(d.0.clone(), d.0.clone(), 3, Duration::from_millis(100)).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while v2.join("log.1").exists() {
            assert!(Instant::now() < deadline, "first purge did not run");
            std::thread::sleep(Duration::from_millis(10));
        }
        // A newer snapshot appears: the next run removes what it obsoletes.
        snap(&v2, 0x40);
        while v2.join("snapshot.1a").exists() {
            assert!(Instant::now() < deadline, "second purge did not run");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!v2.join("log.15").exists());
        assert!(v2.join("log.1f").exists());
        task.stop();
        // Stopped: later files stay.
        snap(&v2, 0x50);
        std::thread::sleep(Duration::from_millis(300));
        assert!(v2.join("snapshot.20").exists());
    }

    /// Java's PurgeTxnLog on a copy of the same directory removes the same
    /// files and prints the same lines.
    #[test]
    #[ignore = "needs Java and ZooKeeper 3.8 jars (RZK_ZK_CLASSPATH or /usr/share/java)"]
    fn interop_same_removals_as_java_purge_txn_log() {
        let ours = Scratch::new("purge-java-a");
        let theirs = Scratch::new("purge-java-b");
        for d in [&ours.0, &theirs.0] {
            let v2 = files::version_dir(d);
            populate(&v2);
            fs::write(v2.join("snapshot.4"), b"junk").unwrap();
            fs::write(v2.join("log.zz"), b"junk").unwrap();
        }
        let mut lines = Vec::new();
        purge(&ours.0, &ours.0, 3, |e| {
            if let Event::Removing { line, .. } = e {
                lines.push(line);
            }
        })
        .unwrap();
        let out = std::process::Command::new("java")
            .env("TZ", "UTC")
            .arg("-Duser.timezone=UTC")
            .arg("-Duser.language=en")
            .arg("-cp")
            .arg(zk_classpath())
            .arg("org.apache.zookeeper.server.PurgeTxnLog")
            .arg(&theirs.0)
            .arg("-n")
            .arg("3")
            .output()
            .expect("java");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let java = String::from_utf8(out.stdout).unwrap();
        let vo = files::version_dir(&ours.0);
        let vt = files::version_dir(&theirs.0);
        assert_eq!(dir_names(&vo), dir_names(&vt));
        // Same lines, modulo the directory (and in the same order).
        let ours_text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let ours_text = ours_text.replace(&ours.0.display().to_string(), "DIR");
        let java = java.replace(&theirs.0.display().to_string(), "DIR");
        // The files were written moments apart: compare without the times.
        let strip = |s: &str| -> Vec<String> {
            s.lines()
                .map(|l| l.split_once('\t').map_or(l, |x| x.1).to_owned())
                .collect()
        };
        assert_eq!(strip(&ours_text), strip(&java));
        assert!(
            java.lines().all(|l| l.starts_with("Removing file: ")),
            "{java}"
        );
    }
}
