//! A small blocking ZooKeeper client built on the generated records: enough
//! for integration tests, tools and the benchmark to speak the protocol
//! exactly, byte for byte, with no foreign client in between.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};

use crate::jute::data::{Stat, ACL};
use crate::jute::proto::{
    ConnectRequest, ConnectResponse, Create2Response, CreateRequest, DeleteRequest, ExistsRequest,
    ExistsResponse, GetChildrenRequest, GetChildrenResponse, GetDataRequest, GetDataResponse,
    ReplyHeader, RequestHeader, SetDataRequest, SetDataResponse, WatcherEvent,
};
use crate::jute::{decode, JuteField, Reader};
use crate::proto::{op, xid, ErrorCode};

/// A reply: its header and undecoded body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub header: ReplyHeader,
    pub body: Bytes,
}

impl Reply {
    pub fn err(&self) -> i32 {
        self.header.err
    }

    /// The body as `T` when the reply is a success.
    pub fn ok<T: JuteField>(&self) -> Result<T, ErrorCode> {
        if self.header.err != 0 {
            return Err(ErrorCode::from_code(self.header.err).unwrap_or(ErrorCode::SystemError));
        }
        decode(self.body.clone()).map_err(|_| ErrorCode::MarshallingError)
    }
}

pub struct Client {
    stream: TcpStream,
    pub session_id: i64,
    pub passwd: Bytes,
    pub timeout_ms: i32,
    next_xid: i32,
    pub last_zxid: i64,
    /// Watch events received and not yet taken.
    pub events: VecDeque<WatcherEvent>,
}

fn write_frame(stream: &mut TcpStream, body: &[u8]) -> io::Result<()> {
    let mut w = BytesMut::with_capacity(body.len() + 4);
    w.put_i32(body.len() as i32);
    w.put_slice(body);
    stream.write_all(&w)
}

fn read_frame(stream: &mut TcpStream) -> io::Result<Bytes> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len)?;
    let len = i32::from_be_bytes(len);
    if !(0..=64 << 20).contains(&len) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad frame length {len}"),
        ));
    }
    let mut buf = vec![0u8; len as usize];
    stream.read_exact(&mut buf)?;
    Ok(Bytes::from(buf))
}

fn bad(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

impl Client {
    /// Opens a new session.
    pub fn connect(addr: SocketAddr, timeout_ms: i32) -> io::Result<Client> {
        Self::attach(addr, 0, Bytes::from_static(&[0; 16]), 0, timeout_ms)
    }

    /// Connects with an explicit session id/password (0 for a new session).
    /// A refused session comes back with session_id 0.
    pub fn attach(
        addr: SocketAddr,
        session_id: i64,
        passwd: Bytes,
        last_zxid: i64,
        timeout_ms: i32,
    ) -> io::Result<Client> {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let req = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: last_zxid,
            time_out: timeout_ms,
            session_id,
            passwd: Some(passwd),
        };
        let mut w = BytesMut::new();
        req.write(&mut w);
        w.put_u8(0); // readOnly = false
        write_frame(&mut stream, &w)?;
        let body = read_frame(&mut stream)?;
        let mut r = Reader::new(body);
        let rsp = ConnectResponse::read(&mut r).map_err(bad)?;
        Ok(Client {
            stream,
            session_id: rsp.session_id,
            passwd: rsp.passwd.unwrap_or_default(),
            timeout_ms: rsp.time_out,
            next_xid: 1,
            last_zxid,
            events: VecDeque::new(),
        })
    }

    pub fn set_read_timeout(&self, d: Duration) -> io::Result<()> {
        self.stream.set_read_timeout(Some(d))
    }

    /// Sends raw bytes as one frame (for malformed-input tests).
    pub fn send_raw_frame(&mut self, body: &[u8]) -> io::Result<()> {
        write_frame(&mut self.stream, body)
    }

    /// Writes raw bytes to the socket, no framing.
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Reads the next frame that is not a watch event.
    pub fn read_reply(&mut self) -> io::Result<Reply> {
        loop {
            let body = read_frame(&mut self.stream)?;
            let mut r = Reader::new(body);
            let header = ReplyHeader::read(&mut r).map_err(bad)?;
            if header.xid == xid::NOTIFICATION {
                self.events
                    .push_back(WatcherEvent::read(&mut r).map_err(bad)?);
                continue;
            }
            if header.zxid > 0 {
                self.last_zxid = header.zxid;
            }
            return Ok(Reply {
                header,
                body: r.rest(),
            });
        }
    }

    /// Sends a request with the given xid and waits for its reply.
    pub fn call_xid<T: JuteField>(&mut self, xid: i32, type_: i32, req: &T) -> io::Result<Reply> {
        let mut w = BytesMut::new();
        RequestHeader { xid, type_ }.write(&mut w);
        req.write(&mut w);
        write_frame(&mut self.stream, &w)?;
        let reply = self.read_reply()?;
        if reply.header.xid != xid {
            return Err(bad(format!(
                "reply xid {} for request xid {xid}",
                reply.header.xid
            )));
        }
        Ok(reply)
    }

    /// Sends a request and waits for its reply, queueing events seen first.
    pub fn call<T: JuteField>(&mut self, type_: i32, req: &T) -> io::Result<Reply> {
        let x = self.next_xid;
        self.next_xid += 1;
        self.call_xid(x, type_, req)
    }

    /// Sends a request with no body.
    pub fn call_empty(&mut self, type_: i32) -> io::Result<Reply> {
        let x = self.next_xid;
        self.next_xid += 1;
        let mut w = BytesMut::new();
        RequestHeader { xid: x, type_ }.write(&mut w);
        write_frame(&mut self.stream, &w)?;
        self.read_reply()
    }

    /// Waits for the next watch event (reading frames as needed).
    pub fn next_event(&mut self) -> io::Result<WatcherEvent> {
        if let Some(e) = self.events.pop_front() {
            return Ok(e);
        }
        let body = read_frame(&mut self.stream)?;
        let mut r = Reader::new(body);
        let header = ReplyHeader::read(&mut r).map_err(bad)?;
        if header.xid != xid::NOTIFICATION {
            return Err(bad(format!(
                "expected an event, got reply xid {}",
                header.xid
            )));
        }
        WatcherEvent::read(&mut r).map_err(bad)
    }

    pub fn ping(&mut self) -> io::Result<Reply> {
        let mut w = BytesMut::new();
        RequestHeader {
            xid: xid::PING,
            type_: op::PING,
        }
        .write(&mut w);
        write_frame(&mut self.stream, &w)?;
        self.read_reply()
    }

    pub fn close(mut self) -> io::Result<Reply> {
        self.call_empty(op::CLOSE_SESSION)
    }

    // ---- typed helpers -----------------------------------------------------

    pub fn create(
        &mut self,
        path: &str,
        data: &[u8],
        acl: Vec<ACL>,
        flags: i32,
    ) -> Result<(String, Stat), ErrorCode> {
        let req = CreateRequest {
            path: path.into(),
            data: Some(Bytes::copy_from_slice(data)),
            acl,
            flags,
        };
        let r = self
            .call(op::CREATE2, &req)
            .map_err(|_| ErrorCode::ConnectionLoss)?;
        let rsp: Create2Response = r.ok()?;
        Ok((rsp.path, rsp.stat))
    }

    pub fn delete(&mut self, path: &str, version: i32) -> Result<(), ErrorCode> {
        let r = self
            .call(
                op::DELETE,
                &DeleteRequest {
                    path: path.into(),
                    version,
                },
            )
            .map_err(|_| ErrorCode::ConnectionLoss)?;
        match ErrorCode::from_code(r.err()) {
            Some(ErrorCode::Ok) => Ok(()),
            e => Err(e.unwrap_or(ErrorCode::SystemError)),
        }
    }

    pub fn get_data(
        &mut self,
        path: &str,
        watch: bool,
    ) -> Result<(Option<Bytes>, Stat), ErrorCode> {
        let r = self
            .call(
                op::GET_DATA,
                &GetDataRequest {
                    path: path.into(),
                    watch,
                },
            )
            .map_err(|_| ErrorCode::ConnectionLoss)?;
        let rsp: GetDataResponse = r.ok()?;
        Ok((rsp.data, rsp.stat))
    }

    pub fn set_data(&mut self, path: &str, data: &[u8], version: i32) -> Result<Stat, ErrorCode> {
        let req = SetDataRequest {
            path: path.into(),
            data: Some(Bytes::copy_from_slice(data)),
            version,
        };
        let r = self
            .call(op::SET_DATA, &req)
            .map_err(|_| ErrorCode::ConnectionLoss)?;
        Ok(r.ok::<SetDataResponse>()?.stat)
    }

    pub fn exists(&mut self, path: &str, watch: bool) -> Result<Stat, ErrorCode> {
        let r = self
            .call(
                op::EXISTS,
                &ExistsRequest {
                    path: path.into(),
                    watch,
                },
            )
            .map_err(|_| ErrorCode::ConnectionLoss)?;
        Ok(r.ok::<ExistsResponse>()?.stat)
    }

    pub fn children(&mut self, path: &str, watch: bool) -> Result<Vec<String>, ErrorCode> {
        let r = self
            .call(
                op::GET_CHILDREN,
                &GetChildrenRequest {
                    path: path.into(),
                    watch,
                },
            )
            .map_err(|_| ErrorCode::ConnectionLoss)?;
        Ok(r.ok::<GetChildrenResponse>()?.children)
    }
}
