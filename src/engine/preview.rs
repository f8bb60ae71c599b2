//! What a sync would change, object by object: live vs. the server-side dry-run result, as
//! `cetus diff` and the daemon's `GET /api/v1/apps/{app}/diff` show it.
//!
//! The dry run is the server's own answer — its defaulting, its canonical quantities, its
//! merge of other managers' fields — so the diff shows only what the apply would really
//! change. An object the engine remembers as unchanged needs no dry run. Objects a prune
//! would delete show as removed (under the same rules a prune uses). Nothing is written.

use super::diff::{ObjectDiff, diff_object, ignored_fields};
use super::plan::{self, Planned};
use super::sync::{SyncError, SyncRequest};
use super::{Engine, Resolved, decide, prune};
use crate::render::ObjectKey;
use serde_json::Value;

impl Engine {
    /// The differences a sync of `request` would make, in apply order, then removals (when
    /// `prune`). Fails on unknown kinds and on requests that fail.
    pub async fn diff(
        &self,
        request: SyncRequest<'_>,
        prune: bool,
    ) -> Result<Vec<ObjectDiff>, SyncError> {
        let planned = plan::plan(request.objects, request.app, request.namespace, self.resources())
            .map_err(SyncError::UnknownKinds)?;
        let previous = match request.previous {
            Some(previous) => previous.clone(),
            None => prune::rebuild(self, request.app)
                .await
                .map_err(|e| SyncError::Rebuild(e.chain()))?,
        };
        let mut kinds: Vec<Resolved> = planned.iter().filter_map(|p| p.resolved.clone()).collect();
        kinds.sort_by_key(|k| k.name());
        kinds.dedup();
        for kind in &kinds {
            self.cache().watch(kind);
        }
        let deadline = tokio::time::Instant::now() + super::cache::SYNC_WAIT;
        self.cache().wait_synced(&kinds, deadline).await;

        let previews: Vec<_> = planned.iter().map(|item| self.preview(item, request)).collect();
        let results = super::bounded(previews, self.concurrency()).await;
        let mut diffs = Vec::new();
        let mut failed = Vec::new();
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(diff) => diffs.extend(diff),
                Err(error) => failed.push(format!("{}: {error}", planned[i].key)),
            }
        }
        if !failed.is_empty() {
            let stage = planned.first().map(|p| p.stage).unwrap_or(crate::render::Stage::Other);
            return Err(SyncError::Apply { stage, failed });
        }
        if prune {
            diffs.extend(self.removals(request.app, &planned, &previous).await);
        }
        Ok(diffs)
    }

    /// One object's difference: none if remembered unchanged, else live vs. the dry run.
    async fn preview(
        &self,
        item: &Planned,
        request: SyncRequest<'_>,
    ) -> Result<Option<ObjectDiff>, String> {
        let Some(resolved) = &item.resolved else {
            // Its CRD is in the same render and not served yet: all of it would be new.
            return Ok(diff_object(&item.key, None, Some(&item.manifest)));
        };
        let live = self.live(resolved, &item.key).await.map_err(|e| e.chain())?;
        let ignore = ignored_fields(&item.manifest);
        let body = match &live {
            Some(live) => {
                if let Some(remembered) = request.memory.get(&item.key)
                    && decide::is_unchanged(remembered, &item.manifest, live, &ignore)
                {
                    return Ok(None);
                }
                decide::for_update(&item.manifest, live, &ignore)
            }
            None => item.manifest.clone(),
        };
        let answer = match self.requests().apply(resolved, &body, true).await {
            Ok(answer) => answer.object,
            // Its namespace is new in this render: it would be created as rendered.
            Err(e) if live.is_none() && e.is_missing_namespace() => body,
            Err(e) => return Err(e.chain()),
        };
        Ok(diff_object(&item.key, live.as_ref(), Some(&answer)))
    }

    /// The objects a prune would delete, as removals.
    async fn removals(
        &self,
        app: &str,
        planned: &[Planned],
        previous: &super::Inventory,
    ) -> Vec<ObjectDiff> {
        let keep: std::collections::HashSet<&ObjectKey> = planned.iter().map(|p| &p.key).collect();
        let candidates: Vec<&super::InventoryEntry> =
            previous.entries.iter().filter(|e| !keep.contains(&e.key())).collect();
        let context = prune::Context { engine: self, app, dry_run: true };
        let (outcomes, _) = context.prune_all(&candidates).await;
        let mut diffs = Vec::new();
        for (entry, action) in outcomes {
            if action != super::Action::Pruned {
                continue;
            }
            let Some(resolved) = self.resources().resolve(&entry.api_version(), &entry.kind) else {
                continue;
            };
            if let Ok(Some(live)) = self.live(&resolved, &entry.key()).await {
                diffs.extend(diff_object(&entry.key(), Some(&live), None::<&Value>));
            }
        }
        diffs
    }
}

impl Engine {
    /// The objects of `request` that the cache and the memory cannot show to be in sync, and
    /// the inventory's objects a prune would still delete: what a sync would have to look
    /// at. Makes no request: kinds whose watch is not in sync count as out of sync. Empty
    /// means a sync would change nothing, so the daemon can skip it (and its history entry).
    pub fn out_of_sync(&self, request: SyncRequest<'_>) -> Vec<ObjectKey> {
        let planned =
            match plan::plan(request.objects, request.app, request.namespace, self.resources()) {
                Ok(planned) => planned,
                Err(unknown) => return unknown.into_iter().map(|u| u.key).collect(),
            };
        let mut out = Vec::new();
        for item in &planned {
            let Some(resolved) = &item.resolved else {
                out.push(item.key.clone());
                continue;
            };
            let in_sync = match self.cache().get(resolved, &item.key.namespace, &item.key.name) {
                super::Lookup::Present(live) => {
                    let live = super::requests::to_value((*live).clone());
                    request.memory.get(&item.key).is_some_and(|remembered| {
                        decide::is_unchanged(
                            remembered,
                            &item.manifest,
                            &live,
                            &ignored_fields(&item.manifest),
                        )
                    })
                }
                super::Lookup::Absent | super::Lookup::Unknown => false,
            };
            if !in_sync {
                out.push(item.key.clone());
            }
        }
        let keep: std::collections::HashSet<&ObjectKey> = planned.iter().map(|p| &p.key).collect();
        for entry in request.previous.map(|p| p.entries.as_slice()).unwrap_or_default() {
            if keep.contains(&entry.key()) {
                continue;
            }
            let lingering = match self.resources().resolve(&entry.api_version(), &entry.kind) {
                Some(resolved) => !matches!(
                    self.cache().get(&resolved, &entry.namespace, &entry.name),
                    super::Lookup::Absent
                ),
                None => false,
            };
            if lingering {
                out.push(entry.key());
            }
        }
        out
    }
}
