//! `cetus serve [--config cetusd.yaml] [--sandbox]`: the daemon.
//!
//! Loads and checks the configuration (a bad one is refused before anything starts, every
//! problem listed), connects to the cluster — or, with `--sandbox`, starts the sandbox API
//! server in-process and writes its kubeconfig next to the store — starts the daemon's loops
//! and serves the API, webhooks, metrics and probes on one listener until SIGTERM or Ctrl-C,
//! then lets in-flight syncs finish and flushes the store.

use super::Failure;
use super::cluster::{ClusterArgs, chain};
use crate::api::metrics::Metrics;
use crate::api::switch::Switch;
use crate::api::webhooks::WebhookMetrics;
use crate::daemon::config::{Cluster, DaemonConfig, LogFormat, Policy, ServeArgs};
use crate::daemon::lease::LeaseOptions;
use crate::daemon::reconcile::ReconcileOptions;
use crate::daemon::repo::RepoOptions;
use crate::daemon::{DaemonOptions, schedule::Backoff};
use crate::engine::EngineOptions;
use crate::source::git::{DependencyOptions, GitDependencies};
use crate::source::trigger::{RepoTrigger, TriggerOrigin, TriggerSender, trigger_channel};
use crate::source::{DependencyFetcher, FetchError, FetchedTree};
use cetus_sandbox::{Sandbox, SandboxHandle, SandboxOptions};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Runs `cetus serve`.
pub fn run(args: ServeArgs) -> Result<(), Failure> {
    let config = crate::daemon::config::load(&args).map_err(|e| Failure::input(chain(&e)))?;
    init_logs(config.log_format);
    keep_small_pages();
    super::runtime()?.block_on(serve(config))
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,kube=warn,hyper=warn,sled=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // Another subscriber may be installed already (tests); keep it then.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Turns transparent huge pages off for this process. mimalloc asks for them on its arenas
/// (`madvise`), and a mostly idle daemon then holds a whole 2 MiB page for each few live
/// kilobytes: measured by `benches/daemon`, 50 apps synced peaked at 107 MiB with huge pages
/// and 42 MiB without. The short-lived commands keep them (renders are a little faster).
fn keep_small_pages() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        tracing::debug!(error = %e, "cannot turn transparent huge pages off");
    }
}

async fn serve(config: DaemonConfig) -> Result<(), Failure> {
    let io =
        |context: &str, e: &dyn std::error::Error| Failure::io(format!("{context}: {}", chain(e)));
    let metrics = Arc::new(Metrics::new());
    let (kube_config, sandbox) = cluster(&config).await?;
    let client = crate::daemon::client::counted_client(kube_config, metrics.clone())
        .map_err(|e| io("kube client", &e))?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| io(&format!("cannot listen on {}", config.listen), &e))?;
    let address = listener.local_addr().map_err(|e| io("listener", &e))?;
    let switch = Switch::new();
    let stop = CancellationToken::new();
    let server = tokio::spawn({
        let (app, stop) = (switch.router(), stop.clone());
        async move { axum::serve(listener, app).with_graceful_shutdown(stop.cancelled_owned()).await }
    });
    announce(&config, address, sandbox.as_ref());
    let signalled = CancellationToken::new();
    tokio::spawn({
        let signalled = signalled.clone();
        async move {
            signal().await;
            signalled.cancel();
        }
    });
    let lease = lease_options();
    let outcome = loop {
        let acquired =
            crate::daemon::lease::acquire(client.clone(), lease.clone(), signalled.clone()).await;
        let Ok(leader) = acquired else { break Ok(()) };
        let options = daemon_options(&config, lease.identity.clone());
        match lead(&config, options, client.clone(), metrics.clone(), &switch, &signalled, leader)
            .await
        {
            // Lost the lease (to another daemon, or to an API server outage): stopped at
            // once; back to waiting for it, as a standby.
            Ok(Leadership::Lost) => continue,
            Ok(Leadership::Ended) => break Ok(()),
            Err(failure) => break Err(failure),
        }
    };
    stop.cancel();
    let served = server.await.map_err(|e| Failure::io(format!("server task: {e}")))?;
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await.map_err(|e| io("sandbox", &e))?;
    }
    served.map_err(|e| io("server", &e))?;
    outcome
}

/// How leading ended.
enum Leadership {
    /// Signalled: the daemon stopped cleanly and the lease is released.
    Ended,
    /// The lease was lost: the daemon stopped at once and let go of the store.
    Lost,
}

/// Runs the daemon while this process holds the lease; returns when signalled (after a clean
/// stop and the lease released) or when the lease is lost (after stopping at once).
async fn lead(
    config: &DaemonConfig,
    options: DaemonOptions,
    client: kube::Client,
    metrics: Arc<Metrics>,
    switch: &Switch,
    signalled: &CancellationToken,
    leader: crate::daemon::lease::Leader,
) -> Result<Leadership, Failure> {
    let io =
        |context: &str, e: &dyn std::error::Error| Failure::io(format!("{context}: {}", chain(e)));
    let (triggers, receiver) = trigger_channel();
    let watch = local_watch(config, triggers.clone());
    let running = crate::daemon::start(options, client, metrics.clone(), receiver)
        .await
        .map_err(|e| io("cannot start", &e))?;
    let webhook_metrics = Arc::new(WebhookMetrics::new());
    metrics.set_webhooks(webhook_metrics.clone());
    let token = config.api_token.as_ref().map(|t| t.value.clone());
    switch.set(
        crate::api::rest::router(running.handle.clone(), metrics, token)
            .merge(crate::api::webhooks::router(config.webhooks(), triggers, webhook_metrics)),
    );
    let lost = leader.lost();
    tokio::select! {
        _ = signalled.cancelled() => {}
        _ = lost.cancelled() => {}
    }
    switch.set(switch.standby_router());
    if lost.is_cancelled() {
        tracing::error!("lost the lease: stopping at once");
    } else {
        tracing::info!("shutting down: finishing in-flight syncs");
    }
    drop(watch);
    running.shutdown().await;
    if lost.is_cancelled() {
        return Ok(Leadership::Lost);
    }
    leader.release().await;
    Ok(Leadership::Ended)
}

/// The Lease: `cetus` in the pod's namespace (the downward API's `POD_NAMESPACE`, else the
/// service account's namespace file, else `default`), held under the pod's name and pid.
fn lease_options() -> LeaseOptions {
    let namespace =
        crate::incluster::InCluster::from_env().namespace().unwrap_or_else(|| "default".into());
    let host =
        std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "cetus".into());
    LeaseOptions::new(namespace, format!("{host}-{}", std::process::id()))
}

/// The cluster's kube config; with `--sandbox`, the sandbox it started.
async fn cluster(config: &DaemonConfig) -> Result<(kube::Config, Option<SandboxHandle>), Failure> {
    match &config.cluster {
        Cluster::Sandbox => {
            std::fs::create_dir_all(&config.store)
                .map_err(|e| Failure::io(format!("{}: {e}", config.store.display())))?;
            let options = SandboxOptions {
                data_dir: Some(config.store.join("sandbox")),
                ..SandboxOptions::default()
            };
            let sandbox = Sandbox::start(options)
                .await
                .map_err(|e| Failure::io(format!("sandbox: {}", chain(&e))))?;
            let path = config.store.join("sandbox.kubeconfig");
            sandbox.write_kubeconfig(&path).map_err(|e| Failure::io(chain(&e)))?;
            let cluster = ClusterArgs { kubeconfig: Some(path), context: None };
            Ok((cluster.config().await?, Some(sandbox)))
        }
        Cluster::Kubeconfig { path, context } => {
            let cluster = ClusterArgs { kubeconfig: path.clone(), context: context.clone() };
            Ok((cluster.config().await?, None))
        }
    }
}

fn daemon_options(config: &DaemonConfig, instance: String) -> DaemonOptions {
    let git = GitDependencies::new(
        config.cache_dir.join("dependencies"),
        DependencyOptions { auth: config.policy.dependency_auth(), ..DependencyOptions::default() },
    );
    let dependencies = Arc::new(PolicyFetcher { policy: config.policy.clone(), inner: git });
    let sync = &config.sync;
    DaemonOptions {
        repo: RepoOptions {
            url: config.repo.url.clone(),
            branch: config.repo.branch.clone(),
            auth: config.repo.auth.clone(),
            cache_dir: config.cache_dir.join("repo"),
            profile: config.profile.clone(),
            apps: config.apps.clone(),
            env: config.policy.env_lookup(),
            dependencies,
        },
        interval: config.repo.interval,
        store_dir: config.store.clone(),
        history_limit: sync.history_limit,
        reconcile: ReconcileOptions {
            prune: sync.prune,
            self_heal: sync.self_heal,
            allow_empty: sync.allow_empty,
            health_timeout: sync.health_timeout,
        },
        concurrency: sync.concurrency,
        backoff: Backoff::default(),
        engine: EngineOptions::default(),
        instance,
    }
}

/// `git` dependencies, fetched only from where the policy allows.
struct PolicyFetcher {
    policy: Policy,
    inner: GitDependencies,
}

impl DependencyFetcher for PolicyFetcher {
    fn fetch(&self, url: &str, reference: &str) -> Result<FetchedTree, FetchError> {
        self.policy.dependency_allowed(url).map_err(|message| FetchError {
            url: url.to_string(),
            reference: reference.to_string(),
            message: format!("not allowed by the daemon's policy: {message}"),
        })?;
        self.inner.fetch(url, reference)
    }
}

/// A local config repository is watched: a commit there is picked up at once, not at the
/// next poll.
fn local_watch(
    config: &DaemonConfig,
    triggers: TriggerSender,
) -> Option<tokio::task::JoinHandle<()>> {
    if !config.repo.is_local() {
        return None;
    }
    let path = config.repo.url.strip_prefix("file://").unwrap_or(&config.repo.url).to_string();
    let mut watch = match crate::source::watch::LocalWatch::start(&path, Default::default()) {
        Ok(watch) => watch,
        Err(e) => {
            tracing::warn!(error = %chain(&e), "cannot watch the local repository; polling only");
            return None;
        }
    };
    let (url, branch) = (config.repo.url.clone(), config.repo.branch.clone());
    Some(tokio::spawn(async move {
        while let Some(revision) = watch.next().await {
            if revision.is_ok() {
                let trigger = RepoTrigger {
                    repo: url.clone(),
                    branch: branch.clone(),
                    commit: None,
                    origin: TriggerOrigin::Poll,
                };
                // A closed channel means the daemon stops.
                if triggers.send(trigger).is_err() {
                    return;
                }
            }
        }
    }))
}

fn announce(config: &DaemonConfig, address: std::net::SocketAddr, sandbox: Option<&SandboxHandle>) {
    let api = format!("http://{address}");
    tracing::info!(%api, profile = %config.profile, repo = %config.repo.url, "cetus serving");
    let mut lines =
        vec![format!("cetus: serving {} (profile {}) on {api}", config.repo.url, config.profile)];
    if let Some(sandbox) = sandbox {
        let kubeconfig = config.store.join("sandbox.kubeconfig");
        lines.push(format!("cetus: sandbox API server at {}", sandbox.url()));
        lines.push(format!("  kubectl --kubeconfig {} get deploy -A", kubeconfig.display()));
    }
    lines.push(format!("  cetus status --server {api}"));
    for line in lines {
        // stdout is informational; a closed pipe must not stop the daemon.
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), "{line}");
    }
}

async fn signal() {
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    match term {
        Ok(mut term) => {
            tokio::select! {
                _ = ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the daemon");
            if tokio::signal::ctrl_c().await.is_err() {
                // Not even Ctrl-C can be listened for: serve until killed.
                std::future::pending::<()>().await;
            }
        }
    }
}

/// Resolves on Ctrl-C; never, if it cannot be listened for (SIGTERM still works).
async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
