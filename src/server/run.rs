//! Starting a standalone server from a zoo.cfg: configuration to core,
//! listener and runtime, and a clean stop on SIGINT/SIGTERM.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use crate::admin;
use crate::config::ServerConfig;
use crate::persist::store::{self, StoreConfig};
use crate::quorum::peer;
use crate::quorum::verifier::QuorumVerifier;
use crate::server::core::{Core, CoreConfig, Now};
use crate::server::{fourlw, net};

/// The version string clients and four-letter words see.
pub fn version() -> String {
    format!("3.8.0-rzk-{}, built on rzk", env!("CARGO_PKG_VERSION"))
}

pub fn core_config(cfg: &ServerConfig) -> CoreConfig {
    CoreConfig {
        tick_ms: i64::from(cfg.tick_time_ms),
        min_session_timeout_ms: cfg.min_session_timeout_ms as i32,
        max_session_timeout_ms: cfg.max_session_timeout_ms as i32,
        extended_types: cfg.extended_types_enabled,
        super_digest: cfg.super_digest.clone(),
        container_check_interval_ms: cfg.container_check_interval_ms as i64,
        server_id: 1,
    }
}

pub fn static_info(cfg: &ServerConfig) -> fourlw::StaticInfo {
    fourlw::StaticInfo {
        version: version(),
        config: Some(cfg.clone()),
        env: vec![
            ("host.name".into(), hostname()),
            ("os.name".into(), std::env::consts::OS.into()),
            ("os.arch".into(), std::env::consts::ARCH.into()),
            (
                "user.dir".into(),
                std::env::current_dir()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default(),
            ),
        ],
        data_dir: cfg.data_dir.display().to_string(),
        data_log_dir: cfg.data_log_dir.display().to_string(),
        client_port: cfg.client_port,
        max_client_cnxns: cfg.max_client_cnxns,
        mode: String::new(),
        quorum_size: 0,
        leader_id: 0,
        my_id: if cfg.is_distributed() {
            cfg.my_id.unwrap_or(0)
        } else {
            0
        },
        initial_config: String::new(),
    }
}

/// Why the server did not start or stopped: a message, and the exit code
/// Java's ZooKeeperServerMain would give (ExitCode).
#[derive(Debug)]
pub struct RunError {
    pub exit_code: u8,
    pub message: String,
}

/// Java's ExitCode.ERROR_STARTING_ADMIN_SERVER.
pub const EXIT_ADMIN_SERVER: u8 = 4;

impl From<String> for RunError {
    fn from(message: String) -> RunError {
        RunError {
            exit_code: 2,
            message,
        }
    }
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Starts the AdminServer when admin.enableServer allows; an Err when it
/// cannot bind.
async fn start_admin(
    cfg: &ServerConfig,
    info: &fourlw::StaticInfo,
    serving: net::ServingHandle,
) -> Result<(), String> {
    if !cfg.admin_server_enabled {
        return Ok(());
    }
    let where_ = format!(
        "address {}, port {} and command URL {}",
        cfg.admin_server_address, cfg.admin_server_port, cfg.admin_command_url
    );
    let listener = admin::http::bind(&cfg.admin_server_address, cfg.admin_server_port)
        .await
        .map_err(|e| format!("Problem starting AdminServer on {where_}: {e}"))?;
    admin::http::spawn(
        listener,
        admin::http::AdminState {
            command_url: cfg.admin_command_url.clone(),
            idle_timeout: std::time::Duration::from_millis(cfg.admin_idle_timeout_ms),
            info: Arc::new(info.clone()),
            serving,
        },
    );
    tracing::info!("Started AdminServer on {where_}");
    Ok(())
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into())
}

/// Runs a server until SIGINT or SIGTERM: standalone, or a quorum peer
/// when zoo.cfg lists an ensemble.
pub fn run_standalone(config_path: &Path) -> Result<(), RunError> {
    // zkServer.sh passes -D flags in SERVER_JVMFLAGS; some settings (jute.maxbuffer,
    // znode.container.*) can only be given that way, in Java and so here.
    let props = crate::config::system_properties_from_jvm_flags(
        &std::env::var("SERVER_JVMFLAGS").unwrap_or_default(),
    );
    let (cfg, warnings) = ServerConfig::load_with_system_properties(config_path, &props)
        .map_err(|e| e.to_string())?;
    for w in &warnings {
        tracing::warn!("{}", w.0);
    }
    let mut info = static_info(&cfg);
    info.initial_config = std::fs::read_to_string(config_path).unwrap_or_default();
    let store = StoreConfig::from_config(&cfg);
    store
        .create_dirs()
        .map_err(|e| format!("cannot create {}: {e}", store.snap_dir.display()))?;
    // The startup snapshot is written after the port opens; fail now, as
    // Java would then, if it cannot be.
    store.check_snap_dir_writable().map_err(|e| {
        format!(
            "cannot write snapshots in {}: {e}",
            store.snap_dir.display()
        )
    })?;
    let distributed = cfg.is_distributed();
    let recovered = if distributed {
        // A peer recovers at every election, in its loop.
        None
    } else {
        Some(recover(&store, &cfg)?)
    };
    // Java's DatadirCleanupManager: purge now, then every autopurge.purgeInterval hours.
    let autopurge = crate::tools::purge::spawn_autopurge(
        cfg.data_dir.clone(),
        cfg.data_log_dir.clone(),
        cfg.autopurge_snap_retain_count,
        cfg.autopurge_purge_interval_hours,
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start runtime: {e}"))?;
    rt.block_on(async move {
        let ip = cfg
            .client_port_address
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let addr = SocketAddr::new(ip, cfg.client_port);
        let listener = bind(addr, cfg.client_port_listen_backlog)
            .map_err(|e| format!("cannot bind client port {addr}: {e}"))?;
        let wl = cfg.four_letter_words.clone();
        let netcfg = net::NetConfig {
            max_frame: cfg.jute_maxbuffer,
            max_client_cnxns: cfg.max_client_cnxns,
            four_letter: Arc::new(move |c: &str| wl.allows(c)),
        };
        let Some(recovered) = recovered else {
            return Ok(run_peer(cfg, info, store, listener, netcfg).await?);
        };
        let now = Now {
            mono_ms: 1_000,
            wall_ms: wall_ms(),
        };
        let mut core = Core::new(core_config(&cfg), recovered.tree, now);
        // Recovered sessions expire on schedule unless their clients return.
        for (id, timeout) in recovered.sessions {
            core.sessions.add(id, timeout, now.mono_ms);
        }
        let persistence = net::Persistence {
            store,
            snap_count: cfg.snap_count,
            // As Java, start from a fresh snapshot of what was recovered.
            snapshot_at_start: true,
        };
        let server = net::spawn(listener, core, netcfg, info.clone(), Some(persistence))
            .map_err(|e| format!("cannot start the txn log thread: {e}"))?;
        tracing::info!("serving clients on {}", server.local_addr);
        // ZooKeeperServerMain: a standalone server that cannot start its
        // AdminServer exits (a quorum peer logs it and goes on).
        if let Err(e) = start_admin(&cfg, &info, server.serving.clone()).await {
            tracing::error!("Unable to start AdminServer, exiting abnormally: {e}");
            return Err(RunError {
                exit_code: EXIT_ADMIN_SERVER,
                message: format!("Unable to start AdminServer, exiting abnormally: {e}"),
            });
        }
        wait_for_signal().await;
        tracing::info!("shutting down");
        Ok::<(), RunError>(())
    })?;
    rt.shutdown_timeout(std::time::Duration::from_millis(500));
    if let Some(a) = autopurge {
        a.stop();
    }
    Ok(())
}

fn recover(store: &StoreConfig, cfg: &ServerConfig) -> Result<store::Recovered, String> {
    let t0 = std::time::Instant::now();
    let recovered = store::recover(store, cfg.extended_types_enabled)?;
    crate::quorum::peer::recovered_metrics(&recovered, t0);
    tracing::info!(
        "loaded snapshot 0x{:x} and {} logged transactions in {} ms (snapshot {} + replay {}): {} nodes, {} sessions, last zxid 0x{:x}",
        recovered.snapshot_zxid,
        recovered.replayed,
        t0.elapsed().as_millis(),
        recovered.load_ms,
        recovered.replay_ms,
        recovered.tree.node_count(),
        recovered.sessions.len(),
        recovered.tree.last_processed_zxid
    );
    Ok(recovered)
}

/// A quorum peer: the client port stays open while the peer elects,
/// follows and leads in turn.
async fn run_peer(
    cfg: ServerConfig,
    info: fourlw::StaticInfo,
    store: StoreConfig,
    listener: tokio::net::TcpListener,
    netcfg: net::NetConfig,
) -> Result<(), String> {
    let my_id = cfg
        .my_id
        .ok_or("an ensemble member needs a myid file in dataDir")?;
    let verifier = QuorumVerifier::from_config(&cfg)?;
    let port = net::ClientPort::start(listener, netcfg, info.clone())
        .map_err(|e| format!("client port: {e}"))?;
    tracing::info!(
        "client port {} (not serving until a leader is found)",
        port.local_addr
    );
    // QuorumPeer.start: an AdminServer that cannot start is only logged.
    if let Err(e) = start_admin(&cfg, &info, port.serving_handle()).await {
        tracing::warn!("{e}");
    }
    let ctx = peer::PeerCtx {
        cfg: Arc::new(cfg),
        my_id,
        store,
        verifier,
        port: Arc::new(port),
        info,
    };
    tokio::select! {
        res = peer::run(ctx) => res,
        _ = wait_for_signal() => {
            tracing::info!("shutting down");
            Ok(())
        }
    }
}

/// The client port, with clientPortListenBacklog when set (a larger default
/// than Java's 50: connection storms should queue, not be retried).
fn bind(addr: SocketAddr, backlog: i32) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(if backlog > 0 { backlog as u32 } else { 1024 })
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
