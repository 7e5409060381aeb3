//! rzk's ElectionService in elections with real Java 3.8 QuorumPeerMain
//! processes on 127.0.0.1 (marked #[ignore]; scripts/test.sh runs them as
//! the election-java suite). Each test starts its own Java nodes in a temp
//! dir and stops them by PID when it ends, pass or fail.

use std::collections::BTreeMap;
use std::fs;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rzk::config::{LearnerRole, QuorumServerAddress, QuorumServerLine};
use rzk::jute::quorum::QuorumPacket;
use rzk::quorum::election_service::{ElectionConfig, ElectionService};
use rzk::quorum::election_wire::{encode_frame, encode_handshake, Notification};
use rzk::quorum::verifier::QuorumVerifier;
use rzk::quorum::vote::ServerState;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const JAVA_CP: &str = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar";
const FOLLOWERINFO: i32 = 11;

/// Ports of one three-server ensemble, and the temp dir it lives in.
struct Ensemble {
    root: PathBuf,
    quorum: Vec<u16>,
    election: Vec<u16>,
    client: Vec<u16>,
}

fn free_ports(n: usize) -> Vec<u16> {
    let socks: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    socks
        .iter()
        .map(|s| s.local_addr().expect("addr").port())
        .collect()
}

impl Ensemble {
    fn new(name: &str) -> Ensemble {
        let ports = free_ports(9);
        let root = std::env::temp_dir().join(format!(
            "rzk-election-java-{name}-{}-{}",
            std::process::id(),
            ports[0]
        ));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).expect("temp dir");
        Ensemble {
            root,
            quorum: ports[0..3].to_vec(),
            election: ports[3..6].to_vec(),
            client: ports[6..9].to_vec(),
        }
    }

    fn server_lines(&self) -> Vec<QuorumServerLine> {
        (1..=3u64)
            .map(|sid| QuorumServerLine {
                id: sid,
                addresses: vec![QuorumServerAddress {
                    host: "127.0.0.1".into(),
                    quorum_port: self.quorum[sid as usize - 1],
                    election_port: self.election[sid as usize - 1],
                }],
                role: LearnerRole::Participant,
                client_address: None,
            })
            .collect()
    }

    fn rzk_config(&self, my_id: u64) -> ElectionConfig {
        ElectionConfig {
            my_id,
            verifier: QuorumVerifier::majority(&self.server_lines(), 0),
            election_addrs: (1..=3u64)
                .map(|sid| {
                    let port = self.election[sid as usize - 1];
                    (sid, SocketAddr::from(([127, 0, 0, 1], port)))
                })
                .collect::<BTreeMap<_, _>>(),
            listen_all_ips: false,
            cnx_timeout_ms: 1000,
            participant: true,
        }
    }

    /// Starts Java server `sid` of this ensemble.
    fn start_java(&self, sid: u64) -> JavaNode {
        let dir = self.root.join(format!("java{sid}"));
        let data = dir.join("data");
        fs::create_dir_all(&data).expect("data dir");
        fs::write(data.join("myid"), format!("{sid}\n")).expect("myid");
        let mut cfg = format!(
            "tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={}\n\
             clientPortAddress=127.0.0.1\n",
            data.display(),
            self.client[sid as usize - 1]
        );
        for s in 1..=3 {
            cfg.push_str(&format!(
                "server.{s}=127.0.0.1:{}:{}\n",
                self.quorum[s - 1],
                self.election[s - 1]
            ));
        }
        let zoo = dir.join("zoo.cfg");
        fs::write(&zoo, cfg).expect("zoo.cfg");
        let log = dir.join("server.log");
        let child = Command::new("java")
            .arg("-Xmx256m")
            .arg("-XX:+UseSerialGC")
            .arg("-cp")
            .arg(JAVA_CP)
            .arg(format!(
                "-Dorg.slf4j.simpleLogger.logFile={}",
                log.display()
            ))
            .arg("-Dorg.slf4j.simpleLogger.showDateTime=true")
            .arg("-Dzookeeper.admin.enableServer=false")
            .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
            .arg(&zoo)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start java");
        JavaNode { child, log }
    }
}

impl Drop for Ensemble {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("keeping {} for inspection", self.root.display());
        } else {
            let _ = fs::remove_dir_all(&self.root);
        }
    }
}

/// A Java server, killed by its PID when dropped.
struct JavaNode {
    child: Child,
    log: PathBuf,
}

impl JavaNode {
    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits (bounded) for `needle` in the server's log.
    fn wait_log(&self, needle: &str, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.log_text().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for JavaNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- {}:\n{}",
                self.log.display(),
                tail(&self.log_text(), 60)
            );
        }
    }
}

fn tail(s: &str, lines: usize) -> String {
    let all: Vec<&str> = s.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn java_available() -> bool {
    Path::new("/usr/share/java/zookeeper.jar").exists()
}

async fn elect(svc: &ElectionService, limit: Duration) -> (i64, ServerState) {
    let (vote, state) = tokio::time::timeout(limit, svc.look_for_leader(0, 0))
        .await
        .expect("election decided in time")
        .expect("service running");
    (vote.id, state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn rzk_follows_a_java_leader() {
    assert!(java_available(), "Java ZooKeeper is not installed");
    let ens = Ensemble::new("a");
    let svc = ElectionService::start(ens.rzk_config(1)).expect("start rzk");
    let java = ens.start_java(3);
    let decided = elect(&svc, Duration::from_secs(25)).await;
    assert_eq!(decided, (3, ServerState::Following));
    assert!(
        java.wait_log("Peer state changed: leading", Duration::from_secs(10)),
        "Java did not go LEADING"
    );
    svc.shutdown();
}

/// Reads one QuorumPacket as a Java learner writes it (no length prefix):
/// type, zxid, data buffer, authinfo vector.
async fn read_quorum_packet(sock: &mut TcpStream) -> QuorumPacket {
    let mut raw = vec![0u8; 16];
    sock.read_exact(&mut raw).await.expect("packet head");
    let len = i32::from_be_bytes(raw[12..16].try_into().expect("4 bytes"));
    assert!((-1..65536).contains(&len), "data length {len}");
    let mut data = vec![0u8; len.max(0) as usize + 4];
    sock.read_exact(&mut data).await.expect("packet data");
    raw.extend_from_slice(&data);
    let count = i32::from_be_bytes(raw[raw.len() - 4..].try_into().expect("4 bytes"));
    assert!(count <= 0, "authinfo in FOLLOWERINFO: {count}");
    rzk::jute::decode::<QuorumPacket>(Bytes::from(raw)).expect("a QuorumPacket")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn java_follows_an_rzk_leader() {
    assert!(java_available(), "Java ZooKeeper is not installed");
    let ens = Ensemble::new("b");
    // The quorum port rzk would lead on: the Java follower connects here.
    let quorum = tokio::net::TcpListener::bind(("127.0.0.1", ens.quorum[2]))
        .await
        .expect("bind quorum port");
    let svc = ElectionService::start(ens.rzk_config(3)).expect("start rzk");
    let java = ens.start_java(1);
    let decided = elect(&svc, Duration::from_secs(25)).await;
    assert_eq!(decided, (3, ServerState::Leading));
    let (mut sock, _) = tokio::time::timeout(Duration::from_secs(15), quorum.accept())
        .await
        .expect("Java follower connects in time")
        .expect("accept");
    let packet = tokio::time::timeout(Duration::from_secs(10), read_quorum_packet(&mut sock))
        .await
        .expect("packet in time");
    assert_eq!(packet.type_, FOLLOWERINFO);
    assert!(java.log_text().contains("Peer state changed: following"));
    svc.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn rzk_joins_an_established_java_ensemble() {
    assert!(java_available(), "Java ZooKeeper is not installed");
    let ens = Ensemble::new("c");
    let j1 = ens.start_java(1);
    let j2 = ens.start_java(2);
    assert!(
        j2.wait_log(
            "Peer state changed: leading - broadcast",
            Duration::from_secs(25)
        ),
        "Java 2 did not lead"
    );
    assert!(
        j1.wait_log(
            "Peer state changed: following - broadcast",
            Duration::from_secs(10)
        ),
        "Java 1 did not follow"
    );
    // sid 3 with empty data would win a fresh election; it must join 2.
    let svc = ElectionService::start(ens.rzk_config(3)).expect("start rzk");
    let decided = elect(&svc, Duration::from_secs(15)).await;
    assert_eq!(decided, (2, ServerState::Following));
    svc.shutdown();
}

/// Reads until EOF or error (true) or a quiet `limit` (false).
async fn closed_within(sock: &mut TcpStream, limit: Duration) -> bool {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    while start.elapsed() < limit {
        match tokio::time::timeout(limit, sock.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bad_input_is_dropped_then_rzk_elects_with_java() {
    assert!(java_available(), "Java ZooKeeper is not installed");
    let ens = Ensemble::new("d");
    let svc = ElectionService::start(ens.rzk_config(1)).expect("start rzk");
    let port = svc.local_addr();
    let addr = "127.0.0.1:1".to_owned();

    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    cases.push((
        "junk",
        (0..200u8).map(|i| i.wrapping_mul(151) | 0x80).collect(),
    ));
    let mut wrong_version = (-65537i64).to_be_bytes().to_vec();
    wrong_version.extend_from_slice(&2i64.to_be_bytes());
    cases.push(("wrong protocol version", wrong_version));
    let mut long_addr = (-65536i64).to_be_bytes().to_vec();
    long_addr.extend_from_slice(&2i64.to_be_bytes());
    long_addr.extend_from_slice(&2049i32.to_be_bytes());
    cases.push(("address over 2048 bytes", long_addr));
    // sid 0 is smaller than ours and not in the config: not dialed back.
    cases.push((
        "unknown smaller sid",
        encode_handshake(0, std::slice::from_ref(&addr)),
    ));
    let mut oversized = encode_handshake(2, std::slice::from_ref(&addr));
    oversized.extend_from_slice(&(512 * 1024 + 1i32).to_be_bytes());
    cases.push(("oversized frame", oversized));
    let mut zero = encode_handshake(2, std::slice::from_ref(&addr));
    zero.extend_from_slice(&0i32.to_be_bytes());
    cases.push(("zero-length frame", zero));
    // A handshake cut short: dropped after cnxTimeout (1 s here).
    cases.push((
        "truncated handshake",
        (-65536i64).to_be_bytes()[..6].to_vec(),
    ));
    for (what, bytes) in &cases {
        let mut s = TcpStream::connect(port).await.expect("connect");
        s.write_all(bytes).await.expect("write");
        assert!(
            closed_within(&mut s, Duration::from_secs(5)).await,
            "connection not dropped after {what}"
        );
    }

    // An unknown larger sid is kept, as Java keeps it, and answered with
    // our vote once we have one.
    let mut stranger = TcpStream::connect(port).await.expect("connect");
    stranger
        .write_all(&encode_handshake(9, std::slice::from_ref(&addr)))
        .await
        .expect("write");
    let probe = Notification {
        state: 0,
        leader: 9,
        zxid: 0,
        election_epoch: 1,
        peer_epoch: 0,
        version: 2,
        config: Some(b"version=0".to_vec()),
    };

    let java = ens.start_java(2);
    let decided = elect(&svc, Duration::from_secs(25)).await;
    assert_eq!(decided, (2, ServerState::Following));
    assert!(java.wait_log("Peer state changed: leading", Duration::from_secs(10)));

    stranger
        .write_all(&encode_frame(&probe.encode()))
        .await
        .expect("write");
    let mut len = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(5), stranger.read_exact(&mut len))
        .await
        .expect("answered in time")
        .expect("answer");
    let len = i32::from_be_bytes(len);
    assert!((44..65536).contains(&len), "answer length {len}");
    let mut msg = vec![0u8; len as usize];
    stranger.read_exact(&mut msg).await.expect("answer body");
    let answer = Notification::decode(&msg).expect("a notification");
    assert_eq!(
        (answer.state, answer.leader),
        (ServerState::Following.wire(), 2)
    );
    svc.shutdown();
}
