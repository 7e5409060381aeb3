//! `rzk log-dump [--json] <logfile>`: the transactions in one log file.
//!
//! The text output is that of Java 3.8's `TxnLogToolkit` in dump mode
//! (`zkTxnLogToolkit.sh <log>`; 3.8 no longer ships the older
//! `LogFormatter`, whose lines had the same layout), byte for byte:
//!
//! ```text
//! ZooKeeper Transactional Log File with dbid 0 txnlog format version 2
//! 11/21/26, 10:54:30 PM UTC session 0x100002381a40000 cxid 0x0 zxid 0x1 createSession 30000
//! 11/21/26, 10:54:30 PM UTC session 0x100002381a40000 cxid 0x1 zxid 0x2 create /a,hello,[31,s{'world,'anyone}
//! ],false,1
//! 11/21/26, 10:54:31 PM UTC session 0x100002381a40000 cxid 0xb zxid 0xc setData /a,again,2
//! ...
//! EOF reached after 17 txns.
//! ```
//!
//! Each line is the txn's time (`DateFormat` SHORT date, LONG time, here
//! always UTC), session, cxid and zxid in hex, the type (`Request.op2String`)
//! and the record as Java formats it: `path,data,acl,ephemeral,parentCVersion`
//! for creates (data as UTF-8 text; the ACL list is Java's `List.toString`
//! of jute's `toString`s, which end in a newline, so a create spans two
//! lines, as in Java), `path,data,version` for setData, `type:rawbytes;...`
//! for the ops of a multi (the raw records, as Java prints them), and
//! jute's `toString` (`'path`, `v{...}`, `s{...}`) for the rest.
//!
//! `--json` prints one JSON object per txn and nothing else (no header or
//! footer line):
//!
//! ```text
//! {"offset":16,"time":1795301670000,"session":"0x100002381a40000","cxid":0,"zxid":"0x1",
//!  "type":"createSession","txn":{"timeOut":30000},"digest":{"version":2,"treeDigest":"-23"}}
//! ```
//!
//! (on one line). Sessions and zxids are hex strings and digests decimal
//! strings (64-bit values a JSON double would round); data is base64 or
//! null; a multi's `txn` is `{"txns":[{"type":..,"txn":{..}},..]}`; a
//! closeSession without a record (logs before 3.6) has `"txn":null`; a
//! txn without a digest has `"digest":null`.
//!
//! Damage (a bad checksum, length or end-of-record marker, a record cut
//! short, a record that does not parse): everything before it is printed,
//! then the file, byte offset and problem go to stderr and the exit status
//! is 1. Java's tool instead prints "CRC ERROR" lines and reads on; it
//! also takes a record cut short at the end of the file for the end.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use bytes::{BufMut, Bytes, BytesMut};

use super::{hex, java_short_long, json_string};
use crate::jute::data::ACL;
use crate::jute::txn::{CloseSessionTxn, MultiTxn, TxnDigest, TxnHeader};
use crate::jute::{JuteField, Reader};
use crate::persist::txnlog::{self, Corruption, END_OF_RECORD, FILE_HEADER_LEN, TXNLOG_MAGIC};
use crate::proto::op;
use crate::txn::TxnBody;

/// Bytes of a TxnHeader (clientId, cxid, zxid, time, type).
const TXN_HEADER_LEN: usize = 32;

/// Why a dump stopped early.
#[derive(Debug)]
pub enum DumpError {
    /// The log could not be read.
    Read { file: PathBuf, source: io::Error },
    /// The log is damaged at `offset`; `txns` were printed before it.
    Damage {
        file: PathBuf,
        offset: u64,
        problem: String,
        txns: usize,
    },
    /// Writing the output failed.
    Output(io::Error),
}

impl fmt::Display for DumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DumpError::Read { file, source } => {
                write!(f, "cannot read txn log {}: {source}", file.display())
            }
            DumpError::Damage {
                file,
                offset,
                problem,
                txns,
            } => write!(
                f,
                "txn log {} is damaged at byte offset {offset} (after {txns} txns): {problem}",
                file.display()
            ),
            DumpError::Output(e) => write!(f, "cannot write the output: {e}"),
        }
    }
}

impl std::error::Error for DumpError {}

impl From<io::Error> for DumpError {
    fn from(e: io::Error) -> Self {
        DumpError::Output(e)
    }
}

/// One record as read from the file.
struct Record<'a> {
    offset: u64,
    entry: &'a [u8],
}

/// What ends the scan of a file.
enum Next<'a> {
    Record(Record<'a>),
    End,
    Damage(u64, String),
}

fn all_zero(b: &[u8]) -> bool {
    b.iter().all(|&x| x == 0)
}

/// The record at `pos`, with the framing rules of Java's `FileTxnIterator`
/// (a zero length, or zeros to the end, is the end of the data).
fn next_record(data: &[u8], pos: usize) -> Next<'_> {
    let len = data.len();
    if pos >= len {
        return Next::End;
    }
    let rest = &data[pos..];
    let damage = |problem: Corruption, after: usize| {
        let torn = if all_zero(&data[after.min(len)..]) {
            " (only zeros follow: an append cut short by a crash)"
        } else {
            ""
        };
        Next::Damage(pos as u64, format!("{problem}{torn}"))
    };
    if rest.len() < 12 {
        if all_zero(rest) {
            return Next::End;
        }
        let problem = Corruption::Truncated {
            needed: 13,
            available: rest.len() as u64,
        };
        return damage(problem, len);
    }
    let stored = i64::from_be_bytes(rest[..8].try_into().expect("8 bytes"));
    let n = i32::from_be_bytes(rest[8..12].try_into().expect("4 bytes"));
    if n == 0 {
        return Next::End;
    }
    if n < 0 {
        return damage(Corruption::BadLength(n), pos + 12);
    }
    let end = pos + 13 + n as usize;
    if end > len {
        let problem = Corruption::Truncated {
            needed: (end - pos) as u64,
            available: rest.len() as u64,
        };
        return damage(problem, len);
    }
    let eor = data[end - 1];
    if eor != END_OF_RECORD {
        return damage(Corruption::BadEndOfRecord(eor), end);
    }
    let entry = &data[pos + 12..end - 1];
    let computed = adler2::adler32_slice(entry);
    if stored != i64::from(computed) {
        return damage(Corruption::ChecksumMismatch { stored, computed }, end);
    }
    Next::Record(Record {
        offset: pos as u64,
        entry,
    })
}

/// Dumps the log at `path` to `out`; returns the number of txns.
pub fn dump(path: &Path, json: bool, out: &mut dyn Write) -> Result<usize, DumpError> {
    let data = fs::read(path).map_err(|source| DumpError::Read {
        file: path.to_owned(),
        source,
    })?;
    dump_bytes(path, &data, json, out)
}

fn dump_bytes(
    path: &Path,
    data: &[u8],
    json: bool,
    out: &mut dyn Write,
) -> Result<usize, DumpError> {
    let damage = |offset: u64, problem: String, txns: usize| DumpError::Damage {
        file: path.to_owned(),
        offset,
        problem,
        txns,
    };
    let h = FILE_HEADER_LEN as usize;
    if data.len() < 4 || data[..4] != TXNLOG_MAGIC.to_be_bytes() {
        let mut m = [0u8; 4];
        let n = data.len().min(4);
        m[..n].copy_from_slice(&data[..n]);
        return Err(damage(
            0,
            format!(
                "invalid magic number {:#010x}, not {TXNLOG_MAGIC:#010x} (\"ZKLG\"): not a txn log",
                i32::from_be_bytes(m)
            ),
            0,
        ));
    }
    if data.len() < h {
        return Err(damage(
            0,
            format!("{} ({} bytes)", Corruption::NoHeader, data.len()),
            0,
        ));
    }
    let version = i32::from_be_bytes(data[4..8].try_into().expect("4 bytes"));
    let dbid = i64::from_be_bytes(data[8..16].try_into().expect("8 bytes"));
    if !json {
        writeln!(
            out,
            "ZooKeeper Transactional Log File with dbid {dbid} txnlog format version {version}"
        )?;
    }
    let mut pos = h;
    let mut count = 0usize;
    loop {
        match next_record(data, pos) {
            Next::End => break,
            Next::Damage(offset, problem) => return Err(damage(offset, problem, count)),
            Next::Record(r) => {
                let parsed = txnlog::unmarshal_entry(Bytes::copy_from_slice(r.entry));
                let (header, body, digest) = parsed
                    .map_err(|e| damage(r.offset, format!("the txn does not parse: {e}"), count))?;
                let line = if json {
                    json_line(&r, &header, &body, digest.as_ref())
                } else {
                    text_line(&header, &body, r.entry)
                };
                out.write_all(line.as_bytes())?;
                count += 1;
                pos = r.offset as usize + 13 + r.entry.len();
            }
        }
    }
    if !json {
        writeln!(out, "EOF reached after {count} txns.")?;
    }
    Ok(count)
}

// ---------------------------------------------------------------------------
// Java's text

/// `Request.op2String` of Java 3.8 (which has no name for addWatch).
pub fn op_name(t: i32) -> String {
    match op::name(t) {
        "unknown" => format!("unknown {t}"),
        _ if t == op::ADD_WATCH => format!("unknown {t}"),
        n => n.to_owned(),
    }
}

/// `new String(bytes, UTF_8)`, malformed input replaced as Java replaces it.
fn java_utf8(b: &[u8]) -> String {
    let mut w = BytesMut::with_capacity(4 + b.len());
    w.put_i32(b.len() as i32);
    w.put_slice(b);
    String::read(&mut Reader::new(w.freeze())).unwrap_or_default()
}

/// TxnLogToolkit's `checkNullToEmpty`.
fn data_text(d: Option<&[u8]>) -> String {
    d.map(java_utf8).unwrap_or_default()
}

/// jute's `ToStringOutputArchive.escapeString`, with its leading quote.
fn jute_string(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 1);
    o.push('\'');
    for c in s.chars() {
        match c {
            '\0' => o.push_str("%00"),
            '\n' => o.push_str("%0A"),
            '\r' => o.push_str("%0D"),
            ',' => o.push_str("%2C"),
            '}' => o.push_str("%7D"),
            '%' => o.push_str("%25"),
            c => o.push(c),
        }
    }
    o
}

/// An ACL written inside a record: `s{perms,s{'scheme,'id}}`.
fn jute_acl(a: &ACL) -> String {
    format!(
        "s{{{},s{{{},{}}}}}",
        a.perms,
        jute_string(&a.id.scheme),
        jute_string(&a.id.id)
    )
}

/// Java's `List<ACL>.toString()`: each ACL's own `toString` (which ends in
/// a newline), joined by ", ", in brackets.
fn acl_list_text(acl: &[ACL]) -> String {
    let items: Vec<String> = acl
        .iter()
        .map(|a| {
            format!(
                "{},s{{{},{}}}\n",
                a.perms,
                jute_string(&a.id.scheme),
                jute_string(&a.id.id)
            )
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// Whether a closeSession entry has no (complete) CloseSessionTxn: Java
/// then has a null txn and prints nothing for it.
fn close_session_without_record(entry: &[u8]) -> bool {
    let body = Bytes::copy_from_slice(entry.get(TXN_HEADER_LEN..).unwrap_or_default());
    CloseSessionTxn::read(&mut Reader::new(body)).is_err()
}

/// TxnLogToolkit's `getFormattedTxnStr`.
fn body_text(type_: i32, body: &TxnBody, entry: &[u8]) -> String {
    match body {
        TxnBody::Create(c) => format!(
            "{},{},{},{},{}",
            c.path,
            data_text(c.data.as_deref()),
            acl_list_text(&c.acl),
            c.ephemeral,
            c.parent_cversion
        ),
        TxnBody::SetData(s) => format!("{},{},{}", s.path, data_text(s.data.as_deref()), s.version),
        TxnBody::CreateContainer(c) => format!(
            "{},{},{},{}",
            c.path,
            data_text(c.data.as_deref()),
            acl_list_text(&c.acl),
            c.parent_cversion
        ),
        TxnBody::CreateTtl(c) => format!(
            "{},{},{},{},{}",
            c.path,
            data_text(c.data.as_deref()),
            acl_list_text(&c.acl),
            c.parent_cversion,
            c.ttl
        ),
        TxnBody::Multi(ops) => {
            // Java prints each op's raw record bytes as text.
            let raw = entry
                .get(TXN_HEADER_LEN..)
                .map(|b| MultiTxn::read(&mut Reader::new(Bytes::copy_from_slice(b))));
            match raw {
                Some(Ok(m)) => m
                    .txns
                    .iter()
                    .map(|t| format!("{}:{}", op_name(t.type_), data_text(t.data.as_deref())))
                    .collect::<Vec<_>>()
                    .join(";"),
                _ => ops
                    .iter()
                    .map(|(t, b)| format!("{}:{}", op_name(*t), java_utf8(&b.encode())))
                    .collect::<Vec<_>>()
                    .join(";"),
            }
        }
        // The rest: the record's jute toString, newline included.
        TxnBody::Delete(d) => format!("{}\n", jute_string(&d.path)),
        TxnBody::SetAcl(s) => format!(
            "{},v{{{}}},{}\n",
            jute_string(&s.path),
            s.acl.iter().map(jute_acl).collect::<Vec<_>>().join(","),
            s.version
        ),
        TxnBody::Check(c) => format!("{},{}\n", jute_string(&c.path), c.version),
        TxnBody::CreateSession(c) => format!("{}\n", c.time_out),
        TxnBody::CloseSession(_)
            if type_ == op::CLOSE_SESSION && close_session_without_record(entry) =>
        {
            String::new()
        }
        TxnBody::CloseSession(c) => format!(
            "v{{{}}}\n",
            c.paths2_delete
                .iter()
                .map(|p| jute_string(p))
                .collect::<Vec<_>>()
                .join(",")
        ),
        TxnBody::Error(e) => format!("{}\n", e.err),
    }
}

/// One txn as TxnLogToolkit prints it, line end included.
fn text_line(h: &TxnHeader, body: &TxnBody, entry: &[u8]) -> String {
    let mut s = format!(
        "{} session {} cxid {} zxid {} {} {}",
        java_short_long(h.time),
        hex(h.client_id),
        hex(i64::from(h.cxid)),
        hex(h.zxid),
        op_name(h.type_),
        body_text(h.type_, body, entry)
    );
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

// ---------------------------------------------------------------------------
// JSON

fn json_data(o: &mut String, d: Option<&[u8]>) {
    match d {
        None => o.push_str("null"),
        Some(b) => {
            o.push('"');
            o.push_str(&base64::engine::general_purpose::STANDARD.encode(b));
            o.push('"');
        }
    }
}

fn json_acl(o: &mut String, acl: &[ACL]) {
    o.push('[');
    for (i, a) in acl.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        o.push_str(&format!("{{\"perms\":{},\"scheme\":", a.perms));
        json_string(o, &a.id.scheme);
        o.push_str(",\"id\":");
        json_string(o, &a.id.id);
        o.push('}');
    }
    o.push(']');
}

/// `"path":"..",` and the data field, shared by the create and setData kinds.
fn json_path_data(o: &mut String, path: &str, data: Option<&[u8]>) {
    o.push_str("\"path\":");
    json_string(o, path);
    o.push_str(",\"data\":");
    json_data(o, data);
}

/// The fields every create record starts with: `{"path":..,"data":..,"acl":[..]`.
fn json_create_head(o: &mut String, path: &str, data: Option<&[u8]>, acl: &[ACL]) {
    o.push('{');
    json_path_data(o, path, data);
    o.push_str(",\"acl\":");
    json_acl(o, acl);
}

/// The txn record as a JSON object (field names as in the jute records).
fn json_body(o: &mut String, type_: i32, body: &TxnBody, entry: Option<&[u8]>) {
    match body {
        TxnBody::Create(c) => {
            json_create_head(o, &c.path, c.data.as_deref(), &c.acl);
            o.push_str(&format!(
                ",\"ephemeral\":{},\"parentCVersion\":{}}}",
                c.ephemeral, c.parent_cversion
            ));
        }
        TxnBody::CreateTtl(c) => {
            json_create_head(o, &c.path, c.data.as_deref(), &c.acl);
            o.push_str(&format!(
                ",\"parentCVersion\":{},\"ttl\":{}}}",
                c.parent_cversion, c.ttl
            ));
        }
        TxnBody::CreateContainer(c) => {
            json_create_head(o, &c.path, c.data.as_deref(), &c.acl);
            o.push_str(&format!(",\"parentCVersion\":{}}}", c.parent_cversion));
        }
        TxnBody::Delete(d) => {
            o.push_str("{\"path\":");
            json_string(o, &d.path);
            o.push('}');
        }
        TxnBody::SetData(s) => {
            o.push('{');
            json_path_data(o, &s.path, s.data.as_deref());
            o.push_str(&format!(",\"version\":{}}}", s.version));
        }
        TxnBody::SetAcl(s) => {
            o.push_str("{\"path\":");
            json_string(o, &s.path);
            o.push_str(",\"acl\":");
            json_acl(o, &s.acl);
            o.push_str(&format!(",\"version\":{}}}", s.version));
        }
        TxnBody::Check(c) => {
            o.push_str("{\"path\":");
            json_string(o, &c.path);
            o.push_str(&format!(",\"version\":{}}}", c.version));
        }
        TxnBody::CreateSession(c) => o.push_str(&format!("{{\"timeOut\":{}}}", c.time_out)),
        TxnBody::CloseSession(_)
            if type_ == op::CLOSE_SESSION && entry.is_some_and(close_session_without_record) =>
        {
            o.push_str("null")
        }
        TxnBody::CloseSession(c) => {
            o.push_str("{\"paths2Delete\":[");
            for (i, p) in c.paths2_delete.iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                json_string(o, p);
            }
            o.push_str("]}");
        }
        TxnBody::Error(e) => o.push_str(&format!("{{\"err\":{}}}", e.err)),
        TxnBody::Multi(ops) => {
            o.push_str("{\"txns\":[");
            for (i, (t, b)) in ops.iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                o.push_str("{\"type\":");
                json_string(o, &op_name(*t));
                o.push_str(",\"txn\":");
                json_body(o, *t, b, None);
                o.push('}');
            }
            o.push_str("]}");
        }
    }
}

fn json_line(r: &Record<'_>, h: &TxnHeader, body: &TxnBody, digest: Option<&TxnDigest>) -> String {
    let mut o = String::with_capacity(256);
    o.push_str(&format!(
        "{{\"offset\":{},\"time\":{},\"session\":\"{}\",\"cxid\":{},\"zxid\":\"{}\",\"type\":",
        r.offset,
        h.time,
        hex(h.client_id),
        h.cxid,
        hex(h.zxid)
    ));
    json_string(&mut o, &op_name(h.type_));
    o.push_str(",\"txn\":");
    json_body(&mut o, h.type_, body, Some(r.entry));
    o.push_str(",\"digest\":");
    match digest {
        None => o.push_str("null"),
        Some(d) => o.push_str(&format!(
            "{{\"version\":{},\"treeDigest\":\"{}\"}}",
            d.version, d.tree_digest
        )),
    }
    o.push_str("}\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::data::Id;
    use crate::jute::txn::{
        CheckVersionTxn, CloseSessionTxn, CreateContainerTxn, CreateSessionTxn, CreateTTLTxn,
        CreateTxn, DeleteTxn, ErrorTxn, SetACLTxn, SetDataTxn,
    };
    use crate::persist::txnlog::TxnLogWriter;
    use crate::tools::testutil::{zk_classpath, Scratch};

    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/persist/testdata/java38/version-2"
    );

    fn acl(perms: i32, scheme: &str, id: &str) -> ACL {
        ACL {
            perms,
            id: Id {
                scheme: scheme.into(),
                id: id.into(),
            },
        }
    }

    fn hdr(zxid: i64, type_: i32) -> TxnHeader {
        TxnHeader {
            client_id: 0x1000_0238_1a40_0000,
            cxid: zxid as i32,
            zxid,
            time: 1_795_301_670_000 + zxid,
            type_,
        }
    }

    fn run(path: &Path, json: bool) -> (String, Result<usize, DumpError>) {
        let mut out = Vec::new();
        let r = dump(path, json, &mut out);
        (String::from_utf8(out).unwrap(), r)
    }

    fn sample_txns() -> Vec<(TxnHeader, TxnBody, Option<TxnDigest>)> {
        let open = vec![acl(31, "world", "anyone")];
        let digest = |n: i64| {
            Some(TxnDigest {
                version: 2,
                tree_digest: -n * 0x0123_4567_89ab,
            })
        };
        vec![
            (
                hdr(1, op::CREATE_SESSION),
                TxnBody::CreateSession(CreateSessionTxn { time_out: 30000 }),
                digest(1),
            ),
            (
                hdr(2, op::CREATE),
                TxnBody::Create(CreateTxn {
                    path: "/a,b}%".into(),
                    data: Some(Bytes::from_static(b"hi\n\xff")),
                    acl: vec![acl(31, "world", "anyone"), acl(1, "digest", "u:x,y")],
                    ephemeral: true,
                    parent_cversion: 3,
                }),
                digest(2),
            ),
            (
                hdr(3, op::CREATE_TTL),
                TxnBody::CreateTtl(CreateTTLTxn {
                    path: "/t".into(),
                    data: None,
                    acl: open.clone(),
                    parent_cversion: 4,
                    ttl: 500,
                }),
                None,
            ),
            (
                hdr(4, op::CREATE_CONTAINER),
                TxnBody::CreateContainer(CreateContainerTxn {
                    path: "/c".into(),
                    data: Some(Bytes::new()),
                    acl: vec![],
                    parent_cversion: 5,
                }),
                None,
            ),
            (
                hdr(5, op::SET_DATA),
                TxnBody::SetData(SetDataTxn {
                    path: "/a".into(),
                    data: Some(Bytes::from_static("dätä".as_bytes())),
                    version: 2,
                }),
                None,
            ),
            (
                hdr(6, op::SET_ACL),
                TxnBody::SetAcl(SetACLTxn {
                    path: "/a".into(),
                    acl: vec![acl(1, "world", "anyone"), acl(3, "ip", "10.0.0.1")],
                    version: 1,
                }),
                None,
            ),
            (
                hdr(7, op::ERROR),
                TxnBody::Error(ErrorTxn { err: -110 }),
                None,
            ),
            (
                hdr(8, op::MULTI),
                TxnBody::Multi(vec![
                    (
                        op::CHECK,
                        TxnBody::Check(CheckVersionTxn {
                            path: "/a".into(),
                            version: 3,
                        }),
                    ),
                    (op::DELETE, TxnBody::Delete(DeleteTxn { path: "/c".into() })),
                ]),
                digest(8),
            ),
            (
                hdr(9, op::DELETE),
                TxnBody::Delete(DeleteTxn {
                    path: "/a\nb".into(),
                }),
                None,
            ),
            (
                hdr(10, op::CLOSE_SESSION),
                TxnBody::CloseSession(CloseSessionTxn {
                    paths2_delete: vec!["/e1".into(), "/e2".into()],
                }),
                None,
            ),
        ]
    }

    fn write_log(dir: &Path, txns: &[(TxnHeader, TxnBody, Option<TxnDigest>)]) -> PathBuf {
        let mut w = TxnLogWriter::new(dir, 64 * 1024);
        for (h, b, d) in txns {
            w.append(h, b, d.as_ref()).unwrap();
        }
        w.close().unwrap();
        dir.join("log.1")
    }

    #[test]
    fn text_of_every_kind_written_by_rzk() {
        let dir = Scratch::new("logdump-text");
        let log = write_log(&dir.0, &sample_txns());
        let (out, r) = run(&log, false);
        assert_eq!(r.unwrap(), 10);
        let t = |z: i64| java_short_long(1_795_301_670_000 + z);
        let s = "session 0x100002381a400000";
        let want = [
            "ZooKeeper Transactional Log File with dbid 0 txnlog format version 2\n".to_owned(),
            format!("{} {s} cxid 0x1 zxid 0x1 createSession 30000\n", t(1)),
            format!(
                "{} {s} cxid 0x2 zxid 0x2 create /a,b}}%,hi\n\u{fffd},[31,s{{'world,'anyone}}\n, 1,s{{'digest,'u:x%2Cy}}\n],true,3\n",
                t(2)
            ),
            format!(
                "{} {s} cxid 0x3 zxid 0x3 createTtl /t,,[31,s{{'world,'anyone}}\n],4,500\n",
                t(3)
            ),
            format!("{} {s} cxid 0x4 zxid 0x4 createContainer /c,,[],5\n", t(4)),
            format!("{} {s} cxid 0x5 zxid 0x5 setData /a,dätä,2\n", t(5)),
            format!(
                "{} {s} cxid 0x6 zxid 0x6 setACL '/a,v{{s{{1,s{{'world,'anyone}}}},s{{3,s{{'ip,'10.0.0.1}}}}}},1\n",
                t(6)
            ),
            format!("{} {s} cxid 0x7 zxid 0x7 error -110\n", t(7)),
            format!(
                "{} {s} cxid 0x8 zxid 0x8 multi check:\0\0\0\x02/a\0\0\0\x03;delete:\0\0\0\x02/c\n",
                t(8)
            ),
            format!("{} {s} cxid 0x9 zxid 0x9 delete '/a%0Ab\n", t(9)),
            format!(
                "{} {s} cxid 0xa zxid 0xa closeSession v{{'/e1,'/e2}}\n",
                t(10)
            ),
            "EOF reached after 10 txns.\n".to_owned(),
        ]
        .concat();
        assert_eq!(out, want);
    }

    #[test]
    fn json_of_every_kind_written_by_rzk() {
        let dir = Scratch::new("logdump-json");
        let log = write_log(&dir.0, &sample_txns());
        let (out, r) = run(&log, true);
        assert_eq!(r.unwrap(), 10);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 10);
        assert_eq!(
            lines[0],
            r#"{"offset":16,"time":1795301670001,"session":"0x100002381a400000","cxid":1,"zxid":"0x1","type":"createSession","txn":{"timeOut":30000},"digest":{"version":2,"treeDigest":"-1250999896491"}}"#
        );
        assert!(lines[1].contains(
            r#""type":"create","txn":{"path":"/a,b}%","data":"aGkK/w==","acl":[{"perms":31,"scheme":"world","id":"anyone"},{"perms":1,"scheme":"digest","id":"u:x,y"}],"ephemeral":true,"parentCVersion":3}"#
        ), "{}", lines[1]);
        assert!(
            lines[2].contains(r#""txn":{"path":"/t","data":null,"#),
            "{}",
            lines[2]
        );
        assert!(lines[2].ends_with(r#""parentCVersion":4,"ttl":500},"digest":null}"#));
        assert!(lines[3].contains(r#""txn":{"path":"/c","data":"","acl":[],"parentCVersion":5}"#));
        assert!(lines[4].contains(r#""txn":{"path":"/a","data":"ZMOkdMOk","version":2}"#));
        assert!(lines[6].contains(r#""type":"error","txn":{"err":-110}"#));
        assert!(lines[7].contains(
            r#""type":"multi","txn":{"txns":[{"type":"check","txn":{"path":"/a","version":3}},{"type":"delete","txn":{"path":"/c"}}]}"#
        ), "{}", lines[7]);
        assert!(lines[8].contains(r#""txn":{"path":"/a\nb"}"#));
        assert!(lines[9].contains(r#""txn":{"paths2Delete":["/e1","/e2"]}"#));
        // Each record's offset: the next starts where the previous ended.
        assert!(lines[1].starts_with(r#"{"offset":"#));
    }

    #[test]
    fn a_close_session_without_a_record_prints_nothing_after_the_type() {
        let dir = Scratch::new("logdump-close");
        // Hand-made entry: a header and no body, as logs before 3.6 have.
        let mut e = BytesMut::new();
        hdr(1, op::CLOSE_SESSION).write(&mut e);
        let mut w = TxnLogWriter::new(&dir.0, 0);
        w.append_entry(&e).unwrap();
        w.close().unwrap();
        let (out, r) = run(&dir.0.join("log.1"), false);
        assert_eq!(r.unwrap(), 1);
        assert!(out.contains("zxid 0x1 closeSession \n"), "{out:?}");
        let (out, _) = run(&dir.0.join("log.1"), true);
        assert!(out.contains(r#""txn":null"#), "{out}");
    }

    #[test]
    fn damage_prints_what_was_readable_then_fails_with_the_offset() {
        let dir = Scratch::new("logdump-damage");
        let log = write_log(&dir.0, &sample_txns());
        let clean = fs::read(&log).unwrap();
        // Offsets of the records, from the JSON dump.
        let (json, _) = run(&log, true);
        let offsets: Vec<u64> = json
            .lines()
            .map(|l| {
                l.trim_start_matches("{\"offset\":")
                    .split(',')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();

        // A flipped byte inside the 4th record: a checksum mismatch.
        let mut bad = clean.clone();
        bad[offsets[3] as usize + 20] ^= 0x40;
        fs::write(&log, &bad).unwrap();
        let (out, r) = run(&log, false);
        assert_eq!(out.lines().filter(|l| l.contains(" zxid 0x")).count(), 3);
        assert!(!out.contains("EOF reached"));
        match r {
            Err(e @ DumpError::Damage { .. }) => {
                let DumpError::Damage {
                    offset,
                    txns,
                    ref problem,
                    ..
                } = e
                else {
                    unreachable!()
                };
                assert_eq!((offset, txns), (offsets[3], 3));
                assert!(problem.contains("checksum mismatch"), "{problem}");
                let msg = e.to_string();
                assert!(msg.contains(&log.display().to_string()), "{msg}");
                assert!(
                    msg.contains(&format!("byte offset {}", offsets[3])),
                    "{msg}"
                );
            }
            other => panic!("{other:?}"),
        }

        // Cut inside the last record, as a crash would: a torn tail.
        let cut = offsets[9] as usize + 10;
        fs::write(&log, &clean[..cut]).unwrap();
        let (out, r) = run(&log, true);
        assert_eq!(out.lines().count(), 9);
        let e = r.unwrap_err().to_string();
        assert!(e.contains(&format!("byte offset {}", offsets[9])), "{e}");
        assert!(e.contains("cut short"), "{e}");

        // A bad end-of-record marker with zeros after it.
        let mut bad = clean.clone();
        let end_of_first = offsets[1] as usize - 1;
        bad[end_of_first] = b'X';
        fs::write(&log, &bad).unwrap();
        let (_, r) = run(&log, false);
        let e = r.unwrap_err().to_string();
        assert!(e.contains("end-of-record marker is 0x58"), "{e}");
        assert!(e.contains("byte offset 16 (after 0 txns)"), "{e}");

        // Not a log at all.
        fs::write(&log, b"ZKSN\0\0\0\x02").unwrap();
        let (out, r) = run(&log, false);
        assert!(out.is_empty());
        assert!(r.unwrap_err().to_string().contains("invalid magic number"));
        // A missing file.
        let (_, r) = run(&dir.0.join("log.nope"), false);
        assert!(matches!(r, Err(DumpError::Read { .. })));
    }

    #[test]
    fn empty_and_preallocated_logs() {
        let dir = Scratch::new("logdump-empty");
        let p = dir.0.join("log.5");
        let mut h = TXNLOG_MAGIC.to_be_bytes().to_vec();
        h.extend_from_slice(&2i32.to_be_bytes());
        h.extend_from_slice(&0i64.to_be_bytes());
        h.resize(4096, 0);
        fs::write(&p, &h).unwrap();
        let (out, r) = run(&p, false);
        assert_eq!(r.unwrap(), 0);
        assert_eq!(
            out,
            "ZooKeeper Transactional Log File with dbid 0 txnlog format version 2\nEOF reached after 0 txns.\n"
        );
        // A header cut short.
        fs::write(&p, &h[..10]).unwrap();
        assert!(run(&p, false)
            .1
            .unwrap_err()
            .to_string()
            .contains("no complete file header"));
    }

    #[test]
    fn op_names_as_java() {
        assert_eq!(op_name(op::CREATE_TTL), "createTtl");
        assert_eq!(op_name(op::ADD_WATCH), "unknown 106");
        assert_eq!(op_name(99), "unknown 99");
        assert_eq!(op_name(op::CLOSE_SESSION), "closeSession");
    }

    /// Reads Java 3.8's own logs (the persistence fixtures) to the end.
    #[test]
    fn java_fixture_logs_dump_to_the_end() {
        let mut total = 0;
        for f in crate::persist::files::list_logs(Path::new(FIXTURE)).unwrap() {
            let (out, r) = run(&f, false);
            let n = r.unwrap();
            assert!(out.ends_with(&format!("EOF reached after {n} txns.\n")));
            let (json, r) = run(&f, true);
            assert_eq!(r.unwrap(), n);
            assert_eq!(json.lines().count(), n);
            total += n;
        }
        assert_eq!(total, 0x39);
    }

    /// The output of Java's TxnLogToolkit on the same files, compared byte
    /// for byte.
    #[test]
    #[ignore = "needs Java and ZooKeeper 3.8 jars (RZK_ZK_CLASSPATH or /usr/share/java)"]
    fn interop_same_text_as_java_txn_log_toolkit() {
        let dir = Scratch::new("logdump-java");
        let ours = write_log(&dir.0, &sample_txns());
        let mut files = crate::persist::files::list_logs(Path::new(FIXTURE)).unwrap();
        files.push(ours);
        for f in files {
            let java = std::process::Command::new("java")
                .env("TZ", "UTC")
                .arg("-Duser.timezone=UTC")
                .arg("-Duser.language=en")
                .arg("-cp")
                .arg(zk_classpath())
                .arg("org.apache.zookeeper.server.persistence.TxnLogToolkit")
                .arg(&f)
                .output()
                .expect("java");
            assert!(
                java.status.success(),
                "{}",
                String::from_utf8_lossy(&java.stderr)
            );
            let mut out = Vec::new();
            dump(&f, false, &mut out).unwrap();
            assert!(
                out == java.stdout,
                "{}:\nrzk:\n{}\njava:\n{}",
                f.display(),
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&java.stdout)
            );
        }
    }
}
