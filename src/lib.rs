//! rzk: a ZooKeeper server in Rust, wire- and disk-compatible with Apache
//! ZooKeeper 3.8/3.9, meant to replace a Java node with nothing else changed.
//!
//! Module map, from the wire inwards:
//! - [`jute`]: ZooKeeper's record encoding; record types are generated at
//!   build time from `jute/*.jute`.
//! - [`proto`]: opcodes, error codes, permissions, event types, create modes.
//! - [`config`]: zoo.cfg parsing, with Java's keys, defaults and checks.
//! - [`server`]: the client-facing server, the same pieces in every role:
//!   `db` (the committed state, tree and watches: changed by one apply
//!   path, read from every core), `conn` (what a connection and the core
//!   share; the reads a connection answers itself, on any thread), `reads`
//!   and `reply` (read operations, reply frames), `core` (sessions,
//!   per-session order, the write pipeline prep -> log -> apply, and its
//!   standalone, leader and learner roles), `prep` (write requests to
//!   transactions), `net` (client port, connection tasks, the core task),
//!   `fourlw` (four-letter words) and `run` (zoo.cfg to a standalone
//!   server or a quorum peer).
//! - [`admin`]: the AdminServer (HTTP on admin.serverPort): Java's admin
//!   commands as JSON, from the same facts as the four-letter words.
//! - [`txn`]: transactions, as logged and applied.
//! - [`tree`]: the data tree (each znode packed in one allocation) and
//!   transaction application; [`quota`]: the quota stats it keeps.
//! - [`watch`]: the watch manager.
//! - [`session`]: the session tracker.
//! - [`acl`]: authentication schemes and permission checks.
//! - [`path`]: znode path validation.
//! - [`javahash`]: Java's HashSet iteration order, where clients can see it.
//! - [`fasthash`]: the hash tables of the hot paths (foldhash, not SipHash).
//! - [`heap`]: handing freed heap back to the system after a snapshot or a recovery (jemalloc).
//! - [`client`]: a small blocking client on the same records, for tests,
//!   tools and benchmarks.
//! - [`bench`]: `rzk bench`, a load generator for any ZooKeeper server.
//! - [`quorum`]: quorum mode: leader election (the election port), ZAB (the
//!   quorum port: packets, a learner's sync, the leader as a state machine)
//!   and the peer's main loop (recover, elect, follow or lead).
//! - [`tools`]: the `rzk` subcommands' tools: log-dump, snap-dump, purge (and autopurge), dump-tree.
//!
//! The data tree, session tracker and watch manager are plain data
//! structures with no I/O; the network and the disk sit at the edges.
//! Election and ZAB are state machines driven by messages, ticks and
//! durable-write completions (`quorum`), simulated whole in `quorum::zab_sim`.

pub mod acl;
pub mod admin;
pub mod bench;
pub mod client;
pub mod config;
pub mod fasthash;
pub mod heap;
pub mod javahash;
pub mod jute;
pub mod path;
pub mod persist;
pub mod proto;
pub mod quorum;
pub mod quota;
pub mod rng;
pub mod server;
pub mod session;
pub mod tools;
pub mod tree;
pub mod txn;
pub mod watch;
