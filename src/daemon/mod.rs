//! The daemon, `cetus serve`: follows the config repository, renders every app for its
//! profile, syncs what changed, records each sync, heals drift and rolls back what does not
//! become healthy.
//!
//! The parts: [`config`] (its configuration: file, flags, variables, policy), [`repo`] (one
//! pass over the config repository), [`registry`] (the apps and their status), [`schedule`] (the per-app state machine: coalescing, one sync per app, backoff),
//! [`reconcile`] (one app's sync, with history and auto-rollback), [`loops`] (the tasks that
//! feed them: polls and webhooks, drift, the scheduler), [`handle`] (what the HTTP API asks of
//! the daemon), [`client`] (the counted kube client). Data flows one way: source → render →
//! engine → store; the API only reads the store and the registry and queues triggers.

pub mod client;
pub mod config;
pub mod events;
pub mod handle;
pub mod lease;
pub mod loops;
pub mod reconcile;
pub mod registry;
pub mod repo;
pub mod schedule;

pub use handle::DaemonHandle;

use crate::api::metrics::Metrics;
use crate::engine::{Engine, EngineOptions};
use crate::source::trigger::TriggerReceiver;
use crate::store::{Store, StoreOptions};
use reconcile::{ReconcileOptions, Reconciler};
use registry::Registry;
use repo::{Repo, RepoOptions};
use schedule::Backoff;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How the daemon runs (built from its configuration by `cetus serve`).
pub struct DaemonOptions {
    /// The config repository and how to render it.
    pub repo: RepoOptions,
    /// How often the branch is checked.
    pub interval: Duration,
    /// The store directory.
    pub store_dir: PathBuf,
    /// History entries kept per app.
    pub history_limit: usize,
    /// How syncs behave.
    pub reconcile: ReconcileOptions,
    /// Apps synced at once.
    pub concurrency: usize,
    /// Retry delays.
    pub backoff: Backoff,
    /// The engine's request options.
    pub engine: EngineOptions,
    /// This process's name in Events and the Lease (the pod's name).
    pub instance: String,
}

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The store could not be opened.
    #[error("cannot open the store")]
    Store(#[source] crate::store::StoreError),
    /// The cluster's API could not be discovered.
    #[error("cannot reach the cluster")]
    Cluster(#[source] crate::engine::DiscoveryError),
    /// A start-up task died.
    #[error("start-up task failed: {0}")]
    Task(String),
    /// The config repository's mirror could not be opened.
    #[error("cannot open the config repository")]
    Repo(#[source] repo::RepoError),
}

/// A running daemon.
pub struct Running {
    /// What the API uses.
    pub handle: DaemonHandle,
    cancel: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    store: Store,
    engine: Engine,
}

/// Starts the daemon's loops on the current runtime.
pub async fn start(
    options: DaemonOptions,
    client: kube::Client,
    metrics: Arc<Metrics>,
    triggers: TriggerReceiver,
) -> Result<Running, DaemonError> {
    let store_options =
        StoreOptions { history_limit: Some(options.history_limit), ..StoreOptions::default() };
    let dir = options.store_dir.clone();
    let store = tokio::task::spawn_blocking(move || Store::open_with(dir, store_options))
        .await
        .map_err(|e| DaemonError::Task(e.to_string()))?
        .map_err(DaemonError::Store)?;
    let events = events::Events::new(client.clone(), &options.instance);
    let engine = Engine::new(client, options.engine.clone()).await.map_err(DaemonError::Cluster)?;
    engine.watch_all();
    let repo = Arc::new(Repo::open(options.repo).map_err(DaemonError::Repo)?);
    let registry = Registry::default();
    let cancel = CancellationToken::new();
    let reconciler = Reconciler {
        engine: engine.clone(),
        store: store.clone(),
        registry: registry.clone(),
        options: options.reconcile.clone(),
        metrics: metrics.clone(),
        events: events.clone(),
        cancel: cancel.clone(),
    };
    let (schedule, scheduled) = tokio::sync::mpsc::unbounded_channel();
    let handle = DaemonHandle::new(
        registry.clone(),
        store.clone(),
        engine.clone(),
        schedule.clone(),
        events,
        repo.clone(),
    );
    metrics.set_health_source(handle.health_source());
    let tasks = vec![
        tokio::spawn(loops::scheduler(
            reconciler,
            scheduled,
            schedule.clone(),
            options.concurrency,
            options.backoff,
            cancel.clone(),
        )),
        tokio::spawn(loops::source(
            repo,
            registry.clone(),
            store.clone(),
            schedule.clone(),
            triggers,
            options.interval,
            metrics.clone(),
            cancel.clone(),
        )),
        tokio::spawn(loops::drift(engine.clone(), registry, schedule, cancel.clone())),
    ];
    Ok(Running { handle, cancel, tasks, store, engine })
}

impl Running {
    /// Stops: no new syncs; in-flight syncs end (their waits cut short, their entries
    /// recorded); the watches end; the store is flushed.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        for task in self.tasks {
            // A task that panicked has nothing left to stop.
            let _ = task.await;
        }
        self.engine.cache().stop();
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || store.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %crate::error_chain(&e), "flushing the store failed")
            }
            Err(e) => tracing::error!(error = %e, "flushing the store failed"),
        }
    }
}
