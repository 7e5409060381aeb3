//! Keys that become zookeeper.* system properties, and JVM-only properties.

use super::*;

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
