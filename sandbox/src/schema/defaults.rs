//! Structural defaulting of custom resources, as apiextensions-apiserver's
//! `structuraldefaulting.Default` does it when it decodes a custom object: every property
//! whose schema has a `default` and that is absent (or null without `nullable`) gets a copy
//! of it, top-down, so defaults inside a defaulted object apply too. `metadata` is left
//! alone. Works on a CRD version's `openAPIV3Schema` as written.

use serde_json::Value;

/// Fills in the defaults of `schema` in `value`.
pub fn apply(schema: &Value, value: &mut Value) {
    walk(schema, value, true);
}

fn walk(schema: &Value, value: &mut Value, root: bool) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(props)) = schema.get("properties") {
                for (k, prop) in props {
                    if root && k == "metadata" {
                        continue;
                    }
                    let Some(default) = prop.get("default") else { continue };
                    let nullable = prop.get("nullable").and_then(Value::as_bool) == Some(true);
                    match map.get(k) {
                        None => {
                            map.insert(k.clone(), default.clone());
                        }
                        Some(Value::Null) if !nullable => {
                            map.insert(k.clone(), default.clone());
                        }
                        Some(_) => {}
                    }
                }
            }
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (k, v) in map.iter_mut() {
                if root && k == "metadata" {
                    continue;
                }
                match schema.get("properties").and_then(|p| p.get(k)) {
                    Some(prop) => walk(prop, v, false),
                    None => {
                        if let Some(a) = additional {
                            walk(a, v, false);
                        }
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for v in items {
                    walk(item_schema, v, false);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_apply_top_down_and_inside_lists() {
        let schema = json!({"type": "object", "properties": {
            "metadata": {"type": "object", "properties": {"name": {"type": "string", "default": "x"}}},
            "spec": {"type": "object", "default": {}, "properties": {
                "size": {"type": "string", "enum": ["s", "m"], "default": "s"},
                "replicas": {"type": "integer", "default": 1},
                "opt": {"type": "string", "nullable": true, "default": "d"},
                "ports": {"type": "array", "items": {"type": "object", "properties": {
                    "protocol": {"type": "string", "default": "TCP"}}}}}}}});
        let mut obj = json!({"metadata": {}, "spec": null});
        apply(&schema, &mut obj);
        assert_eq!(obj, json!({"metadata": {}, "spec": {"size": "s", "replicas": 1, "opt": "d"}}));
        let mut obj =
            json!({"spec": {"replicas": 3, "opt": null, "ports": [{}, {"protocol": "UDP"}]}});
        apply(&schema, &mut obj);
        assert_eq!(
            obj,
            json!({"spec": {"size": "s", "replicas": 3, "opt": null,
                "ports": [{"protocol": "TCP"}, {"protocol": "UDP"}]}})
        );
    }
}
