//! `--data`: objects and the resourceVersion counter survive a restart.

use crate::common::http_to;
use cetus_sandbox::{Sandbox, SandboxOptions};

#[tokio::test]
async fn restart_keeps_objects_and_resource_versions_increase() {
    let dir = tempfile::tempdir().unwrap();
    let options =
        SandboxOptions { data_dir: Some(dir.path().to_path_buf()), ..SandboxOptions::default() };
    let path = "/api/v1/namespaces/default/configmaps";
    let cm = |name: &str| {
        format!(
            r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{name}"}},"data":{{"k":"v"}}}}"#
        )
    };

    let first = Sandbox::start(options.clone()).await.unwrap();
    let created =
        http_to(&first, "POST", path, Some("application/json"), None, &cm("kept")).await.json();
    let rv_before: u64 = created["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
    let uid = created["metadata"]["uid"].clone();
    first.shutdown().await.unwrap();

    let second = Sandbox::start(options).await.unwrap();
    let kept = http_to(&second, "GET", &format!("{path}/kept"), None, None, "").await;
    assert_eq!(kept.code, 200);
    assert_eq!(kept.json()["metadata"]["uid"], uid);
    assert_eq!(kept.json()["data"]["k"], "v");
    let next =
        http_to(&second, "POST", path, Some("application/json"), None, &cm("new")).await.json();
    let rv_after: u64 = next["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
    assert!(rv_after > rv_before, "{rv_after} > {rv_before}");
    let list = http_to(&second, "GET", "/api/v1/namespaces", None, None, "").await.json();
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        4,
        "the system namespaces are not created twice"
    );
    second.shutdown().await.unwrap();
}
