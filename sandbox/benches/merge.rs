//! Server-side apply throughput: a small Deployment applied onto an existing one, changed and
//! unchanged. The sandbox must sustain 5,000 small applies per second on one core, so one
//! apply should stay well under 100 µs.

use cetus_sandbox::merge::{ApplyRequest, Schema, apply};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use std::hint::black_box;

fn deployment(image: &str, replicas: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web", "team": "a"}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image,
                    "ports": [{"containerPort": 8080, "name": "http"}],
                    "env": [{"name": "MODE", "value": "prod"}, {"name": "LOG", "value": "info"}],
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]}}}})
}

fn bench_apply(c: &mut Criterion) {
    let schema = Schema::builtin("apps/v1", "Deployment").expect("built-in schema");
    let req = ApplyRequest {
        manager: "cetus",
        force: false,
        schema: &schema,
        api_version: "apps/v1",
        now: "2026-11-22T04:15:52Z",
        subresource: None,
    };
    let live = apply(None, &deployment("app:1", 2), &req).expect("create");
    let changed = deployment("app:2", 3);
    let same = deployment("app:1", 2);
    c.bench_function("apply small deployment (changed)", |b| {
        b.iter(|| apply(Some(black_box(&live)), black_box(&changed), &req).expect("apply"))
    });
    c.bench_function("apply small deployment (unchanged)", |b| {
        b.iter(|| apply(Some(black_box(&live)), black_box(&same), &req).expect("apply"))
    });
}

criterion_group!(benches, bench_apply);
criterion_main!(benches);
