//! Java's hash-table iteration order, where clients can observe it.
//!
//! Java keeps some sets in `java.util.HashSet`s and hands them to clients in
//! iteration order: a node's children (getChildren), a session's ephemerals
//! (getEphemerals, and the order in which closing a session deletes them,
//! which orders the watch events).
//! A HashSet iterates bucket by bucket (bucket = spread hash masked by the
//! table size), and within a bucket in insertion order; the table doubles
//! once it is more than three quarters full and never shrinks.

use std::collections::hash_map::Entry;
use std::sync::Arc;

use crate::fasthash::HashMap;

/// Java's String.hashCode.
pub fn string_hash(s: &str) -> i32 {
    let step = |h: i32, c: i32| h.wrapping_mul(31).wrapping_add(c);
    if s.is_ascii() {
        // One UTF-16 unit per byte: the common case, without the decoding.
        s.bytes().fold(0i32, |h, b| step(h, i32::from(b)))
    } else {
        s.encode_utf16().fold(0i32, |h, c| step(h, i32::from(c)))
    }
}

/// HashMap's bucket for a key hash in a table of `cap` (a power of two).
pub fn bucket(h: i32, cap: usize) -> usize {
    let spread = h ^ ((h as u32) >> 16) as i32;
    (spread as u32 as usize) & (cap - 1)
}

/// HashMap.tableSizeFor: the next power of two at or above `c`.
fn table_size_for(c: usize) -> usize {
    c.max(1).next_power_of_two()
}

/// The order in which a Java HashMap that started at `initial_capacity`
/// iterates keys inserted in the order given (by their hashes): bucket by
/// bucket, each in insertion order. The table doubles when its size passes
/// three quarters of it, and also, below 64, when a bucket's chain reaches
/// 9 (HashMap treeifies such a chain, which in a small table resizes
/// instead). The order inside a chain Java does turn into a tree (9 or more
/// colliding keys in a table of 64 or more) is not modelled.
pub fn insertion_order(hashes: &[i32], initial_capacity: usize) -> Vec<usize> {
    let mut cap = table_size_for(initial_capacity);
    let recount = |cap: usize, upto: usize| {
        let mut counts = vec![0usize; cap];
        for &h in &hashes[..upto] {
            counts[bucket(h, cap)] += 1;
        }
        counts
    };
    let mut counts = vec![0usize; cap];
    for (i, &h) in hashes.iter().enumerate() {
        let b = bucket(h, cap);
        counts[b] += 1;
        if counts[b] > 8 && cap < 64 {
            cap *= 2;
            counts = recount(cap, i + 1);
        }
        if (i + 1) * 4 > cap * 3 {
            cap *= 2;
            counts = recount(cap, i + 1);
        }
    }
    let mut order: Vec<usize> = (0..hashes.len()).collect();
    order.sort_by_key(|&i| bucket(hashes[i], cap));
    order
}

/// A set of strings that remembers what Java's HashSet would: each member's
/// insertion sequence and the table size the set has grown to.
#[derive(Debug, Clone, Default)]
pub struct JavaHashSet {
    /// Member -> (insertion sequence, Java hash). Shared strings, so that
    /// a snapshot walk can hold on to a big set's names cheaply.
    members: HashMap<Arc<str>, (u64, i32)>,
    /// The table size; 0 until the first insert allocates it.
    capacity: usize,
    /// The table size the first insert allocates (0 means Java's default, 16).
    initial: usize,
    /// Members per bucket of the current table (for the chain-of-9 rule).
    chains: Vec<u32>,
    next_seq: u64,
}

impl JavaHashSet {
    /// Java's `new HashSet<>(initial)` (a power of two here).
    pub fn with_initial_capacity(initial: usize) -> JavaHashSet {
        JavaHashSet {
            initial: table_size_for(initial),
            ..Default::default()
        }
    }

    pub fn insert(&mut self, s: &str) {
        let h = string_hash(s);
        // Inserting a member twice is rare (callers check first): one lookup
        // with an owned key beats a second lookup for every new member.
        match self.members.entry(Arc::from(s)) {
            Entry::Occupied(_) => return,
            Entry::Vacant(v) => {
                v.insert((self.next_seq, h));
            }
        }
        if self.capacity == 0 {
            self.capacity = if self.initial == 0 { 16 } else { self.initial };
            self.chains = vec![0; self.capacity];
        }
        self.next_seq += 1;
        let b = bucket(h, self.capacity);
        self.chains[b] += 1;
        // HashMap.putVal: a chain of 9 is treeified, which below 64 resizes.
        if self.chains[b] > 8 && self.capacity < 64 {
            self.grow();
        }
        if self.members.len() * 4 > self.capacity * 3 {
            self.grow();
        }
    }

    fn grow(&mut self) {
        self.capacity *= 2;
        self.chains = vec![0; self.capacity];
        for &(_, h) in self.members.values() {
            self.chains[bucket(h, self.capacity)] += 1;
        }
    }

    pub fn remove(&mut self, s: &str) -> bool {
        match self.members.remove(s) {
            Some((_, h)) => {
                self.chains[bucket(h, self.capacity)] -= 1;
                true
            }
            None => false,
        }
    }

    pub fn contains(&self, s: &str) -> bool {
        self.members.contains_key(s)
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Members in no particular order (cheaper than `iteration_order`).
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.members.keys().map(|k| &**k)
    }

    /// The set's iteration order.
    pub fn iteration_order(&self) -> Vec<&str> {
        self.ordered().into_iter().map(|k| &**k).collect()
    }

    /// The set's iteration order, as shared strings that outlive a borrow
    /// of the set.
    pub fn iteration_order_shared(&self) -> Vec<Arc<str>> {
        self.ordered().into_iter().cloned().collect()
    }

    fn ordered(&self) -> Vec<&Arc<str>> {
        let cap = self.capacity.max(1);
        let mut v: Vec<((usize, u64), &Arc<str>)> = self
            .members
            .iter()
            .map(|(k, &(seq, h))| ((bucket(h, cap), seq), k))
            .collect();
        // Sequence numbers are unique: no two keys are equal.
        v.sort_unstable_by_key(|&(key, _)| key);
        v.into_iter().map(|(_, k)| k).collect()
    }

    /// The iteration order of `clone()` of the set, which Java iterates
    /// when it hands the set out: the copy is sized for its contents and
    /// filled in the original's order.
    pub fn clone_iteration_order(&self) -> Vec<&str> {
        let v = self.iteration_order();
        let cap = table_size_for((self.members.len() as f32 / 0.75 + 1.0) as usize);
        let hashes: Vec<i32> = v.iter().map(|k| string_hash(k)).collect();
        insertion_order(&hashes, cap)
            .into_iter()
            .map(|i| v[i])
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_hash_matches_java() {
        assert_eq!(string_hash(""), 0);
        assert_eq!(string_hash("a"), 97);
        // "hello".hashCode() in Java
        assert_eq!(string_hash("hello"), 99162322);
    }

    #[test]
    fn order_is_by_bucket_then_insertion() {
        let mut s = JavaHashSet::default();
        for p in ["/b", "/a", "/c"] {
            s.insert(p);
        }
        let order = s.iteration_order();
        let buckets: Vec<usize> = order.iter().map(|k| bucket(string_hash(k), 16)).collect();
        let mut sorted = buckets.clone();
        sorted.sort();
        assert_eq!(buckets, sorted);
        assert_eq!(order.len(), 3);
    }

    #[test]
    fn a_chain_of_nine_grows_a_small_table() {
        // Nine keys in one bucket of 16: Java resizes instead of treeifying.
        let mut keys = Vec::new();
        let mut i = 0u32;
        while keys.len() < 9 {
            let k = format!("k{i}");
            if bucket(string_hash(&k), 16) == 3 {
                keys.push(k);
            }
            i += 1;
        }
        let mut s = JavaHashSet::default();
        for k in &keys {
            s.insert(k);
        }
        assert_eq!(s.capacity, 32);
        let hashes: Vec<i32> = keys.iter().map(|k| string_hash(k)).collect();
        let want: Vec<&str> = insertion_order(&hashes, 16)
            .into_iter()
            .map(|i| keys[i].as_str())
            .collect();
        assert_eq!(s.iteration_order(), want);
    }

    #[test]
    fn grows_past_three_quarters() {
        let mut s = JavaHashSet::default();
        for i in 0..13 {
            s.insert(&format!("/n{i}"));
        }
        assert_eq!(s.capacity, 32);
    }
}
