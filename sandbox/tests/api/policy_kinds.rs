//! HorizontalPodAutoscaler (autoscaling/v2) and PodDisruptionBudget (policy/v1) with the
//! defaults and the merge schema kube-apiserver gives them: atomic metric lists and target
//! references, conditions keyed by type, the non-omitempty status counters.

use crate::common::{client, create_namespace, unique};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

fn fields_of(
    managed: Option<Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry>>,
    manager: &str,
) -> Value {
    let entry = managed.unwrap().into_iter().find(|e| e.manager.as_deref() == Some(manager));
    serde_json::to_value(entry.unwrap_or_else(|| panic!("no entry for {manager}")).fields_v1)
        .unwrap()
}

#[tokio::test]
async fn hpa_is_defaulted_and_merges_metrics_atomically() {
    let ns = unique("hpa");
    create_namespace(&ns).await;
    let api: Api<HorizontalPodAutoscaler> = Api::namespaced(client().await, &ns);
    let bare = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"}, "spec": {"maxReplicas": 5,
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}});
    let hpa = api.patch("web", &PatchParams::apply("ci"), &Patch::Apply(&bare)).await.unwrap();
    let got = serde_json::to_value(&hpa).unwrap();
    assert_eq!(got["spec"]["minReplicas"], 1);
    assert_eq!(
        got["spec"]["metrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}])
    );
    assert_eq!(
        got["spec"]["behavior"],
        json!({"scaleDown": {"stabilizationWindowSeconds": 60, "selectPolicy": "Max",
                "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]},
               "scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
                "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15},
                             {"type": "Percent", "value": 100, "periodSeconds": 15}]}})
    );
    assert_eq!(got["status"], json!({"desiredReplicas": 0}));

    let mut with_metrics = bare.clone();
    with_metrics["spec"]["metrics"] = json!([{"type": "Resource", "resource": {"name": "memory",
        "target": {"type": "Utilization", "averageUtilization": 70}}}]);
    let hpa =
        api.patch("web", &PatchParams::apply("ci"), &Patch::Apply(&with_metrics)).await.unwrap();
    let spec = &fields_of(hpa.metadata.managed_fields, "ci")["f:spec"];
    // Both are owned whole: a list of `+listType=atomic`, a `+structType=atomic` reference.
    assert_eq!((&spec["f:metrics"], &spec["f:scaleTargetRef"]), (&json!({}), &json!({})));
    // Another manager changing one metric conflicts on the whole list.
    let mut other = with_metrics.clone();
    other["spec"] = json!({"metrics": [{"type": "Resource", "resource": {"name": "memory",
        "target": {"type": "Utilization", "averageUtilization": 90}}}]});
    let err =
        api.patch("web", &PatchParams::apply("tuner"), &Patch::Apply(&other)).await.unwrap_err();
    let kube::Error::Api(status) = err else { panic!("{err:?}") };
    assert_eq!(
        (status.code, status.message.as_str()),
        (409, "Apply failed with 1 conflict: conflict with \"ci\": .spec.metrics")
    );
}

#[tokio::test]
async fn pdb_reads_back_its_status_counters_and_keys_conditions_by_type() {
    let ns = unique("pdb");
    create_namespace(&ns).await;
    let api: Api<PodDisruptionBudget> = Api::namespaced(client().await, &ns);
    let pdb = json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": "web"}, "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}});
    let created = api.patch("web", &PatchParams::apply("ci"), &Patch::Apply(&pdb)).await.unwrap();
    assert_eq!(
        serde_json::to_value(created.status).unwrap(),
        json!({"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0})
    );
    let condition = |type_: &str| {
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": "web"}, "status": {"conditions": [{"type": type_, "status": "True",
        "reason": "R", "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}})
    };
    let params = |m: &str| PatchParams::apply(m);
    api.patch_status("web", &params("a"), &Patch::Apply(condition("DisruptionAllowed")))
        .await
        .unwrap();
    let both =
        api.patch_status("web", &params("b"), &Patch::Apply(condition("Other"))).await.unwrap();
    let types: Vec<String> =
        both.status.unwrap().conditions.unwrap().into_iter().map(|c| c.type_).collect();
    assert_eq!(types, vec!["DisruptionAllowed", "Other"], "merged by type, not replaced");
}
