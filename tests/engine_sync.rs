//! The engine against the sandbox, in named steps: create → no-op → change → prune, and the
//! cases prune safety and fault handling rest on. Each test has a sandbox of its own, so its
//! request counters are exact.

#[path = "support/cluster.rs"]
mod cluster;

use cetus::engine::{SyncError, SyncOptions};
use cetus::render::Stage;
use cetus_sandbox::ErrorInjection;
use cluster::{AppDir, Cluster, Kept, lines};
use serde_json::json;
use std::time::Duration;

const SHOP: &str = r#"
name: shop
services:
  web:
    image: nginx:1.27
    replicas: 2
    ports: [ { port: 80 } ]
    resources: { requests: { cpu: "0.5", memory: 1024Mi } }
  worker:
    image: busybox:1.36
manifests: [ extra/ ]
"#;

const SETTINGS: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings }\ndata: { mode: strict }\n";

fn shop() -> AppDir {
    let app = AppDir::new(SHOP);
    app.write("extra/settings.yaml", SETTINGS);
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_then_noop_then_change_then_prune() {
    let cluster = Cluster::start().await;
    let engine = cluster.engine().await;
    let app = shop();
    let mut kept = Kept::default();
    let options = SyncOptions::default();

    // Step 1: the first sync creates everything, in stage order.
    let report = kept.sync(&engine, &app.render(), &options).await;
    assert_eq!(report.error, None);
    assert_eq!(
        lines(&report),
        [
            "Namespace shop created",
            "ConfigMap shop/settings created",
            "Service shop/web created",
            "apps/Deployment shop/web created",
            "apps/Deployment shop/worker created",
        ]
    );

    // Step 2: a second sync by the same (warm) engine changes nothing and asks nothing.
    cluster.sandbox.reset_request_counts();
    let report = kept.sync(&engine, &app.render(), &options).await;
    assert_eq!(report.error, None);
    assert!(lines(&report).iter().all(|l| l.ends_with(" unchanged")), "{:?}", lines(&report));
    assert_eq!(report.changes.counts().unchanged, 5);
    assert_eq!(cluster.requests(), 0, "{:?}", cluster.sandbox.request_counts());

    // Step 3: one service's replicas change: exactly one object is written.
    app.write("cetus.yaml", &SHOP.replace("replicas: 2", "replicas: 3"));
    let report = kept.sync(&engine, &app.render(), &options).await;
    assert_eq!(report.error, None);
    assert_eq!(report.changes.counts().applied, 1);
    assert_eq!(
        report.changes.action(&key("apps", "Deployment", "web")).unwrap().to_owned(),
        cetus::engine::Action::configured()
    );
    assert_eq!(cluster.writes(), 1, "{:?}", cluster.sandbox.request_counts());
    let web = cluster.get("apps/v1", "Deployment", "shop", "web").await.unwrap();
    assert_eq!(web["spec"]["replicas"], 3);

    // Step 4: removing a service prunes its Deployment; dropping the ports prunes the Service.
    let smaller = SHOP
        .replace("  worker:\n    image: busybox:1.36\n", "")
        .replace("    ports: [ { port: 80 } ]\n", "");
    app.write("cetus.yaml", &smaller);
    let report = kept.sync(&engine, &app.render(), &options).await;
    assert_eq!(report.error, None);
    let pruned: Vec<String> =
        lines(&report).into_iter().filter(|l| l.ends_with("pruned")).collect();
    assert_eq!(pruned, ["apps/Deployment shop/worker pruned", "Service shop/web pruned"]);
    assert!(cluster.get("apps/v1", "Deployment", "shop", "worker").await.is_none());
    assert!(cluster.get("v1", "Service", "shop", "web").await.is_none());
    let names: Vec<String> = report.inventory.entries.iter().map(|e| e.key().to_string()).collect();
    assert_eq!(names, ["ConfigMap shop/settings", "Namespace shop", "apps/Deployment shop/web"]);
}

fn key(group: &str, kind: &str, name: &str) -> cetus::render::ObjectKey {
    cetus::render::ObjectKey {
        group: group.into(),
        kind: kind.into(),
        namespace: if kind == "Namespace" { String::new() } else { "shop".into() },
        name: name.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_engine_that_remembers_lists_once_per_kind_and_writes_nothing() {
    let cluster = Cluster::start().await;
    let app = shop();
    let mut kept = Kept::default();
    let first = kept.sync(&cluster.engine().await, &app.render(), &SyncOptions::default()).await;
    assert_eq!(first.error, None);

    // A one-shot CLI run: a fresh engine, the memory from the store.
    cluster.sandbox.reset_request_counts();
    let report = kept.sync(&cluster.engine().await, &app.render(), &SyncOptions::default()).await;
    assert_eq!(report.error, None);
    assert_eq!(report.changes.counts().unchanged, 5);
    assert_eq!(cluster.writes(), 0, "{:?}", cluster.sandbox.request_counts());
    for count in cluster.sandbox.request_counts() {
        assert!(
            (count.verb == "list" || count.verb == "watch") && count.count == 1,
            "only one list and one watch per kind: {count:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_that_remembers_nothing_finds_canonical_quantities_unchanged() {
    let cluster = Cluster::start().await;
    let app = shop();
    let first =
        Kept::default().sync(&cluster.engine().await, &app.render(), &SyncOptions::default()).await;
    assert_eq!(first.error, None);
    let before = cluster.get("apps/v1", "Deployment", "shop", "web").await.unwrap();

    // No memory at all (a lost store): dry runs decide, and nothing is written for real.
    let report =
        Kept::default().sync(&cluster.engine().await, &app.render(), &SyncOptions::default()).await;
    assert_eq!(report.error, None);
    assert_eq!(report.changes.counts().unchanged, 5, "{:?}", lines(&report));
    let after = cluster.get("apps/v1", "Deployment", "shop", "web").await.unwrap();
    assert_eq!(before["metadata"]["resourceVersion"], after["metadata"]["resourceVersion"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_spares_disabled_objects_and_objects_another_app_tracks() {
    let cluster = Cluster::start().await;
    let engine = cluster.engine().await;
    let app = AppDir::new("name: shop\nmanifests: [ extra/ ]\n");
    app.write("extra/keep.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\n  annotations: { cetus.dev/prune: disabled }\n");
    app.write("extra/shared.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: shared }\n");
    app.write("extra/gone.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: gone }\n");
    let mut kept = Kept::default();
    assert_eq!(kept.sync(&engine, &app.render(), &SyncOptions::default()).await.error, None);

    // Another app's sync took `shared` over: its tracking annotation names that app now.
    let api: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(cluster.client.clone(), "shop");
    let takeover = json!({"metadata": {"annotations": {"cetus.dev/tracking": "other:/ConfigMap:shop/shared"}}});
    api.patch("shared", &kube::api::PatchParams::default(), &kube::api::Patch::Merge(&takeover))
        .await
        .unwrap();
    cluster::cached(&engine, "v1", "ConfigMap", "shop", "shared", |o| {
        o["metadata"]["annotations"]["cetus.dev/tracking"] == "other:/ConfigMap:shop/shared"
    })
    .await;

    for file in ["keep.yaml", "shared.yaml", "gone.yaml"] {
        std::fs::remove_file(app.path().join("extra").join(file)).unwrap();
    }
    app.write("extra/other.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: other }\n");
    let report = kept.sync(&engine, &app.render(), &SyncOptions::default()).await;
    assert_eq!(report.error, None);
    let not_applied: Vec<String> = lines(&report)
        .into_iter()
        .filter(|l| !l.contains("created") && !l.ends_with("unchanged"))
        .collect();
    assert_eq!(
        not_applied,
        [
            "ConfigMap shop/gone pruned",
            "ConfigMap shop/keep skipped: cetus.dev/prune: disabled",
            "ConfigMap shop/shared skipped: cetus.dev/tracking is \"other:/ConfigMap:shop/shared\", not \"shop:/ConfigMap:shop/shared\"",
        ]
    );
    assert!(api.get_opt("keep").await.unwrap().is_some());
    assert!(api.get_opt("shared").await.unwrap().is_some());
    assert!(api.get_opt("gone").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_render_is_refused_and_deletes_nothing() {
    let cluster = Cluster::start().await;
    let engine = cluster.engine().await;
    let app = shop();
    let mut kept = Kept::default();
    assert_eq!(kept.sync(&engine, &app.render(), &SyncOptions::default()).await.error, None);

    let empty = AppDir::new("name: shop\n");
    cluster.sandbox.reset_request_counts();
    let report = kept.sync(&engine, &empty.render(), &SyncOptions::default()).await;
    assert_eq!(report.error, Some(SyncError::EmptyRender(5)));
    assert_eq!(
        report.error.unwrap().to_string(),
        "refusing to sync an empty render over 5 objects of the last sync (it would delete them all); allow empty renders to do that"
    );
    assert!(report.changes.changes.is_empty());
    assert_eq!(cluster.writes(), 0);
    assert!(cluster.get("apps/v1", "Deployment", "shop", "web").await.is_some());

    // Allowed, the same render prunes everything but the Namespace it still renders.
    let allowed = SyncOptions { allow_empty: true, ..SyncOptions::default() };
    let report = kept.sync(&engine, &empty.render(), &allowed).await;
    assert_eq!(report.error, None);
    assert_eq!(report.changes.counts().pruned, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crd_and_an_object_of_it_sync_in_one_run() {
    let cluster = Cluster::start().await;
    let engine = cluster.engine().await;
    let app = AppDir::new("name: shop\nmanifests: [ extra/ ]\n");
    app.write(
        "extra/crd.yaml",
        r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: widgets.example.com }
spec:
  group: example.com
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget }
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: { type: object, properties: { size: { type: integer } } }
"#,
    );
    app.write(
        "extra/widget.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: { name: big }\nspec: { size: 3 }\n",
    );
    let mut kept = Kept::default();
    let report = kept.sync(&engine, &app.render(), &SyncOptions::default()).await;
    assert_eq!(report.error, None);
    assert_eq!(
        lines(&report),
        [
            "apiextensions.k8s.io/CustomResourceDefinition widgets.example.com created",
            "Namespace shop created",
            "example.com/Widget shop/big created",
        ]
    );
    let widget = cluster.get("example.com/v1", "Widget", "shop", "big").await.unwrap();
    assert_eq!(widget["spec"]["size"], 3);
    let again = kept.sync(&engine, &app.render(), &SyncOptions::default()).await;
    assert_eq!(again.changes.counts().unchanged, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_kind_fails_before_anything_is_written() {
    let cluster = Cluster::start().await;
    let engine = cluster.engine().await;
    let app = AppDir::new("name: shop\nmanifests: [ extra/ ]\n");
    app.write(
        "extra/gadget.yaml",
        "apiVersion: example.com/v1\nkind: Gadget\nmetadata: { name: g }\n",
    );
    let report = Kept::default().sync(&engine, &app.render(), &SyncOptions::default()).await;
    assert_eq!(
        report.error.unwrap().to_string(),
        "example.com/Gadget shop/g: no matches for kind \"Gadget\" in version \"example.com/v1\": ensure CRDs are installed first"
    );
    assert_eq!(cluster.writes(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_left_to_another_manager_is_not_fought_over() {
    let cluster = Cluster::start().await;
    let engine = cluster.engine().await;
    let spec = "name: shop\nservices:\n  web:\n    image: nginx:1.27\n    replicas: 2\n    annotations: { cetus.dev/ignore-fields: /spec/replicas }\n";
    let app = AppDir::new(spec);
    let mut kept = Kept::default();
    assert_eq!(kept.sync(&engine, &app.render(), &SyncOptions::default()).await.error, None);

    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = cluster.kubeconfig_in(dir.path());
    let out = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["-n", "shop", "scale", "deployment/web", "--replicas=5"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    cluster::cached(&engine, "apps/v1", "Deployment", "shop", "web", |o| {
        o["spec"]["replicas"] == 5
    })
    .await;

    cluster.sandbox.reset_request_counts();
    let report = kept.sync(&engine, &app.render(), &SyncOptions::default()).await;
    assert_eq!(report.error, None);
    assert_eq!(report.changes.counts().unchanged, 2, "{:?}", lines(&report));
    assert_eq!(cluster.writes(), 0);
    let web = cluster.get("apps/v1", "Deployment", "shop", "web").await.unwrap();
    assert_eq!(web["spec"]["replicas"], 5);

    // A change elsewhere in the Deployment is applied, still with the scaled replicas.
    app.write("cetus.yaml", &spec.replace("nginx:1.27", "nginx:1.28"));
    let report = kept.sync(&engine, &app.render(), &SyncOptions::default()).await;
    assert_eq!(report.changes.counts().applied, 1, "{:?}", lines(&report));
    let web = cluster.get("apps/v1", "Deployment", "shop", "web").await.unwrap();
    assert_eq!(web["spec"]["replicas"], 5);
    assert_eq!(web["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.28");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_rollout_is_degraded_with_its_reason() {
    let cluster = Cluster::start().await;
    let engine = cluster.engine().await;
    let app = AppDir::new("name: shop\nservices:\n  web: { image: \"nginx:fail\" }\n");
    let options =
        SyncOptions { wait: true, timeout: Duration::from_secs(20), ..SyncOptions::default() };
    let report = Kept::default().sync(&engine, &app.render(), &options).await;
    let error = report.error.expect("the wait fails");
    let SyncError::Unhealthy { what, failed } = &error else { panic!("{error}") };
    assert_eq!(what, "the app to be healthy");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].starts_with("apps/Deployment shop/web: "), "{failed:?}");
    assert!(
        failed[0].contains("ProgressDeadlineExceeded") || failed[0].contains("progress deadline"),
        "{failed:?}"
    );
    let health = report.health.unwrap();
    assert_eq!(health.status, cetus::engine::HealthStatus::Degraded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflicting_manager_is_overridden_and_reported() {
    let cluster = Cluster::start().await;
    let engine = cluster.engine().await;
    let app = AppDir::new("name: shop\nmanifests: [ extra/ ]\n");
    app.write("extra/settings.yaml", SETTINGS);
    let mut kept = Kept::default();
    assert_eq!(kept.sync(&engine, &app.render(), &SyncOptions::default()).await.error, None);

    let api: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(cluster.client.clone(), "shop");
    let theirs = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"mode": "lax"}});
    api.patch(
        "settings",
        &kube::api::PatchParams::apply("other-tool").force(),
        &kube::api::Patch::Apply(&theirs),
    )
    .await
    .unwrap();
    cluster::cached(&engine, "v1", "ConfigMap", "shop", "settings", |o| o["data"]["mode"] == "lax")
        .await;

    let report = kept.sync(&engine, &app.render(), &SyncOptions::default()).await;
    assert_eq!(report.error, None);
    assert!(
        lines(&report).contains(
            &"ConfigMap shop/settings configured (took over other-tool: .data.mode)".to_string()
        ),
        "{:?}",
        lines(&report)
    );
    let live = api.get("settings").await.unwrap();
    assert_eq!(live.data.unwrap()["mode"], "strict");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_store_rebuilds_the_inventory_and_still_prunes() {
    let cluster = Cluster::start().await;
    let app = shop();
    let first =
        Kept::default().sync(&cluster.engine().await, &app.render(), &SyncOptions::default()).await;
    assert_eq!(first.error, None);

    // The store is gone; the worker is removed from the render.
    app.write("cetus.yaml", &SHOP.replace("  worker:\n    image: busybox:1.36\n", ""));
    let report =
        Kept::default().sync(&cluster.engine().await, &app.render(), &SyncOptions::default()).await;
    assert_eq!(report.error, None);
    let pruned: Vec<String> =
        lines(&report).into_iter().filter(|l| l.ends_with("pruned")).collect();
    assert_eq!(pruned, ["apps/Deployment shop/worker pruned"]);
    assert!(cluster.get("apps/v1", "Deployment", "shop", "worker").await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_on_one_object_fails_the_sync_naming_it_and_the_next_sync_completes() {
    let cluster = Cluster::start().await;
    let engine = cluster.engine().await;
    let spec = format!(
        "{SHOP}ingress:\n  - host: shop.example.com\n    paths: [ {{ path: /, service: web, port: 80 }} ]\n"
    );
    let app = shop();
    app.write("cetus.yaml", &spec);
    let mut kept = Kept::default();
    assert_eq!(kept.sync(&engine, &app.render(), &SyncOptions::default()).await.error, None);

    // The next commit changes web, removes the settings and changes the ingress host; web's
    // apply fails on every attempt.
    std::fs::remove_file(app.path().join("extra/settings.yaml")).unwrap();
    let changed =
        spec.replace("nginx:1.27", "nginx:1.28").replace("shop.example.com", "www.example.com");
    app.write("cetus.yaml", &changed);
    cluster.sandbox.inject_error(ErrorInjection {
        verb: Some("patch".into()),
        resource: Some("deployments".into()),
        name: Some("web".into()),
        count: 10,
        code: 500,
        ..ErrorInjection::default()
    });
    let report = kept.sync(&engine, &app.render(), &SyncOptions::default()).await;
    let Some(SyncError::Apply { stage, failed }) = &report.error else {
        panic!("{:?}", report.error)
    };
    assert_eq!(*stage, Stage::Workloads);
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].starts_with("apps/Deployment shop/web: apply failed: 500 InternalError"),
        "{failed:?}"
    );
    let ingress = cluster.get("networking.k8s.io/v1", "Ingress", "shop", "shop").await.unwrap();
    assert_eq!(
        ingress["spec"]["rules"][0]["host"], "shop.example.com",
        "a later stage was applied"
    );
    assert!(
        cluster.get("v1", "ConfigMap", "shop", "settings").await.is_some(),
        "a failed sync pruned"
    );

    cluster.sandbox.clear_injections();
    let report = kept.sync(&engine, &app.render(), &SyncOptions::default()).await;
    assert_eq!(report.error, None);
    assert!(lines(&report).contains(&"ConfigMap shop/settings pruned".to_string()));
    let ingress = cluster.get("networking.k8s.io/v1", "Ingress", "shop", "shop").await.unwrap();
    assert_eq!(ingress["spec"]["rules"][0]["host"], "www.example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hang_on_one_object_fails_the_sync_naming_it_and_the_next_sync_completes() {
    let cluster = Cluster::start().await;
    let engine = cluster.engine().await;
    let app = shop();
    let mut kept = Kept::default();
    assert_eq!(kept.sync(&engine, &app.render(), &SyncOptions::default()).await.error, None);

    app.write("cetus.yaml", &SHOP.replace("nginx:1.27", "nginx:1.28"));
    std::fs::remove_file(app.path().join("extra/settings.yaml")).unwrap();
    let web = cetus_sandbox::RequestMatch {
        verb: Some("patch".into()),
        resource: Some("deployments".into()),
        name: Some("web".into()),
        ..Default::default()
    };
    cluster.sandbox.hang_requests(web, 10);
    let report = kept.sync(&engine, &app.render(), &SyncOptions::default()).await;
    let Some(SyncError::Apply { stage, failed }) = &report.error else {
        panic!("{:?}", report.error)
    };
    assert_eq!(*stage, Stage::Workloads);
    assert_eq!(failed, &["apps/Deployment shop/web: apply failed: no answer within 2s"]);
    assert!(
        cluster.get("v1", "ConfigMap", "shop", "settings").await.is_some(),
        "a failed sync pruned"
    );

    cluster.sandbox.clear_faults();
    let report = kept.sync(&engine, &app.render(), &SyncOptions::default()).await;
    assert_eq!(report.error, None);
    assert!(lines(&report).contains(&"ConfigMap shop/settings pruned".to_string()));
    let live = cluster.get("apps/v1", "Deployment", "shop", "web").await.unwrap();
    assert_eq!(live["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.28");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_of_a_crd_wait_until_it_is_established() {
    let cluster = Cluster::start().await;
    let engine = cluster.engine().await;
    let app = AppDir::new("name: shop\nmanifests: [ extra/ ]\n");
    app.write("extra/crd.yaml", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: { name: gadgets.example.com }\nspec:\n  group: example.com\n  scope: Namespaced\n  names: { plural: gadgets, singular: gadget, kind: Gadget }\n  versions:\n    - { name: v1, served: true, storage: true, schema: { openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true } } }\n");
    app.write(
        "extra/gadget.yaml",
        "apiVersion: example.com/v1\nkind: Gadget\nmetadata: { name: g }\nspec: { size: 1 }\n",
    );
    cluster.sandbox.withhold_crd("gadgets.example.com");
    let quick = SyncOptions { timeout: Duration::from_secs(2), ..SyncOptions::default() };
    let mut kept = Kept::default();
    let report = kept.sync(&engine, &app.render(), &quick).await;
    let Some(SyncError::Timeout { what, pending, .. }) = &report.error else {
        panic!("{:?}", report.error)
    };
    assert_eq!(what, "CRDs to be established");
    assert_eq!(pending.len(), 1);
    assert!(
        pending[0]
            .starts_with("apiextensions.k8s.io/CustomResourceDefinition gadgets.example.com: "),
        "{pending:?}"
    );
    assert!(lines(&report).iter().all(|l| !l.contains("Gadget")), "{:?}", lines(&report));

    cluster.sandbox.release_crd("gadgets.example.com");
    let report = kept.sync(&engine, &app.render(), &quick).await;
    assert_eq!(report.error, None);
    assert!(
        lines(&report).contains(&"example.com/Gadget shop/g created".to_string()),
        "{:?}",
        lines(&report)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_cache_watches_nothing_more() {
    let cluster = Cluster::start().await;
    let engine = cluster.engine().await;
    let kinds = engine.watch_all();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    assert!(engine.cache().wait_synced(&kinds, deadline).await);
    assert!(!kinds.iter().any(|k| k.resource.kind == "Pod"), "derived kinds are not watched");

    // Listed; let every watch that follows a list reach the server too.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    // A clone held elsewhere (as the API's handle holds one) does not keep the watches alive.
    let clone = engine.clone();
    engine.cache().stop();
    cluster.sandbox.reset_request_counts();
    // Ended watches are opened again by a live watcher at once.
    cluster.sandbox.end_watches();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(cluster.sandbox.request_counts(), vec![], "no watch reopened");
    assert!(!clone.cache().is_watched(&kinds[0]));
}
