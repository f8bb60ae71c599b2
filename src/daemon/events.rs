//! Kubernetes Events for what the daemon does to an app (events.k8s.io/v1, through
//! kube-runtime's `Recorder`), so `kubectl get events -A` tells the story of a rollback as a
//! cluster's own controllers tell theirs.
//!
//! Each event regards the app's Namespace object and is written into that namespace (where
//! `kubectl -n <ns> get events` looks). Reasons: `Synced`, `SyncFailed`, `RenderFailed`,
//! `RolledBack`, `Pinned`, `Unpinned`, `Pruned`. Publishing never fails a sync: an API server
//! that refuses events costs a warning in the log.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};

/// How serious an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Something was done as asked.
    Normal,
    /// Something went wrong, or was undone.
    Warning,
}

/// Publishes the daemon's events. Cheap to clone.
#[derive(Clone)]
pub struct Events {
    recorder: Recorder,
}

impl Events {
    /// Events reported as controller `cetus`, instance `instance` (the pod).
    pub fn new(client: kube::Client, instance: &str) -> Events {
        let reporter =
            Reporter { controller: "cetus".into(), instance: Some(instance.to_string()) };
        Events { recorder: Recorder::new(client, reporter) }
    }

    /// Publishes one event about `app` (whose namespace is `namespace`).
    pub async fn publish(
        &self,
        app: &str,
        namespace: &str,
        severity: Severity,
        reason: &str,
        note: String,
    ) {
        let regarding = ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Namespace".into()),
            name: Some(namespace.to_string()),
            namespace: Some(namespace.to_string()),
            ..ObjectReference::default()
        };
        let event = Event {
            type_: match severity {
                Severity::Normal => EventType::Normal,
                Severity::Warning => EventType::Warning,
            },
            reason: reason.to_string(),
            // The API server caps a note at 1 KiB.
            note: Some(format!("app {app}: {}", truncate(&note, 900))),
            action: reason.to_string(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&event, &regarding).await {
            tracing::warn!(app, reason, error = %crate::error_chain(&e), "cannot publish an event");
        }
    }
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}
