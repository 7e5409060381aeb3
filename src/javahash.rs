//! Java's hash-table iteration order, where clients can observe it.
//!
//! Java keeps some sets in `java.util.HashSet`s and hands them to clients in
//! iteration order: a node's children (getChildren), a session's ephemerals
//! (getEphemerals, and the order in which closing a session deletes them,
//! which orders the watch events).
//! A HashSet iterates bucket by bucket (bucket = spread hash masked by the
//! table size), and within a bucket in insertion order; the table doubles
//! once it is more than three quarters full and never shrinks.

use std::collections::HashMap;

/// Java's String.hashCode.
pub fn string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
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

/// A set of strings that remembers what Java's HashSet would: each member's
/// insertion sequence and the table size the set has grown to.
#[derive(Debug, Clone, Default)]
pub struct JavaHashSet {
    members: HashMap<String, u64>,
    /// The table size; 0 until the first insert allocates it.
    capacity: usize,
    /// The table size the first insert allocates (0 means Java's default, 16).
    initial: usize,
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
        if self.members.contains_key(s) {
            return;
        }
        if self.capacity == 0 {
            self.capacity = if self.initial == 0 { 16 } else { self.initial };
        }
        self.members.insert(s.to_owned(), self.next_seq);
        self.next_seq += 1;
        if self.members.len() * 4 > self.capacity * 3 {
            self.capacity *= 2;
        }
    }

    pub fn remove(&mut self, s: &str) -> bool {
        self.members.remove(s).is_some()
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
        self.members.keys().map(String::as_str)
    }

    /// The set's iteration order.
    pub fn iteration_order(&self) -> Vec<&str> {
        let mut v: Vec<(&str, u64)> = self.members.iter().map(|(k, s)| (k.as_str(), *s)).collect();
        v.sort_by_key(|(k, seq)| (bucket(string_hash(k), self.capacity.max(1)), *seq));
        v.into_iter().map(|(k, _)| k).collect()
    }

    /// The iteration order of `clone()` of the set, which Java iterates
    /// when it hands the set out: the copy is sized for its contents.
    pub fn clone_iteration_order(&self) -> Vec<&str> {
        let mut v = self.iteration_order();
        let cap = table_size_for((self.members.len() as f32 / 0.75 + 1.0) as usize);
        v.sort_by_key(|k| bucket(string_hash(k), cap));
        v
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
    fn grows_past_three_quarters() {
        let mut s = JavaHashSet::default();
        for i in 0..13 {
            s.insert(&format!("/n{i}"));
        }
        assert_eq!(s.capacity, 32);
    }
}
