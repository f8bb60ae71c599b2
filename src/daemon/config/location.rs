//! Where a git URL points, reduced to what policy compares: scheme, host, port and path
//! segments for a remote, an absolute path for a local repository.
//!
//! The forms git accepts are all read: `https://`, `http://`, `ssh://`, `git://`, `file://`,
//! scp-like `[user@]host:path` (which is ssh) and a plain path. Scheme and host compare
//! case-insensitively, a missing port is the scheme's default, the user name is dropped, dot
//! segments are resolved (by the `url` crate, as WHATWG parsers do) and empty segments and a
//! trailing `.git` are ignored. What a git client could read differently from us is refused
//! rather than guessed at: backslashes, whitespace, a query or fragment, and percent-encoded
//! `/`, `\` or `.`. Unlike [`RepoKey`](crate::source::RepoKey), which matches a webhook's
//! repository loosely, this is for deciding what may be fetched, so nothing is folded that
//! could name another server or another repository.

use std::path::{Component, Path, PathBuf};
use url::Url;

/// The schemes a repository URL may use.
const SCHEMES: [&str; 5] = ["https", "http", "ssh", "git", "file"];

/// A parsed git URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// A repository on a server.
    Remote(Remote),
    /// A repository on this machine: a `file://` URL or a path (relative ones as written).
    Local(PathBuf),
}

/// A repository on a server, normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Remote {
    /// `https`, `http`, `ssh` (also for scp-like URLs) or `git`.
    pub scheme: String,
    /// Lower-cased.
    pub host: String,
    /// The port, the scheme's default when the URL has none.
    pub port: u16,
    /// Non-empty path segments, the last without a trailing `.git`.
    pub segments: Vec<String>,
}

impl Remote {
    /// Whether `self` is `prefix` or under it: same scheme, host and port, and the prefix's
    /// segments are the first segments of `self` (whole segments: `platform` is not a prefix
    /// of `platform-evil`).
    pub fn starts_with(&self, prefix: &Remote) -> bool {
        self.scheme == prefix.scheme
            && self.host == prefix.host
            && self.port == prefix.port
            && self.segments.starts_with(&prefix.segments)
    }

    /// The scheme and host as a prefix (`https://git.example.com/`), the port only when it
    /// is not the default.
    pub fn origin(&self) -> String {
        let host =
            if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        if self.port == default_port(&self.scheme) {
            format!("{}://{host}/", self.scheme)
        } else {
            format!("{}://{host}:{}/", self.scheme, self.port)
        }
    }
}

/// Parses `text` as a git URL, or says which rule it breaks.
pub(crate) fn parse(text: &str) -> Result<Location, String> {
    if text.is_empty() {
        return Err("a repository URL cannot be empty".into());
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("`{text}` contains whitespace or control characters"));
    }
    if text.contains('\\') {
        return Err(format!("`{text}` contains a backslash; use `/`"));
    }
    let lower = text.to_ascii_lowercase();
    if ["%2f", "%5c", "%2e"].iter().any(|e| lower.contains(e)) {
        return Err(format!("`{text}` contains a percent-encoded `/`, `\\` or `.`"));
    }
    if text.contains("://") {
        return scheme_url(text);
    }
    if let Some((user_host, path)) = scp_like(text) {
        let ssh = format!("ssh://{user_host}/{}", path.trim_start_matches('/'));
        return scheme_url(&ssh).map_err(|_| format!("`{text}` is not a valid scp-like ssh URL"));
    }
    let path = Path::new(text);
    if path.components().any(|c| matches!(c, Component::ParentDir | Component::CurDir))
        && path.is_absolute()
    {
        return Err(format!("`{text}` contains `.` or `..`; write the path it means"));
    }
    Ok(Location::Local(path.to_path_buf()))
}

fn scheme_url(text: &str) -> Result<Location, String> {
    // WHATWG parsers skip extra slashes (`https:///h/a` is host `h`); git's transports do not.
    let (scheme_text, rest) = text.split_once("://").unwrap_or((text, ""));
    if rest.starts_with('/') && !scheme_text.eq_ignore_ascii_case("file") {
        return Err(format!("`{text}` has no host"));
    }
    let url = Url::parse(text).map_err(|e| format!("`{text}` is not a valid URL: {e}"))?;
    let scheme = url.scheme();
    if !SCHEMES.contains(&scheme) {
        return Err(format!(
            "`{text}`: unsupported scheme `{scheme}`; use https, http, ssh, git or file"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{text}` has a query or fragment, which git URLs do not"));
    }
    if scheme == "file" {
        return match (url.host_str(), url.to_file_path()) {
            (None | Some("") | Some("localhost"), Ok(path)) => Ok(Location::Local(path)),
            _ => Err(format!("`{text}` is not a local file:// URL (file:///path)")),
        };
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        return Err(format!("`{text}` has no host"));
    };
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    let mut segments: Vec<String> =
        url.path().split('/').filter(|s| !s.is_empty()).map(str::to_string).collect();
    if segments.iter().any(|s| s == "." || s == "..") {
        return Err(format!("`{text}` contains `.` or `..` segments"));
    }
    if let Some(last) = segments.last_mut()
        && let Some(stem) = last.strip_suffix(".git")
    {
        *last = stem.to_string();
        if last.is_empty() {
            segments.pop();
        }
    }
    let port = url.port().unwrap_or_else(|| default_port(scheme));
    Ok(Location::Remote(Remote { scheme: scheme.to_string(), host, port, segments }))
}

fn default_port(scheme: &str) -> u16 {
    match scheme {
        "https" => 443,
        "http" => 80,
        "ssh" => 22,
        _ => 9418, // git://
    }
}

/// Splits git's scp-like syntax, `[user@]host:path`: no scheme, and a `:` before any `/`.
/// A single letter before the `:` is a Windows drive, not a host; `[::1]` hosts are allowed.
fn scp_like(text: &str) -> Option<(&str, &str)> {
    let host_start = text.find('@').map_or(0, |at| at + 1);
    let colon = if text[host_start..].starts_with('[') {
        host_start + text[host_start..].find("]:")? + 1
    } else {
        text.find(':')?
    };
    if text[..colon].contains('/') || colon == text.len() - 1 {
        return None;
    }
    let user_host = &text[..colon];
    let host_len = colon - host_start;
    if host_len == 0 || (host_start == 0 && host_len == 1) {
        return None;
    }
    Some((user_host, &text[colon + 1..]))
}

/// Whether `text` is a plain path (no scheme, not scp-like): what `repo.url` resolves against
/// the config file's directory when it is relative.
pub(crate) fn is_plain_path(text: &str) -> bool {
    !text.contains("://") && scp_like(text).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(text: &str) -> Remote {
        match parse(text) {
            Ok(Location::Remote(r)) => r,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn remotes_normalize_scheme_host_port_and_path() {
        let r = remote("HTTPS://x-access-token:s3cret@Git.Example.COM:443//platform/pg.git/");
        assert_eq!(r.scheme, "https");
        assert_eq!(r.host, "git.example.com");
        assert_eq!(r.port, 443);
        assert_eq!(r.segments, ["platform", "pg"]);
        assert_eq!(r.origin(), "https://git.example.com/");
        let scp = remote("git@GitHub.com:acme/config.git");
        assert_eq!((scp.scheme.as_str(), scp.port), ("ssh", 22));
        assert_eq!(scp, remote("ssh://git@github.com/acme/config"));
        assert_eq!(remote("ssh://git@[::1]:2222/a").origin(), "ssh://[::1]:2222/");
        assert_eq!(remote("git@[::1]:a/b").segments, ["a", "b"]);
        assert_eq!(remote("git://h/a").port, 9418);
        // Dot segments are resolved, as the server would.
        assert_eq!(remote("https://h/platform/../evil/x").segments, ["evil", "x"]);
    }

    #[test]
    fn local_forms() {
        assert_eq!(parse("file:///srv/git/a"), Ok(Location::Local("/srv/git/a".into())));
        assert_eq!(parse("/srv/git/a"), Ok(Location::Local("/srv/git/a".into())));
        assert_eq!(parse("../config"), Ok(Location::Local("../config".into())));
        assert_eq!(parse("C:/repos/config"), Ok(Location::Local("C:/repos/config".into())));
        assert!(is_plain_path("./a:b") && is_plain_path("C:/x") && is_plain_path("@:x"));
        assert!(!is_plain_path("git@h:a") && !is_plain_path("h2:a") && !is_plain_path("file:///a"));
    }

    #[test]
    fn ambiguous_urls_are_refused() {
        let cases = [
            ("", "a repository URL cannot be empty"),
            ("https://h/a b", "`https://h/a b` contains whitespace or control characters"),
            ("https://h\\@evil/a", "`https://h\\@evil/a` contains a backslash; use `/`"),
            (
                "https://h/a%2F..%2Fb",
                "`https://h/a%2F..%2Fb` contains a percent-encoded `/`, `\\` or `.`",
            ),
            ("https://h/a?x=1", "`https://h/a?x=1` has a query or fragment, which git URLs do not"),
            (
                "https://evil#@h/a",
                "`https://evil#@h/a` has a query or fragment, which git URLs do not",
            ),
            (
                "ftp://h/a",
                "`ftp://h/a`: unsupported scheme `ftp`; use https, http, ssh, git or file",
            ),
            ("ssh:///a", "`ssh:///a` has no host"),
            ("file://server/a", "`file://server/a` is not a local file:// URL (file:///path)"),
            ("/srv/git/../etc", "`/srv/git/../etc` contains `.` or `..`; write the path it means"),
        ];
        for (text, message) in cases {
            assert_eq!(parse(text), Err(message.to_string()), "{text}");
        }
    }

    #[test]
    fn prefixes_match_whole_segments_on_the_same_server() {
        let prefix = remote("https://git.example.com/platform/");
        assert!(remote("https://git.example.com/platform/pg.git").starts_with(&prefix));
        assert!(remote("https://GIT.example.com/platform").starts_with(&prefix));
        for other in [
            "https://git.example.com/platform-evil/pg.git",
            "https://git.example.com.evil.com/platform/pg.git",
            "https://git.example.com:8443/platform/pg.git",
            "http://git.example.com/platform/pg.git",
            "https://git.example.com/Platform/pg.git",
            "https://git.example.com/pg.git",
        ] {
            assert!(!remote(other).starts_with(&prefix), "{other}");
        }
    }
}
