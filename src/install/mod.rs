//! Installing Cetus in a cluster with Cetus's own engine: `cetus install` and `cetus
//! uninstall` as library calls.
//!
//! The install is an app named [`APP_NAME`] whose objects are the install manifests
//! ([`manifests`]), so a second install writes nothing, and an install of a newer version
//! prunes what that version removed. No local state is kept between runs: the engine rebuilds
//! the app's inventory from the cluster's labels each time (`SyncRequest::previous` is
//! `None`), and what it would remember of each object is derived from the manifests
//! themselves ([`expected_memory`]). One install per cluster: installing into another
//! namespace moves it (the old namespace's objects are pruned; Namespaces never are).
//!
//! Uninstalling deletes every object labelled as that app except Namespaces, which may hold
//! the Secrets their owners created (and which the engine never deletes unless it knows it
//! created them). Apps Cetus deployed carry their own app's label and stay as they are. This
//! module does not print; the CLI (`src/cli/install.rs`) does.

pub mod manifests;

pub use manifests::{
    CONFIG_HASH, CONFIG_MAP, DEFAULT_NAMESPACE, DEPLOYMENT, MANIFEST_HASH, MANIFESTS, Manifest,
    ManifestError, SECRETS, SecretMount, needed_secrets,
};

use crate::engine::{
    Applied, AppliedMemory, Engine, Inventory, RequestError, SyncOptions, SyncReport, SyncRequest,
};
use crate::render::{Object, ObjectKey};

/// The app the install's objects belong to (`cetus.dev/app: cetus`). A config repo must not
/// hold an app of this name: the two would fight over the label.
pub const APP_NAME: &str = "cetus";

/// How to install.
#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// The namespace to install into.
    pub namespace: String,
    /// The daemon's config (a cetusd.yaml) for the ConfigMap; `None` keeps the manifests'.
    pub config: Option<String>,
    /// The daemon's image; `None` keeps the manifests'.
    pub image: Option<String>,
    /// Ask the server what would change; change nothing.
    pub dry_run: bool,
}

impl Default for InstallOptions {
    fn default() -> Self {
        Self { namespace: DEFAULT_NAMESPACE.into(), config: None, image: None, dry_run: false }
    }
}

/// Why an install or uninstall could not start. Failures while applying are in the
/// [`SyncReport`] instead, as for any sync.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The manifests, or a flag's value, could not be made into objects.
    #[error(transparent)]
    Manifests(#[from] ManifestError),
    /// The install's objects could not be looked up in the cluster.
    #[error("cannot list the objects of app {APP_NAME} in the cluster")]
    Find(#[source] RequestError),
}

/// Applies `manifests` (normally [`MANIFESTS`]) as the app [`APP_NAME`], pruning the app's
/// objects that `manifests` no longer has.
pub async fn install(
    engine: &Engine,
    manifests: &[Manifest<'_>],
    options: &InstallOptions,
) -> Result<SyncReport, InstallError> {
    let objects = manifests::objects(manifests, options)?;
    let memory = expected_memory(&objects);
    let request = SyncRequest {
        app: APP_NAME,
        namespace: &options.namespace,
        objects: &objects,
        previous: None,
        memory: &memory,
    };
    let sync = SyncOptions { prune: true, dry_run: options.dry_run, ..SyncOptions::default() };
    Ok(engine.sync(request, &sync).await)
}

/// What the engine would remember after applying `objects`, had the server kept every value
/// as written: then a live object holding them (and its manifest's hash annotation) is
/// unchanged without a request. The manifests are written in the server's canonical form so
/// that this holds; where it does not, the object is applied again, which changes nothing.
/// The hash annotation is what makes it sound: an object applied from an older manifest that
/// set more fields (which only an apply would remove) differs in that annotation.
pub fn expected_memory(objects: &[Object]) -> AppliedMemory {
    use crate::engine::decide::{manifest_hash, owned_values};
    let entry = |object: &Object| {
        let ignore = crate::engine::diff::ignored_fields(&object.value);
        let owned = owned_values(&object.value, &object.value, &ignore);
        (object.key.clone(), Applied { hash: manifest_hash(&object.value), owned })
    };
    objects.iter().map(entry).collect()
}

/// How to uninstall.
#[derive(Debug, Clone, Default)]
pub struct UninstallOptions {
    /// Say what would be deleted; delete nothing.
    pub dry_run: bool,
}

/// What an uninstall did.
#[derive(Debug, Clone)]
pub struct Uninstalled {
    /// The deletes, as a sync's prune reports them.
    pub report: SyncReport,
    /// The install's Namespaces, left in place.
    pub kept: Vec<ObjectKey>,
}

/// Deletes every object of the app [`APP_NAME`] except its Namespaces.
pub async fn uninstall(
    engine: &Engine,
    options: &UninstallOptions,
) -> Result<Uninstalled, InstallError> {
    let found =
        crate::engine::prune::rebuild(engine, APP_NAME).await.map_err(InstallError::Find)?;
    let (namespaces, rest): (Vec<_>, Vec<_>) =
        found.entries.into_iter().partition(|e| e.group.is_empty() && e.kind == "Namespace");
    let previous = Inventory::new(rest);
    let request = SyncRequest {
        app: APP_NAME,
        namespace: "",
        objects: &[],
        previous: Some(&previous),
        memory: &AppliedMemory::default(),
    };
    let sync = SyncOptions {
        prune: true,
        allow_empty: true,
        dry_run: options.dry_run,
        ..SyncOptions::default()
    };
    let report = engine.sync(request, &sync).await;
    Ok(Uninstalled { report, kept: namespaces.iter().map(|e| e.key()).collect() })
}

/// The Secrets `config` reads that `namespace` lacks.
pub async fn missing_secrets(
    engine: &Engine,
    namespace: &str,
    config: &str,
) -> Result<Vec<SecretMount>, RequestError> {
    let Some(secrets) = engine.resources().resolve("v1", "Secret") else {
        return Ok(Vec::new());
    };
    let mut missing = Vec::new();
    for needed in needed_secrets(config) {
        if engine.requests().get(&secrets, namespace, needed.secret).await?.is_none() {
            missing.push(needed);
        }
    }
    Ok(missing)
}
