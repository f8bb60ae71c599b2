//! `git` dependencies of cetus.yaml files (`dependencies.x.git` / `ref`), for the renderer.
//!
//! A dependency's ref is resolved to a commit at every render, so that the render (and the
//! history entry recording it) names the exact revision used. Each remote gets a mirror in a
//! cache directory; a ref is fetched only when the remote's head check shows it moved, and a
//! commit id already in the cache needs no network at all. If the remote cannot be reached,
//! a ref already in the cache is used as it was last fetched (logged as a warning), so an
//! outage upstream does not stop deploys of apps whose dependencies did not change.

use super::mirror::{Mirror, MirrorOptions, RemoteRef};
use super::{Auth, GitError, Result, is_full_commit_id};
use crate::source::{DependencyFetcher, FetchError, FetchedTree, RepoKey};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Where the remote's default branch is kept in a dependency mirror, for `ref: HEAD`.
const REMOTE_HEAD: &str = "refs/cetus/HEAD";

/// Credentials for the repositories on one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAuth {
    /// The host, as in the URL (compared case-insensitively).
    pub host: String,
    /// The credentials to use for it.
    pub auth: Auth,
}

/// Options of [`GitDependencies`].
#[derive(Debug, Clone)]
pub struct DependencyOptions {
    /// Credentials per host; remotes on other hosts are fetched without any.
    pub auth: Vec<HostAuth>,
    /// Fetch branches and tags at depth 1: a dependency's history is never read. A
    /// repository on this machine (`file://` or a path) is always fetched in full, since
    /// libgit2 cannot fetch it shallow.
    pub shallow: bool,
    /// When the remote cannot be reached, use a ref already in the cache (with a warning)
    /// instead of failing the render.
    pub offline_fallback: bool,
}

impl Default for DependencyOptions {
    fn default() -> Self {
        Self { auth: Vec::new(), shallow: true, offline_fallback: true }
    }
}

/// The [`DependencyFetcher`] over git remotes, with a mirror per remote under a cache dir.
#[derive(Debug)]
pub struct GitDependencies {
    cache_dir: PathBuf,
    options: DependencyOptions,
    mirrors: Mutex<HashMap<String, Arc<Mirror>>>,
}

impl GitDependencies {
    /// A fetcher keeping its mirrors under `cache_dir` (created when first needed).
    pub fn new(cache_dir: impl Into<PathBuf>, options: DependencyOptions) -> Self {
        Self { cache_dir: cache_dir.into(), options, mirrors: Mutex::new(HashMap::new()) }
    }

    /// Resolves `reference` (a branch, tag, `HEAD`, full ref name or commit id) of `url` to a
    /// commit and returns its files, fetching as needed. Blocks.
    pub fn resolve(&self, url: &str, reference: &str) -> Result<FetchedTree> {
        let mirror = self.mirror(url)?;
        // Commits are immutable: one already in the cache needs no network.
        if is_full_commit_id(reference)
            && let Ok(commit) = mirror.resolve(reference)
        {
            return tree(&mirror, &commit);
        }
        if let Err(error) = self.refresh(&mirror, reference) {
            match local(&mirror, reference) {
                Ok(commit) if self.options.offline_fallback && is_network(&error) => {
                    tracing::warn!(url, reference, %commit, error = %chain(&error, url, reference),
                        "cannot reach dependency remote; using the cached commit");
                    return tree(&mirror, &commit);
                }
                _ => return Err(error),
            }
        }
        tree(&mirror, &local(&mirror, reference)?)
    }

    /// Fetches `reference` into the mirror if the remote's copy differs from the cached one.
    fn refresh(&self, mirror: &Mirror, reference: &str) -> Result<()> {
        let refs = mirror.remote_refs()?;
        let find = |name: &str| refs.iter().find(|r| r.name == name);
        let advertised: Option<(&RemoteRef, String)> = if reference == "HEAD" {
            find("HEAD").map(|r| (r, REMOTE_HEAD.to_string()))
        } else if reference.starts_with("refs/") {
            find(reference).map(|r| (r, reference.to_string()))
        } else {
            [format!("refs/tags/{reference}"), format!("refs/heads/{reference}")]
                .into_iter()
                .find_map(|name| find(&name).map(|r| (r, name)))
        };
        let depth = (self.options.shallow && mirror.can_fetch_shallow()).then_some(1);
        if let Some((remote, local_name)) = advertised {
            if mirror.local_ref(&local_name)?.as_deref() == Some(remote.target.as_str()) {
                return Ok(());
            }
            return mirror.fetch_refs(
                &[format!("+{}:{local_name}", remote.name)],
                depth,
                reference,
            );
        }
        let hex = reference.len() >= 7 && reference.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex {
            return Err(GitError::UnknownRef {
                url: mirror.url().to_string(),
                reference: reference.to_string(),
            });
        }
        // A commit id: it is on some branch or tag, with full history (a shallow cache may
        // stop above it).
        let refspecs =
            ["+refs/heads/*:refs/heads/*".to_string(), "+refs/tags/*:refs/tags/*".to_string()];
        let depth = mirror.is_shallow().then_some(i32::MAX);
        mirror.fetch_refs(&refspecs, depth, reference)
    }

    fn mirror(&self, url: &str) -> Result<Arc<Mirror>> {
        // Held while opening, so that two renders do not initialize one mirror twice.
        let mut mirrors = self.mirrors.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(mirror) = mirrors.get(url) {
            return Ok(mirror.clone());
        }
        let host = RepoKey::new(url).host().to_string();
        let auth = self
            .options
            .auth
            .iter()
            .find(|a| a.host.eq_ignore_ascii_case(&host))
            .map(|a| a.auth.clone())
            .unwrap_or_default();
        let mirror = Arc::new(Mirror::open(&self.cache_dir, url, MirrorOptions { auth })?);
        mirrors.insert(url.to_string(), mirror.clone());
        Ok(mirror)
    }
}

impl DependencyFetcher for GitDependencies {
    fn fetch(&self, url: &str, reference: &str) -> Result<FetchedTree, FetchError> {
        self.resolve(url, reference).map_err(|e| FetchError {
            url: url.to_string(),
            reference: reference.to_string(),
            message: chain(&e, url, reference),
        })
    }
}

fn local(mirror: &Mirror, reference: &str) -> Result<String> {
    mirror.resolve(if reference == "HEAD" { REMOTE_HEAD } else { reference })
}

fn tree(mirror: &Mirror, commit: &str) -> Result<FetchedTree> {
    let tree = mirror.tree(commit)?;
    Ok(FetchedTree { commit: tree.commit(), tree: Arc::new(tree) })
}

fn is_network(error: &GitError) -> bool {
    matches!(error, GitError::HeadCheck { .. } | GitError::Fetch { .. })
}

/// The error and its causes as one line, without the `url@ref: ` lead that [`FetchError`]
/// prints itself.
fn chain(error: &GitError, url: &str, reference: &str) -> String {
    let top = error.to_string();
    let lead = [format!("{url}@{reference}: "), format!("{url}: ")];
    let top = lead.iter().find_map(|l| top.strip_prefix(l.as_str())).unwrap_or(&top).to_string();
    let mut parts = vec![top];
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    parts.join(": ")
}
