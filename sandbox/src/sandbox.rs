//! Starting and controlling a sandbox: [`SandboxOptions`], [`Sandbox::start`] (on the
//! caller's tokio runtime) and [`Sandbox::spawn`] (on a runtime of its own, for a server
//! shared by many `#[tokio::test]`s), and the [`SandboxHandle`] with the address, the
//! kubeconfig, the test controls and shutdown.

use crate::controllers;
use crate::controls::Controls;
use crate::kubeconfig;
use crate::meta;
use crate::registry::{Registry, resources_of_crd};
use crate::server;
use crate::server::auth::Tokens;
use crate::state::{State, Tuning};
use crate::store::{ObjKey, Store, StoreError, StoreOptions};
use crate::tls::{Tls, TlsError};
use serde_json::json;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// Errors starting, using or stopping a sandbox.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The listen address could not be bound.
    #[error("sandbox: cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The store could not be opened or flushed.
    #[error("sandbox: store failed")]
    Store(#[source] StoreError),
    /// The runtime of [`Sandbox::spawn`] could not be built.
    #[error("sandbox: cannot start a runtime")]
    Runtime(#[source] std::io::Error),
    /// The kubeconfig could not be written.
    #[error("sandbox kubeconfig {path}: cannot write")]
    Kubeconfig {
        /// Where.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The server stopped before it reported back.
    #[error("sandbox: the server task ended unexpectedly")]
    Stopped,
    /// The TLS mode's certificates could not be made.
    #[error("sandbox: cannot set up tls")]
    Tls(#[source] TlsError),
}

/// How to run a sandbox. `Default` is an in-memory server on a free loopback port that
/// makes workloads ready at once.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Where to listen; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Where to persist objects (sled); `None` keeps everything in memory.
    pub data_dir: Option<PathBuf>,
    /// Latency added to every API request (to behave like a real server in benches).
    pub latency: Duration,
    /// How long workloads take to become ready (annotations override it per object).
    pub deployment_ready_delay: Duration,
    /// What a Deployment's `progressDeadlineSeconds` is multiplied by before a failing
    /// rollout reports `ProgressDeadlineExceeded` (0.001: the default 600 s are 600 ms).
    pub progress_deadline_scale: f64,
    /// How long Jobs run before they complete (annotations override it per object).
    pub job_duration: Duration,
    /// How long a deleted Namespace stays `Terminating` before its contents go.
    pub namespace_termination_delay: Duration,
    /// How often idle watches that allow bookmarks get one.
    pub bookmark_interval: Duration,
    /// How many events watches can resume from before they get 410 Expired.
    pub watch_history: usize,
    /// Serve https only, with a CA and a serving certificate generated at start (for
    /// in-cluster clients, which speak nothing else).
    pub tls: bool,
    /// Require `Authorization: Bearer <token>` on every API request (not on `/sandbox/...`).
    pub token: Option<String>,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: None,
            latency: Duration::ZERO,
            deployment_ready_delay: Duration::ZERO,
            progress_deadline_scale: 0.001,
            job_duration: Duration::ZERO,
            namespace_termination_delay: Duration::from_millis(500),
            bookmark_interval: Duration::from_secs(5),
            watch_history: 10_000,
            tls: false,
            token: None,
        }
    }
}

/// Starts sandboxes.
pub struct Sandbox;

/// A running sandbox. Dropping it stops the server (without waiting); [`shutdown`]
/// stops it and waits until persisted state is flushed.
///
/// [`shutdown`]: SandboxHandle::shutdown
#[derive(Debug)]
pub struct SandboxHandle {
    addr: SocketAddr,
    pub(crate) state: Arc<State>,
    stop: watch::Sender<bool>,
    stopped: Option<oneshot::Receiver<Result<(), StoreError>>>,
    tls: Option<Tls>,
    pub(crate) tokens: Arc<Tokens>,
}

/// The namespaces every cluster has.
const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-node-lease", "kube-public", "kube-system"];

fn bootstrap(store: &mut Store, registry: &mut Registry) -> Result<(), StoreError> {
    let crds: Vec<(String, serde_json::Value)> = store
        .range("apiextensions.k8s.io", "customresourcedefinitions", None)
        .map(|(k, v)| (k.name.clone(), (**v).clone()))
        .collect();
    for (name, crd) in crds {
        registry.set_crd(&name, resources_of_crd(&crd));
    }
    for ns in SYSTEM_NAMESPACES {
        let key = ObjKey::new("", "namespaces", "", ns);
        if store.get(&key).is_none() {
            let obj = json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": ns, "uid": meta::new_uid(), "creationTimestamp": meta::now(),
                             "labels": {"kubernetes.io/metadata.name": ns}},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            });
            store.put(key, obj)?;
        }
    }
    Ok(())
}

impl Sandbox {
    /// Starts a sandbox on the current tokio runtime. Returns once it accepts connections.
    pub async fn start(options: SandboxOptions) -> Result<SandboxHandle, SandboxError> {
        Self::start_task(options).await.map(|(handle, _)| handle)
    }

    async fn start_task(
        options: SandboxOptions,
    ) -> Result<(SandboxHandle, tokio::task::JoinHandle<()>), SandboxError> {
        let store_options = StoreOptions {
            data_dir: options.data_dir.clone(),
            history_limit: options.watch_history,
            ..Default::default()
        };
        let tls =
            if options.tls { Some(Tls::generate().map_err(SandboxError::Tls)?) } else { None };
        let mut store = Store::open(&store_options).map_err(SandboxError::Store)?;
        let mut registry = Registry::builtin();
        bootstrap(&mut store, &mut registry).map_err(SandboxError::Store)?;
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .map_err(|source| SandboxError::Bind { addr: options.listen, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SandboxError::Bind { addr: options.listen, source })?;
        let (stop, stop_rx) = watch::channel(false);
        let tuning = Tuning {
            bookmark_interval: options.bookmark_interval,
            deployment_ready_delay: options.deployment_ready_delay,
            progress_deadline_scale: options.progress_deadline_scale,
            job_duration: options.job_duration,
            namespace_termination_delay: options.namespace_termination_delay,
        };
        let (state, nudges) = State::new(
            store,
            registry,
            Controls::with_latency(options.latency),
            tuning,
            stop_rx.clone(),
            addr.to_string(),
        );
        let controllers = controllers::spawn(state.clone(), nudges);
        let tokens = Arc::new(Tokens::new(options.token.clone()));
        let app = server::auth::guard(server::router(state.clone()), tokens.clone());
        let acceptor = tls.as_ref().map(Tls::acceptor);
        let (done, stopped) = oneshot::channel();
        let flush_state = state.clone();
        let mut signal = stop_rx;
        let task = tokio::spawn(async move {
            let shutdown = async move {
                // Either a stop request or the handle being dropped ends the server.
                let _ = signal.wait_for(|s| *s).await;
            };
            if let Err(e) = server::tls::serve(listener, app, acceptor, shutdown).await {
                tracing::error!(error = %e, "sandbox server failed");
            }
            // The controllers watch the same signal; wait so that their writes are flushed.
            let _ = controllers.await;
            let flushed = flush_state.store().flush();
            // The handle may be gone already; then nobody waits for the result.
            let _ = done.send(flushed);
        });
        tracing::info!(address = %addr, tls = tls.is_some(), "sandbox listening");
        let handle = SandboxHandle { addr, state, stop, stopped: Some(stopped), tls, tokens };
        Ok((handle, task))
    }

    /// Starts a sandbox on a runtime of its own, in a background thread, so that it
    /// outlives the runtime of any one test. Blocks until it accepts connections.
    pub fn spawn(options: SandboxOptions) -> Result<SandboxHandle, SandboxError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("cetus-sandbox")
            .enable_all()
            .build()
            .map_err(SandboxError::Runtime)?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("cetus-sandbox".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match Sandbox::start_task(options).await {
                        Ok((handle, task)) => {
                            // If the caller gave up waiting, the dropped handle stops the server.
                            let _ = tx.send(Ok(handle));
                            // Keep the runtime until the server has stopped and flushed.
                            let _ = task.await;
                        }
                        Err(e) => {
                            // As above: nobody may be waiting any more.
                            let _ = tx.send(Err(e));
                        }
                    }
                });
            })
            .map_err(SandboxError::Runtime)?;
        rx.recv().map_err(|_| SandboxError::Stopped)?
    }
}

impl SandboxHandle {
    /// The address the server listens on.
    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, or `https://...` in TLS mode.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// In TLS mode, the CA that signed the serving certificate (PEM): what clients trust.
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(Tls::ca_pem)
    }

    /// A kubeconfig (YAML) for this server: in TLS mode with its CA, and with the first
    /// token it accepts, if it checks tokens.
    pub fn kubeconfig(&self) -> String {
        let token = self.tokens.accepted().into_iter().next();
        kubeconfig::render_with(&self.url(), self.ca_pem(), token.as_deref())
    }

    /// Writes the kubeconfig to `path`; in TLS mode also the CA, to `<path>.ca.crt`.
    pub fn write_kubeconfig(&self, path: &Path) -> Result<(), SandboxError> {
        let write = |path: &Path, text: &str| {
            std::fs::write(path, text)
                .map_err(|source| SandboxError::Kubeconfig { path: path.to_path_buf(), source })
        };
        if let Some(ca) = self.ca_pem() {
            write(&ca_path(path), ca)?;
        }
        write(path, &self.kubeconfig())
    }

    /// The current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.state.store().resource_version()
    }

    /// Stops the server, ends open watches, and flushes persisted state.
    pub async fn shutdown(mut self) -> Result<(), SandboxError> {
        self.stop.send_replace(true);
        match self.stopped.take() {
            Some(rx) => rx.await.map_err(|_| SandboxError::Stopped)?.map_err(SandboxError::Store),
            None => Ok(()),
        }
    }
}

/// Where [`SandboxHandle::write_kubeconfig`] puts the CA: `<kubeconfig>.ca.crt`.
pub fn ca_path(kubeconfig: &Path) -> PathBuf {
    let mut name = kubeconfig.as_os_str().to_owned();
    name.push(".ca.crt");
    PathBuf::from(name)
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}
