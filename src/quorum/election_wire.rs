//! The election port's byte formats, as Java 3.8's QuorumCnxManager and
//! FastLeaderElection write and read them (all big-endian):
//!
//! - the handshake a connecting peer sends first: `long protocolVersion,
//!   long sid, int len, len bytes "host:port"` (V1, or V2 with several
//!   addresses joined by `|`). A non-negative first long is a pre-3.5
//!   peer's bare sid, with nothing after it.
//! - then frames both ways: `int len, len bytes`, 0 < len <= 512 KiB.
//! - each frame a notification: `int state, long leader, long zxid, long
//!   electionEpoch, long peerEpoch, int version, int configLen, config`;
//!   older peers send 28 bytes (no peerEpoch) or 40 (no config).
//!
//! Decoding checks every length against its limit before allocating and
//! never panics.

use std::fmt;

/// Sent by every 3.5+ peer without multi-address support (the default).
pub const PROTOCOL_VERSION_V1: i64 = -65536;
/// Sent by 3.6+ peers with zookeeper.multiAddress.enabled.
pub const PROTOCOL_VERSION_V2: i64 = -65535;
/// QuorumCnxManager.maxBuffer: the longest address string accepted.
pub const MAX_ADDRESS_BYTES: usize = 2048;
/// QuorumCnxManager.PACKETMAXSIZE: the largest frame accepted.
pub const PACKET_MAX_SIZE: usize = 512 * 1024;
/// Notification.CURRENTVERSION: the format Java 3.8 sends.
pub const NOTIFICATION_VERSION: i32 = 2;
/// QuorumPeer.OBSERVER_ID: the sid old observers announced.
pub const OBSERVER_ID: i64 = i64::MAX;

/// The longest handshake accepted, in bytes.
pub const MAX_HANDSHAKE_BYTES: usize = 8 + 8 + 4 + MAX_ADDRESS_BYTES;

/// What a connecting peer says first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handshake {
    /// A peer older than 3.5: its sid and nothing more.
    Legacy { sid: i64 },
    /// V1 or V2: the sid and the election addresses the peer can be reached
    /// at (wildcard addresses left out, as Java does).
    Current {
        protocol: i64,
        sid: i64,
        addresses: Vec<(String, u16)>,
    },
}

impl Handshake {
    pub fn sid(&self) -> i64 {
        match self {
            Handshake::Legacy { sid } | Handshake::Current { sid, .. } => *sid,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeError {
    /// More bytes are needed; at least this many in all.
    Incomplete(usize),
    UnknownProtocol(i64),
    /// The address length is not in 1..=2048.
    BadAddressLength(i32),
    BadAddress(String),
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::Incomplete(n) => write!(f, "handshake incomplete: need {n} bytes"),
            HandshakeError::UnknownProtocol(v) => write!(f, "unrecognized protocol version {v}"),
            HandshakeError::BadAddressLength(n) => write!(f, "unreasonable buffer length: {n}"),
            HandshakeError::BadAddress(a) => write!(f, "badly formed address: {a:?}"),
        }
    }
}

/// The handshake this server sends: V1 with one address (what Java sends
/// unless multi-address is on), V2 when given several.
pub fn encode_handshake(my_id: u64, addresses: &[String]) -> Vec<u8> {
    let protocol = if addresses.len() > 1 {
        PROTOCOL_VERSION_V2
    } else {
        PROTOCOL_VERSION_V1
    };
    let text = addresses.join("|");
    let mut out = Vec::with_capacity(20 + text.len());
    out.extend_from_slice(&protocol.to_be_bytes());
    out.extend_from_slice(&(my_id as i64).to_be_bytes());
    out.extend_from_slice(&(text.len() as i32).to_be_bytes());
    out.extend_from_slice(text.as_bytes());
    out
}

/// Parses a handshake from the start of `buf`; on success also says how
/// many bytes it took. `Incomplete` asks for more input (never more than
/// [`MAX_HANDSHAKE_BYTES`] in all).
pub fn decode_handshake(buf: &[u8]) -> Result<(Handshake, usize), HandshakeError> {
    let first = read_i64(buf, 0).ok_or(HandshakeError::Incomplete(8))?;
    if first >= 0 {
        return Ok((Handshake::Legacy { sid: first }, 8));
    }
    if first != PROTOCOL_VERSION_V1 && first != PROTOCOL_VERSION_V2 {
        return Err(HandshakeError::UnknownProtocol(first));
    }
    let sid = read_i64(buf, 8).ok_or(HandshakeError::Incomplete(16))?;
    let len = read_i32(buf, 16).ok_or(HandshakeError::Incomplete(20))?;
    if len <= 0 || len as usize > MAX_ADDRESS_BYTES {
        return Err(HandshakeError::BadAddressLength(len));
    }
    let end = 20 + len as usize;
    let text = buf.get(20..end).ok_or(HandshakeError::Incomplete(end))?;
    let text = String::from_utf8_lossy(text);
    let mut addresses = Vec::new();
    for addr in java_split(&text, '|') {
        let (host, port) = host_and_port(addr)?;
        if !is_wildcard(&host) {
            addresses.push((host, port));
        }
    }
    Ok((
        Handshake::Current {
            protocol: first,
            sid,
            addresses,
        },
        end,
    ))
}

/// String.split: trailing empty pieces are dropped.
fn java_split(s: &str, sep: char) -> Vec<&str> {
    let mut parts: Vec<&str> = s.split(sep).collect();
    while parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop();
    }
    parts
}

/// ConfigUtils.getHostAndPort plus the checks InitialMessage.parse makes:
/// exactly a host and a port, `[v6]:port` for IPv6.
fn host_and_port(addr: &str) -> Result<(String, u16), HandshakeError> {
    let bad = || HandshakeError::BadAddress(addr.to_owned());
    let (host, rest): (&str, Vec<&str>) = if let Some(inner) = addr.strip_prefix('[') {
        let close = inner.find(']').ok_or_else(bad)?;
        let after = &inner[close + 1..];
        let port_part = after.strip_prefix(':').ok_or_else(bad)?;
        (&inner[..close], java_split(port_part, ':'))
    } else {
        let parts = java_split(addr, ':');
        match parts.split_first() {
            Some((h, rest)) => (h, rest.to_vec()),
            None => return Err(bad()),
        }
    };
    if rest.len() != 1 {
        return Err(bad());
    }
    let port: u16 = rest[0].parse().map_err(|_| bad())?;
    Ok((host.to_owned(), port))
}

fn is_wildcard(host: &str) -> bool {
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_unspecified())
}

/// Why a frame length was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadFrameLength(pub i32);

impl fmt::Display for BadFrameLength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "received packet with invalid length {}", self.0)
    }
}

/// RecvWorker's check on a frame's length prefix.
pub fn check_frame_length(len: i32) -> Result<usize, BadFrameLength> {
    if len <= 0 || len as usize > PACKET_MAX_SIZE {
        Err(BadFrameLength(len))
    } else {
        Ok(len as usize)
    }
}

/// A frame: the length, then the message.
pub fn encode_frame(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + msg.len());
    out.extend_from_slice(&(msg.len() as i32).to_be_bytes());
    out.extend_from_slice(msg);
    out
}

/// One election notification, as sent or received. `state` is the raw
/// ordinal (see `ServerState::from_wire`): Java answers non-voters before
/// it looks at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub state: i32,
    pub leader: i64,
    pub zxid: i64,
    pub election_epoch: i64,
    pub peer_epoch: i64,
    /// 0 for the 28- and 40-byte layouts.
    pub version: i32,
    /// The sender's config text (QuorumVerifier.toString), for version > 1.
    pub config: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationError {
    /// Under 28 bytes: Java logs "short response" and drops it.
    Short(usize),
    /// A field runs past the end, or the config length is out of range.
    Malformed(usize),
}

impl fmt::Display for NotificationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotificationError::Short(n) => write!(f, "short notification of {n} bytes"),
            NotificationError::Malformed(n) => {
                write!(f, "partial or malformed notification of {n} bytes")
            }
        }
    }
}

impl Notification {
    /// The 3.8 layout: 44 bytes plus the config.
    pub fn encode(&self) -> Vec<u8> {
        let config: &[u8] = self.config.as_deref().unwrap_or(&[]);
        let mut out = Vec::with_capacity(44 + config.len());
        out.extend_from_slice(&self.state.to_be_bytes());
        out.extend_from_slice(&self.leader.to_be_bytes());
        out.extend_from_slice(&self.zxid.to_be_bytes());
        out.extend_from_slice(&self.election_epoch.to_be_bytes());
        out.extend_from_slice(&self.peer_epoch.to_be_bytes());
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&(config.len() as i32).to_be_bytes());
        out.extend_from_slice(config);
        out
    }

    /// WorkerReceiver's reading, by message length: 28 bytes is the oldest
    /// layout (peerEpoch taken from the zxid's high half), 40 bytes has a
    /// peerEpoch but no version that counts, anything else carries a
    /// version, and a version above 1 a length-prefixed config.
    pub fn decode(buf: &[u8]) -> Result<Notification, NotificationError> {
        let n = buf.len();
        if n < 28 {
            return Err(NotificationError::Short(n));
        }
        let bad = NotificationError::Malformed(n);
        let state = read_i32(buf, 0).ok_or(bad.clone())?;
        let leader = read_i64(buf, 4).ok_or(bad.clone())?;
        let zxid = read_i64(buf, 12).ok_or(bad.clone())?;
        let election_epoch = read_i64(buf, 20).ok_or(bad.clone())?;
        let mut version = 0;
        let mut config = None;
        let peer_epoch = if n == 28 {
            zxid >> 32
        } else {
            let peer_epoch = read_i64(buf, 28).ok_or(bad.clone())?;
            if n != 40 {
                version = read_i32(buf, 36).ok_or(bad.clone())?;
            }
            peer_epoch
        };
        if version > 1 {
            let len = read_i32(buf, 40).ok_or(bad.clone())?;
            if len < 0 || len as usize > n {
                return Err(bad);
            }
            let bytes = buf.get(44..44 + len as usize).ok_or(bad)?;
            config = Some(bytes.to_vec());
        }
        Ok(Notification {
            state,
            leader,
            zxid,
            election_epoch,
            peer_epoch,
            version,
            config,
        })
    }
}

fn read_i64(buf: &[u8], at: usize) -> Option<i64> {
    let b: [u8; 8] = buf.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(i64::from_be_bytes(b))
}

fn read_i32(buf: &[u8], at: usize) -> Option<i32> {
    let b: [u8; 4] = buf.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(i32::from_be_bytes(b))
}

/// The `version=<hex>` line of a config text, if it has one.
pub fn config_version(config: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(config).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("version="))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .map(|v| v as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn be64(v: i64) -> [u8; 8] {
        v.to_be_bytes()
    }

    #[test]
    fn handshake_v1_layout() {
        let bytes = encode_handshake(3, &["127.0.0.1:3888".to_owned()]);
        let mut want = Vec::new();
        want.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00]);
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 3]);
        want.extend_from_slice(&[0, 0, 0, 14]);
        want.extend_from_slice(b"127.0.0.1:3888");
        assert_eq!(bytes, want);
        let (hs, used) = decode_handshake(&bytes).unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(
            hs,
            Handshake::Current {
                protocol: PROTOCOL_VERSION_V1,
                sid: 3,
                addresses: vec![("127.0.0.1".into(), 3888)],
            }
        );
        // Every prefix asks for more, never errs.
        for cut in 0..bytes.len() {
            assert!(matches!(
                decode_handshake(&bytes[..cut]),
                Err(HandshakeError::Incomplete(n)) if n > cut
            ));
        }
    }

    #[test]
    fn handshake_v2_several_addresses_and_wildcards() {
        let mut b = be64(PROTOCOL_VERSION_V2).to_vec();
        b.extend_from_slice(&be64(7));
        let text = b"[::1]:4000|0.0.0.0:5|host:6";
        b.extend_from_slice(&(text.len() as i32).to_be_bytes());
        b.extend_from_slice(text);
        let (hs, _) = decode_handshake(&b).unwrap();
        assert_eq!(
            hs,
            Handshake::Current {
                protocol: PROTOCOL_VERSION_V2,
                sid: 7,
                addresses: vec![("::1".into(), 4000), ("host".into(), 6)],
            }
        );
        assert_eq!(
            encode_handshake(7, &["a:1".into(), "b:2".into()])[..8],
            be64(-65535)
        );
    }

    #[test]
    fn handshake_legacy_and_bad() {
        // A positive first long is an old peer's sid.
        assert_eq!(
            decode_handshake(&be64(5)).unwrap(),
            (Handshake::Legacy { sid: 5 }, 8)
        );
        assert_eq!(
            decode_handshake(&be64(-3)),
            Err(HandshakeError::UnknownProtocol(-3))
        );
        let head = |len: i32| {
            let mut b = be64(PROTOCOL_VERSION_V1).to_vec();
            b.extend_from_slice(&be64(1));
            b.extend_from_slice(&len.to_be_bytes());
            b
        };
        for len in [0, -1, 2049, i32::MAX, i32::MIN] {
            assert_eq!(
                decode_handshake(&head(len)),
                Err(HandshakeError::BadAddressLength(len))
            );
        }
        // 2048 is allowed (and then wants its bytes).
        assert_eq!(
            decode_handshake(&head(2048)),
            Err(HandshakeError::Incomplete(2068))
        );
        for text in ["nohost", "a:b:3", "h:notaport", "h:70000", "[::1", "[::1]"] {
            let mut b = head(text.len() as i32);
            b.extend_from_slice(text.as_bytes());
            assert!(
                matches!(decode_handshake(&b), Err(HandshakeError::BadAddress(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn frame_lengths() {
        assert_eq!(check_frame_length(1), Ok(1));
        assert_eq!(check_frame_length(524288), Ok(524288));
        assert!(check_frame_length(524289).is_err());
        assert!(check_frame_length(0).is_err());
        assert!(check_frame_length(-5).is_err());
        assert_eq!(encode_frame(b"ab"), vec![0, 0, 0, 2, b'a', b'b']);
    }

    fn sample() -> Notification {
        Notification {
            state: 1,
            leader: 3,
            zxid: 0x1_0000_0005,
            election_epoch: 2,
            peer_epoch: 1,
            version: NOTIFICATION_VERSION,
            config: Some(b"version=0".to_vec()),
        }
    }

    #[test]
    fn notification_current_layout() {
        let bytes = sample().encode();
        let mut want = vec![0, 0, 0, 1];
        want.extend_from_slice(&be64(3));
        want.extend_from_slice(&be64(0x1_0000_0005));
        want.extend_from_slice(&be64(2));
        want.extend_from_slice(&be64(1));
        want.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 9]);
        want.extend_from_slice(b"version=0");
        assert_eq!(bytes, want);
        assert_eq!(Notification::decode(&bytes).unwrap(), sample());
        assert_eq!(config_version(b"server.1=x\nversion=1a"), Some(0x1a));
    }

    #[test]
    fn notification_old_layouts() {
        let full = sample().encode();
        // 28 bytes: no peerEpoch, it comes from the zxid.
        let n = Notification::decode(&full[..28]).unwrap();
        assert_eq!((n.peer_epoch, n.version, n.config), (1, 0, None));
        // 40 bytes: peerEpoch, and the trailing int is not a version.
        let mut forty = full[..36].to_vec();
        forty.extend_from_slice(&[0, 0, 0, 9]);
        let n = Notification::decode(&forty).unwrap();
        assert_eq!((n.peer_epoch, n.version, n.config), (1, 0, None));
        // Version 1 with 44 bytes: no config read.
        let mut v1 = full[..36].to_vec();
        v1.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0]);
        let n = Notification::decode(&v1).unwrap();
        assert_eq!((n.version, n.config), (1, None));
        // Trailing bytes past the config are ignored.
        let mut longer = full.clone();
        longer.extend_from_slice(b"junk");
        assert_eq!(Notification::decode(&longer).unwrap(), sample());
    }

    #[test]
    fn notification_bad_lengths() {
        let full = sample().encode();
        for n in 0..28 {
            assert_eq!(
                Notification::decode(&full[..n]),
                Err(NotificationError::Short(n))
            );
        }
        for n in (29..40).chain(41..full.len()) {
            assert_eq!(
                Notification::decode(&full[..n]),
                Err(NotificationError::Malformed(n)),
                "{n}"
            );
        }
        // A config length past the message, or negative.
        for len in [-1i32, 1000, i32::MAX] {
            let mut b = full[..40].to_vec();
            b.extend_from_slice(&len.to_be_bytes());
            b.extend_from_slice(b"abc");
            assert!(Notification::decode(&b).is_err());
        }
    }
}
