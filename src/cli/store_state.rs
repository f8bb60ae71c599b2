//! What `cetus sync --store` and `cetus diff --store` keep in a store: an app's inventory and
//! the engine's memory of its objects, and a history entry per sync written as the daemon
//! writes it (begin with the pending inventory, sync, finish), so a killed run loses nothing.

use super::Failure;
use super::cluster::chain;
use crate::engine::{
    AppliedMemory, Engine, Inventory, InventoryEntry, SyncOptions, SyncReport, SyncRequest,
};
use crate::render::Rendered;
use crate::store::{Finish, NewEntry, Outcome, Store, Trigger};

/// An app's inventory and memory as the store has them (empty without a store).
#[derive(Debug, Default)]
pub struct Kept {
    /// The last successful sync's inventory (`None`: rebuild it from the cluster).
    pub inventory: Option<Inventory>,
    /// What the engine remembers.
    pub memory: AppliedMemory,
}

impl Kept {
    /// Reads an app's state.
    pub fn load(store: &Store, app: &str) -> Result<Kept, Failure> {
        let io = |e: crate::store::StoreError| Failure::io(chain(&e));
        Ok(Kept {
            inventory: store.inventory(app).map_err(io)?,
            memory: store.applied(app).map_err(io)?,
        })
    }
}

/// Syncs and records the sync in the store's history.
pub async fn recorded(
    store: &Store,
    engine: &Engine,
    app: &Rendered,
    dir: &std::path::Path,
    request: SyncRequest<'_>,
    options: &SyncOptions,
) -> Result<SyncReport, Failure> {
    let io = |e: crate::store::StoreError| Failure::io(chain(&e));
    if unchanged(store, engine, app, request).await? {
        // Nothing would change: sync (no requests) for the report, but record no entry, as
        // the daemon does not; a history of no-ops would bury the syncs that did something.
        return Ok(engine.sync(request, options).await);
    }
    let manifests: Vec<serde_json::Value> = app.objects.iter().map(|o| o.value.clone()).collect();
    let creates =
        Inventory::new(app.objects.iter().map(|o| InventoryEntry::of(&o.value)).collect());
    let commit = super::commit_of(dir);
    let entry = NewEntry {
        commit: commit.as_ref().map(|c| c.id.clone()),
        author: commit.as_ref().map(|c| c.author.clone()),
        subject: commit.as_ref().map(|c| c.subject.clone()),
        dependencies: app.dependencies.clone(),
        digest: Some(app.digest.clone()),
        ..NewEntry::new(Trigger::Cli)
    };
    let id = store.begin_sync(&app.app, entry, Some(&manifests), &creates).map_err(io)?;
    let report = engine.sync(request, options).await;
    let outcome = if report.succeeded() { Outcome::Succeeded } else { Outcome::Failed };
    let finish = Finish::of_report(&report, outcome, report.succeeded().then_some(id));
    store.finish_sync(&app.app, id, finish).map_err(io)?;
    Ok(report)
}

/// Whether the store's current entry is this very render and the cluster still matches it.
async fn unchanged(
    store: &Store,
    engine: &Engine,
    app: &Rendered,
    request: SyncRequest<'_>,
) -> Result<bool, Failure> {
    let io = |e: crate::store::StoreError| Failure::io(chain(&e));
    let current = match store.current(&app.app).map_err(io)? {
        Some(id) => store.entry(&app.app, id).map_err(io)?,
        None => None,
    };
    if current.and_then(|c| c.digest) != Some(app.digest.clone()) {
        return Ok(false);
    }
    engine.warm(request).await;
    Ok(engine.out_of_sync(request).is_empty())
}
