//! One app's sync, as the daemon runs it: decide what the app should run (its pin, else its
//! latest render), skip when nothing would change, record the sync in the store around the
//! engine's work, and roll back on its own when the new revision is not healthy.
//!
//! The order of writes is what makes a kill harmless: the history entry (with the manifests
//! and the pending inventory) is durable before the first request to the cluster, and the
//! result (entry, inventory, memory, current entry) is one store transaction after the last.
//! A kill in between leaves an entry the next start reads as `Failed: interrupted`, and a
//! prune base that still covers whatever the interrupted sync created.
//!
//! Auto-rollback: a sync whose objects do not become healthy within the timeout, or whose
//! `test` Jobs fail, is recorded `RolledBack`; its digest is marked bad (not retried until the
//! render changes); and the last healthy entry's stored manifests are applied again, exactly,
//! as a sync of its own (trigger `auto-rollback`, `restores` naming that entry).

use super::events::{Events, Severity};
use super::registry::{Registry, SyncState};
use super::repo::{AppRender, CommitInfo};
use super::schedule::Ended;
use crate::api::metrics::Metrics;
use crate::engine::{
    Engine, Inventory, InventoryEntry, SyncError, SyncOptions, SyncReport, SyncRequest,
};
use crate::render::{Object, Rendered, Source};
use crate::store::{Finish, HistoryEntry, NewEntry, Outcome, Pin, Store, StoreError, Trigger};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How the daemon syncs.
#[derive(Debug, Clone)]
pub struct ReconcileOptions {
    /// Delete what the render no longer has.
    pub prune: bool,
    /// Revert drift (else only report it).
    pub self_heal: bool,
    /// Let an empty render prune everything.
    pub allow_empty: bool,
    /// How long a sync waits for health (and tests).
    pub health_timeout: Duration,
}

impl Default for ReconcileOptions {
    fn default() -> Self {
        Self {
            prune: true,
            self_heal: true,
            allow_empty: false,
            health_timeout: Duration::from_secs(300),
        }
    }
}

/// What a sync applies.
struct Wanted {
    objects: Vec<Object>,
    namespace: String,
    digest: String,
    commit: CommitInfo,
    dependencies: Vec<crate::render::ResolvedDependency>,
    /// The pin it comes from, if any.
    pin: Option<Pin>,
}

/// Everything an app's sync needs. Cheap to clone.
#[derive(Clone)]
pub struct Reconciler {
    /// The cluster.
    pub engine: Engine,
    /// History, inventories, memories, pins.
    pub store: Store,
    /// The apps' renders and status.
    pub registry: Registry,
    /// How to sync.
    pub options: ReconcileOptions,
    /// Sync counters.
    pub metrics: Arc<Metrics>,
    /// Kubernetes Events about apps.
    pub events: Events,
    /// Cut waits short (shutting down).
    pub cancel: CancellationToken,
}

/// Runs a store call off the async runtime (the store fsyncs).
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, String> {
    match tokio::task::spawn_blocking(call).await {
        Ok(result) => result.map_err(|e| crate::error_chain(&e)),
        Err(e) => Err(format!("store task failed: {e}")),
    }
}

impl Reconciler {
    /// Syncs one app because of `trigger`; says how it ended, for the schedule.
    pub async fn reconcile(&self, app: &str, trigger: Trigger) -> Ended {
        let span = tracing::info_span!("sync", app, %trigger, commit = tracing::field::Empty, digest = tracing::field::Empty);
        let started = Instant::now();
        let ended = tracing::Instrument::instrument(self.run(app, trigger), span).await;
        let ended = ended.unwrap_or_else(|error| {
            tracing::error!(app, %error, "sync failed");
            self.registry.update(app, |e| {
                e.sync = SyncState::Failed;
                e.message = Some(error);
            });
            Ended::Retry
        });
        self.metrics.sync_duration(started.elapsed());
        ended
    }

    async fn run(&self, app: &str, trigger: Trigger) -> Result<Ended, String> {
        let Some(entry) = self.registry.get(app) else { return Ok(Ended::GaveUp) };
        let store = self.store.clone();
        let name = app.to_string();
        let pin = blocking(move || store.pin_of(&name)).await?;
        let wanted = match (pin, &entry.render) {
            (Some(pin), _) => self.pinned(app, pin).await?,
            (None, AppRender::Failed(error)) => {
                return self.render_failed(app, &entry.commit, error, trigger).await;
            }
            (None, AppRender::Rendered(packed)) => from_render(packed.unpack(), &entry.commit),
            (None, AppRender::NotDeployed) => self.nothing(app, &entry.commit),
        };
        let span = tracing::Span::current();
        span.record("commit", wanted.commit.id.as_str());
        span.record("digest", wanted.digest.as_str());
        if trigger == Trigger::Manual {
            let (store, name) = (self.store.clone(), app.to_string());
            blocking(move || store.clear_bad(&name)).await?;
        }
        self.sync(app, trigger, wanted).await
    }

    /// The objects of a pinned entry, from the store.
    async fn pinned(&self, app: &str, pin: Pin) -> Result<Wanted, String> {
        let (store, digest) = (self.store.clone(), pin.digest.clone());
        let manifests = blocking(move || store.manifests(&digest)).await?.ok_or_else(|| {
            format!("{app}: the manifests of pinned entry {} are gone", pin.entry)
        })?;
        let (store, name, id) = (self.store.clone(), app.to_string(), pin.entry);
        let entry = blocking(move || store.entry(&name, id)).await?;
        Ok(Wanted {
            namespace: namespace_of(&manifests, app),
            objects: objects_of(manifests, pin.entry),
            digest: pin.digest.clone(),
            commit: CommitInfo {
                id: pin.commit.clone().unwrap_or_default(),
                author: entry.as_ref().and_then(|e| e.author.clone()),
                subject: entry.as_ref().and_then(|e| e.subject.clone()),
            },
            dependencies: entry.map(|e| e.dependencies).unwrap_or_default(),
            pin: Some(pin),
        })
    }

    /// An app with nothing to deploy (no profile here, or removed): an empty render.
    fn nothing(&self, app: &str, commit: &CommitInfo) -> Wanted {
        let objects: Vec<Object> = Vec::new();
        Wanted {
            digest: crate::render::digest(&objects),
            objects,
            namespace: app.to_string(),
            commit: commit.clone(),
            dependencies: Vec::new(),
            pin: None,
        }
    }

    /// A render that failed: recorded once per commit, nothing applied or pruned.
    async fn render_failed(
        &self,
        app: &str,
        commit: &CommitInfo,
        error: &str,
        trigger: Trigger,
    ) -> Result<Ended, String> {
        let already =
            self.registry.get(app).and_then(|e| e.recorded_failure) == Some(commit.id.clone());
        if !already {
            let (store, name) = (self.store.clone(), app.to_string());
            let entry = NewEntry {
                commit: Some(commit.id.clone()),
                author: commit.author.clone(),
                subject: commit.subject.clone(),
                ..NewEntry::new(trigger)
            };
            let message = format!("render failed: {error}");
            let finish = Finish { error: Some(message.clone()), ..Finish::new(Outcome::Failed) };
            blocking(move || {
                let id = store.begin_sync(&name, entry, None, &Inventory::default())?;
                store.finish_sync(&name, id, finish)
            })
            .await?;
            self.metrics.sync_finished(app, Outcome::Failed);
            let namespace = self.namespace_of(app);
            let note = format!("commit {}: {error}", short(&commit.id));
            self.events.publish(app, &namespace, Severity::Warning, "RenderFailed", note).await;
        }
        self.registry.update(app, |e| {
            e.sync = SyncState::Failed;
            e.message = Some(format!("render failed: {error}"));
            e.recorded_failure = Some(commit.id.clone());
        });
        Ok(Ended::GaveUp)
    }

    async fn sync(&self, app: &str, trigger: Trigger, wanted: Wanted) -> Result<Ended, String> {
        let (store, name) = (self.store.clone(), app.to_string());
        let (inventory, memory, current) = blocking(move || {
            let current = match store.current(&name)? {
                Some(id) => store.entry(&name, id)?,
                None => None,
            };
            Ok((store.inventory(&name)?, store.applied(&name)?, current))
        })
        .await?;
        let request = SyncRequest {
            app,
            namespace: &wanted.namespace,
            objects: &wanted.objects,
            previous: inventory.as_ref(),
            memory: &memory,
        };
        let same =
            current.as_ref().and_then(|c| c.digest.as_deref()) == Some(wanted.digest.as_str());
        if same && self.engine.out_of_sync(request).is_empty() {
            self.registry.update(app, |e| {
                e.sync = SyncState::Synced;
                if e.message.as_deref().is_some_and(|m| m.starts_with("drift")) {
                    e.message = None;
                }
            });
            return Ok(Ended::Done);
        }
        if same && trigger == Trigger::Drift && !self.options.self_heal {
            self.registry.update(app, |e| {
                e.sync = SyncState::OutOfSync;
                e.message = Some(
                    "drift: live objects differ from the applied revision (self-heal is off)"
                        .into(),
                );
            });
            return Ok(Ended::Done);
        }
        if wanted.pin.is_none() {
            let (store, name, digest) =
                (self.store.clone(), app.to_string(), wanted.digest.clone());
            if let Some(reason) = blocking(move || store.bad(&name, &digest)).await? {
                self.registry.update(app, |e| {
                    e.sync = SyncState::OutOfSync;
                    e.message = Some(format!(
                        "rolled back: this revision is not retried until the render changes: {reason}"
                    ));
                });
                return Ok(Ended::GaveUp);
            }
        }
        let trigger = if wanted.pin.is_some() && trigger != Trigger::Drift {
            Trigger::Rollback
        } else {
            trigger
        };
        let id = self.begin(app, trigger, &wanted).await?;
        self.registry.update(app, |e| e.sync = SyncState::Syncing);
        let report = self.engine.sync(request, &self.sync_options()).await;
        self.conclude(app, id, &wanted, report).await
    }

    fn sync_options(&self) -> SyncOptions {
        SyncOptions {
            prune: self.options.prune,
            allow_empty: self.options.allow_empty,
            wait: true,
            timeout: self.options.health_timeout,
            cancel: self.cancel.clone(),
            ..SyncOptions::default()
        }
    }

    async fn begin(&self, app: &str, trigger: Trigger, wanted: &Wanted) -> Result<u64, String> {
        let manifests: Vec<Value> = wanted.objects.iter().map(|o| o.value.clone()).collect();
        let creates = Inventory::new(manifests.iter().map(InventoryEntry::of).collect());
        let entry = NewEntry {
            commit: Some(wanted.commit.id.clone()).filter(|c| !c.is_empty()),
            author: wanted.commit.author.clone(),
            subject: wanted.commit.subject.clone(),
            dependencies: wanted.dependencies.clone(),
            digest: Some(wanted.digest.clone()),
            restores: wanted.pin.as_ref().map(|p| p.entry),
            ..NewEntry::new(trigger)
        };
        let (store, name) = (self.store.clone(), app.to_string());
        blocking(move || store.begin_sync(&name, entry, Some(&manifests), &creates)).await
    }

    /// Records the engine's report; rolls back when the revision is not healthy.
    async fn conclude(
        &self,
        app: &str,
        id: u64,
        wanted: &Wanted,
        report: SyncReport,
    ) -> Result<Ended, String> {
        let unhealthy =
            matches!(report.error, Some(SyncError::Unhealthy { .. } | SyncError::Timeout { .. }));
        if unhealthy && wanted.pin.is_none() {
            return self.roll_back(app, id, wanted, report).await;
        }
        let outcome = if report.succeeded() { Outcome::Succeeded } else { Outcome::Failed };
        let finish = Finish::of_report(&report, outcome, report.succeeded().then_some(id));
        let (store, name) = (self.store.clone(), app.to_string());
        let entry = blocking(move || store.finish_sync(&name, id, finish)).await?;
        self.metrics.sync_finished(app, outcome);
        self.announce(app, &wanted.namespace, &entry, &report).await;
        self.after(app, &entry, report.error.as_ref().map(ToString::to_string));
        Ok(match &report.error {
            None => Ended::Done,
            Some(SyncError::Cancelled | SyncError::EmptyRender(_) | SyncError::UnknownKinds(_)) => {
                Ended::GaveUp
            }
            Some(_) => Ended::Retry,
        })
    }

    /// The event of a finished sync: a failure always; a success when it changed something.
    async fn announce(
        &self,
        app: &str,
        namespace: &str,
        entry: &HistoryEntry,
        report: &SyncReport,
    ) {
        let counts = report.changes.counts();
        let what = format!(
            "entry {} (commit {}): {} applied, {} unchanged, {} pruned",
            entry.id,
            short(entry.commit.as_deref().unwrap_or("none")),
            counts.applied,
            counts.unchanged,
            counts.pruned
        );
        let (severity, reason, note) = match (&report.error, entry.trigger) {
            (Some(error), _) => (Severity::Warning, "SyncFailed", format!("{what}: {error}")),
            (None, Trigger::Rollback) => (
                Severity::Normal,
                "Pinned",
                format!("{what}, pinned to entry {}", entry.restores.unwrap_or_default()),
            ),
            (None, _) if counts.applied + counts.pruned == 0 => return,
            (None, _) => (Severity::Normal, "Synced", what),
        };
        self.events.publish(app, namespace, severity, reason, note).await;
    }

    /// The app's namespace, from its latest render (the app's name if it has none).
    fn namespace_of(&self, app: &str) -> String {
        let render = self.registry.get(app).map(|e| e.render);
        render.as_ref().and_then(AppRender::namespace).unwrap_or(app).to_string()
    }

    fn after(&self, app: &str, entry: &HistoryEntry, error: Option<String>) {
        self.registry.update(app, |e| {
            e.sync = if error.is_none() { SyncState::Synced } else { SyncState::Failed };
            e.message = error;
            e.last_sync = entry.finished;
        });
    }

    /// Marks the failed entry rolled back and its digest bad, then applies the last healthy
    /// entry's manifests again.
    async fn roll_back(
        &self,
        app: &str,
        failed_id: u64,
        wanted: &Wanted,
        report: SyncReport,
    ) -> Result<Ended, String> {
        let reason = report.error.as_ref().map(ToString::to_string).unwrap_or_default();
        let (store, name) = (self.store.clone(), app.to_string());
        let target = blocking(move || store.last_healthy(&name, failed_id)).await?;
        let outcome = if target.is_some() { Outcome::RolledBack } else { Outcome::Failed };
        let finish = Finish::of_report(&report, outcome, None);
        let (store, name, digest, why) =
            (self.store.clone(), app.to_string(), wanted.digest.clone(), reason.clone());
        blocking(move || {
            store.finish_sync(&name, failed_id, finish)?;
            store.mark_bad(&name, &digest, &why)
        })
        .await?;
        self.metrics.sync_finished(app, outcome);
        let Some(target) = target else {
            self.registry.update(app, |e| {
                e.sync = SyncState::Failed;
                e.message = Some(format!("{reason}; no earlier healthy entry to roll back to"));
            });
            return Ok(Ended::GaveUp);
        };
        tracing::warn!(app, entry = failed_id, to = target.id, %reason, "rolling back");
        let mut restore = self.restore_of(app, &target).await?;
        restore.pin = None;
        let id = self.begin_restore(app, &restore, target.id).await?;
        let request = SyncRequest {
            app,
            namespace: &restore.namespace,
            objects: &restore.objects,
            previous: Some(&report.inventory),
            memory: &report.memory,
        };
        let second = self.engine.sync(request, &self.sync_options()).await;
        let finish = Finish::of_report(
            &second,
            if second.succeeded() { Outcome::Succeeded } else { Outcome::Failed },
            second.succeeded().then_some(id),
        );
        let (store, name) = (self.store.clone(), app.to_string());
        let entry = blocking(move || store.finish_sync(&name, id, finish)).await?;
        self.metrics.sync_finished(app, entry.outcome);
        let message = format!("rolled back to entry {} (entry {failed_id}: {reason})", target.id);
        let note = format!(
            "entry {failed_id} (commit {}) rolled back to entry {} (commit {}): {reason}",
            short(&wanted.commit.id),
            target.id,
            short(target.commit.as_deref().unwrap_or("none"))
        );
        self.events.publish(app, &restore.namespace, Severity::Warning, "RolledBack", note).await;
        self.registry.update(app, |e| {
            e.sync = if second.succeeded() { SyncState::Synced } else { SyncState::Failed };
            e.message = Some(match &second.error {
                None => message,
                Some(error) => format!("{message}; the rollback failed too: {error}"),
            });
            e.last_sync = entry.finished;
        });
        Ok(Ended::GaveUp)
    }

    async fn restore_of(&self, app: &str, target: &HistoryEntry) -> Result<Wanted, String> {
        let digest = target.digest.clone().unwrap_or_default();
        let (store, d) = (self.store.clone(), digest.clone());
        let manifests = blocking(move || store.manifests(&d))
            .await?
            .ok_or_else(|| format!("{app}: the manifests of entry {} are gone", target.id))?;
        Ok(Wanted {
            namespace: namespace_of(&manifests, app),
            objects: objects_of(manifests, target.id),
            digest,
            commit: CommitInfo {
                id: target.commit.clone().unwrap_or_default(),
                author: target.author.clone(),
                subject: target.subject.clone(),
            },
            dependencies: target.dependencies.clone(),
            pin: None,
        })
    }

    async fn begin_restore(
        &self,
        app: &str,
        restore: &Wanted,
        restores: u64,
    ) -> Result<u64, String> {
        let manifests: Vec<Value> = restore.objects.iter().map(|o| o.value.clone()).collect();
        let creates = Inventory::new(manifests.iter().map(InventoryEntry::of).collect());
        let entry = NewEntry {
            commit: Some(restore.commit.id.clone()).filter(|c| !c.is_empty()),
            author: restore.commit.author.clone(),
            subject: restore.commit.subject.clone(),
            dependencies: restore.dependencies.clone(),
            digest: Some(restore.digest.clone()),
            restores: Some(restores),
            ..NewEntry::new(Trigger::AutoRollback)
        };
        let (store, name) = (self.store.clone(), app.to_string());
        blocking(move || store.begin_sync(&name, entry, Some(&manifests), &creates)).await
    }
}

fn from_render(rendered: Rendered, commit: &CommitInfo) -> Wanted {
    Wanted {
        objects: rendered.objects,
        namespace: rendered.namespace,
        digest: rendered.digest,
        commit: commit.clone(),
        dependencies: rendered.dependencies,
        pin: None,
    }
}

/// Stored manifests as objects to apply, in their stored (apply) order.
fn objects_of(manifests: Vec<Value>, entry: u64) -> Vec<Object> {
    manifests
        .into_iter()
        .map(|value| {
            let what = crate::render::ObjectKey::of(&value).to_string();
            Object::new(
                value,
                Source { file: format!("history entry {entry}"), position: None, what },
            )
        })
        .collect()
}

/// The app's namespace in stored manifests: its Namespace object's name.
fn namespace_of(manifests: &[Value], app: &str) -> String {
    manifests
        .iter()
        .find(|m| m.get("kind").and_then(Value::as_str) == Some("Namespace"))
        .and_then(|m| m.pointer("/metadata/name").and_then(Value::as_str))
        .unwrap_or(app)
        .to_string()
}

/// A commit's first 8 characters.
fn short(commit: &str) -> &str {
    commit.get(..8).unwrap_or(commit)
}
