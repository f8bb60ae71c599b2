//! Discovery documents: `/version`, `/api` (APIVersions), `/apis` (APIGroupList),
//! `/apis/{g}` (APIGroup), `/api/v1` and `/apis/{g}/{v}` (APIResourceList), and aggregated
//! discovery (`apidiscovery.k8s.io/v2` APIGroupDiscoveryList) for `/api` and `/apis`.
//!
//! Pure functions of the registry; the server picks the document from the path and the
//! `Accept` header.

use crate::registry::{Registry, ResourceInfo};
use serde_json::{Value, json};

/// The Kubernetes version the sandbox reports.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32",
        "gitVersion": "v1.33.0",
        "gitCommit": "sandbox",
        "gitTreeState": "clean",
        "buildDate": "2025-04-23T00:00:00Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// The `Content-Type` of aggregated discovery responses.
pub const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// `/api`: the core group's versions.
pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_version(group: &str, version: &str) -> Value {
    json!({"groupVersion": format!("{group}/{version}"), "version": version})
}

fn api_group(group: &str, versions: &[String]) -> Value {
    json!({
        "name": group,
        "versions": versions.iter().map(|v| group_version(group, v)).collect::<Vec<_>>(),
        "preferredVersion": group_version(group, &versions[0]),
    })
}

/// `/apis`: every named group.
pub fn api_group_list(registry: &Registry) -> Value {
    let groups: Vec<Value> = registry
        .groups()
        .iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, vs)| api_group(g, vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}`, if the group is served.
pub fn group(registry: &Registry, name: &str) -> Option<Value> {
    let groups = registry.groups();
    let (g, vs) = groups.iter().find(|(g, _)| g == name && !g.is_empty())?;
    let mut doc = api_group(g, vs);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    Some(doc)
}

const SUB_VERBS: &[&str] = &["get", "patch", "update"];

fn subresource_kind(info: &ResourceInfo, sub: &str) -> (String, String, String) {
    match sub {
        "scale" => ("autoscaling".into(), "v1".into(), "Scale".into()),
        _ => (info.group.clone(), info.version.clone(), info.kind.clone()),
    }
}

fn sub_verbs(sub: &str) -> Vec<&'static str> {
    if sub == "finalize" { vec!["update"] } else { SUB_VERBS.to_vec() }
}

/// `/api/v1` or `/apis/{group}/{version}`.
pub fn resource_list(registry: &Registry, group: &str, version: &str) -> Value {
    let mut resources = Vec::new();
    for info in registry.resources_of(group, version) {
        let mut r = json!({
            "name": info.plural,
            "singularName": info.singular,
            "namespaced": info.namespaced,
            "kind": info.kind,
            "verbs": info.verbs(),
        });
        if !info.short_names.is_empty() {
            r["shortNames"] = json!(info.short_names);
        }
        if !info.categories.is_empty() {
            r["categories"] = json!(info.categories);
        }
        resources.push(r);
        for sub in info.subresources() {
            let (g, v, k) = subresource_kind(&info, sub);
            let mut r = json!({
                "name": format!("{}/{sub}", info.plural),
                "singularName": "",
                "namespaced": info.namespaced,
                "kind": k,
                "verbs": sub_verbs(sub),
            });
            if sub == "scale" {
                r["group"] = json!(g);
                r["version"] = json!(v);
            }
            resources.push(r);
        }
    }
    let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}

fn aggregated_resource(info: &ResourceInfo) -> Value {
    let mut r = json!({
        "resource": info.plural,
        "responseKind": {"group": info.group, "version": info.version, "kind": info.kind},
        "scope": if info.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": info.singular,
        "verbs": info.verbs(),
    });
    if !info.short_names.is_empty() {
        r["shortNames"] = json!(info.short_names);
    }
    if !info.categories.is_empty() {
        r["categories"] = json!(info.categories);
    }
    let subs: Vec<Value> = info
        .subresources()
        .into_iter()
        .map(|sub| {
            let (g, v, k) = subresource_kind(info, sub);
            json!({"subresource": sub, "responseKind": {"group": g, "version": v, "kind": k}, "verbs": sub_verbs(sub)})
        })
        .collect();
    if !subs.is_empty() {
        r["subresources"] = json!(subs);
    }
    r
}

/// Aggregated discovery: the core group (`core = true`, for `/api`) or every named group
/// (`/apis`).
pub fn aggregated(registry: &Registry, core: bool) -> Value {
    let items: Vec<Value> = registry
        .groups()
        .iter()
        .filter(|(g, _)| g.is_empty() == core)
        .map(|(g, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|v| {
                    let resources: Vec<Value> = registry
                        .resources_of(g, v)
                        .iter()
                        .map(|i| aggregated_resource(i))
                        .collect();
                    json!({"version": v, "resources": resources, "freshness": "Current"})
                })
                .collect();
            let metadata = if core {
                json!({"creationTimestamp": null})
            } else {
                json!({"name": g, "creationTimestamp": null})
            };
            json!({"metadata": metadata, "versions": versions})
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_lists_carry_subresources() {
        let r = Registry::builtin();
        let list = resource_list(&r, "apps", "v1");
        let names: Vec<&str> = list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"deployments/scale") && names.contains(&"deployments/status"));
        assert_eq!(list["groupVersion"], "apps/v1");
        let core = resource_list(&r, "", "v1");
        assert_eq!(core["groupVersion"], "v1");
    }

    #[test]
    fn aggregated_lists_the_same_resources() {
        let r = Registry::builtin();
        let agg = aggregated(&r, false);
        let count: usize = agg["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["versions"][0]["resources"].as_array().unwrap().len())
            .sum();
        let plain: usize = api_group_list(&r)["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                let version = g["preferredVersion"]["version"].as_str().unwrap();
                r.resources_of(g["name"].as_str().unwrap(), version).len()
            })
            .sum();
        assert_eq!(count, plain);
        assert!(aggregated(&r, true)["items"][0]["metadata"].get("name").is_none());
    }
}
