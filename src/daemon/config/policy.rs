//! What a cetus.yaml may reach: config authors are not daemon admins (DESIGN §6 `policy`).
//!
//! [`Policy`] answers three questions the render step asks. Which environment variables an
//! `env` var may read: those matching `policy.envAllow` (default none, since the daemon's own
//! environment holds its secrets); any other reads as unset, so a default applies or the var
//! is reported missing. Which `git` dependencies may be fetched: URLs under a
//! `policy.dependencies` prefix, compared as [`location`](super::location) normalizes them
//! (default: the config repository's scheme and host; local paths and `file://` only under
//! an explicit `file://` prefix). Which credentials a dependency fetch may use: the config
//! repository's, for its host alone. It does not fetch or render anything itself.

use super::location::{self, Location, Remote};
use crate::render::EnvLookup;
use crate::source::git::{Auth, HostAuth};
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::path::PathBuf;
use std::sync::Arc;

/// What the cetus.yaml files the daemon renders may reach.
#[derive(Debug, Clone)]
pub struct Policy {
    env_allow: Vec<String>,
    env_set: GlobSet,
    /// `None`: `policy.dependencies` is not set, and the default applies.
    prefixes: Option<Vec<DependencyPrefix>>,
    repo: Option<Remote>,
    repo_auth: Auth,
}

impl Default for Policy {
    /// Nothing allowed: no environment variable, no `git` dependency, no credentials.
    fn default() -> Self {
        Self {
            env_allow: Vec::new(),
            env_set: GlobSet::empty(),
            prefixes: Some(Vec::new()),
            repo: None,
            repo_auth: Auth::None,
        }
    }
}

/// One `policy.dependencies` entry, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DependencyPrefix {
    text: String,
    location: Location,
}

impl DependencyPrefix {
    /// Parses a prefix: a URL with a scheme and a host, or a `file://` URL.
    pub(super) fn parse(text: &str) -> Result<Self, String> {
        let hint = "a URL prefix needs a scheme and a host \
                    (e.g. https://git.example.com/platform/), or is a file:// URL";
        if !text.contains("://") {
            return Err(format!("`{text}` is not a URL prefix: {hint}"));
        }
        let location = location::parse(text)?;
        Ok(Self { text: text.to_string(), location })
    }
}

/// Parses one `policy.envAllow` glob.
pub(super) fn env_glob(text: &str) -> Result<Glob, String> {
    if text.is_empty() {
        return Err("an empty glob matches no variable".into());
    }
    Glob::new(text).map_err(|e| format!("`{text}` is not a valid glob: {}", e.kind()))
}

impl Policy {
    /// A policy from the settings' values, as [`load`](super::load) would build it; the
    /// first entry that does not parse is the error.
    pub fn new(
        env_allow: &[&str],
        dependencies: Option<&[&str]>,
        repo_url: &str,
        repo_auth: Auth,
    ) -> Result<Self, String> {
        let globs = env_allow.iter().map(|g| env_glob(g)).collect::<Result<Vec<_>, _>>()?;
        let prefixes = dependencies
            .map(|list| list.iter().map(|p| DependencyPrefix::parse(p)).collect())
            .transpose()?;
        Self::build(globs, prefixes, repo_url, repo_auth)
    }

    /// Assembles a policy from parsed parts.
    pub(super) fn build(
        globs: Vec<Glob>,
        prefixes: Option<Vec<DependencyPrefix>>,
        repo_url: &str,
        repo_auth: Auth,
    ) -> Result<Self, String> {
        let mut set = GlobSetBuilder::new();
        let env_allow = globs.iter().map(|g| g.glob().to_string()).collect();
        for glob in globs {
            set.add(glob);
        }
        let env_set = set.build().map_err(|e| format!("the globs do not compile: {e}"))?;
        let repo = match location::parse(repo_url) {
            Ok(Location::Remote(remote)) => Some(remote),
            _ => None,
        };
        Ok(Self { env_allow, env_set, prefixes, repo, repo_auth })
    }

    /// Whether an `env` var may read the environment variable `name`.
    pub fn env_allowed(&self, name: &str) -> bool {
        self.env_set.is_match(name)
    }

    /// The `policy.envAllow` globs.
    pub fn env_allow(&self) -> &[String] {
        &self.env_allow
    }

    /// `inner`, restricted to the allowed variables: any other reads as unset, so
    /// `{ env: X, default: y }` falls back to `y` and `{ env: X }` is a missing variable.
    pub fn filter_env(&self, inner: EnvLookup) -> EnvLookup {
        let allowed = self.env_set.clone();
        Arc::new(move |name| if allowed.is_match(name) { inner(name) } else { None })
    }

    /// The daemon's own environment, restricted to the allowed variables: what the render
    /// step passes as [`RenderInput::env`](crate::render::RenderInput::env).
    pub fn env_lookup(&self) -> EnvLookup {
        self.filter_env(Arc::new(|name| std::env::var(name).ok()))
    }

    /// Whether a `git` dependency may be fetched from `url`; the error says why not.
    pub fn dependency_allowed(&self, url: &str) -> Result<(), String> {
        match location::parse(url)? {
            Location::Remote(remote) => self.remote_allowed(url, &remote),
            Location::Local(path) => self.local_allowed(url, &path),
        }
    }

    fn remote_allowed(&self, url: &str, remote: &Remote) -> Result<(), String> {
        let Some(prefixes) = &self.prefixes else {
            return match &self.repo {
                Some(repo) if remote.starts_with(&origin_of(repo)) => Ok(()),
                Some(repo) => Err(format!(
                    "`{url}` is not allowed: policy.dependencies is not set, so only the config \
                     repository's server ({}) is",
                    repo.origin()
                )),
                None => Err(format!(
                    "`{url}` is not allowed: policy.dependencies is not set and the config \
                     repository is local, so no remote is"
                )),
            };
        };
        let under = |p: &DependencyPrefix| match &p.location {
            Location::Remote(prefix) => remote.starts_with(prefix),
            Location::Local(_) => false,
        };
        if prefixes.iter().any(under) {
            return Ok(());
        }
        Err(format!("`{url}` is not allowed: {}", listed(prefixes)))
    }

    fn local_allowed(&self, url: &str, path: &std::path::Path) -> Result<(), String> {
        let refused = "local paths and file:// URLs are refused unless policy.dependencies \
                       allows a file:// prefix";
        if path.is_relative() {
            return Err(format!("`{url}` is a relative local path; {refused}"));
        }
        let local: Vec<(&DependencyPrefix, &PathBuf)> = self
            .prefixes
            .iter()
            .flatten()
            .filter_map(|p| match &p.location {
                Location::Local(root) => Some((p, root)),
                Location::Remote(_) => None,
            })
            .collect();
        if local.is_empty() {
            return Err(format!("`{url}` is a local repository; {refused}"));
        }
        if local.iter().any(|(_, root)| path.starts_with(root)) {
            return Ok(());
        }
        let texts: Vec<&str> = local.iter().map(|(p, _)| p.text.as_str()).collect();
        Err(format!(
            "`{url}` is a local repository outside the file:// prefixes of \
             policy.dependencies ({})",
            texts.join(", ")
        ))
    }

    /// The prefixes in force, as written; the default is shown as the config repository's
    /// scheme and host.
    pub fn dependency_prefixes(&self) -> Vec<String> {
        match (&self.prefixes, &self.repo) {
            (Some(prefixes), _) => prefixes.iter().map(|p| p.text.clone()).collect(),
            (None, Some(repo)) => vec![repo.origin()],
            (None, None) => Vec::new(),
        }
    }

    /// Credentials for `git` dependency fetches: the config repository's, offered for its
    /// host only, so a dependency on another host never receives them.
    pub fn dependency_auth(&self) -> Vec<HostAuth> {
        match (&self.repo, &self.repo_auth) {
            (_, Auth::None) | (None, _) => Vec::new(),
            (Some(repo), auth) => vec![HostAuth { host: repo.host.clone(), auth: auth.clone() }],
        }
    }
}

/// The scheme, host and port of a remote, with no path: the default prefix.
fn origin_of(repo: &Remote) -> Remote {
    Remote { segments: Vec::new(), ..repo.clone() }
}

fn listed(prefixes: &[DependencyPrefix]) -> String {
    if prefixes.is_empty() {
        return "policy.dependencies is empty, so no git dependency is".into();
    }
    let texts: Vec<&str> = prefixes.iter().map(|p| p.text.as_str()).collect();
    format!("it is under none of the prefixes of policy.dependencies ({})", texts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{RenderInput, render};
    use crate::source::LocalTree;

    const REPO: &str = "https://git.example.com/platform/config.git";

    fn token() -> Auth {
        Auth::Token { token_file: "/secrets/git/token".into() }
    }

    fn policy(deps: Option<&[&str]>) -> Policy {
        Policy::new(&[], deps, REPO, token()).unwrap()
    }

    #[test]
    fn env_globs_allow_only_what_they_match() {
        let p = Policy::new(&["APP_*", "LOG_LEVEL"], None, REPO, Auth::None).unwrap();
        assert!(p.env_allowed("APP_DB_URL") && p.env_allowed("LOG_LEVEL"));
        assert!(!p.env_allowed("LOG_LEVEL_X") && !p.env_allowed("app_x"));
        assert!(!p.env_allowed("CETUS_API_TOKEN") && !p.env_allowed("HOME"));
        assert!(!Policy::default().env_allowed("APP_X"), "nothing is allowed by default");
        assert_eq!(p.env_allow(), ["APP_*", "LOG_LEVEL"]);
        // The process environment, through the same filter: PATH is set wherever tests run.
        let path = Policy::new(&["PATH"], None, REPO, Auth::None).unwrap().env_lookup();
        assert_eq!(path("PATH"), std::env::var("PATH").ok());
        assert_eq!(p.env_lookup()("PATH"), None);
        assert_eq!(
            Policy::new(&["APP_[X"], None, REPO, Auth::None).unwrap_err(),
            "`APP_[X` is not a valid glob: unclosed character class; missing ']'"
        );
    }

    #[test]
    fn a_disallowed_variable_reads_as_unset_in_a_render() {
        let dir = tempfile::tempdir().unwrap();
        let spec = "name: web\ngroup: ${team}\nvars:\n  team: { env: TEAM, default: fallback }\n";
        std::fs::write(dir.path().join("cetus.yaml"), spec).unwrap();
        let tree = LocalTree::new(dir.path()).unwrap();
        let inner: EnvLookup = Arc::new(|name| (name == "TEAM").then(|| "platform".to_string()));
        let namespace = |allow: &[&str]| {
            let p = Policy::new(allow, None, REPO, Auth::None).unwrap();
            let input = RenderInput { env: p.filter_env(inner.clone()), ..RenderInput::default() };
            render(&tree, "", &input).unwrap().unwrap().namespace
        };
        assert_eq!(namespace(&["TEAM"]), "platform--web");
        assert_eq!(namespace(&["APP_*"]), "fallback--web");

        let spec = "name: web\ngroup: ${team}\nvars:\n  team: { env: TEAM }\n";
        std::fs::write(dir.path().join("cetus.yaml"), spec).unwrap();
        let p = Policy::new(&["APP_*"], None, REPO, Auth::None).unwrap();
        let input = RenderInput { env: p.filter_env(inner.clone()), ..RenderInput::default() };
        assert_eq!(
            render(&tree, "", &input).unwrap_err().to_string(),
            "cetus.yaml:4:16: vars.team.env: environment variable `TEAM` is not set and var `team` has no default"
        );
    }

    #[test]
    fn dependency_prefixes_match_whole_segments_on_the_same_server() {
        let p = policy(Some(&["https://git.example.com/platform/"]));
        assert_eq!(p.dependency_allowed("https://git.example.com/platform/postgres.git"), Ok(()));
        assert_eq!(p.dependency_allowed("https://GIT.EXAMPLE.COM/platform/pg"), Ok(()));
        assert_eq!(p.dependency_allowed("HTTPS://git.example.com:443/platform//pg"), Ok(()));
        let ssh = policy(Some(&["ssh://git@git.example.com/platform/"]));
        assert_eq!(ssh.dependency_allowed("git@git.example.com:platform/pg.git"), Ok(()));
        assert!(ssh.dependency_allowed("git@git.example.com:platformx/pg.git").is_err());
        let listed = "it is under none of the prefixes of policy.dependencies (https://git.example.com/platform/)";
        for url in [
            "https://git.example.com/platform-evil/pg.git",
            "https://git.example.com.evil.com/platform/pg.git",
            "https://git.example.com/platform/../evil/pg.git",
            "https://git.example.com@evil.com/platform/pg.git",
            "http://git.example.com/platform/pg.git",
            "https://git.example.com:8443/platform/pg.git",
        ] {
            assert_eq!(p.dependency_allowed(url), Err(format!("`{url}` is not allowed: {listed}")));
        }
        assert_eq!(
            p.dependency_allowed("https://git.example.com/platform%2F..%2Fevil/pg"),
            Err("`https://git.example.com/platform%2F..%2Fevil/pg` contains a percent-encoded `/`, `\\` or `.`".into())
        );
    }

    #[test]
    fn the_default_is_the_config_repository_server() {
        let p = policy(None);
        assert_eq!(p.dependency_prefixes(), ["https://git.example.com/"]);
        assert_eq!(p.dependency_allowed("https://git.example.com/other/lib.git"), Ok(()));
        assert_eq!(
            p.dependency_allowed("https://github.com/acme/lib.git"),
            Err("`https://github.com/acme/lib.git` is not allowed: policy.dependencies is not set, so only the config repository's server (https://git.example.com/) is".into())
        );
        assert_eq!(
            p.dependency_allowed("git@git.example.com:other/lib.git").unwrap_err(),
            "`git@git.example.com:other/lib.git` is not allowed: policy.dependencies is not set, so only the config repository's server (https://git.example.com/) is"
        );
        let local = Policy::new(&[], None, "/srv/config", Auth::None).unwrap();
        assert_eq!(
            local.dependency_allowed("https://git.example.com/lib.git").unwrap_err(),
            "`https://git.example.com/lib.git` is not allowed: policy.dependencies is not set and the config repository is local, so no remote is"
        );
        assert_eq!(
            policy(Some(&[])).dependency_allowed("https://git.example.com/lib.git").unwrap_err(),
            "`https://git.example.com/lib.git` is not allowed: policy.dependencies is empty, so no git dependency is"
        );
    }

    #[test]
    fn local_dependencies_need_a_file_prefix() {
        let refused = "local paths and file:// URLs are refused unless policy.dependencies allows a file:// prefix";
        let p = policy(None);
        for url in ["file:///srv/git/lib", "/srv/git/lib"] {
            assert_eq!(
                p.dependency_allowed(url),
                Err(format!("`{url}` is a local repository; {refused}"))
            );
        }
        assert_eq!(
            p.dependency_allowed("../lib"),
            Err(format!("`../lib` is a relative local path; {refused}"))
        );
        let p = policy(Some(&["file:///srv/git/", "https://git.example.com/"]));
        assert_eq!(p.dependency_allowed("file:///srv/git/lib"), Ok(()));
        assert_eq!(p.dependency_allowed("/srv/git/team/lib"), Ok(()));
        assert_eq!(
            p.dependency_allowed("/srv/gitx/lib"),
            Err("`/srv/gitx/lib` is a local repository outside the file:// prefixes of policy.dependencies (file:///srv/git/)".into())
        );
        assert_eq!(
            p.dependency_allowed("file:///srv/git/../etc"),
            Err("`file:///srv/git/../etc` is a local repository outside the file:// prefixes of policy.dependencies (file:///srv/git/)".into())
        );
        assert!(p.dependency_allowed("/srv/git/../etc").is_err());
    }

    #[test]
    fn prefixes_need_a_scheme_and_host() {
        let hint = "a URL prefix needs a scheme and a host (e.g. https://git.example.com/platform/), or is a file:// URL";
        for (prefix, message) in [
            (
                "git.example.com/platform/",
                format!("`git.example.com/platform/` is not a URL prefix: {hint}"),
            ),
            (
                "git@git.example.com:platform/",
                format!("`git@git.example.com:platform/` is not a URL prefix: {hint}"),
            ),
            ("https:///platform/", "`https:///platform/` has no host".to_string()),
            (
                "s3://bucket/",
                "`s3://bucket/`: unsupported scheme `s3`; use https, http, ssh, git or file"
                    .to_string(),
            ),
        ] {
            assert_eq!(Policy::new(&[], Some(&[prefix]), REPO, Auth::None).unwrap_err(), message);
        }
    }

    #[test]
    fn credentials_go_to_the_config_repository_host_only() {
        assert_eq!(
            policy(None).dependency_auth(),
            [HostAuth { host: "git.example.com".into(), auth: token() }]
        );
        let ssh = Auth::SshKey {
            key_file: "/k".into(),
            passphrase_file: None,
            known_hosts_file: "/kh".into(),
        };
        let p = Policy::new(&[], None, "git@GitHub.com:acme/config.git", ssh.clone()).unwrap();
        assert_eq!(p.dependency_auth(), [HostAuth { host: "github.com".into(), auth: ssh }]);
        assert_eq!(Policy::new(&[], None, REPO, Auth::None).unwrap().dependency_auth(), []);
        assert_eq!(Policy::new(&[], None, "/srv/config", token()).unwrap().dependency_auth(), []);
    }
}
