//! The embedded store, on sled: per app, its sync history, the inventory and applied memory the
//! engine keeps between syncs, the pointer to the entry whose manifests are live, its pin and
//! its bad digests; and, shared by all apps, the rendered manifests of every digest a kept entry
//! names, stored once. The daemon owns one; the one-shot CLI (`cetus sync --store DIR`) uses
//! the same. The store decides nothing (which entry to roll back to, what is bad, when to trim
//! are the daemon's calls): it makes them durable and keeps them consistent. It talks to
//! neither git nor the cluster; a lost store is rebuilt by the engine from the cluster's labels
//! (an app without an inventory here).
//!
//! **Ownership.** One process owns a store: sled locks its directory, and [`Store::open`]
//! fails at once with [`StoreError::InUse`] when another process holds it. A [`Store`] is a
//! cheap handle (an `Arc`); clone it rather than opening twice. Its methods are synchronous
//! and fast, except that every write ends in an fsync: from async code, call writes through
//! `spawn_blocking`; reads may be called directly.
//!
//! **A sync's lifecycle.** [`Store::begin_sync`] writes the `Running` entry, the manifests of
//! its digest and the *pending* inventory (the app's inventory united with what this sync may
//! create) in one transaction and fsyncs before it returns, so nothing is applied that the
//! store does not know may exist. [`Store::finish_sync`] writes the result, the new inventory,
//! the applied memory and the current-entry pointer in one transaction across trees, then
//! fsyncs: a kill can land before it (the entry is recovered as interrupted) or after it, never
//! between its parts. [`Store::open`] turns every entry still `Running` into `Failed` with the
//! error `interrupted`; its pending inventory stays the prune base, so the next sync still
//! prunes what the interrupted one may have created.
//!
//! **Layout.** One sled tree per kind of record. Keys are text (`shop/00000000000000000042` for
//! an entry, zero-padded so that byte order is id order), app names and digests may not contain
//! `/`. Values are JSON: a record read with a debugger or a sled dump is readable as it is, a
//! field added later reads from old records through serde's defaults, and the bulk of the data
//! (manifests) is JSON anyway, so a binary encoding would save little.
//!
//! **Garbage.** Manifests are stored once per digest and referenced by entries through an index
//! (`refs`: `digest/app/id`); trimming or removing entries deletes the manifests no entry of any
//! app names any more. A pinned or current entry is never trimmed, so its manifests stay.

mod error;
mod history;
mod open;
mod pins;
mod sync;
mod trim;
mod types;

#[cfg(test)]
mod crash_tests;

pub use error::{Result, StoreError};
pub use history::MIN_COMMIT_ABBREV;
pub use types::{
    Counts, DEFAULT_HISTORY_LIMIT, Finish, HistoryEntry, INTERRUPTED, NewEntry, Outcome, Pin,
    StoreOptions, Trigger,
};

use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionResult};
use std::sync::{Arc, Mutex, MutexGuard};

/// A handle on an open store; clones share it.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.inner.claim.as_ref().map(|c| c.dir())).finish()
    }
}

struct Inner {
    db: sled::Db,
    trees: Trees,
    options: StoreOptions,
    /// Serializes writes. sled transactions cannot scan, and some writes decide from a scan
    /// (which manifests a trim may delete, which entries it keeps); holding this across the
    /// scan and the transaction means no other write changes what was scanned. Reads do not
    /// take it.
    write: Mutex<()>,
    /// This process's hold on the directory; `None` for a temporary store. Declared last, so
    /// that it is released after the database and its trees are dropped.
    claim: Option<open::Claim>,
}

/// The trees, by what they hold. Keys: `app`, `app/id` (id zero-padded to 20 digits),
/// `app/digest`, `digest`, `digest/app/id`.
struct Trees {
    /// `app/id` → [`HistoryEntry`].
    history: sled::Tree,
    /// `app` → the last id given out (never decreases, so ids are never reused).
    ids: sled::Tree,
    /// `app` → the id of the entry whose manifests are live.
    current: sled::Tree,
    /// `app` → the id of its `Running` entry.
    running: sled::Tree,
    /// `app` → its [`crate::engine::Inventory`] (pending while a sync runs).
    inventory: sled::Tree,
    /// `app` → its applied memory, as a list of `[key, applied]` pairs.
    applied: sled::Tree,
    /// `app` → its [`Pin`].
    pins: sled::Tree,
    /// `app/digest` → why that digest is bad.
    bad: sled::Tree,
    /// `digest` → the rendered manifests (a JSON array).
    manifests: sled::Tree,
    /// `digest/app/id` → nothing: entry `id` of `app` names `digest`.
    refs: sled::Tree,
}

impl Trees {
    fn open(db: &sled::Db) -> Result<Trees> {
        Ok(Trees {
            history: db.open_tree("history")?,
            ids: db.open_tree("ids")?,
            current: db.open_tree("current")?,
            running: db.open_tree("running")?,
            inventory: db.open_tree("inventory")?,
            applied: db.open_tree("applied")?,
            pins: db.open_tree("pins")?,
            bad: db.open_tree("bad")?,
            manifests: db.open_tree("manifests")?,
            refs: db.open_tree("refs")?,
        })
    }
}

impl Store {
    fn from_db(db: sled::Db, options: StoreOptions, claim: Option<open::Claim>) -> Result<Store> {
        let trees = Trees::open(&db)?;
        let inner = Inner { db, trees, options, write: Mutex::new(()), claim };
        Ok(Store { inner: Arc::new(inner) })
    }

    /// Makes every write so far durable (fsync). Writes flush themselves; the daemon calls
    /// this once more on SIGTERM.
    pub fn flush(&self) -> Result<()> {
        self.inner.db.flush()?;
        Ok(())
    }

    fn trees(&self) -> &Trees {
        &self.inner.trees
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        // The guarded value is `()`: a panic while it was held leaves nothing to repair (each
        // write is one sled transaction), so a poisoned lock is still good.
        self.inner.write.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Refuses names the key layout cannot hold: empty, or containing the separator.
fn check_name(what: &'static str, name: &str) -> Result<()> {
    if name.is_empty() || name.contains('/') {
        return Err(StoreError::InvalidName { what, name: name.to_string() });
    }
    Ok(())
}

fn entry_key(app: &str, id: u64) -> String {
    format!("{app}/{id:020}")
}

fn app_prefix(app: &str) -> String {
    format!("{app}/")
}

fn ref_key(digest: &str, app: &str, id: u64) -> String {
    format!("{digest}/{app}/{id:020}")
}

fn bad_key(app: &str, digest: &str) -> String {
    format!("{app}/{digest}")
}

/// The id at the end of an entry key (`app/00000000000000000042`).
fn entry_id(tree: &'static str, key: &[u8]) -> Result<u64> {
    let text = String::from_utf8_lossy(key);
    let digits = text.rsplit('/').next().unwrap_or_default();
    digits.parse().map_err(|e: std::num::ParseIntError| StoreError::Corrupt {
        tree,
        key: text.to_string(),
        source: e.into(),
    })
}

fn encode<T: Serialize + ?Sized>(tree: &'static str, key: &str, value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|source| StoreError::Encode {
        tree,
        key: key.to_string(),
        source,
    })
}

fn decode<T: DeserializeOwned>(tree: &'static str, key: &[u8], value: &[u8]) -> Result<T> {
    serde_json::from_slice(value).map_err(|source| StoreError::Corrupt {
        tree,
        key: String::from_utf8_lossy(key).into_owned(),
        source: source.into(),
    })
}

/// Reads and decodes one record.
fn get<T: DeserializeOwned>(tree: &sled::Tree, name: &'static str, key: &str) -> Result<Option<T>> {
    match tree.get(key)? {
        Some(value) => decode(name, key.as_bytes(), &value).map(Some),
        None => Ok(None),
    }
}

/// Inside a transaction: reads and decodes one record.
fn tx_get<T: DeserializeOwned>(
    tree: &sled::transaction::TransactionalTree,
    name: &'static str,
    key: &str,
) -> std::result::Result<Option<T>, ConflictableTransactionError<StoreError>> {
    match tree.get(key)? {
        Some(value) => decode(name, key.as_bytes(), &value)
            .map(Some)
            .map_err(ConflictableTransactionError::Abort),
        None => Ok(None),
    }
}

/// Inside a transaction: a store error aborts it.
fn abort<T>(result: Result<T>) -> std::result::Result<T, ConflictableTransactionError<StoreError>> {
    result.map_err(ConflictableTransactionError::Abort)
}

/// A transaction's outcome as a store result.
fn committed<T>(result: TransactionResult<T, StoreError>) -> Result<T> {
    result.map_err(|e| match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => StoreError::Sled(e),
    })
}

#[cfg(test)]
mod test_support;
