//! Quotas: the `zookeeper_limits` / `zookeeper_stats` nodes under
//! /zookeeper/quota and Java's StatsTrack text format ("count=N,bytes=M",
//! then, for any other keys, "=;key=value" pairs in key order).
//!
//! Java keeps a quota path's stats node current as nodes below it come and
//! go; zkCli's listquota reads it. Quotas are not enforced (nor are they in
//! Java by default).

use std::collections::BTreeMap;

pub const QUOTA_ROOT: &str = "/zookeeper/quota";
pub const LIMITS_NODE: &str = "zookeeper_limits";
pub const STATS_NODE: &str = "zookeeper_stats";

/// Parsed StatsTrack text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsTrack(BTreeMap<String, i64>);

impl StatsTrack {
    /// Parses leniently: pairs separated by ',' or ';', an empty value is -1,
    /// anything unparsable is skipped.
    pub fn parse(text: &str) -> StatsTrack {
        let mut m = BTreeMap::new();
        for pair in text.split([',', ';']).filter(|p| !p.is_empty()) {
            let mut kv = pair.split('=');
            let key = kv.next().unwrap_or("");
            let val = kv.next().unwrap_or("");
            let val = if val.is_empty() {
                Some(-1)
            } else {
                val.parse().ok()
            };
            if let Some(v) = val {
                m.insert(key.to_owned(), v);
            }
        }
        StatsTrack(m)
    }

    pub fn counts(count: i64, bytes: i64) -> StatsTrack {
        let mut m = BTreeMap::new();
        m.insert("count".to_owned(), count);
        m.insert("bytes".to_owned(), bytes);
        StatsTrack(m)
    }

    fn get(&self, k: &str) -> i64 {
        self.0.get(k).copied().unwrap_or(-1)
    }

    pub fn add(&mut self, count: i64, bytes: i64) {
        let (c, b) = (self.get("count"), self.get("bytes"));
        self.0.insert("count".into(), c + count);
        self.0.insert("bytes".into(), b + bytes);
    }
}

impl std::fmt::Display for StatsTrack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "count={},bytes={}", self.get("count"), self.get("bytes"))?;
        let extra: Vec<_> = self
            .0
            .iter()
            .filter(|(k, _)| *k != "count" && *k != "bytes")
            .collect();
        if !extra.is_empty() {
            f.write_str("=")?;
            for (k, v) in extra {
                write!(f, ";{k}={v}")?;
            }
        }
        Ok(())
    }
}

/// The quota'd path a node under /zookeeper/quota describes ("/zookeeper/quota/a" -> "/a").
pub fn trim_quota_path(parent: &str) -> &str {
    parent.strip_prefix(QUOTA_ROOT).unwrap_or(parent)
}

/// The stats node of a quota'd path.
pub fn stat_path(quota_path: &str) -> String {
    format!("{QUOTA_ROOT}{quota_path}/{STATS_NODE}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_java() {
        assert_eq!(StatsTrack::counts(4, 15).to_string(), "count=4,bytes=15");
        let limits = StatsTrack::parse("count=5,bytes=100=;byteHardLimit=-1;countHardLimit=-1");
        assert_eq!(
            limits.to_string(),
            "count=5,bytes=100=;byteHardLimit=-1;countHardLimit=-1"
        );
        let mut s = StatsTrack::parse("count=2,bytes=5");
        s.add(1, 10);
        assert_eq!(s.to_string(), "count=3,bytes=15");
        assert_eq!(StatsTrack::parse("").to_string(), "count=-1,bytes=-1");
    }

    #[test]
    fn paths() {
        assert_eq!(trim_quota_path("/zookeeper/quota/a/b"), "/a/b");
        assert_eq!(stat_path("/a"), "/zookeeper/quota/a/zookeeper_stats");
    }
}
