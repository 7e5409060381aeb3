//! The quorum port's two directions, for both ends: packets read off a
//! socket and handed on, and packets queued by the core written in batches.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;

use crate::jute::quorum::QuorumPacket;
use crate::quorum::zab::packet;

/// Reads packets (after those already in `buf`) and hands each to
/// `deliver` until it says stop (returns false: `None`) or the link ends
/// (`Some(why)`): a bad packet, EOF, an error, or `silence` without a byte.
pub async fn read_packets(
    rd: &mut OwnedReadHalf,
    mut buf: BytesMut,
    max_packet: usize,
    silence: Option<Duration>,
    mut deliver: impl FnMut(QuorumPacket) -> bool,
) -> Option<String> {
    loop {
        match packet::decode(&mut buf, max_packet) {
            Ok(Some(p)) => {
                if !deliver(p) {
                    return None;
                }
                continue;
            }
            Ok(None) => {}
            Err(e) => return Some(format!("bad packet: {e}")),
        }
        buf.reserve(64 << 10);
        let read = match silence {
            Some(t) => match tokio::time::timeout(t, rd.read_buf(&mut buf)).await {
                Ok(r) => r,
                Err(_) => return Some(format!("nothing heard in {} ms", t.as_millis())),
            },
            None => rd.read_buf(&mut buf).await,
        };
        match read {
            Ok(0) => return Some("the peer closed the connection".into()),
            Ok(_) => {}
            Err(e) => return Some(format!("read: {e}")),
        }
    }
}

/// Writes what is queued, everything ready in one go; once every sender
/// is gone, shuts the connection down.
pub async fn write_packets(mut wr: OwnedWriteHalf, mut rx: mpsc::UnboundedReceiver<Bytes>) {
    let mut out = BytesMut::new();
    while let Some(first) = rx.recv().await {
        out.extend_from_slice(&first);
        while let Ok(more) = rx.try_recv() {
            out.extend_from_slice(&more);
        }
        if let Err(e) = wr.write_all(&out).await {
            tracing::info!("writing to a peer: {e}");
            return;
        }
        out.clear();
    }
    let _ = wr.shutdown().await;
}
