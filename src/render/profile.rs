//! Profiles: `replace` (dotted paths set to values), then `patch` (RFC 6902), then `--set`.
//!
//! Each edit moves the [`Origins`] of what it wrote, so an error found later in the pipeline
//! points at the `replace` entry or patch op that introduced the bad value.

use crate::pointer::escape as esc;
use crate::spec::{Diagnostic, Origin, Origins, Profile};
use json_patch::PatchOperation;
use serde_json::Value;

/// Applies a profile's `replace` entries, in key order (so a parent is set before a child).
pub fn apply_replace(
    doc: &mut Value,
    origins: &mut Origins,
    file: &str,
    profile_name: &str,
    profile: &Profile,
) -> Result<(), Diagnostic> {
    for (path, value) in &profile.replace {
        let entry = format!("/profiles/{}/replace/{}", esc(profile_name), esc(path));
        let fail = |message: String| {
            // The message names the path; the entry's own pointer would only repeat it.
            Diagnostic {
                origin: origins.key(&entry).cloned(),
                field: None,
                ..Diagnostic::at(file, origins, &entry, message)
            }
        };
        let target = set_dotted(doc, path, value.clone()).map_err(fail)?;
        origins.copy(&entry, &target);
    }
    Ok(())
}

/// Applies one `--set path=value` from the command line.
pub fn apply_set(
    doc: &mut Value,
    origins: &mut Origins,
    path: &str,
    value: Value,
) -> Result<(), String> {
    let target = set_dotted(doc, path, value)?;
    origins.set(&target, Origin::Flag(format!("--set {path}")));
    Ok(())
}

/// Sets the node at a dotted path (`services.web.ports.0.port`; a segment holding dots can
/// be double-quoted: `services.web.annotations."cetus.dev/prune"`). The parent must exist; a
/// numeric segment indexes a list. Returns the JSON pointer that was written.
fn set_dotted(doc: &mut Value, path: &str, value: Value) -> Result<String, String> {
    let segments = split_dotted(path)?;
    let (last, parents) = segments.split_last().ok_or("an empty path")?;
    let mut node = &mut *doc;
    let mut pointer = String::new();
    for segment in parents {
        node = child(node, segment).ok_or_else(|| {
            format!("cannot replace `{path}`: `{}` does not exist", shown(&pointer, segment))
        })?;
        pointer.push('/');
        pointer.push_str(&esc(segment));
    }
    let target = format!("{pointer}/{}", esc(last));
    match node {
        Value::Object(map) => {
            map.insert(last.clone(), value);
        }
        Value::Array(items) => {
            let len = items.len();
            let slot =
                last.parse::<usize>().ok().and_then(|i| items.get_mut(i)).ok_or_else(|| {
                    format!(
                        "cannot replace `{path}`: `{}` does not exist (the list has length {len})",
                        shown(&pointer, last)
                    )
                })?;
            *slot = value;
        }
        _ => {
            return Err(format!(
                "cannot replace `{path}`: `{}` is not a map or a list",
                crate::spec::field_path(&pointer)
            ));
        }
    }
    Ok(target)
}

fn shown(pointer: &str, segment: &str) -> String {
    crate::spec::field_path(&format!("{pointer}/{}", esc(segment)))
}

fn child<'v>(node: &'v mut Value, segment: &str) -> Option<&'v mut Value> {
    match node {
        Value::Object(map) => map.get_mut(segment),
        Value::Array(items) => items.get_mut(segment.parse::<usize>().ok()?),
        _ => None,
    }
}

fn split_dotted(path: &str) -> Result<Vec<String>, String> {
    let mut segments = Vec::new();
    let mut rest = path;
    loop {
        let (segment, tail) = if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').ok_or_else(|| format!("unterminated quote in `{path}`"))?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            rest.split_at(rest.find('.').unwrap_or(rest.len()))
        };
        if segment.is_empty() {
            return Err(format!("`{path}` has an empty segment"));
        }
        segments.push(segment.to_string());
        match tail.strip_prefix('.') {
            Some(next) => rest = next,
            None if tail.is_empty() => return Ok(segments),
            None => return Err(format!("`{path}`: expected `.` after a quoted segment")),
        }
    }
}

/// Applies a profile's RFC 6902 `patch`, op by op, so a failure names its op.
pub fn apply_patch(
    doc: &mut Value,
    origins: &mut Origins,
    file: &str,
    profile_name: &str,
    ops: &[Value],
) -> Result<(), Diagnostic> {
    for (i, raw) in ops.iter().enumerate() {
        let at = format!("/profiles/{}/patch/{i}", esc(profile_name));
        let op: PatchOperation = crate::spec::read(raw, &at, file, origins)?;
        let before = test_actual(doc, &op);
        json_patch::patch(doc, std::slice::from_ref(&op)).map_err(|e| Diagnostic {
            field: Some(op.path().to_string()),
            ..Diagnostic::at(file, origins, &at, patch_failure(&op, &e.kind, before))
        })?;
        track(origins, &at, &op);
    }
    Ok(())
}

/// For a `test` op, the value actually found, to say what it was.
fn test_actual(doc: &Value, op: &PatchOperation) -> Option<Value> {
    match op {
        PatchOperation::Test(t) => doc.pointer(t.path.as_str()).cloned(),
        _ => None,
    }
}

fn patch_failure(
    op: &PatchOperation,
    kind: &json_patch::PatchErrorKind,
    actual: Option<Value>,
) -> String {
    use json_patch::PatchErrorKind as K;
    let name = op_name(op);
    match (kind, op) {
        (K::TestFailed, PatchOperation::Test(t)) => match actual {
            Some(found) => format!("test failed: expected {}, found {found}", t.value),
            None => format!("test failed: expected {}, found nothing", t.value),
        },
        (K::InvalidFromPointer, _) => format!("{name}: the `from` path does not exist"),
        (K::InvalidPointer, _) => format!("{name}: the path does not exist"),
        (K::CannotMoveInsideItself, _) => format!("{name}: cannot move a value inside itself"),
        (other, _) => format!("{name}: {other}"),
    }
}

fn op_name(op: &PatchOperation) -> &'static str {
    match op {
        PatchOperation::Add(_) => "add",
        PatchOperation::Remove(_) => "remove",
        PatchOperation::Replace(_) => "replace",
        PatchOperation::Move(_) => "move",
        PatchOperation::Copy(_) => "copy",
        PatchOperation::Test(_) => "test",
    }
}

/// Moves origins the way the op moved values.
fn track(origins: &mut Origins, at: &str, op: &PatchOperation) {
    match op {
        PatchOperation::Add(o) => origins.copy(&format!("{at}/value"), o.path.as_str()),
        PatchOperation::Replace(o) => origins.copy(&format!("{at}/value"), o.path.as_str()),
        PatchOperation::Remove(o) => origins.remove(o.path.as_str()),
        PatchOperation::Move(o) => {
            origins.copy(o.from.as_str(), o.path.as_str());
            origins.remove(o.from.as_str());
        }
        PatchOperation::Copy(o) => origins.copy(o.from.as_str(), o.path.as_str()),
        PatchOperation::Test(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dotted_paths() {
        assert_eq!(split_dotted("a.b.0").unwrap(), ["a", "b", "0"]);
        assert_eq!(split_dotted("a.\"x.y/z\".c").unwrap(), ["a", "x.y/z", "c"]);
        assert!(split_dotted("a..b").is_err());
        assert!(split_dotted("a.").is_err());
        let mut doc = json!({"s": {"w": {"ports": [{"port": 80}]}}});
        assert_eq!(
            set_dotted(&mut doc, "s.w.ports.0.port", json!(81)).unwrap(),
            "/s/w/ports/0/port"
        );
        assert_eq!(doc["s"]["w"]["ports"][0]["port"], 81);
        assert_eq!(
            set_dotted(&mut doc, "s.api.replicas", json!(1)).unwrap_err(),
            "cannot replace `s.api.replicas`: `s.api` does not exist"
        );
        assert_eq!(
            set_dotted(&mut doc, "s.w.ports.3.port", json!(1)).unwrap_err(),
            "cannot replace `s.w.ports.3.port`: `s.w.ports[3]` does not exist"
        );
        assert_eq!(
            set_dotted(&mut doc, "s.w.ports.3", json!(1)).unwrap_err(),
            "cannot replace `s.w.ports.3`: `s.w.ports[3]` does not exist (the list has length 1)"
        );
    }
}
