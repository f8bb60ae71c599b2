//! Reading the store: history entries (by id, by commit, the last healthy one), the apps, and
//! per app its inventory, applied memory and current entry; manifests by digest.
//!
//! Reads take no lock and see each record as last committed; `pinned` on an entry is filled in
//! from the app's pin here, never stored. Writes live in `sync.rs`, `pins.rs` and `trim.rs`.

use super::{
    HistoryEntry, Outcome, Result, Store, app_prefix, bad_key, check_name, decode, entry_key, get,
};
use crate::engine::{Applied, AppliedMemory, Inventory};
use crate::render::ObjectKey;
use serde_json::Value;

/// The shortest commit abbreviation [`Store::entry_by_commit`] accepts, as git's.
pub const MIN_COMMIT_ABBREV: usize = 4;

impl Store {
    /// The rendered manifests stored for `digest`, in apply order.
    pub fn manifests(&self, digest: &str) -> Result<Option<Vec<Value>>> {
        check_name("digest", digest)?;
        get(&self.trees().manifests, "manifests", digest)
    }

    /// The app's inventory: what its last finished sync left, or while a sync runs (and after
    /// one was interrupted) the pending inventory, which also holds what that sync may have
    /// created. `None` when no sync ever stored one: rebuild it from the cluster.
    pub fn inventory(&self, app: &str) -> Result<Option<Inventory>> {
        check_name("app", app)?;
        get(&self.trees().inventory, "inventory", app)
    }

    /// What the engine last applied per object of the app; empty when nothing is stored.
    pub fn applied(&self, app: &str) -> Result<AppliedMemory> {
        check_name("app", app)?;
        let pairs: Option<Vec<(ObjectKey, Applied)>> = get(&self.trees().applied, "applied", app)?;
        Ok(pairs.unwrap_or_default().into_iter().collect())
    }

    /// The entry whose manifests are live now, as the last `finish_sync` that named one said.
    pub fn current(&self, app: &str) -> Result<Option<u64>> {
        check_name("app", app)?;
        get(&self.trees().current, "current", app)
    }

    /// Entry `id` of `app`.
    pub fn entry(&self, app: &str, id: u64) -> Result<Option<HistoryEntry>> {
        check_name("app", app)?;
        match get(&self.trees().history, "history", &entry_key(app, id))? {
            Some(entry) => self.with_pin(app, entry).map(Some),
            None => Ok(None),
        }
    }

    /// The app's entries, newest first, at most `limit` of them.
    pub fn history(&self, app: &str, limit: Option<usize>) -> Result<Vec<HistoryEntry>> {
        check_name("app", app)?;
        let pinned = self.pinned_entry(app)?;
        let scan = self.trees().history.scan_prefix(app_prefix(app)).rev();
        let mut entries = Vec::new();
        for item in scan.take(limit.unwrap_or(usize::MAX)) {
            let (key, value) = item?;
            let mut entry: HistoryEntry = decode("history", &key, &value)?;
            entry.pinned = pinned == Some(entry.id);
            entries.push(entry);
        }
        Ok(entries)
    }

    /// The entry of a commit, named in full or abbreviated (at least [`MIN_COMMIT_ABBREV`]
    /// characters, any case; shorter finds nothing), as a rollback names its target: the
    /// newest `Succeeded` entry of that commit, else its newest entry of any outcome.
    ///
    /// Fails with [`super::StoreError::AmbiguousCommit`] when the abbreviation matches entries
    /// of more than one commit.
    pub fn entry_by_commit(&self, app: &str, commit: &str) -> Result<Option<HistoryEntry>> {
        if commit.len() < MIN_COMMIT_ABBREV {
            check_name("app", app)?;
            return Ok(None);
        }
        let prefix = commit.to_ascii_lowercase();
        let matching: Vec<HistoryEntry> = self
            .history(app, None)?
            .into_iter()
            .filter(|e| {
                e.commit.as_deref().is_some_and(|c| c.to_ascii_lowercase().starts_with(&prefix))
            })
            .collect();
        let mut commits: Vec<String> = Vec::new();
        for entry in &matching {
            let c = entry.commit.clone().unwrap_or_default();
            if !commits.contains(&c) {
                commits.push(c);
            }
        }
        if commits.len() > 1 {
            let app = app.to_string();
            let prefix = commit.to_string();
            return Err(super::StoreError::AmbiguousCommit { app, prefix, commits });
        }
        let succeeded = matching.iter().position(|e| e.outcome == Outcome::Succeeded);
        Ok(matching.into_iter().nth(succeeded.unwrap_or(0)))
    }

    /// The newest `Succeeded` entry of `app` older than entry `before` whose digest is not
    /// marked bad: the default target of a rollback and of an auto-rollback.
    pub fn last_healthy(&self, app: &str, before: u64) -> Result<Option<HistoryEntry>> {
        check_name("app", app)?;
        let t = self.trees();
        let range = t.history.range(entry_key(app, 0)..entry_key(app, before));
        for item in range.rev() {
            let (key, value) = item?;
            let entry: HistoryEntry = decode("history", &key, &value)?;
            let Some(digest) = &entry.digest else { continue };
            if entry.outcome == Outcome::Succeeded && !t.bad.contains_key(bad_key(app, digest))? {
                return self.with_pin(app, entry).map(Some);
            }
        }
        Ok(None)
    }

    /// Every app with at least one history entry, sorted.
    pub fn apps(&self) -> Result<Vec<String>> {
        let history = &self.trees().history;
        let mut apps = Vec::new();
        let mut from = Vec::new();
        // One seek per app: past `app/...` is `app0` ('0' follows '/').
        while let Some(item) = history.range(from.as_slice()..).next() {
            let (key, _) = item?;
            let slash = key.iter().position(|&b| b == b'/').unwrap_or(key.len());
            apps.push(String::from_utf8_lossy(&key[..slash]).into_owned());
            from = key[..slash].to_vec();
            from.push(b'0');
        }
        // Key order is not name order: `shop-x/` sorts before `shop/`.
        apps.sort();
        Ok(apps)
    }

    /// The id the app's pin names.
    fn pinned_entry(&self, app: &str) -> Result<Option<u64>> {
        Ok(self.pin_of(app)?.map(|pin| pin.entry))
    }

    /// `entry` with `pinned` filled in from the app's pin.
    pub(super) fn with_pin(&self, app: &str, mut entry: HistoryEntry) -> Result<HistoryEntry> {
        entry.pinned = self.pinned_entry(app)? == Some(entry.id);
        Ok(entry)
    }
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
