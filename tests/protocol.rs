//! The client protocol over real TCP against an in-process server: every
//! opcode, its error codes, stats, watches, ACLs, sessions and bad input.

mod common;

use std::thread::sleep;
use std::time::Duration;

use bytes::Bytes;
use common::TestServer;
use rzk::client::Client;
use rzk::jute::data::{Id, ACL};
use rzk::jute::proto::*;
use rzk::jute::{encode, JuteField};
use rzk::proto::{event, op, perms, ErrorCode};
use rzk::server::core::CoreConfig;

fn open() -> Vec<ACL> {
    rzk::acl::open_acl_unsafe()
}

fn acl(p: i32, scheme: &str, id: &str) -> ACL {
    ACL {
        perms: p,
        id: Id {
            scheme: scheme.into(),
            id: id.into(),
        },
    }
}

fn create_req(path: &str, data: &[u8], acl: Vec<ACL>, flags: i32) -> CreateRequest {
    CreateRequest {
        path: path.into(),
        data: Some(Bytes::copy_from_slice(data)),
        acl,
        flags,
    }
}

fn err(r: &rzk::client::Reply) -> ErrorCode {
    ErrorCode::from_code(r.err()).unwrap()
}

#[test]
fn handshake_negotiates_timeout_and_java_password() {
    let s = TestServer::start();
    let c = Client::connect(s.addr, 1).unwrap();
    assert_eq!(c.timeout_ms, 4000, "clamped up to 2 x tickTime");
    let c2 = Client::connect(s.addr, 1_000_000).unwrap();
    assert_eq!(c2.timeout_ms, 40000, "clamped down to 20 x tickTime");
    assert_eq!(c.session_id >> 56, 1, "standalone ids carry server id 1");
    assert_eq!(&c.passwd[..], &rzk::session::password(c.session_id)[..]);
    assert_ne!(c.session_id, c2.session_id);
}

#[test]
fn create_get_set_delete_with_java_stats() {
    let s = TestServer::start();
    let mut c = s.client();
    let (p, st) = c.create("/a", b"hello", open(), 0).unwrap();
    assert_eq!(p, "/a");
    assert_eq!(
        (
            st.version,
            st.cversion,
            st.aversion,
            st.data_length,
            st.num_children
        ),
        (0, 0, 0, 5, 0)
    );
    assert_eq!(st.czxid, st.mzxid);
    assert_eq!(st.czxid, st.pzxid);
    let (data, st2) = c.get_data("/a", false).unwrap();
    assert_eq!(data.as_deref(), Some(&b"hello"[..]));
    assert_eq!(st2, st);
    let st3 = c.set_data("/a", b"x", 0).unwrap();
    assert_eq!(st3.version, 1);
    assert!(st3.mzxid > st.mzxid);
    assert_eq!(st3.czxid, st.czxid);
    assert_eq!(c.set_data("/a", b"y", 0), Err(ErrorCode::BadVersion));
    // The failed write consumed a zxid, as in Java.
    let st4 = c.set_data("/a", b"z", -1).unwrap();
    assert_eq!(st4.mzxid, st3.mzxid + 2);
    c.create("/a/b", b"", open(), 0).unwrap();
    c.delete("/a/b", -1).unwrap();
    let parent = c.exists("/a", false).unwrap();
    assert_eq!(parent.cversion, 2, "one create and one delete");
    assert_eq!(parent.num_children, 0);
    c.delete("/a", 4).unwrap_err();
    c.delete("/a", 2).unwrap();
    assert_eq!(c.exists("/a", false), Err(ErrorCode::NoNode));
}

#[test]
fn null_and_empty_data_are_distinct() {
    let s = TestServer::start();
    let mut c = s.client();
    let req = CreateRequest {
        path: "/n".into(),
        data: None,
        acl: open(),
        flags: 0,
    };
    assert_eq!(c.call(op::CREATE, &req).unwrap().err(), 0);
    let (d, st) = c.get_data("/n", false).unwrap();
    assert_eq!(d, None);
    assert_eq!(st.data_length, 0);
    c.create("/e", b"", open(), 0).unwrap();
    assert_eq!(c.get_data("/e", false).unwrap().0, Some(Bytes::new()));
}

#[test]
fn error_codes_match_java() {
    let s = TestServer::start_with(CoreConfig::default(), 1 << 20);
    let mut c = s.client();
    c.create("/p", b"", open(), 0).unwrap();
    assert_eq!(c.create("/p", b"", open(), 0), Err(ErrorCode::NodeExists));
    assert_eq!(c.create("/x/y", b"", open(), 0), Err(ErrorCode::NoNode));
    assert_eq!(
        c.create("/p/", b"", open(), 0),
        Err(ErrorCode::BadArguments)
    );
    assert_eq!(c.create("p", b"", open(), 0), Err(ErrorCode::BadArguments));
    // Java looks the parent up before validating the path: "/p/" does not exist.
    assert_eq!(c.create("/p//q", b"", open(), 0), Err(ErrorCode::NoNode));
    assert_eq!(c.create("/q", b"", vec![], 0), Err(ErrorCode::InvalidAcl));
    assert_eq!(
        c.create("/q", b"", vec![acl(31, "digest", "nocolon")], 0),
        Err(ErrorCode::InvalidAcl)
    );
    assert_eq!(
        c.create("/q", b"", vec![acl(31, "auth", "")], 0),
        Err(ErrorCode::InvalidAcl)
    );
    assert_eq!(
        c.create("/q", b"", open(), 99),
        Err(ErrorCode::BadArguments)
    );
    // TTL nodes need extendedTypesEnabled.
    let ttl = CreateTTLRequest {
        path: "/t".into(),
        data: None,
        acl: open(),
        flags: 5,
        ttl: 100,
    };
    assert_eq!(
        err(&c.call(op::CREATE_TTL, &ttl).unwrap()),
        ErrorCode::Unimplemented
    );
    c.create("/p/c", b"", open(), 0).unwrap();
    assert_eq!(c.delete("/p", -1), Err(ErrorCode::NotEmpty));
    assert_eq!(c.delete("/zookeeper", -1), Err(ErrorCode::BadArguments));
    assert_eq!(c.delete("/nope", -1), Err(ErrorCode::NoNode));
    c.create("/eph", b"", open(), 1).unwrap();
    assert_eq!(
        c.create("/eph/c", b"", open(), 0),
        Err(ErrorCode::NoChildrenForEphemerals)
    );
    let rc = ReconfigRequest {
        joining_servers: "".into(),
        leaving_servers: "".into(),
        new_members: "".into(),
        cur_config_id: -1,
    };
    assert_eq!(
        err(&c.call(op::RECONFIG, &rc).unwrap()),
        ErrorCode::ReconfigDisabled
    );
    assert_eq!(c.get_data("/nope", false), Err(ErrorCode::NoNode));
    let chk = CheckVersionRequest {
        path: "/p".into(),
        version: 7,
    };
    assert_eq!(
        err(&c.call(op::CHECK, &chk).unwrap()),
        ErrorCode::BadVersion
    );
}

#[test]
fn sequential_nodes_use_the_parents_cversion() {
    let s = TestServer::start();
    let mut c = s.client();
    c.create("/s", b"", open(), 0).unwrap();
    c.create("/s/x", b"", open(), 0).unwrap();
    let (p, _) = c.create("/s/q-", b"", open(), 2).unwrap();
    assert_eq!(p, "/s/q-0000000001");
    let (p, _) = c.create("/s/q-", b"", open(), 3).unwrap();
    assert_eq!(p, "/s/q-0000000002");
}

#[test]
fn ephemerals_go_with_their_session() {
    let s = TestServer::start();
    let mut a = s.client();
    let mut b = s.client();
    a.create("/e1", b"", open(), 1).unwrap();
    a.create("/e2", b"", open(), 1).unwrap();
    let st = b.exists("/e1", true).unwrap();
    assert_eq!(st.ephemeral_owner, a.session_id);
    let r = a
        .call(
            op::GET_EPHEMERALS,
            &GetEphemeralsRequest {
                prefix_path: "/".into(),
            },
        )
        .unwrap();
    // Java's HashSet order, which rzk reproduces.
    assert_eq!(
        r.ok::<GetEphemeralsResponse>().unwrap().ephemerals,
        vec!["/e2", "/e1"]
    );
    let r = a
        .call(
            op::GET_EPHEMERALS,
            &GetEphemeralsRequest {
                prefix_path: "/e2".into(),
            },
        )
        .unwrap();
    assert_eq!(
        r.ok::<GetEphemeralsResponse>().unwrap().ephemerals,
        vec!["/e2"]
    );
    assert_eq!(a.close().unwrap().err(), 0);
    let ev = b.next_event().unwrap();
    assert_eq!((ev.type_, ev.path.as_str()), (event::NODE_DELETED, "/e1"));
    assert_eq!(b.exists("/e2", false), Err(ErrorCode::NoNode));
}

#[test]
fn sessions_expire_and_cannot_be_reattached() {
    let cfg = CoreConfig {
        tick_ms: 100,
        min_session_timeout_ms: 200,
        max_session_timeout_ms: 400,
        ..CoreConfig::default()
    };
    let s = TestServer::start_with(cfg, 1 << 20);
    let mut a = Client::connect(s.addr, 200).unwrap();
    let mut b = s.client();
    a.create("/gone", b"", open(), 1).unwrap();
    b.exists("/gone", true).unwrap();
    let (id, pw) = (a.session_id, a.passwd.clone());
    sleep(Duration::from_millis(700));
    let ev = b.next_event().unwrap();
    assert_eq!((ev.type_, ev.path.as_str()), (event::NODE_DELETED, "/gone"));
    let again = Client::attach(s.addr, id, pw, 0, 200).unwrap();
    assert_eq!(again.session_id, 0, "an expired session is refused");
    assert_eq!(again.timeout_ms, 0);
    drop(a);
}

#[test]
fn reattach_needs_the_password_and_replaces_the_old_connection() {
    let s = TestServer::start();
    let mut a = s.client();
    a.create("/r", b"", open(), 1).unwrap();
    let bad = Client::attach(s.addr, a.session_id, Bytes::from_static(&[1; 16]), 0, 30000).unwrap();
    assert_eq!(bad.session_id, 0);
    let mut a2 =
        Client::attach(s.addr, a.session_id, a.passwd.clone(), a.last_zxid, 30000).unwrap();
    assert_eq!(a2.session_id, a.session_id);
    assert_eq!(
        a2.exists("/r", false).unwrap().ephemeral_owner,
        a.session_id
    );
    assert!(
        a.exists("/r", false).is_err(),
        "the old connection is closed"
    );
}

#[test]
fn client_ahead_of_server_is_refused() {
    let s = TestServer::start();
    let r = Client::attach(s.addr, 0, Bytes::from_static(&[0; 16]), 1 << 40, 30000);
    assert!(r.is_err(), "connection closed without a response");
}

#[test]
fn data_and_exist_watches_fire_once_before_later_replies() {
    let s = TestServer::start();
    let mut w = s.client();
    let mut c = s.client();
    assert_eq!(w.exists("/w", true), Err(ErrorCode::NoNode));
    c.create("/w", b"", open(), 0).unwrap();
    // The event is queued before the reply to this later read.
    w.exists("/w", false).unwrap();
    let ev = w.events.pop_front().expect("event before reply");
    assert_eq!(
        (ev.type_, ev.state, ev.path.as_str()),
        (event::NODE_CREATED, 3, "/w")
    );
    w.get_data("/w", true).unwrap();
    c.set_data("/w", b"1", -1).unwrap();
    c.set_data("/w", b"2", -1).unwrap();
    w.exists("/w", false).unwrap();
    assert_eq!(w.events.len(), 1, "one-shot");
    assert_eq!(
        w.events.pop_front().unwrap().type_,
        event::NODE_DATA_CHANGED
    );
    w.children("/w", true).unwrap();
    w.get_data("/w", true).unwrap();
    c.create("/w/k", b"", open(), 0).unwrap();
    c.delete("/w/k", -1).unwrap();
    c.delete("/w", -1).unwrap();
    w.exists("/", false).unwrap();
    let got: Vec<(i32, String)> = w.events.drain(..).map(|e| (e.type_, e.path)).collect();
    assert_eq!(
        got,
        vec![
            (event::NODE_CHILDREN_CHANGED, "/w".into()),
            (event::NODE_DELETED, "/w".into())
        ]
    );
}

#[test]
fn persistent_and_recursive_watches() {
    let s = TestServer::start();
    let mut w = s.client();
    let mut c = s.client();
    c.create("/pw", b"", open(), 0).unwrap();
    let r = w
        .call(
            op::ADD_WATCH,
            &AddWatchRequest {
                path: "/pw".into(),
                mode: 0,
            },
        )
        .unwrap();
    assert_eq!(r.ok::<ErrorResponse>().unwrap().err, 0);
    w.call(
        op::ADD_WATCH,
        &AddWatchRequest {
            path: "/".into(),
            mode: 1,
        },
    )
    .unwrap();
    c.create("/pw/a", b"", open(), 0).unwrap();
    c.set_data("/pw", b"1", -1).unwrap();
    c.set_data("/pw", b"2", -1).unwrap();
    w.exists("/", false).unwrap();
    let got: Vec<(i32, String)> = w.events.drain(..).map(|e| (e.type_, e.path)).collect();
    assert_eq!(
        got,
        vec![
            (event::NODE_CREATED, "/pw/a".into()),
            (event::NODE_CHILDREN_CHANGED, "/pw".into()),
            (event::NODE_DATA_CHANGED, "/pw".into()),
            (event::NODE_DATA_CHANGED, "/pw".into()),
        ]
    );
    // checkWatches / removeWatches.
    let chk = CheckWatchesRequest {
        path: "/pw".into(),
        type_: 3,
    };
    assert_eq!(w.call(op::CHECK_WATCHES, &chk).unwrap().err(), 0);
    let rm = RemoveWatchesRequest {
        path: "/pw".into(),
        type_: 3,
    };
    assert_eq!(w.call(op::REMOVE_WATCHES, &rm).unwrap().err(), 0);
    assert_eq!(
        err(&w.call(op::REMOVE_WATCHES, &rm).unwrap()),
        ErrorCode::NoWatcher
    );
    let bad = RemoveWatchesRequest {
        path: "/pw".into(),
        type_: 9,
    };
    assert_eq!(
        err(&w.call(op::REMOVE_WATCHES, &bad).unwrap()),
        ErrorCode::MarshallingError
    );
}

#[test]
fn set_watches_fires_what_was_missed() {
    let s = TestServer::start();
    let mut c = s.client();
    c.create("/sw", b"", open(), 0).unwrap();
    c.create("/sw2", b"", open(), 0).unwrap();
    let zxid = c.last_zxid;
    c.set_data("/sw", b"changed", -1).unwrap();
    let mut w = s.client();
    let sw = SetWatches {
        relative_zxid: zxid,
        data_watches: vec!["/sw".into(), "/sw2".into(), "/missing".into()],
        exist_watches: vec!["/sw2".into(), "/later".into()],
        child_watches: vec!["/sw2".into()],
    };
    let r = w.call_xid(-8, op::SET_WATCHES, &sw).unwrap();
    assert_eq!((r.header.xid, r.err()), (-8, 0));
    let got: Vec<(i32, String)> = w.events.drain(..).map(|e| (e.type_, e.path)).collect();
    assert_eq!(
        got,
        vec![
            (event::NODE_DATA_CHANGED, "/sw".into()),
            (event::NODE_DELETED, "/missing".into()),
            (event::NODE_CREATED, "/sw2".into()),
        ]
    );
    c.create("/later", b"", open(), 0).unwrap();
    c.create("/sw2/c", b"", open(), 0).unwrap();
    w.exists("/", false).unwrap();
    let got: Vec<(i32, String)> = w.events.drain(..).map(|e| (e.type_, e.path)).collect();
    assert_eq!(
        got,
        vec![
            (event::NODE_CREATED, "/later".into()),
            (event::NODE_CHILDREN_CHANGED, "/sw2".into())
        ]
    );
}

#[test]
fn digest_acls_and_auth() {
    let s = TestServer::start_with(
        CoreConfig {
            super_digest: Some(rzk::acl::generate_digest("super:secret")),
            ..CoreConfig::default()
        },
        1 << 20,
    );
    let mut a = s.client();
    let auth = AuthPacket {
        type_: 0,
        scheme: "digest".into(),
        auth: Some(Bytes::from_static(b"u:p")),
    };
    let r = a.call_xid(-4, op::AUTH, &auth).unwrap();
    assert_eq!((r.header.xid, r.header.zxid, r.err()), (-4, 0, 0));
    a.create("/sec", b"s", vec![acl(perms::ALL, "auth", "")], 0)
        .unwrap();
    let mut b = s.client();
    assert_eq!(b.get_data("/sec", false), Err(ErrorCode::NoAuth));
    assert_eq!(b.set_data("/sec", b"", -1), Err(ErrorCode::NoAuth));
    assert_eq!(b.create("/sec/x", b"", open(), 0), Err(ErrorCode::NoAuth));
    // getACL needs READ or ADMIN.
    let r = b
        .call(
            op::GET_ACL,
            &GetACLRequest {
                path: "/sec".into(),
            },
        )
        .unwrap();
    assert_eq!(err(&r), ErrorCode::NoAuth);
    let r = a
        .call(
            op::GET_ACL,
            &GetACLRequest {
                path: "/sec".into(),
            },
        )
        .unwrap();
    let acls = r.ok::<GetACLResponse>().unwrap().acl;
    assert_eq!(
        acls,
        vec![acl(perms::ALL, "digest", &rzk::acl::generate_digest("u:p"))]
    );
    // Read-only grant: the digest hash is masked without ADMIN.
    a.create(
        "/ro",
        b"",
        vec![
            acl(perms::READ, "world", "anyone"),
            acl(perms::ALL, "digest", &rzk::acl::generate_digest("u:p")),
        ],
        0,
    )
    .unwrap();
    let r = b
        .call(op::GET_ACL, &GetACLRequest { path: "/ro".into() })
        .unwrap();
    let acls = r.ok::<GetACLResponse>().unwrap().acl;
    assert_eq!(acls[1].id.id, "u:x");
    // whoAmI lists ip and digest ids.
    let r = a.call_empty(op::WHO_AM_I).unwrap();
    let who = r.ok::<WhoAmIResponse>().unwrap().client_info;
    let got: Vec<(String, String)> = who.into_iter().map(|c| (c.auth_scheme, c.user)).collect();
    assert_eq!(
        got,
        vec![
            ("ip".into(), "127.0.0.1".into()),
            ("digest".into(), "u".into())
        ]
    );
    // The super digest opens everything.
    let sup = AuthPacket {
        type_: 0,
        scheme: "digest".into(),
        auth: Some(Bytes::from_static(b"super:secret")),
    };
    b.call_xid(-4, op::AUTH, &sup).unwrap();
    assert!(b.get_data("/sec", false).is_ok());
    // setACL with a version check.
    let sa = SetACLRequest {
        path: "/sec".into(),
        acl: open(),
        version: 5,
    };
    assert_eq!(
        err(&b.call(op::SET_ACL, &sa).unwrap()),
        ErrorCode::BadVersion
    );
    let sa = SetACLRequest {
        path: "/sec".into(),
        acl: open(),
        version: 0,
    };
    assert_eq!(
        b.call(op::SET_ACL, &sa)
            .unwrap()
            .ok::<SetACLResponse>()
            .unwrap()
            .stat
            .aversion,
        1
    );
}

#[test]
fn ip_acls_and_failed_auth_closes_the_connection() {
    let s = TestServer::start();
    let mut c = s.client();
    c.create("/ip", b"", vec![acl(perms::ALL, "ip", "127.0.0.0/8")], 0)
        .unwrap();
    assert!(c.get_data("/ip", false).is_ok());
    c.create("/ip2", b"", vec![acl(perms::ALL, "ip", "10.0.0.0/8")], 0)
        .unwrap();
    assert_eq!(c.get_data("/ip2", false), Err(ErrorCode::NoAuth));
    let bad = AuthPacket {
        type_: 0,
        scheme: "nosuch".into(),
        auth: Some(Bytes::from_static(b"x")),
    };
    let r = c.call_xid(-4, op::AUTH, &bad).unwrap();
    assert_eq!(err(&r), ErrorCode::AuthFailed);
    assert!(
        c.exists("/", false).is_err(),
        "connection closed after AuthFailed"
    );
}

fn multi_bytes(ops: &[(i32, Vec<u8>)]) -> Vec<u8> {
    let mut w = bytes::BytesMut::new();
    for (t, body) in ops {
        MultiHeader {
            type_: *t,
            done: false,
            err: -1,
        }
        .write(&mut w);
        w.extend_from_slice(body);
    }
    MultiHeader {
        type_: -1,
        done: true,
        err: -1,
    }
    .write(&mut w);
    w.to_vec()
}

struct Raw(Vec<u8>);
impl JuteField for Raw {
    fn read(_: &mut rzk::jute::Reader) -> Result<Self, rzk::jute::DecodeError> {
        unreachable!()
    }
    fn write(&self, w: &mut bytes::BytesMut) {
        w.extend_from_slice(&self.0);
    }
}

fn parse_multi(body: Bytes) -> Vec<(i32, i32)> {
    let mut r = rzk::jute::Reader::new(body);
    let mut out = vec![];
    loop {
        let h = MultiHeader::read(&mut r).unwrap();
        if h.done {
            return out;
        }
        out.push((h.type_, h.err));
        match h.type_ {
            1 => drop(CreateResponse::read(&mut r).unwrap()),
            15 => drop(Create2Response::read(&mut r).unwrap()),
            5 => drop(SetDataResponse::read(&mut r).unwrap()),
            -1 => drop(ErrorResponse::read(&mut r).unwrap()),
            4 => drop(GetDataResponse::read(&mut r).unwrap()),
            8 => drop(GetChildrenResponse::read(&mut r).unwrap()),
            _ => {}
        }
    }
}

#[test]
fn multi_is_atomic_with_java_results() {
    let s = TestServer::start();
    let mut c = s.client();
    let ok = multi_bytes(&[
        (
            op::CREATE,
            encode(&create_req("/m", b"", open(), 0)).to_vec(),
        ),
        (
            op::CREATE2,
            encode(&create_req("/m/a", b"", open(), 0)).to_vec(),
        ),
        (
            op::SET_DATA,
            encode(&SetDataRequest {
                path: "/m".into(),
                data: None,
                version: 0,
            })
            .to_vec(),
        ),
        (
            op::CHECK,
            encode(&CheckVersionRequest {
                path: "/m".into(),
                version: 1,
            })
            .to_vec(),
        ),
    ]);
    let r = c.call(op::MULTI, &Raw(ok)).unwrap();
    assert_eq!(r.err(), 0);
    // create2 in a multi is rebuilt as create (no stat), as Java does.
    assert_eq!(parse_multi(r.body), vec![(1, 0), (1, 0), (5, 0), (13, 0)]);
    let zxid_before = c.last_zxid;
    let bad = multi_bytes(&[
        (
            op::CREATE,
            encode(&create_req("/m/b", b"", open(), 0)).to_vec(),
        ),
        (
            op::DELETE,
            encode(&DeleteRequest {
                path: "/nope".into(),
                version: -1,
            })
            .to_vec(),
        ),
        (
            op::DELETE,
            encode(&DeleteRequest {
                path: "/m/a".into(),
                version: -1,
            })
            .to_vec(),
        ),
    ]);
    let r = c.call(op::MULTI, &Raw(bad)).unwrap();
    assert_eq!(r.err(), 0);
    assert_eq!(
        r.header.zxid,
        zxid_before + 1,
        "a failed multi consumes one zxid"
    );
    assert_eq!(parse_multi(r.body), vec![(-1, 0), (-1, -101), (-1, -2)]);
    assert_eq!(c.exists("/m/b", false), Err(ErrorCode::NoNode));
    assert!(c.exists("/m/a", false).is_ok());
    let reads = multi_bytes(&[
        (
            op::GET_DATA,
            encode(&GetDataRequest {
                path: "/m".into(),
                watch: false,
            })
            .to_vec(),
        ),
        (
            op::GET_CHILDREN,
            encode(&GetChildrenRequest {
                path: "/m".into(),
                watch: false,
            })
            .to_vec(),
        ),
        (
            op::GET_DATA,
            encode(&GetDataRequest {
                path: "/zz".into(),
                watch: false,
            })
            .to_vec(),
        ),
    ]);
    let r = c.call(op::MULTI_READ, &Raw(reads)).unwrap();
    assert_eq!(parse_multi(r.body), vec![(4, 0), (8, 0), (-1, -101)]);
}

#[test]
fn sync_children_counts_and_server_nodes() {
    let s = TestServer::start();
    let mut c = s.client();
    let r = c.call(op::SYNC, &SyncRequest { path: "/".into() }).unwrap();
    assert_eq!(r.ok::<SyncResponse>().unwrap().path, "/");
    assert_eq!(c.children("/", false).unwrap(), vec!["zookeeper"]);
    assert_eq!(
        c.children("/zookeeper", false).unwrap(),
        vec!["config", "quota"]
    );
    c.create("/n", b"", open(), 0).unwrap();
    c.create("/n/a", b"", open(), 0).unwrap();
    c.create("/n/a/b", b"", open(), 0).unwrap();
    let r = c
        .call(
            op::GET_ALL_CHILDREN_NUMBER,
            &GetAllChildrenNumberRequest { path: "/n".into() },
        )
        .unwrap();
    assert_eq!(
        r.ok::<GetAllChildrenNumberResponse>().unwrap().total_number,
        2
    );
    let r = c
        .call(
            op::GET_ALL_CHILDREN_NUMBER,
            &GetAllChildrenNumberRequest { path: "/".into() },
        )
        .unwrap();
    assert_eq!(
        r.ok::<GetAllChildrenNumberResponse>().unwrap().total_number,
        6
    );
    let r = c
        .call(
            op::GET_CHILDREN2,
            &GetChildren2Request {
                path: "/n".into(),
                watch: false,
            },
        )
        .unwrap();
    let g = r.ok::<GetChildren2Response>().unwrap();
    assert_eq!(
        (g.children, g.stat.num_children),
        (vec!["a".to_string()], 1)
    );
    let ping = c.ping().unwrap();
    assert_eq!((ping.header.xid, ping.header.zxid), (-2, c.last_zxid));
    // The config node is read-only for the world.
    assert_eq!(
        c.set_data("/zookeeper/config", b"x", -1),
        Err(ErrorCode::NoAuth)
    );
}

#[test]
fn containers_and_ttl_nodes_are_reaped() {
    let cfg = CoreConfig {
        extended_types: true,
        container_check_interval_ms: 100,
        ..CoreConfig::default()
    };
    let s = TestServer::start_with(cfg, 1 << 20);
    let mut c = s.client();
    let r = c
        .call(op::CREATE_CONTAINER, &create_req("/box", b"", open(), 4))
        .unwrap();
    let st = r.ok::<Create2Response>().unwrap().stat;
    assert_eq!(st.ephemeral_owner, 0, "clients see 0 for containers");
    c.create("/box/x", b"", open(), 0).unwrap();
    c.create("/empty-box", b"", open(), 0).unwrap();
    c.call(
        op::CREATE_CONTAINER,
        &create_req("/never-used", b"", open(), 4),
    )
    .unwrap();
    let ttl = CreateTTLRequest {
        path: "/ttl".into(),
        data: None,
        acl: open(),
        flags: 5,
        ttl: 50,
    };
    assert_eq!(c.call(op::CREATE_TTL, &ttl).unwrap().err(), 0);
    let bad = CreateTTLRequest {
        path: "/ttl2".into(),
        data: None,
        acl: open(),
        flags: 5,
        ttl: 0,
    };
    assert_eq!(
        err(&c.call(op::CREATE_TTL, &bad).unwrap()),
        ErrorCode::BadArguments
    );
    c.delete("/box/x", -1).unwrap();
    sleep(Duration::from_millis(600));
    assert_eq!(c.exists("/box", false), Err(ErrorCode::NoNode));
    assert_eq!(c.exists("/ttl", false), Err(ErrorCode::NoNode));
    assert!(
        c.exists("/never-used", false).is_ok(),
        "never-used containers stay"
    );
    assert!(c.exists("/empty-box", false).is_ok());
}

#[test]
fn oversized_and_malformed_frames_close_only_that_connection() {
    let s = TestServer::start_with(CoreConfig::default(), 4096);
    let mut good = s.client();
    let mut big = s.client();
    big.send_raw(&(1_000_000i32).to_be_bytes()).unwrap();
    assert!(
        big.read_reply().is_err(),
        "oversized frame: connection closed"
    );
    let mut neg = s.client();
    neg.send_raw(&(-5i32).to_be_bytes()).unwrap();
    assert!(neg.read_reply().is_err());
    // A truncated create body is a marshalling error, the connection lives.
    let mut t = s.client();
    let mut w = bytes::BytesMut::new();
    RequestHeader {
        xid: 1,
        type_: op::CREATE,
    }
    .write(&mut w);
    w.extend_from_slice(&[0, 0, 0, 9, b'/']);
    t.send_raw_frame(&w).unwrap();
    assert_eq!(
        ErrorCode::from_code(t.read_reply().unwrap().err()),
        Some(ErrorCode::MarshallingError)
    );
    assert!(t.exists("/", false).is_ok());
    // An absurd string length inside a record.
    let mut w = bytes::BytesMut::new();
    RequestHeader {
        xid: 2,
        type_: op::GET_DATA,
    }
    .write(&mut w);
    w.extend_from_slice(&i32::MAX.to_be_bytes());
    t.send_raw_frame(&w).unwrap();
    assert_eq!(
        ErrorCode::from_code(t.read_reply().unwrap().err()),
        Some(ErrorCode::MarshallingError)
    );
    // An unknown opcode gets Unimplemented and a close.
    let mut u = s.client();
    let r = u.call_empty(999).unwrap();
    assert_eq!(
        ErrorCode::from_code(r.err()),
        Some(ErrorCode::Unimplemented)
    );
    assert!(u.exists("/", false).is_err());
    // A garbage handshake is dropped.
    let mut raw = std::net::TcpStream::connect(s.addr).unwrap();
    use std::io::{Read, Write};
    raw.write_all(&[0, 0, 0, 3, 1, 2, 3]).unwrap();
    let mut buf = [0u8; 1];
    raw.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(raw.read(&mut buf).unwrap_or(0), 0);
    assert!(
        good.exists("/", false).is_ok(),
        "everyone else is still served"
    );
}

#[test]
fn four_letter_words_answer_and_honour_the_whitelist() {
    use std::io::{Read, Write};
    let s = TestServer::start();
    let _c = s.client();
    let ask = |cmd: &str| {
        let mut t = std::net::TcpStream::connect(s.addr).unwrap();
        t.write_all(cmd.as_bytes()).unwrap();
        let mut out = String::new();
        t.read_to_string(&mut out).unwrap();
        out
    };
    assert_eq!(ask("ruok"), "imok");
    let srvr = ask("srvr");
    assert!(srvr.contains("Mode: standalone\n"), "{srvr}");
    assert!(srvr.contains("Node count: 5\n"), "{srvr}");
    let mntr = ask("mntr");
    assert!(
        mntr.lines().any(|l| l == "zk_server_state\tstandalone"),
        "{mntr}"
    );
    assert_eq!(
        ask("wchp"),
        "wchp is not executed because it is not in the whitelist.\n"
    );
}

#[test]
fn a_client_that_does_not_read_is_not_read_from() {
    use std::io::{Read, Write};
    let s = TestServer::start();
    let mut c = s.client();
    let big = vec![b'x'; 900_000];
    c.create("/big", &big, open(), 0).unwrap();
    // 200 getData requests of ~900 KB replies each, none read yet.
    let n = 200;
    let mut frames = bytes::BytesMut::new();
    for xid in 1000..1000 + n {
        let mut w = bytes::BytesMut::new();
        RequestHeader {
            xid,
            type_: op::GET_DATA,
        }
        .write(&mut w);
        GetDataRequest {
            path: "/big".into(),
            watch: false,
        }
        .write(&mut w);
        frames.extend_from_slice(&(w.len() as i32).to_be_bytes());
        frames.extend_from_slice(&w);
    }
    c.send_raw(&frames).unwrap();
    sleep(Duration::from_millis(500));
    // The server has stopped taking requests from it: far fewer than n received.
    let mut t = std::net::TcpStream::connect(s.addr).unwrap();
    t.write_all(b"cons").unwrap();
    let mut cons = String::new();
    t.read_to_string(&mut cons).unwrap();
    let received: Vec<u64> = cons
        .lines()
        .filter_map(|l| l.split("recved=").nth(1))
        .filter_map(|r| r.split(',').next()?.parse().ok())
        .collect();
    let max = received.iter().copied().max().unwrap_or(0);
    // At most 64 requests in flight plus 8 MiB of replies, as net.rs allows.
    assert!(
        max < 100,
        "server kept reading a client that does not read: {cons}"
    );
    // Everyone else is served meanwhile, and the slow client gets every reply in order.
    assert!(s.client().exists("/big", false).is_ok());
    for xid in 1000..1000 + n {
        let r = c.read_reply().unwrap();
        assert_eq!((r.header.xid, r.err()), (xid, 0));
        assert_eq!(
            r.ok::<GetDataResponse>().unwrap().data.unwrap().len(),
            900_000
        );
    }
}

#[test]
fn set_watches_replies_echo_the_request_xid() {
    // Java 3.8 clients send setWatches with an ordinary xid and drop the
    // connection if the reply carries another.
    let s = TestServer::start();
    let mut c = s.client();
    let sw = SetWatches {
        relative_zxid: 0,
        data_watches: vec!["/".into()],
        exist_watches: vec![],
        child_watches: vec![],
    };
    let r = c.call_xid(5, op::SET_WATCHES, &sw).unwrap();
    assert_eq!((r.header.xid, r.err()), (5, 0));
    let sw2 = SetWatches2 {
        relative_zxid: 0,
        data_watches: vec![],
        exist_watches: vec![],
        child_watches: vec![],
        persistent_watches: vec!["/".into()],
        persistent_recursive_watches: vec![],
    };
    let r = c.call_xid(6, op::SET_WATCHES2, &sw2).unwrap();
    assert_eq!((r.header.xid, r.err()), (6, 0));
}

/// Reads are answered by the connections, on any runtime thread, while
/// the core applies writes: the two ordering rules of a single-threaded
/// server must still hold under a race. (1) A reply that shows a change
/// comes after the event of the watch that change fired. (2) A read that
/// set a watch and saw the old data gets the event later.
#[test]
fn watch_events_and_reads_keep_their_order_under_concurrent_writes() {
    let s = TestServer::start();
    let mut setup = s.client();
    setup.create("/race", b"0", open(), 0).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let mut c = s.client();
        std::thread::spawn(move || {
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 20_000 {
                c.set_data("/race", &n.to_be_bytes(), -1).unwrap();
                n += 1;
            }
            n
        })
    };
    let mut w = s.client();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut rounds = 0;
    let mut raced = 0;
    while rounds < 2000 && std::time::Instant::now() < deadline {
        rounds += 1;
        w.events.clear();
        let (_, watched) = w.get_data("/race", true).unwrap();
        // Rule (2): the watch was set on `watched`; any later version
        // must have fired it. Rule (1): seeing a later version in a reply
        // means the event came first.
        let mut fired = !w.events.is_empty();
        assert!(!fired, "no event can precede the reply that set the watch");
        for _ in 0..50 {
            let (_, now) = w.get_data("/race", false).unwrap();
            fired |= !w.events.is_empty();
            if now.version > watched.version {
                assert!(
                    fired,
                    "round {rounds}: a reply shows version {} after the watch on version {}, \
                     before its event",
                    now.version, watched.version
                );
                raced += 1;
                break;
            }
        }
        if !fired {
            // The writer may not have moved yet: wait for the event.
            w.set_read_timeout(Duration::from_secs(10)).unwrap();
            let ev = w
                .next_event()
                .expect("the watch fires once the data changes");
            assert_eq!(ev.type_, event::NODE_DATA_CHANGED);
            w.set_read_timeout(Duration::from_secs(30)).unwrap();
        }
        let ev = w.events.pop_front();
        if let Some(ev) = ev {
            assert_eq!(
                (ev.type_, ev.path.as_str()),
                (event::NODE_DATA_CHANGED, "/race")
            );
        }
        assert!(w.events.is_empty(), "a one-shot watch fires once");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let writes = writer.join().unwrap();
    assert!(
        writes > 0 && raced > 0,
        "the race was run ({writes} writes, {raced} races)"
    );
}
