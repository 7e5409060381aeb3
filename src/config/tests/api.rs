//! Loading files, the conf report and error display.

use super::*;

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
    let (c, _) = ok(
        "dataDir=/var/zk\ndataLogDir=/var/zklog/\nclientPort=2181\ntickTime=2000\nmaxClientCnxns=0",
    );
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
