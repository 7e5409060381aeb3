//! Reply and event frames, as the core and the connections send them.

use bytes::{BufMut, Bytes, BytesMut};

use crate::jute::proto::{
    Create2Response, CreateResponse, ErrorResponse, MultiHeader, ReplyHeader, SetACLResponse,
    SetDataResponse, WatcherEvent,
};
use crate::jute::JuteField;
use crate::proto::{op, state, xid};
use crate::tree::TxnResult;
use crate::watch::Fired;

/// A reply body, built by the read and write paths.
pub enum Body {
    None,
    Bytes(Bytes),
}

impl Body {
    pub fn of<T: JuteField>(rec: &T) -> Body {
        Body::Bytes(crate::jute::encode(rec))
    }
}

/// Frames a reply: length, header, optional body.
pub fn frame(hdr: &ReplyHeader, body: impl FnOnce(&mut BytesMut)) -> Bytes {
    let mut w = BytesMut::with_capacity(64);
    w.put_i32(0);
    hdr.write(&mut w);
    body(&mut w);
    let len = (w.len() - 4) as i32;
    w[..4].copy_from_slice(&len.to_be_bytes());
    w.freeze()
}

/// A reply with its body.
pub fn reply_frame(xid: i32, zxid: i64, err: i32, body: Body) -> Bytes {
    let hdr = ReplyHeader { xid, zxid, err };
    frame(&hdr, |w| {
        if let Body::Bytes(b) = body {
            w.put_slice(&b);
        }
    })
}

/// A watch event, as the watcher's connection hears it.
pub fn event_frame(f: &Fired) -> Bytes {
    let hdr = ReplyHeader {
        xid: xid::NOTIFICATION,
        zxid: -1,
        err: 0,
    };
    let ev = WatcherEvent {
        type_: f.type_,
        state: state::SYNC_CONNECTED,
        path: f.path.clone(),
    };
    frame(&hdr, |w| ev.write(w))
}

/// The op a write's reply is counted under: a write refused in prep shows
/// as lop=NA in Java's `cons`.
pub fn reply_lop(type_: i32, rc: &TxnResult) -> i32 {
    if rc.type_ == op::ERROR && type_ != op::MULTI {
        op::ERROR
    } else {
        type_
    }
}

/// The reply to a write, from the result of applying it.
pub fn write_reply(type_: i32, rc: &TxnResult) -> (i32, Body) {
    if rc.type_ == op::ERROR {
        return (rc.err, Body::None);
    }
    let stat = || rc.stat.clone().unwrap_or_default();
    let body = match type_ {
        op::CREATE => Body::of(&CreateResponse {
            path: rc.path.clone(),
        }),
        op::CREATE2 | op::CREATE_TTL | op::CREATE_CONTAINER => Body::of(&Create2Response {
            path: rc.path.clone(),
            stat: stat(),
        }),
        op::SET_DATA | op::CHECK => Body::of(&SetDataResponse { stat: stat() }),
        op::SET_ACL => Body::of(&SetACLResponse { stat: stat() }),
        op::MULTI => {
            let mut w = BytesMut::new();
            for sub in &rc.multi {
                let err = if sub.type_ == op::ERROR { sub.err } else { 0 };
                let hdr_type = match sub.type_ {
                    op::CREATE_TTL | op::CREATE_CONTAINER => op::CREATE2,
                    op::DELETE_CONTAINER => op::DELETE,
                    t => t,
                };
                MultiHeader {
                    type_: hdr_type,
                    done: false,
                    err,
                }
                .write(&mut w);
                match sub.type_ {
                    op::CREATE => CreateResponse {
                        path: sub.path.clone(),
                    }
                    .write(&mut w),
                    op::CREATE2 | op::CREATE_TTL | op::CREATE_CONTAINER => Create2Response {
                        path: sub.path.clone(),
                        stat: sub.stat.clone().unwrap_or_default(),
                    }
                    .write(&mut w),
                    op::SET_DATA => SetDataResponse {
                        stat: sub.stat.clone().unwrap_or_default(),
                    }
                    .write(&mut w),
                    op::ERROR => ErrorResponse { err: sub.err }.write(&mut w),
                    _ => {}
                }
            }
            MultiHeader {
                type_: -1,
                done: true,
                err: -1,
            }
            .write(&mut w);
            Body::Bytes(w.freeze())
        }
        _ => Body::None,
    };
    // A write that reached the tree but failed there (e.g. on replay) reports it.
    (if type_ == op::MULTI { 0 } else { rc.err }, body)
}
