//! `metadata.managedFields`: decoding entries into field sets keyed by manager identity, and
//! encoding them back in kube-apiserver's order (Apply before Update, then by time, manager,
//! apiVersion, subresource). An entry whose set did not change keeps its original `fieldsV1`
//! JSON, as kube-apiserver does.

use super::fieldset::FieldSet;
use serde_json::{Map, Value, json};

/// The operation that produced a managedFields entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Create, update (replace) or a non-apply patch.
    Update,
}

impl Operation {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// Who manages a set of fields: kube-apiserver's manager identifier. Appliers are identified
/// without their apiVersion (one entry per applier whatever version it applies with).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ManagerKey {
    pub(crate) manager: String,
    pub(crate) operation: Operation,
    /// Empty for appliers.
    pub(crate) api_version: String,
    pub(crate) subresource: String,
}

impl ManagerKey {
    /// The identifier kube-apiserver sorts conflicting managers by: the entry's JSON without
    /// fields, time and (for appliers) apiVersion.
    pub(crate) fn identifier(&self) -> String {
        let mut s = String::from("{");
        let mut first = true;
        let mut field = |name: &str, value: &str| {
            if value.is_empty() {
                return;
            }
            if !first {
                s.push(',');
            }
            first = false;
            super::fieldset::fields_v1::write_go_json_string(&mut s, name);
            s.push(':');
            super::fieldset::fields_v1::write_go_json_string(&mut s, value);
        };
        field("manager", &self.manager);
        field("operation", self.operation.as_str());
        field("apiVersion", &self.api_version);
        field("subresource", &self.subresource);
        s.push('}');
        s
    }
}

/// One decoded entry.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) key: ManagerKey,
    /// The apiVersion the fields are expressed in.
    pub(crate) api_version: String,
    pub(crate) time: Option<String>,
    pub(crate) set: FieldSet,
    /// The original `fieldsV1`, valid while `set` is unchanged (see [`Entry::set_fields`]).
    pub(crate) original: Option<Value>,
}

impl Entry {
    /// Replaces the set, forgetting the original encoding if the set changed.
    pub(crate) fn set_fields(&mut self, set: FieldSet) {
        if set != self.set {
            self.set = set;
            self.original = None;
        }
    }
}

/// All entries of an object.
#[derive(Debug, Clone, Default)]
pub(crate) struct Managed {
    pub(crate) entries: Vec<Entry>,
}

impl Managed {
    pub(crate) fn get(&self, key: &ManagerKey) -> Option<&Entry> {
        self.entries.iter().find(|e| &e.key == key)
    }

    pub(crate) fn get_mut(&mut self, key: &ManagerKey) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| &e.key == key)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops entries whose set is empty.
    pub(crate) fn drop_empty(&mut self) {
        self.entries.retain(|e| !e.set.is_empty());
    }

    /// Decodes `metadata.managedFields` of an object. A missing list is empty; a malformed one
    /// is an error with kube-apiserver's message.
    pub(crate) fn decode(obj: &Value) -> Result<Managed, String> {
        let Some(list) = obj.pointer("/metadata/managedFields") else {
            return Ok(Managed::default());
        };
        let Value::Array(items) = list else {
            return Err("managedFields is not a list".to_string());
        };
        let mut out = Managed::default();
        for (i, item) in items.iter().enumerate() {
            let s = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let operation = match s("operation").as_str() {
                "Apply" => Operation::Apply,
                "Update" => Operation::Update,
                _ => return Err("operation must be `Apply` or `Update`".to_string()),
            };
            let api_version = s("apiVersion");
            if api_version.is_empty() {
                return Err("apiVersion must not be empty".to_string());
            }
            match s("fieldsType").as_str() {
                "FieldsV1" => {}
                "" => return Err(format!("missing fieldsType in managed fields entry {i}")),
                other => {
                    return Err(format!(
                        "invalid fieldsType {other:?} in managed fields entry {i}"
                    ));
                }
            }
            let fields = item.get("fieldsV1").cloned().unwrap_or_else(|| json!({}));
            let set = FieldSet::from_fields_v1(&fields)
                .map_err(|e| format!("error decoding versioned set: {e}"))?;
            // Kept as sent while the set is unchanged, as kube-apiserver keeps the raw bytes.
            let original = Some(fields);
            let key = ManagerKey {
                manager: s("manager"),
                operation,
                api_version: if operation == Operation::Apply {
                    String::new()
                } else {
                    api_version.clone()
                },
                subresource: s("subresource"),
            };
            let time = item.get("time").and_then(Value::as_str).map(str::to_string);
            let entry = Entry { key, api_version, time, original, set };
            // A later duplicate replaces an earlier one, as decoding into a map does.
            out.entries.retain(|e| e.key != entry.key);
            out.entries.push(entry);
        }
        Ok(out)
    }

    /// Encodes the entries as kube-apiserver writes them, sorted.
    pub(crate) fn encode(self) -> Vec<Value> {
        let mut entries = self.entries;
        entries.sort_by(|p, q| {
            p.key
                .operation
                .cmp(&q.key.operation)
                .then_with(|| seconds(p.time.as_deref()).cmp(&seconds(q.time.as_deref())))
                .then_with(|| p.key.manager.cmp(&q.key.manager))
                .then_with(|| p.api_version.cmp(&q.api_version))
                .then_with(|| p.key.subresource.cmp(&q.key.subresource))
        });
        entries.into_iter().map(encode_entry).collect()
    }
}

fn encode_entry(e: Entry) -> Value {
    let mut m = Map::new();
    m.insert("manager".into(), json!(e.key.manager));
    m.insert("operation".into(), json!(e.key.operation.as_str()));
    m.insert("apiVersion".into(), json!(e.api_version));
    if let Some(t) = &e.time {
        m.insert("time".into(), json!(t));
    }
    m.insert("fieldsType".into(), json!("FieldsV1"));
    let fields = match e.original {
        Some(raw) => raw,
        None => e.set.to_fields_v1(),
    };
    m.insert("fieldsV1".into(), fields);
    if !e.key.subresource.is_empty() {
        m.insert("subresource".into(), Value::String(e.key.subresource));
    }
    Value::Object(m)
}

/// Seconds since the epoch of an RFC 3339 time; 0 when absent or unparsable.
pub(crate) fn seconds(t: Option<&str>) -> i64 {
    t.and_then(|t| t.parse::<jiff::Timestamp>().ok()).map(|ts| ts.as_second()).unwrap_or(0)
}

/// Sets `metadata.managedFields` (removing it when there are no entries).
pub(crate) fn set_managed_fields(obj: &mut Value, managed: Managed) {
    let encoded = managed.encode();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if encoded.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(encoded));
        }
    }
}

/// A copy of an object without `metadata.managedFields`, not copying them.
pub(crate) fn clone_without_managed_fields(obj: &Value) -> Value {
    let Value::Object(map) = obj else { return obj.clone() };
    let mut out = Map::new();
    for (k, v) in map {
        match (k.as_str(), v) {
            ("metadata", Value::Object(meta)) => {
                let m: Map<String, Value> = meta
                    .iter()
                    .filter(|(mk, _)| *mk != "managedFields")
                    .map(|(mk, mv)| (mk.clone(), mv.clone()))
                    .collect();
                out.insert(k.clone(), Value::Object(m));
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_encode_round_trip_sorts_apply_first() {
        let obj = json!({"metadata": {"managedFields": [
            {"manager": "kubectl-edit", "operation": "Update", "apiVersion": "v1",
             "time": "2026-01-01T00:00:01Z", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:data": {"f:b": {}}}},
            {"manager": "kubectl", "operation": "Apply", "apiVersion": "v1",
             "time": "2026-01-01T00:00:02Z", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:data": {"f:a": {}}}}
        ]}});
        let m = Managed::decode(&obj).unwrap();
        let enc = m.clone().encode();
        assert_eq!(enc.len(), m.entries.len());
        assert_eq!(enc[0]["manager"], "kubectl");
        assert_eq!(enc[1]["manager"], "kubectl-edit");
        assert_eq!(enc[1]["fieldsV1"], json!({"f:data": {"f:b": {}}}));
    }

    #[test]
    fn decode_errors_have_kube_messages() {
        let bad = json!({"metadata": {"managedFields": [{"manager": "m", "operation": "Patch",
            "apiVersion": "v1", "fieldsType": "FieldsV1"}]}});
        assert_eq!(Managed::decode(&bad).unwrap_err(), "operation must be `Apply` or `Update`");
        let bad = json!({"metadata": {"managedFields": [{"manager": "m", "operation": "Apply",
            "apiVersion": "v1"}]}});
        assert_eq!(
            Managed::decode(&bad).unwrap_err(),
            "missing fieldsType in managed fields entry 0"
        );
    }

    #[test]
    fn identifiers_match_kube() {
        let k = ManagerKey {
            manager: "kubectl".into(),
            operation: Operation::Update,
            api_version: "apps/v1".into(),
            subresource: String::new(),
        };
        assert_eq!(
            k.identifier(),
            r#"{"manager":"kubectl","operation":"Update","apiVersion":"apps/v1"}"#
        );
    }
}
