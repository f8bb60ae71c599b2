//! The server's shared state: store, registry, controls, and the channel that nudges the
//! controllers. One value per running sandbox, shared by the HTTP handlers, the controllers
//! and the [`crate::SandboxHandle`].
//!
//! Owns lock discipline: the registry lock is never taken while holding the store lock
//! (handlers read the registry first), so the two cannot deadlock.

use crate::controls::{Controls, WatchBreak};
use crate::registry::{Registry, ResourceInfo};
use crate::store::{ObjKey, Store};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};

/// Tunables of the server that are not controls.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// How often an idle watch with `allowWatchBookmarks` gets a BOOKMARK.
    pub bookmark_interval: Duration,
    /// The default delay before a workload reports ready.
    pub deployment_ready_delay: Duration,
    /// What a Deployment's `progressDeadlineSeconds` is multiplied by.
    pub progress_deadline_scale: f64,
    /// The default delay before a Job completes.
    pub job_duration: Duration,
    /// How long a deleted Namespace stays `Terminating` before its contents are removed
    /// (kubectl deletes everything in a file before it waits, as against a real cluster).
    pub namespace_termination_delay: Duration,
}

/// What the controllers are asked to look at again.
#[derive(Debug, Clone)]
pub enum Nudge {
    /// Reconcile one object now.
    Object(ObjKey),
    /// Reconcile every object (after a control changed).
    All,
}

/// What the watch-ending controls tell open watches.
#[derive(Debug, Clone)]
pub enum WatchSignal {
    /// End now, cleanly (as when apiserver closes a watch at its timeout).
    End,
    /// Send an `ERROR` event and end, if selected.
    Break(Arc<WatchBreak>),
}

/// The shared state.
#[derive(Debug)]
pub struct State {
    store: Mutex<Store>,
    registry: RwLock<Registry>,
    /// Test and bench controls.
    pub controls: Controls,
    /// Tunables.
    pub tuning: Tuning,
    nudges: mpsc::UnboundedSender<Nudge>,
    /// Becomes `true` when the server shuts down; long-running responses end then.
    pub shutdown: watch::Receiver<bool>,
    /// The address the server listens on (`127.0.0.1:PORT`).
    pub address: String,
    /// Rendered openapi documents.
    pub openapi: Mutex<crate::openapi::Cache>,
    watch_signals: broadcast::Sender<WatchSignal>,
}

impl State {
    /// Builds the state; returns the receiving end of the controller nudges.
    pub fn new(
        store: Store,
        registry: Registry,
        controls: Controls,
        tuning: Tuning,
        shutdown: watch::Receiver<bool>,
        address: String,
    ) -> (Arc<Self>, mpsc::UnboundedReceiver<Nudge>) {
        let (nudges, rx) = mpsc::unbounded_channel();
        let state = Self {
            store: Mutex::new(store),
            registry: RwLock::new(registry),
            controls,
            tuning,
            nudges,
            shutdown,
            address,
            openapi: Mutex::new(crate::openapi::Cache::default()),
            watch_signals: broadcast::channel(16).0,
        };
        (Arc::new(state), rx)
    }

    /// Locks the store. A panic in another handler must not take the server down, so a
    /// poisoned lock is recovered: every store mutation is a single insert or remove.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The openapi document cache.
    pub fn openapi(&self) -> MutexGuard<'_, crate::openapi::Cache> {
        self.openapi.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the registry.
    pub fn registry(&self) -> RwLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the registry (CRDs established or removed).
    pub fn registry_mut(&self) -> RwLockWriteGuard<'_, Registry> {
        self.registry.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The resource of a group/plural at any served version.
    pub fn resource(&self, group: &str, plural: &str) -> Option<Arc<ResourceInfo>> {
        self.registry().any_version(group, plural)
    }

    /// Asks the controllers to look at something again.
    pub fn nudge(&self, nudge: Nudge) {
        // The controllers stop only at shutdown; a nudge after that has nobody to act on it.
        let _ = self.nudges.send(nudge);
    }

    /// A receiver of the watch-ending controls, for one open watch.
    pub fn watch_signals(&self) -> broadcast::Receiver<WatchSignal> {
        self.watch_signals.subscribe()
    }

    /// Tells every open watch to end or, if selected, break.
    pub fn signal_watches(&self, signal: WatchSignal) {
        // No receivers is fine: no watch is open.
        let _ = self.watch_signals.send(signal);
    }

    /// Whether the server is shutting down.
    pub fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }
}
