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
        Ok(items)
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
        for &item in items {
            let (key, value) = (item.key.as_str(), item.value.as_str());
            if key == "version" {
                if i64::from_str_radix(value, 16).is_err() {
                    return Err(bad(
                        key,
                        value,
                        "expected a hexadecimal configuration version",
                    ));
                }
                continue;
            }
            let Some(id) = key.strip_prefix("server.") else {
                // group.N / weight.N: hierarchical quorums matter only to a quorum peer.
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
            if listed != q.peer_type {
                self.warn(format!(
                    "peerType ({:?}) does not match this server's server.N line ({listed:?}); using the line",
                    q.peer_type
                ));
            }
        } else if q.peer_type == LearnerRole::Observer {
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
