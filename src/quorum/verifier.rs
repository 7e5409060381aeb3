//! Who votes and what counts as a quorum: Java's QuorumMaj (a majority of
//! the voters) and QuorumHierarchical (groups and weights), plus the config
//! text both print with toString, which FastLeaderElection puts in every
//! notification and Java peers parse.
//!
//! Groups and weights come in as plain values (`group.N=a:b:c`,
//! `weight.N=w` of zoo.cfg, parsed elsewhere).

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{LearnerRole, QuorumServerLine};
use crate::javahash;

/// One member as the verifier knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Member {
    role: LearnerRole,
    /// QuorumServer.toString: the text after `server.N=`.
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    Majority,
    Hierarchical {
        /// sid -> gid.
        group_of: BTreeMap<u64, u64>,
        /// sid -> weight: the `weight.N` lines, and 1 for every participant
        /// without one.
        weight: BTreeMap<u64, u64>,
        /// gid -> sum of its members' weights.
        group_weight: BTreeMap<u64, u64>,
        /// Group lines minus groups of weight 0 (Java's numGroups).
        counted_groups: i64,
    },
}

/// QuorumMaj or QuorumHierarchical, for one config version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumVerifier {
    members: BTreeMap<u64, Member>,
    version: i64,
    rule: Rule,
}

impl QuorumVerifier {
    /// The verifier a configuration describes: hierarchical when it has
    /// group or weight lines, else a majority.
    pub fn from_config(cfg: &crate::config::ServerConfig) -> Result<QuorumVerifier, String> {
        let version = cfg.config_version as i64;
        if cfg.is_hierarchical() {
            QuorumVerifier::hierarchical(
                &cfg.servers,
                cfg.groups.clone(),
                cfg.weights.clone(),
                version,
            )
        } else {
            Ok(QuorumVerifier::majority(&cfg.servers, version))
        }
    }

    /// QuorumMaj over the `server.N` lines.
    pub fn majority(servers: &[QuorumServerLine], version: i64) -> QuorumVerifier {
        QuorumVerifier {
            members: members_of(servers),
            version,
            rule: Rule::Majority,
        }
    }

    /// QuorumHierarchical: `groups` are the `group.gid=sid:sid...` lines,
    /// `weights` the `weight.sid=w` lines. Java's checks: no server in two
    /// groups, every participant in a group.
    pub fn hierarchical(
        servers: &[QuorumServerLine],
        groups: Vec<(u64, Vec<u64>)>,
        weights: BTreeMap<u64, u64>,
        version: i64,
    ) -> Result<QuorumVerifier, String> {
        let members = members_of(servers);
        let mut group_of = BTreeMap::new();
        for (gid, sids) in &groups {
            for &sid in sids {
                if group_of.insert(sid, *gid).is_some() {
                    return Err(format!("Server {sid}is in multiple groups"));
                }
            }
        }
        let mut weight = weights;
        for (&sid, m) in &members {
            if m.role == LearnerRole::Participant {
                if !group_of.contains_key(&sid) {
                    return Err(format!("Server {sid}is not in a group"));
                }
                weight.entry(sid).or_insert(1);
            }
        }
        let mut group_weight: BTreeMap<u64, u64> = BTreeMap::new();
        for (sid, gid) in &group_of {
            let w = weight.get(sid).copied().unwrap_or(0);
            let total = group_weight.entry(*gid).or_insert(0);
            *total = total.saturating_add(w);
        }
        let zero_groups = group_weight.values().filter(|&&w| w == 0).count() as i64;
        Ok(QuorumVerifier {
            members,
            version,
            rule: Rule::Hierarchical {
                group_of,
                weight,
                group_weight,
                counted_groups: groups.len() as i64 - zero_groups,
            },
        })
    }

    /// The config version (`version=` of the dynamic config; 0 for a static one).
    pub fn version(&self) -> i64 {
        self.version
    }

    /// Whether `sid` is a voting member (a participant; weight 0 included).
    pub fn is_voter(&self, sid: u64) -> bool {
        self.members
            .get(&sid)
            .is_some_and(|m| m.role == LearnerRole::Participant)
    }

    /// A vote's leader id is a voter (ids are Java longs in votes).
    pub fn is_voter_id(&self, id: i64) -> bool {
        u64::try_from(id).is_ok_and(|sid| self.is_voter(sid))
    }

    pub fn voters(&self) -> Vec<u64> {
        self.sids_with(LearnerRole::Participant)
    }

    pub fn observers(&self) -> Vec<u64> {
        self.sids_with(LearnerRole::Observer)
    }

    /// Every member, voter or not.
    pub fn members(&self) -> Vec<u64> {
        self.members.keys().copied().collect()
    }

    fn sids_with(&self, role: LearnerRole) -> Vec<u64> {
        self.members
            .iter()
            .filter(|(_, m)| m.role == role)
            .map(|(&sid, _)| sid)
            .collect()
    }

    /// getWeight: 1 for every server under QuorumMaj; the configured weight
    /// under QuorumHierarchical (0 for a server Java has no weight for).
    pub fn weight(&self, sid: u64) -> u64 {
        match &self.rule {
            Rule::Majority => 1,
            Rule::Hierarchical { weight, .. } => weight.get(&sid).copied().unwrap_or(0),
        }
    }

    /// The weight of a vote's candidate (ids are Java longs in votes).
    pub fn weight_of_vote(&self, id: i64) -> u64 {
        match &self.rule {
            Rule::Majority => 1,
            Rule::Hierarchical { .. } => u64::try_from(id).map_or(0, |sid| self.weight(sid)),
        }
    }

    /// containsQuorum over a set of acking servers; non-voters in the set
    /// count for nothing.
    pub fn contains_quorum(&self, acks: &BTreeSet<u64>) -> bool {
        match &self.rule {
            Rule::Majority => {
                let voters = self.voters().len();
                let acked = acks.iter().filter(|&&s| self.is_voter(s)).count();
                acked > voters / 2
            }
            Rule::Hierarchical {
                group_of,
                weight,
                group_weight,
                counted_groups,
            } => {
                if acks.is_empty() {
                    return false;
                }
                let mut per_group: BTreeMap<u64, u64> = BTreeMap::new();
                for sid in acks {
                    if let Some(gid) = group_of.get(sid) {
                        let w = weight.get(sid).copied().unwrap_or(0);
                        let total = per_group.entry(*gid).or_insert(0);
                        *total = total.saturating_add(w);
                    }
                }
                let majority_groups = per_group
                    .iter()
                    .filter(|(gid, &w)| w > group_weight.get(gid).copied().unwrap_or(0) / 2)
                    .count() as i64;
                majority_groups > counted_groups / 2
            }
        }
    }

    /// QuorumMaj / QuorumHierarchical toString, byte for byte: the members
    /// (and groups and weights) in Java's HashMap order, one `key=value`
    /// per line, then `version=<hex>` without a newline.
    pub fn config_string(&self) -> String {
        let mut out = String::new();
        for sid in java_long_map_order(self.members.keys().copied()) {
            out.push_str(&format!("server.{sid}={}\n", self.members[&sid].text));
        }
        if let Rule::Hierarchical {
            group_of, weight, ..
        } = &self.rule
        {
            let mut groups: BTreeMap<u64, String> = BTreeMap::new();
            for sid in java_long_map_order(group_of.keys().copied()) {
                let text = groups.entry(group_of[&sid]).or_default();
                if !text.is_empty() {
                    text.push(':');
                }
                text.push_str(&sid.to_string());
            }
            for gid in java_long_map_order(groups.keys().copied()) {
                out.push_str(&format!("group.{gid}={}\n", groups[&gid]));
            }
            for sid in java_long_map_order(weight.keys().copied()) {
                out.push_str(&format!("weight.{sid}={}\n", weight[&sid]));
            }
        }
        out.push_str(&format!("version={:x}", self.version as u64));
        out
    }
}

fn members_of(servers: &[QuorumServerLine]) -> BTreeMap<u64, Member> {
    servers
        .iter()
        .map(|s| {
            (
                s.id,
                Member {
                    role: s.role,
                    text: server_text(s),
                },
            )
        })
        .collect()
}

/// QuorumServer.toString: `host:quorumPort:electionPort` per address
/// (quorum and election addresses each sorted by host, then paired), joined
/// by `|`, the role, and the client address when the line gave one.
fn server_text(s: &QuorumServerLine) -> String {
    let mut quorum: Vec<(&str, u16)> = s
        .addresses
        .iter()
        .map(|a| (a.host.as_str(), a.quorum_port))
        .collect();
    let mut election: Vec<(&str, u16)> = s
        .addresses
        .iter()
        .map(|a| (a.host.as_str(), a.election_port))
        .collect();
    // Java's List.sort is stable, as is this one.
    quorum.sort_by(|a, b| a.0.cmp(b.0));
    election.sort_by(|a, b| a.0.cmp(b.0));
    let mut text = quorum
        .iter()
        .zip(&election)
        .map(|((host, qp), (_, ep))| format!("{}:{qp}:{ep}", delimited(host)))
        .collect::<Vec<_>>()
        .join("|");
    text.push_str(match s.role {
        LearnerRole::Observer => ":observer",
        LearnerRole::Participant => ":participant",
    });
    if let Some(c) = &s.client_address {
        text.push_str(&format!(";{}:{}", delimited(&c.host), c.port));
    }
    text
}

/// IPv6 literals go in brackets.
fn delimited(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// The iteration order of a java.util.HashMap<Long, _> (default capacity)
/// holding these keys, inserted in ascending order.
fn java_long_map_order(keys: impl Iterator<Item = u64>) -> Vec<u64> {
    let keys: Vec<u64> = keys.collect();
    let hashes: Vec<i32> = keys
        .iter()
        .map(|&k| (k ^ (k >> 32)) as u32 as i32)
        .collect();
    javahash::insertion_order(&hashes, 16)
        .into_iter()
        .map(|i| keys[i])
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::{ClientAddress, QuorumServerAddress};

    pub(crate) fn line(id: u64, role: LearnerRole) -> QuorumServerLine {
        QuorumServerLine {
            id,
            addresses: vec![QuorumServerAddress {
                host: "127.0.0.1".into(),
                quorum_port: 2000 + id as u16,
                election_port: 3000 + id as u16,
            }],
            role,
            client_address: None,
        }
    }

    pub(crate) fn lines(voters: &[u64], observers: &[u64]) -> Vec<QuorumServerLine> {
        let mut v: Vec<_> = voters
            .iter()
            .map(|&i| line(i, LearnerRole::Participant))
            .collect();
        v.extend(observers.iter().map(|&i| line(i, LearnerRole::Observer)));
        v
    }

    pub(crate) fn maj(voters: &[u64], observers: &[u64]) -> QuorumVerifier {
        QuorumVerifier::majority(&lines(voters, observers), 0)
    }

    pub(crate) fn hier(
        voters: &[u64],
        groups: Vec<(u64, Vec<u64>)>,
        weights: BTreeMap<u64, u64>,
    ) -> QuorumVerifier {
        QuorumVerifier::hierarchical(&lines(voters, &[]), groups, weights, 0).expect("valid")
    }

    fn set(s: &[u64]) -> BTreeSet<u64> {
        s.iter().copied().collect()
    }

    #[test]
    fn majority_of_voters() {
        let qv = maj(&[1, 2, 3, 4, 5], &[6]);
        assert_eq!(qv.voters(), vec![1, 2, 3, 4, 5]);
        assert_eq!(qv.observers(), vec![6]);
        assert!(qv.is_voter(1) && !qv.is_voter(6) && !qv.is_voter(9));
        assert!(!qv.contains_quorum(&set(&[1, 2])));
        assert!(qv.contains_quorum(&set(&[1, 2, 3])));
        // Observers and strangers do not count.
        assert!(!qv.contains_quorum(&set(&[1, 2, 6, 9])));
        let even = maj(&[1, 2, 3, 4], &[]);
        assert!(!even.contains_quorum(&set(&[1, 2])));
        assert!(even.contains_quorum(&set(&[1, 2, 3])));
        assert_eq!(qv.weight(1), 1);
        assert_eq!(qv.weight_of_vote(i64::MIN), 1);
    }

    #[test]
    fn hierarchical_majority_of_groups_each_by_weight() {
        // Three groups of three; a quorum is two groups, each with a
        // majority of its weight.
        let groups = vec![(1, vec![1, 2, 3]), (2, vec![4, 5, 6]), (3, vec![7, 8, 9])];
        let qv = hier(&[1, 2, 3, 4, 5, 6, 7, 8, 9], groups, BTreeMap::new());
        assert!(qv.contains_quorum(&set(&[1, 2, 4, 5])));
        assert!(!qv.contains_quorum(&set(&[1, 2, 3, 4])));
        assert!(!qv.contains_quorum(&set(&[1, 4, 7])));
        assert!(!qv.contains_quorum(&set(&[])));
        // Weights: server 1 alone outweighs 2 and 3 together.
        let groups = vec![(1, vec![1, 2, 3]), (2, vec![4, 5, 6])];
        let weights = BTreeMap::from([(1, 3)]);
        let qv = hier(&[1, 2, 3, 4, 5, 6], groups, weights);
        assert_eq!(qv.weight(1), 3);
        assert_eq!(qv.weight(2), 1);
        // Two groups: a quorum needs both (2 > 2/2).
        assert!(qv.contains_quorum(&set(&[1, 4, 5])));
        assert!(!qv.contains_quorum(&set(&[2, 3, 4, 5])));
        assert!(!qv.contains_quorum(&set(&[1, 2, 3])));
    }

    #[test]
    fn hierarchical_weight_zero() {
        // Group 2 weighs nothing, so it is not counted: group 1 alone decides.
        let groups = vec![(1, vec![1, 2, 3]), (2, vec![4, 5])];
        let weights = BTreeMap::from([(4, 0), (5, 0)]);
        let qv = hier(&[1, 2, 3, 4, 5], groups, weights);
        assert!(qv.is_voter(4));
        assert_eq!(qv.weight(4), 0);
        assert!(qv.contains_quorum(&set(&[1, 2])));
        assert!(!qv.contains_quorum(&set(&[1, 4, 5])));
        // A zero-weight server inside a weighted group adds nothing.
        let groups = vec![(1, vec![1, 2, 3])];
        let weights = BTreeMap::from([(3, 0)]);
        let qv = hier(&[1, 2, 3], groups, weights);
        assert!(!qv.contains_quorum(&set(&[1, 3])));
        assert!(qv.contains_quorum(&set(&[1, 2])));
    }

    #[test]
    fn hierarchical_checks() {
        let err = QuorumVerifier::hierarchical(
            &lines(&[1, 2], &[]),
            vec![(1, vec![1, 2]), (2, vec![2])],
            BTreeMap::new(),
            0,
        )
        .unwrap_err();
        assert!(err.contains("multiple groups"), "{err}");
        let err = QuorumVerifier::hierarchical(
            &lines(&[1, 2], &[]),
            vec![(1, vec![1])],
            BTreeMap::new(),
            0,
        )
        .unwrap_err();
        assert!(err.contains("not in a group"), "{err}");
    }

    #[test]
    fn config_string_as_java_prints_it() {
        let mut servers = lines(&[1, 2], &[3]);
        servers[1].client_address = Some(ClientAddress {
            host: "0.0.0.0".into(),
            port: 2181,
        });
        let qv = QuorumVerifier::majority(&servers, 0x100000000);
        assert_eq!(
            qv.config_string(),
            "server.1=127.0.0.1:2001:3001:participant\n\
             server.2=127.0.0.1:2002:3002:participant;0.0.0.0:2181\n\
             server.3=127.0.0.1:2003:3003:observer\n\
             version=100000000"
        );
        // HashMap order: 17 lands in bucket 1, after 16 (bucket 0), before 2.
        let qv = maj(&[2, 16, 17], &[]);
        let text = qv.config_string();
        let order: Vec<&str> = text.lines().map(|l| &l[..9]).collect();
        assert_eq!(
            order,
            vec!["server.16", "server.17", "server.2=", "version=0"]
        );
        // IPv6 in brackets; several addresses sorted by host.
        let mut l = line(1, LearnerRole::Participant);
        l.addresses = vec![
            QuorumServerAddress {
                host: "b".into(),
                quorum_port: 1,
                election_port: 2,
            },
            QuorumServerAddress {
                host: "::1".into(),
                quorum_port: 3,
                election_port: 4,
            },
        ];
        let qv = QuorumVerifier::majority(&[l], 0);
        assert_eq!(
            qv.config_string(),
            "server.1=[::1]:3:4|b:1:2:participant\nversion=0"
        );
    }

    #[test]
    fn hierarchical_config_string() {
        let groups = vec![(1, vec![1, 2]), (2, vec![3])];
        let weights = BTreeMap::from([(2, 0)]);
        let qv = hier(&[1, 2, 3], groups, weights);
        assert_eq!(
            qv.config_string(),
            "server.1=127.0.0.1:2001:3001:participant\n\
             server.2=127.0.0.1:2002:3002:participant\n\
             server.3=127.0.0.1:2003:3003:participant\n\
             group.1=1:2\n\
             group.2=3\n\
             weight.1=1\n\
             weight.2=0\n\
             weight.3=1\n\
             version=0"
        );
    }
}
