//! PersistentVolumeClaim health, by phase: `Bound` is Healthy, `Lost` (its volume is gone) is
//! Degraded, and `Pending` is Progressing. A claim the API server has just created and no
//! controller has touched reads as Pending, as the API server itself sets it.

use super::{Health, text};
use serde_json::Value;

pub(super) fn assess(claim: &Value) -> Health {
    match text(claim, "/status/phase") {
        "Bound" => Health::healthy(),
        "Lost" => Health::degraded("claim is Lost"),
        "" | "Pending" => Health::progressing("claim is Pending"),
        other => Health::progressing(format!("claim is {other}")),
    }
}
