//! The engine: makes a cluster match a render. Discovery, diff, server-side apply in stages,
//! inventory and prune, health.
//!
//! It takes a rendered app, the app's previous inventory and what the engine remembers of its
//! objects, and returns what it did as data (a [`SyncReport`]); it does not read git, render,
//! or keep history (`src/store` keeps inventories and memories between syncs). An [`Engine`]
//! is long-lived in the daemon, where its watch cache makes a no-op sync free, and short-lived
//! in the CLI.
//!
//! The parts, one concern each: [`discovery`] (kinds to resources), [`cache`] (live objects),
//! [`requests`] (apply, get, delete, list), [`plan`] (a render resolved into apply groups),
//! [`decide`] (is an object unchanged?), [`sync`] (the staged run), [`prune`], [`wait`],
//! [`health`] and [`diff`]; [`change`] is the change set they all report into.

pub mod apply;
pub mod cache;
pub mod change;
pub mod decide;
pub mod diff;
pub mod discovery;
pub mod health;
pub mod inventory;
pub mod plan;
pub mod preview;
pub mod prune;
pub mod requests;
pub mod sync;
pub mod wait;

pub use cache::{LiveCache, LiveEvent, Lookup, Write};
pub use change::{Action, Change, ChangeSet, Counts};
pub use discovery::{DiscoveryError, Resolved, Resources};
pub use health::{Health, HealthStatus, ObjectHealth};
pub use inventory::{Applied, AppliedMemory, Inventory, InventoryEntry};
pub use requests::{RequestError, RequestOptions, Requests};
pub use sync::{SyncError, SyncOptions, SyncReport, SyncRequest};

use crate::render::APP;

/// Runs `futures` at most `limit` at a time; the outputs come in the futures' order.
///
/// Takes a built list, not a lazy iterator: a stream holding a closure that borrows trips
/// the compiler's higher-ranked lifetime check once the caller's future must be `Send`
/// (rust-lang/rust#102211), which the daemon's spawned syncs need.
pub(crate) async fn bounded<F: Future>(futures: Vec<F>, limit: usize) -> Vec<F::Output> {
    use futures::StreamExt;
    futures::stream::iter(futures).buffered(limit.max(1)).collect().await
}

/// How an engine behaves. `Default` is what the daemon and the CLI use.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Deadlines, retries and the field manager of requests.
    pub requests: RequestOptions,
    /// Requests in flight at once within one apply group (and one prune group).
    pub concurrency: usize,
    /// The label selector the watch cache uses: every object Cetus manages carries it.
    pub selector: String,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self { requests: RequestOptions::default(), concurrency: 32, selector: APP.to_string() }
    }
}

/// Kinds that controllers make from Cetus's objects, copying the `cetus.dev/app` label from a
/// template or a Service: Pods and ReplicaSets of a Deployment, ControllerRevisions of a
/// StatefulSet or DaemonSet, Endpoints and EndpointSlices of a Service, Events about them.
/// [`Engine::watch_all`] leaves them out, as Argo CD's default resource exclusions leave out
/// Endpoints and Events: their objects are never in an inventory (they carry no
/// `cetus.dev/tracking`), no decision reads them, and holding every Pod of every app in memory
/// was most of the daemon's memory (benches/daemon). A render that has one of these kinds
/// still gets it watched, as every kind a sync applies does; an inventory rebuild looks at
/// them only then (see [`prune::rebuild`]).
pub const DERIVED: &[(&str, &str)] = &[
    ("", "Pod"),
    ("apps", "ReplicaSet"),
    ("apps", "ControllerRevision"),
    ("", "Endpoints"),
    ("discovery.k8s.io", "EndpointSlice"),
    ("", "Event"),
    ("events.k8s.io", "Event"),
];

/// Whether a kind is one of the [`DERIVED`] ones.
pub fn is_derived(kind: &Resolved) -> bool {
    DERIVED.contains(&(kind.resource.group.as_str(), kind.resource.kind.as_str()))
}

/// A connection to one cluster, with its discovery and watch cache. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    resources: Resources,
    cache: LiveCache,
    requests: Requests,
    concurrency: usize,
}

impl Engine {
    /// Connects: runs discovery. Watches start as kinds are first synced.
    pub async fn new(
        client: kube::Client,
        options: EngineOptions,
    ) -> Result<Engine, DiscoveryError> {
        let resources = Resources::new(client.clone()).await?;
        Ok(Engine {
            resources,
            cache: LiveCache::new(client.clone(), options.selector),
            requests: Requests::new(client, options.requests),
            concurrency: options.concurrency.max(1),
        })
    }

    /// Watches every listable kind (for Cetus's label) but the [`DERIVED`] ones, so that an
    /// inventory rebuild needs almost no request and drift on any kind is seen: the daemon's
    /// mode. Returns the kinds it watches.
    pub fn watch_all(&self) -> Vec<Resolved> {
        let kinds: Vec<Resolved> =
            self.resources.listable().into_iter().filter(|k| !is_derived(k)).collect();
        for kind in &kinds {
            self.cache.watch(kind);
        }
        kinds
    }

    /// The watch cache (the daemon subscribes to it for drift).
    pub fn cache(&self) -> &LiveCache {
        &self.cache
    }

    /// What the server serves.
    pub fn resources(&self) -> &Resources {
        &self.resources
    }

    /// The request layer.
    pub fn requests(&self) -> &Requests {
        &self.requests
    }

    /// Requests in flight at once within a group.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }
}
