//! A znode packed into one allocation, and the table of them.
//!
//! Memory per znode is what a big tree costs, so a node is one boxed byte
//! string: its stat, the id of its ACL list, its data length, then its
//! path and its data. The table holds these boxes alone (the path inside
//! is the key), so a node costs its bytes, one allocation's overhead and
//! a 16-byte slot. Child sets live beside the table, for the few nodes
//! that have children.

use hashbrown::HashTable;

use crate::jute::data::StatPersisted;

/// Stat fields in this order, native-endian: czxid, mzxid, ctime, mtime,
/// pzxid, ephemeral_owner (i64), version, cversion, aversion (i32).
const STAT_LEN: usize = 6 * 8 + 3 * 4;
const ACL_AT: usize = STAT_LEN;
const DATA_LEN_AT: usize = ACL_AT + 4;
/// 1: the node has a child set (so a leaf's reads skip that lookup).
const FLAGS_AT: usize = DATA_LEN_AT + 4;
const HEADER: usize = FLAGS_AT + 1;

/// One znode's state (everything but its children).
pub struct Packed(Box<[u8]>);

impl Packed {
    pub fn new(path: &str, data: Option<&[u8]>, acl: u32, stat: &StatPersisted) -> Packed {
        let dlen = data.map_or(0, <[u8]>::len);
        let mut b = Vec::with_capacity(HEADER + path.len() + dlen);
        b.resize(HEADER, 0);
        write_stat(&mut b[..STAT_LEN], stat);
        b[ACL_AT..DATA_LEN_AT].copy_from_slice(&acl.to_ne_bytes());
        // -1 is Java's null data, distinct from empty.
        let wire_len = data.map_or(-1, |d| d.len() as i32);
        b[DATA_LEN_AT..FLAGS_AT].copy_from_slice(&wire_len.to_ne_bytes());
        b.extend_from_slice(path.as_bytes());
        if let Some(d) = data {
            b.extend_from_slice(d);
        }
        Packed(b.into_boxed_slice())
    }

    /// The same node with other data and stat (its ACL and flags kept).
    pub fn with_data(&self, data: Option<&[u8]>, stat: &StatPersisted) -> Packed {
        let mut n = Packed::new(self.path(), data, self.acl(), stat);
        n.0[FLAGS_AT] = self.0[FLAGS_AT];
        n
    }

    pub fn has_child_set(&self) -> bool {
        self.0[FLAGS_AT] & 1 != 0
    }

    pub fn mark_child_set(&mut self) {
        self.0[FLAGS_AT] |= 1;
    }

    fn data_len_field(&self) -> i32 {
        i32::from_ne_bytes(self.0[DATA_LEN_AT..FLAGS_AT].try_into().expect("4 bytes"))
    }

    fn path_end(&self) -> usize {
        self.0.len() - self.data_len()
    }

    pub fn path_bytes(&self) -> &[u8] {
        &self.0[HEADER..self.path_end()]
    }

    pub fn path(&self) -> &str {
        // Only `new` fills the path, from a &str.
        std::str::from_utf8(self.path_bytes()).unwrap_or_default()
    }

    pub fn data(&self) -> Option<&[u8]> {
        (self.data_len_field() >= 0).then(|| &self.0[self.path_end()..])
    }

    pub fn data_len(&self) -> usize {
        self.data_len_field().max(0) as usize
    }

    pub fn acl(&self) -> u32 {
        u32::from_ne_bytes(self.0[ACL_AT..DATA_LEN_AT].try_into().expect("4 bytes"))
    }

    pub fn set_acl(&mut self, acl: u32) {
        self.0[ACL_AT..DATA_LEN_AT].copy_from_slice(&acl.to_ne_bytes());
    }

    pub fn stat(&self) -> StatPersisted {
        let b = &self.0;
        let l = |i: usize| i64::from_ne_bytes(b[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        let w = |i: usize| {
            let at = 48 + i * 4;
            i32::from_ne_bytes(b[at..at + 4].try_into().expect("4 bytes"))
        };
        StatPersisted {
            czxid: l(0),
            mzxid: l(1),
            ctime: l(2),
            mtime: l(3),
            pzxid: l(4),
            ephemeral_owner: l(5),
            version: w(0),
            cversion: w(1),
            aversion: w(2),
        }
    }

    pub fn set_stat(&mut self, stat: &StatPersisted) {
        write_stat(&mut self.0[..STAT_LEN], stat);
    }
}

fn write_stat(b: &mut [u8], s: &StatPersisted) {
    let longs = [
        s.czxid,
        s.mzxid,
        s.ctime,
        s.mtime,
        s.pzxid,
        s.ephemeral_owner,
    ];
    for (i, v) in longs.iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&v.to_ne_bytes());
    }
    for (i, v) in [s.version, s.cversion, s.aversion].iter().enumerate() {
        let at = 48 + i * 4;
        b[at..at + 4].copy_from_slice(&v.to_ne_bytes());
    }
}

/// Nodes by path.
pub struct NodeTable {
    table: HashTable<Packed>,
    hasher: foldhash::fast::RandomState,
}

impl Default for NodeTable {
    fn default() -> Self {
        NodeTable {
            table: HashTable::new(),
            hasher: Default::default(),
        }
    }
}

impl NodeTable {
    fn hash(&self, path: &[u8]) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(path)
    }

    pub fn get(&self, path: &str) -> Option<&Packed> {
        let p = path.as_bytes();
        self.table.find(self.hash(p), |n| n.path_bytes() == p)
    }

    pub fn get_mut(&mut self, path: &str) -> Option<&mut Packed> {
        let p = path.as_bytes();
        let h = self.hash(p);
        self.table.find_mut(h, |n| n.path_bytes() == p)
    }

    pub fn contains(&self, path: &str) -> bool {
        self.get(path).is_some()
    }

    /// Adds a node, replacing one at the same path (returned).
    pub fn insert(&mut self, node: Packed) -> Option<Packed> {
        let h = self.hash(node.path_bytes());
        let hasher = &self.hasher;
        match self.table.entry(
            h,
            |n| n.path_bytes() == node.path_bytes(),
            |n| {
                use std::hash::BuildHasher;
                hasher.hash_one(n.path_bytes())
            },
        ) {
            hashbrown::hash_table::Entry::Occupied(mut o) => {
                Some(std::mem::replace(o.get_mut(), node))
            }
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(node);
                None
            }
        }
    }

    pub fn remove(&mut self, path: &str) -> Option<Packed> {
        let p = path.as_bytes();
        let h = self.hash(p);
        match self.table.find_entry(h, |n| n.path_bytes() == p) {
            Ok(o) => Some(o.remove().0),
            Err(_) => None,
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn reserve(&mut self, n: usize) {
        let hasher = &self.hasher;
        self.table.reserve(n, |x| {
            use std::hash::BuildHasher;
            hasher.hash_one(x.path_bytes())
        });
    }

    pub fn iter(&self) -> impl Iterator<Item = &Packed> {
        self.table.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat() -> StatPersisted {
        StatPersisted {
            czxid: 1,
            mzxid: -2,
            ctime: 3,
            mtime: i64::MAX,
            version: -5,
            cversion: 6,
            aversion: i32::MIN,
            ephemeral_owner: 8,
            pzxid: 9,
        }
    }

    #[test]
    fn fields_come_back_as_packed() {
        for data in [None, Some(&b""[..]), Some(&b"some data"[..])] {
            let mut n = Packed::new("/a/b", data, 7, &stat());
            assert_eq!(n.path(), "/a/b");
            assert_eq!(n.data(), data);
            assert_eq!(n.data_len(), data.map_or(0, |d| d.len()));
            assert_eq!(n.acl(), 7);
            assert_eq!(n.stat(), stat());
            let mut s = stat();
            s.cversion = 99;
            n.set_stat(&s);
            n.set_acl(u32::MAX);
            assert_eq!(
                (n.stat(), n.acl(), n.path(), n.data()),
                (s, u32::MAX, "/a/b", data)
            );
            assert!(!n.has_child_set());
            n.mark_child_set();
            let m = n.with_data(Some(b"new"), &stat());
            assert!(m.has_child_set());
            assert_eq!(
                (m.acl(), m.path(), m.data(), m.stat()),
                (u32::MAX, "/a/b", Some(&b"new"[..]), stat())
            );
        }
    }

    #[test]
    fn the_table_finds_by_path() {
        let mut t = NodeTable::default();
        for i in 0..1000 {
            assert!(t
                .insert(Packed::new(&format!("/n{i}"), None, 0, &stat()))
                .is_none());
        }
        assert!(t
            .insert(Packed::new("/n5", Some(b"x"), 1, &stat()))
            .is_some());
        assert_eq!(t.len(), 1000);
        assert_eq!(t.get("/n5").and_then(|n| n.data()), Some(&b"x"[..]));
        assert!(t.remove("/n5").is_some());
        assert!(t.get("/n5").is_none() && t.remove("/n5").is_none());
        assert!(t.contains("/n999") && !t.contains("/n1000"));
        assert_eq!(t.iter().count(), 999);
    }
}
