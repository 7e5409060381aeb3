//! The ensemble part of zoo.cfg: `server.N` lines (from zoo.cfg or the
//! dynamic config file), `dataDir/myid`, the client address a server line
//! may carry, peerType and the checks `QuorumPeerConfig` makes before it
//! would start a quorum peer.

use std::collections::BTreeMap;
use std::fs;

use super::parser::{Item, Parser, QuorumKeys};
use super::properties::{java_trim, parse_properties};
use super::values::{
    java_absolute_path, java_parse_int, java_parse_long, java_split, resolve_host, specific,
};
use super::{bad, decode_text, ConfigError, ServerConfig};

/// The role a `server.N` line gives a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LearnerRole {
    Participant,
    Observer,
}

/// One `host:quorumPort:electionPort` of a server line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumServerAddress {
    /// Host name or IP literal (IPv6 without brackets); not resolved.
    pub host: String,
    pub quorum_port: u16,
    pub election_port: u16,
}

/// The `;[host:]port` client part of a server line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress {
    /// "0.0.0.0" when only a port was given, as in Java.
    pub host: String,
    pub port: u16,
}

/// `server.N=host:port:port[:role][|host:port:port[:role]...][;[clientHost:]clientPort]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumServerLine {
    pub id: u64,
    /// More than one only with -Dzookeeper.multiAddress.enabled=true.
    pub addresses: Vec<QuorumServerAddress>,
    pub role: LearnerRole,
    pub client_address: Option<ClientAddress>,
}

/// ConfigUtils.getHostAndPort: `[v6]:a:b` or `host:a:b`.
pub(super) fn host_and_ports(s: &str) -> Result<Vec<&str>, String> {
    let Some(inner) = s.strip_prefix('[') else {
        return Ok(java_split(s, ':'));
    };
    let close = inner
        .find(']')
        .ok_or_else(|| format!("{s} starts with '[' but has no matching ']:'"))?;
    let after = &inner[close + 1..];
    let mut parts = vec![&inner[..close]];
    match after.chars().count() {
        0 => {}
        1 => return Err(format!("{s} doesn't have a port after colon")),
        // Java skips the character after ']' without checking it is ':'.
        _ => parts.extend(java_split(
            &after[after.chars().next().map_or(0, char::len_utf8)..],
            ':',
        )),
    }
    Ok(parts)
}

pub(super) const SERVER_FORMAT: &str =
    "expected host:port:port[:participant|observer], '|'-separated for several \
     addresses, optionally followed by ;[clientHost:]clientPort";

pub(super) fn parse_line_port(what: &str, s: &str) -> Result<u16, String> {
    let v = java_parse_int(s).ok_or_else(|| format!("{what} '{s}' is not a number"))?;
    u16::try_from(v).map_err(|_| format!("{what} {v} is out of range 0-65535"))
}

/// QuorumPeer.QuorumServer's parsing of one server line (without DNS lookups).
pub(super) fn parse_server_line(
    id: u64,
    value: &str,
    multi_address: bool,
) -> Result<QuorumServerLine, String> {
    let parts = java_split(value, ';');
    if parts.is_empty() || parts.len() > 2 {
        return Err(SERVER_FORMAT.to_owned());
    }
    let client_address = match parts.get(1) {
        None => None,
        Some(client) => {
            let cp = host_and_ports(client)?;
            if cp.is_empty() || cp.len() > 2 {
                return Err(SERVER_FORMAT.to_owned());
            }
            let host = if cp.len() == 2 { cp[0] } else { "0.0.0.0" };
            let port = parse_line_port("client port", cp[cp.len() - 1])?;
            Some(ClientAddress {
                host: host.to_owned(),
                port,
            })
        }
    };
    let server_parts = java_split(parts[0], '|');
    if !multi_address && server_parts.len() > 1 {
        return Err(
            "several addresses given but the multiple address feature is disabled \
             (it needs the JVM property -Dzookeeper.multiAddress.enabled=true)"
                .to_owned(),
        );
    }
    let mut role = None;
    let mut addresses = Vec::new();
    for server in server_parts {
        let sp = host_and_ports(server)?;
        if sp.len() < 3 || sp.len() > 4 {
            return Err(SERVER_FORMAT.to_owned());
        }
        let quorum_port = parse_line_port("quorum port", sp[1])?;
        let election_port = parse_line_port("election port", sp[2])?;
        if quorum_port == election_port {
            return Err("quorum and election port must be different".to_owned());
        }
        if let Some(r) = sp.get(3) {
            let this = match java_trim(r).to_ascii_lowercase().as_str() {
                "participant" => LearnerRole::Participant,
                "observer" => LearnerRole::Observer,
                _ => {
                    return Err(format!(
                        "unrecognised peer type '{r}', expected participant or observer"
                    ))
                }
            };
            if role.is_some_and(|prev| prev != this) {
                return Err("multiple addresses must have the same role".to_owned());
            }
            role = Some(this);
        }
        addresses.push(QuorumServerAddress {
            host: sp[0].to_owned(),
            quorum_port,
            election_port,
        });
    }
    Ok(QuorumServerLine {
        id,
        addresses,
        role: role.unwrap_or(LearnerRole::Participant),
        client_address,
    })
}

/// Keys Java leaves to the quorum verifier rather than parseProperties' own branches.
pub(super) fn is_quorum_key(key: &str) -> bool {
    key.starts_with("server.")
        || key.starts_with("group")
        || key.starts_with("weight")
        || key == "version"
}

impl Parser<'_> {
    /// Reads dynamicConfigFile: only server./group/weight keys, no version line.
    pub(super) fn read_dynamic_file(&mut self, file: &str) -> Result<Vec<Item>, ConfigError> {
        let path = java_absolute_path(file, self.base_dir);
        let bytes = fs::read(&path).map_err(|err| ConfigError::Io {
            path: path.clone(),
            err,
        })?;
        let mut items: Vec<Item> = Vec::new();
        for e in parse_properties(&decode_text(bytes))? {
            let key = java_trim(&e.key).to_owned();
            if key == "version" {
                return Err(bad(
                    "dynamicConfigFile",
                    file,
                    "the dynamic file must not contain a version line",
                ));
            }
            if !is_quorum_key(&key) {
                return Err(bad(
                    "dynamicConfigFile",
                    file,
                    format!("unrecognised parameter {key} in the dynamic file"),
                ));
            }
            // Properties semantics: a repeated key replaces the earlier one.
            items.retain(|i| i.key != key);
            items.push(Item {
                key,
                value: java_trim(&e.value).to_owned(),
                raw_value: e.value,
            });
        }
        // QuorumPeerConfig.getVersionFromFilename: the hex suffix after the last '.'.
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if let Some(version) = name
            .as_deref()
            .and_then(|n| n.rsplit_once('.'))
            .and_then(|(_, suffix)| i64::from_str_radix(suffix, 16).ok())
        {
            let hex = format!("{:x}", version as u64);
            items.push(Item {
                key: "version".to_owned(),
                value: hex.clone(),
                raw_value: hex,
            });
        }
        Ok(items)
    }

    /// QuorumHierarchical.parse: `group.G=sid:sid:...` and `weight.SID=w`.
    /// Java's checks are errors here too: a server in two groups, a
    /// participant in no group; participants without a weight weigh 1.
    fn setup_hierarchy(
        &mut self,
        config: &mut ServerConfig,
        servers: &BTreeMap<u64, (QuorumServerLine, &Item)>,
        items: &[&Item],
    ) -> Result<(), ConfigError> {
        // Java takes the id after the key's first '.', whatever precedes it.
        let key_id = |item: &Item, what: &str| -> Result<u64, ConfigError> {
            item.key
                .split_once('.')
                .and_then(|(_, id)| java_parse_long(id))
                .and_then(|v| u64::try_from(v).ok())
                .ok_or_else(|| {
                    bad(
                        &item.key,
                        &item.value,
                        format!("expected {what}.N with N a non-negative integer id"),
                    )
                })
        };
        let mut groups: BTreeMap<u64, (Vec<u64>, &Item)> = BTreeMap::new();
        let mut group_of: BTreeMap<u64, &Item> = BTreeMap::new();
        let mut weights: BTreeMap<u64, (u64, Option<&Item>)> = BTreeMap::new();
        for &item in items {
            let (key, value) = (item.key.as_str(), item.value.as_str());
            if key.starts_with("group") {
                let gid = key_id(item, "group")?;
                if let Some((_, other)) = groups.get(&gid) {
                    return Err(bad(
                        key,
                        value,
                        format!("{} already defines group {gid}", other.key),
                    ));
                }
                let mut members = Vec::new();
                for sid in java_split(value, ':') {
                    let sid = java_parse_long(sid)
                        .and_then(|v| u64::try_from(v).ok())
                        .ok_or_else(|| {
                            bad(
                                key,
                                value,
                                format!("'{sid}' is not a server id (expected sid:sid:...)"),
                            )
                        })?;
                    if let Some(other) = group_of.insert(sid, item) {
                        return Err(bad(
                            key,
                            value,
                            format!(
                                "server {sid} is already in {}: a server can be in one group only",
                                other.key
                            ),
                        ));
                    }
                    members.push(sid);
                }
                if item.raw_value != item.value {
                    self.warn(format!(
                        "{key} ends with whitespace: Java ZooKeeper does not trim group lines and \
                         rejects this one; rzk accepts it"
                    ));
                }
                groups.insert(gid, (members, item));
            } else {
                let sid = key_id(item, "weight")?;
                let w = java_parse_long(value)
                    .ok_or_else(|| bad(key, value, "expected a 64-bit decimal integer"))?;
                let w = u64::try_from(w).map_err(|_| {
                    bad(
                        key,
                        value,
                        "a negative weight makes quorums meaningless (Java accepts it)",
                    )
                })?;
                if let Some((_, Some(other))) = weights.insert(sid, (w, Some(item))) {
                    self.warn(format!(
                        "{} and {key} both give the weight of server {sid}; using {key}",
                        other.key
                    ));
                }
            }
        }

        for (id, (line, item)) in servers {
            if line.role != LearnerRole::Participant {
                continue;
            }
            if !group_of.contains_key(id) {
                return Err(bad(
                    &item.key,
                    &item.value,
                    format!(
                        "server {id} is not in any group.N line: with hierarchical quorums every \
                         participant must be in a group"
                    ),
                ));
            }
            weights.entry(*id).or_insert((1, None));
        }
        for (sid, item) in &group_of {
            let listed = servers.contains_key(sid);
            if !weights.contains_key(sid) {
                // computeGroupWeight would unbox a missing weight: a NullPointerException.
                let what = if listed {
                    "an observer"
                } else {
                    "not in the server list"
                };
                return Err(bad(
                    &item.key,
                    &item.value,
                    format!(
                        "server {sid} is {what} and has no weight.{sid} line \
                         (Java fails with a NullPointerException)"
                    ),
                ));
            }
            if !listed {
                self.warn(format!(
                    "{} lists server {sid}, which has no server.{sid} line; its weight still counts",
                    item.key
                ));
            }
        }
        for (sid, (_, item)) in &weights {
            if let Some(item) = item {
                if !servers.contains_key(sid) && !group_of.contains_key(sid) {
                    self.warn(format!(
                        "{} is for server {sid}, which is neither in the server list nor in a group; ignored",
                        item.key
                    ));
                }
            }
        }
        config.groups = groups.into_iter().map(|(g, (m, _))| (g, m)).collect();
        config.weights = weights.into_iter().map(|(s, (w, _))| (s, w)).collect();
        Ok(())
    }

    /// parseDynamicConfig, setupMyId, setupClientPort, setupPeerType, checkValidity.
    pub(super) fn setup_quorum(
        &mut self,
        config: &mut ServerConfig,
        q: &QuorumKeys,
        items: &[&Item],
    ) -> Result<(), ConfigError> {
        // QuorumServer reads the JVM property, not the zoo.cfg key of the same name.
        let multi_address = self
            .props
            .get("zookeeper.multiAddress.enabled")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let mut servers: BTreeMap<u64, (QuorumServerLine, &Item)> = BTreeMap::new();
        let mut hierarchy: Vec<&Item> = Vec::new();
        for &item in items {
            let (key, value) = (item.key.as_str(), item.value.as_str());
            if key == "version" {
                // Long.parseLong(v, 16): signed, so "-1" is a version too.
                let v = i64::from_str_radix(value, 16)
                    .map_err(|_| bad(key, value, "expected a hexadecimal configuration version"))?;
                config.config_version = v as u64;
                continue;
            }
            let Some(id) = key.strip_prefix("server.") else {
                // Any other key here starts with "group" or "weight".
                hierarchy.push(item);
                continue;
            };
            let id = java_parse_long(id)
                .and_then(|v| u64::try_from(v).ok())
                .ok_or_else(|| {
                    bad(
                        key,
                        value,
                        "the part after 'server.' must be a non-negative integer id",
                    )
                })?;
            let line = parse_server_line(id, value, multi_address)
                .map_err(|reason| bad(key, value, reason))?;
            // Java parses the untrimmed value, so trailing blanks after a port fail there.
            if item.raw_value != item.value
                && parse_server_line(id, &item.raw_value, multi_address).is_err()
            {
                self.warn(format!(
                    "{key} ends with whitespace: Java ZooKeeper does not trim server lines and \
                     rejects this one; rzk accepts it"
                ));
            }
            if let Some((_, prev)) = servers.insert(id, (line, item)) {
                self.warn(format!(
                    "{} and {key} both define server id {id}; using {key}",
                    prev.key
                ));
            }
        }

        if !hierarchy.is_empty() {
            self.setup_hierarchy(config, &servers, &hierarchy)?;
        }

        let participants = servers
            .values()
            .filter(|(s, _)| s.role == LearnerRole::Participant)
            .count();
        let first_observer = servers
            .values()
            .find(|(s, _)| s.role == LearnerRole::Observer)
            .map(|(_, i)| *i);
        if participants == 0 {
            if !q.standalone_enabled {
                return Err(bad(
                    "standaloneEnabled",
                    "false",
                    "requires at least one participant server.N line",
                ));
            }
            if let Some(obs) = first_observer {
                return Err(bad(
                    &obs.key,
                    &obs.value,
                    "observers without participants is an invalid configuration",
                ));
            }
        } else if participants == 1 && q.standalone_enabled {
            if let Some(obs) = first_observer {
                return Err(bad(
                    &obs.key,
                    &obs.value,
                    "observers without a quorum is an invalid configuration",
                ));
            }
            self.warn("only one server.N line: it is ignored and the server runs standalone");
        } else if participants <= 2 {
            self.warn("No server failure will be tolerated. You need at least 3 servers.");
        } else if participants % 2 == 0 {
            self.warn("Non-optimal configuration, consider an odd number of servers.");
        }

        let myid_path = config.data_dir.join("myid");
        if myid_path.is_file() {
            let content = fs::read_to_string(&myid_path).map_err(|err| ConfigError::Io {
                path: myid_path.clone(),
                err,
            })?;
            let first = content.lines().next().unwrap_or("");
            let id = java_parse_long(java_trim(first)).and_then(|v| u64::try_from(v).ok());
            config.my_id = Some(id.ok_or_else(|| ConfigError::BadMyId {
                path: myid_path.clone(),
                content: first.to_owned(),
            })?);
        }

        // This server's line may carry the client address (the official Docker
        // image relies on it: "server.1=localhost:2888:3888;2181" and no clientPort).
        let mine = config.my_id.and_then(|id| servers.get(&id));
        if let Some((line, item)) = mine {
            if let Some(ca) = &line.client_address {
                let ip = resolve_host(&ca.host).ok_or_else(|| {
                    bad(
                        &item.key,
                        &item.value,
                        format!("client host {} does not resolve", ca.host),
                    )
                })?;
                if self.client_port_set {
                    let same = config.client_port == ca.port
                        && config
                            .client_port_address
                            .is_none_or(|static_ip| static_ip == ip);
                    if !same {
                        let configured = config
                            .client_port_address
                            .map_or_else(|| "0.0.0.0".to_owned(), |ip| ip.to_string());
                        return Err(bad(
                            &item.key,
                            &item.value,
                            format!(
                                "its client address differs from clientPortAddress/clientPort ({configured}:{})",
                                config.client_port
                            ),
                        ));
                    }
                }
                config.client_port = ca.port;
                config.client_port_address = specific(ip);
                self.client_port_set = true;
            }
            let listed = line.role;
            config.peer_type = listed;
            if listed != q.peer_type {
                self.warn(format!(
                    "peerType ({:?}) does not match this server's server.N line ({listed:?}); using the line",
                    q.peer_type
                ));
            }
        } else if q.peer_type == LearnerRole::Observer {
            // setupPeerType: not listed as an observer means participant.
            config.peer_type = LearnerRole::Participant;
            self.warn("peerType is observer but this server is not an observer in the server list; ignoring it");
        }

        config.servers = servers.into_values().map(|(s, _)| s).collect();
        if config.is_distributed() {
            let required = |key: &str| ConfigError::Missing {
                key: key.to_owned(),
                reason: "required when running as a quorum peer".to_owned(),
            };
            if config.init_limit == 0 {
                return Err(required("initLimit"));
            }
            if config.sync_limit == 0 {
                return Err(required("syncLimit"));
            }
            if config.my_id.is_none() {
                return Err(ConfigError::Missing {
                    key: "myid".to_owned(),
                    reason: format!(
                        "{} is required when running as a quorum peer",
                        myid_path.display()
                    ),
                });
            }
        }
        if !self.client_port_set {
            return Err(ConfigError::Missing {
                key: "clientPort".to_owned(),
                reason: "expected the port clients connect to (no server.N line for this server's myid gives one)"
                    .to_owned(),
            });
        }
        Ok(())
    }
}

/// Long.hashCode.
fn long_hash(v: u64) -> i32 {
    (v ^ (v >> 32)) as u32 as i32
}

/// The order a default `HashMap<Long, _>` iterates `ids` in (inserted
/// ascending; Java inserts in Properties order, which only matters for ids
/// sharing a bucket).
fn java_long_map_order(ids: &[u64]) -> Vec<u64> {
    let hashes: Vec<i32> = ids.iter().map(|&id| long_hash(id)).collect();
    crate::javahash::insertion_order(&hashes, 16)
        .into_iter()
        .map(|i| ids[i])
        .collect()
}

/// InetSocketAddress host strings as QuorumServer.toString prints them.
fn delimited_host(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

impl QuorumServerLine {
    /// The value QuorumServer.toString gives this line (the `conf`
    /// membership form): quorum and election addresses each sorted by host,
    /// the role always spelled out, and the client address when the line has one.
    pub fn java_form(&self) -> String {
        let mut quorum: Vec<(&str, u16)> = self
            .addresses
            .iter()
            .map(|a| (a.host.as_str(), a.quorum_port))
            .collect();
        let mut election: Vec<(&str, u16)> = self
            .addresses
            .iter()
            .map(|a| (a.host.as_str(), a.election_port))
            .collect();
        quorum.sort_by_key(|(h, _)| *h);
        election.sort_by_key(|(h, _)| *h);
        let mut out = quorum
            .iter()
            .zip(&election)
            .map(|((h, q), (_, e))| format!("{}:{q}:{e}", delimited_host(h)))
            .collect::<Vec<_>>()
            .join("|");
        out.push_str(match self.role {
            LearnerRole::Participant => ":participant",
            LearnerRole::Observer => ":observer",
        });
        if let Some(ca) = &self.client_address {
            out.push_str(&format!(";{}:{}", delimited_host(&ca.host), ca.port));
        }
        out
    }
}

/// What the quorum code asks of the ensemble configuration.
impl ServerConfig {
    /// The `server.N` line with id `id`.
    pub fn server(&self, id: u64) -> Option<&QuorumServerLine> {
        self.servers.iter().find(|s| s.id == id)
    }

    /// This server's own line (by myid), if it has one.
    pub fn own_server(&self) -> Option<&QuorumServerLine> {
        self.my_id.and_then(|id| self.server(id))
    }

    /// The voting members, by id.
    pub fn participants(&self) -> impl Iterator<Item = &QuorumServerLine> {
        self.servers
            .iter()
            .filter(|s| s.role == LearnerRole::Participant)
    }

    /// The observers, by id.
    pub fn observers(&self) -> impl Iterator<Item = &QuorumServerLine> {
        self.servers
            .iter()
            .filter(|s| s.role == LearnerRole::Observer)
    }

    /// Whether this server runs as an observer (its own line says so; the
    /// peerType key only warns when it disagrees, as in Java).
    pub fn is_observer(&self) -> bool {
        self.peer_type == LearnerRole::Observer
    }

    /// Whether quorums are hierarchical (QuorumHierarchical: any group or
    /// weight line) rather than simple majorities (QuorumMaj).
    pub fn is_hierarchical(&self) -> bool {
        !self.groups.is_empty() || !self.weights.is_empty()
    }

    /// QuorumVerifier.getWeight: 1 for everyone with majority quorums; the
    /// configured or default weight with hierarchical ones (0 for a server
    /// that has none, where Java would throw).
    pub fn weight(&self, id: u64) -> u64 {
        if self.is_hierarchical() {
            self.weights.get(&id).copied().unwrap_or(0)
        } else {
            1
        }
    }

    /// QuorumVerifier.toString, the `membership:` part of `conf`: server
    /// lines, then (hierarchical) group and weight lines, each in the order
    /// Java's HashMaps give, then `version=<hex>` with no newline after it.
    pub fn membership_report(&self, config_version: u64) -> String {
        let mut out = String::new();
        let ids: Vec<u64> = self.servers.iter().map(|s| s.id).collect();
        for id in java_long_map_order(&ids) {
            if let Some(s) = self.server(id) {
                out.push_str(&format!("server.{id}={}\n", s.java_form()));
            }
        }
        if self.is_hierarchical() {
            // Members are joined in serverGroup's (sid-keyed) iteration order.
            let group_of: BTreeMap<u64, u64> = self
                .groups
                .iter()
                .flat_map(|(g, members)| members.iter().map(move |&m| (m, *g)))
                .collect();
            let sids: Vec<u64> = group_of.keys().copied().collect();
            let mut joined: BTreeMap<u64, Vec<String>> = BTreeMap::new();
            for sid in java_long_map_order(&sids) {
                joined
                    .entry(group_of[&sid])
                    .or_default()
                    .push(sid.to_string());
            }
            let gids: Vec<u64> = joined.keys().copied().collect();
            for gid in java_long_map_order(&gids) {
                out.push_str(&format!("group.{gid}={}\n", joined[&gid].join(":")));
            }
            let wids: Vec<u64> = self.weights.keys().copied().collect();
            for sid in java_long_map_order(&wids) {
                out.push_str(&format!("weight.{sid}={}\n", self.weights[&sid]));
            }
        }
        out.push_str(&format!("version={config_version:x}"));
        out
    }
}
