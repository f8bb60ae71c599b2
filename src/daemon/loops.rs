//! The daemon's long-running tasks, each ending when the daemon's cancellation fires:
//!
//! - [`source`]: a pass over the config repository every interval, on every webhook trigger,
//!   and at once on start; what the pass found goes into the registry, and each app whose
//!   render changed (or that is new, or whose render failed at a new commit) is triggered.
//! - [`drift`]: watch events on managed objects trigger their app (the sync's own check,
//!   free with a warm cache, decides whether anything really drifted).
//! - [`scheduler`]: runs the [`Schedule`] state machine, starting syncs (at most
//!   `concurrency` at once) and arming retry timers.

use super::reconcile::Reconciler;
use super::registry::Registry;
use super::repo::{AppRender, Pass, Repo};
use super::schedule::{Action, Backoff, Event, Schedule};
use crate::api::metrics::Metrics;
use crate::engine::{Engine, LiveEvent};
use crate::source::trigger::{TriggerOrigin, TriggerReceiver};
use crate::store::{Store, Trigger};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

/// Sends schedule events.
pub type EventSender = mpsc::UnboundedSender<Event>;

/// Follows the config repository.
#[allow(clippy::too_many_arguments)]
pub async fn source(
    repo: Arc<Repo>,
    registry: Registry,
    store: Store,
    schedule: EventSender,
    mut triggers: TriggerReceiver,
    interval: Duration,
    metrics: Arc<Metrics>,
    cancel: CancellationToken,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut first = true;
    let mut open = true;
    loop {
        let trigger = tokio::select! {
            _ = cancel.cancelled() => return,
            _ = ticker.tick() => if first { Trigger::Startup } else { Trigger::Poll },
            received = triggers.recv(), if open => match received {
                Some(t) => match t.origin {
                    TriggerOrigin::Webhook(_) => Trigger::Webhook,
                    TriggerOrigin::Manual => Trigger::Manual,
                    TriggerOrigin::Poll => Trigger::Poll,
                },
                None => {
                    // No webhook router (or it is gone): polls only.
                    open = false;
                    continue;
                }
            },
        };
        // Whatever woke it, the first pass is the start-up check of every app.
        let trigger = if first { Trigger::Startup } else { trigger };
        let pass_repo = repo.clone();
        let pass = tokio::task::spawn_blocking(move || pass_repo.pass()).await;
        match pass {
            Ok(Ok(pass)) => {
                metrics.git_fetch(pass.fetch_time);
                apply(&pass, &registry, &schedule, trigger);
                if first {
                    forgotten(&pass, &registry, &store, &schedule).await;
                }
            }
            Ok(Err(e)) => {
                tracing::error!(error = %crate::error_chain(&e), "config repository pass failed")
            }
            Err(e) => tracing::error!(error = %e, "config repository pass panicked"),
        }
        if first {
            registry.set_ready();
            first = false;
        }
    }
}

/// Puts a pass into the registry and triggers the apps it changed.
fn apply(pass: &Pass, registry: &Registry, schedule: &EventSender, trigger: Trigger) {
    for found in &pass.rendered {
        let before = registry.get(&found.name);
        let changed = match (&before, &found.render) {
            (None, _) => true,
            (Some(old), AppRender::Rendered(new)) => match &old.render {
                AppRender::Rendered(old) => old.digest != new.digest,
                _ => true,
            },
            (Some(old), AppRender::NotDeployed) => !matches!(old.render, AppRender::NotDeployed),
            (Some(old), AppRender::Failed(_)) => {
                old.recorded_failure.as_deref() != Some(pass.commit.id.as_str())
            }
        };
        registry.rendered(&found.name, &found.dir, found.render.clone(), &pass.commit);
        if changed || trigger == Trigger::Startup {
            // The receiver is gone only when the daemon stops.
            let _ = schedule.send(Event::Trigger(found.name.clone(), trigger));
        }
    }
    for name in &pass.removed {
        registry.removed(name, &pass.commit);
        let _ = schedule.send(Event::Trigger(name.clone(), trigger));
    }
}

/// Apps the store has history for but the repository no longer has (removed while the
/// daemon was down): known as removed, so their objects are handled as an empty render.
async fn forgotten(pass: &Pass, registry: &Registry, store: &Store, schedule: &EventSender) {
    let store = store.clone();
    let Ok(Ok(apps)) = tokio::task::spawn_blocking(move || store.apps()).await else { return };
    for app in apps {
        if registry.get(&app).is_none() && !pass.rendered.iter().any(|f| f.name == app) {
            registry.rendered(&app, "", AppRender::NotDeployed, &pass.commit);
            registry.removed(&app, &pass.commit);
            let _ = schedule.send(Event::Trigger(app, Trigger::Startup));
        }
    }
}

/// Turns watch events on managed objects into drift triggers.
pub async fn drift(
    engine: Engine,
    registry: Registry,
    schedule: EventSender,
    cancel: CancellationToken,
) {
    let mut events = engine.cache().subscribe();
    loop {
        let event = tokio::select! {
            _ = cancel.cancelled() => return,
            event = events.recv() => event,
        };
        let apps: Vec<String> = match event {
            Ok(LiveEvent::Changed { app, .. }) if registry.get(&app).is_some() => vec![app],
            Ok(LiveEvent::Changed { .. }) => continue,
            Ok(LiveEvent::Relisted { .. })
            | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => registry.names(),
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        for app in apps {
            let _ = schedule.send(Event::Trigger(app, Trigger::Drift));
        }
    }
}

/// Runs the schedule: starts syncs, arms retry timers.
pub async fn scheduler(
    reconciler: Reconciler,
    mut events: mpsc::UnboundedReceiver<Event>,
    sender: EventSender,
    concurrency: usize,
    backoff: Backoff,
    cancel: CancellationToken,
) {
    let mut schedule = Schedule::new(backoff);
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut running = tokio::task::JoinSet::new();
    loop {
        let event = tokio::select! {
            _ = cancel.cancelled() => break,
            event = events.recv() => match event { Some(e) => e, None => break },
            Some(_) = running.join_next(), if !running.is_empty() => continue,
        };
        for action in schedule.on(event, tokio::time::Instant::now()) {
            match action {
                Action::Start(app, trigger) => {
                    let (reconciler, sender, permits) =
                        (reconciler.clone(), sender.clone(), permits.clone());
                    running.spawn(async move {
                        // The semaphore is never closed.
                        let Ok(_permit) = permits.acquire().await else { return };
                        // Boxed, so that a sync waiting for a permit holds a pointer and not
                        // the whole sync's state: 500 apps queued at start-up held 4.7 MB.
                        let ended = Box::pin(reconciler.reconcile(&app, trigger)).await;
                        let _ = sender.send(Event::Ended(app, ended));
                    });
                }
                Action::WakeAt(app, at) => {
                    let sender = sender.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep_until(at).await;
                        let _ = sender.send(Event::Wake(app));
                    });
                }
            }
        }
    }
    // Shutting down: let in-flight syncs record how they ended (their waits were cut).
    while running.join_next().await.is_some() {}
}
