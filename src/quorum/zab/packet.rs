//! QuorumPacket: the one record on the quorum port, and what its data
//! field holds for each packet type.
//!
//! On the stream a packet is the jute record itself, with no length in
//! front (Java writes it with `BinaryOutputArchive.writeRecord`): type,
//! zxid, data (a buffer), authinfo (a vector of ids). So a reader must
//! walk the fields to know where a packet ends; `decode` does that over
//! whatever bytes have arrived, and refuses any length above the limit
//! before anything is allocated for it.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::jute::data::Id;
use crate::jute::quorum::{LearnerInfo, QuorumPacket};
use crate::jute::{JuteField, Reader};
use crate::persist::txnlog;
use crate::txn::Txn;

/// Packet types (Java's Leader constants).
pub mod kind {
    pub const REQUEST: i32 = 1;
    pub const PROPOSAL: i32 = 2;
    pub const ACK: i32 = 3;
    pub const COMMIT: i32 = 4;
    pub const PING: i32 = 5;
    pub const REVALIDATE: i32 = 6;
    pub const SYNC: i32 = 7;
    pub const INFORM: i32 = 8;
    pub const COMMITANDACTIVATE: i32 = 9;
    pub const NEWLEADER: i32 = 10;
    pub const FOLLOWERINFO: i32 = 11;
    pub const UPTODATE: i32 = 12;
    pub const DIFF: i32 = 13;
    pub const TRUNC: i32 = 14;
    pub const SNAP: i32 = 15;
    pub const OBSERVERINFO: i32 = 16;
    pub const LEADERINFO: i32 = 17;
    pub const ACKEPOCH: i32 = 18;
    pub const INFORMANDACTIVATE: i32 = 19;

    /// The name Java's logs use for a packet type.
    pub fn name(t: i32) -> &'static str {
        match t {
            REQUEST => "REQUEST",
            PROPOSAL => "PROPOSAL",
            ACK => "ACK",
            COMMIT => "COMMIT",
            PING => "PING",
            REVALIDATE => "REVALIDATE",
            SYNC => "SYNC",
            INFORM => "INFORM",
            COMMITANDACTIVATE => "COMMITANDACTIVATE",
            NEWLEADER => "NEWLEADER",
            FOLLOWERINFO => "FOLLOWERINFO",
            UPTODATE => "UPTODATE",
            DIFF => "DIFF",
            TRUNC => "TRUNC",
            SNAP => "SNAP",
            OBSERVERINFO => "OBSERVERINFO",
            LEADERINFO => "LEADERINFO",
            ACKEPOCH => "ACKEPOCH",
            INFORMANDACTIVATE => "INFORMANDACTIVATE",
            _ => "UNKNOWN",
        }
    }
}

/// The protocol version a 3.4+ learner and leader announce
/// (Java's Leader/Learner 0x10000).
pub const PROTOCOL_VERSION: i32 = 0x10000;

/// Why bytes on the quorum port are not a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacketError {
    /// A length field beyond what any packet may hold (or below -1).
    BadLength { field: &'static str, len: i64 },
    /// A data field that does not hold what its packet type says.
    BadData { type_: i32, reason: String },
}

impl std::fmt::Display for PacketError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PacketError::BadLength { field, len } => {
                write!(f, "unreasonable length {len} for {field}")
            }
            PacketError::BadData { type_, reason } => {
                write!(f, "bad {} packet: {reason}", kind::name(*type_))
            }
        }
    }
}

impl std::error::Error for PacketError {}

/// Most authinfo entries a packet may carry: a connection's ids are a
/// handful; this only bounds what a stranger can make us allocate.
const MAX_AUTH_IDS: i32 = 1024;

/// The serialised packet.
pub fn encode(p: &QuorumPacket) -> Bytes {
    let mut w = BytesMut::with_capacity(24 + p.data.as_ref().map_or(0, |d| d.len()));
    p.write(&mut w);
    w.freeze()
}

/// Takes one whole packet off the front of `buf`, if it has arrived.
/// `max` bounds every length field (Java's jute.maxbuffer check).
pub fn decode(buf: &mut BytesMut, max: usize) -> Result<Option<QuorumPacket>, PacketError> {
    let Some(len) = packet_len(buf, max)? else {
        return Ok(None);
    };
    let bytes = buf.split_to(len).freeze();
    let p = QuorumPacket::read(&mut Reader::new(bytes)).map_err(|e| PacketError::BadData {
        type_: 0,
        reason: e.to_string(),
    })?;
    Ok(Some(p))
}

/// The length of the packet at the front of `buf`, once all of it is
/// there; every length field is checked before it is trusted.
fn packet_len(buf: &[u8], max: usize) -> Result<Option<usize>, PacketError> {
    let mut at = 12; // type, zxid
    let Some(data_len) = read_len(buf, &mut at, "data", max)? else {
        return Ok(None);
    };
    at += data_len;
    let Some(ids) = read_count(buf, &mut at)? else {
        return Ok(None);
    };
    for _ in 0..ids {
        for field in ["authinfo scheme", "authinfo id"] {
            let Some(n) = read_len(buf, &mut at, field, max)? else {
                return Ok(None);
            };
            at += n;
        }
    }
    Ok((buf.len() >= at).then_some(at))
}

/// A buffer/string length at `*at` (-1, null, counts as 0).
fn read_len(
    buf: &[u8],
    at: &mut usize,
    field: &'static str,
    max: usize,
) -> Result<Option<usize>, PacketError> {
    let Some(mut b) = buf.get(*at..*at + 4) else {
        return Ok(None);
    };
    let len = b.get_i32();
    *at += 4;
    if len < -1 || len as i64 > max as i64 {
        return Err(PacketError::BadLength {
            field,
            len: len.into(),
        });
    }
    Ok(Some(len.max(0) as usize))
}

fn read_count(buf: &[u8], at: &mut usize) -> Result<Option<i32>, PacketError> {
    let Some(mut b) = buf.get(*at..*at + 4) else {
        return Ok(None);
    };
    let n = b.get_i32();
    *at += 4;
    if !(-1..=MAX_AUTH_IDS).contains(&n) {
        return Err(PacketError::BadLength {
            field: "authinfo",
            len: n.into(),
        });
    }
    Ok(Some(n.max(0)))
}

/// A packet with no authinfo.
pub fn packet(type_: i32, zxid: i64, data: Option<Bytes>) -> QuorumPacket {
    QuorumPacket {
        type_,
        zxid,
        data,
        authinfo: Vec::new(),
    }
}

fn bad(type_: i32, reason: impl Into<String>) -> PacketError {
    PacketError::BadData {
        type_,
        reason: reason.into(),
    }
}

// ---- data layouts ------------------------------------------------------

/// FOLLOWERINFO / OBSERVERINFO: who the learner is; zxid carries
/// (acceptedEpoch, 0).
pub fn learner_info(
    type_: i32,
    sid: u64,
    accepted_epoch: i64,
    config_version: i64,
) -> QuorumPacket {
    let info = LearnerInfo {
        serverid: sid as i64,
        protocol_version: PROTOCOL_VERSION,
        config_version,
    };
    packet(
        type_,
        super::zxid::make(accepted_epoch, 0),
        Some(crate::jute::encode(&info)),
    )
}

/// The learner's side of the epoch handshake: ACKEPOCH carries the last
/// logged zxid, and the current epoch as 4 bytes (-1 when the learner had
/// already accepted the leader's epoch, so cannot ack it again).
pub fn ack_epoch(last_logged_zxid: i64, epoch: i32) -> QuorumPacket {
    let mut d = BytesMut::with_capacity(4);
    d.put_i32(epoch);
    packet(kind::ACKEPOCH, last_logged_zxid, Some(d.freeze()))
}

/// LEADERINFO's data: the leader's protocol version.
pub fn leader_protocol_version(p: &QuorumPacket) -> Result<i32, PacketError> {
    let d = p.data.as_deref().unwrap_or_default();
    if d.len() < 4 {
        return Err(bad(p.type_, "no protocol version"));
    }
    Ok((&d[..4]).get_i32())
}

/// A PROPOSAL's txn (also the data of the txns a DIFF sync sends, and of
/// INFORM to observers): the log entry layout.
pub fn txn_of(p: &QuorumPacket) -> Result<Txn, PacketError> {
    let d = p.data.clone().unwrap_or_default();
    let (header, body, digest) =
        txnlog::unmarshal_entry(d).map_err(|e| bad(p.type_, e.to_string()))?;
    Ok(Txn {
        header,
        body,
        digest,
    })
}

/// A PROPOSAL of `txn`.
pub fn proposal(txn: &Txn) -> QuorumPacket {
    packet(
        kind::PROPOSAL,
        txn.header.zxid,
        Some(txnlog::marshal_entry(
            &txn.header,
            &txn.body,
            txn.digest.as_ref(),
        )),
    )
}

/// A REQUEST: a learner's client request for the leader to prepare:
/// session, cxid, type, then the request body as the client sent it.
pub fn request(session: i64, cxid: i32, type_: i32, body: &[u8], auth: &[Id]) -> QuorumPacket {
    let mut d = BytesMut::with_capacity(16 + body.len());
    d.put_i64(session);
    d.put_i32(cxid);
    d.put_i32(type_);
    d.put_slice(body);
    QuorumPacket {
        type_: kind::REQUEST,
        zxid: -1,
        data: Some(d.freeze()),
        authinfo: auth.to_vec(),
    }
}

/// A forwarded request as the leader reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedRequest {
    pub session: i64,
    pub cxid: i32,
    pub type_: i32,
    pub body: Bytes,
    pub auth: Vec<Id>,
}

pub fn parse_request(p: &QuorumPacket) -> Result<ForwardedRequest, PacketError> {
    let mut d = p.data.clone().unwrap_or_default();
    if d.len() < 16 {
        return Err(bad(p.type_, "shorter than its header"));
    }
    Ok(ForwardedRequest {
        session: d.get_i64(),
        cxid: d.get_i32(),
        type_: d.get_i32(),
        body: d,
        auth: p.authinfo.clone(),
    })
}

/// A learner's REVALIDATE: session id and timeout.
pub fn revalidate(session: i64, timeout_ms: i32) -> QuorumPacket {
    let mut d = BytesMut::with_capacity(12);
    d.put_i64(session);
    d.put_i32(timeout_ms);
    packet(kind::REVALIDATE, -1, Some(d.freeze()))
}

/// A learner's REVALIDATE as the leader reads it: session id and timeout.
pub fn parse_revalidate(p: &QuorumPacket) -> Result<(i64, i32), PacketError> {
    let d = p.data.as_deref().unwrap_or_default();
    if d.len() < 12 {
        return Err(bad(p.type_, "shorter than session id and timeout"));
    }
    let mut d = d;
    Ok((d.get_i64(), d.get_i32()))
}

/// The leader's answer to a REVALIDATE: session id and whether it lives.
pub fn parse_revalidate_answer(p: &QuorumPacket) -> Result<(i64, bool), PacketError> {
    let d = p.data.as_deref().unwrap_or_default();
    if d.len() < 9 {
        return Err(bad(p.type_, "shorter than session id and answer"));
    }
    let mut d = d;
    let session = d.get_i64();
    Ok((session, d.get_u8() != 0))
}

/// The leader's REVALIDATE answer.
pub fn revalidate_answer(session: i64, valid: bool) -> QuorumPacket {
    let mut d = BytesMut::with_capacity(9);
    d.put_i64(session);
    d.put_u8(valid as u8);
    packet(kind::REVALIDATE, -1, Some(d.freeze()))
}

/// A learner's PING reply: the sessions its clients kept alive, each as
/// id and timeout.
pub fn ping_reply(zxid: i64, touches: &[(i64, i32)]) -> QuorumPacket {
    let mut d = BytesMut::with_capacity(12 * touches.len());
    for (id, timeout) in touches {
        d.put_i64(*id);
        d.put_i32(*timeout);
    }
    packet(kind::PING, zxid, Some(d.freeze()))
}

/// The session touches of a learner's PING reply.
pub fn parse_touches(p: &QuorumPacket) -> Result<Vec<(i64, i32)>, PacketError> {
    let mut d = p.data.as_deref().unwrap_or_default();
    if !d.len().is_multiple_of(12) {
        return Err(bad(p.type_, "touches are not 12-byte entries"));
    }
    let mut out = Vec::with_capacity(d.len() / 12);
    while d.has_remaining() {
        out.push((d.get_i64(), d.get_i32()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::txn::{SetDataTxn, TxnHeader};
    use crate::proto::op;
    use crate::txn::TxnBody;

    const MAX: usize = 1 << 20;

    #[test]
    fn a_packet_is_decoded_only_once_all_of_it_arrived() {
        let p = request(
            0x1234,
            7,
            op::SET_DATA,
            b"body",
            &[Id {
                scheme: "ip".into(),
                id: "127.0.0.1".into(),
            }],
        );
        let bytes = encode(&p);
        let mut buf = BytesMut::new();
        for (i, b) in bytes.iter().enumerate() {
            assert_eq!(decode(&mut buf, MAX), Ok(None), "complete after {i} bytes?");
            buf.put_u8(*b);
        }
        buf.put_u8(0xAA); // the start of the next packet stays
        assert_eq!(decode(&mut buf, MAX), Ok(Some(p.clone())));
        assert_eq!(&buf[..], &[0xAA]);
        let r = parse_request(&p).unwrap();
        assert_eq!((r.session, r.cxid, r.type_), (0x1234, 7, op::SET_DATA));
        assert_eq!(&r.body[..], b"body");
        assert_eq!(r.auth.len(), 1);
    }

    #[test]
    fn the_layout_is_javas() {
        // type, zxid, data (len + bytes), authinfo (count; -1 is null).
        let p = ack_epoch(0x1_0000_0005, 1);
        assert_eq!(
            &encode(&p)[..],
            &[0, 0, 0, 18, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0]
        );
        let info = learner_info(kind::FOLLOWERINFO, 3, 2, 0);
        assert_eq!(info.zxid, 0x2_0000_0000);
        let d = info.data.unwrap();
        // serverid (long), protocolVersion (int), configVersion (long)
        assert_eq!(
            &d[..],
            &[0, 0, 0, 0, 0, 0, 0, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn oversized_and_negative_lengths_are_refused_before_allocation() {
        let mut buf = BytesMut::new();
        buf.put_i32(kind::PROPOSAL);
        buf.put_i64(1);
        buf.put_i32(i32::MAX);
        assert!(matches!(
            decode(&mut buf, MAX),
            Err(PacketError::BadLength { field: "data", .. })
        ));
        let mut buf = BytesMut::new();
        buf.put_i32(kind::PING);
        buf.put_i64(1);
        buf.put_i32(-1);
        buf.put_i32(-7);
        assert!(decode(&mut buf, MAX).is_err());
        let mut buf = BytesMut::new();
        buf.put_i32(kind::PING);
        buf.put_i64(1);
        buf.put_i32(-1);
        buf.put_i32(1);
        buf.put_i32(-2);
        assert!(decode(&mut buf, MAX).is_err());
    }

    #[test]
    fn proposals_carry_log_entries() {
        let txn = Txn {
            header: TxnHeader {
                client_id: 9,
                cxid: 4,
                zxid: 0x3_0000_0001,
                time: 77,
                type_: op::SET_DATA,
            },
            body: TxnBody::SetData(SetDataTxn {
                path: "/a".into(),
                data: Some(Bytes::from_static(b"x")),
                version: 2,
            }),
            digest: None,
        };
        let p = proposal(&txn);
        assert_eq!(p.zxid, txn.header.zxid);
        assert_eq!(txn_of(&p).unwrap(), txn);
    }

    #[test]
    fn pings_revalidations_round_trip() {
        let t = vec![(1, 3000), (0x7f00_0000_0000_0001, 40000)];
        assert_eq!(parse_touches(&ping_reply(5, &t)).unwrap(), t);
        assert!(parse_touches(&packet(kind::PING, 0, Some(Bytes::from_static(&[1; 5])))).is_err());
        assert_eq!(
            parse_revalidate_answer(&revalidate_answer(42, true)).unwrap(),
            (42, true)
        );
        assert!(parse_revalidate_answer(&packet(kind::REVALIDATE, 0, None)).is_err());
    }
}
