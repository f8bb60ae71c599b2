//! Wire-level failures: the `Status` bodies, reasons and codes kube-apiserver uses.

use crate::common::{create_namespace, http, unique};
use serde_json::json;

const CM: &str =
    r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"b"}}"#;

#[tokio::test]
async fn not_found_and_already_exists() {
    let ns = unique("err");
    create_namespace(&ns).await;
    let r = http("GET", &format!("/apis/apps/v1/namespaces/{ns}/deployments/web"), None, "").await;
    assert_eq!(r.code, 404);
    assert_eq!(
        r.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "deployments.apps \"web\" not found", "reason": "NotFound",
               "details": {"name": "web", "group": "apps", "kind": "deployments"}, "code": 404})
    );
    let path = format!("/api/v1/namespaces/{ns}/configmaps");
    assert_eq!(http("POST", &path, Some("application/json"), CM).await.code, 201);
    let dup = http("POST", &path, Some("application/json"), CM).await;
    assert_eq!((dup.code, dup.json()["reason"].clone()), (409, json!("AlreadyExists")));
    let missing =
        http("POST", "/api/v1/namespaces/nowhere/configmaps", Some("application/json"), CM).await;
    assert_eq!(missing.code, 404);
    assert_eq!(missing.json()["message"], "namespaces \"nowhere\" not found");
    let unknown = http("GET", "/apis/apps/v1/namespaces/x/widgets", None, "").await;
    assert_eq!(
        (unknown.code, unknown.json()["message"].clone()),
        (404, json!("the server could not find the requested resource"))
    );
}

#[tokio::test]
async fn invalid_objects_are_422_with_causes() {
    let ns = unique("err");
    create_namespace(&ns).await;
    let body = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}}"#;
    let r = http(
        "POST",
        &format!("/api/v1/namespaces/{ns}/configmaps"),
        Some("application/json"),
        body,
    )
    .await;
    assert_eq!(r.code, 422);
    let s = r.json();
    assert_eq!(s["reason"], "Invalid");
    assert!(s["message"].as_str().unwrap().starts_with("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"));
    assert_eq!(s["details"]["causes"][0]["reason"], "FieldValueInvalid");
    assert_eq!(s["details"]["causes"][0]["field"], "metadata.name");
    let mismatch = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"c"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}"#;
    let r = http(
        "POST",
        &format!("/apis/apps/v1/namespaces/{ns}/deployments"),
        Some("application/json"),
        mismatch,
    )
    .await;
    assert_eq!(r.code, 422);
    assert_eq!(
        r.json()["message"],
        "Deployment.apps \"d\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"a\":\"c\"}: `selector` does not match template `labels`"
    );
}

#[tokio::test]
async fn patch_options_rules() {
    let ns = unique("err");
    create_namespace(&ns).await;
    let path = format!("/api/v1/namespaces/{ns}/configmaps/c");
    let r = http("PATCH", &path, Some("application/apply-patch+yaml"), CM).await;
    assert_eq!(r.code, 422);
    assert_eq!(
        r.json()["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    assert_eq!(
        r.json()["details"]["causes"][0],
        json!({"reason": "FieldValueRequired", "message": "Required value: is required for apply patch", "field": "fieldManager"})
    );
    let r =
        http("PATCH", &format!("{path}?force=true"), Some("application/merge-patch+json"), "{}")
            .await;
    assert_eq!(r.code, 422);
    assert_eq!(
        r.json()["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch"
    );
    let r = http("PATCH", &format!("{path}?fieldManager=t"), Some("text/plain"), "{}").await;
    assert_eq!((r.code, r.json()["reason"].clone()), (415, json!("UnsupportedMediaType")));
    let r = http(
        "PATCH",
        &format!("{path}?fieldManager=t&dryRun=Bogus"),
        Some("application/apply-patch+yaml"),
        CM,
    )
    .await;
    assert_eq!(r.code, 422);
    assert_eq!(r.json()["details"]["causes"][0]["field"], "dryRun");
}

#[tokio::test]
async fn strict_field_validation_and_warnings() {
    let ns = unique("err");
    create_namespace(&ns).await;
    let path = format!("/api/v1/namespaces/{ns}/configmaps");
    let body = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"s"},"data":{"a":"b"},"bogus":1,"dataX":{}}"#;
    let strict =
        http("POST", &format!("{path}?fieldValidation=Strict"), Some("application/json"), body)
            .await;
    assert_eq!(strict.code, 400);
    assert_eq!(
        strict.json()["message"],
        "strict decoding error: unknown field \"bogus\", unknown field \"dataX\""
    );
    let warn = http("POST", &path, Some("application/json"), body).await;
    assert_eq!(warn.code, 201);
    assert_eq!(
        warn.header("warning"),
        vec!["299 - \"unknown field \\\"bogus\\\"\"", "299 - \"unknown field \\\"dataX\\\"\""]
    );
    assert!(warn.json().get("bogus").is_none(), "unknown fields are dropped");
    let apply = format!("{path}/t?fieldManager=m");
    let body = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"t"},"dataX":{}}"#;
    let r = http("PATCH", &apply, Some("application/apply-patch+yaml"), body).await;
    assert_eq!(r.code, 500);
    assert_eq!(
        r.json()["message"],
        format!(
            "failed to create typed patch object ({ns}/t; /v1, Kind=ConfigMap): .dataX: field not declared in schema"
        )
    );
    let typed = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":"two"}}"#;
    let r = http(
        "POST",
        &format!("/apis/apps/v1/namespaces/{ns}/deployments"),
        Some("application/json"),
        typed,
    )
    .await;
    assert_eq!(r.code, 400);
    assert_eq!(
        r.json()["message"],
        "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field Deployment.spec.replicas of type int32"
    );
}

#[tokio::test]
async fn terminating_namespaces_refuse_new_content() {
    let ns = unique("term");
    create_namespace(&ns).await;
    let path = format!("/api/v1/namespaces/{ns}/configmaps");
    // A finalizer keeps content, and so the namespace, around while we look.
    let held = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"held","finalizers":["example.com/hold"]}}"#;
    assert_eq!(http("POST", &path, Some("application/json"), held).await.code, 201);
    let del = http("DELETE", &format!("/api/v1/namespaces/{ns}"), None, "").await;
    assert_eq!(del.code, 200);
    assert_eq!(del.json()["status"]["phase"], "Terminating");
    let r = http("POST", &path, Some("application/json"), CM).await;
    assert_eq!(r.code, 403);
    assert_eq!(
        r.json()["message"],
        format!(
            "configmaps \"c\" is forbidden: unable to create new content in namespace {ns} because it is being terminated"
        )
    );
    assert_eq!(r.json()["details"]["causes"][0]["reason"], "NamespaceTerminating");
    let unhold = http(
        "PATCH",
        &format!("{path}/held"),
        Some("application/merge-patch+json"),
        r#"{"metadata":{"finalizers":null}}"#,
    )
    .await;
    assert_eq!(unhold.code, 200, "{}", unhold.body);
    let gone = crate::common::eventually(std::time::Duration::from_secs(5), || async {
        (http("GET", &format!("/api/v1/namespaces/{ns}"), None, "").await.code == 404).then_some(())
    })
    .await;
    assert!(gone.is_some(), "the namespace goes once its content is gone");
}

#[tokio::test]
async fn dry_run_persists_nothing() {
    let ns = unique("dry");
    create_namespace(&ns).await;
    let path = format!("/api/v1/namespaces/{ns}/configmaps");
    let r = http("POST", &format!("{path}?dryRun=All"), Some("application/json"), CM).await;
    assert_eq!(r.code, 201);
    assert!(r.json()["metadata"].get("resourceVersion").is_none());
    assert!(r.json()["metadata"]["uid"].is_string());
    assert_eq!(http("GET", &format!("{path}/c"), None, "").await.code, 404);
    let r = http(
        "PATCH",
        &format!("{path}/c?dryRun=All&fieldManager=m"),
        Some("application/apply-patch+yaml"),
        CM,
    )
    .await;
    assert_eq!(r.code, 201);
    assert_eq!(http("GET", &format!("{path}/c"), None, "").await.code, 404);
    assert_eq!(http("POST", &path, Some("application/json"), CM).await.code, 201);
    let r = http("DELETE", &format!("{path}/c?dryRun=All"), None, "").await;
    assert_eq!(r.code, 200);
    assert_eq!(http("GET", &format!("{path}/c"), None, "").await.code, 200);
}
