//! Following (or observing) a leader: connect to its quorum port, sync
//! (blocking, on a thread of its own, as the learner's first phases are a
//! strict exchange), then serve clients with a learner core fed by the
//! leader's packets until the leader is lost.

use std::io::{BufReader, Cursor, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;

use super::learner_disk::PeerDisk;
use super::{packet_io, PeerCtx};
use crate::jute::quorum::QuorumPacket;
use crate::persist::snapshot::{self, Snapshot};
use crate::persist::store::Recovered;
use crate::quorum::metrics;
use crate::quorum::zab::learner_sync::{self, LeaderLink, LearnerStart, Synced};
use crate::quorum::zab::packet::{self, kind};
use crate::server::core::Core;
use crate::server::net::{self, LeaderIo, Persistence, Role};

/// Between attempts to reach the leader's quorum port (Java's
/// leaderConnectDelayDuringRetryMs, 100 ms there): the new leader binds it moments after
/// the election, so a refused connection is worth retrying soon.
const CONNECT_RETRY: Duration = Duration::from_millis(20);

/// How long refused connections to the leader are retried before going
/// back to the election: Java's LeaderConnector makes 5 tries
/// leaderConnectDelayDuringRetryMs (100 ms) apart, so it gives up about
/// 400 ms after the first. Long enough for a leader that decides a
/// finalize wait (200 ms) after us to bind its port; short enough that a
/// vote for a dead server (an observer may adopt one from the stale
/// replies of peers that are still looking, in Java as in rzk) costs well
/// under a second, not initLimit ticks.
const CONNECT_WINDOW: Duration = Duration::from_millis(4 * 100);

/// Java's Learner.connectToLeader on a blocking connector: retry a failed
/// connection every `retry` until `window` has passed since the first
/// attempt, never past `limit` (initLimit ticks; also each attempt's
/// timeout).
fn connect_with_retries<S>(
    mut connect: impl FnMut(Duration) -> std::io::Result<S>,
    mut sleep: impl FnMut(Duration),
    elapsed: impl Fn() -> Duration,
    limit: Duration,
    window: Duration,
    retry: Duration,
) -> Result<S, String> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let left = limit.saturating_sub(elapsed());
        match connect(left.max(Duration::from_millis(1))) {
            Ok(s) => return Ok(s),
            Err(e) => {
                let t = elapsed();
                if t + retry >= window.min(limit) {
                    return Err(format!("{e} ({attempt} attempts in {} ms)", t.as_millis()));
                }
                if attempt % 10 == 1 {
                    tracing::warn!("cannot connect to the leader (attempt {attempt}): {e}");
                }
                sleep(retry);
            }
        }
    }
}

/// The leader's quorum port over a blocking socket, for the sync.
struct TcpLink {
    rd: BufReader<TcpStream>,
    wr: TcpStream,
    /// Bytes read and not yet decoded.
    buf: BytesMut,
    max_packet: usize,
    synced_timeout: Duration,
    /// When ACKEPOCH went out: registered with the leader, the sync begins
    /// (the start of Java's follower/observer_sync_time).
    registered: Option<std::time::Instant>,
}

impl TcpLink {
    fn fill(&mut self) -> Result<(), String> {
        let mut chunk = [0u8; 16 << 10];
        match self.rd.read(&mut chunk) {
            Ok(0) => Err("the leader closed the connection".into()),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
            Err(e) => Err(format!("reading from the leader: {e}")),
        }
    }

    /// What was read past the sync, and the socket.
    fn into_parts(self) -> (BytesMut, TcpStream) {
        let mut rest = self.buf;
        rest.extend_from_slice(self.rd.buffer());
        (rest, self.wr)
    }
}

impl LeaderLink for TcpLink {
    fn recv(&mut self) -> Result<QuorumPacket, String> {
        loop {
            match packet::decode(&mut self.buf, self.max_packet) {
                Ok(Some(p)) => return Ok(p),
                Ok(None) => self.fill()?,
                Err(e) => return Err(format!("bad packet from the leader: {e}")),
            }
        }
    }

    fn recv_snapshot(&mut self) -> Result<Snapshot, String> {
        let buffered = std::mem::take(&mut self.buf);
        let mut head = Cursor::new(buffered);
        let snap = snapshot::read_sync_stream(Read::chain(&mut head, &mut self.rd))?;
        let used = head.position() as usize;
        let mut rest = head.into_inner();
        let _ = rest.split_to(used.min(rest.len()));
        self.buf = rest;
        Ok(snap)
    }

    fn send(&mut self, p: &QuorumPacket) -> Result<(), String> {
        if p.type_ == kind::ACKEPOCH {
            self.registered = Some(std::time::Instant::now());
        }
        self.wr
            .write_all(&packet::encode(p))
            .and_then(|_| self.wr.flush())
            .map_err(|e| format!("writing to the leader: {e}"))
    }

    fn synced_timeouts(&mut self) {
        let _ = self.wr.set_read_timeout(Some(self.synced_timeout));
    }
}

/// Connects to the leader and syncs with it (blocking).
fn connect_and_sync(
    ctx: &PeerCtx,
    leader: SocketAddr,
    start: LearnerStart,
) -> Result<(Synced, BytesMut, TcpStream, std::time::Instant), String> {
    let init = Duration::from_millis(ctx.tick_ms() * u64::from(ctx.cfg.init_limit));
    let t0 = std::time::Instant::now();
    let stream = connect_with_retries(
        |timeout| TcpStream::connect_timeout(&leader, timeout),
        std::thread::sleep,
        || t0.elapsed(),
        init,
        CONNECT_WINDOW,
        CONNECT_RETRY,
    )
    .map_err(|e| format!("cannot connect to the leader at {leader}: {e}"))?;
    let _ = stream.set_nodelay(true);
    stream
        .set_read_timeout(Some(init))
        .map_err(|e| format!("socket: {e}"))?;
    let wr = stream.try_clone().map_err(|e| format!("socket: {e}"))?;
    let mut link = TcpLink {
        rd: BufReader::with_capacity(64 << 10, stream),
        wr,
        buf: BytesMut::new(),
        max_packet: ctx.max_packet(),
        synced_timeout: ctx.sync_timeout(),
        registered: None,
    };
    let mut disk = PeerDisk {
        store: ctx.store.clone(),
        extended_types: ctx.cfg.extended_types_enabled,
    };
    let synced = learner_sync::sync_with_leader(&mut link, &mut disk, start)?;
    let registered = link.registered.unwrap_or(t0);
    let (rest, stream) = link.into_parts();
    Ok((synced, rest, stream, registered))
}

/// Follows `leader_sid` until the leader is lost; returns why.
/// `synced_in(epoch)` is called once the sync is done.
pub async fn follow(
    ctx: &PeerCtx,
    leader_sid: u64,
    recovered: Recovered,
    epochs: (i64, i64),
    synced_in: &dyn Fn(i64),
) -> String {
    let observer = ctx.cfg.is_observer();
    let Some(leader) = ctx.quorum_addr(leader_sid) else {
        return format!("no quorum address for the leader, server {leader_sid}");
    };
    let start = LearnerStart {
        sid: ctx.my_id,
        observer,
        accepted_epoch: epochs.0,
        current_epoch: epochs.1,
        tree: recovered.tree,
        sessions: recovered.sessions,
    };
    let sync_ctx = ctx.clone();
    let synced =
        tokio::task::spawn_blocking(move || connect_and_sync(&sync_ctx, leader, start)).await;
    let (mut synced, rest, stream, registered) = match synced {
        Ok(Ok(x)) => x,
        Ok(Err(why)) => return why,
        Err(e) => return format!("the sync thread failed: {e}"),
    };
    tracing::info!(
        "synced with leader {leader_sid} by {:?}: epoch {}, zxid 0x{:x}, {} txns to log",
        synced.mode,
        synced.new_epoch,
        synced.tree.last_processed_zxid,
        synced.to_log.len()
    );
    synced_in(synced.new_epoch);
    // As Java after a sync: the config node is this peer's, not the leader's.
    ctx.init_config_node(&mut synced.tree);
    if let Err(e) = stream.set_nonblocking(true) {
        return format!("socket: {e}");
    }
    let stream = match tokio::net::TcpStream::from_std(stream) {
        Ok(s) => s,
        Err(e) => return format!("socket: {e}"),
    };
    let (rd, wr) = stream.into_split();

    let now = ctx.now();
    let mut core_cfg = crate::server::run::core_config(&ctx.cfg);
    core_cfg.server_id = ctx.my_id as i64;
    let mut core = Core::new_learner(core_cfg, synced.tree, now);
    for (id, timeout) in synced.sessions {
        core.sessions.add(id, timeout, now.mono_ms);
    }
    let logged = synced.logged;
    for (i, txn) in synced.to_log.into_iter().enumerate() {
        if i < logged {
            core.proposed_logged(txn, !observer);
        } else {
            core.proposed(txn, !observer);
        }
    }
    for zxid in synced.committed {
        if let Err(why) = core.commit_zxid(zxid, now) {
            return why;
        }
    }

    let (from_tx, from_leader) = mpsc::unbounded_channel();
    let (to_leader, to_rx) = mpsc::unbounded_channel::<Bytes>();
    let reader = tokio::spawn(read_leader(
        rd,
        rest,
        from_tx,
        ctx.max_packet(),
        ctx.sync_timeout(),
    ));
    let writer = tokio::spawn(packet_io::write_packets(wr, to_rx));
    let mut info = ctx.info.clone();
    info.mode = if observer { "observer" } else { "follower" }.into();
    info.quorum_size = ctx.verifier.voters().len();
    info.leader_id = leader_sid;
    let persistence = Persistence {
        store: ctx.store.clone(),
        snap_count: ctx.cfg.snap_count,
        snapshot_at_start: false,
    };
    let io = LeaderIo {
        from_leader,
        to_leader,
        observer,
    };
    let handle = match net::spawn_core(core, info, Some(persistence), Role::Learner(io)) {
        Ok(h) => h,
        Err(e) => {
            reader.abort();
            writer.abort();
            return format!("cannot start the txn log thread: {e}");
        }
    };
    ctx.port.serve(Some(handle.link()));
    // QuorumPeer.setZabState(BROADCAST), then Follower/Observer's sync time.
    metrics::peer_broadcasting(false);
    let sync_time = if observer {
        &metrics::OBSERVER_SYNC_TIME
    } else {
        &metrics::FOLLOWER_SYNC_TIME
    };
    sync_time.add(metrics::ms_since(registered));
    let exit = handle.done.await;
    ctx.port.serve(None);
    reader.abort();
    writer.abort();
    let exit = match exit {
        Ok(e) => e,
        Err(e) => return format!("the core task failed: {e}"),
    };
    if let Some(log) = exit.log {
        let _ = tokio::task::spawn_blocking(move || log.close()).await;
    }
    exit.reason
}

/// Reads the leader's packets for the core; a silence longer than
/// syncLimit ticks, or a bad packet, ends the link.
async fn read_leader(
    mut rd: tokio::net::tcp::OwnedReadHalf,
    buf: BytesMut,
    to_core: mpsc::UnboundedSender<Result<QuorumPacket, String>>,
    max_packet: usize,
    timeout: Duration,
) {
    let deliver = |p| to_core.send(Ok(p)).is_ok();
    if let Some(why) =
        packet_io::read_packets(&mut rd, buf, max_packet, Some(timeout), deliver).await
    {
        let _ = to_core.send(Err(format!("the leader's link: {why}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::io;

    fn refused() -> io::Error {
        io::Error::new(io::ErrorKind::ConnectionRefused, "refused")
    }

    /// A fake clock: each sleep advances it, each attempt takes `per_try`.
    fn run(
        ok_at: Option<u32>,
        per_try: Duration,
        limit: Duration,
    ) -> (Result<u32, String>, u32, Duration) {
        let now = Cell::new(Duration::ZERO);
        let tries = Cell::new(0u32);
        let r = connect_with_retries(
            |timeout| {
                assert!(timeout <= limit && timeout > Duration::ZERO);
                tries.set(tries.get() + 1);
                now.set(now.get() + per_try);
                match ok_at {
                    Some(n) if tries.get() == n => Ok(n),
                    _ => Err(refused()),
                }
            },
            |d| now.set(now.get() + d),
            || now.get(),
            limit,
            CONNECT_WINDOW,
            CONNECT_RETRY,
        );
        (r, tries.get(), now.get())
    }

    #[test]
    fn a_dead_leader_is_given_up_within_javas_window_not_init_limit() {
        // initLimit 20 ticks of 500 ms: Java gives up after 5 tries 100 ms
        // apart (~400 ms), and so must we, not after 10 s.
        let (r, tries, t) = run(None, Duration::ZERO, Duration::from_secs(10));
        assert!(r.unwrap_err().contains("refused"));
        assert!(t <= CONNECT_WINDOW, "gave up after {t:?}");
        assert!(
            t + CONNECT_RETRY >= CONNECT_WINDOW,
            "gave up early, after {t:?}"
        );
        assert!(tries >= 5, "only {tries} attempts");
    }

    #[test]
    fn a_leader_binding_its_port_late_is_reached() {
        // The leader binds 300 ms after our first attempt.
        let n = (300 / CONNECT_RETRY.as_millis()) as u32 + 1;
        let (r, tries, _) = run(Some(n), Duration::ZERO, Duration::from_secs(10));
        assert_eq!(r, Ok(n));
        assert_eq!(tries, n);
    }

    #[test]
    fn never_past_init_limit() {
        let limit = Duration::from_millis(150);
        let (r, _, t) = run(None, Duration::from_millis(30), limit);
        assert!(r.is_err());
        assert!(
            t <= limit + Duration::from_millis(30),
            "went on until {t:?}"
        );
    }
}
