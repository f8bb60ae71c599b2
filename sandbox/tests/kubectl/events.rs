//! Events written by kube-runtime's `Recorder` (events.k8s.io/v1, as controllers write
//! them) listed by `kubectl get events`, which reads core/v1: one storage, two versions.

use crate::common::{client, create_namespace, unique};
use crate::kubectl_ok;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Resource;
use kube::api::{Api, PostParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};

#[tokio::test]
async fn get_events_lists_what_the_recorder_wrote() {
    let ns = unique("k-ev");
    create_namespace(&ns).await;
    let c = client().await;
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), &ns);
    let cm: ConfigMap =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "web"}})).unwrap();
    let cm = cms.create(&PostParams::default(), &cm).await.unwrap();
    let recorder =
        Recorder::new(c, Reporter { controller: "cetus".into(), instance: Some("cetus-0".into()) });
    let event = Event {
        type_: EventType::Normal,
        reason: "Synced".into(),
        note: Some("synced by cetus".into()),
        action: "Sync".into(),
        secondary: None,
    };
    // The second publish of the same event patches its series (count 2).
    recorder.publish(&event, &cm.object_ref(&())).await.unwrap();
    recorder.publish(&event, &cm.object_ref(&())).await.unwrap();

    let out = kubectl_ok(&["get", "events", "-n", &ns]).await;
    let lines: Vec<Vec<&str>> = out.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0], ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
    assert_eq!(
        lines[1][1..],
        ["Normal", "Synced", "configmap/web", "synced", "by", "cetus"],
        "{out}"
    );

    let wide = kubectl_ok(&["get", "events", "-n", &ns, "-o", "wide"]).await;
    let row: Vec<&str> = wide.lines().nth(1).unwrap().split_whitespace().collect();
    // Subobject is empty; Source is the reporting controller and instance; Count 2.
    assert_eq!(
        row[1..7],
        ["Normal", "Synced", "configmap/web", "cetus,", "cetus-0", "synced"],
        "{wide}"
    );
    assert_eq!(row[row.len() - 2], "2", "{wide}");
}
