//! `rzk dump-tree <host:port> [--no-stat-times] [--auth scheme:credentials]`:
//! every node a server serves, one line each, depth first from `/` with
//! children sorted (by their UTF-8 bytes), so that two servers' trees can
//! be compared with `diff`.
//!
//! A line is space-separated `key=value` fields after the path:
//!
//! ```text
//! /a data="hello" acl=[31:world:anyone] czxid=0x2 mzxid=0x2 ctime=1700000000000 mtime=1700000000000 version=0 cversion=0 aversion=0 ephemeralOwner=0x0 dataLength=5 numChildren=1 pzxid=0x3
//! ```
//!
//! - The path, ACL schemes and ids, and data are escaped so that a line
//!   holds no spaces or control characters: printable ASCII stays as is
//!   except `\`, `"`, `,`, `[`, `]` and space, which, like every other
//!   byte (UTF-8 included), are written `\xNN`.
//! - `data` is `null` for null data, else the escaped bytes in double
//!   quotes (`data=""` for empty data).
//! - `acl` is the getACL list in server order, `perms:scheme:id` each,
//!   comma-separated in brackets.
//! - Then every Stat field in the Stat record's order: zxids and the
//!   ephemeral owner in hex, the rest decimal, times in milliseconds.
//!   `--no-stat-times` leaves out `ctime` and `mtime`.
//! - What the session may not read is marked instead: `data=!NoAuth`,
//!   `acl=!NoAuth`, and a node whose children cannot be listed gets
//!   `children=!NoAuth` at the end (its subtree is not walked). The stat
//!   then comes from `exists`, which needs no permission.
//!
//! A node deleted while the walk runs is left out. `--auth` adds an
//! identity before the walk (e.g. `digest:user:password`), as zkCli's
//! `addauth`.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::{SocketAddr, ToSocketAddrs};

use bytes::Bytes;

use super::hex;
use crate::client::Client;
use crate::jute::data::{Stat, ACL};
use crate::jute::proto::{AuthPacket, GetACLRequest, GetACLResponse};
use crate::proto::{op, xid, ErrorCode};

/// Options of a dump.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Leave ctime and mtime out.
    pub no_stat_times: bool,
    /// `(scheme, credentials)` pairs sent as addauth before the walk.
    pub auth: Vec<(String, String)>,
}

#[derive(Debug)]
pub enum TreeError {
    /// The address does not resolve.
    Address(String),
    /// Connecting or talking to the server failed.
    Connection(String),
    /// Writing the output failed.
    Output(io::Error),
}

impl std::fmt::Display for TreeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TreeError::Address(m) | TreeError::Connection(m) => f.write_str(m),
            TreeError::Output(e) => write!(f, "cannot write the output: {e}"),
        }
    }
}

impl std::error::Error for TreeError {}

impl From<io::Error> for TreeError {
    fn from(e: io::Error) -> Self {
        TreeError::Output(e)
    }
}

/// Escapes bytes so that they hold no space, control character, quote,
/// comma, bracket or backslash (see the module doc).
pub fn escape(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for &c in b {
        match c {
            b'\\' | b'"' | b',' | b'[' | b']' => {
                let _ = write!(s, "\\x{c:02x}");
            }
            0x21..=0x7e => s.push(c as char),
            _ => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    s
}

fn acl_text(acl: &[ACL]) -> String {
    let items: Vec<String> = acl
        .iter()
        .map(|a| {
            format!(
                "{}:{}:{}",
                a.perms,
                escape(a.id.scheme.as_bytes()),
                escape(a.id.id.as_bytes())
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

fn data_text(d: &Option<Bytes>) -> String {
    match d {
        None => "null".into(),
        Some(b) => format!("\"{}\"", escape(b)),
    }
}

fn err_text(e: ErrorCode) -> String {
    format!("!{e:?}")
}

/// One node's line (without the line end).
pub fn node_line(
    path: &str,
    data: &str,
    acl: &str,
    stat: &Stat,
    children_err: Option<ErrorCode>,
    no_stat_times: bool,
) -> String {
    let mut s = format!("{} data={data} acl={acl}", escape(path.as_bytes()));
    let _ = write!(s, " czxid={} mzxid={}", hex(stat.czxid), hex(stat.mzxid));
    if !no_stat_times {
        let _ = write!(s, " ctime={} mtime={}", stat.ctime, stat.mtime);
    }
    let _ = write!(
        s,
        " version={} cversion={} aversion={} ephemeralOwner={} dataLength={} numChildren={} pzxid={}",
        stat.version,
        stat.cversion,
        stat.aversion,
        hex(stat.ephemeral_owner),
        stat.data_length,
        stat.num_children,
        hex(stat.pzxid)
    );
    if let Some(e) = children_err {
        let _ = write!(s, " children={}", err_text(e));
    }
    s
}

fn conn_err(e: impl std::fmt::Display) -> TreeError {
    TreeError::Connection(format!("lost the connection to the server: {e}"))
}

/// Resolves `host:port`.
pub fn resolve(addr: &str) -> Result<SocketAddr, TreeError> {
    addr.to_socket_addrs()
        .map_err(|e| TreeError::Address(format!("cannot resolve {addr}: {e}")))?
        .next()
        .ok_or_else(|| TreeError::Address(format!("{addr} resolves to no address")))
}

fn get_acl(c: &mut Client, path: &str) -> Result<Result<Vec<ACL>, ErrorCode>, TreeError> {
    let r = c
        .call(op::GET_ACL, &GetACLRequest { path: path.into() })
        .map_err(conn_err)?;
    Ok(r.ok::<GetACLResponse>().map(|a| a.acl))
}

/// Connects to `addr`, walks the tree and writes one line per node to
/// `out`; returns the number of nodes.
pub fn dump(addr: &str, opts: &Options, out: &mut dyn Write) -> Result<usize, TreeError> {
    let sa = resolve(addr)?;
    let mut c = Client::connect(sa, 30_000)
        .map_err(|e| TreeError::Connection(format!("cannot connect to {addr}: {e}")))?;
    if c.session_id == 0 {
        return Err(TreeError::Connection(format!("{addr} refused the session")));
    }
    for (scheme, cred) in &opts.auth {
        let r = c
            .call_xid(
                xid::AUTH,
                op::AUTH,
                &AuthPacket {
                    type_: 0,
                    scheme: scheme.clone(),
                    auth: Some(Bytes::copy_from_slice(cred.as_bytes())),
                },
            )
            .map_err(conn_err)?;
        if r.err() != 0 {
            return Err(TreeError::Connection(format!(
                "addauth {scheme} failed: {}",
                ErrorCode::from_code(r.err()).map_or(r.err().to_string(), |e| e.to_string())
            )));
        }
    }
    let n = walk(&mut c, opts, out)?;
    let _ = c.close();
    Ok(n)
}

fn walk(c: &mut Client, opts: &Options, out: &mut dyn Write) -> Result<usize, TreeError> {
    let mut count = 0;
    let mut stack = vec!["/".to_owned()];
    while let Some(path) = stack.pop() {
        // A connection failure shows up as ConnectionLoss from the typed
        // helpers: it ends the walk.
        let lost = |e: ErrorCode| e == ErrorCode::ConnectionLoss;
        let (data, stat) = match c.get_data(&path, false) {
            Ok((d, s)) => (data_text(&d), s),
            Err(ErrorCode::NoNode) => continue,
            Err(e) if lost(e) => return Err(conn_err(e)),
            Err(e) => match c.exists(&path, false) {
                Ok(s) => (err_text(e), s),
                Err(ErrorCode::NoNode) => continue,
                Err(e2) => return Err(conn_err(e2)),
            },
        };
        let acl = match get_acl(c, &path)? {
            Ok(a) => acl_text(&a),
            Err(ErrorCode::NoNode) => continue,
            Err(e) if lost(e) => return Err(conn_err(e)),
            Err(e) => err_text(e),
        };
        let (children, children_err) = match c.children(&path, false) {
            Ok(mut k) => {
                k.sort();
                (k, None)
            }
            Err(ErrorCode::NoNode) => continue,
            Err(e) if lost(e) => return Err(conn_err(e)),
            Err(e) => (Vec::new(), Some(e)),
        };
        writeln!(
            out,
            "{}",
            node_line(&path, &data, &acl, &stat, children_err, opts.no_stat_times)
        )?;
        count += 1;
        let base = if path == "/" { "" } else { path.as_str() };
        stack.extend(children.iter().rev().map(|k| format!("{base}/{k}")));
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::data::Id;

    #[test]
    fn escaping_leaves_no_separators() {
        assert_eq!(escape(b"/a/b-c_d.e"), "/a/b-c_d.e");
        assert_eq!(escape(b"a b"), "a\\x20b");
        assert_eq!(escape(b"\"x\"\\,[]"), "\\x22x\\x22\\x5c\\x2c\\x5b\\x5d");
        assert_eq!(escape(b"\n\0\x7f"), "\\x0a\\x00\\x7f");
        assert_eq!(escape("ü".as_bytes()), "\\xc3\\xbc");
        assert_eq!(data_text(&None), "null");
        assert_eq!(data_text(&Some(Bytes::new())), "\"\"");
        assert_eq!(
            data_text(&Some(Bytes::from_static(b"hi there"))),
            "\"hi\\x20there\""
        );
    }

    #[test]
    fn line_format() {
        let stat = Stat {
            czxid: 2,
            mzxid: 3,
            ctime: 1_700_000_000_000,
            mtime: 1_700_000_000_001,
            version: 1,
            cversion: 2,
            aversion: 0,
            ephemeral_owner: 0x100_0000_0000_0001,
            data_length: 5,
            num_children: 1,
            pzxid: 4,
        };
        let acl = acl_text(&[
            ACL {
                perms: 31,
                id: Id {
                    scheme: "world".into(),
                    id: "anyone".into(),
                },
            },
            ACL {
                perms: 1,
                id: Id {
                    scheme: "x509".into(),
                    id: "CN=a, O=b".into(),
                },
            },
        ]);
        assert_eq!(acl, "[31:world:anyone,1:x509:CN=a\\x2c\\x20O=b]");
        let l = node_line("/a b", "\"hello\"", &acl, &stat, None, false);
        assert_eq!(
            l,
            "/a\\x20b data=\"hello\" acl=[31:world:anyone,1:x509:CN=a\\x2c\\x20O=b] czxid=0x2 mzxid=0x3 \
             ctime=1700000000000 mtime=1700000000001 version=1 cversion=2 aversion=0 \
             ephemeralOwner=0x100000000000001 dataLength=5 numChildren=1 pzxid=0x4"
        );
        let l = node_line("/", "null", "!NoAuth", &stat, Some(ErrorCode::NoAuth), true);
        assert!(!l.contains("ctime") && !l.contains("mtime"));
        assert!(l.contains(" acl=!NoAuth "), "{l}");
        assert!(l.ends_with(" pzxid=0x4 children=!NoAuth"), "{l}");
        assert_eq!(l.split(' ').count(), 13);
    }

    #[test]
    fn unresolvable_and_unreachable_addresses() {
        assert!(matches!(resolve("no-port"), Err(TreeError::Address(_))));
        // A port nothing listens on.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        let mut out = Vec::new();
        let e = dump(&addr.to_string(), &Options::default(), &mut out).unwrap_err();
        assert!(matches!(e, TreeError::Connection(_)), "{e}");
    }

    // ---- against live servers ---------------------------------------------

    use crate::jute::proto::CreateRequest;

    /// An in-process rzk server on 127.0.0.1, stopped on drop.
    struct RzkServer {
        addr: SocketAddr,
        rt: Option<tokio::runtime::Runtime>,
    }

    impl RzkServer {
        fn start() -> RzkServer {
            use crate::server::core::{Core, CoreConfig, Now};
            use crate::server::{fourlw, net};
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            let addr = rt.block_on(async {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let cfg = CoreConfig {
                    extended_types: true,
                    ..CoreConfig::default()
                };
                let core = Core::new(
                    cfg,
                    crate::tree::DataTree::new(true),
                    Now {
                        mono_ms: 1000,
                        wall_ms: 1_700_000_000_000,
                    },
                );
                let netcfg = net::NetConfig {
                    max_frame: 1 << 20,
                    max_client_cnxns: 0,
                    four_letter: std::sync::Arc::new(|_: &str| true),
                };
                net::spawn(listener, core, netcfg, fourlw::StaticInfo::default(), None)
                    .unwrap()
                    .local_addr
            });
            RzkServer { addr, rt: Some(rt) }
        }
    }

    impl Drop for RzkServer {
        fn drop(&mut self) {
            if let Some(rt) = self.rt.take() {
                rt.shutdown_background();
            }
        }
    }

    fn world(perms: i32) -> Vec<ACL> {
        vec![ACL {
            perms,
            id: Id {
                scheme: "world".into(),
                id: "anyone".into(),
            },
        }]
    }

    /// The same operations, whichever server: data null, empty, binary and
    /// non-ASCII; sequential nodes; ACLs, one of which locks us out.
    fn populate(addr: SocketAddr) {
        let mut c = Client::connect(addr, 30_000).unwrap();
        c.create("/a", b"hello", world(31), 0).unwrap();
        let req = CreateRequest {
            path: "/a/null".into(),
            data: None,
            acl: world(31),
            flags: 0,
        };
        assert_eq!(c.call(op::CREATE2, &req).unwrap().err(), 0);
        c.create("/a/empty", b"", world(31), 0).unwrap();
        c.create("/a/bin", &[0, 1, 0xff, b' ', b'"'], world(31), 0)
            .unwrap();
        c.create("/ünï code", "dätä".as_bytes(), world(31), 0)
            .unwrap();
        for _ in 0..3 {
            c.create(
                "/a/seq-",
                b"s",
                world(31),
                2, /* persistent sequential */
            )
            .unwrap();
        }
        c.delete("/a/seq-0000000004", -1).unwrap();
        c.set_data("/a", b"world", 0).unwrap();
        c.create("/ro", b"r", world(1), 0).unwrap();
        let locked = vec![ACL {
            perms: 31,
            id: Id {
                scheme: "digest".into(),
                id: crate::acl::generate_digest("bob:secret"),
            },
        }];
        c.create("/locked", b"secret", locked, 0).unwrap();
        let _ = c.close();
    }

    fn dump_text(addr: SocketAddr, opts: &Options) -> String {
        let mut out = Vec::new();
        dump(&addr.to_string(), opts, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn dumps_the_tree_an_rzk_server_serves() {
        let server = RzkServer::start();
        populate(server.addr);
        let opts = Options {
            no_stat_times: true,
            auth: Vec::new(),
        };
        let out = dump_text(server.addr, &opts);
        let lines: Vec<&str> = out.lines().collect();
        let paths: Vec<&str> = lines.iter().map(|l| l.split(' ').next().unwrap()).collect();
        assert_eq!(
            paths,
            [
                "/",
                "/a",
                "/a/bin",
                "/a/empty",
                "/a/null",
                "/a/seq-0000000003",
                "/a/seq-0000000005",
                "/locked",
                "/ro",
                "/zookeeper",
                "/zookeeper/config",
                "/zookeeper/quota",
                "/\\xc3\\xbcn\\xc3\\xaf\\x20code",
            ]
        );
        let line = |p: &str| {
            *lines
                .iter()
                .find(|l| l.split(' ').next() == Some(p))
                .unwrap()
        };
        assert!(line("/a").starts_with("/a data=\"world\" acl=[31:world:anyone] czxid=0x2 mzxid="));
        assert!(line("/a").contains(" version=1 "));
        assert!(line("/a").contains(" numChildren=5 "));
        assert!(line("/a/null").contains(" data=null "));
        assert!(line("/a/empty").contains(" data=\"\" "));
        assert!(line("/a/bin").contains(" data=\"\\x00\\x01\\xff\\x20\\x22\" "));
        assert!(line("/ro").contains(" acl=[1:world:anyone] "));
        let locked = line("/locked");
        assert!(locked.contains(" data=!NoAuth acl=!NoAuth "), "{locked}");
        assert!(locked.ends_with(" children=!NoAuth"), "{locked}");
        assert!(locked.contains(" dataLength=6 "), "{locked}");
        assert!(lines.iter().all(|l| !l.contains("ctime=")));
        // With the password the node reads.
        let opts = Options {
            no_stat_times: false,
            auth: vec![("digest".into(), "bob:secret".into())],
        };
        let out = dump_text(server.addr, &opts);
        let locked = out.lines().find(|l| l.starts_with("/locked ")).unwrap();
        assert!(
            locked.contains(" data=\"secret\" acl=[31:digest:bob:"),
            "{locked}"
        );
        assert!(locked.contains(" ctime=") && !locked.contains("children="));
        // A bad auth scheme fails.
        let opts = Options {
            no_stat_times: false,
            auth: vec![("nosuch".into(), "x".into())],
        };
        let mut sink = Vec::new();
        assert!(dump(&server.addr.to_string(), &opts, &mut sink).is_err());
    }

    /// Java 3.8 and rzk, given the same operations, serve the same tree.
    #[test]
    #[ignore = "needs Java and ZooKeeper 3.8 jars (RZK_ZK_CLASSPATH or /usr/share/java)"]
    fn interop_same_tree_as_a_java_server() {
        use crate::tools::testutil::{zk_classpath, Scratch};
        let dir = Scratch::new("dumptree-java");
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let cfg = dir.0.join("zoo.cfg");
        std::fs::write(
            &cfg,
            format!(
                "tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n",
                dir.0.display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.0.join("server.out")).unwrap();
        let mut child = std::process::Command::new("java")
            .arg("-cp")
            .arg(zk_classpath())
            .arg("-Dzookeeper.admin.enableServer=false")
            .arg("-Dzookeeper.extendedTypesEnabled=true")
            .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
            .arg(&cfg)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("java");
        struct Kill(std::process::Child);
        impl Drop for Kill {
            fn drop(&mut self) {
                let _ = self.0.kill();
                let _ = self.0.wait();
            }
        }
        let java_addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Ok(Some(st)) = child.try_wait() {
                panic!("Java server exited: {st}");
            }
            if let Ok(c) = Client::connect(java_addr, 30_000) {
                if c.session_id != 0 {
                    let _ = c.close();
                    break;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "Java server did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _java = Kill(child);
        let rzk = RzkServer::start();
        // Java's probe session above took zxids 1 and 2; so does this one.
        let _ = Client::connect(rzk.addr, 30_000).unwrap().close();
        populate(java_addr);
        populate(rzk.addr);
        let opts = Options {
            no_stat_times: true,
            auth: vec![("digest".into(), "bob:secret".into())],
        };
        let java = dump_text(java_addr, &opts);
        let ours = dump_text(rzk.addr, &opts);
        assert_eq!(ours, java);
        let opts = Options::default();
        assert_eq!(dump_text(rzk.addr, &opts).lines().count(), 13);
        let (a, b) = (dump_text(java_addr, &opts), dump_text(rzk.addr, &opts));
        assert_eq!(a.lines().count(), b.lines().count());
    }
}
