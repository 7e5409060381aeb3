//! Leader election as a service for the quorum peer's main loop: one Tokio
//! task owns the [`Election`] state machine and the [`QuorumCnx`]
//! transport, feeds it decoded notifications and timer ticks, and carries
//! out what it asks (sends, reconnects, the decision).
//!
//! The peer calls `look_for_leader` when it is LOOKING and `settled` once
//! it follows, leads or observes, so that LOOKING peers get answered.

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::cnx::{CnxConfig, Incoming, QuorumCnx};
use super::election::{Election, Output};
use super::election_wire::{config_version, Notification};
use super::verifier::QuorumVerifier;
use super::vote::{ServerState, Vote};

/// cnxTimeout's default.
pub const DEFAULT_CNX_TIMEOUT_MS: u64 = 5000;

pub struct ElectionConfig {
    pub my_id: u64,
    pub verifier: QuorumVerifier,
    /// Election addresses by sid; ours must be among them.
    pub election_addrs: BTreeMap<u64, SocketAddr>,
    /// quorumListenOnAllIPs: listen on the wildcard address, same port.
    pub listen_all_ips: bool,
    /// cnxTimeout in ms.
    pub cnx_timeout_ms: u64,
    /// Our learner type: false for an observer.
    pub participant: bool,
}

enum Command {
    Look {
        last_zxid: i64,
        current_epoch: i64,
        reply: oneshot::Sender<(Vote, ServerState)>,
    },
    Settled(ServerState, Vote),
    Shutdown,
}

pub struct ElectionService {
    commands: mpsc::UnboundedSender<Command>,
    task: JoinHandle<()>,
    local_addr: SocketAddr,
}

impl ElectionService {
    /// Binds the election port and starts the task. Must run inside a
    /// Tokio runtime.
    pub fn start(cfg: ElectionConfig) -> io::Result<ElectionService> {
        let mine = *cfg.election_addrs.get(&cfg.my_id).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("no election address for our sid {}", cfg.my_id),
            )
        })?;
        let listen = if cfg.listen_all_ips {
            let any = match mine.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            };
            SocketAddr::new(any, mine.port())
        } else {
            mine
        };
        let (cnx, incoming) = QuorumCnx::start(CnxConfig {
            my_id: cfg.my_id,
            listen,
            advertised: vec![format_addr(mine)],
            peers: cfg.election_addrs.clone(),
            cnx_timeout: Duration::from_millis(cfg.cnx_timeout_ms),
        })?;
        let local_addr = cnx.local_addr();
        let election = Election::new(cfg.my_id, cfg.verifier, cfg.participant);
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(election, cnx, incoming, rx));
        Ok(ElectionService {
            commands: tx,
            task,
            local_addr,
        })
    }

    /// Where the election port listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Runs one election round; resolves with the decided vote and the
    /// state to go to. Errs only if the service stopped.
    pub async fn look_for_leader(
        &self,
        last_zxid: i64,
        current_epoch: i64,
    ) -> io::Result<(Vote, ServerState)> {
        let (reply, decided) = oneshot::channel();
        self.commands
            .send(Command::Look {
                last_zxid,
                current_epoch,
                reply,
            })
            .map_err(|_| stopped())?;
        decided.await.map_err(|_| stopped())
    }

    /// We now follow, lead or observe with this vote.
    pub fn settled(&self, state: ServerState, vote: Vote) {
        let _ = self.commands.send(Command::Settled(state, vote));
    }

    /// A handle for the roles, to update the vote peers are answered with.
    pub fn handle(&self) -> ElectionHandle {
        ElectionHandle {
            commands: self.commands.clone(),
        }
    }

    /// Stops the task and closes the port and every connection.
    pub fn shutdown(self) {
        let _ = self.commands.send(Command::Shutdown);
        drop(self.task);
    }
}

/// Tells the election service about the peer's vote from a role's task.
#[derive(Clone)]
pub struct ElectionHandle {
    commands: mpsc::UnboundedSender<Command>,
}

impl ElectionHandle {
    /// As Java's QuorumPeer.updateElectionVote: once synced (a learner) or
    /// established (a leader), LOOKING peers are answered with the new
    /// epoch as the vote's peer epoch, which is what the rest say too.
    pub fn update_peer_epoch(&self, state: ServerState, mut vote: Vote, epoch: i64) {
        vote.peer_epoch = epoch;
        let _ = self.commands.send(Command::Settled(state, vote));
    }
}

fn stopped() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "election service stopped")
}

/// NetUtils.formatInetAddr.
fn format_addr(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
    }
}

async fn run(
    mut election: Election,
    cnx: QuorumCnx,
    mut incoming: mpsc::Receiver<Incoming>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let epoch = Instant::now();
    let now_ms = move || epoch.elapsed().as_millis() as i64;
    let mut waiting: Option<oneshot::Sender<(Vote, ServerState)>> = None;
    let my_version = election.verifier().version();
    loop {
        let deadline = election
            .next_deadline()
            .map(|ms| epoch + Duration::from_millis(ms.max(0) as u64));
        let out = tokio::select! {
            cmd = commands.recv() => match cmd {
                Some(Command::Look { last_zxid, current_epoch, reply }) => {
                    info!(
                        "new election: my id {}, zxid {last_zxid:#x}, epoch {current_epoch:#x}",
                        election.my_id()
                    );
                    waiting = Some(reply);
                    election.look(last_zxid, current_epoch, now_ms())
                }
                Some(Command::Settled(state, vote)) => {
                    election.settled(state, vote);
                    Output::default()
                }
                Some(Command::Shutdown) | None => break,
            },
            Some(msg) = incoming.recv() => match Notification::decode(&msg.msg) {
                Ok(n) => {
                    debug!("notification from {}: {n:?}", msg.from);
                    if let Some(v) = n.config.as_deref().and_then(config_version) {
                        if v > my_version {
                            warn!(
                                "sid {} has config version {v:#x}, ours is {my_version:#x}; \
                                 dynamic reconfig is not supported",
                                msg.from
                            );
                        }
                    }
                    election.receive(msg.from, n, now_ms())
                }
                Err(e) => {
                    warn!("skipping notification from sid {}: {e}", msg.from);
                    Output::default()
                }
            },
            _ = sleep_until(deadline), if deadline.is_some() => election.tick(now_ms()),
        };
        for (sid, n) in out.send {
            cnx.send(sid, n.encode());
        }
        if out.connect_all {
            cnx.connect_all();
        }
        if let Some((vote, state)) = out.decided {
            info!(
                "election decided: leader {} (zxid {:#x}, round {:#x}), we are {state:?}",
                vote.id, vote.zxid, vote.election_epoch
            );
            if let Some(reply) = waiting.take() {
                let _ = reply.send((vote, state));
            }
        }
    }
    cnx.shutdown();
}

async fn sleep_until(deadline: Option<Instant>) {
    if let Some(d) = deadline {
        tokio::time::sleep_until(d).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quorum::election_wire::{encode_frame, encode_handshake, PROTOCOL_VERSION_V1};
    use crate::quorum::verifier::tests::maj;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    fn free_addrs(n: usize) -> Vec<SocketAddr> {
        let socks: Vec<_> = (0..n)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind"))
            .collect();
        socks
            .iter()
            .map(|s| s.local_addr().expect("addr"))
            .collect()
    }

    fn config(my_id: u64, addrs: &[SocketAddr]) -> ElectionConfig {
        ElectionConfig {
            my_id,
            verifier: maj(&[1, 2, 3], &[]),
            election_addrs: addrs
                .iter()
                .enumerate()
                .map(|(i, a)| (i as u64 + 1, *a))
                .collect(),
            listen_all_ips: false,
            cnx_timeout_ms: 1000,
            participant: true,
        }
    }

    async fn decide(svc: &ElectionService) -> (Vote, ServerState) {
        tokio::time::timeout(Duration::from_secs(20), svc.look_for_leader(0, 0))
            .await
            .expect("decided in time")
            .expect("service runs")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn three_services_elect_sid_three() {
        let addrs = free_addrs(3);
        let svcs: Vec<ElectionService> = (1..=3)
            .map(|i| ElectionService::start(config(i, &addrs)).expect("start"))
            .collect();
        let (a, b, c) = tokio::join!(decide(&svcs[0]), decide(&svcs[1]), decide(&svcs[2]));
        assert_eq!((a.0.id, a.1), (3, ServerState::Following));
        assert_eq!((b.0.id, b.1), (3, ServerState::Following));
        assert_eq!((c.0.id, c.1), (3, ServerState::Leading));
        for s in svcs {
            s.shutdown();
        }
    }

    /// Reads until EOF (true) or the timeout (false).
    async fn closed_soon(sock: &mut TcpStream) -> bool {
        let mut buf = [0u8; 256];
        for _ in 0..100 {
            match tokio::time::timeout(Duration::from_secs(3), sock.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => continue,
                Err(_) => return false,
            }
        }
        false
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bad_input_is_dropped_and_election_still_works() {
        let addrs = free_addrs(3);
        let one = ElectionService::start(config(1, &addrs)).expect("start");
        let port = one.local_addr();
        // Junk, a wrong protocol version, an oversized address length, an
        // oversized frame after a good handshake, our own sid.
        let mut junk = b"GET / HTTP/1.1\r\n\r\n".to_vec();
        junk.resize(64, b'x');
        let mut bad_version = (-7i64).to_be_bytes().to_vec();
        bad_version.extend_from_slice(&9i64.to_be_bytes());
        let mut long_addr = PROTOCOL_VERSION_V1.to_be_bytes().to_vec();
        long_addr.extend_from_slice(&9i64.to_be_bytes());
        long_addr.extend_from_slice(&100_000i32.to_be_bytes());
        let mut big_frame = encode_handshake(9, &["127.0.0.1:1".into()]);
        big_frame.extend_from_slice(&(600_000i32).to_be_bytes());
        let own_sid = encode_handshake(1, &["127.0.0.1:1".into()]);
        for bytes in [junk, bad_version, long_addr, big_frame, own_sid] {
            let mut s = TcpStream::connect(port).await.expect("connect");
            s.write_all(&bytes).await.expect("write");
            assert!(
                closed_soon(&mut s).await,
                "not closed after {:?}",
                &bytes[..8]
            );
        }
        // A stranger with a larger sid is answered with our vote, as Java does.
        let mut s = TcpStream::connect(port).await.expect("connect");
        s.write_all(&encode_handshake(9, &["127.0.0.1:1".into()]))
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
        // Before a round starts the vote is held back; start one.
        let three = ElectionService::start(config(3, &addrs)).expect("start");
        let (a, b, ()) = tokio::join!(decide(&one), decide(&three), async {
            s.write_all(&encode_frame(&probe.encode()))
                .await
                .expect("write");
        });
        assert_eq!((a.0.id, a.1), (3, ServerState::Following));
        assert_eq!((b.0.id, b.1), (3, ServerState::Leading));
        let mut len = [0u8; 4];
        tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut len))
            .await
            .expect("answer in time")
            .expect("answer");
        let len = i32::from_be_bytes(len) as usize;
        assert!((44..10_000).contains(&len));
        let mut msg = vec![0u8; len];
        s.read_exact(&mut msg).await.expect("body");
        let n = Notification::decode(&msg).expect("notification");
        assert_eq!(n.version, 2);
        one.shutdown();
        three.shutdown();
    }
}
