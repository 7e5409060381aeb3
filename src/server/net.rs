//! The network edge: the client port, connection tasks and the core task.
//!
//! Each connection has a reader task that frames requests, answers the
//! reads it may answer itself straight from the shared tree (on whichever
//! runtime thread it runs; see `server::conn`) and hands everything else
//! to the core task over a channel; and a writer that drains its outbound
//! queue and writes everything queued in one go (so replies and events that
//! are ready together share a syscall). The core task owns `Core` and is
//! the only place state changes.

use crate::fasthash::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, Notify};

use crate::jute::quorum::QuorumPacket;
use crate::persist::image;
use crate::persist::store::{self, FsyncStats, LogHandle, StoreConfig};
use crate::quorum::metrics;
use crate::quorum::peer::leading::LeadIo;
use crate::quorum::zab::packet::{self, kind};
use crate::server::conn::ConnShared;
use crate::server::core::{self, Core, Forward, Now, Outbound};
use crate::server::db::Db;
use crate::server::fourlw;
use crate::watch::ConnId;

/// What a connection's tasks and the core task share: how much is in flight,
/// so that a client that sends faster than it reads is simply not read from
/// (the server's memory stays bounded whatever a client does).
#[derive(Default)]
pub struct Backlog {
    /// Requests handed to the core and not yet processed.
    requests: AtomicUsize,
    /// Bytes queued for the socket and not yet written.
    bytes: AtomicUsize,
    changed: Notify,
}

/// Per connection: requests read but not yet answered before we stop
/// reading. Small, so that reply bytes are counted before many more
/// requests are taken.
const MAX_OUTSTANDING_REQUESTS: usize = 64;
/// Per connection: reply bytes queued before we stop reading.
const MAX_QUEUED_BYTES: usize = 8 << 20;

impl Backlog {
    fn full(&self) -> bool {
        self.requests.load(Ordering::Acquire) >= MAX_OUTSTANDING_REQUESTS
            || self.bytes.load(Ordering::Acquire) >= MAX_QUEUED_BYTES
    }

    /// Waits until the connection may hand the core another request.
    async fn wait_for_room(&self) {
        while self.full() {
            let changed = self.changed.notified();
            if !self.full() {
                break;
            }
            changed.await;
        }
    }

    fn release(counter: &AtomicUsize, n: usize, notify: &Notify) {
        counter.fetch_sub(n, Ordering::AcqRel);
        notify.notify_waiters();
    }
}

/// Messages from connection tasks to the core task.
pub enum CoreMsg {
    Open {
        conn: ConnId,
        remote: SocketAddr,
        outlet: Arc<Outlet>,
        shared: Arc<ConnShared>,
    },
    Frame {
        conn: ConnId,
        body: Bytes,
    },
    Closed {
        conn: ConnId,
    },
    /// A snapshot has been written (or failed).
    SnapshotDone,
    FourLetter {
        cmd: String,
        asker: fourlw::Asker,
        reply: oneshot::Sender<String>,
    },
    /// An AdminServer command, answered with its JSON.
    Admin {
        cmd: &'static crate::admin::commands::Command,
        kwargs: Vec<(String, String)>,
        reply: oneshot::Sender<serde_json::Value>,
    },
    /// Stop serving: close every connection and end the core task.
    Shutdown(String),
}

/// Settings of the network edge.
#[derive(Clone)]
pub struct NetConfig {
    pub max_frame: usize,
    pub max_client_cnxns: u32,
    pub four_letter: Arc<dyn Fn(&str) -> bool + Send + Sync>,
}

/// A running server's handle: where it listens, and its core.
pub struct Server {
    pub local_addr: SocketAddr,
    pub serving: ServingHandle,
}

/// Whichever core serves the client port now (none between a quorum
/// peer's roles).
type Serving = Arc<std::sync::Mutex<Option<CoreLink>>>;

/// Which core serves now, for those outside the client port (the
/// AdminServer).
#[derive(Clone)]
pub struct ServingHandle(Serving);

impl ServingHandle {
    pub fn current(&self) -> Option<CoreLink> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// How connections reach a core: its channel, and the state it applies to.
#[derive(Clone)]
pub struct CoreLink {
    pub tx: mpsc::UnboundedSender<CoreMsg>,
    pub db: Arc<Db>,
}

/// The client port. It stays open for the server's life, as Java's
/// connection factory does; connections go to the core serving when they
/// arrive, and while none is, four-letter words get Java's "not currently
/// serving" answer and clients are turned away.
pub struct ClientPort {
    pub local_addr: SocketAddr,
    serving: Serving,
}

impl ClientPort {
    /// Starts accepting on `listener` (inside a Tokio runtime).
    pub fn start(
        listener: TcpListener,
        net: NetConfig,
        info: fourlw::StaticInfo,
    ) -> std::io::Result<ClientPort> {
        let local_addr = listener.local_addr()?;
        let serving: Serving = Arc::default();
        tokio::spawn(accept_loop(listener, serving.clone(), net, Arc::new(info)));
        Ok(ClientPort {
            local_addr,
            serving,
        })
    }

    /// The core serving now, as the port sees it.
    pub fn serving_handle(&self) -> ServingHandle {
        ServingHandle(self.serving.clone())
    }

    /// From now on, new connections go to `core` (or to nobody).
    pub fn serve(&self, core: Option<CoreLink>) {
        *self.serving.lock().unwrap_or_else(|e| e.into_inner()) = core;
    }
}

/// A learner's link to its leader, for the core task: packets from the
/// leader (or why the link failed), and encoded packets to it.
pub struct LeaderIo {
    pub from_leader: mpsc::UnboundedReceiver<Result<QuorumPacket, String>>,
    pub to_leader: mpsc::UnboundedSender<Bytes>,
    /// An observer logs what it is told without acknowledging it.
    pub observer: bool,
}

/// What the core task serves as.
pub enum Role {
    Standalone,
    /// A follower or observer, linked to its leader.
    Learner(LeaderIo),
    /// A ZAB leader, with its learners.
    Leader(Box<LeadIo>),
}

/// A core task's handle.
pub struct CoreHandle {
    pub tx: mpsc::UnboundedSender<CoreMsg>,
    pub db: Arc<Db>,
    /// Ends with why the core stopped, and its log to close.
    pub done: tokio::task::JoinHandle<CoreExit>,
}

/// How a core task ended.
pub struct CoreExit {
    pub reason: String,
    /// The durable log, still open: close it (blocking) before reading the
    /// logs back.
    pub log: Option<LogHandle>,
}

/// How the server keeps its data: where, and how often to snapshot.
pub struct Persistence {
    pub store: StoreConfig,
    /// Snapshot after about this many transactions (Java's snapCount:
    /// randomly between half and all of it).
    pub snap_count: u64,
    /// Snapshot what was recovered as soon as serving starts (Java's
    /// startup snapshot, but walked between requests instead of before
    /// the port opens).
    pub snapshot_at_start: bool,
}

/// The core task's log stage: in memory, or the durable log.
struct LogStage {
    log: LogHandle,
    store: StoreConfig,
    snap_count: u64,
    since_snapshot: u64,
    threshold: u64,
    /// A snapshot is being taken or written; no other starts meanwhile.
    snapshotting: bool,
    /// The snapshot being walked, a slice per turn of the core loop.
    walk: Option<image::FuzzySnapshot>,
    seed: u64,
}

/// Nodes a snapshot walk visits per turn of the core loop (a few ms).
const SNAPSHOT_SLICE: usize = 2000;

impl LogStage {
    fn next_threshold(&mut self) -> u64 {
        // xorshift: a roll of the dice so that servers do not snapshot in step.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let half = (self.snap_count / 2).max(1);
        half + self.seed % half
    }
}

/// Starts serving `listener` with `core`; returns once bound. Runs until the
/// runtime is shut down. With `persistence`, writes are acknowledged only
/// once the log thread has made them durable.
pub fn spawn(
    listener: TcpListener,
    core: Core,
    net: NetConfig,
    info: fourlw::StaticInfo,
    persistence: Option<Persistence>,
) -> std::io::Result<Server> {
    let port = ClientPort::start(listener, net, info.clone())?;
    let handle = spawn_core(core, info, persistence, Role::Standalone)?;
    port.serve(Some(handle.link()));
    Ok(Server {
        local_addr: port.local_addr,
        serving: port.serving_handle(),
    })
}

/// Starts the core task (and, with `persistence`, its log thread); a
/// learner's core also gets its link to the leader.
pub fn spawn_core(
    core: Core,
    info: fourlw::StaticInfo,
    persistence: Option<Persistence>,
    role: Role,
) -> std::io::Result<CoreHandle> {
    let (tx, rx) = mpsc::unbounded_channel();
    let db = core.db().clone();
    // Acknowledgements of the log thread come on a channel of their own,
    // which the core reads before requests: a write's reply (and the reads
    // queued behind it in its session) must not wait behind a flood of
    // newer requests.
    let (durable_tx, durable_rx) = mpsc::unbounded_channel::<(i64, FsyncStats)>();
    let stage = match persistence {
        None => None,
        Some(p) => {
            let log = store::spawn_log_thread(p.store.clone(), move |zxid, fsync| {
                let _ = durable_tx.send((zxid, fsync));
            })?;
            let seed = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1;
            let mut stage = LogStage {
                log,
                store: p.store,
                snap_count: p.snap_count.max(2),
                since_snapshot: 0,
                threshold: 0,
                snapshotting: false,
                walk: None,
                seed,
            };
            stage.threshold = stage.next_threshold();
            if p.snapshot_at_start {
                start_snapshot(&core, &mut stage);
            }
            Some(stage)
        }
    };
    let done = tokio::spawn(core_task(
        core,
        rx,
        durable_rx,
        tx.clone(),
        info,
        stage,
        role,
    ));
    Ok(CoreHandle { tx, db, done })
}

impl CoreHandle {
    /// What the client port hands new connections to.
    pub fn link(&self) -> CoreLink {
        CoreLink {
            tx: self.tx.clone(),
            db: self.db.clone(),
        }
    }
}

async fn core_task(
    mut core: Core,
    mut rx: mpsc::UnboundedReceiver<CoreMsg>,
    mut durable_rx: mpsc::UnboundedReceiver<(i64, FsyncStats)>,
    to_self: mpsc::UnboundedSender<CoreMsg>,
    info: fourlw::StaticInfo,
    mut stage: Option<LogStage>,
    role: Role,
) -> CoreExit {
    let (mut leader, mut lead) = match role {
        Role::Standalone => (None, None),
        Role::Learner(l) => (Some(l), None),
        Role::Leader(l) => (None, Some(l)),
    };
    let clock = core.db().clock;
    let mut conns: HashMap<ConnId, ConnLink> = HashMap::default();
    // Ticks expire sessions and run the container manager; tick at least as
    // often as znode.container.checkIntervalMs asks (tests set 1 ms).
    let tick_ms = core.cfg.container_check_interval_ms.clamp(1, 50) as u64;
    let mut ticker = tokio::time::interval(Duration::from_millis(tick_ms));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut fl_stats = fourlw::Counters::default();
    let mut answered = Vec::new();
    let mut outgoing: Vec<(ConnId, BytesMut, bool)> = Vec::new();
    let mut out_index: HashMap<ConnId, usize> = HashMap::default();
    let mut stop: Option<String> = None;
    while stop.is_none() {
        tokio::select! {
            // In this order: a due tick, the log's acknowledgements, then
            // requests; a snapshot walk only keeps idle turns coming (every
            // turn walks a slice).
            biased;
            _ = ticker.tick() => {
                let now = clock.now();
                match lead.as_mut() {
                    None => core.tick(now),
                    Some(l) => {
                        // Sessions expire only once the leader serves.
                        if l.is_established() {
                            core.tick(now);
                        }
                        l.tick(now);
                    }
                }
            }
            Some(mut durable) = durable_rx.recv(), if stage.is_some() => {
                // Only the newest matters: it covers every zxid before it.
                while let Ok(newer) = durable_rx.try_recv() {
                    durable = newer;
                }
                let (zxid, fsync) = durable;
                core.stats.fsync_count = fsync.count;
                core.stats.fsync_total_us = fsync.total_us;
                core.stats.fsync_min_us = fsync.min_us;
                core.stats.fsync_max_us = fsync.max_us;
                core.durable(zxid, clock.now());
                if let Some(l) = lead.as_mut() {
                    l.durable(zxid);
                }
            }
            Some(ev) = async { lead.as_mut()?.events.recv().await }, if lead.is_some() => {
                let now = clock.now();
                if let Some(l) = lead.as_mut() {
                    l.on_event(ev, now);
                    for _ in 0..256 {
                        let Ok(ev) = l.events.try_recv() else { break };
                        l.on_event(ev, now);
                    }
                }
            }
            // The leader's packets come before clients' requests: commits
            // answer them.
            Some(from) = async { leader.as_mut()?.from_leader.recv().await }, if leader.is_some() => {
                let now = clock.now();
                let mut next = Some(from);
                let mut n = 0;
                while let Some(from) = next.take() {
                    if let Err(why) = from.and_then(|p| from_leader(&mut core, leader.as_ref(), p, now)) {
                        stop = Some(why);
                        break;
                    }
                    n += 1;
                    if n < 256 {
                        next = leader.as_mut().and_then(|l| l.from_leader.try_recv().ok());
                    }
                }
            }
            msg = rx.recv() => {
                let Some(msg) = msg else { break };
                let now = clock.now();
                refresh_gauges(&mut fl_stats, lead.as_deref(), &msg, now);
                stop = handle(&mut core, &mut conns, msg, now, &info, &mut fl_stats, &mut answered, &mut stage);
                // Handle some of what is already queued before dispatching
                // output, so replies ready together go out together.
                for _ in 0..256 {
                    if stop.is_some() {
                        break;
                    }
                    let Ok(msg) = rx.try_recv() else { break };
                    refresh_gauges(&mut fl_stats, lead.as_deref(), &msg, now);
                    stop = handle(&mut core, &mut conns, msg, now, &info, &mut fl_stats, &mut answered, &mut stage);
                }
            }
            // While a snapshot is being walked, keep turning between
            // requests, letting the connection tasks run between slices.
            _ = tokio::task::yield_now(), if stage.as_ref().is_some_and(|s| s.walk.is_some()) => {}
        }
        // The log stage. Until persistence lands, a transaction is "durable"
        // as soon as it is prepared; the durable log will acknowledge here
        // after its group fsync instead.
        match stage.as_mut() {
            None => core.commit_in_memory(clock.now()),
            Some(st) => {
                // On a leader, carrying out its Ready can prepare more
                // (forwarded requests): propose and log until it does not.
                loop {
                    let txns = core.take_log();
                    if !txns.is_empty() {
                        st.since_snapshot += txns.len() as u64;
                        if let Some(l) = lead.as_mut() {
                            l.propose(&txns);
                        }
                        st.log.append(txns);
                    }
                    let Some(l) = lead.as_mut() else { break };
                    if let Some(why) = l.drive(&mut core, &to_self, clock.now()) {
                        stop.get_or_insert(why);
                        break;
                    }
                    if !core.has_log() {
                        break;
                    }
                }
                if st.since_snapshot >= st.threshold && !st.snapshotting {
                    start_snapshot(&core, st);
                }
                step_snapshot(&core, st, &to_self);
            }
        }
        // What this learner owes its leader: forwarded requests, acks.
        if let Some(l) = leader.as_ref() {
            for f in core.take_forwards() {
                if l.to_leader.send(forward_packet(&f)).is_err() {
                    stop.get_or_insert_with(|| "the connection to the leader closed".into());
                }
            }
        }
        // A turn's output, gathered per connection (in the order the
        // connections first appear, so a watch event still goes out before
        // the reply that caused it), then handed to each outlet at once.
        for (conn, o) in core.take_output() {
            let i = *out_index.entry(conn).or_insert_with(|| {
                outgoing.push((conn, BytesMut::new(), false));
                outgoing.len() - 1
            });
            match o {
                Outbound::Frame(f) => outgoing[i].1.extend_from_slice(&f),
                Outbound::Close => outgoing[i].2 = true,
            }
        }
        for (conn, data, close) in outgoing.drain(..) {
            if let Some(link) = conns.get(&conn) {
                link.outlet.send(data, close);
            }
        }
        out_index.clear();
        core.after_dispatch();
        // Only now, with their replies counted, do requests leave the backlog.
        for conn in answered.drain(..) {
            if let Some(link) = conns.get(&conn) {
                let b = &link.outlet.backlog;
                Backlog::release(&b.requests, 1, &b.changed);
            }
        }
    }
    // Stopping: every client is let go (each may reconnect elsewhere).
    if let Some(l) = lead.as_mut() {
        l.close_all();
    }
    for link in conns.values() {
        link.outlet.send(BytesMut::new(), true);
    }
    CoreExit {
        reason: stop.unwrap_or_else(|| "the server is stopping".into()),
        log: stage.map(|s| s.log),
    }
}

/// A packet from the leader, for a learner's core.
fn from_leader(
    core: &mut Core,
    link: Option<&LeaderIo>,
    p: QuorumPacket,
    now: Now,
) -> Result<(), String> {
    let Some(link) = link else { return Ok(()) };
    match p.type_ {
        kind::PROPOSAL => {
            let txn = packet::txn_of(&p).map_err(|e| format!("bad PROPOSAL: {e}"))?;
            if !link.observer {
                // Follower.processPacket (an Observer ignores PROPOSALs).
                metrics::LEARNER_PROPOSAL_RECEIVED_COUNT.fetch_add(1, Ordering::Relaxed);
                metrics::log_latency(&metrics::PROPOSAL_LATENCY, now.wall_ms, txn.header.time);
            }
            core.proposed(txn, !link.observer);
        }
        kind::COMMIT => {
            if !link.observer {
                metrics::LEARNER_COMMIT_RECEIVED_COUNT.fetch_add(1, Ordering::Relaxed);
            }
            core.commit_zxid(p.zxid, now)?
        }
        kind::INFORM => {
            metrics::LEARNER_COMMIT_RECEIVED_COUNT.fetch_add(1, Ordering::Relaxed);
            let txn = packet::txn_of(&p).map_err(|e| format!("bad INFORM: {e}"))?;
            let zxid = txn.header.zxid;
            core.proposed(txn, false);
            core.commit_zxid(zxid, now)?;
        }
        kind::PING => {
            let touches = core.take_touches(now);
            let _ = link
                .to_leader
                .send(packet::encode(&packet::ping_reply(p.zxid, &touches)));
        }
        kind::SYNC => core.sync_done(now),
        kind::REVALIDATE => {
            let (session, valid) =
                packet::parse_revalidate_answer(&p).map_err(|e| format!("bad REVALIDATE: {e}"))?;
            core.revalidated(session, valid, now);
        }
        kind::UPTODATE => {}
        other => tracing::warn!("ignoring a {} packet from the leader", kind::name(other)),
    }
    Ok(())
}

/// A learner's forward, as the packet the leader expects.
fn forward_packet(f: &Forward) -> Bytes {
    let p = match f {
        Forward::Request {
            session,
            cxid,
            type_,
            body,
            auth,
        } => packet::request(*session, *cxid, *type_, body, auth),
        Forward::Revalidate {
            session,
            timeout_ms,
        } => packet::revalidate(*session, *timeout_ms),
        Forward::Ack(zxid) => packet::packet(kind::ACK, *zxid, None),
    };
    packet::encode(&p)
}

/// The core task's end of a connection.
struct ConnLink {
    outlet: Arc<Outlet>,
}

/// The sending side of a connection, shared by the core task and the
/// connection's writer task. The core writes a turn's output straight to
/// the socket when nothing is queued before it and the socket takes it
/// (no hand-off to another task, no thread to wake); whatever the socket
/// does not take is queued for the writer task, which drains the queue
/// in order.
pub struct Outlet {
    wr: OwnedWriteHalf,
    state: std::sync::Mutex<OutletState>,
    wake: Notify,
    backlog: Arc<Backlog>,
}

#[derive(Default)]
struct OutletState {
    /// Bytes waiting for the writer task, in order.
    queued: BytesMut,
    /// The writer task holds bytes taken from `queued`: nothing may
    /// overtake them.
    writing: bool,
    /// Close once everything queued is written.
    close: bool,
}

impl Outlet {
    fn new(wr: OwnedWriteHalf, backlog: Arc<Backlog>) -> Outlet {
        Outlet {
            wr,
            state: std::sync::Mutex::new(OutletState::default()),
            wake: Notify::new(),
            backlog,
        }
    }

    /// From the core: the next bytes for this connection, then (if
    /// `close`) the end of it.
    fn send(&self, data: BytesMut, close: bool) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut written = 0;
        if !st.writing && st.queued.is_empty() && !st.close && !data.is_empty() {
            match self.wr.try_write(&data) {
                Ok(n) => written = n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                // A broken connection: its reader sees the error too and
                // tells the core; queue nothing more.
                Err(_) => written = data.len(),
            }
        }
        let rest = &data[written..];
        if !rest.is_empty() {
            // Counted until the writer task has written it: a client that
            // does not read stops being read from.
            self.backlog.bytes.fetch_add(rest.len(), Ordering::AcqRel);
            st.queued.extend_from_slice(rest);
        }
        st.close |= close;
        let wake = !st.queued.is_empty() || st.close;
        drop(st);
        if wake {
            self.wake.notify_one();
        }
    }

    /// From the connection's own task: queues a reply without writing it
    /// (it is called under the tree's read lock); `flush` writes.
    fn push(&self, data: &[u8]) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.close {
            return;
        }
        self.backlog.bytes.fetch_add(data.len(), Ordering::AcqRel);
        st.queued.extend_from_slice(data);
    }

    /// Writes what `push` queued, if the writer task is not already at it;
    /// what the socket does not take is left to the writer task.
    fn flush(&self) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.writing || st.queued.is_empty() {
            return;
        }
        let written = match self.wr.try_write(&st.queued) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
            // Broken: the reader sees it too and ends the connection.
            Err(_) => st.queued.len(),
        };
        let _ = st.queued.split_to(written);
        let wake = !st.queued.is_empty();
        drop(st);
        if written > 0 {
            Backlog::release(&self.backlog.bytes, written, &self.backlog.changed);
        }
        if wake {
            self.wake.notify_one();
        }
    }
}

/// Rolls the log and starts a fuzzy snapshot from the tree's last
/// processed zxid, as Java does every snapCount transactions.
fn start_snapshot(core: &Core, st: &mut LogStage) {
    st.log.roll();
    st.since_snapshot = 0;
    st.threshold = st.next_threshold();
    st.snapshotting = true;
    let sessions: Vec<(i64, i32)> = core.sessions.iter().map(|s| (s.id, s.timeout_ms)).collect();
    st.walk = Some(image::FuzzySnapshot::start(&core.tree(), sessions));
}

/// Walks a slice of the snapshot; once walked, writes it in the background.
fn step_snapshot(core: &Core, st: &mut LogStage, to_core: &mpsc::UnboundedSender<CoreMsg>) {
    let Some(walk) = st.walk.as_mut() else { return };
    if !walk.step(&core.tree(), SNAPSHOT_SLICE) {
        return;
    }
    let Some(walk) = st.walk.take() else { return };
    let zxid = walk.zxid;
    let snap = walk.finish(&core.tree());
    let cfg = st.store.clone();
    let to_core = to_core.clone();
    std::thread::spawn(move || {
        if let Err(e) = store::write_snapshot(&cfg, &snap, zxid) {
            tracing::error!("cannot write snapshot 0x{zxid:x}: {e}");
        }
        drop(snap);
        crate::heap::trim();
        let _ = to_core.send(CoreMsg::SnapshotDone);
    });
}

/// Before a four-letter word or admin command, the leader's gauges as they are now.
fn refresh_gauges(counters: &mut fourlw::Counters, lead: Option<&LeadIo>, msg: &CoreMsg, now: Now) {
    if let (CoreMsg::FourLetter { .. } | CoreMsg::Admin { .. }, Some(l)) = (msg, lead) {
        counters.leader = Some(l.gauges(now));
    }
}

#[allow(clippy::too_many_arguments)]
fn handle(
    core: &mut Core,
    conns: &mut HashMap<ConnId, ConnLink>,
    msg: CoreMsg,
    now: Now,
    info: &fourlw::StaticInfo,
    counters: &mut fourlw::Counters,
    answered: &mut Vec<ConnId>,
    stage: &mut Option<LogStage>,
) -> Option<String> {
    match msg {
        CoreMsg::Open {
            conn,
            remote,
            outlet,
            shared,
        } => {
            conns.insert(conn, ConnLink { outlet });
            core.open_shared(conn, remote, shared, now);
        }
        CoreMsg::Frame { conn, body } => {
            if core.established(conn) {
                core.request(conn, body, now);
            } else {
                core.connect(conn, body, now);
            }
            answered.push(conn);
        }
        CoreMsg::Closed { conn } => {
            conns.remove(&conn);
            core.closed(conn);
        }
        CoreMsg::SnapshotDone => {
            if let Some(st) = stage.as_mut() {
                st.snapshotting = false;
            }
        }
        CoreMsg::FourLetter { cmd, asker, reply } => {
            let _ = reply.send(fourlw::run_for(&cmd, &asker, core, info, counters, now));
        }
        CoreMsg::Admin { cmd, kwargs, reply } => {
            let _ = reply.send(crate::admin::commands::run(
                cmd, &kwargs, core, info, counters, now,
            ));
        }
        CoreMsg::Shutdown(why) => return Some(why),
    }
    None
}

async fn accept_loop(
    listener: TcpListener,
    serving: Serving,
    net: NetConfig,
    info: Arc<fourlw::StaticInfo>,
) {
    let next_id = AtomicU64::new(1);
    let per_ip: Arc<std::sync::Mutex<HashMap<std::net::IpAddr, u32>>> = Arc::default();
    loop {
        let (stream, remote) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        if net.max_client_cnxns > 0 {
            let mut m = per_ip.lock().expect("per-ip map");
            let n = m.entry(remote.ip()).or_insert(0);
            if *n >= net.max_client_cnxns {
                tracing::warn!(
                    "too many connections from {} - max is {}",
                    remote.ip(),
                    net.max_client_cnxns
                );
                drop(stream);
                continue;
            }
            *n += 1;
        }
        let conn = next_id.fetch_add(1, Ordering::Relaxed);
        let core = serving.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let net = net.clone();
        let per_ip = per_ip.clone();
        let info = info.clone();
        tokio::spawn(async move {
            serve_conn(conn, stream, remote, core, &net, &info).await;
            if net.max_client_cnxns > 0 {
                let mut m = per_ip.lock().expect("per-ip map");
                if let Some(n) = m.get_mut(&remote.ip()) {
                    *n = n.saturating_sub(1);
                }
            }
        });
    }
}

async fn serve_conn(
    conn: ConnId,
    stream: TcpStream,
    remote: SocketAddr,
    core: Option<CoreLink>,
    net: &NetConfig,
    info: &fourlw::StaticInfo,
) {
    let (mut rd, mut wr) = stream.into_split();
    // The first four bytes are either a frame length or a four-letter word.
    let mut first = [0u8; 4];
    if rd.read_exact(&mut first).await.is_err() {
        return;
    }
    if let Some(cmd) = fourlw::recognise(&first) {
        let mut asker = fourlw::Asker {
            remote: Some(remote),
            trace_mask: None,
        };
        if cmd == "stmk" && (net.four_letter)(cmd) {
            // Java reads the new mask, a big-endian long, after the command.
            let mut mask = [0u8; 8];
            if rd.read_exact(&mut mask).await.is_err() {
                return;
            }
            asker.trace_mask = Some(i64::from_be_bytes(mask));
        }
        match &core {
            Some(core) => four_letter(cmd, asker, wr, &core.tx, net).await,
            None => {
                let _ = wr
                    .write_all(fourlw::not_serving(cmd, info).as_bytes())
                    .await;
                let _ = wr.shutdown().await;
            }
        }
        return;
    }
    let Some(core) = core else {
        // Java closes a client's connection while no server runs behind it.
        tracing::info!(%remote, "closing a client connection: not serving requests now");
        return;
    };
    let backlog = Arc::new(Backlog::default());
    let outlet = Arc::new(Outlet::new(wr, backlog.clone()));
    let shared = Arc::new(core::new_shared(remote, core.db.clock.now()));
    let open = CoreMsg::Open {
        conn,
        remote,
        outlet: outlet.clone(),
        shared: shared.clone(),
    };
    if core.tx.send(open).is_err() {
        return;
    }
    let mut writer = tokio::spawn(write_loop(outlet.clone()));
    // Buffered: a frame's length and body (and often the next frames) come
    // in one read.
    let mut rd = BufReader::with_capacity(64 << 10, rd);
    let side = ConnSide {
        conn,
        core: &core,
        shared: &shared,
        outlet: &outlet,
        backlog: &backlog,
    };
    tokio::select! {
        res = read_loop(&side, &mut rd, first, net.max_frame) => {
            if let Err(why) = res {
                tracing::info!(conn, %remote, "closing connection: {why}");
            }
        }
        // The writer ends when the core closes the connection.
        _ = &mut writer => {}
    }
    let _ = core.tx.send(CoreMsg::Closed { conn });
    writer.abort();
}

/// What a connection's reader works with.
struct ConnSide<'a> {
    conn: ConnId,
    core: &'a CoreLink,
    shared: &'a ConnShared,
    outlet: &'a Outlet,
    backlog: &'a Backlog,
}

impl ConnSide<'_> {
    /// Answers the frame here, or hands it to the core.
    fn dispatch(&self, body: Bytes, more_buffered: bool) -> Result<(), String> {
        let db = &self.core.db;
        let now_ms = db.clock.now().mono_ms;
        let outlet = self.outlet;
        if self
            .shared
            .answer_locally(db, self.conn, &body, now_ms, |reply| outlet.push(reply))
        {
            // Replies to requests that came in together go out together.
            if !more_buffered {
                outlet.flush();
            }
            return Ok(());
        }
        outlet.flush();
        self.shared.to_core();
        self.backlog.requests.fetch_add(1, Ordering::AcqRel);
        self.core
            .tx
            .send(CoreMsg::Frame {
                conn: self.conn,
                body,
            })
            .map_err(|_| "server shutting down".to_owned())
    }
}

/// Does `buf` start with a whole frame?
fn whole_frame_in(buf: &[u8]) -> bool {
    buf.len() >= 4 && {
        let len = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
        len >= 0 && buf.len() - 4 >= len as usize
    }
}

async fn read_loop(
    side: &ConnSide<'_>,
    rd: &mut BufReader<OwnedReadHalf>,
    first: [u8; 4],
    max_frame: usize,
) -> Result<(), String> {
    let mut len_buf = first;
    loop {
        if side.backlog.full() {
            // What is waiting to be written is what makes room.
            side.outlet.flush();
        }
        side.backlog.wait_for_room().await;
        let len = i32::from_be_bytes(len_buf);
        if len < 0 || len as usize > max_frame {
            return Err(format!(
                "frame length {len} outside 0..={max_frame} (jute.maxbuffer)"
            ));
        }
        let mut body = BytesMut::zeroed(len as usize);
        rd.read_exact(&mut body)
            .await
            .map_err(|e| format!("read: {e}"))?;
        side.dispatch(body.freeze(), whole_frame_in(rd.buffer()))?;
        match rd.read_exact(&mut len_buf).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err("client closed".into())
            }
            Err(e) => return Err(format!("read: {e}")),
        }
    }
}

/// Drains an outlet's queue to the socket; ends once the core has closed
/// the connection and everything before the close is written (the socket
/// shuts down when the last holder of the write half lets go of it).
async fn write_loop(outlet: Arc<Outlet>) {
    loop {
        outlet.wake.notified().await;
        loop {
            let (data, close) = {
                let mut st = outlet.state.lock().unwrap_or_else(|e| e.into_inner());
                if st.queued.is_empty() {
                    st.writing = false;
                    (None, st.close)
                } else {
                    st.writing = true;
                    (Some(st.queued.split()), false)
                }
            };
            let Some(data) = data else {
                if close {
                    return;
                }
                break;
            };
            if write_all(&outlet.wr, &data).await.is_err() {
                return;
            }
            Backlog::release(&outlet.backlog.bytes, data.len(), &outlet.backlog.changed);
        }
    }
}

/// `write_all` through a shared write half.
async fn write_all(wr: &OwnedWriteHalf, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        wr.writable().await?;
        match wr.try_write(data) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

async fn four_letter(
    cmd: &'static str,
    asker: fourlw::Asker,
    mut wr: OwnedWriteHalf,
    core: &mpsc::UnboundedSender<CoreMsg>,
    net: &NetConfig,
) {
    let text = if !(net.four_letter)(cmd) {
        format!("{cmd} is not executed because it is not in the whitelist.\n")
    } else {
        let (tx, rx) = oneshot::channel();
        if core
            .send(CoreMsg::FourLetter {
                cmd: cmd.to_owned(),
                asker,
                reply: tx,
            })
            .is_err()
        {
            return;
        }
        rx.await.unwrap_or_default()
    };
    let _ = wr.write_all(text.as_bytes()).await;
    let _ = wr.shutdown().await;
}
