//! Golden tests: every example app, both profiles, renders exactly the checked-in manifests,
//! and every object it renders is a valid object of its Kubernetes type.
//!
//! After an intended change of output, regenerate with `CETUS_UPDATE_GOLDEN=1 cargo test
//! --test render_golden` and review the diff of `tests/golden/`.

use cetus::render::{RenderInput, Rendered, render};
use cetus::source::LocalTree;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

const APPS: [&str; 3] = ["apps/bookinfo", "apps/hello", "apps/ledger"];
const PROFILES: [&str; 2] = ["staging", "prod"];

fn render_example(app: &str, profile: &str) -> Rendered {
    let tree =
        LocalTree::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("config-repo-example")).unwrap();
    let input = RenderInput {
        profile: Some(profile.to_string()),
        env: Arc::new(|_| None), // the machine's environment must not leak into goldens
        ..RenderInput::default()
    };
    render(&tree, app, &input)
        .unwrap_or_else(|e| panic!("{app} {profile}:\n{e}"))
        .expect("the profile exists")
}

fn to_yaml(rendered: &Rendered) -> String {
    let mut out = format!("# digest: {}\n", rendered.digest);
    for object in &rendered.objects {
        out.push_str("---\n");
        out.push_str(&cetus::yaml::manifest_to_string(&object.value));
    }
    out
}

#[test]
fn example_apps_match_golden_files() {
    let update = std::env::var_os("CETUS_UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for app in APPS {
        for profile in PROFILES {
            let actual = to_yaml(&render_example(app, profile));
            let name = format!("{}-{profile}.yaml", app.trim_start_matches("apps/"));
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(&name);
            if update {
                std::fs::write(&path, &actual).unwrap();
                continue;
            }
            let expected = std::fs::read_to_string(&path).unwrap_or_default();
            if expected != actual {
                let diff = similar::TextDiff::from_lines(&expected, &actual);
                failures.push(format!(
                    "{name} differs (CETUS_UPDATE_GOLDEN=1 to accept):\n{}",
                    diff.unified_diff().context_radius(3).header("golden", "rendered")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rendering_is_deterministic() {
    let a = render_example("apps/bookinfo", "staging");
    let b = render_example("apps/bookinfo", "staging");
    assert_eq!(a.digest, b.digest);
    assert_eq!(to_yaml(&a), to_yaml(&b));
    assert_ne!(a.digest, render_example("apps/bookinfo", "prod").digest);
}

/// Deserializes into the k8s-openapi type and back: a field the type does not know (a typo
/// in the generator) is lost on the way and shows as a difference.
fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(
    value: &Value,
) -> Result<(), String> {
    let typed: T = serde_path_to_error::deserialize(value).map_err(|e| e.to_string())?;
    let back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    if &back != value {
        return Err(format!(
            "round trip changed it:\n{}",
            serde_json::to_string_pretty(&back).unwrap()
        ));
    }
    Ok(())
}

#[test]
fn every_rendered_object_is_a_valid_kubernetes_object() {
    use k8s_openapi::api::{apps, autoscaling, batch, core, networking};
    let mut kinds = std::collections::BTreeSet::new();
    for app in APPS {
        for profile in PROFILES {
            for object in render_example(app, profile).objects {
                let v = &object.value;
                let kind = (v["apiVersion"].as_str().unwrap(), v["kind"].as_str().unwrap());
                kinds.insert(format!("{}/{}", kind.0, kind.1));
                let checked = match kind {
                    ("v1", "Namespace") => round_trip::<core::v1::Namespace>(v),
                    ("v1", "Service") => round_trip::<core::v1::Service>(v),
                    ("v1", "Secret") => round_trip::<core::v1::Secret>(v),
                    ("v1", "ConfigMap") => round_trip::<core::v1::ConfigMap>(v),
                    ("v1", "PersistentVolumeClaim") => {
                        round_trip::<core::v1::PersistentVolumeClaim>(v)
                    }
                    ("apps/v1", "Deployment") => round_trip::<apps::v1::Deployment>(v),
                    ("batch/v1", "Job") => round_trip::<batch::v1::Job>(v),
                    ("batch/v1", "CronJob") => round_trip::<batch::v1::CronJob>(v),
                    ("networking.k8s.io/v1", "Ingress") => round_trip::<networking::v1::Ingress>(v),
                    ("networking.k8s.io/v1", "NetworkPolicy") => {
                        round_trip::<networking::v1::NetworkPolicy>(v)
                    }
                    ("autoscaling/v2", "HorizontalPodAutoscaler") => {
                        round_trip::<autoscaling::v2::HorizontalPodAutoscaler>(v)
                    }
                    other => Err(format!("no type checked for {other:?}: add it to this test")),
                };
                if let Err(e) = checked {
                    panic!("{} from {}: {e}", object.key, object.source);
                }
            }
        }
    }
    // The examples exercise every kind the generator produces.
    for kind in [
        "v1/Namespace",
        "v1/Service",
        "apps/v1/Deployment",
        "batch/v1/Job",
        "networking.k8s.io/v1/Ingress",
    ] {
        assert!(kinds.contains(kind), "no example renders a {kind}");
    }
}
