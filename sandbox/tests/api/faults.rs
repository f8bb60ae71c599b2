//! Request faults through kube-rs clients: added latency, a hang, a dropped connection and
//! "committed, but answered 500", each for the next N requests matching
//! verb/resource/namespace/name, and the per-namespace request counters.

use crate::common::{client, client_with_timeout, create_namespace, http, sandbox, unique};
use cetus_sandbox::RequestMatch;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;
use std::time::Duration;

fn config_map(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"k": "v0"}})).unwrap()
}

async fn setup(prefix: &str) -> (String, Api<ConfigMap>) {
    let ns = unique(prefix);
    create_namespace(&ns).await;
    let api: Api<ConfigMap> = Api::namespaced(client().await, &ns);
    api.create(&PostParams::default(), &config_map("c")).await.unwrap();
    (ns, api)
}

fn set_k(value: &str) -> Patch<serde_json::Value> {
    Patch::Merge(json!({"data": {"k": value}}))
}

async fn value_of(api: &Api<ConfigMap>) -> String {
    api.get("c").await.unwrap().data.unwrap()["k"].clone()
}

#[tokio::test]
async fn latency_for_the_next_matching_requests() {
    let (ns, _) = setup("flat").await;
    let only = RequestMatch::any().verb("get").resource("configmaps").namespace(&ns).name("c");
    sandbox().delay_requests(only, 1, Duration::from_secs(3));
    let impatient: Api<ConfigMap> =
        Api::namespaced(client_with_timeout(sandbox(), Duration::from_millis(300)).await, &ns);
    let err = impatient.get("c").await.unwrap_err();
    assert!(format!("{err:?}").contains("TimedOut"), "{err:?}");
    // Used up: the next one is served at once.
    assert_eq!(impatient.get("c").await.unwrap().data.unwrap()["k"], "v0");
    assert!(sandbox().faults().iter().all(|f| f.matching.namespace.as_deref() != Some(&ns)));
}

#[tokio::test]
async fn a_hung_request_commits_nothing() {
    let (ns, api) = setup("fhang").await;
    sandbox().hang_requests(RequestMatch::any().verb("patch").namespace(&ns), 1);
    let impatient: Api<ConfigMap> =
        Api::namespaced(client_with_timeout(sandbox(), Duration::from_millis(300)).await, &ns);
    let err = impatient.patch("c", &PatchParams::default(), &set_k("v1")).await.unwrap_err();
    assert!(format!("{err:?}").contains("TimedOut"), "{err:?}");
    assert_eq!(value_of(&api).await, "v0");
    api.patch("c", &PatchParams::default(), &set_k("v2")).await.unwrap();
    assert_eq!(value_of(&api).await, "v2");
}

#[tokio::test]
async fn a_dropped_connection_answers_nothing_and_commits_nothing() {
    let (ns, api) = setup("fdrop").await;
    sandbox().drop_connections(RequestMatch::any().verb("patch").namespace(&ns).name("c"), 2);
    for _ in 0..2 {
        let err = api.patch("c", &PatchParams::default(), &set_k("v1")).await.unwrap_err();
        // No status line came back: hyper reports the closed connection, not an API error.
        assert!(!matches!(err, kube::Error::Api(_)), "{err:?}");
        assert!(format!("{err:?}").contains("IncompleteMessage"), "{err:?}");
    }
    assert_eq!(value_of(&api).await, "v0");
    // Raw: the connection closes with no byte of an answer.
    sandbox().drop_connections(RequestMatch::any().verb("get").namespace(&ns), 1);
    let mut stream = tokio::net::TcpStream::connect(sandbox().address()).await.unwrap();
    let req = format!(
        "GET /api/v1/namespaces/{ns}/configmaps/c HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n"
    );
    tokio::io::AsyncWriteExt::write_all(&mut stream, req.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    // A reset or an orderly close: either way, nothing is read.
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut got).await;
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
}

#[tokio::test]
async fn committed_but_answered_500() {
    let (ns, api) = setup("fcommit").await;
    let only = RequestMatch::any().verb("patch").resource("configmaps").namespace(&ns);
    sandbox().fail_after_commit(only, 1);
    let rv_before = api.get("c").await.unwrap().metadata.resource_version.unwrap();
    let err = api.patch("c", &PatchParams::default(), &set_k("v1")).await.unwrap_err();
    match err {
        kube::Error::Api(status) => {
            assert_eq!((status.code, status.reason.as_str()), (500, "InternalError"));
        }
        other => panic!("{other:?}"),
    }
    let after = api.get("c").await.unwrap();
    assert_eq!(after.data.unwrap()["k"], "v1", "the write was committed");
    assert_ne!(after.metadata.resource_version.unwrap(), rv_before);
}

#[tokio::test]
async fn faults_through_the_endpoint() {
    let (ns, api) = setup("fhttp").await;
    let fault =
        json!({"verb": "patch", "namespace": ns, "count": 1, "action": "commit-then-error"});
    let r = http("POST", "/sandbox/faults", Some("application/json"), &fault.to_string()).await;
    assert_eq!(r.code, 204, "{}", r.body);
    let pending = http("GET", "/sandbox/faults", None, "").await.json();
    assert!(pending["pending"].as_array().unwrap().contains(&fault), "{pending}");
    let err = api.patch("c", &PatchParams::default(), &set_k("v1")).await.unwrap_err();
    assert!(matches!(err, kube::Error::Api(ref s) if s.code == 500), "{err:?}");
    assert_eq!(value_of(&api).await, "v1");
    for (body, error) in [
        (
            json!({"count": 1, "action": "latency"}),
            "a latency fault needs \"latency\", e.g. \"2s\"",
        ),
        (json!({"count": 0, "action": "hang"}), "a fault needs a count > 0"),
        (
            json!({"count": 1, "action": "explode"}),
            "unknown fault action \"explode\": expected latency, hang, drop or commit-then-error",
        ),
    ] {
        let r = http("POST", "/sandbox/faults", Some("application/json"), &body.to_string()).await;
        assert_eq!((r.code, r.json()["error"].clone()), (400, json!(error)));
    }
}

#[tokio::test]
async fn request_counters_by_namespace() {
    let (ns, api) = setup("fcount").await;
    let quiet = unique("fquiet");
    create_namespace(&quiet).await;
    api.get("c").await.unwrap();
    api.patch("c", &PatchParams::default(), &set_k("v1")).await.unwrap();
    // Creating a Namespace is a request to the collection, which has no namespace.
    assert_eq!(sandbox().requests_in(&quiet), 0, "nothing touched {quiet}");
    let mine = sandbox().request_counts_in(&ns);
    let count = |verb: &str| mine.iter().find(|c| c.verb == verb).map_or(0, |c| c.count);
    assert_eq!((count("create"), count("get"), count("patch")), (1, 1, 1), "{mine:?}");
    let r = http("GET", &format!("/sandbox/requests?namespace={ns}"), None, "").await.json();
    assert!(
        r["counts"]
            .as_array()
            .unwrap()
            .contains(&json!({"verb": "get", "resource": "configmaps", "count": 1})),
        "{r}"
    );
    let r = http("GET", &format!("/sandbox/requests?namespace={quiet}"), None, "").await.json();
    assert_eq!(r, json!({"counts": [], "total": 0}));
    // A Namespace object's own requests count in it, as apiserver files them.
    http("GET", &format!("/api/v1/namespaces/{quiet}"), None, "").await;
    assert_eq!(sandbox().request_counts_in(&quiet)[0].resource, "namespaces");
}
