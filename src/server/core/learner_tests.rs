//! The core of a learner: writes forwarded, answered when the leader's
//! commit comes back (txns made here by hand, as a leader would).

use super::tests::{at, connect_request, create, enc, exists, replies, request};
use super::*;
use crate::jute::proto::{SyncRequest, SyncResponse};
use crate::jute::txn::{CreateTxn, SetDataTxn};

fn learner() -> Core {
    let cfg = CoreConfig {
        server_id: 3,
        ..CoreConfig::default()
    };
    Core::new_learner(cfg, DataTree::new(false), at(1000))
}

fn txn(session: i64, cxid: i32, zxid: i64, type_: i32, body: TxnBody) -> Txn {
    Txn {
        header: TxnHeader {
            client_id: session,
            cxid,
            zxid,
            time: 1_700_000_000_000,
            type_,
        },
        body,
        digest: None,
    }
}

fn create_txn(path: &str) -> TxnBody {
    TxnBody::Create(CreateTxn {
        path: path.into(),
        data: None,
        acl: acl::open_acl_unsafe(),
        ephemeral: false,
        parent_cversion: 1,
    })
}

/// Connects through the learner; returns the session, once the leader's
/// createSession commit has come back.
fn connect_via_leader(c: &mut Core, conn: ConnId, zxid: i64) -> i64 {
    c.open(conn, "127.0.0.1:5000".parse().unwrap(), at(1000));
    c.connect(conn, enc(&connect_request()), at(1000));
    let fw = c.take_forwards();
    let [Forward::Request {
        session,
        cxid: 0,
        type_: op::CREATE_SESSION,
        body,
        ..
    }] = &fw[..]
    else {
        panic!("expected one forwarded createSession, got {fw:?}");
    };
    assert_eq!(&body[..], &30000i32.to_be_bytes(), "the negotiated timeout");
    assert!(c.take_output().is_empty(), "no answer before the commit");
    let session = *session;
    c.apply_committed(
        txn(
            session,
            0,
            zxid,
            op::CREATE_SESSION,
            TxnBody::CreateSession(CreateSessionTxn { time_out: 30000 }),
        ),
        at(1001),
    );
    assert_eq!(c.take_output().len(), 1, "the connect response");
    session
}

#[test]
fn a_learner_makes_session_ids_with_its_own_server_id() {
    let mut c = learner();
    let s = connect_via_leader(&mut c, 1, 1);
    assert_eq!(s >> 56, 3);
    assert_eq!(c.conns[&1].session, s);
}

#[test]
fn a_forwarded_write_is_answered_by_its_commit_and_reads_behind_it_wait() {
    let mut c = learner();
    let s = connect_via_leader(&mut c, 1, 1);
    let other = connect_via_leader(&mut c, 2, 2);
    request(&mut c, 1, 5, op::CREATE, &create("/x"));
    request(&mut c, 1, 6, op::EXISTS, &exists("/x", false));
    request(&mut c, 2, 1, op::EXISTS, &exists("/x", true));
    // Nothing prepared here: the write went to the leader, the read of the
    // same connection waits, another connection reads at once.
    assert!(c.take_log().is_empty());
    assert_eq!(replies(&mut c), vec![(2, 1, ErrorCode::NoNode.code())]);
    let fw = c.take_forwards();
    assert!(
        matches!(&fw[..], [Forward::Request { session, cxid: 5, type_: op::CREATE, .. }] if *session == s),
        "{fw:?}"
    );
    // Another server's client's txn: applied, fires the watch, answers nobody here.
    c.apply_committed(txn(0x99, 1, 3, op::CREATE, create_txn("/x")), at(1002));
    assert_eq!(replies(&mut c), vec![(2, -1, 0)]);
    // The commit of our own write: its reply, then the queued read.
    c.apply_committed(
        txn(
            s,
            5,
            4,
            op::ERROR,
            TxnBody::Error(crate::jute::txn::ErrorTxn {
                err: ErrorCode::NodeExists.code(),
            }),
        ),
        at(1003),
    );
    assert_eq!(
        replies(&mut c),
        vec![(1, 5, ErrorCode::NodeExists.code()), (1, 6, 0)]
    );
    let _ = other;
}

#[test]
fn a_learner_reports_touches_and_expires_nothing_itself() {
    let mut c = learner();
    let s = connect_via_leader(&mut c, 1, 1);
    c.take_touches(at(1000));
    request(&mut c, 1, 1, op::EXISTS, &exists("/", false));
    assert_eq!(c.take_touches(at(1000)), vec![(s, 30000)]);
    assert!(
        c.take_touches(at(1000)).is_empty(),
        "drained by each PING reply"
    );
    // Far past the timeout: the leader decides, not us.
    c.tick(at(10_000_000));
    assert!(c.take_log().is_empty() && c.take_forwards().is_empty());
    // The leader's closeSession (an expiry) closes the connection.
    c.apply_committed(
        txn(
            s,
            0,
            2,
            op::CLOSE_SESSION,
            TxnBody::CloseSession(Default::default()),
        ),
        at(10_000_001),
    );
    assert!(c.take_output().contains(&(1, Outbound::Close)));
}

#[test]
fn a_sync_is_answered_when_the_leader_says_so() {
    let mut c = learner();
    connect_via_leader(&mut c, 1, 1);
    request(
        &mut c,
        1,
        3,
        op::SYNC,
        &SyncRequest {
            path: "/a/b".into(),
        },
    );
    request(&mut c, 1, 4, op::EXISTS, &exists("/", false));
    assert_eq!(c.take_forwards().len(), 1);
    assert!(replies(&mut c).is_empty());
    c.sync_done(at(1002));
    let out = c.take_output();
    assert_eq!(out.len(), 2);
    let Outbound::Frame(f) = &out[0].1 else {
        panic!()
    };
    let mut r = Reader::new(f.slice(4..));
    let h = ReplyHeader::read(&mut r).unwrap();
    assert_eq!((h.xid, h.err), (3, 0));
    assert_eq!(SyncResponse::read(&mut r).unwrap().path, "/a/b");
}

#[test]
fn re_attaching_a_session_asks_the_leader() {
    let mut c = learner();
    let s = connect_via_leader(&mut c, 1, 1);
    c.apply_committed(
        txn(
            s,
            1,
            2,
            op::SET_DATA,
            TxnBody::SetData(SetDataTxn {
                path: "/".into(),
                data: None,
                version: 0,
            }),
        ),
        at(1002),
    );
    for (conn, valid) in [(2, true), (3, false)] {
        c.open(conn, "127.0.0.1:5001".parse().unwrap(), at(1003));
        let mut req = connect_request();
        req.session_id = s;
        req.passwd = Some(Bytes::copy_from_slice(&session::password(s)));
        c.connect(conn, enc(&req), at(1003));
        assert_eq!(
            c.take_forwards(),
            vec![Forward::Revalidate {
                session: s,
                timeout_ms: 30000
            }]
        );
        // As Java, the session's old connection goes at once, whatever
        // the leader answers.
        let out = c.take_output();
        assert!(
            out.iter().all(|(k, _)| *k != conn),
            "no answer yet: {out:?}"
        );
        c.revalidated(s, valid, at(1004));
        let out = c.take_output();
        let Some((_, Outbound::Frame(f))) = out.iter().find(|(k, _)| *k == conn) else {
            panic!("no connect response: {out:?}")
        };
        let rsp = ConnectResponse::read(&mut Reader::new(f.slice(4..))).unwrap();
        assert_eq!(rsp.session_id, if valid { s } else { 0 });
        assert_eq!(out.contains(&(conn, Outbound::Close)), !valid);
        assert_eq!(c.conn_of(s) == Some(conn), valid);
    }
}
