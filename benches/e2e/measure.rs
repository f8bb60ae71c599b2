//! What one tool did in one scenario: wall time, the sandbox's request counters (by verb and
//! resource) summed over its runs, the largest number of lists of one resource in any one run,
//! every HTTP request the client sent (discovery and openapi included), and what it reported
//! doing. Pure bookkeeping; no I/O but reading the sandbox's counters.

use cetus_sandbox::SandboxHandle;
use std::collections::BTreeMap;
use std::time::Duration;

/// The verbs that change something.
pub const WRITES: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

/// One tool's figures for one scenario.
#[derive(Debug, Default, Clone)]
pub struct Measured {
    /// Wall time, summed over its runs (one run per app synced).
    pub wall: Duration,
    /// Runs (app syncs, or kubectl invocations).
    pub runs: usize,
    /// The sandbox's counters: (verb, resource) → requests.
    pub counts: BTreeMap<(String, String), u64>,
    /// The most lists of one resource within one run.
    pub max_lists_per_kind: u64,
    /// Every HTTP request the client sent, counted client-side (`None`: not counted).
    pub http: Option<u64>,
    /// What the tool says it did: label → objects.
    pub changes: BTreeMap<&'static str, usize>,
}

impl Measured {
    /// Adds one run.
    pub fn add_run(
        &mut self,
        wall: Duration,
        counts: Vec<((String, String), u64)>,
        http: Option<u64>,
    ) {
        self.http = match (self.runs, self.http, http) {
            (0, _, http) => http,
            (_, Some(before), Some(now)) => Some(before + now),
            _ => None,
        };
        self.wall += wall;
        self.runs += 1;
        for ((verb, resource), count) in counts {
            if verb == "list" {
                self.max_lists_per_kind = self.max_lists_per_kind.max(count);
            }
            *self.counts.entry((verb, resource)).or_default() += count;
        }
    }

    /// Adds what a run reported.
    pub fn add_changes(&mut self, changes: &[(&'static str, usize)]) {
        for &(label, n) in changes {
            *self.changes.entry(label).or_default() += n;
        }
    }

    /// Requests the sandbox counted.
    pub fn requests(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Requests the sandbox counted, by verb.
    pub fn by_verb(&self) -> BTreeMap<&str, u64> {
        let mut verbs = BTreeMap::new();
        for ((verb, _), count) in &self.counts {
            *verbs.entry(verb.as_str()).or_default() += count;
        }
        verbs
    }

    /// Write requests the sandbox counted.
    pub fn writes(&self) -> u64 {
        self.by_verb().iter().filter(|(v, _)| WRITES.contains(v)).map(|(_, c)| c).sum()
    }

    /// `7 list, 12 patch`: reads first, then writes.
    pub fn verbs_text(&self) -> String {
        let verbs = self.by_verb();
        if verbs.is_empty() {
            return "none".into();
        }
        let order = ["get", "list", "watch", "create", "update", "patch", "delete"];
        let mut parts: Vec<String> =
            order.iter().filter_map(|v| verbs.get(v).map(|c| format!("{c} {v}"))).collect();
        parts.extend(
            verbs.iter().filter(|(v, _)| !order.contains(v)).map(|(v, c)| format!("{c} {v}")),
        );
        parts.join(", ")
    }

    /// `1000 applied, 2 pruned` (zero counts left out).
    pub fn changes_text(&self) -> String {
        let parts: Vec<String> =
            self.changes.iter().filter(|(_, n)| **n > 0).map(|(l, n)| format!("{n} {l}")).collect();
        if parts.is_empty() { "nothing".into() } else { parts.join(", ") }
    }
}

/// The sandbox's counters since the last reset, then resets them.
pub fn take_counts(sandbox: &SandboxHandle) -> Vec<((String, String), u64)> {
    let counts = sandbox.request_counts();
    sandbox.reset_request_counts();
    counts.into_iter().map(|c| ((c.verb, c.resource), c.count)).collect()
}
