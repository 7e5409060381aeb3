//! The election port's transport, as Java's QuorumCnxManager runs it: one
//! TCP connection per pair of peers, framed messages both ways, and a send
//! slot per peer that keeps only the newest message (Java's queues hold
//! one, so a peer never gets a stale vote after a fresh one).
//!
//! Who keeps a connection: the larger sid's. A peer that dials a larger
//! sid sends its handshake and hangs up; the larger one, on a connection
//! from a smaller sid, hangs up and dials back. A new connection for a sid
//! replaces the old one, and on a new connection the last message sent is
//! sent again if nothing newer waits (duplicates are harmless).
//!
//! Like Java, a larger sid that is not in the config is kept and its
//! messages delivered (the election answers it with our vote); we do not
//! dial strangers back, though, and keep only a few of them. Bad input
//! (unknown protocol, oversized or truncated handshake or frame, our own
//! sid) closes that connection with a log line; every length is checked
//! before anything is allocated for it.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Notify, Semaphore};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::election_wire::{
    check_frame_length, decode_handshake, encode_frame, encode_handshake, Handshake,
    HandshakeError, MAX_HANDSHAKE_BYTES,
};

/// Connections from sids outside the config we keep at once.
const MAX_STRANGERS: usize = 8;
/// Handshakes read at once; more connections wait in the accept backlog.
const MAX_HANDSHAKES: usize = 32;
/// Received messages buffered before readers wait for the election.
const RECV_CAPACITY: usize = 100;

pub struct CnxConfig {
    pub my_id: u64,
    /// Where to listen.
    pub listen: SocketAddr,
    /// Our election address(es) as sent in the handshake, `host:port`.
    pub advertised: Vec<String>,
    /// Election addresses of the config's members.
    pub peers: BTreeMap<u64, SocketAddr>,
    /// cnxTimeout: for dialing and for reading a handshake.
    pub cnx_timeout: Duration,
}

/// A message from a peer.
#[derive(Debug)]
pub struct Incoming {
    pub from: u64,
    pub msg: Vec<u8>,
}

#[derive(Default)]
struct Peer {
    /// The message waiting to go (capacity one: newer replaces older).
    pending: Option<Vec<u8>>,
    /// Resent when a new connection starts with nothing pending.
    last_sent: Option<Vec<u8>>,
    wake: Arc<Notify>,
    /// The live connection's generation and task.
    conn: Option<(u64, JoinHandle<()>)>,
    dialing: bool,
}

struct Inner {
    my_id: u64,
    handshake: Vec<u8>,
    peers: BTreeMap<u64, SocketAddr>,
    cnx_timeout: Duration,
    state: Mutex<State>,
    incoming: mpsc::Sender<Incoming>,
}

#[derive(Default)]
struct State {
    by_sid: HashMap<u64, Peer>,
    next_gen: u64,
    closed: bool,
}

/// The running transport. Dropping it does not stop it: call `shutdown`.
pub struct QuorumCnx {
    inner: Arc<Inner>,
    local_addr: SocketAddr,
    listener: JoinHandle<()>,
}

impl QuorumCnx {
    /// Binds the election port and starts accepting. Must run inside a
    /// Tokio runtime.
    pub fn start(cfg: CnxConfig) -> io::Result<(QuorumCnx, mpsc::Receiver<Incoming>)> {
        let std_listener = std::net::TcpListener::bind(cfg.listen)?;
        std_listener.set_nonblocking(true)?;
        let listener = TcpListener::from_std(std_listener)?;
        let local_addr = listener.local_addr()?;
        let (tx, rx) = mpsc::channel(RECV_CAPACITY);
        let inner = Arc::new(Inner {
            my_id: cfg.my_id,
            handshake: encode_handshake(cfg.my_id, &cfg.advertised),
            peers: cfg.peers,
            cnx_timeout: cfg.cnx_timeout,
            state: Mutex::new(State::default()),
            incoming: tx,
        });
        let accepting = tokio::spawn(accept_loop(inner.clone(), listener));
        Ok((
            QuorumCnx {
                inner,
                local_addr,
                listener: accepting,
            },
            rx,
        ))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Queues `msg` for `sid` (replacing anything not yet sent) and dials
    /// if there is no connection.
    pub fn send(&self, sid: u64, msg: Vec<u8>) {
        if sid == self.inner.my_id {
            return;
        }
        {
            let mut st = lock(&self.inner.state);
            if st.closed {
                return;
            }
            let known = self.inner.peers.contains_key(&sid);
            let peer = match st.by_sid.get_mut(&sid) {
                Some(p) => p,
                // A stranger we no longer hear from cannot be reached.
                None if !known => return,
                None => st.by_sid.entry(sid).or_default(),
            };
            peer.pending = Some(msg);
            peer.wake.notify_one();
        }
        connect_one(&self.inner, sid);
    }

    /// Dials every config member we have no connection to.
    pub fn connect_all(&self) {
        for &sid in self.inner.peers.keys() {
            connect_one(&self.inner, sid);
        }
    }

    pub fn is_connected(&self, sid: u64) -> bool {
        lock(&self.inner.state)
            .by_sid
            .get(&sid)
            .is_some_and(|p| p.conn.is_some())
    }

    /// Stops listening and closes every connection.
    pub fn shutdown(&self) {
        self.listener.abort();
        let mut st = lock(&self.inner.state);
        st.closed = true;
        for peer in st.by_sid.values_mut() {
            if let Some((_, task)) = peer.conn.take() {
                task.abort();
            }
        }
    }
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    // A panic elsewhere must not wedge the transport.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

async fn accept_loop(inner: Arc<Inner>, listener: TcpListener) {
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let (sock, addr) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                warn!("election port accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = handshakes.clone().try_acquire_owned() else {
            warn!("too many election handshakes at once, closing connection from {addr}");
            continue;
        };
        let inner = inner.clone();
        tokio::spawn(async move {
            let _permit = permit;
            receive_connection(inner, sock, addr).await;
        });
    }
}

/// Reads the handshake within cnxTimeout, at most MAX_HANDSHAKE_BYTES.
async fn read_handshake(sock: &mut TcpStream, limit: Duration) -> Result<Handshake, String> {
    let read = async {
        let mut buf = Vec::with_capacity(64);
        loop {
            match decode_handshake(&buf) {
                // Reads stop exactly at the handshake's end: frames may follow.
                Ok((hs, _)) => return Ok(hs),
                Err(HandshakeError::Incomplete(need)) => {
                    let need = need.min(MAX_HANDSHAKE_BYTES);
                    let start = buf.len();
                    buf.resize(need, 0);
                    sock.read_exact(&mut buf[start..])
                        .await
                        .map_err(|e| format!("reading the handshake: {e}"))?;
                }
                Err(e) => return Err(e.to_string()),
            }
        }
    };
    tokio::time::timeout(limit, read)
        .await
        .map_err(|_| "handshake timed out".to_owned())?
}

/// QuorumCnxManager.handleConnection.
async fn receive_connection(inner: Arc<Inner>, mut sock: TcpStream, addr: SocketAddr) {
    let _ = sock.set_nodelay(true);
    let hs = match read_handshake(&mut sock, inner.cnx_timeout).await {
        Ok(hs) => hs,
        Err(e) => {
            warn!("election connection from {addr} dropped: {e}");
            return;
        }
    };
    let Ok(sid) = u64::try_from(hs.sid()) else {
        warn!(
            "election connection from {addr} dropped: negative sid {}",
            hs.sid()
        );
        return;
    };
    let known = inner.peers.contains_key(&sid);
    if sid < inner.my_id {
        // We have the larger sid: ours is the connection that counts.
        drop(sock);
        if known {
            debug!("sid {sid} dialed us; dialing back");
            drop_connection(&inner, sid);
            connect_one(&inner, sid);
        } else {
            warn!("election connection from {addr} dropped: sid {sid} is not in the config");
        }
    } else if sid == inner.my_id {
        warn!("election connection from {addr} claims our own sid {sid}: a config error or a bug");
    } else {
        if !known {
            let st = lock(&inner.state);
            let strangers = st
                .by_sid
                .iter()
                .filter(|(s, p)| !inner.peers.contains_key(s) && p.conn.is_some())
                .count();
            if strangers >= MAX_STRANGERS {
                warn!(
                    "election connection from {addr} dropped: too many servers outside the config"
                );
                return;
            }
            info!("election connection from sid {sid} at {addr}, which is not in the config");
        }
        start_connection(&inner, sid, sock);
    }
}

/// Dials `sid` unless connected or dialing already (connectOne).
fn connect_one(inner: &Arc<Inner>, sid: u64) {
    let Some(&addr) = inner.peers.get(&sid) else {
        return;
    };
    if sid == inner.my_id {
        return;
    }
    {
        let mut st = lock(&inner.state);
        if st.closed {
            return;
        }
        let peer = st.by_sid.entry(sid).or_default();
        if peer.conn.is_some() || peer.dialing {
            return;
        }
        peer.dialing = true;
    }
    let inner = inner.clone();
    tokio::spawn(async move {
        let result = dial(&inner, sid, addr).await;
        let mut st = lock(&inner.state);
        if let Some(p) = st.by_sid.get_mut(&sid) {
            p.dialing = false;
        }
        drop(st);
        match result {
            Ok(Some(sock)) => start_connection(&inner, sid, sock),
            Ok(None) => {}
            Err(e) => debug!("cannot open election channel to {sid} at {addr}: {e}"),
        }
    });
}

/// initiateConnection + startConnection: the handshake, then keep the
/// socket only if we have the larger sid.
async fn dial(inner: &Inner, sid: u64, addr: SocketAddr) -> io::Result<Option<TcpStream>> {
    let mut sock = tokio::time::timeout(inner.cnx_timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
    sock.set_nodelay(true)?;
    tokio::time::timeout(inner.cnx_timeout, sock.write_all(&inner.handshake))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "handshake write timed out"))??;
    if sid > inner.my_id {
        debug!("sid {sid} is larger: it will dial back");
        return Ok(None);
    }
    Ok(Some(sock))
}

/// Closes the connection to `sid`, if any (SendWorker.finish).
fn drop_connection(inner: &Inner, sid: u64) {
    if let Some(peer) = lock(&inner.state).by_sid.get_mut(&sid) {
        if let Some((_, task)) = peer.conn.take() {
            task.abort();
        }
    }
}

/// Makes `sock` the connection for `sid`, replacing any older one.
fn start_connection(inner: &Arc<Inner>, sid: u64, sock: TcpStream) {
    let mut st = lock(&inner.state);
    if st.closed {
        return;
    }
    st.next_gen += 1;
    let generation = st.next_gen;
    let peer = st.by_sid.entry(sid).or_default();
    if let Some((_, old)) = peer.conn.take() {
        old.abort();
    }
    let wake = peer.wake.clone();
    if peer.pending.is_none() {
        peer.pending = peer.last_sent.clone();
    }
    wake.notify_one();
    let task_inner = inner.clone();
    let task = tokio::spawn(async move {
        let (rd, wr) = sock.into_split();
        let why = tokio::select! {
            r = read_loop(&task_inner, sid, rd) => r,
            w = write_loop(&task_inner, sid, wr, wake) => w,
        };
        info!("election connection to sid {sid} closed: {why}");
        let mut st = lock(&task_inner.state);
        let known = task_inner.peers.contains_key(&sid);
        if let Some(peer) = st.by_sid.get_mut(&sid) {
            if peer.conn.as_ref().is_some_and(|(g, _)| *g == generation) {
                peer.conn = None;
                if !known {
                    st.by_sid.remove(&sid);
                }
            }
        }
    });
    peer.conn = Some((generation, task));
}

/// RecvWorker: frames in, each checked against PACKETMAXSIZE first.
async fn read_loop(inner: &Inner, sid: u64, mut rd: OwnedReadHalf) -> String {
    loop {
        let mut len = [0u8; 4];
        if let Err(e) = rd.read_exact(&mut len).await {
            return format!("read: {e}");
        }
        let len = match check_frame_length(i32::from_be_bytes(len)) {
            Ok(n) => n,
            Err(e) => return e.to_string(),
        };
        let mut msg = vec![0u8; len];
        if let Err(e) = rd.read_exact(&mut msg).await {
            return format!("read: {e}");
        }
        if inner
            .incoming
            .send(Incoming { from: sid, msg })
            .await
            .is_err()
        {
            return "election stopped".to_owned();
        }
    }
}

/// SendWorker: the newest pending message out, whenever there is one.
async fn write_loop(inner: &Inner, sid: u64, mut wr: OwnedWriteHalf, wake: Arc<Notify>) -> String {
    loop {
        let next = {
            let mut st = lock(&inner.state);
            st.by_sid.get_mut(&sid).and_then(|p| {
                let msg = p.pending.take()?;
                p.last_sent = Some(msg.clone());
                Some(msg)
            })
        };
        match next {
            Some(msg) => {
                if let Err(e) = wr.write_all(&encode_frame(&msg)).await {
                    return format!("write: {e}");
                }
            }
            None => wake.notified().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(my_id: u64, addrs: &BTreeMap<u64, SocketAddr>) -> CnxConfig {
        CnxConfig {
            my_id,
            listen: addrs[&my_id],
            advertised: vec![addrs[&my_id].to_string()],
            peers: addrs.clone(),
            cnx_timeout: Duration::from_millis(1000),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn larger_sid_keeps_the_connection_and_only_the_newest_message_goes() {
        let socks: Vec<_> = (0..2)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind"))
            .collect();
        let addrs: BTreeMap<u64, SocketAddr> = socks
            .iter()
            .enumerate()
            .map(|(i, s)| (i as u64 + 1, s.local_addr().expect("addr")))
            .collect();
        drop(socks);
        let (one, mut from_one) = QuorumCnx::start(config(1, &addrs)).expect("start 1");
        // 2 is not up: the dials fail and only the newest message waits.
        for m in [b"old".to_vec(), b"older?".to_vec(), b"newest".to_vec()] {
            one.send(2, m);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!one.is_connected(2));
        let (two, mut at_two) = QuorumCnx::start(config(2, &addrs)).expect("start 2");
        // 1 dials, loses (smaller sid), hangs up; 2 dials back.
        one.connect_all();
        let got = tokio::time::timeout(Duration::from_secs(5), at_two.recv())
            .await
            .expect("in time")
            .expect("a message");
        assert_eq!((got.from, got.msg.as_slice()), (1, &b"newest"[..]));
        assert!(one.is_connected(2) && two.is_connected(1));
        two.send(1, b"back".to_vec());
        let got = tokio::time::timeout(Duration::from_secs(5), from_one.recv())
            .await
            .expect("in time")
            .expect("a message");
        assert_eq!((got.from, got.msg.as_slice()), (2, &b"back"[..]));
        // Nothing else was queued.
        assert!(
            tokio::time::timeout(Duration::from_millis(300), at_two.recv())
                .await
                .is_err()
        );
        one.shutdown();
        two.shutdown();
    }
}
