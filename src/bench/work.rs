//! The workloads: sessions, what each keeps in flight, and what is measured.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::task::JoinSet;
use tokio::time::timeout;

use super::conn::{bad, split_reply, Conn};
use super::hist::Hist;
use super::{BenchArgs, OpReport, Report, Workload};
use crate::jute::data::{Id, ACL};
use crate::jute::proto::{
    CreateRequest, DeleteRequest, ExistsRequest, GetDataRequest, ReplyHeader, SetDataRequest,
    WatcherEvent,
};
use crate::jute::JuteField;
use crate::proto::{event, op, perms, xid, ErrorCode};
use crate::rng::Rng;

/// Everything the benchmark creates is under here.
pub const ROOT: &str = "/rzkbench";
/// The pool: `/rzkbench/n/0` .. `/rzkbench/n/<znodes-1>`.
pub const POOL: &str = "/rzkbench/n";
/// Where create-delete creates and deletes.
pub const SCRATCH: &str = "/rzkbench/cd";

/// How long one TCP connect and session handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

pub fn pool_path(i: u64) -> String {
    format!("{POOL}/{i}")
}

/// What is measured, one histogram each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    GetData,
    SetData,
    Create,
    Delete,
    /// TCP connect and session handshake, from the start of the storm.
    Connect,
    /// closeSession, from the start of the closing.
    Close,
    /// From a setData's ack to the watch event at the other session
    /// (0 when the event came first).
    Watch,
    /// From sending the setData to the watch event.
    Notify,
}

const N_OPS: usize = 8;

impl Op {
    pub const ALL: [Op; N_OPS] = [
        Op::GetData,
        Op::SetData,
        Op::Create,
        Op::Delete,
        Op::Connect,
        Op::Close,
        Op::Watch,
        Op::Notify,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::GetData => "getData",
            Op::SetData => "setData",
            Op::Create => "create",
            Op::Delete => "delete",
            Op::Connect => "connect",
            Op::Close => "closeSession",
            Op::Watch => "watch",
            Op::Notify => "notify",
        }
    }
}

#[derive(Default)]
struct Stats {
    hist: [Hist; N_OPS],
    errors: [u64; N_OPS],
    codes: BTreeMap<i32, u64>,
    /// populate: znodes that were there already.
    existed: u64,
}

impl Stats {
    fn record(&mut self, op: Op, d: Duration, err: i32) {
        if err == 0 {
            self.hist[op as usize].record_duration(d);
        } else {
            self.error(op, err);
        }
    }

    fn error(&mut self, op: Op, err: i32) {
        self.errors[op as usize] += 1;
        *self.codes.entry(err).or_default() += 1;
    }

    fn merge(&mut self, o: Stats) {
        for i in 0..N_OPS {
            self.hist[i].merge(&o.hist[i]);
            self.errors[i] += o.errors[i];
        }
        for (c, n) in o.codes {
            *self.codes.entry(c).or_default() += n;
        }
        self.existed += o.existed;
    }

    fn count(&self, op: Op) -> u64 {
        self.hist[op as usize].count()
    }
}

/// The measured interval: operations completing in it count.
#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    end: Instant,
}

impl Window {
    fn contains(&self, t: Instant) -> bool {
        t >= self.start && t < self.end
    }
}

fn open_acl() -> Vec<ACL> {
    vec![ACL {
        perms: perms::ALL,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }]
}

fn nonce() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}

// ---- one request at a time ----------------------------------------------------

/// Waits for the reply to `x`, skipping events.
async fn reply_to(c: &mut Conn, x: i32) -> io::Result<ReplyHeader> {
    loop {
        let (h, _) = c.recv().await?;
        if h.xid == xid::NOTIFICATION {
            continue;
        }
        if h.xid != x {
            return Err(bad(format!("reply xid {} for request xid {x}", h.xid)));
        }
        return Ok(h);
    }
}

/// Sends one request and returns its error code.
async fn call<T: JuteField>(c: &mut Conn, type_: i32, req: &T) -> io::Result<i32> {
    let x = c.push(type_, req);
    c.flush().await?;
    Ok(reply_to(c, x).await?.err)
}

/// closeSession, briefly waited for; errors ignored.
async fn close_quietly(mut c: Conn) {
    let x = c.push_empty(op::CLOSE_SESSION);
    let _ = timeout(Duration::from_secs(2), async {
        c.flush().await?;
        reply_to(&mut c, x).await
    })
    .await;
}

async fn connect(addr: SocketAddr, args: &BenchArgs) -> io::Result<Conn> {
    match timeout(
        CONNECT_TIMEOUT,
        Conn::connect(addr, args.session_timeout as i32),
    )
    .await
    {
        Ok(r) => r,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "no session within 15 s",
        )),
    }
}

/// Opens `n` sessions concurrently.
async fn connect_all(args: &BenchArgs, n: usize) -> Result<Vec<Conn>, String> {
    let mut set = JoinSet::new();
    for i in 0..n {
        let a = args.clone();
        set.spawn(async move { (i, connect(a.server, &a).await) });
    }
    let mut conns: Vec<Option<Conn>> = (0..n).map(|_| None).collect();
    while let Some(j) = set.join_next().await {
        let (i, r) = j.map_err(|e| format!("connect task: {e}"))?;
        conns[i] = Some(r.map_err(|e| format!("cannot open a session on {}: {e}", args.server))?);
    }
    Ok(conns.into_iter().flatten().collect())
}

// ---- pipelined, closed loop ----------------------------------------------------

#[derive(Clone, Copy)]
enum Kind {
    Read,
    Write,
    Mixed(u32),
    CreateDelete,
    Populate,
}

/// Makes the next request of a session.
struct Gen {
    kind: Kind,
    pool: Arc<Vec<String>>,
    data: Bytes,
    acl: Vec<ACL>,
    rng: Rng,
    /// create-delete: names are prefix + seq.
    prefix: String,
    seq: u64,
    pending_delete: Option<String>,
    /// populate: the next index to create, shared by all sessions.
    next_index: Arc<AtomicU64>,
    total: u64,
}

impl Gen {
    fn get(&mut self, c: &mut Conn) -> (i32, Op) {
        let i = self.rng.below(self.pool.len() as u64) as usize;
        let req = GetDataRequest {
            path: self.pool[i].clone(),
            watch: false,
        };
        (c.push(op::GET_DATA, &req), Op::GetData)
    }

    fn set(&mut self, c: &mut Conn) -> (i32, Op) {
        let i = self.rng.below(self.pool.len() as u64) as usize;
        let req = SetDataRequest {
            path: self.pool[i].clone(),
            data: Some(self.data.clone()),
            version: -1,
        };
        (c.push(op::SET_DATA, &req), Op::SetData)
    }

    fn create(&mut self, c: &mut Conn, path: String) -> i32 {
        let req = CreateRequest {
            path,
            data: Some(self.data.clone()),
            acl: self.acl.clone(),
            flags: 0,
        };
        c.push(op::CREATE, &req)
    }

    fn delete(&mut self, c: &mut Conn, path: String) -> (i32, Op) {
        let req = DeleteRequest { path, version: -1 };
        (c.push(op::DELETE, &req), Op::Delete)
    }

    fn next(&mut self, c: &mut Conn) -> Option<(i32, Op)> {
        match self.kind {
            Kind::Read => Some(self.get(c)),
            Kind::Write => Some(self.set(c)),
            Kind::Mixed(pct) => Some(if self.rng.below(100) < u64::from(pct) {
                self.set(c)
            } else {
                self.get(c)
            }),
            Kind::CreateDelete => Some(match self.pending_delete.take() {
                Some(p) => self.delete(c, p),
                None => {
                    let p = format!("{}{}", self.prefix, self.seq);
                    self.seq += 1;
                    self.pending_delete = Some(p.clone());
                    (self.create(c, p), Op::Create)
                }
            }),
            Kind::Populate => {
                let i = self.next_index.fetch_add(1, Ordering::Relaxed);
                if i >= self.total {
                    return None;
                }
                Some((self.create(c, pool_path(i)), Op::Create))
            }
        }
    }

    /// After the window: only what must still be sent (the delete of a
    /// created znode), so nothing is left behind.
    fn finish(&mut self, c: &mut Conn) -> Option<(i32, Op)> {
        let p = self.pending_delete.take()?;
        Some(self.delete(c, p))
    }
}

/// One session: keeps `inflight` requests outstanding until the window
/// ends, then drains. Replies come back in order.
async fn closed_loop(mut c: Conn, mut gen: Gen, inflight: usize, win: Window) -> io::Result<Stats> {
    let mut stats = Stats::default();
    let mut out: VecDeque<(i32, Op, Instant)> = VecDeque::with_capacity(inflight);
    let populate = matches!(gen.kind, Kind::Populate);
    let mut now = Instant::now();
    loop {
        let issuing = now < win.end;
        while out.len() < inflight {
            let next = if issuing {
                gen.next(&mut c)
            } else {
                gen.finish(&mut c)
            };
            match next {
                Some((x, op)) => out.push_back((x, op, now)),
                None => break,
            }
        }
        if out.is_empty() {
            break;
        }
        c.flush().await?;
        c.fill().await?;
        now = Instant::now();
        while let Some(frame) = c.try_frame()? {
            let (h, _) = split_reply(frame)?;
            if h.xid == xid::NOTIFICATION {
                continue;
            }
            let (x, op, t0) = out
                .pop_front()
                .ok_or_else(|| bad(format!("reply xid {} with nothing in flight", h.xid)))?;
            if h.xid != x {
                return Err(bad(format!("reply xid {} for request xid {x}", h.xid)));
            }
            let mut err = h.err;
            if populate && err == ErrorCode::NodeExists.code() {
                stats.existed += 1;
                err = 0;
            }
            if win.contains(now) {
                stats.record(op, now - t0, err);
            }
        }
    }
    close_quietly(c).await;
    Ok(stats)
}

async fn run_sessions(
    conns: Vec<Conn>,
    mut make_gen: impl FnMut(usize) -> Gen,
    inflight: usize,
    win: Window,
) -> Result<Stats, String> {
    let mut set = JoinSet::new();
    for (i, c) in conns.into_iter().enumerate() {
        set.spawn(closed_loop(c, make_gen(i), inflight, win));
    }
    let mut stats = Stats::default();
    let mut first_err = None;
    while let Some(j) = set.join_next().await {
        match j.map_err(|e| format!("session task: {e}"))? {
            Ok(s) => stats.merge(s),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    match first_err {
        Some(e) => Err(format!("a session failed: {e}")),
        None => Ok(stats),
    }
}

fn gen(kind: Kind, args: &BenchArgs, pool: &Arc<Vec<String>>, seed: u64) -> Gen {
    Gen {
        kind,
        pool: pool.clone(),
        data: Bytes::from(vec![b'x'; args.size as usize]),
        acl: open_acl(),
        rng: Rng::new(seed),
        prefix: String::new(),
        seq: 0,
        pending_delete: None,
        next_index: Arc::new(AtomicU64::new(0)),
        total: 0,
    }
}

/// Creates pool znodes `0..n` (existing ones are kept). Returns the stats
/// and the time it took.
async fn populate(args: &BenchArgs, n: u64) -> Result<(Stats, Duration), String> {
    let conns = connect_all(args, args.sessions as usize).await?;
    let next = Arc::new(AtomicU64::new(0));
    let empty = Arc::new(Vec::new());
    let t0 = Instant::now();
    let win = Window {
        start: t0,
        end: t0 + args.timeout,
    };
    let stats = run_sessions(
        conns,
        |i| Gen {
            next_index: next.clone(),
            total: n,
            ..gen(Kind::Populate, args, &empty, i as u64)
        },
        args.inflight as usize,
        win,
    )
    .await?;
    let took = t0.elapsed();
    let done = stats.count(Op::Create);
    if done != n {
        return Err(format!(
            "populate: {done} of {n} znodes created or found ({} errors{})",
            stats.errors[Op::Create as usize],
            if took >= args.timeout {
                ", out of time"
            } else {
                ""
            }
        ));
    }
    Ok((stats, took))
}

/// Creates the parents, and the pool when its last znode is missing.
async fn setup(
    args: &BenchArgs,
    needs_pool: bool,
    extra: &mut Vec<(String, f64)>,
) -> Result<(), String> {
    let ioerr = |e: io::Error| format!("setup on {}: {e}", args.server);
    let mut c = connect(args.server, args).await.map_err(ioerr)?;
    for p in [ROOT, POOL, SCRATCH] {
        let req = CreateRequest {
            path: p.into(),
            data: None,
            acl: open_acl(),
            flags: 0,
        };
        let err = call(&mut c, op::CREATE, &req).await.map_err(ioerr)?;
        if err != 0 && err != ErrorCode::NodeExists.code() {
            return Err(format!("cannot create {p}: error {err}"));
        }
    }
    let mut missing = false;
    if needs_pool {
        let last = u64::from(args.znodes) - 1;
        for i in [0, last] {
            let req = ExistsRequest {
                path: pool_path(i),
                watch: false,
            };
            let err = call(&mut c, op::EXISTS, &req).await.map_err(ioerr)?;
            missing |= err == ErrorCode::NoNode.code();
        }
    }
    close_quietly(c).await;
    if missing {
        let (stats, took) = populate(args, u64::from(args.znodes)).await?;
        extra.push((
            "setup_created".into(),
            (stats.count(Op::Create) - stats.existed) as f64,
        ));
        extra.push(("setup_s".into(), took.as_secs_f64()));
    }
    Ok(())
}

// ---- watch ---------------------------------------------------------------------

/// One watcher and one writer on one znode, one round at a time.
async fn watch_pair(
    mut w: Conn,
    mut s: Conn,
    path: String,
    data: Bytes,
    win: Window,
) -> io::Result<Stats> {
    let mut stats = Stats::default();
    while Instant::now() < win.end {
        let get = GetDataRequest {
            path: path.clone(),
            watch: true,
        };
        let err = call(&mut w, op::GET_DATA, &get).await?;
        if err != 0 {
            stats.error(Op::GetData, err);
            break;
        }
        let set = SetDataRequest {
            path: path.clone(),
            data: Some(data.clone()),
            version: -1,
        };
        let t0 = Instant::now();
        let x = s.push(op::SET_DATA, &set);
        s.flush().await?;
        let ack = async {
            let h = reply_to(&mut s, x).await?;
            Ok::<_, io::Error>((Instant::now(), h.err))
        };
        let ev = async {
            let (h, mut r) = w.recv().await?;
            let t = Instant::now();
            if h.xid != xid::NOTIFICATION {
                return Err(bad(format!(
                    "expected a watch event, got reply xid {}",
                    h.xid
                )));
            }
            let e = WatcherEvent::read(&mut r).map_err(bad)?;
            Ok((t, e))
        };
        let (ack, ev) = tokio::join!(ack, ev);
        let (t_ack, err) = ack?;
        let (t_ev, e) = ev?;
        if err != 0 {
            stats.error(Op::SetData, err);
            break;
        }
        if e.type_ != event::NODE_DATA_CHANGED || e.path != path {
            return Err(bad(format!("unexpected event {} on {}", e.type_, e.path)));
        }
        if win.contains(t_ev.max(t_ack)) {
            stats.record(Op::SetData, t_ack - t0, 0);
            stats.record(Op::Notify, t_ev - t0, 0);
            stats.record(Op::Watch, t_ev.saturating_duration_since(t_ack), 0);
        }
    }
    close_quietly(w).await;
    close_quietly(s).await;
    Ok(stats)
}

async fn watch(args: &BenchArgs, extra: &mut Vec<(String, f64)>) -> Result<Stats, String> {
    let pairs = (args.sessions as usize / 2).max(1);
    if pairs > args.znodes as usize {
        return Err(format!(
            "watch: {pairs} pairs of sessions need --znodes {pairs} or more"
        ));
    }
    let mut conns = connect_all(args, 2 * pairs).await?;
    let t0 = Instant::now();
    let win = Window {
        start: t0 + args.warmup,
        end: t0 + args.warmup + args.duration,
    };
    let cpu = sample_cpu(args.pid, win);
    let data = Bytes::from(vec![b'w'; args.size as usize]);
    let mut set = JoinSet::new();
    for i in 0..pairs {
        let s = conns.pop().expect("two per pair");
        let w = conns.pop().expect("two per pair");
        set.spawn(watch_pair(w, s, pool_path(i as u64), data.clone(), win));
    }
    let mut stats = Stats::default();
    while let Some(j) = set.join_next().await {
        let s = j
            .map_err(|e| format!("watch task: {e}"))?
            .map_err(|e| format!("a watch pair failed: {e}"))?;
        stats.merge(s);
    }
    cpu_figures(cpu, extra).await;
    Ok(stats)
}

// ---- connect storm -------------------------------------------------------------

/// Opens `count` sessions at once, then closes them all at once. Returns
/// the time until the last session was open.
async fn storm_round(args: &BenchArgs, stats: &mut Stats) -> Result<Duration, String> {
    let loss = ErrorCode::ConnectionLoss.code();
    let t0 = Instant::now();
    let mut set = JoinSet::new();
    for _ in 0..args.count {
        let a = args.clone();
        set.spawn(async move {
            let r = connect(a.server, &a).await;
            (r, Instant::now())
        });
    }
    let mut conns = Vec::with_capacity(args.count as usize);
    let mut last = t0;
    while let Some(j) = set.join_next().await {
        let (r, t) = j.map_err(|e| format!("connect task: {e}"))?;
        match r {
            Ok(c) => {
                stats.record(Op::Connect, t - t0, 0);
                last = last.max(t);
                conns.push(c);
            }
            Err(_) => stats.error(Op::Connect, loss),
        }
    }
    let opened = last - t0;
    let t1 = Instant::now();
    let mut closing = JoinSet::new();
    for mut c in conns {
        closing.spawn(async move {
            let x = c.push_empty(op::CLOSE_SESSION);
            let r = timeout(CONNECT_TIMEOUT, async {
                c.flush().await?;
                reply_to(&mut c, x).await
            })
            .await;
            (r, Instant::now())
        });
    }
    while let Some(j) = closing.join_next().await {
        match j.map_err(|e| format!("close task: {e}"))? {
            (Ok(Ok(h)), t) => stats.record(Op::Close, t - t1, h.err),
            _ => stats.error(Op::Close, loss),
        }
    }
    Ok(opened)
}

async fn storm(
    args: &BenchArgs,
    extra: &mut Vec<(String, f64)>,
) -> Result<(Stats, Duration), String> {
    if !args.warmup.is_zero() {
        storm_round(args, &mut Stats::default()).await?;
    }
    let mut stats = Stats::default();
    let t0 = Instant::now();
    let mut opening = Duration::ZERO;
    let mut worst = Duration::ZERO;
    let mut rounds = 0u32;
    while rounds == 0 || (t0.elapsed() < args.duration && rounds < 1_000) {
        let d = storm_round(args, &mut stats).await?;
        opening += d;
        worst = worst.max(d);
        rounds += 1;
    }
    extra.push(("rounds".into(), f64::from(rounds)));
    extra.push((
        "storm_open_ms_mean".into(),
        opening.as_secs_f64() * 1e3 / f64::from(rounds),
    ));
    extra.push(("storm_open_ms_max".into(), worst.as_secs_f64() * 1e3));
    Ok((stats, opening))
}

// ---- ready ---------------------------------------------------------------------

/// Tries to connect and read (or, with `write`, set) the pool's first
/// znode until it works.
async fn ready(
    args: &BenchArgs,
    write: bool,
    extra: &mut Vec<(String, f64)>,
) -> Result<Duration, String> {
    let t0 = Instant::now();
    let deadline = t0 + args.timeout;
    let path = pool_path(0);
    let mut attempts = 0u32;
    let mut last: String;
    loop {
        attempts += 1;
        let attempt = timeout(Duration::from_secs(2), async {
            let mut c = Conn::connect(args.server, args.session_timeout as i32).await?;
            let err = if write {
                let req = SetDataRequest {
                    path: path.clone(),
                    data: Some(vec![b'r'; args.size as usize].into()),
                    version: -1,
                };
                call(&mut c, op::SET_DATA, &req).await?
            } else {
                let req = GetDataRequest {
                    path: path.clone(),
                    watch: false,
                };
                call(&mut c, op::GET_DATA, &req).await?
            };
            Ok::<_, io::Error>((err, c))
        })
        .await;
        match attempt {
            Ok(Ok((0, c))) => {
                let took = t0.elapsed();
                close_quietly(c).await;
                extra.push(("ready_ms".into(), took.as_secs_f64() * 1e3));
                extra.push(("attempts".into(), f64::from(attempts)));
                return Ok(took);
            }
            Ok(Ok((err, c))) => {
                close_quietly(c).await;
                last = format!(
                    "{} {path}: error {err}",
                    if write { "setData" } else { "getData" }
                );
            }
            Ok(Err(e)) => last = e.to_string(),
            Err(_) => last = "no answer within 2 s".into(),
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "not serving after {:.1} s ({attempts} attempts; last: {last})",
                args.timeout.as_secs_f64()
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

// ---- CPU over the window ------------------------------------------------------

/// Samples the client's and the server's CPU time at the window's start
/// and end, in the background; adds the cores each used on average.
fn sample_cpu(pid: Option<u32>, win: Window) -> tokio::task::JoinHandle<Vec<(String, f64)>> {
    tokio::spawn(async move {
        let me = std::process::id();
        let take = || (super::cpu_time(me), pid.and_then(super::cpu_time));
        tokio::time::sleep_until(win.start.into()).await;
        let (c0, s0) = take();
        let t0 = Instant::now();
        tokio::time::sleep_until(win.end.into()).await;
        let (c1, s1) = take();
        let secs = t0.elapsed().as_secs_f64();
        let mut out = Vec::new();
        if secs > 0.0 {
            if let (Some(a), Some(b)) = (c0, c1) {
                out.push(("client_cpu_cores".into(), (b - a).as_secs_f64() / secs));
            }
            if let (Some(a), Some(b)) = (s0, s1) {
                out.push(("server_cpu_cores".into(), (b - a).as_secs_f64() / secs));
            }
        }
        out
    })
}

async fn cpu_figures(
    h: tokio::task::JoinHandle<Vec<(String, f64)>>,
    extra: &mut Vec<(String, f64)>,
) {
    if let Ok(v) = h.await {
        extra.extend(v);
    }
}

// ---- the run -------------------------------------------------------------------

fn report(
    args: &BenchArgs,
    stats: Stats,
    elapsed: Duration,
    headline: &[Op],
    extra: Vec<(String, f64)>,
) -> Report {
    let mut latency = Hist::new();
    let mut ops = 0;
    for &o in headline {
        latency.merge(&stats.hist[o as usize]);
        ops += stats.count(o);
    }
    let errors = stats.errors.iter().sum();
    let by_op = Op::ALL
        .iter()
        .filter(|&&o| stats.count(o) > 0 || stats.errors[o as usize] > 0)
        .map(|&o| OpReport {
            op: o,
            hist: stats.hist[o as usize].clone(),
            errors: stats.errors[o as usize],
        })
        .collect();
    Report {
        args: args.clone(),
        elapsed,
        ops,
        errors,
        error_codes: stats.codes.into_iter().collect(),
        latency,
        by_op,
        extra,
        rss_kb: None,
    }
}

pub async fn run(args: &BenchArgs) -> Result<Report, String> {
    let mut extra = Vec::new();
    let w = args.workload;
    match w {
        Workload::Ready | Workload::WriteReady => {
            let took = ready(args, w == Workload::WriteReady, &mut extra).await?;
            let mut r = report(args, Stats::default(), took, &[], extra);
            r.ops = 1;
            Ok(r)
        }
        Workload::Populate => {
            setup(args, false, &mut extra).await?;
            let (stats, took) = populate(args, u64::from(args.znodes)).await?;
            extra.push((
                "created".into(),
                (stats.count(Op::Create) - stats.existed) as f64,
            ));
            extra.push(("existed".into(), stats.existed as f64));
            Ok(report(args, stats, took, &[Op::Create], extra))
        }
        Workload::Watch => {
            setup(args, true, &mut extra).await?;
            let stats = watch(args, &mut extra).await?;
            Ok(report(args, stats, args.duration, &[Op::Watch], extra))
        }
        Workload::ConnectStorm => {
            setup(args, false, &mut extra).await?;
            let (stats, opening) = storm(args, &mut extra).await?;
            Ok(report(args, stats, opening, &[Op::Connect], extra))
        }
        Workload::Read | Workload::Write | Workload::Mixed | Workload::CreateDelete => {
            let (kind, headline): (Kind, &[Op]) = match w {
                Workload::Read => (Kind::Read, &[Op::GetData]),
                Workload::Write => (Kind::Write, &[Op::SetData]),
                Workload::Mixed => (Kind::Mixed(args.write_percent), &[Op::GetData, Op::SetData]),
                _ => (Kind::CreateDelete, &[Op::Create, Op::Delete]),
            };
            setup(args, !matches!(kind, Kind::CreateDelete), &mut extra).await?;
            let pool = Arc::new(if matches!(kind, Kind::CreateDelete) {
                Vec::new()
            } else {
                (0..u64::from(args.znodes)).map(pool_path).collect()
            });
            let conns = connect_all(args, args.sessions as usize).await?;
            let t0 = Instant::now();
            let win = Window {
                start: t0 + args.warmup,
                end: t0 + args.warmup + args.duration,
            };
            let cpu = sample_cpu(args.pid, win);
            let seed = nonce();
            let run_id = format!("{SCRATCH}/{:x}-", seed & 0xffff_ffff);
            let stats = run_sessions(
                conns,
                |i| Gen {
                    prefix: format!("{run_id}{i}-"),
                    ..gen(kind, args, &pool, seed ^ (i as u64).wrapping_mul(0x9E37))
                },
                args.inflight as usize,
                win,
            )
            .await?;
            cpu_figures(cpu, &mut extra).await;
            Ok(report(args, stats, args.duration, headline, extra))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_half_open() {
        let t = Instant::now();
        let w = Window {
            start: t,
            end: t + Duration::from_secs(1),
        };
        assert!(w.contains(t));
        assert!(!w.contains(t + Duration::from_secs(1)));
    }

    #[test]
    fn stats_merge_and_errors() {
        let mut a = Stats::default();
        a.record(Op::GetData, Duration::from_micros(100), 0);
        a.record(Op::GetData, Duration::from_micros(100), -101);
        let mut b = Stats::default();
        b.record(Op::SetData, Duration::from_micros(300), 0);
        b.record(Op::SetData, Duration::from_micros(300), -101);
        a.merge(b);
        assert_eq!(a.count(Op::GetData), 1);
        assert_eq!(a.count(Op::SetData), 1);
        assert_eq!(a.errors[Op::GetData as usize], 1);
        assert_eq!(a.codes.get(&-101), Some(&2));
    }
}
