//! The daemon's Prometheus metrics (DESIGN §7), kept with `prometheus-client` and served as
//! text on `/metrics`:
//!
//! | metric | labels | kind |
//! |---|---|---|
//! | `cetus_sync_total` | app, outcome | counter |
//! | `cetus_sync_duration_seconds` | — | histogram |
//! | `cetus_app_health` | app, health | gauge: 1 for the app's current health, 0 for the others |
//! | `cetus_git_fetch_duration_seconds` | — | histogram |
//! | `cetus_kube_requests_total` | verb, code | counter (a tower layer on the kube client) |
//! | `cetus_webhook_requests_total` | provider, result | counter (from the webhook router) |
//!
//! App health is read at scrape time from a source the daemon installs, so it is never stale.

use super::webhooks::WebhookMetrics;
use crate::engine::HealthStatus;
use crate::store::Outcome;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SyncLabels {
    app: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KubeLabels {
    verb: String,
    code: String,
}

/// Every app's health now, for `cetus_app_health`.
pub type HealthSource = Arc<dyn Fn() -> Vec<(String, HealthStatus)> + Send + Sync>;

/// The daemon's metrics. Shared (`Arc`) by the reconcile loop, the kube client layer and the
/// router.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    syncs: Family<SyncLabels, Counter>,
    sync_duration: Histogram,
    git_fetch: Histogram,
    kube: Family<KubeLabels, Counter>,
    scraped: Arc<Scraped>,
}

/// What is read at scrape time.
#[derive(Default)]
struct Scraped {
    health: Mutex<Option<HealthSource>>,
    webhooks: Mutex<Option<Arc<WebhookMetrics>>>,
}

impl std::fmt::Debug for Scraped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scraped")
    }
}

impl prometheus_client::collector::Collector for Scraped {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let health = self.health.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(source) = health {
            let mut metric = encoder.encode_descriptor(
                "cetus_app_health",
                "An app's health: 1 for its current status, 0 for the others",
                None,
                MetricType::Gauge,
            )?;
            for (app, status) in source() {
                for candidate in ALL_HEALTH {
                    let labels =
                        [("app", app.as_str()), ("health", HEALTH_NAMES[candidate as usize])];
                    let value = i64::from(candidate == status);
                    ConstGauge::new(value).encode(metric.encode_family(&labels)?)?;
                }
            }
        }
        let webhooks = self.webhooks.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(webhooks) = webhooks {
            let mut metric = encoder.encode_descriptor(
                "cetus_webhook_requests",
                "Webhook requests by provider and result",
                None,
                MetricType::Counter,
            )?;
            for (provider, outcome, count) in webhooks.snapshot() {
                let labels = [("provider", provider.as_str()), ("result", outcome.as_str())];
                ConstCounter::new(count).encode(metric.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

const ALL_HEALTH: [HealthStatus; 5] = [
    HealthStatus::Healthy,
    HealthStatus::Suspended,
    HealthStatus::Progressing,
    HealthStatus::Missing,
    HealthStatus::Degraded,
];
const HEALTH_NAMES: [&str; 5] = ["Healthy", "Suspended", "Progressing", "Missing", "Degraded"];

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let syncs = Family::<SyncLabels, Counter>::default();
        registry.register("cetus_sync", "Syncs by app and outcome", syncs.clone());
        let sync_duration = Histogram::new(exponential_buckets(0.01, 2.0, 16));
        registry.register(
            "cetus_sync_duration_seconds",
            "How long syncs take, health waits included",
            sync_duration.clone(),
        );
        let git_fetch = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        registry.register(
            "cetus_git_fetch_duration_seconds",
            "How long a head check (and fetch, when the branch moved) of the config repo takes",
            git_fetch.clone(),
        );
        let kube = Family::<KubeLabels, Counter>::default();
        registry.register(
            "cetus_kube_requests",
            "Kubernetes API requests by verb and code",
            kube.clone(),
        );
        let scraped = Arc::new(Scraped::default());
        registry.register_collector(Box::new(scraped.clone()));
        Metrics { registry, syncs, sync_duration, git_fetch, kube, scraped }
    }

    /// Counts a finished sync.
    pub fn sync_finished(&self, app: &str, outcome: Outcome) {
        let labels = SyncLabels { app: app.to_string(), outcome: outcome.as_str().to_string() };
        self.syncs.get_or_create(&labels).inc();
    }

    /// Records a sync's duration.
    pub fn sync_duration(&self, took: Duration) {
        self.sync_duration.observe(took.as_secs_f64());
    }

    /// Records a head check / fetch.
    pub fn git_fetch(&self, took: Duration) {
        self.git_fetch.observe(took.as_secs_f64());
    }

    /// Counts a Kubernetes API request.
    pub fn kube_request(&self, verb: &str, code: u16) {
        let labels = KubeLabels { verb: verb.to_string(), code: code.to_string() };
        self.kube.get_or_create(&labels).inc();
    }

    /// The number of Kubernetes API requests counted so far (all verbs and codes).
    pub fn kube_requests(&self) -> u64 {
        // Families cannot be iterated; the verbs and codes we count are few and known.
        let mut total = 0;
        for verb in KUBE_VERBS {
            for code in [
                200u16, 201, 202, 204, 400, 401, 403, 404, 409, 410, 422, 429, 500, 502, 503, 504,
                0,
            ] {
                let labels = KubeLabels { verb: verb.to_string(), code: code.to_string() };
                total += self.kube.get(&labels).map_or(0, |c| c.get());
            }
        }
        total
    }

    /// Installs the source of `cetus_app_health`.
    pub fn set_health_source(&self, source: HealthSource) {
        *self.scraped.health.lock().unwrap_or_else(|p| p.into_inner()) = Some(source);
    }

    /// Installs the webhook router's counters.
    pub fn set_webhooks(&self, webhooks: Arc<WebhookMetrics>) {
        *self.scraped.webhooks.lock().unwrap_or_else(|p| p.into_inner()) = Some(webhooks);
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The verbs `cetus_kube_requests_total` uses.
pub const KUBE_VERBS: [&str; 8] =
    ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::webhooks::{Outcome as WebhookOutcome, Provider};

    #[test]
    fn exposition_has_every_metric_with_its_labels() {
        let metrics = Metrics::new();
        metrics.sync_finished("shop", Outcome::Succeeded);
        metrics.sync_finished("shop", Outcome::Succeeded);
        metrics.sync_finished("shop", Outcome::RolledBack);
        metrics.sync_duration(Duration::from_millis(40));
        metrics.git_fetch(Duration::from_millis(3));
        metrics.kube_request("patch", 200);
        metrics.set_health_source(Arc::new(|| vec![("shop".to_string(), HealthStatus::Degraded)]));
        let webhooks = Arc::new(WebhookMetrics::new());
        webhooks.record(Provider::Github, WebhookOutcome::Accepted);
        metrics.set_webhooks(webhooks);
        let text = metrics.render();
        for line in [
            "cetus_sync_total{app=\"shop\",outcome=\"Succeeded\"} 2",
            "cetus_sync_total{app=\"shop\",outcome=\"RolledBack\"} 1",
            "cetus_sync_duration_seconds_count 1",
            "cetus_git_fetch_duration_seconds_count 1",
            "cetus_kube_requests_total{verb=\"patch\",code=\"200\"} 1",
            "cetus_app_health{app=\"shop\",health=\"Degraded\"} 1",
            "cetus_app_health{app=\"shop\",health=\"Healthy\"} 0",
            "cetus_webhook_requests_total{provider=\"github\",result=\"accepted\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
        }
        assert_eq!(metrics.kube_requests(), 1);
    }
}
