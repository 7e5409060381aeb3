//! A leader's read of its own txn log for a learner behind its committed
//! log, as Java 3.8's `ZKDatabase.getProposalsFromTxnLog` and
//! `calculateTxnLogSizeLimit` do it, over a `FileTxnIterator` opened
//! without fast-forwarding (`FileTxnSnapLog.readTxnLog(zxid, false)`).
//!
//! - The files: from the newest log down, every log starting at or after
//!   the learner's zxid, and the first one starting before it
//!   (`FileTxnIterator.init`). Reading starts at the first txn of the
//!   oldest of them.
//! - That first txn must be at or before the learner's zxid ("Unable to
//!   find proposals from txnlog"), else nothing.
//! - With a size limit above 0: the lengths of the files after the one
//!   the first txn is in (Java's `getStorageSize`, which counts
//!   `storedFiles` after `init` has taken the first out) must not exceed
//!   it, else nothing. The lengths include the preallocated padding.
//! - The limit is `zookeeper.snapshotSizeFactor` times the length of the
//!   newest valid snapshot (0 with none); a factor below 0 turns this
//!   sync off.
//! - Records as `FileTxnIterator.next`: the end of a file's data (its end,
//!   a zero length, a record cut short or without its 'B') moves on to
//!   the next file; a bad checksum or an unreadable file ends the reading
//!   (Java's `TxnLogProposalIterator` logs it and has no next).
//!
//! Unlike the startup reader ([`super::txnlog::TxnLogIterator`], over
//! memory maps), this one reads with plain buffered reads: the leader's
//! log thread appends to the newest file meanwhile, and only the record
//! in hand is held in memory.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::config::SnapshotSizeFactor;
use crate::persist::txnlog::{END_OF_RECORD, FILE_HEADER_LEN, TXNLOG_MAGIC};
use crate::persist::{files, snapshot};

/// Java's `calculateTxnLogSizeLimit`: `factor` times the length of the
/// newest valid snapshot in `snap_dir` (0 with none), or `None` when the
/// factor turns the on-disk sync off (`isTxnLogSyncEnabled`).
pub fn size_limit(snap_dir: &Path, factor: SnapshotSizeFactor) -> Option<u64> {
    if !factor.enabled() {
        return None;
    }
    let newest = files::list_snapshots(snap_dir)
        .unwrap_or_else(|e| {
            tracing::error!("Unable to get size of most recent snapshot: {e}");
            Vec::new()
        })
        .into_iter()
        .rev()
        .find(|p| snapshot::is_valid(p));
    let size = newest
        .and_then(|p| std::fs::metadata(p).ok())
        .map_or(0, |m| m.len());
    factor.log_size_limit(size)
}

/// Why the log cannot serve a sync (Java's EMPTY_ITERATOR).
#[derive(Debug, PartialEq, Eq)]
pub enum NoSync {
    /// The logs hold no txn.
    Empty,
    /// The logs start after the learner's zxid.
    StartsAfter { first: i64 },
    /// The files after the first are larger than the limit.
    TooLarge { size: u64, limit: u64 },
    /// A file could not be listed, opened or read.
    Io(String),
}

impl std::fmt::Display for NoSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoSync::Empty => write!(f, "the txn log holds no txn"),
            NoSync::StartsAfter { first } => {
                write!(f, "the txn log starts after it, at 0x{first:x}")
            }
            NoSync::TooLarge { size, limit } => {
                write!(f, "Txnlog size: {size} exceeds sizeLimit: {limit}")
            }
            NoSync::Io(e) => write!(f, "Unable to read txnlog from disk: {e}"),
        }
    }
}

/// Java's `getProposalsFromTxnLog(zxid, size_limit)`: the txns of the logs
/// in `log_dir` (a `version-2` directory) from the first txn of the log
/// that holds `zxid` on, as (zxid, entry) with the entry as logged (the
/// header, the txn and its digest: a PROPOSAL's data).
pub fn proposals_from(log_dir: &Path, zxid: i64, size_limit: u64) -> Result<LogRecords, NoSync> {
    let all = files::list_logs(log_dir).map_err(|e| NoSync::Io(e.to_string()))?;
    let mut chosen = VecDeque::new();
    for f in all.iter().rev() {
        chosen.push_front(f.clone());
        if log_zxid(f) < zxid {
            break;
        }
    }
    let mut recs = LogRecords {
        rest: chosen,
        cur: None,
        first: None,
        done: false,
    };
    let first = recs.read().map_err(|e| NoSync::Io(e.to_string()))?;
    let Some(first) = first else {
        return Err(NoSync::Empty);
    };
    if first.0 > zxid {
        return Err(NoSync::StartsAfter { first: first.0 });
    }
    if size_limit > 0 {
        let mut size = 0;
        for f in &recs.rest {
            size += std::fs::metadata(f)
                .map_err(|e| NoSync::Io(format!("{}: {e}", f.display())))?
                .len();
        }
        if size > size_limit {
            return Err(NoSync::TooLarge {
                size,
                limit: size_limit,
            });
        }
    }
    recs.first = Some(first);
    Ok(recs)
}

fn log_zxid(f: &Path) -> i64 {
    f.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| files::zxid_from_name(n, files::LOG_PREFIX))
        .unwrap_or(-1)
}

struct OpenLog {
    path: PathBuf,
    r: BufReader<File>,
    /// Bytes left in the file as it was when opened.
    left: u64,
}

/// The txns of [`proposals_from`], read as they are taken.
pub struct LogRecords {
    /// Files not opened yet, oldest first.
    rest: VecDeque<PathBuf>,
    cur: Option<OpenLog>,
    first: Option<(i64, Bytes)>,
    done: bool,
}

impl Iterator for LogRecords {
    type Item = (i64, Bytes);

    fn next(&mut self) -> Option<(i64, Bytes)> {
        if let Some(f) = self.first.take() {
            return Some(f);
        }
        if self.done {
            return None;
        }
        match self.read() {
            Ok(Some(r)) => Some(r),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                tracing::error!("Unable to read txnlog from disk: {e}");
                self.done = true;
                None
            }
        }
    }
}

impl LogRecords {
    /// The next record across files; None at the end of the last.
    fn read(&mut self) -> io::Result<Option<(i64, Bytes)>> {
        loop {
            if self.cur.is_none() {
                let Some(path) = self.rest.pop_front() else {
                    return Ok(None);
                };
                self.cur = Some(open(path)?);
            }
            let cur = self.cur.as_mut().expect("opened above");
            match record(cur) {
                Ok(Some(r)) => return Ok(Some(r)),
                Ok(None) => self.cur = None,
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!("{}: {e}", cur.path.display()),
                    ))
                }
            }
        }
    }
}

/// Opens a log and checks its header's magic (Java checks nothing else).
fn open(path: PathBuf) -> io::Result<OpenLog> {
    let ctx = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    let file = File::open(&path).map_err(ctx)?;
    let len = file.metadata().map_err(ctx)?.len();
    let mut r = BufReader::with_capacity(64 * 1024, file);
    let mut h = [0u8; FILE_HEADER_LEN as usize];
    r.read_exact(&mut h).map_err(ctx)?;
    if h[..4] != TXNLOG_MAGIC.to_be_bytes() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "Transaction log: {} has invalid magic number",
                path.display()
            ),
        ));
    }
    Ok(OpenLog {
        path,
        r,
        left: len.saturating_sub(FILE_HEADER_LEN),
    })
}

/// Fills `buf`; false if the file ends first.
fn fill(f: &mut OpenLog, buf: &mut [u8]) -> io::Result<bool> {
    if (buf.len() as u64) > f.left {
        return Ok(false);
    }
    match f.r.read_exact(buf) {
        Ok(()) => {
            f.left -= buf.len() as u64;
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// The next record of a file (`FileTxnIterator.next` with
/// `Util.readTxnBytes`); None at the end of its data.
fn record(f: &mut OpenLog) -> io::Result<Option<(i64, Bytes)>> {
    let mut h = [0u8; 12];
    if !fill(f, &mut h)? {
        return Ok(None);
    }
    let crc = i64::from_be_bytes(h[..8].try_into().expect("8 bytes"));
    let len = i32::from_be_bytes(h[8..].try_into().expect("4 bytes"));
    // Zero: the preallocated padding; -1: Java's null buffer.
    if len == 0 || len == -1 {
        return Ok(None);
    }
    if len < 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("Unreasonable length = {len}"),
        ));
    }
    if (len as u64) >= f.left {
        // Cut short: "Last transaction was partial", read as the end.
        return Ok(None);
    }
    let mut entry = vec![0u8; len as usize];
    if !fill(f, &mut entry)? {
        // Cut short: "Last transaction was partial", read as the end.
        return Ok(None);
    }
    let mut eor = [0u8; 1];
    if !fill(f, &mut eor)? || eor[0] != END_OF_RECORD {
        return Ok(None);
    }
    if crc != i64::from(adler2::adler32_slice(&entry)) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "CRC check failed",
        ));
    }
    // TxnHeader: clientId (8), cxid (4), zxid (8), time, type.
    if entry.len() < 28 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a txn of {len} bytes, shorter than its header"),
        ));
    }
    let zxid = i64::from_be_bytes(entry[12..20].try_into().expect("8 bytes"));
    Ok(Some((zxid, Bytes::from(entry))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::txn::{SetDataTxn, TxnHeader};
    use crate::persist::txnlog::TxnLogWriter;
    use crate::proto::op;
    use crate::txn::{Txn, TxnBody};

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let p = std::env::temp_dir().join(format!(
                "rzk-log-sync-{tag}-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn txn(zxid: i64) -> Txn {
        Txn {
            header: TxnHeader {
                client_id: 1,
                cxid: zxid as i32,
                zxid,
                time: 0,
                type_: op::SET_DATA,
            },
            body: TxnBody::SetData(SetDataTxn {
                path: "/a".into(),
                data: Some(Bytes::from(vec![7u8; 50])),
                version: zxid as i32,
            }),
            digest: None,
        }
    }

    /// Logs `files`, each a run of zxids (one file each), with `prealloc`.
    fn write_logs(dir: &Path, runs: &[std::ops::RangeInclusive<i64>], prealloc: u64) {
        let mut w = TxnLogWriter::new(dir, prealloc);
        for (i, run) in runs.iter().enumerate() {
            if i > 0 {
                w.roll().unwrap();
            }
            for z in run.clone() {
                w.append_txn(&txn(z), None).unwrap();
            }
            w.sync().unwrap();
        }
        w.close().unwrap();
    }

    fn zxids(r: LogRecords) -> Vec<i64> {
        r.map(|(z, _)| z).collect()
    }

    #[test]
    fn reads_from_the_start_of_the_file_holding_the_zxid() {
        let d = TempDir::new("start");
        write_logs(&d.0, &[1..=10, 11..=20, 21..=25], 4096);
        // In the second file: from its first txn, across the third.
        let r = proposals_from(&d.0, 15, 0).unwrap();
        assert_eq!(zxids(r), (11..=25).collect::<Vec<_>>());
        // A file starting at the zxid itself: the one before it too, as
        // Java's init (">= zxid" goes on to the next older file).
        let r = proposals_from(&d.0, 11, 0).unwrap();
        assert_eq!(zxids(r).first(), Some(&1));
        // The entries are the logged bytes: a PROPOSAL's data.
        let (z, e) = proposals_from(&d.0, 3, 0).unwrap().nth(2).unwrap();
        assert_eq!(z, 3);
        assert_eq!(
            e,
            crate::persist::txnlog::marshal_entry(&txn(3).header, &txn(3).body, None)
        );
    }

    #[test]
    fn a_zxid_before_the_logs_or_no_logs_serve_nothing() {
        let d = TempDir::new("before");
        assert_eq!(proposals_from(&d.0, 5, 0).err(), Some(NoSync::Empty));
        write_logs(&d.0, &[10..=20], 4096);
        assert_eq!(
            proposals_from(&d.0, 5, 0).err(),
            Some(NoSync::StartsAfter { first: 10 })
        );
        // At the first txn itself: served.
        assert_eq!(zxids(proposals_from(&d.0, 10, 0).unwrap()).len(), 11);
    }

    #[test]
    fn the_size_limit_counts_the_files_after_the_first() {
        let d = TempDir::new("limit");
        write_logs(&d.0, &[1..=10, 11..=20, 21..=25], 4096);
        let logs = files::list_logs(&d.0).unwrap();
        let len = |i: usize| std::fs::metadata(&logs[i]).unwrap().len();
        let after_first = len(1) + len(2);
        assert!(after_first >= 2 * 4096, "preallocated");
        // From the first file: the second and third count.
        assert_eq!(
            proposals_from(&d.0, 5, after_first - 1).err(),
            Some(NoSync::TooLarge {
                size: after_first,
                limit: after_first - 1
            })
        );
        assert!(proposals_from(&d.0, 5, after_first).is_ok());
        // From the last file: nothing counts, whatever its own size.
        assert!(proposals_from(&d.0, 22, 1).is_ok());
        // 0: no limit.
        assert!(proposals_from(&d.0, 5, 0).is_ok());
    }

    #[test]
    fn a_damaged_record_ends_the_reading() {
        let d = TempDir::new("damaged");
        write_logs(&d.0, &[1..=10, 11..=20], 4096);
        let logs = files::list_logs(&d.0).unwrap();
        // Flip a byte inside txn 13's entry (past the header and 2 records).
        let mut b = std::fs::read(&logs[1]).unwrap();
        let one = {
            let e = crate::persist::txnlog::marshal_entry(&txn(11).header, &txn(11).body, None);
            e.len() + 13
        };
        let at = FILE_HEADER_LEN as usize + 2 * one + 20;
        b[at] ^= 0xff;
        std::fs::write(&logs[1], &b).unwrap();
        let r = proposals_from(&d.0, 5, 0).unwrap();
        assert_eq!(zxids(r), (1..=12).collect::<Vec<_>>());
    }

    #[test]
    fn a_record_cut_short_moves_on_to_the_next_file() {
        let d = TempDir::new("partial");
        write_logs(&d.0, &[1..=10, 11..=20], 4096);
        let logs = files::list_logs(&d.0).unwrap();
        // Txn 10's 'B' goes: the first file's data ends at txn 9.
        let one = {
            let e = crate::persist::txnlog::marshal_entry(&txn(1).header, &txn(1).body, None);
            e.len() + 13
        };
        let mut b = std::fs::read(&logs[0]).unwrap();
        b[FILE_HEADER_LEN as usize + 10 * one - 1] = 0;
        std::fs::write(&logs[0], &b).unwrap();
        let got = zxids(proposals_from(&d.0, 5, 0).unwrap());
        let mut want: Vec<i64> = (1..=9).collect();
        want.extend(11..=20);
        assert_eq!(got, want);
    }

    #[test]
    fn the_limit_is_the_factor_times_the_newest_valid_snapshot() {
        let d = TempDir::new("snap");
        assert_eq!(size_limit(&d.0, SnapshotSizeFactor(0.5)), Some(0));
        assert_eq!(size_limit(&d.0, SnapshotSizeFactor(-1.0)), None);
        // An uncompressed snapshot is valid when it ends with the seal.
        let mut s = vec![1u8; 995];
        s.extend_from_slice(&[0, 0, 0, 1, b'/']);
        std::fs::write(d.0.join("snapshot.5"), &s).unwrap();
        std::fs::write(d.0.join("snapshot.9"), [1u8; 4000]).unwrap(); // not sealed
        assert_eq!(size_limit(&d.0, SnapshotSizeFactor(0.33)), Some(330));
        assert_eq!(size_limit(&d.0, SnapshotSizeFactor(0.0)), Some(0));
    }
}
