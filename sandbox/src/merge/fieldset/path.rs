//! Path elements and paths, as structured-merge-diff names a position in an object: a field
//! name, the key of an associative-list item, the value of a set item, or a list index.
//! Owns their total order (the order FieldsV1 is written in), their printed form (the form
//! kube-apiserver uses in conflict messages) and value comparison. It does not own sets of
//! paths (see the parent module).

use serde_json::Value;
use std::cmp::Ordering;
use std::fmt;

/// One step of a path into an object.
#[derive(Debug, Clone, PartialEq)]
pub enum PathElement {
    /// A field of a struct or an entry of a map: `f:<name>`.
    Field(String),
    /// An item of an associative list, named by its key fields sorted by name: `k:{...}`.
    Key(Vec<(String, Value)>),
    /// An item of a set list, named by its value: `v:<json>`.
    Value(Value),
    /// An item of a list named by position: `i:<n>`.
    Index(i64),
}

impl Eq for PathElement {}

impl PathElement {
    /// Shorthand for a field element.
    pub fn field(name: &str) -> PathElement {
        PathElement::Field(name.to_string())
    }

    /// The element's rank in structured-merge-diff's order: fields, keys, values, indexes.
    fn rank(&self) -> u8 {
        match self {
            PathElement::Field(_) => 0,
            PathElement::Key(_) => 1,
            PathElement::Value(_) => 2,
            PathElement::Index(_) => 3,
        }
    }
}

impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.cmp(b),
            (PathElement::Key(a), PathElement::Key(b)) => compare_keys(a, b),
            (PathElement::Value(a), PathElement::Value(b)) => compare_values(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Compares two key field lists lexically: name, then value, field by field; shorter first.
fn compare_keys(a: &[(String, Value)], b: &[(String, Value)]) -> Ordering {
    for (x, y) in a.iter().zip(b.iter()) {
        let c = x.0.cmp(&y.0).then_with(|| compare_values(&x.1, &y.1));
        if c != Ordering::Equal {
            return c;
        }
    }
    a.len().cmp(&b.len())
}

/// Structured-merge-diff's total order over values: numbers (numerically), strings, booleans,
/// lists, maps, null.
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::String(_) => 1,
            Value::Bool(_) => 2,
            Value::Array(_) => 3,
            Value::Object(_) => 4,
            Value::Null => 5,
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                let c = compare_values(p, q);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            // Maps compare by their sorted entries, like structured-merge-diff's MapCompare.
            for ((k1, v1), (k2, v2)) in x.iter().zip(y.iter()) {
                let c = k1.cmp(k2).then_with(|| compare_values(v1, v2));
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

fn compare_numbers(x: &serde_json::Number, y: &serde_json::Number) -> Ordering {
    match (x.as_i64(), y.as_i64()) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => {
            let a = x.as_f64().unwrap_or(0.0);
            let b = y.as_f64().unwrap_or(0.0);
            a.partial_cmp(&b).unwrap_or(Ordering::Equal)
        }
    }
}

/// Value equality as structured-merge-diff sees it: numbers compare numerically (so `1` and
/// `1.0` are equal), maps regardless of key order.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y) == Ordering::Equal,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| values_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

/// A path from the root of an object.
pub type Path = Vec<PathElement>;

/// Prints a path as kube-apiserver does in conflicts: `.spec.template.spec.containers[name="web"].image`.
pub struct DisplayPath<'a>(pub &'a [PathElement]);

impl fmt::Display for DisplayPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for pe in self.0 {
            write!(f, "{pe}")?;
        }
        Ok(())
    }
}

impl fmt::Display for PathElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(fields) => {
                f.write_str("[")?;
                for (i, (name, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{name}={}", value_to_string(value))?;
                }
                f.write_str("]")
            }
            PathElement::Value(value) => write!(f, "[={}]", value_to_string(value)),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// structured-merge-diff's `value.ToString`: strings Go-quoted, numbers and booleans bare.
fn value_to_string(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => go_quote(s),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(value_to_string).collect();
            format!("[{}]", parts.join(","))
        }
        Value::Object(map) => {
            let parts: Vec<String> =
                map.iter().map(|(k, v)| format!("{k}={}", value_to_string(v))).collect();
            format!("{{{}}}", parts.join(","))
        }
    }
}

/// Go's `%q` for the strings that occur in keys: escapes quotes, backslashes and control
/// characters, keeps printable Unicode as is.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(pairs: &[(&str, Value)]) -> PathElement {
        PathElement::Key(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn order_is_fields_keys_values_indexes() {
        let mut pes = [
            PathElement::Index(0),
            PathElement::Value(json!("a")),
            key(&[("name", json!("a"))]),
            PathElement::field("b"),
            PathElement::field("a"),
        ];
        pes.sort();
        assert_eq!(pes[0], PathElement::field("a"));
        assert_eq!(pes[1], PathElement::field("b"));
        assert!(matches!(pes[2], PathElement::Key(_)));
        assert!(matches!(pes[3], PathElement::Value(_)));
        assert_eq!(pes[4], PathElement::Index(0));
    }

    #[test]
    fn numeric_keys_sort_numerically_not_textually() {
        let p80 = key(&[("containerPort", json!(80)), ("protocol", json!("TCP"))]);
        let p443 = key(&[("containerPort", json!(443)), ("protocol", json!("TCP"))]);
        assert!(p80 < p443);
    }

    #[test]
    fn paths_print_like_kube_apiserver() {
        let path = vec![
            PathElement::field("spec"),
            PathElement::field("containers"),
            key(&[("name", json!("web"))]),
            PathElement::field("image"),
        ];
        assert_eq!(DisplayPath(&path).to_string(), r#".spec.containers[name="web"].image"#);
        let ports = vec![
            PathElement::field("ports"),
            key(&[("port", json!(80)), ("protocol", json!("TCP"))]),
        ];
        assert_eq!(DisplayPath(&ports).to_string(), r#".ports[port=80,protocol="TCP"]"#);
        let set = vec![PathElement::field("finalizers"), PathElement::Value(json!("a"))];
        assert_eq!(DisplayPath(&set).to_string(), r#".finalizers[="a"]"#);
    }

    #[test]
    fn equality_is_numeric() {
        assert!(values_equal(&json!(1), &json!(1.0)));
        assert!(!values_equal(&json!(1), &json!("1")));
    }
}
