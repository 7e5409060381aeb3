//! The data directory's layout, as Java ZooKeeper 3.8 lays it out.
//!
//! Java keeps everything under `<dataDir>/version-2` (and `<dataLogDir>/version-2`
//! for the logs when that is set): transaction logs named `log.<zxid>`,
//! snapshots named `snapshot.<zxid>[.gz|.snappy]`, the zxid in lowercase hex
//! without padding, and, on quorum members, the `acceptedEpoch` and
//! `currentEpoch` files next to the snapshots. The rules here are those of
//! Java's `FileTxnSnapLog`, `Util` (`makeLogName`, `makeSnapshotName`,
//! `getZxidFromName`, `sortDataDir`), `FileTxnLog.getLogFiles` and
//! `QuorumPeer.readLongFromFile` / `writeLongToFile`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The subdirectory of dataDir and dataLogDir holding the files
/// (`FileTxnSnapLog.version + FileTxnSnapLog.VERSION`).
pub const VERSION_DIR: &str = "version-2";
/// Prefix of transaction log file names (`FileTxnLog.LOG_FILE_PREFIX`).
pub const LOG_PREFIX: &str = "log";
/// Prefix of snapshot file names (`FileSnap.SNAPSHOT_FILE_PREFIX`).
pub const SNAPSHOT_PREFIX: &str = "snapshot";
/// The epoch this member has accepted from a prospective leader.
pub const ACCEPTED_EPOCH_FILE: &str = "acceptedEpoch";
/// The epoch of the last leader this member synced with.
pub const CURRENT_EPOCH_FILE: &str = "currentEpoch";
/// Suffix of the temporary file an epoch is written to before the rename
/// (`AtomicFileOutputStream.TMP_EXTENSION`). Java looks for
/// `currentEpoch.tmp` when recovering from a crash between the two.
pub const TMP_SUFFIX: &str = ".tmp";

/// `<dir>/version-2`.
pub fn version_dir(dir: &Path) -> PathBuf {
    dir.join(VERSION_DIR)
}

/// `log.<zxid in lowercase hex>` (Java's `Util.makeLogName`; a negative
/// zxid prints as its two's complement, as `Long.toHexString` does).
pub fn log_name(zxid: i64) -> String {
    format!("{LOG_PREFIX}.{:x}", zxid as u64)
}

/// `snapshot.<zxid in lowercase hex>`, the name of an uncompressed
/// snapshot (Java's `Util.makeSnapshotName` in the default CHECKED stream
/// mode; the gz and snappy modes append `.gz` / `.snappy`).
pub fn snapshot_name(zxid: i64) -> String {
    format!("{SNAPSHOT_PREFIX}.{:x}", zxid as u64)
}

/// The zxid in a file name such as `log.1a` or `snapshot.1a.gz`, as Java's
/// `Util.getZxidFromName`: the name is split on '.', the first part must be
/// `prefix` and the second must parse as a (signed) hex long. Java returns
/// -1 for a name that does not qualify; this returns `None` (and, like Java,
/// `Some(-1)` for the odd name `log.-1`).
pub fn zxid_from_name(name: &str, prefix: &str) -> Option<i64> {
    // Java's String.split drops trailing empty strings, but that cannot
    // change the first two parts unless they are the only ones, and an
    // empty second part fails to parse either way.
    let mut parts = name.split('.');
    if parts.next() != Some(prefix) {
        return None;
    }
    let hex = parts.next()?;
    // Long.parseLong(s, 16) accepts an optional sign and nothing else but
    // hex digits; so does from_str_radix.
    i64::from_str_radix(hex, 16).ok()
}

/// Java's `Util.getZxidFromName` with its -1 for "not such a file".
fn java_zxid(path: &Path, prefix: &str) -> i64 {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| zxid_from_name(n, prefix))
        .unwrap_or(-1)
}

/// Whether `name` is a transaction log's name (Java's `Util.isLogFileName`:
/// it starts with `log.`).
pub fn is_log_name(name: &str) -> bool {
    name.starts_with("log.")
}

/// Whether `name` is a snapshot's name (Java's `Util.isSnapshotFileName`:
/// it starts with `snapshot.`).
pub fn is_snapshot_name(name: &str) -> bool {
    name.starts_with("snapshot.")
}

/// Sorts files by the zxid in their names, as Java's `Util.sortDataDir`:
/// a stable sort, names that do not parse counting as zxid -1.
pub fn sort_by_zxid(files: &mut [PathBuf], prefix: &str, ascending: bool) {
    files.sort_by(|a, b| {
        let o = java_zxid(a, prefix).cmp(&java_zxid(b, prefix));
        if ascending {
            o
        } else {
            o.reverse()
        }
    });
}

/// Everything in `dir`, like Java's `File.listFiles()` (in directory order;
/// a missing directory lists as empty, as Java's null is treated).
pub fn list_dir(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for e in rd {
        out.push(e?.path());
    }
    Ok(out)
}

/// The log files needed to replay everything after a snapshot taken at
/// `snapshot_zxid`, ascending, as Java's `FileTxnLog.getLogFiles`: the log
/// that starts at or just before the snapshot, and all later ones. Files
/// whose names are not log names (snapshots, epoch files) are left out.
///
/// `getLogFiles(files, 0)` is how Java lists all the logs of a directory.
pub fn log_files_from(entries: &[PathBuf], snapshot_zxid: i64) -> Vec<PathBuf> {
    let mut files = entries.to_vec();
    sort_by_zxid(&mut files, LOG_PREFIX, true);
    // The highest log start at or below the snapshot; 0 when there is none,
    // which also drops every name that does not parse (-1).
    let mut log_zxid = 0;
    for f in &files {
        let z = java_zxid(f, LOG_PREFIX);
        if z > snapshot_zxid {
            break;
        }
        log_zxid = log_zxid.max(z);
    }
    files
        .into_iter()
        .filter(|f| java_zxid(f, LOG_PREFIX) >= log_zxid)
        .collect()
}

/// All transaction logs in `dir` (a `version-2` directory), ascending by
/// zxid: Java's `getLogFiles(dir.listFiles(), 0)`.
pub fn list_logs(dir: &Path) -> io::Result<Vec<PathBuf>> {
    Ok(log_files_from(&list_dir(dir)?, 0))
}

/// All snapshots in `dir` (a `version-2` directory), ascending by zxid:
/// names starting `snapshot.` whose zxid parses (Java's
/// `SnapStream.isValidSnapshot` name check; their contents are not
/// looked at here).
pub fn list_snapshots(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = list_dir(dir)?
        .into_iter()
        .filter(|f| java_zxid(f, SNAPSHOT_PREFIX) != -1)
        .collect();
    sort_by_zxid(&mut files, SNAPSHOT_PREFIX, true);
    Ok(files)
}

/// The file an epoch is written to first: `<path>.tmp`.
pub fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(TMP_SUFFIX);
    path.with_file_name(name)
}

/// Reads a number written by [`write_epoch_file`] (or by Java's
/// `writeLongToFile`), as Java's `readLongFromFile`: the first line, parsed
/// as a decimal long. `Ok(None)` when the file does not exist (Java then
/// derives the epoch from the last zxid and writes the file); an empty or
/// unparseable file is an `InvalidData` error naming the file.
pub fn read_epoch_file(path: &Path) -> io::Result<Option<i64>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    // BufferedReader.readLine: up to '\n', '\r' or the end; null (and so a
    // parse failure) for an empty file.
    let line_end = bytes
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .unwrap_or(bytes.len());
    let line = String::from_utf8_lossy(&bytes[..line_end]);
    match (bytes.is_empty(), line.parse::<i64>()) {
        (false, Ok(v)) => Ok(Some(v)),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "Found {} in {}",
                if bytes.is_empty() { "null" } else { &line },
                path.display()
            ),
        )),
    }
}

/// Writes `value` as Java's `writeLongToFile` does: the decimal digits,
/// no newline, written to `<path>.tmp`, fsynced, then renamed over `path`.
/// Unlike Java we also fsync the directory, so the rename itself survives
/// a crash.
pub fn write_epoch_file(path: &Path, value: i64) -> io::Result<()> {
    let tmp = tmp_path(path);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(value.to_string().as_bytes())?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        sync_parent_dir(path)
    })();
    if result.is_err() {
        // As AtomicFileOutputStream: on failure try not to leave the
        // temporary file behind (Java would mistake it for a half-done
        // update of currentEpoch).
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// `acceptedEpoch` in `snap_dir` (a `version-2` directory).
pub fn read_accepted_epoch(snap_dir: &Path) -> io::Result<Option<i64>> {
    read_epoch_file(&snap_dir.join(ACCEPTED_EPOCH_FILE))
}

/// Writes `acceptedEpoch` in `snap_dir` (a `version-2` directory).
pub fn write_accepted_epoch(snap_dir: &Path, epoch: i64) -> io::Result<()> {
    write_epoch_file(&snap_dir.join(ACCEPTED_EPOCH_FILE), epoch)
}

/// `currentEpoch` in `snap_dir` (a `version-2` directory).
pub fn read_current_epoch(snap_dir: &Path) -> io::Result<Option<i64>> {
    read_epoch_file(&snap_dir.join(CURRENT_EPOCH_FILE))
}

/// Writes `currentEpoch` in `snap_dir` (a `version-2` directory).
pub fn write_current_epoch(snap_dir: &Path, epoch: i64) -> io::Result<()> {
    write_epoch_file(&snap_dir.join(CURRENT_EPOCH_FILE), epoch)
}

/// Fsyncs a directory, making the creation, renaming or removal of the
/// entries in it durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Fsyncs the directory holding `path`.
pub fn sync_parent_dir(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => sync_dir(p),
        _ => sync_dir(Path::new(".")),
    }
}

/// A fresh, empty directory under the system's temp dir, removed when
/// dropped; for this module's tests and txnlog's.
#[cfg(test)]
pub(crate) struct TestDir(pub PathBuf);

#[cfg(test)]
impl TestDir {
    pub(crate) fn new(tag: &str) -> TestDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "rzk-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TestDir(p)
    }
}

#[cfg(test)]
impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(files: &[PathBuf]) -> Vec<String> {
        files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn names_are_lowercase_unpadded_hex() {
        assert_eq!(log_name(1), "log.1");
        assert_eq!(log_name(0x1_0000_00ab), "log.1000000ab");
        assert_eq!(snapshot_name(0), "snapshot.0");
        assert_eq!(snapshot_name(0xABC), "snapshot.abc");
        // Long.toHexString(-1)
        assert_eq!(log_name(-1), "log.ffffffffffffffff");
        assert_eq!(version_dir(Path::new("/d")), Path::new("/d/version-2"));
    }

    #[test]
    fn zxid_from_name_as_java() {
        assert_eq!(zxid_from_name("log.1a", "log"), Some(0x1a));
        assert_eq!(zxid_from_name("log.1A", "log"), Some(0x1a));
        assert_eq!(
            zxid_from_name("snapshot.100000002", "snapshot"),
            Some(0x1_0000_0002)
        );
        assert_eq!(zxid_from_name("snapshot.1f.gz", "snapshot"), Some(0x1f));
        assert_eq!(zxid_from_name("snapshot.1f.snappy", "snapshot"), Some(0x1f));
        assert_eq!(zxid_from_name("log.5.", "log"), Some(5));
        assert_eq!(zxid_from_name("log.-1", "log"), Some(-1));
        assert_eq!(zxid_from_name("log.+2", "log"), Some(2));
        assert_eq!(zxid_from_name("log.", "log"), None);
        assert_eq!(zxid_from_name("log", "log"), None);
        assert_eq!(zxid_from_name("log..5", "log"), None);
        assert_eq!(zxid_from_name("log.xyz", "log"), None);
        assert_eq!(zxid_from_name("log.1", "snapshot"), None);
        assert_eq!(zxid_from_name("logx.1", "log"), None);
        assert_eq!(zxid_from_name("acceptedEpoch", "log"), None);
        // Beyond a signed long: Long.parseLong fails.
        assert_eq!(zxid_from_name("log.ffffffffffffffff", "log"), None);
        assert!(is_log_name("log.1") && !is_log_name("logs") && !is_log_name("snapshot.1"));
        assert!(is_snapshot_name("snapshot.1.gz") && !is_snapshot_name("log.1"));
    }

    #[test]
    fn sorting_and_log_selection() {
        let dir = TestDir::new("files-sort");
        for n in [
            "log.100",
            "log.2",
            "log.1f",
            "snapshot.0",
            "snapshot.30",
            "snapshot.1f.gz",
            "snapshot.xyz",
            "acceptedEpoch",
            "currentEpoch",
            "log.300",
        ] {
            fs::write(dir.0.join(n), b"x").unwrap();
        }
        let logs = list_logs(&dir.0).unwrap();
        assert_eq!(names(&logs), ["log.2", "log.1f", "log.100", "log.300"]);
        let snaps = list_snapshots(&dir.0).unwrap();
        assert_eq!(
            names(&snaps),
            ["snapshot.0", "snapshot.1f.gz", "snapshot.30"]
        );

        let all = list_dir(&dir.0).unwrap();
        // Snapshot at 0x30: the log starting at 0x1f holds it.
        assert_eq!(
            names(&log_files_from(&all, 0x30)),
            ["log.1f", "log.100", "log.300"]
        );
        // Exactly at a log's start.
        assert_eq!(names(&log_files_from(&all, 0x100)), ["log.100", "log.300"]);
        // Before every log: all of them.
        assert_eq!(names(&log_files_from(&all, 1)).len(), 4);
        // After every log: the last one.
        assert_eq!(names(&log_files_from(&all, 0x1000)), ["log.300"]);

        let mut v = logs.clone();
        sort_by_zxid(&mut v, LOG_PREFIX, false);
        assert_eq!(names(&v), ["log.300", "log.100", "log.1f", "log.2"]);

        assert!(list_logs(&dir.0.join("missing")).unwrap().is_empty());
    }

    #[test]
    fn epoch_files_as_java_writes_them() {
        let dir = TestDir::new("files-epoch");
        assert_eq!(read_current_epoch(&dir.0).unwrap(), None);
        write_current_epoch(&dir.0, 1).unwrap();
        // Exactly what Java's writeLongToFile leaves: digits, no newline.
        assert_eq!(fs::read(dir.0.join("currentEpoch")).unwrap(), b"1");
        assert!(!dir.0.join("currentEpoch.tmp").exists());
        assert_eq!(read_current_epoch(&dir.0).unwrap(), Some(1));
        write_current_epoch(&dir.0, 0x0001_2345_6789).unwrap();
        assert_eq!(read_current_epoch(&dir.0).unwrap(), Some(0x0001_2345_6789));

        write_accepted_epoch(&dir.0, -7).unwrap();
        assert_eq!(fs::read(dir.0.join("acceptedEpoch")).unwrap(), b"-7");
        assert_eq!(read_accepted_epoch(&dir.0).unwrap(), Some(-7));

        // readLine tolerates a line ending; parseLong nothing else.
        let p = dir.0.join("acceptedEpoch");
        fs::write(&p, b"42\n").unwrap();
        assert_eq!(read_epoch_file(&p).unwrap(), Some(42));
        fs::write(&p, b"42\r\nrest").unwrap();
        assert_eq!(read_epoch_file(&p).unwrap(), Some(42));
        for bad in [&b""[..], b"\n", b" 42", b"42 ", b"x"] {
            fs::write(&p, bad).unwrap();
            let e = read_epoch_file(&p).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidData);
            assert!(e.to_string().contains("acceptedEpoch"), "{e}");
        }
        assert_eq!(tmp_path(&p), dir.0.join("acceptedEpoch.tmp"));
    }
}
