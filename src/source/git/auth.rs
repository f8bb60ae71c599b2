//! Credentials and host checking for git remotes.
//!
//! Secrets live in files (Kubernetes secrets mounted as volumes) and are read at each
//! connection, so a rotated secret is used without a restart. ssh host keys are checked
//! against a known_hosts file; an unknown host is refused. https certificates are verified by
//! libgit2 against the system trust store.

use super::GitError;
use super::known_hosts::{self, HostKeyError};
use git2::{CertificateCheckStatus, Cred, CredentialType, RemoteCallbacks};
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};

/// How to authenticate to a remote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Auth {
    /// No credentials (public repositories, git://, local paths). ssh remotes still need a
    /// known_hosts file, so they fail with this.
    #[default]
    None,
    /// https with a token, sent as the password of HTTP basic auth with the URL's user name,
    /// else `x-access-token`: the form GitHub, GitLab, Gitea and Bitbucket all accept.
    Token {
        /// A file holding the token (surrounding whitespace ignored).
        token_file: PathBuf,
    },
    /// https with a user name and password (HTTP basic auth).
    Basic {
        /// A file holding the user name.
        username_file: PathBuf,
        /// A file holding the password.
        password_file: PathBuf,
    },
    /// ssh with a private key; the server's host key must be in `known_hosts_file`.
    ///
    /// libssh2 negotiates the host key type by its own preference (ed25519, then ECDSA, then
    /// RSA), not by what the file lists, so list the key the server offers first: what
    /// `ssh-keyscan -t ed25519 <host>` prints for most servers. A listed host presenting
    /// another key is refused as a mismatch.
    SshKey {
        /// The private key (OpenSSH or PEM format).
        key_file: PathBuf,
        /// A file holding the key's passphrase, if it has one.
        passphrase_file: Option<PathBuf>,
        /// An OpenSSH known_hosts file listing the server's host key.
        known_hosts_file: PathBuf,
    },
}

/// The per-operation state of the git callbacks: credential attempts, and the first error a
/// callback raised, which is more precise than what libgit2 reports after it.
pub(crate) struct Session<'a> {
    url: &'a str,
    auth: &'a Auth,
    attempts: Cell<u32>,
    failure: RefCell<Option<GitError>>,
}

impl<'a> Session<'a> {
    pub(crate) fn new(url: &'a str, auth: &'a Auth) -> Self {
        Self { url, auth, attempts: Cell::new(0), failure: RefCell::new(None) }
    }

    /// Callbacks for one connection: credentials and host key checks.
    pub(crate) fn callbacks(&self) -> RemoteCallbacks<'_> {
        let mut callbacks = RemoteCallbacks::new();
        callbacks.credentials(|_url, user, allowed| self.credentials(user, allowed));
        callbacks.certificate_check(|cert, host| match cert.as_hostkey() {
            Some(key) => {
                let raw = key.hostkey();
                let key_type = key.hostkey_type().map_or("unknown", |t| t.name());
                self.check_host_key(host, raw, key_type)
            }
            // https: keep libgit2's verdict from the system trust store.
            None => Ok(CertificateCheckStatus::CertificatePassthrough),
        });
        callbacks
    }

    /// Turns a failed operation's error into ours, preferring what a callback recorded.
    pub(crate) fn error(&self, fallback: impl FnOnce() -> GitError) -> GitError {
        self.failure.borrow_mut().take().unwrap_or_else(fallback)
    }

    fn fail(&self, error: GitError) -> git2::Error {
        let message = error.to_string();
        self.failure.borrow_mut().get_or_insert(error);
        git2::Error::from_str(&message)
    }

    fn credentials(
        &self,
        user: Option<&str>,
        allowed: CredentialType,
    ) -> Result<Cred, git2::Error> {
        if allowed.contains(CredentialType::USERNAME) {
            return Cred::username(user.unwrap_or("git"));
        }
        // libgit2 asks again after the server refuses a credential; asking forever would loop.
        self.attempts.set(self.attempts.get() + 1);
        if self.attempts.get() > 1 {
            return Err(git2::Error::from_str("credentials rejected by the remote"));
        }
        match self.auth {
            Auth::Token { token_file } if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) => {
                let token = self.read(token_file)?;
                Cred::userpass_plaintext(user.unwrap_or("x-access-token"), &token)
            }
            Auth::Basic { username_file, password_file }
                if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) =>
            {
                Cred::userpass_plaintext(&self.read(username_file)?, &self.read(password_file)?)
            }
            Auth::SshKey { key_file, passphrase_file, .. }
                if allowed.contains(CredentialType::SSH_KEY) =>
            {
                let passphrase = passphrase_file.as_deref().map(|f| self.read(f)).transpose()?;
                Cred::ssh_key(user.unwrap_or("git"), None, key_file, passphrase.as_deref())
            }
            Auth::None => Err(git2::Error::from_str(
                "the remote asks for credentials and none are configured",
            )),
            _ => Err(git2::Error::from_str(&format!(
                "the configured credentials do not fit what the remote asks for ({allowed:?})"
            ))),
        }
    }

    fn read(&self, path: &Path) -> Result<String, git2::Error> {
        match std::fs::read_to_string(path) {
            Ok(s) => Ok(s.trim().to_string()),
            Err(source) => Err(self.fail(GitError::Credentials {
                url: self.url.to_string(),
                path: path.to_path_buf(),
                source,
            })),
        }
    }

    fn check_host_key(
        &self,
        host: &str,
        raw: Option<&[u8]>,
        key_type: &str,
    ) -> Result<CertificateCheckStatus, git2::Error> {
        // libgit2 passes the host without the port, which known_hosts needs; take both from
        // the URL we connected to.
        let (url_host, port) = ssh_host_port(self.url).unwrap_or((host.to_string(), None));
        let name = known_hosts::lookup_name(&url_host, port);
        let checked = match (self.auth, raw) {
            (_, None) => Err(HostKeyError::NoKey { host: name }),
            (Auth::SshKey { known_hosts_file, .. }, Some(raw)) => {
                known_hosts::check(known_hosts_file, &name, key_type, raw)
            }
            (_, Some(_)) => Err(HostKeyError::NotConfigured { host: name }),
        };
        match checked {
            Ok(()) => Ok(CertificateCheckStatus::CertificateOk),
            Err(source) => Err(self.fail(GitError::HostKey { url: self.url.to_string(), source })),
        }
    }
}

/// The host and port of an ssh URL (`ssh://user@host:port/path` or scp-like `user@host:path`).
fn ssh_host_port(url: &str) -> Option<(String, Option<u16>)> {
    let authority = match url.split_once("://") {
        Some((_, rest)) => rest.split('/').next()?,
        None => return Some((url.split(':').next()?.rsplit('@').next()?.to_string(), None)),
    };
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = host_port.strip_prefix('[') {
        let (host, rest) = v6.split_once(']')?;
        let port = rest.strip_prefix(':').and_then(|p| p.parse().ok());
        return Some((host.to_string(), port));
    }
    match host_port.split_once(':') {
        Some((host, port)) => Some((host.to_string(), port.parse().ok())),
        None => Some((host_port.to_string(), None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_host_and_port_from_urls() {
        let cases = [
            ("ssh://git@127.0.0.1:2222/srv/repo.git", ("127.0.0.1", Some(2222))),
            ("ssh://git@github.com/acme/config.git", ("github.com", None)),
            ("git@github.com:acme/config.git", ("github.com", None)),
            ("ssh://[::1]:22/repo", ("::1", Some(22))),
        ];
        for (url, (host, port)) in cases {
            assert_eq!(ssh_host_port(url), Some((host.to_string(), port)), "{url}");
        }
    }
}
