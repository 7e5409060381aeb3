//! The core without a network: the log stage held back by hand.

use super::*;
use crate::jute::proto::{CreateRequest, ExistsRequest};

pub(super) fn at(ms: i64) -> Now {
    Now {
        mono_ms: ms,
        wall_ms: 1_700_000_000_000 + ms,
    }
}

pub(super) fn enc<T: JuteField>(r: &T) -> Bytes {
    crate::jute::encode(r)
}

fn core() -> Core {
    Core::new(CoreConfig::default(), DataTree::new(false), at(1000))
}

/// A new client's handshake.
pub(super) fn connect_request() -> ConnectRequest {
    ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        time_out: 30000,
        session_id: 0,
        passwd: Some(Bytes::from_static(&[0; 16])),
    }
}

pub(super) fn connect(core: &mut Core, conn: ConnId) -> i64 {
    core.open(conn, "127.0.0.1:5000".parse().unwrap(), at(1000));
    core.connect(conn, enc(&connect_request()), at(1000));
    core.commit_in_memory(at(1000));
    core.take_output();
    core.conns[&conn].session
}

pub(super) fn request<T: JuteField>(core: &mut Core, conn: ConnId, xid: i32, type_: i32, body: &T) {
    let mut b = BytesMut::new();
    RequestHeader { xid, type_ }.write(&mut b);
    body.write(&mut b);
    core.request(conn, b.freeze(), at(1001));
}

/// (conn, xid, err) of every reply sent, events as xid -1.
pub(super) fn replies(core: &mut Core) -> Vec<(ConnId, i32, i32)> {
    core.take_output()
        .into_iter()
        .filter_map(|(c, o)| match o {
            Outbound::Frame(f) => {
                let mut r = Reader::new(f.slice(4..));
                let h = ReplyHeader::read(&mut r).ok()?;
                Some((c, h.xid, h.err))
            }
            Outbound::Close => None,
        })
        .collect()
}

pub(super) fn create(path: &str) -> CreateRequest {
    CreateRequest {
        path: path.into(),
        data: None,
        acl: acl::open_acl_unsafe(),
        flags: 0,
    }
}

pub(super) fn exists(path: &str, watch: bool) -> ExistsRequest {
    ExistsRequest {
        path: path.into(),
        watch,
    }
}

#[test]
fn a_read_waits_for_the_same_connections_earlier_write() {
    let mut c = core();
    connect(&mut c, 1);
    connect(&mut c, 2);
    request(&mut c, 1, 1, op::CREATE, &create("/x"));
    request(&mut c, 1, 2, op::EXISTS, &exists("/x", false));
    request(&mut c, 2, 1, op::EXISTS, &exists("/x", false));
    // Nothing is durable yet: connection 1 waits; connection 2 reads the
    // tree as it is (no /x).
    assert_eq!(replies(&mut c), vec![(2, 1, ErrorCode::NoNode.code())]);
    let txns = c.take_log();
    assert_eq!(txns.len(), 1);
    c.durable(txns[0].header.zxid, at(1002));
    assert_eq!(replies(&mut c), vec![(1, 1, 0), (1, 2, 0)]);
}

#[test]
fn a_new_session_is_answered_once_durable() {
    let mut c = core();
    c.open(1, "127.0.0.1:5000".parse().unwrap(), at(1000));
    let req = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        time_out: 30000,
        session_id: 0,
        passwd: Some(Bytes::from_static(&[0; 16])),
    };
    c.connect(1, enc(&req), at(1000));
    // A request pipelined behind the handshake waits too.
    request(&mut c, 1, 1, op::EXISTS, &exists("/", false));
    assert!(c.take_output().is_empty());
    let txns = c.take_log();
    assert_eq!(txns[0].header.type_, op::CREATE_SESSION);
    c.durable(txns[0].header.zxid, at(1001));
    let out = c.take_output();
    assert_eq!(out.len(), 2, "connect response, then the exists reply");
}

#[test]
fn writes_pipeline_and_complete_in_order_with_events_first() {
    let mut c = core();
    connect(&mut c, 1);
    connect(&mut c, 2);
    request(&mut c, 2, 1, op::EXISTS, &exists("/a", true));
    replies(&mut c);
    request(&mut c, 1, 1, op::CREATE, &create("/a"));
    request(&mut c, 1, 2, op::CREATE, &create("/a/b"));
    request(&mut c, 2, 2, op::EXISTS, &exists("/a", false));
    // Connection 2 has no write pending: it sees the applied tree, no /a yet.
    assert_eq!(replies(&mut c), vec![(2, 2, ErrorCode::NoNode.code())]);
    let txns = c.take_log();
    assert_eq!(
        txns.len(),
        2,
        "the second create was prepped against the first"
    );
    c.durable(txns[1].header.zxid, at(1002));
    assert_eq!(replies(&mut c), vec![(2, -1, 0), (1, 1, 0), (1, 2, 0)]);
}

#[test]
fn expiry_goes_through_the_log() {
    let mut c = core();
    let sid = connect(&mut c, 1);
    c.tick(at(1_000_000));
    let txns = c.take_log();
    assert_eq!(txns.len(), 1);
    assert_eq!(
        (txns[0].header.type_, txns[0].header.client_id),
        (op::CLOSE_SESSION, sid)
    );
    assert!(c.sessions.get(sid).is_some(), "still tracked until applied");
    c.durable(txns[0].header.zxid, at(1_000_001));
    assert!(c.sessions.get(sid).is_none());
    assert!(c.take_output().contains(&(1, Outbound::Close)));
}

#[test]
fn every_transaction_carries_the_digest_of_the_tree_it_leaves() {
    use crate::jute::proto::{DeleteRequest, MultiHeader, SetACLRequest, SetDataRequest};
    let mut c = core();
    connect(&mut c, 1);
    connect(&mut c, 2);
    let mut xid = 0;
    let mut send = |c: &mut Core, type_: i32, body: Bytes| {
        xid += 1;
        let mut b = BytesMut::new();
        RequestHeader { xid, type_ }.write(&mut b);
        b.extend_from_slice(&body);
        c.request(1, b.freeze(), at(1001));
    };
    send(&mut c, op::CREATE, enc(&create("/a")));
    send(&mut c, op::CREATE, enc(&create("/a/b")));
    send(
        &mut c,
        op::CREATE,
        enc(&CreateRequest {
            flags: 1,
            ..create("/a/e")
        }),
    );
    send(
        &mut c,
        op::CREATE,
        enc(&CreateRequest {
            flags: 2,
            ..create("/a/s-")
        }),
    );
    send(&mut c, op::CREATE, enc(&create("/zookeeper/x")));
    send(
        &mut c,
        op::SET_DATA,
        enc(&SetDataRequest {
            path: "/a".into(),
            data: Some(Bytes::from_static(b"xyz")),
            version: -1,
        }),
    );
    send(
        &mut c,
        op::SET_ACL,
        enc(&SetACLRequest {
            path: "/a/b".into(),
            acl: acl::read_acl_unsafe(),
            version: -1,
        }),
    );
    send(
        &mut c,
        op::DELETE,
        enc(&DeleteRequest {
            path: "/a/b".into(),
            version: -1,
        }),
    );
    send(
        &mut c,
        op::DELETE,
        enc(&DeleteRequest {
            path: "/nope".into(),
            version: -1,
        }),
    );
    let mut multi = BytesMut::new();
    for (t, body) in [
        (op::CREATE, enc(&create("/m"))),
        (op::CREATE, enc(&create("/m/n"))),
    ] {
        MultiHeader {
            type_: t,
            done: false,
            err: -1,
        }
        .write(&mut multi);
        multi.extend_from_slice(&body);
    }
    MultiHeader {
        type_: -1,
        done: true,
        err: -1,
    }
    .write(&mut multi);
    send(&mut c, op::MULTI, multi.clone().freeze());
    // The same multi again fails (NodeExists): nothing applies.
    send(&mut c, op::MULTI, multi.freeze());
    let txns = c.take_log();
    let expected_err: Vec<bool> = txns.iter().map(|t| t.digest.is_none()).collect();
    assert_eq!(
        expected_err.iter().filter(|&&e| e).count(),
        1,
        "only the refused delete goes without a digest"
    );
    for t in txns {
        let zxid = t.header.zxid;
        let want = t.digest.clone();
        c.in_flight.retain(|f| f.txn.header.zxid != zxid);
        let rc = c.commit(t);
        let _ = rc;
        if let Some(d) = want {
            assert_eq!(d.tree_digest, c.tree().digest(), "zxid {zxid}");
        }
        assert_eq!(
            c.tree().digest(),
            c.tree().recompute_digest(),
            "kept digest drifted at zxid {zxid}"
        );
    }
    // Closing the session deletes its ephemeral and is digested too.
    let mut b = BytesMut::new();
    RequestHeader {
        xid: 99,
        type_: op::CLOSE_SESSION,
    }
    .write(&mut b);
    c.request(1, b.freeze(), at(1002));
    let close = c.take_log().pop().unwrap();
    let want = close.digest.clone().unwrap().tree_digest;
    c.in_flight.clear();
    c.commit(close);
    assert_eq!(want, c.tree().digest());
    assert_eq!(c.stats.digest_mismatches, 0);
}
