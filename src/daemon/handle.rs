//! What the HTTP API asks of the daemon: app status (from the registry, the store and the
//! watch cache, without requests to the cluster), history and per-sync diffs (from the
//! store's manifests), the live diff (the engine's dry runs), and the three actions — sync
//! now, roll back (pin), unpin — which only write the store and queue a trigger.

use super::events::{Events, Severity};
use super::loops::EventSender;
use super::registry::{Registry, SyncState};
use super::repo::{AppRender, Repo};
use super::schedule::Event;
use crate::api::metrics::HealthSource;
use crate::engine::diff::{ObjectDiff, diff_sets};
use crate::engine::sync::AppHealth;
use crate::engine::{Engine, HealthStatus, Inventory, SyncRequest};
use crate::render::{Object, Source};
use crate::store::{HistoryEntry, Pin, Store, StoreError, Trigger};
use jiff::Timestamp;
use serde::Serialize;
use std::sync::Arc;

/// An app's status, as `cetus status` shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    /// The app.
    pub name: String,
    /// Its cetus.yaml's directory in the repository (`None` once removed).
    pub path: Option<String>,
    /// The namespace it deploys to.
    pub namespace: Option<String>,
    /// The commit of the revision live now (its current history entry).
    pub revision: Option<String>,
    /// The digest live now.
    pub digest: Option<String>,
    /// The newest commit of the branch.
    pub latest: Option<String>,
    /// Sync state.
    pub sync: SyncState,
    /// Health: the worst of its objects.
    pub health: HealthStatus,
    /// Its pin, if it is held at an entry.
    pub pinned: Option<Pin>,
    /// When its last sync ended.
    pub last_sync: Option<Timestamp>,
    /// What its last sync said.
    pub message: Option<String>,
    /// Every object's health (in the single-app answer only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objects: Option<AppHealth>,
}

/// Why a request to the daemon failed.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// No such app.
    #[error("app {0:?} not found")]
    UnknownApp(String),
    /// No such history entry (or commit).
    #[error("app {app:?} has no history entry {entry}")]
    UnknownEntry {
        /// The app.
        app: String,
        /// The entry id or commit asked for.
        entry: String,
    },
    /// The request makes no sense now (nothing to roll back to, say).
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error("store: {0}")]
    Store(String),
    /// The cluster could not be asked.
    #[error("{0}")]
    Cluster(String),
}

impl From<StoreError> for HandleError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::AmbiguousCommit { .. } => HandleError::Invalid(crate::error_chain(&e)),
            e => HandleError::Store(crate::error_chain(&e)),
        }
    }
}

/// Where a rollback goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollbackTo {
    /// A history entry id.
    Entry(u64),
    /// A commit (full or abbreviated).
    Commit(String),
}

/// The daemon, as the API sees it. Cheap to clone.
#[derive(Clone)]
pub struct DaemonHandle {
    registry: Registry,
    store: Store,
    engine: Engine,
    schedule: EventSender,
    events: Events,
    _repo: Arc<Repo>,
}

impl DaemonHandle {
    /// A handle over the daemon's parts.
    pub fn new(
        registry: Registry,
        store: Store,
        engine: Engine,
        schedule: EventSender,
        events: Events,
        repo: Arc<Repo>,
    ) -> Self {
        DaemonHandle { registry, store, engine, schedule, events, _repo: repo }
    }

    /// Whether the first pass over the repository is done.
    pub fn ready(&self) -> bool {
        self.registry.is_ready()
    }

    /// Every app's status.
    pub fn apps(&self) -> Result<Vec<AppStatus>, HandleError> {
        self.registry.names().iter().map(|name| self.status(name, false)).collect()
    }

    /// One app's status, with its objects' health.
    pub fn app(&self, name: &str) -> Result<AppStatus, HandleError> {
        self.status(name, true)
    }

    fn status(&self, name: &str, detail: bool) -> Result<AppStatus, HandleError> {
        let entry = self.registry.get(name).ok_or_else(|| HandleError::UnknownApp(name.into()))?;
        let current = match self.store.current(name)? {
            Some(id) => self.store.entry(name, id)?,
            None => None,
        };
        let health = self.health(name)?;
        let namespace = entry.render.namespace().map(str::to_string);
        Ok(AppStatus {
            name: name.to_string(),
            path: entry.dir.clone(),
            namespace,
            revision: current.as_ref().and_then(|c| c.commit.clone()),
            digest: current.as_ref().and_then(|c| c.digest.clone()),
            latest: Some(entry.commit.id.clone()).filter(|c| !c.is_empty()),
            sync: entry.sync,
            health: health.status,
            pinned: self.store.pin_of(name)?,
            last_sync: entry.last_sync,
            message: entry.message.clone(),
            objects: detail.then_some(health),
        })
    }

    /// The app's health now, from the watch cache.
    fn health(&self, name: &str) -> Result<AppHealth, HandleError> {
        let inventory = self.store.inventory(name)?.unwrap_or_default();
        let objects: Vec<_> =
            inventory.entries.iter().map(|e| (e.api_version(), e.key())).collect();
        Ok(self.engine.cached_health(&objects))
    }

    /// `cetus_app_health`'s source.
    pub fn health_source(&self) -> HealthSource {
        let handle = self.clone();
        Arc::new(move || {
            handle
                .registry
                .names()
                .into_iter()
                .filter_map(|name| handle.health(&name).ok().map(|h| (name, h.status)))
                .collect()
        })
    }

    /// An app's history, newest first.
    pub fn history(
        &self,
        name: &str,
        limit: Option<usize>,
    ) -> Result<Vec<HistoryEntry>, HandleError> {
        self.known(name)?;
        Ok(self.store.history(name, limit)?)
    }

    /// One history entry.
    pub fn entry(&self, name: &str, id: u64) -> Result<HistoryEntry, HandleError> {
        self.known(name)?;
        self.store
            .entry(name, id)?
            .ok_or_else(|| HandleError::UnknownEntry { app: name.into(), entry: id.to_string() })
    }

    /// What entry `id` changed against the entry before it that has manifests, computed from
    /// the stored manifests (Secret values masked).
    pub fn history_diff(&self, name: &str, id: u64) -> Result<Vec<ObjectDiff>, HandleError> {
        let entry = self.entry(name, id)?;
        let Some(digest) = &entry.digest else { return Ok(Vec::new()) };
        let after = self.store.manifests(digest)?.unwrap_or_default();
        let before = self
            .store
            .history(name, None)?
            .into_iter()
            .filter(|e| e.id < id)
            .find_map(|e| e.digest)
            .map(|d| self.store.manifests(&d))
            .transpose()?
            .flatten()
            .unwrap_or_default();
        Ok(diff_sets(&before, &after))
    }

    /// Live objects against what the app should run now (its pin, else its render).
    pub async fn live_diff(&self, name: &str) -> Result<Vec<ObjectDiff>, HandleError> {
        let entry = self.registry.get(name).ok_or_else(|| HandleError::UnknownApp(name.into()))?;
        let (objects, namespace) = match (self.store.pin_of(name)?, &entry.render) {
            (Some(pin), _) => {
                let manifests = self.store.manifests(&pin.digest)?.unwrap_or_default();
                let namespace = manifests
                    .iter()
                    .find(|m| m["kind"] == "Namespace")
                    .and_then(|m| m.pointer("/metadata/name").and_then(|n| n.as_str()))
                    .unwrap_or(name)
                    .to_string();
                let objects = manifests
                    .into_iter()
                    .map(|v| {
                        Object::new(
                            v,
                            Source {
                                file: format!("history entry {}", pin.entry),
                                position: None,
                                what: String::new(),
                            },
                        )
                    })
                    .collect();
                (objects, namespace)
            }
            (None, AppRender::Rendered(r)) => (r.unpack().objects, r.namespace.clone()),
            (None, AppRender::NotDeployed) => (Vec::new(), name.to_string()),
            (None, AppRender::Failed(e)) => {
                return Err(HandleError::Invalid(format!("render failed: {e}")));
            }
        };
        let inventory: Option<Inventory> = self.store.inventory(name)?;
        let memory = self.store.applied(name)?;
        let request = SyncRequest {
            app: name,
            namespace: &namespace,
            objects: &objects,
            previous: inventory.as_ref(),
            memory: &memory,
        };
        self.engine.diff(request, true).await.map_err(|e| HandleError::Cluster(e.to_string()))
    }

    /// Queues a sync now (clearing the app's bad digests: an explicit request retries them).
    pub fn sync(&self, name: &str) -> Result<(), HandleError> {
        self.known(name)?;
        self.trigger(name, Trigger::Manual);
        Ok(())
    }

    /// Pins the app to an entry (by default the last successful one before the current) and
    /// queues the sync that applies it.
    pub fn rollback(&self, name: &str, to: Option<RollbackTo>) -> Result<Pin, HandleError> {
        self.known(name)?;
        let unknown = |entry: String| HandleError::UnknownEntry { app: name.into(), entry };
        let target = match to {
            Some(RollbackTo::Entry(id)) => {
                self.store.entry(name, id)?.ok_or_else(|| unknown(id.to_string()))?
            }
            Some(RollbackTo::Commit(commit)) => {
                self.store.entry_by_commit(name, &commit)?.ok_or_else(|| unknown(commit.clone()))?
            }
            None => {
                let current = self.store.current(name)?.ok_or_else(|| {
                    HandleError::Invalid(format!(
                        "app {name:?} has no successful sync to roll back from"
                    ))
                })?;
                self.store.last_healthy(name, current)?.ok_or_else(|| {
                    HandleError::Invalid(format!(
                        "app {name:?} has no successful entry before entry {current}"
                    ))
                })?
            }
        };
        if target.digest.is_none() {
            return Err(HandleError::Invalid(format!(
                "entry {} rendered nothing to roll back to",
                target.id
            )));
        }
        let pin = self.store.pin(name, target.id, &format!("rollback to entry {}", target.id))?;
        self.store.flush()?;
        self.trigger(name, Trigger::Rollback);
        Ok(pin)
    }

    /// Removes the app's pin and queues a sync of the branch's newest render.
    pub fn unpin(&self, name: &str) -> Result<Option<Pin>, HandleError> {
        self.known(name)?;
        let pin = self.store.unpin(name)?;
        self.store.flush()?;
        self.trigger(name, Trigger::Manual);
        if let Some(pin) = &pin {
            let note = format!("unpinned from entry {}; following the branch again", pin.entry);
            self.announce(name, "Unpinned", note);
        }
        Ok(pin)
    }

    /// Publishes an event about an API action, without making the request wait for it.
    fn announce(&self, name: &str, reason: &'static str, note: String) {
        let render = self.registry.get(name).map(|e| e.render);
        let namespace = render.as_ref().and_then(AppRender::namespace).unwrap_or(name).to_string();
        let (events, app) = (self.events.clone(), name.to_string());
        tokio::spawn(async move {
            events.publish(&app, &namespace, Severity::Normal, reason, note).await
        });
    }

    fn known(&self, name: &str) -> Result<(), HandleError> {
        match self.registry.get(name) {
            Some(_) => Ok(()),
            None => Err(HandleError::UnknownApp(name.into())),
        }
    }

    fn trigger(&self, name: &str, trigger: Trigger) {
        // The receiver is gone only while the daemon stops; the request is then moot.
        let _ = self.schedule.send(Event::Trigger(name.to_string(), trigger));
    }
}
