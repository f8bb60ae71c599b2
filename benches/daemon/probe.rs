//! What the bench observes from outside the daemon: when a Deployment's new image reaches
//! the API server (a watch of its own, so the moment is the server's event and not a poll's
//! tick), the daemon's peak resident memory (`VmHWM` of /proc), and percentiles.

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Watches every Deployment Cetus manages and notes when each image was first seen.
pub struct Applied {
    seen: Arc<Mutex<HashMap<String, Instant>>>,
    runtime: tokio::runtime::Runtime,
    task: tokio::task::JoinHandle<()>,
}

impl Applied {
    /// Starts the watch against the cluster of `kubeconfig`; returns once it has listed.
    pub fn watch(kubeconfig: &Path) -> Applied {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let client = runtime.block_on(async {
            let kubeconfig = Kubeconfig::read_from(kubeconfig).expect("the kubeconfig reads");
            let config =
                kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                    .await
                    .expect("the kubeconfig is usable");
            kube::Client::try_from(config).expect("a client")
        });
        let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
        let (listed, ready) = std::sync::mpsc::channel();
        let task = runtime.spawn(note_images(client, seen.clone(), listed));
        ready.recv_timeout(Duration::from_secs(60)).expect("the watch lists");
        Applied { seen, runtime, task }
    }

    /// Waits until some Deployment runs `image`; returns when the watch first saw it.
    pub fn wait_for(&self, image: &str, timeout: Duration) -> Instant {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(at) = self.seen.lock().expect("not poisoned").get(image) {
                return *at;
            }
            assert!(Instant::now() < deadline, "no Deployment ran {image} within {timeout:?}");
            std::thread::sleep(Duration::from_micros(500));
        }
    }

    /// Stops the watch (so it sends no requests while the daemon is measured at rest).
    pub fn stop(self) {
        self.task.abort();
        self.runtime.shutdown_timeout(Duration::from_secs(5));
    }
}

async fn note_images(
    client: kube::Client,
    seen: Arc<Mutex<HashMap<String, Instant>>>,
    listed: std::sync::mpsc::Sender<()>,
) {
    let api = kube::Api::<Deployment>::all(client);
    let config = watcher::Config::default().labels("cetus.dev/app");
    let mut events = std::pin::pin!(watcher(api, config));
    while let Some(event) = events.next().await {
        let at = Instant::now();
        let deployments = match event {
            Ok(watcher::Event::Apply(d) | watcher::Event::InitApply(d)) => vec![d],
            Ok(watcher::Event::InitDone) => {
                let _ = listed.send(());
                continue;
            }
            _ => continue,
        };
        let mut seen = seen.lock().expect("not poisoned");
        for image in deployments.iter().flat_map(images) {
            seen.entry(image).or_insert(at);
        }
    }
}

fn images(deployment: &Deployment) -> Vec<String> {
    let containers = deployment.spec.as_ref().and_then(|s| s.template.spec.as_ref());
    containers
        .map_or_else(Vec::new, |p| p.containers.iter().filter_map(|c| c.image.clone()).collect())
}

/// A process's peak resident set (`VmHWM`), in bytes.
pub fn peak_rss(pid: u32) -> u64 {
    status_kib(pid, "VmHWM:")
}

/// A process's resident set now (`VmRSS`), and of it the anonymous memory (`RssAnon`: the
/// heap) and the file pages (`RssFile`: the binary, its libraries, mapped git packs), in bytes.
pub fn rss(pid: u32) -> (u64, u64, u64) {
    (status_kib(pid, "VmRSS:"), status_kib(pid, "RssAnon:"), status_kib(pid, "RssFile:"))
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    let line = status.lines().find(|l| l.starts_with(field)).expect("a /proc/PID/status line");
    let kib: u64 = line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("kB");
    kib * 1024
}

/// Latencies, sorted.
pub struct Spread(Vec<Duration>);

impl Spread {
    /// From samples in any order.
    pub fn of(mut samples: Vec<Duration>) -> Spread {
        samples.sort();
        Spread(samples)
    }

    /// The `p`th percentile (nearest rank), 0 < p ≤ 100.
    pub fn percentile(&self, p: f64) -> Duration {
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }

    /// `p50 123 ms, p99 456 ms, max 789 ms (n = 30)`.
    pub fn text(&self) -> String {
        format!(
            "p50 {}, p99 {}, max {} (n = {})",
            ms(self.percentile(50.0)),
            ms(self.percentile(99.0)),
            ms(*self.0.last().expect("samples")),
            self.0.len()
        )
    }
}

/// `123 ms`.
pub fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// `45.2 MiB`.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
