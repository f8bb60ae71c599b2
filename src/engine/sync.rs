//! One sync: a render applied in stages, the leftovers pruned, health awaited where the stages
//! need it.
//!
//! The steps, in order, each able to stop the sync:
//! 1. plan — resolve every object against discovery; an unknown kind fails before any write;
//! 2. refuse an empty render over a non-empty inventory (unless allowed);
//! 3. warm the cache — one list + watch per kind the render and the inventory use;
//! 4. apply group by group (stage, then wave), a bounded number of requests in flight: after
//!    the cluster stage, wait for CRDs to be `Established` and resolve the kinds they define;
//!    after the pre-sync stage, wait for its Jobs to complete;
//! 5. prune what the previous inventory has and the render lacks (never after a failure);
//! 6. before post-sync Jobs and tests, wait until everything applied is healthy; after them,
//!    wait for them to complete;
//! 7. with `wait`, wait until the whole app is healthy.
//!
//! A failure anywhere records the failed objects in the change set and stops: later groups
//! are not applied and nothing is pruned. The report always says what was done.

use super::change::{Action, ChangeSet};
use super::health::{self, HealthStatus, ObjectHealth};
use super::inventory::{AppliedMemory, Inventory, InventoryEntry};
use super::plan::{self, Planned, UnknownKind};
use super::requests::RequestError;
use super::wait::{Verdict, Waiter};
use super::{Engine, Resolved, Write, apply, prune};
use crate::render::{Object, ObjectKey, Stage};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// What to sync.
#[derive(Debug, Clone, Copy)]
pub struct SyncRequest<'a> {
    /// The app.
    pub app: &'a str,
    /// Its namespace (for namespaced objects the render left without one).
    pub namespace: &'a str,
    /// The rendered objects, in apply order.
    pub objects: &'a [Object],
    /// The inventory of the last successful sync; `None` when unknown (a new or lost store):
    /// it is then rebuilt from the cluster's labels.
    pub previous: Option<&'a Inventory>,
    /// What the engine remembers of the app's objects.
    pub memory: &'a AppliedMemory,
}

/// Called with the objects a wait is still waiting for, each time that changes.
pub type Progress = Arc<dyn Fn(&str, &[ObjectHealth]) + Send + Sync>;

/// How to sync.
#[derive(Clone)]
pub struct SyncOptions {
    /// Delete what the previous inventory has and the render lacks.
    pub prune: bool,
    /// Ask the server what would change (`dryRun=All`), change nothing, wait for nothing.
    pub dry_run: bool,
    /// Let a render with no objects prune everything the last sync left.
    pub allow_empty: bool,
    /// After applying, wait until the app is healthy (or degraded).
    pub wait: bool,
    /// How long each wait may take.
    pub timeout: Duration,
    /// Stops the sync between groups and ends waits early.
    pub cancel: CancellationToken,
    /// Live progress of waits (the CLI shows it on a terminal).
    pub progress: Option<Progress>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            prune: true,
            dry_run: false,
            allow_empty: false,
            wait: false,
            timeout: Duration::from_secs(300),
            cancel: CancellationToken::new(),
            progress: None,
        }
    }
}

/// Why a sync stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// The render is empty and pruning would delete everything the app has.
    #[error(
        "refusing to sync an empty render over {0} objects of the last sync (it would delete them all); allow empty renders to do that"
    )]
    EmptyRender(usize),
    /// Kinds nobody serves or defines.
    #[error("{}", lines(.0))]
    UnknownKinds(Vec<UnknownKind>),
    /// The inventory could not be rebuilt from the cluster.
    #[error("cannot rebuild the inventory from the cluster: {0}")]
    Rebuild(String),
    /// Objects of a stage could not be applied.
    #[error("{stage:?} stage failed: {}", .failed.join("; "))]
    Apply {
        /// The stage.
        stage: Stage,
        /// `<object>: <error>` per failed object.
        failed: Vec<String>,
    },
    /// Objects could not be pruned.
    #[error("prune failed: {}", .0.join("; "))]
    Prune(Vec<String>),
    /// Something waited for did not become ready in time.
    #[error("timed out after {after:?} waiting for {what}: {}", .pending.join("; "))]
    Timeout {
        /// What was awaited.
        what: String,
        /// `<object>: <reason>` per object still not ready.
        pending: Vec<String>,
        /// The timeout.
        after: Duration,
    },
    /// Something waited for failed (a rollout, a pre-sync Job, a test).
    #[error("{what} failed: {}", .failed.join("; "))]
    Unhealthy {
        /// What was awaited.
        what: String,
        /// `<object>: <reason>` per failed object.
        failed: Vec<String>,
    },
    /// The sync was cancelled (the daemon is shutting down).
    #[error("cancelled")]
    Cancelled,
}

fn lines(unknown: &[UnknownKind]) -> String {
    unknown.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// The app's health: the worst of its objects.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AppHealth {
    /// The worst status.
    pub status: HealthStatus,
    /// Every object's health.
    pub objects: Vec<ObjectHealth>,
}

/// What a sync did.
#[derive(Debug, Clone)]
pub struct SyncReport {
    /// Every object's change, in the order applied, then pruned.
    pub changes: ChangeSet,
    /// What the app has in the cluster now: on success the render's objects; after a failure
    /// the previous inventory plus whatever was applied.
    pub inventory: Inventory,
    /// What the engine remembers of the app's objects now.
    pub memory: AppliedMemory,
    /// The app's health at the end (not for dry runs).
    pub health: Option<AppHealth>,
    /// Why the sync stopped, if it did.
    pub error: Option<SyncError>,
}

impl SyncReport {
    /// Whether the sync did all it was asked.
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }
}

impl Engine {
    /// Syncs one app. Never panics on cluster trouble: every failure is in the report.
    pub async fn sync(&self, request: SyncRequest<'_>, options: &SyncOptions) -> SyncReport {
        let mut run = Run {
            engine: self,
            request,
            options,
            changes: ChangeSet::default(),
            memory: request.memory.clone(),
            applied: Vec::new(),
            previous: Inventory::default(),
        };
        let span = tracing::info_span!("sync", app = request.app, objects = request.objects.len());
        let result = tracing::Instrument::instrument(run.execute(), span).await;
        let health = match options.dry_run {
            true => None,
            false => Some(self.health_of_planned(&run.applied_keys()).await),
        };
        let inventory = match &result {
            Ok(()) => Inventory::new(run.applied.clone()),
            Err(_) => Inventory::new(run.applied.clone()).union(&run.previous),
        };
        SyncReport {
            changes: run.changes,
            inventory,
            memory: run.memory,
            health,
            error: result.err(),
        }
    }
}

/// The state of one sync while it runs.
struct Run<'e, 'r> {
    engine: &'e Engine,
    request: SyncRequest<'r>,
    options: &'r SyncOptions,
    changes: ChangeSet,
    memory: AppliedMemory,
    /// Inventory entries of the objects applied (or found unchanged) so far.
    applied: Vec<InventoryEntry>,
    previous: Inventory,
}

impl Run<'_, '_> {
    async fn execute(&mut self) -> Result<(), SyncError> {
        let (app, namespace) = (self.request.app, self.request.namespace);
        let resources = self.engine.resources();
        let mut planned = plan::plan(self.request.objects, app, namespace, resources)
            .map_err(SyncError::UnknownKinds)?;
        self.previous = match self.request.previous {
            Some(previous) => previous.clone(),
            None => {
                prune::rebuild(self.engine, app).await.map_err(|e| SyncError::Rebuild(e.chain()))?
            }
        };
        let substantive = planned.iter().filter(|p| p.key.kind != "Namespace").count();
        if substantive == 0 && !self.previous.is_empty() && !self.options.allow_empty {
            return Err(SyncError::EmptyRender(self.previous.entries.len()));
        }
        self.warm(&planned).await;
        let mut pruned = false;
        let mut gated = false;
        for range in plan::groups(&planned) {
            self.check_cancelled()?;
            let stage = planned[range.start].stage;
            if stage >= Stage::PostSync && !gated {
                self.prune_once(&planned, &mut pruned).await?;
                let applied: Vec<&Planned> = planned[..range.start].iter().collect();
                self.wait_healthy("the app to be healthy before post-sync jobs", &applied).await?;
                gated = true;
            }
            self.resolve_deferred(&mut planned[range.clone()]).await?;
            let group: Vec<&Planned> = planned[range].iter().collect();
            self.apply_group(stage, &group).await?;
            self.after_group(stage, &group).await?;
        }
        self.prune_once(&planned, &mut pruned).await?;
        if self.options.wait {
            let all: Vec<&Planned> = planned.iter().collect();
            self.wait_healthy("the app to be healthy", &all).await?;
        }
        Ok(())
    }

    fn check_cancelled(&self) -> Result<(), SyncError> {
        if self.options.cancel.is_cancelled() { Err(SyncError::Cancelled) } else { Ok(()) }
    }

    /// Starts the watches the sync reads from and waits (briefly) for their first lists.
    async fn warm(&self, planned: &[Planned]) {
        let rendered = planned.iter().filter_map(|p| p.resolved.clone());
        self.engine.warm_kinds(rendered.collect(), &self.previous).await;
    }

    /// Resolves kinds deferred until their CRDs were established (discovery runs once more).
    async fn resolve_deferred(&self, group: &mut [Planned]) -> Result<(), SyncError> {
        if group.iter().all(|p| p.resolved.is_some()) {
            return Ok(());
        }
        let resources = self.engine.resources();
        if let Err(e) = resources.refresh().await {
            tracing::warn!(error = %e, "discovery failed");
        }
        let mut unknown = Vec::new();
        for item in group.iter_mut().filter(|p| p.resolved.is_none()) {
            match resources.resolve(&item.api_version, &item.key.kind) {
                Some(resolved) => {
                    self.engine.cache().watch(&resolved);
                    item.resolve(resolved, self.request.app, self.request.namespace);
                }
                None => unknown.push(UnknownKind {
                    key: item.key.clone(),
                    kind: item.key.kind.clone(),
                    api_version: item.api_version.clone(),
                }),
            }
        }
        if unknown.is_empty() { Ok(()) } else { Err(SyncError::UnknownKinds(unknown)) }
    }

    async fn apply_group(&mut self, stage: Stage, group: &[&Planned]) -> Result<(), SyncError> {
        let context = apply::Context {
            engine: self.engine,
            app: self.request.app,
            memory: &self.memory,
            previous: &self.previous,
            dry_run: self.options.dry_run,
        };
        let outcomes = context.apply_all(group).await;
        let mut failed = Vec::new();
        let mut writes = Vec::new();
        for outcome in outcomes {
            writes.extend(outcome.write);
            if let Action::Failed { error } = &outcome.action {
                failed.push(format!("{}: {error}", outcome.key));
            }
            if let Some(entry) = outcome.entry {
                self.applied.push(entry);
            }
            if let Some(applied) = outcome.memory {
                self.memory.insert(outcome.key.clone(), applied);
            }
            self.changes.push(outcome.key, outcome.action);
        }
        self.catch_up(&writes).await;
        if failed.is_empty() { Ok(()) } else { Err(SyncError::Apply { stage, failed }) }
    }

    /// Lets the cache see this sync's writes before anything reads it again: a wait for
    /// health must not judge the version before the write.
    async fn catch_up(&self, writes: &[Write]) {
        let deadline = Instant::now() + super::cache::SYNC_WAIT;
        if !writes.is_empty() && !self.engine.cache().caught_up(writes, deadline).await {
            tracing::warn!("the watch cache has not seen this sync's writes yet");
        }
    }

    /// The waits some stages need before the next can start.
    async fn after_group(&self, stage: Stage, group: &[&Planned]) -> Result<(), SyncError> {
        match stage {
            Stage::Cluster => {
                let crds: Vec<&Planned> = group
                    .iter()
                    .copied()
                    .filter(|p| p.key.kind == "CustomResourceDefinition")
                    .collect();
                self.wait_for("CRDs to be established", &crds, established).await
            }
            Stage::PreSync => self.wait_healthy("pre-sync jobs", group).await,
            Stage::PostSync => self.wait_healthy("post-sync jobs", group).await,
            Stage::Test => self.wait_healthy("tests", group).await,
            _ => Ok(()),
        }
    }

    async fn prune_once(&mut self, planned: &[Planned], done: &mut bool) -> Result<(), SyncError> {
        if *done || !self.options.prune {
            return Ok(());
        }
        *done = true;
        let keep: std::collections::HashSet<&ObjectKey> = planned.iter().map(|p| &p.key).collect();
        let candidates: Vec<&InventoryEntry> =
            self.previous.entries.iter().filter(|e| !keep.contains(&e.key())).collect();
        let context = prune::Context {
            engine: self.engine,
            app: self.request.app,
            dry_run: self.options.dry_run,
        };
        let (outcomes, writes) = context.prune_all(&candidates).await;
        self.catch_up(&writes).await;
        let mut failed = Vec::new();
        for (entry, action) in outcomes {
            if let Action::Failed { error } = &action {
                failed.push(format!("{}: {error}", entry.key()));
                // Still the app's: the next sync tries again.
                self.applied.push(entry.clone());
            }
            self.changes.push(entry.key(), action);
        }
        if failed.is_empty() { Ok(()) } else { Err(SyncError::Prune(failed)) }
    }

    async fn wait_healthy(&self, what: &str, objects: &[&Planned]) -> Result<(), SyncError> {
        self.wait_for(what, objects, by_health).await
    }

    async fn wait_for(
        &self,
        what: &str,
        objects: &[&Planned],
        judge: fn(Option<&Value>) -> Verdict,
    ) -> Result<(), SyncError> {
        if self.options.dry_run || objects.is_empty() {
            return Ok(());
        }
        let targets: Vec<(Resolved, ObjectKey)> =
            objects.iter().filter_map(|p| p.resolved.clone().map(|r| (r, p.key.clone()))).collect();
        let waiter = Waiter {
            engine: self.engine,
            deadline: Instant::now() + self.options.timeout,
            timeout: self.options.timeout,
            cancel: &self.options.cancel,
            progress: self.options.progress.as_ref(),
        };
        waiter.wait(what, &targets, judge).await
    }

    fn applied_keys(&self) -> Vec<(String, ObjectKey)> {
        self.applied.iter().map(|e| (e.api_version(), e.key())).collect()
    }
}

/// Health as a wait sees it: Healthy (or Suspended) is done, Degraded has failed.
fn by_health(object: Option<&Value>) -> Verdict {
    let Some(object) = object else { return Verdict::Pending("not found yet".into()) };
    let health = health::assess(object);
    match health.status {
        HealthStatus::Healthy | HealthStatus::Suspended => Verdict::Done,
        HealthStatus::Degraded => Verdict::Failed(health.reason),
        _ => Verdict::Pending(health.reason),
    }
}

/// A CRD is ready once `Established`; `NamesAccepted=False` will never get there.
fn established(object: Option<&Value>) -> Verdict {
    let Some(object) = object else { return Verdict::Pending("not found yet".into()) };
    let conditions = object.pointer("/status/conditions").and_then(Value::as_array);
    let condition = |kind: &str| {
        conditions.and_then(|c| c.iter().find(|c| c["type"] == kind)).map(|c| {
            (c["status"].as_str().unwrap_or_default(), c["message"].as_str().unwrap_or_default())
        })
    };
    match (condition("Established"), condition("NamesAccepted")) {
        (Some(("True", _)), _) => Verdict::Done,
        (_, Some(("False", message))) => Verdict::Failed(format!("names not accepted: {message}")),
        _ => Verdict::Pending("not established yet".into()),
    }
}

impl Engine {
    /// Starts the watches a sync of `request` reads from (its kinds and its inventory's) and
    /// waits briefly for their first lists, so that [`Engine::out_of_sync`] can answer.
    pub async fn warm(&self, request: SyncRequest<'_>) {
        let kinds = request
            .objects
            .iter()
            .filter_map(|o| {
                let api_version = o.value.get("apiVersion").and_then(Value::as_str)?;
                self.resources().resolve(api_version, &o.key.kind)
            })
            .collect();
        self.warm_kinds(kinds, request.previous.unwrap_or(&Inventory::default())).await;
    }

    async fn warm_kinds(&self, mut kinds: Vec<Resolved>, previous: &Inventory) {
        let resources = self.resources();
        kinds.extend(
            previous.entries.iter().filter_map(|e| resources.resolve(&e.api_version(), &e.kind)),
        );
        kinds.sort_by_key(|k| k.name());
        kinds.dedup();
        for kind in &kinds {
            self.cache().watch(kind);
        }
        let deadline = Instant::now() + super::cache::SYNC_WAIT;
        if !self.cache().wait_synced(&kinds, deadline).await {
            tracing::warn!("some watches are not in sync; reading those objects one by one");
        }
    }

    /// The health of objects given as (`apiVersion`, key), read from the cache (or the server).
    pub async fn health_of_planned(&self, objects: &[(String, ObjectKey)]) -> AppHealth {
        let mut healths = Vec::with_capacity(objects.len());
        for (api_version, key) in objects {
            let health = match self.resources().resolve(api_version, &key.kind) {
                None => health::Health::new(HealthStatus::Missing, "kind not served"),
                Some(resolved) => match self.live(&resolved, key).await {
                    Ok(Some(object)) => health::assess(&object),
                    Ok(None) => {
                        health::Health { status: HealthStatus::Missing, reason: "not found".into() }
                    }
                    Err(e) => health::Health { status: HealthStatus::Missing, reason: e.chain() },
                },
            };
            healths.push(ObjectHealth { key: key.clone(), health });
        }
        let status = health::worst(healths.iter().map(|h| &h.health.status));
        AppHealth { status, objects: healths }
    }

    /// The health of objects given as (`apiVersion`, key), from the cache alone: no request.
    /// An object of a kind not watched (or not in sync) reads as Progressing, `not observed
    /// yet`. For status pages and metrics, which must not wait on the API server.
    pub fn cached_health(&self, objects: &[(String, ObjectKey)]) -> AppHealth {
        let mut healths = Vec::with_capacity(objects.len());
        for (api_version, key) in objects {
            let health = match self.resources().resolve(api_version, &key.kind) {
                None => health::Health::new(HealthStatus::Missing, "kind not served"),
                Some(resolved) => match self.cache().get(&resolved, &key.namespace, &key.name) {
                    super::Lookup::Present(object) => {
                        health::assess(&super::requests::to_value((*object).clone()))
                    }
                    super::Lookup::Absent => health::Health::missing(),
                    super::Lookup::Unknown => {
                        health::Health::new(HealthStatus::Progressing, "not observed yet")
                    }
                },
            };
            healths.push(ObjectHealth { key: key.clone(), health });
        }
        let status = health::worst(healths.iter().map(|h| &h.health.status));
        AppHealth { status, objects: healths }
    }

    /// The live object: from the cache when it is in sync, else from the server.
    pub async fn live(
        &self,
        resolved: &Resolved,
        key: &ObjectKey,
    ) -> Result<Option<Value>, RequestError> {
        match self.cache().get(resolved, &key.namespace, &key.name) {
            super::Lookup::Present(object) => {
                Ok(Some(super::requests::to_value((*object).clone())))
            }
            super::Lookup::Absent => Ok(None),
            super::Lookup::Unknown => {
                self.requests().get(resolved, &key.namespace, &key.name).await
            }
        }
    }
}
