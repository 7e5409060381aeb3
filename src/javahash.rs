//! Java's hash-table iteration order, where clients can observe it.
//!
//! Java keeps some sets in `java.util.HashSet`s and hands them to clients in
//! iteration order: a node's children (getChildren), a session's ephemerals
//! (getEphemerals, and the order in which closing a session deletes them,
//! which orders the watch events).
//! A HashSet iterates bucket by bucket (bucket = spread hash masked by the
//! table size), and within a bucket in insertion order; the table doubles
//! once it is more than three quarters full and never shrinks.

use hashbrown::HashTable;

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

/// A member's name: held inline up to 24 bytes (most child names), so
/// that a big set costs one table slot per member and no allocation.
pub type Name = compact_str::CompactString;

/// A member: its name, insertion sequence and Java hash.
#[derive(Debug, Clone)]
struct Member {
    name: Name,
    seq: u32,
    hash: i32,
}

/// A set of strings that remembers what Java's HashSet would: each member's
/// insertion sequence and the table size the set has grown to.
#[derive(Debug, Clone, Default)]
pub struct JavaHashSet {
    members: HashTable<Member>,
    hasher: foldhash::fast::RandomState,
    /// The table size; 0 until the first insert allocates it.
    capacity: usize,
    /// The table size the first insert allocates (0 means Java's default, 16).
    initial: usize,
    /// Members per bucket while the table is under 64 (for the chain-of-9
    /// rule, which applies only there); empty from 64 on.
    chains: Vec<u32>,
    next_seq: u32,
}

impl JavaHashSet {
    /// Java's `new HashSet<>(initial)` (a power of two here).
    pub fn with_initial_capacity(initial: usize) -> JavaHashSet {
        JavaHashSet {
            initial: table_size_for(initial),
            ..Default::default()
        }
    }

    fn key_hash(&self, s: &str) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(s.as_bytes())
    }

    pub fn insert(&mut self, s: &str) {
        let h = string_hash(s);
        let kh = self.key_hash(s);
        if self.members.find(kh, |m| m.name == s).is_some() {
            return;
        }
        if self.next_seq == u32::MAX {
            self.renumber();
        }
        let hasher = &self.hasher;
        self.members.insert_unique(
            kh,
            Member {
                name: Name::new(s),
                seq: self.next_seq,
                hash: h,
            },
            |m| {
                use std::hash::BuildHasher;
                hasher.hash_one(m.name.as_bytes())
            },
        );
        if self.capacity == 0 {
            self.capacity = if self.initial == 0 { 16 } else { self.initial };
            self.chains = if self.capacity < 64 {
                vec![0; self.capacity]
            } else {
                Vec::new()
            };
        }
        self.next_seq += 1;
        if self.capacity < 64 {
            let b = bucket(h, self.capacity);
            self.chains[b] += 1;
            // HashMap.putVal: a chain of 9 is treeified, which below 64 resizes.
            if self.chains[b] > 8 {
                self.grow();
            }
        }
        if self.members.len() * 4 > self.capacity * 3 {
            self.grow();
        }
    }

    /// Sequence numbers from 0 again, in the same order (after 2^32 inserts).
    fn renumber(&mut self) {
        let mut seqs: Vec<u32> = self.members.iter().map(|m| m.seq).collect();
        seqs.sort_unstable();
        for m in self.members.iter_mut() {
            m.seq = seqs.binary_search(&m.seq).unwrap_or(0) as u32;
        }
        self.next_seq = seqs.len() as u32;
    }

    fn grow(&mut self) {
        self.capacity *= 2;
        if self.capacity < 64 {
            self.chains = vec![0; self.capacity];
            for m in self.members.iter() {
                self.chains[bucket(m.hash, self.capacity)] += 1;
            }
        } else {
            self.chains = Vec::new();
        }
    }

    pub fn remove(&mut self, s: &str) -> bool {
        let kh = self.key_hash(s);
        match self.members.find_entry(kh, |m| m.name == s) {
            Ok(o) => {
                let (m, _) = o.remove();
                if self.capacity < 64 {
                    self.chains[bucket(m.hash, self.capacity)] -= 1;
                }
                true
            }
            Err(_) => false,
        }
    }

    pub fn contains(&self, s: &str) -> bool {
        self.members
            .find(self.key_hash(s), |m| m.name == s)
            .is_some()
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Members in no particular order (cheaper than `iteration_order`).
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|m| m.name.as_str())
    }

    /// The set's iteration order.
    pub fn iteration_order(&self) -> Vec<&str> {
        self.ordered().into_iter().map(|n| n.as_str()).collect()
    }

    /// The set's iteration order, as names that outlive a borrow of the
    /// set (short ones are copied inline, without allocating).
    pub fn iteration_order_owned(&self) -> Vec<Name> {
        self.ordered().into_iter().cloned().collect()
    }

    fn ordered(&self) -> Vec<&Name> {
        let cap = self.capacity.max(1);
        let mut v: Vec<((usize, u32), &Name)> = self
            .members
            .iter()
            .map(|m| ((bucket(m.hash, cap), m.seq), &m.name))
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
    fn renumbering_keeps_the_order() {
        let mut s = JavaHashSet::default();
        for i in 0..40 {
            s.insert(&format!("/n{i}"));
        }
        for i in (0..40).step_by(3) {
            s.remove(&format!("/n{i}"));
        }
        let before: Vec<String> = s.iteration_order().into_iter().map(str::to_owned).collect();
        s.next_seq = u32::MAX;
        s.insert("/late");
        assert_eq!(s.next_seq as usize, s.len());
        let after = s.iteration_order();
        assert_eq!(
            after
                .iter()
                .filter(|n| **n != "/late")
                .copied()
                .collect::<Vec<_>>(),
            before
        );
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
