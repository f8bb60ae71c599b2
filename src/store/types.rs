//! The records the store keeps and the arguments of its writes: history entries (DESIGN §6),
//! pins, and what a sync hands over when it begins and when it finishes.
//!
//! Plain data with serde; the store's methods own the rules about them. The engine's types it
//! keeps (inventories, applied memory) live in `crate::engine`.

use crate::engine::{AppliedMemory, Inventory};
use crate::render::ResolvedDependency;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How many history entries an app keeps by default (the daemon's `historyLimit`).
pub const DEFAULT_HISTORY_LIMIT: usize = 100;

/// How a store is run. Plain options with defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// Entries kept per app: every `finish_sync` trims the app to this many (see
    /// [`super::Store::trim`]); `None` keeps everything.
    pub history_limit: Option<usize>,
    /// The most memory sled's page cache may take, in bytes. sled's own default (1 GiB) is far
    /// above what the daemon's records need.
    pub cache_bytes: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { history_limit: Some(DEFAULT_HISTORY_LIMIT), cache_bytes: 32 << 20 }
    }
}

/// What started a sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// The poll found a new commit.
    Poll,
    /// A webhook announced a push.
    Webhook,
    /// A managed object changed in the cluster.
    Drift,
    /// Asked for through the API.
    Manual,
    /// A retry after a failure.
    Retry,
    /// An operator's rollback.
    Rollback,
    /// The daemon rolled back after a failed health check or test.
    AutoRollback,
    /// The one-shot CLI (`cetus sync --store`).
    Cli,
    /// The daemon's first pass after it started.
    Startup,
}

impl Trigger {
    /// The name as serialized (`auto-rollback`).
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Poll => "poll",
            Trigger::Webhook => "webhook",
            Trigger::Drift => "drift",
            Trigger::Manual => "manual",
            Trigger::Retry => "retry",
            Trigger::Rollback => "rollback",
            Trigger::AutoRollback => "auto-rollback",
            Trigger::Cli => "cli",
            Trigger::Startup => "startup",
        }
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a sync ended, or that it has not.
///
/// Transitions: an entry is written `Running` by `begin_sync`; `finish_sync` moves it to one
/// of the others, once; `Store::open` (and a `begin_sync` of the same app) moves an entry left
/// `Running` by a killed process to `Failed` with the error `interrupted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// In progress.
    Running,
    /// Applied, and healthy.
    Succeeded,
    /// Stopped by an error (render, apply, prune, or an interruption).
    Failed,
    /// Applied, failed its health check or tests, and the last healthy entry was re-applied.
    RolledBack,
}

impl Outcome {
    /// The name as serialized (`RolledBack`).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Running => "Running",
            Outcome::Succeeded => "Succeeded",
            Outcome::Failed => "Failed",
            Outcome::RolledBack => "RolledBack",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many objects a sync applied, left unchanged and pruned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Created or configured.
    pub applied: u64,
    /// Already as rendered.
    pub unchanged: u64,
    /// Deleted because they are no longer rendered.
    pub pruned: u64,
}

/// The error an entry gets when its process died during the sync.
pub const INTERRUPTED: &str = "interrupted";

/// One sync of one app, as history shows it (DESIGN §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Increasing per app from 1, never reused.
    pub id: u64,
    /// The config repo's commit; `None` for a directory that is not a git checkout.
    pub commit: Option<String>,
    /// The commits `git` dependencies resolved to.
    #[serde(default)]
    pub dependencies: Vec<ResolvedDependency>,
    /// The render's digest; `None` when the render failed.
    pub digest: Option<String>,
    /// What started it.
    pub trigger: Trigger,
    /// When it began.
    pub started: Timestamp,
    /// When it ended; `None` while running, and for an interrupted sync (its end is unknown).
    pub finished: Option<Timestamp>,
    /// How it ended.
    pub outcome: Outcome,
    /// The app's health at the end (`Healthy`, `Degraded`, ...), when it was judged.
    pub health: Option<String>,
    /// What it did.
    #[serde(default)]
    pub counts: Counts,
    /// Why it failed or rolled back.
    pub error: Option<String>,
    /// The commit's author.
    pub author: Option<String>,
    /// The commit's subject line.
    pub subject: Option<String>,
    /// For a rollback, the entry whose manifests it re-applied.
    pub restores: Option<u64>,
    /// Whether the app's pin names this entry. Not stored: filled in from the pin on read.
    #[serde(default)]
    pub pinned: bool,
}

/// What a sync says about itself when it begins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// What started it.
    pub trigger: Trigger,
    /// The config repo's commit.
    pub commit: Option<String>,
    /// The commits `git` dependencies resolved to.
    pub dependencies: Vec<ResolvedDependency>,
    /// The render's digest; `None` when the render failed.
    pub digest: Option<String>,
    /// The commit's author.
    pub author: Option<String>,
    /// The commit's subject line.
    pub subject: Option<String>,
    /// For a rollback, the entry whose manifests it re-applies.
    pub restores: Option<u64>,
    /// When it began.
    pub started: Timestamp,
}

impl NewEntry {
    /// A sync started now by `trigger`, with nothing else known yet; set the rest with struct
    /// update syntax.
    pub fn new(trigger: Trigger) -> NewEntry {
        NewEntry {
            trigger,
            commit: None,
            dependencies: Vec::new(),
            digest: None,
            author: None,
            subject: None,
            restores: None,
            started: Timestamp::now(),
        }
    }
}

/// What a sync hands over when it ends.
#[derive(Debug, Clone, PartialEq)]
pub struct Finish {
    /// How it ended; never [`Outcome::Running`].
    pub outcome: Outcome,
    /// The app's health, when it was judged.
    pub health: Option<String>,
    /// What it did.
    pub counts: Counts,
    /// Why it failed or rolled back.
    pub error: Option<String>,
    /// The app's inventory from now on; `None` keeps the stored one (the pending inventory of
    /// this sync, or the previous one), as after a sync that failed before it applied.
    pub inventory: Option<Inventory>,
    /// The engine's applied memory from now on; `None` keeps the stored one.
    pub applied: Option<AppliedMemory>,
    /// The entry whose manifests are live from now on; `None` keeps the pointer.
    pub current: Option<u64>,
    /// When it ended.
    pub finished: Timestamp,
}

impl Finish {
    /// What a sync the engine reported ends as: its health, counts, error, inventory and
    /// memory; `current` is the entry live from now on (`None` keeps the pointer).
    pub fn of_report(
        report: &crate::engine::SyncReport,
        outcome: Outcome,
        current: Option<u64>,
    ) -> Finish {
        let counts = report.changes.counts();
        Finish {
            health: report.health.as_ref().map(|h| h.status.to_string()),
            counts: Counts {
                applied: counts.applied as u64,
                unchanged: counts.unchanged as u64,
                pruned: counts.pruned as u64,
            },
            error: report.error.as_ref().map(ToString::to_string),
            inventory: Some(report.inventory.clone()),
            applied: Some(report.memory.clone()),
            current,
            ..Finish::new(outcome)
        }
    }

    /// A sync ending now with `outcome`, changing nothing else; set the rest with struct
    /// update syntax.
    pub fn new(outcome: Outcome) -> Finish {
        Finish {
            outcome,
            health: None,
            counts: Counts::default(),
            error: None,
            inventory: None,
            applied: None,
            current: None,
            finished: Timestamp::now(),
        }
    }
}

/// An app held at one entry: auto-sync leaves it there until it is unpinned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// The entry whose manifests the app is held at.
    pub entry: u64,
    /// That entry's digest.
    pub digest: String,
    /// That entry's commit.
    pub commit: Option<String>,
    /// When it was pinned.
    pub at: Timestamp,
    /// Why (`rollback by API`), for status.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_and_outcomes_serialize_as_their_names() {
        let triggers = [
            Trigger::Poll,
            Trigger::Webhook,
            Trigger::Drift,
            Trigger::Manual,
            Trigger::Retry,
            Trigger::Rollback,
            Trigger::AutoRollback,
            Trigger::Cli,
            Trigger::Startup,
        ];
        let names: Vec<String> =
            triggers.iter().map(|t| serde_json::to_string(t).unwrap()).collect();
        assert_eq!(
            names,
            [
                "\"poll\"",
                "\"webhook\"",
                "\"drift\"",
                "\"manual\"",
                "\"retry\"",
                "\"rollback\"",
                "\"auto-rollback\"",
                "\"cli\"",
                "\"startup\""
            ]
        );
        for t in triggers {
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{t}\""));
            assert_eq!(serde_json::from_str::<Trigger>(&format!("\"{t}\"")).unwrap(), t);
        }
        for o in [Outcome::Running, Outcome::Succeeded, Outcome::Failed, Outcome::RolledBack] {
            assert_eq!(serde_json::to_string(&o).unwrap(), format!("\"{o}\""));
        }
        assert_eq!(Outcome::RolledBack.to_string(), "RolledBack");
    }

    #[test]
    fn timestamps_are_rfc3339() {
        let at: Timestamp = "2024-05-01T12:00:00Z".parse().unwrap();
        let pin = Pin { entry: 3, digest: "d".into(), commit: None, at, reason: "r".into() };
        let json = serde_json::to_value(&pin).unwrap();
        assert_eq!(json["at"], "2024-05-01T12:00:00Z");
    }
}
