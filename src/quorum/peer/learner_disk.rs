//! A learner's disk during its sync with the leader: the epoch files, the
//! txn log it may be told to truncate, and the snapshots it takes.

use crate::persist::store::{self, StoreConfig};
use crate::persist::{files, image, snapshot::Snapshot, txnlog};
use crate::quorum::zab::learner_sync::LearnerDisk;
use crate::tree::DataTree;
use crate::txn::Txn;

pub struct PeerDisk {
    pub store: StoreConfig,
    pub extended_types: bool,
}

impl PeerDisk {
    /// Removes every logged txn after `zxid`, and every snapshot that
    /// covers one: none of them is in the leader's history.
    fn cut_after(&self, zxid: i64) -> Result<(), String> {
        txnlog::truncate_after(&self.store.log_dir, zxid)
            .map_err(|e| format!("cannot truncate the txn log after 0x{zxid:x}: {e}"))?;
        let snaps = files::list_snapshots(&self.store.snap_dir)
            .map_err(|e| format!("cannot list {}: {e}", self.store.snap_dir.display()))?;
        for p in snaps {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if crate::persist::snapshot::zxid_from_file_name(name).is_some_and(|z| z > zxid) {
                tracing::info!("removing snapshot {} (after 0x{zxid:x})", p.display());
                std::fs::remove_file(&p)
                    .map_err(|e| format!("cannot remove {}: {e}", p.display()))?;
            }
        }
        Ok(())
    }
}

impl LearnerDisk for PeerDisk {
    fn write_accepted_epoch(&mut self, epoch: i64) -> Result<(), String> {
        files::write_accepted_epoch(&self.store.snap_dir, epoch)
            .map_err(|e| format!("cannot write acceptedEpoch: {e}"))
    }

    fn write_current_epoch(&mut self, epoch: i64) -> Result<(), String> {
        files::write_current_epoch(&self.store.snap_dir, epoch)
            .map_err(|e| format!("cannot write currentEpoch: {e}"))
    }

    fn truncate(&mut self, zxid: i64) -> Result<(DataTree, Vec<(i64, i32)>), String> {
        tracing::info!("truncating the txn log after 0x{zxid:x}, as the leader says");
        self.cut_after(zxid)?;
        // ZKDatabase.truncateLog reloads the database: a dbinittime.
        let t0 = std::time::Instant::now();
        let r = store::recover(&self.store, self.extended_types)?;
        super::recovered_metrics(&r, t0);
        Ok((r.tree, r.sessions))
    }

    fn snapshot(&mut self, tree: &DataTree, sessions: &[(i64, i32)]) -> Result<(), String> {
        let zxid = tree.last_processed_zxid;
        store::write_snapshot(&self.store, &image::snapshot_of(tree, sessions), zxid)
            .map(|_| ())
            .map_err(|e| format!("cannot write snapshot 0x{zxid:x}: {e}"))
    }

    fn load(&mut self, snap: Snapshot, zxid: i64) -> Result<(DataTree, Vec<(i64, i32)>), String> {
        // Whatever this server logged after the leader's snapshot is not in
        // the leader's history: it must not be replayed on a restart.
        self.cut_after(zxid)?;
        image::load(snap, zxid, self.extended_types)
    }

    fn log_proposals(&mut self, txns: &[Txn]) -> Result<(), String> {
        if txns.is_empty() {
            return Ok(());
        }
        // A log file of its own; the core's log writer starts the next.
        let mut w = txnlog::TxnLogWriter::new(&self.store.log_dir, self.store.prealloc_bytes);
        for t in txns {
            w.append_txn(t, t.digest.as_ref())
                .map_err(|e| format!("cannot log 0x{:x}: {e}", t.header.zxid))?;
        }
        w.close()
            .map_err(|e| format!("cannot sync the txn log at NEWLEADER: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::snapshot::Compression;
    use crate::quorum::zab::sim_learner::{history_of, make_txn};
    use crate::quorum::zab::zxid::make;

    #[test]
    fn proposals_logged_at_newleader_are_recovered_before_the_cores_log() {
        let dir = std::env::temp_dir().join(format!(
            "rzk-learner-disk-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let store = StoreConfig {
            snap_dir: dir.join("snap"),
            log_dir: dir.join("log"),
            force_sync: true,
            prealloc_bytes: 4096,
            compression: Compression::None,
            trust_empty_snapshot: false,
            fsync_warning_ms: 1000,
        };
        std::fs::create_dir_all(&store.snap_dir).unwrap();
        std::fs::create_dir_all(&store.log_dir).unwrap();
        let empty = DataTree::new(false);
        store::write_snapshot(&store, &image::snapshot_of(&empty, &[]), 0).unwrap();
        let mut disk = PeerDisk {
            store: store.clone(),
            extended_types: false,
        };
        let synced = [make_txn(make(1, 1), 11), make_txn(make(1, 2), 12)];
        disk.log_proposals(&synced).unwrap();
        disk.log_proposals(&[]).unwrap();
        let r = store::recover(&store, false).unwrap();
        assert_eq!(r.tree.last_processed_zxid, make(1, 2));
        assert_eq!(
            history_of(&r.tree),
            vec![(make(1, 1), 11), (make(1, 2), 12)]
        );
        // The core's log writer goes on in a file of its own.
        let mut w = txnlog::TxnLogWriter::new(&store.log_dir, 4096);
        w.append_txn(&make_txn(make(1, 3), 13), None).unwrap();
        w.close().unwrap();
        let r = store::recover(&store, false).unwrap();
        assert_eq!(history_of(&r.tree).len(), 3);
        assert_eq!(r.tree.last_processed_zxid, make(1, 3));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
