//! Access control: authentication schemes, ACL validation (fixup) and the
//! permission check, following Java's ZooKeeperServer.checkACL and its
//! ServerAuthenticationProviders (world, auth, digest, ip, super).

use crate::jute::data::{Id, ACL};
use crate::proto::{perms, ErrorCode};
use base64::Engine as _;
use sha1::{Digest, Sha1};

pub fn id(scheme: &str, id: &str) -> Id {
    Id {
        scheme: scheme.to_owned(),
        id: id.to_owned(),
    }
}

/// world:anyone with every permission (Ids.OPEN_ACL_UNSAFE).
pub fn open_acl_unsafe() -> Vec<ACL> {
    vec![ACL {
        perms: perms::ALL,
        id: id("world", "anyone"),
    }]
}

/// world:anyone read-only (Ids.READ_ACL_UNSAFE).
pub fn read_acl_unsafe() -> Vec<ACL> {
    vec![ACL {
        perms: perms::READ,
        id: id("world", "anyone"),
    }]
}

/// `user:base64(sha1(user:password))`, the digest scheme's id for "user:password".
pub fn generate_digest(id_password: &str) -> String {
    let user = id_password.split(':').next().unwrap_or("");
    let sha = Sha1::digest(id_password.as_bytes());
    format!(
        "{user}:{}",
        base64::engine::general_purpose::STANDARD.encode(sha)
    )
}

/// Java's String.split(regex) drops trailing empty strings; the digest
/// scheme's validity check depends on that.
fn java_split_len(s: &str, sep: char) -> usize {
    let parts: Vec<&str> = s.split(sep).collect();
    let trailing_empty = parts.iter().rev().take_while(|p| p.is_empty()).count();
    if trailing_empty == parts.len() {
        // "".split(x) is [""] in Java; ":".split(":") is [].
        return usize::from(s.is_empty());
    }
    parts.len() - trailing_empty
}

/// The outcome of an `addauth`.
pub enum AuthOutcome {
    /// Ids to add to the connection's auth info.
    Added(Vec<Id>),
    Failed,
}

/// Handles an auth packet for `scheme` with `auth` bytes, for a client at `remote_ip`.
pub fn authenticate(
    scheme: &str,
    auth: &[u8],
    remote_ip: &str,
    super_digest: Option<&str>,
) -> AuthOutcome {
    match scheme {
        "digest" => {
            let digest = generate_digest(&String::from_utf8_lossy(auth));
            let mut ids = Vec::new();
            if super_digest == Some(digest.as_str()) {
                ids.push(id("super", ""));
            }
            ids.push(id("digest", &digest));
            AuthOutcome::Added(ids)
        }
        "ip" => AuthOutcome::Added(vec![id("ip", remote_ip)]),
        _ => AuthOutcome::Failed,
    }
}

/// Java's String.hashCode.
fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The hashCode jute generates for an Id record.
fn java_id_hash(id: &Id) -> i32 {
    let mut r = 17i32;
    r = r
        .wrapping_mul(37)
        .wrapping_add(java_string_hash(&id.scheme));
    r.wrapping_mul(37).wrapping_add(java_string_hash(&id.id))
}

/// A connection's ids in the order Java iterates them: Java keeps them in a
/// ConcurrentHashMap-backed set, and whoAmI and `auth` ACL expansion expose
/// that order. `ids` is in insertion order; ties within a bucket keep it.
pub fn in_java_set_order(ids: &[Id]) -> Vec<Id> {
    let mut table = 16usize;
    while ids.len() * 4 >= table * 3 {
        table *= 2;
    }
    let bucket = |id: &Id| {
        let h = java_id_hash(id);
        let spread = (h ^ ((h as u32) >> 16) as i32) & 0x7fff_ffff;
        spread as usize & (table - 1)
    };
    let mut out = ids.to_vec();
    out.sort_by_key(bucket);
    out
}

/// The user part of an id, as whoAmI reports it (AuthUtil.getUser).
pub fn user_name(id: &Id) -> String {
    match id.scheme.as_str() {
        "digest" => id.id.split(':').next().unwrap_or("").to_owned(),
        "ip" => id.id.clone(),
        _ => String::new(),
    }
}

fn ipv4_bytes(addr: &str) -> Option<[u8; 4]> {
    let parts: Vec<&str> = addr.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut b = [0u8; 4];
    for (i, p) in parts.iter().enumerate() {
        // Java's Integer.parseInt accepts a leading sign.
        let v: i64 = p.parse().ok()?;
        if !(0..=255).contains(&v) {
            return None;
        }
        b[i] = v as u8;
    }
    Some(b)
}

fn mask(b: &mut [u8; 4], bits: u32) {
    for (i, byte) in b.iter_mut().enumerate() {
        let keep = bits.saturating_sub(8 * i as u32).min(8);
        let m = if keep == 0 { 0 } else { 0xffu8 << (8 - keep) };
        *byte &= m;
    }
}

fn parse_ip_expr(expr: &str) -> Option<([u8; 4], u32)> {
    let mut it = expr.splitn(2, '/');
    let addr = ipv4_bytes(it.next()?)?;
    let bits = match it.next() {
        None => 32,
        Some(b) => {
            let b: i64 = b.parse().ok()?;
            if !(0..=32).contains(&b) {
                return None;
            }
            b as u32
        }
    };
    Some((addr, bits))
}

/// Does `ip` (an address) fall within the ACL expression `a.b.c.d[/bits]`?
/// IPv4 only, as Java 3.8.
pub fn ip_matches(ip: &str, expr: &str) -> bool {
    let Some((mut acl, bits)) = parse_ip_expr(expr) else {
        return false;
    };
    let Some(mut remote) = ipv4_bytes(ip) else {
        return false;
    };
    mask(&mut acl, bits);
    mask(&mut remote, bits);
    acl == remote
}

fn scheme_id_valid(scheme: &str, id: &str) -> bool {
    match scheme {
        "digest" => java_split_len(id, ':') == 2,
        "ip" => parse_ip_expr(id).is_some(),
        _ => false,
    }
}

/// Validates ACLs for create/setACL and expands `auth` entries to the
/// caller's authenticated ids (PrepRequestProcessor.fixupACL).
pub fn fixup(auth_info: &[Id], acls: &[ACL]) -> Result<Vec<ACL>, ErrorCode> {
    let mut uniq: Vec<&ACL> = Vec::with_capacity(acls.len());
    for a in acls {
        if !uniq.contains(&a) {
            uniq.push(a);
        }
    }
    if uniq.is_empty() {
        return Err(ErrorCode::InvalidAcl);
    }
    let mut out = Vec::with_capacity(uniq.len());
    for a in uniq {
        let scheme = a.id.scheme.as_str();
        if scheme == "world" && a.id.id == "anyone" {
            out.push(a.clone());
        } else if scheme == "auth" {
            // Only schemes whose providers say "authenticated" expand: digest.
            let mut any = false;
            let ordered = in_java_set_order(auth_info);
            for cid in ordered.iter().filter(|c| c.scheme == "digest") {
                any = true;
                out.push(ACL {
                    perms: a.perms,
                    id: cid.clone(),
                });
            }
            if !any {
                return Err(ErrorCode::InvalidAcl);
            }
        } else if scheme_id_valid(scheme, &a.id.id) {
            out.push(a.clone());
        } else {
            return Err(ErrorCode::InvalidAcl);
        }
    }
    Ok(out)
}

/// May a caller holding `auth_info` do `perm` on a node with `acl`?
pub fn check(acl: &[ACL], perm: i32, auth_info: &[Id]) -> Result<(), ErrorCode> {
    if acl.is_empty() || auth_info.iter().any(|a| a.scheme == "super") {
        return Ok(());
    }
    for a in acl.iter().filter(|a| a.perms & perm != 0) {
        let (scheme, expr) = (a.id.scheme.as_str(), a.id.id.as_str());
        if scheme == "world" && expr == "anyone" {
            return Ok(());
        }
        let matched = auth_info
            .iter()
            .filter(|c| c.scheme == scheme)
            .any(|c| match scheme {
                "digest" => c.id == expr,
                "ip" => ip_matches(&c.id, expr),
                _ => false,
            });
        if matched {
            return Ok(());
        }
    }
    Err(ErrorCode::NoAuth)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acl(perms: i32, scheme: &str, i: &str) -> ACL {
        ACL {
            perms,
            id: id(scheme, i),
        }
    }

    #[test]
    fn digest_matches_javas_generator() {
        // Value from Java's DigestAuthenticationProvider.generateDigest("super:test").
        assert_eq!(
            generate_digest("super:test"),
            "super:D/InIHSb7yEEbrWz8b9l71RjZJU="
        );
    }

    #[test]
    fn digest_id_validity_follows_java_split() {
        assert!(scheme_id_valid("digest", "u:x"));
        assert!(scheme_id_valid("digest", ":x"));
        assert!(!scheme_id_valid("digest", "u:"));
        assert!(!scheme_id_valid("digest", "u:x:y"));
        assert!(!scheme_id_valid("digest", "u"));
    }

    #[test]
    fn ip_masks() {
        assert!(ip_matches("10.1.2.3", "10.1.0.0/16"));
        assert!(!ip_matches("10.2.2.3", "10.1.0.0/16"));
        assert!(ip_matches("10.1.2.3", "10.1.2.3"));
        assert!(ip_matches("1.2.3.4", "0.0.0.0/0"));
        assert!(ip_matches("10.1.2.3", "10.1.2.0/23"));
        assert!(!ip_matches("10.1.2.3", "10.1.2.3/33"));
        assert!(!ip_matches("::1", "127.0.0.1"));
    }

    #[test]
    fn check_needs_a_matching_permission() {
        let me = vec![id("ip", "127.0.0.1"), id("digest", "u:h")];
        assert!(check(&[acl(perms::READ, "digest", "u:h")], perms::READ, &me).is_ok());
        assert_eq!(
            check(&[acl(perms::READ, "digest", "u:h")], perms::WRITE, &me),
            Err(ErrorCode::NoAuth)
        );
        assert!(check(&[acl(perms::WRITE, "ip", "127.0.0.0/8")], perms::WRITE, &me).is_ok());
        assert!(check(&[], perms::ADMIN, &me).is_ok());
        assert!(check(
            &[acl(0, "world", "anyone")],
            perms::READ,
            &[id("super", "")]
        )
        .is_ok());
    }

    #[test]
    fn fixup_expands_auth_and_rejects_bad_ids() {
        let me = vec![id("ip", "127.0.0.1"), id("digest", "u:h")];
        let out = fixup(&me, &[acl(perms::ALL, "auth", "")]).unwrap();
        assert_eq!(out, vec![acl(perms::ALL, "digest", "u:h")]);
        assert_eq!(
            fixup(&[id("ip", "127.0.0.1")], &[acl(perms::ALL, "auth", "")]),
            Err(ErrorCode::InvalidAcl)
        );
        assert_eq!(fixup(&me, &[]), Err(ErrorCode::InvalidAcl));
        assert_eq!(
            fixup(&me, &[acl(1, "world", "x")]),
            Err(ErrorCode::InvalidAcl)
        );
        assert_eq!(
            fixup(&me, &[acl(1, "nosuch", "x")]),
            Err(ErrorCode::InvalidAcl)
        );
        let dup = fixup(&me, &[acl(1, "ip", "1.2.3.4"), acl(1, "ip", "1.2.3.4")]).unwrap();
        assert_eq!(dup.len(), 1);
    }
}
