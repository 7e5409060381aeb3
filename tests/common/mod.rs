//! An in-process rzk server on 127.0.0.1 and a free port, stopped on drop.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rzk::client::Client;
use rzk::server::core::{Core, CoreConfig, Now};
use rzk::server::{fourlw, net};
use rzk::tree::DataTree;

pub struct TestServer {
    pub addr: SocketAddr,
    rt: Option<tokio::runtime::Runtime>,
}

impl TestServer {
    pub fn start() -> TestServer {
        Self::start_with(
            CoreConfig {
                extended_types: true,
                ..CoreConfig::default()
            },
            1 << 20,
        )
    }

    pub fn start_with(cfg: CoreConfig, max_frame: usize) -> TestServer {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let addr = rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let wall = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64;
            let extended = cfg.extended_types;
            let core = Core::new(
                cfg,
                DataTree::new(extended),
                Now {
                    mono_ms: 1000,
                    wall_ms: wall,
                },
            );
            let netcfg = net::NetConfig {
                max_frame,
                max_client_cnxns: 0,
                four_letter: Arc::new(|c: &str| c != "wchp"),
            };
            let info = fourlw::StaticInfo {
                version: "test".into(),
                ..Default::default()
            };
            net::spawn(listener, core, netcfg, info, None)
                .expect("spawn")
                .local_addr
        });
        TestServer { addr, rt: Some(rt) }
    }

    pub fn client(&self) -> Client {
        Client::connect(self.addr, 30_000).expect("connect")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}
