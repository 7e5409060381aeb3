//! A lean async connection for the load generator: one socket, one task.
//! Requests are encoded with the generated jute records straight into a
//! write buffer (many per syscall when pipelined); replies are framed out
//! of a read buffer without copying. Replies on a session come back in
//! request order, so the caller keeps its own FIFO of what is in flight.

use std::io;
use std::net::SocketAddr;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::jute::proto::{ConnectRequest, ConnectResponse, ReplyHeader, RequestHeader};
use crate::jute::{JuteField, Reader};

/// Largest reply frame accepted (Java's default jute.maxbuffer is 1 MiB;
/// a little slack for headers).
const MAX_FRAME: usize = 4 << 20;

pub fn bad(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

pub struct Conn {
    stream: TcpStream,
    rbuf: BytesMut,
    wbuf: BytesMut,
    pub session_id: i64,
    next_xid: i32,
}

impl Conn {
    /// Opens a TCP connection and a new session.
    pub async fn connect(addr: SocketAddr, timeout_ms: i32) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let mut c = Conn {
            stream,
            rbuf: BytesMut::with_capacity(16 << 10),
            wbuf: BytesMut::with_capacity(4 << 10),
            session_id: 0,
            next_xid: 1,
        };
        let at = c.begin_frame();
        ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            time_out: timeout_ms,
            session_id: 0,
            passwd: Some(Bytes::from_static(&[0; 16])),
        }
        .write(&mut c.wbuf);
        c.wbuf.put_u8(0); // readOnly = false
        c.end_frame(at);
        c.flush().await?;
        let body = c.recv_frame().await?;
        let rsp = ConnectResponse::read(&mut Reader::new(body)).map_err(bad)?;
        if rsp.session_id == 0 {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "the server refused the session",
            ));
        }
        c.session_id = rsp.session_id;
        Ok(c)
    }

    fn begin_frame(&mut self) -> usize {
        let at = self.wbuf.len();
        self.wbuf.put_i32(0);
        at
    }

    fn end_frame(&mut self, at: usize) {
        let len = (self.wbuf.len() - at - 4) as i32;
        self.wbuf[at..at + 4].copy_from_slice(&len.to_be_bytes());
    }

    fn take_xid(&mut self) -> i32 {
        let x = self.next_xid;
        self.next_xid = if x == i32::MAX { 1 } else { x + 1 };
        x
    }

    /// Queues a request (sent by the next `flush`); returns its xid.
    pub fn push<T: JuteField>(&mut self, type_: i32, req: &T) -> i32 {
        let xid = self.take_xid();
        let at = self.begin_frame();
        RequestHeader { xid, type_ }.write(&mut self.wbuf);
        req.write(&mut self.wbuf);
        self.end_frame(at);
        xid
    }

    /// Queues a request that has no body (closeSession).
    pub fn push_empty(&mut self, type_: i32) -> i32 {
        let xid = self.take_xid();
        let at = self.begin_frame();
        RequestHeader { xid, type_ }.write(&mut self.wbuf);
        self.end_frame(at);
        xid
    }

    pub async fn flush(&mut self) -> io::Result<()> {
        if !self.wbuf.is_empty() {
            self.stream.write_all(&self.wbuf).await?;
            self.wbuf.clear();
        }
        Ok(())
    }

    /// A complete frame already read, if any.
    pub fn try_frame(&mut self) -> io::Result<Option<Bytes>> {
        if self.rbuf.len() < 4 {
            return Ok(None);
        }
        let len = i32::from_be_bytes([self.rbuf[0], self.rbuf[1], self.rbuf[2], self.rbuf[3]]);
        if len < 0 || len as usize > MAX_FRAME {
            return Err(bad(format!("bad reply frame length {len}")));
        }
        let len = len as usize;
        if self.rbuf.len() < 4 + len {
            return Ok(None);
        }
        self.rbuf.advance(4);
        Ok(Some(self.rbuf.split_to(len).freeze()))
    }

    /// Reads whatever the socket has (at least one byte).
    pub async fn fill(&mut self) -> io::Result<()> {
        self.rbuf.reserve(64 << 10);
        let n = self.stream.read_buf(&mut self.rbuf).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ));
        }
        Ok(())
    }

    pub async fn recv_frame(&mut self) -> io::Result<Bytes> {
        loop {
            if let Some(f) = self.try_frame()? {
                return Ok(f);
            }
            self.fill().await?;
        }
    }

    /// The next reply or event: its header, and a reader on its body.
    pub async fn recv(&mut self) -> io::Result<(ReplyHeader, Reader)> {
        let frame = self.recv_frame().await?;
        split_reply(frame)
    }
}

/// A reply frame's header, and a reader on the rest.
pub fn split_reply(frame: Bytes) -> io::Result<(ReplyHeader, Reader)> {
    let mut r = Reader::new(frame);
    let h = ReplyHeader::read(&mut r).map_err(bad)?;
    Ok((h, r))
}
