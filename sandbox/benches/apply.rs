//! Server-side applies per second through the HTTP server on loopback, no added latency.
//!
//! The server runs on a current-thread runtime of its own (one core); the client is a
//! kube-rs client on another runtime keeping 16 applies in flight. Each iteration applies
//! 500 small ConfigMaps (changing: every apply writes; unchanged: every apply is a no-op).
//! `changing_tls_token` is `changing` against the TLS mode with a bearer token (connections
//! are kept alive, so it measures encryption and the token check, not handshakes).
//!
//! `cargo bench -p cetus-sandbox --bench apply`

use cetus_sandbox::{Sandbox, SandboxHandle, SandboxOptions};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};

const BATCH: u64 = 500;
const IN_FLIGHT: usize = 16;
const OBJECTS: u64 = 100;

/// Starts a sandbox on a single-threaded runtime in its own thread.
fn one_core_sandbox(options: SandboxOptions) -> SandboxHandle {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        rt.block_on(async move {
            let handle = Sandbox::start(options).await.expect("the sandbox starts");
            tx.send(handle).expect("the bench waits for the handle");
            // Serve until the process ends (the handle, dropped by then, would stop it).
            std::future::pending::<()>().await;
        });
    });
    rx.recv().expect("the sandbox thread reports back")
}

async fn client(handle: &SandboxHandle) -> kube::Client {
    let kubeconfig =
        kube::config::Kubeconfig::from_yaml(&handle.kubeconfig()).expect("a kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .expect("a config");
    kube::Client::try_from(config).expect("a client")
}

async fn batch(api: &Api<DynamicObject>, counter: &AtomicU64, change: bool) {
    futures::stream::iter(0..BATCH)
        .map(|_| {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let name = format!("cm-{}", n % OBJECTS);
            let value = if change { n.to_string() } else { "same".to_string() };
            let config = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"key": value}});
            async move {
                api.patch(&name, &PatchParams::apply("bench"), &Patch::Apply(config)).await.expect("the apply succeeds");
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<()>()
        .await;
}

/// A ConfigMap API on a one-core sandbox with `options`, and the client's runtime.
fn config_maps(
    options: SandboxOptions,
) -> (SandboxHandle, tokio::runtime::Runtime, Api<DynamicObject>) {
    let handle = one_core_sandbox(options);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let client = rt.block_on(client(&handle));
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("", "v1", "ConfigMap"),
        "configmaps",
    );
    (handle, rt, Api::namespaced_with(client, "default", &ar))
}

fn applies(c: &mut Criterion) {
    let (_plain, rt, api) = config_maps(SandboxOptions::default());
    let secure = SandboxOptions { tls: true, token: Some("bench".into()), ..Default::default() };
    let (_secure, tls_rt, tls_api) = config_maps(secure);
    let counter = AtomicU64::new(0);
    let mut group = c.benchmark_group("server_side_apply");
    group.throughput(Throughput::Elements(BATCH));
    group.sample_size(20);
    group.bench_function("changing", |b| b.iter(|| rt.block_on(batch(&api, &counter, true))));
    group.bench_function("unchanged", |b| b.iter(|| rt.block_on(batch(&api, &counter, false))));
    group.bench_function("changing_tls_token", |b| {
        b.iter(|| tls_rt.block_on(batch(&tls_api, &counter, true)))
    });
    group.finish();
}

criterion_group!(benches, applies);
criterion_main!(benches);
