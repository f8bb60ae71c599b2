//! The controls that steer the controllers, through kube-rs: Jobs failed by name prefix, by
//! label or by an image tagged `fail`, fail marks cleared, CRDs withheld from `Established`,
//! claims held `Pending`, and the reset of every control.

use crate::common::{client, create_namespace, eventually, http, sandbox, unique};
use cetus_sandbox::{JobMatch, Sandbox, SandboxOptions};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

fn job(name: &str, labels: Value, image: &str) -> Job {
    serde_json::from_value(
        json!({"metadata": {"name": name, "labels": labels}, "spec": {"template":
        {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": image}]}}}}),
    )
    .unwrap()
}

/// The Job's final condition type (`Complete` or `Failed`), once it has one.
async fn outcome(api: &Api<Job>, name: &str) -> String {
    eventually(WAIT, || async {
        let j = api.get(name).await.ok()?;
        let conds = j.status?.conditions?;
        conds.iter().find(|c| c.type_ == "Complete" || c.type_ == "Failed").map(|c| c.type_.clone())
    })
    .await
    .unwrap_or_else(|| panic!("job {name} never finished"))
}

#[tokio::test]
async fn jobs_fail_by_prefix_label_or_image_tag() {
    let ns = unique("mjob");
    create_namespace(&ns).await;
    let api: Api<Job> = Api::namespaced(client().await, &ns);
    sandbox().fail_jobs(JobMatch::prefix(Some(&ns), "smoke-"));
    sandbox().fail_jobs(JobMatch::label(Some(&ns), "suite", "e2e"));
    let pp = PostParams::default();
    api.create(&pp, &job("smoke-1", json!({}), "busybox:1")).await.unwrap();
    api.create(&pp, &job("tagged", json!({"suite": "e2e"}), "busybox:1")).await.unwrap();
    api.create(&pp, &job("image", json!({}), "busybox:fail")).await.unwrap();
    api.create(&pp, &job("fine", json!({"suite": "unit"}), "busybox:1")).await.unwrap();
    for (name, want) in
        [("smoke-1", "Failed"), ("tagged", "Failed"), ("image", "Failed"), ("fine", "Complete")]
    {
        assert_eq!(outcome(&api, name).await, want, "{name}");
    }
    let failed = api.get("smoke-1").await.unwrap().status.unwrap();
    assert_eq!(failed.failed, Some(7), "backoffLimit 6 + 1 pods failed");
    // Cleared, the mark fails no new Job.
    sandbox().clear_job_failure(&JobMatch::prefix(Some(&ns), "smoke-"));
    api.create(&pp, &job("smoke-2", json!({}), "busybox:1")).await.unwrap();
    assert_eq!(outcome(&api, "smoke-2").await, "Complete");
    // The endpoint takes the same marks.
    let mark = json!({"namespace": ns, "namePrefix": "http-"});
    let r = http("POST", "/sandbox/fail-job", Some("application/json"), &mark.to_string()).await;
    assert_eq!(r.code, 204, "{}", r.body);
    api.create(&pp, &job("http-1", json!({}), "busybox:1")).await.unwrap();
    assert_eq!(outcome(&api, "http-1").await, "Failed");
    let r =
        http("POST", "/sandbox/clear-fail-job", Some("application/json"), &mark.to_string()).await;
    assert_eq!(r.code, 204);
    let both = json!({"namespace": ns, "name": "x", "label": "a=b"}).to_string();
    let r = http("POST", "/sandbox/fail-job", Some("application/json"), &both).await;
    assert_eq!(
        (r.code, r.json()["error"].clone()),
        (400, json!("give exactly one of \"name\", \"namePrefix\" or \"label\""))
    );
}

fn deployment(name: &str) -> Deployment {
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": {"replicas": 2,
        "selector": {"matchLabels": {"app": name}}, "template": {"metadata": {"labels": {"app": name}},
        "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}}}}))
    .unwrap()
}

fn progressing_reason(d: &Deployment) -> Option<String> {
    let conds = d.status.as_ref()?.conditions.as_ref()?;
    conds.iter().find(|c| c.type_ == "Progressing").and_then(|c| c.reason.clone())
}

#[tokio::test]
async fn a_cleared_rollout_mark_makes_the_deployment_healthy_again() {
    let ns = unique("mroll");
    create_namespace(&ns).await;
    let api: Api<Deployment> = Api::namespaced(client().await, &ns);
    sandbox().fail_rollout(&ns, "web");
    api.create(&PostParams::default(), &deployment("web")).await.unwrap();
    let failed = eventually(WAIT, || async {
        let d = api.get("web").await.ok()?;
        (progressing_reason(&d).as_deref() == Some("ProgressDeadlineExceeded")).then_some(d)
    })
    .await
    .expect("the rollout fails");
    assert_eq!(failed.status.unwrap().available_replicas, None);
    sandbox().clear_rollout_failure(&ns, "web");
    let healthy = eventually(WAIT, || async {
        let d = api.get("web").await.ok()?;
        (progressing_reason(&d).as_deref() == Some("NewReplicaSetAvailable")).then_some(d)
    })
    .await
    .expect("the rollout completes once the mark is cleared");
    assert_eq!(healthy.status.unwrap().available_replicas, Some(2));
}

fn crd(plural: &str) -> CustomResourceDefinition {
    let group = "marks.example.com";
    serde_json::from_value(json!({"metadata": {"name": format!("{plural}.{group}")}, "spec": {
        "group": group, "scope": "Namespaced",
        "names": {"plural": plural, "singular": &plural[..plural.len() - 1], "kind": "Gadget"},
        "versions": [{"name": "v1", "served": true, "storage": true,
            "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}}))
    .unwrap()
}

fn established(c: &CustomResourceDefinition) -> Option<(String, String)> {
    let conds = c.status.as_ref()?.conditions.as_ref()?;
    let e = conds.iter().find(|c| c.type_ == "Established")?;
    Some((e.status.clone(), e.reason.clone().unwrap_or_default()))
}

#[tokio::test]
async fn a_withheld_crd_is_not_established_until_released() {
    // Its own sandbox: discovery is global.
    let handle = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let client = crate::common::client_for(&handle).await;
    let api: Api<CustomResourceDefinition> = Api::all(client);
    let name = "gadgets.marks.example.com";
    handle.withhold_crd(name);
    api.create(&PostParams::default(), &crd("gadgets")).await.unwrap();
    let installing = eventually(WAIT, || async { established(&api.get(name).await.ok()?) }).await;
    assert_eq!(installing, Some(("False".to_string(), "Installing".to_string())));
    let path = "/apis/marks.example.com/v1/namespaces/default/gadgets";
    assert_eq!(crate::common::http_to(&handle, "GET", path, None, None, "").await.code, 404);
    handle.release_crd(name);
    let now = eventually(WAIT, || async {
        established(&api.get(name).await.ok()?).filter(|(s, _)| s == "True")
    })
    .await;
    assert_eq!(now, Some(("True".to_string(), "InitialNamesAccepted".to_string())));
    assert_eq!(crate::common::http_to(&handle, "GET", path, None, None, "").await.code, 200);
    handle.shutdown().await.unwrap();
}

fn claim(name: &str) -> PersistentVolumeClaim {
    serde_json::from_value(
        json!({"metadata": {"name": name}, "spec": {"accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "1Gi"}}}}),
    )
    .unwrap()
}

fn phase(c: &PersistentVolumeClaim) -> Option<String> {
    c.status.as_ref()?.phase.clone()
}

#[tokio::test]
async fn a_held_claim_stays_pending_until_released() {
    let ns = unique("mpvc");
    create_namespace(&ns).await;
    let api: Api<PersistentVolumeClaim> = Api::namespaced(client().await, &ns);
    sandbox().hold_claim(&ns, "held");
    api.create(&PostParams::default(), &claim("held")).await.unwrap();
    api.create(&PostParams::default(), &claim("free")).await.unwrap();
    // The controller handles changes in order: once the later claim is bound, it has seen
    // the held one.
    let bound = eventually(WAIT, || async {
        (phase(&api.get("free").await.ok()?).as_deref() == Some("Bound")).then_some(())
    })
    .await;
    assert_eq!(bound, Some(()));
    assert_eq!(phase(&api.get("held").await.unwrap()).as_deref(), Some("Pending"));
    let r = http(
        "POST",
        "/sandbox/release-claim",
        Some("application/json"),
        &json!({"namespace": ns, "name": "held"}).to_string(),
    )
    .await;
    assert_eq!(r.code, 204);
    let released = eventually(WAIT, || async {
        (phase(&api.get("held").await.ok()?).as_deref() == Some("Bound")).then_some(())
    })
    .await;
    assert_eq!(released, Some(()));
}

#[tokio::test]
async fn reset_clears_every_control() {
    let handle = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let client = crate::common::client_for(&handle).await;
    handle.fail_jobs(JobMatch::prefix(None, "t-"));
    handle.hang_requests(cetus_sandbox::RequestMatch::any().verb("delete"), 5);
    handle.set_latency(Duration::from_millis(1));
    handle.hold_claim("default", "c");
    let api: Api<Job> = Api::namespaced(client.clone(), "default");
    api.patch("t-1", &PatchParams::apply("t"), &Patch::Apply(job("t-1", json!({}), "b:1")))
        .await
        .unwrap();
    assert_eq!(outcome(&api, "t-1").await, "Failed");
    let r = crate::common::http_to(&handle, "POST", "/sandbox/reset", None, None, "").await;
    assert_eq!(r.code, 204);
    assert!(handle.faults().is_empty());
    assert!(handle.request_counts().is_empty());
    let latency = crate::common::http_to(&handle, "GET", "/sandbox/latency", None, None, "");
    assert_eq!(latency.await.json(), json!({"latency": "0"}));
    api.create(&PostParams::default(), &job("t-2", json!({}), "b:1")).await.unwrap();
    assert_eq!(outcome(&api, "t-2").await, "Complete");
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client, "default");
    claims.create(&PostParams::default(), &claim("c")).await.unwrap();
    let bound = eventually(WAIT, || async {
        (phase(&claims.get("c").await.ok()?).as_deref() == Some("Bound")).then_some(())
    })
    .await;
    assert_eq!(bound, Some(()));
    handle.shutdown().await.unwrap();
}
