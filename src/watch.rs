//! The watch manager: who watches what, and which events a change fires.
//!
//! Follows Java 3.8.0's WatchManager. There are two tables, data (getData
//! and exists watches) and child (getChildren watches); addWatch puts a
//! persistent or persistent-recursive watch in both. A watcher holds at most
//! one mode per path per table, the last one set. Standard watches fire once;
//! persistent ones stay; recursive ones also fire for descendants, but never
//! with NodeChildrenChanged. Watchers are connections.

use std::collections::{BTreeMap, BTreeSet};

use crate::fasthash::{HashMap, HashSet};

use std::sync::Arc;

use crate::jute::data::ACL;
use crate::proto::event;
use crate::tree::Change;

pub type ConnId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Standard,
    Persistent,
    PersistentRecursive,
}

impl Mode {
    fn persistent(self) -> bool {
        self != Mode::Standard
    }
    fn recursive(self) -> bool {
        self == Mode::PersistentRecursive
    }
}

/// One table (data or child).
#[derive(Default)]
pub struct WatchTable {
    by_path: HashMap<String, BTreeSet<ConnId>>,
    by_conn: HashMap<ConnId, HashSet<String>>,
    /// Non-standard modes only; absent means Standard.
    modes: HashMap<(ConnId, String), Mode>,
    recursive: usize,
}

impl WatchTable {
    pub fn add(&mut self, path: &str, conn: ConnId, mode: Mode) {
        self.by_path
            .entry(path.to_owned())
            .or_default()
            .insert(conn);
        self.by_conn
            .entry(conn)
            .or_default()
            .insert(path.to_owned());
        self.set_mode(conn, path, mode);
    }

    fn set_mode(&mut self, conn: ConnId, path: &str, mode: Mode) {
        let key = (conn, path.to_owned());
        let old = if mode == Mode::Standard {
            self.modes.remove(&key)
        } else {
            self.modes.insert(key, mode)
        };
        let was = old.is_some_and(Mode::recursive);
        match (was, mode.recursive()) {
            (false, true) => self.recursive += 1,
            (true, false) => self.recursive -= 1,
            _ => {}
        }
    }

    fn mode(&self, conn: ConnId, path: &str) -> Mode {
        self.modes
            .get(&(conn, path.to_owned()))
            .copied()
            .unwrap_or(Mode::Standard)
    }

    /// The connections an event at `path` reaches; standard watches are used up.
    fn trigger(&mut self, path: &str, type_: i32) -> BTreeSet<ConnId> {
        let mut hit = BTreeSet::new();
        let paths: Vec<String> = if self.recursive == 0 {
            vec![path.to_owned()]
        } else {
            self_and_ancestors(path)
        };
        for (i, p) in paths.iter().enumerate() {
            let at_parent = i > 0;
            let Some(conns) = self.by_path.get(p) else {
                continue;
            };
            let mut used_up = Vec::new();
            for &c in conns {
                let mode = self.mode(c, p);
                if mode.recursive() {
                    if type_ != event::NODE_CHILDREN_CHANGED {
                        hit.insert(c);
                    }
                } else if !at_parent {
                    hit.insert(c);
                    if !mode.persistent() {
                        used_up.push(c);
                    }
                }
            }
            for c in used_up {
                self.remove(p, c);
            }
        }
        hit
    }

    /// Is there a watch at `path` that checkWatches would report for `conn`?
    /// Java 3.8 answers yes when anyone watches the exact path, or when this
    /// connection's own mode there is recursive. Err: Java's path walk fails
    /// on this path (one without a leading slash), a marshalling error there.
    pub fn contains(&self, path: &str, conn: ConnId) -> Result<bool, BadWalk> {
        let recursive = self.mode(conn, path).recursive();
        let mut walk = JavaPathWalk {
            path,
            levels_left: if self.recursive == 0 { 1 } else { usize::MAX },
        };
        let mut first = true;
        while let Some(local) = walk.next()? {
            if first && self.by_path.get(local).is_some_and(|s| !s.is_empty()) {
                return Ok(true);
            }
            first = false;
            if recursive {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Removes one connection's watch on one path; false if it had none.
    pub fn remove(&mut self, path: &str, conn: ConnId) -> bool {
        let had = self.by_conn.get_mut(&conn).is_some_and(|s| s.remove(path));
        if !had {
            return false;
        }
        if self.by_conn.get(&conn).is_some_and(HashSet::is_empty) {
            self.by_conn.remove(&conn);
        }
        if let Some(s) = self.by_path.get_mut(path) {
            s.remove(&conn);
            if s.is_empty() {
                self.by_path.remove(path);
            }
        }
        self.set_mode(conn, path, Mode::Standard);
        true
    }

    /// Drops every watch of a closed connection.
    pub fn remove_conn(&mut self, conn: ConnId) {
        if let Some(paths) = self.by_conn.remove(&conn) {
            for p in paths {
                if let Some(s) = self.by_path.get_mut(&p) {
                    s.remove(&conn);
                    if s.is_empty() {
                        self.by_path.remove(&p);
                    }
                }
                self.set_mode(conn, &p, Mode::Standard);
            }
        }
    }

    pub fn watch_count(&self) -> usize {
        self.by_path.values().map(BTreeSet::len).sum()
    }

    pub fn path_count(&self) -> usize {
        self.by_path.len()
    }

    pub fn conn_count(&self) -> usize {
        self.by_conn.len()
    }

    pub fn by_path(&self) -> BTreeMap<&str, &BTreeSet<ConnId>> {
        self.by_path.iter().map(|(k, v)| (k.as_str(), v)).collect()
    }

    pub fn by_conn(&self) -> BTreeMap<ConnId, BTreeSet<&str>> {
        self.by_conn
            .iter()
            .map(|(k, v)| (*k, v.iter().map(String::as_str).collect()))
            .collect()
    }
}

/// Java's PathParentIterator, faults included: computing the step after a
/// path with no slash throws, and Java turns that into MarshallingError.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadWalk;

struct JavaPathWalk<'a> {
    path: &'a str,
    levels_left: usize,
}

impl<'a> JavaPathWalk<'a> {
    fn next(&mut self) -> Result<Option<&'a str>, BadWalk> {
        if self.path.is_empty() || self.levels_left == 0 {
            return Ok(None);
        }
        self.levels_left -= 1;
        let local = self.path;
        self.path = if local == "/" {
            ""
        } else {
            match local.rfind('/') {
                None => return Err(BadWalk),
                Some(0) => "/",
                Some(i) => &local[..i],
            }
        };
        Ok(Some(local))
    }
}

/// "/a/b" -> ["/a/b", "/a", "/"].
fn self_and_ancestors(path: &str) -> Vec<String> {
    let mut out = vec![path.to_owned()];
    let mut p = path;
    while let Some(i) = p.rfind('/') {
        p = &p[..i];
        out.push(if p.is_empty() {
            "/".to_owned()
        } else {
            p.to_owned()
        });
        if p.is_empty() {
            break;
        }
    }
    if path == "/" {
        out.truncate(1);
    }
    out
}

/// An event for one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    pub conn: ConnId,
    pub type_: i32,
    pub path: String,
    /// The ACL of the node the event is about: the connection hears of it
    /// only if that lets it read. None: deliver unconditionally.
    pub acl: Option<Arc<Vec<ACL>>>,
}

#[derive(Default)]
pub struct WatchManager {
    pub data: WatchTable,
    pub child: WatchTable,
}

impl WatchManager {
    pub fn new() -> Self {
        Self::default()
    }

    fn fire(
        out: &mut Vec<Fired>,
        conns: &BTreeSet<ConnId>,
        type_: i32,
        path: &str,
        acl: &Arc<Vec<ACL>>,
    ) {
        out.extend(conns.iter().map(|&conn| Fired {
            conn,
            type_,
            path: path.to_owned(),
            acl: Some(acl.clone()),
        }));
    }

    /// The events one tree change fires, in Java's order.
    pub fn on_change(&mut self, change: &Change, out: &mut Vec<Fired>) {
        match change {
            Change::Created {
                path: p,
                acl,
                parent_acl,
            } => {
                let hit = self.data.trigger(p, event::NODE_CREATED);
                Self::fire(out, &hit, event::NODE_CREATED, p, acl);
                let parent = parent_of(p);
                let hit = self.child.trigger(&parent, event::NODE_CHILDREN_CHANGED);
                Self::fire(out, &hit, event::NODE_CHILDREN_CHANGED, &parent, parent_acl);
            }
            Change::Deleted {
                path: p,
                acl,
                parent_acl,
            } => {
                let data_hit = self.data.trigger(p, event::NODE_DELETED);
                Self::fire(out, &data_hit, event::NODE_DELETED, p, acl);
                // Child watchers of the node itself hear of the deletion too,
                // unless they already did through a data watch.
                let child_hit = self.child.trigger(p, event::NODE_DELETED);
                let only_child: BTreeSet<ConnId> =
                    child_hit.difference(&data_hit).copied().collect();
                Self::fire(out, &only_child, event::NODE_DELETED, p, acl);
                let parent = parent_of(p);
                let hit = self.child.trigger(&parent, event::NODE_CHILDREN_CHANGED);
                Self::fire(out, &hit, event::NODE_CHILDREN_CHANGED, &parent, parent_acl);
            }
            Change::DataChanged { path: p, acl } => {
                let hit = self.data.trigger(p, event::NODE_DATA_CHANGED);
                Self::fire(out, &hit, event::NODE_DATA_CHANGED, p, acl);
            }
        }
    }

    /// addWatch: a persistent watch goes into both tables.
    pub fn add_persistent(&mut self, path: &str, conn: ConnId, recursive: bool) {
        let mode = if recursive {
            Mode::PersistentRecursive
        } else {
            Mode::Persistent
        };
        self.data.add(path, conn, mode);
        self.child.add(path, conn, mode);
    }

    pub fn remove_conn(&mut self, conn: ConnId) {
        self.data.remove_conn(conn);
        self.child.remove_conn(conn);
    }

    pub fn total(&self) -> usize {
        self.data.watch_count() + self.child.watch_count()
    }
}

fn parent_of(p: &str) -> String {
    match p.rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(i) => p[..i].to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> Arc<Vec<ACL>> {
        Arc::new(crate::acl::open_acl_unsafe())
    }
    fn created(p: &str) -> Change {
        Change::Created {
            path: p.into(),
            acl: open(),
            parent_acl: open(),
        }
    }
    fn deleted(p: &str) -> Change {
        Change::Deleted {
            path: p.into(),
            acl: open(),
            parent_acl: open(),
        }
    }
    fn changed(p: &str) -> Change {
        Change::DataChanged {
            path: p.into(),
            acl: open(),
        }
    }

    fn types(out: &[Fired]) -> Vec<(u64, i32, &str)> {
        out.iter()
            .map(|f| (f.conn, f.type_, f.path.as_str()))
            .collect()
    }

    #[test]
    fn standard_watch_fires_once() {
        let mut w = WatchManager::new();
        w.data.add("/a", 1, Mode::Standard);
        let mut out = vec![];
        w.on_change(&changed("/a"), &mut out);
        w.on_change(&changed("/a"), &mut out);
        assert_eq!(types(&out), vec![(1, event::NODE_DATA_CHANGED, "/a")]);
    }

    #[test]
    fn recursive_watch_sees_descendants_but_no_child_events() {
        let mut w = WatchManager::new();
        w.add_persistent("/a", 7, true);
        let mut out = vec![];
        w.on_change(&created("/a/b"), &mut out);
        w.on_change(&created("/a/b/c"), &mut out);
        w.on_change(&changed("/a"), &mut out);
        assert_eq!(
            types(&out),
            vec![
                (7, event::NODE_CREATED, "/a/b"),
                (7, event::NODE_CREATED, "/a/b/c"),
                (7, event::NODE_DATA_CHANGED, "/a"),
            ]
        );
    }

    #[test]
    fn persistent_watch_sees_children_changes_and_stays() {
        let mut w = WatchManager::new();
        w.add_persistent("/a", 3, false);
        let mut out = vec![];
        w.on_change(&created("/a/b"), &mut out);
        w.on_change(&deleted("/a/b"), &mut out);
        assert_eq!(
            types(&out),
            vec![
                (3, event::NODE_CHILDREN_CHANGED, "/a"),
                (3, event::NODE_CHILDREN_CHANGED, "/a"),
            ]
        );
    }

    #[test]
    fn delete_fires_once_per_connection_for_the_node() {
        let mut w = WatchManager::new();
        w.data.add("/a/b", 1, Mode::Standard);
        w.child.add("/a/b", 1, Mode::Standard);
        w.child.add("/a/b", 2, Mode::Standard);
        w.child.add("/a", 1, Mode::Standard);
        let mut out = vec![];
        w.on_change(&deleted("/a/b"), &mut out);
        assert_eq!(
            types(&out),
            vec![
                (1, event::NODE_DELETED, "/a/b"),
                (2, event::NODE_DELETED, "/a/b"),
                (1, event::NODE_CHILDREN_CHANGED, "/a"),
            ]
        );
        // The suppressed standard child watch was used up all the same.
        assert_eq!(w.child.watch_count(), 0);
    }

    #[test]
    fn a_later_standard_watch_replaces_a_persistent_mode() {
        let mut w = WatchManager::new();
        w.add_persistent("/a", 1, false);
        w.data.add("/a", 1, Mode::Standard);
        let mut out = vec![];
        w.on_change(&changed("/a"), &mut out);
        w.on_change(&changed("/a"), &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn ancestors() {
        assert_eq!(self_and_ancestors("/a/b"), vec!["/a/b", "/a", "/"]);
        assert_eq!(self_and_ancestors("/"), vec!["/"]);
    }
}
