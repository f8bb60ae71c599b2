//! API discovery: which resource serves a kind, and whether it is namespaced.
//!
//! Scope comes from the API server, not from a list of kinds: a CRD installed by hand or by
//! another tool is resolved like a built-in. Discovery runs once when the engine starts (the
//! aggregated API: two requests, else the per-group walk) and again when a kind is unknown,
//! which is how a custom kind created earlier in the same sync becomes known. It does not
//! read or write objects.

use kube::Client;
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::{Discovery, Scope, verbs};
use std::sync::{Arc, RwLock};

/// Discovery failed: the API server could not say what it serves.
#[derive(Debug, thiserror::Error)]
#[error("api discovery failed")]
pub struct DiscoveryError(#[source] pub kube::Error);

/// A kind, as the API server serves it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resolved {
    /// Group, version, kind and plural, for building requests.
    pub resource: ApiResource,
    /// Whether objects of the kind live in a namespace.
    pub namespaced: bool,
}

impl Resolved {
    /// Group and plural (`apps/deployments`, `configmaps`): the name of the resource.
    pub fn name(&self) -> String {
        if self.resource.group.is_empty() {
            self.resource.plural.clone()
        } else {
            format!("{}/{}", self.resource.group, self.resource.plural)
        }
    }
}

/// What the API server serves, refreshed on demand. Cheap to clone.
#[derive(Clone)]
pub struct Resources {
    client: Client,
    current: Arc<RwLock<Arc<Discovery>>>,
}

impl Resources {
    /// Runs discovery against the server.
    pub async fn new(client: Client) -> Result<Resources, DiscoveryError> {
        let discovery = run(&client).await?;
        Ok(Resources { client, current: Arc::new(RwLock::new(Arc::new(discovery))) })
    }

    /// Runs discovery again, so kinds served since (new CRDs) resolve.
    pub async fn refresh(&self) -> Result<(), DiscoveryError> {
        let discovery = run(&self.client).await?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(discovery);
        Ok(())
    }

    fn snapshot(&self) -> Arc<Discovery> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The resource serving `apiVersion`/`kind`, if the server knows it.
    pub fn resolve(&self, api_version: &str, kind: &str) -> Option<Resolved> {
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (resource, caps) = self.snapshot().resolve_gvk(&gvk)?;
        Some(Resolved { resource, namespaced: caps.scope == Scope::Namespaced })
    }

    /// Every resource that can be listed, at its preferred version: what an inventory rebuild
    /// searches for an app's objects.
    pub fn listable(&self) -> Vec<Resolved> {
        let discovery = self.snapshot();
        let mut found = Vec::new();
        for group in discovery.groups() {
            for (resource, caps) in group.recommended_resources() {
                // Subresources (`deployments/scale`) are not objects of their own.
                if caps.supports_operation(verbs::LIST) && !resource.plural.contains('/') {
                    found.push(Resolved { resource, namespaced: caps.scope == Scope::Namespaced });
                }
            }
        }
        found
    }
}

async fn run(client: &Client) -> Result<Discovery, DiscoveryError> {
    // Aggregated discovery (Kubernetes 1.30+) answers in two requests; older servers need the
    // walk of every group.
    match Discovery::new(client.clone()).run_aggregated().await {
        Ok(discovery) => Ok(discovery),
        Err(_) => Discovery::new(client.clone()).run().await.map_err(DiscoveryError),
    }
}
