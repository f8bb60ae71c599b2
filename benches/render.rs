//! Render throughput: a generated config repo of 1,000 apps × 5 services, each with vars and
//! staging/prod profiles (replace and patch), rendered for `staging` from disk.
//!
//! `cargo bench --bench render`. Figures in the README come from this bench.

use cetus::render::{RenderInput, find_apps, render};
use cetus::source::LocalTree;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::fmt::Write;
use std::hint::black_box;
use std::sync::Arc;

// The allocator of the `cetus` binary, so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const APPS: usize = 1_000;
const SERVICES: usize = 5;

fn app_yaml(i: usize) -> String {
    let mut y = format!(
        "name: app{i}\ngroup: team{}\nvars:\n  replicas: {{ default: 2 }}\n  level: {{ default: info }}\n  region: {{ env: BENCH_REGION, default: eu-west-1 }}\nimages:\n",
        i % 20
    );
    for s in 0..SERVICES {
        writeln!(
            y,
            "  svc{s}: {{ repository: registry.example.com/app{i}/svc{s}, tag: master-{i:08x} }}"
        )
        .unwrap();
    }
    y.push_str("services:\n");
    for s in 0..SERVICES {
        write!(
            y,
            "  svc{s}:\n    image: svc{s}\n    replicas: ${{replicas}}\n    ports: [ {{ port: 80, targetPort: 8080, name: http }} ]\n    \
             env: {{ LOG_LEVEL: \"${{level}}\", REGION: \"${{region}}\", PEER: \"http://svc{}:80\" }}\n    \
             resources: {{ requests: {{ cpu: 100m, memory: 128Mi }} }}\n    probes: {{ readiness: {{ http: /healthz, port: http }} }}\n",
            (s + 1) % SERVICES
        )
        .unwrap();
    }
    y.push_str(
        "profiles:\n  staging:\n    replace: { vars.replicas.default: 1, images.svc0.tag: develop-1 }\n    \
         patch:\n      - { op: add, path: /services/svc1/env/FEATURE, value: \"on\" }\n  \
         prod:\n    replace: { vars.replicas.default: 3 }\n",
    );
    y
}

fn bench_render(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..APPS {
        let app = dir.path().join(format!("apps/app{i}"));
        std::fs::create_dir_all(&app).unwrap();
        std::fs::write(app.join("cetus.yaml"), app_yaml(i)).unwrap();
    }
    let tree = LocalTree::new(dir.path()).unwrap();
    let apps = find_apps(&tree, "apps").unwrap();
    let input = RenderInput {
        profile: Some("staging".into()),
        env: Arc::new(|_| None),
        ..RenderInput::default()
    };
    let objects_per_app = render(&tree, &apps[0], &input).unwrap().unwrap().objects.len();

    let mut group = c.benchmark_group("render");
    group.throughput(Throughput::Elements(objects_per_app as u64));
    group.bench_function("one_app_5_services", |b| {
        b.iter(|| render(&tree, black_box(&apps[0]), &input).unwrap().unwrap())
    });
    group.sample_size(10);
    group.throughput(Throughput::Elements((objects_per_app * APPS) as u64));
    group.bench_function("repo_1000_apps", |b| {
        b.iter(|| {
            for app in &apps {
                black_box(render(&tree, app, &input).unwrap().unwrap());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_render);
criterion_main!(benches);
