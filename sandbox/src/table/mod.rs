//! Server-side printing: `meta.k8s.io/v1` Tables with the columns kube-apiserver prints
//! for the common kinds (what `kubectl get` shows), CRD printer columns for custom
//! resources, and Name/Age for everything else.
//!
//! Owns column definitions and cell values; it does not negotiate (the server does).

mod builtin;
mod events;
mod more;

use crate::meta;
use crate::registry::ResourceInfo;
use builtin::{builtin_cells, builtin_columns};
use serde_json::{Value, json};

/// What each row carries besides its cells (`includeObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    /// Nothing.
    None,
    /// `PartialObjectMetadata` (the default).
    Metadata,
    /// The whole object.
    Object,
}

impl IncludeObject {
    /// Parses the `includeObject` query parameter.
    pub fn parse(v: Option<&str>) -> Self {
        match v {
            Some("None") => Self::None,
            Some("Object") => Self::Object,
            _ => Self::Metadata,
        }
    }
}

struct Col {
    name: &'static str,
    type_: &'static str,
    priority: i64,
    description: &'static str,
}

const fn col(name: &'static str, type_: &'static str, description: &'static str) -> Col {
    Col { name, type_, priority: 0, description }
}

const fn wide(name: &'static str, type_: &'static str, description: &'static str) -> Col {
    Col { name, type_, priority: 1, description }
}

const NAME: Col = col("Name", "string", "Name must be unique within a namespace.");
const AGE: Col = col(
    "Age",
    "string",
    "CreationTimestamp is a timestamp representing the server time when this object was created.",
);

/// Resolves a simple JSON path (`.spec.replicas`, `.status.conditions[0].type`).
fn json_path<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = obj;
    for seg in path.trim_start_matches('.').split('.').filter(|s| !s.is_empty()) {
        let (field, index) = match seg.split_once('[') {
            Some((f, rest)) => (f, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (seg, None),
        };
        cur = cur.get(field)?;
        if let Some(i) = index {
            cur = cur.get(i)?;
        }
    }
    Some(cur)
}

fn column_defs(info: &ResourceInfo) -> Vec<Value> {
    let def = |name: &str, type_: &str, priority: i64, description: &str| {
        let format = if name == "Name" { "name" } else { "" };
        json!({"name": name, "type": type_, "format": format, "description": description, "priority": priority})
    };
    if info.custom {
        // A CRD's printer columns replace the default Age column (which is all a CRD
        // without them gets), so an Age of its own is not shown twice.
        let mut cols = vec![def(NAME.name, NAME.type_, 0, NAME.description)];
        for c in &info.printer_columns {
            cols.push(def(&c.name, &c.type_, c.priority, &c.description));
        }
        if info.printer_columns.is_empty() {
            cols.push(def(AGE.name, AGE.type_, 0, AGE.description));
        }
        return cols;
    }
    let columns = match info.kind.as_str() {
        "Event" => events::columns(),
        kind => more::columns(kind).unwrap_or_else(|| builtin_columns(kind)),
    };
    columns.iter().map(|c| def(c.name, c.type_, c.priority, c.description)).collect()
}

fn cells(info: &ResourceInfo, obj: &Value) -> Vec<Value> {
    if info.custom {
        let mut cells = vec![json!(meta::name(obj))];
        for c in &info.printer_columns {
            let v = json_path(obj, &c.json_path).cloned().unwrap_or(Value::Null);
            cells.push(match (c.type_.as_str(), &v) {
                ("date", Value::String(s)) => {
                    let age = meta::parse_timestamp(s)
                        .and_then(|t| jiff::Timestamp::now().duration_since(t).try_into().ok());
                    json!(age.map(meta::human_duration).unwrap_or_default())
                }
                _ => v,
            });
        }
        if info.printer_columns.is_empty() {
            cells.push(json!(meta::age(obj)));
        }
        return cells;
    }
    if info.kind == "Event" {
        return events::cells(obj);
    }
    if more::columns(&info.kind).is_some() {
        return more::cells(&info.kind, obj);
    }
    let mut cells = vec![json!(meta::name(obj))];
    cells.extend(builtin_cells(&info.kind, obj));
    cells
}

/// `PartialObjectMetadata` of an object.
pub fn partial_metadata(obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

fn row(info: &ResourceInfo, obj: &Value, include: IncludeObject) -> Value {
    let mut row = json!({"cells": cells(info, obj)});
    match include {
        IncludeObject::None => {}
        IncludeObject::Metadata => row["object"] = partial_metadata(obj),
        IncludeObject::Object => row["object"] = obj.clone(),
    }
    row
}

/// A Table of objects. `list_meta` is the list's metadata (resourceVersion, continue).
pub fn table<'a>(
    info: &ResourceInfo,
    objs: impl IntoIterator<Item = &'a Value>,
    list_meta: Value,
    include: IncludeObject,
) -> Value {
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": column_defs(info),
        "rows": objs.into_iter().map(|o| row(info, o, include)).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    #[test]
    fn deployment_row_matches_kubectl_columns() {
        let r = Registry::builtin();
        let info = r.get("apps", "v1", "deployments").unwrap();
        let d = json!({"metadata": {"name": "web"}, "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
            "template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}},
            "status": {"readyReplicas": 1, "updatedReplicas": 2, "availableReplicas": 1}});
        let t = table(&info, [&d], json!({"resourceVersion": "5"}), IncludeObject::Metadata);
        let names: Vec<&str> = t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"]
        );
        let cells = &t["rows"][0]["cells"];
        assert_eq!(cells[0], "web");
        assert_eq!(cells[1], "1/2");
        assert_eq!(cells[7], "app=web");
        assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    }

    #[test]
    fn crd_printer_columns_replace_the_default_age() {
        let crd = json!({"spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "additionalPrinterColumns": [
                    {"name": "Size", "type": "string", "jsonPath": ".spec.size"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]}]}});
        let info = crate::registry::resources_of_crd(&crd).remove(0);
        let t = table(
            &info,
            [&json!({"metadata": {"name": "w"}, "spec": {"size": "s"}})],
            json!({}),
            IncludeObject::None,
        );
        let names: Vec<&str> = t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Name", "Size", "Age"]);
        assert_eq!(t["rows"][0]["cells"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn json_paths() {
        let o = json!({"status": {"conditions": [{"type": "Ready"}]}});
        assert_eq!(json_path(&o, ".status.conditions[0].type").unwrap(), "Ready");
        assert!(json_path(&o, ".spec.x").is_none());
    }
}
