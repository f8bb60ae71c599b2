//! Deployment rollouts as the deployment controller (`pkg/controller/deployment`) writes
//! their status: a new generation is first only *observed* (`observedGeneration` catches
//! up, the new ReplicaSet is scaled, nothing new is available yet); then new pods become
//! available one at a time (every `ready-after / replicas`), the old ReplicaSet scaled down
//! as they do, within `maxSurge`/`maxUnavailable`; the rollout completes with
//! `NewReplicaSetAvailable`. A failing rollout's new pods never become available: the old
//! replicas stay available, `Progressing` stays `ReplicaSetUpdated` until
//! `progressDeadlineSeconds` (times [`crate::SandboxOptions::progress_deadline_scale`]) has
//! passed, then turns `False` with `ProgressDeadlineExceeded`.
//!
//! [`stage_status`] is pure; [`Controllers::deployment`] keeps when each rollout started.

use super::Controllers;
use super::workload::{carry_condition_times, revision_name};
use crate::meta;
use crate::store::ObjKey;
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};

/// Where one Deployment's rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    /// Whether the controller has only just observed this generation.
    pub observed_only: bool,
    /// New pods available.
    pub new_ready: i64,
    /// Old replicas available when the rollout started (0 for a new Deployment).
    pub old: i64,
    /// Whether the progress deadline has passed without the rollout completing.
    pub deadline_exceeded: bool,
}

/// When a rollout (one pod template of one Deployment) started.
#[derive(Debug, Clone)]
pub struct Memo {
    template: String,
    since: Instant,
    old: i64,
}

/// A rolling update's bound from `maxSurge`/`maxUnavailable` (`25%` or `1`): surge rounds
/// up and unavailability down, as `intstr.GetScaledValueFromIntOrPercent` does for them.
fn scaled(v: &Value, replicas: i64, round_up: bool) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => match s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) {
            Some(p) if round_up => (p * replicas + 99) / 100,
            Some(p) => p * replicas / 100,
            None => 0,
        },
        _ => 0,
    }
}

fn condition(type_: &str, status: bool, reason: &str, message: String, now: &str) -> Value {
    json!({"type": type_, "status": if status { "True" } else { "False" },
        "lastUpdateTime": now, "lastTransitionTime": now, "reason": reason, "message": message})
}

/// The status the deployment controller writes at `stage`.
pub fn stage_status(obj: &Value, stage: Stage, now: &str) -> Value {
    let r = obj["spec"]["replicas"].as_i64().unwrap_or(1);
    let strategy = &obj["spec"]["strategy"];
    let rolling = strategy["type"] != "Recreate" && stage.old > 0;
    let (surge, unavailable) = if rolling {
        let ru = &strategy["rollingUpdate"];
        let surge = scaled(&ru["maxSurge"], r, true);
        let unavailable = scaled(&ru["maxUnavailable"], r, false);
        // Validation forbids both zero; the controller then surges by one.
        if surge == 0 && unavailable == 0 { (1, 0) } else { (surge, unavailable) }
    } else {
        (0, 0)
    };
    let k = stage.new_ready.min(r);
    let (new, old) = if rolling {
        ((k + surge).min(r), (r - k - unavailable).clamp(0, stage.old))
    } else {
        (r, 0)
    };
    let available = k + old;
    let rs = revision_name(obj);
    let mut s = Map::new();
    s.insert("observedGeneration".into(), json!(meta::generation(obj)));
    for (field, n) in [
        ("replicas", new + old),
        ("updatedReplicas", new),
        ("readyReplicas", available),
        ("availableReplicas", available),
        ("unavailableReplicas", (new + old - available).max(0)),
    ] {
        // The controller's status struct omits zero counts.
        if n != 0 {
            s.insert(field.into(), json!(n));
        }
    }
    let minimum = available >= r - unavailable.min(r);
    let complete = k == r && old == 0;
    let available_condition = if minimum {
        condition(
            "Available",
            true,
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.".into(),
            now,
        )
    } else {
        condition(
            "Available",
            false,
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.".into(),
            now,
        )
    };
    let progressing = if complete && !stage.observed_only {
        let message = format!("ReplicaSet \"{rs}\" has successfully progressed.");
        condition("Progressing", true, "NewReplicaSetAvailable", message, now)
    } else if stage.deadline_exceeded {
        let message = format!("ReplicaSet \"{rs}\" has timed out progressing.");
        condition("Progressing", false, "ProgressDeadlineExceeded", message, now)
    } else if stage.observed_only && stage.old == 0 {
        condition(
            "Progressing",
            true,
            "NewReplicaSetCreated",
            format!("Created new replica set \"{rs}\""),
            now,
        )
    } else {
        condition(
            "Progressing",
            true,
            "ReplicaSetUpdated",
            format!("ReplicaSet \"{rs}\" is progressing."),
            now,
        )
    };
    let mut conditions = vec![available_condition, progressing];
    carry_condition_times(obj, &mut conditions);
    s.insert("conditions".into(), Value::Array(conditions));
    Value::Object(s)
}

impl Controllers {
    /// Writes a Deployment's next status and schedules the one after.
    pub(super) fn deployment(&mut self, key: &ObjKey, obj: &Value, fails: bool, delay: Duration) {
        let uid = meta::uid(obj).to_string();
        let template = revision_name(obj);
        let r = obj["spec"]["replicas"].as_i64().unwrap_or(1);
        let observed = obj["status"]["observedGeneration"].as_i64() == Some(meta::generation(obj));
        let memo = match self.rollouts.get(&uid) {
            Some(m) if m.template == template => m.clone(),
            _ => {
                let now = Instant::now();
                let done =
                    Stage { observed_only: false, new_ready: r, old: 0, deadline_exceeded: false };
                // Already complete (a restarted sandbox): the rollout lies in the past.
                let complete =
                    observed && !fails && same_counts(&obj["status"], &stage_status(obj, done, ""));
                let memo = if complete {
                    Memo {
                        template: template.clone(),
                        since: now.checked_sub(delay).unwrap_or(now),
                        old: 0,
                    }
                } else {
                    // The replicas of the previous template, if this is an update.
                    let old = obj["status"]["availableReplicas"].as_i64().unwrap_or(0).min(r);
                    Memo { template: template.clone(), since: now, old }
                };
                self.rollouts.insert(uid.clone(), memo.clone());
                memo
            }
        };
        let elapsed = memo.since.elapsed();
        let step =
            if r > 0 { delay / u32::try_from(r).unwrap_or(u32::MAX) } else { Duration::ZERO };
        let new_ready = match (fails, step.is_zero()) {
            (true, _) => 0,
            (false, true) => r,
            (false, false) => (elapsed.as_nanos() / step.as_nanos()).min(r as u128) as i64,
        };
        let deadline_secs = obj["spec"]["progressDeadlineSeconds"].as_f64().unwrap_or(600.0);
        let deadline =
            Duration::from_secs_f64(deadline_secs * self.state.tuning.progress_deadline_scale);
        let stage = Stage {
            observed_only: !observed,
            new_ready: if observed { new_ready } else { 0 },
            old: memo.old,
            deadline_exceeded: observed && fails && elapsed >= deadline,
        };
        let next = if !observed {
            // Observed first; the next sync (triggered by this very write) goes on.
            None
        } else if fails && !stage.deadline_exceeded {
            Some(deadline.saturating_sub(elapsed))
        } else if !fails && new_ready < r {
            Some((step * u32::try_from(new_ready + 1).unwrap_or(u32::MAX)).saturating_sub(elapsed))
        } else {
            None
        };
        if let Some(wait) = next {
            self.after(key, wait.max(Duration::from_millis(1)));
        }
        let status = stage_status(obj, stage, &meta::now());
        let count = |f: &str| status[f].as_i64().unwrap_or(0);
        let (updated, old) =
            (count("updatedReplicas"), count("replicas") - count("updatedReplicas"));
        self.set_status(key, obj, "kube-controller-manager", status);
        self.sync_replica_sets(key, obj, updated, old.max(0));
    }
}

/// Whether two statuses agree on every count and condition reason.
fn same_counts(a: &Value, b: &Value) -> bool {
    let counts = [
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
        "unavailableReplicas",
    ];
    let reasons = |s: &Value| -> Vec<Value> {
        s["conditions"].as_array().into_iter().flatten().map(|c| c["reason"].clone()).collect()
    };
    counts.iter().all(|c| a[c] == b[c]) && reasons(a) == reasons(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy(replicas: i64) -> Value {
        json!({"metadata": {"name": "web", "generation": 2}, "spec": {"replicas": replicas,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {"spec": {"containers": [{"name": "c", "image": "nginx:1"}]}}}})
    }

    fn summary(s: &Value) -> (Vec<i64>, Vec<String>) {
        let counts = ["replicas", "updatedReplicas", "availableReplicas", "unavailableReplicas"]
            .iter()
            .map(|c| s[c].as_i64().unwrap_or(0))
            .collect();
        let reasons = s["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| format!("{}={}", c["type"].as_str().unwrap(), c["reason"].as_str().unwrap()))
            .collect();
        (counts, reasons)
    }

    #[test]
    fn stages_of_a_rolling_update_and_of_a_failing_one() {
        let d = deploy(4);
        let at = |observed_only, new_ready, old, deadline_exceeded| {
            summary(&stage_status(
                &d,
                Stage { observed_only, new_ready, old, deadline_exceeded },
                "T",
            ))
        };
        let avail = "Available=MinimumReplicasAvailable".to_string();
        let unavail = "Available=MinimumReplicasUnavailable".to_string();
        let table = [
            // A new Deployment: all pods at once, none available yet, then one by one.
            (
                at(true, 0, 0, false),
                (
                    vec![4, 4, 0, 4],
                    vec![unavail.clone(), "Progressing=NewReplicaSetCreated".into()],
                ),
            ),
            (
                at(false, 2, 0, false),
                (vec![4, 4, 2, 2], vec![unavail.clone(), "Progressing=ReplicaSetUpdated".into()]),
            ),
            (
                at(false, 4, 0, false),
                (
                    vec![4, 4, 4, 0],
                    vec![avail.clone(), "Progressing=NewReplicaSetAvailable".into()],
                ),
            ),
            // An update of 4 available replicas: surge 1, one old may be unavailable.
            (
                at(true, 0, 4, false),
                (vec![4, 1, 3, 1], vec![avail.clone(), "Progressing=ReplicaSetUpdated".into()]),
            ),
            (
                at(false, 2, 4, false),
                (vec![4, 3, 3, 1], vec![avail.clone(), "Progressing=ReplicaSetUpdated".into()]),
            ),
            (
                at(false, 4, 4, false),
                (
                    vec![4, 4, 4, 0],
                    vec![avail.clone(), "Progressing=NewReplicaSetAvailable".into()],
                ),
            ),
            // Failing: the old replicas stay available; the deadline turns Progressing False.
            (
                at(false, 0, 4, true),
                (vec![4, 1, 3, 1], vec![avail, "Progressing=ProgressDeadlineExceeded".into()]),
            ),
            (
                at(false, 0, 0, true),
                (vec![4, 4, 0, 4], vec![unavail, "Progressing=ProgressDeadlineExceeded".into()]),
            ),
        ];
        for (i, (got, want)) in table.into_iter().enumerate() {
            assert_eq!(got, want, "row {i}");
        }
    }

    #[test]
    fn surge_and_unavailability_round_as_the_controller_does() {
        assert_eq!(scaled(&json!("25%"), 3, true), 1);
        assert_eq!(scaled(&json!("25%"), 3, false), 0);
        assert_eq!(scaled(&json!(2), 3, false), 2);
    }
}
