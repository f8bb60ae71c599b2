//! The version an object is served at and the form it is stored in: objects of all versions
//! of a resource share one storage (as in kube-apiserver, which keeps one internal type),
//! custom resources differ only by `apiVersion` (conversion strategy `None`), and
//! events.k8s.io/v1 Events are core/v1 Events under other field names.
//!
//! Owns [`present`] (stored → served) and [`to_storage`] (served → stored). It does not
//! decide which resource a request addresses (the registry does) nor store anything.

use crate::registry::{Conversion, ResourceInfo};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The fields an events.k8s.io/v1 Event names differently from the core/v1 Event it is
/// stored as (kube-apiserver's `Convert_v1_Event_To_core_Event` and back); `eventTime`,
/// `series`, `related`, `action`, `reason`, `type` and `reportingInstance` keep their names.
const EVENT_FIELDS: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

fn rename(map: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(v) = map.remove(from) {
        map.insert(to.to_string(), v);
    }
}

/// An events.k8s.io/v1 Event as the core/v1 Event kube-apiserver stores. The core type's
/// non-omitempty fields are filled in (`source: {}`, empty reporting strings), as its
/// encoding shows them.
fn event_to_core(mut obj: Value) -> Value {
    if let Value::Object(map) = &mut obj {
        for (events, core) in EVENT_FIELDS {
            rename(map, events, core);
        }
        map.insert("apiVersion".into(), json!("v1"));
        map.entry("involvedObject").or_insert_with(|| json!({}));
        map.entry("source").or_insert_with(|| json!({}));
        map.entry("reportingComponent").or_insert_with(|| json!(""));
        map.entry("reportingInstance").or_insert_with(|| json!(""));
    }
    obj
}

/// A stored core/v1 Event as events.k8s.io/v1 serves it: renamed fields, and the new
/// type's omitempty strings and counts left out when empty.
fn event_from_core(stored: &Value) -> Value {
    let mut obj = stored.clone();
    if let Value::Object(map) = &mut obj {
        for (events, core) in EVENT_FIELDS {
            rename(map, core, events);
        }
        map.insert("apiVersion".into(), json!("events.k8s.io/v1"));
        for f in ["reportingController", "reportingInstance", "note", "action", "reason", "type"] {
            if map.get(f).and_then(Value::as_str) == Some("") {
                map.remove(f);
            }
        }
        if map.get("deprecatedCount").and_then(Value::as_i64) == Some(0) {
            map.remove("deprecatedCount");
        }
        map.entry("regarding").or_insert_with(|| json!({}));
        map.entry("deprecatedSource").or_insert_with(|| json!({}));
    }
    obj
}

/// The CPU utilization target of an autoscaling/v2 metric list, if it has one.
fn cpu_utilization(metrics: &Value, value: &str) -> Option<Value> {
    metrics.as_array()?.iter().find_map(|m| {
        let r = &m["resource"];
        (m["type"] == "Resource" && r["name"] == "cpu")
            .then(|| r[value]["averageUtilization"].clone())
            .filter(|v| !v.is_null())
    })
}

/// An autoscaling/v1 HorizontalPodAutoscaler as the autoscaling/v2 object it is stored as
/// (kube-apiserver's `Convert_autoscaling_HorizontalPodAutoscaler_To_v1_...` backwards):
/// the CPU target becomes a Resource metric.
fn hpa_v1_to_v2(mut obj: Value) -> Value {
    obj["apiVersion"] = json!("autoscaling/v2");
    if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut)
        && let Some(target) = spec.remove("targetCPUUtilizationPercentage")
    {
        spec.insert(
            "metrics".into(),
            json!([{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": target}}}]),
        );
    }
    if let Some(status) = obj.get_mut("status").and_then(Value::as_object_mut)
        && let Some(current) = status.remove("currentCPUUtilizationPercentage")
    {
        status.insert(
            "currentMetrics".into(),
            json!([{"type": "Resource", "resource": {"name": "cpu",
                "current": {"averageUtilization": current}}}]),
        );
    }
    obj
}

/// A stored autoscaling/v2 HorizontalPodAutoscaler as autoscaling/v1 serves it: the CPU
/// metric as `targetCPUUtilizationPercentage`, the v1 status counters (non-omitempty).
/// Other metrics, behavior and conditions have no v1 field (kube-apiserver keeps them in
/// annotations; here they are not shown).
fn hpa_v2_to_v1(stored: &Value) -> Value {
    let mut obj = stored.clone();
    obj["apiVersion"] = json!("autoscaling/v1");
    if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
        let target = spec.remove("metrics").and_then(|m| cpu_utilization(&m, "target"));
        spec.remove("behavior");
        if let Some(t) = target {
            spec.insert("targetCPUUtilizationPercentage".into(), t);
        }
    }
    if let Some(status) = obj.get_mut("status").and_then(Value::as_object_mut) {
        let current = status.remove("currentMetrics").and_then(|m| cpu_utilization(&m, "current"));
        status.remove("conditions");
        if let Some(c) = current {
            status.insert("currentCPUUtilizationPercentage".into(), c);
        }
        status.entry("currentReplicas").or_insert(json!(0));
        status.entry("desiredReplicas").or_insert(json!(0));
    }
    obj
}

/// The object as served at the requested version.
pub fn present(info: &ResourceInfo, stored: &Arc<Value>) -> Arc<Value> {
    match info.conversion {
        Conversion::EventsV1 => Arc::new(event_from_core(stored)),
        Conversion::HpaV1 => Arc::new(hpa_v2_to_v1(stored)),
        Conversion::None => {
            let want = info.api_version();
            if stored.get("apiVersion").and_then(Value::as_str) == Some(want.as_str()) {
                return stored.clone();
            }
            let mut copy = (**stored).clone();
            if let Value::Object(m) = &mut copy {
                m.insert("apiVersion".into(), want.into());
            }
            Arc::new(copy)
        }
    }
}

/// An object written at the requested version, in the form it is stored in.
pub fn to_storage(info: &ResourceInfo, obj: Value) -> Value {
    match info.conversion {
        Conversion::EventsV1 => event_to_core(obj),
        Conversion::HpaV1 => hpa_v1_to_v2(obj),
        Conversion::None => obj,
    }
}

/// A field selector of the requested version in the stored form's field names
/// (events.k8s.io's `regarding.name` is the core Event's `involvedObject.name`).
pub fn field_selector(info: &ResourceInfo, selector: &str) -> String {
    if info.conversion != Conversion::EventsV1 {
        return selector.to_string();
    }
    selector
        .split(',')
        .map(|term| {
            let at = term.find(['=', '!']).unwrap_or(term.len());
            let (field, rest) = term.split_at(at);
            let field = field.trim();
            let mapped = EVENT_FIELDS.iter().find_map(|(events, core)| {
                if field == *events {
                    Some(core.to_string())
                } else {
                    field
                        .strip_prefix(events)
                        .filter(|r| r.starts_with('.'))
                        .map(|r| format!("{core}{r}"))
                }
            });
            format!("{}{rest}", mapped.unwrap_or_else(|| field.to_string()))
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    #[test]
    fn events_v1_round_trips_through_core() {
        let r = Registry::builtin();
        let events = r.get("events.k8s.io", "v1", "events").unwrap();
        let sent = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "e", "namespace": "n"}, "eventTime": "2026-01-01T00:00:00.000000Z",
            "regarding": {"kind": "Pod", "name": "p"}, "note": "pulled", "reason": "Pulled",
            "type": "Normal", "action": "Pull", "reportingController": "kubelet",
            "reportingInstance": "node-1", "series": {"count": 2, "lastObservedTime": "2026-01-01T00:00:01.000000Z"}});
        let stored = to_storage(&events, sent.clone());
        assert_eq!(
            stored,
            json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e", "namespace": "n"},
                "eventTime": "2026-01-01T00:00:00.000000Z", "involvedObject": {"kind": "Pod", "name": "p"},
                "message": "pulled", "reason": "Pulled", "type": "Normal", "action": "Pull",
                "reportingComponent": "kubelet", "reportingInstance": "node-1", "source": {},
                "series": {"count": 2, "lastObservedTime": "2026-01-01T00:00:01.000000Z"}})
        );
        let mut back = sent;
        back["deprecatedSource"] = json!({});
        assert_eq!(*present(&events, &Arc::new(stored)), back);
        assert_eq!(
            field_selector(&events, "regarding.name=p,reportingController!=x,type=Normal"),
            "involvedObject.name=p,reportingComponent!=x,type=Normal"
        );
    }
}
