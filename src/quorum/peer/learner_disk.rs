//! A learner's disk during its sync with the leader: the epoch files, the
//! txn log it may be told to truncate, and the snapshots it takes.

use crate::persist::store::{self, StoreConfig};
use crate::persist::{files, image, snapshot::Snapshot, txnlog};
use crate::quorum::zab::learner_sync::LearnerDisk;
use crate::tree::DataTree;

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
        let r = store::recover(&self.store, self.extended_types)?;
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
}
