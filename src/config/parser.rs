//! The parse itself: Properties entries are trimmed and de-duplicated, the
//! keys `QuorumPeerConfig.parseProperties` handles itself are validated here
//! (with its hard errors), every other key becomes a `zookeeper.*` system
//! property, and the ensemble and system-property readers finish the job.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::ensemble::{is_quorum_key, LearnerRole};
use super::properties::{java_trim, parse_properties};
use super::server_keys::property_key_warning;
use super::values::{
    java_absolute_path, java_parse_int, java_parse_long, port, relative_path_warning, resolve_host,
    specific, strict_bool, strict_int,
};
use super::{
    bad, ConfigError, ServerConfig, Warning, DEFAULT_MAX_CLIENT_CNXNS, DEFAULT_METRICS_PROVIDER,
    DEFAULT_TICK_TIME_MS, MIN_SNAP_RETAIN_COUNT,
};

/// Raw values of the keys QuorumPeerConfig handles itself, with Java's defaults.
pub(super) struct QuorumKeys {
    pub(super) data_dir: Option<String>,
    pub(super) data_log_dir: Option<String>,
    pub(super) client_port: Option<i32>,
    pub(super) client_port_address: Option<String>,
    pub(super) secure_client_port: Option<i32>,
    pub(super) secure_client_port_address: Option<String>,
    pub(super) listen_backlog: i32,
    pub(super) tick_time: i32,
    pub(super) max_client_cnxns: i32,
    pub(super) min_session_timeout: i32,
    pub(super) max_session_timeout: i32,
    pub(super) init_limit: i32,
    pub(super) sync_limit: i32,
    pub(super) peer_type: LearnerRole,
    pub(super) dynamic_config_file: Option<String>,
    pub(super) snap_retain_count: i32,
    pub(super) purge_interval: i32,
    pub(super) standalone_enabled: bool,
    pub(super) reconfig_enabled: bool,
    pub(super) quorum_sasl: bool,
    pub(super) server_require_sasl: bool,
    pub(super) learner_require_sasl: bool,
    pub(super) metrics_provider: Option<String>,
    pub(super) election_alg: i32,
    pub(super) quorum_listen_on_all_ips: bool,
    pub(super) sync_enabled: bool,
    pub(super) connect_to_learner_master_limit: i32,
    pub(super) observer_master_port: i32,
    pub(super) local_sessions_enabled: bool,
    pub(super) local_sessions_upgrading_enabled: bool,
    /// The multiAddress.* keys; unset ones default to the JVM properties.
    pub(super) multi_address_enabled: Option<bool>,
    pub(super) reachability_check_enabled: Option<bool>,
    pub(super) reachability_check_timeout_ms: Option<i32>,
}

impl Default for QuorumKeys {
    fn default() -> Self {
        QuorumKeys {
            data_dir: None,
            data_log_dir: None,
            client_port: None,
            client_port_address: None,
            secure_client_port: None,
            secure_client_port_address: None,
            listen_backlog: -1,
            tick_time: DEFAULT_TICK_TIME_MS as i32,
            max_client_cnxns: DEFAULT_MAX_CLIENT_CNXNS,
            min_session_timeout: -1,
            max_session_timeout: -1,
            init_limit: 0,
            sync_limit: 0,
            peer_type: LearnerRole::Participant,
            dynamic_config_file: None,
            snap_retain_count: MIN_SNAP_RETAIN_COUNT,
            purge_interval: 0,
            standalone_enabled: true,
            reconfig_enabled: false,
            quorum_sasl: false,
            server_require_sasl: false,
            learner_require_sasl: false,
            metrics_provider: None,
            election_alg: 3,
            quorum_listen_on_all_ips: false,
            sync_enabled: true,
            connect_to_learner_master_limit: 0,
            observer_master_port: 0,
            local_sessions_enabled: false,
            local_sessions_upgrading_enabled: false,
            multi_address_enabled: None,
            reachability_check_enabled: None,
            reachability_check_timeout_ms: None,
        }
    }
}

/// A trimmed key/value plus the untrimmed value Java's quorum parser sees.
pub(super) struct Item {
    pub(super) key: String,
    pub(super) value: String,
    pub(super) raw_value: String,
}

pub(super) struct Parser<'a> {
    pub(super) base_dir: &'a Path,
    pub(super) warnings: Vec<Warning>,
    /// The JVM's system properties as they stand after zoo.cfg was applied.
    pub(super) props: BTreeMap<String, String>,
    /// Property names that zoo.cfg set (for naming them in warnings).
    pub(super) from_cfg: BTreeSet<String>,
    /// Whether a client port is known (from clientPort or this server's line).
    pub(super) client_port_set: bool,
}

impl<'a> Parser<'a> {
    pub(super) fn new(base_dir: &'a Path, system_properties: &[(String, String)]) -> Self {
        Parser {
            base_dir,
            warnings: Vec::new(),
            props: system_properties.iter().cloned().collect(),
            from_cfg: BTreeSet::new(),
            client_port_set: false,
        }
    }

    pub(super) fn warn(&mut self, msg: impl Into<String>) {
        self.warnings.push(Warning(msg.into()));
    }

    pub(super) fn run(mut self, text: &str) -> Result<(ServerConfig, Vec<Warning>), ConfigError> {
        let entries = parse_properties(text)?;
        let items: Vec<Item> = entries
            .iter()
            .map(|e| Item {
                key: java_trim(&e.key).to_owned(),
                value: java_trim(&e.value).to_owned(),
                raw_value: e.value.clone(),
            })
            .collect();

        // Properties keeps the last value of a repeated key.
        let mut last: HashMap<&str, usize> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            if let Some(prev) = last.insert(&item.key, i) {
                self.warn(format!(
                    "{} is set on line {} and again on line {}; the later value wins",
                    item.key, entries[prev].line, entries[i].line
                ));
            }
        }
        let effective: Vec<&Item> = items
            .iter()
            .enumerate()
            .filter(|(i, item)| last[item.key.as_str()] == *i)
            .map(|(_, item)| item)
            .collect();
        let has_dynamic = last.contains_key("dynamicConfigFile");

        let mut q = QuorumKeys::default();
        let mut quorum_items: Vec<&Item> = Vec::new();
        for item in effective {
            if is_quorum_key(&item.key) {
                // Java lets a static "version" through; only the server list must move.
                if has_dynamic && item.key != "version" {
                    return Err(bad(
                        &item.key,
                        &item.value,
                        "must be in the separate dynamic config file when dynamicConfigFile is set",
                    ));
                }
                quorum_items.push(item);
            } else {
                self.apply_key(&item.key, &item.value, &mut q)?;
            }
        }

        let mut config = self.finish_static(&q)?;
        config.raw = items
            .iter()
            .map(|i| (i.key.clone(), i.value.clone()))
            .collect();

        let owned_dynamic;
        let quorum_items = match &q.dynamic_config_file {
            Some(file) => {
                owned_dynamic = self.read_dynamic_file(file)?;
                owned_dynamic.iter().collect()
            }
            None => quorum_items,
        };
        self.setup_quorum(&mut config, &q, &quorum_items)?;
        self.read_system_properties(&mut config)?;
        config.system_properties = self.props.clone();
        Ok((config, self.warnings))
    }

    /// QuorumPeerConfig.parseProperties' per-key handling.
    fn apply_key(&mut self, key: &str, value: &str, q: &mut QuorumKeys) -> Result<(), ConfigError> {
        match key {
            "dataDir" => q.data_dir = Some(value.to_owned()),
            "dataLogDir" => q.data_log_dir = Some(value.to_owned()),
            "clientPort" => q.client_port = Some(strict_int(key, value)?),
            "clientPortAddress" => q.client_port_address = Some(value.to_owned()),
            "secureClientPort" => q.secure_client_port = Some(strict_int(key, value)?),
            "secureClientPortAddress" => q.secure_client_port_address = Some(value.to_owned()),
            "clientPortListenBacklog" => q.listen_backlog = strict_int(key, value)?,
            "tickTime" => q.tick_time = strict_int(key, value)?,
            "maxClientCnxns" => q.max_client_cnxns = strict_int(key, value)?,
            "minSessionTimeout" => q.min_session_timeout = strict_int(key, value)?,
            "maxSessionTimeout" => q.max_session_timeout = strict_int(key, value)?,
            "initLimit" => q.init_limit = strict_int(key, value)?,
            "syncLimit" => q.sync_limit = strict_int(key, value)?,
            "autopurge.snapRetainCount" => q.snap_retain_count = strict_int(key, value)?,
            "autopurge.purgeInterval" => q.purge_interval = strict_int(key, value)?,
            "standaloneEnabled" => q.standalone_enabled = strict_bool(key, value)?,
            "reconfigEnabled" => q.reconfig_enabled = strict_bool(key, value)?,
            "dynamicConfigFile" => q.dynamic_config_file = Some(value.to_owned()),
            "quorum.auth.enableSasl" => q.quorum_sasl = strict_bool(key, value)?,
            "quorum.auth.serverRequireSasl" => q.server_require_sasl = strict_bool(key, value)?,
            "quorum.auth.learnerRequireSasl" => q.learner_require_sasl = strict_bool(key, value)?,
            "metricsProvider.className" => q.metrics_provider = Some(value.to_owned()),
            "electionAlg" => {
                q.election_alg = strict_int(key, value)?;
                if q.election_alg != 3 {
                    return Err(bad(key, value, "only 3 is supported"));
                }
            }
            "peerType" => {
                q.peer_type = match value.to_ascii_lowercase().as_str() {
                    "observer" => LearnerRole::Observer,
                    "participant" => LearnerRole::Participant,
                    _ => return Err(bad(key, value, "expected 'participant' or 'observer'")),
                }
            }
            "observerMasterPort" => q.observer_master_port = strict_int(key, value)?,
            "connectToLearnerMasterLimit" => {
                q.connect_to_learner_master_limit = strict_int(key, value)?
            }
            "multiAddress.reachabilityCheckTimeoutMs" => {
                q.reachability_check_timeout_ms = Some(strict_int(key, value)?)
            }
            "quorumListenOnAllIPs" => q.quorum_listen_on_all_ips = strict_bool(key, value)?,
            "syncEnabled" => q.sync_enabled = strict_bool(key, value)?,
            "localSessionsEnabled" => q.local_sessions_enabled = strict_bool(key, value)?,
            "localSessionsUpgradingEnabled" => {
                q.local_sessions_upgrading_enabled = strict_bool(key, value)?
            }
            "multiAddress.enabled" => q.multi_address_enabled = Some(strict_bool(key, value)?),
            "multiAddress.reachabilityCheckEnabled" => {
                q.reachability_check_enabled = Some(strict_bool(key, value)?)
            }
            // Quorum-only integers: validated as Java does, otherwise unused.
            "quorum.cnxn.threads.size" => {
                strict_int(key, value)?;
            }
            "jvm.pause.info-threshold.ms"
            | "jvm.pause.warn-threshold.ms"
            | "jvm.pause.sleep.time.ms" => {
                java_parse_long(value)
                    .ok_or_else(|| bad(key, value, "expected a 64-bit decimal integer"))?;
            }
            "sslQuorum" | "sslQuorumReloadCertFiles" | "jvm.pause.monitor" => {
                strict_bool(key, value)?;
            }
            "portUnification" => {
                if strict_bool(key, value)? {
                    self.warn("portUnification ignored: rzk does not support TLS");
                }
            }
            "quorum.auth.learner.saslLoginContext"
            | "quorum.auth.server.saslLoginContext"
            | "quorum.auth.kerberos.servicePrincipal"
            | "oraclePath" => {}
            _ if key.starts_with("metricsProvider.") => {}
            _ => {
                // Java: System.setProperty("zookeeper." + key, value).
                if let Some(w) = property_key_warning(key) {
                    self.warn(w);
                }
                let name = format!("zookeeper.{key}");
                self.from_cfg.insert(name.clone());
                self.props.insert(name, value.to_owned());
            }
        }
        Ok(())
    }

    /// The checks at the end of parseProperties, before the quorum part.
    fn finish_static(&mut self, q: &QuorumKeys) -> Result<ServerConfig, ConfigError> {
        const SASL: &str = "quorum.auth.enableSasl";
        const SERVER_SASL: &str = "quorum.auth.serverRequireSasl";
        const LEARNER_SASL: &str = "quorum.auth.learnerRequireSasl";
        if !q.quorum_sasl && q.server_require_sasl {
            return Err(bad(
                SERVER_SASL,
                "true",
                format!("cannot be enabled while {SASL} is false"),
            ));
        }
        if !q.quorum_sasl && q.learner_require_sasl {
            return Err(bad(
                LEARNER_SASL,
                "true",
                format!("cannot be enabled while {SASL} is false"),
            ));
        }
        if !q.learner_require_sasl && q.server_require_sasl {
            return Err(bad(
                SERVER_SASL,
                "true",
                format!("cannot be enabled while {LEARNER_SASL} is false"),
            ));
        }

        let mut snap_retain = q.snap_retain_count;
        if snap_retain < MIN_SNAP_RETAIN_COUNT {
            self.warn(format!(
                "autopurge.snapRetainCount={snap_retain} is below the minimum; using {MIN_SNAP_RETAIN_COUNT}"
            ));
            snap_retain = MIN_SNAP_RETAIN_COUNT;
        }

        let data_dir = self.dir("dataDir", q.data_dir.as_deref())?.ok_or_else(|| ConfigError::Missing {
            key: "dataDir".to_owned(),
            reason: "expected the directory for snapshots (and, without dataLogDir, the transaction log)"
                .to_owned(),
        })?;
        let data_log_dir = self
            .dir("dataLogDir", q.data_log_dir.as_deref())?
            .unwrap_or_else(|| data_dir.clone());

        // 3.9 semantics: absent means "not set", 0 means any free port.
        let client_port = match q.client_port {
            None => {
                if let Some(addr) = &q.client_port_address {
                    return Err(bad(
                        "clientPortAddress",
                        addr,
                        "clientPortAddress is set but clientPort is not",
                    ));
                }
                None
            }
            Some(p) => {
                let p = port("clientPort", p)?;
                let ip = match &q.client_port_address {
                    None => None,
                    Some(addr) => {
                        if addr.is_empty() {
                            self.warn("clientPortAddress is empty; Java resolves that to the loopback address");
                        }
                        let ip = resolve_host(addr).ok_or_else(|| {
                            bad(
                                "clientPortAddress",
                                addr,
                                "expected an IP address or a resolvable host name",
                            )
                        })?;
                        specific(ip)
                    }
                };
                Some((p, ip))
            }
        };

        match q.secure_client_port {
            None => {
                if let Some(addr) = &q.secure_client_port_address {
                    return Err(bad(
                        "secureClientPortAddress",
                        addr,
                        "secureClientPortAddress is set but secureClientPort is not",
                    ));
                }
            }
            Some(p) => {
                port("secureClientPort", p)?;
                self.warn("secureClientPort ignored: rzk does not support TLS");
            }
        }

        let tick = q.tick_time;
        if tick <= 0 {
            return Err(bad(
                "tickTime",
                &tick.to_string(),
                "expected a positive number of milliseconds",
            ));
        }
        // Java computes these in int; i64 avoids its overflow for huge ticks.
        let min = if q.min_session_timeout == -1 {
            2 * i64::from(tick)
        } else {
            i64::from(q.min_session_timeout)
        };
        let max = if q.max_session_timeout == -1 {
            20 * i64::from(tick)
        } else {
            i64::from(q.max_session_timeout)
        };
        if min > max {
            return Err(bad(
                "minSessionTimeout",
                &min.to_string(),
                format!("must not be larger than maxSessionTimeout ({max})"),
            ));
        }
        if max < 0 {
            return Err(bad(
                "maxSessionTimeout",
                &max.to_string(),
                "expected a non-negative number of milliseconds",
            ));
        }
        let min = if min < 0 {
            self.warn(format!(
                "minSessionTimeout={min} is negative; treating it as 0 (no lower bound)"
            ));
            0
        } else {
            min
        };
        let as_u32 = |key: &str, v: i64| {
            u32::try_from(v).map_err(|_| {
                bad(
                    key,
                    &v.to_string(),
                    "too large (Java's int arithmetic overflows)",
                )
            })
        };
        let min_session_timeout_ms = as_u32("minSessionTimeout", min)?;
        let max_session_timeout_ms = as_u32("maxSessionTimeout", max)?;

        if let Some(class) = &q.metrics_provider {
            if class != DEFAULT_METRICS_PROVIDER {
                self.warn(format!(
                    "metricsProvider.className={class} ignored: rzk has its own metrics"
                ));
            }
        }

        let non_negative = |key: &str, v: i32| {
            u32::try_from(v)
                .map_err(|_| bad(key, &v.to_string(), "expected a non-negative integer"))
        };
        let mut config = ServerConfig::with_defaults(data_dir, 0);
        config.data_log_dir = data_log_dir;
        config.tick_time_ms = tick as u32;
        config.min_session_timeout_ms = min_session_timeout_ms;
        config.max_session_timeout_ms = max_session_timeout_ms;
        config.client_port_listen_backlog = q.listen_backlog;
        // Java treats maxClientCnxns <= 0 and purgeInterval <= 0 as "off".
        config.max_client_cnxns = q.max_client_cnxns.max(0) as u32;
        config.autopurge_purge_interval_hours = q.purge_interval.max(0) as u32;
        config.autopurge_snap_retain_count = snap_retain as u32;
        config.init_limit = non_negative("initLimit", q.init_limit)?;
        config.sync_limit = non_negative("syncLimit", q.sync_limit)?;
        config.standalone_enabled = q.standalone_enabled;
        self.finish_quorum_keys(q, &mut config)?;
        config.reconfig_enabled = q.reconfig_enabled;
        if let Some((p, ip)) = client_port {
            config.client_port = p;
            config.client_port_address = ip;
        }
        // Remember whether clientPort was given; setup_quorum may still supply it.
        self.client_port_set = client_port.is_some();
        Ok(config)
    }

    /// The quorum-only keys of parseProperties, and the multiAddress
    /// defaults QuorumPeerConfig takes from the JVM properties.
    fn finish_quorum_keys(
        &mut self,
        q: &QuorumKeys,
        config: &mut ServerConfig,
    ) -> Result<(), ConfigError> {
        config.election_alg = q.election_alg as u32;
        config.peer_type = q.peer_type;
        config.quorum_listen_on_all_ips = q.quorum_listen_on_all_ips;
        config.sync_enabled = q.sync_enabled;
        config.local_sessions_enabled = q.local_sessions_enabled;
        config.local_sessions_upgrading_enabled = q.local_sessions_upgrading_enabled;
        config.connect_to_learner_master_limit = u32::try_from(q.connect_to_learner_master_limit)
            .unwrap_or_else(|_| {
                self.warn(format!(
                    "connectToLearnerMasterLimit={} is negative; using 0 (fall back to initLimit)",
                    q.connect_to_learner_master_limit
                ));
                0
            });
        // Java logs "observerMasterPort is not set" for any value <= 0.
        config.observer_master_port = match q.observer_master_port {
            p if p <= 0 => None,
            p => Some(port("observerMasterPort", p)?),
        };

        // Field initialisers: Boolean.parseBoolean / Integer.parseInt of the JVM property.
        const ENABLED: &str = "zookeeper.multiAddress.enabled";
        const CHECK: &str = "zookeeper.multiAddress.reachabilityCheckEnabled";
        const TIMEOUT: &str = "zookeeper.multiAddress.reachabilityCheckTimeoutMs";
        let jvm_true = |p: &Self, name: &str, default: bool| {
            p.props
                .get(name)
                .map_or(default, |v| v.eq_ignore_ascii_case("true"))
        };
        config.multi_address_enabled = q
            .multi_address_enabled
            .unwrap_or_else(|| jvm_true(self, ENABLED, false));
        config.multi_address_reachability_check_enabled = q
            .reachability_check_enabled
            .unwrap_or_else(|| jvm_true(self, CHECK, true));
        let timeout = match q.reachability_check_timeout_ms {
            Some(t) => t,
            None => match self.props.get(TIMEOUT) {
                None => 1000,
                Some(v) => java_parse_int(v).ok_or_else(|| {
                    bad(
                        &format!("-D{TIMEOUT}"),
                        v,
                        "expected a 32-bit decimal integer (Java fails to start)",
                    )
                })?,
            },
        };
        // Java starts, then each InetAddress.isReachable call rejects a negative timeout.
        config.multi_address_reachability_check_timeout_ms =
            u32::try_from(timeout).unwrap_or_else(|_| {
                self.warn(format!(
                    "multiAddress.reachabilityCheckTimeoutMs={timeout} is negative; using 1000 \
                     (Java would fail every reachability check)"
                ));
                1000
            });
        Ok(())
    }

    /// A dataDir-like path: absolute, with Java's relative-path warning.
    fn dir(&mut self, key: &str, value: Option<&str>) -> Result<Option<PathBuf>, ConfigError> {
        let Some(value) = value else { return Ok(None) };
        if value.is_empty() {
            // Java crashes here (its relative-path check takes a 2-char prefix).
            return Err(bad(key, value, "expected a directory path"));
        }
        if let Some(w) = relative_path_warning(value) {
            self.warn(format!("{key}: {w}"));
        }
        Ok(Some(java_absolute_path(value, self.base_dir)))
    }
}
