//! Points where the sandbox answers as a real kube-apiserver does, through kube-rs: the
//! watch cache's DELETED event for an object leaving a selection, validation of built-in
//! workloads, and the keys of built-in associative lists defaulting to their zero value.

use crate::common::{client, create_namespace, unique};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn leaving_a_selection_is_deleted_with_the_previous_object() {
    let ns = unique("fsel");
    create_namespace(&ns).await;
    let api: Api<ConfigMap> = Api::namespaced(client().await, &ns);
    let cm: ConfigMap = serde_json::from_value(
        json!({"metadata": {"name": "a", "labels": {"tier": "web"}}, "data": {"k": "1"}}),
    )
    .unwrap();
    api.create(&PostParams::default(), &cm).await.unwrap();
    let mut events =
        api.watch(&WatchParams::default().labels("tier=web"), "0").await.unwrap().boxed();
    let first = tokio::time::timeout(WAIT, events.try_next()).await.unwrap().unwrap().unwrap();
    assert!(matches!(first, WatchEvent::Added(ref o) if o.metadata.name.as_deref() == Some("a")));
    let moved = api
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"tier": "db"}}, "data": {"k": "2"}})),
        )
        .await
        .unwrap();
    let gone = tokio::time::timeout(WAIT, events.try_next()).await.unwrap().unwrap().unwrap();
    let WatchEvent::Deleted(last) = gone else { panic!("{gone:?}") };
    // The object as it was (still selected), at the resourceVersion of the change.
    assert_eq!(last.metadata.labels.unwrap()["tier"], "web");
    assert_eq!(last.data.unwrap()["k"], "1");
    assert_eq!(last.metadata.resource_version, moved.metadata.resource_version);
}

fn api_error(e: kube::Error) -> (u16, String) {
    match e {
        kube::Error::Api(s) => (s.code, s.message),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn workloads_are_validated_as_kube_apiserver_does() {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::batch::v1::Job;
    let ns = unique("fval");
    create_namespace(&ns).await;
    let jobs: Api<Job> = Api::namespaced(client().await, &ns);
    let no_policy: Job =
        serde_json::from_value(json!({"metadata": {"name": "j"}, "spec": {"template":
        {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}))
        .unwrap();
    assert_eq!(
        api_error(jobs.create(&PostParams::default(), &no_policy).await.unwrap_err()),
        (422, "Job.batch \"j\" is invalid: spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"".into())
    );
    let no_containers: Job =
        serde_json::from_value(json!({"metadata": {"name": "j"}, "spec": {"template":
        {"spec": {"restartPolicy": "Never"}}}}))
        .unwrap();
    assert_eq!(
        api_error(jobs.create(&PostParams::default(), &no_containers).await.unwrap_err()),
        (422, "Job.batch \"j\" is invalid: spec.template.spec.containers: Required value".into())
    );
    let deployments: Api<Deployment> = Api::namespaced(client().await, &ns);
    let no_image = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
        "spec": {"containers": [{"name": "c"}]}}}});
    let err = deployments
        .patch("d", &PatchParams::apply("t"), &Patch::Apply(no_image))
        .await
        .unwrap_err();
    assert_eq!(
        api_error(err),
        (422, "Deployment.apps \"d\" is invalid: spec.template.spec.containers[0].image: Required value".into())
    );
    // A container without a name is keyed by the key's zero default (`name: ""`, as
    // kube-openapi declares it for the non-pointer Go field), so the merge accepts it and
    // the pod spec validation refuses it, not the field manager.
    let no_name = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
        "spec": {"containers": [{"image": "nginx"}]}}}});
    let err =
        deployments.patch("d", &PatchParams::apply("t"), &Patch::Apply(no_name)).await.unwrap_err();
    assert_eq!(
        api_error(err),
        (422, "Deployment.apps \"d\" is invalid: spec.template.spec.containers[0].name: Required value".into())
    );
}

/// The distinct status snapshots a watch on one Deployment sees until `done` holds.
async fn deployment_statuses(
    api: &Api<k8s_openapi::api::apps::v1::Deployment>,
    name: &str,
    from_rv: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> Vec<serde_json::Value> {
    let params = WatchParams::default().fields(&format!("metadata.name={name}"));
    let mut events = api.watch(&params, from_rv).await.unwrap().boxed();
    let mut seen: Vec<serde_json::Value> = Vec::new();
    loop {
        let e = tokio::time::timeout(WAIT, events.try_next())
            .await
            .expect("a change")
            .unwrap()
            .unwrap();
        let (WatchEvent::Added(d) | WatchEvent::Modified(d)) = e else { continue };
        let s = serde_json::to_value(d.status.unwrap_or_default()).unwrap();
        let summary = json!({
            "observedGeneration": s["observedGeneration"], "updated": s["updatedReplicas"],
            "available": s["availableReplicas"],
            "progressing": s["conditions"].as_array().and_then(|cs| cs.iter().find(|c| c["type"] == "Progressing")).map(|c| c["reason"].clone()),
        });
        if seen.last() != Some(&summary) {
            seen.push(summary.clone());
        }
        if done(&summary) {
            return seen;
        }
    }
}

fn web(
    image: &str,
    replicas: i32,
    annotations: serde_json::Value,
) -> k8s_openapi::api::apps::v1::Deployment {
    serde_json::from_value(json!({"metadata": {"name": "web", "annotations": annotations},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": image}]}}}}))
    .unwrap()
}

#[tokio::test]
async fn deployment_status_follows_the_deployment_controller() {
    use k8s_openapi::api::apps::v1::Deployment;
    let ns = unique("fdep");
    create_namespace(&ns).await;
    let api: Api<Deployment> = Api::namespaced(client().await, &ns);
    let created = api
        .create(
            &PostParams::default(),
            &web("nginx:1", 3, json!({"sandbox.cetus.dev/ready-after": "600ms"})),
        )
        .await
        .unwrap();
    // The create itself carries no status: the controller has not run yet.
    assert!(created.status.is_none_or(|s| s.observed_generation.is_none()));
    let rv = created.metadata.resource_version.unwrap();
    let seen =
        deployment_statuses(&api, "web", &rv, |s| s["progressing"] == "NewReplicaSetAvailable")
            .await;
    let step = |available: Option<i64>, reason: &str| json!({"observedGeneration": 1, "updated": 3, "available": available, "progressing": reason});
    assert_eq!(
        seen,
        vec![
            step(None, "NewReplicaSetCreated"),
            step(None, "ReplicaSetUpdated"),
            step(Some(1), "ReplicaSetUpdated"),
            step(Some(2), "ReplicaSetUpdated"),
            step(Some(3), "NewReplicaSetAvailable"),
        ]
    );

    // A failing update keeps the old replicas available and times out only after the
    // (scaled) progress deadline.
    let failing = api
        .patch("web", &PatchParams::default(), &Patch::Merge(json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:fail"}]}}}})))
        .await
        .unwrap();
    assert_eq!(failing.status.as_ref().unwrap().observed_generation, Some(1), "not yet observed");
    let rv = failing.metadata.resource_version.unwrap();
    let seen =
        deployment_statuses(&api, "web", &rv, |s| s["progressing"] == "ProgressDeadlineExceeded")
            .await;
    let at = |reason: &str| json!({"observedGeneration": 2, "updated": 1, "available": 3, "progressing": reason});
    assert_eq!(seen, vec![at("ReplicaSetUpdated"), at("ProgressDeadlineExceeded")]);
    let d = api.get("web").await.unwrap().status.unwrap();
    let available = d.conditions.unwrap().into_iter().find(|c| c.type_ == "Available").unwrap();
    assert_eq!(
        (available.status.as_str(), available.reason.as_deref()),
        ("True", Some("MinimumReplicasAvailable"))
    );
}

#[tokio::test]
async fn statefulsets_get_no_conditions_their_controller_does_not_set() {
    use k8s_openapi::api::apps::v1::StatefulSet;
    let ns = unique("fsts");
    create_namespace(&ns).await;
    let api: Api<StatefulSet> = Api::namespaced(client().await, &ns);
    let sts: StatefulSet =
        serde_json::from_value(json!({"metadata": {"name": "db"}, "spec": {"replicas": 2,
        "serviceName": "db", "selector": {"matchLabels": {"app": "db"}}, "template": {"metadata":
        {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "c", "image": "pg:fail"}]}}}}))
        .unwrap();
    api.create(&PostParams::default(), &sts).await.unwrap();
    let status = crate::common::eventually(WAIT, || async {
        api.get("db").await.ok()?.status.filter(|s| s.observed_generation == Some(1))
    })
    .await
    .unwrap();
    assert_eq!((status.replicas, status.ready_replicas, status.conditions), (2, None, None));
}
