//! What a sync did, object by object: the change set the CLI prints, the store counts and tests
//! assert on. Every action is in the past tense, as Flux's `ssa` reports them.

use crate::render::ObjectKey;
use serde::Serialize;
use std::fmt;

/// What happened to one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum Action {
    /// It did not exist and was created.
    Created,
    /// It existed and was changed.
    Configured {
        /// Field managers whose fields Cetus took over (`force`), with the fields.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        overrode: Vec<String>,
    },
    /// It already matched; nothing was written.
    Unchanged,
    /// It was deleted because the render no longer has it.
    Pruned,
    /// It was left alone on purpose.
    Skipped {
        /// Why.
        reason: String,
    },
    /// Writing or deleting it failed.
    Failed {
        /// The error.
        error: String,
    },
}

impl Action {
    /// `Configured` without takeovers.
    pub fn configured() -> Action {
        Action::Configured { overrode: Vec::new() }
    }
}

/// One object's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The object.
    #[serde(flatten)]
    pub key: ObjectKey,
    /// What happened to it.
    #[serde(flatten)]
    pub action: Action,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.action {
            Action::Created => write!(f, "{} created", self.key),
            Action::Configured { overrode } if overrode.is_empty() => {
                write!(f, "{} configured", self.key)
            }
            Action::Configured { overrode } => {
                write!(f, "{} configured (took over {})", self.key, overrode.join("; "))
            }
            Action::Unchanged => write!(f, "{} unchanged", self.key),
            Action::Pruned => write!(f, "{} pruned", self.key),
            Action::Skipped { reason } => write!(f, "{} skipped: {reason}", self.key),
            Action::Failed { error } => write!(f, "{} failed: {error}", self.key),
        }
    }
}

/// Counts of a change set, as history records them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Objects created or configured.
    pub applied: usize,
    /// Objects left as they were.
    pub unchanged: usize,
    /// Objects deleted.
    pub pruned: usize,
    /// Objects skipped.
    pub skipped: usize,
    /// Objects that failed.
    pub failed: usize,
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} applied, {} unchanged, {} pruned, {} skipped, {} failed",
            self.applied, self.unchanged, self.pruned, self.skipped, self.failed
        )
    }
}

/// Everything a sync did, in the order it did it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ChangeSet {
    /// The changes.
    pub changes: Vec<Change>,
}

impl ChangeSet {
    /// Adds a change.
    pub fn push(&mut self, key: ObjectKey, action: Action) {
        self.changes.push(Change { key, action });
    }

    /// The counts by kind of action.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for change in &self.changes {
            match change.action {
                Action::Created | Action::Configured { .. } => counts.applied += 1,
                Action::Unchanged => counts.unchanged += 1,
                Action::Pruned => counts.pruned += 1,
                Action::Skipped { .. } => counts.skipped += 1,
                Action::Failed { .. } => counts.failed += 1,
            }
        }
        counts
    }

    /// The changes that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| matches!(c.action, Action::Failed { .. }))
    }

    /// The action recorded for `key`, if any.
    pub fn action(&self, key: &ObjectKey) -> Option<&Action> {
        self.changes.iter().find(|c| &c.key == key).map(|c| &c.action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: &str, name: &str) -> ObjectKey {
        ObjectKey {
            group: "apps".into(),
            kind: kind.into(),
            namespace: "shop".into(),
            name: name.into(),
        }
    }

    #[test]
    fn lines_and_counts() {
        let mut set = ChangeSet::default();
        set.push(key("Deployment", "web"), Action::Created);
        set.push(
            key("Deployment", "api"),
            Action::Configured { overrode: vec!["kubectl-edit: .spec.replicas".into()] },
        );
        set.push(key("Deployment", "db"), Action::Skipped { reason: "prune disabled".into() });
        let lines: Vec<String> = set.changes.iter().map(|c| c.to_string()).collect();
        assert_eq!(
            lines,
            [
                "apps/Deployment shop/web created",
                "apps/Deployment shop/api configured (took over kubectl-edit: .spec.replicas)",
                "apps/Deployment shop/db skipped: prune disabled",
            ]
        );
        assert_eq!(
            set.counts(),
            Counts { applied: 2, unchanged: 0, pruned: 0, skipped: 1, failed: 0 }
        );
        let json = serde_json::to_value(&set.changes[2]).unwrap();
        assert_eq!(json["action"], "skipped");
        assert_eq!(json["reason"], "prune disabled");
        assert_eq!(json["kind"], "Deployment");
    }
}
