//! Parsing API paths (`/api/v1/namespaces/shop/configmaps/x`,
//! `/apis/apps/v1/deployments`, ...) into what they address: discovery documents, or a
//! [`Target`] of the verbs.

use crate::registry::{Registry, ResourceInfo};
use crate::verbs::Target;
use std::sync::Arc;

/// What an API path addresses.
#[derive(Debug, Clone)]
pub enum Route {
    /// `/api/v1` or `/apis/{g}/{v}`: the APIResourceList.
    ResourceList {
        /// Group ("" for core).
        group: String,
        /// Version.
        version: String,
    },
    /// `/apis/{g}`: the APIGroup.
    Group(String),
    /// A collection, an object or a subresource.
    Resource(Target),
}

/// Why a path addresses nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// The path is not an API path, or no resource is served there.
    NotFound,
}

fn known_subresource(info: &ResourceInfo, sub: &str) -> bool {
    info.subresources().contains(&sub)
}

/// Parses a path under `/api` or `/apis`.
pub fn parse(path: &str, registry: &Registry) -> Result<Route, PathError> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group] => return Ok(Route::Group((*group).to_string())),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Err(PathError::NotFound),
    };
    if rest.is_empty() {
        if registry.resources_of(group, version).is_empty() {
            return Err(PathError::NotFound);
        }
        return Ok(Route::ResourceList { group: group.to_string(), version: version.to_string() });
    }
    let lookup = |plural: &str| registry.get(group, version, plural).ok_or(PathError::NotFound);
    let target = |info: Arc<ResourceInfo>,
                  namespace: Option<&str>,
                  name: Option<&str>,
                  sub: Option<&str>| {
        if let Some(s) = sub
            && !known_subresource(&info, s)
        {
            return Err(PathError::NotFound);
        }
        Ok(Route::Resource(Target {
            info,
            namespace: namespace.map(str::to_string),
            name: name.map(str::to_string),
            subresource: sub.map(str::to_string),
        }))
    };
    let is_namespaces = group.is_empty() && rest[0] == "namespaces";
    match rest {
        // `namespaces/{name}/status` and `/finalize` are the Namespace's own subresources.
        [_, name, sub] if is_namespaces && matches!(*sub, "status" | "finalize") => {
            target(lookup("namespaces")?, None, Some(name), Some(sub))
        }
        ["namespaces", ns, plural, tail @ ..] if tail.len() <= 2 => {
            let info = lookup(plural)?;
            if !info.namespaced {
                return Err(PathError::NotFound);
            }
            target(info, Some(ns), tail.first().copied(), tail.get(1).copied())
        }
        [plural, tail @ ..] if tail.len() <= 2 => {
            let info = lookup(plural)?;
            // Namespaced objects are only addressable inside their namespace; the bare
            // collection is the all-namespaces list.
            if info.namespaced && !tail.is_empty() {
                return Err(PathError::NotFound);
            }
            target(info, None, tail.first().copied(), tail.get(1).copied())
        }
        _ => Err(PathError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(path: &str) -> Target {
        match parse(path, &Registry::builtin()) {
            Ok(Route::Resource(t)) => t,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn paths() {
        let r = Registry::builtin();
        let t = resource("/api/v1/namespaces/shop/configmaps/x");
        assert_eq!(
            (t.info.kind.as_str(), t.namespace.as_deref(), t.name.as_deref()),
            ("ConfigMap", Some("shop"), Some("x"))
        );
        let t = resource("/apis/apps/v1/namespaces/shop/deployments/web/scale");
        assert_eq!(t.subresource.as_deref(), Some("scale"));
        assert_eq!(t.resource_label(), "deployments/scale");
        let t = resource("/apis/apps/v1/deployments");
        assert!(t.namespace.is_none() && t.name.is_none());
        let t = resource("/api/v1/namespaces/shop");
        assert_eq!((t.info.kind.as_str(), t.name.as_deref()), ("Namespace", Some("shop")));
        let t = resource("/api/v1/namespaces/shop/finalize");
        assert_eq!(t.subresource.as_deref(), Some("finalize"));
        let t = resource("/api/v1/namespaces");
        assert!(t.name.is_none());
        assert!(matches!(parse("/api/v1", &r), Ok(Route::ResourceList { .. })));
        assert!(matches!(parse("/apis/apps", &r), Ok(Route::Group(g)) if g == "apps"));
        for bad in [
            "/api/v1/pods/x",
            "/apis/apps/v1/namespaces/a/widgets",
            "/api/v1/namespaces/a/configmaps/x/scale",
            "/apis/nope/v1",
            "/foo",
        ] {
            assert!(parse(bad, &r).is_err(), "{bad}");
        }
    }
}
