//! A sync's two writes: [`Store::begin_sync`] and [`Store::finish_sync`], each one sled
//! transaction followed by an fsync, and what an interrupted sync turns into.
//!
//! The order is the crash story. `begin_sync` returns only once the `Running` entry, the
//! manifests and the pending inventory are durable, so the engine applies nothing the store
//! does not know may exist. `finish_sync` writes the entry's result, the inventory, the applied
//! memory and the current pointer together: a kill before it commits leaves the entry
//! `Running` (recovered as interrupted, the pending inventory still the prune base), after it
//! leaves everything finished, and nothing in between is observable. Trimming afterwards is a
//! separate transaction: a kill before it only leaves an entry or two more than the limit.

use super::{
    Finish, HistoryEntry, INTERRUPTED, NewEntry, Outcome, Result, Store, StoreError, abort,
    check_name, committed, encode, entry_key, ref_key, tx_get,
};
use crate::engine::Inventory;
use serde_json::Value;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

type TxResult<T> = std::result::Result<T, ConflictableTransactionError<StoreError>>;

/// Inside a transaction: entry `id` of `app`, if still `Running`, becomes `Failed` with the
/// error [`INTERRUPTED`]; its end stays unknown.
pub(super) fn interrupt(history: &TransactionalTree, app: &str, id: u64) -> TxResult<()> {
    let key = entry_key(app, id);
    if let Some(mut entry) = tx_get::<HistoryEntry>(history, "history", &key)?
        && entry.outcome == Outcome::Running
    {
        entry.outcome = Outcome::Failed;
        entry.error = Some(INTERRUPTED.to_string());
        history.insert(key.as_bytes(), abort(encode("history", &key, &entry))?)?;
    }
    Ok(())
}

impl Store {
    /// Records that a sync of `app` begins, durably, and returns its entry's id (the app's
    /// last id plus one; ids are never reused).
    ///
    /// In one transaction, then fsynced:
    /// - the entry, `Running`;
    /// - `manifests`, stored under `entry.digest` unless that digest is stored already (it is
    ///   idempotent; a rollback may pass `None` for a digest that is stored). An entry with a
    ///   digest always has its manifests: passing `None` for a digest not stored fails with
    ///   [`StoreError::MissingManifests`], passing manifests without a digest with
    ///   [`StoreError::ManifestsWithoutDigest`];
    /// - the pending inventory: the app's inventory united with `creates`, the objects this
    ///   sync may create (the stored entry wins for an object in both, keeping its uid and its
    ///   `created` flag). An app with no inventory yet keeps none: after a crash the next sync
    ///   rebuilds it from the cluster's labels, which finds whatever the interrupted one made.
    ///
    /// The daemon runs one sync per app at a time, so an entry of `app` still `Running` here
    /// was abandoned (its task died without finishing): it is marked interrupted, as `open`
    /// would.
    pub fn begin_sync(
        &self,
        app: &str,
        entry: NewEntry,
        manifests: Option<&[Value]>,
        creates: &Inventory,
    ) -> Result<u64> {
        check_name("app", app)?;
        if let Some(digest) = &entry.digest {
            check_name("digest", digest)?;
        }
        let manifests = match (manifests, &entry.digest) {
            (Some(_), None) => {
                return Err(StoreError::ManifestsWithoutDigest { app: app.to_string() });
            }
            (Some(m), Some(digest)) => Some(encode("manifests", digest, m)?),
            (None, _) => None,
        };
        let t = self.trees();
        let write = self.lock();
        let trees = (&t.ids, &t.history, &t.running, &t.inventory, &t.manifests, &t.refs);
        let id =
            committed(trees.transaction(|(ids, history, running, inventory, stored, refs)| {
                if let Some(abandoned) = tx_get::<u64>(running, "running", app)? {
                    interrupt(history, app, abandoned)?;
                }
                let id = tx_get::<u64>(ids, "ids", app)?.unwrap_or(0) + 1;
                ids.insert(app, abort(encode("ids", app, &id))?)?;
                let key = entry_key(app, id);
                let record = running_entry(id, &entry);
                history.insert(key.as_bytes(), abort(encode("history", &key, &record))?)?;
                running.insert(app, abort(encode("running", app, &id))?)?;
                if let Some(base) = tx_get::<Inventory>(inventory, "inventory", app)? {
                    let pending = base.union(creates);
                    inventory.insert(app, abort(encode("inventory", app, &pending))?)?;
                }
                if let Some(digest) = &entry.digest {
                    let absent = stored.get(digest)?.is_none();
                    match &manifests {
                        Some(bytes) if absent => {
                            stored.insert(digest.as_bytes(), bytes.as_slice())?;
                        }
                        None if absent => {
                            return Err(ConflictableTransactionError::Abort(
                                StoreError::MissingManifests {
                                    app: app.to_string(),
                                    digest: digest.clone(),
                                },
                            ));
                        }
                        _ => {}
                    }
                    refs.insert(ref_key(digest, app, id).as_bytes(), &[][..])?;
                }
                Ok(id)
            }))?;
        drop(write);
        self.flush()?;
        Ok(id)
    }

    /// Records how sync `id` of `app` ended and returns the finished entry.
    ///
    /// In one transaction, then fsynced: the entry's outcome, health, counts, error and end;
    /// and, each when given, the app's inventory, applied memory and current entry (`None`
    /// keeps what is stored). Then, when the store has a history limit, the app is trimmed to
    /// it ([`Store::trim`]); a trim that fails is logged, not returned, since the finish itself
    /// is committed.
    ///
    /// Fails with [`StoreError::UnknownEntry`] for an entry that does not exist,
    /// [`StoreError::NotRunning`] for one already finished (or recovered as interrupted), and
    /// [`StoreError::FinishRunning`] for the outcome `Running`.
    pub fn finish_sync(&self, app: &str, id: u64, finish: Finish) -> Result<HistoryEntry> {
        check_name("app", app)?;
        if finish.outcome == Outcome::Running {
            return Err(StoreError::FinishRunning { app: app.to_string(), id });
        }
        let inventory =
            finish.inventory.as_ref().map(|i| encode("inventory", app, i)).transpose()?;
        let applied = match &finish.applied {
            // A map keyed by a struct is not a JSON object: stored as `[key, applied]` pairs.
            Some(memory) => Some(encode("applied", app, &memory.iter().collect::<Vec<_>>())?),
            None => None,
        };
        let current = finish.current.map(|c| encode("current", app, &c)).transpose()?;
        let key = entry_key(app, id);
        let t = self.trees();
        let write = self.lock();
        let trees = (&t.history, &t.running, &t.inventory, &t.applied, &t.current);
        let entry =
            committed(trees.transaction(|(history, running, inventories, memories, currents)| {
                let Some(mut entry) = tx_get::<HistoryEntry>(history, "history", &key)? else {
                    let app = app.to_string();
                    return Err(ConflictableTransactionError::Abort(StoreError::UnknownEntry {
                        app,
                        id,
                    }));
                };
                if entry.outcome != Outcome::Running {
                    let app = app.to_string();
                    return Err(ConflictableTransactionError::Abort(StoreError::NotRunning {
                        app,
                        id,
                    }));
                }
                entry.outcome = finish.outcome;
                entry.health.clone_from(&finish.health);
                entry.counts = finish.counts;
                entry.error.clone_from(&finish.error);
                entry.finished = Some(finish.finished);
                history.insert(key.as_bytes(), abort(encode("history", &key, &entry))?)?;
                if tx_get::<u64>(running, "running", app)? == Some(id) {
                    running.remove(app)?;
                }
                if let Some(bytes) = &inventory {
                    inventories.insert(app, bytes.as_slice())?;
                }
                if let Some(bytes) = &applied {
                    memories.insert(app, bytes.as_slice())?;
                }
                if let Some(bytes) = &current {
                    currents.insert(app, bytes.as_slice())?;
                }
                Ok(entry)
            }))?;
        drop(write);
        self.flush()?;
        if let Some(limit) = self.inner.options.history_limit
            && let Err(error) = self.trim(app, limit)
        {
            // The finish is committed: failing the call now would tell the caller otherwise.
            // Trimming is housekeeping, retried by the next finish.
            tracing::warn!(app, error = &error as &dyn std::error::Error, "history not trimmed");
        }
        self.with_pin(app, entry)
    }
}

fn running_entry(id: u64, entry: &NewEntry) -> HistoryEntry {
    HistoryEntry {
        id,
        commit: entry.commit.clone(),
        dependencies: entry.dependencies.clone(),
        digest: entry.digest.clone(),
        trigger: entry.trigger,
        started: entry.started,
        finished: None,
        outcome: Outcome::Running,
        health: None,
        counts: Default::default(),
        error: None,
        author: entry.author.clone(),
        subject: entry.subject.clone(),
        restores: entry.restores,
        pinned: false,
    }
}

#[cfg(test)]
#[path = "sync_tests.rs"]
mod tests;
