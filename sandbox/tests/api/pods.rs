//! Pods as kwok fakes them: created by ReplicaSets (a Deployment's), StatefulSets,
//! DaemonSets and Jobs, owned by them, reported Running, Succeeded or stuck in
//! `ImagePullBackOff`, and collected with their owner.

use crate::common::{client, create_namespace, eventually, unique};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

/// (name, phase, container state reason) of the pods, sorted by name.
async fn pods(api: &Api<Pod>, want: usize) -> Vec<(String, String, String)> {
    eventually(WAIT, || async {
        let list = api.list(&ListParams::default()).await.ok()?;
        let mut rows: Vec<(String, String, String)> = list
            .items
            .iter()
            .map(|p| {
                let s = serde_json::to_value(&p.status).unwrap();
                let state = &s["containerStatuses"][0]["state"];
                let reason = state["waiting"]["reason"]
                    .as_str()
                    .or(state["terminated"]["reason"].as_str())
                    .unwrap_or("");
                (
                    p.metadata.name.clone().unwrap(),
                    s["phase"].as_str().unwrap_or("").to_string(),
                    reason.to_string(),
                )
            })
            .collect();
        rows.sort();
        (rows.len() == want && rows.iter().all(|r| !r.1.is_empty())).then_some(rows)
    })
    .await
    .unwrap_or_else(|| panic!("{want} pods with a status"))
}

fn template(image: &str) -> serde_json::Value {
    json!({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": image}]}})
}

#[tokio::test]
async fn workloads_get_pods_owned_by_them() {
    let ns = unique("pods");
    create_namespace(&ns).await;
    let c = client().await;
    let pods_api: Api<Pod> = Api::namespaced(c.clone(), &ns);
    let sts: StatefulSet = serde_json::from_value(json!({"metadata": {"name": "db"}, "spec": {"replicas": 2,
        "serviceName": "db", "selector": {"matchLabels": {"app": "x"}}, "template": template("pg:16")}})).unwrap();
    Api::<StatefulSet>::namespaced(c.clone(), &ns)
        .create(&PostParams::default(), &sts)
        .await
        .unwrap();
    assert_eq!(
        pods(&pods_api, 2).await,
        vec![
            ("db-0".into(), "Running".into(), String::new()),
            ("db-1".into(), "Running".into(), String::new())
        ]
    );
    let db0 = pods_api.get("db-0").await.unwrap();
    let owner = &db0.metadata.owner_references.unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str(), owner.controller),
        ("StatefulSet", "db", Some(true))
    );
    assert_eq!(db0.spec.unwrap().node_name.as_deref(), Some("sandbox-node"));
    Api::<StatefulSet>::namespaced(c.clone(), &ns)
        .delete("db", &DeleteParams::default())
        .await
        .unwrap();
    pods(&pods_api, 0).await;

    let job: Job =
        serde_json::from_value(json!({"metadata": {"name": "once"}, "spec": {"template":
        {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}))
        .unwrap();
    Api::<Job>::namespaced(c.clone(), &ns).create(&PostParams::default(), &job).await.unwrap();
    let done = pods(&pods_api, 1).await;
    assert!(
        done[0].0.starts_with("once-") && done[0].1 == "Succeeded" && done[0].2 == "Completed",
        "{done:?}"
    );
}

#[tokio::test]
async fn a_failing_deployment_has_pods_in_image_pull_back_off_and_its_pods_go_with_it() {
    let ns = unique("podsf");
    create_namespace(&ns).await;
    let c = client().await;
    let pods_api: Api<Pod> = Api::namespaced(c.clone(), &ns);
    let d: Deployment =
        serde_json::from_value(json!({"metadata": {"name": "web"}, "spec": {"replicas": 2,
        "selector": {"matchLabels": {"app": "x"}}, "template": template("nginx:fail")}}))
        .unwrap();
    let deployments: Api<Deployment> = Api::namespaced(c.clone(), &ns);
    deployments.create(&PostParams::default(), &d).await.unwrap();
    let stuck = pods(&pods_api, 2).await;
    assert!(stuck.iter().all(|p| p.1 == "Pending" && p.2 == "ImagePullBackOff"), "{stuck:?}");
    let rs =
        Api::<ReplicaSet>::namespaced(c.clone(), &ns).list(&ListParams::default()).await.unwrap();
    assert_eq!(rs.items.len(), 1);
    let annotations = rs.items[0].metadata.annotations.clone().unwrap();
    assert_eq!(annotations["deployment.kubernetes.io/revision"], "1");
    deployments.delete("web", &DeleteParams::default()).await.unwrap();
    pods(&pods_api, 0).await;
    let rs = eventually(WAIT, || async {
        let l = Api::<ReplicaSet>::namespaced(c.clone(), &ns)
            .list(&ListParams::default())
            .await
            .ok()?;
        l.items.is_empty().then_some(())
    })
    .await;
    assert!(rs.is_some(), "the ReplicaSet is collected with its Deployment");
}
