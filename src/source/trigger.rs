//! Repository triggers: "look at this repository now", and the coalescing channel that
//! carries them from webhooks (and pollers) to whoever fetches.
//!
//! A burst of pushes must not become a burst of fetches. The channel therefore keeps at most
//! one pending trigger per repository and branch: a trigger sent while another for the same
//! repository and branch is still waiting replaces it in place (the latest commit wins, the
//! queue position is kept). Repositories are compared by [`RepoKey`], so the same repository
//! reported under its https and ssh URLs coalesces too.
//!
//! This module owns the trigger type and the channel. It does not decide what a trigger
//! causes: the daemon fetches, diffs and schedules app syncs, and coalesces per app itself.

use super::RepoKey;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// A request to check a repository's branch now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoTrigger {
    /// The repository URL as configured (not as the webhook spelled it).
    pub repo: String,
    /// The branch pushed to.
    pub branch: String,
    /// The commit the sender says the branch now points at, when it knows one; `None` for a
    /// deleted branch or a trigger that carries no commit. Advisory: the fetch decides.
    pub commit: Option<String>,
    /// Who asked.
    pub origin: TriggerOrigin,
}

/// Where a [`RepoTrigger`] came from, for logs and history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerOrigin {
    /// A webhook of the named provider (`github`, `gitlab`, `gitea`, `generic`).
    Webhook(&'static str),
    /// A poll found the remote head moved.
    Poll,
    /// An operator asked through the API.
    Manual,
}

/// What [`TriggerSender::send`] did with a trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// No trigger for this repository and branch was pending; this one was queued.
    Queued,
    /// A trigger for this repository and branch was pending and was replaced by this one.
    Coalesced,
}

/// The receiving side is gone; the trigger was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("trigger channel: the receiver is closed")]
pub struct Closed;

type Key = (RepoKey, String);

#[derive(Default)]
struct State {
    order: VecDeque<Key>,
    pending: HashMap<Key, RepoTrigger>,
    senders: usize,
    receiver_closed: bool,
}

struct Shared {
    state: Mutex<State>,
    notify: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is plain data updated in single statements; a panic elsewhere while
        // holding the lock cannot leave it half-updated, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Creates a coalescing trigger channel. It is unbounded in time but bounded in size by the
/// number of distinct repository/branch pairs, since duplicates coalesce.
pub fn trigger_channel() -> (TriggerSender, TriggerReceiver) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State { senders: 1, ..State::default() }),
        notify: Notify::new(),
    });
    (TriggerSender { shared: shared.clone() }, TriggerReceiver { shared })
}

/// The sending half of [`trigger_channel`]; cheap to clone.
pub struct TriggerSender {
    shared: Arc<Shared>,
}

impl TriggerSender {
    /// Queues `trigger`, replacing a pending trigger for the same repository and branch.
    /// Never blocks.
    pub fn send(&self, trigger: RepoTrigger) -> Result<Sent, Closed> {
        let key = (RepoKey::new(&trigger.repo), trigger.branch.clone());
        let sent = {
            let mut state = self.shared.lock();
            if state.receiver_closed {
                return Err(Closed);
            }
            match state.pending.insert(key.clone(), trigger) {
                Some(_) => Sent::Coalesced,
                None => {
                    state.order.push_back(key);
                    Sent::Queued
                }
            }
        };
        self.shared.notify.notify_one();
        Ok(sent)
    }
}

impl Clone for TriggerSender {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Self { shared: self.shared.clone() }
    }
}

impl Drop for TriggerSender {
    fn drop(&mut self) {
        let last = {
            let mut state = self.shared.lock();
            state.senders -= 1;
            state.senders == 0
        };
        if last {
            // Wake a receiver waiting on an empty queue so that it sees the channel closed.
            self.shared.notify.notify_one();
        }
    }
}

impl std::fmt::Debug for TriggerSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TriggerSender").finish_non_exhaustive()
    }
}

/// The receiving half of [`trigger_channel`].
pub struct TriggerReceiver {
    shared: Arc<Shared>,
}

impl TriggerReceiver {
    /// Waits for the oldest pending trigger. Returns `None` once every sender is dropped and
    /// nothing is pending. Cancel-safe: dropping the future loses no trigger.
    pub async fn recv(&mut self) -> Option<RepoTrigger> {
        loop {
            match self.take() {
                Taken::Trigger(t) => return Some(t),
                Taken::Closed => return None,
                // `notify_one` stores a permit when nobody waits, so a send between `take`
                // and this await still wakes us.
                Taken::Empty => self.shared.notify.notified().await,
            }
        }
    }

    /// Takes the oldest pending trigger without waiting.
    pub fn try_recv(&mut self) -> Option<RepoTrigger> {
        match self.take() {
            Taken::Trigger(t) => Some(t),
            Taken::Closed | Taken::Empty => None,
        }
    }

    /// How many triggers are pending.
    pub fn pending(&self) -> usize {
        self.shared.lock().order.len()
    }

    fn take(&mut self) -> Taken {
        let mut state = self.shared.lock();
        while let Some(key) = state.order.pop_front() {
            if let Some(trigger) = state.pending.remove(&key) {
                return Taken::Trigger(trigger);
            }
        }
        if state.senders == 0 { Taken::Closed } else { Taken::Empty }
    }
}

impl Drop for TriggerReceiver {
    fn drop(&mut self) {
        self.shared.lock().receiver_closed = true;
    }
}

impl std::fmt::Debug for TriggerReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TriggerReceiver").field("pending", &self.pending()).finish()
    }
}

enum Taken {
    Trigger(RepoTrigger),
    Closed,
    Empty,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger(repo: &str, branch: &str, commit: &str) -> RepoTrigger {
        RepoTrigger {
            repo: repo.to_string(),
            branch: branch.to_string(),
            commit: Some(commit.to_string()),
            origin: TriggerOrigin::Poll,
        }
    }

    #[test]
    fn same_repo_coalesces_latest_wins_and_keeps_its_place() {
        let (tx, mut rx) = trigger_channel();
        assert_eq!(tx.send(trigger("https://h/a/config", "main", "c1")), Ok(Sent::Queued));
        assert_eq!(tx.send(trigger("https://h/b/other", "main", "x1")), Ok(Sent::Queued));
        assert_eq!(tx.send(trigger("git@h:a/config.git", "main", "c2")), Ok(Sent::Coalesced));
        assert_eq!(tx.send(trigger("https://h/a/config", "dev", "d1")), Ok(Sent::Queued));
        assert_eq!(rx.pending(), 3);
        let got: Vec<_> = std::iter::from_fn(|| rx.try_recv())
            .map(|t| (t.repo, t.branch, t.commit.unwrap()))
            .collect();
        let want = [
            ("git@h:a/config.git", "main", "c2"),
            ("https://h/b/other", "main", "x1"),
            ("https://h/a/config", "dev", "d1"),
        ]
        .map(|(r, b, c)| (r.to_string(), b.to_string(), c.to_string()));
        assert_eq!(got, want);
    }

    #[tokio::test]
    async fn recv_wakes_on_send_and_ends_when_senders_are_gone() {
        let (tx, mut rx) = trigger_channel();
        let tx2 = tx.clone();
        let waiter = tokio::spawn(async move {
            let first = rx.recv().await;
            let end = rx.recv().await;
            (first, end)
        });
        tx2.send(trigger("https://h/a/config", "main", "c1")).unwrap();
        drop(tx);
        drop(tx2);
        let (first, end) = tokio::time::timeout(std::time::Duration::from_secs(30), waiter)
            .await
            .expect("receiver woke")
            .unwrap();
        assert_eq!(first.unwrap().commit.as_deref(), Some("c1"));
        assert_eq!(end, None);
    }

    #[test]
    fn send_after_receiver_dropped_fails() {
        let (tx, rx) = trigger_channel();
        drop(rx);
        assert!(tx.send(trigger("https://h/a/config", "main", "c1")).is_err());
    }
}
