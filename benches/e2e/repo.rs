//! The generated config repo: `apps/appNN/cetus.yaml` plus raw manifests under `extra/`, 20
//! objects per app, rendered with `cetus::render::render` for the profile `bench` (which changes nothing). It owns the files and
//! the renders; it knows nothing of clusters or tools.
//!
//! One app: a Namespace, a ServiceAccount, four ConfigMaps and a Secret (raw manifests), six
//! services with ports (a Deployment and a Service each) and an Ingress: five apply stages,
//! the mix a team's app has.

use cetus::render::{RenderInput, Rendered, render};
use cetus::source::LocalTree;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Objects per app.
pub const OBJECTS: usize = 20;
const SERVICES: usize = 6;
const CONFIGMAPS: usize = 4;

/// The profile every app has (empty: `cetus sync` needs one).
pub const PROFILE: &str = "bench";

/// The raw manifest the one-object removal deletes (from app 0).
pub const REMOVED: &str = "extra/config-3.yaml";

/// A config repo in a temp dir.
pub struct Repo {
    dir: tempfile::TempDir,
    apps: usize,
}

impl Repo {
    /// Writes `apps` apps.
    pub fn generate(apps: usize) -> Repo {
        let repo = Repo { dir: tempfile::tempdir().expect("a temp dir"), apps };
        for i in 0..apps {
            repo.write(i, "cetus.yaml", &app_yaml(i, 2));
            repo.write(i, "extra/serviceaccount.yaml", &manifest("ServiceAccount", "runner", ""));
            for c in 0..CONFIGMAPS {
                let data = format!("data: {{ mode: strict, index: \"{c}\" }}\n");
                repo.write(
                    i,
                    &format!("extra/config-{c}.yaml"),
                    &manifest("ConfigMap", &format!("config-{c}"), &data),
                );
            }
            let secret = "type: Opaque\nstringData: { token: not-a-real-token }\n";
            repo.write(i, "extra/secret.yaml", &manifest("Secret", "credentials", secret));
        }
        repo
    }

    /// The number of apps.
    pub fn apps(&self) -> usize {
        self.apps
    }

    /// The app's name.
    pub fn name(i: usize) -> String {
        format!("app{i:02}")
    }

    /// App `i`'s directory.
    pub fn app_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join("apps").join(Self::name(i))
    }

    fn path(&self, i: usize, file: &str) -> PathBuf {
        self.app_dir(i).join(file)
    }

    fn write(&self, i: usize, file: &str, text: &str) {
        let path = self.path(i, file);
        std::fs::create_dir_all(path.parent().expect("a file has a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write a repo file");
    }

    /// Sets the replicas of app `i`'s first service (a one-object change).
    pub fn set_replicas(&self, i: usize, replicas: u32) {
        self.write(i, "cetus.yaml", &app_yaml(i, replicas));
    }

    /// Deletes one raw manifest of app `i` (a one-object removal).
    pub fn remove(&self, i: usize, file: &str) {
        std::fs::remove_file(self.path(i, file)).expect("remove a repo file");
    }

    /// Renders app `i` for [`PROFILE`].
    pub fn render(&self, i: usize) -> Rendered {
        let tree = LocalTree::new(self.dir.path()).expect("the repo is a directory");
        let app = format!("apps/{}", Self::name(i));
        let input = RenderInput { profile: Some(PROFILE.into()), ..RenderInput::default() };
        render(&tree, &app, &input)
            .unwrap_or_else(|e| panic!("{app} renders: {e}"))
            .expect("every app has the profile")
    }

    /// Renders every app.
    pub fn render_all(&self) -> Vec<Rendered> {
        (0..self.apps).map(|i| self.render(i)).collect()
    }

    /// The directory for files that are not part of the repo (kubectl's manifests, caches).
    pub fn scratch(&self) -> PathBuf {
        let dir = self.dir.path().join("scratch");
        std::fs::create_dir_all(&dir).expect("mkdir scratch");
        dir
    }
}

/// The rendered manifests as kubectl reads them: one multi-document YAML file.
pub fn write_manifests(rendered: &Rendered, path: &Path) {
    let text: String = rendered
        .objects
        .iter()
        .map(|o| format!("---\n{}", cetus::yaml::manifest_to_string(&o.value)))
        .collect();
    std::fs::write(path, text).expect("write the manifests");
}

fn manifest(kind: &str, name: &str, body: &str) -> String {
    format!("apiVersion: v1\nkind: {kind}\nmetadata: {{ name: {name} }}\n{body}")
}

fn app_yaml(i: usize, replicas: u32) -> String {
    let name = Repo::name(i);
    let mut y = format!(
        "name: {name}\nimages:\n  svc: {{ repository: registry.example.com/{name}/svc, tag: master-{i:08x} }}\nservices:\n"
    );
    for s in 0..SERVICES {
        let replicas = if s == 0 { replicas } else { 2 };
        write!(
            y,
            "  svc{s}:\n    image: svc\n    replicas: {replicas}\n    ports: [ {{ port: 80, targetPort: 8080, name: http }} ]\n    \
             env: {{ LOG_LEVEL: info, PEER: \"http://svc{}:80\" }}\n    \
             resources: {{ requests: {{ cpu: 100m, memory: 128Mi }} }}\n    probes: {{ readiness: {{ http: /healthz, port: 8080 }} }}\n",
            (s + 1) % SERVICES
        )
        .expect("writing to a String");
    }
    write!(
        y,
        "ingress:\n  - host: {name}.example.com\n    paths: [ {{ path: /, service: svc0, port: 80 }} ]\nmanifests: [ extra/ ]\nprofiles:\n  {PROFILE}: {{}}\n"
    )
    .expect("writing to a String");
    y
}
