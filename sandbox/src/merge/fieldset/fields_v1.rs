//! The FieldsV1 encoding of a [`FieldSet`]: a JSON object whose keys are serialized path
//! elements (`f:name`, `k:{"name":"web"}`, `v:"x"`, `i:0`) and whose values are the sets below
//! them, with `".": {}` marking an element that is owned itself and has owned children.
//!
//! Keys are written in structured-merge-diff's order (`.` first, then path elements in
//! [`PathElement`] order), which is not byte order (`k:{"port":80}` sorts before
//! `k:{"port":443}`). [`FieldSet::to_fields_v1_string`] writes exactly the bytes
//! kube-apiserver stores; [`FieldSet::to_fields_v1`] builds a `serde_json::Value` inserting
//! keys in that order, which survives only if serde_json keeps insertion order.

use super::{FieldSet, PathElement};
use serde_json::{Map, Value};

/// Errors decoding FieldsV1.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FieldsV1Error {
    /// A node of the tree is not a JSON object.
    #[error("fieldsV1 node at {path:?} is not an object")]
    NotAnObject {
        /// The serialized keys leading to the node.
        path: String,
    },
    /// A key is not a serialized path element.
    #[error("fieldsV1 key {key:?} is not a path element: {reason}")]
    BadKey {
        /// The key as written.
        key: String,
        /// Why it does not parse.
        reason: String,
    },
}

impl PathElement {
    /// The serialized form used as a FieldsV1 key.
    pub fn to_fields_v1_key(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(fields) => {
                let mut s = String::from("k:{");
                for (i, (name, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    write_go_json_string(&mut s, name);
                    s.push(':');
                    write_go_json(&mut s, value);
                }
                s.push('}');
                s
            }
            PathElement::Value(v) => {
                let mut s = String::from("v:");
                write_go_json(&mut s, v);
                s
            }
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    /// Parses a FieldsV1 key.
    pub fn from_fields_v1_key(key: &str) -> Result<PathElement, FieldsV1Error> {
        let bad = |reason: &str| FieldsV1Error::BadKey {
            key: key.to_string(),
            reason: reason.to_string(),
        };
        let (kind, rest) = key.split_at_checked(2).ok_or_else(|| bad("too short"))?;
        match kind {
            "f:" => Ok(PathElement::Field(rest.to_string())),
            "v:" => {
                serde_json::from_str(rest).map(PathElement::Value).map_err(|e| bad(&e.to_string()))
            }
            "i:" => rest.parse::<i64>().map(PathElement::Index).map_err(|e| bad(&e.to_string())),
            "k:" => {
                let v: Value = serde_json::from_str(rest).map_err(|e| bad(&e.to_string()))?;
                let Value::Object(map) = v else {
                    return Err(bad("key is not a JSON object"));
                };
                let mut fields: Vec<(String, Value)> = map.into_iter().collect();
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(PathElement::Key(fields))
            }
            _ => Err(bad("unknown path element type")),
        }
    }
}

impl FieldSet {
    /// Decodes a FieldsV1 object.
    pub fn from_fields_v1(v: &Value) -> Result<FieldSet, FieldsV1Error> {
        let mut path = String::new();
        decode(v, &mut path).map(|(set, _)| set)
    }

    /// Encodes the set as a FieldsV1 value, inserting keys in Kubernetes' order.
    pub fn to_fields_v1(&self) -> Value {
        Value::Object(self.encode(false))
    }

    fn encode(&self, include_self: bool) -> Map<String, Value> {
        let mut out = Map::new();
        if include_self {
            out.insert(".".to_string(), Value::Object(Map::new()));
        }
        self.for_each_entry(|pe, member, child| {
            let body = match child {
                Some(set) => set.encode(member),
                None => Map::new(),
            };
            out.insert(pe.to_fields_v1_key(), Value::Object(body));
        });
        out
    }

    /// Encodes the set as FieldsV1 JSON text, byte for byte as structured-merge-diff does.
    pub fn to_fields_v1_string(&self) -> String {
        let mut s = String::new();
        self.write(&mut s, false);
        s
    }

    fn write(&self, s: &mut String, include_self: bool) {
        s.push('{');
        let mut first = true;
        if include_self {
            s.push_str("\".\":{}");
            first = false;
        }
        self.for_each_entry(|pe, member, child| {
            if !first {
                s.push(',');
            }
            first = false;
            write_go_json_string(s, &pe.to_fields_v1_key());
            s.push(':');
            match child {
                Some(set) => set.write(s, member),
                None => s.push_str("{}"),
            }
        });
        s.push('}');
    }

    /// Visits members and children merged in order: `(element, is_member, children)`.
    fn for_each_entry(&self, mut f: impl FnMut(&PathElement, bool, Option<&FieldSet>)) {
        let (members, children) = (self.members(), self.children());
        let (mut i, mut j) = (0, 0);
        while i < members.len() || j < children.len() {
            let ord = match (members.get(i), children.get(j)) {
                (Some(m), Some((c, _))) => m.cmp(c),
                (Some(_), None) => std::cmp::Ordering::Less,
                _ => std::cmp::Ordering::Greater,
            };
            match ord {
                std::cmp::Ordering::Less => {
                    f(&members[i], true, None);
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    f(&children[j].0, false, Some(&children[j].1));
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    f(&children[j].0, true, Some(&children[j].1));
                    i += 1;
                    j += 1;
                }
            }
        }
    }
}

/// Decodes one node; returns its set and whether it had `"."`.
fn decode(v: &Value, path: &mut String) -> Result<(FieldSet, bool), FieldsV1Error> {
    let Value::Object(map) = v else {
        return Err(FieldsV1Error::NotAnObject { path: path.clone() });
    };
    let mut set = FieldSet::new();
    let mut has_self = false;
    for (key, child) in map {
        if key == "." {
            has_self = true;
            continue;
        }
        let pe = PathElement::from_fields_v1_key(key)?;
        let len = path.len();
        path.push('/');
        path.push_str(key);
        let (child_set, child_self) = decode(child, path)?;
        path.truncate(len);
        if child_set.is_empty() || child_self {
            set.insert_member(pe.clone());
        }
        set.insert_child(pe, child_set);
    }
    Ok((set, has_self))
}

/// Writes a value as Go's encoding/json does (HTML-safe string escapes, sorted map keys).
pub(crate) fn write_go_json(s: &mut String, v: &Value) {
    match v {
        Value::String(x) => write_go_json_string(s, x),
        Value::Array(items) => {
            s.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                write_go_json(s, item);
            }
            s.push(']');
        }
        Value::Object(map) => {
            s.push('{');
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                write_go_json_string(s, k);
                s.push(':');
                write_go_json(s, &map[k]);
            }
            s.push('}');
        }
        other => s.push_str(&other.to_string()),
    }
}

/// Writes a JSON string with Go's escaping: `<`, `>`, `&`, U+2028 and U+2029 as `\u` escapes.
pub(crate) fn write_go_json_string(s: &mut String, x: &str) {
    s.push('"');
    for c in x.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                s.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => s.push_str(&format!("\\u{:04x}", c as u32)),
            c => s.push(c),
        }
    }
    s.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_keeps_self_markers_and_order() {
        let text = r#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{}},"k:{\"port\":443,\"protocol\":\"TCP\"}":{}}}}"#;
        let v: Value = serde_json::from_str(text).unwrap();
        let set = FieldSet::from_fields_v1(&v).unwrap();
        assert_eq!(set.to_fields_v1_string(), text);
        assert_eq!(FieldSet::from_fields_v1(&set.to_fields_v1()).unwrap(), set);
    }

    #[test]
    fn keys_sort_their_fields_and_values_use_go_json() {
        let pe =
            PathElement::from_fields_v1_key(r#"k:{"protocol":"TCP","containerPort":80}"#).unwrap();
        assert_eq!(pe.to_fields_v1_key(), r#"k:{"containerPort":80,"protocol":"TCP"}"#);
        let v = PathElement::Value(json!("a<b"));
        assert_eq!(v.to_fields_v1_key(), r#"v:"a\u003cb""#);
    }

    #[test]
    fn bad_keys_are_reported() {
        let err = FieldSet::from_fields_v1(&json!({"x:y": {}})).unwrap_err();
        assert!(matches!(err, FieldsV1Error::BadKey { .. }));
        let err = FieldSet::from_fields_v1(&json!({"f:a": 1})).unwrap_err();
        assert_eq!(err, FieldsV1Error::NotAnObject { path: "/f:a".to_string() });
    }
}
