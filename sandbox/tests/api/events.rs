//! events.k8s.io/v1 Events served next to core/v1 from one storage, with kube-apiserver's
//! field mapping (`note` is `message`, `regarding` is `involvedObject`,
//! `reportingController` is `reportingComponent`, `deprecatedCount` is `count`, ...) and the
//! strict validation of the new API.

use crate::common::{client, create_namespace, unique};
use k8s_openapi::api::core::v1::Event as CoreEvent;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, ListParams, PostParams};
use serde_json::{Value, json};

fn event(name: &str) -> Value {
    json!({"metadata": {"name": name}, "eventTime": "2026-01-01T00:00:00.000000Z",
        "regarding": {"kind": "ConfigMap", "name": "web", "apiVersion": "v1"},
        "note": "synced", "reason": "Synced", "type": "Normal", "action": "Sync",
        "reportingController": "cetus", "reportingInstance": "cetus-0",
        "series": {"count": 3, "lastObservedTime": "2026-01-01T00:00:05.000000Z"}})
}

#[tokio::test]
async fn both_versions_read_one_storage_with_the_field_mapping() {
    let ns = unique("ev");
    create_namespace(&ns).await;
    let c = client().await;
    let new: Api<Event> = Api::namespaced(c.clone(), &ns);
    let core: Api<CoreEvent> = Api::namespaced(c, &ns);
    let sent: Event = serde_json::from_value(event("a")).unwrap();
    let created = new.create(&PostParams::default(), &sent).await.unwrap();
    assert_eq!(created.note.as_deref(), Some("synced"));

    let as_core = serde_json::to_value(core.get("a").await.unwrap()).unwrap();
    let fields = [
        "message",
        "involvedObject",
        "reportingComponent",
        "reportingInstance",
        "series",
        "source",
        "apiVersion",
    ];
    let picked: Value = fields
        .iter()
        .map(|f| (f.to_string(), as_core[*f].clone()))
        .collect::<serde_json::Map<_, _>>()
        .into();
    assert_eq!(
        picked,
        json!({"message": "synced", "involvedObject": {"kind": "ConfigMap", "name": "web", "apiVersion": "v1"},
            "reportingComponent": "cetus", "reportingInstance": "cetus-0",
            "series": {"count": 3, "lastObservedTime": "2026-01-01T00:00:05.000000Z"}, "source": {},
            "apiVersion": "v1"})
    );

    // The other way: a core Event (as `kubectl` or an old client writes it) read as events.k8s.io.
    let old: CoreEvent = serde_json::from_value(json!({"metadata": {"name": "b"},
        "involvedObject": {"kind": "Pod", "name": "p"}, "message": "pulled", "reason": "Pulled",
        "type": "Normal", "count": 4, "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:01:00Z"}))
    .unwrap();
    core.create(&PostParams::default(), &old).await.unwrap();
    let as_new = serde_json::to_value(new.get("b").await.unwrap()).unwrap();
    assert_eq!(
        (
            &as_new["note"],
            &as_new["regarding"]["name"],
            &as_new["deprecatedCount"],
            &as_new["deprecatedSource"],
            &as_new["deprecatedLastTimestamp"]
        ),
        (
            &json!("pulled"),
            &json!("p"),
            &json!(4),
            &json!({"component": "kubelet", "host": "node-1"}),
            &json!("2026-01-01T00:01:00Z")
        )
    );

    // Field selectors name the version's fields.
    let listed = new.list(&ListParams::default().fields("regarding.name=web")).await.unwrap();
    let names: Vec<_> = listed.items.iter().filter_map(|e| e.metadata.name.clone()).collect();
    assert_eq!(names, vec!["a"]);
    assert_eq!(core.list(&ListParams::default()).await.unwrap().items.len(), 2);
}

#[tokio::test]
async fn the_new_api_validates_strictly() {
    let ns = unique("ev");
    create_namespace(&ns).await;
    let new: Api<Event> = Api::namespaced(client().await, &ns);
    let mut bare = event("c");
    for f in ["eventTime", "reportingController", "action", "series"] {
        bare.as_object_mut().unwrap().remove(f);
    }
    let err = new
        .create(&PostParams::default(), &serde_json::from_value(bare).unwrap())
        .await
        .unwrap_err();
    let kube::Error::Api(status) = err else { panic!("{err:?}") };
    assert_eq!(
        (status.code, status.message.as_str()),
        (
            422,
            "Event.events.k8s.io \"c\" is invalid: [eventTime: Required value, reportingController: Required value, action: Required value]"
        )
    );
}
