//! `rzk bench`: a load generator for any ZooKeeper server, written on the
//! project's own jute records, to compare rzk with Java ZooKeeper on the
//! same machine (scripts/bench.sh drives both side by side).
//!
//! Workloads: `read` (getData on a pool of znodes), `write` (setData),
//! `mixed` (reads with a share of writes, 10% by default), `create-delete`
//! (create a znode, delete it, again), `watch` (pairs of sessions: one
//! watches a znode, the other sets it; latency from the setData's ack to
//! the event), `connect-storm` (open many sessions at once, then close
//! them), `populate` (create the pool), `ready` (wait until a getData on
//! the pool succeeds: time to serving after a restart).
//!
//! The client is one async task per session on a small tokio runtime (one
//! thread by default: the client and the server share the machine). Each
//! session keeps `--inflight` requests pipelined on its connection.
//! Everything is bounded: sessions, in-flight requests and time
//! (`--timeout` caps what is not time-boxed: setup, draining, waiting).
//! Only loopback addresses are accepted.
//!
//! Znodes live under `/rzkbench`: the pool is `/rzkbench/n/0` up to
//! `/rzkbench/n/<znodes-1>`; workloads that read or write the pool create
//! it first when its last znode is missing.

pub mod conn;
pub mod hist;
mod work;

use std::fmt::Write as _;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use hist::Hist;

pub use work::Op;

/// What load to generate.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// getData on random znodes of the pool.
    Read,
    /// setData (`--size` bytes) on random znodes of the pool.
    Write,
    /// Reads, with `--write-percent` of setData.
    Mixed,
    /// Create a znode, then delete it (both pipelined), over and over.
    CreateDelete,
    /// Pairs of sessions: one sets a watch, the other sets the data;
    /// latency from the setData's ack to the event.
    Watch,
    /// Open `--count` sessions at once, then close them; in rounds.
    ConnectStorm,
    /// Create the pool of `--znodes` znodes (existing ones are kept).
    Populate,
    /// Wait until the server serves a getData of the pool's first znode.
    Ready,
    /// Wait until a setData of the pool's first znode is acknowledged (an
    /// ensemble's failover: from a leader's death to the next write).
    WriteReady,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Read => "read",
            Workload::Write => "write",
            Workload::Mixed => "mixed",
            Workload::CreateDelete => "create-delete",
            Workload::Watch => "watch",
            Workload::ConnectStorm => "connect-storm",
            Workload::Populate => "populate",
            Workload::Ready => "ready",
            Workload::WriteReady => "write-ready",
        }
    }
}

/// `rzk bench` options.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// The workload.
    #[arg(value_enum)]
    pub workload: Workload,
    /// The server, host:port (loopback only).
    #[arg(long, default_value = "127.0.0.1:2181", value_parser = parse_server)]
    pub server: SocketAddr,
    /// Sessions (one TCP connection each).
    #[arg(long, short = 'c', default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub sessions: u32,
    /// Requests in flight per session, pipelined on its connection.
    #[arg(long, short = 'p', default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub inflight: u32,
    /// Seconds of load before measuring (e.g. 2, 0.5, 500ms).
    #[arg(long, default_value = "2", value_parser = parse_secs)]
    pub warmup: Duration,
    /// Seconds measured.
    #[arg(long, default_value = "10", value_parser = parse_secs)]
    pub duration: Duration,
    /// Size of the znode pool.
    #[arg(long, short = 'n', default_value_t = 1_000,
          value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub znodes: u32,
    /// Bytes of data per znode and per setData.
    #[arg(long, default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub size: u32,
    /// Share of setData in the mixed workload, in percent.
    #[arg(long, default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(0..=100))]
    pub write_percent: u32,
    /// Sessions per round of connect-storm.
    #[arg(long, default_value_t = 1_000,
          value_parser = clap::value_parser!(u32).range(1..=20_000))]
    pub count: u32,
    /// The server's process id, to report its memory (VmRSS) at the end.
    #[arg(long)]
    pub pid: Option<u32>,
    /// One JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Client threads (1 keeps the client lean on a small machine).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub threads: u32,
    /// Bound on anything not time-boxed (setup, populate, draining, ready).
    #[arg(long, default_value = "300", value_parser = parse_secs)]
    pub timeout: Duration,
    /// Session timeout requested, in milliseconds.
    #[arg(long, default_value_t = 30_000,
          value_parser = clap::value_parser!(u32).range(1..=600_000))]
    pub session_timeout: u32,
}

/// host:port, resolved, and only on loopback: the benchmark never leaves
/// the machine.
pub fn parse_server(s: &str) -> Result<SocketAddr, String> {
    let addrs: Vec<SocketAddr> = s
        .to_socket_addrs()
        .map_err(|e| format!("'{s}': {e} (expected host:port, e.g. 127.0.0.1:2181)"))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4() && a.ip().is_loopback())
        .or_else(|| addrs.iter().find(|a| a.ip().is_loopback()))
        .copied()
        .ok_or_else(|| format!("'{s}': rzk bench only connects to loopback (127.0.0.1)"))
}

/// Seconds as a decimal number, optionally with an `s` or `ms` suffix;
/// at most a day.
pub fn parse_secs(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else {
        (t, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}': not a number of seconds"))?;
    let secs = v * scale;
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("'{s}': must be zero or more seconds"));
    }
    if secs > 86_400.0 {
        return Err(format!("'{s}': more than a day"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Per-operation results.
#[derive(Clone, Debug)]
pub struct OpReport {
    pub op: Op,
    pub hist: Hist,
    pub errors: u64,
}

/// What a run measured.
#[derive(Clone, Debug)]
pub struct Report {
    pub args: BenchArgs,
    /// The time the throughput is over.
    pub elapsed: Duration,
    /// Operations completed in the measured window (for `watch`, events;
    /// for `connect-storm`, sessions opened).
    pub ops: u64,
    pub errors: u64,
    /// Error codes seen, with counts.
    pub error_codes: Vec<(i32, u64)>,
    /// The headline latency.
    pub latency: Hist,
    pub by_op: Vec<OpReport>,
    /// Other figures, by name (setup, storm times, ...).
    pub extra: Vec<(String, f64)>,
    /// The server's VmRSS and VmHWM in KiB, when `--pid` was given.
    pub rss_kb: Option<(u64, u64)>,
}

impl Report {
    pub fn ops_per_sec(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.ops as f64 / s
        } else {
            0.0
        }
    }

    pub fn to_json(&self) -> String {
        let a = &self.args;
        let mut s = String::new();
        let _ = write!(
            s,
            "{{\"workload\":\"{}\",\"server\":\"{}\",\"sessions\":{},\"inflight\":{},\
             \"threads\":{},\"znodes\":{},\"size\":{},\"warmup_s\":{},\"duration_s\":{},\
             \"elapsed_s\":{:.3},\"ops\":{},\"ops_per_sec\":{:.1},\"errors\":{}",
            a.workload.name(),
            a.server,
            a.sessions,
            a.inflight,
            a.threads,
            a.znodes,
            a.size,
            a.warmup.as_secs_f64(),
            a.duration.as_secs_f64(),
            self.elapsed.as_secs_f64(),
            self.ops,
            self.ops_per_sec(),
            self.errors
        );
        s.push_str(",\"error_codes\":{");
        for (i, (code, n)) in self.error_codes.iter().enumerate() {
            let _ = write!(s, "{}\"{code}\":{n}", if i > 0 { "," } else { "" });
        }
        s.push('}');
        s.push_str(",\"latency_ms\":");
        json_hist(&mut s, &self.latency, None);
        s.push_str(",\"by_op\":{");
        for (i, o) in self.by_op.iter().enumerate() {
            let _ = write!(s, "{}\"{}\":", if i > 0 { "," } else { "" }, o.op.name());
            json_hist(&mut s, &o.hist, Some(o.errors));
        }
        s.push('}');
        s.push_str(",\"extra\":{");
        for (i, (k, v)) in self.extra.iter().enumerate() {
            let _ = write!(
                s,
                "{}\"{k}\":{}",
                if i > 0 { "," } else { "" },
                json_num(*v)
            );
        }
        s.push('}');
        match self.rss_kb {
            Some((rss, hwm)) => {
                let _ = write!(s, ",\"rss_kb\":{rss},\"rss_peak_kb\":{hwm}");
            }
            None => s.push_str(",\"rss_kb\":null,\"rss_peak_kb\":null"),
        }
        s.push('}');
        s
    }

    pub fn to_text(&self) -> String {
        let a = &self.args;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} on {}: {} ops in {:.2} s = {:.1} ops/s, {} errors \
             ({} sessions x {} in flight, {} znodes of {} bytes, {} client thread{})",
            a.workload.name(),
            a.server,
            self.ops,
            self.elapsed.as_secs_f64(),
            self.ops_per_sec(),
            self.errors,
            a.sessions,
            a.inflight,
            a.znodes,
            a.size,
            a.threads,
            if a.threads == 1 { "" } else { "s" }
        );
        if !self.error_codes.is_empty() {
            let codes: Vec<String> = self
                .error_codes
                .iter()
                .map(|(c, n)| {
                    let name = crate::proto::ErrorCode::from_code(*c)
                        .map_or_else(|| c.to_string(), |e| e.to_string());
                    format!("{name} x{n}")
                })
                .collect();
            let _ = writeln!(s, "errors: {}", codes.join(", "));
        }
        let _ = writeln!(
            s,
            "latency (ms)      count       p50       p99      p999       max      mean"
        );
        let mut row = |name: &str, h: &Hist| {
            let _ = writeln!(
                s,
                "  {:<13} {:>8} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
                name,
                h.count(),
                ms(h.quantile(0.5)),
                ms(h.quantile(0.99)),
                ms(h.quantile(0.999)),
                ms(h.max()),
                h.mean() / 1e6
            );
        };
        for o in &self.by_op {
            row(o.op.name(), &o.hist);
        }
        if self.by_op.len() > 1 {
            row("(headline)", &self.latency);
        }
        for (k, v) in &self.extra {
            let _ = writeln!(s, "{k}: {}", json_num(*v));
        }
        if let Some((rss, hwm)) = self.rss_kb {
            let _ = writeln!(
                s,
                "server RSS: {:.1} MiB (peak {:.1} MiB)",
                rss as f64 / 1024.0,
                hwm as f64 / 1024.0
            );
        }
        s
    }
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

fn json_num(v: f64) -> String {
    if v.is_finite() {
        let r = format!("{v:.3}");
        let r = r.trim_end_matches('0').trim_end_matches('.');
        if r.is_empty() || r == "-" || r == "-0" {
            "0".into()
        } else {
            r.to_owned()
        }
    } else {
        "null".into()
    }
}

fn json_hist(s: &mut String, h: &Hist, errors: Option<u64>) {
    let _ = write!(
        s,
        "{{\"count\":{},\"p50\":{},\"p99\":{},\"p999\":{},\"max\":{},\"mean\":{}",
        h.count(),
        json_num(ms(h.quantile(0.5))),
        json_num(ms(h.quantile(0.99))),
        json_num(ms(h.quantile(0.999))),
        json_num(ms(h.max())),
        json_num(h.mean() / 1e6)
    );
    if let Some(e) = errors {
        let _ = write!(s, ",\"errors\":{e}");
    }
    s.push('}');
}

/// A process's VmRSS and VmHWM, in KiB, from /proc/PID/status.
pub fn rss_kb(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_rss(&status)
}

fn parse_rss(status: &str) -> Option<(u64, u64)> {
    let field = |name: &str| {
        status.lines().find_map(|l| {
            l.strip_prefix(name)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse::<u64>()
                .ok()
        })
    };
    let rss = field("VmRSS:")?;
    Some((rss, field("VmHWM:").unwrap_or(rss)))
}

/// A process's CPU time (user + system) so far, from /proc/PID/stat
/// (clock ticks of 1/100 s, Linux's USER_HZ).
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_cpu_ticks(&stat).map(|t| Duration::from_millis(t * 10))
}

fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Runs one benchmark.
pub fn run(args: &BenchArgs) -> Result<Report, String> {
    let rt = if args.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads as usize)
            .enable_all()
            .build()
    }
    .map_err(|e| format!("cannot start the client runtime: {e}"))?;
    let limit = args.warmup + args.duration + args.timeout;
    let mut report = rt.block_on(async {
        match tokio::time::timeout(limit, work::run(args)).await {
            Ok(r) => r,
            Err(_) => Err(format!(
                "gave up after {:.1} s (warmup + duration + --timeout)",
                limit.as_secs_f64()
            )),
        }
    })?;
    rt.shutdown_timeout(Duration::from_millis(200));
    if let Some(pid) = args.pid {
        report.rss_kb = rss_kb(pid);
        if report.rss_kb.is_none() {
            return Err(format!("cannot read /proc/{pid}/status"));
        }
    }
    Ok(report)
}

/// The `rzk bench` command.
pub fn main(args: BenchArgs) -> ExitCode {
    match run(&args) {
        Ok(r) => {
            if args.json {
                println!("{}", r.to_json());
            } else {
                print!("{}", r.to_text());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rzk bench {}: {e}", args.workload.name());
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: BenchArgs,
    }

    fn parse(args: &[&str]) -> Result<BenchArgs, String> {
        T::try_parse_from(std::iter::once("bench").chain(args.iter().copied()))
            .map(|t| t.a)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults() {
        let a = parse(&["read"]).unwrap();
        assert_eq!(a.workload, Workload::Read);
        assert_eq!(a.server, "127.0.0.1:2181".parse().unwrap());
        assert_eq!(
            (a.sessions, a.inflight, a.znodes, a.size),
            (16, 16, 1000, 100)
        );
        assert_eq!(a.warmup, Duration::from_secs(2));
        assert_eq!(a.duration, Duration::from_secs(10));
        assert_eq!((a.count, a.write_percent, a.threads), (1000, 10, 1));
        assert_eq!(a.pid, None);
        assert!(!a.json);
    }

    #[test]
    fn every_option() {
        let a = parse(&[
            "connect-storm",
            "--server",
            "localhost:12345",
            "--sessions",
            "64",
            "--inflight",
            "4",
            "--warmup",
            "0.5",
            "--duration",
            "250ms",
            "--znodes",
            "200000",
            "--size",
            "0",
            "--count",
            "3000",
            "--pid",
            "42",
            "--json",
            "--threads",
            "2",
            "--write-percent",
            "50",
            "--timeout",
            "60s",
        ])
        .unwrap();
        assert_eq!(a.workload, Workload::ConnectStorm);
        assert_eq!(a.server, "127.0.0.1:12345".parse().unwrap());
        assert_eq!(
            (a.sessions, a.inflight, a.znodes, a.size),
            (64, 4, 200_000, 0)
        );
        assert_eq!(a.warmup, Duration::from_millis(500));
        assert_eq!(a.duration, Duration::from_millis(250));
        assert_eq!(a.timeout, Duration::from_secs(60));
        assert_eq!((a.count, a.write_percent, a.threads), (3000, 50, 2));
        assert_eq!(a.pid, Some(42));
        assert!(a.json);
        let short = parse(&["write", "-c", "3", "-p", "2", "-n", "7"]).unwrap();
        assert_eq!((short.sessions, short.inflight, short.znodes), (3, 2, 7));
    }

    #[test]
    fn workload_names() {
        for (name, w) in [
            ("read", Workload::Read),
            ("write", Workload::Write),
            ("mixed", Workload::Mixed),
            ("create-delete", Workload::CreateDelete),
            ("watch", Workload::Watch),
            ("connect-storm", Workload::ConnectStorm),
            ("populate", Workload::Populate),
            ("ready", Workload::Ready),
            ("write-ready", Workload::WriteReady),
        ] {
            assert_eq!(parse(&[name]).unwrap().workload, w);
            assert_eq!(w.name(), name);
        }
        assert!(parse(&["scan"]).is_err());
        assert!(parse(&[]).is_err());
    }

    #[test]
    fn bounds_are_enforced() {
        for bad in [
            &["read", "--sessions", "0"][..],
            &["read", "--sessions", "10001"],
            &["read", "--inflight", "0"],
            &["read", "--inflight", "1001"],
            &["read", "--znodes", "0"],
            &["read", "--count", "20001"],
            &["read", "--write-percent", "101"],
            &["read", "--threads", "0"],
            &["read", "--duration", "-1"],
            &["read", "--duration", "2days"],
            &["read", "--warmup", "100000"],
            &["read", "--pid", "x"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn only_loopback_servers() {
        assert_eq!(
            parse_server("127.0.0.1:2181").unwrap(),
            "127.0.0.1:2181".parse().unwrap()
        );
        assert!(parse_server("localhost:2181").unwrap().ip().is_loopback());
        assert!(parse_server("[::1]:2181").unwrap().ip().is_loopback());
        for bad in ["10.0.0.1:2181", "0.0.0.0:2181", "127.0.0.1", "2181", "x:y"] {
            assert!(parse_server(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_secs("3").unwrap(), Duration::from_secs(3));
        assert_eq!(parse_secs("1.5").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_secs("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_secs("20ms").unwrap(), Duration::from_millis(20));
        assert_eq!(parse_secs("0").unwrap(), Duration::ZERO);
        for bad in ["", "x", "-1", "nan", "inf", "1e9", "5m"] {
            assert!(parse_secs(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn rss_from_proc_status() {
        let status = "Name:\tjava\nVmPeak:\t 999 kB\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n";
        assert_eq!(parse_rss(status), Some((1024, 2048)));
        assert_eq!(parse_rss("Name:\tx\n"), None);
        // Our own process has a resident set.
        let own = rss_kb(std::process::id()).unwrap();
        assert!(own.0 > 0 && own.1 >= own.0);
    }

    #[test]
    fn cpu_from_proc_stat() {
        let stat = "1234 (a b) c) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0";
        assert_eq!(parse_cpu_ticks(stat), Some(300));
        assert_eq!(parse_cpu_ticks("1 (x) S 1"), None);
        assert!(cpu_time(std::process::id()).is_some());
    }

    #[test]
    fn json_report_is_well_formed() {
        let args = parse(&["read", "--duration", "2"]).unwrap();
        let mut h = Hist::new();
        for v in [1_000_000u64, 2_000_000, 3_000_000] {
            h.record(v);
        }
        let r = Report {
            args,
            elapsed: Duration::from_secs(2),
            ops: 3,
            errors: 1,
            error_codes: vec![(-101, 1)],
            latency: h.clone(),
            by_op: vec![OpReport {
                op: Op::GetData,
                hist: h,
                errors: 1,
            }],
            extra: vec![("setup_s".into(), 0.25)],
            rss_kb: Some((10, 20)),
        };
        assert_eq!(r.ops_per_sec(), 1.5);
        let j = r.to_json();
        assert!(j.starts_with("{\"workload\":\"read\",\"server\":\"127.0.0.1:2181\""));
        assert!(
            j.contains("\"ops\":3,\"ops_per_sec\":1.5,\"errors\":1"),
            "{j}"
        );
        assert!(j.contains("\"error_codes\":{\"-101\":1}"), "{j}");
        assert!(j.contains("\"latency_ms\":{\"count\":3,\"p50\":2.0"), "{j}");
        assert!(
            j.contains("\"p99\":3,\"p999\":3,\"max\":3,\"mean\":2}"),
            "{j}"
        );
        assert!(j.contains("\"getData\":{\"count\":3,"), "{j}");
        assert!(j.contains("\"extra\":{\"setup_s\":0.25}"), "{j}");
        assert!(j.ends_with("\"rss_kb\":10,\"rss_peak_kb\":20}"), "{j}");
        // Balanced braces and quotes.
        assert_eq!(j.matches('{').count(), j.matches('}').count());
        assert_eq!(j.matches('"').count() % 2, 0);
        let t = r.to_text();
        assert!(t.contains("1.5 ops/s"), "{t}");
        assert!(t.contains("NoNode (-101) x1"), "{t}");
    }

    /// Every workload, briefly, against an in-process rzk (no fsync).
    #[test]
    fn every_workload_runs_against_an_in_process_server() {
        use crate::server::core::{Core, CoreConfig, Now};
        use crate::server::{fourlw, net};
        use std::sync::Arc;

        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let addr = rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let core = Core::new(
                CoreConfig::default(),
                crate::tree::DataTree::new(false),
                Now {
                    mono_ms: 1000,
                    wall_ms: 1,
                },
            );
            let netcfg = net::NetConfig {
                max_frame: 1 << 20,
                max_client_cnxns: 0,
                four_letter: Arc::new(|_: &str| true),
            };
            net::spawn(listener, core, netcfg, fourlw::StaticInfo::default(), None)
                .unwrap()
                .local_addr
        });
        let server = addr.to_string();
        for w in [
            "populate",
            "ready",
            "read",
            "write",
            "mixed",
            "create-delete",
            "watch",
            "connect-storm",
        ] {
            let mut a = parse(&[
                w,
                "--server",
                &server,
                "--sessions",
                "4",
                "--inflight",
                "4",
                "--znodes",
                "50",
                "--count",
                "20",
                "--warmup",
                "0.05",
                "--duration",
                "0.2",
                "--timeout",
                "20",
            ])
            .unwrap();
            a.pid = Some(std::process::id());
            let r = run(&a).unwrap_or_else(|e| panic!("{w}: {e}"));
            assert!(r.ops > 0, "{w}: no operations\n{}", r.to_text());
            assert_eq!(r.errors, 0, "{w}: errors\n{}", r.to_text());
            assert!(r.rss_kb.is_some());
            if w == "watch" {
                // Its headline, ack -> event, is 0 whenever the event comes
                // first (the server sends it before the ack); sent -> event
                // never is.
                assert!(r.latency.count() > 0, "{w}");
                let notify = r.by_op.iter().find(|o| o.op == work::Op::Notify);
                assert!(
                    notify.is_some_and(|o| o.hist.max() > 0),
                    "{w}: no sent -> event latency"
                );
            } else if w != "ready" {
                assert!(r.latency.count() > 0 && r.latency.max() > 0, "{w}");
            }
        }
        rt.shutdown_background();
    }

    #[test]
    fn json_numbers() {
        assert_eq!(json_num(1.0), "1");
        assert_eq!(json_num(0.1234), "0.123");
        assert_eq!(json_num(0.0), "0");
        assert_eq!(json_num(-0.0001), "0");
        assert_eq!(json_num(f64::NAN), "null");
    }
}
