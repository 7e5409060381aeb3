//! Client bytes the core must survive: every opcode with truncated,
//! bit-flipped and random bodies, and mangled handshakes. Each request
//! must be answered (a reply or a close), nothing may panic, and other
//! sessions must still be served afterwards.

use super::tests::{at, connect, connect_request};
use super::*;
use crate::jute::data::ACL;
use crate::jute::proto::{
    AddWatchRequest, AuthPacket, CheckVersionRequest, CreateRequest, CreateTTLRequest,
    DeleteRequest, ExistsRequest, GetEphemeralsRequest, MultiHeader, ReconfigRequest,
    RemoveWatchesRequest, SetACLRequest, SetDataRequest, SetWatches, SetWatches2,
};
use crate::rng::Rng;

/// Picks an index below `n` (seeded, so a failure replays).
fn pick(rng: &mut Rng, n: usize) -> usize {
    rng.below(n as u64) as usize
}

fn enc<T: JuteField>(r: &T) -> Vec<u8> {
    crate::jute::encode(r).to_vec()
}

fn acl() -> Vec<ACL> {
    acl::open_acl_unsafe()
}

/// A well-formed body for each opcode the server knows, to mangle.
fn seeds() -> Vec<(i32, Vec<u8>)> {
    let path = |p: &str| {
        enc(&GetEphemeralsRequest {
            prefix_path: p.into(),
        })
    };
    let create = CreateRequest {
        path: "/m/c".into(),
        data: Some(Bytes::from_static(b"data")),
        acl: acl(),
        flags: 0,
    };
    let mut multi = Vec::new();
    for (t, body) in [
        (op::CREATE, enc(&create)),
        (
            op::CHECK,
            enc(&CheckVersionRequest {
                path: "/m".into(),
                version: 0,
            }),
        ),
        (
            op::DELETE,
            enc(&DeleteRequest {
                path: "/m/c".into(),
                version: -1,
            }),
        ),
    ] {
        multi.extend(enc(&MultiHeader {
            type_: t,
            done: false,
            err: -1,
        }));
        multi.extend(body);
    }
    multi.extend(enc(&MultiHeader {
        type_: -1,
        done: true,
        err: -1,
    }));
    let watches = SetWatches2 {
        relative_zxid: 0,
        data_watches: vec!["/m".into()],
        exist_watches: vec!["/none".into()],
        child_watches: vec!["/".into()],
        persistent_watches: vec!["/m".into()],
        persistent_recursive_watches: vec!["/".into()],
    };
    let exists = |w| {
        enc(&ExistsRequest {
            path: "/m".into(),
            watch: w,
        })
    };
    vec![
        (op::CREATE, enc(&create)),
        (op::CREATE2, enc(&create)),
        (
            op::CREATE_CONTAINER,
            enc(&CreateRequest {
                flags: 4,
                ..create.clone()
            }),
        ),
        (
            op::CREATE_TTL,
            enc(&CreateTTLRequest {
                path: "/m/t".into(),
                data: None,
                acl: acl(),
                flags: 5,
                ttl: 1000,
            }),
        ),
        (
            op::DELETE,
            enc(&DeleteRequest {
                path: "/m/c".into(),
                version: -1,
            }),
        ),
        (op::DELETE_CONTAINER, path("/m")),
        (op::EXISTS, exists(true)),
        (op::GET_DATA, exists(true)),
        (op::GET_CHILDREN, exists(true)),
        (op::GET_CHILDREN2, exists(false)),
        (
            op::SET_DATA,
            enc(&SetDataRequest {
                path: "/m".into(),
                data: Some(Bytes::from_static(b"x")),
                version: -1,
            }),
        ),
        (op::GET_ACL, path("/m")),
        (
            op::SET_ACL,
            enc(&SetACLRequest {
                path: "/m".into(),
                acl: acl(),
                version: -1,
            }),
        ),
        (op::SYNC, path("/m")),
        (
            op::CHECK,
            enc(&CheckVersionRequest {
                path: "/m".into(),
                version: 0,
            }),
        ),
        (op::MULTI, multi.clone()),
        (op::MULTI_READ, multi),
        (
            op::RECONFIG,
            enc(&ReconfigRequest {
                joining_servers: "server.2=127.0.0.1:2888:3888".into(),
                leaving_servers: String::new(),
                new_members: String::new(),
                cur_config_id: -1,
            }),
        ),
        (
            op::CHECK_WATCHES,
            enc(&RemoveWatchesRequest {
                path: "/m".into(),
                type_: 1,
            }),
        ),
        (
            op::REMOVE_WATCHES,
            enc(&RemoveWatchesRequest {
                path: "/m".into(),
                type_: 3,
            }),
        ),
        (
            op::ADD_WATCH,
            enc(&AddWatchRequest {
                path: "/m".into(),
                mode: 1,
            }),
        ),
        (
            op::SET_WATCHES,
            enc(&SetWatches {
                relative_zxid: 0,
                data_watches: watches.data_watches.clone(),
                exist_watches: watches.exist_watches.clone(),
                child_watches: watches.child_watches.clone(),
            }),
        ),
        (op::SET_WATCHES2, enc(&watches)),
        (
            op::AUTH,
            enc(&AuthPacket {
                type_: 0,
                scheme: "digest".into(),
                auth: Some(Bytes::from_static(b"user:pw")),
            }),
        ),
        (op::GET_EPHEMERALS, path("/")),
        (op::GET_ALL_CHILDREN_NUMBER, path("/")),
        (op::WHO_AM_I, Vec::new()),
        (op::PING, Vec::new()),
        (
            op::SASL,
            enc(&AuthPacket {
                type_: 0,
                scheme: String::new(),
                auth: None,
            }),
        ),
        (op::CLOSE_SESSION, Vec::new()),
    ]
}

struct Harness {
    core: Core,
    next_conn: ConnId,
    probe: ConnId,
    requests: usize,
}

impl Harness {
    fn new() -> Harness {
        let core = Core::new(CoreConfig::default(), DataTree::new(false), at(1000));
        let mut h = Harness {
            core,
            next_conn: 1,
            probe: 0,
            requests: 0,
        };
        h.probe = h.session();
        h.call(
            h.probe,
            op::CREATE,
            &enc(&CreateRequest {
                path: "/m".into(),
                data: None,
                acl: acl(),
                flags: 0,
            }),
        );
        h
    }

    fn session(&mut self) -> ConnId {
        let conn = self.next_conn;
        self.next_conn += 1;
        connect(&mut self.core, conn);
        conn
    }

    /// Sends one request; returns what came back for `conn` (frames, and
    /// whether the connection was closed).
    fn call(&mut self, conn: ConnId, type_: i32, body: &[u8]) -> (usize, bool) {
        self.requests += 1;
        let mut b = BytesMut::new();
        RequestHeader {
            xid: self.requests as i32,
            type_,
        }
        .write(&mut b);
        b.extend_from_slice(body);
        self.core.request(conn, b.freeze(), at(1001));
        self.core.commit_in_memory(at(1001));
        let mut frames = 0;
        let mut closed = false;
        for (c, o) in self.core.take_output() {
            if c == conn {
                match o {
                    Outbound::Frame(_) => frames += 1,
                    Outbound::Close => closed = true,
                }
            }
        }
        (frames, closed)
    }

    /// One mangled request on a fresh session, then the session goes.
    fn mangled(&mut self, type_: i32, body: &[u8]) {
        let conn = self.session();
        let (frames, closed) = self.call(conn, type_, body);
        assert!(
            frames > 0 || closed,
            "op {type_} body {body:02x?}: neither a reply nor a close"
        );
        self.core.closed(conn);
        self.core.commit_in_memory(at(1001));
        self.core.take_output();
    }

    fn still_serves(&mut self, what: &str) {
        let (frames, closed) = self.call(
            self.probe,
            op::EXISTS,
            &enc(&ExistsRequest {
                path: "/m".into(),
                watch: false,
            }),
        );
        assert!(
            frames == 1 && !closed,
            "after {what}: the probe session is not served"
        );
        assert_eq!(
            self.core.tree().digest(),
            self.core.tree().recompute_digest(),
            "after {what}"
        );
    }
}

#[test]
fn truncated_flipped_and_random_request_bodies_are_answered() {
    let mut h = Harness::new();
    let mut rng = Rng::new(1);
    for (type_, body) in seeds() {
        // The well-formed body itself, then every truncation of it.
        for len in (0..=body.len()).rev() {
            h.mangled(type_, &body[..len]);
        }
        // Bytes flipped, including length prefixes turned huge or negative.
        for _ in 0..48 {
            let mut b = body.clone();
            if b.is_empty() {
                b.push(0);
            }
            for _ in 0..1 + pick(&mut rng, 3) {
                let i = pick(&mut rng, b.len());
                b[i] = match pick(&mut rng, 3) {
                    0 => rng.next_u64() as u8,
                    1 => 0xff,
                    _ => 0x7f,
                };
            }
            h.mangled(type_, &b);
        }
        h.still_serves(&format!("op {type_}"));
    }
    // Random bodies under every opcode a client could send, known or not.
    for type_ in (-12..=24).chain(99..=110).chain([i32::MIN, i32::MAX]) {
        for _ in 0..12 {
            let b: Vec<u8> = (0..pick(&mut rng, 48))
                .map(|_| rng.next_u64() as u8)
                .collect();
            h.mangled(type_, &b);
        }
        h.still_serves(&format!("random bodies for op {type_}"));
    }
    assert!(h.requests > 2500, "{} requests", h.requests);
}

#[test]
fn mangled_handshakes_get_a_session_or_a_close() {
    let mut h = Harness::new();
    let mut rng = Rng::new(2);
    let good = enc(&connect_request());
    let mut bodies: Vec<Vec<u8>> = (0..=good.len()).map(|n| good[..n].to_vec()).collect();
    for _ in 0..200 {
        let mut b = good.clone();
        let i = pick(&mut rng, b.len());
        b[i] = rng.next_u64() as u8;
        bodies.push(b);
    }
    let mut readonly = good.clone();
    readonly.push(1);
    bodies.push(readonly);
    for body in bodies {
        let conn = h.next_conn;
        h.next_conn += 1;
        h.core
            .open(conn, "127.0.0.1:5001".parse().unwrap(), at(1000));
        h.core.connect(conn, Bytes::from(body.clone()), at(1000));
        h.core.commit_in_memory(at(1000));
        let answered = h.core.take_output().iter().any(|(c, _)| *c == conn);
        assert!(
            answered,
            "handshake {body:02x?}: neither a reply nor a close"
        );
        h.core.closed(conn);
        h.core.commit_in_memory(at(1000));
        h.core.take_output();
    }
    h.still_serves("mangled handshakes");
}
