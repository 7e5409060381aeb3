//! zoo.cfg parsing, following Apache ZooKeeper 3.8/3.9's `QuorumPeerConfig`.
//!
//! How Java reads the file, and therefore how this module reads it:
//!
//! * The file is a `java.util.Properties` file (`key=value`, `key: value` or
//!   `key value`; `#`/`!` comment lines; backslash continuations and escapes).
//!   Keys and values are then trimmed by `QuorumPeerConfig`; a repeated key
//!   silently replaces the earlier one.
//! * `QuorumPeerConfig.parseProperties` handles a fixed set of keys (tickTime,
//!   dataDir, clientPort, ...) with strict validation: a bad integer or boolean
//!   aborts startup.  Those become [`ConfigError`]s here.
//! * Every other key `k` is turned into the JVM system property
//!   `zookeeper.k`, and whichever Java class cares reads it later, usually
//!   with `Integer.getInteger`/`Boolean.getBoolean`, which fall back to the
//!   default on a malformed value.  Here such values are read the same way
//!   and a malformed one gives a [`Warning`] and the default.  So `snapCount`,
//!   `forceSync`, `4lw.commands.whitelist`, `DigestAuthenticationProvider.superDigest`
//!   and friends are written *without* the `zookeeper.` prefix in zoo.cfg.
//! * Some settings are only read from un-prefixed JVM properties
//!   (`jute.maxbuffer`, `readonlymode.enabled`, `znode.container.*`) and so
//!   cannot be set from zoo.cfg at all.  Pass them with
//!   [`ServerConfig::parse_with_system_properties`]
//!   (see [`system_properties_from_jvm_flags`]).
//! * Java never complains about unknown keys.  This module warns about them,
//!   and about keys Java honours but rzk does not implement.
//!
//! Relative paths (dataDir, dataLogDir, dynamicConfigFile) are resolved as
//! `java.io.File` does: against the process's working directory, *not* the
//! directory holding zoo.cfg.  [`ServerConfig::load`] therefore passes the
//! current directory as `base_dir`.

//!
//! Layout: this file holds [`ServerConfig`], the errors and the public entry
//! points; `properties` reads the `java.util.Properties` syntax, `values`
//! Java's number, boolean, path and host conventions, `parser` drives the
//! parse and handles the keys `parseProperties` knows itself, `server_keys`
//! the keys that become `zookeeper.*` system properties, and `ensemble` the
//! `server.N` lines, myid and the other quorum settings.

mod ensemble;
mod parser;
mod properties;
mod server_keys;
mod values;

#[cfg(test)]
mod tests;

pub use ensemble::{ClientAddress, LearnerRole, QuorumServerAddress, QuorumServerLine};
pub use server_keys::{
    system_properties_from_jvm_flags, FourLetterWhitelist, SnapshotCompression, SnapshotSizeFactor,
};

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use parser::Parser;
use values::relative_path_warning;

/// ZooKeeperServer.DEFAULT_TICK_TIME.
pub const DEFAULT_TICK_TIME_MS: u32 = 3000;
/// BinaryInputArchive's default for `jute.maxbuffer` (just under 1 MiB).
pub const DEFAULT_JUTE_MAXBUFFER: usize = 0xfffff;
/// Directory Java puts snapshots and logs in, below dataDir/dataLogDir.
pub const VERSION_DIR: &str = "version-2";

const DEFAULT_MAX_CLIENT_CNXNS: i32 = 60;
const MIN_SNAP_RETAIN_COUNT: i32 = 3;
const DEFAULT_SNAP_COUNT: i32 = 100_000;
const DEFAULT_GLOBAL_OUTSTANDING_LIMIT: i32 = 1000;
const DEFAULT_SNAP_SIZE_LIMIT_KB: i64 = 4_194_304;
const DEFAULT_PRE_ALLOC_SIZE_KB: u64 = 65_536;
const DEFAULT_FSYNC_WARNING_THRESHOLD_MS: i64 = 1000;
const DEFAULT_ADMIN_PORT: u16 = 8080;
/// QuorumCnxManager's connect timeout.
pub const DEFAULT_CNX_TIMEOUT_MS: u32 = 5000;
const DEFAULT_ELECTION_PORT_BIND_RETRY: u32 = 3;
/// ZKDatabase.DEFAULT_COMMIT_LOG_COUNT, also the minimum.
const MIN_COMMIT_LOG_COUNT: u32 = 500;
const DEFAULT_MAX_CONCURRENT_SNAP_SYNCS: u32 = 10;
const DEFAULT_MAX_CONCURRENT_DIFF_SYNCS: u32 = 100;
const DEFAULT_METRICS_PROVIDER: &str = "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider";

/// Settings of a standalone server or quorum peer, as Java 3.8/3.9 would run with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    // ---- keys handled by QuorumPeerConfig itself ----
    /// tickTime.
    pub tick_time_ms: u32,
    /// dataDir, made absolute (snapshots live in `data_dir/version-2`).
    pub data_dir: PathBuf,
    /// dataLogDir, made absolute; defaults to `data_dir`.
    pub data_log_dir: PathBuf,
    /// clientPort, or the client port of this server's `server.N` line.
    /// 0 means "any free port" (Java 3.9 semantics).
    pub client_port: u16,
    /// clientPortAddress; `None` is the wildcard address (Java binds 0.0.0.0
    /// as a dual-stack wildcard, so it is normalised to `None` too).
    pub client_port_address: Option<IpAddr>,
    /// clientPortListenBacklog; -1 (or any value < 1) means the OS default.
    pub client_port_listen_backlog: i32,
    /// maxClientCnxns: per client IP; 0 = unlimited.
    pub max_client_cnxns: u32,
    /// minSessionTimeout; defaults to 2 * tickTime.
    pub min_session_timeout_ms: u32,
    /// maxSessionTimeout; defaults to 20 * tickTime.
    pub max_session_timeout_ms: u32,
    /// autopurge.snapRetainCount (at least 3).
    pub autopurge_snap_retain_count: u32,
    /// autopurge.purgeInterval in hours; 0 = no purging.
    pub autopurge_purge_interval_hours: u32,
    /// server.N lines (from zoo.cfg or dynamicConfigFile), sorted by id.
    pub servers: Vec<QuorumServerLine>,
    /// Contents of `dataDir/myid`, when that file exists.
    pub my_id: Option<u64>,
    /// initLimit (quorum only).
    pub init_limit: u32,
    /// syncLimit (quorum only).
    pub sync_limit: u32,
    /// standaloneEnabled.
    pub standalone_enabled: bool,
    /// reconfigEnabled.
    pub reconfig_enabled: bool,
    /// peerType as in effect: the role of this server's own `server.N` line
    /// when there is one (Java's setupPeerType lets the list win), else peerType.
    pub peer_type: LearnerRole,
    /// electionAlg (3, the only value Java 3.8 accepts).
    pub election_alg: u32,
    /// quorumListenOnAllIPs: bind the quorum and election ports on the wildcard address.
    pub quorum_listen_on_all_ips: bool,
    /// syncEnabled (observers log transactions and take snapshots);
    /// -Dzookeeper.observer.syncEnabled (or zoo.cfg `observer.syncEnabled`) overrides it.
    pub sync_enabled: bool,
    /// connectToLearnerMasterLimit in ticks; 0 means Java's fallback to initLimit.
    pub connect_to_learner_master_limit: u32,
    /// observerMasterPort; `None` when unset or <= 0.
    pub observer_master_port: Option<u16>,
    /// localSessionsEnabled.
    pub local_sessions_enabled: bool,
    /// localSessionsUpgradingEnabled.
    pub local_sessions_upgrading_enabled: bool,
    /// multiAddress.enabled (default: -Dzookeeper.multiAddress.enabled, else false).
    /// Parsing `|`-separated server lines depends only on the JVM property, as in Java.
    pub multi_address_enabled: bool,
    /// multiAddress.reachabilityCheckEnabled (default true).
    pub multi_address_reachability_check_enabled: bool,
    /// multiAddress.reachabilityCheckTimeoutMs (default 1000).
    pub multi_address_reachability_check_timeout_ms: u32,
    /// `group.G=sid:sid:...` lines of a hierarchical quorum, sorted by group
    /// id; members in the order written.  Empty for majority quorums.
    pub groups: Vec<(u64, Vec<u64>)>,
    /// `weight.SID=w` with Java's default of 1 for every participant when the
    /// quorum is hierarchical.  Empty for majority quorums.
    pub weights: BTreeMap<u64, u64>,
    /// The quorum configuration version: the static `version` key or the
    /// dynamic file's name suffix (hex); 0 when neither gives one.
    pub config_version: u64,

    // ---- `zookeeper.*` system properties, written without the prefix in zoo.cfg ----
    /// 4lw.commands.whitelist.
    pub four_letter_words: FourLetterWhitelist,
    /// extendedTypesEnabled (TTL nodes).
    pub extended_types_enabled: bool,
    /// emulate353TTLNodes.
    pub emulate_353_ttl_nodes: bool,
    /// globalOutstandingLimit.
    pub global_outstanding_limit: u32,
    /// snapCount (at least 2).
    pub snap_count: u64,
    /// snapSizeLimitInKb; 0 = no size-triggered snapshots.
    pub snap_size_limit_kb: u64,
    /// txnLogSizeLimitInKb; 0 = no limit.
    pub txn_log_size_limit_kb: u64,
    /// forceSync (only the exact value `no` turns it off).
    pub force_sync: bool,
    /// fsync.warningthresholdms.
    pub fsync_warning_threshold_ms: u64,
    /// preAllocSize in KiB; 0 = no preallocation.
    pub pre_alloc_size_kb: u64,
    /// snapshot.compression.method.
    pub snapshot_compression: SnapshotCompression,
    /// snapshot.trust.empty.
    pub snapshot_trust_empty: bool,
    /// datadir.autocreate.
    pub datadir_autocreate: bool,
    /// db.autocreate.
    pub db_autocreate: bool,
    /// digest.enabled (data-tree digests in logs and snapshots).
    pub digest_enabled: bool,
    /// closeSessionTxn.enabled.
    pub close_session_txn_enabled: bool,
    /// DigestAuthenticationProvider.superDigest (`user:base64sha1`).
    pub super_digest: Option<String>,
    /// DigestAuthenticationProvider.enabled.
    pub digest_auth_enabled: bool,
    /// DigestAuthenticationProvider.digestAlg.
    pub digest_algorithm: String,
    /// skipACL (only the exact value `yes` turns it on).
    pub skip_acl: bool,
    /// enforceQuota.
    pub enforce_quota: bool,
    /// enableEagerACLCheck.
    pub enable_eager_acl_check: bool,
    /// enforce.auth.enabled (or sessionRequireClientSASLAuth).
    pub enforce_auth_enabled: bool,
    /// enforce.auth.schemes.
    pub enforce_auth_schemes: Vec<String>,
    /// maxCnxns: server-wide connection limit; 0 = unlimited.
    pub max_cnxns: u32,
    /// clientTcpKeepAlive.
    pub client_tcp_keep_alive: bool,
    /// jute.maxbuffer.extrasize (at least 1024; defaults to jute_maxbuffer).
    pub jute_maxbuffer_extrasize: usize,
    /// admin.enableServer (anything but the exact value `false` enables it).
    pub admin_server_enabled: bool,
    /// admin.serverAddress.
    pub admin_server_address: String,
    /// admin.serverPort.
    pub admin_server_port: u16,
    /// admin.commandURL.
    pub admin_command_url: String,
    /// admin.idleTimeout (ms): how long an idle AdminServer connection stays open.
    pub admin_idle_timeout_ms: u64,
    /// The JVM system properties Java would run with: the -D flags given,
    /// then those zoo.cfg sets (`zookeeper.<key>`); the AdminServer's
    /// `system_properties` lists them.
    pub system_properties: BTreeMap<String, String>,

    // ---- JVM-only system properties (not settable from zoo.cfg) ----
    /// -Djute.maxbuffer.
    pub jute_maxbuffer: usize,
    /// -Dznode.container.checkIntervalMs.
    pub container_check_interval_ms: u64,
    /// -Dznode.container.maxPerMinute.
    pub container_max_per_minute: u32,
    /// -Dznode.container.maxNeverUsedIntervalMs; 0 = never delete unused containers.
    pub container_max_never_used_interval_ms: u64,

    // ---- quorum settings Java reads from `zookeeper.*` system properties ----
    /// cnxTimeout: connect timeout of the election connections (ms); 0 = none.
    pub cnx_timeout_ms: u32,
    /// electionPortBindRetry: attempts to bind the election port; 0 = forever.
    pub election_port_bind_retry: u32,
    /// leaderServes: only the exact value `no` keeps clients off the leader.
    pub leader_serves: bool,
    /// commitLogCount: committed proposals kept in memory for DIFF syncs (at least 500).
    pub commit_log_count: u32,
    /// snapshotSizeFactor: send a snapshot instead of a DIFF once the log
    /// to send exceeds this fraction of the snapshot size.
    pub snapshot_size_factor: SnapshotSizeFactor,
    /// forceSnapshotSync: always sync learners with a snapshot.
    pub force_snapshot_sync: bool,
    /// leader.maxConcurrentSnapSyncs (at least 1).
    pub max_concurrent_snap_syncs: u32,
    /// leader.maxConcurrentDiffSyncs (at least 1).
    pub max_concurrent_diff_syncs: u32,
    /// leader.maxTimeToWaitForEpoch in ms; `None` (Java's -1) waits forever.
    pub max_time_to_wait_for_epoch_ms: Option<u32>,

    /// Every key/value of zoo.cfg in file order, trimmed as Java trims them
    /// (repeated keys appear repeatedly; the last one is in effect).
    pub raw: Vec<(String, String)>,
}

/// Something worth logging: ignored keys, values Java would silently replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning(pub String);

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a configuration cannot be used.
#[derive(Debug)]
pub enum ConfigError {
    /// A file (zoo.cfg, the dynamic config file, myid) could not be read.
    Io { path: PathBuf, err: io::Error },
    /// The Properties syntax itself is broken (a malformed `\uXXXX` escape).
    Syntax { line: usize, reason: String },
    /// A key has a value Java would reject.
    BadValue {
        key: String,
        value: String,
        reason: String,
    },
    /// A required key is absent.
    Missing { key: String, reason: String },
    /// `dataDir/myid` does not hold a server id.
    BadMyId { path: PathBuf, content: String },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Io { path, err } => write!(f, "cannot read {}: {err}", path.display()),
            ConfigError::Syntax { line, reason } => write!(f, "line {line}: {reason}"),
            ConfigError::BadValue { key, value, reason } => {
                write!(f, "invalid value '{value}' for {key}: {reason}")
            }
            ConfigError::Missing { key, reason } => write!(f, "{key} is not set: {reason}"),
            ConfigError::BadMyId { path, content } => write!(
                f,
                "invalid server id '{content}' in {}: expected a non-negative integer",
                path.display()
            ),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Io { err, .. } => Some(err),
            _ => None,
        }
    }
}

fn bad(key: &str, value: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::BadValue {
        key: key.to_owned(),
        value: value.to_owned(),
        reason: reason.into(),
    }
}

impl ServerConfig {
    /// A configuration with every Java default, as if zoo.cfg held only
    /// `dataDir` and `clientPort`.  `data_dir` is used as given.
    pub fn with_defaults(data_dir: PathBuf, client_port: u16) -> ServerConfig {
        let tick = DEFAULT_TICK_TIME_MS;
        ServerConfig {
            tick_time_ms: tick,
            data_log_dir: data_dir.clone(),
            data_dir,
            client_port,
            client_port_address: None,
            client_port_listen_backlog: -1,
            max_client_cnxns: DEFAULT_MAX_CLIENT_CNXNS as u32,
            min_session_timeout_ms: 2 * tick,
            max_session_timeout_ms: 20 * tick,
            autopurge_snap_retain_count: MIN_SNAP_RETAIN_COUNT as u32,
            autopurge_purge_interval_hours: 0,
            servers: Vec::new(),
            my_id: None,
            init_limit: 0,
            sync_limit: 0,
            standalone_enabled: true,
            reconfig_enabled: false,
            peer_type: LearnerRole::Participant,
            election_alg: 3,
            quorum_listen_on_all_ips: false,
            sync_enabled: true,
            connect_to_learner_master_limit: 0,
            observer_master_port: None,
            local_sessions_enabled: false,
            local_sessions_upgrading_enabled: false,
            multi_address_enabled: false,
            multi_address_reachability_check_enabled: true,
            multi_address_reachability_check_timeout_ms: 1000,
            groups: Vec::new(),
            weights: BTreeMap::new(),
            config_version: 0,
            four_letter_words: FourLetterWhitelist::default(),
            extended_types_enabled: false,
            emulate_353_ttl_nodes: false,
            global_outstanding_limit: DEFAULT_GLOBAL_OUTSTANDING_LIMIT as u32,
            snap_count: DEFAULT_SNAP_COUNT as u64,
            snap_size_limit_kb: DEFAULT_SNAP_SIZE_LIMIT_KB as u64,
            txn_log_size_limit_kb: 0,
            force_sync: true,
            fsync_warning_threshold_ms: DEFAULT_FSYNC_WARNING_THRESHOLD_MS as u64,
            pre_alloc_size_kb: DEFAULT_PRE_ALLOC_SIZE_KB,
            snapshot_compression: SnapshotCompression::Checked,
            snapshot_trust_empty: false,
            datadir_autocreate: true,
            db_autocreate: true,
            digest_enabled: true,
            close_session_txn_enabled: true,
            super_digest: None,
            digest_auth_enabled: true,
            digest_algorithm: "SHA1".to_owned(),
            skip_acl: false,
            enforce_quota: false,
            enable_eager_acl_check: false,
            enforce_auth_enabled: false,
            enforce_auth_schemes: Vec::new(),
            max_cnxns: 0,
            client_tcp_keep_alive: false,
            jute_maxbuffer_extrasize: DEFAULT_JUTE_MAXBUFFER,
            admin_server_enabled: true,
            admin_server_address: "0.0.0.0".to_owned(),
            admin_server_port: DEFAULT_ADMIN_PORT,
            admin_command_url: "/commands".to_owned(),
            admin_idle_timeout_ms: 30_000,
            system_properties: BTreeMap::new(),
            jute_maxbuffer: DEFAULT_JUTE_MAXBUFFER,
            container_check_interval_ms: 60_000,
            container_max_per_minute: 10_000,
            container_max_never_used_interval_ms: 0,
            cnx_timeout_ms: DEFAULT_CNX_TIMEOUT_MS,
            election_port_bind_retry: DEFAULT_ELECTION_PORT_BIND_RETRY,
            leader_serves: true,
            commit_log_count: MIN_COMMIT_LOG_COUNT,
            snapshot_size_factor: SnapshotSizeFactor::DEFAULT,
            force_snapshot_sync: false,
            max_concurrent_snap_syncs: DEFAULT_MAX_CONCURRENT_SNAP_SYNCS,
            max_concurrent_diff_syncs: DEFAULT_MAX_CONCURRENT_DIFF_SYNCS,
            max_time_to_wait_for_epoch_ms: None,
            raw: Vec::new(),
        }
    }

    /// Reads and parses a zoo.cfg; relative paths resolve against the current directory.
    pub fn load(path: &Path) -> Result<(ServerConfig, Vec<Warning>), ConfigError> {
        Self::load_with_system_properties(path, &[])
    }

    /// [`Self::load`] with JVM system properties (`-Dk=v`) in effect; zoo.cfg
    /// entries override them, as Java's System.setProperty calls do.
    pub fn load_with_system_properties(
        path: &Path,
        system_properties: &[(String, String)],
    ) -> Result<(ServerConfig, Vec<Warning>), ConfigError> {
        let bytes = fs::read(path).map_err(|err| ConfigError::Io {
            path: path.to_path_buf(),
            err,
        })?;
        let cwd = std::env::current_dir().map_err(|err| ConfigError::Io {
            path: PathBuf::from("."),
            err,
        })?;
        let (config, mut warnings) =
            Self::parse_with_system_properties(&decode_text(bytes), &cwd, system_properties)?;
        if let Some(w) = relative_path_warning(&path.to_string_lossy()) {
            warnings.insert(0, w);
        }
        Ok((config, warnings))
    }

    /// Parses zoo.cfg text.  `base_dir` (absolute) stands in for Java's working
    /// directory: relative dataDir/dataLogDir/dynamicConfigFile are resolved against it.
    /// Reads `dataDir/myid` and the dynamic config file when present.
    pub fn parse(text: &str, base_dir: &Path) -> Result<(ServerConfig, Vec<Warning>), ConfigError> {
        Self::parse_with_system_properties(text, base_dir, &[])
    }

    /// [`Self::parse`] with JVM system properties (`-Dk=v`) in effect.
    pub fn parse_with_system_properties(
        text: &str,
        base_dir: &Path,
        system_properties: &[(String, String)],
    ) -> Result<(ServerConfig, Vec<Warning>), ConfigError> {
        Parser::new(base_dir, system_properties).run(text)
    }

    /// True when Java would start a quorum peer rather than a standalone
    /// server: standaloneEnabled=false, or more than one participant.
    pub fn is_distributed(&self) -> bool {
        let participants = self
            .servers
            .iter()
            .filter(|s| s.role == LearnerRole::Participant)
            .count();
        !self.standalone_enabled || participants > 1
    }

    /// Body of the `conf` four-letter word, as Java prints it: ZooKeeperServer's
    /// dumpConf for a standalone server, plus QuorumZooKeeperServer's quorum
    /// part (limits, ports, peerType, membership) for a quorum peer.
    /// Directory sizes are measured now.
    pub fn conf_report(&self) -> String {
        let snap_size = dir_size(&self.data_dir.join(VERSION_DIR));
        let log_size = dir_size(&self.data_log_dir.join(VERSION_DIR));
        self.conf_report_with_sizes(snap_size, log_size)
    }

    /// [`Self::conf_report`] with given sizes: `data_dir_size` is the byte size
    /// of `data_dir/version-2`, `data_log_size` that of `data_log_dir/version-2`
    /// (the 3.8.4+/3.9.1+ meaning; earlier releases printed them swapped).
    /// A quorum peer's membership carries the parsed [`Self::config_version`].
    pub fn conf_report_with_sizes(&self, data_dir_size: u64, data_log_size: u64) -> String {
        self.conf_report_with_version(data_dir_size, data_log_size, self.config_version)
    }

    /// [`Self::conf_report_with_sizes`] with the quorum configuration version
    /// in effect now (a leader gives an unversioned configuration a new
    /// version when it is elected).
    pub fn conf_report_with_version(
        &self,
        data_dir_size: u64,
        data_log_size: u64,
        config_version: u64,
    ) -> String {
        let quorum = self.is_distributed();
        // No TLS listener in rzk, so Java's "no secure port" value; a standalone
        // ZooKeeperServer always reports serverId 0, a quorum peer its myid.
        let mut out = format!(
            "clientPort={}\nsecureClientPort=-1\ndataDir={}\ndataDirSize={}\n\
             dataLogDir={}\ndataLogSize={}\ntickTime={}\nmaxClientCnxns={}\n\
             minSessionTimeout={}\nmaxSessionTimeout={}\nclientPortListenBacklog={}\nserverId={}\n",
            self.client_port,
            self.data_dir.join(VERSION_DIR).display(),
            data_dir_size,
            self.data_log_dir.join(VERSION_DIR).display(),
            data_log_size,
            self.tick_time_ms,
            self.max_client_cnxns,
            self.min_session_timeout_ms,
            self.max_session_timeout_ms,
            self.client_port_listen_backlog,
            if quorum { self.my_id.unwrap_or(0) } else { 0 },
        );
        if quorum {
            // MultipleAddresses.getAllPorts: distinct ports, joined by '|'.
            let ports = |port: fn(&QuorumServerAddress) -> u16| {
                let mut seen: Vec<u16> = Vec::new();
                for a in self.own_server().map_or(&[][..], |s| &s.addresses[..]) {
                    if !seen.contains(&port(a)) {
                        seen.push(port(a));
                    }
                }
                seen.iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join("|")
            };
            out.push_str(&format!(
                "initLimit={}\nsyncLimit={}\nelectionAlg={}\nelectionPort={}\nquorumPort={}\n\
                 peerType={}\nmembership: \n{}",
                self.init_limit,
                self.sync_limit,
                self.election_alg,
                ports(|a| a.election_port),
                ports(|a| a.quorum_port),
                // LearnerType's ordinal.
                match self.peer_type {
                    LearnerRole::Participant => 0,
                    LearnerRole::Observer => 1,
                },
                self.membership_report(config_version),
            ));
        }
        out
    }
}

/// Java's File.length()/listFiles() walk: missing or unreadable entries count 0.
fn dir_size(path: &Path) -> u64 {
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => fs::read_dir(path)
            .map(|entries| entries.flatten().map(|e| dir_size(&e.path())).sum())
            .unwrap_or(0),
        Ok(meta) => meta.len(),
        Err(_) => 0,
    }
}

/// Java reads zoo.cfg as ISO-8859-1; UTF-8 is accepted here (so non-ASCII
/// paths mean what the operator wrote), Latin-1 when the bytes are not UTF-8.
fn decode_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| e.into_bytes().iter().map(|&b| b as char).collect())
}
