//! Waiting for objects to reach a state (health, CRDs established, Jobs done), with a deadline
//! and the caller's cancellation.
//!
//! A wait re-judges its objects whenever the watch cache reports a change, so with warm
//! watches it makes no requests; objects of kinds whose watch is not in sync are read from
//! the server, at most once a second.

use super::health::{Health, HealthStatus, ObjectHealth};
use super::sync::{Progress, SyncError};
use super::{Engine, Resolved};
use crate::render::ObjectKey;
use serde_json::Value;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How a wait judges one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It is where the wait wants it.
    Done,
    /// Not yet, and why.
    Pending(String),
    /// It will not get there, and why.
    Failed(String),
}

/// One wait's limits.
pub struct Waiter<'a> {
    /// The engine, for the cache and reads.
    pub engine: &'a Engine,
    /// When to give up.
    pub deadline: Instant,
    /// The timeout the deadline came from (for the message).
    pub timeout: Duration,
    /// Ends the wait early.
    pub cancel: &'a CancellationToken,
    /// Told what is still awaited, whenever that changes.
    pub progress: Option<&'a Progress>,
}

/// How often objects whose watch is not in sync are read again.
const POLL: Duration = Duration::from_secs(1);

impl Waiter<'_> {
    /// Waits until `judge` says every target is done; fails as soon as one has failed.
    pub async fn wait(
        &self,
        what: &str,
        targets: &[(Resolved, ObjectKey)],
        judge: fn(Option<&Value>) -> Verdict,
    ) -> Result<(), SyncError> {
        let mut ticks = self.engine.cache().ticks();
        let mut last_pending: Vec<ObjectHealth> = Vec::new();
        loop {
            ticks.borrow_and_update();
            let (pending, failed) = self.judge_all(targets, judge).await;
            if !failed.is_empty() {
                let failed = failed.iter().map(ToString::to_string).collect();
                return Err(SyncError::Unhealthy { what: what.to_string(), failed });
            }
            if pending.is_empty() {
                return Ok(());
            }
            if pending != last_pending {
                if let Some(progress) = self.progress {
                    progress(what, &pending);
                }
                last_pending = pending;
            }
            let timeout = || SyncError::Timeout {
                what: what.to_string(),
                pending: last_pending.iter().map(ToString::to_string).collect(),
                after: self.timeout,
            };
            let poll = Instant::now() + POLL;
            tokio::select! {
                _ = self.cancel.cancelled() => return Err(SyncError::Cancelled),
                _ = tokio::time::sleep_until(self.deadline) => return Err(timeout()),
                _ = ticks.changed() => {}
                _ = tokio::time::sleep_until(poll) => {}
            }
        }
    }

    async fn judge_all(
        &self,
        targets: &[(Resolved, ObjectKey)],
        judge: fn(Option<&Value>) -> Verdict,
    ) -> (Vec<ObjectHealth>, Vec<ObjectHealth>) {
        let (mut pending, mut failed) = (Vec::new(), Vec::new());
        for (resolved, key) in targets {
            let verdict = match self.engine.live(resolved, key).await {
                Ok(live) => judge(live.as_ref()),
                Err(e) => Verdict::Pending(format!("cannot read: {}", e.chain())),
            };
            let health = |status, reason| ObjectHealth {
                key: key.clone(),
                health: Health { status, reason },
            };
            match verdict {
                Verdict::Done => {}
                Verdict::Pending(reason) => pending.push(health(HealthStatus::Progressing, reason)),
                Verdict::Failed(reason) => failed.push(health(HealthStatus::Degraded, reason)),
            }
        }
        (pending, failed)
    }
}
