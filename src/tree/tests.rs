use super::*;
use crate::jute::txn::{CreateTxn, DeleteTxn, ErrorTxn, SetDataTxn, TxnHeader};

fn hdr(zxid: i64, type_: i32) -> TxnHeader {
    TxnHeader {
        client_id: 7,
        cxid: 1,
        zxid,
        time: 1000 + zxid,
        type_,
    }
}

fn create(path: &str, ephemeral: bool, parent_cversion: i32) -> TxnBody {
    TxnBody::Create(CreateTxn {
        path: path.into(),
        data: Some(Bytes::from_static(b"d")),
        acl: acl::open_acl_unsafe(),
        ephemeral,
        parent_cversion,
    })
}

fn apply(t: &mut DataTree, zxid: i64, type_: i32, body: TxnBody) -> (TxnResult, Vec<Change>) {
    let mut ch = vec![];
    let rc = t.apply(
        &Txn {
            header: hdr(zxid, type_),
            body,
            digest: None,
        },
        &mut ch,
    );
    (rc, ch)
}

#[test]
fn a_new_tree_has_the_server_nodes() {
    let t = DataTree::new(false);
    assert_eq!(t.node_count(), 4);
    assert_eq!(t.stat("/").unwrap().num_children, 1);
    assert_eq!(t.stat("/zookeeper/config").unwrap().aversion, -1);
}

#[test]
fn create_and_delete_keep_parent_counters() {
    let mut t = DataTree::new(false);
    let (rc, ch) = apply(&mut t, 1, op::CREATE2, create("/a", false, 1));
    assert_eq!(rc.err, 0);
    assert_eq!(rc.stat.as_ref().unwrap().czxid, 1);
    assert!(matches!(&ch[0], Change::Created { path, .. } if path == "/a"));
    apply(&mut t, 2, op::CREATE, create("/a/b", false, 1));
    apply(
        &mut t,
        3,
        op::DELETE,
        TxnBody::Delete(DeleteTxn {
            path: "/a/b".into(),
        }),
    );
    let a = t.stat("/a").unwrap();
    assert_eq!((a.cversion, a.pzxid, a.num_children), (2, 3, 0));
    assert_eq!(t.last_processed_zxid, 3);
}

#[test]
fn a_failed_multi_applies_nothing_and_reports_each_op() {
    let mut t = DataTree::new(false);
    let body = TxnBody::Multi(vec![
        (op::CREATE, create("/m", false, 1)),
        (
            op::ERROR,
            TxnBody::Error(ErrorTxn {
                err: ErrorCode::NoNode.code(),
            }),
        ),
        (
            op::SET_DATA,
            TxnBody::SetData(SetDataTxn {
                path: "/m".into(),
                data: None,
                version: 1,
            }),
        ),
    ]);
    let (rc, ch) = apply(&mut t, 5, op::MULTI, body);
    assert!(ch.is_empty());
    assert!(t.get("/m").is_none());
    let errs: Vec<(i32, i32)> = rc.multi.iter().map(|r| (r.type_, r.err)).collect();
    assert_eq!(
        errs,
        vec![(op::ERROR, 0), (op::ERROR, -101), (op::ERROR, -2)]
    );
    assert_eq!(
        t.last_processed_zxid, 5,
        "a failed multi still advances the zxid"
    );
}

#[test]
fn closing_a_session_deletes_its_ephemerals() {
    let mut t = DataTree::new(false);
    apply(&mut t, 1, op::CREATE, create("/e1", true, 1));
    apply(&mut t, 2, op::CREATE, create("/e2", true, 2));
    assert_eq!(t.ephemeral_count(), 2);
    assert_eq!(t.stat("/e1").unwrap().ephemeral_owner, 7);
    let body = TxnBody::CloseSession(crate::jute::txn::CloseSessionTxn {
        paths2_delete: vec!["/e2".into()],
    });
    let (_, ch) = apply(&mut t, 3, op::CLOSE_SESSION, body);
    assert_eq!(ch.len(), 2, "listed and unlisted ephemerals both go");
    assert!(t.get("/e1").is_none() && t.get("/e2").is_none());
    assert_eq!(t.ephemeral_count(), 0);
}

#[test]
fn set_data_tracks_size_and_version() {
    let mut t = DataTree::new(false);
    apply(&mut t, 1, op::CREATE, create("/s", false, 1));
    let before = t.approximate_data_size();
    let (rc, _) = apply(
        &mut t,
        2,
        op::SET_DATA,
        TxnBody::SetData(SetDataTxn {
            path: "/s".into(),
            data: Some(Bytes::from_static(b"four")),
            version: 1,
        }),
    );
    let st = rc.stat.unwrap();
    assert_eq!(
        (st.version, st.mzxid, st.czxid, st.data_length),
        (1, 2, 1, 4)
    );
    assert_eq!(t.approximate_data_size(), before + 3);
}

#[test]
fn descendants_are_counted_at_every_depth() {
    let mut t = DataTree::new(false);
    apply(&mut t, 1, op::CREATE, create("/x", false, 1));
    apply(&mut t, 2, op::CREATE, create("/x/y", false, 1));
    apply(&mut t, 3, op::CREATE, create("/x/y/z", false, 1));
    assert_eq!(t.all_children_number("/x"), 2);
    assert_eq!(t.all_children_number("/"), 6);
}
