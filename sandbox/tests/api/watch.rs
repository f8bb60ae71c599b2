//! Watches: resourceVersion semantics, selectors, bookmarks, timeouts, 410 Expired, and
//! the kube-rs runtime watcher recovering from a forced 410 by re-listing.

use crate::common::{WatchStream, client_for, create_namespace, http, http_to, sandbox, unique};
use cetus_sandbox::{Sandbox, SandboxOptions};
use futures::StreamExt;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use kube::runtime::watcher;
use serde_json::{Value, json};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

fn cm(name: &str, tier: &str) -> String {
    format!(
        r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{name}","labels":{{"tier":"{tier}"}}}}}}"#
    )
}

async fn next_non_bookmark(w: &mut WatchStream) -> Value {
    loop {
        let e = w.next(WAIT).await.expect("an event");
        if e["type"] != "BOOKMARK" {
            return e;
        }
    }
}

fn summary(e: &Value) -> (String, String) {
    (
        e["type"].as_str().unwrap().to_string(),
        e["object"]["metadata"]["name"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn watch_from_zero_starts_with_the_current_state() {
    let ns = unique("w0");
    create_namespace(&ns).await;
    let path = format!("/api/v1/namespaces/{ns}/configmaps");
    assert_eq!(http("POST", &path, Some("application/json"), &cm("a", "web")).await.code, 201);
    let mut w = WatchStream::open(sandbox(), &format!("{path}?watch=true&resourceVersion=0")).await;
    assert_eq!(summary(&next_non_bookmark(&mut w).await), ("ADDED".into(), "a".into()));
    let r = http(
        "PATCH",
        &format!("{path}/a"),
        Some("application/merge-patch+json"),
        r#"{"data":{"x":"1"}}"#,
    )
    .await;
    let e = next_non_bookmark(&mut w).await;
    assert_eq!(summary(&e), ("MODIFIED".into(), "a".into()));
    assert_eq!(e["object"]["metadata"]["resourceVersion"], r.json()["metadata"]["resourceVersion"]);
    http("DELETE", &format!("{path}/a"), None, "").await;
    assert_eq!(summary(&next_non_bookmark(&mut w).await), ("DELETED".into(), "a".into()));
}

#[tokio::test]
async fn watch_from_a_version_replays_strictly_later_events() {
    let ns = unique("wn");
    create_namespace(&ns).await;
    let path = format!("/api/v1/namespaces/{ns}/configmaps");
    let a = http("POST", &path, Some("application/json"), &cm("a", "web")).await.json();
    http("POST", &path, Some("application/json"), &cm("b", "web")).await;
    let rv = a["metadata"]["resourceVersion"].as_str().unwrap();
    let mut w =
        WatchStream::open(sandbox(), &format!("{path}?watch=true&resourceVersion={rv}")).await;
    assert_eq!(summary(&next_non_bookmark(&mut w).await), ("ADDED".into(), "b".into()));
}

#[tokio::test]
async fn selectors_turn_changes_into_added_and_deleted() {
    let ns = unique("wsel");
    create_namespace(&ns).await;
    let path = format!("/api/v1/namespaces/{ns}/configmaps");
    let mut w =
        WatchStream::open(sandbox(), &format!("{path}?watch=true&labelSelector=tier%3Dweb")).await;
    http("POST", &path, Some("application/json"), &cm("a", "db")).await;
    http(
        "PATCH",
        &format!("{path}/a"),
        Some("application/merge-patch+json"),
        r#"{"metadata":{"labels":{"tier":"web"}}}"#,
    )
    .await;
    assert_eq!(summary(&next_non_bookmark(&mut w).await), ("ADDED".into(), "a".into()));
    http(
        "PATCH",
        &format!("{path}/a"),
        Some("application/merge-patch+json"),
        r#"{"metadata":{"labels":{"tier":"db"}}}"#,
    )
    .await;
    assert_eq!(summary(&next_non_bookmark(&mut w).await), ("DELETED".into(), "a".into()));
}

#[tokio::test]
async fn bookmarks_and_timeouts() {
    let ns = unique("wbm");
    create_namespace(&ns).await;
    let path = format!(
        "/api/v1/namespaces/{ns}/configmaps?watch=true&allowWatchBookmarks=true&timeoutSeconds=1"
    );
    let mut w = WatchStream::open(sandbox(), &path).await;
    let e = w.next(WAIT).await.expect("a bookmark while idle");
    assert_eq!(e["type"], "BOOKMARK");
    assert_eq!(e["object"]["kind"], "ConfigMap");
    assert!(
        e["object"]["metadata"]["resourceVersion"].as_str().unwrap().parse::<u64>().unwrap() > 0
    );
    let started = std::time::Instant::now();
    while w.next(WAIT).await.is_some() {}
    assert!(started.elapsed() < Duration::from_secs(3), "the watch ends after timeoutSeconds");
    let initial = format!(
        "/api/v1/namespaces/{ns}/configmaps?watch=true&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
    );
    let mut w = WatchStream::open(sandbox(), &initial).await;
    let e = w.next(WAIT).await.unwrap();
    assert_eq!(e["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true");
}

#[tokio::test]
async fn too_old_versions_end_with_an_in_stream_410() {
    let handle = Sandbox::start(SandboxOptions { watch_history: 3, ..SandboxOptions::default() })
        .await
        .unwrap();
    let path = "/api/v1/namespaces/default/configmaps";
    for name in ["a", "b", "c", "d", "e"] {
        assert_eq!(
            http_to(&handle, "POST", path, Some("application/json"), None, &cm(name, "x"))
                .await
                .code,
            201
        );
    }
    let mut w = WatchStream::open(&handle, &format!("{path}?watch=true&resourceVersion=1")).await;
    let e = w.next(WAIT).await.expect("an error event");
    assert_eq!(e["type"], "ERROR");
    assert_eq!(e["object"]["code"], 410);
    assert_eq!(e["object"]["reason"], "Expired");
    assert!(e["object"]["message"].as_str().unwrap().starts_with("too old resource version: 1 ("));
    assert!(w.next(WAIT).await.is_none(), "the stream ends after the error");
    handle.shutdown().await.unwrap();
}

fn configmaps(client: kube::Client, ns: &str) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("", "v1", "ConfigMap"),
        "configmaps",
    );
    Api::namespaced_with(client, ns, &ar)
}

/// The next watcher event, skipping errors (which the watcher reports before it recovers).
async fn next_event(
    stream: &mut (
             impl futures::Stream<Item = Result<watcher::Event<DynamicObject>, watcher::Error>> + Unpin
         ),
) -> (String, String) {
    loop {
        let item = tokio::time::timeout(WAIT, stream.next())
            .await
            .expect("an event in time")
            .expect("the stream goes on");
        let Ok(event) = item else { continue };
        let name = |o: &DynamicObject| o.metadata.name.clone().unwrap_or_default();
        return match event {
            watcher::Event::Apply(o) => ("Apply".into(), name(&o)),
            watcher::Event::Delete(o) => ("Delete".into(), name(&o)),
            watcher::Event::Init => ("Init".into(), String::new()),
            watcher::Event::InitApply(o) => ("InitApply".into(), name(&o)),
            watcher::Event::InitDone => ("InitDone".into(), String::new()),
        };
    }
}

#[tokio::test]
async fn kube_watcher_sees_changes_and_relists_after_a_forced_410() {
    // Its own sandbox: expiring watches would disturb the other tests' streams.
    let handle = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let client = client_for(&handle).await;
    let api = configmaps(client, "default");
    let mut stream = Box::pin(watcher(api.clone(), watcher::Config::default()));
    assert_eq!(next_event(&mut stream).await.0, "Init");
    assert_eq!(next_event(&mut stream).await.0, "InitDone");
    let obj: DynamicObject = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w"}}),
    )
    .unwrap();
    api.create(&PostParams::default(), &obj).await.unwrap();
    assert_eq!(next_event(&mut stream).await, ("Apply".into(), "w".into()));
    api.patch("w", &PatchParams::default(), &Patch::Merge(json!({"data": {"a": "1"}})))
        .await
        .unwrap();
    assert_eq!(next_event(&mut stream).await, ("Apply".into(), "w".into()));
    handle.expire_watches();
    assert_eq!(next_event(&mut stream).await.0, "Init", "a 410 makes the watcher re-list");
    assert_eq!(next_event(&mut stream).await, ("InitApply".into(), "w".into()));
    assert_eq!(next_event(&mut stream).await.0, "InitDone");
    api.delete("w", &DeleteParams::default()).await.unwrap();
    assert_eq!(next_event(&mut stream).await, ("Delete".into(), "w".into()));
    handle.shutdown().await.unwrap();
}
