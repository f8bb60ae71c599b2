//! Webhook request counters, read by the `/metrics` endpoint as
//! `cetus_webhook_requests_total{provider,result}`.

use std::sync::atomic::{AtomicU64, Ordering};

/// A webhook provider, i.e. a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// `POST /webhooks/github`.
    Github,
    /// `POST /webhooks/gitlab`.
    Gitlab,
    /// `POST /webhooks/gitea`.
    Gitea,
    /// `POST /webhooks/generic`.
    Generic,
}

impl Provider {
    /// Every provider, in label order.
    pub const ALL: [Provider; 4] =
        [Provider::Github, Provider::Gitlab, Provider::Gitea, Provider::Generic];

    /// The metric label and route name.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Github => "github",
            Provider::Gitlab => "gitlab",
            Provider::Gitea => "gitea",
            Provider::Generic => "generic",
        }
    }
}

/// How a webhook request ended, the `result` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// A push for a followed repository and branch: a trigger was queued (202).
    Accepted,
    /// Verified, but not for a followed repository, branch, or not a push (202).
    Ignored,
    /// A GitHub `ping` (200).
    Ping,
    /// Signature or token missing, malformed or wrong (401).
    Unauthorized,
    /// No secret configured for this provider (403).
    Forbidden,
    /// The body exceeds the limit (413).
    TooLarge,
    /// Verified, but the payload is not valid JSON of the expected shape (400).
    BadRequest,
    /// The trigger channel is closed: the daemon is shutting down (503).
    Unavailable,
}

impl Outcome {
    /// Every outcome, in label order.
    pub const ALL: [Outcome; 8] = [
        Outcome::Accepted,
        Outcome::Ignored,
        Outcome::Ping,
        Outcome::Unauthorized,
        Outcome::Forbidden,
        Outcome::TooLarge,
        Outcome::BadRequest,
        Outcome::Unavailable,
    ];

    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Ignored => "ignored",
            Outcome::Ping => "ping",
            Outcome::Unauthorized => "unauthorized",
            Outcome::Forbidden => "forbidden",
            Outcome::TooLarge => "too_large",
            Outcome::BadRequest => "bad_request",
            Outcome::Unavailable => "unavailable",
        }
    }
}

/// Request counts per provider and outcome; lock-free, shared by the router and `/metrics`.
#[derive(Debug, Default)]
pub struct WebhookMetrics {
    counts: [[AtomicU64; Outcome::ALL.len()]; Provider::ALL.len()],
}

impl WebhookMetrics {
    /// All counts at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one request.
    pub fn record(&self, provider: Provider, outcome: Outcome) {
        self.counts[provider as usize][outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The count for one provider and outcome.
    pub fn count(&self, provider: Provider, outcome: Outcome) -> u64 {
        self.counts[provider as usize][outcome as usize].load(Ordering::Relaxed)
    }

    /// Every non-zero count, in label order, for exposition.
    pub fn snapshot(&self) -> Vec<(Provider, Outcome, u64)> {
        let mut out = Vec::new();
        for provider in Provider::ALL {
            for outcome in Outcome::ALL {
                let n = self.count(provider, outcome);
                if n > 0 {
                    out.push((provider, outcome, n));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_label_pair() {
        let m = WebhookMetrics::new();
        m.record(Provider::Gitea, Outcome::TooLarge);
        m.record(Provider::Gitea, Outcome::TooLarge);
        m.record(Provider::Github, Outcome::Ping);
        assert_eq!(m.count(Provider::Gitea, Outcome::TooLarge), 2);
        assert_eq!(m.count(Provider::Github, Outcome::TooLarge), 0);
        assert_eq!(
            m.snapshot(),
            [(Provider::Github, Outcome::Ping, 1), (Provider::Gitea, Outcome::TooLarge, 2)]
        );
    }
}
