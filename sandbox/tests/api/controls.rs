//! Test controls through `/sandbox/...` and the handle: counters, error injection, latency.

use crate::common::{create_namespace, http, http_to, unique};
use cetus_sandbox::{ErrorInjection, Sandbox, SandboxOptions};
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn counters_injection_and_latency() {
    // Its own sandbox: counters and latency are global to a server.
    let handle = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let cm = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}"#;
    let path = "/api/v1/namespaces/default/configmaps";
    http_to(&handle, "POST", path, Some("application/json"), None, cm).await;
    http_to(&handle, "GET", &format!("{path}/c"), None, None, "").await;
    http_to(&handle, "GET", &format!("{path}/c"), None, None, "").await;
    http_to(&handle, "GET", path, None, None, "").await;
    assert_eq!(handle.request_count("get", "configmaps"), 2);
    assert_eq!(handle.request_count("create", "configmaps"), 1);
    assert_eq!(handle.request_count("list", "configmaps"), 1);
    let counts = http_to(&handle, "GET", "/sandbox/requests", None, None, "").await.json();
    assert!(
        counts["counts"]
            .as_array()
            .unwrap()
            .contains(&json!({"verb": "get", "resource": "configmaps", "count": 2}))
    );
    assert_eq!(http_to(&handle, "DELETE", "/sandbox/requests", None, None, "").await.code, 204);
    assert_eq!(handle.request_count("get", "configmaps"), 0);

    // The next two GETs of configmaps fail; other requests do not.
    let injection = json!({"verb": "get", "resource": "configmaps", "count": 2, "code": 503, "message": "try later"});
    assert_eq!(
        http_to(
            &handle,
            "POST",
            "/sandbox/errors",
            Some("application/json"),
            None,
            &injection.to_string()
        )
        .await
        .code,
        204
    );
    assert_eq!(
        http_to(&handle, "GET", path, None, None, "").await.code,
        200,
        "a list is not a get"
    );
    for _ in 0..2 {
        let r = http_to(&handle, "GET", &format!("{path}/c"), None, None, "").await;
        assert_eq!(
            (r.code, r.json()["reason"].clone(), r.json()["message"].clone()),
            (503, json!("ServiceUnavailable"), json!("try later"))
        );
    }
    assert_eq!(http_to(&handle, "GET", &format!("{path}/c"), None, None, "").await.code, 200);
    handle.inject_error(ErrorInjection {
        verb: Some("patch".into()),
        count: 1,
        code: 409,
        ..Default::default()
    });
    let r = http_to(
        &handle,
        "PATCH",
        &format!("{path}/c"),
        Some("application/merge-patch+json"),
        None,
        "{}",
    )
    .await;
    assert_eq!((r.code, r.json()["reason"].clone()), (409, json!("Conflict")));
    let bad = http_to(
        &handle,
        "POST",
        "/sandbox/errors",
        Some("application/json"),
        None,
        r#"{"count":0,"code":500}"#,
    )
    .await;
    assert_eq!(bad.code, 400);

    // Latency applies to API requests, not to the controls.
    assert_eq!(
        http_to(
            &handle,
            "PUT",
            "/sandbox/latency",
            Some("application/json"),
            None,
            r#"{"latency":"150ms"}"#
        )
        .await
        .code,
        204
    );
    let started = Instant::now();
    http_to(&handle, "GET", &format!("{path}/c"), None, None, "").await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    let bad = http_to(
        &handle,
        "PUT",
        "/sandbox/latency",
        Some("application/json"),
        None,
        r#"{"latency":"soon"}"#,
    )
    .await;
    assert_eq!(bad.code, 400);
    handle.set_latency(Duration::ZERO);
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn fail_job_endpoint() {
    let ns = unique("ctl");
    create_namespace(&ns).await;
    let r = http(
        "POST",
        "/sandbox/fail-job",
        Some("application/json"),
        &json!({"namespace": ns, "name": "j"}).to_string(),
    )
    .await;
    assert_eq!(r.code, 204);
    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}});
    assert_eq!(
        http(
            "POST",
            &format!("/apis/batch/v1/namespaces/{ns}/jobs"),
            Some("application/json"),
            &job.to_string()
        )
        .await
        .code,
        201
    );
    let failed = crate::common::eventually(Duration::from_secs(5), || async {
        let (_, j) =
            crate::common::get_json(&format!("/apis/batch/v1/namespaces/{ns}/jobs/j")).await;
        j["status"]["failed"].as_i64()
    })
    .await;
    assert_eq!(failed, Some(7));
    assert_eq!(http("POST", "/sandbox/fail-job", Some("application/json"), "{}").await.code, 400);
}
