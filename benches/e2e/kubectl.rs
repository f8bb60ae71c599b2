//! kubectl, the baseline: one `kubectl apply --server-side --prune --applyset=...` per app, on
//! the manifests Cetus rendered, against its own sandbox. It owns the kubectl processes, their
//! ApplySet parents and the parsing of what they print.
//!
//! What kubectl's ApplySets need (kubectl 1.27+, still alpha, so `KUBECTL_APPLYSET=true`):
//! - a parent object per set. The default parent, a Secret, lives in a namespace given with
//!   `-n`, and kubectl then refuses objects of other namespaces, and applies the parent first,
//!   so the namespace must exist before the first apply — but here the app's Namespace is one
//!   of the app's objects. The parents are therefore a cluster-scoped custom resource
//!   (`applysets.bench.cetus.dev`): kubectl takes any kind whose CRD is labelled
//!   `applyset.kubernetes.io/is-parent-type` as a parent. kubectl does not create
//!   custom-resource parents ("custom resource ApplySet parents cannot be created
//!   automatically"), so [`Kubectl::create_parents`] does, before the first sync, with the
//!   labels and annotations kubectl checks (`applyset.kubernetes.io/id`, `.../tooling`,
//!   `.../contains-group-kinds`) and as kubectl's own field manager (`kubectl-applyset`).
//! - nothing of the sandbox beyond what it serves (CRDs, server-side apply on custom
//!   resources, label-selector lists, deletes).
//!
//! Requests are counted twice: by the sandbox (API verbs), and from kubectl's `-v=6` log,
//! which prints one line per HTTP response, discovery and openapi included (discovery is
//! served from kubectl's disk cache after the first run, as on a workstation).

use crate::measure::{Measured, take_counts};
use crate::repo::{Repo, write_manifests};
use base64::Engine as _;
use cetus::render::Rendered;
use cetus_sandbox::SandboxHandle;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const PARENT_GROUP: &str = "bench.cetus.dev";
const PARENT_KIND: &str = "ApplySet";
const PARENT_RESOURCE: &str = "applysets.bench.cetus.dev";

/// The kubectl binary to run, and why that one.
pub struct Binary {
    /// Its path.
    pub path: PathBuf,
    /// Its client version (`v1.33.1`).
    pub version: String,
    /// How it was chosen.
    pub note: String,
}

impl Binary {
    /// `$CETUS_BENCH_KUBECTL`, else `kubectl` on the PATH — unless that is the Google Cloud
    /// SDK's dispatcher, which asks the server for its version and then runs a versioned
    /// kubectl beside it (about 0.4 s per call here); then that versioned kubectl is run
    /// directly, so the dispatcher's cost is not counted against kubectl.
    pub fn find() -> Binary {
        if let Some(path) = std::env::var_os("CETUS_BENCH_KUBECTL") {
            return Binary::at(PathBuf::from(path), "from CETUS_BENCH_KUBECTL".into());
        }
        let on_path = std::env::var_os("PATH")
            .and_then(|paths| {
                std::env::split_paths(&paths).map(|d| d.join("kubectl")).find(|p| p.is_file())
            })
            .expect("kubectl is on the PATH");
        let real = on_path.canonicalize().unwrap_or_else(|_| on_path.clone());
        let minor = cetus_sandbox::discovery::version()["minor"].as_str().unwrap_or("").to_string();
        let versioned = real.with_file_name(format!("kubectl.1.{minor}"));
        if versioned.is_file() && Binary::version_of(&on_path).contains("dispatcher") {
            let note = format!(
                "{} is the gcloud dispatcher; running the kubectl it would dispatch to directly",
                on_path.display()
            );
            return Binary::at(versioned, note);
        }
        Binary::at(on_path, "kubectl on the PATH".into())
    }

    fn at(path: PathBuf, note: String) -> Binary {
        let version = Binary::version_of(&path);
        Binary { path, version, note }
    }

    fn version_of(path: &Path) -> String {
        let out = Command::new(path)
            .args(["version", "--client", "-o", "json"])
            .output()
            .expect("kubectl runs");
        let json: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("kubectl version prints JSON");
        json["clientVersion"]["gitVersion"].as_str().unwrap_or("unknown").to_string()
    }
}

/// kubectl against one sandbox.
pub struct Kubectl {
    binary: Binary,
    kubeconfig: PathBuf,
    cache_dir: PathBuf,
    manifests: PathBuf,
}

impl Kubectl {
    /// Writes the sandbox's kubeconfig under `scratch`; kubectl's cache dir is there too.
    pub fn new(binary: Binary, sandbox: &SandboxHandle, scratch: &Path) -> Kubectl {
        let dir = scratch.join("kubectl");
        let manifests = dir.join("manifests");
        std::fs::create_dir_all(&manifests).expect("mkdir");
        let kubeconfig = dir.join("kubeconfig");
        sandbox.write_kubeconfig(&kubeconfig).expect("write the kubeconfig");
        Kubectl { binary, kubeconfig, cache_dir: dir.join("cache"), manifests }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.binary.path);
        command.arg("--kubeconfig").arg(&self.kubeconfig).arg("--cache-dir").arg(&self.cache_dir);
        command
    }

    /// The parent CRD and one parent per app (see the module doc), before the first sync.
    pub fn create_parents(&self, apps: usize) {
        let crd = format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n\
             metadata: {{ name: {PARENT_RESOURCE}, labels: {{ applyset.kubernetes.io/is-parent-type: \"true\" }} }}\n\
             spec:\n  group: {PARENT_GROUP}\n  scope: Cluster\n  names: {{ plural: applysets, singular: applyset, kind: {PARENT_KIND} }}\n  \
             versions: [ {{ name: v1, served: true, storage: true, schema: {{ openAPIV3Schema: {{ type: object }} }} }} ]\n"
        );
        self.apply_file("parent-crd.yaml", &crd, &[]);
        let wait = ["wait", "--for=condition=Established", "--timeout=30s"];
        check(self.command().args(wait).arg(format!("crd/{PARENT_RESOURCE}")).output());
        let parents: String = (0..apps)
            .map(|i| {
                let name = Repo::name(i);
                format!(
                    "---\napiVersion: {PARENT_GROUP}/v1\nkind: {PARENT_KIND}\nmetadata:\n  name: {name}\n  \
                     labels: {{ applyset.kubernetes.io/id: {} }}\n  \
                     annotations: {{ applyset.kubernetes.io/tooling: kubectl/{}, applyset.kubernetes.io/contains-group-kinds: \"\" }}\n",
                    applyset_id(&name),
                    self.binary.version,
                )
            })
            .collect();
        self.apply_file("parents.yaml", &parents, &["--field-manager=kubectl-applyset"]);
    }

    fn apply_file(&self, file: &str, text: &str, extra: &[&str]) {
        let path = self.manifests.join(file);
        std::fs::write(&path, text).expect("write a manifest");
        check(
            self.command()
                .args(["apply", "--server-side"])
                .args(extra)
                .arg("-f")
                .arg(path)
                .output(),
        );
    }

    /// Applies the given apps one after another, each as its own ApplySet, pruning.
    pub fn sync(&self, sandbox: &SandboxHandle, apps: &[usize], renders: &[Rendered]) -> Measured {
        let mut measured = Measured::default();
        for &i in apps {
            let file = self.manifests.join(format!("{}.yaml", renders[i].app));
            write_manifests(&renders[i], &file);
            sandbox.reset_request_counts();
            let (wall, out) = self.apply(&renders[i].app, &file);
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let http = stderr.lines().filter(|l| l.contains("\"Response\" verb=")).count();
            measured.add_run(wall, take_counts(sandbox), Some(http as u64));
            let ends = |suffix: &str| stdout.lines().filter(|l| l.ends_with(suffix)).count();
            measured.add_changes(&[
                ("applied", ends(" serverside-applied")),
                ("pruned", ends(" pruned")),
            ]);
        }
        measured
    }

    fn apply(&self, app: &str, file: &Path) -> (Duration, Output) {
        let mut command = self.command();
        command
            .env("KUBECTL_APPLYSET", "true")
            .args(["-v=6", "apply", "--server-side", "--prune"])
            .arg(format!("--applyset={PARENT_RESOURCE}/{app}"))
            .arg("-f")
            .arg(file);
        let start = Instant::now();
        let out = command.output();
        let wall = start.elapsed();
        (wall, check(out))
    }

    /// The binary's version and how it was chosen.
    pub fn describe(&self) -> String {
        format!("{} {} ({})", self.binary.path.display(), self.binary.version, self.binary.note)
    }
}

/// kubectl's ApplySet id for a cluster-scoped parent:
/// `applyset-<base64url(sha256(<name>.<namespace>.<kind>.<group>))>-v1`.
fn applyset_id(name: &str) -> String {
    let digest = Sha256::digest(format!("{name}..{PARENT_KIND}.{PARENT_GROUP}"));
    format!("applyset-{}-v1", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest))
}

fn check(out: std::io::Result<Output>) -> Output {
    let out = out.expect("kubectl runs");
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let errors: Vec<&str> = stderr.lines().filter(|l| !l.starts_with('I')).collect();
        panic!("kubectl failed ({}): {}", out.status, errors.join("\n"));
    }
    out
}
