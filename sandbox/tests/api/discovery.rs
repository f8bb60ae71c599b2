//! Discovery: `/version`, the legacy documents, aggregated discovery, and kube-rs reading
//! both.

use crate::common::{client, get_json, http_to, sandbox};
use kube::discovery::{Discovery, Scope};
use std::collections::BTreeSet;

type Resource = (String, String, String, String, bool);

fn resources(d: &Discovery) -> BTreeSet<Resource> {
    let mut out = BTreeSet::new();
    for g in d.groups() {
        for v in g.versions() {
            for (ar, caps) in g.versioned_resources(v) {
                out.insert((
                    ar.group,
                    ar.version,
                    ar.kind,
                    ar.plural,
                    caps.scope == Scope::Namespaced,
                ));
            }
        }
    }
    out
}

#[tokio::test]
async fn discovery_and_aggregated_discovery_list_the_same_resources() {
    let client = client().await;
    let plain = Discovery::new(client.clone()).run().await.expect("discovery");
    let aggregated = Discovery::new(client).run_aggregated().await.expect("aggregated discovery");
    let (a, b) = (resources(&plain), resources(&aggregated));
    assert_eq!(a, b);
    let deployments = (
        "apps".to_string(),
        "v1".to_string(),
        "Deployment".to_string(),
        "deployments".to_string(),
        true,
    );
    assert!(a.contains(&deployments));
    let namespaces =
        (String::new(), "v1".to_string(), "Namespace".to_string(), "namespaces".to_string(), false);
    assert!(a.contains(&namespaces));
    assert!(a.len() >= 22, "{a:?}");
}

#[tokio::test]
async fn version_and_legacy_documents() {
    let (code, v) = get_json("/version").await;
    assert_eq!(
        (code, v["major"].as_str(), v["minor"].as_str(), v["gitVersion"].as_str()),
        (200, Some("1"), Some("33"), Some("v1.33.0"))
    );
    let (_, api) = get_json("/api").await;
    assert_eq!(api["kind"], "APIVersions");
    assert_eq!(api["versions"][0], "v1");
    let (_, group) = get_json("/apis/apps").await;
    assert_eq!(group["preferredVersion"]["groupVersion"], "apps/v1");
    let (_, list) = get_json("/apis/apps/v1").await;
    let scale = list["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "deployments/scale")
        .unwrap();
    assert_eq!(
        (scale["group"].as_str(), scale["kind"].as_str()),
        (Some("autoscaling"), Some("Scale"))
    );
    let deploy =
        list["resources"].as_array().unwrap().iter().find(|r| r["name"] == "deployments").unwrap();
    assert_eq!(deploy["shortNames"][0], "deploy");
    assert_eq!(deploy["categories"][0], "all");
    assert_eq!(deploy["singularName"], "deployment");
    let (code, _) = get_json("/apis/nope.example.com/v1").await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn aggregated_discovery_is_negotiated_by_accept() {
    let accept =
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    let r = http_to(sandbox(), "GET", "/apis", None, Some(accept), "").await;
    assert_eq!(r.code, 200);
    assert_eq!(
        r.header("content-type"),
        vec!["application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"]
    );
    let doc = r.json();
    assert_eq!(doc["kind"], "APIGroupDiscoveryList");
    let apps =
        doc["items"].as_array().unwrap().iter().find(|g| g["metadata"]["name"] == "apps").unwrap();
    let deploy = apps["versions"][0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "deployments")
        .unwrap();
    assert_eq!(deploy["scope"], "Namespaced");
    assert_eq!(deploy["subresources"][0]["subresource"], "scale");
    assert_eq!(deploy["subresources"][0]["responseKind"]["group"], "autoscaling");
    let core = http_to(sandbox(), "GET", "/api", None, Some(accept), "").await.json();
    assert_eq!(core["items"].as_array().unwrap().len(), 1);
    let plain = http_to(sandbox(), "GET", "/apis", None, Some("application/json"), "").await;
    assert_eq!(plain.json()["kind"], "APIGroupList");
}

#[tokio::test]
async fn openapi_v3_advertises_field_validation() {
    let (code, index) = get_json("/openapi/v3").await;
    assert_eq!(code, 200);
    let url = index["paths"]["apis/apps/v1"]["serverRelativeURL"].as_str().unwrap().to_string();
    let (code, doc) = get_json(&url).await;
    assert_eq!(code, 200);
    let patch = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert!(patch["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "fieldValidation"));
    assert_eq!(patch["x-kubernetes-group-version-kind"]["kind"], "Deployment");
    assert!(doc["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentSpec"].is_object());
}
