//! Rendering: one app's cetus.yaml, for one profile, to the exact list of Kubernetes objects
//! the engine applies.
//!
//! The steps, in order (DESIGN §3): parse → `profiles.<p>.replace` → `profiles.<p>.patch` →
//! `--set` → vars → read and validate → generate, then raw manifests and dependencies (each
//! rendered the same way, into this app's namespace, under this app's labels), duplicate
//! check, sort, digest. Any error stops the render and nothing is returned, so invalid input
//! can never cause a prune. Files are read only through a [`Tree`], each counted against the
//! render's [`Limits`]; `git` dependencies only through a [`DependencyFetcher`]. This module
//! does not talk to a cluster.

mod digest;
mod generate;
mod limits;
mod manifests;
mod object;
mod packed;
mod profile;
mod vars;

pub use digest::{canonical_json, digest, short_hash, write_canonical_json};
pub use generate::{JOB_LABEL, image_reference};
pub use limits::Limits;
pub use object::{
    APP, INSTANCE_LABEL, MANAGED_BY, NAME_LABEL, Object, ObjectKey, PHASE, SYNC_WAVE, Source,
    Stage, TRACKING, is_cluster_scoped, stamped,
};
pub use packed::PackedRender;

use crate::source::{DependencyFetcher, EntryKind, Tree, TreeError, join, normalize};
use crate::spec::{self, Diagnostic, Origin, Origins, Profile, Spec, Var};
use limits::{Reader, tree_message};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

/// The file name of an app's spec.
pub const SPEC_FILE: &str = "cetus.yaml";

/// Looks up an environment variable by name.
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Reads standard input (once), or says why it cannot.
pub type StdinReader = Arc<dyn Fn() -> Result<String, String> + Send + Sync>;

/// What a render needs besides the files.
#[derive(Clone)]
pub struct RenderInput<'a> {
    /// The environment to render for; `None` renders the file without any profile.
    pub profile: Option<String>,
    /// `--set path=value` overrides, applied to the top app after its profile.
    pub sets: Vec<(String, Value)>,
    /// Looks up `env` vars; the process environment by default.
    pub env: EnvLookup,
    /// Reads standard input for `stdin` vars (called at most once per var); `None` refuses
    /// them, as the daemon does.
    pub stdin: Option<StdinReader>,
    /// Resolves `git` dependencies; `None` refuses them.
    pub fetcher: Option<&'a dyn DependencyFetcher>,
    /// Caps on what the render reads.
    pub limits: Limits,
}

impl Default for RenderInput<'_> {
    fn default() -> Self {
        Self {
            profile: None,
            sets: Vec::new(),
            env: Arc::new(|name| std::env::var(name).ok()),
            stdin: None,
            fetcher: None,
            limits: Limits::default(),
        }
    }
}

/// A `git` dependency as it was resolved for a render.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResolvedDependency {
    /// The dependency's key in `dependencies`, prefixed by its parents' (`db`, `db.cache`).
    pub name: String,
    /// The repository URL.
    pub url: String,
    /// The ref asked for.
    pub reference: String,
    /// The commit it resolved to.
    pub commit: String,
}

/// One app, rendered.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The app's name.
    pub app: String,
    /// The namespace it deploys to.
    pub namespace: String,
    /// The profile it was rendered for.
    pub profile: Option<String>,
    /// The objects, in apply order.
    pub objects: Vec<Object>,
    /// sha256 of the canonical JSON of the objects: identifies the render in history.
    pub digest: String,
    /// The commits `git` dependencies resolved to.
    pub dependencies: Vec<ResolvedDependency>,
}

/// Why a render failed: every problem found, each located.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RenderError {
    /// The problems, in the order found.
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl From<Diagnostic> for RenderError {
    fn from(d: Diagnostic) -> Self {
        RenderError { diagnostics: vec![d] }
    }
}

impl From<Vec<Diagnostic>> for RenderError {
    fn from(diagnostics: Vec<Diagnostic>) -> Self {
        RenderError { diagnostics }
    }
}

/// Renders the app whose cetus.yaml is in directory `dir` of `tree`.
///
/// Returns `Ok(None)` when a profile is asked for and the app has none of that name: the app
/// is not deployed in that environment.
pub fn render(
    tree: &dyn Tree,
    dir: &str,
    input: &RenderInput,
) -> Result<Option<Rendered>, RenderError> {
    let dir = normalize("", dir).map_err(|e| whole(dir, e.to_string()))?;
    let reader = Reader::new(&input.limits);
    let Some(app) = load(tree, &dir, input, Role::Top, &reader)? else { return Ok(None) };
    let namespace = app.namespace();
    let mut walk = Walk {
        input,
        reader: &reader,
        objects: vec![generate::namespace(&app.context(&app.spec.name, &namespace))],
        owner: app.spec.name.clone(),
        namespace,
        chain: vec![(identity(tree, &dir), dir.clone())],
        resolved: Vec::new(),
    };
    walk.app(tree, &app, "")?;
    let Walk { mut objects, resolved: dependencies, namespace, .. } = walk;
    check_duplicates(&objects)?;
    object::sort(&mut objects);
    Ok(Some(Rendered {
        digest: digest(&objects),
        app: app.spec.name.clone(),
        namespace,
        profile: input.profile.clone(),
        objects,
        dependencies,
    }))
}

/// A diagnostic about a whole file.
fn whole(file: &str, message: String) -> Diagnostic {
    Diagnostic { file: file.to_string(), origin: None, field: None, message }
}

/// The directories under `dir` that hold a cetus.yaml, sorted; hidden directories are skipped,
/// and so are entries that are neither files nor directories (git submodules).
pub fn find_apps(tree: &dyn Tree, dir: &str) -> Result<Vec<String>, TreeError> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_string()];
    while let Some(current) = pending.pop() {
        for entry in tree.list(&current)? {
            match entry.kind {
                EntryKind::File if entry.name == SPEC_FILE => found.push(current.clone()),
                EntryKind::Dir if !entry.name.starts_with('.') => {
                    pending.push(join(&current, &entry.name))
                }
                _ => {}
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Whether a spec is the app being rendered or a dependency of it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Top,
    Dependency,
}

/// A spec read, edited by its profile, interpolated and checked.
struct Loaded {
    spec: Spec,
    dir: String,
    file: String,
    origins: Origins,
    vars: vars::Vars,
    profile: Profile,
}

impl Loaded {
    fn namespace(&self) -> String {
        self.profile.namespace.clone().unwrap_or_else(|| match &self.spec.group {
            Some(group) => format!("{group}--{}", self.spec.name),
            None => self.spec.name.clone(),
        })
    }

    fn context<'a>(&'a self, app: &'a str, namespace: &'a str) -> generate::Context<'a> {
        generate::Context { app, namespace, file: &self.file, origins: &self.origins }
    }
}

/// Reads and checks the spec in `dir`; `None` if the top app lacks the asked-for profile.
fn load(
    tree: &dyn Tree,
    dir: &str,
    input: &RenderInput,
    role: Role,
    reader: &Reader,
) -> Result<Option<Loaded>, RenderError> {
    let file = join(dir, SPEC_FILE);
    let text = reader.text(tree, &file)?;
    let doc = crate::yaml::parse_document_with(&text, &reader.yaml()).map_err(|e| Diagnostic {
        origin: Some(Origin::At(e.position)),
        ..whole(&file, e.message)
    })?;
    let (mut value, mut origins) = Origins::split(doc);
    if !value.is_object() {
        return Err(Diagnostic::at(&file, &origins, "", "a cetus.yaml must be a map").into());
    }
    let profiles: BTreeMap<String, Profile> = read_section(&value, "profiles", &file, &origins)?;
    let profile = match &input.profile {
        Some(name) => match (profiles.get(name), role) {
            (Some(p), _) => {
                profile::apply_replace(&mut value, &mut origins, &file, name, p)?;
                profile::apply_patch(&mut value, &mut origins, &file, name, &p.patch)?;
                p.clone()
            }
            (None, Role::Top) => return Ok(None),
            (None, Role::Dependency) => Profile::default(),
        },
        None => Profile::default(),
    };
    if role == Role::Top {
        for (path, v) in &input.sets {
            profile::apply_set(&mut value, &mut origins, path, v.clone())
                .map_err(|m| whole("<command line>", format!("--set {path}: {m}")))?;
        }
    }
    let var_specs: BTreeMap<String, Var> = read_section(&value, "vars", &file, &origins)?;
    let vars = vars::resolve(&var_specs, tree, dir, &file, &origins, input, reader)?;
    let mut errors = Vec::new();
    if let Value::Object(map) = &mut value {
        for (key, section) in
            map.iter_mut().filter(|(k, _)| !["vars", "profiles", "dev"].contains(&k.as_str()))
        {
            let pointer = format!("/{}", crate::pointer::escape(key));
            vars::interpolate(section, &pointer, &vars, &file, &origins, &mut errors);
        }
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let spec: Spec = spec::read(&value, "", &file, &origins)?;
    let problems = spec::validate(&spec, &file, &origins);
    if !problems.is_empty() {
        return Err(problems.into());
    }
    Ok(Some(Loaded { spec, dir: dir.to_string(), file, origins, vars, profile }))
}

fn read_section<T: serde::de::DeserializeOwned + Default>(
    value: &Value,
    key: &str,
    file: &str,
    origins: &Origins,
) -> Result<T, Diagnostic> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(T::default()),
        Some(section) => spec::read(section, &format!("/{key}"), file, origins),
    }
}

/// Where a spec lives, to detect dependency cycles: the tree and the directory.
fn identity(tree: &dyn Tree, dir: &str) -> String {
    format!("{}:{dir}", tree.label())
}

/// One render's walk through an app and its dependencies: whose objects they are, where
/// they go, and what has been collected so far.
struct Walk<'i, 'f> {
    input: &'i RenderInput<'f>,
    reader: &'i Reader<'i>,
    owner: String,
    namespace: String,
    /// The specs being rendered, outermost first, as (identity, directory): a cycle check.
    chain: Vec<(String, String)>,
    objects: Vec<Object>,
    resolved: Vec<ResolvedDependency>,
}

impl Walk<'_, '_> {
    /// Generates an app's own objects and raw manifests, then its dependencies'.
    fn app(&mut self, tree: &dyn Tree, app: &Loaded, prefix: &str) -> Result<(), RenderError> {
        let ctx = app.context(&self.owner, &self.namespace);
        self.objects.extend(generate::generate(&app.spec, &ctx));
        let raw = manifests::Context {
            tree,
            dir: &app.dir,
            file: &app.file,
            origins: &app.origins,
            vars: &app.vars,
            reader: self.reader,
        };
        let loaded = manifests::load(&app.spec.manifests, &raw, &self.owner, &self.namespace)?;
        self.objects.extend(loaded);
        for (name, dep) in &app.spec.dependencies {
            let full_name =
                if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
            self.dependency(tree, app, name, &full_name, dep)?;
        }
        Ok(())
    }

    /// Resolves one dependency (in this repository, or fetched), checks for a cycle, and
    /// renders it into the owner's namespace.
    fn dependency(
        &mut self,
        tree: &dyn Tree,
        app: &Loaded,
        name: &str,
        full_name: &str,
        dep: &spec::Dependency,
    ) -> Result<(), RenderError> {
        let at = format!("/dependencies/{}", crate::pointer::escape(name));
        let fail = |m: String| RenderError::from(Diagnostic::at(&app.file, &app.origins, &at, m));
        let fetched;
        let (dep_tree, dep_dir): (&dyn Tree, String) = match (&dep.git, &dep.reference) {
            (Some(url), Some(reference)) => {
                let fetcher = self.input.fetcher.ok_or_else(|| {
                    fail(format!("git dependencies are not available here (cannot fetch {url})"))
                })?;
                fetched = fetcher.fetch(url, reference).map_err(|e| fail(e.to_string()))?;
                self.resolved.push(ResolvedDependency {
                    name: full_name.to_string(),
                    url: url.clone(),
                    reference: reference.clone(),
                    commit: fetched.commit.clone(),
                });
                let dir = normalize("", dep.path.as_deref().unwrap_or("."))
                    .map_err(|e| fail(e.to_string()))?;
                (fetched.tree.as_ref(), dir)
            }
            _ => {
                let path = dep.path.as_deref().unwrap_or(".");
                (tree, normalize(&app.dir, path).map_err(|e| fail(e.to_string()))?)
            }
        };
        let id = identity(dep_tree, &dep_dir);
        if self.chain.iter().any(|(seen, _)| *seen == id) {
            let mut cycle: Vec<&str> = self.chain.iter().map(|(_, dir)| dir.as_str()).collect();
            cycle.push(&dep_dir);
            return Err(fail(format!("dependency cycle: {}", cycle.join(" → "))));
        }
        let spec_file = join(&dep_dir, SPEC_FILE);
        match dep_tree.kind(&spec_file) {
            Ok(Some(EntryKind::File)) => {}
            Ok(_) => return Err(fail(format!("{spec_file}: no cetus.yaml there"))),
            Err(e) => return Err(fail(tree_message(&e))),
        }
        let dep_app = load(dep_tree, &dep_dir, self.input, Role::Dependency, self.reader)?
            .expect("dependencies always render");
        self.chain.push((id, dep_dir));
        self.app(dep_tree, &dep_app, full_name)?;
        self.chain.pop();
        Ok(())
    }
}

/// Two objects with the same identity cannot both be applied: name both sources.
fn check_duplicates(objects: &[Object]) -> Result<(), RenderError> {
    let mut seen: HashMap<&ObjectKey, &Object> = HashMap::new();
    let mut errors = Vec::new();
    for object in objects {
        if let Some(first) = seen.insert(&object.key, object) {
            let source = &object.source;
            errors.push(Diagnostic {
                file: source.file.clone(),
                origin: source.position.map(Origin::At),
                field: Some(source.what.clone()),
                message: format!(
                    "duplicate object {}: also generated by {}",
                    object.key, first.source
                ),
            });
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors.into()) }
}
