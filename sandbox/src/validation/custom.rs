//! Value validation of custom resources against their CRD version's `openAPIV3Schema`, as
//! apiextensions-apiserver's schema validator reports it: `required`, `enum`, `minimum` /
//! `maximum` (and exclusive), `multipleOf`, `minLength` / `maxLength`, `pattern`,
//! `minItems` / `maxItems`, `minProperties` / `maxProperties`, with kube-openapi's messages
//! turned into field errors (`spec.replicas: Invalid value: 11: spec.replicas in body
//! should be less than or equal to 10`). Types and unknown fields are the schema walk's
//! ([`crate::schema`]); CEL rules are not evaluated.

use crate::status::{FieldError, FieldErrorKind};
use serde_json::Value;

/// The field errors of a custom object under its schema (`metadata`, `apiVersion` and
/// `kind` are checked elsewhere).
pub fn errors(schema: &Value, obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let (Some(Value::Object(props)), Value::Object(map)) = (schema.get("properties"), obj) {
        for (k, v) in map {
            if matches!(k.as_str(), "metadata" | "apiVersion" | "kind") {
                continue;
            }
            if let Some(prop) = props.get(k) {
                walk(prop, v, k, &mut errs);
                required(prop, v, k, &mut errs);
            }
        }
    }
    required(schema, obj, "", &mut errs);
    errs
}

/// A value as Go's `%v`/`%q` render it in a field error.
fn go_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// A schema bound (a float64 in kube-openapi) as `%v` renders it.
fn go_number(v: &Value) -> String {
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e21 => format!("{}", f as i64),
        Some(f) => format!("{f}"),
        None => v.to_string(),
    }
}

fn invalid(path: &str, v: &Value, detail: String) -> FieldError {
    FieldError {
        kind: FieldErrorKind::Invalid,
        field: path.into(),
        value: Some(go_value(v)),
        detail,
    }
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

fn required(schema: &Value, v: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let (Some(Value::Array(req)), Value::Object(map)) = (schema.get("required"), v) else {
        return;
    };
    for name in req.iter().filter_map(Value::as_str) {
        if !map.contains_key(name) {
            errs.push(FieldError::required(child(path, name), ""));
        }
    }
}

fn walk(schema: &Value, v: &Value, path: &str, errs: &mut Vec<FieldError>) {
    if v.is_null() {
        return;
    }
    if let Some(Value::Array(allowed)) = schema.get("enum")
        && !allowed.contains(v)
    {
        let values: Vec<String> = allowed
            .iter()
            .map(|a| match a {
                Value::String(s) => format!("{s:?}"),
                other => format!("{:?}", other.to_string()),
            })
            .collect();
        errs.push(FieldError::not_supported(
            path,
            go_value(v),
            format!("supported values: {}", values.join(", ")),
        ));
    }
    match v {
        Value::Number(n) => numbers(schema, v, n.as_f64().unwrap_or(0.0), path, errs),
        Value::String(s) => strings(schema, v, s, path, errs),
        Value::Array(items) => {
            let bound = |k: &str| schema.get(k).and_then(Value::as_u64);
            if let Some(max) = bound("maxItems").filter(|m| items.len() as u64 > *m) {
                errs.push(FieldError {
                    kind: FieldErrorKind::TooMany,
                    field: path.into(),
                    value: Some(items.len().to_string()),
                    detail: format!("must have at most {max} items"),
                });
            }
            if let Some(min) = bound("minItems").filter(|m| (items.len() as u64) < *m) {
                let detail = format!("{path} in body should have at least {min} items");
                errs.push(invalid(path, &Value::from(items.len()), detail));
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    walk(item_schema, item, &p, errs);
                    required(item_schema, item, &p, errs);
                }
            }
        }
        Value::Object(map) => {
            let bound = |k: &str| schema.get(k).and_then(Value::as_u64);
            if let Some(max) = bound("maxProperties").filter(|m| map.len() as u64 > *m) {
                errs.push(FieldError {
                    kind: FieldErrorKind::TooMany,
                    field: path.into(),
                    value: Some(map.len().to_string()),
                    detail: format!("must have at most {max} items"),
                });
            }
            if let Some(min) = bound("minProperties").filter(|m| (map.len() as u64) < *m) {
                let detail = format!("{path} in body should have at least {min} properties");
                errs.push(invalid(path, &Value::from(map.len()), detail));
            }
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (k, sub) in map {
                let p = child(path, k);
                if let Some(s) = props.and_then(|ps| ps.get(k)).or(additional) {
                    walk(s, sub, &p, errs);
                    required(s, sub, &p, errs);
                }
            }
        }
        _ => {}
    }
}

fn numbers(schema: &Value, v: &Value, n: f64, path: &str, errs: &mut Vec<FieldError>) {
    let exclusive = |k: &str| schema.get(k).and_then(Value::as_bool) == Some(true);
    if let Some(max) = schema.get("maximum").filter(|m| m.is_number()) {
        let m = max.as_f64().unwrap_or(f64::MAX);
        if exclusive("exclusiveMaximum") && n >= m {
            let d = format!("{path} in body should be less than {}", go_number(max));
            errs.push(invalid(path, v, d));
        } else if n > m {
            let d = format!("{path} in body should be less than or equal to {}", go_number(max));
            errs.push(invalid(path, v, d));
        }
    }
    if let Some(min) = schema.get("minimum").filter(|m| m.is_number()) {
        let m = min.as_f64().unwrap_or(f64::MIN);
        if exclusive("exclusiveMinimum") && n <= m {
            let d = format!("{path} in body should be greater than {}", go_number(min));
            errs.push(invalid(path, v, d));
        } else if n < m {
            let d = format!("{path} in body should be greater than or equal to {}", go_number(min));
            errs.push(invalid(path, v, d));
        }
    }
    if let Some(factor) = schema.get("multipleOf").and_then(Value::as_f64)
        && factor != 0.0
        && (n / factor).fract() != 0.0
    {
        let d =
            format!("{path} in body should be a multiple of {}", go_number(&schema["multipleOf"]));
        errs.push(invalid(path, v, d));
    }
}

fn strings(schema: &Value, v: &Value, s: &str, path: &str, errs: &mut Vec<FieldError>) {
    let len = s.chars().count() as u64;
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64).filter(|m| len > *m) {
        let unit = if max == 1 { "byte" } else { "bytes" };
        errs.push(FieldError {
            kind: FieldErrorKind::TooLong,
            field: path.into(),
            value: None,
            detail: format!("may not be more than {max} {unit}"),
        });
    }
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64).filter(|m| len < *m) {
        let d = format!("{path} in body should be at least {min} chars long");
        errs.push(invalid(path, v, d));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        // An invalid pattern is refused when the CRD is written; here it matches nothing.
        let matched = regex::Regex::new(pattern).is_ok_and(|re| re.is_match(s));
        if !matched {
            errs.push(invalid(path, v, format!("{path} in body should match '{pattern}'")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_checked_with_kube_apiserver_messages() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
            "required": ["size"], "properties": {
                "replicas": {"type": "integer", "minimum": 1, "maximum": 10},
                "ratio": {"type": "number", "maximum": 1.5, "exclusiveMaximum": true},
                "size": {"type": "string", "enum": ["s", "m"]},
                "name": {"type": "string", "maxLength": 3, "pattern": "^[a-z]+$"},
                "tags": {"type": "array", "maxItems": 1, "items": {"type": "string", "minLength": 2}}}}}});
        let obj =
            json!({"spec": {"replicas": 11, "ratio": 1.5, "name": "Abcd", "tags": ["a", "bb"]}});
        let got: Vec<String> = errors(&schema, &obj).iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            vec![
                "spec.name: Too long: may not be more than 3 bytes",
                "spec.name: Invalid value: \"Abcd\": spec.name in body should match '^[a-z]+$'",
                "spec.ratio: Invalid value: 1.5: spec.ratio in body should be less than 1.5",
                "spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10",
                "spec.tags: Too many: 2: must have at most 1 items",
                "spec.tags[0]: Invalid value: \"a\": spec.tags[0] in body should be at least 2 chars long",
                "spec.size: Required value",
            ]
        );
        let ok = json!({"spec": {"replicas": 3, "size": "m", "name": "abc"}});
        assert!(errors(&schema, &ok).is_empty());
        let bad_enum = json!({"spec": {"size": "xl"}});
        assert_eq!(
            errors(&schema, &bad_enum)[0].to_string(),
            "spec.size: Unsupported value: \"xl\": supported values: \"s\", \"m\""
        );
    }
}
