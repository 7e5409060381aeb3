//! Leading: the quorum port's connections, and the ZAB leader state
//! machine joined to the core in the core task (so that a commit applies
//! in the same turn the last ack arrives, and a SNAP streams exactly the
//! tree that the leader's state describes).
//!
//! A learner behind the leader's committed log is synced, when it can be,
//! from the txn log on disk ([`DiskTxnLog`], Java's
//! getProposalsFromTxnLog): read in the core task when the learner's sync
//! starts, as a SNAP is serialised there, and bounded by the same size
//! limit that decides between the two.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::{packet_io, PeerCtx};
use crate::config::SnapshotSizeFactor;
use crate::fasthash::HashMap;
use crate::jute::quorum::QuorumPacket;
use crate::persist::store::Recovered;
use crate::persist::{files, image, log_sync, snapshot};
use crate::proto::op;
use crate::quorum::metrics;
use crate::quorum::zab::leader::{
    Leader, LeaderConfig, Outgoing, PeerId, Ready, TxnLogRead, TxnLogSource,
};
use crate::quorum::zab::packet::{self, kind};
use crate::server::core::{Core, Now};
use crate::server::fourlw::LeaderGauges;
use crate::server::net::{self, CoreLink, CoreMsg, Persistence, Role};
use crate::txn::Txn;

/// What happens on the quorum port, for the core task.
pub enum PeerEvent {
    Connected {
        peer: PeerId,
        remote: SocketAddr,
        out: mpsc::UnboundedSender<Bytes>,
        reader: AbortHandle,
    },
    Packet(PeerId, QuorumPacket),
    Closed(PeerId, String),
}

struct PeerConn {
    out: mpsc::UnboundedSender<Bytes>,
    reader: AbortHandle,
}

/// The leader's side of the core task.
pub struct LeadIo {
    leader: Leader,
    pub events: mpsc::UnboundedReceiver<PeerEvent>,
    peers: HashMap<PeerId, PeerConn>,
    ctx: PeerCtx,
    established: bool,
    /// When the leader was established (Java's leaderStartTime), 0 before.
    established_at_ms: i64,
    /// Called with the epoch once established.
    on_established: Box<dyn Fn(i64) + Send>,
}

impl LeadIo {
    pub fn is_established(&self) -> bool {
        self.established
    }

    pub fn leader(&self) -> &Leader {
        &self.leader
    }

    /// What `mntr` and `srvr` report of the leader now.
    pub fn gauges(&self, now: Now) -> LeaderGauges {
        let l = &self.leader;
        let mut learner_sids: Vec<u64> = l.learners().into_iter().map(|(_, sid, _)| sid).collect();
        learner_sids.sort_unstable();
        learner_sids.dedup();
        LeaderGauges {
            learners: l.learner_count(),
            synced_followers: l.synced_followers(),
            // Followers outside the voting view exist only across a
            // reconfig, which rzk does not do.
            synced_non_voting_followers: 0,
            synced_observers: l.synced_observers(),
            pending_syncs: l.pending_syncs(),
            uptime_ms: if self.established_at_ms > 0 {
                now.mono_ms - self.established_at_ms
            } else {
                0
            },
            proposal_sizes: l.proposal_sizes(),
            learner_sids,
        }
    }

    pub fn on_event(&mut self, ev: PeerEvent, now: Now) {
        match ev {
            PeerEvent::Connected {
                peer,
                remote,
                out,
                reader,
            } => {
                tracing::info!("learner connection {peer} from {remote}");
                self.peers.insert(peer, PeerConn { out, reader });
                self.leader.connected(peer, now.mono_ms);
            }
            PeerEvent::Packet(peer, p) => self.leader.receive(peer, p, now.mono_ms),
            PeerEvent::Closed(peer, why) => {
                tracing::info!("learner connection {peer} closed: {why}");
                if let Some(c) = self.peers.remove(&peer) {
                    c.reader.abort();
                }
                self.leader.disconnected(peer);
            }
        }
    }

    pub fn tick(&mut self, now: Now) {
        self.leader.tick(now.mono_ms);
    }

    /// The leader's own log made everything up to `zxid` durable.
    pub fn durable(&mut self, zxid: i64) {
        self.leader.local_durable(zxid);
    }

    /// The core prepared these txns: propose them.
    pub fn propose(&mut self, txns: &[Txn]) {
        metrics::PROPOSAL_COUNT.fetch_add(txns.len() as u64, Ordering::Relaxed);
        for t in txns {
            self.leader.propose(t.clone());
        }
    }

    /// Carries out what the leader asks until it asks nothing more;
    /// returns why the leader gave up, if it did.
    pub fn drive(
        &mut self,
        core: &mut Core,
        to_core: &mpsc::UnboundedSender<CoreMsg>,
        now: Now,
    ) -> Option<String> {
        loop {
            let r = self.leader.take_ready();
            if is_empty(&r) {
                return None;
            }
            if let Some(why) = self.carry_out(r, core, to_core, now) {
                return Some(why);
            }
        }
    }

    fn carry_out(
        &mut self,
        r: Ready,
        core: &mut Core,
        to_core: &mpsc::UnboundedSender<CoreMsg>,
        now: Now,
    ) -> Option<String> {
        let dir = &self.ctx.store.snap_dir;
        if let Some(e) = r.write_accepted_epoch {
            if let Err(err) = files::write_accepted_epoch(dir, e) {
                return Some(format!("cannot write acceptedEpoch: {err}"));
            }
        }
        if let Some(e) = r.write_current_epoch {
            if let Err(err) = files::write_current_epoch(dir, e) {
                return Some(format!("cannot write currentEpoch: {err}"));
            }
        }
        for (peer, out) in r.send {
            let Some(c) = self.peers.get(&peer) else {
                continue;
            };
            match out {
                Outgoing::Packet(p) => {
                    if p.type_ == kind::DIFF || p.type_ == kind::TRUNC {
                        metrics::DIFF_SYNCS.fetch_add(1, Ordering::Relaxed);
                    }
                    let _ = c.out.send(packet::encode(&p));
                }
                Outgoing::Snap => {
                    metrics::SNAP_SYNCS.fetch_add(1, Ordering::Relaxed);
                    let tree = core.tree();
                    let zxid = tree.last_processed_zxid;
                    let sessions: Vec<(i64, i32)> =
                        core.sessions.iter().map(|s| (s.id, s.timeout_ms)).collect();
                    let snap = image::snapshot_of(&tree, &sessions);
                    let mut body = Vec::new();
                    if let Err(e) = snapshot::write_sync_stream(&mut body, &snap) {
                        tracing::error!("cannot serialise the snapshot for learner {peer}: {e}");
                        continue;
                    }
                    tracing::info!(
                        "sending learner {peer} a snapshot of 0x{zxid:x} ({} nodes, {} bytes)",
                        snap.nodes.len(),
                        body.len()
                    );
                    let _ = c
                        .out
                        .send(packet::encode(&packet::packet(kind::SNAP, zxid, None)));
                    let _ = c.out.send(Bytes::from(body));
                }
            }
        }
        for (peer, why) in r.close {
            tracing::info!("dropping learner connection {peer}: {why}");
            if let Some(c) = self.peers.remove(&peer) {
                c.reader.abort();
            }
        }
        if let Some(epoch) = r.established {
            tracing::info!("established as the leader of epoch {epoch}; serving clients");
            self.established = true;
            self.established_at_ms = now.mono_ms;
            (self.on_established)(epoch);
            metrics::peer_broadcasting(true);
            core.begin_epoch(epoch);
            self.ctx.port.serve(Some(CoreLink {
                tx: to_core.clone(),
                db: core.db().clone(),
            }));
        }
        if let Some(z) = r.commit {
            core.committed(z, now);
        }
        for (peer, _sid, p) in r.from_learners {
            self.on_learner_packet(core, peer, p, now);
        }
        r.give_up
    }

    fn on_learner_packet(&mut self, core: &mut Core, peer: PeerId, p: QuorumPacket, now: Now) {
        match p.type_ {
            kind::REQUEST => match packet::parse_request(&p) {
                Ok(req) if req.type_ == op::SYNC => {
                    self.leader.sync(peer, packet::packet(kind::SYNC, 0, None));
                }
                Ok(req) => core.remote_request(
                    peer,
                    req.session,
                    req.cxid,
                    req.type_,
                    req.body,
                    Arc::new(req.auth),
                    now,
                ),
                Err(e) => tracing::warn!("bad REQUEST from learner {peer}: {e}"),
            },
            kind::REVALIDATE => match packet::parse_revalidate(&p) {
                Ok((session, timeout)) => {
                    let valid = core.revalidate_session(peer, session, timeout, now);
                    self.leader
                        .send(peer, packet::revalidate_answer(session, valid));
                }
                Err(e) => tracing::warn!("bad REVALIDATE from learner {peer}: {e}"),
            },
            kind::PING => match packet::parse_touches(&p) {
                Ok(t) => core.touch_sessions(&t, now),
                Err(e) => tracing::warn!("bad PING reply from learner {peer}: {e}"),
            },
            other => tracing::warn!("unexpected {} from learner {peer}", kind::name(other)),
        }
    }

    /// Stopping: every learner connection goes.
    pub fn close_all(&mut self) {
        for (_, c) in self.peers.drain() {
            c.reader.abort();
        }
    }
}

fn is_empty(r: &Ready) -> bool {
    r.send.is_empty()
        && r.close.is_empty()
        && r.write_accepted_epoch.is_none()
        && r.write_current_epoch.is_none()
        && r.established.is_none()
        && r.commit.is_none()
        && r.from_learners.is_empty()
        && r.give_up.is_none()
}

/// The leader's txn log on disk, for a learner behind its committed log:
/// Java's `ZKDatabase.getProposalsFromTxnLog(peer,
/// calculateTxnLogSizeLimit())` (see [`log_sync`]).
struct DiskTxnLog {
    log_dir: PathBuf,
    snap_dir: PathBuf,
    factor: SnapshotSizeFactor,
}

impl TxnLogSource for DiskTxnLog {
    fn proposals_from(&mut self, peer: i64) -> Option<TxnLogRead<'_>> {
        let Some(limit) = log_sync::size_limit(&self.snap_dir, self.factor) else {
            tracing::info!(
                "On disk txn sync disabled (snapshotSizeFactor {})",
                self.factor
            );
            return None;
        };
        match log_sync::proposals_from(&self.log_dir, peer, limit) {
            Ok(records) => Some(TxnLogRead {
                proposals: Box::new(
                    records.map(|(z, entry)| packet::packet(kind::PROPOSAL, z, Some(entry))),
                ),
                size_limit: limit,
            }),
            Err(why) => {
                tracing::info!("no sync from the txn log for a learner at 0x{peer:x}: {why}");
                None
            }
        }
    }
}

/// Binds the quorum port (Java's LearnerCnxAcceptor), with SO_REUSEADDR
/// so that a restarted leader binds at once.
fn bind_quorum_port(ctx: &PeerCtx) -> Result<TcpListener, String> {
    let mine = ctx
        .quorum_addr(ctx.my_id)
        .ok_or_else(|| format!("no quorum address for server {}", ctx.my_id))?;
    let addr = if ctx.cfg.quorum_listen_on_all_ips {
        let any: std::net::IpAddr = if mine.is_ipv4() {
            std::net::Ipv4Addr::UNSPECIFIED.into()
        } else {
            std::net::Ipv6Addr::UNSPECIFIED.into()
        };
        SocketAddr::new(any, mine.port())
    } else {
        mine
    };
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    }
    .map_err(|e| format!("quorum port: {e}"))?;
    socket
        .set_reuseaddr(true)
        .and_then(|_| socket.bind(addr))
        .map_err(|e| format!("cannot bind the quorum port {addr}: {e}"))?;
    socket
        .listen(64)
        .map_err(|e| format!("cannot listen on the quorum port {addr}: {e}"))
}

async fn accept_learners(
    listener: TcpListener,
    events: mpsc::UnboundedSender<PeerEvent>,
    max_packet: usize,
) {
    let next = AtomicU64::new(1);
    loop {
        let (stream, remote) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("quorum port accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let peer = next.fetch_add(1, Ordering::Relaxed);
        let (rd, wr) = stream.into_split();
        let (out, out_rx) = mpsc::unbounded_channel();
        tokio::spawn(packet_io::write_packets(wr, out_rx));
        // The reader announces the connection itself, so that the core
        // hears of it before any of its packets.
        let (handle_tx, handle_rx) = tokio::sync::oneshot::channel();
        let announce = move |reader| PeerEvent::Connected {
            peer,
            remote,
            out,
            reader,
        };
        let reader = tokio::spawn(read_learner(
            peer,
            rd,
            events.clone(),
            max_packet,
            handle_rx,
            announce,
        ));
        let _ = handle_tx.send(reader.abort_handle());
    }
}

async fn read_learner(
    peer: PeerId,
    mut rd: tokio::net::tcp::OwnedReadHalf,
    events: mpsc::UnboundedSender<PeerEvent>,
    max_packet: usize,
    handle: tokio::sync::oneshot::Receiver<AbortHandle>,
    announce: impl FnOnce(AbortHandle) -> PeerEvent,
) {
    let Ok(handle) = handle.await else { return };
    if events.send(announce(handle)).is_err() {
        return;
    }
    let deliver = |p| events.send(PeerEvent::Packet(peer, p)).is_ok();
    if let Some(why) =
        packet_io::read_packets(&mut rd, BytesMut::new(), max_packet, None, deliver).await
    {
        let _ = events.send(PeerEvent::Closed(peer, why));
    }
}

/// Leads until the leader gives up (or cannot start); returns why.
pub async fn lead(
    ctx: &PeerCtx,
    recovered: Recovered,
    epochs: (i64, i64),
    on_established: Box<dyn Fn(i64) + Send>,
) -> String {
    let listener = match bind_quorum_port(ctx) {
        Ok(l) => l,
        Err(why) => return why,
    };
    let (ev_tx, events) = mpsc::unbounded_channel();
    let acceptor = tokio::spawn(accept_learners(listener, ev_tx, ctx.max_packet()));
    let now = ctx.now();
    let last_zxid = recovered.tree.last_processed_zxid;
    let leader = Leader::new(
        LeaderConfig {
            my_id: ctx.my_id,
            verifier: ctx.verifier.clone(),
            tick_ms: ctx.tick_ms() as i64,
            init_limit: i64::from(ctx.cfg.init_limit),
            sync_limit: i64::from(ctx.cfg.sync_limit),
            commit_log_count: ctx.cfg.commit_log_count as usize,
            force_snap_sync: ctx.cfg.force_snapshot_sync,
            accepted_epoch: epochs.0,
            current_epoch: epochs.1,
            last_zxid,
        },
        recovered.tail.into_iter().collect(),
        now.mono_ms,
    )
    .with_txn_log(Box::new(DiskTxnLog {
        log_dir: ctx.store.log_dir.clone(),
        snap_dir: ctx.store.snap_dir.clone(),
        factor: ctx.cfg.snapshot_size_factor,
    }));
    let mut core_cfg = crate::server::run::core_config(&ctx.cfg);
    core_cfg.server_id = ctx.my_id as i64;
    let mut core = Core::new_leader(core_cfg, recovered.tree, now);
    for (id, timeout) in recovered.sessions {
        core.sessions.add(id, timeout, now.mono_ms);
    }
    let mut info = ctx.info.clone();
    info.mode = "leader".into();
    info.quorum_size = ctx.verifier.voters().len();
    let persistence = Persistence {
        store: ctx.store.clone(),
        snap_count: ctx.cfg.snap_count,
        // As Java's leader (ZooKeeperServer.loadData).
        snapshot_at_start: true,
    };
    let io = LeadIo {
        leader,
        events,
        peers: HashMap::default(),
        ctx: ctx.clone(),
        established: false,
        established_at_ms: 0,
        on_established,
    };
    let handle = match net::spawn_core(core, info, Some(persistence), Role::Leader(Box::new(io))) {
        Ok(h) => h,
        Err(e) => {
            acceptor.abort();
            return format!("cannot start the txn log thread: {e}");
        }
    };
    let exit = handle.done.await;
    ctx.port.serve(None);
    acceptor.abort();
    let exit = match exit {
        Ok(e) => e,
        Err(e) => return format!("the core task failed: {e}"),
    };
    if let Some(log) = exit.log {
        let _ = tokio::task::spawn_blocking(move || log.close()).await;
    }
    exit.reason
}
