//! Which repository a URL names, for matching webhook payloads and coalescing triggers.
//!
//! Users write a repository's URL one way (`https://github.com/acme/config.git`) and forges
//! report it another (`git@github.com:Acme/config`). This module reduces a URL to a
//! [`RepoKey`] so that both compare equal. It does not fetch anything and is not used to build
//! URLs: git operations always use the URL exactly as configured.

use std::fmt;

/// A repository URL reduced to what identifies the repository: host and path.
///
/// The rule, applied to both sides of a comparison:
/// - the scheme (`https`, `http`, `ssh`, `git`, scp-like `user@host:path`), the user name and
///   password, and the port are ignored: `ssh://git@host:2222/a/b` and `https://host/a/b` are
///   the same repository, as forges serve one repository over several protocols;
/// - the host is compared case-insensitively;
/// - the path loses its leading and trailing `/` and one trailing `.git`, repeated `/`
///   collapse, and it is compared case-insensitively too, because GitHub, GitLab, Gitea and
///   Bitbucket all treat owner and repository names that way;
/// - a local path (no host) keeps its case, as file systems do not fold it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoKey {
    host: String,
    path: String,
}

impl RepoKey {
    /// Reduces `url` to its key. Never fails: anything that is not a URL is a local path.
    pub fn new(url: &str) -> Self {
        let url = url.trim();
        let (host, path) = match url.split_once("://") {
            Some((_, rest)) => split_authority(rest),
            None => match scp_like(url) {
                Some((host, path)) => (host, path),
                None => ("", url),
            },
        };
        let local = host.is_empty();
        let mut path = path.split('/').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("/");
        if let Some(stripped) = path.strip_suffix(".git") {
            path = stripped.trim_end_matches('/').to_string();
        }
        if !local {
            path = path.to_lowercase();
        }
        Self { host: host.to_lowercase(), path }
    }

    /// The host, lower-cased; empty for a local path.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The path, normalized as described on [`RepoKey`].
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl fmt::Display for RepoKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.is_empty() {
            write!(f, "/{}", self.path)
        } else {
            write!(f, "{}/{}", self.host, self.path)
        }
    }
}

/// Says whether two URLs name the same repository, by the rule on [`RepoKey`].
pub fn same_repo(a: &str, b: &str) -> bool {
    RepoKey::new(a) == RepoKey::new(b)
}

/// Splits `user@host:port/path` (what follows `scheme://`) into host and path.
fn split_authority(rest: &str) -> (&str, &str) {
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split_once(']').map_or(v6, |(h, _)| h)
    } else {
        host_port.split_once(':').map_or(host_port, |(h, _)| h)
    };
    (host, path)
}

/// Parses git's scp-like syntax, `[user@]host:path`, which has no scheme and a `:` before
/// any `/`. A single letter before the `:` is a Windows drive, not a host.
fn scp_like(url: &str) -> Option<(&str, &str)> {
    let colon = url.find(':')?;
    if url[..colon].contains('/') {
        return None;
    }
    let (user, host) =
        url[..colon].rsplit_once('@').map_or((None, &url[..colon]), |(u, h)| (Some(u), h));
    if host.is_empty() || (user.is_none() && host.len() == 1) {
        return None;
    }
    Some((host, &url[colon + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_one_github_repo_match() {
        let forms = [
            "https://github.com/acme/config",
            "https://github.com/acme/config.git",
            "https://github.com/acme/config/",
            "https://x-access-token:secret@GitHub.com/Acme/Config.git",
            "http://github.com:443/acme/config",
            "git@github.com:acme/config.git",
            "github.com:Acme/config",
            "ssh://git@github.com/acme/config.git",
            "ssh://git@github.com:22/acme//config",
            "git://github.com/acme/config.git",
        ];
        for form in forms {
            assert_eq!(RepoKey::new(form).to_string(), "github.com/acme/config", "{form}");
        }
    }

    #[test]
    fn different_repos_do_not_match() {
        assert!(!same_repo("https://github.com/acme/config", "https://github.com/acme/config2"));
        assert!(!same_repo("https://github.com/acme/config", "https://gitlab.com/acme/config"));
        assert!(!same_repo("https://github.com/acme/config", "https://github.com/other/config"));
        assert!(!same_repo("https://h/group/sub/repo", "https://h/group/repo"));
    }

    #[test]
    fn local_paths_keep_case_and_ipv6_hosts_parse() {
        assert_eq!(RepoKey::new("/srv/Git/config.git").to_string(), "/srv/Git/config");
        assert!(!same_repo("/srv/Git/config", "/srv/git/config"));
        assert_eq!(RepoKey::new("file:///srv/git/config").to_string(), "/srv/git/config");
        assert_eq!(RepoKey::new("C:/repos/config").host(), "");
        assert_eq!(RepoKey::new("git@h:a/config.git").to_string(), "h/a/config");
        let v6 = RepoKey::new("ssh://git@[::1]:2222/acme/config.git");
        assert_eq!((v6.host(), v6.path()), ("::1", "acme/config"));
    }
}
