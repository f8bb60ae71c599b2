//! The printer kube-apiserver has for Events (`printEvent`), the same for core/v1 and
//! events.k8s.io/v1 (one internal type): Last Seen, Type, Reason, Object and Message, with
//! Subobject, Source, First Seen, Count and Name for `-o wide`. Cells read either form.

use super::{Col, col, wide};
use crate::meta;
use serde_json::{Value, json};

/// The columns of an Event table.
pub(super) fn columns() -> Vec<Col> {
    vec![
        col(
            "Last Seen",
            "string",
            "The time at which the most recent occurrence of this event was recorded.",
        ),
        col(
            "Type",
            "string",
            "Type of this event (Normal, Warning), new types could be added in the future",
        ),
        col(
            "Reason",
            "string",
            "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
        ),
        col("Object", "string", "The object that this event is about."),
        wide("Subobject", "string", "The object that this event is about."),
        wide(
            "Source",
            "string",
            "The component reporting this event. Should be a short machine understandable string.",
        ),
        col("Message", "string", "A human-readable description of the status of this operation."),
        wide(
            "First Seen",
            "string",
            "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
        ),
        wide("Count", "string", "The number of times this event has occurred."),
        wide("Name", "string", "Name must be unique within a namespace."),
    ]
}

/// The first non-empty string among `fields` of `obj` (core name first).
fn text<'a>(obj: &'a Value, fields: &[&str]) -> &'a str {
    fields.iter().filter_map(|f| obj[*f].as_str()).find(|s| !s.is_empty()).unwrap_or("")
}

/// The cells of one Event, core/v1 or events.k8s.io/v1.
pub(super) fn cells(obj: &Value) -> Vec<Value> {
    let first_ts = text(obj, &["firstTimestamp", "deprecatedFirstTimestamp"]);
    let first = if first_ts.is_empty() {
        meta::since(text(obj, &["eventTime"]))
    } else {
        meta::since(first_ts)
    };
    let last_ts = text(obj, &["lastTimestamp", "deprecatedLastTimestamp"]);
    let mut last = if last_ts.is_empty() { first.clone() } else { meta::since(last_ts) };
    let series = &obj["series"];
    let mut count = obj["count"].as_i64().or_else(|| obj["deprecatedCount"].as_i64()).unwrap_or(0);
    if series.is_object() {
        last = meta::since(series["lastObservedTime"].as_str().unwrap_or_default());
        count = series["count"].as_i64().unwrap_or(0);
    } else if count == 0 {
        // Singleton events of the new API have no count.
        count = 1;
    }
    let target =
        if obj["involvedObject"].is_object() { &obj["involvedObject"] } else { &obj["regarding"] };
    let kind = target["kind"].as_str().unwrap_or_default().to_lowercase();
    let object = match target["name"].as_str().filter(|n| !n.is_empty()) {
        Some(name) => format!("{kind}/{name}"),
        None => kind,
    };
    let source = if obj["source"].is_object() { &obj["source"] } else { &obj["deprecatedSource"] };
    let component = source["component"]
        .as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| text(obj, &["reportingComponent", "reportingController"]));
    let host = source["host"]
        .as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| text(obj, &["reportingInstance"]));
    let source = match (component, host) {
        ("", _) => String::new(),
        (c, "") => c.to_string(),
        (c, h) => format!("{c}, {h}"),
    };
    vec![
        json!(last),
        json!(text(obj, &["type"])),
        json!(text(obj, &["reason"])),
        json!(object),
        json!(target["fieldPath"].as_str().unwrap_or_default()),
        json!(source),
        json!(text(obj, &["message", "note"]).trim()),
        json!(first),
        json!(count),
        json!(meta::name(obj)),
    ]
}
