//! Applying one group of objects: for each, decide whether it needs writing, write it with
//! server-side apply, and say what happened.
//!
//! Per object, cheapest first: a warm cache and a remembered apply decide "unchanged" with no
//! request at all ([`super::decide`]); an object the engine does not remember is compared by a
//! server-side dry run, and written only if that differs; a changed one is applied directly.
//! An object whose live `cetus.dev/tracking` names another app is refused: one app's
//! cetus.yaml must never take over another app's objects.

use super::change::Action;
use super::decide;
use super::inventory::{Applied, AppliedMemory, Inventory, InventoryEntry};
use super::plan::Planned;
use super::requests::ApplyAnswer;
use super::{Engine, Resolved, Write};
use crate::render::{ObjectKey, TRACKING};
use serde_json::Value;

/// What one object's apply did.
#[derive(Debug)]
pub struct Outcome {
    /// The object.
    pub key: ObjectKey,
    /// What happened.
    pub action: Action,
    /// Its inventory entry, when it is in the cluster as rendered.
    pub entry: Option<InventoryEntry>,
    /// What to remember of it, when it was applied or confirmed.
    pub memory: Option<Applied>,
    /// The write made, if one was (for the cache to catch up with).
    pub write: Option<Write>,
}

/// What every apply of one sync shares.
pub struct Context<'a> {
    /// The engine.
    pub engine: &'a Engine,
    /// The app applying.
    pub app: &'a str,
    /// What the engine remembers of the app's objects.
    pub memory: &'a AppliedMemory,
    /// The last inventory (it says which Namespaces Cetus created).
    pub previous: &'a Inventory,
    /// Ask, do not write.
    pub dry_run: bool,
}

impl Context<'_> {
    /// Applies a group, `concurrency` requests at a time; outcomes in the group's order.
    pub async fn apply_all(&self, group: &[&Planned]) -> Vec<Outcome> {
        let applies: Vec<_> = group.iter().map(|planned| self.apply(planned)).collect();
        super::bounded(applies, self.engine.concurrency()).await
    }

    async fn apply(&self, planned: &Planned) -> Outcome {
        let key = planned.key.clone();
        let failed = |error: String| Outcome {
            key: planned.key.clone(),
            action: Action::Failed { error },
            entry: None,
            memory: None,
            write: None,
        };
        let Some(resolved) = &planned.resolved else {
            return failed("kind not served".into());
        };
        let live = match self.engine.live(resolved, &key).await {
            Ok(live) => live,
            Err(e) => return failed(format!("read failed: {}", e.chain())),
        };
        if let Some(owner) = live.as_ref().and_then(|l| foreign_tracking(l, &planned.manifest)) {
            return failed(format!(
                "belongs to another app ({TRACKING}: {owner}); an app may not take over another app's objects"
            ));
        }
        match self.write(resolved, planned, live.as_ref()).await {
            Ok(done) => done,
            Err(error) => failed(error),
        }
    }

    /// Decides and, if needed, writes; `Err` carries the failure's text.
    async fn write(
        &self,
        resolved: &Resolved,
        planned: &Planned,
        live: Option<&Value>,
    ) -> Result<Outcome, String> {
        let manifest = &planned.manifest;
        let ignore = super::diff::ignored_fields(manifest);
        let remembered = self.memory.get(&planned.key);
        let Some(live) = live else {
            let answer = self.apply_request(resolved, manifest).await?;
            let created = only_manager(&answer.object, self.manager());
            let action =
                if created { Action::Created } else { configured(answer.overrode.clone()) };
            let outcome = self.outcome(planned, action, &answer.object, &ignore);
            return Ok(self.written(outcome, resolved, None, &answer.object));
        };
        if let Some(remembered) = remembered
            && decide::is_unchanged(remembered, manifest, live, &ignore)
        {
            return Ok(Outcome {
                key: planned.key.clone(),
                action: Action::Unchanged,
                entry: Some(self.entry(planned, live, false)),
                memory: Some(remembered.clone()),
                write: None,
            });
        }
        let body = decide::for_update(manifest, live, &ignore);
        if remembered.is_none() || self.dry_run {
            // Not remembered (a cold engine): ask the server what the apply would make of it.
            let preview = self.request(resolved, &body, true).await?;
            if decide::same_state(&preview.object, live) {
                return Ok(self.outcome(planned, Action::Unchanged, &preview.object, &ignore));
            }
            if self.dry_run {
                return Ok(self.outcome(
                    planned,
                    configured(preview.overrode),
                    &preview.object,
                    &ignore,
                ));
            }
        }
        let answer = self.request(resolved, &body, false).await?;
        let before = resource_version(live);
        if resource_version(&answer.object) == before {
            return Ok(self.outcome(planned, Action::Unchanged, &answer.object, &ignore));
        }
        let outcome =
            self.outcome(planned, configured(answer.overrode.clone()), &answer.object, &ignore);
        Ok(self.written(outcome, resolved, before, &answer.object))
    }

    /// Adds the write to an outcome (none for a dry run).
    fn written(
        &self,
        mut outcome: Outcome,
        resolved: &Resolved,
        before: Option<&str>,
        answer: &Value,
    ) -> Outcome {
        if !self.dry_run {
            outcome.write = Some(Write {
                resolved: resolved.clone(),
                key: outcome.key.clone(),
                before: before.map(String::from),
                after: resource_version(answer).map(String::from),
            });
        }
        outcome
    }

    /// Applies an object that does not exist. A dry run of an object whose namespace does not
    /// exist yet (it is created by this same sync) cannot be asked of the server; it would be
    /// created as rendered.
    async fn apply_request(
        &self,
        resolved: &Resolved,
        manifest: &Value,
    ) -> Result<ApplyAnswer, String> {
        if !self.dry_run {
            return self.request(resolved, manifest, false).await;
        }
        match self.engine.requests().apply(resolved, manifest, true).await {
            Err(e) if e.is_missing_namespace() => {
                Ok(ApplyAnswer { object: manifest.clone(), overrode: Vec::new() })
            }
            other => other.map_err(|e| format!("dry-run apply failed: {}", e.chain())),
        }
    }

    async fn request(
        &self,
        resolved: &Resolved,
        body: &Value,
        dry_run: bool,
    ) -> Result<ApplyAnswer, String> {
        let what = if dry_run { "dry-run apply failed" } else { "apply failed" };
        self.engine
            .requests()
            .apply(resolved, body, dry_run)
            .await
            .map_err(|e| format!("{what}: {}", e.chain()))
    }

    fn manager(&self) -> &str {
        &self.engine.requests().options().field_manager
    }

    /// The outcome of an apply answered with `answer`.
    fn outcome(
        &self,
        planned: &Planned,
        action: Action,
        answer: &Value,
        ignore: &[String],
    ) -> Outcome {
        let created = matches!(action, Action::Created);
        let memory = (!self.dry_run).then(|| Applied {
            hash: decide::manifest_hash(&planned.manifest),
            owned: decide::owned_values(answer, &planned.manifest, ignore),
        });
        Outcome {
            key: planned.key.clone(),
            entry: Some(self.entry(planned, answer, created)),
            action,
            memory,
            write: None,
        }
    }

    fn entry(&self, planned: &Planned, object: &Value, created_now: bool) -> InventoryEntry {
        let created_before =
            self.previous.entries.iter().any(|e| e.created && e.key() == planned.key);
        InventoryEntry {
            uid: object.pointer("/metadata/uid").and_then(Value::as_str).map(String::from),
            created: created_now || created_before,
            ..InventoryEntry::of(&planned.manifest)
        }
    }
}

fn configured(overrode: Vec<String>) -> Action {
    Action::Configured { overrode }
}

fn resource_version(object: &Value) -> Option<&str> {
    object.pointer("/metadata/resourceVersion").and_then(Value::as_str)
}

/// Whether `manager` is the only field manager of a just-applied object: then the apply
/// created it (an object that existed unlabelled carries its creator's entry too).
fn only_manager(object: &Value, manager: &str) -> bool {
    match object.pointer("/metadata/managedFields").and_then(Value::as_array) {
        Some(entries) => entries.iter().all(|e| e["manager"] == manager),
        None => true,
    }
}

/// The live tracking annotation, when it names some other app than the manifest's.
fn foreign_tracking(live: &Value, manifest: &Value) -> Option<String> {
    let pointer = "/metadata/annotations/cetus.dev~1tracking";
    let live_tracking = live.pointer(pointer).and_then(Value::as_str)?;
    let ours = manifest.pointer(pointer).and_then(Value::as_str).unwrap_or_default();
    let app = |t: &str| t.split(':').next().unwrap_or_default().to_string();
    (app(live_tracking) != app(ours)).then(|| live_tracking.to_string())
}
