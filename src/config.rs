//! TEMPORARY stub, replaced by the real zoo.cfg parser.
use std::net::IpAddr;
use std::path::{Path, PathBuf};
#[derive(Clone, Default)]
pub struct FourLetterWhitelist;
impl FourLetterWhitelist {
    pub fn allows(&self, _c: &str) -> bool {
        true
    }
}
pub struct Warning(pub String);
pub struct ServerConfig {
    pub tick_time_ms: u32,
    pub data_dir: PathBuf,
    pub data_log_dir: PathBuf,
    pub client_port: u16,
    pub client_port_address: Option<IpAddr>,
    pub max_client_cnxns: u32,
    pub min_session_timeout_ms: u32,
    pub max_session_timeout_ms: u32,
    pub four_letter_words: FourLetterWhitelist,
    pub extended_types_enabled: bool,
    pub jute_maxbuffer: usize,
    pub super_digest: Option<String>,
    pub servers: Vec<()>,
    pub container_check_interval_ms: u64,
}
impl ServerConfig {
    pub fn load(_p: &Path) -> Result<(ServerConfig, Vec<Warning>), String> {
        Err("stub".into())
    }
    pub fn conf_report(&self) -> String {
        String::new()
    }
}
