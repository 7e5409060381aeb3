//! The session tracker: ids, passwords, timeouts and expiry, as Java's
//! SessionTrackerImpl and its ExpiryQueue. Pure data; the caller supplies
//! the clock (milliseconds on a monotonic scale).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::proto::ErrorCode;

/// ZooKeeperServer's secret mixed into password generation.
const SUPER_SECRET: i64 = 0xB341_5C00;

/// java.util.Random, enough of it to derive session passwords exactly as
/// Java does, so a session stays valid whichever server it moves to.
struct JavaRandom(i64);

impl JavaRandom {
    const MULT: i64 = 0x5_DEEC_E66D;
    const MASK: i64 = (1 << 48) - 1;

    fn new(seed: i64) -> Self {
        JavaRandom((seed ^ Self::MULT) & Self::MASK)
    }

    fn next_int(&mut self) -> i32 {
        self.0 = (self.0.wrapping_mul(Self::MULT).wrapping_add(0xB)) & Self::MASK;
        (self.0 >> 16) as i32
    }

    fn next_bytes(&mut self, out: &mut [u8]) {
        let mut i = 0;
        while i < out.len() {
            let mut rnd = self.next_int();
            for _ in 0..std::cmp::min(out.len() - i, 4) {
                out[i] = rnd as u8;
                rnd >>= 8;
                i += 1;
            }
        }
    }
}

/// The 16-byte password of a session.
pub fn password(session_id: i64) -> [u8; 16] {
    let mut p = [0u8; 16];
    JavaRandom::new(session_id ^ SUPER_SECRET).next_bytes(&mut p);
    p
}

/// The first session id of a server (SessionTrackerImpl.initializeNextSessionId):
/// the server id in the top byte, then the clock.
pub fn first_session_id(server_id: i64, now_ms: i64) -> i64 {
    let mut id = ((now_ms << 24) as u64 >> 8) as i64;
    id |= server_id << 56;
    if id == i64::MIN {
        id += 1;
    }
    id
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: i64,
    pub timeout_ms: i32,
    /// When it expires, on the tracker's clock, rounded up to a tick.
    pub expires_at: i64,
    /// A closeSession has been prepared; further requests get SessionExpired.
    pub closing: bool,
    /// Where its requests come from, on a leader (None until the first).
    pub owner: Option<Owner>,
}

/// Who a session's requests come through on a leader: its own clients, or
/// a learner's link (Java's session owner, a LearnerHandler or
/// ServerCnxn.me). A request from another owner than the session's gets
/// SessionMoved: the session has moved to another server since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Local,
    /// A learner's connection, by the leader's peer id (a learner that
    /// reconnects is a new owner, as in Java).
    Learner(u64),
}

pub struct SessionTracker {
    sessions: HashMap<i64, Session>,
    /// expiry time -> sessions due then.
    buckets: BTreeMap<i64, BTreeSet<i64>>,
    tick_ms: i64,
    next_id: i64,
}

impl SessionTracker {
    pub fn new(tick_ms: i64, first_id: i64) -> Self {
        SessionTracker {
            sessions: HashMap::new(),
            buckets: BTreeMap::new(),
            tick_ms: tick_ms.max(1),
            next_id: first_id,
        }
    }

    fn round_up(&self, t: i64) -> i64 {
        (t / self.tick_ms + 1) * self.tick_ms
    }

    pub fn next_session_id(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Starts tracking a session (new, or loaded from disk).
    pub fn add(&mut self, id: i64, timeout_ms: i32, now: i64) {
        self.sessions.entry(id).or_insert(Session {
            id,
            timeout_ms,
            expires_at: 0,
            closing: false,
            owner: None,
        });
        self.touch(id, timeout_ms, now);
    }

    /// Pushes a session's expiry out; false if it is gone or closing.
    pub fn touch(&mut self, id: i64, timeout_ms: i32, now: i64) -> bool {
        let new_exp = self.round_up(now + i64::from(timeout_ms));
        let Some(s) = self.sessions.get_mut(&id) else {
            return false;
        };
        if s.closing {
            return false;
        }
        let old = s.expires_at;
        if old == new_exp {
            return true;
        }
        s.expires_at = new_exp;
        if let Some(b) = self.buckets.get_mut(&old) {
            b.remove(&id);
            if b.is_empty() {
                self.buckets.remove(&old);
            }
        }
        self.buckets.entry(new_exp).or_default().insert(id);
        true
    }

    pub fn get(&self, id: i64) -> Option<&Session> {
        self.sessions.get(&id)
    }

    /// Is the session usable for requests?
    pub fn is_live(&self, id: i64) -> bool {
        self.sessions.get(&id).is_some_and(|s| !s.closing)
    }

    /// Java's setOwner: the session now lives behind `owner`.
    pub fn set_owner(&mut self, id: i64, owner: Owner) {
        if let Some(s) = self.sessions.get_mut(&id) {
            s.owner = Some(owner);
        }
    }

    /// Java's checkSession: may `owner` act for the session? The first
    /// owner to ask becomes its owner.
    pub fn check(&mut self, id: i64, owner: Owner) -> Result<(), ErrorCode> {
        let s = self
            .sessions
            .get_mut(&id)
            .filter(|s| !s.closing)
            .ok_or(ErrorCode::SessionExpired)?;
        match s.owner {
            None => {
                s.owner = Some(owner);
                Ok(())
            }
            Some(o) if o == owner => Ok(()),
            Some(_) => Err(ErrorCode::SessionMoved),
        }
    }

    pub fn set_closing(&mut self, id: i64) {
        if let Some(s) = self.sessions.get_mut(&id) {
            s.closing = true;
        }
    }

    pub fn remove(&mut self, id: i64) {
        if let Some(s) = self.sessions.remove(&id) {
            if let Some(b) = self.buckets.get_mut(&s.expires_at) {
                b.remove(&id);
                if b.is_empty() {
                    self.buckets.remove(&s.expires_at);
                }
            }
        }
    }

    /// Sessions whose time has come; they are marked closing and must be
    /// closed by a closeSession transaction.
    pub fn expire_due(&mut self, now: i64) -> Vec<i64> {
        let due: Vec<i64> = self.buckets.range(..=now).map(|(k, _)| *k).collect();
        let mut out = Vec::new();
        for k in due {
            if let Some(ids) = self.buckets.remove(&k) {
                for id in ids {
                    if let Some(s) = self.sessions.get_mut(&id) {
                        if !s.closing {
                            s.closing = true;
                            out.push(id);
                        }
                    }
                }
            }
        }
        out
    }

    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Session> {
        self.sessions.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_random_matches_java() {
        // new java.util.Random(42).nextInt() == -1170105035
        assert_eq!(JavaRandom::new(42).next_int(), -1170105035);
    }

    #[test]
    fn sessions_expire_on_tick_boundaries() {
        let mut t = SessionTracker::new(2000, 1);
        t.add(1, 4000, 100);
        // round_up(4100) = 6000
        assert_eq!(t.get(1).unwrap().expires_at, 6000);
        assert!(t.expire_due(5999).is_empty());
        assert_eq!(t.expire_due(6000), vec![1]);
        assert!(!t.is_live(1));
        assert!(!t.touch(1, 4000, 6000));
    }

    #[test]
    fn touching_postpones_expiry() {
        let mut t = SessionTracker::new(100, 1);
        t.add(5, 1000, 0);
        t.touch(5, 1000, 950);
        assert!(t.expire_due(1100).is_empty());
        assert_eq!(t.expire_due(2000), vec![5]);
    }

    #[test]
    fn first_id_carries_server_id() {
        let id = first_session_id(1, 1_700_000_000_000);
        assert_eq!(id >> 56, 1);
    }
}
