//! A bare mirror of one remote repository in a cache directory.
//!
//! The mirror's local refs are the last good state: they only move after a fetch succeeded,
//! so a failed fetch or a branch deleted upstream leaves the last good commit readable. A
//! followed branch is fetched with its full history, since telling a fast-forward from a
//! rewrite needs the commits in between; dependencies may fetch shallow (see
//! [`Mirror::fetch_refs`]), except from a repository on this machine, which libgit2's local
//! transport can only fetch in full.

use super::auth::{Auth, Session};
use super::diff::{ChangedApps, changed_paths};
use super::tree::GitTree;
use super::{GitError, Result, is_full_commit_id, timeouts};
use crate::source::AppGraph;
use git2::{
    AutotagOption, Direction, FetchOptions, Oid, Remote, Repository, RepositoryInitOptions,
};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// Options of a [`Mirror`].
#[derive(Debug, Clone, Default)]
pub struct MirrorOptions {
    /// How to authenticate to the remote.
    pub auth: Auth,
}

/// A ref the remote advertises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRef {
    /// Its full name, e.g. `refs/heads/main`, or `refs/tags/v1^{}` for a peeled tag.
    pub name: String,
    /// The object it points at (a commit, or a tag object for annotated tags).
    pub target: String,
}

/// What [`Mirror::update`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// The remote branch is where the mirror's is; nothing was fetched.
    Unchanged {
        /// The branch's commit.
        commit: String,
    },
    /// The branch moved forward (or was fetched for the first time, `from` is `None`).
    Advanced {
        /// The previous commit.
        from: Option<String>,
        /// The new commit.
        to: String,
    },
    /// The branch moved to a commit that does not descend from the previous one: history was
    /// rewritten upstream (a force-push), and is followed.
    Rewritten {
        /// The previous commit, no longer on the branch.
        from: String,
        /// The new commit.
        to: String,
    },
}

impl Update {
    /// The branch's commit after the update.
    pub fn commit(&self) -> &str {
        match self {
            Update::Unchanged { commit } => commit,
            Update::Advanced { to, .. } | Update::Rewritten { to, .. } => to,
        }
    }
}

/// A bare mirror of one remote, kept under a cache directory.
///
/// Methods block; they are safe to call from several threads (network operations on one
/// mirror run one at a time).
pub struct Mirror {
    url: String,
    path: PathBuf,
    options: MirrorOptions,
    repo: Mutex<Repository>,
    network: Mutex<()>,
}

impl Mirror {
    /// Opens the mirror of `url` under `cache_dir`, creating it (empty, no network) if needed.
    /// The directory name is derived from the URL, so one cache holds many mirrors.
    pub fn open(cache_dir: &Path, url: &str, options: MirrorOptions) -> Result<Self> {
        let path = cache_dir.join(dir_name(url));
        let open = |path: &Path| -> std::result::Result<Repository, git2::Error> {
            if path.join("HEAD").is_file() {
                return Repository::open_bare(path);
            }
            Repository::init_opts(path, RepositoryInitOptions::new().bare(true).mkpath(true))
        };
        let repo = open(&path).map_err(|source| GitError::Open { path: path.clone(), source })?;
        Ok(Self {
            url: url.to_string(),
            path,
            options,
            repo: Mutex::new(repo),
            network: Mutex::new(()),
        })
    }

    /// The remote URL, as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The mirror's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Lists the refs the remote advertises (`git ls-remote`), without fetching.
    pub fn remote_refs(&self) -> Result<Vec<RemoteRef>> {
        timeouts::ensure();
        let session = Session::new(&self.url, &self.options.auth);
        let fail = |source| session.error(|| GitError::HeadCheck { url: self.url.clone(), source });
        let mut remote = Remote::create_detached(self.url.as_str()).map_err(fail)?;
        let connection =
            remote.connect_auth(Direction::Fetch, Some(session.callbacks()), None).map_err(fail)?;
        let heads = connection.list().map_err(fail)?;
        Ok(heads
            .iter()
            .map(|h| RemoteRef { name: h.name().to_string(), target: h.oid().to_string() })
            .collect())
    }

    /// The remote's commit for `branch`, or `None` if the remote has no such branch.
    pub fn remote_head(&self, branch: &str) -> Result<Option<String>> {
        let refname = format!("refs/heads/{branch}");
        Ok(self.remote_refs()?.into_iter().find(|r| r.name == refname).map(|r| r.target))
    }

    /// Brings `branch` up to date: checks the remote head and fetches only if it moved.
    ///
    /// Errors leave the mirror's branch (the last good commit) where it was: a remote that
    /// cannot be reached or fetched from is [`GitError::HeadCheck`] or [`GitError::Fetch`],
    /// a branch deleted upstream is [`GitError::BranchGone`].
    pub fn update(&self, branch: &str) -> Result<Update> {
        let refname = branch_ref(&self.url, branch)?;
        let _network = lock(&self.network);
        let before = self.last_good(branch)?;
        let Some(remote) = self.remote_head(branch)? else {
            tracing::warn!(url = %self.url, branch, last_good = ?before, "branch is gone from the remote");
            return Err(GitError::BranchGone {
                url: self.url.clone(),
                branch: branch.to_string(),
                last_good: before,
            });
        };
        if before.as_deref() == Some(remote.as_str()) {
            return Ok(Update::Unchanged { commit: remote });
        }
        self.fetch(&[format!("+{refname}:{refname}")], None, branch)?;
        let after = self.last_good(branch)?.ok_or_else(|| GitError::UnknownRef {
            url: self.url.clone(),
            reference: refname.clone(),
        })?;
        let update = self.classify(before, after)?;
        tracing::info!(url = %self.url, branch, ?update, "fetched");
        Ok(update)
    }

    /// [`update`](Self::update) on Tokio's blocking pool, for async callers such as a poll
    /// loop: the network wait never blocks a runtime worker.
    pub async fn update_async(self: &Arc<Self>, branch: &str) -> Result<Update> {
        let (mirror, branch) = (self.clone(), branch.to_string());
        match tokio::task::spawn_blocking(move || mirror.update(&branch)).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(GitError::Cancelled { url: self.url.clone() }),
        }
    }

    /// The mirror's commit for `branch`: the last one fetched successfully, if any.
    pub fn last_good(&self, branch: &str) -> Result<Option<String>> {
        self.local_ref(&branch_ref(&self.url, branch)?)
    }

    /// The object the mirror's ref `name` (a full ref name) points at, unpeeled, if it exists.
    pub fn local_ref(&self, name: &str) -> Result<Option<String>> {
        match self.repo().refname_to_id(name) {
            Ok(oid) => Ok(Some(oid.to_string())),
            Err(e)
                if matches!(e.code(), git2::ErrorCode::NotFound | git2::ErrorCode::InvalidSpec) =>
            {
                Ok(None)
            }
            Err(source) => Err(self.object_error(name, source)),
        }
    }

    /// Fetches `refspecs` from the remote, without a head check. `depth` limits history:
    /// `Some(1)` fetches tips only, which pays off for dependencies pinned to a tag, whose
    /// history is never read; `Some(i32::MAX)` deepens a shallow mirror to full history.
    /// Where the transport cannot fetch shallow ([`can_fetch_shallow`](Self::can_fetch_shallow))
    /// the depth is dropped and everything asked for is fetched in full.
    /// `reference` names what is fetched in errors.
    pub fn fetch_refs(
        &self,
        refspecs: &[String],
        depth: Option<i32>,
        reference: &str,
    ) -> Result<()> {
        let _network = lock(&self.network);
        self.fetch(refspecs, depth, reference)
    }

    /// Whether fetches from this remote can be shallow. libgit2's local transport, used for a
    /// `file://` URL or a path to a directory, cannot: it fails with "shallow fetch is not
    /// supported by the local transport". Copying objects on one machine is cheap anyway.
    pub fn can_fetch_shallow(&self) -> bool {
        !is_local(&self.url)
    }

    /// Whether the mirror holds shallow history (some commits lack their parents).
    pub fn is_shallow(&self) -> bool {
        self.repo().is_shallow()
    }

    /// Resolves `reference` in the mirror, as git does: a full ref name, a tag, a branch, then
    /// a commit id (full, or abbreviated to at least 7 digits). Annotated tags are peeled.
    pub fn resolve(&self, reference: &str) -> Result<String> {
        let repo = self.repo();
        let unknown =
            || GitError::UnknownRef { url: self.url.clone(), reference: reference.to_string() };
        let names = [
            reference.to_string(),
            format!("refs/tags/{reference}"),
            format!("refs/heads/{reference}"),
        ];
        for name in names.iter().filter(|n| n.starts_with("refs/")) {
            if let Ok(found) = repo.find_reference(name) {
                let commit =
                    found.peel_to_commit().map_err(|source| self.object_error(name, source))?;
                return Ok(commit.id().to_string());
            }
        }
        let hex = reference.len() >= 7 && reference.bytes().all(|b| b.is_ascii_hexdigit());
        if is_full_commit_id(reference) {
            let oid = Oid::from_str(reference).map_err(|_| unknown())?;
            return repo.find_commit(oid).map(|c| c.id().to_string()).map_err(|_| unknown());
        }
        if hex {
            return repo
                .find_commit_by_prefix(reference)
                .map(|c| c.id().to_string())
                .map_err(|_| unknown());
        }
        Err(unknown())
    }

    /// The files of `commit` (a full or abbreviated id), read from the mirror.
    pub fn tree(&self, commit: &str) -> Result<GitTree> {
        GitTree::open(&self.path, commit, &self.url)
    }

    /// The paths that differ between commits `old` and `new` (`old` `None`: everything).
    pub fn changed_paths(&self, old: Option<&str>, new: &str) -> Result<Vec<String>> {
        changed_paths(&self.repo(), &self.url, old, new)
    }

    /// The changed paths between `old` and `new`, and the apps of `graph` they affect.
    ///
    /// Fails if `old` is not in the mirror (a new cache directory, say); the caller should
    /// then treat every app as changed.
    pub fn changed_apps(
        &self,
        old: Option<&str>,
        new: &str,
        graph: &AppGraph,
    ) -> Result<ChangedApps> {
        Ok(ChangedApps::new(self.changed_paths(old, new)?, graph))
    }

    fn fetch(&self, refspecs: &[String], depth: Option<i32>, reference: &str) -> Result<()> {
        timeouts::ensure();
        let fail = |source| GitError::Fetch {
            url: self.url.clone(),
            reference: reference.to_string(),
            source,
        };
        // A handle of its own: the shared one stays free for reads while this downloads.
        let repo = Repository::open_bare(&self.path)
            .map_err(|source| GitError::Open { path: self.path.clone(), source })?;
        let mut remote = repo.remote_anonymous(&self.url).map_err(fail)?;
        let session = Session::new(&self.url, &self.options.auth);
        let mut options = FetchOptions::new();
        options
            .remote_callbacks(session.callbacks())
            .download_tags(AutotagOption::None)
            .update_fetchhead(false);
        if let Some(depth) = depth.filter(|_| self.can_fetch_shallow()) {
            options.depth(depth);
        }
        let started = std::time::Instant::now();
        remote
            .fetch(refspecs, Some(&mut options), None)
            .map_err(|source| session.error(|| fail(source)))?;
        tracing::debug!(url = %self.url, reference, elapsed = ?started.elapsed(), "fetch done");
        Ok(())
    }

    fn classify(&self, before: Option<String>, after: String) -> Result<Update> {
        let Some(before) = before else { return Ok(Update::Advanced { from: None, to: after }) };
        if before == after {
            return Ok(Update::Unchanged { commit: after });
        }
        let parse = |s: &str| Oid::from_str(s).map_err(|source| self.object_error(s, source));
        let descends = self
            .repo()
            .graph_descendant_of(parse(&after)?, parse(&before)?)
            .map_err(|source| self.object_error(&format!("history {before}..{after}"), source))?;
        Ok(if descends {
            Update::Advanced { from: Some(before), to: after }
        } else {
            Update::Rewritten { from: before, to: after }
        })
    }

    fn repo(&self) -> MutexGuard<'_, Repository> {
        lock(&self.repo)
    }

    fn object_error(&self, what: &str, source: git2::Error) -> GitError {
        GitError::Object { repo: self.url.clone(), what: what.to_string(), source }
    }
}

impl std::fmt::Debug for Mirror {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mirror")
            .field("url", &self.url)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Repository handles and `()` hold no invariant a panicking holder could break.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether libgit2 fetches `url` with its local transport: a `file://` URL, or a path to a
/// directory. As in libgit2, a `:` makes a URL without a scheme an scp-style ssh address.
fn is_local(url: &str) -> bool {
    let has_scheme = url.contains("://");
    url.get(..7).is_some_and(|scheme| scheme.eq_ignore_ascii_case("file://"))
        || (!has_scheme && !url.contains(':') && Path::new(url).is_dir())
}

fn branch_ref(url: &str, branch: &str) -> Result<String> {
    let refname = format!("refs/heads/{branch}");
    if branch.is_empty() || !git2::Reference::is_valid_name(&refname) {
        return Err(GitError::UnknownRef { url: url.to_string(), reference: branch.to_string() });
    }
    Ok(refname)
}

/// `github.com-acme-config-1a2b3c4d5e6f.git`: readable, and unique per exact URL.
fn dir_name(url: &str) -> String {
    let key = crate::source::RepoKey::new(url).to_string();
    let readable: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '-' })
        .collect::<String>()
        .trim_matches(|c| c == '-' || c == '.')
        .chars()
        .take(60)
        .collect();
    let hash = hex::encode(&Sha256::digest(url.as_bytes())[..6]);
    format!("{readable}-{hash}.git")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_names_are_readable_and_distinct() {
        let a = dir_name("https://github.com/acme/config.git");
        assert!(a.starts_with("github.com-acme-config-") && a.ends_with(".git"), "{a}");
        assert_eq!(a.len(), "github.com-acme-config-".len() + 12 + 4);
        assert_ne!(a, dir_name("git@github.com:acme/config.git"));
        assert!(dir_name("/tmp/x/../y").starts_with("tmp-x-..-y-"), "{}", dir_name("/tmp/x/../y"));
    }

    #[test]
    fn local_repositories_are_fetched_in_full() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_str().unwrap();
        assert!(is_local(path));
        assert!(is_local(&format!("file://{path}")));
        assert!(is_local(&format!("FILE://{path}")));
        assert!(!is_local(&format!("{path}/missing")), "libgit2 refuses it: not a transport");
        for remote in ["https://github.com/a/b.git", "git://h/b", "git@github.com:a/b", "ssh://h/b"]
        {
            assert!(!is_local(remote), "{remote}");
        }
    }

    #[test]
    fn branch_names_are_checked() {
        assert_eq!(branch_ref("u", "feature/x").unwrap(), "refs/heads/feature/x");
        for branch in ["", "a..b", "x y", "a~1", "b:c"] {
            let err = branch_ref("u", branch).unwrap_err();
            assert_eq!(err.to_string(), format!("u@{branch}: no such branch, tag or commit"));
        }
    }
}
