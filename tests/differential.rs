//! Differential test: the same seeded random operations, issued one at a
//! time from several sessions, against Java ZooKeeper 3.8 and rzk; every
//! reply (error, zxid, body) and every session's watch events must match,
//! with times and session ids mapped aside.
//!
//! Needs Debian's `zookeeper` package (scripts/install-deps.sh). Run with
//!   DIFF_SEED=7 DIFF_OPS=20000 cargo test --release --test differential -- --ignored
//! (scripts/test.sh runs a few thousand ops).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rzk::client::{Client, Reply};
use rzk::jute::data::{Id, Stat, ACL};
use rzk::jute::proto::*;
use rzk::jute::{JuteField, Reader};
use rzk::proto::{op, perms};

// ---- servers -----------------------------------------------------------------

struct ServerProc {
    child: Child,
    addr: SocketAddr,
    _dir: PathBuf,
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn four_letter(addr: SocketAddr, cmd: &str) -> String {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = s.write_all(cmd.as_bytes());
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// Serving clients? (Java answers `ruok` before it is.)
fn serving(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"srvr").is_err() {
        return false;
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.contains("Mode: ")
}

fn start(kind: &str, base: &Path) -> ServerProc {
    let dir = base.join(kind);
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let port = free_port();
    let cfg = format!(
        "tickTime=200\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
         maxSessionTimeout=60000\n4lw.commands.whitelist=*\nextendedTypesEnabled=true\n\
         admin.enableServer=false\n",
        dir.join("data").display()
    );
    std::fs::write(dir.join("zoo.cfg"), cfg).unwrap();
    let log = std::fs::File::create(dir.join("server.log")).unwrap();
    let mut cmd = if kind == "java" {
        let mut c = Command::new("java");
        c.args([
            "-Xmx512m",
            // Keep Java's container manager out of the way (rzk's uses the same key below).
            "-Dznode.container.checkIntervalMs=3600000",
            "-Dzookeeper.admin.enableServer=false",
            &format!(
                "-Dorg.slf4j.simpleLogger.logFile={}",
                dir.join("java.log").display()
            ),
            "-cp",
            "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar",
            "org.apache.zookeeper.server.ZooKeeperServerMain",
        ]);
        c.arg(dir.join("zoo.cfg"));
        c
    } else {
        let mut c = Command::new(env!("CARGO_BIN_EXE_rzk"));
        c.arg("server").arg(dir.join("zoo.cfg"));
        c
    };
    let child = cmd
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn server");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut srv = ServerProc {
        child,
        addr,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !serving(addr) {
        if let Ok(Some(st)) = srv.child.try_wait() {
            panic!("{kind} server exited early: {st}");
        }
        assert!(Instant::now() < deadline, "{kind} server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    srv
}

// ---- randomness ----------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

// ---- requests ------------------------------------------------------------------

/// A request as raw bytes so both servers get exactly the same frame.
struct Raw(Bytes);
impl JuteField for Raw {
    fn read(_: &mut Reader) -> Result<Self, rzk::jute::DecodeError> {
        unreachable!()
    }
    fn write(&self, w: &mut BytesMut) {
        w.extend_from_slice(&self.0);
    }
}

fn enc<T: JuteField>(r: &T) -> Bytes {
    rzk::jute::encode(r)
}

fn digest_acl(user: &str, pw: &str, p: i32) -> ACL {
    ACL {
        perms: p,
        id: Id {
            scheme: "digest".into(),
            id: rzk::acl::generate_digest(&format!("{user}:{pw}")),
        },
    }
}

struct Gen {
    rng: Rng,
    known: Vec<String>,
}

impl Gen {
    fn path(&mut self) -> String {
        if !self.known.is_empty() && self.rng.chance(40) {
            return self.rng.pick(&self.known).clone();
        }
        let depth = 1 + self.rng.below(3);
        let mut p = String::from("/d");
        for _ in 0..depth {
            p.push('/');
            let name: &&str = self.rng.pick(&["a", "b", "c"]);
            p.push_str(name);
        }
        if self.rng.chance(3) {
            return self
                .rng
                .pick(&[
                    "/d/",
                    "d/a",
                    "/d//a",
                    "/d/./a",
                    "/",
                    "/zookeeper",
                    "/zookeeper/config",
                ])
                .to_string();
        }
        p
    }

    fn acl(&mut self) -> Vec<ACL> {
        let open = rzk::acl::open_acl_unsafe();
        match self.rng.below(12) {
            0 => vec![digest_acl("u1", "p1", perms::ALL)],
            1 => vec![
                ACL {
                    perms: perms::READ,
                    id: Id {
                        scheme: "world".into(),
                        id: "anyone".into(),
                    },
                },
                digest_acl("u2", "p2", perms::ALL),
            ],
            2 => vec![ACL {
                perms: perms::ALL,
                id: Id {
                    scheme: "auth".into(),
                    id: "".into(),
                },
            }],
            3 => vec![ACL {
                perms: perms::ALL,
                id: Id {
                    scheme: "ip".into(),
                    id: "127.0.0.1".into(),
                },
            }],
            4 => vec![ACL {
                perms: perms::CREATE | perms::READ,
                id: Id {
                    scheme: "world".into(),
                    id: "anyone".into(),
                },
            }],
            5 => vec![],
            _ => open,
        }
    }

    fn data(&mut self) -> Option<Bytes> {
        match self.rng.below(6) {
            0 => None,
            1 => Some(Bytes::new()),
            _ => Some(Bytes::from(format!("v{}", self.rng.below(1000)))),
        }
    }

    fn version(&mut self) -> i32 {
        if self.rng.chance(60) {
            -1
        } else {
            self.rng.below(3) as i32
        }
    }

    fn create(&mut self) -> (i32, Bytes) {
        let path = self.path();
        let data = self.data();
        let acl = self.acl();
        match self.rng.below(10) {
            0 => (
                op::CREATE_CONTAINER,
                enc(&CreateRequest {
                    path,
                    data,
                    acl,
                    flags: 4,
                }),
            ),
            1 => {
                let ttl = if self.rng.chance(90) { 3_600_000 } else { 0 };
                (
                    op::CREATE_TTL,
                    enc(&CreateTTLRequest {
                        path,
                        data,
                        acl,
                        flags: 5 + self.rng.below(2) as i32,
                        ttl,
                    }),
                )
            }
            _ => {
                let t = *self.rng.pick(&[op::CREATE, op::CREATE2]);
                let flags = self.rng.below(4) as i32;
                (
                    t,
                    enc(&CreateRequest {
                        path,
                        data,
                        acl,
                        flags,
                    }),
                )
            }
        }
    }

    fn write_op(&mut self) -> (i32, Bytes) {
        match self.rng.below(5) {
            0 | 1 => self.create(),
            2 => (
                op::DELETE,
                enc(&DeleteRequest {
                    path: self.path(),
                    version: self.version(),
                }),
            ),
            3 => {
                let (path, data, version) = (self.path(), self.data(), self.version());
                (
                    op::SET_DATA,
                    enc(&SetDataRequest {
                        path,
                        data,
                        version,
                    }),
                )
            }
            _ => (
                op::CHECK,
                enc(&CheckVersionRequest {
                    path: self.path(),
                    version: self.version(),
                }),
            ),
        }
    }

    fn multi(&mut self, read: bool) -> Bytes {
        let mut w = BytesMut::new();
        for _ in 0..1 + self.rng.below(4) {
            let (t, body) = if read {
                let path = self.path();
                if self.rng.chance(50) {
                    (op::GET_DATA, enc(&GetDataRequest { path, watch: false }))
                } else {
                    (
                        op::GET_CHILDREN,
                        enc(&GetChildrenRequest { path, watch: false }),
                    )
                }
            } else {
                self.write_op()
            };
            MultiHeader {
                type_: t,
                done: false,
                err: -1,
            }
            .write(&mut w);
            w.extend_from_slice(&body);
        }
        MultiHeader {
            type_: -1,
            done: true,
            err: -1,
        }
        .write(&mut w);
        w.freeze()
    }
}

// ---- describing replies ----------------------------------------------------------

struct Sessions {
    ids: HashMap<i64, usize>,
}

impl Sessions {
    fn owner(&self, id: i64) -> String {
        if id == 0 {
            "0".into()
        } else {
            self.ids
                .get(&id)
                .map_or(format!("?{id:x}"), |k| format!("S{k}"))
        }
    }
    /// Times are left out: they differ between servers by nature.
    fn stat(&self, s: &Stat) -> String {
        format!(
            "czxid={} mzxid={} pzxid={} v={} cv={} av={} owner={} len={} nc={}",
            s.czxid,
            s.mzxid,
            s.pzxid,
            s.version,
            s.cversion,
            s.aversion,
            self.owner(s.ephemeral_owner),
            s.data_length,
            s.num_children
        )
    }
}

fn describe_multi(body: Bytes, s: &Sessions) -> String {
    let mut r = Reader::new(body);
    let mut out = vec![];
    loop {
        let Ok(h) = MultiHeader::read(&mut r) else {
            return format!("{out:?} <truncated>");
        };
        if h.done {
            return format!("{out:?}");
        }
        let item = match h.type_ {
            1 => CreateResponse::read(&mut r).map(|c| c.path),
            15 => Create2Response::read(&mut r).map(|c| format!("{} {}", c.path, s.stat(&c.stat))),
            5 => SetDataResponse::read(&mut r).map(|c| s.stat(&c.stat)),
            4 => GetDataResponse::read(&mut r).map(|c| format!("{:?} {}", c.data, s.stat(&c.stat))),
            8 => GetChildrenResponse::read(&mut r).map(|c| format!("{:?}", c.children)),
            -1 => ErrorResponse::read(&mut r).map(|c| format!("err {}", c.err)),
            _ => Ok(String::new()),
        };
        out.push(format!(
            "{}/{}: {}",
            h.type_,
            h.err,
            item.unwrap_or_else(|e| e.to_string())
        ));
    }
}

fn describe(type_: i32, reply: &Reply, s: &Sessions) -> String {
    let h = &reply.header;
    let head = format!("xid={} zxid={} err={}", h.xid, h.zxid, h.err);
    if h.err != 0 {
        return head;
    }
    let b = reply.body.clone();
    fn d<T: JuteField>(b: Bytes) -> Result<T, String> {
        rzk::jute::decode(b).map_err(|e| e.to_string())
    }
    let body = match type_ {
        op::CREATE => d::<CreateResponse>(b).map(|c| c.path),
        op::CREATE2 | op::CREATE_TTL | op::CREATE_CONTAINER => {
            d::<Create2Response>(b).map(|c| format!("{} {}", c.path, s.stat(&c.stat)))
        }
        op::SET_DATA | op::CHECK | op::EXISTS => d::<SetDataResponse>(b).map(|c| s.stat(&c.stat)),
        op::SET_ACL => d::<SetACLResponse>(b).map(|c| s.stat(&c.stat)),
        op::GET_DATA => {
            d::<GetDataResponse>(b).map(|c| format!("{:?} {}", c.data, s.stat(&c.stat)))
        }
        // Children come in Java's HashSet order, which rzk reproduces.
        op::GET_CHILDREN => d::<GetChildrenResponse>(b).map(|c| format!("{:?}", c.children)),
        op::GET_CHILDREN2 => {
            d::<GetChildren2Response>(b).map(|c| format!("{:?} {}", c.children, s.stat(&c.stat)))
        }
        op::GET_ACL => d::<GetACLResponse>(b).map(|c| format!("{:?} {}", c.acl, s.stat(&c.stat))),
        op::GET_ALL_CHILDREN_NUMBER => {
            d::<GetAllChildrenNumberResponse>(b).map(|c| c.total_number.to_string())
        }
        // Java's HashSet order, which rzk reproduces.
        op::GET_EPHEMERALS => d::<GetEphemeralsResponse>(b).map(|c| format!("{:?}", c.ephemerals)),
        op::WHO_AM_I => d::<WhoAmIResponse>(b).map(|c| format!("{:?}", c.client_info)),
        op::SYNC => d::<SyncResponse>(b).map(|c| c.path),
        op::MULTI | op::MULTI_READ => Ok(describe_multi(b, s)),
        _ => Ok(format!("{:?}", &b[..])),
    };
    format!(
        "{head} {}",
        body.unwrap_or_else(|e| format!("<undecodable: {e}>"))
    )
}

/// A session's events so far, in order.
fn canonical_events(c: &mut Client) -> Vec<String> {
    c.events
        .drain(..)
        .map(|e| format!("{} {} {}", e.type_, e.state, e.path))
        .collect()
}

/// Appends one replayable line to $DIFF_LOG, if set.
fn log_line(line: &str) {
    if let Ok(path) = std::env::var("DIFF_LOG") {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        writeln!(f, "{line}").unwrap();
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// ---- the run -------------------------------------------------------------------------

struct Pair {
    java: Client,
    rzk: Client,
}

fn env_num(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
#[ignore = "needs Java ZooKeeper; run by scripts/test.sh"]
fn random_operations_match_java() {
    let seed = env_num("DIFF_SEED", 1);
    let ops = env_num("DIFF_OPS", 3000);
    let n_sessions = env_num("DIFF_SESSIONS", 4) as usize;
    let base = std::env::temp_dir().join(format!("rzk-diff-{}-{seed}", std::process::id()));
    let java = start("java", &base);
    let rzk = start("rzk", &base);
    eprintln!(
        "differential: seed={seed} ops={ops} sessions={n_sessions} java={} rzk={}",
        java.addr, rzk.addr
    );

    let mut sessions = Sessions {
        ids: HashMap::new(),
    };
    let mut next_logical = 0usize;
    let mut connect = |sessions: &mut Sessions, timeout: i32| -> Pair {
        let j = Client::connect(java.addr, timeout).expect("java connect");
        let r = Client::connect(rzk.addr, timeout).expect("rzk connect");
        assert_eq!(j.timeout_ms, r.timeout_ms, "negotiated timeouts differ");
        sessions.ids.insert(j.session_id, next_logical);
        sessions.ids.insert(r.session_id, next_logical);
        next_logical += 1;
        Pair { java: j, rzk: r }
    };
    let mut pairs: Vec<Pair> = (0..n_sessions)
        .map(|_| connect(&mut sessions, 30000))
        .collect();
    let mut g = Gen {
        rng: Rng(seed),
        known: vec![],
    };
    let mut step = 0u64;

    let (java_addr, rzk_addr) = (java.addr, rzk.addr);
    let compare = |step: u64, what: &str, j: String, r: String| {
        if j != r {
            // Both servers' watch tables help explain an event mismatch.
            for (name, addr) in [("java", java_addr), ("rzk", rzk_addr)] {
                eprintln!(
                    "--- {name} wchc:\n{}\n{}\n{}",
                    four_letter(addr, "wchc"),
                    four_letter(addr, "wchp"),
                    four_letter(addr, "wchs")
                );
            }
            panic!("seed={seed} step={step}: {what}\n java: {j}\n  rzk: {r}");
        }
    };

    // A fixed starting point every path hangs under.
    for p in pairs.iter_mut().take(1) {
        let req = Raw(enc(&CreateRequest {
            path: "/d".into(),
            data: None,
            acl: rzk::acl::open_acl_unsafe(),
            flags: 0,
        }));
        let (a, b) = (
            p.java.call(op::CREATE, &req).unwrap(),
            p.rzk.call(op::CREATE, &req).unwrap(),
        );
        compare(
            0,
            "create /d",
            describe(op::CREATE, &a, &sessions),
            describe(op::CREATE, &b, &sessions),
        );
    }

    while step < ops {
        step += 1;
        let k = g.rng.below(pairs.len());
        let choice = g.rng.below(100);
        let (type_, body): (i32, Bytes) = match choice {
            0..=24 => g.create(),
            25..=31 => (
                op::DELETE,
                enc(&DeleteRequest {
                    path: g.path(),
                    version: g.version(),
                }),
            ),
            32..=39 => {
                let (path, data, version) = (g.path(), g.data(), g.version());
                (
                    op::SET_DATA,
                    enc(&SetDataRequest {
                        path,
                        data,
                        version,
                    }),
                )
            }
            40..=44 => (
                op::EXISTS,
                enc(&ExistsRequest {
                    path: g.path(),
                    watch: g.rng.chance(50),
                }),
            ),
            45..=49 => (
                op::GET_DATA,
                enc(&GetDataRequest {
                    path: g.path(),
                    watch: g.rng.chance(50),
                }),
            ),
            50..=53 => (
                op::GET_CHILDREN,
                enc(&GetChildrenRequest {
                    path: g.path(),
                    watch: g.rng.chance(50),
                }),
            ),
            54..=56 => (
                op::GET_CHILDREN2,
                enc(&GetChildren2Request {
                    path: g.path(),
                    watch: g.rng.chance(50),
                }),
            ),
            57..=58 => (op::GET_ACL, enc(&GetACLRequest { path: g.path() })),
            59..=61 => {
                let (path, acl, version) = (g.path(), g.acl(), g.version());
                (op::SET_ACL, enc(&SetACLRequest { path, acl, version }))
            }
            // A lone check (outside multi) crashes Java 3.8's reply path, so
            // it is only exercised inside multi.
            64..=69 => (op::MULTI, g.multi(false)),
            70..=71 => (op::MULTI_READ, g.multi(true)),
            72 => (op::SYNC, enc(&SyncRequest { path: g.path() })),
            73..=75 => (
                op::ADD_WATCH,
                enc(&AddWatchRequest {
                    path: g.path(),
                    mode: g.rng.below(2) as i32,
                }),
            ),
            76..=77 => (
                op::CHECK_WATCHES,
                enc(&CheckWatchesRequest {
                    path: g.path(),
                    type_: 1 + g.rng.below(3) as i32,
                }),
            ),
            78..=79 => (
                op::REMOVE_WATCHES,
                enc(&RemoveWatchesRequest {
                    path: g.path(),
                    type_: 1 + g.rng.below(3) as i32,
                }),
            ),
            80..=81 => (
                op::GET_EPHEMERALS,
                enc(&GetEphemeralsRequest {
                    prefix_path: g.rng.pick(&["/", "/d/a", ""]).to_string(),
                }),
            ),
            82..=83 => (
                op::GET_ALL_CHILDREN_NUMBER,
                enc(&GetAllChildrenNumberRequest { path: g.path() }),
            ),
            84 => (op::WHO_AM_I, Bytes::new()),
            85..=87 => {
                let (u, p) = *g.rng.pick(&[("u1", "p1"), ("u2", "p2")]);
                let auth = AuthPacket {
                    type_: 0,
                    scheme: "digest".into(),
                    auth: Some(Bytes::from(format!("{u}:{p}"))),
                };
                log_line(&format!("{step} {k} auth {}", hex(&enc(&auth))));
                let pr = &mut pairs[k];
                let (a, b) = (
                    pr.java.call_xid(-4, op::AUTH, &auth).unwrap(),
                    pr.rzk.call_xid(-4, op::AUTH, &auth).unwrap(),
                );
                compare(
                    step,
                    "auth",
                    describe(op::AUTH, &a, &sessions),
                    describe(op::AUTH, &b, &sessions),
                );
                continue;
            }
            88 => {
                // Reconnect the same session on a new connection and re-register watches.
                let pr = &mut pairs[k];
                let zx = pr.java.last_zxid;
                let mut j = Client::attach(
                    java.addr,
                    pr.java.session_id,
                    pr.java.passwd.clone(),
                    zx,
                    30000,
                )
                .unwrap();
                let mut r = Client::attach(
                    rzk.addr,
                    pr.rzk.session_id,
                    pr.rzk.passwd.clone(),
                    zx,
                    30000,
                )
                .unwrap();
                assert_eq!(j.timeout_ms, r.timeout_ms);
                let sw = SetWatches2 {
                    relative_zxid: zx.saturating_sub(g.rng.below(20) as i64),
                    data_watches: vec![g.path(), g.path()],
                    exist_watches: vec![g.path()],
                    child_watches: vec![g.path()],
                    persistent_watches: vec![],
                    persistent_recursive_watches: if g.rng.chance(30) {
                        vec![g.path()]
                    } else {
                        vec![]
                    },
                };
                log_line(&format!("{step} {k} reconnect {}", hex(&enc(&sw))));
                let (a, b) = (
                    j.call(op::SET_WATCHES2, &sw).unwrap(),
                    r.call(op::SET_WATCHES2, &sw).unwrap(),
                );
                compare(
                    step,
                    "setWatches2",
                    describe(op::SET_WATCHES2, &a, &sessions),
                    describe(op::SET_WATCHES2, &b, &sessions),
                );
                if std::env::var("DIFF_TRACE").is_ok() {
                    eprintln!("{step} S{k} reconnect {sw:?}");
                }
                // The old connection's events up to now must have matched.
                let (mut oj, mut or) = (
                    std::mem::replace(&mut pr.java, j),
                    std::mem::replace(&mut pr.rzk, r),
                );
                compare(
                    step,
                    "events before reconnect",
                    format!("{:?}", canonical_events(&mut oj)),
                    format!("{:?}", canonical_events(&mut or)),
                );
                compare(
                    step,
                    "events after setWatches",
                    format!("{:?}", canonical_events(&mut pr.java)),
                    format!("{:?}", canonical_events(&mut pr.rzk)),
                );
                continue;
            }
            89..=90 => {
                // Close the session and open a fresh one in its slot.
                log_line(&format!("{step} {k} replace"));
                let mut pr = connect(&mut sessions, 30000);
                std::mem::swap(&mut pr, &mut pairs[k]);
                if std::env::var("DIFF_TRACE").is_ok() {
                    eprintln!("{step} S{k} closed and replaced");
                }
                let (mut oj, mut or) = (pr.java, pr.rzk);
                let (a, b) = (
                    oj.call_empty(op::CLOSE_SESSION).unwrap(),
                    or.call_empty(op::CLOSE_SESSION).unwrap(),
                );
                compare(
                    step,
                    "closeSession",
                    describe(op::CLOSE_SESSION, &a, &sessions),
                    describe(op::CLOSE_SESSION, &b, &sessions),
                );
                compare(
                    step,
                    "events of closed session",
                    format!("{:?}", canonical_events(&mut oj)),
                    format!("{:?}", canonical_events(&mut or)),
                );
                continue;
            }
            91 if g.rng.chance(25) => {
                // Let a session expire: drop its connections and wait it out.
                log_line(&format!("{step} {k} expire"));
                let mut pr = connect(&mut sessions, 400);
                // Give the short-lived session something to lose.
                let req = Raw(enc(&CreateRequest {
                    path: format!("/d/x{step}"),
                    data: None,
                    acl: rzk::acl::open_acl_unsafe(),
                    flags: 1,
                }));
                let (a, b) = (
                    pr.java.call(op::CREATE, &req).unwrap(),
                    pr.rzk.call(op::CREATE, &req).unwrap(),
                );
                compare(
                    step,
                    "ephemeral of expiring session",
                    describe(op::CREATE, &a, &sessions),
                    describe(op::CREATE, &b, &sessions),
                );
                drop(pr);
                std::thread::sleep(Duration::from_millis(1500));
                continue;
            }
            // deleteContainer is an internal opcode, but Java takes it from
            // clients too (and fails it: the whole packet becomes the path).
            92 if g.rng.chance(30) => (op::DELETE_CONTAINER, Bytes::from(g.path().into_bytes())),
            _ => (
                op::GET_DATA,
                enc(&GetDataRequest {
                    path: g.path(),
                    watch: false,
                }),
            ),
        };
        log_line(&format!("{step} {k} op{type_} {}", hex(&body)));
        let pr = &mut pairs[k];
        let req = Raw(body);
        let (a, b) = (
            pr.java.call(type_, &req).unwrap(),
            pr.rzk.call(type_, &req).unwrap(),
        );
        let (dj, dr) = (
            describe(type_, &a, &sessions),
            describe(type_, &b, &sessions),
        );
        compare(step, &format!("op {} ({type_})", op::name(type_)), dj, dr);
        // Every event for this session from earlier transactions arrived before this reply.
        compare(
            step,
            &format!("events of S{k}"),
            format!("{:?}", canonical_events(&mut pr.java)),
            format!("{:?}", canonical_events(&mut pr.rzk)),
        );
        if std::env::var("DIFF_TRACE").is_ok() {
            eprintln!(
                "{step} S{k} {} {:?} {}",
                op::name(type_),
                String::from_utf8_lossy(&req.0),
                describe(type_, &a, &sessions)
            );
        }
        // Remember created paths so later ops hit them.
        if a.err() == 0
            && matches!(
                type_,
                op::CREATE | op::CREATE2 | op::CREATE_TTL | op::CREATE_CONTAINER
            )
        {
            let p = if type_ == op::CREATE {
                rzk::jute::decode::<CreateResponse>(a.body.clone())
                    .unwrap()
                    .path
            } else {
                rzk::jute::decode::<Create2Response>(a.body.clone())
                    .unwrap()
                    .path
            };
            if !g.known.contains(&p) && g.known.len() < 200 {
                g.known.push(p);
            }
        }
        if step.is_multiple_of(200) {
            for pr in pairs.iter_mut() {
                compare(
                    step,
                    "ping",
                    pr.java.ping().map(|r| r.header.zxid).unwrap().to_string(),
                    pr.rzk.ping().map(|r| r.header.zxid).unwrap().to_string(),
                );
            }
        }
    }
    // Flush: a reply to each session comes after every event queued for it.
    for (i, pr) in pairs.iter_mut().enumerate() {
        let req = Raw(enc(&SyncRequest { path: "/".into() }));
        pr.java.call(op::SYNC, &req).unwrap();
        pr.rzk.call(op::SYNC, &req).unwrap();
        compare(
            step,
            &format!("events of session {i}"),
            format!("{:?}", canonical_events(&mut pr.java)),
            format!("{:?}", canonical_events(&mut pr.rzk)),
        );
    }
    eprintln!("differential: {ops} operations matched");
}
