//! Keys Java does not handle in `parseProperties` but turns into the system
//! property `zookeeper.<key>`, plus the JVM-only properties: which of them
//! rzk honours, which it ignores and why, and reading them the way the Java
//! classes do (`Integer.getInteger`, `Boolean.getBoolean`, ...), where a
//! malformed value means the default rather than an error.

use std::collections::BTreeSet;
use std::fmt;

use super::parser::Parser;
use super::properties::java_trim;
use super::values::{java_decode, java_parse_double, java_parse_int, java_parse_long, java_split};
use super::{
    bad, ConfigError, ServerConfig, DEFAULT_ADMIN_PORT, DEFAULT_ELECTION_PORT_BIND_RETRY,
    DEFAULT_FSYNC_WARNING_THRESHOLD_MS, DEFAULT_GLOBAL_OUTSTANDING_LIMIT, DEFAULT_JUTE_MAXBUFFER,
    DEFAULT_MAX_CONCURRENT_DIFF_SYNCS, DEFAULT_MAX_CONCURRENT_SNAP_SYNCS,
    DEFAULT_PRE_ALLOC_SIZE_KB, DEFAULT_SNAP_COUNT, DEFAULT_SNAP_SIZE_LIMIT_KB,
    MIN_COMMIT_LOG_COUNT,
};

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

/// zookeeper.snapshotSizeFactor (ZKDatabase): a negative value (or NaN)
/// turns the size comparison off; above 1 Java falls back to the default.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotSizeFactor(pub f64);

impl SnapshotSizeFactor {
    /// ZKDatabase.DEFAULT_SNAPSHOT_SIZE_FACTOR.
    pub const DEFAULT: SnapshotSizeFactor = SnapshotSizeFactor(0.33);

    /// Whether the leader compares log and snapshot sizes at all.
    pub fn enabled(self) -> bool {
        self.0 >= 0.0
    }

    /// ZKDatabase.calculateTxnLogSizeLimit: the log size above which a
    /// snapshot is sent, or `None` when disabled.
    pub fn log_size_limit(self, snapshot_size: u64) -> Option<u64> {
        self.enabled()
            .then_some((snapshot_size as f64 * self.0) as u64)
    }
}

// Compared by bit pattern so that ServerConfig stays `Eq`.
impl PartialEq for SnapshotSizeFactor {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for SnapshotSizeFactor {}

impl fmt::Display for SnapshotSizeFactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
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

/// zoo.cfg spellings of system properties rzk reads into [`ServerConfig`].
pub(super) const HONOURED: &[&str] = &[
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
    "admin.idleTimeout",
    "cnxTimeout",
    "electionPortBindRetry",
    "leaderServes",
    "commitLogCount",
    "snapshotSizeFactor",
    "forceSnapshotSync",
    "leader.maxConcurrentSnapSyncs",
    "leader.maxConcurrentDiffSyncs",
    "leader.maxTimeToWaitForEpoch",
    "observer.syncEnabled",
];

/// Keys Java reads that only tune the JVM implementation, the quorum
/// protocol, the admin server's HTTP details or the Java client: accepted silently.
pub(super) const SILENT: &[&str] = &[
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
    "quorumCnxnTimeoutMs",
    "leaderConnectDelayDuringRetryMs",
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

pub(super) const SILENT_PREFIXES: &[&str] = &[
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
pub(super) const UNSUPPORTED: &[(&str, &str)] = &[
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
pub(super) const JVM_ONLY: &[&str] = &[
    "jute.maxbuffer",
    "readonlymode.enabled",
    "znode.container.checkIntervalMs",
    "znode.container.maxPerMinute",
    "znode.container.maxNeverUsedIntervalMs",
    "follower.nodelay",
    "leader.nodelay",
];

/// Names used in zookeeperAdmin.md that Java does not actually read from zoo.cfg.
pub(super) const DOC_ALIASES: &[(&str, &str)] = &[
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

pub(super) fn is_known_property_key(key: &str) -> bool {
    HONOURED.contains(&key)
        || key.starts_with("authProvider.")
        || SILENT.contains(&key)
        || SILENT_PREFIXES.iter().any(|p| key.starts_with(p))
        || UNSUPPORTED.iter().any(|(p, _)| key.starts_with(p))
}

/// The warning (if any) for a zoo.cfg key that Java would turn into `zookeeper.<key>`.
pub(super) fn property_key_warning(key: &str) -> Option<String> {
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

impl Parser<'_> {
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

    pub(super) fn read_system_properties(
        &mut self,
        c: &mut ServerConfig,
    ) -> Result<(), ConfigError> {
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
        // Integer.getInteger: a value that is not an int is ignored.
        if let Some(ms) = self
            .prop("zookeeper.admin.idleTimeout")
            .and_then(|v| v.trim().parse::<i32>().ok())
        {
            c.admin_idle_timeout_ms = ms.max(0) as u64;
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

        self.read_quorum_properties(c)?;

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

    /// The quorum classes' own system properties (QuorumCnxManager, Leader,
    /// LearnerMaster, LearnerHandler, ZKDatabase, QuorumPeer).  Where Java
    /// would fail once the quorum peer starts, a distributed configuration is
    /// an error; a standalone one never reads them, so it only gets a warning.
    fn read_quorum_properties(&mut self, c: &mut ServerConfig) -> Result<(), ConfigError> {
        let distributed = c.is_distributed();
        // QuorumCnxManager: Integer.parseInt, and its exception ends the peer.
        const CNX: &str = "zookeeper.cnxTimeout";
        if let Some(v) = self.prop(CNX) {
            match java_parse_int(&v) {
                Some(ms) if ms >= 0 => c.cnx_timeout_ms = ms as u32,
                parsed => {
                    let reason = if parsed.is_some() {
                        "a negative connect timeout makes every election connection fail"
                    } else {
                        "expected a 32-bit decimal integer (Java's QuorumCnxManager fails to start)"
                    };
                    if distributed {
                        return Err(bad(&self.label(CNX), &v, reason));
                    }
                    let label = self.label(CNX);
                    self.warn(format!(
                        "{label}={v}: {reason}; unused by a standalone server"
                    ));
                }
            }
        }

        let retry: i32 = self.decoded(
            "zookeeper.electionPortBindRetry",
            DEFAULT_ELECTION_PORT_BIND_RETRY as i32,
        );
        c.election_port_bind_retry = u32::try_from(retry).unwrap_or_else(|_| {
            let label = self.label("zookeeper.electionPortBindRetry");
            self.warn(format!(
                "{label}={retry} is negative; using {DEFAULT_ELECTION_PORT_BIND_RETRY}, as Java does"
            ));
            DEFAULT_ELECTION_PORT_BIND_RETRY
        });

        c.leader_serves = self.prop("zookeeper.leaderServes").as_deref() != Some("no");

        // ZKDatabase: Integer.parseInt / Double.parseDouble, default on error.
        const COMMIT_LOG: &str = "zookeeper.commitLogCount";
        if let Some(v) = self.prop(COMMIT_LOG) {
            c.commit_log_count = match java_parse_int(&v) {
                None => self.fallback(COMMIT_LOG, &v, MIN_COMMIT_LOG_COUNT, "a valid integer"),
                Some(n) if n < MIN_COMMIT_LOG_COUNT as i32 => {
                    let label = self.label(COMMIT_LOG);
                    self.warn(format!(
                        "{label}={n} is below {MIN_COMMIT_LOG_COUNT}; using {MIN_COMMIT_LOG_COUNT}, as Java does"
                    ));
                    MIN_COMMIT_LOG_COUNT
                }
                Some(n) => n as u32,
            };
        }
        const SIZE_FACTOR: &str = "zookeeper.snapshotSizeFactor";
        if let Some(v) = self.prop(SIZE_FACTOR) {
            c.snapshot_size_factor = match java_parse_double(&v) {
                Some(f) if f > 1.0 => {
                    let label = self.label(SIZE_FACTOR);
                    self.warn(format!(
                        "{label}={v} is above 1; using the default 0.33, as Java does"
                    ));
                    SnapshotSizeFactor::DEFAULT
                }
                Some(f) => SnapshotSizeFactor(f),
                None => self.fallback(
                    SIZE_FACTOR,
                    &v,
                    SnapshotSizeFactor::DEFAULT,
                    "a valid number",
                ),
            };
        }
        c.force_snapshot_sync = self.boolean("zookeeper.forceSnapshotSync", false);

        // LearnerSyncThrottler refuses a limit below 1 when a leader starts.
        for (name, default, field) in [
            (
                "zookeeper.leader.maxConcurrentSnapSyncs",
                DEFAULT_MAX_CONCURRENT_SNAP_SYNCS,
                &mut c.max_concurrent_snap_syncs,
            ),
            (
                "zookeeper.leader.maxConcurrentDiffSyncs",
                DEFAULT_MAX_CONCURRENT_DIFF_SYNCS,
                &mut c.max_concurrent_diff_syncs,
            ),
        ] {
            let n: i32 = self.decoded(name, default as i32);
            *field = if n > 0 {
                n as u32
            } else {
                let label = self.label(name);
                let reason = "must be at least 1 (Java's leader fails to start)";
                if distributed {
                    return Err(bad(&label, &n.to_string(), reason));
                }
                self.warn(format!(
                    "{label}={n} {reason}; unused by a standalone server"
                ));
                default
            };
        }
        let wait: i32 = self.decoded("zookeeper.leader.maxTimeToWaitForEpoch", -1);
        c.max_time_to_wait_for_epoch_ms = u32::try_from(wait).ok();

        // QuorumPeer.getSyncEnabled: the property, when set, beats syncEnabled.
        if self.prop("zookeeper.observer.syncEnabled").is_some() {
            c.sync_enabled = self.boolean("zookeeper.observer.syncEnabled", true);
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
