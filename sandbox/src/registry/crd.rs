//! Turning a `CustomResourceDefinition` object into the resources it serves.

use super::{PrinterColumn, ResourceInfo, ScalePaths};
use crate::schema::{Schema, SchemaRef};
use serde_json::Value;
use std::sync::Arc;

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn printer_columns(version: &Value) -> Vec<PrinterColumn> {
    version
        .get("additionalPrinterColumns")
        .and_then(Value::as_array)
        .map(|cols| {
            cols.iter()
                .map(|c| PrinterColumn {
                    name: c.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
                    type_: c.get("type").and_then(Value::as_str).unwrap_or("string").to_string(),
                    json_path: c
                        .get("jsonPath")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0),
                    description: c
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The resources a CRD serves: one per served version. Returns nothing for a CRD without
/// a group or names (validation rejects those before they are stored).
pub fn resources_of_crd(crd: &Value) -> Vec<ResourceInfo> {
    let spec = &crd["spec"];
    let names = &spec["names"];
    let (Some(group), Some(kind), Some(plural)) =
        (spec["group"].as_str(), names["kind"].as_str(), names["plural"].as_str())
    else {
        return vec![];
    };
    let singular = names["singular"].as_str().map_or_else(|| kind.to_lowercase(), str::to_string);
    let namespaced = spec["scope"].as_str() != Some("Cluster");
    let versions = spec["versions"].as_array().cloned().unwrap_or_default();
    versions
        .iter()
        .filter(|v| v["served"].as_bool().unwrap_or(false))
        .filter_map(|v| {
            let version = v["name"].as_str()?;
            let subresources = &v["subresources"];
            let scale = subresources.get("scale").filter(|s| s.is_object()).map(|s| ScalePaths {
                spec_replicas: s["specReplicasPath"]
                    .as_str()
                    .unwrap_or(".spec.replicas")
                    .to_string(),
                status_replicas: s["statusReplicasPath"]
                    .as_str()
                    .unwrap_or(".status.replicas")
                    .to_string(),
                label_selector: s["labelSelectorPath"].as_str().map(str::to_string),
            });
            let crd_schema = v.get("schema").and_then(|s| s.get("openAPIV3Schema")).cloned();
            let schema = crd_schema.as_ref().map(|s| SchemaRef {
                schema: Arc::new(Schema::compile_inline(kind, s)),
                root: 0,
                type_name: kind.to_string(),
            });
            Some(ResourceInfo {
                group: group.to_string(),
                version: version.to_string(),
                kind: kind.to_string(),
                plural: plural.to_string(),
                singular: singular.clone(),
                namespaced,
                short_names: strings(names.get("shortNames")),
                categories: strings(names.get("categories")),
                delete_collection: true,
                status_subresource: subresources.get("status").is_some_and(Value::is_object),
                scale,
                tracks_generation: true,
                custom: true,
                crd_schema,
                printer_columns: printer_columns(v),
                schema,
                merge: crate::merge::Schema::from_crd(crd, version)
                    .unwrap_or_else(|_| crate::merge::Schema::generic()),
                storage_group: group.to_string(),
                conversion: super::Conversion::None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn served_versions_become_resources() {
        let crd = json!({
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"kind": "Widget", "plural": "widgets", "shortNames": ["wd"]},
                "versions": [
                    {"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                     "schema": {"openAPIV3Schema": {"type": "object"}}},
                    {"name": "v1beta1", "served": false, "storage": false},
                ],
            }
        });
        let infos = resources_of_crd(&crd);
        assert_eq!(infos.len(), 1);
        let w = &infos[0];
        assert_eq!(
            (w.group.as_str(), w.version.as_str(), w.singular.as_str()),
            ("example.com", "v1", "widget")
        );
        assert!(w.status_subresource && w.namespaced && w.custom && w.scale.is_none());
        assert_eq!(w.short_names, vec!["wd"]);
    }
}
