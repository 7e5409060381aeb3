//! The quorum peer's main loop (Java's QuorumPeer.run): load the data,
//! elect a leader, then follow, observe or lead until that ends, and look
//! again. The client port stays open throughout; between roles nobody
//! serves behind it.
//!
//! - [`follower`]: following or observing a leader.
//! - [`leading`]: leading: the quorum port and the ZAB leader beside the
//!   core.
//! - [`learner_disk`]: what a learner's sync does to the disk.
//! - [`packet_io`]: reading and writing quorum packets on a socket.

pub mod follower;
pub mod leading;
pub mod learner_disk;
pub mod packet_io;

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::ServerConfig;
use crate::persist::files;
use crate::persist::store::{self, Recovered, StoreConfig};
use crate::quorum::election_service::{ElectionConfig, ElectionService};
use crate::quorum::metrics;
use crate::quorum::verifier::QuorumVerifier;
use crate::quorum::vote::ServerState;
use crate::quorum::zab::zxid;
use crate::server::core::Now;
use crate::server::fourlw::StaticInfo;
use crate::server::net::ClientPort;

/// What every role of this peer shares.
#[derive(Clone)]
pub struct PeerCtx {
    pub cfg: Arc<ServerConfig>,
    pub my_id: u64,
    pub store: StoreConfig,
    pub verifier: QuorumVerifier,
    pub port: Arc<ClientPort>,
    pub info: StaticInfo,
}

impl PeerCtx {
    pub fn tick_ms(&self) -> u64 {
        u64::from(self.cfg.tick_time_ms)
    }

    /// How long a synced learner waits to hear from its leader.
    pub fn sync_timeout(&self) -> Duration {
        Duration::from_millis(self.tick_ms() * u64::from(self.cfg.sync_limit))
    }

    /// The largest length field a peer's packet may carry.
    pub fn max_packet(&self) -> usize {
        self.cfg.jute_maxbuffer + self.cfg.jute_maxbuffer_extrasize
    }

    /// The clock a new core starts on (its task's clock starts with it).
    pub fn now(&self) -> Now {
        Now {
            mono_ms: 1_000,
            wall_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
        }
    }

    /// /zookeeper/config holds this peer's view of the ensemble.
    pub fn init_config_node(&self, tree: &mut crate::tree::DataTree) {
        let config = self.verifier.config_string();
        tree.init_config_node(&config, self.verifier.version(), self.now().wall_ms);
        // DataTree.updateWriteStat counts the path's length with the data.
        crate::quorum::metrics::config_written(crate::proto::special::CONFIG.len() + config.len());
    }

    /// Server `sid`'s quorum-port address (its first, with multiAddress).
    pub fn quorum_addr(&self, sid: u64) -> Option<SocketAddr> {
        let a = self.cfg.server(sid)?.addresses.first()?;
        (a.host.as_str(), a.quorum_port)
            .to_socket_addrs()
            .ok()?
            .next()
    }
}

/// The epochs on disk, as Java's QuorumPeer.loadDataBase reads them: a
/// missing file takes the epoch of the last zxid (and is written).
fn load_epochs(store: &StoreConfig, last_zxid: i64) -> Result<(i64, i64), String> {
    let dir = &store.snap_dir;
    let logged = zxid::epoch_of(last_zxid);
    let current = match files::read_current_epoch(dir).map_err(|e| format!("currentEpoch: {e}"))? {
        Some(e) => e,
        None => {
            tracing::info!("no currentEpoch file: taking {logged}, the epoch of the last zxid");
            files::write_current_epoch(dir, logged).map_err(|e| format!("currentEpoch: {e}"))?;
            logged
        }
    };
    if logged > current {
        return Err(format!(
            "the current epoch, {current}, is older than the last zxid, 0x{last_zxid:x}"
        ));
    }
    let accepted = match files::read_accepted_epoch(dir)
        .map_err(|e| format!("acceptedEpoch: {e}"))?
    {
        Some(e) => e,
        None => {
            tracing::info!("no acceptedEpoch file: taking {logged}, the epoch of the last zxid");
            files::write_accepted_epoch(dir, logged).map_err(|e| format!("acceptedEpoch: {e}"))?;
            logged
        }
    };
    if accepted < current {
        return Err(format!(
            "the accepted epoch, {accepted}, is less than the current epoch, {current}"
        ));
    }
    Ok((accepted, current))
}

/// A data directory with no snapshot gets one of what was recovered (an
/// empty tree on a first start), as Java's FileTxnSnapLog.restore does:
/// the txn logs a follower writes next are then never without a base.
fn ensure_snapshot(store: &StoreConfig, recovered: &Recovered) -> Result<(), String> {
    let snaps = files::list_snapshots(&store.snap_dir)
        .map_err(|e| format!("cannot list {}: {e}", store.snap_dir.display()))?;
    if !snaps.is_empty() {
        return Ok(());
    }
    let zxid = recovered.tree.last_processed_zxid;
    let snap = crate::persist::image::snapshot_of(&recovered.tree, &recovered.sessions);
    store::write_snapshot(store, &snap, zxid)
        .map(|_| ())
        .map_err(|e| format!("cannot write the initial snapshot: {e}"))
}

fn election_config(
    cfg: &ServerConfig,
    my_id: u64,
    verifier: &QuorumVerifier,
) -> Result<ElectionConfig, String> {
    let mut election_addrs = BTreeMap::new();
    for s in &cfg.servers {
        let Some(a) = s.addresses.first() else {
            continue;
        };
        let addr = (a.host.as_str(), a.election_port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut i| i.next())
            .ok_or_else(|| format!("server.{}: {} does not resolve", s.id, a.host))?;
        election_addrs.insert(s.id, addr);
    }
    Ok(ElectionConfig {
        my_id,
        verifier: verifier.clone(),
        election_addrs,
        listen_all_ips: cfg.quorum_listen_on_all_ips,
        cnx_timeout_ms: u64::from(cfg.cnx_timeout_ms),
        participant: !cfg.is_observer(),
    })
}

/// A load of the database from disk, in the metrics Java's
/// ZKDatabase.loadDataBase and FileTxnSnapLog.restore keep.
pub fn recovered_metrics(r: &Recovered, started: Instant) {
    metrics::db_loaded(
        metrics::ms_since(started),
        r.load_ms as i64,
        r.replayed,
        r.replay_ms as i64,
    );
}

/// Runs the peer until the runtime stops it (the caller races this with
/// the stop signal).
pub async fn run(ctx: PeerCtx) -> Result<(), String> {
    let election = ElectionService::start(election_config(&ctx.cfg, ctx.my_id, &ctx.verifier)?)
        .map_err(|e| format!("cannot start leader election: {e}"))?;
    tracing::info!(
        "server {} in an ensemble of {}: election port {}",
        ctx.my_id,
        ctx.cfg.servers.len(),
        election.local_addr()
    );
    let mut started = false;
    loop {
        // QuorumPeer.run: unavailable from the top of the loop (from the
        // end of the startup load, on the first turn).
        if started {
            metrics::peer_unavailable();
        }
        let store_cfg = ctx.store.clone();
        let ext = ctx.cfg.extended_types_enabled;
        let t_load = Instant::now();
        let mut recovered: Recovered =
            tokio::task::spawn_blocking(move || store::recover(&store_cfg, ext))
                .await
                .map_err(|e| format!("recovery failed: {e}"))??;
        if !started {
            // Java loads its database once (QuorumPeer.start) and keeps it
            // across elections; rzk reloads it at every turn, but only
            // this load is Java's dbinittime.
            recovered_metrics(&recovered, t_load);
            metrics::peer_unavailable();
            started = true;
        }
        ctx.init_config_node(&mut recovered.tree);
        ensure_snapshot(&ctx.store, &recovered)?;
        let last_zxid = recovered.tree.last_processed_zxid;
        let epochs = load_epochs(&ctx.store, last_zxid)?;
        tracing::info!(
            "LOOKING: last zxid 0x{last_zxid:x}, accepted epoch {}, current epoch {}",
            epochs.0,
            epochs.1
        );
        metrics::LOOKING_COUNT.fetch_add(1, Ordering::Relaxed);
        let t_elect = Instant::now();
        let (vote, state) = election
            .look_for_leader(last_zxid, epochs.1)
            .await
            .map_err(|e| format!("leader election stopped: {e}"))?;
        election.settled(state, vote);
        // Follower.followLeader and Leader.lead (not Observer) add it.
        if matches!(state, ServerState::Following | ServerState::Leading) {
            metrics::ELECTION_TIME.add(metrics::ms_since(t_elect));
        }
        let leader = vote.id as u64;
        let why = match state {
            ServerState::Following | ServerState::Observing => {
                tracing::info!("{state:?} server {leader}");
                let synced = |epoch| election.handle().update_peer_epoch(state, vote, epoch);
                follower::follow(&ctx, leader, recovered, epochs, &synced).await
            }
            ServerState::Leading => {
                tracing::info!("LEADING");
                let h = election.handle();
                let established = move |epoch| h.update_peer_epoch(state, vote, epoch);
                leading::lead(&ctx, recovered, epochs, Box::new(established)).await
            }
            ServerState::Looking => continue,
        };
        tracing::warn!("{state:?} ended: {why}; looking for a leader again");
    }
}
