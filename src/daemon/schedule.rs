//! When each app syncs: the per-app state machine that coalesces triggers, runs one sync per
//! app at a time, and retries failures with capped exponential backoff.
//!
//! Pure: [`Schedule::on`] takes an event and returns what to do; the daemon's loop does it
//! (starts sync tasks, arms timers) and feeds back what happened. The transitions:
//!
//! | phase | event | next phase | action |
//! |---|---|---|---|
//! | Idle | trigger t | Syncing{queued: none} | start t |
//! | Syncing{q} | trigger t | Syncing{q ∨ t} | — (coalesced: the stronger trigger is kept) |
//! | Syncing{none} | done, ok | Idle | — |
//! | Syncing{some t} | done (any) | Syncing{none} | start t |
//! | Syncing{none} | done, failed | Waiting{attempt + 1, until} | wake at `until` |
//! | Waiting{..} | wake (its own) | Syncing{none} | start retry |
//! | Waiting{..} | trigger t | Syncing{none} | start t (a new reason to sync goes now) |
//!
//! A failure that gives no reason to retry (a render error, a rollback that already happened)
//! goes Idle: the next commit or request is what moves the app again. Bounding how many apps
//! sync at once is the loop's job (a semaphore), not this table's.

use crate::store::Trigger;
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// Where one app is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Nothing to do.
    Idle,
    /// A sync runs; `queued` is the trigger that arrived meanwhile, to run next.
    Syncing {
        /// The next trigger, coalesced.
        queued: Option<Trigger>,
    },
    /// The last sync failed; the next attempt starts at `until`.
    Waiting {
        /// Failures in a row so far.
        attempt: u32,
        /// When to retry.
        until: Instant,
    },
}

/// How a sync ended, for the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It did its work (or found nothing to do).
    Done,
    /// It failed in a way worth retrying (the API server, a timeout).
    Retry,
    /// It failed in a way a retry cannot fix (invalid input, a rollback done).
    GaveUp,
}

/// What happened, for [`Schedule::on`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Something asks an app to sync.
    Trigger(String, Trigger),
    /// An app's sync ended.
    Ended(String, Ended),
    /// An app's backoff timer fired.
    Wake(String),
}

/// What the loop must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Start a sync of the app.
    Start(String, Trigger),
    /// Send [`Event::Wake`] for the app at that instant.
    WakeAt(String, Instant),
}

/// Backoff limits.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The first retry's delay.
    pub first: Duration,
    /// The cap.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { first: Duration::from_secs(5), max: Duration::from_secs(300) }
    }
}

impl Backoff {
    /// The delay before retry number `attempt` (1-based): first × 2^(attempt-1), capped.
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
        self.first.saturating_mul(factor).min(self.max)
    }
}

/// Every app's phase.
#[derive(Debug, Default)]
pub struct Schedule {
    phases: HashMap<String, Phase>,
    /// Failures in a row, per app.
    failures: HashMap<String, u32>,
    backoff: Backoff,
}

/// How strongly a trigger asks: when two coalesce, the stronger is recorded.
fn strength(trigger: Trigger) -> u8 {
    match trigger {
        Trigger::Rollback | Trigger::AutoRollback => 6,
        Trigger::Manual | Trigger::Cli => 5,
        Trigger::Webhook => 4,
        Trigger::Poll | Trigger::Startup => 3,
        Trigger::Retry => 2,
        Trigger::Drift => 1,
    }
}

fn stronger(a: Option<Trigger>, b: Trigger) -> Trigger {
    match a {
        Some(a) if strength(a) >= strength(b) => a,
        _ => b,
    }
}

impl Schedule {
    /// A schedule with these backoff limits.
    pub fn new(backoff: Backoff) -> Schedule {
        Schedule { phases: HashMap::new(), failures: HashMap::new(), backoff }
    }

    /// An app's phase (Idle if never seen).
    pub fn phase(&self, app: &str) -> Phase {
        self.phases.get(app).cloned().unwrap_or(Phase::Idle)
    }

    /// Applies an event; returns the actions it calls for.
    pub fn on(&mut self, event: Event, now: Instant) -> Vec<Action> {
        match event {
            Event::Trigger(app, trigger) => self.trigger(app, trigger),
            Event::Ended(app, ended) => self.ended(app, ended, now),
            Event::Wake(app) => match self.phase(&app) {
                Phase::Waiting { until, .. } if until <= now => self.start(app, Trigger::Retry),
                _ => Vec::new(),
            },
        }
    }

    fn start(&mut self, app: String, trigger: Trigger) -> Vec<Action> {
        self.phases.insert(app.clone(), Phase::Syncing { queued: None });
        vec![Action::Start(app, trigger)]
    }

    fn trigger(&mut self, app: String, trigger: Trigger) -> Vec<Action> {
        match self.phases.get_mut(&app) {
            Some(Phase::Syncing { queued }) => {
                *queued = Some(stronger(*queued, trigger));
                Vec::new()
            }
            _ => self.start(app, trigger),
        }
    }

    fn ended(&mut self, app: String, ended: Ended, now: Instant) -> Vec<Action> {
        let failures = match ended {
            Ended::Retry => self.failures.get(&app).copied().unwrap_or(0) + 1,
            Ended::Done | Ended::GaveUp => 0,
        };
        match failures {
            0 => self.failures.remove(&app),
            n => self.failures.insert(app.clone(), n),
        };
        if let Some(Phase::Syncing { queued: Some(next) }) = self.phases.get(&app) {
            let next = *next;
            return self.start(app, next);
        }
        if ended != Ended::Retry {
            self.phases.insert(app, Phase::Idle);
            return Vec::new();
        }
        let until = now + self.backoff.delay(failures);
        self.phases.insert(app.clone(), Phase::Waiting { attempt: failures, until });
        vec![Action::WakeAt(app, until)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger(app: &str, t: Trigger) -> Event {
        Event::Trigger(app.into(), t)
    }

    #[test]
    fn triggers_for_a_syncing_app_coalesce_into_one_next_sync() {
        let now = Instant::now();
        let mut s = Schedule::default();
        assert_eq!(
            s.on(trigger("a", Trigger::Poll), now),
            [Action::Start("a".into(), Trigger::Poll)]
        );
        assert!(s.on(trigger("a", Trigger::Drift), now).is_empty());
        assert!(s.on(trigger("a", Trigger::Webhook), now).is_empty());
        assert!(s.on(trigger("a", Trigger::Drift), now).is_empty());
        assert_eq!(s.phase("a"), Phase::Syncing { queued: Some(Trigger::Webhook) });
        assert_eq!(
            s.on(Event::Ended("a".into(), Ended::Done), now),
            [Action::Start("a".into(), Trigger::Webhook)]
        );
        assert!(s.on(Event::Ended("a".into(), Ended::Done), now).is_empty());
        assert_eq!(s.phase("a"), Phase::Idle);
    }

    #[test]
    fn failures_back_off_exponentially_up_to_the_cap_and_reset_on_success() {
        let now = Instant::now();
        let backoff = Backoff { first: Duration::from_secs(5), max: Duration::from_secs(60) };
        let mut s = Schedule::new(backoff);
        s.on(trigger("a", Trigger::Poll), now);
        let mut delays = Vec::new();
        for _ in 0..6 {
            let actions = s.on(Event::Ended("a".into(), Ended::Retry), now);
            let [Action::WakeAt(_, until)] = actions.as_slice() else { panic!("{actions:?}") };
            delays.push((*until - now).as_secs());
            // Woken early: nothing; on time: the retry starts.
            assert!(s.on(Event::Wake("a".into()), now).is_empty());
            assert_eq!(
                s.on(Event::Wake("a".into()), *until),
                [Action::Start("a".into(), Trigger::Retry)]
            );
        }
        assert_eq!(delays, [5, 10, 20, 40, 60, 60]);
        assert!(s.on(Event::Ended("a".into(), Ended::Done), now).is_empty());
        s.on(trigger("a", Trigger::Poll), now);
        let actions = s.on(Event::Ended("a".into(), Ended::Retry), now);
        assert_eq!(actions, [Action::WakeAt("a".into(), now + Duration::from_secs(5))]);
    }

    #[test]
    fn a_new_trigger_cuts_a_backoff_short_and_apps_are_independent() {
        let now = Instant::now();
        let mut s = Schedule::default();
        s.on(trigger("a", Trigger::Poll), now);
        s.on(Event::Ended("a".into(), Ended::Retry), now);
        assert_eq!(
            s.on(trigger("b", Trigger::Poll), now),
            [Action::Start("b".into(), Trigger::Poll)]
        );
        assert_eq!(
            s.on(trigger("a", Trigger::Manual), now),
            [Action::Start("a".into(), Trigger::Manual)]
        );
        // A stale timer of the cut backoff does nothing.
        assert!(s.on(Event::Wake("a".into()), now + Duration::from_secs(3600)).is_empty());
        assert_eq!(s.on(Event::Ended("a".into(), Ended::GaveUp), now), []);
        assert_eq!(s.phase("a"), Phase::Idle);
    }
}
