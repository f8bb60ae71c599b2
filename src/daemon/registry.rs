//! The apps the daemon knows: where each is in the repository, its latest render, and what
//! its last sync left to say. Shared by the reconcile loop (which writes it) and the API
//! (which reads it); history lives in the store, not here.

use super::repo::{AppRender, CommitInfo};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// Whether an app's live objects match what it should run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SyncState {
    /// Not synced yet.
    Unknown,
    /// A sync is running.
    Syncing,
    /// The live objects match the wanted revision.
    Synced,
    /// They differ (drift with self-heal off, or a revision not applied yet).
    OutOfSync,
    /// The last sync failed.
    Failed,
}

/// One app, as the daemon knows it.
#[derive(Debug, Clone)]
pub struct AppEntry {
    /// Its cetus.yaml's directory; `None` once removed from the repository.
    pub dir: Option<String>,
    /// Its render at `commit`.
    pub render: AppRender,
    /// The commit of that render.
    pub commit: CommitInfo,
    /// Where its objects are.
    pub sync: SyncState,
    /// What the last sync said (an error, a refusal, a rollback).
    pub message: Option<String>,
    /// When the last sync ended.
    pub last_sync: Option<Timestamp>,
    /// The commit whose render failure is already recorded in history (recorded once).
    pub recorded_failure: Option<String>,
}

/// The apps, by name. Cheap to clone.
#[derive(Clone, Default)]
pub struct Registry {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    apps: BTreeMap<String, AppEntry>,
    ready: bool,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a render; returns whether the app is new.
    pub fn rendered(&self, name: &str, dir: &str, render: AppRender, commit: &CommitInfo) -> bool {
        let mut inner = self.lock();
        match inner.apps.get_mut(name) {
            Some(entry) => {
                entry.dir = Some(dir.to_string());
                entry.render = render;
                entry.commit = commit.clone();
                false
            }
            None => {
                let entry = AppEntry {
                    dir: Some(dir.to_string()),
                    render,
                    commit: commit.clone(),
                    sync: SyncState::Unknown,
                    message: None,
                    last_sync: None,
                    recorded_failure: None,
                };
                inner.apps.insert(name.to_string(), entry);
                true
            }
        }
    }

    /// Marks an app removed from the repository: it renders nothing from now on.
    pub fn removed(&self, name: &str, commit: &CommitInfo) {
        if let Some(entry) = self.lock().apps.get_mut(name) {
            entry.dir = None;
            entry.render = AppRender::NotDeployed;
            entry.commit = commit.clone();
        }
    }

    /// One app.
    pub fn get(&self, name: &str) -> Option<AppEntry> {
        self.lock().apps.get(name).cloned()
    }

    /// Every app's name.
    pub fn names(&self) -> Vec<String> {
        self.lock().apps.keys().cloned().collect()
    }

    /// Every app.
    pub fn all(&self) -> Vec<(String, AppEntry)> {
        self.lock().apps.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// Changes an app's entry.
    pub fn update(&self, name: &str, change: impl FnOnce(&mut AppEntry)) {
        if let Some(entry) = self.lock().apps.get_mut(name) {
            change(entry);
        }
    }

    /// Whether the first pass is done (`/readyz`).
    pub fn is_ready(&self) -> bool {
        self.lock().ready
    }

    /// Marks the first pass done.
    pub fn set_ready(&self) {
        self.lock().ready = true;
    }
}
