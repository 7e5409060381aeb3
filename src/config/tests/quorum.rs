//! What a quorum peer reads: hierarchical groups and weights, the quorum-only
//! keys and system properties, the ensemble accessors and the quorum `conf`.

use super::*;
use std::collections::BTreeSet;

/// Parses `extra` (plus dataDir, clientPort and limits) for a peer whose myid is `myid`.
fn peer_with(
    myid: u64,
    extra: &str,
    props: &[(&str, &str)],
) -> Result<(ServerConfig, Vec<String>), ConfigError> {
    let dir = TempDir::new();
    dir.write("myid", &format!("{myid}\n"));
    let text = format!(
        "dataDir={}\nclientPort=2181\ninitLimit=10\nsyncLimit=5\n{extra}\n",
        dir.path().display()
    );
    parse_with(&text, props).map(|(c, w)| (c, w.into_iter().map(|w| w.0).collect()))
}

fn peer(myid: u64, extra: &str) -> (ServerConfig, Vec<String>) {
    peer_with(myid, extra, &[]).unwrap_or_else(|e| panic!("unexpected error: {e}\n{extra}"))
}

fn peer_err(myid: u64, extra: &str) -> ConfigError {
    match peer_with(myid, extra, &[]) {
        Ok((c, _)) => panic!("expected an error, got {c:?}\n{extra}"),
        Err(e) => e,
    }
}

const FIVE_AND_OBSERVER: &str = "server.1=h1:2888:3888\nserver.2=h2:2888:3888\n\
    server.3=h3:2888:3888\nserver.4=h4:2888:3888\nserver.5=h5:2888:3888\n\
    server.6=h6:2888:3888:observer\n";

fn set(ids: &[u64]) -> BTreeSet<u64> {
    ids.iter().copied().collect()
}

// ---- hierarchical quorums ----

#[test]
fn groups_and_weights() {
    let (c, w) = peer(
        1,
        &format!("{FIVE_AND_OBSERVER}group.2=4:5\ngroup.1=1:2:3\nweight.1=2\nweight.4=0"),
    );
    assert!(w.iter().all(|w| !w.contains("group")), "{w:?}");
    assert!(c.is_hierarchical());
    assert_eq!(c.groups, vec![(1, vec![1, 2, 3]), (2, vec![4, 5])]);
    // Every participant gets weight 1 unless given one; the observer none.
    assert_eq!(
        c.weights,
        [(1, 2), (2, 1), (3, 1), (4, 0), (5, 1)]
            .into_iter()
            .collect()
    );
    assert_eq!((c.weight(2), c.weight(6)), (1, 0));
    // Group 1 weighs 4, group 2 weighs 1: both need a weight majority.
    // The quorum rule itself lives in the verifier built from the config.
    let qv = crate::quorum::verifier::QuorumVerifier::from_config(&c).unwrap();
    assert!(qv.contains_quorum(&set(&[1, 2, 5])));
    assert!(!qv.contains_quorum(&set(&[1, 5])));
    assert!(!qv.contains_quorum(&set(&[1, 2, 3])));
    assert!(!qv.contains_quorum(&set(&[])));
}

#[test]
fn zero_weight_groups_do_not_count() {
    let (c, _) = peer(
        1,
        "server.1=h1:1:2\nserver.2=h2:1:2\nserver.3=h3:1:2\n\
         group.1=1:2\ngroup.2=3\nweight.3=0",
    );
    // Only group 1 counts, so a majority of it is a quorum.
    let qv = crate::quorum::verifier::QuorumVerifier::from_config(&c).unwrap();
    assert!(qv.contains_quorum(&set(&[1, 2])));
    assert!(!qv.contains_quorum(&set(&[1, 3])));
}

#[test]
fn majority_quorums() {
    let (c, _) = peer(1, FIVE_AND_OBSERVER);
    assert!(!c.is_hierarchical());
    assert!(c.groups.is_empty() && c.weights.is_empty());
    assert_eq!((c.weight(1), c.weight(6), c.weight(99)), (1, 1, 1));
    let qv = crate::quorum::verifier::QuorumVerifier::from_config(&c).unwrap();
    assert!(qv.contains_quorum(&set(&[1, 2, 3])));
    assert!(!qv.contains_quorum(&set(&[1, 2])));
}

#[test]
fn hierarchy_errors() {
    let three = "server.1=h1:1:2\nserver.2=h2:1:2\nserver.3=h3:1:2\n";
    let cases = [
        // A server in two groups.
        (format!("{three}group.1=1:2\ngroup.2=2:3"), "already in"),
        // A participant in no group (also when only weights are given).
        (format!("{three}group.1=1:2"), "not in any group"),
        (format!("{three}weight.1=3"), "not in any group"),
        // A group member without a weight: Java's NullPointerException.
        (format!("{three}group.1=1:2:3:9"), "not in the server list"),
        (
            format!("{three}server.4=h4:1:2:observer\ngroup.1=1:2:3:4"),
            "an observer",
        ),
        (
            format!("{three}group.1=1:2:3\nweight.2=-1"),
            "negative weight",
        ),
        (format!("{three}group.1=1:2:3\nweight.2=x"), "64-bit"),
        (format!("{three}group.1=1:x:3"), "not a server id"),
        (format!("{three}group.1="), "not a server id"),
        (format!("{three}group=1:2:3"), "group.N"),
        (format!("{three}group.1=1:2:3\nweight.=1"), "weight.N"),
        (
            format!("{three}group.1=1:2:3\ngroup.01=4"),
            "already defines group 1",
        ),
    ];
    for (text, needle) in cases {
        let e = peer_err(1, &text);
        assert!(
            matches!(e, ConfigError::BadValue { .. }) && e.to_string().contains(needle),
            "{needle}: {e}\n{text}"
        );
    }
    let e = peer_err(1, &format!("{three}group.1=1:2\ngroup.2=2:3"));
    assert_eq!(bad_key(&e), "group.2");
    assert_eq!(
        bad_key(&peer_err(1, &format!("{three}group.1=1:2"))),
        "server.3"
    );
}

#[test]
fn hierarchy_warnings() {
    let three = "server.1=h1:1:2\nserver.2=h2:1:2\nserver.3=h3:1:2\n";
    // Java takes the id after the first '.', whatever the key's prefix.
    let (c, w) = peer(
        1,
        &format!("{three}groupA.1=1:2:3\nweight.7=5\nweightX.2=4"),
    );
    assert_eq!(c.groups, vec![(1, vec![1, 2, 3])]);
    assert_eq!(c.weights.get(&2), Some(&4));
    assert!(has(&w, "weight.7 is for server 7"), "{w:?}");
    let (c, w) = peer(1, &format!("{three}group.1=1:2:3:9\nweight.9=1"));
    assert_eq!(c.weights.get(&9), Some(&1));
    assert!(has(&w, "lists server 9"), "{w:?}");
    let (_, w) = peer(1, &format!("{three}group.1=1:2:3 "));
    assert!(has(&w, "group.1 ends with whitespace"), "{w:?}");
}

// ---- quorum keys of parseProperties ----

#[test]
fn quorum_key_values_and_defaults() {
    let (c, _) = with("");
    assert_eq!(c.election_alg, 3);
    assert!(!c.quorum_listen_on_all_ips && c.sync_enabled);
    assert_eq!(c.connect_to_learner_master_limit, 0);
    assert_eq!(c.observer_master_port, None);
    assert!(!c.local_sessions_enabled && !c.local_sessions_upgrading_enabled);
    assert!(!c.multi_address_enabled && c.multi_address_reachability_check_enabled);
    assert_eq!(c.multi_address_reachability_check_timeout_ms, 1000);
    assert_eq!(c.peer_type, LearnerRole::Participant);
    assert_eq!(c.config_version, 0);

    let (c, w) = with(
        "electionAlg=3\nquorumListenOnAllIPs=TRUE\nsyncEnabled=false\n\
         connectToLearnerMasterLimit=7\nobserverMasterPort=2191\nlocalSessionsEnabled=true\n\
         localSessionsUpgradingEnabled=true\nmultiAddress.enabled=true\n\
         multiAddress.reachabilityCheckEnabled=false\nmultiAddress.reachabilityCheckTimeoutMs=250",
    );
    assert!(w.is_empty(), "{w:?}");
    assert!(c.quorum_listen_on_all_ips && !c.sync_enabled);
    assert_eq!(c.connect_to_learner_master_limit, 7);
    assert_eq!(c.observer_master_port, Some(2191));
    assert!(c.local_sessions_enabled && c.local_sessions_upgrading_enabled);
    assert!(c.multi_address_enabled && !c.multi_address_reachability_check_enabled);
    assert_eq!(c.multi_address_reachability_check_timeout_ms, 250);
    // observerMasterPort <= 0 is "not set".
    assert_eq!(with("observerMasterPort=-1").0.observer_master_port, None);
}

#[test]
fn quorum_key_errors() {
    for (line, key) in [
        ("electionAlg=0", "electionAlg"),
        ("electionAlg=three", "electionAlg"),
        ("quorumListenOnAllIPs=yes", "quorumListenOnAllIPs"),
        ("syncEnabled=1", "syncEnabled"),
        (
            "connectToLearnerMasterLimit=x",
            "connectToLearnerMasterLimit",
        ),
        ("observerMasterPort=70000", "observerMasterPort"),
        ("multiAddress.enabled=on", "multiAddress.enabled"),
        (
            "multiAddress.reachabilityCheckTimeoutMs=1s",
            "multiAddress.reachabilityCheckTimeoutMs",
        ),
    ] {
        assert_eq!(bad_key(&err(&format!("{MIN}{line}"))), key, "{line}");
    }
    let (c, w) = with("connectToLearnerMasterLimit=-2");
    assert_eq!(c.connect_to_learner_master_limit, 0);
    assert!(
        has(&w, "connectToLearnerMasterLimit=-2 is negative"),
        "{w:?}"
    );
}

#[test]
fn multi_address_defaults_come_from_the_jvm() {
    let (c, _) = ok_with(
        MIN,
        &[
            ("zookeeper.multiAddress.enabled", "true"),
            ("zookeeper.multiAddress.reachabilityCheckEnabled", "no"),
            ("zookeeper.multiAddress.reachabilityCheckTimeoutMs", "300"),
        ],
    );
    assert!(c.multi_address_enabled && !c.multi_address_reachability_check_enabled);
    assert_eq!(c.multi_address_reachability_check_timeout_ms, 300);
    // The zoo.cfg key wins over the JVM property.
    let (c, _) = ok_with(
        &format!("{MIN}multiAddress.enabled=false"),
        &[("zookeeper.multiAddress.enabled", "true")],
    );
    assert!(!c.multi_address_enabled);
    let e = err_with(
        MIN,
        &[("zookeeper.multiAddress.reachabilityCheckTimeoutMs", "x")],
    );
    assert!(e.to_string().contains("fails to start"), "{e}");
}

// ---- quorum system properties ----

#[test]
fn quorum_property_defaults() {
    let (c, _) = with("");
    assert_eq!(c.cnx_timeout_ms, 5000);
    assert_eq!(c.election_port_bind_retry, 3);
    assert!(c.leader_serves);
    assert_eq!(c.commit_log_count, 500);
    assert_eq!(c.snapshot_size_factor, SnapshotSizeFactor(0.33));
    assert!(!c.force_snapshot_sync);
    assert_eq!(
        (c.max_concurrent_snap_syncs, c.max_concurrent_diff_syncs),
        (10, 100)
    );
    assert_eq!(c.max_time_to_wait_for_epoch_ms, None);
    assert_eq!(c, ServerConfig::parse(MIN, Path::new(BASE)).unwrap().0);
}

#[test]
fn quorum_properties_from_zoo_cfg_and_jvm() {
    let (c, w) = with(
        "cnxTimeout=2000\nelectionPortBindRetry=0\nleaderServes=no\ncommitLogCount=1000\n\
         snapshotSizeFactor=0.5\nforceSnapshotSync=true\nleader.maxConcurrentSnapSyncs=5\n\
         leader.maxConcurrentDiffSyncs=0x10\nleader.maxTimeToWaitForEpoch=2000\n\
         observer.syncEnabled=false",
    );
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(c.cnx_timeout_ms, 2000);
    assert_eq!(c.election_port_bind_retry, 0);
    assert!(!c.leader_serves);
    assert_eq!(c.commit_log_count, 1000);
    assert_eq!(c.snapshot_size_factor, SnapshotSizeFactor(0.5));
    assert_eq!(c.snapshot_size_factor.log_size_limit(1000), Some(500));
    assert!(c.force_snapshot_sync);
    assert_eq!(
        (c.max_concurrent_snap_syncs, c.max_concurrent_diff_syncs),
        (5, 16)
    );
    assert_eq!(c.max_time_to_wait_for_epoch_ms, Some(2000));
    assert!(!c.sync_enabled);

    let (c, _) = ok_with(
        MIN,
        &[
            ("zookeeper.cnxTimeout", "700"),
            ("zookeeper.leaderServes", "No"),
            ("zookeeper.observer.syncEnabled", "TRUE"),
        ],
    );
    assert_eq!(c.cnx_timeout_ms, 700);
    // Only the exact value "no" keeps clients off the leader.
    assert!(c.leader_serves);
    assert!(c.sync_enabled);
    assert!(
        !with("syncEnabled=true\nobserver.syncEnabled=yes")
            .0
            .sync_enabled
    );
}

#[test]
fn quorum_property_fallbacks() {
    let (c, w) = with(
        "electionPortBindRetry=-1\ncommitLogCount=100\nsnapshotSizeFactor=2\n\
         leader.maxTimeToWaitForEpoch=-5",
    );
    assert_eq!(c.election_port_bind_retry, 3);
    assert_eq!(c.commit_log_count, 500);
    assert_eq!(c.snapshot_size_factor, SnapshotSizeFactor::DEFAULT);
    assert_eq!(c.max_time_to_wait_for_epoch_ms, None);
    for needle in [
        "electionPortBindRetry=-1",
        "commitLogCount=100",
        "snapshotSizeFactor=2",
    ] {
        assert!(has(&w, needle), "{needle}: {w:?}");
    }
    let (c, w) = with("commitLogCount=lots\nsnapshotSizeFactor=third");
    assert_eq!(c.commit_log_count, 500);
    assert_eq!(c.snapshot_size_factor, SnapshotSizeFactor::DEFAULT);
    assert!(
        has(&w, "commitLogCount=lots") && has(&w, "snapshotSizeFactor=third"),
        "{w:?}"
    );
    // A negative factor turns the comparison off; Java's double syntax.
    let (c, _) = with("snapshotSizeFactor=-1");
    assert!(!c.snapshot_size_factor.enabled());
    assert_eq!(c.snapshot_size_factor.log_size_limit(10), None);
    assert_eq!(
        with("snapshotSizeFactor= .25d").0.snapshot_size_factor,
        SnapshotSizeFactor(0.25)
    );
    assert_eq!(
        with("snapshotSizeFactor=inf").0.snapshot_size_factor,
        SnapshotSizeFactor::DEFAULT
    );
}

#[test]
fn quorum_property_errors_only_for_a_quorum_peer() {
    let (c, w) = with("cnxTimeout=5s\nleader.maxConcurrentSnapSyncs=0");
    assert_eq!((c.cnx_timeout_ms, c.max_concurrent_snap_syncs), (5000, 10));
    assert!(
        has(&w, "cnxTimeout=5s") && has(&w, "maxConcurrentSnapSyncs=0"),
        "{w:?}"
    );
    let three = "server.1=h1:1:2\nserver.2=h2:1:2\nserver.3=h3:1:2\n";
    for (line, key) in [
        ("cnxTimeout=5s", "cnxTimeout"),
        ("cnxTimeout=-1", "cnxTimeout"),
        (
            "leader.maxConcurrentSnapSyncs=0",
            "leader.maxConcurrentSnapSyncs",
        ),
        (
            "leader.maxConcurrentDiffSyncs=-3",
            "leader.maxConcurrentDiffSyncs",
        ),
    ] {
        assert_eq!(
            bad_key(&peer_err(1, &format!("{three}{line}"))),
            key,
            "{line}"
        );
    }
    let e = peer_with(1, three, &[("zookeeper.cnxTimeout", "x")]).unwrap_err();
    assert_eq!(bad_key(&e), "-Dzookeeper.cnxTimeout");
}

// ---- the ensemble as the quorum code sees it ----

#[test]
fn ensemble_accessors() {
    let (c, _) = peer(6, FIVE_AND_OBSERVER);
    assert!(c.is_distributed());
    assert_eq!(c.own_server().map(|s| s.id), Some(6));
    assert_eq!(
        c.server(3).map(|s| s.addresses[0].host.as_str()),
        Some("h3")
    );
    assert!(c.server(9).is_none());
    assert_eq!(
        c.participants().map(|s| s.id).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    assert_eq!(c.observers().map(|s| s.id).collect::<Vec<_>>(), vec![6]);
    assert!(c.is_observer());
    assert!(!peer(2, FIVE_AND_OBSERVER).0.is_observer());
    // The server list wins over peerType, both ways.
    let (c, w) = peer(2, &format!("{FIVE_AND_OBSERVER}peerType=observer"));
    assert!(!c.is_observer() && has(&w, "does not match"), "{w:?}");
    let (c, _) = peer(6, &format!("{FIVE_AND_OBSERVER}peerType=participant"));
    assert!(c.is_observer());
    let (c, _) = peer(9, &format!("{FIVE_AND_OBSERVER}peerType=observer"));
    assert_eq!(c.peer_type, LearnerRole::Participant);
    assert!(c.own_server().is_none());
}

#[test]
fn distributed_or_standalone() {
    // One participant with standaloneEnabled (the default) runs standalone.
    let (c, _) = peer(1, "server.1=h1:1:2");
    assert!(!c.is_distributed());
    let (c, _) = peer(1, "server.1=h1:1:2\nstandaloneEnabled=false");
    assert!(c.is_distributed());
    let (c, _) = peer(1, "server.1=h1:1:2\nserver.2=h2:1:2");
    assert!(c.is_distributed());
    assert!(!with("").0.is_distributed());
}

#[test]
fn config_version() {
    let (c, _) = peer(1, "server.1=h1:1:2\nserver.2=h2:1:2\nversion=100000000");
    assert_eq!(c.config_version, 0x1_0000_0000);
    assert_eq!(bad_key(&err(&format!("{MIN}version=xyz"))), "version");

    let dir = TempDir::new();
    dir.write("data/myid", "1");
    dir.write(
        "zoo.cfg.dynamic.200000000",
        "server.1=h1:1:2\nserver.2=h2:1:2\n",
    );
    dir.write("plain.dynamic", "server.1=h1:1:2\nserver.2=h2:1:2\n");
    let cfg = |file: &str| {
        format!(
            "dataDir={0}/data\nclientPort=1\ninitLimit=1\nsyncLimit=1\ndynamicConfigFile={0}/{file}\n",
            dir.path().display()
        )
    };
    assert_eq!(
        ok(&cfg("zoo.cfg.dynamic.200000000")).0.config_version,
        0x2_0000_0000
    );
    // "dynamic" is not hexadecimal: no version.
    assert_eq!(ok(&cfg("plain.dynamic")).0.config_version, 0);
}

// ---- conf for a quorum peer ----

#[test]
fn conf_report_of_a_quorum_peer() {
    let (c, _) = peer(
        2,
        "server.1=h1:2888:3888\nserver.2=127.0.0.1:2889:3889;2181\n\
         server.3=[::1]:2890:3890:observer;10.0.0.3:2183\nversion=100000000",
    );
    let report = c.conf_report_with_sizes(1, 2);
    let (head, quorum) = report.split_once("serverId=2\n").expect(&report);
    assert!(head.starts_with("clientPort=2181\n"), "{head}");
    assert_eq!(
        quorum,
        "initLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort=3889\nquorumPort=2889\n\
         peerType=0\nmembership: \n\
         server.1=h1:2888:3888:participant\n\
         server.2=127.0.0.1:2889:3889:participant;0.0.0.0:2181\n\
         server.3=[::1]:2890:3890:observer;10.0.0.3:2183\n\
         version=100000000"
    );
    // The version a leader assigned later.
    assert!(c
        .conf_report_with_version(1, 2, 0x3_0000_0000)
        .ends_with("\nversion=300000000"));
    // An observer reports peerType 1.
    let (c, _) = peer(
        3,
        "server.1=h1:1:2\nserver.2=h2:1:2\nserver.3=h3:3:4:observer",
    );
    assert!(c
        .conf_report_with_sizes(0, 0)
        .contains("\nquorumPort=3\npeerType=1\n"));
}

#[test]
fn conf_membership_of_hierarchical_quorums() {
    let (c, _) = peer(
        1,
        "server.1=h1:1:2\nserver.2=h2:1:2\nserver.3=h3:1:2\n\
         group.1=2:1\ngroup.2=3\nweight.3=4",
    );
    assert_eq!(
        c.membership_report(0),
        "server.1=h1:1:2:participant\nserver.2=h2:1:2:participant\nserver.3=h3:1:2:participant\n\
         group.1=1:2\ngroup.2=3\nweight.1=1\nweight.2=1\nweight.3=4\nversion=0"
    );
}

#[test]
fn membership_follows_java_hash_order() {
    // In a 16-bucket HashMap id 16 lands in bucket 0, before id 5.
    let (c, _) = peer(5, "server.5=h5:1:2\nserver.16=h16:1:2\nserver.3=h3:1:2");
    let m = c.membership_report(0);
    let pos = |s: &str| m.find(s).expect(s);
    assert!(
        pos("server.16=") < pos("server.3=") && pos("server.3=") < pos("server.5="),
        "{m}"
    );
}

#[test]
fn java_form_of_multi_address_lines() {
    let line = parse_server_line(1, "zb:1:4|za:2:3:observer;7", true).unwrap();
    // Quorum and election addresses are sorted by host separately, as Java does.
    assert_eq!(line.java_form(), "za:2:3|zb:1:4:observer;0.0.0.0:7");
}
