//! What a diff leaves out: the fields the API server writes for itself, and the fields the
//! object leaves to other managers (`cetus.dev/ignore-fields`).

use serde_json::Value;

/// Annotation listing the fields an object leaves to other managers: JSON pointers separated
/// by commas (`/spec/replicas, /spec/template/metadata/annotations`).
pub const IGNORE_FIELDS: &str = "cetus.dev/ignore-fields";

/// Annotation `kubectl apply` (client-side) keeps a copy of the whole object in; on a Secret
/// it holds the values.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Metadata the API server writes and no user asks for.
const SERVER_METADATA: [&str; 6] =
    ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"];

/// The object without what a diff must not show: `status`; `metadata.managedFields`,
/// `resourceVersion`, `generation`, `uid`, `creationTimestamp`, `selfLink`; the
/// `kubectl.kubernetes.io/last-applied-configuration` annotation; and the fields at the JSON
/// pointers in `ignore` (see [`ignored_fields`]).
///
/// A map that only held what was removed goes too (an `annotations` that only held the
/// last-applied copy), so that an object that never had it reads the same. Pointers that
/// name nothing are skipped.
pub fn normalize(object: &Value, ignore: &[String]) -> Value {
    let mut out = object.clone();
    let Value::Object(top) = &mut out else { return out };
    top.remove("status");
    if let Some(Value::Object(metadata)) = top.get_mut("metadata") {
        for field in SERVER_METADATA {
            metadata.remove(field);
        }
    }
    remove(&mut out, &["metadata", "annotations", LAST_APPLIED]);
    for pointer in ignore {
        if let Some(segments) = segments(pointer) {
            let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
            remove(&mut out, &segments);
        }
    }
    out
}

/// The JSON pointers in an object's `cetus.dev/ignore-fields` annotation, in order. Entries
/// are separated by commas or spaces, as the spec's validation reads them; an entry that is
/// not a pointer (no leading `/`) names no field and is left out.
pub fn ignored_fields(object: &Value) -> Vec<String> {
    let Some(list) = object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(IGNORE_FIELDS))
        .and_then(Value::as_str)
    else {
        return Vec::new();
    };
    list.split([',', ' ', '\n', '\t'])
        .filter(|entry| entry.starts_with('/'))
        .map(str::to_string)
        .collect()
}

/// The unescaped segments of a JSON pointer (RFC 6901); `None` unless it starts with `/`.
fn segments(pointer: &str) -> Option<Vec<String>> {
    let rest = pointer.strip_prefix('/')?;
    Some(rest.split('/').map(|s| s.replace("~1", "/").replace("~0", "~")).collect())
}

/// Removes the value at `path`, and each map above it that the removal left empty. Returns
/// whether anything was removed.
fn remove(value: &mut Value, path: &[&str]) -> bool {
    let [first, rest @ ..] = path else { return false };
    if rest.is_empty() {
        return match value {
            Value::Object(map) => map.remove(*first).is_some(),
            Value::Array(items) => match index(first).filter(|i| *i < items.len()) {
                Some(i) => {
                    items.remove(i);
                    true
                }
                None => false,
            },
            _ => false,
        };
    }
    match value {
        Value::Object(map) => {
            let Some(child) = map.get_mut(*first) else { return false };
            let removed = remove(child, rest);
            if removed && child.as_object().is_some_and(|c| c.is_empty()) {
                map.remove(*first);
            }
            removed
        }
        // An emptied map inside a list stays: dropping it would shift its neighbours.
        Value::Array(items) => {
            index(first).and_then(|i| items.get_mut(i)).is_some_and(|child| remove(child, rest))
        }
        _ => false,
    }
}

/// An array index as a JSON pointer writes it: digits, no leading zero.
fn index(segment: &str) -> Option<usize> {
    let canonical = segment == "0" || !segment.starts_with('0');
    (canonical && segment.bytes().all(|b| b.is_ascii_digit())).then(|| segment.parse().ok())?
}
