//! Quorum counters and summaries `mntr` reports. Process-wide, as Java's
//! ServerMetrics are: they survive a peer's changes of role.
//!
//! Each is updated where Java 3.8.0 updates its namesake, in the same unit
//! (milliseconds for every time): see [`counter`] and [`summary`] for the
//! names `mntr` looks up, and the comment on each static for Java's place.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Learners this server, leading, synced by DIFF or TRUNC (zk_diff_count).
pub static DIFF_SYNCS: AtomicU64 = AtomicU64::new(0);
/// Learners this server, leading, synced by SNAP (zk_snap_count).
pub static SNAP_SYNCS: AtomicU64 = AtomicU64::new(0);

/// Times the peer's main loop found itself LOOKING (QuorumPeer.run).
pub static LOOKING_COUNT: AtomicU64 = AtomicU64::new(0);
/// PROPOSALs a follower received while broadcasting (Follower.processPacket).
pub static LEARNER_PROPOSAL_RECEIVED_COUNT: AtomicU64 = AtomicU64::new(0);
/// COMMITs a follower, or INFORMs an observer, received while broadcasting
/// (Follower/Observer.processPacket).
pub static LEARNER_COMMIT_RECEIVED_COUNT: AtomicU64 = AtomicU64::new(0);
/// Proposals this server made as leader (Leader.propose).
pub static PROPOSAL_COUNT: AtomicU64 = AtomicU64::new(0);
/// Proposals this server committed as leader (Leader.commit).
pub static COMMIT_COUNT: AtomicU64 = AtomicU64::new(0);

/// FastLeaderElection.lookForLeader's start to Follower.followLeader's or
/// Leader.lead's (an observer adds none).
pub static ELECTION_TIME: Summary = Summary::basic();
/// After registering with the leader (ACKEPOCH sent) to broadcasting.
pub static FOLLOWER_SYNC_TIME: Summary = Summary::basic();
pub static OBSERVER_SYNC_TIME: Summary = Summary::basic();
/// From the top of the peer's main loop to broadcasting
/// (QuorumPeer.setZabState(BROADCAST)); the leader's own in the second.
pub static UNAVAILABLE_TIME: Summary = Summary::basic();
pub static LEADER_UNAVAILABLE_TIME: Summary = Summary::basic();
/// Loading the database from disk (ZKDatabase.loadDataBase: at startup,
/// and after a TRUNC).
pub static DB_INIT_TIME: Summary = Summary::basic();
/// Within it (FileTxnSnapLog.restore): reading the snapshot, and, when
/// there were logged txns after it, how many and how long replaying them
/// took (fastForwardFromEdits). Java also counts the txns its
/// fastForwardDataBase replays when a role ends (proposals logged but not
/// committed, typically 1 after a leader kill); rzk reloads from disk
/// instead and counts only the startup and TRUNC loads.
pub static STARTUP_SNAP_LOAD_TIME: Summary = Summary::basic();
pub static STARTUP_TXNS_LOADED: Summary = Summary::basic();
pub static STARTUP_TXNS_LOAD_TIME: Summary = Summary::basic();
/// A leader's commit, wall clock minus the txn header's time
/// (Leader.tryToCommit: Request.logLatency).
pub static QUORUM_ACK_LATENCY: Summary = Summary::advanced();
/// A follower's PROPOSAL, wall clock minus the txn header's time
/// (Follower.processPacket).
pub static PROPOSAL_LATENCY: Summary = Summary::advanced();
/// A learner's commit of a proposal, wall clock minus the txn header's
/// time (FollowerZooKeeperServer.commit, Observer's INFORM).
pub static COMMIT_PROPAGATION_LATENCY: Summary = Summary::advanced();

/// A counter `mntr` prints, by its Java name.
pub fn counter(name: &str) -> Option<u64> {
    let c = match name {
        "diff_count" => &DIFF_SYNCS,
        "snap_count" => &SNAP_SYNCS,
        "looking_count" => &LOOKING_COUNT,
        "learner_proposal_received_count" => &LEARNER_PROPOSAL_RECEIVED_COUNT,
        "learner_commit_received_count" => &LEARNER_COMMIT_RECEIVED_COUNT,
        "proposal_count" => &PROPOSAL_COUNT,
        "commit_count" => &COMMIT_COUNT,
        _ => return None,
    };
    Some(c.load(Ordering::Relaxed))
}

/// A summary `mntr` prints, by its Java name.
pub fn summary(name: &str) -> Option<&'static Summary> {
    Some(match name {
        "election_time" => &ELECTION_TIME,
        "follower_sync_time" => &FOLLOWER_SYNC_TIME,
        "observer_sync_time" => &OBSERVER_SYNC_TIME,
        "unavailable_time" => &UNAVAILABLE_TIME,
        "leader_unavailable_time" => &LEADER_UNAVAILABLE_TIME,
        "dbinittime" => &DB_INIT_TIME,
        "startup_snap_load_time" => &STARTUP_SNAP_LOAD_TIME,
        "startup_txns_loaded" => &STARTUP_TXNS_LOADED,
        "startup_txns_load_time" => &STARTUP_TXNS_LOAD_TIME,
        "quorum_ack_latency" => &QUORUM_ACK_LATENCY,
        "proposal_latency" => &PROPOSAL_LATENCY,
        "commit_propagation_latency" => &COMMIT_PROPAGATION_LATENCY,
        _ => return None,
    })
}

/// Whole milliseconds since `t` (Java's Time.currentElapsedTime deltas).
pub fn ms_since(t: Instant) -> i64 {
    t.elapsed().as_millis() as i64
}

/// When this peer became unavailable (QuorumPeer.unavailableStartTime):
/// set at the top of its main loop, cleared when it broadcasts.
static UNAVAILABLE_SINCE: Mutex<Option<Instant>> = Mutex::new(None);

/// The top of the peer's main loop: unavailable from now, unless already.
pub fn peer_unavailable() {
    let mut s = UNAVAILABLE_SINCE.lock().unwrap_or_else(|e| e.into_inner());
    s.get_or_insert_with(Instant::now);
}

/// The peer broadcasts (serves clients) again: the time it was
/// unavailable goes to unavailable_time, and to leader_unavailable_time
/// when it leads.
pub fn peer_broadcasting(leading: bool) {
    let since = UNAVAILABLE_SINCE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some(t) = since {
        let ms = ms_since(t);
        UNAVAILABLE_TIME.add(ms);
        if leading {
            LEADER_UNAVAILABLE_TIME.add(ms);
        }
    }
}

/// A load of the database from disk that took `total_ms` (snapshot
/// `snap_ms`, then `replayed` txns in `replay_ms`), as
/// ZKDatabase.loadDataBase and FileTxnSnapLog.restore count it.
pub fn db_loaded(total_ms: i64, snap_ms: i64, replayed: usize, replay_ms: i64) {
    DB_INIT_TIME.add(total_ms);
    STARTUP_SNAP_LOAD_TIME.add(snap_ms);
    // fastForwardFromEdits returns before counting when no txn follows.
    if replayed > 0 {
        STARTUP_TXNS_LOADED.add(replayed as i64);
        STARTUP_TXNS_LOAD_TIME.add(replay_ms);
    }
}

/// Request.logLatency: `now_wall_ms - txn_time_ms`, skipped when the
/// clocks disagree (negative).
pub fn log_latency(s: &Summary, now_wall_ms: i64, txn_time_ms: i64) {
    let latency = now_wall_ms - txn_time_ms;
    if latency >= 0 {
        s.add(latency);
    }
}

/// Writes of /zookeeper/config (ZKDatabase.initConfigInZKDatabase): Java
/// counts them in the `zookeeper` namespace's write_per_namespace summary.
pub static CONFIG_WRITES: AtomicU64 = AtomicU64::new(0);
/// Their bytes (path and data): total, smallest, largest.
pub static CONFIG_WRITE_BYTES: AtomicU64 = AtomicU64::new(0);
pub static CONFIG_WRITE_MIN: AtomicU64 = AtomicU64::new(u64::MAX);
pub static CONFIG_WRITE_MAX: AtomicU64 = AtomicU64::new(0);

/// One write of /zookeeper/config, of `bytes` bytes as Java counts them
/// (the path's length and the data's).
pub fn config_written(bytes: usize) {
    let b = bytes as u64;
    CONFIG_WRITES.fetch_add(1, Ordering::Relaxed);
    CONFIG_WRITE_BYTES.fetch_add(b, Ordering::Relaxed);
    CONFIG_WRITE_MIN.fetch_min(b, Ordering::Relaxed);
    CONFIG_WRITE_MAX.fetch_max(b, Ordering::Relaxed);
}

/// Java's reservoir size (AvgMinMaxPercentileCounter's
/// ResettableUniformReservoir).
pub const RESERVOIR_SIZE: usize = 4096;

/// Java's AvgMinMaxCounter (a BASIC summary: count, sum, min, max) or,
/// with a reservoir, AvgMinMaxPercentileCounter (ADVANCED: adds p50, p95,
/// p99 and p999 of a uniform sample of at most [`RESERVOIR_SIZE`] values).
pub struct Summary {
    count: AtomicI64,
    total: AtomicI64,
    min: AtomicI64,
    max: AtomicI64,
    reservoir: Option<Mutex<Reservoir>>,
}

/// What a summary holds now, as `mntr` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SummaryValues {
    pub count: i64,
    pub total: i64,
    /// 0 before the first value, as Java's getMin/getMax.
    pub min: i64,
    pub max: i64,
    /// p50, p95, p99, p999 (None for a BASIC summary).
    pub percentiles: Option<[i64; 4]>,
}

impl Summary {
    pub const fn basic() -> Summary {
        Summary {
            count: AtomicI64::new(0),
            total: AtomicI64::new(0),
            min: AtomicI64::new(i64::MAX),
            max: AtomicI64::new(i64::MIN),
            reservoir: None,
        }
    }

    pub const fn advanced() -> Summary {
        Summary {
            count: AtomicI64::new(0),
            total: AtomicI64::new(0),
            min: AtomicI64::new(i64::MAX),
            max: AtomicI64::new(i64::MIN),
            reservoir: Some(Mutex::new(Reservoir::new())),
        }
    }

    pub fn add(&self, v: i64) {
        self.total.fetch_add(v, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.min.fetch_min(v, Ordering::Relaxed);
        self.max.fetch_max(v, Ordering::Relaxed);
        if let Some(r) = &self.reservoir {
            r.lock().unwrap_or_else(|e| e.into_inner()).update(v);
        }
    }

    pub fn values(&self) -> SummaryValues {
        let min = self.min.load(Ordering::Relaxed);
        let max = self.max.load(Ordering::Relaxed);
        SummaryValues {
            count: self.count.load(Ordering::Relaxed),
            total: self.total.load(Ordering::Relaxed),
            min: if min == i64::MAX { 0 } else { min },
            max: if max == i64::MIN { 0 } else { max },
            percentiles: self.reservoir.as_ref().map(|r| {
                let mut sample = r.lock().unwrap_or_else(|e| e.into_inner()).values.clone();
                sample.sort_unstable();
                [0.5, 0.95, 0.99, 0.999].map(|q| java_round(quantile(&sample, q)))
            }),
        }
    }
}

/// Vitter's algorithm R over at most [`RESERVOIR_SIZE`] values, as Java's
/// ResettableUniformReservoir.
pub struct Reservoir {
    seen: u64,
    values: Vec<i64>,
    rng: u64,
}

impl Reservoir {
    const fn new() -> Reservoir {
        Reservoir {
            seen: 0,
            values: Vec::new(),
            rng: 0x853c_49e6_748f_ea9b,
        }
    }

    fn update(&mut self, v: i64) {
        self.seen += 1;
        if self.values.len() < RESERVOIR_SIZE {
            self.values.push(v);
            return;
        }
        // splitmix64; uniform enough in 0..seen for a metric's sample.
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let r = z % self.seen;
        if (r as usize) < RESERVOIR_SIZE {
            self.values[r as usize] = v;
        }
    }
}

/// Dropwizard's UniformSnapshot.getValue on sorted values: linear
/// interpolation at `q * (n + 1)`, clamped to the ends; 0 when empty.
fn quantile(sorted: &[i64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q * (sorted.len() + 1) as f64;
    let index = pos as usize;
    if index < 1 {
        return sorted[0] as f64;
    }
    if index >= sorted.len() {
        return sorted[sorted.len() - 1] as f64;
    }
    let lower = sorted[index - 1] as f64;
    let upper = sorted[index] as f64;
    lower + (pos - pos.floor()) * (upper - lower)
}

/// Java's Math.round(double): floor(x + 0.5).
fn java_round(x: f64) -> i64 {
    (x + 0.5).floor() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_summary_reads_as_javas() {
        assert_eq!(Summary::basic().values(), SummaryValues::default());
        let v = Summary::advanced().values();
        assert_eq!(v.percentiles, Some([0; 4]));
        assert_eq!((v.count, v.total, v.min, v.max), (0, 0, 0, 0));
    }

    #[test]
    fn a_summary_keeps_count_sum_min_max() {
        let s = Summary::basic();
        for v in [7, 3, 12, 3] {
            s.add(v);
        }
        let v = s.values();
        assert_eq!((v.count, v.total, v.min, v.max), (4, 25, 3, 12));
        assert_eq!(v.percentiles, None);
        // One value: min and max are it, even a negative one.
        let one = Summary::basic();
        one.add(-5);
        assert_eq!((one.values().min, one.values().max), (-5, -5));
    }

    #[test]
    fn percentiles_interpolate_as_dropwizards_uniform_snapshot() {
        let s = Summary::advanced();
        for v in 1..=100 {
            s.add(v);
        }
        // pos = q * 101: p50 50.5 -> 50.5 -> 51 (Math.round); p95 95.95;
        // p99 99.99; p999 past the end -> 100.
        assert_eq!(s.values().percentiles, Some([51, 96, 100, 100]));
        let one = Summary::advanced();
        one.add(42);
        assert_eq!(one.values().percentiles, Some([42; 4]));
        assert_eq!(quantile(&[10, 20], 0.5), 15.0);
        assert_eq!(java_round(2.5), 3);
        assert_eq!(java_round(-2.5), -2);
    }

    #[test]
    fn the_reservoir_stays_bounded_and_uniform() {
        let s = Summary::advanced();
        let n = 4 * RESERVOIR_SIZE as i64;
        for v in 0..n {
            s.add(v);
        }
        let r = s.reservoir.as_ref().unwrap().lock().unwrap();
        assert_eq!(r.values.len(), RESERVOIR_SIZE);
        assert_eq!(r.seen, n as u64);
        // A uniform sample of 0..n: about a quarter from each quarter.
        let q1 = r.values.iter().filter(|&&v| v < n / 4).count();
        assert!((800..1250).contains(&q1), "{q1} of the first quarter");
        drop(r);
        let v = s.values();
        assert_eq!((v.count, v.min, v.max), (n, 0, n - 1));
        let p50 = v.percentiles.unwrap()[0];
        assert!((n * 4 / 10..n * 6 / 10).contains(&p50), "p50 {p50}");
    }

    #[test]
    fn latencies_from_a_clock_behind_are_dropped() {
        let s = Summary::basic();
        log_latency(&s, 1_000, 990);
        log_latency(&s, 1_000, 1_001);
        assert_eq!((s.values().count, s.values().total), (1, 10));
    }

    #[test]
    fn every_name_mntr_looks_up_is_known() {
        for c in ["looking_count", "commit_count", "diff_count"] {
            assert!(counter(c).is_some(), "{c}");
        }
        assert!(counter("throttled_ops").is_none());
        assert!(summary("election_time").unwrap().reservoir.is_none());
        assert!(summary("quorum_ack_latency").unwrap().reservoir.is_some());
        assert!(summary("fsynctime").is_none());
    }
}
