//! Tests of zoo.cfg parsing, by topic; this file holds the shared helpers.

mod api;
mod ensemble;
mod properties;
mod quorum;
mod server_keys;
mod static_keys;

use super::ensemble::parse_server_line;
use super::properties::{java_trim, parse_properties};
use super::values::{java_decode, java_parse_int};

use super::*;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rzk-config-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.0.join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, contents).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

const BASE: &str = "/nonexistent-rzk-base";
const MIN: &str = "dataDir=/nonexistent-rzk/data\nclientPort=2181\n";

fn parse_with(
    text: &str,
    props: &[(&str, &str)],
) -> Result<(ServerConfig, Vec<Warning>), ConfigError> {
    let props: Vec<(String, String)> = props
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    ServerConfig::parse_with_system_properties(text, Path::new(BASE), &props)
}

fn ok(text: &str) -> (ServerConfig, Vec<String>) {
    ok_with(text, &[])
}

fn ok_with(text: &str, props: &[(&str, &str)]) -> (ServerConfig, Vec<String>) {
    match parse_with(text, props) {
        Ok((c, w)) => (c, w.into_iter().map(|w| w.0).collect()),
        Err(e) => panic!("unexpected error: {e}\n--- config ---\n{text}"),
    }
}

/// MIN plus extra lines.
fn with(extra: &str) -> (ServerConfig, Vec<String>) {
    ok(&format!("{MIN}{extra}\n"))
}

fn err(text: &str) -> ConfigError {
    err_with(text, &[])
}

fn err_with(text: &str, props: &[(&str, &str)]) -> ConfigError {
    match parse_with(text, props) {
        Ok((c, _)) => panic!("expected an error, got {c:?}\n--- config ---\n{text}"),
        Err(e) => e,
    }
}

fn bad_key(e: &ConfigError) -> &str {
    match e {
        ConfigError::BadValue { key, .. } => key,
        other => panic!("expected BadValue, got {other:?}"),
    }
}

fn props(text: &str) -> Vec<(String, String)> {
    parse_properties(text)
        .unwrap()
        .into_iter()
        .map(|e| (e.key, e.value))
        .collect()
}

fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn has(warnings: &[String], needle: &str) -> bool {
    warnings.iter().any(|w| w.contains(needle))
}
