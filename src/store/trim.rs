//! Dropping history: trimming an app to its `historyLimit`, and removing an app altogether;
//! with either, the stored manifests that no remaining entry of any app names.
//!
//! Which entries are protected (pinned, current, running) is decided here; pins themselves
//! live in `pins.rs`. Ids are never given back: an app's last id survives both.

use super::{
    HistoryEntry, Result, Store, app_prefix, check_name, committed, decode, entry_id, get, ref_key,
};
use sled::{IVec, Transactional};
use std::collections::BTreeSet;

/// What dropping some entries of one app deletes.
#[derive(Default)]
struct Plan {
    /// The entries' ids and keys.
    entries: Vec<(u64, IVec)>,
    /// Their `refs` keys.
    refs: Vec<String>,
    /// Digests no other entry names.
    manifests: Vec<String>,
}

impl Store {
    /// Keeps the newest `limit` entries of `app` (at least one, so an app never loses its
    /// last record), and also, whatever their age, the pinned entry, the current entry and a
    /// running one; drops the rest, and the stored manifests no remaining entry of any app
    /// names. Returns the ids dropped, oldest first. Ids are not reused afterwards.
    ///
    /// `finish_sync` calls it with the store's `history_limit`.
    pub fn trim(&self, app: &str, limit: usize) -> Result<Vec<u64>> {
        check_name("app", app)?;
        let t = self.trees();
        let write = self.lock();
        let mut ids = Vec::new();
        for key in t.history.scan_prefix(app_prefix(app)).keys() {
            let key = key?;
            ids.push((entry_id("history", &key)?, key));
        }
        let keep = limit.max(1);
        if ids.len() <= keep {
            return Ok(Vec::new());
        }
        let protected = [
            self.pin_of(app)?.map(|pin| pin.entry),
            get::<u64>(&t.current, "current", app)?,
            get::<u64>(&t.running, "running", app)?,
        ];
        let old = ids.len() - keep;
        let dropped: Vec<(u64, IVec)> =
            ids.into_iter().take(old).filter(|(id, _)| !protected.contains(&Some(*id))).collect();
        if dropped.is_empty() {
            return Ok(Vec::new());
        }
        let plan = self.plan(app, dropped)?;
        committed((&t.history, &t.refs, &t.manifests).transaction(
            |(history, refs, manifests)| {
                for (_, key) in &plan.entries {
                    history.remove(key)?;
                }
                for key in &plan.refs {
                    refs.remove(key.as_bytes())?;
                }
                for digest in &plan.manifests {
                    manifests.remove(digest.as_bytes())?;
                }
                Ok(())
            },
        ))?;
        drop(write);
        self.flush()?;
        Ok(plan.entries.iter().map(|(id, _)| *id).collect())
    }

    /// Forgets `app`: its history, inventory, applied memory, current pointer, pin and bad
    /// digests, and the manifests only it named. Its last id is kept, so an app of the same
    /// name added later continues the ids.
    ///
    /// For the daemon, once an app's cetus.yaml is gone from the repo *and* its objects were
    /// pruned: until then the inventory is what a prune needs, and keeping a forgotten app's
    /// history (not calling this) is a fine choice too. A sync of the app still running when
    /// it is removed fails to finish with [`super::StoreError::UnknownEntry`].
    pub fn remove_app(&self, app: &str) -> Result<()> {
        check_name("app", app)?;
        let t = self.trees();
        let write = self.lock();
        let mut entries = Vec::new();
        for key in t.history.scan_prefix(app_prefix(app)).keys() {
            let key = key?;
            entries.push((entry_id("history", &key)?, key));
        }
        let plan = self.plan(app, entries)?;
        let mut bad = Vec::new();
        for key in t.bad.scan_prefix(app_prefix(app)).keys() {
            bad.push(key?);
        }
        let trees = (
            &t.history,
            &t.refs,
            &t.manifests,
            &t.bad,
            &t.current,
            &t.running,
            &t.inventory,
            &t.applied,
            &t.pins,
        );
        committed(trees.transaction(
            |(history, refs, manifests, bads, current, running, inventory, applied, pins)| {
                for (_, key) in &plan.entries {
                    history.remove(key)?;
                }
                for key in &plan.refs {
                    refs.remove(key.as_bytes())?;
                }
                for digest in &plan.manifests {
                    manifests.remove(digest.as_bytes())?;
                }
                for key in &bad {
                    bads.remove(key)?;
                }
                for tree in [current, running, inventory, applied, pins] {
                    tree.remove(app)?;
                }
                Ok(())
            },
        ))?;
        drop(write);
        tracing::info!(app, entries = plan.entries.len(), "app removed from the store");
        self.flush()
    }

    /// What dropping `entries` of `app` deletes: their refs, and the manifests of digests
    /// that only they name. Called with the write lock held, so no ref appears meanwhile.
    fn plan(&self, app: &str, entries: Vec<(u64, IVec)>) -> Result<Plan> {
        let t = self.trees();
        let mut refs = BTreeSet::new();
        let mut digests = BTreeSet::new();
        for (id, key) in &entries {
            let Some(value) = t.history.get(key)? else { continue };
            let entry: HistoryEntry = decode("history", key, &value)?;
            if let Some(digest) = entry.digest {
                refs.insert(ref_key(&digest, app, *id));
                digests.insert(digest);
            }
        }
        let mut manifests = Vec::new();
        for digest in digests {
            let mut others = false;
            for key in t.refs.scan_prefix(format!("{digest}/")).keys() {
                if !refs.contains(String::from_utf8_lossy(&key?).as_ref()) {
                    others = true;
                    break;
                }
            }
            if !others {
                manifests.push(digest);
            }
        }
        Ok(Plan { entries, refs: refs.into_iter().collect(), manifests })
    }
}

#[cfg(test)]
#[path = "trim_tests.rs"]
mod tests;
