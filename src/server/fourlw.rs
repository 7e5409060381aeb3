//! Four-letter words on the client port (ruok, stat, mntr, ...).
//!
//! A connection whose first four bytes spell a known command gets that
//! command's text and is closed. The texts follow Java 3.8.0's command
//! classes (`org.apache.zookeeper.server.command.*`) line for line:
//!
//! - `ruok` `imok`, `isro` `rw`, `gtmk`/`stmk` the trace mask, no newline.
//! - `stat`/`srvr`: StatCommand and ServerStats.toString. `Node count`
//!   counts the root twice, as Java's DataTree map holds it under "" and "/".
//!   A leader adds `Proposal sizes last/min/max` (Leader.getProposalStats).
//! - `cons`/`stat` client lines: ServerCnxn.dumpConnectionInfo. The core
//!   answers every request synchronously, so all latencies are 0.
//! - `dump`: SessionTrackerImpl/ExpiryQueue dump, DataTree.dumpEphemerals,
//!   NIOServerCnxnFactory.dumpConnections. Java also lists expiry buckets
//!   that have emptied but not yet passed ("0 expire at ..."); rzk's session
//!   tracker drops empty buckets, so only non-empty ones are listed. Dates
//!   are printed as Java's Date.toString in UTC.
//! - `wchs`/`wchc`/`wchp`: DataTree.dumpWatches*, which report the data
//!   watch table only (getData/exists watches and addWatch).
//! - `mntr`: the keys of Java 3.8.0 standalone, follower or leader, in its
//!   order; see [`mntr`] for the values rzk cannot compute yet. A leader's
//!   ZAB gauges come from [`Counters::leader`], which the core task
//!   refreshes before each command.
//! - `envi`: Environment.list's keys in its order, with rzk equivalents.
//! - `dirs`/`conf`: sizes of `version-2` under dataDir and dataLogDir (the
//!   3.8.4+ assignment, as `conf`'s report; 3.8.0 printed the two swapped).
//!
//! Java counts a four-letter word as one packet received, and the asking
//! connection as a live connection listed by `stat`, `cons` and `dump`;
//! [`run_for`] does the same (the asking connection is listed only when its
//! address is known).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::atomic::Ordering;

use crate::javahash::{bucket, string_hash};
use crate::quorum::metrics;
use crate::server::core::{Conn, Core, Now};
use crate::watch::ConnId;

/// Facts about the server that do not change while it runs.
#[derive(Debug, Clone, Default)]
pub struct StaticInfo {
    pub version: String,
    /// The configuration, for `conf` (directory sizes are measured per request).
    pub config: Option<crate::config::ServerConfig>,
    /// `envi` values by key (e.g. `host.name`); keys Java does not print are
    /// appended after Java's.
    pub env: Vec<(String, String)>,
    pub data_dir: String,
    pub data_log_dir: String,
    pub client_port: u16,
    pub max_client_cnxns: u32,
    /// The server's role for `srvr` and `mntr`: leader, follower,
    /// observer, or (empty) standalone.
    pub mode: String,
    /// A quorum peer's voting members (`zk_quorum_size`).
    pub quorum_size: usize,
    /// A learner's leader (an observer's `zk_observer_master_id`: rzk's
    /// observers observe the leader, never an observer master).
    pub leader_id: u64,
    /// This server's id (myid; 0 standalone).
    pub my_id: u64,
    /// zoo.cfg as read at startup (the AdminServer's initial_configuration).
    pub initial_config: String,
}

impl StaticInfo {
    pub fn mode(&self) -> &str {
        if self.mode.is_empty() {
            "standalone"
        } else {
            &self.mode
        }
    }
}

/// Java's answer to most four-letter words while no server is running
/// behind the client port (a quorum peer between roles).
pub const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests\n";

/// A four-letter word's answer while not serving: `ruok`, `isro` and
/// `envi` still answer, as in Java; the rest say they cannot.
pub fn not_serving(cmd: &str, info: &StaticInfo) -> String {
    match cmd {
        "ruok" => "imok".into(),
        "isro" => "null".into(),
        "envi" => {
            let mut o = String::new();
            envi(&mut o, info);
            o
        }
        _ => NOT_SERVING.into(),
    }
}

/// ZooTrace's initial trace mask, CLIENT_REQUEST | SERVER_PACKET | SESSION |
/// WARNING: what `gtmk` prints until `stmk` changes it.
pub const DEFAULT_TRACE_MASK: i64 = 306;

/// Server-side state of the four-letter words: `srst` baselines and the
/// trace mask.
#[derive(Debug, Clone)]
pub struct Counters {
    pub received_base: u64,
    pub sent_base: u64,
    /// Four-letter words served; Java counts each as a packet received.
    pub fourlw_received: u64,
    /// Packets of four-letter-word output: Java counts each chunk it
    /// writes (up to 8192 characters) as a packet sent.
    pub fourlw_sent: u64,
    /// Set by `stmk`, printed by `gtmk`.
    pub trace_mask: i64,
    /// A leader's gauges, refreshed by the core task before it runs a
    /// four-letter word (None: not leading, or not refreshed).
    pub leader: Option<LeaderGauges>,
}

/// What a leader's `mntr` and `srvr` report of its ZAB state
/// (LeaderZooKeeperServer's gauges, Leader.getProposalStats).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaderGauges {
    /// Learner connections (zk_learners).
    pub learners: usize,
    /// Followers receiving the broadcast (zk_synced_followers).
    pub synced_followers: usize,
    /// Synced followers outside the voting view
    /// (zk_synced_non_voting_followers).
    pub synced_non_voting_followers: usize,
    /// Observers receiving INFORMs (zk_synced_observers).
    pub synced_observers: usize,
    /// Zxids with SYNC answers waiting (zk_pending_syncs).
    pub pending_syncs: usize,
    /// Milliseconds since the leader was established (zk_leader_uptime).
    pub uptime_ms: i64,
    /// (last, min, max) proposal sizes; None before the first proposal.
    pub proposal_sizes: Option<(usize, usize, usize)>,
    /// Sids of the learners, for the per-learner queue summaries.
    pub learner_sids: Vec<u64>,
}

impl LeaderGauges {
    /// Java's BufferStats: -1 until a proposal is made.
    fn proposal_sizes(&self) -> (i64, i64, i64) {
        self.proposal_sizes
            .map_or((-1, -1, -1), |(l, mn, mx)| (l as i64, mn as i64, mx as i64))
    }
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            received_base: 0,
            sent_base: 0,
            fourlw_received: 0,
            fourlw_sent: 0,
            trace_mask: DEFAULT_TRACE_MASK,
            leader: None,
        }
    }
}

/// What the network layer knows about the connection asking.
#[derive(Debug, Clone, Copy, Default)]
pub struct Asker {
    /// Its remote address: Java lists the asking connection itself.
    pub remote: Option<SocketAddr>,
    /// `stmk`'s argument: the 8 bytes (big-endian) after the command.
    pub trace_mask: Option<i64>,
}

pub const COMMANDS: [&str; 20] = [
    "conf",
    "cons",
    "crst",
    "dirs",
    "dump",
    "envi",
    "gtmk",
    "hash",
    "ruok",
    "srst",
    "srvr",
    "stat",
    "stmk",
    "wchc",
    "wchp",
    "wchs",
    "mntr",
    "isro",
    "getTraceMask",
    "setTraceMask",
];

/// The command a connection's first four bytes name, if any.
pub fn recognise(first: &[u8; 4]) -> Option<&'static str> {
    let s = std::str::from_utf8(first).ok()?;
    COMMANDS.iter().copied().find(|c| *c == s)
}

/// Runs a command for an asker the network layer knows nothing about.
pub fn run(
    cmd: &str,
    core: &mut Core,
    info: &StaticInfo,
    counters: &mut Counters,
    now: Now,
) -> String {
    run_for(cmd, &Asker::default(), core, info, counters, now)
}

/// Runs a command; the text to send before closing the connection.
pub fn run_for(
    cmd: &str,
    asker: &Asker,
    core: &mut Core,
    info: &StaticInfo,
    counters: &mut Counters,
    now: Now,
) -> String {
    // NIOServerCnxn.checkFourLetterWord: packetReceived(4) before running.
    counters.fourlw_received += 1;
    let mut o = String::new();
    match cmd {
        "ruok" => o.push_str("imok"),
        "isro" => o.push_str("rw"),
        "gtmk" | "getTraceMask" => write!(o, "{}", counters.trace_mask).unwrap(),
        "stmk" | "setTraceMask" => {
            // Java reads the mask after the command; without one the
            // connection fails and nothing is written.
            if let Some(mask) = asker.trace_mask {
                counters.trace_mask = mask;
                write!(o, "{mask}").unwrap();
            }
        }
        "conf" => {
            if let Some(cfg) = &info.config {
                o.push_str(&cfg.conf_report());
            }
        }
        "envi" => envi(&mut o, info),
        "srvr" | "stat" => {
            writeln!(o, "Zookeeper version: {}", info.version).unwrap();
            if cmd == "stat" {
                o.push_str("Clients:\n");
                for c in core.conns.values() {
                    writeln!(o, "{}", cons_line(c, true)).unwrap();
                }
                if let Some(remote) = asker.remote {
                    writeln!(o, "{}", asker_line(remote, o.len())).unwrap();
                }
                o.push('\n');
            }
            server_stats(&mut o, core, counters, info.mode());
            writeln!(o, "Node count: {}", node_count(core)).unwrap();
            // StatCommand: a leader adds its BufferStats of proposals.
            if info.mode == "leader" {
                let (last, min, max) = counters.leader.clone().unwrap_or_default().proposal_sizes();
                writeln!(o, "Proposal sizes last/min/max: {last}/{min}/{max}").unwrap();
            }
        }
        "cons" => {
            for c in core.conns.values() {
                writeln!(o, "{}", cons_line(c, false)).unwrap();
            }
            if let Some(remote) = asker.remote {
                writeln!(o, "{}", asker_line(remote, o.len())).unwrap();
            }
            o.push('\n');
        }
        "crst" => {
            reset_connection_stats(core);
            o.push_str("Connection stats reset.\n");
        }
        "srst" => {
            reset_server_stats(core, counters);
            o.push_str("Server stats reset.\n");
        }
        "dump" => dump(&mut o, core, asker, now),
        "wchs" => {
            let watches = core.db().watches();
            let t = &watches.data;
            writeln!(
                o,
                "{} connections watching {} paths\nTotal watches:{}",
                t.conn_count(),
                t.path_count(),
                t.watch_count()
            )
            .unwrap();
        }
        "wchc" => {
            let watches = core.db().watches();
            for (conn, paths) in watches.data.by_conn() {
                writeln!(o, "0x{:x}", session_of(core, conn)).unwrap();
                for p in java_string_set_order(paths.into_iter().collect(), 16) {
                    writeln!(o, "\t{p}").unwrap();
                }
            }
            o.push('\n');
        }
        "wchp" => {
            let watches = core.db().watches();
            let by_path = watches.data.by_path();
            let paths: Vec<&str> = by_path.keys().copied().collect();
            for p in java_string_set_order(paths, 16) {
                writeln!(o, "{p}").unwrap();
                for conn in by_path[p] {
                    writeln!(o, "\t0x{:x}", session_of(core, *conn)).unwrap();
                }
            }
            o.push('\n');
        }
        "dirs" => {
            let (data, log) = dir_sizes(info);
            writeln!(o, "datadir_size: {data}\nlogdir_size: {log}").unwrap();
        }
        "mntr" => mntr(&mut o, core, info, counters, now),
        // `hash`: Java prints its digest log, empty until a snapshot is
        // taken with digests; rzk keeps no digests.
        _ => {}
    }
    counters.fourlw_sent += chunks(o.len());
    o
}

/// ServerCnxn.resetStats, for every connection (`crst`).
pub fn reset_connection_stats(core: &Core) {
    for c in core.conns.values() {
        let mut s = c.shared.stats();
        s.packets_received = 0;
        s.packets_sent = 0;
        s.last_op = "NA";
        s.last_cxid = -1;
        s.last_zxid = -1;
        s.last_response_ms = 0;
    }
}

/// ServerStats.reset (`srst`): packet counts start again from now.
pub fn reset_server_stats(core: &Core, counters: &mut Counters) {
    counters.received_base = packets_received(core) + counters.fourlw_received;
    counters.sent_base = packets_sent(core) + counters.fourlw_sent;
}

/// Java writes a command's output through an 8192-character BufferedWriter
/// into a writer that sends whatever it is handed: one packet per chunk.
const JAVA_WRITE_CHUNK: usize = 8192;

fn chunks(len: usize) -> u64 {
    len.div_ceil(JAVA_WRITE_CHUNK) as u64
}

pub(crate) fn packets_received(core: &Core) -> u64 {
    core.db().packets_received.load(Ordering::Relaxed)
}

pub(crate) fn packets_sent(core: &Core) -> u64 {
    core.db().packets_sent.load(Ordering::Relaxed)
}

pub(crate) fn received(core: &Core, counters: &Counters) -> u64 {
    (packets_received(core) + counters.fourlw_received).saturating_sub(counters.received_base)
}

pub(crate) fn sent(core: &Core, counters: &Counters) -> u64 {
    (packets_sent(core) + counters.fourlw_sent).saturating_sub(counters.sent_base)
}

/// Java's DataTree keeps the root under both "" and "/".
pub(crate) fn node_count(core: &Core) -> usize {
    core.tree().node_count() + 1
}

/// Live connections, the asking one included.
fn connections(core: &Core) -> usize {
    core.conns.len() + 1
}

pub(crate) fn session_of(core: &Core, conn: ConnId) -> i64 {
    core.conns.get(&conn).map_or(0, |c| c.session)
}

/// ServerStats.toString. Latencies are all 0: requests are answered
/// synchronously.
fn server_stats(o: &mut String, core: &Core, counters: &Counters, mode: &str) {
    writeln!(o, "Latency min/avg/max: 0/{}/0", java_double(0.0)).unwrap();
    writeln!(o, "Received: {}", received(core, counters)).unwrap();
    writeln!(o, "Sent: {}", sent(core, counters)).unwrap();
    writeln!(o, "Connections: {}", connections(core)).unwrap();
    o.push_str("Outstanding: 0\n");
    writeln!(o, "Zxid: 0x{:x}", core.last_zxid()).unwrap();
    writeln!(o, "Mode: {mode}").unwrap();
}

/// InetSocketAddress.toString of an accepted socket: "/ip:port", IPv6 in
/// Java's full uncompressed form.
pub fn java_addr(a: SocketAddr) -> String {
    let ip = match a.ip() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6
                .segments()
                .iter()
                .map(|s| format!("{s:x}"))
                .collect::<Vec<_>>()
                .join(":"),
        },
    };
    format!("/{ip}:{}", a.port())
}

/// ServerCnxn.dumpConnectionInfo, without the line end.
fn cons_line(c: &Conn, brief: bool) -> String {
    let s = c.shared.stats().clone();
    let mut line = format!(
        " {}[1](queued=0,recved={},sent={}",
        java_addr(c.remote),
        s.packets_received,
        s.packets_sent
    );
    if !brief && c.session != 0 {
        write!(
            line,
            ",sid=0x{:x},lop={},est={},to={}",
            c.session, s.last_op, s.established_ms, c.timeout_ms
        )
        .unwrap();
        if s.last_cxid >= 0 {
            write!(line, ",lcxid=0x{:x}", s.last_cxid).unwrap();
        }
        write!(
            line,
            ",lzxid=0x{:x},lresp={},llat=0,minlat=0,avglat=0,maxlat=0",
            s.last_zxid, s.last_response_ms
        )
        .unwrap();
    }
    line.push(')');
    line
}

/// The asking connection: its selection key is cancelled (interest 0), it
/// has sent one packet (the command) and has no session; it has been sent
/// the full chunks of the output written so far.
fn asker_line(remote: SocketAddr, written: usize) -> String {
    format!(
        " {}[0](queued=0,recved=1,sent={})",
        java_addr(remote),
        written / JAVA_WRITE_CHUNK
    )
}

// ---- dump -------------------------------------------------------------------

/// NIOServerCnxnFactory's sessionless connection timeout, also the interval
/// of its connection expiry queue.
const SESSIONLESS_CNXN_TIMEOUT_MS: i64 = 10_000;

/// ExpiryQueue.roundToNextInterval.
fn round_to_interval(t: i64, interval: i64) -> i64 {
    (t / interval + 1) * interval
}

/// ExpiryQueue.dump: "Sets (n)/(m):" then each set, earliest first.
fn expiry_dump(o: &mut String, buckets: &BTreeMap<i64, Vec<String>>, elems: usize, now: Now) {
    writeln!(o, "Sets ({})/({}):", buckets.len(), elems).unwrap();
    for (at, set) in buckets {
        writeln!(
            o,
            "{} expire at {}:",
            set.len(),
            java_date(now.wall_ms + (at - now.mono_ms))
        )
        .unwrap();
        for e in set {
            writeln!(o, "\t{e}").unwrap();
        }
    }
}

fn dump(o: &mut String, core: &Core, asker: &Asker, now: Now) {
    o.push_str("SessionTracker dump:\n");
    // An expired session leaves its bucket but stays tracked until closed.
    let mut sessions: Vec<_> = core.sessions.iter().collect();
    sessions.sort_by_key(|s| s.id);
    let mut buckets: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for s in &sessions {
        if !(s.closing && s.expires_at <= now.mono_ms) {
            buckets
                .entry(s.expires_at)
                .or_default()
                .push(format!("0x{:x}", s.id));
        }
    }
    o.push_str("Session ");
    expiry_dump(o, &buckets, sessions.len(), now);

    o.push_str("ephemeral nodes dump:\n");
    let tree = core.tree();
    let eph = tree.ephemerals_by_session();
    writeln!(o, "Sessions with Ephemerals ({}):", eph.len()).unwrap();
    for id in java_concurrent_map_order(eph.keys().copied().collect()) {
        writeln!(o, "0x{id:x}:").unwrap();
        for p in eph[&id].iteration_order() {
            writeln!(o, "\t{p}").unwrap();
        }
    }

    o.push_str("Connections dump:\n");
    // Each connection expires its session timeout (sessionless: 10s) after
    // its last I/O, rounded up to the queue's 10s interval.
    let mut buckets: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for c in core.conns.values() {
        let s = c.shared.stats().clone();
        let established_mono = now.mono_ms - (now.wall_ms - s.established_ms);
        let last_io = s.last_response_ms.max(established_mono);
        let timeout = if c.session != 0 {
            i64::from(c.timeout_ms)
        } else {
            SESSIONLESS_CNXN_TIMEOUT_MS
        };
        buckets
            .entry(round_to_interval(
                last_io + timeout,
                SESSIONLESS_CNXN_TIMEOUT_MS,
            ))
            .or_default()
            .push(format!(
                "ip: {} sessionId: 0x{:x}",
                java_addr(c.remote),
                c.session
            ));
    }
    let mut elems = core.conns.len();
    if let Some(remote) = asker.remote {
        elems += 1;
        buckets
            .entry(round_to_interval(
                now.mono_ms + SESSIONLESS_CNXN_TIMEOUT_MS,
                SESSIONLESS_CNXN_TIMEOUT_MS,
            ))
            .or_default()
            .push(format!("ip: {} sessionId: 0x0", java_addr(remote)));
    }
    o.push_str("Connections ");
    expiry_dump(o, &buckets, elems, now);
}

/// java.util.Date.toString ("EEE MMM dd HH:mm:ss zzz yyyy"), in UTC.
pub fn java_date(epoch_ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = epoch_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        day,
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        year
    )
}

/// Iteration order of a java.util.HashMap/HashSet of strings that holds
/// `keys` and started at `initial` buckets (ties: lexical order, standing in
/// for insertion order).
pub(crate) fn java_string_set_order(mut keys: Vec<&str>, initial: usize) -> Vec<&str> {
    let mut cap = initial.max(1);
    while keys.len() * 4 > cap * 3 {
        cap *= 2;
    }
    keys.sort_by(|a, b| (bucket(string_hash(a), cap), *a).cmp(&(bucket(string_hash(b), cap), *b)));
    keys
}

/// Iteration order of a java.util.concurrent.ConcurrentHashMap of strings
/// in its initial 16 buckets (enough for a summary set's few keys).
fn java_string_set_order_owned(keys: Vec<String>) -> Vec<String> {
    let order: Vec<String> = {
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        java_string_set_order(refs, 16)
            .into_iter()
            .map(str::to_owned)
            .collect()
    };
    order
}

/// Iteration order of a java.util.concurrent.ConcurrentHashMap with Long
/// keys (DataTree.ephemerals), sized for its current contents.
pub(crate) fn java_concurrent_map_order(mut keys: Vec<i64>) -> Vec<i64> {
    let mut cap: usize = 16;
    // The table doubles when its count reaches three quarters.
    while keys.len() >= cap - cap / 4 {
        cap *= 2;
    }
    let index = |k: i64| {
        let h = (k ^ ((k as u64) >> 32) as i64) as i32;
        let spread = (h ^ ((h as u32) >> 16) as i32) & 0x7fff_ffff;
        spread as usize & (cap - 1)
    };
    keys.sort_by_key(|&k| (index(k), k));
    keys
}

// ---- envi, dirs ---------------------------------------------------------------

/// Environment.list. rzk has no JVM: `java.*` keys without an rzk meaning
/// print `<NA>` (Java's value for an unset property); `os.memory.total` is
/// the process's resident size, `os.memory.max` the machine's memory and
/// `os.memory.free` 0 (there is no heap slack to report).
fn envi(o: &mut String, info: &StaticInfo) {
    o.push_str("Environment:\n");
    for (k, v) in envi_entries(info) {
        writeln!(o, "{k}={v}").unwrap();
    }
}

/// Environment.list's entries (see [`envi`]), then rzk's extras.
pub fn envi_entries(info: &StaticInfo) -> Vec<(String, String)> {
    const NA: &str = "<NA>";
    let given = |k: &str| {
        info.env
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let (user, home) = user_and_home();
    let java_os = match std::env::consts::OS {
        "linux" => "Linux".to_owned(),
        "macos" => "Mac OS X".to_owned(),
        "freebsd" => "FreeBSD".to_owned(),
        other => other.to_owned(),
    };
    let java_arch = match std::env::consts::ARCH {
        "x86_64" => "amd64".to_owned(),
        "x86" => "i386".to_owned(),
        other => other.to_owned(),
    };
    let mb = |kb: Option<u64>| format!("{}MB", kb.unwrap_or(0) / 1024);
    let entries: Vec<(&str, String)> = vec![
        ("zookeeper.version", info.version.clone()),
        (
            "host.name",
            given("host.name")
                .or_else(|| read_trimmed("/proc/sys/kernel/hostname"))
                .map(|h| {
                    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
                    canonical_host_name(&h, &hosts)
                })
                .unwrap_or_else(|| NA.into()),
        ),
        ("java.version", NA.into()),
        ("java.vendor", NA.into()),
        ("java.home", NA.into()),
        ("java.class.path", NA.into()),
        ("java.library.path", NA.into()),
        ("java.io.tmpdir", std::env::temp_dir().display().to_string()),
        ("java.compiler", NA.into()),
        ("os.name", java_os),
        ("os.arch", java_arch),
        (
            "os.version",
            read_trimmed("/proc/sys/kernel/osrelease").unwrap_or_else(|| NA.into()),
        ),
        ("user.name", user.unwrap_or_else(|| NA.into())),
        ("user.home", home.unwrap_or_else(|| NA.into())),
        (
            "user.dir",
            given("user.dir").unwrap_or_else(|| {
                std::env::current_dir()
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|_| NA.into())
            }),
        ),
        ("os.memory.free", mb(Some(0))),
        ("os.memory.max", mb(proc_kb("/proc/meminfo", "MemTotal:"))),
        (
            "os.memory.total",
            mb(proc_kb("/proc/self/status", "VmRSS:")),
        ),
    ];
    let mut out: Vec<(String, String)> = entries
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    // Keys Java does not print (rzk extras), after Java's and as given.
    for (k, v) in &info.env {
        let java_key = entries.iter().any(|(jk, _)| jk == k);
        let rust_os_key = k == "os.name" || k == "os.arch";
        if !java_key && !rust_os_key {
            out.push((k.clone(), v.clone()));
        }
    }
    out
}

/// InetAddress.getLocalHost().getCanonicalHostName() as far as /etc/hosts
/// answers it: the host name's address, then the first name listed for that
/// address. Names /etc/hosts does not know are returned as they are.
fn canonical_host_name(host: &str, hosts: &str) -> String {
    let entries: Vec<Vec<&str>> = hosts
        .lines()
        .map(|l| {
            l.split('#')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect()
        })
        .filter(|f: &Vec<&str>| f.len() >= 2)
        .collect();
    let Some(ip) = entries
        .iter()
        .find(|f| f[1..].contains(&host))
        .map(|f| f[0])
    else {
        return host.to_owned();
    };
    entries
        .iter()
        .find(|f| f[0] == ip)
        .map_or_else(|| host.to_owned(), |f| f[1].to_owned())
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
}

/// A "Key:   123 kB" line of a /proc file, in kB.
fn proc_kb(path: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// user.name and user.home as the JVM finds them: the passwd entry of the
/// process's uid, else $USER / $HOME.
fn user_and_home() -> (Option<String>, Option<String>) {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        });
    if let (Some(uid), Ok(passwd)) = (uid, std::fs::read_to_string("/etc/passwd")) {
        for l in passwd.lines() {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() >= 6 && f[2] == uid {
                return (Some(f[0].to_owned()), Some(f[5].to_owned()));
            }
        }
    }
    (std::env::var("USER").ok(), std::env::var("HOME").ok())
}

/// ZooKeeperServer.getDirSize: every file's length, recursively; missing or
/// unreadable entries count 0.
fn dir_size(path: &Path) -> u64 {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => std::fs::read_dir(path)
            .map(|es| es.flatten().map(|e| dir_size(&e.path())).sum())
            .unwrap_or(0),
        Ok(m) => m.len(),
        Err(_) => 0,
    }
}

/// (dataDir/version-2, dataLogDir/version-2) sizes in bytes.
pub(crate) fn dir_sizes(info: &StaticInfo) -> (u64, u64) {
    let (data, log) = match &info.config {
        Some(cfg) => (cfg.data_dir.clone(), cfg.data_log_dir.clone()),
        None => (
            info.data_dir.clone().into(),
            info.data_log_dir.clone().into(),
        ),
    };
    let size = |d: &std::path::PathBuf| {
        if d.as_os_str().is_empty() {
            0
        } else {
            dir_size(&d.join("version-2"))
        }
    };
    (size(&data), size(&log))
}

// ---- mntr -------------------------------------------------------------------

/// Gauges of Java 3.8.0 standalone, in the order its metrics provider
/// (a ConcurrentHashMap) prints them.
const MNTR_GAUGES: [&str; 24] = [
    "ephemerals_count",
    "num_alive_connections",
    "avg_latency",
    "outstanding_requests",
    "znode_count",
    "global_sessions",
    "non_mtls_remote_conn_count",
    "last_client_response_size",
    "packets_sent",
    "packets_received",
    "max_client_response_size",
    "connection_drop_probability",
    "watch_count",
    "auth_failed_count",
    "min_latency",
    "max_file_descriptor_count",
    "approximate_data_size",
    "open_file_descriptor_count",
    "local_sessions",
    "uptime",
    "max_latency",
    "outstanding_tls_handshake",
    "min_client_response_size",
    "non_mtls_local_conn_count",
];

/// Gauges of a Java 3.8.0 leader, in its order (LeaderZooKeeperServer's
/// and QuorumZooKeeperServer's gauges join the standalone ones in the same
/// ConcurrentHashMap).
const MNTR_LEADER_GAUGES: [&str; 34] = [
    "ephemerals_count",
    "num_alive_connections",
    "avg_latency",
    "min_proposal_size",
    "outstanding_requests",
    "znode_count",
    "global_sessions",
    "non_mtls_remote_conn_count",
    "last_client_response_size",
    "packets_sent",
    "packets_received",
    "max_proposal_size",
    "max_client_response_size",
    "synced_followers",
    "connection_drop_probability",
    "watch_count",
    "synced_non_voting_followers",
    "synced_observers",
    "auth_failed_count",
    "min_latency",
    "max_file_descriptor_count",
    "approximate_data_size",
    "open_file_descriptor_count",
    "last_proposal_size",
    "pending_syncs",
    "leader_uptime",
    "local_sessions",
    "uptime",
    "max_latency",
    "outstanding_tls_handshake",
    "learners",
    "min_client_response_size",
    "non_mtls_local_conn_count",
    "quorum_size",
];

/// Gauges of a Java 3.8.0 follower or observer, in its order: the
/// standalone ones and quorum_size. (FollowerZooKeeperServer's
/// synced_observers gauge is null, so not printed, unless the follower is
/// an observer master.)
const MNTR_FOLLOWER_GAUGES: [&str; 25] = [
    "ephemerals_count",
    "num_alive_connections",
    "avg_latency",
    "outstanding_requests",
    "znode_count",
    "global_sessions",
    "non_mtls_remote_conn_count",
    "last_client_response_size",
    "packets_sent",
    "packets_received",
    "max_client_response_size",
    "connection_drop_probability",
    "watch_count",
    "auth_failed_count",
    "min_latency",
    "max_file_descriptor_count",
    "approximate_data_size",
    "open_file_descriptor_count",
    "local_sessions",
    "uptime",
    "max_latency",
    "outstanding_tls_handshake",
    "min_client_response_size",
    "non_mtls_local_conn_count",
    "quorum_size",
];

/// Counters, in Java's order: digest_mismatches_count (the core's) and
/// those [`metrics::counter`] knows are real; the rest are placeholders (0).
const MNTR_COUNTERS: [&str; 47] = [
    "proposal_count",
    "watch_bytes",
    "outstanding_changes_removed",
    "throttled_ops",
    "stale_requests_dropped",
    "large_requests_rejected",
    "insecure_admin_count",
    "connection_rejected",
    "cnxn_closed_without_zk_server_running",
    "sessionless_connections_expired",
    "looking_count",
    "dead_watchers_queued",
    "stale_requests",
    "connection_drop_count",
    "learner_proposal_received_count",
    "digest_mismatches_count",
    "dead_watchers_cleared",
    "response_packet_cache_hits",
    "bytes_received_count",
    "add_dead_watcher_stall_time",
    "request_throttle_wait_count",
    "requests_not_forwarded_to_commit_processor",
    "response_packet_cache_misses",
    "ensemble_auth_success",
    "prep_processor_request_queued",
    "learner_commit_received_count",
    "stale_replies",
    "connection_request_count",
    "response_bytes",
    "ensemble_auth_fail",
    "diff_count",
    "response_packet_get_children_cache_misses",
    "connection_revalidate_count",
    "quit_leading_due_to_disloyal_voter",
    "snap_count",
    "unrecoverable_error_count",
    "unsuccessful_handshake",
    "commit_count",
    "stale_sessions_expired",
    "response_packet_get_children_cache_hits",
    "sync_processor_request_queued",
    "outstanding_changes_queued",
    "request_commit_queued",
    "ensemble_auth_skip",
    "skip_learner_request_to_next_processor_count",
    "tls_handshake_exceeded",
    "revalidate_count",
];

/// Summaries printed as avg/min/max/cnt/sum, in Java's order: fsynctime
/// (the core's) and those [`metrics::summary`] knows are real; the rest
/// are placeholders (0.0/0/0/0/0).
const MNTR_BASIC_SUMMARIES: [&str; 41] = [
    "socket_closing_time",
    "proposal_process_time",
    "leader_unavailable_time",
    "node_created_watch_count",
    "session_queues_drained",
    "write_commit_proc_req_queued",
    "connection_token_deficit",
    "read_commit_proc_req_queued",
    "node_deleted_watch_count",
    "startup_txns_load_time",
    "sync_processor_queue_size",
    "follower_sync_time",
    "prep_processor_queue_size",
    "fsynctime",
    "inflight_snap_count",
    "reads_issued_from_session_queue",
    "learner_request_processor_queue_size",
    "snapshottime",
    "unavailable_time",
    "startup_txns_loaded",
    "reads_after_write_in_session_queue",
    "requests_in_session_queue",
    "write_commit_proc_issued",
    "prep_process_time",
    "pending_session_queue_size",
    "time_waiting_empty_pool_in_commit_processor_read_ms",
    "commit_process_time",
    "dbinittime",
    "inflight_diff_count",
    "netty_queued_buffer_capacity",
    "election_time",
    "commit_commit_proc_req_queued",
    "sync_processor_batch_size",
    "node_children_watch_count",
    "write_batch_time_in_commit_processor",
    "read_commit_proc_issued",
    "concurrent_request_processing_in_commit_processor",
    "observer_sync_time",
    "node_changed_watch_count",
    "sync_process_time",
    "startup_snap_load_time",
];

/// Summaries that add p50/p95/p99/p999, in Java's order: those
/// [`metrics::summary`] knows are real, the rest placeholders.
const MNTR_SUMMARIES: [&str; 23] = [
    "prep_processor_queue_time_ms",
    "jvm_pause_time_ms",
    "close_session_prep_time",
    "read_commitproc_time_ms",
    "updatelatency",
    "local_write_committed_time_ms",
    "request_throttle_queue_time_ms",
    "readlatency",
    "quorum_ack_latency",
    "om_commit_process_time_ms",
    "read_final_proc_time_ms",
    "commit_propagation_latency",
    "dead_watchers_cleaner_latency",
    "write_final_proc_time_ms",
    "proposal_ack_creation_latency",
    "proposal_latency",
    "om_proposal_process_time_ms",
    "sync_processor_queue_and_flush_time_ms",
    "propagation_latency",
    "server_write_committed_time_ms",
    "sync_processor_queue_time_ms",
    "sync_processor_queue_flush_time_ms",
    "write_commitproc_time_ms",
];

/// MonitorCommand: `zk_<key>\t<value>` lines, in the layout of Java
/// 3.8.0's standalone server, follower or leader (`info.mode`).
///
/// Computed: version, server_state, ephemerals_count, num_alive_connections,
/// packets_sent/received, znode_count, watch_count (both tables, as Java's
/// DataTree.getWatchCount), global_sessions, approximate_data_size, uptime,
/// open/max_file_descriptor_count (/proc/self/fd, the soft RLIMIT_NOFILE).
/// True by construction: avg/min/max_latency (0: answered synchronously),
/// outstanding_requests 0, local_sessions 0, connection_drop_probability
/// 0.0 (no throttling), outstanding_tls_handshake and non_mtls_* 0 (no TLS).
///
/// A quorum peer adds peer_state (an observer then observer_master_id;
/// peer_state is always "... - broadcast": rzk serves
/// only once synced), quorum_size (the voters), and the
/// `zookeeper` namespace's write summary: the writes of /zookeeper/config
/// (Java's only per-namespace writes before clients write). A leader adds
/// its ZAB gauges from [`Counters::leader`] (synced_non_voting_followers is
/// 0: rzk has no reconfig) and, per learner sid, the
/// `learner_handler_qp_size` and `learner_handler_qp_time_ms` summaries
/// (placeholders).
///
/// Counters and summaries measured as Java 3.8.0 does, where it does, in
/// its units (ms), process-wide ([`metrics`]): looking_count,
/// election_time, unavailable_time, leader_unavailable_time,
/// follower/observer_sync_time, learner_proposal/commit_received_count,
/// proposal_latency, commit_propagation_latency (a learner's),
/// proposal_count, commit_count, quorum_ack_latency (a leader's),
/// diff_count, snap_count, dbinittime and startup_snap_load_time,
/// startup_txns_loaded, startup_txns_load_time (the startup load, and a
/// TRUNC's); from the core, digest_mismatches_count and fsynctime.
/// om_proposal/commit_process_time_ms stay 0, as in Java without an
/// ObserverMaster (rzk has none).
///
/// Placeholders rzk does not track yet: auth_failed_count (0),
/// last/min/max_client_response_size (-1, Java's value before any
/// response), the other counters in [`MNTR_COUNTERS`] (0) and summaries in
/// [`MNTR_BASIC_SUMMARIES`] and [`MNTR_SUMMARIES`] (0.0 avg, 0 otherwise),
/// among them those of Java's request processor pipeline
/// (prep/sync/commit/final processor times and queue sizes), which rzk's
/// pipeline does not have stage for stage.
/// Java's per-namespace `zk_*_{read,write}_per_namespace` summaries of
/// client traffic are not printed.
fn mntr(o: &mut String, core: &Core, info: &StaticInfo, counters: &Counters, now: Now) {
    for (k, v) in mntr_values(core, info, counters, now, true) {
        writeln!(o, "zk_{k}\t{v}").unwrap();
    }
}

/// The monitor values in Java's order, keys without `zk_`: the 4lw `mntr`
/// prints them as text, the AdminServer's `monitor` as typed JSON.
/// `asker`: the asking client-port connection counts as alive (4lw).
pub fn mntr_values(
    core: &Core,
    info: &StaticInfo,
    counters: &Counters,
    now: Now,
    asker: bool,
) -> Vec<(String, Val)> {
    let mut out: Vec<(String, Val)> = Vec::new();
    let mut line = |k: &str, v: Val| out.push((k.to_owned(), v));
    line("version", Val::Str(info.version.clone()));
    line("server_state", Val::Str(info.mode().to_owned()));
    let quorum = !info.mode.is_empty();
    let leading = info.mode == "leader";
    if quorum {
        // QuorumPeer.getDetailedPeerState: "leading", "following", ...
        let state = match info.mode.as_str() {
            "leader" => "leading",
            "observer" => "observing",
            _ => "following",
        };
        line("peer_state", Val::Str(format!("{state} - broadcast")));
    }
    // ObserverZooKeeperServer.dumpMonitorValues.
    if info.mode == "observer" {
        line("observer_master_id", info.leader_id.into());
    }
    let gauges: &[&str] = match info.mode.as_str() {
        "" => &MNTR_GAUGES,
        "leader" => &MNTR_LEADER_GAUGES,
        _ => &MNTR_FOLLOWER_GAUGES,
    };
    let lg = counters.leader.clone().unwrap_or_default();
    let (last_prop, min_prop, max_prop) = lg.proposal_sizes();
    let (open_fds, max_fds) = fd_counts();
    for &g in gauges {
        let v: Val = match g {
            "ephemerals_count" => Val::from(core.tree().ephemeral_count()),
            "num_alive_connections" => Val::from(core.conns.len() + usize::from(asker)),
            "avg_latency" | "connection_drop_probability" => Val::Float(0.0),
            "znode_count" => Val::from(node_count(core)),
            "global_sessions" => Val::from(core.sessions.len()),
            "packets_sent" => Val::from(sent(core, counters)),
            "packets_received" => Val::from(received(core, counters)),
            "watch_count" => Val::from(core.db().watches().total()),
            "approximate_data_size" => Val::from(core.tree().approximate_data_size()),
            "uptime" => Val::from((now.mono_ms - core.started.mono_ms).max(0)),
            "open_file_descriptor_count" => Val::from(open_fds),
            "max_file_descriptor_count" => Val::from(max_fds),
            "last_client_response_size"
            | "max_client_response_size"
            | "min_client_response_size" => Val::Int(-1),
            "quorum_size" => Val::from(info.quorum_size),
            "learners" => Val::from(lg.learners),
            "synced_followers" => Val::from(lg.synced_followers),
            "synced_non_voting_followers" => Val::from(lg.synced_non_voting_followers),
            "synced_observers" => Val::from(lg.synced_observers),
            "pending_syncs" => Val::from(lg.pending_syncs),
            "leader_uptime" => Val::from(lg.uptime_ms.max(0)),
            "last_proposal_size" => Val::from(last_prop),
            "min_proposal_size" => Val::from(min_prop),
            "max_proposal_size" => Val::from(max_prop),
            _ => Val::Int(0),
        };
        line(g, v);
    }
    for c in MNTR_COUNTERS {
        let v = match c {
            "digest_mismatches_count" => core.stats.digest_mismatches,
            _ => metrics::counter(c).unwrap_or(0),
        };
        line(c, v.into());
    }
    for s in MNTR_BASIC_SUMMARIES {
        if s == "fsynctime" {
            fsync_summary(&mut line, core);
        } else {
            summary(&mut line, s, false);
        }
    }
    for s in MNTR_SUMMARIES {
        summary(&mut line, s, true);
    }
    // Summary sets, keyed by learner sid or namespace: the basic ones
    // (learner_handler_qp_size, then write_per_namespace), then those
    // with percentiles (learner_handler_qp_time_ms).
    let sids = if leading {
        java_string_set_order_owned(lg.learner_sids.iter().map(u64::to_string).collect())
    } else {
        Vec::new()
    };
    for sid in &sids {
        summary(&mut line, &format!("{sid}_learner_handler_qp_size"), false);
    }
    if quorum {
        config_write_summary(&mut line);
    }
    for sid in &sids {
        summary(
            &mut line,
            &format!("{sid}_learner_handler_qp_time_ms"),
            true,
        );
    }
    out
}

/// The `zookeeper` namespace's write_per_namespace summary: the bytes of
/// each /zookeeper/config write (none printed before the first).
fn config_write_summary(line: &mut impl FnMut(&str, Val)) {
    use crate::quorum::metrics::{
        CONFIG_WRITES, CONFIG_WRITE_BYTES, CONFIG_WRITE_MAX, CONFIG_WRITE_MIN,
    };
    let count = CONFIG_WRITES.load(Ordering::Relaxed);
    if count == 0 {
        return;
    }
    let total = CONFIG_WRITE_BYTES.load(Ordering::Relaxed);
    let name = "zookeeper_write_per_namespace";
    line(
        &format!("avg_{name}"),
        Val::Float(java_avg_f64(total as i64, count as i64)),
    );
    line(
        &format!("min_{name}"),
        CONFIG_WRITE_MIN.load(Ordering::Relaxed).into(),
    );
    line(
        &format!("max_{name}"),
        CONFIG_WRITE_MAX.load(Ordering::Relaxed).into(),
    );
    line(&format!("cnt_{name}"), count.into());
    line(&format!("sum_{name}"), total.into());
}

/// The txn log's fsync times, in ms as Java reports them.
fn fsync_summary(line: &mut impl FnMut(&str, Val), core: &Core) {
    let st = &core.stats;
    let avg = if st.fsync_count == 0 {
        0.0
    } else {
        st.fsync_total_us as f64 / st.fsync_count as f64 / 1000.0
    };
    line(
        "avg_fsynctime",
        Val::Float((avg * 10_000.0).round() / 10_000.0),
    );
    line("min_fsynctime", (st.fsync_min_us / 1000).into());
    line("max_fsynctime", (st.fsync_max_us / 1000).into());
    line("cnt_fsynctime", st.fsync_count.into());
    line("sum_fsynctime", (st.fsync_total_us / 1000).into());
}

/// A summary's lines: the process-wide one of that name
/// ([`metrics::summary`]), or an empty one where rzk keeps none.
fn summary(line: &mut impl FnMut(&str, Val), name: &str, percentiles: bool) {
    let v = metrics::summary(name)
        .map(|s| s.values())
        .unwrap_or_default();
    summary_lines(line, name, &v, percentiles);
}

/// AvgMinMaxCounter.values (then AvgMinMaxPercentileCounter's p50, p95,
/// p99, p999 with `percentiles`): avg_, min_, max_, cnt_, sum_.
fn summary_lines(
    line: &mut impl FnMut(&str, Val),
    name: &str,
    v: &metrics::SummaryValues,
    percentiles: bool,
) {
    line(
        &format!("avg_{name}"),
        Val::Float(java_avg_f64(v.total, v.count)),
    );
    line(&format!("min_{name}"), v.min.into());
    line(&format!("max_{name}"), v.max.into());
    line(&format!("cnt_{name}"), v.count.into());
    line(&format!("sum_{name}"), v.total.into());
    if percentiles {
        let ps = v.percentiles.unwrap_or_default();
        for (p, x) in ["p50", "p95", "p99", "p999"].iter().zip(ps) {
            line(&format!("{p}_{name}"), x.into());
        }
    }
}

/// (open, max) file descriptors of this process.
pub(crate) fn fd_counts() -> (u64, u64) {
    let open = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64);
    let max = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l["Max open files".len()..].split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0);
    (open, max)
}

/// Java's Double.toString for the values these commands print: at least
/// one digit after the point, scientific notation outside [1e-3, 1e7).
pub fn java_double(v: f64) -> String {
    if v == 0.0 {
        return if v.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    if !v.is_finite() {
        return if v.is_nan() {
            "NaN".into()
        } else if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let a = v.abs();
    if (1e-3..1e7).contains(&a) {
        let s = format!("{v}");
        if s.contains('.') {
            s
        } else {
            s + ".0"
        }
    } else {
        // Rust: "1.5e-5" / "1e7"; Java: "1.5E-5" / "1.0E7".
        let s = format!("{v:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = if mant.contains('.') {
            mant.to_owned()
        } else {
            format!("{mant}.0")
        };
        format!("{mant}E{exp}")
    }
}

/// AvgMinMaxCounter.getAvg: the mean rounded half-up to 4 places.
pub fn java_avg(total: i64, count: i64) -> String {
    java_double(java_avg_f64(total, count))
}

/// [`java_avg`] as a number.
pub fn java_avg_f64(total: i64, count: i64) -> f64 {
    if count <= 0 {
        return 0.0;
    }
    (total as f64 / count as f64 * 10_000.0).round() / 10_000.0
}

/// A reported value: the 4lw texts print it, the AdminServer's JSON keeps
/// its type (Java's Long, Double, String).
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Int(i64),
    Float(f64),
    Str(String),
}

impl std::fmt::Display for Val {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Val::Int(i) => write!(f, "{i}"),
            Val::Float(x) => f.write_str(&java_double(*x)),
            Val::Str(s) => f.write_str(s),
        }
    }
}

macro_rules! val_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Val {
            fn from(v: $t) -> Val {
                Val::Int(v as i64)
            }
        }
    )*};
}
val_from_int!(i32, i64, u32, u64, usize);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::proto::{
        ConnectRequest, CreateRequest, ExistsRequest, GetDataRequest, RequestHeader,
    };
    use crate::jute::JuteField;
    use crate::proto::op;
    use crate::server::core::CoreConfig;
    use crate::tree::DataTree;
    use bytes::{BufMut, Bytes, BytesMut};

    const WALL0: i64 = 1_795_300_857_000;

    fn at(mono_ms: i64) -> Now {
        Now {
            mono_ms,
            wall_ms: WALL0 + mono_ms,
        }
    }

    fn core() -> Core {
        Core::new(CoreConfig::default(), DataTree::new(false), at(1000))
    }

    fn enc<T: JuteField>(r: &T) -> Bytes {
        let mut b = BytesMut::new();
        r.write(&mut b);
        b.freeze()
    }

    /// Opens connection `conn` and gives it a new session.
    fn session(core: &mut Core, conn: ConnId, port: u16, timeout: i32, now: Now) -> i64 {
        core.open(conn, format!("127.0.0.1:{port}").parse().unwrap(), now);
        let req = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            time_out: timeout,
            session_id: 0,
            passwd: Some(Bytes::from_static(&[0; 16])),
        };
        core.connect(conn, enc(&req), now);
        core.commit_in_memory(now);
        core.take_output();
        core.conns[&conn].session
    }

    fn request<T: JuteField>(
        core: &mut Core,
        conn: ConnId,
        xid: i32,
        type_: i32,
        body: &T,
        now: Now,
    ) {
        let mut b = BytesMut::new();
        RequestHeader { xid, type_ }.write(&mut b);
        b.put_slice(&enc(body));
        core.request(conn, b.freeze(), now);
        core.commit_in_memory(now);
        core.take_output();
    }

    fn create(core: &mut Core, conn: ConnId, xid: i32, path: &str, flags: i32, now: Now) {
        let req = CreateRequest {
            path: path.into(),
            data: Some(Bytes::from_static(b"hi")),
            acl: crate::acl::open_acl_unsafe(),
            flags,
        };
        request(core, conn, xid, op::CREATE, &req, now);
    }

    /// Two sessions with data and child watches and ephemerals.
    fn populated() -> (Core, i64, i64) {
        let mut c = core();
        let a = session(&mut c, 1, 40001, 30_000, at(2000));
        let b = session(&mut c, 2, 40002, 10_000, at(2100));
        create(&mut c, 1, 1, "/a", 0, at(2200));
        create(&mut c, 1, 2, "/e1", 1, at(2300));
        create(&mut c, 2, 1, "/e2", 1, at(2400));
        let get = |path: &str| GetDataRequest {
            path: path.into(),
            watch: true,
        };
        request(&mut c, 1, 3, op::GET_DATA, &get("/a"), at(2500));
        request(&mut c, 2, 2, op::GET_DATA, &get("/a"), at(2600));
        let ex = ExistsRequest {
            path: "/nonexist".into(),
            watch: true,
        };
        request(&mut c, 1, 4, op::EXISTS, &ex, at(2700));
        // A child watch, which Java's wchs/wchc/wchp do not report.
        let ch = crate::jute::proto::GetChildrenRequest {
            path: "/".into(),
            watch: true,
        };
        request(&mut c, 2, 3, op::GET_CHILDREN, &ch, at(2800));
        (c, a, b)
    }

    fn ask(core: &mut Core, counters: &mut Counters, cmd: &str, now: Now) -> String {
        let asker = Asker {
            remote: Some("127.0.0.1:50000".parse().unwrap()),
            trace_mask: None,
        };
        run_for(cmd, &asker, core, &StaticInfo::default(), counters, now)
    }

    #[test]
    fn srvr_matches_java_layout() {
        let (mut c, _, _) = populated();
        let mut k = Counters::default();
        let info = StaticInfo {
            version: "3.8.0-rzk, built on x".into(),
            ..Default::default()
        };
        let out = run("srvr", &mut c, &info, &mut k, at(3000));
        // 2 connects + 3 creates + 4 reads; the srvr itself counts too.
        assert_eq!(
            out,
            "Zookeeper version: 3.8.0-rzk, built on x\n\
             Latency min/avg/max: 0/0.0/0\n\
             Received: 10\n\
             Sent: 9\n\
             Connections: 3\n\
             Outstanding: 0\n\
             Zxid: 0x5\n\
             Mode: standalone\n\
             Node count: 8\n"
        );
    }

    #[test]
    fn stat_lists_clients_then_stats() {
        let (mut c, _, _) = populated();
        let mut k = Counters::default();
        let out = ask(&mut c, &mut k, "stat", at(3000));
        let (head, rest) = out.split_once("\n\n").unwrap();
        assert_eq!(
            head,
            "Zookeeper version: \n\
             Clients:\n \
             /127.0.0.1:40001[1](queued=0,recved=5,sent=5)\n \
             /127.0.0.1:40002[1](queued=0,recved=4,sent=4)\n \
             /127.0.0.1:50000[0](queued=0,recved=1,sent=0)"
        );
        assert!(rest.starts_with("Latency min/avg/max: 0/0.0/0\nReceived: 10\n"));
        assert!(
            rest.contains("\nMode: standalone\nNode count: 8\n"),
            "{rest}"
        );
    }

    #[test]
    fn cons_lines_follow_dump_connection_info() {
        let (mut c, a, _) = populated();
        c.open(9, "[::1]:7".parse().unwrap(), at(2900));
        let mut k = Counters::default();
        let out = ask(&mut c, &mut k, "cons", at(3000));
        let lines: Vec<&str> = out.split('\n').collect();
        assert_eq!(
            lines[0],
            format!(
                " /127.0.0.1:40001[1](queued=0,recved=5,sent=5,sid=0x{a:x},lop=EXIS,\
                 est={},to=30000,lcxid=0x4,lzxid=0x5,lresp=2700,llat=0,minlat=0,avglat=0,maxlat=0)",
                WALL0 + 2000
            )
        );
        // Connected but no handshake yet: the brief form.
        assert_eq!(lines[2], " /0:0:0:0:0:0:0:1:7[1](queued=0,recved=0,sent=0)");
        assert_eq!(lines[3], " /127.0.0.1:50000[0](queued=0,recved=1,sent=0)");
        assert_eq!(&lines[4..], ["", ""]);
    }

    #[test]
    fn cons_omits_negative_cxid_and_crst_resets() {
        let mut c = core();
        let s = session(&mut c, 1, 40001, 30_000, at(2000));
        let mut k = Counters::default();
        let out = run("cons", &mut c, &StaticInfo::default(), &mut k, at(2500));
        assert!(out.contains(&format!("sid=0x{s:x},lop=SESS,")), "{out}");
        assert!(out.contains(",lcxid=0x0,lzxid=0x1,lresp=2000,"), "{out}");
        assert_eq!(
            run("crst", &mut c, &StaticInfo::default(), &mut k, at(2600)),
            "Connection stats reset.\n"
        );
        let out = run("cons", &mut c, &StaticInfo::default(), &mut k, at(2700));
        assert!(
            out.contains("recved=0,sent=0,sid=")
                && out.contains(",lop=NA,")
                && !out.contains("lcxid")
                && out.contains(",lzxid=0xffffffffffffffff,lresp=0,"),
            "{out}"
        );
    }

    #[test]
    fn srst_resets_packet_counts() {
        let (mut c, _, _) = populated();
        let mut k = Counters::default();
        let info = StaticInfo::default();
        assert_eq!(
            run("srst", &mut c, &info, &mut k, at(3000)),
            "Server stats reset.\n"
        );
        // srst's own output is the one packet sent since.
        let out = run("srvr", &mut c, &info, &mut k, at(3000));
        assert!(out.contains("\nReceived: 1\nSent: 1\n"), "{out}");
        // A second reset starts from zero again.
        run("srst", &mut c, &info, &mut k, at(3000));
        let out = run("srvr", &mut c, &info, &mut k, at(3000));
        assert!(out.contains("\nReceived: 1\nSent: 1\n"), "{out}");
        // Output goes out in 8192-character chunks, each a packet; `hash`
        // writes nothing.
        let mntr = run("mntr", &mut c, &info, &mut k, at(3000));
        run("hash", &mut c, &info, &mut k, at(3000));
        let out = run("srvr", &mut c, &info, &mut k, at(3000));
        let sent = 2 + mntr.len().div_ceil(8192);
        assert!(
            out.contains(&format!("\nReceived: 4\nSent: {sent}\n")),
            "{out}"
        );
    }

    #[test]
    fn watch_words_report_the_data_table_only() {
        let (mut c, a, b) = populated();
        let mut k = Counters::default();
        assert_eq!(
            ask(&mut c, &mut k, "wchs", at(3000)),
            "2 connections watching 2 paths\nTotal watches:3\n"
        );
        let wchc = ask(&mut c, &mut k, "wchc", at(3000));
        let mut first = vec!["/a", "/nonexist"];
        first = java_string_set_order(first, 16);
        assert_eq!(
            wchc,
            format!("0x{a:x}\n\t{}\n\t{}\n0x{b:x}\n\t/a\n\n", first[0], first[1])
        );
        let wchp = ask(&mut c, &mut k, "wchp", at(3000));
        let order = java_string_set_order(vec!["/a", "/nonexist"], 16);
        let expect: String = order
            .iter()
            .map(|p| match *p {
                "/a" => format!("/a\n\t0x{a:x}\n\t0x{b:x}\n"),
                _ => format!("/nonexist\n\t0x{a:x}\n"),
            })
            .collect::<String>()
            + "\n";
        assert_eq!(wchp, expect);
    }

    #[test]
    fn dump_has_expiry_sets_ephemerals_and_connections() {
        let (mut c, a, b) = populated();
        let mut k = Counters::default();
        let now = at(3000);
        let out = ask(&mut c, &mut k, "dump", now);
        // Session expiry: last touch + timeout, rounded up to the 2000ms tick.
        let date = |mono: i64| java_date(WALL0 + mono);
        let eph_order = java_concurrent_map_order(vec![a, b]);
        let eph = |id: i64| {
            if id == a {
                format!("0x{a:x}:\n\t/e1\n")
            } else {
                format!("0x{b:x}:\n\t/e2\n")
            }
        };
        let expect = format!(
            "SessionTracker dump:\n\
             Session Sets (2)/(2):\n\
             1 expire at {}:\n\t0x{b:x}\n\
             1 expire at {}:\n\t0x{a:x}\n\
             ephemeral nodes dump:\n\
             Sessions with Ephemerals (2):\n{}{}\
             Connections dump:\n\
             Connections Sets (2)/(3):\n\
             2 expire at {}:\n\
             \tip: /127.0.0.1:40002 sessionId: 0x{b:x}\n\
             \tip: /127.0.0.1:50000 sessionId: 0x0\n\
             1 expire at {}:\n\
             \tip: /127.0.0.1:40001 sessionId: 0x{a:x}\n",
            date(14_000),
            date(34_000),
            eph(eph_order[0]),
            eph(eph_order[1]),
            date(20_000),
            date(40_000),
        );
        assert_eq!(out, expect);
    }

    #[test]
    fn mntr_keys_and_order_match_java() {
        let (mut c, _, _) = populated();
        let mut k = Counters::default();
        let out = ask(&mut c, &mut k, "mntr", at(5000));
        let lines: Vec<(&str, &str)> = out
            .lines()
            .map(|l| l.split_once('\t').expect("key\\tvalue"))
            .collect();
        assert_eq!(lines.len(), 2 + 24 + 47 + 41 * 5 + 23 * 9);
        let keys: Vec<&str> = lines.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            &keys[..8],
            [
                "zk_version",
                "zk_server_state",
                "zk_ephemerals_count",
                "zk_num_alive_connections",
                "zk_avg_latency",
                "zk_outstanding_requests",
                "zk_znode_count",
                "zk_global_sessions",
            ]
        );
        assert_eq!(keys[26], "zk_proposal_count");
        assert_eq!(keys[73], "zk_avg_socket_closing_time");
        assert_eq!(
            &keys[keys.len() - 9..keys.len() - 4],
            [
                "zk_avg_write_commitproc_time_ms",
                "zk_min_write_commitproc_time_ms",
                "zk_max_write_commitproc_time_ms",
                "zk_cnt_write_commitproc_time_ms",
                "zk_sum_write_commitproc_time_ms",
            ]
        );
        let v = |key: &str| lines.iter().find(|(k, _)| *k == key).unwrap().1;
        assert_eq!(v("zk_server_state"), "standalone");
        assert_eq!(v("zk_ephemerals_count"), "2");
        assert_eq!(v("zk_num_alive_connections"), "3");
        assert_eq!(v("zk_avg_latency"), "0.0");
        assert_eq!(v("zk_znode_count"), "8");
        assert_eq!(v("zk_watch_count"), "4");
        assert_eq!(v("zk_global_sessions"), "2");
        assert_eq!(v("zk_uptime"), "4000");
        assert_eq!(v("zk_packets_received"), "10");
        assert_eq!(v("zk_min_client_response_size"), "-1");
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len());
    }

    /// Keys before the counters of a Java 3.8.0 leader's mntr (3 ensemble
    /// members, sids 1 and 3 following), as it printed them.
    const JAVA_LEADER_HEAD: &str = "version server_state peer_state ephemerals_count \
        num_alive_connections avg_latency min_proposal_size outstanding_requests znode_count \
        global_sessions non_mtls_remote_conn_count last_client_response_size packets_sent \
        packets_received max_proposal_size max_client_response_size synced_followers \
        connection_drop_probability watch_count synced_non_voting_followers synced_observers \
        auth_failed_count min_latency max_file_descriptor_count approximate_data_size \
        open_file_descriptor_count last_proposal_size pending_syncs leader_uptime local_sessions \
        uptime max_latency outstanding_tls_handshake learners min_client_response_size \
        non_mtls_local_conn_count quorum_size";

    /// The same leader's keys after zk_p999_write_commitproc_time_ms.
    const JAVA_LEADER_TAIL: &str = "avg_1_learner_handler_qp_size min_1_learner_handler_qp_size \
        max_1_learner_handler_qp_size cnt_1_learner_handler_qp_size \
        sum_1_learner_handler_qp_size avg_3_learner_handler_qp_size \
        min_3_learner_handler_qp_size max_3_learner_handler_qp_size \
        cnt_3_learner_handler_qp_size sum_3_learner_handler_qp_size \
        avg_zookeeper_write_per_namespace min_zookeeper_write_per_namespace \
        max_zookeeper_write_per_namespace cnt_zookeeper_write_per_namespace \
        sum_zookeeper_write_per_namespace avg_1_learner_handler_qp_time_ms \
        min_1_learner_handler_qp_time_ms max_1_learner_handler_qp_time_ms \
        cnt_1_learner_handler_qp_time_ms sum_1_learner_handler_qp_time_ms \
        p50_1_learner_handler_qp_time_ms p95_1_learner_handler_qp_time_ms \
        p99_1_learner_handler_qp_time_ms p999_1_learner_handler_qp_time_ms \
        avg_3_learner_handler_qp_time_ms min_3_learner_handler_qp_time_ms \
        max_3_learner_handler_qp_time_ms cnt_3_learner_handler_qp_time_ms \
        sum_3_learner_handler_qp_time_ms p50_3_learner_handler_qp_time_ms \
        p95_3_learner_handler_qp_time_ms p99_3_learner_handler_qp_time_ms \
        p999_3_learner_handler_qp_time_ms";

    /// A Java 3.8.0 follower's keys before the counters.
    const JAVA_FOLLOWER_HEAD: &str = "version server_state peer_state ephemerals_count \
        num_alive_connections avg_latency outstanding_requests znode_count global_sessions \
        non_mtls_remote_conn_count last_client_response_size packets_sent packets_received \
        max_client_response_size connection_drop_probability watch_count auth_failed_count \
        min_latency max_file_descriptor_count approximate_data_size open_file_descriptor_count \
        local_sessions uptime max_latency outstanding_tls_handshake min_client_response_size \
        non_mtls_local_conn_count quorum_size";

    fn zk_keys(words: &str) -> Vec<String> {
        words
            .split_whitespace()
            .map(|k| format!("zk_{k}"))
            .collect()
    }

    fn mntr_lines(out: &str) -> Vec<(&str, &str)> {
        out.lines()
            .map(|l| l.split_once('\t').expect("key\\tvalue"))
            .collect()
    }

    fn leader_info() -> StaticInfo {
        StaticInfo {
            version: "v".into(),
            mode: "leader".into(),
            quorum_size: 3,
            ..Default::default()
        }
    }

    fn leader_gauges() -> LeaderGauges {
        LeaderGauges {
            learners: 2,
            synced_followers: 2,
            synced_non_voting_followers: 0,
            synced_observers: 0,
            pending_syncs: 1,
            uptime_ms: 16_469,
            proposal_sizes: Some((59, 48, 114)),
            learner_sids: vec![3, 1],
        }
    }

    #[test]
    fn leader_mntr_has_javas_keys_and_zab_values() {
        // Java prints the config node's write once a peer has loaded it.
        crate::quorum::metrics::config_written(203);
        let (mut c, _, _) = populated();
        let mut k = Counters {
            leader: Some(leader_gauges()),
            ..Default::default()
        };
        let out = run_for(
            "mntr",
            &Asker::default(),
            &mut c,
            &leader_info(),
            &mut k,
            at(5000),
        );
        let lines = mntr_lines(&out);
        let keys: Vec<String> = lines.iter().map(|(k, _)| k.to_string()).collect();
        let head = zk_keys(JAVA_LEADER_HEAD);
        let tail = zk_keys(JAVA_LEADER_TAIL);
        assert_eq!(keys[..head.len()], head[..]);
        assert_eq!(keys[keys.len() - tail.len()..], tail[..]);
        // Between them: the counters and summaries of a standalone server.
        assert_eq!(keys.len(), head.len() + 47 + 41 * 5 + 23 * 9 + tail.len());
        assert_eq!(keys[head.len()], "zk_proposal_count");
        let v = |key: &str| lines.iter().find(|(k, _)| *k == key).unwrap().1;
        let expect = [
            ("zk_server_state", "leader"),
            ("zk_peer_state", "leading - broadcast"),
            ("zk_min_proposal_size", "48"),
            ("zk_max_proposal_size", "114"),
            ("zk_last_proposal_size", "59"),
            ("zk_synced_followers", "2"),
            ("zk_synced_non_voting_followers", "0"),
            ("zk_synced_observers", "0"),
            ("zk_pending_syncs", "1"),
            ("zk_leader_uptime", "16469"),
            ("zk_learners", "2"),
            ("zk_quorum_size", "3"),
            ("zk_avg_1_learner_handler_qp_size", "0.0"),
            ("zk_p999_3_learner_handler_qp_time_ms", "0"),
        ];
        for (key, val) in expect {
            assert_eq!(v(key), val, "{key}");
        }
        // Process-wide, as Java's metrics: other tests may write too.
        assert_ne!(v("zk_cnt_zookeeper_write_per_namespace"), "0");
        // Before the first proposal, and without gauges: Java's -1s and 0s.
        k.leader = None;
        let out = run_for(
            "mntr",
            &Asker::default(),
            &mut c,
            &leader_info(),
            &mut k,
            at(5000),
        );
        let lines = mntr_lines(&out);
        let v = |key: &str| lines.iter().find(|(k, _)| *k == key).unwrap().1;
        assert_eq!(v("zk_last_proposal_size"), "-1");
        assert_eq!(v("zk_min_proposal_size"), "-1");
        assert_eq!(v("zk_learners"), "0");
        assert!(!out.contains("learner_handler"), "{out}");
    }

    #[test]
    fn a_summary_prints_as_javas_avg_min_max_percentile_counter() {
        let mut out = String::new();
        let mut line = |k: &str, v: Val| writeln!(out, "zk_{k}\t{v}").unwrap();
        let basic = metrics::Summary::basic();
        for v in [3, 4, 3] {
            basic.add(v);
        }
        summary_lines(&mut line, "election_time", &basic.values(), false);
        let adv = metrics::Summary::advanced();
        for v in 1..=100 {
            adv.add(v);
        }
        summary_lines(&mut line, "quorum_ack_latency", &adv.values(), true);
        assert_eq!(
            out,
            "zk_avg_election_time\t3.3333\nzk_min_election_time\t3\n\
             zk_max_election_time\t4\nzk_cnt_election_time\t3\nzk_sum_election_time\t10\n\
             zk_avg_quorum_ack_latency\t50.5\nzk_min_quorum_ack_latency\t1\n\
             zk_max_quorum_ack_latency\t100\nzk_cnt_quorum_ack_latency\t100\n\
             zk_sum_quorum_ack_latency\t5050\nzk_p50_quorum_ack_latency\t51\n\
             zk_p95_quorum_ack_latency\t96\nzk_p99_quorum_ack_latency\t100\n\
             zk_p999_quorum_ack_latency\t100\n"
        );
    }

    #[test]
    fn mntr_prints_the_process_wide_quorum_metrics() {
        metrics::LOOKING_COUNT.fetch_add(2, Ordering::Relaxed);
        metrics::ELECTION_TIME.add(250);
        metrics::COMMIT_PROPAGATION_LATENCY.add(7);
        let (mut c, _, _) = populated();
        let mut k = Counters::default();
        let info = StaticInfo {
            version: "v".into(),
            mode: "follower".into(),
            quorum_size: 3,
            ..Default::default()
        };
        let out = run_for("mntr", &Asker::default(), &mut c, &info, &mut k, at(5000));
        let lines = mntr_lines(&out);
        let v = |key: &str| -> i64 {
            let s = lines.iter().find(|(k, _)| *k == key).unwrap().1;
            s.parse().unwrap_or_else(|_| panic!("{key}: {s}"))
        };
        // Process-wide, as Java's metrics: other tests may add too.
        assert!(v("zk_looking_count") >= 2);
        assert!(v("zk_cnt_election_time") >= 1);
        assert!(v("zk_sum_election_time") >= 250);
        assert!(v("zk_max_election_time") >= 250);
        assert!(v("zk_cnt_commit_propagation_latency") >= 1);
        assert!(v("zk_p999_commit_propagation_latency") >= 0);
        let avg = lines
            .iter()
            .find(|(k, _)| *k == "zk_avg_election_time")
            .unwrap()
            .1;
        assert!(
            avg.contains('.') && avg.parse::<f64>().unwrap() > 0.0,
            "{avg}"
        );
        // Still placeholders.
        assert_eq!(v("zk_throttled_ops"), 0);
        assert_eq!(v("zk_cnt_prep_process_time"), 0);
    }

    #[test]
    fn follower_mntr_has_javas_keys() {
        crate::quorum::metrics::config_written(203);
        let (mut c, _, _) = populated();
        let mut k = Counters::default();
        let info = StaticInfo {
            version: "v".into(),
            mode: "follower".into(),
            quorum_size: 3,
            ..Default::default()
        };
        let out = run_for("mntr", &Asker::default(), &mut c, &info, &mut k, at(5000));
        let lines = mntr_lines(&out);
        let keys: Vec<String> = lines.iter().map(|(k, _)| k.to_string()).collect();
        let head = zk_keys(JAVA_FOLLOWER_HEAD);
        assert_eq!(keys[..head.len()], head[..]);
        let tail = zk_keys(
            "avg_zookeeper_write_per_namespace min_zookeeper_write_per_namespace \
             max_zookeeper_write_per_namespace cnt_zookeeper_write_per_namespace \
             sum_zookeeper_write_per_namespace",
        );
        assert_eq!(keys[keys.len() - 6], "zk_p999_write_commitproc_time_ms");
        assert_eq!(keys[keys.len() - 5..], tail[..]);
        assert_eq!(keys.len(), head.len() + 47 + 41 * 5 + 23 * 9 + 5);
        let v = |key: &str| lines.iter().find(|(k, _)| *k == key).unwrap().1;
        assert_eq!(v("zk_peer_state"), "following - broadcast");
        assert_eq!(v("zk_quorum_size"), "3");
        assert!(!out.contains("zk_synced_observers"), "{out}");
    }

    #[test]
    fn observer_mntr_names_its_master_after_peer_state() {
        let (mut c, _, _) = populated();
        let info = StaticInfo {
            version: "v".into(),
            mode: "observer".into(),
            quorum_size: 3,
            leader_id: 3,
            ..Default::default()
        };
        let out = run("mntr", &mut c, &info, &mut Counters::default(), at(5000));
        let head: Vec<&str> = out.lines().take(5).collect();
        // As a Java 3.8.0 observer of leader 3 printed them.
        assert_eq!(
            head,
            [
                "zk_version\tv",
                "zk_server_state\tobserver",
                "zk_peer_state\tobserving - broadcast",
                "zk_observer_master_id\t3",
                "zk_ephemerals_count\t2",
            ]
        );
        assert!(out.contains("\nzk_non_mtls_local_conn_count\t0\nzk_quorum_size\t3\n"));
    }

    #[test]
    fn leader_srvr_adds_proposal_sizes() {
        let (mut c, _, _) = populated();
        let info = StaticInfo {
            version: "3.8.0-rzk, built on x".into(),
            ..leader_info()
        };
        let mut k = Counters {
            leader: Some(leader_gauges()),
            ..Default::default()
        };
        let out = run("srvr", &mut c, &info, &mut k, at(3000));
        assert_eq!(
            out,
            "Zookeeper version: 3.8.0-rzk, built on x\n\
             Latency min/avg/max: 0/0.0/0\n\
             Received: 10\n\
             Sent: 9\n\
             Connections: 3\n\
             Outstanding: 0\n\
             Zxid: 0x5\n\
             Mode: leader\n\
             Node count: 8\n\
             Proposal sizes last/min/max: 59/48/114\n"
        );
        k.leader = Some(LeaderGauges::default());
        let out = run("stat", &mut c, &info, &mut k, at(3000));
        assert!(
            out.ends_with("Mode: leader\nNode count: 8\nProposal sizes last/min/max: -1/-1/-1\n"),
            "{out}"
        );
        // A follower prints no such line.
        let info = StaticInfo {
            mode: "follower".into(),
            ..info
        };
        let out = run("srvr", &mut c, &info, &mut k, at(3000));
        assert!(out.ends_with("Mode: follower\nNode count: 8\n"), "{out}");
    }

    #[test]
    fn small_words() {
        let mut c = core();
        let mut k = Counters::default();
        let info = StaticInfo::default();
        assert_eq!(run("ruok", &mut c, &info, &mut k, at(1)), "imok");
        assert_eq!(run("isro", &mut c, &info, &mut k, at(1)), "rw");
        assert_eq!(run("gtmk", &mut c, &info, &mut k, at(1)), "306");
        assert_eq!(run("stmk", &mut c, &info, &mut k, at(1)), "");
        let set = Asker {
            remote: None,
            trace_mask: Some(0x1f),
        };
        assert_eq!(run_for("stmk", &set, &mut c, &info, &mut k, at(1)), "31");
        assert_eq!(run("gtmk", &mut c, &info, &mut k, at(1)), "31");
        assert_eq!(run("hash", &mut c, &info, &mut k, at(1)), "");
        assert_eq!(
            run("dirs", &mut c, &info, &mut k, at(1)),
            "datadir_size: 0\nlogdir_size: 0\n"
        );
    }

    #[test]
    fn envi_keys_follow_java() {
        let mut c = core();
        let mut k = Counters::default();
        let info = StaticInfo {
            version: "v".into(),
            env: vec![
                ("host.name".into(), "h".into()),
                ("os.name".into(), "linux".into()),
                ("rzk.extra".into(), "x".into()),
            ],
            ..Default::default()
        };
        let out = run("envi", &mut c, &info, &mut k, at(1));
        let keys: Vec<&str> = out
            .lines()
            .skip(1)
            .map(|l| l.split_once('=').unwrap().0)
            .collect();
        assert_eq!(
            keys,
            [
                "zookeeper.version",
                "host.name",
                "java.version",
                "java.vendor",
                "java.home",
                "java.class.path",
                "java.library.path",
                "java.io.tmpdir",
                "java.compiler",
                "os.name",
                "os.arch",
                "os.version",
                "user.name",
                "user.home",
                "user.dir",
                "os.memory.free",
                "os.memory.max",
                "os.memory.total",
                "rzk.extra",
            ]
        );
        assert!(out.starts_with("Environment:\nzookeeper.version=v\nhost.name=h\n"));
        assert!(out
            .lines()
            .any(|l| l.starts_with("os.memory.total=") && l.ends_with("MB")));
    }

    #[test]
    fn dirs_measures_version_2() {
        let dir = std::env::temp_dir().join(format!("rzk-fourlw-dirs-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("version-2/sub")).unwrap();
        std::fs::write(dir.join("version-2/log.1"), [0u8; 100]).unwrap();
        std::fs::write(dir.join("version-2/sub/x"), [0u8; 7]).unwrap();
        std::fs::write(dir.join("outside"), [0u8; 1000]).unwrap();
        let info = StaticInfo {
            data_dir: dir.display().to_string(),
            data_log_dir: dir.display().to_string(),
            ..Default::default()
        };
        let mut c = core();
        let out = run("dirs", &mut c, &info, &mut Counters::default(), at(1));
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(out, "datadir_size: 107\nlogdir_size: 107\n");
    }

    #[test]
    fn java_formats() {
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(java_double(1.85), "1.85");
        assert_eq!(java_double(14.0), "14.0");
        assert_eq!(java_double(0.0001), "1.0E-4");
        assert_eq!(java_double(1.5e7), "1.5E7");
        assert_eq!(java_avg(0, 0), "0.0");
        assert_eq!(java_avg(10, 3), "3.3333");
        assert_eq!(java_avg(29, 8), "3.625");
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        // 2026-11-21T22:41:03Z
        assert_eq!(java_date(1_795_300_863_000), "Sat Nov 21 22:41:03 UTC 2026");
        assert_eq!(java_date(951_782_400_000), "Tue Feb 29 00:00:00 UTC 2000");
        assert_eq!(
            java_addr("[fe80::1:2]:9".parse().unwrap()),
            "/fe80:0:0:0:0:0:1:2:9"
        );
        assert_eq!(
            java_addr("[::ffff:10.0.0.1]:9".parse().unwrap()),
            "/10.0.0.1:9"
        );
    }

    #[test]
    fn host_name_is_canonicalised_through_etc_hosts() {
        let hosts = "# x\n127.0.0.1 localhost\n127.0.0.1 vm\n10.0.0.5 db1.example db1 # c\n";
        assert_eq!(canonical_host_name("vm", hosts), "localhost");
        assert_eq!(canonical_host_name("db1", hosts), "db1.example");
        assert_eq!(canonical_host_name("other", hosts), "other");
    }

    #[test]
    fn concurrent_map_order_is_by_spread_hash() {
        // Long.hashCode(1) = 1, (17) = 17: in a 16-bucket table 17 lands in bucket 1 too.
        assert_eq!(java_concurrent_map_order(vec![17, 2, 1]), vec![1, 17, 2]);
    }
}
