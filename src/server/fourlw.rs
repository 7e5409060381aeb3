//! Four-letter words on the client port (ruok, stat, mntr, ...).
//!
//! A connection whose first four bytes spell a known command gets that
//! command's text and is closed. Formats follow Java 3.8's command classes
//! closely enough for the tools that parse them.

use std::fmt::Write as _;

use crate::server::core::{Core, Now};

/// Facts about the server that do not change while it runs.
#[derive(Debug, Clone, Default)]
pub struct StaticInfo {
    pub version: String,
    /// The configuration, for `conf` (directory sizes are measured per request).
    pub config: Option<crate::config::ServerConfig>,
    /// `envi` lines after the version (key=value).
    pub env: Vec<(String, String)>,
    pub data_dir: String,
    pub data_log_dir: String,
    pub client_port: u16,
    pub max_client_cnxns: u32,
}

/// Counters that `srst`/`crst` reset.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    pub received_base: u64,
    pub sent_base: u64,
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

pub fn run(
    cmd: &str,
    core: &mut Core,
    info: &StaticInfo,
    counters: &mut Counters,
    now: Now,
) -> String {
    let mut o = String::new();
    match cmd {
        "ruok" => o.push_str("imok"),
        "isro" => o.push_str("rw"),
        "conf" => {
            if let Some(cfg) = &info.config {
                o.push_str(&cfg.conf_report());
            }
        }
        "envi" => {
            o.push_str("Environment:\n");
            writeln!(o, "zookeeper.version={}", info.version).ok();
            for (k, v) in &info.env {
                writeln!(o, "{k}={v}").ok();
            }
        }
        "srvr" | "stat" => {
            writeln!(o, "Zookeeper version: {}", info.version).ok();
            if cmd == "stat" {
                o.push_str("Clients:\n");
                for (id, c) in &core.conns {
                    writeln!(o, " {}", cons_line(core, *id, c, false, now)).ok();
                }
                o.push('\n');
            }
            stats(&mut o, core, counters);
            writeln!(o, "Node count: {}", core.tree.node_count()).ok();
        }
        "cons" => {
            for (id, c) in &core.conns {
                writeln!(o, " {}", cons_line(core, *id, c, true, now)).ok();
            }
            o.push('\n');
        }
        "crst" => {
            for c in core.conns.values_mut() {
                c.stats.packets_received = 0;
                c.stats.packets_sent = 0;
            }
            o.push_str("Connection stats reset.\n");
        }
        "srst" => {
            counters.received_base = core.stats.packets_received;
            counters.sent_base = core.stats.packets_sent;
            o.push_str("Server stats reset.\n");
        }
        "dump" => {
            o.push_str("SessionTracker dump:\n");
            writeln!(o, "Global Sessions({}):", core.sessions.len()).ok();
            let mut sessions: Vec<_> = core.sessions.iter().collect();
            sessions.sort_by_key(|s| s.id);
            for s in sessions {
                writeln!(o, "0x{:x}\t{}ms", s.id, s.timeout_ms).ok();
            }
            o.push_str("ephemeral nodes dump:\n");
            let eph = core.tree.ephemerals_by_session();
            writeln!(o, "Sessions with Ephemerals ({}):", eph.len()).ok();
            let mut ids: Vec<_> = eph.keys().collect();
            ids.sort();
            for id in ids {
                writeln!(o, "0x{id:x}:").ok();
                for p in eph[id].iteration_order() {
                    writeln!(o, "\t{p}").ok();
                }
            }
            o.push_str("Connections dump:\n");
            writeln!(o, "Connections Total ({}):", core.conns.len()).ok();
        }
        "wchs" => {
            let w = &core.watches;
            let conns = w.data.conn_count().max(w.child.conn_count());
            writeln!(
                o,
                "{} connections watching {} paths",
                conns,
                w.data.path_count() + w.child.path_count()
            )
            .ok();
            writeln!(o, "Total watches:{}", w.total()).ok();
        }
        "wchc" => {
            let mut by: std::collections::BTreeMap<i64, Vec<String>> = Default::default();
            for table in [&core.watches.data, &core.watches.child] {
                for (conn, paths) in table.by_conn() {
                    let sid = core.conns.get(&conn).map_or(0, |c| c.session);
                    by.entry(sid)
                        .or_default()
                        .extend(paths.iter().map(|p| p.to_string()));
                }
            }
            for (sid, paths) in by {
                writeln!(o, "0x{sid:x}").ok();
                for p in paths {
                    writeln!(o, "\t{p}").ok();
                }
            }
        }
        "wchp" => {
            let mut by: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
            for table in [&core.watches.data, &core.watches.child] {
                for (path, conns) in table.by_path() {
                    let e = by.entry(path.to_owned()).or_default();
                    for conn in conns {
                        e.push(core.conns.get(conn).map_or(0, |c| c.session));
                    }
                }
            }
            for (p, sids) in by {
                writeln!(o, "{p}").ok();
                for s in sids {
                    writeln!(o, "\t0x{s:x}").ok();
                }
            }
        }
        "dirs" => {
            o.push_str("datadir_size: 0\n");
            o.push_str("logdir_size: 0\n");
        }
        "mntr" => mntr(&mut o, core, info, counters),
        "gtmk" | "getTraceMask" => o.push('0'),
        _ => {}
    }
    o
}

fn stats(o: &mut String, core: &Core, counters: &Counters) {
    o.push_str("Latency min/avg/max: 0/0.0/0\n");
    writeln!(
        o,
        "Received: {}",
        core.stats.packets_received - counters.received_base
    )
    .ok();
    writeln!(o, "Sent: {}", core.stats.packets_sent - counters.sent_base).ok();
    writeln!(o, "Connections: {}", core.conns.len()).ok();
    o.push_str("Outstanding: 0\n");
    writeln!(o, "Zxid: 0x{:x}", core.last_zxid()).ok();
    o.push_str("Mode: standalone\n");
}

fn cons_line(core: &Core, _id: u64, c: &crate::server::core::Conn, full: bool, now: Now) -> String {
    let s = &c.stats;
    let mut line = format!(
        "/{}:{}[{}](queued=0,recved={},sent={}",
        c.remote.ip(),
        c.remote.port(),
        u8::from(c.session != 0),
        s.packets_received,
        s.packets_sent
    );
    if full && c.session != 0 {
        write!(
            line,
            ",sid=0x{:x},lop={},est={},to={},lcxid=0x{:x},lzxid=0x{:x},lresp={},llat=0,minlat=0,avglat=0,maxlat=0",
            c.session,
            s.last_op,
            s.established_ms,
            c.timeout_ms,
            s.last_cxid,
            s.last_zxid,
            s.last_response_ms.max(now.wall_ms.min(0)),
        )
        .ok();
    }
    let _ = core;
    line.push(')');
    line
}

fn mntr(o: &mut String, core: &Core, info: &StaticInfo, counters: &Counters) {
    let w = &core.watches;
    let lines: Vec<(&str, String)> = vec![
        ("zk_version", info.version.clone()),
        ("zk_server_state", "standalone".into()),
        ("zk_avg_latency", "0.0".into()),
        ("zk_max_latency", "0".into()),
        ("zk_min_latency", "0".into()),
        (
            "zk_packets_received",
            (core.stats.packets_received - counters.received_base).to_string(),
        ),
        (
            "zk_packets_sent",
            (core.stats.packets_sent - counters.sent_base).to_string(),
        ),
        ("zk_num_alive_connections", core.conns.len().to_string()),
        ("zk_outstanding_requests", "0".into()),
        ("zk_znode_count", core.tree.node_count().to_string()),
        ("zk_watch_count", w.total().to_string()),
        (
            "zk_ephemerals_count",
            core.tree.ephemeral_count().to_string(),
        ),
        (
            "zk_approximate_data_size",
            core.tree.approximate_data_size().to_string(),
        ),
        ("zk_global_sessions", core.sessions.len().to_string()),
        (
            "zk_max_client_cnxns_per_host",
            info.max_client_cnxns.to_string(),
        ),
        ("zk_last_proposal_size", "-1".into()),
        ("zk_max_proposal_size", "-1".into()),
        ("zk_min_proposal_size", "-1".into()),
    ];
    for (k, v) in lines {
        writeln!(o, "{k}\t{v}").ok();
    }
}
