//! Ending every open watch and breaking some mid-stream with an `ERROR` event, on the wire
//! and through kube-runtime's watcher, which must recover from both.

use crate::common::{WatchStream, client_for, http_to, unique};
use cetus_sandbox::{Sandbox, SandboxOptions};
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use kube::runtime::watcher;
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}})).unwrap()
}

#[tokio::test]
async fn end_watches_closes_every_open_watch() {
    // Its own sandbox: the control ends every watch of the server.
    let handle = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let mut a =
        WatchStream::open(&handle, "/api/v1/namespaces/default/configmaps?watch=true").await;
    let mut b = WatchStream::open(&handle, "/apis/apps/v1/deployments?watch=true").await;
    assert!(!a.ends_within(Duration::from_millis(200)).await, "open before the control");
    let r = http_to(&handle, "POST", "/sandbox/end-watches", None, None, "").await;
    assert_eq!(r.code, 204);
    assert!(a.ends_within(WAIT).await);
    assert!(b.ends_within(WAIT).await);
    let mut c =
        WatchStream::open(&handle, "/api/v1/namespaces/default/configmaps?watch=true").await;
    handle.end_watches();
    assert!(c.ends_within(WAIT).await);
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn break_watches_sends_an_error_event_to_the_selected_watches() {
    let handle = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let ns = unique("wbrk");
    let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
    http_to(
        &handle,
        "POST",
        "/api/v1/namespaces",
        Some("application/json"),
        None,
        &body.to_string(),
    )
    .await;
    let mut hit =
        WatchStream::open(&handle, &format!("/api/v1/namespaces/{ns}/configmaps?watch=true")).await;
    let mut spared =
        WatchStream::open(&handle, "/api/v1/namespaces/default/configmaps?watch=true").await;
    let rule = json!({"resource": "configmaps", "namespace": ns, "message": "etcd went away"});
    let r = http_to(
        &handle,
        "POST",
        "/sandbox/break-watches",
        Some("application/json"),
        None,
        &rule.to_string(),
    )
    .await;
    assert_eq!(r.code, 204);
    let e = hit.next(WAIT).await.expect("an ERROR event");
    assert_eq!(
        e,
        json!({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": "Internal error occurred: etcd went away",
            "reason": "InternalError", "code": 500}})
    );
    assert!(hit.ends_within(WAIT).await);
    let api: Api<ConfigMap> = Api::namespaced(client_for(&handle).await, "default");
    api.create(&PostParams::default(), &cm("after")).await.unwrap();
    let e = spared.next(WAIT).await.expect("the other watch goes on");
    assert_eq!(
        (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
        (Some("ADDED"), Some("after"))
    );
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_runtime_watcher_recovers_from_ended_and_broken_watches() {
    let handle = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let ns = unique("wrec");
    let client = client_for(&handle).await;
    let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
    http_to(
        &handle,
        "POST",
        "/api/v1/namespaces",
        Some("application/json"),
        None,
        &body.to_string(),
    )
    .await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    let mut events = watcher(api.clone(), watcher::Config::default()).boxed();
    // The initial list is done once InitDone arrives.
    loop {
        match tokio::time::timeout(WAIT, events.next()).await.unwrap().unwrap().unwrap() {
            watcher::Event::InitDone => break,
            _ => continue,
        }
    }
    let mut errors = 0;
    for (n, disrupt) in ["end", "break"].iter().enumerate() {
        match *disrupt {
            "end" => handle.end_watches(),
            _ => handle.break_watches(Some("configmaps"), Some(&ns), "etcd went away"),
        }
        let name = format!("cm-{n}");
        api.create(&PostParams::default(), &cm(&name)).await.unwrap();
        // The watcher re-watches (after an error, with backoff) and sees the new object.
        loop {
            let next = tokio::time::timeout(Duration::from_secs(20), events.next()).await;
            match next.expect("the watcher goes on").expect("the stream does not end") {
                Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o))
                    if o.metadata.name.as_deref() == Some(name.as_str()) =>
                {
                    break;
                }
                Ok(_) => {}
                Err(_) => errors += 1,
            }
        }
    }
    assert_eq!(errors, 1, "the broken watch surfaces once as an error; the ended one not at all");
    drop(events);
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn streaming_lists_from_an_empty_start_and_after_a_410() {
    let handle = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let ns = unique("wstream");
    let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
    http_to(
        &handle,
        "POST",
        "/api/v1/namespaces",
        Some("application/json"),
        None,
        &body.to_string(),
    )
    .await;
    let api: Api<ConfigMap> = Api::namespaced(client_for(&handle).await, &ns);
    let config = watcher::Config::default().streaming_lists();
    let mut events = watcher(api.clone(), config).boxed();
    let mut next = async || {
        let e = tokio::time::timeout(WAIT, events.next()).await.expect("an event");
        match e.expect("the stream goes on") {
            Err(watcher::Error::WatchError(s)) => format!("Error {}", s.code),
            Err(other) => panic!("{other:?}"),
            Ok(e) => match e {
                watcher::Event::Init => "Init".to_string(),
                watcher::Event::InitApply(o) => format!("InitApply {}", o.metadata.name.unwrap()),
                watcher::Event::InitDone => "InitDone".to_string(),
                watcher::Event::Apply(o) => format!("Apply {}", o.metadata.name.unwrap()),
                watcher::Event::Delete(o) => format!("Delete {}", o.metadata.name.unwrap()),
            },
        }
    };
    // An empty namespace: the initial events end at once.
    assert_eq!((next().await, next().await), ("Init".into(), "InitDone".into()));
    api.create(&PostParams::default(), &cm("a")).await.unwrap();
    assert_eq!(next().await, "Apply a");
    // A 410: the watcher reports it, then starts over with a streaming list of what is there.
    handle.expire_watches();
    let mut after = Vec::new();
    while after.last().map(String::as_str) != Some("InitDone") {
        after.push(next().await);
    }
    assert_eq!(after, vec!["Error 410", "Init", "InitApply a", "InitDone"]);
    api.create(&PostParams::default(), &cm("b")).await.unwrap();
    assert_eq!(next().await, "Apply b");
    drop(events);
    handle.shutdown().await.unwrap();
}
