//! The core on a leader: requests its learners forward, and the session
//! owner rule (SessionMoved) as Java's SessionTrackerImpl.checkSession has it.

use super::tests::{at, create, enc, replies, request};
use super::*;
use crate::jute::proto::{DeleteRequest, SetDataRequest};

fn leader() -> Core {
    let mut c = Core::new_leader(CoreConfig::default(), DataTree::new(false), at(1000));
    c.begin_epoch(1);
    c
}

const SESSION: i64 = 0x0300_0000_0000_0001;
const NO_AUTH: &[Id] = &[];

fn forward(c: &mut Core, learner: u64, cxid: i32, type_: i32, body: Bytes) -> Txn {
    c.remote_request(
        learner,
        SESSION,
        cxid,
        type_,
        body,
        Arc::new(NO_AUTH.to_vec()),
        at(1100),
    );
    let mut txns = c.take_log();
    assert_eq!(txns.len(), 1, "one txn per request");
    let t = txns.remove(0);
    c.committed(t.header.zxid, at(1100));
    t
}

fn err_of(t: &Txn) -> Option<i32> {
    match &t.body {
        TxnBody::Error(e) => Some(e.err),
        _ => None,
    }
}

fn set_data(path: &str) -> Bytes {
    enc(&SetDataRequest {
        path: path.into(),
        data: None,
        version: -1,
    })
}

#[test]
fn a_moved_sessions_old_server_gets_session_moved() {
    let mut c = leader();
    let mut b = BytesMut::new();
    b.put_i32(30000);
    let t = forward(&mut c, 2, 0, op::CREATE_SESSION, b.freeze());
    assert_eq!(t.header.type_, op::CREATE_SESSION);
    // Learner 2 created it: its requests pass.
    let t = forward(&mut c, 2, 1, op::CREATE, enc(&create("/a")));
    assert_eq!((t.header.type_, err_of(&t)), (op::CREATE, None));
    // Learner 3 is not the owner.
    let t = forward(&mut c, 3, 2, op::SET_DATA, set_data("/a"));
    assert_eq!(
        (t.header.type_, err_of(&t)),
        (op::ERROR, Some(ErrorCode::SessionMoved.code()))
    );
    // The client re-attaches through learner 3: now learner 2 is the stale one.
    assert!(c.revalidate_session(3, SESSION, 30000, at(1200)));
    let t = forward(&mut c, 3, 3, op::SET_DATA, set_data("/a"));
    assert_eq!((t.header.type_, err_of(&t)), (op::SET_DATA, None));
    let t = forward(
        &mut c,
        2,
        4,
        op::DELETE,
        enc(&DeleteRequest {
            path: "/a".into(),
            version: -1,
        }),
    );
    assert_eq!(err_of(&t), Some(ErrorCode::SessionMoved.code()));
    // closeSession is never checked (the expirer is no owner either).
    let t = forward(&mut c, 2, 5, op::CLOSE_SESSION, Bytes::new());
    assert_eq!(t.header.type_, op::CLOSE_SESSION);
}

#[test]
fn a_session_re_attached_on_the_leader_is_the_leaders() {
    let mut c = leader();
    let mut b = BytesMut::new();
    b.put_i32(30000);
    forward(&mut c, 2, 0, op::CREATE_SESSION, b.freeze());
    // The leader's own client connects with the session's id and password.
    c.open(1, "127.0.0.1:5000".parse().unwrap(), at(1300));
    let req = ConnectRequest {
        session_id: SESSION,
        passwd: Some(Bytes::copy_from_slice(&session::password(SESSION))),
        ..super::tests::connect_request()
    };
    c.connect(1, enc(&req), at(1300));
    assert_eq!(c.conns[&1].session, SESSION, "re-attached");
    replies(&mut c);
    request(&mut c, 1, 7, op::CREATE, &create("/b"));
    let t = c.take_log().remove(0);
    assert_eq!((t.header.type_, err_of(&t)), (op::CREATE, None));
    c.committed(t.header.zxid, at(1400));
    assert_eq!(replies(&mut c), vec![(1, 7, 0)]);
    let t = forward(&mut c, 2, 1, op::SET_DATA, set_data("/b"));
    assert_eq!(err_of(&t), Some(ErrorCode::SessionMoved.code()));
}
