//! Durability: nothing acknowledged is lost, whatever the crash.
//!
//! - A log cut at any byte offset recovers to exactly the transactions
//!   wholly before the cut (the startup recovery code, on real files).
//! - kill -9 during sustained concurrent writes, then restart: every write
//!   that was acknowledged is there. Rounds: CRASH_ROUNDS (default 3).

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rzk::client::Client;
use rzk::jute::txn::{CreateTxn, TxnHeader};
use rzk::persist::snapshot::Compression;
use rzk::persist::store::{self, StoreConfig};
use rzk::persist::txnlog::{TxnLogIterator, TxnLogWriter};
use rzk::persist::{files, image};
use rzk::proto::op;
use rzk::tree::DataTree;
use rzk::txn::{Txn, TxnBody};

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rzk-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn store_cfg(dir: &Path) -> StoreConfig {
    StoreConfig {
        snap_dir: files::version_dir(dir),
        log_dir: files::version_dir(dir),
        force_sync: false,
        prealloc_bytes: 4096,
        compression: Compression::None,
        trust_empty_snapshot: false,
        fsync_warning_ms: 1000,
    }
}

fn create_txn(zxid: i64) -> Txn {
    Txn {
        header: TxnHeader {
            client_id: 0,
            cxid: zxid as i32,
            zxid,
            time: 1_700_000_000_000,
            type_: op::CREATE,
        },
        body: TxnBody::Create(CreateTxn {
            path: format!("/n{zxid}"),
            data: Some(Bytes::from(format!("value {zxid}"))),
            acl: rzk::acl::open_acl_unsafe(),
            ephemeral: false,
            parent_cversion: zxid as i32,
        }),
        digest: None,
    }
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(files::version_dir(to)).unwrap();
    for e in std::fs::read_dir(files::version_dir(from)).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), files::version_dir(to).join(e.file_name())).unwrap();
    }
}

#[test]
fn a_torn_log_recovers_exactly_the_whole_records_before_the_cut() {
    const N: i64 = 40;
    let base = temp_dir("torn-base");
    let cfg = store_cfg(&base);
    cfg.create_dirs().unwrap();
    // The empty tree's snapshot, then N creates in one log.
    let empty = image::snapshot_of(&DataTree::new(false), &[]);
    store::write_snapshot(&cfg, &empty, 0).unwrap();
    let mut w = TxnLogWriter::new(cfg.log_dir.clone(), cfg.prealloc_bytes);
    for z in 1..=N {
        w.append_txn(&create_txn(z), None).unwrap();
    }
    w.flush().unwrap();
    w.sync().unwrap();
    w.close().unwrap();
    let log = files::list_logs(&cfg.log_dir).unwrap().pop().unwrap();
    let ends: Vec<u64> = TxnLogIterator::open(&cfg.log_dir, 1)
        .unwrap()
        .map(|e| e.unwrap().end)
        .collect();
    assert_eq!(ends.len(), N as usize);
    let len = std::fs::metadata(&log).unwrap().len();
    // Every offset inside the records, plus some in the zero padding.
    let last_end = *ends.last().unwrap();
    let cuts: Vec<u64> = (0..=last_end).chain([last_end + 100, len]).collect();
    let work = temp_dir("torn-work");
    for cut in cuts {
        copy_dir(&base, &work);
        let f = files::version_dir(&work).join(log.file_name().unwrap());
        let file = std::fs::OpenOptions::new().write(true).open(&f).unwrap();
        file.set_len(cut).unwrap();
        drop(file);
        let whole = ends.iter().filter(|&&e| e <= cut).count() as i64;
        let got = store::recover(&store_cfg(&work), false)
            .unwrap_or_else(|e| panic!("cut at {cut}: recovery failed: {e}"));
        assert_eq!(got.digest_mismatches, 0, "cut at {cut}");
        assert_eq!(got.tree.last_processed_zxid, whole, "cut at {cut}");
        for z in 1..=N {
            assert_eq!(
                got.tree.get(&format!("/n{z}")).is_some(),
                z <= whole,
                "cut at {cut}: /n{z}"
            );
        }
        // The torn record was cut off: recovering again finds the same.
        let again = store::recover(&store_cfg(&work), false).unwrap();
        assert_eq!(
            again.tree.last_processed_zxid, whole,
            "cut at {cut}, second recovery"
        );
    }
    let _ = std::fs::remove_dir_all(&base);
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn damage_inside_a_log_stops_recovery_naming_the_file_and_offset() {
    let dir = temp_dir("damage");
    let cfg = store_cfg(&dir);
    cfg.create_dirs().unwrap();
    store::write_snapshot(&cfg, &image::snapshot_of(&DataTree::new(false), &[]), 0).unwrap();
    let mut w = TxnLogWriter::new(cfg.log_dir.clone(), cfg.prealloc_bytes);
    for z in 1..=10 {
        w.append_txn(&create_txn(z), None).unwrap();
    }
    w.flush().unwrap();
    w.close().unwrap();
    let entries: Vec<_> = TxnLogIterator::open(&cfg.log_dir, 1)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    let log = files::list_logs(&cfg.log_dir).unwrap().pop().unwrap();
    let mut bytes = std::fs::read(&log).unwrap();
    let at = entries[4].offset as usize + 30;
    bytes[at] ^= 0xff;
    std::fs::write(&log, bytes).unwrap();
    let err = match store::recover(&cfg, false) {
        Ok(_) => panic!("a damaged record must stop recovery"),
        Err(e) => e,
    };
    assert!(err.contains(&log.display().to_string()), "{err}");
    assert!(err.contains(&entries[4].offset.to_string()), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- kill -9 under load -----------------------------------------------------

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(dir: &Path, port: u16) -> Server {
    let cfg = dir.join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!(
            "tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\nsnapCount=300\nadmin.enableServer=false\n",
            dir.join("data").display()
        ),
    )
    .unwrap();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_rzk"))
        .arg("server")
        .arg(&cfg)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < deadline,
            "server did not start; see {}",
            dir.join("server.log").display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Server { child, addr }
}

#[test]
fn kill_9_under_load_loses_no_acknowledged_write() {
    let rounds: u64 = std::env::var("CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let dir = temp_dir("crash");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let acked: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
    let mut seed = 0x9e37_79b9_u64 ^ u64::from(std::process::id());
    for round in 0..rounds {
        let server = start_server(&dir, port);
        if round == 0 {
            let mut c = Client::connect(server.addr, 30000).unwrap();
            c.create("/c", b"", rzk::acl::open_acl_unsafe(), 0).unwrap();
        }
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..4)
            .map(|t| {
                let (stop, acked, addr) = (stop.clone(), acked.clone(), server.addr);
                std::thread::spawn(move || {
                    let Ok(mut c) = Client::connect(addr, 30000) else {
                        return;
                    };
                    for i in 0..100_000 {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        let path = format!("/c/r{round}-t{t}-{i}");
                        let data = format!("{round}:{t}:{i}");
                        match c.create(&path, data.as_bytes(), rzk::acl::open_acl_unsafe(), 0) {
                            Ok(_) => {
                                acked.lock().unwrap().insert(path, data);
                            }
                            Err(_) => return, // the server is gone
                        }
                    }
                })
            })
            .collect();
        // Let it run a random while, then pull the plug.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(300 + seed % 1200));
        drop(server); // SIGKILL
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
        // Restart and look for every acknowledged write.
        let server = start_server(&dir, port);
        let mut c = Client::connect(server.addr, 30000).unwrap();
        let acked = acked.lock().unwrap();
        assert!(
            !acked.is_empty(),
            "round {round}: no write was acknowledged"
        );
        for (path, data) in acked.iter() {
            let (got, _) = c.get_data(path, false).unwrap_or_else(|e| {
                panic!("round {round}: acknowledged {path} lost after kill -9: {e:?}")
            });
            assert_eq!(
                got.as_deref(),
                Some(data.as_bytes()),
                "round {round}: {path}"
            );
        }
        eprintln!(
            "crash round {round}: {} acknowledged writes all present",
            acked.len()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sessions_survive_a_restart_and_expire_on_schedule() {
    let dir = temp_dir("sessions");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = start_server(&dir, port);
    let mut c = Client::connect(server.addr, 4000).unwrap();
    assert_eq!(c.timeout_ms, 4000);
    c.create("/eph", b"e", rzk::acl::open_acl_unsafe(), 1)
        .unwrap();
    let (id, pw) = (c.session_id, c.passwd.clone());
    drop(server); // kill -9 with the session alive
    let server = start_server(&dir, port);
    let mut other = Client::connect(server.addr, 30000).unwrap();
    let st = other
        .exists("/eph", false)
        .expect("the ephemeral survives the restart");
    assert_eq!(st.ephemeral_owner, id);
    // Its client may come back to it...
    let mut back = Client::attach(server.addr, id, pw, c.last_zxid, 4000).unwrap();
    assert_eq!(
        back.session_id, id,
        "the session is still live after the restart"
    );
    back.ping().unwrap();
    drop(back);
    drop(c);
    // ...but once nobody keeps it alive it expires on its timeout.
    let deadline = Instant::now() + Duration::from_secs(15);
    while other.exists("/eph", false).is_ok() {
        assert!(
            Instant::now() < deadline,
            "the restored session never expired"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_damaged_newest_snapshot_falls_back_to_an_older_one() {
    let dir = temp_dir("fallback");
    let cfg = store_cfg(&dir);
    cfg.create_dirs().unwrap();
    let mut tree = DataTree::new(false);
    store::write_snapshot(&cfg, &image::snapshot_of(&tree, &[]), 0).unwrap();
    let mut w = TxnLogWriter::new(cfg.log_dir.clone(), cfg.prealloc_bytes);
    for z in 1..=20 {
        let t = create_txn(z);
        w.append_txn(&t, None).unwrap();
        tree.apply(&t, &mut Vec::new());
        if z == 10 {
            // A snapshot at zxid 10, which will be damaged.
            store::write_snapshot(&cfg, &image::snapshot_of(&tree, &[]), 10).unwrap();
        }
    }
    w.flush().unwrap();
    w.close().unwrap();
    let newest = files::list_snapshots(&cfg.snap_dir).unwrap().pop().unwrap();
    assert!(newest.to_string_lossy().ends_with("snapshot.a"));
    let mut bytes = std::fs::read(&newest).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&newest, bytes).unwrap();
    let got = store::recover(&cfg, false).unwrap();
    assert_eq!(
        got.snapshot_zxid, 0,
        "the damaged snapshot.a was passed over"
    );
    assert_eq!(
        got.tree.last_processed_zxid, 20,
        "the logs from zxid 1 fill in the rest"
    );
    assert_eq!(got.tree.digest(), tree.digest());
    assert_eq!(got.digest_mismatches, 0);
    let _ = std::fs::remove_dir_all(&dir);
}
