//! Transactions: what the prep stage produces, the log records and a
//! ZAB follower receives, and the data tree applies.
//!
//! A transaction is a `TxnHeader` plus one body record whose kind is named
//! by the header's type. Multi transactions carry their ops serialised as
//! `Txn { type, data }` records, exactly as Java logs them.

use bytes::Bytes;

use crate::jute::txn::{
    CheckVersionTxn, CloseSessionTxn, CreateContainerTxn, CreateSessionTxn, CreateTTLTxn,
    CreateTxn, DeleteTxn, ErrorTxn, MultiTxn, SetACLTxn, SetDataTxn, Txn as SubTxnRecord,
    TxnDigest, TxnHeader,
};
use crate::jute::{decode, encode, DecodeError};
use crate::proto::op;

/// A transaction body, tagged by the header type it goes with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnBody {
    /// create or create2 (same record; the type decides the reply).
    Create(CreateTxn),
    CreateTtl(CreateTTLTxn),
    CreateContainer(CreateContainerTxn),
    /// delete or deleteContainer.
    Delete(DeleteTxn),
    SetData(SetDataTxn),
    SetAcl(SetACLTxn),
    Check(CheckVersionTxn),
    CreateSession(CreateSessionTxn),
    CloseSession(CloseSessionTxn),
    Error(ErrorTxn),
    /// Sub-transactions with their types; all share the header's zxid.
    Multi(Vec<(i32, TxnBody)>),
}

/// A complete transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Txn {
    pub header: TxnHeader,
    pub body: TxnBody,
    /// The tree digest once this transaction is applied, which Java 3.6+
    /// logs after each txn (and checks when it replays it).
    pub digest: Option<TxnDigest>,
}

impl TxnBody {
    /// Serialises the body as the record its type names.
    pub fn encode(&self) -> Bytes {
        match self {
            TxnBody::Create(t) => encode(t),
            TxnBody::CreateTtl(t) => encode(t),
            TxnBody::CreateContainer(t) => encode(t),
            TxnBody::Delete(t) => encode(t),
            TxnBody::SetData(t) => encode(t),
            TxnBody::SetAcl(t) => encode(t),
            TxnBody::Check(t) => encode(t),
            TxnBody::CreateSession(t) => encode(t),
            TxnBody::CloseSession(t) => encode(t),
            TxnBody::Error(t) => encode(t),
            TxnBody::Multi(ops) => encode(&MultiTxn {
                txns: ops
                    .iter()
                    .map(|(t, b)| SubTxnRecord {
                        type_: *t,
                        data: Some(b.encode()),
                    })
                    .collect(),
            }),
        }
    }

    /// Parses a body of header type `type_`.
    pub fn decode(type_: i32, data: Bytes) -> Result<TxnBody, DecodeError> {
        Ok(match type_ {
            op::CREATE | op::CREATE2 => TxnBody::Create(decode(data)?),
            op::CREATE_TTL => TxnBody::CreateTtl(decode(data)?),
            op::CREATE_CONTAINER => TxnBody::CreateContainer(decode(data)?),
            op::DELETE | op::DELETE_CONTAINER => TxnBody::Delete(decode(data)?),
            op::SET_DATA | op::RECONFIG => TxnBody::SetData(decode(data)?),
            op::SET_ACL => TxnBody::SetAcl(decode(data)?),
            op::CHECK => TxnBody::Check(decode(data)?),
            op::CREATE_SESSION => TxnBody::CreateSession(decode(data)?),
            op::CLOSE_SESSION => TxnBody::CloseSession(decode(data)?),
            op::ERROR => TxnBody::Error(decode(data)?),
            op::MULTI => {
                let m: MultiTxn = decode(data)?;
                let mut ops = Vec::with_capacity(m.txns.len());
                for t in m.txns {
                    let body = TxnBody::decode(t.type_, t.data.unwrap_or_default())?;
                    ops.push((t.type_, body));
                }
                TxnBody::Multi(ops)
            }
            other => return Err(DecodeError::BadLength(other)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_round_trips() {
        let body = TxnBody::Multi(vec![
            (
                op::CREATE,
                TxnBody::Create(CreateTxn {
                    path: "/a".into(),
                    ..Default::default()
                }),
            ),
            (op::ERROR, TxnBody::Error(ErrorTxn { err: -101 })),
        ]);
        let bytes = body.encode();
        assert_eq!(TxnBody::decode(op::MULTI, bytes).unwrap(), body);
    }
}
