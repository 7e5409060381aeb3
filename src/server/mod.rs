//! The client-facing server, in the roles a quorum peer takes too.
//!
//! - `db`: the committed state (tree, watches), changed by the core's apply
//!   path and read by every connection;
//! - `conn`: what a connection's task and the core share, and the reads a
//!   connection answers by itself, on any core;
//! - `reads`, `reply`: the read operations and the reply frames, used by
//!   both;
//! - `core`: sessions, per-session order, the write pipeline (prep, log,
//!   apply), and its leader and learner roles;
//! - `prep`: write requests to transactions;
//! - `net`: the client port, connection tasks and the core task;
//! - `fourlw`: the four-letter words; `run`: zoo.cfg to a running server.

pub mod conn;
pub mod core;
pub mod db;
pub mod fourlw;
pub mod net;
pub mod prep;
pub mod reads;
pub mod reply;
pub mod run;
