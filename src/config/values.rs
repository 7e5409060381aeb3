//! Java's conventions for the values in zoo.cfg: `Integer.parseInt` versus
//! `Integer.decode`, QuorumPeerConfig's strict booleans, `java.io.File`
//! paths, `InetAddress` host lookups and `String.split`.  Every key parser
//! goes through these so that a value means what it means to Java.

use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use super::properties::java_trim;
use super::{bad, ConfigError, Warning};

/// Integer.parseInt / Long.parseLong: optional sign, then decimal digits.
pub(super) fn java_parse_decimal(s: &str) -> Option<i128> {
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 30 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i128 = digits.parse().ok()?;
    Some(if neg { -v } else { v })
}

pub(super) fn java_parse_int(s: &str) -> Option<i32> {
    java_parse_decimal(s)?.try_into().ok()
}

pub(super) fn java_parse_long(s: &str) -> Option<i64> {
    java_parse_decimal(s)?.try_into().ok()
}

/// Double.parseDouble for the decimal forms: surrounding blanks trimmed, an
/// optional f/F/d/D suffix, `NaN` and `Infinity` spelled exactly so.
pub(super) fn java_parse_double(s: &str) -> Option<f64> {
    let t = java_trim(s);
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if unsigned == "NaN" || unsigned == "Infinity" {
        return if t.starts_with('-') && unsigned == "Infinity" {
            Some(f64::NEG_INFINITY)
        } else if unsigned == "NaN" {
            Some(f64::NAN)
        } else {
            Some(f64::INFINITY)
        };
    }
    let body = t.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(t);
    // Rust also accepts "inf" and "nan"; Java's other forms are all digits,
    // '.', signs and exponents.
    if !body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'+' | b'-' | b'e' | b'E'))
    {
        return None;
    }
    body.parse().ok()
}

/// Integer.decode / Long.decode (used by Integer.getInteger and Long.getLong):
/// `0x`, `0X`, `#` mean hex and a leading `0` means octal.
pub(super) fn java_decode(s: &str) -> Option<i128> {
    let (neg, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) =
        if let Some(h) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
            (16, h)
        } else if let Some(h) = rest.strip_prefix('#') {
            (16, h)
        } else if rest.len() > 1 && rest.starts_with('0') {
            (8, &rest[1..])
        } else {
            (10, rest)
        };
    if digits.is_empty() || digits.len() > 30 {
        return None;
    }
    let mut v: i128 = 0;
    for c in digits.chars() {
        v = v * radix as i128 + c.to_digit(radix)? as i128;
    }
    Some(if neg { -v } else { v })
}

/// QuorumPeerConfig.parseBoolean: case-insensitive true/false, nothing else.
pub(super) fn strict_bool(key: &str, value: &str) -> Result<bool, ConfigError> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(bad(key, value, "expected 'true' or 'false'"))
    }
}

pub(super) fn strict_int(key: &str, value: &str) -> Result<i32, ConfigError> {
    java_parse_int(value).ok_or_else(|| bad(key, value, "expected a 32-bit decimal integer"))
}

pub(super) fn port(key: &str, value: i32) -> Result<u16, ConfigError> {
    u16::try_from(value).map_err(|_| {
        bad(
            key,
            &value.to_string(),
            "port out of range, expected 0-65535",
        )
    })
}

// ---------------------------------------------------------------------------
// Paths and addresses
// ---------------------------------------------------------------------------

/// VerifyingFileFactory's warning for paths not starting with "/" or "./".
pub(super) fn relative_path_warning(path: &str) -> Option<Warning> {
    (!Path::new(path).is_absolute() && !path.starts_with("./")).then(|| {
        Warning(format!(
            "{path} is relative (resolved against the working directory); prepend ./ to indicate that you're sure"
        ))
    })
}

/// `new File(value).getAbsolutePath()`: collapse repeated and trailing
/// separators, then prefix the base directory; "." and ".." are kept.
pub(super) fn java_absolute_path(value: &str, base_dir: &Path) -> PathBuf {
    let mut normalized = String::with_capacity(value.len());
    for c in value.chars() {
        if !(c == '/' && normalized.ends_with('/')) {
            normalized.push(c);
        }
    }
    if normalized.len() > 1 && normalized.ends_with('/') {
        normalized.pop();
    }
    let path = PathBuf::from(normalized);
    if path.is_absolute() {
        path
    } else {
        base_dir.join(path)
    }
}

/// InetAddress.getByName: IP literals (IPv6 optionally bracketed), else a
/// lookup preferring IPv4 like a default JVM; "" is the loopback address.
pub(super) fn resolve_host(host: &str) -> Option<IpAddr> {
    let h = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if h.is_empty() {
        return Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    if let Ok(ip) = h.parse::<IpAddr>() {
        return Some(ip);
    }
    let addrs: Vec<_> = (h, 0).to_socket_addrs().ok()?.collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .map(|a| a.ip())
}

/// Wildcard addresses are reported as `None`.
pub(super) fn specific(ip: IpAddr) -> Option<IpAddr> {
    (!ip.is_unspecified()).then_some(ip)
}

/// String.split(regex) with a one-char separator: trailing empty strings are dropped.
pub(super) fn java_split(s: &str, sep: char) -> Vec<&str> {
    if !s.contains(sep) {
        return vec![s];
    }
    let mut parts: Vec<&str> = s.split(sep).collect();
    while parts.last() == Some(&"") {
        parts.pop();
    }
    parts
}
