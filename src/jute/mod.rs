//! Jute, ZooKeeper's record serialisation: the runtime half.
//!
//! The records themselves are generated at build time from `jute/*.jute`
//! (see build.rs) and re-exported here as `data`, `proto`, `txn`, `quorum`
//! and `persistence`. Decoding never trusts a length prefix beyond the bytes
//! actually present, so hostile input cannot make us allocate unboundedly.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use std::fmt;

include!(concat!(env!("OUT_DIR"), "/jute_records.rs"));

/// Why a record could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ended before the record did.
    Truncated { needed: usize, remaining: usize },
    /// A length prefix below -1.
    BadLength(i32),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated { needed, remaining } => {
                write!(
                    f,
                    "record truncated: needed {needed} bytes, {remaining} left"
                )
            }
            DecodeError::BadLength(n) => write!(f, "unreasonable length {n}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// A cursor over one received frame. Buffers are sliced out of it without
/// copying.
pub struct Reader {
    buf: Bytes,
}

impl Reader {
    pub fn new(buf: Bytes) -> Self {
        Reader { buf }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// What has not been read yet.
    pub fn rest(&self) -> Bytes {
        self.buf.clone()
    }

    fn need(&self, n: usize) -> Result<(), DecodeError> {
        if self.buf.len() < n {
            Err(DecodeError::Truncated {
                needed: n,
                remaining: self.buf.len(),
            })
        } else {
            Ok(())
        }
    }

    pub fn read_i32(&mut self) -> Result<i32, DecodeError> {
        self.need(4)?;
        Ok(self.buf.get_i32())
    }

    pub fn read_i64(&mut self) -> Result<i64, DecodeError> {
        self.need(8)?;
        Ok(self.buf.get_i64())
    }

    pub fn read_u8(&mut self) -> Result<u8, DecodeError> {
        self.need(1)?;
        Ok(self.buf.get_u8())
    }

    /// A length prefix: `None` for -1 (null), an error below -1 or beyond
    /// the bytes left.
    fn read_len(&mut self) -> Result<Option<usize>, DecodeError> {
        let n = self.read_i32()?;
        match n {
            -1 => Ok(None),
            n if n < -1 => Err(DecodeError::BadLength(n)),
            n => {
                let n = n as usize;
                self.need(n)?;
                Ok(Some(n))
            }
        }
    }

    pub fn read_buffer(&mut self) -> Result<Option<Bytes>, DecodeError> {
        Ok(self.read_len()?.map(|n| self.buf.split_to(n)))
    }

    /// Java decodes strings leniently (malformed UTF-8 becomes U+FFFD); so do we.
    pub fn read_string(&mut self) -> Result<String, DecodeError> {
        match self.read_len()? {
            None => Ok(String::new()),
            Some(n) => {
                let b = self.buf.split_to(n);
                Ok(java_utf8_decode(&b))
            }
        }
    }

    /// Reads an optional trailing boolean (the handshake's readOnly flag).
    pub fn read_trailing_bool(&mut self) -> Option<bool> {
        if self.buf.is_empty() {
            None
        } else {
            Some(self.buf.get_u8() != 0)
        }
    }
}

/// Anything that has a jute encoding: primitives, vectors and records.
pub trait JuteField: Sized {
    fn read(r: &mut Reader) -> Result<Self, DecodeError>;
    fn write(&self, w: &mut BytesMut);
}

impl JuteField for i32 {
    fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        r.read_i32()
    }
    fn write(&self, w: &mut BytesMut) {
        w.put_i32(*self);
    }
}

impl JuteField for i64 {
    fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        r.read_i64()
    }
    fn write(&self, w: &mut BytesMut) {
        w.put_i64(*self);
    }
}

impl JuteField for i8 {
    fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(r.read_u8()? as i8)
    }
    fn write(&self, w: &mut BytesMut) {
        w.put_i8(*self);
    }
}

impl JuteField for bool {
    fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(r.read_u8()? != 0)
    }
    fn write(&self, w: &mut BytesMut) {
        w.put_u8(u8::from(*self));
    }
}

impl JuteField for String {
    fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        r.read_string()
    }
    fn write(&self, w: &mut BytesMut) {
        if self.chars().all(|c| (c as u32) < 0x1_0000) {
            w.put_i32(self.len() as i32);
            w.put_slice(self.as_bytes());
        } else {
            let b = java_utf8_encode(self);
            w.put_i32(b.len() as i32);
            w.put_slice(&b);
        }
    }
}

/// Java's jute writes a character beyond U+FFFF as its two UTF-16
/// surrogates, three bytes each (CESU-8 style); so do we, byte for byte.
fn java_utf8_encode(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 4);
    for c in s.chars() {
        if (c as u32) < 0x1_0000 {
            let mut b = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
        } else {
            let mut units = [0u16; 2];
            for &u in c.encode_utf16(&mut units).iter() {
                let u = u32::from(u);
                out.push(0xE0 | (u >> 12) as u8);
                out.push(0x80 | ((u >> 6) & 0x3F) as u8);
                out.push(0x80 | (u & 0x3F) as u8);
            }
        }
    }
    out
}

/// Java's UTF-8 decoding with replacement: like Rust's lossy decoding,
/// except that an encoded surrogate (ED A0..BF xx) is one malformed
/// sequence, replaced by a single U+FFFD.
fn java_utf8_decode(mut b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    loop {
        match std::str::from_utf8(b) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let good = e.valid_up_to();
                out.push_str(std::str::from_utf8(&b[..good]).unwrap_or_default());
                out.push('\u{FFFD}');
                let rest = &b[good..];
                let skip = match rest {
                    [0xED, 0xA0..=0xBF, 0x80..=0xBF, ..] => 3,
                    _ => e.error_len().unwrap_or(rest.len()),
                };
                b = &rest[skip..];
            }
        }
    }
}

impl JuteField for Option<Bytes> {
    fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        r.read_buffer()
    }
    fn write(&self, w: &mut BytesMut) {
        match self {
            None => w.put_i32(-1),
            Some(b) => {
                w.put_i32(b.len() as i32);
                w.put_slice(b);
            }
        }
    }
}

impl<T: JuteField> JuteField for Vec<T> {
    fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        let n = r.read_i32()?;
        if n < -1 {
            return Err(DecodeError::BadLength(n));
        }
        if n == -1 {
            return Ok(Vec::new());
        }
        // Every element takes at least one byte, so the bytes left bound the count.
        let n = n as usize;
        r.need(n)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(T::read(r)?);
        }
        Ok(v)
    }
    fn write(&self, w: &mut BytesMut) {
        w.put_i32(self.len() as i32);
        for e in self {
            e.write(w);
        }
    }
}

/// Decodes one record from the whole of `buf`; trailing bytes are ignored,
/// as Java ignores them.
pub fn decode<T: JuteField>(buf: Bytes) -> Result<T, DecodeError> {
    T::read(&mut Reader::new(buf))
}

/// Encodes one record into a fresh buffer.
pub fn encode<T: JuteField>(rec: &T) -> Bytes {
    let mut w = BytesMut::new();
    rec.write(&mut w);
    w.freeze()
}

#[cfg(test)]
mod tests;
