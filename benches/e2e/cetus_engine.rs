//! Cetus, driven through the engine's library API in its two modes: a long-lived [`Engine`]
//! kept across syncs (the daemon's mode), and a new `Engine` per sync (the one-shot CLI), each
//! with the inventory and memory a store keeps carried between syncs ([`Kept`], as the tests
//! do). It owns the clients, and counts every HTTP request they send, discovery included (the
//! sandbox counts API verbs only).

#[path = "../../tests/support/cluster.rs"]
mod cluster;

use crate::measure::{Measured, take_counts};
use cetus::engine::{Engine, EngineOptions, SyncOptions, SyncReport};
use cetus::render::Rendered;
use cetus_sandbox::SandboxHandle;
pub use cluster::Kept;
use kube::config::{KubeConfigOptions, Kubeconfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// How the engine lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One engine for every sync (the daemon).
    LongLived,
    /// A new client and engine per sync (the CLI), discovery and watches started afresh.
    OneShot,
}

/// One Cetus installation against one sandbox: the engine (long-lived mode) and what the
/// store keeps per app.
pub struct Cetus {
    mode: Mode,
    kubeconfig: String,
    http: Arc<AtomicU64>,
    engine: Option<Engine>,
    kept: Vec<Kept>,
    last: Option<SyncReport>,
}

impl Cetus {
    /// Connects. In long-lived mode the engine starts here, before any sync, as the daemon's
    /// does: discovery, then a watch on every listable kind but the derived ones
    /// (`Engine::watch_all`), waited for until in sync. None of that is counted against a
    /// scenario.
    pub async fn new(mode: Mode, sandbox: &SandboxHandle, apps: usize) -> Cetus {
        let http = Arc::new(AtomicU64::new(0));
        let kubeconfig = sandbox.kubeconfig();
        let engine = match mode {
            Mode::LongLived => {
                let engine = engine(&kubeconfig, &http).await;
                let kinds = engine.watch_all();
                let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
                assert!(engine.cache().wait_synced(&kinds, deadline).await, "the watches sync");
                Some(engine)
            }
            Mode::OneShot => None,
        };
        let kept = (0..apps).map(|_| Kept::default()).collect();
        Cetus { mode, kubeconfig, http, engine, kept, last: None }
    }

    /// Syncs the given apps one after another; the sandbox's counters are read and reset
    /// around each sync, so per-sync figures (lists per kind) are exact.
    pub async fn sync(
        &mut self,
        sandbox: &SandboxHandle,
        apps: &[usize],
        renders: &[Rendered],
    ) -> Measured {
        let mut measured = Measured::default();
        for &i in apps {
            sandbox.reset_request_counts();
            self.http.store(0, Ordering::Relaxed);
            let wall = self.sync_timed(i, &renders[i]).await;
            let counts = self.last.as_ref().expect("a report").changes.counts();
            let http = self.http.swap(0, Ordering::Relaxed);
            measured.add_run(wall, take_counts(sandbox), Some(http));
            measured.add_changes(&[
                ("applied", counts.applied),
                ("unchanged", counts.unchanged),
                ("pruned", counts.pruned),
                ("skipped", counts.skipped),
            ]);
        }
        measured
    }

    /// Syncs app `i` and times it (in one-shot mode, from building the client on). A failed
    /// sync panics: a figure of a broken run would be worse than none.
    pub async fn sync_timed(&mut self, i: usize, rendered: &Rendered) -> Duration {
        let options = SyncOptions::default();
        let start = Instant::now();
        let report = match (&self.engine, self.mode) {
            (Some(engine), Mode::LongLived) => self.kept[i].sync(engine, rendered, &options).await,
            _ => {
                let engine = engine(&self.kubeconfig, &self.http).await;
                self.kept[i].sync(&engine, rendered, &options).await
            }
        };
        let wall = start.elapsed();
        if let Some(error) = &report.error {
            panic!("cetus: {} failed: {error}", rendered.app);
        }
        self.last = Some(report);
        wall
    }
}

/// A client counting its requests into `http`, and an engine with the default options (what
/// the daemon and the CLI use).
async fn engine(kubeconfig: &str, http: &Arc<AtomicU64>) -> Engine {
    let kubeconfig = Kubeconfig::from_yaml(kubeconfig).expect("the kubeconfig parses");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("the kubeconfig loads");
    let client = kube::client::ClientBuilder::try_from(config)
        .expect("a client stack")
        .with_layer(&Counting { inner: (), count: http.clone() })
        .build();
    Engine::new(client, EngineOptions::default()).await.expect("discovery works")
}

/// A tower layer (and service) counting requests.
#[derive(Clone)]
struct Counting<S> {
    inner: S,
    count: Arc<AtomicU64>,
}

impl<S> tower::Layer<S> for Counting<()> {
    type Service = Counting<S>;

    fn layer(&self, inner: S) -> Counting<S> {
        Counting { inner, count: self.count.clone() }
    }
}

impl<S: tower::Service<R>, R> tower::Service<R> for Counting<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> S::Future {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.inner.call(request)
    }
}
