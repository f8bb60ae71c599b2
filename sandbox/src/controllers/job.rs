//! Job status, as the Job controller reports it: running, then complete
//! (`SuccessCriteriaMet` and `Complete`) or failed (`FailureTarget` and `Failed`, reason
//! `BackoffLimitExceeded`).
//!
//! Pure: the controller loop decides the outcome (annotations, controls, duration).

use super::workload::carry_condition_times;
use serde_json::{Value, json};

/// Annotation: the Job fails (`"true"`).
pub const FAIL_JOB: &str = "sandbox.cetus.dev/fail-job";
/// Annotation: the Job runs this long before it completes or fails (`"2s"`).
pub const DURATION: &str = "sandbox.cetus.dev/duration";

/// Where a Job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobPhase {
    /// Its pod runs.
    Running,
    /// All completions succeeded.
    Complete,
    /// It hit its backoff limit.
    Failed,
}

/// Whether a Job has finished (it is then never changed again).
pub fn finished(job: &Value) -> bool {
    job["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter().any(|c| {
            matches!(c["type"].as_str(), Some("Complete" | "Failed")) && c["status"] == "True"
        })
    })
}

/// When a finished Job finished: its completion time, or when it failed.
pub fn finish_time(job: &Value) -> Option<&str> {
    let s = &job["status"];
    s["completionTime"].as_str().or_else(|| {
        s["conditions"].as_array()?.iter().find_map(|c| {
            (c["type"] == "Failed" && c["status"] == "True")
                .then(|| c["lastTransitionTime"].as_str())
                .flatten()
        })
    })
}

fn condition(type_: &str, reason: &str, message: &str, now: &str) -> Value {
    json!({"type": type_, "status": "True", "lastProbeTime": now, "lastTransitionTime": now, "reason": reason, "message": message})
}

/// The status of a Job in `phase`; `started` is its `startTime`.
pub fn status(job: &Value, phase: JobPhase, started: &str, now: &str) -> Value {
    let mut s =
        json!({"startTime": started, "ready": 0, "terminating": 0, "uncountedTerminatedPods": {}});
    match phase {
        JobPhase::Running => s["active"] = json!(1),
        JobPhase::Complete => {
            let completions = job["spec"]["completions"].as_i64().unwrap_or(1);
            s["succeeded"] = json!(completions);
            s["completionTime"] = json!(now);
            let msg = "Reached expected number of succeeded pods";
            s["conditions"] = json!([
                condition("SuccessCriteriaMet", "CompletionsReached", msg, now),
                condition("Complete", "CompletionsReached", msg, now),
            ]);
        }
        JobPhase::Failed => {
            let limit = job["spec"]["backoffLimit"].as_i64().unwrap_or(6);
            s["failed"] = json!(limit + 1);
            let msg = "Job has reached the specified backoff limit";
            s["conditions"] = json!([
                condition("FailureTarget", "BackoffLimitExceeded", msg, now),
                condition("Failed", "BackoffLimitExceeded", msg, now),
            ]);
        }
    }
    if let Some(cs) = s["conditions"].as_array_mut() {
        carry_condition_times(job, cs);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_and_failed() {
        let job = json!({"spec": {"completions": 2, "backoffLimit": 1}});
        let ok = status(&job, JobPhase::Complete, "T0", "T1");
        assert_eq!(ok["succeeded"], 2);
        assert_eq!(ok["conditions"][1]["type"], "Complete");
        let bad = status(&job, JobPhase::Failed, "T0", "T1");
        assert_eq!(bad["failed"], 2);
        assert_eq!(bad["conditions"][1]["reason"], "BackoffLimitExceeded");
        let mut done = job.clone();
        done["status"] = ok;
        assert!(finished(&done));
        assert!(!finished(&job));
    }
}
