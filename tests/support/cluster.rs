//! Test helpers for the engine: a sandbox API server per test, kube clients for it, apps
//! written to temp dirs and rendered, and the state a store would keep between syncs.
//!
//! Include with `#[path = "support/cluster.rs"] mod cluster;`.
#![allow(dead_code)] // each test binary uses a different subset

use cetus::engine::{
    AppliedMemory, Engine, EngineOptions, Inventory, RequestOptions, SyncOptions, SyncReport,
    SyncRequest,
};
use cetus::render::{RenderInput, Rendered};
use cetus::source::LocalTree;
use cetus_sandbox::{Sandbox, SandboxHandle, SandboxOptions};
use kube::config::{KubeConfigOptions, Kubeconfig};
use std::path::Path;
use std::time::Duration;

/// A sandbox of its own, and a client for it.
pub struct Cluster {
    /// The sandbox (its counters are this test's alone).
    pub sandbox: SandboxHandle,
    /// A client, built from the sandbox's kubeconfig as a user's would be.
    pub client: kube::Client,
}

impl Cluster {
    /// Starts a sandbox on the test's runtime.
    pub async fn start() -> Cluster {
        Self::start_with(SandboxOptions::default()).await
    }

    /// Starts a sandbox with `options` (the listen address is always a free loopback port).
    pub async fn start_with(options: SandboxOptions) -> Cluster {
        let options = SandboxOptions {
            namespace_termination_delay: Duration::from_millis(50),
            bookmark_interval: Duration::from_millis(500),
            ..options
        };
        let sandbox = Sandbox::start(options).await.expect("the sandbox starts");
        let client = client_for(&sandbox.kubeconfig()).await;
        Cluster { sandbox, client }
    }

    /// An engine with short request deadlines and quick retries, as tests want.
    pub async fn engine(&self) -> Engine {
        let options = EngineOptions {
            requests: RequestOptions {
                timeout: Duration::from_secs(2),
                retries: 2,
                backoff: Duration::from_millis(20),
                ..RequestOptions::default()
            },
            ..EngineOptions::default()
        };
        Engine::new(self.client.clone(), options).await.expect("discovery works")
    }

    /// Writes the kubeconfig into `dir` and returns its path.
    pub fn kubeconfig_in(&self, dir: &Path) -> std::path::PathBuf {
        let path = dir.join("kubeconfig");
        self.sandbox.write_kubeconfig(&path).unwrap();
        path
    }

    /// Reads an object as JSON through the API (`None` if absent).
    pub async fn get(
        &self,
        api_version: &str,
        kind: &str,
        ns: &str,
        name: &str,
    ) -> Option<serde_json::Value> {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let gvk = kube::core::GroupVersionKind::gvk(group, version, kind);
        let (resource, caps) = kube::discovery::pinned_kind(&self.client, &gvk).await.unwrap();
        let api: kube::Api<kube::api::DynamicObject> = match caps.scope {
            kube::discovery::Scope::Namespaced => {
                kube::Api::namespaced_with(self.client.clone(), ns, &resource)
            }
            kube::discovery::Scope::Cluster => kube::Api::all_with(self.client.clone(), &resource),
        };
        api.get_opt(name).await.unwrap().map(|o| serde_json::to_value(o).unwrap())
    }

    /// The number of write requests (create, update, patch, delete) the sandbox has counted.
    pub fn writes(&self) -> u64 {
        self.sandbox
            .request_counts()
            .iter()
            .filter(|c| {
                ["create", "update", "patch", "delete", "deletecollection"]
                    .contains(&c.verb.as_str())
            })
            .map(|c| c.count)
            .sum()
    }

    /// Every request the sandbox has counted.
    pub fn requests(&self) -> u64 {
        self.sandbox.request_counts().iter().map(|c| c.count).sum()
    }
}

/// Waits (up to 10 s) until `engine`'s watch cache holds the object and `check` accepts it:
/// a change someone else made must reach the cache before a sync can be expected to see it.
pub async fn cached(
    engine: &Engine,
    api_version: &str,
    kind: &str,
    ns: &str,
    name: &str,
    check: impl Fn(&serde_json::Value) -> bool,
) {
    let resolved = engine.resources().resolve(api_version, kind).expect("a served kind");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let cetus::engine::Lookup::Present(object) = engine.cache().get(&resolved, ns, name)
            && check(&serde_json::to_value(&*object).unwrap())
        {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{kind} {ns}/{name} never reached the cache");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A kube client for a kubeconfig (YAML).
pub async fn client_for(kubeconfig: &str) -> kube::Client {
    let kubeconfig = Kubeconfig::from_yaml(kubeconfig).expect("the kubeconfig parses");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("the kubeconfig loads");
    kube::Client::try_from(config).expect("a client")
}

/// An app's directory: a cetus.yaml and the files it reads.
pub struct AppDir {
    dir: tempfile::TempDir,
}

impl AppDir {
    /// A directory holding `cetus.yaml` with `spec`.
    pub fn new(spec: &str) -> AppDir {
        let app = AppDir { dir: tempfile::tempdir().unwrap() };
        app.write("cetus.yaml", spec);
        app
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (creating its directories).
    pub fn write(&self, path: &str, text: &str) {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    /// Renders the app without a profile.
    pub fn render(&self) -> Rendered {
        self.try_render().expect("the app renders")
    }

    /// Renders the app without a profile, or says why not.
    pub fn try_render(&self) -> Result<Rendered, cetus::render::RenderError> {
        let tree = LocalTree::new(self.dir.path()).unwrap();
        cetus::render::render(&tree, "", &RenderInput::default())
            .map(|r| r.expect("no profile asked"))
    }
}

/// What a store keeps of one app between syncs.
#[derive(Default)]
pub struct Kept {
    /// The last successful sync's inventory.
    pub inventory: Option<Inventory>,
    /// What the engine remembers.
    pub memory: AppliedMemory,
}

impl Kept {
    /// Syncs `rendered` and keeps what a store would: the memory always, the inventory on
    /// success (on failure the union, as the store's pending inventory does).
    pub async fn sync(
        &mut self,
        engine: &Engine,
        rendered: &Rendered,
        options: &SyncOptions,
    ) -> SyncReport {
        let request = SyncRequest {
            app: &rendered.app,
            namespace: &rendered.namespace,
            objects: &rendered.objects,
            previous: self.inventory.as_ref(),
            memory: &self.memory,
        };
        let report = engine.sync(request, options).await;
        if !options.dry_run {
            self.memory = report.memory.clone();
            self.inventory = Some(report.inventory.clone());
        }
        report
    }
}

/// The change set as lines (`apps/Deployment shop/web created`).
pub fn lines(report: &SyncReport) -> Vec<String> {
    report.changes.changes.iter().map(|c| c.to_string()).collect()
}
