//! The AdminServer's commands (Java 3.8.0's `admin.Commands`): names and
//! aliases, and each command's JSON, gathered from the same facts as the
//! four-letter words ([`crate::server::fourlw`]).
//!
//! A response is an ordered JSON object whose `command` and `error` keys
//! come where Java's CommandResponse.toMap puts them: after the data, or,
//! when a command sets `error` itself, first.

use serde_json::{json, Map, Value};

use crate::config::{LearnerRole, QuorumServerLine};
use crate::server::core::{Conn, Core, Now};
use crate::server::fourlw::{self, Counters, StaticInfo, Val};

/// One command: its primary name, its other names, and whether it needs a
/// running server (Java's CommandBase.serverRequired).
pub struct Command {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub server_required: bool,
}

const fn cmd(
    name: &'static str,
    aliases: &'static [&'static str],
    server_required: bool,
) -> Command {
    Command {
        name,
        aliases,
        server_required,
    }
}

/// Every command 3.8.0 registers, sorted by primary name (the order of the
/// links `GET <commandURL>` lists).
pub const COMMANDS: &[Command] = &[
    cmd("configuration", &["conf", "config"], true),
    cmd("connection_stat_reset", &["crst"], true),
    cmd("connections", &["cons"], true),
    cmd("dirs", &[], true),
    cmd("dump", &[], true),
    cmd("environment", &["env", "envi"], false),
    cmd("get_trace_mask", &["gtmk"], false),
    cmd("hash", &[], true),
    cmd("initial_configuration", &["icfg"], true),
    cmd("is_read_only", &["isro"], true),
    cmd("last_snapshot", &["lsnp"], true),
    cmd("leader", &["lead"], true),
    cmd("monitor", &["mntr"], false),
    cmd("observer_connection_stat_reset", &["orst"], true),
    cmd("observers", &["obsr"], true),
    cmd("ruok", &[], true),
    cmd("server_stats", &["srvr"], true),
    cmd("set_trace_mask", &["stmk"], false),
    cmd("stat_reset", &["srst"], true),
    cmd("stats", &["stat"], true),
    cmd("system_properties", &["sysp"], false),
    cmd("voting_view", &[], true),
    cmd("watch_summary", &["wchs"], true),
    cmd("watches", &["wchc"], true),
    cmd("watches_by_path", &["wchp"], true),
    cmd("zabstate", &[], false),
];

/// The command a name (primary or alias) refers to.
pub fn lookup(name: &str) -> Option<&'static Command> {
    COMMANDS
        .iter()
        .find(|c| c.name == name || c.aliases.contains(&name))
}

/// A response under construction: data, then `command` and `error`.
pub struct Response {
    command: String,
    error: Option<String>,
    data: Map<String, Value>,
}

impl Response {
    pub fn new(command: &str) -> Response {
        Response {
            command: command.to_owned(),
            error: None,
            data: Map::new(),
        }
    }

    pub fn with_error(command: &str, error: &str) -> Response {
        Response {
            error: Some(error.to_owned()),
            ..Response::new(command)
        }
    }

    fn put(&mut self, key: &str, v: Value) {
        self.data.insert(key.to_owned(), v);
    }

    /// CommandResponse.toMap: the data (an `error` put by the command keeps
    /// its place), then `command`, then `error`.
    pub fn into_json(self) -> Value {
        let mut m = self.data;
        m.insert("command".into(), Value::String(self.command));
        let err = m.remove("error");
        let err = match (err, self.error) {
            (Some(e), _) => {
                // Put back in front, where the command's own put left it.
                let mut front = Map::new();
                front.insert("error".into(), e);
                front.extend(m);
                return Value::Object(front);
            }
            (None, e) => e.map_or(Value::Null, Value::String),
        };
        m.insert("error".into(), err);
        Value::Object(m)
    }
}

/// Java's "not currently serving" answer, for a command that needs a
/// server while none runs (a quorum peer between roles).
pub const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";

/// Runs `command` against the running server (on the core task).
pub fn run(
    command: &Command,
    kwargs: &[(String, String)],
    core: &mut Core,
    info: &StaticInfo,
    counters: &mut Counters,
    now: Now,
) -> Value {
    let mut r = Response::new(command.name);
    match command.name {
        "configuration" => configuration(&mut r, core, info),
        "connection_stat_reset" => fourlw::reset_connection_stats(core),
        "connections" => {
            r.put("connections", connections(core, false));
            r.put("secure_connections", json!([]));
        }
        "dirs" => {
            let (data, log) = fourlw::dir_sizes(info);
            r.put("datadir_size", json!(data));
            r.put("logdir_size", json!(log));
        }
        "dump" => dump(&mut r, core),
        "hash" => r.put("digests", json!([])),
        "initial_configuration" => {
            r.put("initial_configuration", json!(info.initial_config));
        }
        "is_read_only" => r.put("read_only", json!(false)),
        "last_snapshot" => last_snapshot(&mut r, info),
        "leader" => leader(&mut r, info),
        "monitor" => {
            for (k, v) in fourlw::mntr_values(core, info, counters, now, false) {
                r.put(&k, val(v));
            }
        }
        // rzk's observers observe the leader directly: no follower serves
        // as an observer master, and the leader keeps no per-observer
        // packet counts to reset.
        "observer_connection_stat_reset" => {}
        "observers" => observers(&mut r, info, counters),
        "ruok" => {}
        "server_stats" | "stats" => {
            server_stats(&mut r, core, info, counters, now);
            if command.name == "stats" {
                r.put("connections", connections(core, true));
                r.put("secure_connections", json!([]));
            }
        }
        "stat_reset" => fourlw::reset_server_stats(core, counters),
        "voting_view" => voting_view(&mut r, info),
        "watch_summary" => {
            let watches = core.db().watches();
            let t = &watches.data;
            r.put("num_connections", json!(t.conn_count()));
            r.put("num_paths", json!(t.path_count()));
            r.put("num_total_watches", json!(t.watch_count()));
        }
        "watches" => {
            let watches = core.db().watches();
            let mut m = Map::new();
            for (conn, paths) in watches.data.by_conn() {
                let order = fourlw::java_string_set_order(paths.into_iter().collect(), 16);
                m.insert(fourlw::session_of(core, conn).to_string(), json!(order));
            }
            r.put("session_id_to_watched_paths", Value::Object(m));
        }
        "watches_by_path" => {
            let watches = core.db().watches();
            let by_path = watches.data.by_path();
            let mut m = Map::new();
            let paths: Vec<&str> = by_path.keys().copied().collect();
            for p in fourlw::java_string_set_order(paths, 16) {
                let ids: Vec<i64> = by_path[p]
                    .iter()
                    .map(|c| fourlw::session_of(core, *c))
                    .collect();
                m.insert(p.to_owned(), json!(ids));
            }
            r.put("path_to_session_ids", Value::Object(m));
        }
        "zabstate" => zabstate(&mut r, core, info),
        _ => return without_server(command, kwargs, info, Some(counters)),
    }
    r.into_json()
}

/// Runs a command that needs no server; the others get Java's "not
/// serving" error. `counters`: the running server's trace mask, if any.
pub fn without_server(
    command: &Command,
    kwargs: &[(String, String)],
    info: &StaticInfo,
    counters: Option<&mut Counters>,
) -> Value {
    let mut r = Response::new(command.name);
    let mut default_counters = Counters::default();
    let counters = counters.unwrap_or(&mut default_counters);
    match command.name {
        "environment" => {
            for (k, v) in fourlw::envi_entries(info) {
                r.put(&k, json!(v));
            }
        }
        "get_trace_mask" => r.put("tracemask", json!(counters.trace_mask)),
        "set_trace_mask" => {
            let arg = kwargs
                .iter()
                .find(|(k, _)| k == "traceMask")
                .map(|(_, v)| v);
            match arg {
                None => r.put(
                    "error",
                    json!("setTraceMask requires long traceMask argument"),
                ),
                Some(v) => match v.parse::<i64>() {
                    Ok(mask) => {
                        counters.trace_mask = mask;
                        r.put("tracemask", json!(mask));
                    }
                    Err(_) => r.put(
                        "error",
                        json!(format!(
                            "setTraceMask requires long traceMask argument, got {v}"
                        )),
                    ),
                },
            }
        }
        "system_properties" => {
            for (k, v) in system_properties(info) {
                r.put(&k, json!(v));
            }
        }
        "zabstate" => {
            r.put("voting", json!(false));
            r.put("zabstate", json!(""));
        }
        _ => return Response::with_error(command.name, NOT_SERVING).into_json(),
    }
    r.into_json()
}

fn val(v: Val) -> Value {
    match v {
        Val::Int(i) => json!(i),
        Val::Float(x) => json!(x),
        Val::Str(s) => json!(s),
    }
}

fn quorum(info: &StaticInfo) -> bool {
    !info.mode.is_empty()
}

/// ZooKeeperServerConf.toMap.
fn configuration(r: &mut Response, core: &Core, info: &StaticInfo) {
    let Some(cfg) = &info.config else { return };
    r.put("client_port", json!(cfg.client_port));
    r.put(
        "data_dir",
        json!(cfg.data_dir.join("version-2").display().to_string()),
    );
    r.put(
        "data_log_dir",
        json!(cfg.data_log_dir.join("version-2").display().to_string()),
    );
    r.put("tick_time", json!(cfg.tick_time_ms));
    r.put("max_client_cnxns", json!(cfg.max_client_cnxns));
    r.put(
        "min_session_timeout",
        json!(core.cfg.min_session_timeout_ms),
    );
    r.put(
        "max_session_timeout",
        json!(core.cfg.max_session_timeout_ms),
    );
    r.put("server_id", json!(info.my_id));
    r.put(
        "client_port_listen_backlog",
        json!(cfg.client_port_listen_backlog),
    );
}

/// ServerCnxn.getConnectionInfo.
fn connection_info(c: &Conn, brief: bool) -> Value {
    let s = c.shared.stats().clone();
    let mut m = Map::new();
    let addr = fourlw::java_addr(c.remote);
    m.insert(
        "remote_socket_address".into(),
        json!(addr.trim_start_matches('/')),
    );
    m.insert("interest_ops".into(), json!(1));
    m.insert("outstanding_requests".into(), json!(0));
    m.insert("packets_received".into(), json!(s.packets_received));
    m.insert("packets_sent".into(), json!(s.packets_sent));
    if !brief {
        m.insert("session_id".into(), json!(c.session));
        m.insert("last_operation".into(), json!(s.last_op));
        m.insert("established".into(), json!(s.established_ms));
        m.insert("session_timeout".into(), json!(c.timeout_ms));
        m.insert("last_cxid".into(), json!(s.last_cxid));
        m.insert("last_zxid".into(), json!(s.last_zxid));
        m.insert("last_response_time".into(), json!(s.last_response_ms));
        for k in ["last_latency", "min_latency", "avg_latency", "max_latency"] {
            m.insert(k.into(), json!(0));
        }
    }
    Value::Object(m)
}

fn connections(core: &Core, brief: bool) -> Value {
    Value::Array(
        core.conns
            .values()
            .map(|c| connection_info(c, brief))
            .collect(),
    )
}

/// SessionTracker.getSessionExpiryMap (expiry time, on the tracker's
/// clock, to session ids) and DataTree.getEphemerals.
fn dump(r: &mut Response, core: &Core) {
    let mut by_time: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
    let mut sessions: Vec<_> = core.sessions.iter().collect();
    sessions.sort_by_key(|s| s.id);
    for s in sessions {
        by_time.entry(s.expires_at).or_default().push(s.id);
    }
    let expiry: Map<String, Value> = by_time
        .into_iter()
        .map(|(t, ids)| (t.to_string(), json!(ids)))
        .collect();
    r.put("expiry_time_to_session_ids", Value::Object(expiry));
    let tree = core.tree();
    let eph = tree.ephemerals_by_session();
    let mut m = Map::new();
    for id in fourlw::java_concurrent_map_order(eph.keys().copied().collect()) {
        m.insert(id.to_string(), json!(eph[&id].iteration_order()));
    }
    r.put("session_id_to_ephemeral_paths", Value::Object(m));
}

/// FileTxnSnapLog.getLastSnapshotInfo: the newest snapshot in the snap
/// dir, its zxid in hex and its modification time in seconds.
fn last_snapshot(r: &mut Response, info: &StaticInfo) {
    let dir = std::path::Path::new(&info.data_dir).join("version-2");
    let newest = crate::persist::files::list_snapshots(&dir)
        .ok()
        .and_then(|v| {
            v.into_iter()
                .filter_map(|p| {
                    let name = p.file_name()?.to_str()?.to_owned();
                    let hex = name.strip_prefix("snapshot.")?;
                    let hex = hex.split('.').next()?;
                    let zxid = i64::from_str_radix(hex, 16).ok()?;
                    Some((zxid, p))
                })
                .max_by_key(|(z, _)| *z)
        });
    let (zxid, ts) = match newest {
        Some((zxid, p)) => {
            let secs = std::fs::metadata(&p)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(-1, |d| d.as_secs() as i64);
            (zxid, secs)
        }
        None => (-1, -1),
    };
    r.put("zxid", json!(format!("{zxid:x}")));
    r.put("timestamp", json!(ts));
}

fn leader(r: &mut Response, info: &StaticInfo) {
    if !quorum(info) {
        r.put("error", json!("server is not initialized"));
        return;
    }
    let leading = info.mode == "leader";
    let leader_id = if leading { info.my_id } else { info.leader_id };
    r.put("is_leader", json!(leading));
    r.put("leader_id", json!(leader_id));
    // QuorumPeer.getLeaderAddress: the leader's quorum host strings, joined
    // by "|" (a leader names its own).
    let ip = server_line(info, leader_id)
        .map(|s| {
            s.addresses
                .iter()
                .map(|a| a.host.clone())
                .collect::<Vec<_>>()
                .join("|")
        })
        .unwrap_or_default();
    r.put("leader_ip", json!(ip));
}

fn observers(r: &mut Response, info: &StaticInfo, counters: &Counters) {
    let observing: Vec<u64> = match (&counters.leader, info.mode.as_str()) {
        (Some(lg), "leader") => lg
            .learner_sids
            .iter()
            .copied()
            .filter(|sid| server_line(info, *sid).is_some_and(|s| s.role == LearnerRole::Observer))
            .collect(),
        _ => Vec::new(),
    };
    r.put("synced_observers", json!(observing.len()));
    // LearnerHandler.getLearnerHandlerInfo, as far as rzk's leader knows it.
    let list: Vec<Value> = observing.iter().map(|sid| json!({ "sid": sid })).collect();
    r.put("observers", Value::Array(list));
}

/// ServerStats, as Jackson serialises its getters, then the client
/// response sizes and the node count (SrvrCommand).
fn server_stats(r: &mut Response, core: &Core, info: &StaticInfo, counters: &Counters, now: Now) {
    let (data, log) = fourlw::dir_sizes(info);
    let sizes = json!({"last_buffer_size": -1, "min_buffer_size": -1, "max_buffer_size": -1});
    r.put("version", json!(info.version));
    r.put("read_only", json!(false));
    r.put(
        "server_stats",
        json!({
            "packets_sent": fourlw::sent(core, counters),
            "packets_received": fourlw::received(core, counters),
            "fsync_threshold_exceed_count": 0,
            "client_response_stats": sizes.clone(),
            "data_dir_size": data,
            "log_dir_size": log,
            "provider_null": false,
            "server_state": info.mode(),
            "last_processed_zxid": core.last_zxid(),
            "outstanding_requests": 0,
            "avg_latency": 0.0,
            "max_latency": 0,
            "min_latency": 0,
            "num_alive_client_connections": core.conns.len(),
            "uptime": (now.mono_ms - core.started.mono_ms).max(0),
            "auth_failed_count": 0,
            "non_mtlsremote_conn_count": 0,
            "non_mtlslocal_conn_count": 0,
        }),
    );
    r.put("client_response", sizes);
    if info.mode == "leader" {
        let lg = counters.leader.clone().unwrap_or_default();
        let (last, min, max) = lg
            .proposal_sizes
            .map_or((-1, -1, -1), |(l, mn, mx)| (l as i64, mn as i64, mx as i64));
        r.put(
            "proposal_stats",
            json!({"last_buffer_size": last, "min_buffer_size": min, "max_buffer_size": max}),
        );
    }
    r.put("node_count", json!(fourlw::node_count(core)));
}

fn server_line(info: &StaticInfo, sid: u64) -> Option<&QuorumServerLine> {
    info.config.as_ref()?.servers.iter().find(|s| s.id == sid)
}

/// QuorumServer.delimitedHostString: IPv6 literals in brackets.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn voting_view(r: &mut Response, info: &StaticInfo) {
    let mut m = Map::new();
    if quorum(info) {
        let servers = info.config.iter().flat_map(|c| c.servers.iter());
        for s in servers.filter(|s| s.role == LearnerRole::Participant) {
            let client = s
                .client_address
                .as_ref()
                .map_or_else(String::new, |c| host_port(&c.host, c.port));
            m.insert(
                s.id.to_string(),
                json!({
                    "server_addresses": s.addresses.iter().map(|a| host_port(&a.host, a.quorum_port)).collect::<Vec<_>>(),
                    "election_addresses": s.addresses.iter().map(|a| host_port(&a.host, a.election_port)).collect::<Vec<_>>(),
                    "client_address": client,
                    "learner_type": "participant",
                }),
            );
        }
    }
    r.put("current_config", Value::Object(m));
}

/// MultipleAddresses as Jackson serialises its getters.
fn multiple_addresses(hosts_ports: &[(String, u16)]) -> Value {
    let all: Vec<String> = hosts_ports.iter().map(|(h, p)| host_port(h, *p)).collect();
    let one = all.first().cloned().unwrap_or_default();
    json!({
        "empty": all.is_empty(),
        "all_addresses": all,
        "all_reachable_addresses": all,
        "one": one,
        "reachable_address": one,
        "wildcard_addresses": hosts_ports.iter().map(|(_, p)| format!("0.0.0.0:{p}")).collect::<Vec<_>>(),
        "all_ports": hosts_ports.iter().map(|(_, p)| *p).collect::<Vec<_>>(),
        "all_host_strings": hosts_ports.iter().map(|(h, _)| h.clone()).collect::<Vec<_>>(),
        "all_reachable_addresses_or_all": all,
        "reachable_or_one": one,
    })
}

fn zabstate(r: &mut Response, core: &Core, info: &StaticInfo) {
    let me = server_line(info, info.my_id);
    let (Some(me), true) = (me, quorum(info)) else {
        r.put("voting", json!(false));
        r.put("zabstate", json!(""));
        return;
    };
    let quorum_addrs: Vec<(String, u16)> = me
        .addresses
        .iter()
        .map(|a| (a.host.clone(), a.quorum_port))
        .collect();
    let election_addrs: Vec<(String, u16)> = me
        .addresses
        .iter()
        .map(|a| (a.host.clone(), a.election_port))
        .collect();
    let client = info.config.as_ref().map_or_else(String::new, |c| {
        let host = c
            .client_port_address
            .map_or_else(|| "0.0.0.0".to_owned(), |ip| ip.to_string());
        host_port(&host, c.client_port)
    });
    let zxid = core.last_zxid();
    r.put("myid", json!(info.my_id));
    r.put("is_leader", json!(info.mode == "leader"));
    r.put("quorum_address", multiple_addresses(&quorum_addrs));
    r.put("election_address", multiple_addresses(&election_addrs));
    r.put("client_address", json!(client));
    r.put("voting", json!(me.role == LearnerRole::Participant));
    r.put("last_zxid", json!(format!("0x{zxid:x}")));
    r.put("zab_epoch", json!(zxid >> 32));
    r.put("zab_counter", json!(zxid & 0xffff_ffff));
    // A role's core serves only once synced: in broadcast.
    r.put("zabstate", json!("broadcast"));
}

/// The system properties Java would have (sorted, as Java's TreeMap): the
/// -D flags and zoo.cfg's `zookeeper.*`, plus the JVM-level ones rzk can
/// answer for itself.
fn system_properties(info: &StaticInfo) -> Vec<(String, String)> {
    let mut m: std::collections::BTreeMap<String, String> = Default::default();
    for (k, v) in fourlw::envi_entries(info) {
        if k.starts_with("os.") && !k.starts_with("os.memory") || k.starts_with("user.") {
            m.insert(k, v);
        }
    }
    m.insert("file.separator".into(), "/".into());
    m.insert("line.separator".into(), "\n".into());
    m.insert("path.separator".into(), ":".into());
    m.insert(
        "java.io.tmpdir".into(),
        std::env::temp_dir().display().to_string(),
    );
    if let Some(cfg) = &info.config {
        for (k, v) in &cfg.system_properties {
            m.insert(k.clone(), v.clone());
        }
    }
    m.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_resolve_to_primary_commands() {
        assert_eq!(lookup("mntr").map(|c| c.name), Some("monitor"));
        assert_eq!(lookup("config").map(|c| c.name), Some("configuration"));
        assert_eq!(lookup("stat").map(|c| c.name), Some("stats"));
        assert!(lookup("nosuch").is_none());
        let mut names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        let sorted = {
            let mut s = names.clone();
            s.sort_unstable();
            s
        };
        assert_eq!(names, sorted, "the link list is sorted");
        names.dedup();
        assert_eq!(names.len(), 26);
    }

    #[test]
    fn command_and_error_follow_the_data_unless_the_command_set_error() {
        let mut r = Response::new("dirs");
        r.put("datadir_size", json!(1));
        let v = r.into_json();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["datadir_size", "command", "error"]);
        assert_eq!(v["error"], Value::Null);

        let mut r = Response::new("leader");
        r.put("error", json!("server is not initialized"));
        let v = r.into_json();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["error", "command"]);
    }

    #[test]
    fn set_trace_mask_checks_its_argument() {
        let info = StaticInfo::default();
        let stmk = lookup("stmk").unwrap();
        let v = without_server(stmk, &[], &info, None);
        assert_eq!(v["error"], "setTraceMask requires long traceMask argument");
        let v = without_server(stmk, &[("traceMask".into(), "x1".into())], &info, None);
        assert_eq!(
            v["error"],
            "setTraceMask requires long traceMask argument, got x1"
        );
        let mut counters = Counters::default();
        let v = without_server(
            stmk,
            &[("traceMask".into(), "5".into())],
            &info,
            Some(&mut counters),
        );
        assert_eq!(v["tracemask"], 5);
        assert_eq!(counters.trace_mask, 5);
    }

    #[test]
    fn commands_needing_a_server_say_so_without_one() {
        let info = StaticInfo::default();
        let v = without_server(lookup("stat").unwrap(), &[], &info, None);
        assert_eq!(v["error"], NOT_SERVING);
        assert_eq!(v["command"], "stats");
        let v = without_server(lookup("zabstate").unwrap(), &[], &info, None);
        assert_eq!(v["zabstate"], "");
        assert_eq!(v["voting"], false);
    }
}
