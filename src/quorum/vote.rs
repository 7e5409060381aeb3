//! Server states and votes, numbered and ordered as Java's QuorumPeer,
//! Vote and FastLeaderElection do, since peers compare them across the wire.

use super::verifier::QuorumVerifier;

/// QuorumPeer.ServerState; the wire carries its ordinal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerState {
    Looking = 0,
    Following = 1,
    Leading = 2,
    Observing = 3,
}

impl ServerState {
    /// The ordinal Java sends.
    pub fn wire(self) -> i32 {
        self as i32
    }

    /// None for a number Java does not know (it drops such notifications).
    pub fn from_wire(n: i32) -> Option<ServerState> {
        match n {
            0 => Some(ServerState::Looking),
            1 => Some(ServerState::Following),
            2 => Some(ServerState::Leading),
            3 => Some(ServerState::Observing),
            _ => None,
        }
    }
}

/// A vote: whom a server backs (`id`), that server's last zxid and epoch,
/// and the election round it was cast in. Ids are Java longs: an observer
/// proposes `i64::MIN`, a server that has not voted yet `-1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vote {
    /// The notification format version the vote came in (0 when built
    /// locally, as Java's constructors do); it changes how votes of servers
    /// out of election compare.
    pub version: i32,
    pub id: i64,
    pub zxid: i64,
    pub election_epoch: i64,
    pub peer_epoch: i64,
    pub state: ServerState,
}

impl Vote {
    /// A LOOKING vote of format version 0.
    pub fn new(id: i64, zxid: i64, election_epoch: i64, peer_epoch: i64) -> Vote {
        Vote {
            version: 0,
            id,
            zxid,
            election_epoch,
            peer_epoch,
            state: ServerState::Looking,
        }
    }

    /// Java's Vote.equals, which is what counts agreeing votes. While either
    /// side is LOOKING all four numbers must match. Between servers out of
    /// election only the leader (and its epoch, unless exactly one side is
    /// of format version 0) matters: their zxids drift as they work.
    pub fn agrees_with(&self, other: &Vote) -> bool {
        if self.state == ServerState::Looking || other.state == ServerState::Looking {
            self.id == other.id
                && self.zxid == other.zxid
                && self.election_epoch == other.election_epoch
                && self.peer_epoch == other.peer_epoch
        } else if (self.version > 0) ^ (other.version > 0) {
            self.id == other.id
        } else {
            self.id == other.id && self.peer_epoch == other.peer_epoch
        }
    }
}

/// FastLeaderElection.totalOrderPredicate: whether the vote (new_id,
/// new_zxid, new_epoch) beats the current one: higher epoch, then higher
/// zxid, then higher id. A server of weight 0 never wins.
pub fn beats(qv: &QuorumVerifier, new: (i64, i64, i64), cur: (i64, i64, i64)) -> bool {
    let (new_id, new_zxid, new_epoch) = new;
    let (cur_id, cur_zxid, cur_epoch) = cur;
    if qv.weight_of_vote(new_id) == 0 {
        return false;
    }
    new_epoch > cur_epoch
        || (new_epoch == cur_epoch
            && (new_zxid > cur_zxid || (new_zxid == cur_zxid && new_id > cur_id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quorum::verifier::tests::{hier, maj};
    use std::collections::BTreeMap;

    #[test]
    fn states_are_numbered_as_java() {
        assert_eq!(ServerState::Looking.wire(), 0);
        assert_eq!(ServerState::Following.wire(), 1);
        assert_eq!(ServerState::Leading.wire(), 2);
        assert_eq!(ServerState::Observing.wire(), 3);
        for n in 0..4 {
            assert_eq!(ServerState::from_wire(n).map(|s| s.wire()), Some(n));
        }
        assert_eq!(ServerState::from_wire(4), None);
        assert_eq!(ServerState::from_wire(-1), None);
    }

    #[test]
    fn order_is_epoch_then_zxid_then_id() {
        let qv = maj(&[1, 2, 3], &[]);
        // Epoch first, even against a bigger zxid and id.
        assert!(beats(&qv, (1, 0, 2), (3, 100, 1)));
        assert!(!beats(&qv, (3, 100, 1), (1, 0, 2)));
        // Same epoch: zxid.
        assert!(beats(&qv, (1, 5, 1), (3, 4, 1)));
        // Same epoch and zxid: id.
        assert!(beats(&qv, (3, 5, 1), (2, 5, 1)));
        assert!(!beats(&qv, (2, 5, 1), (3, 5, 1)));
        // A vote never beats itself.
        assert!(!beats(&qv, (2, 5, 1), (2, 5, 1)));
        // Anything beats an observer's "nobody".
        assert!(beats(&qv, (1, 0, 0), (i64::MIN, i64::MIN, i64::MIN)));
    }

    #[test]
    fn weight_zero_never_wins() {
        let weights = BTreeMap::from([(3, 0)]);
        let qv = hier(&[1, 2, 3], vec![(1, vec![1, 2, 3])], weights);
        assert!(!beats(&qv, (3, 100, 9), (1, 0, 0)));
        assert!(beats(&qv, (2, 0, 0), (1, 0, 0)));
    }

    #[test]
    fn java_vote_equality() {
        let looking = Vote::new(3, 7, 2, 1);
        assert!(looking.agrees_with(&Vote::new(3, 7, 2, 1)));
        assert!(!looking.agrees_with(&Vote::new(3, 7, 1, 1)));
        assert!(!looking.agrees_with(&Vote::new(3, 8, 2, 1)));
        let following = |version, zxid, epoch, peer_epoch| Vote {
            version,
            id: 3,
            zxid,
            election_epoch: epoch,
            peer_epoch,
            state: ServerState::Following,
        };
        // Out of election: zxid and round do not matter, the epoch does.
        assert!(following(2, 1, 1, 1).agrees_with(&following(2, 9, 5, 1)));
        assert!(!following(2, 1, 1, 1).agrees_with(&following(2, 1, 1, 2)));
        // One side of format 0: only the leader id.
        assert!(following(0, 1, 1, 1).agrees_with(&following(2, 1, 1, 2)));
        // One LOOKING side: the strict rule.
        assert!(!following(2, 1, 1, 1).agrees_with(&Vote::new(3, 2, 1, 1)));
    }
}
