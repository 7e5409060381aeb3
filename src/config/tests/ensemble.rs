//! server.N lines, myid, dynamic config files and quorum checks.

use super::*;

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
    let line = parse_server_line(2, "10.0.0.2:2888:3888:Observer;10.0.0.2:2181", false).unwrap();
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

    let (c, w) = ok(&format!(
        "{MIN}server.1=h1:1:2\nserver.2=h2:1:2\ninitLimit=5\nsyncLimit=2\nstandaloneEnabled=true"
    )
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
