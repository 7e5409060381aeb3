//! The transaction log, byte for byte as Java ZooKeeper 3.8's `FileTxnLog`
//! writes and reads it.
//!
//! A log file, `version-2/log.<zxid of its first txn>`, is:
//!
//! ```text
//! FileHeader   int magic "ZKLG" (0x5A4B4C47), int version 2, long dbid 0
//! per txn:     long  Adler-32 of the entry bytes (as an unsigned 32-bit value)
//!              int   length of the entry
//!              bytes the entry: TxnHeader, the txn record, then (Java 3.6+)
//!                    the TxnDigest record when digests are enabled
//!              byte  'B' (0x42), the end-of-record marker
//! then zeros   the file is preallocated in 64 MB steps; a zero length reads
//!              as the end of the file
//! ```
//!
//! [`TxnLogWriter`] appends as `FileTxnLog.append` / `commit` / `rollLog` do,
//! buffered for group commit: many appends, then one [`TxnLogWriter::sync`].
//! [`TxnLogIterator`] reads as `FileTxnIterator`, over memory maps, and
//! tells a torn tail (a crash mid-append) from corruption.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use memmap2::Mmap;

use super::files;
use crate::jute::persistence::FileHeader;
use crate::jute::txn::{
    CheckVersionTxn, CloseSessionTxn, CreateContainerTxn, CreateSessionTxn, CreateTTLTxn,
    CreateTxn, CreateTxnV0, DeleteTxn, ErrorTxn, MultiTxn, SetACLTxn, SetDataTxn, TxnDigest,
    TxnHeader,
};
use crate::jute::{DecodeError, JuteField, Reader};
use crate::proto::op;
use crate::txn::{Txn, TxnBody};

/// `FileTxnLog.TXNLOG_MAGIC`: "ZKLG" read as a big-endian int.
pub const TXNLOG_MAGIC: i32 = i32::from_be_bytes(*b"ZKLG");
/// `FileTxnLog.VERSION`.
pub const TXNLOG_VERSION: i32 = 2;
/// Java never sets the dbid of a log; it is always 0.
pub const TXNLOG_DBID: i64 = 0;
/// Bytes of the file header.
pub const FILE_HEADER_LEN: u64 = 16;
/// The end-of-record marker after every entry.
pub const END_OF_RECORD: u8 = b'B';
/// `FilePadding`'s default preallocation step: 64 MB (`zookeeper.preAllocSize`
/// is in KB).
pub const DEFAULT_PREALLOC_SIZE: u64 = 64 * 1024 * 1024;

/// Checksum, length and end-of-record marker around every entry.
const RECORD_OVERHEAD: usize = 8 + 4 + 1;
/// Bytes of a TxnHeader: clientId, cxid, zxid, time, type.
const TXN_HEADER_LEN: usize = 8 + 4 + 8 + 8 + 4;
/// Buffered appends are written out once this many bytes are pending, to
/// bound memory between syncs (Java's BufferedOutputStream does the same
/// at 8 KB).
const AUTO_FLUSH_BYTES: usize = 1 << 20;

// ---------------------------------------------------------------------------
// Entries

/// Serialises one log entry as Java's `Util.marshallTxnEntry`: the header,
/// the body record, and the digest record when there is one.
pub fn marshal_entry(header: &TxnHeader, body: &TxnBody, digest: Option<&TxnDigest>) -> Bytes {
    let body = body.encode();
    let mut w = BytesMut::with_capacity(TXN_HEADER_LEN + body.len() + 12);
    header.write(&mut w);
    w.put_slice(&body);
    if let Some(d) = digest {
        d.write(&mut w);
    }
    w.freeze()
}

/// Parses one log entry as Java's `SerializeUtils.deserializeTxn`: the
/// header, the body its type names, and a digest if at least 12 bytes
/// follow the body.
///
/// Two fallbacks of Java's for logs older than 3.6 are kept: a `create`
/// whose `CreateTxn` is cut short is read as a `CreateTxnV0`, with
/// parentCVersion -1; a `closeSession` with no (complete) `CloseSessionTxn`
/// reads as one with no paths (Java's null txn).
pub fn unmarshal_entry(
    entry: Bytes,
) -> Result<(TxnHeader, TxnBody, Option<TxnDigest>), DecodeError> {
    let mut r = Reader::new(entry);
    let header = TxnHeader::read(&mut r)?;
    let body_start = r.rest();
    // One arm per type Java's deserializeTxn knows (plus check, which only
    // occurs inside a multi), as in TxnBody::decode; this reads through a
    // Reader so that the digest after the body can be found.
    let body = match header.type_ {
        op::CREATE | op::CREATE2 => match CreateTxn::read(&mut r) {
            Ok(t) => TxnBody::Create(t),
            Err(DecodeError::Truncated { .. }) if header.type_ == op::CREATE => {
                r = Reader::new(body_start);
                let v0 = CreateTxnV0::read(&mut r)?;
                TxnBody::Create(CreateTxn {
                    path: v0.path,
                    data: v0.data,
                    acl: v0.acl,
                    ephemeral: v0.ephemeral,
                    parent_cversion: -1,
                })
            }
            Err(e) => return Err(e),
        },
        op::CREATE_TTL => TxnBody::CreateTtl(CreateTTLTxn::read(&mut r)?),
        op::CREATE_CONTAINER => TxnBody::CreateContainer(CreateContainerTxn::read(&mut r)?),
        op::DELETE | op::DELETE_CONTAINER => TxnBody::Delete(DeleteTxn::read(&mut r)?),
        op::SET_DATA | op::RECONFIG => TxnBody::SetData(SetDataTxn::read(&mut r)?),
        op::SET_ACL => TxnBody::SetAcl(SetACLTxn::read(&mut r)?),
        op::CHECK => TxnBody::Check(CheckVersionTxn::read(&mut r)?),
        op::CREATE_SESSION => TxnBody::CreateSession(CreateSessionTxn::read(&mut r)?),
        op::CLOSE_SESSION => match CloseSessionTxn::read(&mut r) {
            Ok(t) => TxnBody::CloseSession(t),
            Err(DecodeError::Truncated { .. }) => TxnBody::CloseSession(CloseSessionTxn::default()),
            Err(e) => return Err(e),
        },
        op::ERROR => TxnBody::Error(ErrorTxn::read(&mut r)?),
        op::MULTI => {
            let m = MultiTxn::read(&mut r)?;
            let mut ops = Vec::with_capacity(m.txns.len());
            for t in m.txns {
                ops.push((
                    t.type_,
                    TxnBody::decode(t.type_, t.data.unwrap_or_default())?,
                ));
            }
            TxnBody::Multi(ops)
        }
        other => return Err(DecodeError::BadLength(other)),
    };
    let digest = if r.remaining() >= 12 {
        Some(TxnDigest::read(&mut r)?)
    } else {
        None
    };
    Ok((header, body, digest))
}

/// Java's `FilePadding.calculateFileSizeWithPadding`: the size a log file
/// is extended to before an entry is written at `position`, when it is
/// `file_size` long now. Within 4 KB of the end it grows by `prealloc`
/// bytes; an entry that overran the end gets the next multiple of
/// `prealloc` past `position + prealloc`. A `prealloc` of 0 disables it.
pub fn padded_size(position: u64, file_size: u64, prealloc: u64) -> u64 {
    if prealloc > 0 && position + 4096 >= file_size {
        if position > file_size {
            let s = position + prealloc;
            s - s % prealloc
        } else {
            file_size + prealloc
        }
    } else {
        file_size
    }
}

// ---------------------------------------------------------------------------
// Writing

/// The log file being appended to.
struct CurrentLog {
    path: PathBuf,
    file: File,
    /// Bytes appended to this file, header included, buffered or not.
    size: u64,
    /// Bytes written to the file so far.
    written: u64,
    /// Java's `FilePadding.currentSize`: the size the file is padded to.
    padded: u64,
    /// What the file was last extended to.
    extended: u64,
}

/// Appends transactions to the log files of one directory, as Java's
/// `FileTxnLog`.
///
/// The first append creates `log.<its zxid>`, as does the first append
/// after [`roll`](Self::roll) (and after a restart: Java never appends to
/// a log it did not create in this run). Appends are buffered;
/// [`flush`](Self::flush) writes them to the file and [`sync`](Self::sync)
/// makes them durable.
///
/// Group commit: append every transaction of a batch, call `sync` once,
/// and only then acknowledge the batch. `sync` returns after fdatasync has
/// put every appended byte (and the padding that makes room for it) on
/// stable storage, so a transaction acknowledged after `sync` survives a
/// crash; one not yet synced may be lost or left torn at the end of the
/// last log, which [`TxnLogIterator`] recognises and [`truncate_log_file`]
/// cuts off. Appends only ever extend the newest file, so later writes do
/// not rewrite synced records (short of a device tearing the rewrite of
/// the page that holds the end of the log, as for Java).
///
/// After an I/O error the state of the files is unknown: stop using the
/// writer (Java's SyncRequestProcessor takes the server down). Dropping it
/// without [`sync`](Self::sync) or [`close`](Self::close) loses what was
/// appended since the last sync, which nobody may have been told about.
pub struct TxnLogWriter {
    dir: PathBuf,
    prealloc: u64,
    current: Option<CurrentLog>,
    /// Appended bytes not yet written to `current`.
    buf: Vec<u8>,
    /// Files rolled away from whose last writes are not synced yet (Java's
    /// `streamsToFlush`).
    rolled: Vec<File>,
    /// A log file was created since the last sync, so the directory entry
    /// must be synced too.
    dir_dirty: bool,
    last_zxid: i64,
    total_bytes: u64,
}

impl TxnLogWriter {
    /// A writer for the logs in `dir` (a `version-2` directory, which must
    /// exist), extending each file in steps of `prealloc_size` bytes
    /// ([`DEFAULT_PREALLOC_SIZE`] as Java; 0 for no preallocation).
    pub fn new(dir: impl Into<PathBuf>, prealloc_size: u64) -> TxnLogWriter {
        TxnLogWriter {
            dir: dir.into(),
            prealloc: prealloc_size,
            current: None,
            buf: Vec::new(),
            rolled: Vec::new(),
            dir_dirty: false,
            last_zxid: 0,
            total_bytes: 0,
        }
    }

    /// Appends one transaction with, as Java 3.6+ logs it when digests are
    /// enabled, the tree digest after it.
    pub fn append(
        &mut self,
        header: &TxnHeader,
        body: &TxnBody,
        digest: Option<&TxnDigest>,
    ) -> io::Result<()> {
        let entry = marshal_entry(header, body, digest);
        self.append_entry(&entry)
    }

    /// [`append`](Self::append) for a [`Txn`].
    pub fn append_txn(&mut self, txn: &Txn, digest: Option<&TxnDigest>) -> io::Result<()> {
        self.append(&txn.header, &txn.body, digest)
    }

    /// Appends an entry already marshalled as [`marshal_entry`] does (say,
    /// the data of a quorum PROPOSAL packet); its zxid is read from its
    /// header.
    pub fn append_entry(&mut self, entry: &[u8]) -> io::Result<()> {
        if entry.len() < TXN_HEADER_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("txn log entry of {} bytes has no TxnHeader", entry.len()),
            ));
        }
        let zxid = i64::from_be_bytes(entry[12..20].try_into().expect("8 bytes"));
        if zxid <= self.last_zxid {
            tracing::warn!(
                "Current zxid {:#x} is <= {:#x} for type {}",
                zxid,
                self.last_zxid,
                i32::from_be_bytes(entry[28..32].try_into().expect("4 bytes"))
            );
        } else {
            self.last_zxid = zxid;
        }
        if self.current.is_none() {
            self.open_new(zxid)?;
        }
        let prealloc = self.prealloc;
        let cur = self.current.as_mut().expect("opened above");
        // FilePadding.padFile, before every entry.
        cur.padded = padded_size(cur.size, cur.padded, prealloc);
        let len = i32::try_from(entry.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "txn log entry over 2 GB"))?;
        self.buf.put_i64(i64::from(adler2::adler32_slice(entry)));
        self.buf.put_i32(len);
        self.buf.put_slice(entry);
        self.buf.put_u8(END_OF_RECORD);
        let n = (entry.len() + RECORD_OVERHEAD) as u64;
        cur.size += n;
        self.total_bytes += n;
        if self.buf.len() >= AUTO_FLUSH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn open_new(&mut self, zxid: i64) -> io::Result<()> {
        let path = self.dir.join(files::log_name(zxid));
        tracing::info!("Creating new log file: {}", files::log_name(zxid));
        // As Java's FileOutputStream: an existing file of that name (only
        // ever a log that never got its first entry) is truncated.
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)?;
        let header = FileHeader {
            magic: TXNLOG_MAGIC,
            version: TXNLOG_VERSION,
            dbid: TXNLOG_DBID,
        };
        let mut w = BytesMut::with_capacity(FILE_HEADER_LEN as usize);
        header.write(&mut w);
        self.buf.extend_from_slice(&w);
        self.total_bytes += FILE_HEADER_LEN;
        self.current = Some(CurrentLog {
            path,
            file,
            size: FILE_HEADER_LEN,
            written: 0,
            // Java pads from the position after the header.
            padded: FILE_HEADER_LEN,
            extended: 0,
        });
        self.dir_dirty = true;
        Ok(())
    }

    /// Writes the buffered appends to the current file (no fsync).
    pub fn flush(&mut self) -> io::Result<()> {
        let Some(cur) = self.current.as_mut() else {
            return Ok(());
        };
        // Preallocate first, as Java pads before writing: set_len extends
        // the file with zeros (sparsely, like Java's single byte written at
        // the new end).
        if cur.padded > cur.extended.max(cur.written) {
            cur.file.set_len(cur.padded)?;
            cur.extended = cur.padded;
        }
        if !self.buf.is_empty() {
            cur.file.write_all(&self.buf)?;
            cur.written += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }

    /// Flushes, then fsyncs (fdatasync, as Java's `FileChannel.force(false)`)
    /// every file appended to since the last sync, and the directory when
    /// a file was created.
    ///
    /// Why replying only after this returns is durable: fdatasync does not
    /// return until every written page of the file, and the metadata
    /// needed to read it back (the file size set by preallocation), is on
    /// stable storage; the directory fsync does the same for a new file's
    /// name, which fdatasync of the file alone does not cover. So a txn
    /// acknowledged after `sync` is on disk whatever crashes next, and
    /// anything lost in a crash was never acknowledged. Batching many
    /// appends under one sync (group commit) keeps that guarantee while
    /// paying for one fsync per batch.
    pub fn sync(&mut self) -> io::Result<()> {
        self.flush()?;
        for f in &self.rolled {
            f.sync_data()?;
        }
        self.rolled.clear();
        if let Some(cur) = &self.current {
            cur.file.sync_data()?;
        }
        if self.dir_dirty {
            files::sync_dir(&self.dir)?;
            self.dir_dirty = false;
        }
        Ok(())
    }

    /// Ends the current file (Java's `rollLog`): it is flushed now and
    /// synced by the next [`sync`](Self::sync); the next append starts a
    /// new file. Java rolls when it decides to take a snapshot, so that
    /// the new log starts just after the snapshot's zxid.
    pub fn roll(&mut self) -> io::Result<()> {
        self.flush()?;
        if let Some(cur) = self.current.take() {
            self.rolled.push(cur.file);
        }
        Ok(())
    }

    /// Syncs and closes.
    pub fn close(mut self) -> io::Result<()> {
        self.sync()
    }

    /// The file being appended to, if any.
    pub fn current_file(&self) -> Option<&Path> {
        self.current.as_ref().map(|c| c.path.as_path())
    }

    /// Bytes appended to the current file, header included, padding not
    /// (what a size-based roll policy wants; Java's getCurrentLogSize
    /// reports the padded length instead).
    pub fn current_size(&self) -> u64 {
        self.current.as_ref().map_or(0, |c| c.size)
    }

    /// Bytes appended by this writer over all its files, headers included.
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Bytes appended but not yet written to the file.
    pub fn pending_bytes(&self) -> usize {
        self.buf.len()
    }

    /// The highest zxid appended (0 before any).
    pub fn last_zxid(&self) -> i64 {
        self.last_zxid
    }
}

// ---------------------------------------------------------------------------
// Errors

/// What is wrong with a record (or a file header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Corruption {
    /// The file ends `available` bytes into a record that needs `needed`.
    Truncated { needed: u64, available: u64 },
    /// The length field is negative.
    BadLength(i32),
    /// The byte after the entry is not 'B'.
    BadEndOfRecord(u8),
    /// The Adler-32 stored before the entry is not the entry's.
    ChecksumMismatch { stored: i64, computed: u32 },
    /// The file has no complete header: it was created, but the header
    /// never reached the disk.
    NoHeader,
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Corruption::Truncated { needed, available } => write!(
                f,
                "record cut short: {available} of its {needed} bytes present"
            ),
            Corruption::BadLength(n) => write!(f, "negative record length {n}"),
            Corruption::BadEndOfRecord(b) => {
                write!(f, "end-of-record marker is {b:#04x}, not 'B'")
            }
            Corruption::ChecksumMismatch { stored, computed } => write!(
                f,
                "checksum mismatch: stored {stored:#x}, computed {computed:#x}"
            ),
            Corruption::NoHeader => write!(f, "no complete file header"),
        }
    }
}

/// Why the log could not be read.
#[derive(Debug)]
pub enum LogError {
    /// Listing, opening or mapping a file failed.
    Io { file: PathBuf, source: io::Error },
    /// A file does not start with "ZKLG".
    BadMagic { file: PathBuf, magic: i32 },
    /// A damaged record that is not a torn tail: valid data follows it.
    Corrupt {
        file: PathBuf,
        offset: u64,
        problem: Corruption,
    },
    /// A record whose checksum holds but whose contents do not parse.
    Decode {
        file: PathBuf,
        offset: u64,
        source: DecodeError,
    },
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::Io { file, source } => {
                write!(f, "txn log {}: {source}", file.display())
            }
            LogError::BadMagic { file, magic } => write!(
                f,
                "txn log {}: invalid magic number {magic:#010x} != {TXNLOG_MAGIC:#010x} (\"ZKLG\")",
                file.display()
            ),
            LogError::Corrupt {
                file,
                offset,
                problem,
            } => write!(
                f,
                "txn log {} is corrupt at byte offset {offset}: {problem}",
                file.display()
            ),
            LogError::Decode {
                file,
                offset,
                source,
            } => write!(
                f,
                "txn log {}: the txn at byte offset {offset} does not parse: {source}",
                file.display()
            ),
        }
    }
}

impl std::error::Error for LogError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LogError::Io { source, .. } => Some(source),
            LogError::Decode { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn io_err(file: &Path) -> impl FnOnce(io::Error) -> LogError + '_ {
    move |source| LogError::Io {
        file: file.to_path_buf(),
        source,
    }
}

// ---------------------------------------------------------------------------
// Reading

/// A damaged record at the end of a log with nothing but zeros after it:
/// an append cut short by a crash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    pub file: PathBuf,
    /// Where the valid data ends: the offset of the damaged record (0 when
    /// even the file header is incomplete).
    pub valid_len: u64,
    /// The file's length.
    pub file_len: u64,
    pub problem: Corruption,
}

impl TornTail {
    /// Cuts the torn record off (see [`truncate_log_file`]).
    pub fn truncate(&self) -> io::Result<()> {
        truncate_log_file(&self.file, self.valid_len)
    }
}

impl fmt::Display for TornTail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "txn log {} has a torn tail at byte offset {} of {}: {}",
            self.file.display(),
            self.valid_len,
            self.file_len,
            self.problem
        )
    }
}

/// One transaction read from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub header: TxnHeader,
    pub body: TxnBody,
    /// The tree digest after the txn (Java 3.6+ with digests enabled).
    pub digest: Option<TxnDigest>,
    /// The log file it is in.
    pub file: Arc<Path>,
    /// The offset of its record (its checksum field) in the file.
    pub offset: u64,
    /// The offset just past its record's 'B'.
    pub end: u64,
}

/// Whether every byte is zero (written to vectorise: no early exit inside
/// a chunk).
fn all_zero(b: &[u8]) -> bool {
    b.chunks(4096)
        .all(|c| c.iter().fold(0u8, |a, &x| a | x) == 0)
}

/// One mapped log file being scanned.
struct LogFile {
    path: Arc<Path>,
    map: Mmap,
    pos: usize,
    /// The newest log, the only one a crash can leave torn (as far as rzk
    /// is concerned; see TxnLogIterator).
    last: bool,
}

/// What the next record of a file is.
enum Step {
    /// A record whose checksum and marker hold; the entry is
    /// `[offset + 12, end - 1)`.
    Record { offset: usize, end: usize },
    /// The end of the file's data: its end, or a zero length.
    End,
    /// A torn tail; nothing more in this file.
    Torn(TornTail),
}

impl LogFile {
    fn open(path: &Path, last: bool) -> Result<LogFile, LogError> {
        let file = File::open(path).map_err(io_err(path))?;
        // SAFETY: the map is only read while this LogFile lives, and log
        // files are not modified underneath a reader: rzk reads its logs at
        // startup, before it appends, and only ever appends to a file it
        // created after that (as Java). Truncating a file while a reader has
        // it mapped would fault the reader (SIGBUS), so recovery truncates
        // only after the iteration that found the torn tail has ended.
        let map = unsafe { Mmap::map(&file) }.map_err(io_err(path))?;
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Sequential);
        Ok(LogFile {
            path: Arc::from(path),
            map,
            pos: 0,
            last,
        })
    }

    fn torn_or_corrupt(
        &mut self,
        at: usize,
        after: usize,
        problem: Corruption,
    ) -> Result<Step, LogError> {
        let d = &self.map[..];
        if all_zero(&d[after.min(d.len())..]) {
            self.pos = d.len();
            Ok(Step::Torn(TornTail {
                file: self.path.to_path_buf(),
                valid_len: at as u64,
                file_len: d.len() as u64,
                problem,
            }))
        } else {
            Err(LogError::Corrupt {
                file: self.path.to_path_buf(),
                offset: at as u64,
                problem,
            })
        }
    }

    fn step(&mut self) -> Result<Step, LogError> {
        let len = self.map.len();
        let pos = self.pos;
        if pos == 0 {
            // The file header. Java only checks the magic number.
            let d = &self.map[..];
            let h = FILE_HEADER_LEN as usize;
            let magic = TXNLOG_MAGIC.to_be_bytes();
            let n = len.min(4);
            if len >= h && d[..4] == magic {
                self.pos = h;
                return self.step();
            }
            if all_zero(d) || (len < h && d[..n] == magic[..n]) {
                // Created, but the header never made it to disk.
                return self.torn_or_corrupt(0, len, Corruption::NoHeader);
            }
            let mut m = [0u8; 4];
            m[..n].copy_from_slice(&d[..n]);
            return Err(LogError::BadMagic {
                file: self.path.to_path_buf(),
                magic: i32::from_be_bytes(m),
            });
        }
        if pos >= len {
            return Ok(Step::End);
        }
        let rest = &self.map[pos..];
        if rest.len() < 12 {
            // Java reads this as the end of the file; it is one when it is
            // the last of the zero padding.
            if all_zero(rest) {
                self.pos = len;
                return Ok(Step::End);
            }
            let problem = Corruption::Truncated {
                needed: RECORD_OVERHEAD as u64,
                available: rest.len() as u64,
            };
            return self.torn_or_corrupt(pos, len, problem);
        }
        let stored = i64::from_be_bytes(rest[..8].try_into().expect("8 bytes"));
        let n = i32::from_be_bytes(rest[8..12].try_into().expect("4 bytes"));
        if n == 0 {
            // "Since we preallocate, we define EOF to be an empty
            // transaction" (Java ignores the checksum field here).
            self.pos = len;
            return Ok(Step::End);
        }
        if n < 0 {
            return self.torn_or_corrupt(pos, pos + 12, Corruption::BadLength(n));
        }
        let end = pos.saturating_add(RECORD_OVERHEAD + n as usize);
        if end > len {
            let problem = Corruption::Truncated {
                needed: (end - pos) as u64,
                available: rest.len() as u64,
            };
            return self.torn_or_corrupt(pos, len, problem);
        }
        let eor = self.map[end - 1];
        if eor != END_OF_RECORD {
            return self.torn_or_corrupt(pos, end, Corruption::BadEndOfRecord(eor));
        }
        let computed = adler2::adler32_slice(&self.map[pos + 12..end - 1]);
        if stored != i64::from(computed) {
            return self.torn_or_corrupt(
                pos,
                end,
                Corruption::ChecksumMismatch { stored, computed },
            );
        }
        self.pos = end;
        Ok(Step::Record { offset: pos, end })
    }
}

/// Iterates the transactions in a log directory from a zxid on, across
/// its log files, as Java's `FileTxnIterator`.
///
/// Files are chosen as Java does: the log starting at or just before the
/// zxid and every later one. Transactions before the zxid are skipped up
/// to the first at or after it; from there on everything is returned, in
/// file order.
///
/// A file's data ends at its end or at a zero length (the preallocated
/// zeros). A damaged record followed by nothing but zeros is a *torn
/// tail*, an append cut short by a crash: in the last log it ends the
/// iteration cleanly and [`torn_tail`](Self::torn_tail) says where the
/// valid data ends, so that it can be truncated; in an earlier log
/// (Java leaves those behind: it never repairs a torn tail and starts a
/// new file after a restart) it ends that file, as in Java, and is listed
/// by [`skipped_tails`](Self::skipped_tails). Any other damage (a bad
/// checksum, marker or length with data after it) is a [`LogError`] naming
/// the file and offset, and ends the iteration.
pub struct TxnLogIterator {
    files: Vec<PathBuf>,
    next_file: usize,
    /// Whether the last of `files` is the directory's newest log.
    includes_last: bool,
    cur: Option<LogFile>,
    from_zxid: i64,
    fast_forward: bool,
    torn_tail: Option<TornTail>,
    skipped_tails: Vec<TornTail>,
    done: bool,
}

impl TxnLogIterator {
    /// Reads the logs in `dir` (a `version-2` directory) from `from_zxid`.
    pub fn open(dir: &Path, from_zxid: i64) -> Result<TxnLogIterator, LogError> {
        let all = files::list_logs(dir).map_err(io_err(dir))?;
        // FileTxnIterator.init: from the newest down, every log starting at
        // or after the zxid, and the first one before it.
        let mut chosen = Vec::new();
        for f in all.iter().rev() {
            chosen.push(f.clone());
            if log_zxid(f) < from_zxid {
                break;
            }
        }
        chosen.reverse();
        Ok(TxnLogIterator::over(chosen, from_zxid, true))
    }

    fn over(files: Vec<PathBuf>, from_zxid: i64, includes_last: bool) -> TxnLogIterator {
        TxnLogIterator {
            files,
            next_file: 0,
            includes_last,
            cur: None,
            from_zxid,
            fast_forward: true,
            torn_tail: None,
            skipped_tails: Vec::new(),
            done: false,
        }
    }

    /// The files read, ascending.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// After the iteration has ended: the torn tail of the last log, if it
    /// has one.
    pub fn torn_tail(&self) -> Option<&TornTail> {
        self.torn_tail.as_ref()
    }

    /// Torn tails met at the end of earlier logs and read past.
    pub fn skipped_tails(&self) -> &[TornTail] {
        &self.skipped_tails
    }

    /// The next record's offset and entry bytes, across files.
    fn next_record(&mut self) -> Option<Result<(usize, usize), LogError>> {
        loop {
            if self.done {
                return None;
            }
            if self.cur.is_none() {
                if self.next_file >= self.files.len() {
                    self.done = true;
                    return None;
                }
                let last = self.includes_last && self.next_file + 1 == self.files.len();
                match LogFile::open(&self.files[self.next_file], last) {
                    Ok(f) => self.cur = Some(f),
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
                self.next_file += 1;
            }
            let cur = self.cur.as_mut().expect("opened above");
            match cur.step() {
                Ok(Step::Record { offset, end }) => return Some(Ok((offset, end))),
                Ok(Step::End) => self.cur = None,
                Ok(Step::Torn(t)) => {
                    if cur.last {
                        self.torn_tail = Some(t);
                        self.done = true;
                        return None;
                    }
                    tracing::warn!("{t}; reading on in the next log, as Java does");
                    self.skipped_tails.push(t);
                    self.cur = None;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

impl Iterator for TxnLogIterator {
    type Item = Result<LogEntry, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (offset, end) = match self.next_record()? {
                Ok(r) => r,
                Err(e) => return Some(Err(e)),
            };
            let cur = self.cur.as_ref().expect("a record was just read from it");
            let entry = Bytes::copy_from_slice(&cur.map[offset + 12..end - 1]);
            let (header, body, digest) = match unmarshal_entry(entry) {
                Ok(x) => x,
                Err(source) => {
                    self.done = true;
                    return Some(Err(LogError::Decode {
                        file: cur.path.to_path_buf(),
                        offset: offset as u64,
                        source,
                    }));
                }
            };
            if self.fast_forward {
                if header.zxid < self.from_zxid {
                    continue;
                }
                self.fast_forward = false;
            }
            return Some(Ok(LogEntry {
                header,
                body,
                digest,
                file: cur.path.clone(),
                offset: offset as u64,
                end: end as u64,
            }));
        }
    }
}

impl std::iter::FusedIterator for TxnLogIterator {}

fn log_zxid(f: &Path) -> i64 {
    f.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| files::zxid_from_name(n, files::LOG_PREFIX))
        .unwrap_or(-1)
}

/// The zxid of the last transaction in the logs of `dir` (a `version-2`
/// directory), `None` when they hold none; for startup. Reads the newest
/// log, or, when that holds no transaction, the one before, and so on.
///
/// Java's `getLastLoggedZxid` differs in one corner: when the newest log
/// has no transaction it returns the zxid in that file's name.
pub fn last_logged_zxid(dir: &Path) -> Result<Option<i64>, LogError> {
    let logs = files::list_logs(dir).map_err(io_err(dir))?;
    for (i, f) in logs.iter().enumerate().rev() {
        let mut it = TxnLogIterator::over(vec![f.clone()], i64::MIN, i + 1 == logs.len());
        let mut last = None;
        while let Some(r) = it.next_record() {
            let (offset, _) = r?;
            let m = &it.cur.as_ref().expect("just read").map;
            // Only the header is needed: zxid at bytes 12..20 of the entry,
            // and the entry must be at least a header long.
            let e = &m[offset + 12..];
            let n = i32::from_be_bytes(m[offset + 8..offset + 12].try_into().expect("4 bytes"));
            if (n as usize) < TXN_HEADER_LEN {
                return Err(LogError::Decode {
                    file: f.clone(),
                    offset: offset as u64,
                    source: DecodeError::Truncated {
                        needed: TXN_HEADER_LEN,
                        remaining: n as usize,
                    },
                });
            }
            last = Some(i64::from_be_bytes(e[12..20].try_into().expect("8 bytes")));
        }
        if last.is_some() {
            return Ok(last);
        }
    }
    Ok(None)
}

/// Cuts a log file at `len` bytes, durably: the crash-recovery step for a
/// [`TornTail`]. A file left without a complete header is removed instead
/// (Java cannot read a log shorter than its header).
pub fn truncate_log_file(path: &Path, len: u64) -> io::Result<()> {
    if len < FILE_HEADER_LEN {
        fs::remove_file(path)?;
    } else {
        let f = OpenOptions::new().write(true).open(path)?;
        f.set_len(len)?;
        f.sync_all()?;
    }
    files::sync_parent_dir(path)
}

/// Removes every transaction after `zxid` from the logs of `dir`, as Java's
/// `FileTxnLog.truncate` for a follower told to TRUNC: the log holding
/// `zxid` is cut after it and every later log is deleted. Returns whether
/// anything was removed.
///
/// Unlike Java, when `zxid` itself is not in the log this cuts before the
/// first transaction after it (Java keeps that one).
pub fn truncate_after(dir: &Path, zxid: i64) -> Result<bool, LogError> {
    let mut it = TxnLogIterator::open(dir, zxid)?;
    let (file, cut) = match it.next() {
        None => {
            // Nothing at or after zxid; at most a torn tail to drop.
            return match it.torn_tail() {
                Some(t) => {
                    t.truncate().map_err(io_err(&t.file))?;
                    Ok(true)
                }
                None => Ok(false),
            };
        }
        Some(Err(e)) => return Err(e),
        Some(Ok(e)) if e.header.zxid == zxid => {
            let next = it.next().transpose()?;
            match next {
                Some(n) if n.file == e.file => (e.file.to_path_buf(), e.end),
                // Nothing more in that file: cut off only a torn tail in it,
                // if that is where the iteration stopped.
                _ => {
                    let torn = it.torn_tail().is_some_and(|t| t.file == *e.file);
                    (e.file.to_path_buf(), if torn { e.end } else { u64::MAX })
                }
            }
        }
        Some(Ok(e)) => (e.file.to_path_buf(), e.offset),
    };
    let files = it.files().to_vec();
    drop(it);
    let mut changed = false;
    if cut != u64::MAX {
        truncate_log_file(&file, cut).map_err(io_err(&file))?;
        changed = true;
    }
    let mut later = false;
    for f in &files {
        if later {
            fs::remove_file(f).map_err(io_err(f))?;
            changed = true;
        }
        later |= *f == file;
    }
    if changed {
        files::sync_dir(dir).map_err(io_err(dir))?;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::data::{Id, ACL};
    use crate::jute::txn::CreateTxn;
    use crate::persist::files::TestDir;
    use std::collections::BTreeSet;

    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/persist/testdata/java38/version-2"
    );

    fn hdr(zxid: i64, type_: i32) -> TxnHeader {
        TxnHeader {
            client_id: 0x1000_0238_1a40_0000,
            cxid: zxid as i32,
            zxid,
            time: 1_700_000_000_000 + zxid,
            type_,
        }
    }

    fn acl(perms: i32, scheme: &str, id: &str) -> ACL {
        ACL {
            perms,
            id: Id {
                scheme: scheme.into(),
                id: id.into(),
            },
        }
    }

    fn open_acl() -> Vec<ACL> {
        vec![acl(31, "world", "anyone")]
    }

    fn create(path: &str, data: Option<&[u8]>, ephemeral: bool, pcv: i32) -> TxnBody {
        TxnBody::Create(CreateTxn {
            path: path.into(),
            data: data.map(Bytes::copy_from_slice),
            acl: open_acl(),
            ephemeral,
            parent_cversion: pcv,
        })
    }

    /// One txn of every kind Java logs at top level, with types.
    fn every_kind() -> Vec<(i32, TxnBody)> {
        let multi_ops = vec![
            (op::CREATE, create("/m", Some(b"m"), false, 3)),
            (
                op::CREATE_TTL,
                TxnBody::CreateTtl(CreateTTLTxn {
                    path: "/m/ttl".into(),
                    data: None,
                    acl: open_acl(),
                    parent_cversion: 1,
                    ttl: 500,
                }),
            ),
            (
                op::CREATE_CONTAINER,
                TxnBody::CreateContainer(CreateContainerTxn {
                    path: "/m/c".into(),
                    data: Some(Bytes::new()),
                    acl: open_acl(),
                    parent_cversion: 2,
                }),
            ),
            (
                op::SET_DATA,
                TxnBody::SetData(SetDataTxn {
                    path: "/m".into(),
                    data: Some(Bytes::from_static(b"m2")),
                    version: 1,
                }),
            ),
            (
                op::CHECK,
                TxnBody::Check(CheckVersionTxn {
                    path: "/a".into(),
                    version: 2,
                }),
            ),
            (
                op::DELETE,
                TxnBody::Delete(DeleteTxn {
                    path: "/m/c".into(),
                }),
            ),
        ];
        let failed_multi = vec![
            (op::ERROR, TxnBody::Error(ErrorTxn { err: 0 })),
            (op::ERROR, TxnBody::Error(ErrorTxn { err: -103 })),
        ];
        vec![
            (
                op::CREATE_SESSION,
                TxnBody::CreateSession(CreateSessionTxn { time_out: 30000 }),
            ),
            (op::CREATE, create("/a", Some(b"hello"), false, 1)),
            (op::CREATE, create("/a/null", None, false, 1)),
            (op::CREATE, create("/e", Some(b""), true, 2)),
            (
                op::CREATE2,
                create("/\u{e9}t\u{e9}-\u{6f22}", Some(&[7u8; 3000]), false, 3),
            ),
            (
                op::CREATE_TTL,
                TxnBody::CreateTtl(CreateTTLTxn {
                    path: "/ttl".into(),
                    data: Some(Bytes::from_static(b"t")),
                    acl: open_acl(),
                    parent_cversion: 4,
                    ttl: 500,
                }),
            ),
            (
                op::CREATE_CONTAINER,
                TxnBody::CreateContainer(CreateContainerTxn {
                    path: "/cont".into(),
                    data: None,
                    acl: open_acl(),
                    parent_cversion: 5,
                }),
            ),
            (
                op::SET_DATA,
                TxnBody::SetData(SetDataTxn {
                    path: "/a".into(),
                    data: Some(Bytes::from_static(b"world")),
                    version: 1,
                }),
            ),
            (
                op::SET_ACL,
                TxnBody::SetAcl(SetACLTxn {
                    path: "/a".into(),
                    acl: vec![
                        acl(31, "digest", "u:7x4bKeR1mtP8B+bMqm3DKhtG4WQ="),
                        acl(1, "world", "anyone"),
                    ],
                    version: 1,
                }),
            ),
            (op::ERROR, TxnBody::Error(ErrorTxn { err: -110 })),
            (op::MULTI, TxnBody::Multi(multi_ops)),
            (op::MULTI, TxnBody::Multi(failed_multi)),
            (op::MULTI, TxnBody::Multi(Vec::new())),
            (
                op::DELETE,
                TxnBody::Delete(DeleteTxn {
                    path: "/a/null".into(),
                }),
            ),
            (
                op::DELETE_CONTAINER,
                TxnBody::Delete(DeleteTxn {
                    path: "/cont".into(),
                }),
            ),
            (
                op::RECONFIG,
                TxnBody::SetData(SetDataTxn {
                    path: "/zookeeper/config".into(),
                    data: Some(Bytes::from_static(
                        b"server.1=127.0.0.1:2888:3888\nversion=0",
                    )),
                    version: -1,
                }),
            ),
            (
                op::CLOSE_SESSION,
                TxnBody::CloseSession(CloseSessionTxn {
                    paths2_delete: vec!["/e".into()],
                }),
            ),
            (
                op::CLOSE_SESSION,
                TxnBody::CloseSession(CloseSessionTxn::default()),
            ),
        ]
    }

    fn digest_for(zxid: i64) -> TxnDigest {
        TxnDigest {
            version: 2,
            tree_digest: zxid.wrapping_mul(0x1E37_79B9_7F4A_7C15),
        }
    }

    fn read_all(dir: &Path, from: i64) -> Vec<LogEntry> {
        TxnLogIterator::open(dir, from)
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
    }

    /// Writes `n` small txns, zxids 1..=n, into `dir` with no preallocation.
    fn write_n(dir: &Path, n: i64, prealloc: u64) -> Vec<LogEntry> {
        let mut w = TxnLogWriter::new(dir, prealloc);
        for z in 1..=n {
            let body = create(
                &format!("/n{z}"),
                Some(format!("data-{z}").as_bytes()),
                false,
                z as i32,
            );
            w.append(&hdr(z, op::CREATE), &body, Some(&digest_for(z)))
                .unwrap();
        }
        w.close().unwrap();
        read_all(dir, 0)
    }

    fn only_log(dir: &Path) -> PathBuf {
        let logs = files::list_logs(dir).unwrap();
        assert_eq!(logs.len(), 1);
        logs[0].clone()
    }

    #[test]
    fn magic_is_zklg() {
        assert_eq!(TXNLOG_MAGIC, 0x5A4B_4C47);
    }

    #[test]
    fn round_trip_every_kind_with_and_without_digest() {
        for prealloc in [0, 4096, DEFAULT_PREALLOC_SIZE] {
            let dir = TestDir::new("txnlog-rt");
            let mut w = TxnLogWriter::new(&dir.0, prealloc);
            let mut expected = Vec::new();
            let mut zxid = 0;
            // Every kind without a digest, then every kind with one.
            for with_digest in [false, true] {
                for (t, body) in every_kind() {
                    zxid += 1;
                    let h = hdr(zxid, t);
                    let d = with_digest.then(|| digest_for(zxid));
                    // marshal/unmarshal alone
                    let bytes = marshal_entry(&h, &body, d.as_ref());
                    assert_eq!(
                        unmarshal_entry(bytes).unwrap(),
                        (h.clone(), body.clone(), d.clone())
                    );
                    w.append(&h, &body, d.as_ref()).unwrap();
                    expected.push((h, body, d));
                }
            }
            w.sync().unwrap();
            let got = read_all(&dir.0, 0);
            assert_eq!(got.len(), expected.len());
            for (e, (h, b, d)) in got.iter().zip(&expected) {
                assert_eq!((&e.header, &e.body, &e.digest), (h, b, d));
                assert_eq!(&*e.file, dir.0.join("log.1"));
            }
            // Records are contiguous from the header on.
            assert_eq!(got[0].offset, FILE_HEADER_LEN);
            for p in got.windows(2) {
                assert_eq!(p[0].end, p[1].offset);
            }
            let len = fs::metadata(dir.0.join("log.1")).unwrap().len();
            if prealloc == 0 {
                assert_eq!(len, got.last().unwrap().end);
            } else {
                assert!(len >= got.last().unwrap().end && (len - 16).is_multiple_of(prealloc));
            }
            assert_eq!(last_logged_zxid(&dir.0).unwrap(), Some(zxid));
            w.close().unwrap();
        }
    }

    #[test]
    fn file_layout_is_javas() {
        let dir = TestDir::new("txnlog-layout");
        let mut w = TxnLogWriter::new(&dir.0, 8192);
        let h = hdr(0x1_0000_0001, op::CREATE_SESSION);
        let body = TxnBody::CreateSession(CreateSessionTxn { time_out: 30000 });
        w.append(&h, &body, Some(&digest_for(1))).unwrap();
        w.sync().unwrap();
        assert_eq!(w.current_file().unwrap(), dir.0.join("log.100000001"));
        let d = fs::read(dir.0.join("log.100000001")).unwrap();
        // Java's first padding: the header's 16 bytes plus one step.
        assert_eq!(d.len(), 16 + 8192);
        assert_eq!(&d[..16], b"ZKLG\0\0\0\x02\0\0\0\0\0\0\0\0");
        let entry = marshal_entry(&h, &body, Some(&digest_for(1)));
        assert_eq!(entry.len(), 32 + 4 + 12);
        assert_eq!(
            &d[16..24],
            &u64::from(adler2::adler32_slice(&entry)).to_be_bytes()
        );
        assert_eq!(&d[24..28], &(entry.len() as i32).to_be_bytes());
        assert_eq!(&d[28..28 + entry.len()], &entry[..]);
        assert_eq!(d[28 + entry.len()], b'B');
        assert!(all_zero(&d[29 + entry.len()..]));
        assert_eq!(w.current_size(), 29 + entry.len() as u64);
        assert_eq!(w.total_bytes(), w.current_size());
    }

    #[test]
    fn padding_follows_java() {
        // FilePadding.calculateFileSizeWithPadding's cases.
        assert_eq!(padded_size(16, 16, 8192), 16 + 8192);
        assert_eq!(padded_size(100, 8208, 8192), 8208);
        assert_eq!(padded_size(8208 - 4096, 8208, 8192), 8208 + 8192);
        assert_eq!(padded_size(9000, 8208, 8192), 16384);
        assert_eq!(padded_size(16384, 8208, 8192), 24576);
        assert_eq!(padded_size(5000, 16, 0), 16);
        // Many small appends cross step after step.
        let dir = TestDir::new("txnlog-pad");
        let mut w = TxnLogWriter::new(&dir.0, 4096);
        let mut size = 16u64;
        let mut pos = 16u64;
        for z in 1..=200 {
            let body = create("/x", Some(&[1u8; 100]), false, 0);
            let rec = marshal_entry(&hdr(z, op::CREATE), &body, None).len() as u64 + 13;
            size = padded_size(pos, size, 4096);
            pos += rec;
            w.append(&hdr(z, op::CREATE), &body, None).unwrap();
            if z % 7 == 0 {
                w.flush().unwrap();
            }
        }
        w.sync().unwrap();
        assert_eq!(fs::metadata(only_log(&dir.0)).unwrap().len(), size.max(pos));
        assert_eq!(read_all(&dir.0, 0).len(), 200);
    }

    #[test]
    fn group_commit_buffers_until_flush() {
        let dir = TestDir::new("txnlog-gc");
        let mut w = TxnLogWriter::new(&dir.0, 0);
        for z in 1..=10 {
            w.append(
                &hdr(z, op::ERROR),
                &TxnBody::Error(ErrorTxn { err: -1 }),
                None,
            )
            .unwrap();
        }
        let path = w.current_file().unwrap().to_path_buf();
        assert_eq!(fs::metadata(&path).unwrap().len(), 0);
        assert_eq!(w.pending_bytes() as u64, w.current_size());
        w.flush().unwrap();
        assert_eq!(w.pending_bytes(), 0);
        assert_eq!(fs::metadata(&path).unwrap().len(), w.current_size());
        w.sync().unwrap();
        assert_eq!(read_all(&dir.0, 0).len(), 10);
        assert_eq!(w.last_zxid(), 10);
    }

    #[test]
    fn roll_and_read_from_a_zxid() {
        let dir = TestDir::new("txnlog-roll");
        let mut w = TxnLogWriter::new(&dir.0, 4096);
        let mut sizes = 0;
        for z in 1..=10 {
            w.append(
                &hdr(z, op::DELETE),
                &TxnBody::Delete(DeleteTxn {
                    path: format!("/{z}"),
                }),
                None,
            )
            .unwrap();
            if z == 3 || z == 7 {
                sizes += w.current_size();
                w.roll().unwrap();
                assert!(w.current_file().is_none());
            }
        }
        sizes += w.current_size();
        assert_eq!(w.total_bytes(), sizes);
        w.sync().unwrap();
        let names: Vec<_> = files::list_logs(&dir.0)
            .unwrap()
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["log.1", "log.4", "log.8"]);

        let zx = |from| -> Vec<i64> {
            read_all(&dir.0, from)
                .iter()
                .map(|e| e.header.zxid)
                .collect()
        };
        assert_eq!(zx(0), (1..=10).collect::<Vec<_>>());
        assert_eq!(zx(5), (5..=10).collect::<Vec<_>>());
        assert_eq!(zx(8), (8..=10).collect::<Vec<_>>());
        assert_eq!(zx(11), Vec::<i64>::new());
        // Java's file choice: logs at or after the zxid plus the one before.
        let it = TxnLogIterator::open(&dir.0, 5).unwrap();
        assert_eq!(it.files().len(), 2);
        let it = TxnLogIterator::open(&dir.0, 4).unwrap();
        assert_eq!(it.files().len(), 3);
        assert_eq!(last_logged_zxid(&dir.0).unwrap(), Some(10));

        // A restarted writer starts a new file.
        let mut w = TxnLogWriter::new(&dir.0, 4096);
        w.append(
            &hdr(11, op::DELETE),
            &TxnBody::Delete(DeleteTxn { path: "/11".into() }),
            None,
        )
        .unwrap();
        w.close().unwrap();
        assert_eq!(files::list_logs(&dir.0).unwrap().len(), 4);
        assert_eq!(zx(0), (1..=11).collect::<Vec<_>>());
        assert_eq!(last_logged_zxid(&dir.0).unwrap(), Some(11));
    }

    #[test]
    fn preallocated_zeros_end_the_file() {
        let dir = TestDir::new("txnlog-zeros");
        let got = write_n(&dir.0, 3, DEFAULT_PREALLOC_SIZE);
        assert_eq!(got.len(), 3);
        let len = fs::metadata(only_log(&dir.0)).unwrap().len();
        assert_eq!(len, 16 + DEFAULT_PREALLOC_SIZE);
        let mut it = TxnLogIterator::open(&dir.0, 0).unwrap();
        assert_eq!(it.by_ref().count(), 3);
        assert!(it.torn_tail().is_none());
        // A zero length with a stray checksum is still the end (Java).
        let f = only_log(&dir.0);
        let mut d = fs::read(&f).unwrap();
        let end = got[2].end as usize;
        d[end..end + 8].copy_from_slice(&[1; 8]);
        fs::write(&f, &d).unwrap();
        assert_eq!(read_all(&dir.0, 0).len(), 3);
        // Fewer than 12 bytes of zeros at the very end: also the end.
        d.truncate(end + 5);
        d[end..].fill(0);
        fs::write(&f, &d).unwrap();
        let mut it = TxnLogIterator::open(&dir.0, 0).unwrap();
        assert_eq!(it.by_ref().count(), 3);
        assert!(it.torn_tail().is_none());
    }

    /// Copies the logs of `from` into a fresh dir.
    fn copy_dir(from: &Path, tag: &str) -> TestDir {
        let to = TestDir::new(tag);
        for f in files::list_dir(from).unwrap() {
            fs::copy(&f, to.0.join(f.file_name().unwrap())).unwrap();
        }
        to
    }

    #[test]
    fn torn_tail_at_every_offset_of_the_last_record() {
        for prealloc in [0, 4096] {
            let src = TestDir::new("txnlog-torn-src");
            // Two files, so the torn one is the last of several.
            let mut w = TxnLogWriter::new(&src.0, prealloc);
            for z in 1..=6 {
                let body = create(&format!("/t{z}"), Some(&[z as u8; 40]), false, 0);
                w.append(&hdr(z, op::CREATE), &body, Some(&digest_for(z)))
                    .unwrap();
                if z == 3 {
                    w.roll().unwrap();
                }
            }
            w.close().unwrap();
            let all = read_all(&src.0, 0);
            let last = all.last().unwrap().clone();
            let full = fs::read(&*last.file).unwrap();
            let name = last.file.file_name().unwrap().to_owned();
            for cut in last.offset..last.end {
                let dir = copy_dir(&src.0, "txnlog-torn");
                let f = dir.0.join(&name);
                let mut d = full.clone();
                if prealloc == 0 {
                    d.truncate(cut as usize); // the file ends mid-record
                } else {
                    d[cut as usize..last.end as usize].fill(0); // zeros mid-record
                }
                fs::write(&f, &d).unwrap();
                let mut it = TxnLogIterator::open(&dir.0, 0).unwrap();
                let got: Vec<i64> = it.by_ref().map(|e| e.unwrap().header.zxid).collect();
                assert_eq!(got, [1, 2, 3, 4, 5], "cut at {cut}");
                let torn = it.torn_tail().cloned();
                if prealloc == 0 && cut == last.offset {
                    assert!(torn.is_none());
                    continue;
                }
                if cut >= last.offset + 12 {
                    assert!(torn.is_some(), "cut at {cut}");
                }
                if let Some(t) = torn {
                    assert_eq!(t.file, f);
                    assert_eq!(t.valid_len, last.offset, "cut at {cut}");
                    assert!(t.to_string().contains("torn tail"));
                    t.truncate().unwrap();
                    assert_eq!(fs::metadata(&f).unwrap().len(), last.offset);
                    let mut it = TxnLogIterator::open(&dir.0, 0).unwrap();
                    assert_eq!(it.by_ref().count(), 5);
                    assert!(it.torn_tail().is_none());
                }
                assert_eq!(last_logged_zxid(&dir.0).unwrap(), Some(5));
                // After recovery a new writer carries on in a new file.
                let mut w = TxnLogWriter::new(&dir.0, prealloc);
                w.append(
                    &hdr(6, op::DELETE),
                    &TxnBody::Delete(DeleteTxn { path: "/x".into() }),
                    None,
                )
                .unwrap();
                w.close().unwrap();
                let got: Vec<i64> = read_all(&dir.0, 0).iter().map(|e| e.header.zxid).collect();
                assert_eq!(got, [1, 2, 3, 4, 5, 6]);
            }
        }
    }

    #[test]
    fn torn_header_of_the_last_log() {
        let dir = TestDir::new("txnlog-torn-hdr");
        write_n(&dir.0, 3, 0);
        let f = dir.0.join("log.4");
        for content in [&b""[..], b"ZK", b"ZKLG\0\0\0\x02\0\0", &[0u8; 100]] {
            fs::write(&f, content).unwrap();
            let mut it = TxnLogIterator::open(&dir.0, 0).unwrap();
            assert_eq!(it.by_ref().count(), 3);
            let t = it.torn_tail().unwrap().clone();
            assert_eq!((t.valid_len, &t.problem), (0, &Corruption::NoHeader));
            assert_eq!(last_logged_zxid(&dir.0).unwrap(), Some(3));
            t.truncate().unwrap();
            assert!(!f.exists());
        }
        // A header alone is a log with no txns yet.
        fs::write(&f, b"ZKLG\0\0\0\x02\0\0\0\0\0\0\0\0").unwrap();
        let mut it = TxnLogIterator::open(&dir.0, 0).unwrap();
        assert_eq!(it.by_ref().count(), 3);
        assert!(it.torn_tail().is_none());
        assert_eq!(last_logged_zxid(&dir.0).unwrap(), Some(3));
        // Not a log.
        fs::write(&f, b"PK\x03\x04 not a log at all").unwrap();
        let e = TxnLogIterator::open(&dir.0, 0)
            .unwrap()
            .find_map(Result::err)
            .unwrap();
        assert!(matches!(e, LogError::BadMagic { .. }));
        assert!(e.to_string().contains("log.4"), "{e}");
        assert!(last_logged_zxid(&dir.0).is_err());
    }

    #[test]
    fn corruption_in_the_middle_is_an_error() {
        for prealloc in [0, 4096] {
            let src = TestDir::new("txnlog-corrupt-src");
            let all = write_n(&src.0, 5, prealloc);
            let f = only_log(&src.0);
            let full = fs::read(&f).unwrap();
            let rec = &all[2];
            type IsExpected = fn(&Corruption) -> bool;
            let cases: [(usize, IsExpected); 4] = [
                // a byte of the entry
                (rec.offset as usize + 40, |c| {
                    matches!(c, Corruption::ChecksumMismatch { .. })
                }),
                // the checksum itself
                (rec.offset as usize + 7, |c| {
                    matches!(c, Corruption::ChecksumMismatch { .. })
                }),
                // the end-of-record marker
                (rec.end as usize - 1, |c| {
                    *c == Corruption::BadEndOfRecord(b'B' ^ 0x20)
                }),
                // the length's sign bit
                (rec.offset as usize + 8, |c| {
                    matches!(c, Corruption::BadLength(_))
                }),
            ];
            for (at, is_problem) in cases {
                let dir = copy_dir(&src.0, "txnlog-corrupt");
                let mut d = full.clone();
                d[at] ^= if at == rec.offset as usize + 8 {
                    0x80
                } else {
                    0x20
                };
                fs::write(dir.0.join("log.1"), &d).unwrap();
                let mut it = TxnLogIterator::open(&dir.0, 0).unwrap();
                assert_eq!(it.next().unwrap().unwrap().header.zxid, 1);
                assert_eq!(it.next().unwrap().unwrap().header.zxid, 2);
                let e = it.next().unwrap().unwrap_err();
                match &e {
                    LogError::Corrupt {
                        file,
                        offset,
                        problem,
                    } => {
                        assert_eq!(*file, dir.0.join("log.1"));
                        assert_eq!(*offset, rec.offset);
                        assert!(is_problem(problem), "{problem:?}");
                    }
                    other => panic!("{other:?}"),
                }
                let msg = e.to_string();
                assert!(
                    msg.contains(&dir.0.join("log.1").display().to_string()),
                    "{msg}"
                );
                assert!(
                    msg.contains(&format!("byte offset {}", rec.offset)),
                    "{msg}"
                );
                assert!(it.next().is_none());
                assert!(last_logged_zxid(&dir.0).is_err());
            }
            // The same damage on the last record, with nothing after it, is
            // a torn tail.
            let dir = copy_dir(&src.0, "txnlog-corrupt");
            let mut d = full.clone();
            d[all[4].offset as usize + 40] ^= 1;
            fs::write(dir.0.join("log.1"), &d).unwrap();
            let mut it = TxnLogIterator::open(&dir.0, 0).unwrap();
            assert_eq!(it.by_ref().count(), 4);
            assert_eq!(it.torn_tail().unwrap().valid_len, all[4].offset);
        }
    }

    #[test]
    fn damage_in_an_earlier_log() {
        let src = TestDir::new("txnlog-early-src");
        let mut w = TxnLogWriter::new(&src.0, 4096);
        for z in 1..=6 {
            w.append(
                &hdr(z, op::ERROR),
                &TxnBody::Error(ErrorTxn { err: -1 }),
                None,
            )
            .unwrap();
            if z == 3 {
                w.roll().unwrap();
            }
        }
        w.close().unwrap();
        let all = read_all(&src.0, 0);
        let first = src.0.join("log.1");
        let full = fs::read(&first).unwrap();
        // A torn tail in an earlier log (Java leaves them behind after a
        // crash): read past, as Java does.
        let dir = copy_dir(&src.0, "txnlog-early");
        let mut d = full.clone();
        d[all[2].offset as usize + 20..all[2].end as usize].fill(0);
        fs::write(dir.0.join("log.1"), &d).unwrap();
        let mut it = TxnLogIterator::open(&dir.0, 0).unwrap();
        let got: Vec<i64> = it.by_ref().map(|e| e.unwrap().header.zxid).collect();
        assert_eq!(got, [1, 2, 4, 5, 6]);
        assert!(it.torn_tail().is_none());
        assert_eq!(it.skipped_tails().len(), 1);
        assert_eq!(it.skipped_tails()[0].valid_len, all[2].offset);
        // A bad checksum with data after it: an error.
        let dir = copy_dir(&src.0, "txnlog-early");
        let mut d = full.clone();
        d[all[1].offset as usize + 30] ^= 1;
        fs::write(dir.0.join("log.1"), &d).unwrap();
        let e = TxnLogIterator::open(&dir.0, 0)
            .unwrap()
            .find_map(Result::err)
            .unwrap();
        assert!(matches!(e, LogError::Corrupt { offset, .. } if offset == all[1].offset));
    }

    #[test]
    fn unparseable_entry_is_a_decode_error() {
        let dir = TestDir::new("txnlog-decode");
        let mut w = TxnLogWriter::new(&dir.0, 0);
        let mut entry = BytesMut::new();
        hdr(1, op::GET_DATA).write(&mut entry); // a read: never logged
        w.append_entry(&entry).unwrap();
        w.close().unwrap();
        let e = TxnLogIterator::open(&dir.0, 0)
            .unwrap()
            .next()
            .unwrap()
            .unwrap_err();
        assert!(matches!(e, LogError::Decode { offset: 16, .. }), "{e:?}");
        assert!(e.to_string().contains("log.1"));
        // last_logged_zxid reads only headers.
        assert_eq!(last_logged_zxid(&dir.0).unwrap(), Some(1));
        assert!(TxnLogWriter::new(&dir.0, 0).append_entry(&[0; 10]).is_err());
    }

    #[test]
    fn old_formats_java_still_reads() {
        // A CreateTxnV0 (no parentCVersion) reads as CreateTxn with -1.
        let mut w = BytesMut::new();
        hdr(1, op::CREATE).write(&mut w);
        CreateTxnV0 {
            path: "/old".into(),
            data: Some(Bytes::from_static(b"d")),
            acl: open_acl(),
            ephemeral: true,
        }
        .write(&mut w);
        let (_, body, digest) = unmarshal_entry(w.freeze()).unwrap();
        assert_eq!(body, create("/old", Some(b"d"), true, -1));
        assert_eq!(digest, None);
        // A closeSession from before CloseSessionTxn.
        let mut w = BytesMut::new();
        hdr(2, op::CLOSE_SESSION).write(&mut w);
        let (_, body, _) = unmarshal_entry(w.freeze()).unwrap();
        assert_eq!(body, TxnBody::CloseSession(CloseSessionTxn::default()));
        // Fewer than 12 bytes after the body: no digest.
        let mut w = BytesMut::new();
        hdr(3, op::ERROR).write(&mut w);
        ErrorTxn { err: -101 }.write(&mut w);
        w.put_slice(&[0; 11]);
        assert_eq!(unmarshal_entry(w.freeze()).unwrap().2, None);
    }

    #[test]
    fn last_logged_zxid_cases() {
        let dir = TestDir::new("txnlog-last");
        assert_eq!(last_logged_zxid(&dir.0).unwrap(), None);
        assert_eq!(last_logged_zxid(&dir.0.join("nope")).unwrap(), None);
        write_n(&dir.0, 4, 4096);
        assert_eq!(last_logged_zxid(&dir.0).unwrap(), Some(4));
    }

    #[test]
    fn truncate_after_a_zxid() {
        let mk = || {
            let dir = TestDir::new("txnlog-trunc");
            let mut w = TxnLogWriter::new(&dir.0, 4096);
            for z in (1..=10).chain(20..=22) {
                w.append(
                    &hdr(z, op::ERROR),
                    &TxnBody::Error(ErrorTxn { err: -1 }),
                    None,
                )
                .unwrap();
                if z == 3 || z == 7 {
                    w.roll().unwrap();
                }
            }
            w.close().unwrap();
            dir
        };
        let zx = |d: &Path| -> Vec<i64> { read_all(d, 0).iter().map(|e| e.header.zxid).collect() };
        let dir = mk();
        assert!(truncate_after(&dir.0, 5).unwrap());
        assert_eq!(zx(&dir.0), [1, 2, 3, 4, 5]);
        assert_eq!(files::list_logs(&dir.0).unwrap().len(), 2);
        assert_eq!(last_logged_zxid(&dir.0).unwrap(), Some(5));
        let mut w = TxnLogWriter::new(&dir.0, 4096);
        w.append(
            &hdr(0x1_0000_0001, op::ERROR),
            &TxnBody::Error(ErrorTxn { err: 0 }),
            None,
        )
        .unwrap();
        w.close().unwrap();
        assert_eq!(zx(&dir.0), [1, 2, 3, 4, 5, 0x1_0000_0001]);

        // The last txn of a file: the later files go.
        let dir = mk();
        assert!(truncate_after(&dir.0, 7).unwrap());
        assert_eq!(zx(&dir.0), [1, 2, 3, 4, 5, 6, 7]);
        // A zxid that is not in the log: cut before the next one.
        let dir = mk();
        assert!(truncate_after(&dir.0, 15).unwrap());
        assert_eq!(zx(&dir.0), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        // Past the end: nothing to do.
        let dir = mk();
        assert!(!truncate_after(&dir.0, 22).unwrap());
        assert!(!truncate_after(&dir.0, 99).unwrap());
        assert_eq!(zx(&dir.0).len(), 13);
    }

    fn fixture_entries() -> Vec<LogEntry> {
        read_all(Path::new(FIXTURE), 0)
    }

    #[test]
    fn java_fixture_is_read() {
        let all = fixture_entries();
        assert_eq!(all.len(), 0x39);
        let zxids: Vec<i64> = all.iter().map(|e| e.header.zxid).collect();
        assert_eq!(zxids, (1..=0x39).collect::<Vec<_>>());
        // Java 3.8 appends a digest (version 2) to every txn but a failed
        // single op: PrepRequestProcessor's error path sets no digest.
        for e in &all {
            if e.header.type_ == op::ERROR {
                assert_eq!(e.digest, None);
            } else {
                assert_eq!(e.digest.as_ref().map(|d| d.version), Some(2));
            }
        }
        // A failed multi changes nothing: the digest stays the same.
        assert_eq!(all[0x11 - 1].digest, all[0x12 - 1].digest);
        let types: BTreeSet<i32> = all.iter().map(|e| e.header.type_).collect();
        let want: BTreeSet<i32> = [
            op::CREATE_SESSION,
            op::CREATE,
            op::CREATE2,
            op::CREATE_TTL,
            op::CREATE_CONTAINER,
            op::SET_DATA,
            op::SET_ACL,
            op::ERROR,
            op::MULTI,
            op::DELETE,
            op::DELETE_CONTAINER,
            op::CLOSE_SESSION,
        ]
        .into();
        assert_eq!(types, want);
        let by = |z: i64| &all[z as usize - 1];
        assert_eq!(
            by(1).body,
            TxnBody::CreateSession(CreateSessionTxn { time_out: 30000 })
        );
        assert_eq!(by(2).body, create("/a", Some(b"hello"), false, 1));
        // null data stays null
        assert_eq!(by(3).body, create("/a/b", None, false, 1));
        assert_eq!(by(5).body, create("/e", Some(b"eph"), true, 2));
        assert_eq!(by(0xf).body, TxnBody::Error(ErrorTxn { err: -110 }));
        match &by(0x11).body {
            TxnBody::Multi(ops) => {
                let t: Vec<i32> = ops.iter().map(|o| o.0).collect();
                assert_eq!(
                    t,
                    [op::CREATE, op::CREATE, op::SET_DATA, op::CHECK, op::DELETE]
                );
                // The check asked for version 2; Java logs it incremented
                // (PrepRequestProcessor.checkAndIncVersion).
                assert_eq!(
                    ops[3].1,
                    TxnBody::Check(CheckVersionTxn {
                        path: "/a".into(),
                        version: 3
                    })
                );
            }
            b => panic!("{b:?}"),
        }
        match &by(0x12).body {
            TxnBody::Multi(ops) => {
                // A failed multi keeps the ops before the failure as they
                // were prepared; the failed op becomes an ErrorTxn.
                let t: Vec<i32> = ops.iter().map(|o| o.0).collect();
                assert_eq!(t, [op::CREATE, op::ERROR]);
                assert_eq!(ops[1].1, TxnBody::Error(ErrorTxn { err: -103 }));
            }
            b => panic!("{b:?}"),
        }
        match &by(0x15).body {
            TxnBody::Create(c) => {
                assert_eq!(c.path, "/\u{e9}t\u{e9}-\u{6f22}");
                assert_eq!(c.data.as_ref().unwrap().len(), 3000);
            }
            b => panic!("{b:?}"),
        }
        assert_eq!(by(0x34).header.type_, op::DELETE_CONTAINER);
        assert_eq!(by(0x34).header.client_id, 0);
        assert_eq!(
            by(0x36).body,
            TxnBody::CloseSession(CloseSessionTxn {
                paths2_delete: vec!["/m/x".into(), "/a/es-0000000002".into(), "/e".into()]
            })
        );
        assert_eq!(last_logged_zxid(Path::new(FIXTURE)).unwrap(), Some(0x39));
        let from = read_all(Path::new(FIXTURE), 0x20);
        assert_eq!(from[0].header.zxid, 0x20);
        assert_eq!(from.len(), 0x39 - 0x20 + 1);
    }

    /// rzk's encoding of what it read from Java's logs, written with Java's
    /// padding, is Java's file to the byte.
    #[test]
    fn java_fixture_rewritten_byte_for_byte() {
        let all = fixture_entries();
        for f in files::list_logs(Path::new(FIXTURE)).unwrap() {
            let java = fs::read(&f).unwrap();
            let entries: Vec<&LogEntry> = all.iter().filter(|e| *e.file == *f).collect();
            let data_end = entries.last().unwrap().end as usize;
            // log.1 and log.24 had their padding cut off; the others have
            // Java's 8 KB steps.
            let prealloc = if java.len() > data_end { 8192 } else { 0 };
            let dir = TestDir::new("txnlog-rewrite");
            let mut w = TxnLogWriter::new(&dir.0, prealloc);
            for e in &entries {
                w.append(&e.header, &e.body, e.digest.as_ref()).unwrap();
            }
            w.close().unwrap();
            let ours = fs::read(dir.0.join(f.file_name().unwrap())).unwrap();
            assert_eq!(ours.len(), java.len(), "{}", f.display());
            assert!(ours == java, "{} differs", f.display());
        }
    }

    // ---- interop with Java (need a JDK and ZooKeeper 3.8's jars) ----------

    /// The classpath for Java ZooKeeper: $RZK_ZK_CLASSPATH, or the Debian
    /// package's jars (zookeeper.jar's manifest names its dependencies).
    fn zk_classpath() -> String {
        std::env::var("RZK_ZK_CLASSPATH").unwrap_or_else(|_| {
            "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar".into()
        })
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    /// A Java ZooKeeper standalone server on `data_dir`, killed on drop.
    struct JavaServer {
        child: std::process::Child,
        port: u16,
    }

    impl JavaServer {
        fn start(data_dir: &Path, props: &[&str]) -> JavaServer {
            let port = free_port();
            let cfg = data_dir.join("zoo.cfg");
            fs::write(
                &cfg,
                format!(
                    "tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n",
                    data_dir.display()
                ),
            )
            .unwrap();
            let log = File::create(data_dir.join("server.out")).unwrap();
            let child = std::process::Command::new("java")
                .arg("-cp")
                .arg(zk_classpath())
                .arg("-Dzookeeper.admin.enableServer=false")
                .args(props)
                .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
                .arg(&cfg)
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("java");
            let s = JavaServer { child, port };
            // The port opens before the database is loaded; "srvr" (the one
            // four-letter word enabled by default) reports a Mode once the
            // server serves.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while !s.serving() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "Java server did not start: {}",
                    fs::read_to_string(data_dir.join("server.out")).unwrap_or_default()
                );
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            s
        }

        fn serving(&self) -> bool {
            use std::io::Read;
            let t = std::time::Duration::from_secs(2);
            let Ok(mut c) = std::net::TcpStream::connect_timeout(&self.addr(), t) else {
                return false;
            };
            let _ = c.set_read_timeout(Some(t));
            let mut out = String::new();
            c.write_all(b"srvr").is_ok()
                && c.read_to_string(&mut out).is_ok()
                && out.contains("Mode:")
        }

        fn addr(&self) -> std::net::SocketAddr {
            ([127, 0, 0, 1], self.port).into()
        }

        fn cli(&self, commands: &str) -> String {
            use std::process::Stdio;
            let mut c = std::process::Command::new("/usr/share/zookeeper/bin/zkCli.sh")
                .arg("-server")
                .arg(format!("127.0.0.1:{}", self.port))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("zkCli.sh");
            c.stdin
                .take()
                .unwrap()
                .write_all(commands.as_bytes())
                .unwrap();
            let out = c.wait_with_output().unwrap();
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        }
    }

    impl Drop for JavaServer {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// (a) Java's own log reader, TxnLogToolkit, reads a log rzk wrote
    /// with every txn kind, without a checksum error, to the end.
    #[test]
    #[ignore = "needs Java and ZooKeeper 3.8 jars (see zk_classpath)"]
    fn interop_java_toolkit_reads_rzk_log() {
        let dir = TestDir::new("txnlog-java-a");
        let mut w = TxnLogWriter::new(&dir.0, DEFAULT_PREALLOC_SIZE);
        let mut n = 0;
        for with_digest in [false, true] {
            for (t, body) in every_kind() {
                n += 1;
                let d = with_digest.then(|| digest_for(n));
                w.append(&hdr(n, t), &body, d.as_ref()).unwrap();
            }
        }
        w.close().unwrap();
        let out = std::process::Command::new("java")
            .arg("-cp")
            .arg(zk_classpath())
            .arg("org.apache.zookeeper.server.persistence.TxnLogToolkit")
            .arg(dir.0.join("log.1"))
            .output()
            .expect("java");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        assert!(!stdout.contains("CRC ERROR"), "{stdout}");
        assert!(
            stdout.contains(&format!("EOF reached after {n} txns.")),
            "{stdout}\n{stderr}"
        );
        for name in [
            "createSession",
            "create2",
            "createTtl",
            "createContainer",
            "setData",
            "setACL",
            "error",
            "multi",
            "delete",
            "deleteContainer",
            "reconfig",
            "closeSession",
        ] {
            assert!(stdout.contains(&format!(" {name} ")), "{name}: {stdout}");
        }
    }

    /// (a) A Java server replays a log rzk wrote: the nodes are there,
    /// with rzk's zxids.
    #[test]
    #[ignore = "needs Java and ZooKeeper 3.8 jars (see zk_classpath)"]
    fn interop_java_server_replays_rzk_log() {
        let dir = TestDir::new("txnlog-java-replay");
        let v2 = files::version_dir(&dir.0);
        fs::create_dir_all(&v2).unwrap();
        let session = 0x1000_0000_0000_0001i64;
        let txns: Vec<(i32, TxnBody)> = vec![
            (
                op::CREATE_SESSION,
                TxnBody::CreateSession(CreateSessionTxn { time_out: 30000 }),
            ),
            (op::CREATE, create("/rzk", Some(b"from rzk"), false, 1)),
            (op::CREATE, create("/rzk/eph", Some(b"gone"), true, 1)),
            (
                op::SET_DATA,
                TxnBody::SetData(SetDataTxn {
                    path: "/rzk".into(),
                    data: Some(Bytes::from_static(b"set by rzk")),
                    version: 1,
                }),
            ),
            (
                op::MULTI,
                TxnBody::Multi(vec![
                    (op::CREATE, create("/rzk/m1", Some(b"one"), false, 2)),
                    (op::CREATE, create("/rzk/m2", Some(b"two"), false, 3)),
                    (
                        op::DELETE,
                        TxnBody::Delete(DeleteTxn {
                            path: "/rzk/m1".into(),
                        }),
                    ),
                ]),
            ),
            (
                op::CLOSE_SESSION,
                TxnBody::CloseSession(CloseSessionTxn {
                    paths2_delete: vec!["/rzk/eph".into()],
                }),
            ),
        ];
        let mut w = TxnLogWriter::new(&v2, DEFAULT_PREALLOC_SIZE);
        for (i, (t, body)) in txns.iter().enumerate() {
            let mut h = hdr(i as i64 + 1, *t);
            h.client_id = session;
            w.append(&h, body, None).unwrap();
        }
        w.close().unwrap();

        // No snapshot: Java replays the log only when told to trust that.
        let server = JavaServer::start(&dir.0, &["-Dzookeeper.snapshot.trust.empty=true"]);
        let mut c = crate::client::Client::connect(server.addr(), 10000).unwrap();
        c.set_read_timeout(std::time::Duration::from_secs(10))
            .unwrap();
        let (data, stat) = c.get_data("/rzk", false).unwrap();
        assert_eq!(data.as_deref(), Some(&b"set by rzk"[..]));
        assert_eq!((stat.czxid, stat.mzxid), (2, 4));
        let (data, stat) = c.get_data("/rzk/m2", false).unwrap();
        assert_eq!(data.as_deref(), Some(&b"two"[..]));
        assert_eq!(stat.czxid, 5);
        assert!(c.exists("/rzk/m1", false).is_err());
        assert!(c.exists("/rzk/eph", false).is_err());
        drop(c);
        drop(server);
        // No complaint about the log (closing the "srvr" probes' sockets
        // early is all Java may log as an error).
        let out = fs::read_to_string(dir.0.join("server.out")).unwrap();
        let errors: Vec<&str> = out
            .lines()
            .filter(|l| l.contains("ERROR") && !l.contains("command socket"))
            .collect();
        assert!(errors.is_empty(), "{out}");
    }

    /// (b) A log a live Java 3.8 server writes, driven by zkCli, is read by
    /// rzk: every txn decodes and carries a digest.
    #[test]
    #[ignore = "needs Java and ZooKeeper 3.8 (zkCli.sh) installed"]
    fn interop_rzk_reads_live_java_log() {
        let dir = TestDir::new("txnlog-java-b");
        let server = JavaServer::start(&dir.0, &[]);
        let out = server.cli(
            "create /a hello\ncreate /a/b\ncreate -s /a/s- x\ncreate -e /e eph\n\
             set /a world\nsetAcl /a/b world:anyone:r\ncreate /a hello\ndelete /nope\n\
             create /d\ncreate /d/1\ncreate /d/2\ndeleteall /d\ndelete /a/b\nquit\n",
        );
        assert!(out.contains("Created /a"), "{out}");
        // Let the session close reach the log before the kill.
        std::thread::sleep(std::time::Duration::from_millis(500));
        drop(server);
        let v2 = files::version_dir(&dir.0);
        let all = read_all(&v2, 0);
        let zxids: Vec<i64> = all.iter().map(|e| e.header.zxid).collect();
        assert_eq!(zxids, (1..=zxids.len() as i64).collect::<Vec<_>>());
        // Every txn but a failed single op carries a digest.
        assert!(all
            .iter()
            .all(|e| e.digest.is_some() == (e.header.type_ != op::ERROR)));
        let types: BTreeSet<i32> = all.iter().map(|e| e.header.type_).collect();
        for t in [
            op::CREATE_SESSION,
            op::CREATE,
            op::CREATE2,
            op::SET_DATA,
            op::SET_ACL,
            op::ERROR,
            op::MULTI,
            op::DELETE,
            op::CLOSE_SESSION,
        ] {
            assert!(
                types.contains(&t) || (t == op::CREATE2 && types.contains(&op::CREATE)),
                "type {t} missing from {types:?}"
            );
        }
        assert_eq!(last_logged_zxid(&v2).unwrap(), zxids.last().copied());
    }
}
