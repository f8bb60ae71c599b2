//! Job health, by the conditions the Job controller writes: `Failed` (or `FailureTarget`,
//! written first while the failed Job's pods terminate) is Degraded; `Complete` (or
//! `SuccessCriteriaMet`, written first while the succeeded Job's pods terminate) is Healthy,
//! since the outcome is decided either way; a suspended Job is Suspended; anything else is
//! still running.

use super::{Health, HealthStatus, condition, int, text, with_message};
use serde_json::Value;

pub(super) fn assess(job: &Value) -> Health {
    let holds = |type_: &str| condition(job, type_).filter(|c| text(c, "/status") == "True");
    if let Some(failed) = holds("Failed").or_else(|| holds("FailureTarget")) {
        let why = [text(failed, "/reason"), text(failed, "/message")];
        let why: Vec<&str> = why.into_iter().filter(|s| !s.is_empty()).collect();
        return Health::degraded(with_message("job failed", &why.join(": ")));
    }
    if holds("Complete").or_else(|| holds("SuccessCriteriaMet")).is_some() {
        return Health::healthy();
    }
    // The controller writes `Suspended` a moment after `spec.suspend` is set.
    let suspended = job.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true);
    if suspended || holds("Suspended").is_some() {
        return Health::new(HealthStatus::Suspended, "job suspended");
    }
    Health::progressing(running(job))
}

/// `waiting for the job: 0 of 1 completions succeeded, 1 active, 2 failed`.
fn running(job: &Value) -> String {
    let succeeded = int(job, "/status/succeeded");
    let mut reason = match job.pointer("/spec/completions").and_then(Value::as_i64) {
        Some(completions) => {
            format!("waiting for the job: {succeeded} of {completions} completions succeeded")
        }
        // A work queue (parallelism without completions) is done when any pod succeeds.
        None => format!("waiting for the job: {succeeded} succeeded"),
    };
    for (field, what) in [("active", "active"), ("failed", "failed")] {
        let n = int(job, &format!("/status/{field}"));
        if n > 0 {
            reason.push_str(&format!(", {n} {what}"));
        }
    }
    reason
}
