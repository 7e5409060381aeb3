//! Hash maps and sets for the server's hot paths (the tree's nodes, child
//! sets, watches, prep's pending changes): std's tables with foldhash instead
//! of SipHash, several times faster on short path keys. The hasher is seeded
//! at random per process, so clients cannot choose colliding paths ahead of
//! time.

pub type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// An empty map with room for `n` entries.
pub fn map_with_capacity<K, V>(n: usize) -> HashMap<K, V> {
    HashMap::with_capacity_and_hasher(n, Default::default())
}
