//! Installing Cetus in a cluster with Cetus's own engine: `cetus install` and `cetus
//! uninstall` as library calls.
//!
//! The install is an app named [`APP_NAME`] whose objects are the install manifests
//! ([`manifests`]), so a second install writes nothing, and an install of a newer version
//! prunes what that version removed. No local state is kept between runs: the app's inventory
//! is rebuilt from the cluster's labels each time (as the engine does for a sync whose
//! inventory was lost), and what the engine would remember of each object is derived from
//! the manifests themselves ([`expected_memory`]). One install per cluster: installing into
//! another namespace moves it, pruning the old namespace's objects.
//!
//! Namespaces are never deleted, by an install or an uninstall: they may hold the Secrets
//! their owners created, and a rebuilt inventory cannot tell whether Cetus created them.
//! Uninstalling deletes every other object labelled as the app; apps Cetus deployed carry
//! their own app's label and stay as they are. This module does not print; the CLI
//! (`src/cli/install.rs`) does.

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

/// What an install or uninstall did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The applies and deletes, as a sync reports them.
    pub report: SyncReport,
    /// The install's Namespaces left in place although it no longer uses them: after a move
    /// to another namespace, the old one; after an uninstall, every one.
    pub kept: Vec<ObjectKey>,
}

/// Applies `manifests` (normally [`MANIFESTS`]) as the app [`APP_NAME`], pruning the app's
/// objects that `manifests` no longer has (Namespaces excepted).
pub async fn install(
    engine: &Engine,
    manifests: &[Manifest<'_>],
    options: &InstallOptions,
) -> Result<Outcome, InstallError> {
    let objects = manifests::objects(manifests, options)?;
    let memory = expected_memory(&objects);
    let (previous, mut kept) = found(engine).await?;
    kept.retain(|namespace| !objects.iter().any(|o| o.key == *namespace));
    let request = SyncRequest {
        app: APP_NAME,
        namespace: &options.namespace,
        objects: &objects,
        previous: Some(&previous),
        memory: &memory,
    };
    let sync = SyncOptions { prune: true, dry_run: options.dry_run, ..SyncOptions::default() };
    Ok(Outcome { report: engine.sync(request, &sync).await, kept })
}

/// The install's objects in the cluster, found by their labels (the inventory a prune
/// needs), apart from its Namespaces.
async fn found(engine: &Engine) -> Result<(Inventory, Vec<ObjectKey>), InstallError> {
    let found =
        crate::engine::prune::rebuild(engine, APP_NAME).await.map_err(InstallError::Find)?;
    let (namespaces, rest): (Vec<_>, Vec<_>) =
        found.entries.into_iter().partition(|e| e.group.is_empty() && e.kind == "Namespace");
    Ok((Inventory::new(rest), namespaces.iter().map(|e| e.key()).collect()))
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

/// Deletes every object of the app [`APP_NAME`] except its Namespaces.
pub async fn uninstall(
    engine: &Engine,
    options: &UninstallOptions,
) -> Result<Outcome, InstallError> {
    let (previous, kept) = found(engine).await?;
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
    Ok(Outcome { report: engine.sync(request, &sync).await, kept })
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
