//! The core without a network: the log stage held back by hand.

use super::*;
use crate::jute::proto::{CreateRequest, ExistsRequest};

fn at(ms: i64) -> Now {
    Now {
        mono_ms: ms,
        wall_ms: 1_700_000_000_000 + ms,
    }
}

fn enc<T: JuteField>(r: &T) -> Bytes {
    crate::jute::encode(r)
}

fn core() -> Core {
    Core::new(CoreConfig::default(), DataTree::new(false), at(1000))
}

fn connect(core: &mut Core, conn: ConnId) -> i64 {
    core.open(conn, "127.0.0.1:5000".parse().unwrap(), at(1000));
    let req = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        time_out: 30000,
        session_id: 0,
        passwd: Some(Bytes::from_static(&[0; 16])),
    };
    core.connect(conn, enc(&req), at(1000));
    core.commit_in_memory(at(1000));
    core.take_output();
    core.conns[&conn].session
}

fn request<T: JuteField>(core: &mut Core, conn: ConnId, xid: i32, type_: i32, body: &T) {
    let mut b = BytesMut::new();
    RequestHeader { xid, type_ }.write(&mut b);
    body.write(&mut b);
    core.request(conn, b.freeze(), at(1001));
}

/// (conn, xid, err) of every reply sent, events as xid -1.
fn replies(core: &mut Core) -> Vec<(ConnId, i32, i32)> {
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

fn create(path: &str) -> CreateRequest {
    CreateRequest {
        path: path.into(),
        data: None,
        acl: acl::open_acl_unsafe(),
        flags: 0,
    }
}

fn exists(path: &str, watch: bool) -> ExistsRequest {
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
