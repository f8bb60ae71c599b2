//! Apply conflicts and the exact `Status` kube-apiserver returns for them (409, reason
//! `Conflict`, one `FieldManagerConflict` cause per field), plus the `Status` of the other
//! apply failures.

use super::fieldset::{DisplayPath, Path};
use super::managed::{ManagerKey, Operation};
use serde_json::{Value, json};

/// A field another manager owns with a different value than the applied one.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The other manager's name.
    pub manager: String,
    /// How the other manager wrote the field.
    pub operation: Operation,
    /// The apiVersion of the other manager's entry.
    pub api_version: String,
    /// The subresource of the other manager's entry (empty for the main resource).
    pub subresource: String,
    /// The field, printed as kube-apiserver prints it: `.spec.replicas`,
    /// `.spec.template.spec.containers[name="web"].image`.
    pub field: String,
    /// The field as a path.
    pub path: Path,
    /// kube-apiserver's identifier of the manager (the sort key of multi-conflict messages).
    pub(crate) identifier: String,
}

impl Conflict {
    pub(crate) fn new(key: &ManagerKey, api_version: &str, path: Path) -> Conflict {
        Conflict {
            manager: key.manager.clone(),
            operation: key.operation,
            api_version: api_version.to_string(),
            subresource: key.subresource.clone(),
            field: DisplayPath(&path).to_string(),
            path,
            identifier: key.identifier(),
        }
    }

    /// The manager as kube-apiserver prints it: `"kubectl"` for an applier,
    /// `"kubectl-client-side-apply" using apps/v1` for an updater, with
    /// ` with subresource "status"` after the name for subresource managers.
    pub fn describe_manager(&self) -> String {
        let mut s = super::fieldset::path::go_quote(&self.manager);
        if !self.subresource.is_empty() {
            s.push_str(&format!(
                " with subresource {}",
                super::fieldset::path::go_quote(&self.subresource)
            ));
        }
        if self.operation == Operation::Update {
            s.push_str(&format!(" using {}", self.api_version));
        }
        s
    }
}

/// The `Status.message` of an apply conflict, exactly as kube-apiserver words it.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [c] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            c.describe_manager(),
            c.field
        );
    }
    let mut ids: Vec<&str> = conflicts.iter().map(|c| c.identifier.as_str()).collect();
    ids.sort();
    ids.dedup();
    let mut lines = Vec::new();
    for id in ids {
        let of_manager: Vec<&Conflict> = conflicts.iter().filter(|c| c.identifier == id).collect();
        lines.push(format!("conflicts with {}:", of_manager[0].describe_manager()));
        lines.extend(of_manager.iter().map(|c| format!("- {}", c.field)));
    }
    format!("Apply failed with {} conflicts: {}", conflicts.len(), lines.join("\n"))
}

/// The `Status.details.causes` of an apply conflict.
pub fn conflict_causes(conflicts: &[Conflict]) -> Vec<Value> {
    conflicts
        .iter()
        .map(|c| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {}", c.describe_manager()),
                "field": c.field,
            })
        })
        .collect()
}

/// The whole `Status` object kube-apiserver returns for an apply conflict (HTTP 409).
pub fn conflict_status(conflicts: &[Conflict]) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": conflict_message(conflicts),
        "reason": "Conflict",
        "details": {"causes": conflict_causes(conflicts)},
        "code": 409,
    })
}

/// An apply kube-apiserver refuses before merging: its message and HTTP code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidApply {
    /// The message kube-apiserver returns.
    pub message: String,
    /// 400 (`BadRequest`) or 500 (kube-apiserver reports schema errors of the applied
    /// configuration, such as duplicate list keys, as internal errors).
    pub code: u16,
}

impl InvalidApply {
    pub(crate) fn bad_request(message: impl Into<String>) -> InvalidApply {
        InvalidApply { message: message.into(), code: 400 }
    }

    pub(crate) fn internal(message: impl Into<String>) -> InvalidApply {
        InvalidApply { message: message.into(), code: 500 }
    }

    /// The `Status` kube-apiserver returns.
    pub fn status(&self) -> Value {
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "code": self.code,
        });
        if self.code == 400 {
            s["reason"] = json!("BadRequest");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merge::fieldset::PathElement;

    fn key(manager: &str, op: Operation, api_version: &str) -> ManagerKey {
        ManagerKey {
            manager: manager.into(),
            operation: op,
            api_version: if op == Operation::Apply { String::new() } else { api_version.into() },
            subresource: String::new(),
        }
    }

    fn path(names: &[&str]) -> Path {
        names.iter().map(|n| PathElement::field(n)).collect()
    }

    #[test]
    fn one_conflict_message_and_cause() {
        let c = vec![Conflict::new(
            &key("kubectl-client-side-apply", Operation::Update, "apps/v1"),
            "apps/v1",
            path(&["spec", "replicas"]),
        )];
        assert_eq!(
            conflict_message(&c),
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
        );
        assert_eq!(
            conflict_status(&c)["details"]["causes"][0],
            json!({"reason": "FieldManagerConflict",
                   "message": "conflict with \"kubectl-client-side-apply\" using apps/v1",
                   "field": ".spec.replicas"})
        );
    }

    #[test]
    fn several_conflicts_are_grouped_by_sorted_manager() {
        let c = vec![
            Conflict::new(&key("b", Operation::Apply, "v1"), "v1", path(&["data", "x"])),
            Conflict::new(&key("a", Operation::Update, "v1"), "v1", path(&["data", "y"])),
            Conflict::new(&key("b", Operation::Apply, "v1"), "v1", path(&["data", "z"])),
        ];
        assert_eq!(
            conflict_message(&c),
            "Apply failed with 3 conflicts: conflicts with \"a\" using v1:\n- .data.y\nconflicts with \"b\":\n- .data.x\n- .data.z"
        );
    }
}
