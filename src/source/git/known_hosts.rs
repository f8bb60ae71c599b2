//! ssh host key checking against an OpenSSH known_hosts file.
//!
//! A remote's host key must be listed for its host; an unknown host is an error, never
//! accepted on first use. Supported: plain and hashed (`|1|salt|hash`) host names,
//! `[host]:port` entries for non-standard ports, `*`/`?` wildcards, `!` negations, and
//! `@revoked` lines. `@cert-authority` lines are skipped: libssh2 does not present host
//! certificates. This module reads the file and compares keys; the git callbacks call it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use std::path::{Path, PathBuf};

/// Why a host key was rejected.
#[derive(Debug, thiserror::Error)]
pub enum HostKeyError {
    /// No line of the file is for this host.
    #[error("{host}: unknown host, not in known_hosts file {}", file.display())]
    Unknown {
        /// The host as looked up (`host` or `[host]:port`).
        host: String,
        /// The known_hosts file.
        file: PathBuf,
    },
    /// The file lists keys for this host, but not the one the server presented.
    #[error(
        "{host}: {key_type} host key does not match known_hosts file {} (changed key or man-in-the-middle)",
        file.display()
    )]
    Mismatch {
        /// The host as looked up.
        host: String,
        /// The presented key's type, e.g. `ssh-ed25519`.
        key_type: String,
        /// The known_hosts file.
        file: PathBuf,
    },
    /// The presented key is marked `@revoked`.
    #[error("{host}: host key is revoked in known_hosts file {}", file.display())]
    Revoked {
        /// The host as looked up.
        host: String,
        /// The known_hosts file.
        file: PathBuf,
    },
    /// ssh is used but no known_hosts file is configured.
    #[error("{host}: no known_hosts file configured; unknown ssh hosts are refused")]
    NotConfigured {
        /// The host as looked up.
        host: String,
    },
    /// The transport did not hand over the server's key.
    #[error("{host}: the server presented no host key")]
    NoKey {
        /// The host as looked up.
        host: String,
    },
    /// The known_hosts file could not be read.
    #[error("{}: cannot read known_hosts file", file.display())]
    Read {
        /// The known_hosts file.
        file: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The name known_hosts uses for `host` on `port`.
pub(crate) fn lookup_name(host: &str, port: Option<u16>) -> String {
    match port {
        Some(port) if port != 22 => format!("[{host}]:{port}"),
        _ => host.to_string(),
    }
}

/// Checks the raw (wire-format) `key` of `host` (a [`lookup_name`]) against `file`.
pub(crate) fn check(
    file: &Path,
    host: &str,
    key_type: &str,
    key: &[u8],
) -> Result<(), HostKeyError> {
    let text = std::fs::read_to_string(file)
        .map_err(|source| HostKeyError::Read { file: file.to_path_buf(), source })?;
    let mut listed = false;
    let mut accepted = false;
    for line in text.lines() {
        let Some(entry) = parse_line(line) else { continue };
        if !hosts_match(entry.hosts, host) {
            continue;
        }
        let same = BASE64.decode(entry.key).is_ok_and(|k| k == key);
        match entry.marker {
            Some("@revoked") if same => {
                return Err(HostKeyError::Revoked {
                    host: host.to_string(),
                    file: file.to_path_buf(),
                });
            }
            Some(_) => {}
            None => {
                listed = true;
                accepted |= same;
            }
        }
    }
    match (accepted, listed) {
        (true, _) => Ok(()),
        (false, true) => Err(HostKeyError::Mismatch {
            host: host.to_string(),
            key_type: key_type.to_string(),
            file: file.to_path_buf(),
        }),
        (false, false) => {
            Err(HostKeyError::Unknown { host: host.to_string(), file: file.to_path_buf() })
        }
    }
}

struct Entry<'a> {
    marker: Option<&'a str>,
    hosts: &'a str,
    key: &'a str,
}

fn parse_line(line: &str) -> Option<Entry<'_>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut fields = line.split_whitespace();
    let first = fields.next()?;
    let (marker, hosts) =
        if first.starts_with('@') { (Some(first), fields.next()?) } else { (None, first) };
    let _key_type = fields.next()?;
    let key = fields.next()?;
    Some(Entry { marker, hosts, key })
}

/// Whether a comma-separated pattern list matches `host`: some pattern matches and no
/// negated one does.
fn hosts_match(patterns: &str, host: &str) -> bool {
    if let Some(hashed) = patterns.strip_prefix("|1|") {
        return hashed_match(hashed, host);
    }
    let host = host.to_ascii_lowercase();
    let mut matched = false;
    for pattern in patterns.split(',') {
        let pattern = pattern.to_ascii_lowercase();
        match pattern.strip_prefix('!') {
            Some(negated) if glob(negated.as_bytes(), host.as_bytes()) => return false,
            Some(_) => {}
            None => matched |= glob(pattern.as_bytes(), host.as_bytes()),
        }
    }
    matched
}

/// `salt|hash`: base64 of HMAC-SHA1(salt, host).
fn hashed_match(salt_and_hash: &str, host: &str) -> bool {
    let Some((salt, hash)) = salt_and_hash.split_once('|') else { return false };
    let (Ok(salt), Ok(hash)) = (BASE64.decode(salt), BASE64.decode(hash)) else { return false };
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(&salt) else { return false };
    mac.update(host.as_bytes());
    mac.verify_slice(&hash).is_ok()
}

/// OpenSSH host pattern matching: `*` any run, `?` any one byte.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob(&pattern[1..], text) || (!text.is_empty() && glob(pattern, &text[1..]))
        }
        (Some(b'?'), Some(_)) => glob(&pattern[1..], &text[1..]),
        (Some(p), Some(t)) if p == t => glob(&pattern[1..], &text[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &[u8] = b"\0\0\0\x0bssh-ed25519key-a";
    const KEY_B: &[u8] = b"\0\0\0\x0bssh-ed25519key-b";

    fn file(lines: &[String]) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), lines.join("\n")).unwrap();
        f
    }

    fn hashed(host: &str) -> String {
        let salt = b"0123456789abcdefghij";
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(salt).unwrap();
        mac.update(host.as_bytes());
        format!("|1|{}|{}", BASE64.encode(salt), BASE64.encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn lookup_names() {
        assert_eq!(lookup_name("h", None), "h");
        assert_eq!(lookup_name("h", Some(22)), "h");
        assert_eq!(lookup_name("h", Some(2222)), "[h]:2222");
    }

    #[test]
    fn check_table() {
        let a = BASE64.encode(KEY_A);
        let b = BASE64.encode(KEY_B);
        let f = file(&[
            "# comment".to_string(),
            format!("github.com,gh.example ssh-ed25519 {a}"),
            format!("[127.0.0.1]:2222 ssh-ed25519 {a} a comment"),
            format!("{} ssh-ed25519 {b}", hashed("hashed.example")),
            format!("*.corp.example,!evil.corp.example ssh-ed25519 {a}"),
            format!("@revoked revoked.example ssh-ed25519 {b}"),
            format!("revoked.example ssh-ed25519 {b}"),
            format!("@cert-authority *.ca.example ssh-ed25519 {a}"),
        ]);
        let cases: &[(&str, &[u8], &str)] = &[
            ("github.com", KEY_A, "ok"),
            ("GH.example", KEY_A, "ok"),
            ("github.com", KEY_B, "mismatch"),
            ("[127.0.0.1]:2222", KEY_A, "ok"),
            ("127.0.0.1", KEY_A, "unknown"),
            ("hashed.example", KEY_B, "ok"),
            ("hashed.example", KEY_A, "mismatch"),
            ("git.corp.example", KEY_A, "ok"),
            ("evil.corp.example", KEY_A, "unknown"),
            ("revoked.example", KEY_B, "revoked"),
            ("x.ca.example", KEY_A, "unknown"),
        ];
        for (host, key, want) in cases {
            let got = match check(f.path(), host, "ssh-ed25519", key) {
                Ok(()) => "ok",
                Err(HostKeyError::Mismatch { .. }) => "mismatch",
                Err(HostKeyError::Unknown { .. }) => "unknown",
                Err(HostKeyError::Revoked { .. }) => "revoked",
                Err(e) => panic!("{host}: {e}"),
            };
            assert_eq!(got, *want, "{host}");
        }
    }

    #[test]
    fn unreadable_file_is_an_error() {
        let err =
            check(Path::new("/nonexistent/known_hosts"), "h", "ssh-ed25519", KEY_A).unwrap_err();
        assert_eq!(err.to_string(), "/nonexistent/known_hosts: cannot read known_hosts file");
    }
}
