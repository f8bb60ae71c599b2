use super::*;
use serde_json::json;
use std::path::Path;

/// Each fixture is a live object as the API server answers it, plus a top-level `expect:`
/// (`status`, `reason`) that the loader strips before assessing.
#[test]
fn fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine/health/testdata");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("testdata is readable")
        .map(|entry| entry.expect("testdata entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    names.sort();
    let mut failures = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for name in &names {
        let source = std::fs::read_to_string(dir.join(name)).expect("fixture is readable");
        let mut object =
            crate::yaml::parse_document(&source).unwrap_or_else(|e| panic!("{name}: {e}")).value;
        let expect = object
            .as_object_mut()
            .and_then(|o| o.remove("expect"))
            .unwrap_or_else(|| panic!("{name}: no `expect:`"));
        let expected: Health = serde_json::from_value(expect)
            .unwrap_or_else(|e| panic!("{name}: `expect:` is not a Health: {e}"));
        let actual = assess(&object);
        if actual != expected {
            failures.push(format!("{name}: expected {expected:?}, got {actual:?}"));
        }
        seen.insert(name.split('-').next().unwrap_or_default().to_string());
        seen.insert(format!("{}", actual.status));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The loop must have had something to check: every kind with rules, every status but
    // Missing (which no live object can be).
    let wanted = [
        "configmap",
        "daemonset",
        "deployment",
        "job",
        "pvc",
        "service",
        "statefulset",
        "Healthy",
        "Suspended",
        "Progressing",
        "Degraded",
    ];
    let missing: Vec<_> = wanted.iter().filter(|w| !seen.contains(**w)).collect();
    assert!(missing.is_empty(), "no fixture covers {missing:?}");
}

#[test]
fn statuses_are_ordered_from_best_to_worst() {
    use HealthStatus::*;
    let mut all = vec![Degraded, Healthy, Missing, Progressing, Suspended];
    all.sort();
    assert_eq!(all, [Healthy, Suspended, Progressing, Missing, Degraded]);
}

#[test]
fn worst_is_the_greatest_and_healthy_for_none() {
    use HealthStatus::*;
    assert_eq!(worst(&[Healthy, Degraded, Progressing]), Degraded);
    assert_eq!(worst(&[Suspended, Healthy]), Suspended);
    assert_eq!(worst(&[Missing, Progressing]), Missing);
    assert_eq!(worst(&[]), Healthy);
    let healths = [Health::healthy(), Health::missing()];
    assert_eq!(worst(healths.iter().map(|h| &h.status)), Missing);
}

#[test]
fn statuses_serialize_as_their_names() {
    let health = Health::new(HealthStatus::Progressing, "claim is Pending");
    let json = serde_json::to_value(&health).unwrap();
    assert_eq!(json, json!({"status": "Progressing", "reason": "claim is Pending"}));
    assert_eq!(serde_json::from_value::<Health>(json).unwrap(), health);
    assert_eq!(HealthStatus::Degraded.to_string(), "Degraded");
}

#[test]
fn object_health_names_the_object_then_the_reason() {
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "generation": 1},
        "spec": {"replicas": 3},
        "status": {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3,
                   "availableReplicas": 1},
    });
    let health = ObjectHealth::of(&deployment);
    assert_eq!(health.to_string(), "apps/Deployment shop/web: 1 of 3 updated replicas available");
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "settings", "namespace": "shop"}});
    assert_eq!(ObjectHealth::of(&config).to_string(), "ConfigMap shop/settings: Healthy");
    let gone = ObjectHealth { key: ObjectKey::of(&config), health: Health::missing() };
    assert_eq!(gone.to_string(), "ConfigMap shop/settings: not found");
}

#[test]
fn other_versions_of_a_kind_are_not_judged_by_its_rules() {
    // Only apps/v1 has these fields in this shape; an unknown version merely exists.
    let beta = json!({"apiVersion": "apps/v1beta9", "kind": "Deployment",
                      "metadata": {"name": "web", "generation": 2}});
    assert_eq!(assess(&beta), Health::healthy());
    let widget = json!({"apiVersion": "example.com/v1", "kind": "Deployment",
                        "metadata": {"name": "web", "generation": 2}});
    assert_eq!(assess(&widget), Health::healthy());
}

#[test]
fn a_deadline_from_an_older_generation_does_not_count() {
    // The spec changed after the rollout failed: kubectl waits for the controller to see it
    // before it reads conditions that describe the previous spec.
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "generation": 4},
        "spec": {"replicas": 1},
        "status": {"observedGeneration": 3, "conditions": [
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
             "message": "ReplicaSet \"web-5b9f7c6d8\" has timed out progressing."}]},
    });
    let expected = Health::new(
        HealthStatus::Progressing,
        "waiting for the rollout: observed generation 3 < 4",
    );
    assert_eq!(assess(&deployment), expected);
}

/// Shapes a real API server never answers (it defaults these fields), which kubectl's rules
/// still cover: objects read back from the sandbox or handed over before defaulting.
#[test]
fn undefaulted_objects_follow_kubectl_too() {
    let sts = |status: Value| {
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
               "metadata": {"name": "db", "generation": 2},
               "spec": {"replicas": 2, "updateStrategy": {"type": "RollingUpdate"}},
               "status": status})
    };
    // Without a `rollingUpdate` block, kubectl compares revisions instead of the partition.
    let rolling = sts(json!({"observedGeneration": 2, "readyReplicas": 2, "updatedReplicas": 1,
                             "currentRevision": "db-1", "updateRevision": "db-2"}));
    let expected = "waiting for the rolling update: 1 replica at revision db-2";
    assert_eq!(assess(&rolling), Health::new(HealthStatus::Progressing, expected));
    let done = sts(json!({"observedGeneration": 2, "readyReplicas": 2, "updatedReplicas": 2,
                          "currentRevision": "db-2", "updateRevision": "db-2"}));
    assert_eq!(assess(&done), Health::healthy());

    // Without `spec.replicas`, kubectl does not count updated replicas against it.
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
                            "metadata": {"name": "web", "generation": 1},
                            "status": {"observedGeneration": 1}});
    assert_eq!(assess(&deployment), Health::healthy());

    let claim = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                       "metadata": {"name": "data"}});
    assert_eq!(assess(&claim), Health::new(HealthStatus::Progressing, "claim is Pending"));
}

#[test]
fn job_reasons_read_well_without_completions_or_messages() {
    // A work queue: parallelism and no completions; done when any pod succeeds.
    let queue = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "q"},
                       "spec": {"parallelism": 3}, "status": {"active": 3}});
    let expected = "waiting for the job: 0 succeeded, 3 active";
    assert_eq!(assess(&queue), Health::new(HealthStatus::Progressing, expected));
    let bare = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "q"},
                      "status": {"conditions": [{"type": "Failed", "status": "True"}]}});
    assert_eq!(assess(&bare), Health::new(HealthStatus::Degraded, "job failed"));
    // A condition that no longer holds says nothing.
    let resumed = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "q"},
                         "spec": {"suspend": false, "completions": 1},
                         "status": {"conditions": [{"type": "Suspended", "status": "False",
                                                    "reason": "JobResumed"}]}});
    let expected = "waiting for the job: 0 of 1 completions succeeded";
    assert_eq!(assess(&resumed), Health::new(HealthStatus::Progressing, expected));
}
