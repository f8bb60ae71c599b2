//! Diffs of objects, as `cetus diff` prints them and the daemon's history shows them: per
//! object, the unified diff of two versions' YAML, normalized (no server-written fields, no
//! ignored fields) and with Secret values masked.
//!
//! Everything here is pure. It does not decide what the two versions are: for `cetus diff`
//! the engine passes the live object and the server-side dry-run result, for the history two
//! stored renders. Nor does it decide on colour: the CLI asks for it when stdout is a
//! terminal.

mod normalize;
mod secrets;

pub use normalize::{IGNORE_FIELDS, LAST_APPLIED, ignored_fields, normalize};
pub use secrets::{MASKED, MASKED_CHANGED, mask_secrets};

use crate::render::ObjectKey;
use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::fmt;

/// Lines of context around each change.
const CONTEXT: usize = 3;

/// What happened to an object between two versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Only the after side has it.
    Added,
    /// Only the before side has it.
    Removed,
    /// Both have it, and they differ.
    Changed,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
        })
    }
}

/// One object's difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectDiff {
    /// The object.
    pub key: ObjectKey,
    /// What happened to it.
    pub change: Change,
    /// A header line naming the change and the object (`changed apps/Deployment shop/web`),
    /// then the unified diff of the two versions' YAML, every line ending in a newline.
    pub text: String,
}

/// The difference between two versions of the object `key` (`None` for a side that does not
/// have it); `None` when they do not differ once normalized.
///
/// Both sides are normalized with the ignored fields of the after side (the before side's
/// when the object was removed), then Secret values are masked.
pub fn diff_object(
    key: &ObjectKey,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Option<ObjectDiff> {
    let ignore = ignored_fields(after.or(before)?);
    let mut old = before.map(|v| normalize(v, &ignore));
    let mut new = after.map(|v| normalize(v, &ignore));
    if old == new {
        return None;
    }
    let change = match (&old, &new) {
        (None, _) => Change::Added,
        (_, None) => Change::Removed,
        _ => Change::Changed,
    };
    mask_secrets(old.as_mut(), new.as_mut());
    let yaml = |v: &Option<Value>| v.as_ref().map(crate::yaml::manifest_to_string);
    let (old, new) = (yaml(&old).unwrap_or_default(), yaml(&new).unwrap_or_default());
    if old == new {
        return None;
    }
    let hunks = similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(CONTEXT)
        .to_string();
    Some(ObjectDiff { key: key.clone(), change, text: format!("{change} {key}\n{hunks}") })
}

/// The differences between two sets of objects (two renders), paired by [`ObjectKey::of`]:
/// added and changed objects in the after set's order, then removed ones in the before set's.
/// Where a set holds a key twice, its first object counts.
pub fn diff_sets(before: &[Value], after: &[Value]) -> Vec<ObjectDiff> {
    let mut old: HashMap<ObjectKey, &Value> = HashMap::with_capacity(before.len());
    for object in before {
        old.entry(ObjectKey::of(object)).or_insert(object);
    }
    let mut seen = HashSet::with_capacity(after.len());
    let mut diffs = Vec::new();
    for object in after {
        let key = ObjectKey::of(object);
        if !seen.contains(&key) {
            diffs.extend(diff_object(&key, old.get(&key).copied(), Some(object)));
            seen.insert(key);
        }
    }
    for object in before {
        let key = ObjectKey::of(object);
        if !seen.contains(&key) {
            diffs.extend(diff_object(&key, Some(object), None));
            seen.insert(key);
        }
    }
    diffs
}

const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const RESET: &str = "\x1b[0m";

/// The diffs one after another, as `cetus diff` prints them; with `color`, ANSI colours
/// (header bold, hunk ranges cyan, removed lines red, added lines green).
pub fn render(diffs: &[ObjectDiff], color: bool) -> String {
    let mut out = String::with_capacity(diffs.iter().map(|d| d.text.len()).sum());
    for diff in diffs {
        if !color {
            out.push_str(&diff.text);
            continue;
        }
        for (i, line) in diff.text.lines().enumerate() {
            let style = match line.as_bytes().first() {
                _ if i == 0 => BOLD,
                Some(b'@') => CYAN,
                Some(b'-') => RED,
                Some(b'+') => GREEN,
                _ => "",
            };
            if style.is_empty() {
                out.push_str(line);
            } else {
                out.push_str(style);
                out.push_str(line);
                out.push_str(RESET);
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests;
