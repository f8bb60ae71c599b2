//! The config repository as the daemon reads it: one pass = check the branch, fetch if it
//! moved, find the apps, and render the ones that may have changed.
//!
//! Only what can have changed is rendered again. A new commit's tree diff is mapped to apps
//! through an [`AppGraph`] built from what each render actually read (every file and
//! directory it touched, recorded by a [`RecordingTree`]), so a change to a shared var file or
//! a `path` dependency re-renders exactly the apps that read it. Apps with `git` dependencies
//! are rendered on every pass, since a dependency's branch may move; within one pass each
//! dependency is resolved once ([`PassFetcher`]), however many apps use it. Renders run on the
//! calling thread: the daemon calls [`Repo::pass`] through `spawn_blocking`.

use super::config::AppGlobs;
use crate::render::{EnvLookup, PackedRender, RenderError, RenderInput, SPEC_FILE, render};
use crate::source::git::{GitError, Mirror, MirrorOptions, Update};
use crate::source::{
    AppGraph, AppRefs, DependencyFetcher, EntryKind, FetchError, FetchedTree, Tree, TreeEntry,
    TreeError, parent,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How to read the config repository.
pub struct RepoOptions {
    /// Its URL (or local path).
    pub url: String,
    /// The branch followed.
    pub branch: String,
    /// Credentials for it.
    pub auth: crate::source::git::Auth,
    /// Where mirrors are kept.
    pub cache_dir: PathBuf,
    /// The environment this daemon deploys.
    pub profile: String,
    /// Which cetus.yaml files are apps.
    pub apps: AppGlobs,
    /// `env` vars, filtered by the policy.
    pub env: EnvLookup,
    /// Resolves `git` dependencies, within the policy.
    pub dependencies: Arc<dyn DependencyFetcher>,
}

/// A commit of the config repository, for history.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommitInfo {
    /// Full id.
    pub id: String,
    /// `Name <email>`.
    pub author: Option<String>,
    /// The first line of its message.
    pub subject: Option<String>,
}

/// One app's render at a commit.
#[derive(Debug, Clone)]
pub enum AppRender {
    /// Rendered; kept packed (the manifests as JSON text), as only a sync or a diff reads
    /// them and a daemon keeps every app's render.
    Rendered(Arc<PackedRender>),
    /// The app has no profile for this environment: it is not deployed here.
    NotDeployed,
    /// The render failed; nothing of it may be applied.
    Failed(String),
}

impl AppRender {
    /// The namespace the render deploys to.
    pub fn namespace(&self) -> Option<&str> {
        match self {
            AppRender::Rendered(r) => Some(&r.namespace),
            AppRender::NotDeployed | AppRender::Failed(_) => None,
        }
    }
}

/// One app found in the repository.
#[derive(Debug, Clone)]
pub struct FoundApp {
    /// The app's name (for an app that does not parse: the one it had, else its directory's).
    pub name: String,
    /// Its cetus.yaml's directory.
    pub dir: String,
    /// Its render.
    pub render: AppRender,
}

/// What a pass found.
#[derive(Debug, Clone)]
pub struct Pass {
    /// The branch's commit.
    pub commit: CommitInfo,
    /// Whether the commit is new since the last pass.
    pub moved: bool,
    /// The apps rendered in this pass (the others did not change).
    pub rendered: Vec<FoundApp>,
    /// Apps whose cetus.yaml is gone since the last pass.
    pub removed: Vec<String>,
    /// How long the head check and fetch took.
    pub fetch_time: Duration,
}

/// Why a pass failed (the previous pass's state stays in force).
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// The branch could not be checked or fetched.
    #[error("config repository {url}: {what}")]
    Git {
        /// The repository.
        url: String,
        /// What was being done.
        what: &'static str,
        /// The cause.
        #[source]
        source: Box<GitError>,
    },
    /// The commit's files could not be listed.
    #[error("config repository {url}: cannot list the files of {commit}")]
    List {
        /// The repository.
        url: String,
        /// The commit.
        commit: String,
        /// The cause.
        #[source]
        source: TreeError,
    },
}

#[derive(Default)]
struct Known {
    commit: Option<String>,
    /// App directory → name, as last found.
    names: BTreeMap<String, String>,
    graph: AppGraph,
    /// Directories of apps with `git` dependencies.
    with_git: BTreeSet<String>,
}

/// The followed branch of the config repository.
pub struct Repo {
    mirror: Mirror,
    options: RepoOptions,
    known: Mutex<Known>,
}

impl Repo {
    /// Opens (or creates) the mirror. No network yet.
    pub fn open(options: RepoOptions) -> Result<Repo, RepoError> {
        let mirror = Mirror::open(
            &options.cache_dir,
            &options.url,
            MirrorOptions { auth: options.auth.clone() },
        )
        .map_err(|source| RepoError::Git {
            url: options.url.clone(),
            what: "cannot open the mirror",
            source: Box::new(source),
        })?;
        Ok(Repo { mirror, options, known: Mutex::new(Known::default()) })
    }

    /// One pass. Blocks (network, renders).
    pub fn pass(&self) -> Result<Pass, RepoError> {
        let git = |what: &'static str| {
            let url = self.options.url.clone();
            move |source| RepoError::Git { url, what, source: Box::new(source) }
        };
        let started = Instant::now();
        let update =
            self.mirror.update(&self.options.branch).map_err(git("cannot fetch the branch"))?;
        let fetch_time = started.elapsed();
        let commit = update.commit().to_string();
        let tree = self.mirror.tree(&commit).map_err(git("cannot read the commit"))?;
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let moved = known.commit.as_deref() != Some(commit.as_str());
        let dirs = self.app_dirs(&tree, &commit)?;
        let to_render = self.to_render(&known, &update, &dirs, moved)?;
        let before: BTreeSet<String> = known.names.values().cloned().collect();
        let fetcher = PassFetcher::new(self.options.dependencies.clone());
        let mut rendered = Vec::with_capacity(to_render.len());
        for dir in &to_render {
            rendered.push(self.render_one(&tree, dir, &fetcher, &mut known));
        }
        for dir in known.names.keys().filter(|d| !dirs.contains(*d)).cloned().collect::<Vec<_>>() {
            known.names.remove(&dir);
            known.graph.remove(&dir);
            known.with_git.remove(&dir);
        }
        // Gone: names no directory has any more (its cetus.yaml deleted, or renamed).
        let now: BTreeSet<&String> = known.names.values().collect();
        let removed = before.into_iter().filter(|n| !now.contains(n)).collect();
        known.commit = Some(commit.clone());
        Ok(Pass { commit: self.commit_info(&commit), moved, rendered, removed, fetch_time })
    }

    /// The directories of every cetus.yaml the `apps` globs select.
    fn app_dirs(
        &self,
        tree: &crate::source::git::GitTree,
        commit: &str,
    ) -> Result<BTreeSet<String>, RepoError> {
        let files = tree.files().map_err(|source| RepoError::List {
            url: self.options.url.clone(),
            commit: commit.to_string(),
            source,
        })?;
        Ok(files
            .iter()
            .filter(|f| f.path.rsplit('/').next() == Some(SPEC_FILE))
            .filter(|f| self.options.apps.matches(&f.path))
            .map(|f| parent(&f.path).to_string())
            .collect())
    }

    /// What this pass renders: everything the first time (or after a rewrite the diff cannot
    /// span); else apps the tree diff affects, new apps, and apps with `git` dependencies.
    fn to_render(
        &self,
        known: &Known,
        update: &Update,
        dirs: &BTreeSet<String>,
        moved: bool,
    ) -> Result<BTreeSet<String>, RepoError> {
        let mut out: BTreeSet<String> =
            dirs.iter().filter(|d| known.with_git.contains(*d)).cloned().collect();
        out.extend(dirs.iter().filter(|d| !known.names.contains_key(*d)).cloned());
        if !moved {
            return Ok(out);
        }
        let changed = match (&known.commit, update) {
            (Some(old), _) => {
                self.mirror.changed_apps(Some(old), update.commit(), &known.graph).ok()
            }
            (None, _) => None,
        };
        match changed {
            Some(changed) => {
                let by_name: HashMap<&str, &str> =
                    known.names.iter().map(|(d, n)| (n.as_str(), d.as_str())).collect();
                for app in &changed.apps {
                    if let Some(dir) = by_name.get(app.as_str()).filter(|d| dirs.contains(**d)) {
                        out.insert(dir.to_string());
                    }
                }
            }
            None => out.extend(dirs.iter().cloned()),
        }
        Ok(out)
    }

    fn render_one(
        &self,
        tree: &crate::source::git::GitTree,
        dir: &str,
        fetcher: &PassFetcher,
        known: &mut Known,
    ) -> FoundApp {
        let recording = RecordingTree::new(tree);
        let input = RenderInput {
            profile: Some(self.options.profile.clone()),
            env: self.options.env.clone(),
            stdin: None,
            fetcher: Some(fetcher),
            ..RenderInput::default()
        };
        let result = render(&recording, dir, &input);
        let fallback = known.names.get(dir).cloned().unwrap_or_else(|| {
            name_in(tree, dir).unwrap_or_else(|| dir.rsplit('/').next().unwrap_or(dir).to_string())
        });
        let (name, mut render) = match result {
            Ok(Some(rendered)) => {
                (rendered.app.clone(), AppRender::Rendered(Arc::new(PackedRender::pack(&rendered))))
            }
            Ok(None) => (fallback, AppRender::NotDeployed),
            Err(e) => (fallback, AppRender::Failed(render_error(&e))),
        };
        // Two directories may not deploy one app: the one already known keeps the name.
        if let Some((other, _)) = known.names.iter().find(|(d, n)| **n == name && d.as_str() != dir)
        {
            let file = crate::source::join(dir, SPEC_FILE);
            render = AppRender::Failed(format!(
                "{file}: app name `{name}` is already used by {}",
                crate::source::join(other, SPEC_FILE)
            ));
            let name = format!("{name}@{}", dir.replace('/', "-"));
            return FoundApp { name, dir: dir.to_string(), render };
        }
        let reads = recording.reads(dir);
        if fetcher.was_used()
            || matches!(&render, AppRender::Rendered(r) if !r.dependencies.is_empty())
        {
            known.with_git.insert(dir.to_string());
        } else {
            known.with_git.remove(dir);
        }
        fetcher.reset_used();
        known.graph.add_app(
            name.clone(),
            AppRefs { dir: dir.to_string(), dependencies: Vec::new(), reads },
        );
        known.names.insert(dir.to_string(), name.clone());
        FoundApp { name, dir: dir.to_string(), render }
    }

    fn commit_info(&self, commit: &str) -> CommitInfo {
        let read = || -> Option<CommitInfo> {
            let repo = git2::Repository::open_bare(self.mirror.path()).ok()?;
            let found = repo.find_commit(git2::Oid::from_str(commit).ok()?).ok()?;
            let author = found.author();
            Some(CommitInfo {
                id: commit.to_string(),
                author: Some(format!(
                    "{} <{}>",
                    author.name().unwrap_or_default(),
                    author.email().unwrap_or_default()
                )),
                subject: found.summary().ok().flatten().map(String::from),
            })
        };
        read().unwrap_or_else(|| CommitInfo { id: commit.to_string(), ..CommitInfo::default() })
    }
}

fn render_error(error: &RenderError) -> String {
    error.to_string()
}

/// The `name:` of a cetus.yaml that does not render, read leniently (for history).
fn name_in(tree: &dyn Tree, dir: &str) -> Option<String> {
    let spec = crate::source::join(dir, SPEC_FILE);
    let text = String::from_utf8(tree.read(&spec, 1024 * 1024).ok()?).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("name:"))
        .map(|n| {
            n.split('#').next().unwrap_or_default().trim().trim_matches(['"', '\'']).to_string()
        })
        .filter(|n| !n.is_empty())
}

/// A [`Tree`] that remembers every path read, listed or looked up through it: exactly what a
/// render depends on.
pub struct RecordingTree<'t> {
    inner: &'t dyn Tree,
    paths: Mutex<BTreeSet<String>>,
}

impl<'t> RecordingTree<'t> {
    /// Records reads of `inner`.
    pub fn new(inner: &'t dyn Tree) -> Self {
        RecordingTree { inner, paths: Mutex::new(BTreeSet::new()) }
    }

    fn note(&self, path: &str) {
        self.paths.lock().unwrap_or_else(|p| p.into_inner()).insert(path.to_string());
    }

    /// The paths touched outside `dir` (inside it, everything counts anyway).
    pub fn reads(&self, dir: &str) -> Vec<String> {
        let inside = |p: &str| dir.is_empty() || p == dir || p.starts_with(&format!("{dir}/"));
        self.paths
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|p| !inside(p))
            .cloned()
            .collect()
    }
}

impl Tree for RecordingTree<'_> {
    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, TreeError> {
        self.note(path);
        self.inner.read(path, limit)
    }

    fn list(&self, dir: &str) -> Result<Vec<TreeEntry>, TreeError> {
        self.note(dir);
        self.inner.list(dir)
    }

    fn kind(&self, path: &str) -> Result<Option<EntryKind>, TreeError> {
        self.note(path);
        self.inner.kind(path)
    }

    fn label(&self) -> String {
        self.inner.label()
    }
}

/// A [`DependencyFetcher`] for one pass: each (url, ref) is resolved once, however many apps
/// ask, so a dependency shared by fifty apps costs one head check per pass.
pub struct PassFetcher {
    inner: Arc<dyn DependencyFetcher>,
    memo: Mutex<HashMap<(String, String), Result<FetchedTree, FetchError>>>,
    used: std::sync::atomic::AtomicBool,
}

impl PassFetcher {
    /// A pass's fetcher over `inner`.
    pub fn new(inner: Arc<dyn DependencyFetcher>) -> Self {
        PassFetcher { inner, memo: Mutex::new(HashMap::new()), used: Default::default() }
    }

    fn was_used(&self) -> bool {
        self.used.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn reset_used(&self) {
        self.used.store(false, std::sync::atomic::Ordering::Relaxed);
    }
}

impl DependencyFetcher for PassFetcher {
    fn fetch(&self, url: &str, reference: &str) -> Result<FetchedTree, FetchError> {
        self.used.store(true, std::sync::atomic::Ordering::Relaxed);
        let key = (url.to_string(), reference.to_string());
        if let Some(done) = self.memo.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return clone_result(done);
        }
        let result = self.inner.fetch(url, reference);
        let copy = clone_result(&result);
        self.memo.lock().unwrap_or_else(|p| p.into_inner()).insert(key, result);
        copy
    }
}

fn clone_result(result: &Result<FetchedTree, FetchError>) -> Result<FetchedTree, FetchError> {
    match result {
        Ok(tree) => Ok(tree.clone()),
        Err(e) => Err(FetchError {
            url: e.url.clone(),
            reference: e.reference.clone(),
            message: e.message.clone(),
        }),
    }
}
