//! Java 3.8's AdminServer: the embedded HTTP server (`admin.serverPort`,
//! default 8080) that answers `GET /commands/<name>` with JSON.
//!
//! - `commands`: the command table (names, aliases) and each command's
//!   JSON, from the facts the four-letter words report;
//! - `json`: that JSON printed as Java's Jackson pretty printer does;
//! - `http`: the HTTP/1.1 side (hyper): routing, limits, idle timeout.
//!
//! As in 3.8.0, neither the four-letter-word whitelist nor any
//! authentication applies (3.9 added auth for some commands).

pub mod commands;
pub mod http;
pub mod json;
