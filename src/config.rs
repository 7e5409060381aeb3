//! zoo.cfg parsing for a standalone server, following Apache ZooKeeper 3.8/3.9.
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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::fs;
use std::io;
use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs};
use std::path::{Path, PathBuf};

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
const DEFAULT_METRICS_PROVIDER: &str = "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider";

/// Settings of a standalone server, as Java 3.8/3.9 would run with them.
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

    // ---- JVM-only system properties (not settable from zoo.cfg) ----
    /// -Djute.maxbuffer.
    pub jute_maxbuffer: usize,
    /// -Dznode.container.checkIntervalMs.
    pub container_check_interval_ms: u64,
    /// -Dznode.container.maxPerMinute.
    pub container_max_per_minute: u32,
    /// -Dznode.container.maxNeverUsedIntervalMs; 0 = never delete unused containers.
    pub container_max_never_used_interval_ms: u64,

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

/// snapshot.compression.method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SnapshotCompression {
    /// Plain snapshot with an Adler32 checksum (`""`, the default).
    #[default]
    Checked,
    /// `gz`: files named `snapshot.<zxid>.gz`.
    Gzip,
    /// `snappy`: files named `snapshot.<zxid>.snappy`.
    Snappy,
}

impl SnapshotCompression {
    /// Suffix Java appends to snapshot file names in this mode.
    pub fn file_extension(self) -> &'static str {
        match self {
            SnapshotCompression::Checked => "",
            SnapshotCompression::Gzip => ".gz",
            SnapshotCompression::Snappy => ".snappy",
        }
    }
}

impl fmt::Display for SnapshotCompression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SnapshotCompression::Checked => "'' (uncompressed)",
            SnapshotCompression::Gzip => "gz",
            SnapshotCompression::Snappy => "snappy",
        })
    }
}

/// Which four-letter words the server answers (`4lw.commands.whitelist`).
///
/// As in Java: unset means only `srvr`; entries are comma separated and
/// trimmed; `*` enables every known command; `srvr` is always enabled (zkServer.sh
/// needs it) and `isro` is added when -Dreadonlymode.enabled=true.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FourLetterWhitelist {
    enabled: BTreeSet<String>,
}

impl FourLetterWhitelist {
    /// Every command Java 3.8 knows (FourLetterCommands.cmd2String).
    pub const KNOWN: [&'static str; 19] = [
        "conf",
        "cons",
        "crst",
        "dirs",
        "dump",
        "envi",
        "gtmk",
        "ruok",
        "stmk",
        "srst",
        "srvr",
        "stat",
        "wchc",
        "wchp",
        "wchs",
        "mntr",
        "isro",
        "telnet close",
        "hash",
    ];

    /// Builds the list from the property value (None = property unset).
    pub fn from_property(value: Option<&str>, read_only_mode: bool) -> Self {
        let mut enabled = BTreeSet::new();
        for item in value.into_iter().flat_map(|v| v.split(',')) {
            let item = java_trim(item);
            if item == "*" {
                enabled.extend(Self::KNOWN.iter().map(|c| (*c).to_owned()));
                break;
            }
            if !item.is_empty() {
                enabled.insert(item.to_owned());
            }
        }
        if read_only_mode {
            enabled.insert("isro".to_owned());
        }
        enabled.insert("srvr".to_owned());
        FourLetterWhitelist { enabled }
    }

    /// Whether `cmd` is one of the commands in [`Self::KNOWN`].
    pub fn is_known(cmd: &str) -> bool {
        Self::KNOWN.contains(&cmd)
    }

    /// Whether the server should answer `cmd`.
    pub fn allows(&self, cmd: &str) -> bool {
        Self::is_known(cmd) && self.enabled.contains(cmd)
    }

    /// The enabled names, sorted (may include unknown names the operator listed).
    pub fn enabled(&self) -> impl Iterator<Item = &str> {
        self.enabled.iter().map(String::as_str)
    }
}

impl Default for FourLetterWhitelist {
    fn default() -> Self {
        Self::from_property(None, false)
    }
}

/// Extracts `-Dkey=value` settings from a JVM flags string such as
/// `SERVER_JVMFLAGS`, split on whitespace as zkServer.sh's unquoted expansion does.
pub fn system_properties_from_jvm_flags(flags: &str) -> Vec<(String, String)> {
    flags
        .split_whitespace()
        .filter_map(|word| word.strip_prefix("-D"))
        .filter(|prop| !prop.is_empty())
        .map(|prop| match prop.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (prop.to_owned(), String::new()),
        })
        .collect()
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
            jute_maxbuffer: DEFAULT_JUTE_MAXBUFFER,
            container_check_interval_ms: 60_000,
            container_max_per_minute: 10_000,
            container_max_never_used_interval_ms: 0,
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

    /// Body of the `conf` four-letter word, as ZooKeeperServer.dumpConf prints
    /// it for a standalone server.  Directory sizes are measured now.
    pub fn conf_report(&self) -> String {
        let snap_size = dir_size(&self.data_dir.join(VERSION_DIR));
        let log_size = dir_size(&self.data_log_dir.join(VERSION_DIR));
        self.conf_report_with_sizes(snap_size, log_size)
    }

    /// [`Self::conf_report`] with given sizes: `data_dir_size` is the byte size
    /// of `data_dir/version-2`, `data_log_size` that of `data_log_dir/version-2`
    /// (the 3.8.4+/3.9.1+ meaning; earlier releases printed them swapped).
    pub fn conf_report_with_sizes(&self, data_dir_size: u64, data_log_size: u64) -> String {
        // No TLS listener in rzk, so Java's "no secure port" value; a standalone
        // ZooKeeperServer always reports serverId 0.
        format!(
            "clientPort={}\nsecureClientPort=-1\ndataDir={}\ndataDirSize={}\n\
             dataLogDir={}\ndataLogSize={}\ntickTime={}\nmaxClientCnxns={}\n\
             minSessionTimeout={}\nmaxSessionTimeout={}\nclientPortListenBacklog={}\nserverId=0\n",
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
        )
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

// ---------------------------------------------------------------------------
// java.util.Properties syntax
// ---------------------------------------------------------------------------

/// One `key=value` as Properties.load produces it (escapes decoded, value untrimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
struct PropEntry {
    key: String,
    value: String,
    line: usize,
}

fn is_prop_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0c')
}

/// String.trim(): strips every char <= U+0020 from both ends.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

fn parse_properties(text: &str) -> Result<Vec<PropEntry>, ConfigError> {
    // Java would read a UTF-8 BOM as three Latin-1 characters glued to the first key.
    let chars: Vec<char> = text
        .strip_prefix('\u{feff}')
        .unwrap_or(text)
        .chars()
        .collect();
    let mut reader = LineReader {
        chars: &chars,
        pos: 0,
        line: 1,
    };
    let mut entries = Vec::new();
    while let Some((logical, line)) = reader.next_logical_line() {
        let (key, value) = split_key_value(&logical);
        let syntax = |reason: String| ConfigError::Syntax { line, reason };
        entries.push(PropEntry {
            key: unescape(key).map_err(syntax)?,
            value: unescape(value).map_err(syntax)?,
            line,
        });
    }
    Ok(entries)
}

/// Properties.LineReader (JDK 9+): joins continuation lines, drops comments and blanks.
struct LineReader<'a> {
    chars: &'a [char],
    pos: usize,
    /// 1-based number of the natural line `pos` is on.
    line: usize,
}

fn is_newline(c: char) -> bool {
    c == '\r' || c == '\n'
}

impl LineReader<'_> {
    fn next_char(&mut self) -> Option<char> {
        let c = *self.chars.get(self.pos)?;
        let after_cr = self.pos > 0 && self.chars[self.pos - 1] == '\r';
        self.pos += 1;
        if c == '\r' || (c == '\n' && !after_cr) {
            self.line += 1;
        }
        Some(c)
    }

    /// The next logical line and the number of the line it starts on.
    fn next_logical_line(&mut self) -> Option<(Vec<char>, usize)> {
        let mut buf: Vec<char> = Vec::new();
        let mut skip_space = true;
        let mut continued = false;
        let mut backslash = false;
        let mut start_line = self.line;
        loop {
            let Some(c) = self.next_char() else {
                if buf.is_empty() {
                    return None;
                }
                if backslash {
                    buf.pop();
                }
                return Some((buf, start_line));
            };
            if skip_space {
                if is_prop_space(c) || (!continued && is_newline(c)) {
                    continue;
                }
                skip_space = false;
                continued = false;
            }
            // '#' or '!' starts a comment whenever nothing is buffered yet, even
            // on a continuation line that follows a lone backslash.
            if buf.is_empty() && (c == '#' || c == '!') {
                loop {
                    match self.next_char() {
                        None => return None,
                        Some(c) if is_newline(c) => break,
                        Some(_) => {}
                    }
                }
                skip_space = true;
                continue;
            }
            if !is_newline(c) {
                if buf.is_empty() {
                    start_line = self.line;
                }
                buf.push(c);
                backslash = c == '\\' && !backslash;
                continue;
            }
            // End of a natural line.
            if buf.is_empty() {
                skip_space = true;
                continue;
            }
            if backslash {
                // An odd number of trailing backslashes: drop one. At end of
                // input that ends the line (possibly leaving it empty, which
                // Java still loads as the key ""); otherwise the next line
                // continues this one.
                buf.pop();
                if self.pos == self.chars.len() {
                    return Some((buf, start_line));
                }
                backslash = false;
                skip_space = true;
                continued = true;
                if c == '\r' && self.chars.get(self.pos) == Some(&'\n') {
                    self.pos += 1;
                }
                continue;
            }
            return Some((buf, start_line));
        }
    }
}

/// Properties.load0: the key ends at the first unescaped '=', ':' or blank;
/// blanks and at most one '='/':' separate it from the value.
fn split_key_value(line: &[char]) -> (&[char], &[char]) {
    let mut key_len = 0;
    let mut value_start = line.len();
    let mut has_sep = false;
    let mut backslash = false;
    while key_len < line.len() {
        let c = line[key_len];
        if !backslash && (c == '=' || c == ':') {
            value_start = key_len + 1;
            has_sep = true;
            break;
        }
        if !backslash && is_prop_space(c) {
            value_start = key_len + 1;
            break;
        }
        backslash = c == '\\' && !backslash;
        key_len += 1;
    }
    while value_start < line.len() {
        let c = line[value_start];
        if !is_prop_space(c) {
            if !has_sep && (c == '=' || c == ':') {
                has_sep = true;
            } else {
                break;
            }
        }
        value_start += 1;
    }
    (&line[..key_len], &line[value_start..])
}

/// Properties.loadConvert: `\t \n \r \f \uXXXX`; any other escaped char stands for itself.
fn unescape(s: &[char]) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut units: Vec<u16> = Vec::new(); // pending UTF-16 from \u escapes
    let mut i = 0;
    let flush = |units: &mut Vec<u16>, out: &mut String| {
        out.extend(char::decode_utf16(units.drain(..)).map(|r| r.unwrap_or('\u{fffd}')));
    };
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != '\\' {
            flush(&mut units, &mut out);
            out.push(c);
            continue;
        }
        let Some(&e) = s.get(i) else { break };
        i += 1;
        if e == 'u' {
            let digits = s
                .get(i..i + 4)
                .filter(|d| d.iter().all(char::is_ascii_hexdigit))
                .ok_or_else(|| {
                    let seen: String = s[i..s.len().min(i + 4)].iter().collect();
                    format!("malformed \\uxxxx escape '\\u{seen}'")
                })?;
            let unit = digits
                .iter()
                .fold(0u16, |acc, d| acc * 16 + d.to_digit(16).unwrap_or(0) as u16);
            units.push(unit);
            i += 4;
            continue;
        }
        flush(&mut units, &mut out);
        out.push(match e {
            't' => '\t',
            'n' => '\n',
            'r' => '\r',
            'f' => '\x0c',
            other => other,
        });
    }
    flush(&mut units, &mut out);
    Ok(out)
}

// ---------------------------------------------------------------------------
// Java number and boolean conventions
// ---------------------------------------------------------------------------

/// Integer.parseInt / Long.parseLong: optional sign, then decimal digits.
fn java_parse_decimal(s: &str) -> Option<i128> {
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 30 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i128 = digits.parse().ok()?;
    Some(if neg { -v } else { v })
}

fn java_parse_int(s: &str) -> Option<i32> {
    java_parse_decimal(s)?.try_into().ok()
}

fn java_parse_long(s: &str) -> Option<i64> {
    java_parse_decimal(s)?.try_into().ok()
}

/// Integer.decode / Long.decode (used by Integer.getInteger and Long.getLong):
/// `0x`, `0X`, `#` mean hex and a leading `0` means octal.
fn java_decode(s: &str) -> Option<i128> {
    let (neg, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) =
        if let Some(h) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
            (16, h)
        } else if let Some(h) = rest.strip_prefix('#') {
            (16, h)
        } else if rest.len() > 1 && rest.starts_with('0') {
            (8, &rest[1..])
        } else {
            (10, rest)
        };
    if digits.is_empty() || digits.len() > 30 {
        return None;
    }
    let mut v: i128 = 0;
    for c in digits.chars() {
        v = v * radix as i128 + c.to_digit(radix)? as i128;
    }
    Some(if neg { -v } else { v })
}

/// QuorumPeerConfig.parseBoolean: case-insensitive true/false, nothing else.
fn strict_bool(key: &str, value: &str) -> Result<bool, ConfigError> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(bad(key, value, "expected 'true' or 'false'"))
    }
}

fn strict_int(key: &str, value: &str) -> Result<i32, ConfigError> {
    java_parse_int(value).ok_or_else(|| bad(key, value, "expected a 32-bit decimal integer"))
}

fn port(key: &str, value: i32) -> Result<u16, ConfigError> {
    u16::try_from(value).map_err(|_| {
        bad(
            key,
            &value.to_string(),
            "port out of range, expected 0-65535",
        )
    })
}

// ---------------------------------------------------------------------------
// Paths and addresses
// ---------------------------------------------------------------------------

/// VerifyingFileFactory's warning for paths not starting with "/" or "./".
fn relative_path_warning(path: &str) -> Option<Warning> {
    (!Path::new(path).is_absolute() && !path.starts_with("./")).then(|| {
        Warning(format!(
            "{path} is relative (resolved against the working directory); prepend ./ to indicate that you're sure"
        ))
    })
}

/// `new File(value).getAbsolutePath()`: collapse repeated and trailing
/// separators, then prefix the base directory; "." and ".." are kept.
fn java_absolute_path(value: &str, base_dir: &Path) -> PathBuf {
    let mut normalized = String::with_capacity(value.len());
    for c in value.chars() {
        if !(c == '/' && normalized.ends_with('/')) {
            normalized.push(c);
        }
    }
    if normalized.len() > 1 && normalized.ends_with('/') {
        normalized.pop();
    }
    let path = PathBuf::from(normalized);
    if path.is_absolute() {
        path
    } else {
        base_dir.join(path)
    }
}

/// InetAddress.getByName: IP literals (IPv6 optionally bracketed), else a
/// lookup preferring IPv4 like a default JVM; "" is the loopback address.
fn resolve_host(host: &str) -> Option<IpAddr> {
    let h = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if h.is_empty() {
        return Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    if let Ok(ip) = h.parse::<IpAddr>() {
        return Some(ip);
    }
    let addrs: Vec<_> = (h, 0).to_socket_addrs().ok()?.collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .map(|a| a.ip())
}

/// Wildcard addresses are reported as `None`.
fn specific(ip: IpAddr) -> Option<IpAddr> {
    (!ip.is_unspecified()).then_some(ip)
}

// ---------------------------------------------------------------------------
// server.N lines
// ---------------------------------------------------------------------------

/// String.split(regex) with a one-char separator: trailing empty strings are dropped.
fn java_split(s: &str, sep: char) -> Vec<&str> {
    if !s.contains(sep) {
        return vec![s];
    }
    let mut parts: Vec<&str> = s.split(sep).collect();
    while parts.last() == Some(&"") {
        parts.pop();
    }
    parts
}

/// ConfigUtils.getHostAndPort: `[v6]:a:b` or `host:a:b`.
fn host_and_ports(s: &str) -> Result<Vec<&str>, String> {
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

const SERVER_FORMAT: &str =
    "expected host:port:port[:participant|observer], '|'-separated for several \
     addresses, optionally followed by ;[clientHost:]clientPort";

fn parse_line_port(what: &str, s: &str) -> Result<u16, String> {
    let v = java_parse_int(s).ok_or_else(|| format!("{what} '{s}' is not a number"))?;
    u16::try_from(v).map_err(|_| format!("{what} {v} is out of range 0-65535"))
}

/// QuorumPeer.QuorumServer's parsing of one server line (without DNS lookups).
fn parse_server_line(
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

// ---------------------------------------------------------------------------
// Key classification for the `zookeeper.<key>` system-property fallback
// ---------------------------------------------------------------------------

/// zoo.cfg spellings of system properties rzk reads into [`ServerConfig`].
const HONOURED: &[&str] = &[
    "4lw.commands.whitelist",
    "DigestAuthenticationProvider.superDigest",
    "DigestAuthenticationProvider.enabled",
    "DigestAuthenticationProvider.digestAlg",
    "extendedTypesEnabled",
    "emulate353TTLNodes",
    "globalOutstandingLimit",
    "snapCount",
    "snapSizeLimitInKb",
    "txnLogSizeLimitInKb",
    "forceSync",
    "fsync.warningthresholdms",
    "preAllocSize",
    "jute.maxbuffer.extrasize",
    "skipACL",
    "enforceQuota",
    "enableEagerACLCheck",
    "enforce.auth.enabled",
    "enforce.auth.schemes",
    "sessionRequireClientSASLAuth",
    "digest.enabled",
    "closeSessionTxn.enabled",
    "snapshot.compression.method",
    "snapshot.trust.empty",
    "datadir.autocreate",
    "db.autocreate",
    "clientTcpKeepAlive",
    "maxCnxns",
    "admin.enableServer",
    "admin.serverAddress",
    "admin.serverPort",
    "admin.commandURL",
];

/// Keys Java reads that only tune the JVM implementation, the quorum
/// protocol, the admin server's HTTP details or the Java client: accepted silently.
const SILENT: &[&str] = &[
    "admin.idleTimeout",
    "admin.httpVersion",
    "admin.forceHttps",
    "admin.portUnification",
    "admin.needClientAuth",
    "admin.rateLimiterIntervalInMS",
    "admin.restore.enabled",
    "admin.snapshot.enabled",
    "IPAuthenticationProvider.usexforwardedfor",
    "serverCnxnFactory",
    "flushDelay",
    "maxWriteQueuePollTime",
    "maxBatchSize",
    "intBufferStartingSizeBytes",
    "watchManagerName",
    "watcherCleanThreshold",
    "watcherCleanIntervalInSeconds",
    "watcherCleanThreadsNum",
    "maxInProcessingDeadWatchers",
    "bitHashCacheSize",
    "maxResponseCacheSize",
    "maxGetChildrenResponseCacheSize",
    "serializeLastProcessedZxid.enabled",
    "jmx.log4j.disable",
    "jmx.log4j.mbean",
    "testingonly.initialZxid",
    "test.allowDiscontinuousProposals",
    "configuration",
    "controllerPort",
    "electionPortBindRetry",
    "cnxTimeout",
    "quorumCnxnTimeoutMs",
    "forceSnapshotSync",
    "leaderServes",
    "leaderConnectDelayDuringRetryMs",
    "commitLogCount",
    "snapshotSizeFactor",
    "tcpKeepAlive",
    "forward_learner_requests_to_commit_processor_disabled",
    "client.secure",
    "client.certReload",
    "clientCnxnSocket",
    "disableAutoWatchReset",
    "request.timeout",
    "sasl.client",
    "sasl.client.canonicalize.hostname",
    "sasl.client.username",
    "sasl.clientconfig",
];

const SILENT_PREFIXES: &[&str] = &[
    "nio.",
    "netty.",
    "commitProcessor.",
    "pathStats.",
    "leader.",
    "learner.",
    "observer.",
    "fastleader.",
    "follower.",
    "messageTracker.",
    "observerMaster.",
    "multiAddress.",
];

/// Keys Java honours for features rzk lacks: (key or prefix, feature).
const UNSUPPORTED: &[(&str, &str)] = &[
    ("ssl.", "TLS"),
    ("client.portUnification", "TLS"),
    (
        "X509AuthenticationProvider.superUser",
        "TLS client certificates",
    ),
    ("superUser", "SASL authentication"),
    (
        "SASLAuthenticationProvider.superPassword",
        "SASL authentication",
    ),
    ("allowSaslFailedClients", "SASL authentication"),
    ("kerberos.", "Kerberos"),
    ("sasl.serverconfig", "SASL authentication"),
    ("security.auth_to_local", "Kerberos"),
    ("requireKerberosConfig", "Kerberos"),
    ("letAnySaslUserDoX", "SASL authentication"),
    ("ensembleAuthName", "SASL authentication"),
    ("kinit", "Kerberos"),
    ("connection_throttle_", "connection throttling"),
    ("request_throttle", "request throttling"),
    ("request_stale_", "request throttling"),
    ("throttled_op_wait_time", "request throttling"),
    ("largeRequestMaxBytes", "large request throttling"),
    ("largeRequestThreshold", "large request throttling"),
    ("audit.", "audit logging"),
];

/// Properties only read without the `zookeeper.` prefix, i.e. JVM-only.
const JVM_ONLY: &[&str] = &[
    "jute.maxbuffer",
    "readonlymode.enabled",
    "znode.container.checkIntervalMs",
    "znode.container.maxPerMinute",
    "znode.container.maxNeverUsedIntervalMs",
    "follower.nodelay",
    "leader.nodelay",
];

/// Names used in zookeeperAdmin.md that Java does not actually read from zoo.cfg.
const DOC_ALIASES: &[(&str, &str)] = &[
    ("connectionMaxTokens", "connection_throttle_tokens"),
    ("connectionTokenFillTime", "connection_throttle_fill_time"),
    ("connectionTokenFillCount", "connection_throttle_fill_count"),
    ("connectionFreezeTime", "connection_throttle_freeze_time"),
    (
        "connectionDropIncrease",
        "connection_throttle_drop_increase",
    ),
    (
        "connectionDropDecrease",
        "connection_throttle_drop_decrease",
    ),
    (
        "connectionDecreaseRatio",
        "connection_throttle_decrease_ratio",
    ),
    ("requestThrottleLimit", "request_throttle_max_requests"),
    ("requestThrottleStallTime", "request_throttle_stall_time"),
    ("requestThrottleDropStale", "request_throttle_drop_stale"),
    ("requestStaleLatencyCheck", "request_stale_latency_check"),
    (
        "requestStaleConnectionCheck",
        "request_stale_connection_check",
    ),
    (
        "advancedFlowControlEnabled",
        "netty.advancedFlowControl.enabled",
    ),
    ("maxConcurrentSnapSyncs", "leader.maxConcurrentSnapSyncs"),
    ("maxConcurrentDiffSyncs", "leader.maxConcurrentDiffSyncs"),
    ("maxTimeToWaitForEpoch", "leader.maxTimeToWaitForEpoch"),
];

fn is_known_property_key(key: &str) -> bool {
    HONOURED.contains(&key)
        || key.starts_with("authProvider.")
        || SILENT.contains(&key)
        || SILENT_PREFIXES.iter().any(|p| key.starts_with(p))
        || UNSUPPORTED.iter().any(|(p, _)| key.starts_with(p))
}

/// The warning (if any) for a zoo.cfg key that Java would turn into `zookeeper.<key>`.
fn property_key_warning(key: &str) -> Option<String> {
    if JVM_ONLY.contains(&key) {
        return Some(format!(
            "{key} has no effect in zoo.cfg: Java only reads the JVM system property -D{key} \
             (rzk likewise); this line only sets zookeeper.{key}"
        ));
    }
    if let Some((_, real)) = DOC_ALIASES.iter().find(|(alias, _)| *alias == key) {
        return Some(format!(
            "{key} has no effect: Java only reads zookeeper.{real} (write '{real}' in zoo.cfg)"
        ));
    }
    if let Some((_, feature)) = UNSUPPORTED.iter().find(|(p, _)| key.starts_with(p)) {
        return Some(format!("{key} ignored: rzk does not support {feature}"));
    }
    if is_known_property_key(key) {
        return None;
    }
    if let Some(stripped) = key.strip_prefix("zookeeper.") {
        if JVM_ONLY.contains(&stripped) {
            return Some(format!(
                "{key} has no effect in zoo.cfg: Java only reads the JVM system property -D{stripped}"
            ));
        }
        if is_known_property_key(stripped) {
            return Some(format!(
                "{key} has no effect: zoo.cfg keys get the 'zookeeper.' prefix added, so Java reads \
                 this as zookeeper.{key}; write '{stripped}' instead"
            ));
        }
    }
    Some(format!(
        "unknown key {key} ignored (Java would silently set the unused system property zookeeper.{key})"
    ))
}

// ---------------------------------------------------------------------------
// The parse itself
// ---------------------------------------------------------------------------

/// Keys Java leaves to the quorum verifier rather than parseProperties' own branches.
fn is_quorum_key(key: &str) -> bool {
    key.starts_with("server.")
        || key.starts_with("group")
        || key.starts_with("weight")
        || key == "version"
}

/// Raw values of the keys QuorumPeerConfig handles itself, with Java's defaults.
struct QuorumKeys {
    data_dir: Option<String>,
    data_log_dir: Option<String>,
    client_port: Option<i32>,
    client_port_address: Option<String>,
    secure_client_port: Option<i32>,
    secure_client_port_address: Option<String>,
    listen_backlog: i32,
    tick_time: i32,
    max_client_cnxns: i32,
    min_session_timeout: i32,
    max_session_timeout: i32,
    init_limit: i32,
    sync_limit: i32,
    peer_type: LearnerRole,
    dynamic_config_file: Option<String>,
    snap_retain_count: i32,
    purge_interval: i32,
    standalone_enabled: bool,
    reconfig_enabled: bool,
    quorum_sasl: bool,
    server_require_sasl: bool,
    learner_require_sasl: bool,
    metrics_provider: Option<String>,
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
        }
    }
}

/// A trimmed key/value plus the untrimmed value Java's quorum parser sees.
struct Item {
    key: String,
    value: String,
    raw_value: String,
}

struct Parser<'a> {
    base_dir: &'a Path,
    warnings: Vec<Warning>,
    /// The JVM's system properties as they stand after zoo.cfg was applied.
    props: BTreeMap<String, String>,
    /// Property names that zoo.cfg set (for naming them in warnings).
    from_cfg: BTreeSet<String>,
    /// Whether a client port is known (from clientPort or this server's line).
    client_port_set: bool,
}

impl<'a> Parser<'a> {
    fn new(base_dir: &'a Path, system_properties: &[(String, String)]) -> Self {
        Parser {
            base_dir,
            warnings: Vec::new(),
            props: system_properties.iter().cloned().collect(),
            from_cfg: BTreeSet::new(),
            client_port_set: false,
        }
    }

    fn warn(&mut self, msg: impl Into<String>) {
        self.warnings.push(Warning(msg.into()));
    }

    fn run(mut self, text: &str) -> Result<(ServerConfig, Vec<Warning>), ConfigError> {
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
                if strict_int(key, value)? != 3 {
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
            // Quorum-only integers: validated as Java does, otherwise unused.
            "observerMasterPort"
            | "connectToLearnerMasterLimit"
            | "quorum.cnxn.threads.size"
            | "multiAddress.reachabilityCheckTimeoutMs" => {
                strict_int(key, value)?;
            }
            "jvm.pause.info-threshold.ms"
            | "jvm.pause.warn-threshold.ms"
            | "jvm.pause.sleep.time.ms" => {
                java_parse_long(value)
                    .ok_or_else(|| bad(key, value, "expected a 64-bit decimal integer"))?;
            }
            "localSessionsEnabled"
            | "localSessionsUpgradingEnabled"
            | "quorumListenOnAllIPs"
            | "syncEnabled"
            | "sslQuorum"
            | "sslQuorumReloadCertFiles"
            | "multiAddress.enabled"
            | "multiAddress.reachabilityCheckEnabled"
            | "jvm.pause.monitor" => {
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
        config.reconfig_enabled = q.reconfig_enabled;
        if let Some((p, ip)) = client_port {
            config.client_port = p;
            config.client_port_address = ip;
        }
        // Remember whether clientPort was given; setup_quorum may still supply it.
        self.client_port_set = client_port.is_some();
        Ok(config)
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

impl Parser<'_> {
    /// Reads dynamicConfigFile: only server./group/weight keys, no version line.
    fn read_dynamic_file(&mut self, file: &str) -> Result<Vec<Item>, ConfigError> {
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
    fn setup_quorum(
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

    // ---- reading system properties the way the Java classes do ----

    fn prop(&self, name: &str) -> Option<String> {
        self.props.get(name).cloned()
    }

    /// How to refer to a property in a warning: its zoo.cfg key or its -D form.
    fn label(&self, name: &str) -> String {
        match name.strip_prefix("zookeeper.") {
            Some(key) if self.from_cfg.contains(name) => key.to_owned(),
            _ => format!("-D{name}"),
        }
    }

    fn fallback<T: fmt::Display>(&mut self, name: &str, value: &str, default: T, what: &str) -> T {
        let label = self.label(name);
        self.warn(format!(
            "{label}={value} is not {what}; using the default {default}, as Java does"
        ));
        default
    }

    /// Integer.getInteger / Long.getLong: decoded, default when absent or malformed.
    fn decoded<T>(&mut self, name: &str, default: T) -> T
    where
        T: TryFrom<i128> + fmt::Display,
    {
        match self.prop(name) {
            None => default,
            Some(v) => match java_decode(&v).and_then(|x| T::try_from(x).ok()) {
                Some(x) => x,
                None => self.fallback(name, &v, default, "a valid integer"),
            },
        }
    }

    fn long_opt(&mut self, name: &str) -> Option<i64> {
        let v = self.prop(name)?;
        let parsed = java_decode(&v).and_then(|x| i64::try_from(x).ok());
        if parsed.is_none() {
            let label = self.label(name);
            self.warn(format!(
                "{label}={v} is not a valid integer; ignored, as Java does"
            ));
        }
        parsed
    }

    /// Boolean.getBoolean(name) or Boolean.parseBoolean(getProperty(name, default)):
    /// true only for "true" in any case; anything else set means false.
    fn boolean(&mut self, name: &str, default: bool) -> bool {
        match self.prop(name) {
            None => default,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) => {
                if !v.eq_ignore_ascii_case("false") {
                    let label = self.label(name);
                    self.warn(format!(
                        "{label}={v} is not 'true' or 'false'; treated as false, as Java does"
                    ));
                }
                false
            }
        }
    }

    /// A non-negative int property; a negative value is replaced as described.
    fn non_negative(&mut self, name: &str, default: i32, on_negative: u32, why: &str) -> u32 {
        let v: i32 = self.decoded(name, default);
        u32::try_from(v).unwrap_or_else(|_| {
            let label = self.label(name);
            self.warn(format!(
                "{label}={v} is negative; using {on_negative} ({why})"
            ));
            on_negative
        })
    }

    fn read_system_properties(&mut self, c: &mut ServerConfig) -> Result<(), ConfigError> {
        let read_only = self.prop("readonlymode.enabled").as_deref() == Some("true");
        c.four_letter_words = FourLetterWhitelist::from_property(
            self.prop("zookeeper.4lw.commands.whitelist").as_deref(),
            read_only,
        );
        c.extended_types_enabled = self.boolean("zookeeper.extendedTypesEnabled", false);
        c.emulate_353_ttl_nodes = self.boolean("zookeeper.emulate353TTLNodes", false);
        c.global_outstanding_limit = self.non_negative(
            "zookeeper.globalOutstandingLimit",
            DEFAULT_GLOBAL_OUTSTANDING_LIMIT,
            0,
            "throttle whenever a request is outstanding",
        );

        let snap_count: i32 = self.decoded("zookeeper.snapCount", DEFAULT_SNAP_COUNT);
        c.snap_count = if snap_count < 2 {
            let label = self.label("zookeeper.snapCount");
            self.warn(format!(
                "{label}={snap_count} is below 2; using 2, as Java does"
            ));
            2
        } else {
            snap_count as u64
        };
        // Java disables these limits for values <= 0.
        let snap_size: i64 =
            self.decoded("zookeeper.snapSizeLimitInKb", DEFAULT_SNAP_SIZE_LIMIT_KB);
        c.snap_size_limit_kb = snap_size.max(0) as u64;
        let log_size: i64 = self.decoded("zookeeper.txnLogSizeLimitInKb", -1);
        c.txn_log_size_limit_kb = log_size.max(0) as u64;

        c.force_sync = match self.prop("zookeeper.forceSync").as_deref() {
            Some("no") => false,
            None | Some("yes") => true,
            Some(other) => {
                let label = self.label("zookeeper.forceSync");
                self.warn(format!(
                    "{label}={other}: only the exact value 'no' disables fsync, so it stays enabled, as in Java"
                ));
                true
            }
        };
        // The prefixed property wins; the bare JVM property is the fallback.
        let fsync = self
            .long_opt("zookeeper.fsync.warningthresholdms")
            .or_else(|| self.long_opt("fsync.warningthresholdms"))
            .unwrap_or(DEFAULT_FSYNC_WARNING_THRESHOLD_MS);
        c.fsync_warning_threshold_ms = fsync.max(0) as u64;

        // FilePadding uses Long.parseLong (decimal only), in KiB; <= 0 disables padding.
        if let Some(v) = self.prop("zookeeper.preAllocSize") {
            c.pre_alloc_size_kb = match java_parse_long(&v) {
                Some(kb) => kb.max(0) as u64,
                None => self.fallback(
                    "zookeeper.preAllocSize",
                    &v,
                    DEFAULT_PRE_ALLOC_SIZE_KB,
                    "a valid size in KiB",
                ),
            };
        }

        if let Some(v) = self.prop("zookeeper.snapshot.compression.method") {
            c.snapshot_compression = match v.to_ascii_lowercase().as_str() {
                "" => SnapshotCompression::Checked,
                "gz" => SnapshotCompression::Gzip,
                "snappy" => SnapshotCompression::Snappy,
                _ => self.fallback(
                    "zookeeper.snapshot.compression.method",
                    &v,
                    SnapshotCompression::Checked,
                    "'', 'gz' or 'snappy'",
                ),
            };
        }
        c.snapshot_trust_empty = self.boolean("zookeeper.snapshot.trust.empty", false);
        c.datadir_autocreate = self.boolean("zookeeper.datadir.autocreate", true);
        c.db_autocreate = self.boolean("zookeeper.db.autocreate", true);
        c.digest_enabled = self.boolean("zookeeper.digest.enabled", true);
        c.close_session_txn_enabled = self.boolean("zookeeper.closeSessionTxn.enabled", true);

        c.super_digest = self.prop("zookeeper.DigestAuthenticationProvider.superDigest");
        if let Some(d) = &c.super_digest {
            if !d.contains(':') {
                let label = self.label("zookeeper.DigestAuthenticationProvider.superDigest");
                self.warn(format!(
                    "{label} has no ':'; expected user:base64-digest, so it can never match"
                ));
            }
        }
        c.digest_auth_enabled =
            self.boolean("zookeeper.DigestAuthenticationProvider.enabled", true);
        if let Some(alg) = self.prop("zookeeper.DigestAuthenticationProvider.digestAlg") {
            if !alg.eq_ignore_ascii_case("SHA1") && !alg.eq_ignore_ascii_case("SHA-1") {
                self.warn(format!(
                    "DigestAuthenticationProvider.digestAlg={alg}: rzk implements only SHA1 digests"
                ));
            }
            c.digest_algorithm = alg;
        }
        c.skip_acl = match self.prop("zookeeper.skipACL").as_deref() {
            Some("yes") => true,
            None | Some("no") => false,
            Some(other) => {
                let label = self.label("zookeeper.skipACL");
                self.warn(format!(
                    "{label}={other}: only the exact value 'yes' skips ACL checks; they stay on"
                ));
                false
            }
        };
        c.enforce_quota = self.boolean("zookeeper.enforceQuota", false);
        c.enable_eager_acl_check = self.boolean("zookeeper.enableEagerACLCheck", false);
        self.read_enforce_auth(c)?;

        c.max_cnxns = self.non_negative("zookeeper.maxCnxns", 0, 0, "unlimited");
        c.client_tcp_keep_alive = self.boolean("zookeeper.clientTcpKeepAlive", false);

        let max_buffer = self.non_negative(
            "jute.maxbuffer",
            DEFAULT_JUTE_MAXBUFFER as i32,
            DEFAULT_JUTE_MAXBUFFER as u32,
            "the default",
        );
        c.jute_maxbuffer = max_buffer as usize;
        let extra: i32 = self.decoded("zookeeper.jute.maxbuffer.extrasize", max_buffer as i32);
        // BinaryInputArchive never goes below its old fixed 1024 bytes.
        c.jute_maxbuffer_extrasize = extra.max(1024) as usize;

        c.admin_server_enabled = match self.prop("zookeeper.admin.enableServer").as_deref() {
            Some("false") => false,
            None | Some("true") => true,
            Some(other) => {
                let label = self.label("zookeeper.admin.enableServer");
                self.warn(format!(
                    "{label}={other}: only the exact value 'false' disables the admin server"
                ));
                true
            }
        };
        if let Some(addr) = self.prop("zookeeper.admin.serverAddress") {
            c.admin_server_address = addr;
        }
        let admin_port: i32 =
            self.decoded("zookeeper.admin.serverPort", i32::from(DEFAULT_ADMIN_PORT));
        c.admin_server_port = u16::try_from(admin_port).unwrap_or_else(|_| {
            self.fallback(
                "zookeeper.admin.serverPort",
                &admin_port.to_string(),
                DEFAULT_ADMIN_PORT,
                "a port number",
            )
        });
        if let Some(url) = self.prop("zookeeper.admin.commandURL") {
            c.admin_command_url = url;
        }

        c.container_check_interval_ms = u64::from(self.non_negative(
            "znode.container.checkIntervalMs",
            60_000,
            60_000,
            "the default",
        ));
        c.container_max_per_minute = self.non_negative(
            "znode.container.maxPerMinute",
            10_000,
            10_000,
            "the default",
        );
        let never_used: i64 = self.decoded("znode.container.maxNeverUsedIntervalMs", 0);
        c.container_max_never_used_interval_ms = never_used.max(0) as u64;

        let providers: Vec<(String, String)> = self
            .props
            .iter()
            .filter(|(k, _)| k.starts_with("zookeeper.authProvider."))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (name, class) in providers {
            const BUILT_IN: [&str; 2] = [
                "org.apache.zookeeper.server.auth.DigestAuthenticationProvider",
                "org.apache.zookeeper.server.auth.IPAuthenticationProvider",
            ];
            if !BUILT_IN.contains(&class.trim()) {
                let label = self.label(&name);
                self.warn(format!(
                    "{label}={class} ignored: rzk only has the built-in digest and ip authentication providers"
                ));
            }
        }
        Ok(())
    }

    /// AuthenticationHelper: sessionRequireClientSASLAuth, else enforce.auth.*.
    /// Java refuses to start when a required scheme has no provider; so does rzk.
    fn read_enforce_auth(&mut self, c: &mut ServerConfig) -> Result<(), ConfigError> {
        const SCHEMES: &str = "zookeeper.enforce.auth.schemes";
        let (enabled, schemes, source) =
            if self.boolean("zookeeper.sessionRequireClientSASLAuth", false) {
                (
                    true,
                    vec!["sasl".to_owned()],
                    "zookeeper.sessionRequireClientSASLAuth",
                )
            } else {
                let enabled = self.boolean("zookeeper.enforce.auth.enabled", false);
                let schemes = self
                    .prop(SCHEMES)
                    .map(|v| {
                        java_split(&v, ',')
                            .into_iter()
                            .map(|s| java_trim(s).to_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                (enabled, schemes, SCHEMES)
            };
        if enabled {
            if schemes.is_empty() {
                return Err(bad(
                    &self.label("zookeeper.enforce.auth.enabled"),
                    "true",
                    "enforce.auth.schemes must also be set",
                ));
            }
            for scheme in &schemes {
                let available = scheme == "ip" || (scheme == "digest" && c.digest_auth_enabled);
                if !available {
                    let value = self.prop(source).unwrap_or_default();
                    return Err(bad(
                        &self.label(source),
                        &value,
                        format!("authentication scheme '{scheme}' is not available (rzk provides digest and ip)"),
                    ));
                }
            }
        }
        c.enforce_auth_enabled = enabled;
        c.enforce_auth_schemes = schemes;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A scratch directory removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "rzk-config-test-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn path(&self) -> &Path {
            &self.0
        }

        fn write(&self, name: &str, contents: &str) -> PathBuf {
            let p = self.0.join(name);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, contents).unwrap();
            p
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    const BASE: &str = "/nonexistent-rzk-base";
    const MIN: &str = "dataDir=/nonexistent-rzk/data\nclientPort=2181\n";

    fn parse_with(
        text: &str,
        props: &[(&str, &str)],
    ) -> Result<(ServerConfig, Vec<Warning>), ConfigError> {
        let props: Vec<(String, String)> = props
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ServerConfig::parse_with_system_properties(text, Path::new(BASE), &props)
    }

    fn ok(text: &str) -> (ServerConfig, Vec<String>) {
        ok_with(text, &[])
    }

    fn ok_with(text: &str, props: &[(&str, &str)]) -> (ServerConfig, Vec<String>) {
        match parse_with(text, props) {
            Ok((c, w)) => (c, w.into_iter().map(|w| w.0).collect()),
            Err(e) => panic!("unexpected error: {e}\n--- config ---\n{text}"),
        }
    }

    /// MIN plus extra lines.
    fn with(extra: &str) -> (ServerConfig, Vec<String>) {
        ok(&format!("{MIN}{extra}\n"))
    }

    fn err(text: &str) -> ConfigError {
        err_with(text, &[])
    }

    fn err_with(text: &str, props: &[(&str, &str)]) -> ConfigError {
        match parse_with(text, props) {
            Ok((c, _)) => panic!("expected an error, got {c:?}\n--- config ---\n{text}"),
            Err(e) => e,
        }
    }

    fn bad_key(e: &ConfigError) -> &str {
        match e {
            ConfigError::BadValue { key, .. } => key,
            other => panic!("expected BadValue, got {other:?}"),
        }
    }

    fn props(text: &str) -> Vec<(String, String)> {
        parse_properties(text)
            .unwrap()
            .into_iter()
            .map(|e| (e.key, e.value))
            .collect()
    }

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn has(warnings: &[String], needle: &str) -> bool {
        warnings.iter().any(|w| w.contains(needle))
    }

    // ---- java.util.Properties syntax ----

    #[test]
    fn properties_separators() {
        assert_eq!(
            props("a=1\nb:2\nc 3\nd = 4\ne\t:\t5\nf  =  = 6\ng\nh=\ni = : 7"),
            kv(&[
                ("a", "1"),
                ("b", "2"),
                ("c", "3"),
                ("d", "4"),
                ("e", "5"),
                ("f", "= 6"),
                ("g", ""),
                ("h", ""),
                ("i", ": 7"),
            ])
        );
    }

    #[test]
    fn properties_comments_and_blank_lines() {
        let text = "# comment\n   ! also a comment\n\n   \t\nkey=value # not a comment\n#last";
        assert_eq!(props(text), kv(&[("key", "value # not a comment")]));
    }

    #[test]
    fn properties_continuations() {
        assert_eq!(
            props("a=one\\\n    two\\\n\tthree"),
            kv(&[("a", "onetwothree")])
        );
        // An even number of backslashes is an escaped backslash, not a continuation.
        assert_eq!(props("a=x\\\\\nb=y"), kv(&[("a", "x\\"), ("b", "y")]));
        // A comment line cannot be continued...
        assert_eq!(props("# c \\\na=1"), kv(&[("a", "1")]));
        // ...and a continuation line starting with '#' is not a comment.
        assert_eq!(props("a=1\\\n#2"), kv(&[("a", "1#2")]));
        // A trailing backslash at end of input is dropped.
        assert_eq!(props("a=b\\"), kv(&[("a", "b")]));
        // A continuation followed by an empty line ends the value.
        assert_eq!(props("a=b\\\n\nc=d"), kv(&[("a", "b"), ("c", "d")]));
    }

    #[test]
    fn properties_line_endings() {
        assert_eq!(
            props("a=1\r\nb=2\rc=3\n"),
            kv(&[("a", "1"), ("b", "2"), ("c", "3")])
        );
        assert_eq!(props("a=1\\\r\n  2"), kv(&[("a", "12")]));
        let lines: Vec<usize> = parse_properties("a=1\r\n\r\nb=2\r# x\rc=\\\n3\nd=4")
            .unwrap()
            .iter()
            .map(|e| e.line)
            .collect();
        assert_eq!(lines, vec![1, 3, 5, 7]);
    }

    #[test]
    fn properties_escapes() {
        assert_eq!(
            props("k=a\\tb\\nc\\u0041\\q\\\\"),
            kv(&[("k", "a\tb\ncAq\\")])
        );
        assert_eq!(props("a\\=b=c"), kv(&[("a=b", "c")]));
        assert_eq!(props("a\\ b c"), kv(&[("a b", "c")]));
        assert_eq!(props("a\\:b:c"), kv(&[("a:b", "c")]));
        assert_eq!(props("e=\\uD83D\\uDE00!"), kv(&[("e", "\u{1F600}!")]));
    }

    #[test]
    fn properties_malformed_unicode_escape() {
        for text in ["x=1\nk=\\u12", "x=1\nk=\\u12zz"] {
            match parse_properties(text) {
                Err(ConfigError::Syntax { line: 2, reason }) => assert!(reason.contains("\\u")),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn properties_bom_and_trailing_whitespace() {
        let (c, w) =
            ok("\u{feff}tickTime=2000   \t\ndataDir=/nonexistent-rzk/d  \nclientPort = 2181 ");
        assert_eq!(c.tick_time_ms, 2000);
        assert_eq!(c.data_dir, PathBuf::from("/nonexistent-rzk/d"));
        assert_eq!(c.client_port, 2181);
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn duplicate_keys_last_wins_with_warning() {
        let (c, w) = ok(&format!("{MIN}tickTime=1000\ntickTime=4000\n"));
        assert_eq!(c.tick_time_ms, 4000);
        assert!(has(&w, "line 3 and again on line 4"), "{w:?}");
        assert_eq!(
            c.raw.iter().filter(|(k, _)| k == "tickTime").count(),
            2,
            "raw keeps every occurrence"
        );
    }

    // ---- defaults ----

    #[test]
    fn defaults() {
        let (c, w) = ok(MIN);
        assert!(w.is_empty(), "{w:?}");
        let mut expected =
            ServerConfig::with_defaults(PathBuf::from("/nonexistent-rzk/data"), 2181);
        expected.raw = kv(&[("dataDir", "/nonexistent-rzk/data"), ("clientPort", "2181")]);
        assert_eq!(c, expected);
        assert_eq!(c.tick_time_ms, 3000);
        assert_eq!(c.data_log_dir, c.data_dir);
        assert_eq!(c.client_port_address, None);
        assert_eq!(c.max_client_cnxns, 60);
        assert_eq!(
            (c.min_session_timeout_ms, c.max_session_timeout_ms),
            (6000, 60000)
        );
        assert_eq!(c.client_port_listen_backlog, -1);
        assert_eq!(c.autopurge_snap_retain_count, 3);
        assert_eq!(c.autopurge_purge_interval_hours, 0);
        assert!(c.four_letter_words.allows("srvr"));
        assert!(!c.four_letter_words.allows("ruok"));
        assert!(!c.extended_types_enabled);
        assert_eq!(c.global_outstanding_limit, 1000);
        assert_eq!(c.snap_count, 100_000);
        assert_eq!(c.snap_size_limit_kb, 4_194_304);
        assert_eq!(c.txn_log_size_limit_kb, 0);
        assert_eq!(c.jute_maxbuffer, 0xfffff);
        assert_eq!(c.jute_maxbuffer_extrasize, 0xfffff);
        assert_eq!(c.super_digest, None);
        assert!(c.force_sync);
        assert_eq!(c.fsync_warning_threshold_ms, 1000);
        assert_eq!(c.pre_alloc_size_kb, 65536);
        assert!(c.servers.is_empty());
        assert_eq!((c.init_limit, c.sync_limit), (0, 0));
        assert!(c.standalone_enabled);
        assert!(!c.reconfig_enabled);
        assert!(c.admin_server_enabled);
        assert_eq!(c.admin_server_port, 8080);
        assert!(c.digest_enabled && c.close_session_txn_enabled && c.digest_auth_enabled);
        assert!(c.datadir_autocreate && c.db_autocreate);
        assert!(!c.skip_acl && !c.enforce_quota && !c.enforce_auth_enabled);
        assert_eq!(c.snapshot_compression, SnapshotCompression::Checked);
        assert_eq!(c.my_id, None);
        assert!(!c.is_distributed());
    }

    // ---- QuorumPeerConfig keys ----

    #[test]
    fn tick_time_and_session_timeouts() {
        let (c, _) = with("tickTime=2000");
        assert_eq!(
            (
                c.tick_time_ms,
                c.min_session_timeout_ms,
                c.max_session_timeout_ms
            ),
            (2000, 4000, 40000)
        );
        let (c, _) = with("tickTime=2000\nminSessionTimeout=1000\nmaxSessionTimeout=90000");
        assert_eq!(
            (c.min_session_timeout_ms, c.max_session_timeout_ms),
            (1000, 90000)
        );
        let (c, _) = with("tickTime=2000\nminSessionTimeout=-1\nmaxSessionTimeout=-1");
        assert_eq!(
            (c.min_session_timeout_ms, c.max_session_timeout_ms),
            (4000, 40000)
        );
        // Equal bounds are allowed.
        let (c, _) = with("minSessionTimeout=5000\nmaxSessionTimeout=5000");
        assert_eq!(
            (c.min_session_timeout_ms, c.max_session_timeout_ms),
            (5000, 5000)
        );
        let (c, w) = with("minSessionTimeout=-7");
        assert_eq!(c.min_session_timeout_ms, 0);
        assert!(has(&w, "minSessionTimeout=-7"));
    }

    #[test]
    fn tick_time_errors() {
        for v in ["abc", "", "0", "-5", "2.5", "99999999999"] {
            let e = err(&format!("{MIN}tickTime={v}"));
            assert_eq!(bad_key(&e), "tickTime", "{v}");
        }
        let e = err(&format!("{MIN}tickTime=abc"));
        assert_eq!(
            e.to_string(),
            "invalid value 'abc' for tickTime: expected a 32-bit decimal integer"
        );
    }

    #[test]
    fn min_larger_than_max_is_an_error() {
        let e = err(&format!(
            "{MIN}minSessionTimeout=10000\nmaxSessionTimeout=5000"
        ));
        assert_eq!(bad_key(&e), "minSessionTimeout");
        assert!(e.to_string().contains("maxSessionTimeout (5000)"), "{e}");
        // The default max follows tickTime: 20 * 100 < 5000.
        let e = err(&format!("{MIN}tickTime=100\nminSessionTimeout=5000"));
        assert_eq!(bad_key(&e), "minSessionTimeout");
        let e = err(&format!("{MIN}maxSessionTimeout=-5\nminSessionTimeout=-9"));
        assert_eq!(bad_key(&e), "maxSessionTimeout");
    }

    #[test]
    fn huge_tick_time_overflow_is_an_error() {
        let e = err(&format!("{MIN}tickTime=2000000000"));
        assert!(matches!(e, ConfigError::BadValue { .. }));
    }

    #[test]
    fn max_client_cnxns_and_backlog() {
        let (c, _) = with("maxClientCnxns=0\nclientPortListenBacklog=128");
        assert_eq!((c.max_client_cnxns, c.client_port_listen_backlog), (0, 128));
        let (c, _) = with("maxClientCnxns=-3");
        assert_eq!(c.max_client_cnxns, 0, "Java treats <= 0 as unlimited");
        assert_eq!(
            bad_key(&err(&format!("{MIN}maxClientCnxns=many"))),
            "maxClientCnxns"
        );
    }

    #[test]
    fn autopurge() {
        let (c, w) = with("autopurge.snapRetainCount=5\nautopurge.purgeInterval=24");
        assert_eq!(
            (
                c.autopurge_snap_retain_count,
                c.autopurge_purge_interval_hours
            ),
            (5, 24)
        );
        assert!(w.is_empty());
        let (c, w) = with("autopurge.snapRetainCount=1\nautopurge.purgeInterval=-1");
        assert_eq!(
            (
                c.autopurge_snap_retain_count,
                c.autopurge_purge_interval_hours
            ),
            (3, 0)
        );
        assert!(has(&w, "autopurge.snapRetainCount=1"));
        assert_eq!(
            bad_key(&err(&format!("{MIN}autopurge.purgeInterval=1h"))),
            "autopurge.purgeInterval"
        );
    }

    #[test]
    fn data_dirs() {
        let (c, w) = ok("dataDir=/var/zk//data/\ndataLogDir=/var/zk/log\nclientPort=1");
        assert_eq!(c.data_dir, PathBuf::from("/var/zk/data"));
        assert_eq!(c.data_log_dir, PathBuf::from("/var/zk/log"));
        assert!(w.is_empty());
        // Relative to the working directory, with Java's warning unless "./".
        let (c, w) = ok("dataDir=zkdata\nclientPort=1");
        assert_eq!(c.data_dir, Path::new(BASE).join("zkdata"));
        assert!(has(&w, "zkdata is relative"), "{w:?}");
        let (c, w) = ok("dataDir=./zkdata\ndataLogDir=../logs\nclientPort=1");
        assert_eq!(c.data_dir, Path::new(BASE).join("./zkdata"));
        assert_eq!(c.data_log_dir, Path::new(BASE).join("../logs"));
        assert_eq!(w.len(), 1, "only ../logs warns: {w:?}");
    }

    #[test]
    fn data_dir_missing_or_empty() {
        match err("clientPort=2181") {
            ConfigError::Missing { key, .. } => assert_eq!(key, "dataDir"),
            other => panic!("{other:?}"),
        }
        assert_eq!(bad_key(&err("dataDir=\nclientPort=2181")), "dataDir");
        assert_eq!(
            bad_key(&err("dataDir=/d\ndataLogDir=\nclientPort=2181")),
            "dataLogDir"
        );
        let e = err("clientPort=2181");
        assert!(e.to_string().starts_with("dataDir is not set"), "{e}");
    }

    #[test]
    fn client_port() {
        let (c, _) = ok("dataDir=/d\nclientPort=0");
        assert_eq!(c.client_port, 0, "3.9: 0 asks for any free port");
        let (c, _) = ok("dataDir=/d\nclientPort=65535");
        assert_eq!(c.client_port, 65535);
        for v in ["65536", "-1", "x", ""] {
            assert_eq!(
                bad_key(&err(&format!("dataDir=/d\nclientPort={v}"))),
                "clientPort",
                "{v}"
            );
        }
        match err("dataDir=/d") {
            ConfigError::Missing { key, .. } => assert_eq!(key, "clientPort"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn client_port_address() {
        let (c, _) = with("clientPortAddress=127.0.0.1");
        assert_eq!(c.client_port_address, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        let (c, _) = with("clientPortAddress=::1");
        assert_eq!(c.client_port_address, Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        let (c, _) = with("clientPortAddress=[::1]");
        assert_eq!(c.client_port_address, Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        let (c, _) = with("clientPortAddress=0.0.0.0");
        assert_eq!(c.client_port_address, None, "wildcard");
        let (c, _) = with("clientPortAddress=localhost");
        assert!(c.client_port_address.is_some_and(|ip| ip.is_loopback()));
        let (c, w) = with("clientPortAddress=");
        assert_eq!(c.client_port_address, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert!(has(&w, "empty"));
        let e = err("dataDir=/d\nclientPortAddress=127.0.0.1");
        assert_eq!(bad_key(&e), "clientPortAddress");
    }

    #[test]
    fn secure_client_port() {
        let (c, w) = with("secureClientPort=2281");
        assert_eq!(c.client_port, 2181);
        assert!(has(&w, "secureClientPort ignored"));
        assert_eq!(
            bad_key(&err(&format!("{MIN}secureClientPortAddress=1.2.3.4"))),
            "secureClientPortAddress"
        );
        assert_eq!(
            bad_key(&err(&format!("{MIN}secureClientPort=70000"))),
            "secureClientPort"
        );
        // Only a TLS port is not enough for rzk.
        assert!(matches!(
            err("dataDir=/d\nsecureClientPort=2281"),
            ConfigError::Missing { .. }
        ));
    }

    #[test]
    fn strict_booleans() {
        let (c, _) = with("standaloneEnabled=TRUE\nreconfigEnabled=True\nsyncEnabled=false");
        assert!(c.standalone_enabled && c.reconfig_enabled);
        for key in [
            "standaloneEnabled",
            "reconfigEnabled",
            "localSessionsEnabled",
            "quorumListenOnAllIPs",
        ] {
            let e = err(&format!("{MIN}{key}=yes"));
            assert_eq!(bad_key(&e), key);
            assert!(e.to_string().contains("expected 'true' or 'false'"));
        }
    }

    #[test]
    fn quorum_only_keys_are_validated_but_silent() {
        let (c, w) = with(
            "initLimit=10\nsyncLimit=5\nelectionAlg=3\npeerType=participant\nobserverMasterPort=2191\n\
             connectToLearnerMasterLimit=4\nquorum.cnxn.threads.size=20\njvm.pause.monitor=false\n\
             jvm.pause.sleep.time.ms=500\nmultiAddress.enabled=true\nmetricsProvider.httpPort=7000\n\
             quorum.auth.enableSasl=true\nquorum.auth.learnerRequireSasl=true\nquorum.auth.serverRequireSasl=true",
        );
        assert_eq!((c.init_limit, c.sync_limit), (10, 5));
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(bad_key(&err(&format!("{MIN}electionAlg=1"))), "electionAlg");
        assert_eq!(bad_key(&err(&format!("{MIN}peerType=leader"))), "peerType");
        assert_eq!(bad_key(&err(&format!("{MIN}initLimit=-1"))), "initLimit");
        assert_eq!(
            bad_key(&err(&format!("{MIN}jvm.pause.warn-threshold.ms=1s"))),
            "jvm.pause.warn-threshold.ms"
        );
    }

    #[test]
    fn quorum_sasl_consistency() {
        let e = err(&format!("{MIN}quorum.auth.serverRequireSasl=true"));
        assert_eq!(bad_key(&e), "quorum.auth.serverRequireSasl");
        let e = err(&format!("{MIN}quorum.auth.learnerRequireSasl=true"));
        assert_eq!(bad_key(&e), "quorum.auth.learnerRequireSasl");
        let e = err(&format!(
            "{MIN}quorum.auth.enableSasl=true\nquorum.auth.serverRequireSasl=true"
        ));
        assert_eq!(bad_key(&e), "quorum.auth.serverRequireSasl");
    }

    #[test]
    fn metrics_provider() {
        let (_, w) = with(
            "metricsProvider.className=org.apache.zookeeper.metrics.impl.DefaultMetricsProvider",
        );
        assert!(w.is_empty());
        let (_, w) = with(
            "metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider",
        );
        assert!(has(&w, "PrometheusMetricsProvider ignored"));
    }

    // ---- keys that become zookeeper.* system properties ----

    #[test]
    fn four_letter_word_key() {
        let (c, _) = with("4lw.commands.whitelist=stat, ruok,conf");
        for cmd in ["stat", "ruok", "conf", "srvr"] {
            assert!(c.four_letter_words.allows(cmd), "{cmd}");
        }
        assert!(!c.four_letter_words.allows("mntr"));
        let (c, _) = with("4lw.commands.whitelist=*");
        assert!(FourLetterWhitelist::KNOWN
            .iter()
            .all(|cmd| c.four_letter_words.allows(cmd)));
        // isro only with the JVM property, and only for the exact value "true".
        let (c, _) = ok_with(MIN, &[("readonlymode.enabled", "true")]);
        assert!(c.four_letter_words.allows("isro"));
        let (c, _) = ok_with(MIN, &[("readonlymode.enabled", "TRUE")]);
        assert!(!c.four_letter_words.allows("isro"));
        let (c, w) = with("readonlymode.enabled=true");
        assert!(!c.four_letter_words.allows("isro"));
        assert!(has(&w, "-Dreadonlymode.enabled"));
    }

    #[test]
    fn whitelist_semantics() {
        let d = FourLetterWhitelist::default();
        assert_eq!(d.enabled().collect::<Vec<_>>(), vec!["srvr"]);
        assert!(d.allows("srvr") && !d.allows("ruok"));

        let w = FourLetterWhitelist::from_property(Some(" ruok ,, stat,"), false);
        assert!(w.allows("ruok") && w.allows("stat") && w.allows("srvr") && !w.allows("conf"));
        assert!(!w.allows("RUOK"), "case-sensitive");

        let w = FourLetterWhitelist::from_property(Some("ruok, *, bogus"), false);
        assert!(FourLetterWhitelist::KNOWN.iter().all(|c| w.allows(c)));
        assert!(w.allows("telnet close"));
        assert!(!w.allows("bogus") && !w.allows("xyzw"));

        let w = FourLetterWhitelist::from_property(Some("bogus"), false);
        assert!(!w.allows("bogus"), "unknown commands are never answered");
        assert!(w.enabled().any(|c| c == "bogus"));

        let w = FourLetterWhitelist::from_property(Some(""), true);
        assert_eq!(w.enabled().collect::<Vec<_>>(), vec!["isro", "srvr"]);
        assert!(FourLetterWhitelist::is_known("mntr") && !FourLetterWhitelist::is_known("mntx"));
    }

    #[test]
    fn super_digest_and_digest_provider() {
        let (c, w) =
            with("DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
        assert_eq!(
            c.super_digest.as_deref(),
            Some("super:D/InIHSb7yEEbrWz8b9l71RjZJU=")
        );
        assert!(w.is_empty(), "{w:?}");
        let (c, _) = ok_with(
            MIN,
            &[("zookeeper.DigestAuthenticationProvider.superDigest", "a:b")],
        );
        assert_eq!(c.super_digest.as_deref(), Some("a:b"));
        let (_, w) = with("DigestAuthenticationProvider.superDigest=nocolon");
        assert!(has(&w, "can never match"));
        let (c, w) = with("DigestAuthenticationProvider.enabled=false\nDigestAuthenticationProvider.digestAlg=SHA-256");
        assert!(!c.digest_auth_enabled);
        assert_eq!(c.digest_algorithm, "SHA-256");
        assert!(has(&w, "only SHA1"));
        // The prefixed spelling in zoo.cfg is a classic mistake: it does nothing.
        let (c, w) = with("zookeeper.DigestAuthenticationProvider.superDigest=a:b");
        assert_eq!(c.super_digest, None);
        assert!(
            has(
                &w,
                "write 'DigestAuthenticationProvider.superDigest' instead"
            ),
            "{w:?}"
        );
    }

    #[test]
    fn extended_types_and_ttl_emulation() {
        let (c, w) = with("extendedTypesEnabled=true\nemulate353TTLNodes=TRUE");
        assert!(c.extended_types_enabled && c.emulate_353_ttl_nodes);
        assert!(w.is_empty());
        let (c, w) = with("extendedTypesEnabled=yes");
        assert!(
            !c.extended_types_enabled,
            "Boolean.getBoolean: only 'true' counts"
        );
        assert!(has(&w, "extendedTypesEnabled=yes"));
        let (c, _) = ok_with(MIN, &[("zookeeper.extendedTypesEnabled", "true")]);
        assert!(c.extended_types_enabled);
    }

    #[test]
    fn integer_properties_use_java_decode() {
        let (c, w) = with("globalOutstandingLimit=0x10\nsnapCount=010\nmaxCnxns=#ff");
        assert_eq!(
            (c.global_outstanding_limit, c.snap_count, c.max_cnxns),
            (16, 8, 255)
        );
        assert!(w.is_empty(), "{w:?}");
        // Malformed: Java silently uses the default; rzk warns.
        let (c, w) = with("snapCount=08\nglobalOutstandingLimit=lots");
        assert_eq!((c.snap_count, c.global_outstanding_limit), (100_000, 1000));
        assert!(
            has(&w, "snapCount=08") && has(&w, "globalOutstandingLimit=lots"),
            "{w:?}"
        );
    }

    #[test]
    fn snap_count_and_limits() {
        let (c, w) = with("snapCount=1");
        assert_eq!(c.snap_count, 2);
        assert!(has(&w, "below 2"));
        let (c, _) = with("snapSizeLimitInKb=-1\ntxnLogSizeLimitInKb=1024");
        assert_eq!((c.snap_size_limit_kb, c.txn_log_size_limit_kb), (0, 1024));
        let (c, w) = with("globalOutstandingLimit=-1\nmaxCnxns=-2");
        assert_eq!((c.global_outstanding_limit, c.max_cnxns), (0, 0));
        assert_eq!(w.len(), 2, "{w:?}");
    }

    #[test]
    fn zoo_cfg_overrides_jvm_properties() {
        let (c, _) = ok_with(
            &format!("{MIN}snapCount=7"),
            &[("zookeeper.snapCount", "5")],
        );
        assert_eq!(c.snap_count, 7);
        let (c, _) = ok_with(MIN, &[("zookeeper.snapCount", "5")]);
        assert_eq!(c.snap_count, 5);
        // A bad -D value is reported in its -D form.
        let (_, w) = ok_with(MIN, &[("zookeeper.snapCount", "five")]);
        assert!(has(&w, "-Dzookeeper.snapCount=five"), "{w:?}");
    }

    #[test]
    fn force_sync() {
        assert!(!with("forceSync=no").0.force_sync);
        assert!(with("forceSync=yes").0.force_sync);
        let (c, w) = with("forceSync=false");
        assert!(c.force_sync, "only the exact value 'no' disables fsync");
        assert!(has(&w, "forceSync=false"));
        let (c, _) = with("forceSync=NO");
        assert!(c.force_sync);
    }

    #[test]
    fn fsync_warning_threshold() {
        assert_eq!(
            with("fsync.warningthresholdms=50")
                .0
                .fsync_warning_threshold_ms,
            50
        );
        let (c, _) = ok_with(MIN, &[("fsync.warningthresholdms", "70")]);
        assert_eq!(c.fsync_warning_threshold_ms, 70);
        // The prefixed property wins over the bare one.
        let (c, _) = ok_with(
            &format!("{MIN}fsync.warningthresholdms=20"),
            &[("fsync.warningthresholdms", "70")],
        );
        assert_eq!(c.fsync_warning_threshold_ms, 20);
        // A malformed prefixed value falls back to the bare property.
        let (c, w) = ok_with(
            &format!("{MIN}fsync.warningthresholdms=x"),
            &[("fsync.warningthresholdms", "70")],
        );
        assert_eq!(c.fsync_warning_threshold_ms, 70);
        assert!(has(&w, "fsync.warningthresholdms=x"));
    }

    #[test]
    fn pre_alloc_size() {
        assert_eq!(with("preAllocSize=1024").0.pre_alloc_size_kb, 1024);
        assert_eq!(with("preAllocSize=0").0.pre_alloc_size_kb, 0);
        let (c, w) = with("preAllocSize=0x10");
        assert_eq!(c.pre_alloc_size_kb, 65536, "Long.parseLong: decimal only");
        assert!(has(&w, "preAllocSize=0x10"));
    }

    #[test]
    fn jute_maxbuffer() {
        // Java never reads zookeeper.jute.maxbuffer, so the zoo.cfg line is inert.
        let (c, w) = with("jute.maxbuffer=4194304");
        assert_eq!(c.jute_maxbuffer, 0xfffff);
        assert!(has(&w, "-Djute.maxbuffer"), "{w:?}");
        let (c, w) = ok_with(MIN, &[("jute.maxbuffer", "0x400000")]);
        assert_eq!(
            (c.jute_maxbuffer, c.jute_maxbuffer_extrasize),
            (0x400000, 0x400000)
        );
        assert!(w.is_empty());
        let (c, _) = with("jute.maxbuffer.extrasize=100");
        assert_eq!(c.jute_maxbuffer_extrasize, 1024);
        let (c, _) = with("jute.maxbuffer.extrasize=2048");
        assert_eq!(c.jute_maxbuffer_extrasize, 2048);
    }

    #[test]
    fn acl_and_auth_switches() {
        let (c, _) = with("skipACL=yes\nenforceQuota=true\nenableEagerACLCheck=true");
        assert!(c.skip_acl && c.enforce_quota && c.enable_eager_acl_check);
        let (c, w) = with("skipACL=true");
        assert!(!c.skip_acl, "only 'yes' skips ACLs");
        assert!(has(&w, "skipACL=true"));

        let (c, _) = with("enforce.auth.enabled=true\nenforce.auth.schemes=digest, ip");
        assert!(c.enforce_auth_enabled);
        assert_eq!(c.enforce_auth_schemes, vec!["digest", "ip"]);
        let e = err(&format!("{MIN}enforce.auth.enabled=true"));
        assert_eq!(bad_key(&e), "enforce.auth.enabled");
        let e = err(&format!(
            "{MIN}enforce.auth.enabled=true\nenforce.auth.schemes=sasl"
        ));
        assert_eq!(bad_key(&e), "enforce.auth.schemes");
        assert!(e.to_string().contains("'sasl' is not available"), "{e}");
        let e = err(&format!(
            "{MIN}enforce.auth.enabled=true\nenforce.auth.schemes=digest\nDigestAuthenticationProvider.enabled=false"
        ));
        assert_eq!(bad_key(&e), "enforce.auth.schemes");
        let e = err(&format!("{MIN}sessionRequireClientSASLAuth=true"));
        assert_eq!(bad_key(&e), "sessionRequireClientSASLAuth");
        // Schemes without enforcement are just recorded.
        let (c, _) = with("enforce.auth.schemes=sasl");
        assert!(!c.enforce_auth_enabled);
    }

    #[test]
    fn auth_providers() {
        let (_, w) =
            with("authProvider.1=org.apache.zookeeper.server.auth.DigestAuthenticationProvider");
        assert!(w.is_empty(), "{w:?}");
        let (_, w) =
            with("authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider");
        assert!(has(&w, "authProvider.sasl="), "{w:?}");
    }

    #[test]
    fn persistence_switches() {
        let (c, w) = with(
            "snapshot.compression.method=GZ\nsnapshot.trust.empty=true\ndatadir.autocreate=false\n\
             db.autocreate=false\ndigest.enabled=false\ncloseSessionTxn.enabled=false\nclientTcpKeepAlive=true",
        );
        assert_eq!(c.snapshot_compression, SnapshotCompression::Gzip);
        assert_eq!(c.snapshot_compression.file_extension(), ".gz");
        assert!(c.snapshot_trust_empty && c.client_tcp_keep_alive);
        assert!(
            !c.datadir_autocreate
                && !c.db_autocreate
                && !c.digest_enabled
                && !c.close_session_txn_enabled
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            with("snapshot.compression.method=snappy")
                .0
                .snapshot_compression,
            SnapshotCompression::Snappy
        );
        let (c, w) = with("snapshot.compression.method=zstd");
        assert_eq!(c.snapshot_compression, SnapshotCompression::Checked);
        assert!(has(&w, "zstd"));
        // parseBoolean(getProperty(k, "true")): a set value other than "true" means false.
        let (c, w) = with("datadir.autocreate=yes");
        assert!(!c.datadir_autocreate);
        assert!(has(&w, "datadir.autocreate=yes"));
    }

    #[test]
    fn admin_server() {
        let (c, _) = with("admin.enableServer=false\nadmin.serverPort=9090\nadmin.serverAddress=127.0.0.1\nadmin.commandURL=/cmd");
        assert!(!c.admin_server_enabled);
        assert_eq!(c.admin_server_port, 9090);
        assert_eq!(c.admin_server_address, "127.0.0.1");
        assert_eq!(c.admin_command_url, "/cmd");
        let (c, w) = with("admin.enableServer=FALSE");
        assert!(
            c.admin_server_enabled,
            "only the exact value 'false' disables it"
        );
        assert!(has(&w, "admin.enableServer=FALSE"));
        let (c, w) = with("admin.serverPort=99999");
        assert_eq!(c.admin_server_port, 8080);
        assert!(has(&w, "admin.serverPort=99999"));
    }

    #[test]
    fn container_properties_are_jvm_only() {
        let (c, _) = ok_with(
            MIN,
            &[
                ("znode.container.checkIntervalMs", "1000"),
                ("znode.container.maxPerMinute", "5"),
                ("znode.container.maxNeverUsedIntervalMs", "60000"),
            ],
        );
        assert_eq!(c.container_check_interval_ms, 1000);
        assert_eq!(c.container_max_per_minute, 5);
        assert_eq!(c.container_max_never_used_interval_ms, 60000);
        let (c, w) = with("znode.container.checkIntervalMs=1000");
        assert_eq!(c.container_check_interval_ms, 60000);
        assert!(has(&w, "-Dznode.container.checkIntervalMs"));
    }

    #[test]
    fn key_warnings() {
        let (_, w) = with(
            "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n\
             nio.numWorkerThreads=4\nleader.maxConcurrentSnapSyncs=2\nmaxResponseCacheSize=400",
        );
        assert!(
            w.is_empty(),
            "JVM/quorum tuning is accepted silently: {w:?}"
        );
        let (_, w) = with("tikTime=2000");
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("unknown key tikTime"), "{w:?}");
        let (_, w) = with("zookeeper.jute.maxbuffer=10");
        assert!(has(&w, "-Djute.maxbuffer"), "{w:?}");
        let (_, w) = with("zookeeper.snapCount=10");
        assert!(has(&w, "write 'snapCount' instead"), "{w:?}");
        let (_, w) = with("requestThrottleLimit=100");
        assert!(has(&w, "request_throttle_max_requests"), "{w:?}");
        let (_, w) = with("ssl.keyStore.location=/k.jks");
        assert!(has(&w, "does not support TLS"), "{w:?}");
        let (_, w) = with("audit.enable=true\nportUnification=true");
        assert!(
            has(&w, "audit logging") && has(&w, "portUnification"),
            "{w:?}"
        );
    }

    #[test]
    fn jvm_flags() {
        assert_eq!(
            system_properties_from_jvm_flags(
                "-Xmx1g -Djute.maxbuffer=4194304  -Dzookeeper.skipACL=yes -Dflag -D"
            ),
            kv(&[
                ("jute.maxbuffer", "4194304"),
                ("zookeeper.skipACL", "yes"),
                ("flag", "")
            ])
        );
    }

    // ---- server.N lines ----

    #[test]
    fn server_line_parsing() {
        let line = parse_server_line(1, "zk1.example.com:2888:3888", false).unwrap();
        assert_eq!(
            line,
            QuorumServerLine {
                id: 1,
                addresses: vec![QuorumServerAddress {
                    host: "zk1.example.com".into(),
                    quorum_port: 2888,
                    election_port: 3888
                }],
                role: LearnerRole::Participant,
                client_address: None,
            }
        );
        let line =
            parse_server_line(2, "10.0.0.2:2888:3888:Observer;10.0.0.2:2181", false).unwrap();
        assert_eq!(line.role, LearnerRole::Observer);
        assert_eq!(
            line.client_address,
            Some(ClientAddress {
                host: "10.0.0.2".into(),
                port: 2181
            })
        );
        let line = parse_server_line(3, "h:1:2:participant;2181", false).unwrap();
        assert_eq!(
            line.client_address,
            Some(ClientAddress {
                host: "0.0.0.0".into(),
                port: 2181
            })
        );
        let line = parse_server_line(4, "[2001:db8::1]:2888:3888;[::1]:2181", false).unwrap();
        assert_eq!(line.addresses[0].host, "2001:db8::1");
        assert_eq!(
            line.client_address,
            Some(ClientAddress {
                host: "::1".into(),
                port: 2181
            })
        );
        // Trailing separators are dropped, as String.split does.
        assert!(parse_server_line(5, "h:1:2:", false).is_ok());
        assert!(parse_server_line(5, "h:1:2;", false)
            .unwrap()
            .client_address
            .is_none());
        let line = parse_server_line(6, "a:1:2|b:3:4", true).unwrap();
        assert_eq!(line.addresses.len(), 2);
    }

    #[test]
    fn server_line_errors() {
        for (value, needle) in [
            ("h:2888", "expected host:port:port"),
            ("h:1:2:observer:x", "expected host:port:port"),
            ("h:x:2", "quorum port 'x'"),
            ("h:1:", "expected host:port:port"),
            ("h:1:99999", "out of range"),
            ("h:2888:2888", "must be different"),
            ("h:1:2:leader", "unrecognised peer type"),
            ("h:1:2;a:b:c", "expected host:port:port"),
            ("h:1:2;x", "client port 'x'"),
            ("h:1:2;1;2", "expected host:port:port"),
            ("[::1:1:2", "no matching"),
            ("[::1]:", "doesn't have a port"),
            ("a:1:2|b:3:4", "multiple address feature is disabled"),
            (";", "expected host:port:port"),
            ("", "expected host:port:port"),
        ] {
            let e = parse_server_line(1, value, false).expect_err(value);
            assert!(e.contains(needle), "{value}: {e}");
        }
        let e = parse_server_line(1, "a:1:2:observer|b:3:4:participant", true).unwrap_err();
        assert!(e.contains("same role"), "{e}");
    }

    #[test]
    fn single_server_line_runs_standalone() {
        let (c, w) = with("server.1=localhost:2888:3888");
        assert_eq!(c.servers.len(), 1);
        assert!(!c.is_distributed());
        assert!(has(&w, "only one server.N line"), "{w:?}");
    }

    #[test]
    fn server_key_errors() {
        for key in ["server.a", "server.-1", "server."] {
            let e = err(&format!("{MIN}{key}=h:1:2"));
            assert_eq!(bad_key(&e), key);
        }
        let e = err(&format!("{MIN}server.1=h:1:1"));
        assert_eq!(bad_key(&e), "server.1");
        assert!(
            e.to_string()
                .starts_with("invalid value 'h:1:1' for server.1:"),
            "{e}"
        );
        assert_eq!(bad_key(&err(&format!("{MIN}version=xyz"))), "version");
        assert!(ok(&format!("{MIN}version=1a")).1.is_empty());
    }

    #[test]
    fn server_line_warnings() {
        let (c, w) = with("server.1=h:1:2  \nserver.01=h:3:4");
        assert_eq!(c.servers.len(), 1);
        assert_eq!(c.servers[0].addresses[0].quorum_port, 3);
        assert!(has(&w, "server.1 ends with whitespace"), "{w:?}");
        assert!(has(&w, "both define server id 1"), "{w:?}");
        let (_, w) = with("server.1=h:1:2:participant  ");
        assert!(!has(&w, "whitespace"), "Java trims the role: {w:?}");
    }

    #[test]
    fn multi_address_needs_the_jvm_property() {
        // The zoo.cfg key sets a QuorumPeerConfig field that the line parser never reads.
        let e = err(&format!(
            "{MIN}multiAddress.enabled=true\nserver.1=a:1:2|b:3:4"
        ));
        assert_eq!(bad_key(&e), "server.1");
        let (c, _) = ok_with(
            &format!("{MIN}server.1=a:1:2|b:3:4"),
            &[("zookeeper.multiAddress.enabled", "true")],
        );
        assert_eq!(c.servers[0].addresses.len(), 2);
    }

    #[test]
    fn observer_rules() {
        let e = err(&format!("{MIN}server.1=h:1:2:observer"));
        assert!(
            e.to_string().contains("observers without participants"),
            "{e}"
        );
        let e = err(&format!("{MIN}server.1=h:1:2\nserver.2=h:3:4:observer"));
        assert!(e.to_string().contains("observers without a quorum"), "{e}");
        let e = err(&format!("{MIN}standaloneEnabled=false"));
        assert_eq!(bad_key(&e), "standaloneEnabled");
    }

    #[test]
    fn quorum_configuration_requirements() {
        let servers = "server.1=h1:2888:3888\nserver.2=h2:2888:3888\nserver.3=h3:2888:3888\n";
        match err(&format!("{MIN}{servers}")) {
            ConfigError::Missing { key, .. } => assert_eq!(key, "initLimit"),
            other => panic!("{other:?}"),
        }
        match err(&format!("{MIN}{servers}initLimit=10")) {
            ConfigError::Missing { key, .. } => assert_eq!(key, "syncLimit"),
            other => panic!("{other:?}"),
        }
        match err(&format!("{MIN}{servers}initLimit=10\nsyncLimit=5")) {
            ConfigError::Missing { key, reason } => {
                assert_eq!(key, "myid");
                assert!(reason.contains("/nonexistent-rzk/data/myid"), "{reason}");
            }
            other => panic!("{other:?}"),
        }

        let dir = TempDir::new();
        dir.write("myid", "2\n");
        let text = format!(
            "dataDir={}\nclientPort=2181\ninitLimit=10\nsyncLimit=5\n{servers}server.4=h4:2888:3888",
            dir.path().display()
        );
        let (c, w) = ok(&text);
        assert!(c.is_distributed());
        assert_eq!(c.my_id, Some(2));
        assert_eq!(
            c.servers.iter().map(|s| s.id).collect::<Vec<_>>(),
            vec![1, 2, 3, 4]
        );
        assert!(has(&w, "odd number"), "{w:?}");

        let (c, w) = ok(&format!("{MIN}server.1=h1:1:2\nserver.2=h2:1:2\ninitLimit=5\nsyncLimit=2\nstandaloneEnabled=true")
            .replace("/nonexistent-rzk/data", &dir.path().display().to_string()));
        assert!(c.is_distributed());
        assert!(has(&w, "No server failure will be tolerated"), "{w:?}");

        // standaloneEnabled=false makes even one participant a quorum.
        let (c, _) = ok(&format!(
            "dataDir={}\nclientPort=2181\nstandaloneEnabled=false\ninitLimit=5\nsyncLimit=2\nserver.2=h:1:2",
            dir.path().display()
        ));
        assert!(c.is_distributed());
    }

    #[test]
    fn client_port_from_own_server_line() {
        // The official Docker image: no clientPort, the port is on this server's line.
        let dir = TempDir::new();
        dir.write("myid", "1\n");
        let d = dir.path().display();
        let (c, _) = ok(&format!("dataDir={d}\nserver.1=localhost:2888:3888;2181"));
        assert_eq!(c.client_port, 2181);
        assert_eq!(c.client_port_address, None, "port only: wildcard");
        assert_eq!(c.my_id, Some(1));

        let (c, _) = ok(&format!(
            "dataDir={d}\nserver.1=localhost:2888:3888;127.0.0.1:2182"
        ));
        assert_eq!(
            (c.client_port, c.client_port_address),
            (2182, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)))
        );

        // A matching static clientPort is fine; a different one is an error.
        let (c, _) = ok(&format!(
            "dataDir={d}\nclientPort=2181\nserver.1=localhost:2888:3888;2181"
        ));
        assert_eq!(c.client_port, 2181);
        let e = err(&format!(
            "dataDir={d}\nclientPort=2182\nserver.1=localhost:2888:3888;2181"
        ));
        assert_eq!(bad_key(&e), "server.1");
        let e = err(&format!(
            "dataDir={d}\nclientPort=2181\nclientPortAddress=127.0.0.1\nserver.1=localhost:2888:3888;2181"
        ));
        assert_eq!(bad_key(&e), "server.1", "specific address vs wildcard");

        // Without a myid file the line's client port is not used.
        let (c, _) =
            ok("dataDir=/nonexistent-rzk/d\nclientPort=3000\nserver.1=localhost:2888:3888;2181");
        assert_eq!(c.client_port, 3000);
        let e = err("dataDir=/nonexistent-rzk/d\nserver.1=localhost:2888:3888;2181");
        assert!(
            matches!(e, ConfigError::Missing { ref key, .. } if key == "clientPort"),
            "{e:?}"
        );
    }

    #[test]
    fn peer_type_mismatch_warns() {
        let (_, w) = with("peerType=observer");
        assert!(has(&w, "peerType is observer"), "{w:?}");
    }

    #[test]
    fn bad_myid() {
        let dir = TempDir::new();
        dir.write("myid", "one\n");
        let e = err(&format!("dataDir={}\nclientPort=1", dir.path().display()));
        match &e {
            ConfigError::BadMyId { content, .. } => assert_eq!(content, "one"),
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().contains("invalid server id 'one'"), "{e}");
        dir.write("myid", " 7 \r\n");
        let (c, _) = ok(&format!("dataDir={}\nclientPort=1", dir.path().display()));
        assert_eq!(c.my_id, Some(7));
    }

    #[test]
    fn dynamic_config_file() {
        let dir = TempDir::new();
        dir.write("myid", "1");
        dir.write(
            "zoo.cfg.dynamic.100000000",
            "server.1=localhost:2888:3888;2181\n",
        );
        let d = dir.path().display();
        let (c, _) = ok(&format!(
            "dataDir={d}\ndynamicConfigFile={d}/zoo.cfg.dynamic.100000000\nversion=100000000"
        ));
        assert_eq!(c.servers.len(), 1);
        assert_eq!(c.client_port, 2181);

        let e = err(&format!(
            "dataDir={d}\nclientPort=1\ndynamicConfigFile={d}/x\nserver.1=h:1:2"
        ));
        assert_eq!(bad_key(&e), "server.1");

        dir.write("with-version", "server.1=h:1:2\nversion=1\n");
        let e = err(&format!(
            "dataDir={d}\nclientPort=1\ndynamicConfigFile={d}/with-version"
        ));
        assert_eq!(bad_key(&e), "dynamicConfigFile");
        dir.write("with-junk", "server.1=h:1:2\ntickTime=2\n");
        let e = err(&format!(
            "dataDir={d}\nclientPort=1\ndynamicConfigFile={d}/with-junk"
        ));
        assert!(
            e.to_string().contains("unrecognised parameter tickTime"),
            "{e}"
        );
        let e = err(&format!(
            "dataDir={d}\nclientPort=1\ndynamicConfigFile={d}/missing"
        ));
        assert!(matches!(e, ConfigError::Io { .. }), "{e:?}");
    }

    // ---- load, conf, errors ----

    #[test]
    fn load_reads_a_file() {
        let dir = TempDir::new();
        let cfg = dir.write(
            "zoo.cfg",
            &format!(
                "tickTime=2000\ndataDir={}/data\nclientPort=2181\n",
                dir.path().display()
            ),
        );
        let (c, w) = ServerConfig::load(&cfg).unwrap();
        assert_eq!(c.tick_time_ms, 2000);
        assert_eq!(c.data_dir, dir.path().join("data"));
        assert!(w.is_empty(), "{w:?}");
        let e = ServerConfig::load(&dir.path().join("absent.cfg")).unwrap_err();
        assert!(matches!(e, ConfigError::Io { .. }));
        assert!(e.to_string().starts_with("cannot read "), "{e}");
        // Latin-1 bytes are accepted (Java reads the file as ISO-8859-1).
        let cfg = dir.path().join("latin1.cfg");
        fs::write(&cfg, b"dataDir=/nonexistent-rzk/d\xe9\nclientPort=1\n").unwrap();
        let (c, _) = ServerConfig::load(&cfg).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/nonexistent-rzk/d\u{e9}"));
    }

    #[test]
    fn conf_report_format() {
        let (c, _) = ok("dataDir=/var/zk\ndataLogDir=/var/zklog/\nclientPort=2181\ntickTime=2000\nmaxClientCnxns=0");
        assert_eq!(
            c.conf_report_with_sizes(10, 20),
            "clientPort=2181\n\
             secureClientPort=-1\n\
             dataDir=/var/zk/version-2\n\
             dataDirSize=10\n\
             dataLogDir=/var/zklog/version-2\n\
             dataLogSize=20\n\
             tickTime=2000\n\
             maxClientCnxns=0\n\
             minSessionTimeout=4000\n\
             maxSessionTimeout=40000\n\
             clientPortListenBacklog=-1\n\
             serverId=0\n"
        );
    }

    #[test]
    fn conf_report_measures_directories() {
        let dir = TempDir::new();
        dir.write("snap/version-2/snapshot.0", "12345");
        dir.write("snap/version-2/sub/x", "12");
        dir.write("log/version-2/log.1", "1234567890");
        let mut c = ServerConfig::with_defaults(dir.path().join("snap"), 2181);
        c.data_log_dir = dir.path().join("log");
        let report = c.conf_report();
        assert!(report.contains("\ndataDirSize=7\n"), "{report}");
        assert!(report.contains("\ndataLogSize=10\n"), "{report}");
        let missing = ServerConfig::with_defaults(dir.path().join("nope"), 1).conf_report();
        assert!(missing.contains("\ndataDirSize=0\n"));
    }

    #[test]
    fn error_display_is_one_line() {
        let errors = [
            err("clientPort=1"),
            err(&format!("{MIN}tickTime=x")),
            err(&format!("{MIN}k=\\uzz")),
            ConfigError::Io {
                path: "/x".into(),
                err: io::Error::new(io::ErrorKind::NotFound, "gone"),
            },
        ];
        for e in errors {
            let s = e.to_string();
            assert!(!s.is_empty() && !s.contains('\n'), "{s:?}");
        }
    }

    #[test]
    fn number_helpers() {
        assert_eq!(java_parse_int("+12"), Some(12));
        assert_eq!(java_parse_int("-2147483648"), Some(i32::MIN));
        assert_eq!(java_parse_int("2147483648"), None);
        assert_eq!(java_parse_int("1_0"), None);
        assert_eq!(java_parse_int(" 1"), None);
        assert_eq!(java_decode("-0x10"), Some(-16));
        assert_eq!(java_decode("0"), Some(0));
        assert_eq!(java_decode("017"), Some(15));
        assert_eq!(java_decode("0x"), None);
        assert_eq!(java_decode("0x-1"), None);
        assert_eq!(java_decode("#1F"), Some(31));
        assert_eq!(java_trim("\u{1} a \t"), "a");
    }
}
