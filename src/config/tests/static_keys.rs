//! The keys QuorumPeerConfig.parseProperties handles itself.

use super::*;

#[test]
fn defaults() {
    let (c, w) = ok(MIN);
    assert!(w.is_empty(), "{w:?}");
    let mut expected = ServerConfig::with_defaults(PathBuf::from("/nonexistent-rzk/data"), 2181);
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
    let (_, w) =
        with("metricsProvider.className=org.apache.zookeeper.metrics.impl.DefaultMetricsProvider");
    assert!(w.is_empty());
    let (_, w) = with(
        "metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider",
    );
    assert!(has(&w, "PrometheusMetricsProvider ignored"));
}
