//! Whether an object needs writing, decided without a request when the engine remembers it.
//!
//! After every apply the engine remembers, per object, the hash of the manifest it applied and
//! the server's answer projected onto that manifest's fields ([`owned_values`]): the values the
//! server settled on after its defaulting and canonicalization (`cpu: 0.5` comes back `500m`).
//! Later, the object is unchanged when the manifest hashes the same and the live object,
//! projected the same way, still holds those values — no copy of the server's defaulting is
//! needed, and fields other managers own (outside the manifest) never count as a change.
//!
//! Fields named by `cetus.dev/ignore-fields` are left to other managers: they are not part of
//! the projection, and on an update they are applied with the live object's values, so that
//! Cetus neither fights the other manager nor, by dropping the field from its apply, makes the
//! server reset it (as Argo CD's `RespectIgnoreDifferences` does). Everything here is pure.

#[cfg(test)]
use super::diff::ignored_fields;
use super::inventory::Applied;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The hash of a manifest: sha256 of its canonical JSON, in hex.
pub fn manifest_hash(manifest: &Value) -> String {
    hex::encode(Sha256::digest(crate::render::canonical_json(manifest).as_bytes()))
}

/// `answer` projected onto the fields `manifest` sets, without the `ignore`d pointers.
///
/// Maps keep the manifest's keys; lists of the manifest's length are projected item by item
/// (so defaults the server adds inside a container are left out); a list whose length the
/// server changed is kept whole. A field the answer lacks projects to `null`.
pub fn owned_values(answer: &Value, manifest: &Value, ignore: &[String]) -> Value {
    let mut shape = manifest.clone();
    for pointer in ignore {
        remove_pointer(&mut shape, pointer);
    }
    project(Some(answer), &shape)
}

fn project(answer: Option<&Value>, shape: &Value) -> Value {
    match (shape, answer) {
        (Value::Object(fields), Some(Value::Object(answer))) => Value::Object(
            fields
                .iter()
                .map(|(key, sub)| (key.clone(), project(answer.get(key), sub)))
                .collect::<Map<String, Value>>(),
        ),
        (Value::Array(items), Some(Value::Array(answer))) if items.len() == answer.len() => {
            Value::Array(items.iter().zip(answer).map(|(s, a)| project(Some(a), s)).collect())
        }
        (_, Some(answer)) => answer.clone(),
        (_, None) => Value::Null,
    }
}

/// Whether the live object still is what Cetus applied from this same manifest.
pub fn is_unchanged(
    remembered: &Applied,
    manifest: &Value,
    live: &Value,
    ignore: &[String],
) -> bool {
    remembered.hash == manifest_hash(manifest)
        && owned_values(live, manifest, ignore) == remembered.owned
}

/// The manifest to apply over an existing object: ignored fields take the live object's values
/// (or are left out where the live object has none).
pub fn for_update(manifest: &Value, live: &Value, ignore: &[String]) -> Value {
    let mut out = manifest.clone();
    for pointer in ignore {
        match live.pointer(pointer) {
            Some(value) => set_pointer(&mut out, pointer, value.clone()),
            None => remove_pointer(&mut out, pointer),
        }
    }
    out
}

/// Whether two versions of an object are the same state, ignoring what every write changes
/// (`resourceVersion`, `managedFields`, `generation`) and `status` (which applies never set,
/// and which a cached copy may see a moment late): a dry-run answer against the live object.
pub fn same_state(a: &Value, b: &Value) -> bool {
    strip_volatile(a) == strip_volatile(b)
}

fn strip_volatile(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
        if let Some(Value::Object(metadata)) = map.get_mut("metadata") {
            for key in ["resourceVersion", "managedFields", "generation"] {
                metadata.remove(key);
            }
        }
    }
    object
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

fn split_pointer(pointer: &str) -> Option<(&str, String)> {
    let (parent, last) = pointer.rsplit_once('/')?;
    Some((parent, unescape(last)))
}

fn remove_pointer(value: &mut Value, pointer: &str) {
    let Some((parent, last)) = split_pointer(pointer) else { return };
    match value.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&last);
        }
        Some(Value::Array(items)) => {
            if let Ok(i) = last.parse::<usize>()
                && i < items.len()
            {
                items.remove(i);
            }
        }
        _ => {}
    }
}

fn set_pointer(value: &mut Value, pointer: &str, new: Value) {
    let Some((parent, last)) = split_pointer(pointer) else { return };
    match value.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(last, new);
        }
        Some(Value::Array(items)) => {
            if let Some(slot) = last.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                *slot = new;
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(replicas: i64, cpu: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop",
                         "annotations": {"cetus.dev/ignore-fields": "/spec/replicas"}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                {"name": "web", "image": "web:1", "resources": {"requests": {"cpu": cpu}}}
            ]}}}
        })
    }

    /// What a server answers: canonical quantities, defaults inside the container, its own
    /// metadata and annotations of other managers.
    fn answered(replicas: i64) -> Value {
        let mut answer = deployment(replicas, "500m");
        answer["metadata"]["resourceVersion"] = json!("7");
        answer["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!("1");
        answer["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] =
            json!("IfNotPresent");
        answer["spec"]["strategy"] = json!({"type": "RollingUpdate"});
        answer
    }

    #[test]
    fn unchanged_survives_defaults_canonical_quantities_and_ignored_fields() {
        let manifest = deployment(3, "0.5");
        let ignore = ignored_fields(&manifest);
        assert_eq!(ignore, ["/spec/replicas"]);
        let remembered = Applied {
            hash: manifest_hash(&manifest),
            owned: owned_values(&answered(3), &manifest, &ignore),
        };
        assert_eq!(
            remembered.owned["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]
                ["cpu"],
            "500m"
        );
        // Another manager scaled it, and the revision annotation moved on: still unchanged.
        let mut live = answered(7);
        live["metadata"]["resourceVersion"] = json!("9");
        live["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!("2");
        assert!(is_unchanged(&remembered, &manifest, &live, &ignore));
        // Someone edited the image: changed.
        live["spec"]["template"]["spec"]["containers"][0]["image"] = json!("web:evil");
        assert!(!is_unchanged(&remembered, &manifest, &live, &ignore));
        // The render changed: changed, whatever the live object says.
        assert!(!is_unchanged(&remembered, &deployment(3, "1"), &answered(3), &ignore));
    }

    #[test]
    fn a_removed_field_projects_to_null() {
        let manifest = json!({"data": {"a": "1", "b": "2"}});
        let live = json!({"data": {"a": "1"}});
        assert_eq!(owned_values(&live, &manifest, &[]), json!({"data": {"a": "1", "b": null}}));
    }

    #[test]
    fn updates_keep_the_live_value_of_ignored_fields() {
        let manifest = deployment(3, "0.5");
        let ignore = ignored_fields(&manifest);
        assert_eq!(for_update(&manifest, &answered(7), &ignore)["spec"]["replicas"], 7);
        let mut without = answered(7);
        without["spec"].as_object_mut().unwrap().remove("replicas");
        assert!(for_update(&manifest, &without, &ignore)["spec"].get("replicas").is_none());
    }

    #[test]
    fn same_state_ignores_what_every_write_changes() {
        let mut a = answered(3);
        let mut b = answered(3);
        b["metadata"]["resourceVersion"] = json!("8");
        b["metadata"]["generation"] = json!(2);
        b["status"] = json!({"replicas": 3});
        assert!(same_state(&a, &b));
        a["spec"]["paused"] = json!(true);
        assert!(!same_state(&a, &b));
    }
}
