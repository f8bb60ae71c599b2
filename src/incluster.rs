//! In-cluster configuration: how a Cetus running in a pod reaches its API server when no
//! kubeconfig is given or found. The service account's `token`, `ca.crt` and `namespace`
//! are read from `/var/run/secrets/kubernetes.io/serviceaccount`, or from the directory
//! `CETUS_SERVICEACCOUNT_DIR` names (a token projected elsewhere, a sidecar's, a test's);
//! the server is `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`; the namespace
//! is the downward API's `POD_NAMESPACE`, else the namespace file.
//!
//! The token and the CA are handed to kube as *files*: kube re-reads the token file at
//! least once a minute and the CA file about as often, so a projected token (rotated by
//! the kubelet well before it expires) and a rotated CA are picked up without a restart.
//!
//! Owns reading that environment and those files into a `kube::Config`; it does not decide
//! when to fall back to it (the CLI's cluster flags do).

use std::path::{Path, PathBuf};

/// The environment variable that moves the service account directory.
pub const DIR_ENV: &str = "CETUS_SERVICEACCOUNT_DIR";

/// Where Kubernetes mounts a pod's service account.
pub const DEFAULT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Errors building the in-cluster configuration.
#[derive(Debug, thiserror::Error)]
pub enum InClusterError {
    /// `KUBERNETES_SERVICE_HOST` or `KUBERNETES_SERVICE_PORT` is unset: not in a pod.
    #[error("in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not both set")]
    NoService,
    /// The port is not a port number.
    #[error("in-cluster: KUBERNETES_SERVICE_PORT `{0}` is not a port number")]
    BadPort(String),
    /// The host does not make a URL.
    #[error("in-cluster: KUBERNETES_SERVICE_HOST `{host}` does not make a URL")]
    BadHost {
        /// The host.
        host: String,
        /// The cause.
        #[source]
        source: http::uri::InvalidUri,
    },
    /// A service account file could not be read.
    #[error("service account file {path}: cannot read")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The CA file holds no PEM certificate.
    #[error("service account CA {path}: no PEM certificate in it")]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
}

/// The in-cluster settings, as read from the environment (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InCluster {
    /// The service account directory (`token`, `ca.crt`, `namespace`).
    pub dir: PathBuf,
    /// `KUBERNETES_SERVICE_HOST`.
    pub host: Option<String>,
    /// `KUBERNETES_SERVICE_PORT`.
    pub port: Option<String>,
    /// `POD_NAMESPACE` (the downward API).
    pub pod_namespace: Option<String>,
}

impl InCluster {
    /// The settings of this process's environment.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self {
            dir: var(DIR_ENV).map_or_else(|| PathBuf::from(DEFAULT_DIR), PathBuf::from),
            host: var("KUBERNETES_SERVICE_HOST"),
            port: var("KUBERNETES_SERVICE_PORT"),
            pod_namespace: var("POD_NAMESPACE"),
        }
    }

    /// The service account's token file.
    pub fn token_file(&self) -> PathBuf {
        self.dir.join("token")
    }

    /// The service account's CA file.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// The pod's namespace: `POD_NAMESPACE`, else the service account's namespace file;
    /// `None` if neither says.
    pub fn namespace(&self) -> Option<String> {
        let file = || std::fs::read_to_string(self.dir.join("namespace")).ok();
        self.pod_namespace
            .clone()
            .or_else(file)
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
    }

    /// The API server's URL: https, the port left out when it is 443, an IPv6 host in
    /// brackets (as client-go builds it).
    pub fn url(&self) -> Result<http::Uri, InClusterError> {
        let (Some(host), Some(port)) = (&self.host, &self.port) else {
            return Err(InClusterError::NoService);
        };
        let port: u16 = port.trim().parse().map_err(|_| InClusterError::BadPort(port.clone()))?;
        let host = host.trim();
        let authority = match host.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V6(ip)) => format!("[{ip}]"),
            _ => host.to_string(),
        };
        let url = if port == 443 {
            format!("https://{authority}")
        } else {
            format!("https://{authority}:{port}")
        };
        url.parse().map_err(|source| InClusterError::BadHost { host: host.to_string(), source })
    }

    /// The client configuration: the URL, the CA (also as a file kube re-reads), the token
    /// file (kube re-reads it), and the namespace (`default` if nothing says).
    pub fn config(&self) -> Result<kube::Config, InClusterError> {
        let url = self.url()?;
        let token_file = self.token_file();
        // kube reads it when the client is built; read it here too for an error that names it.
        read(&token_file)?;
        let ca_file = self.ca_file();
        let certificates = certificates(&ca_file, &read(&ca_file)?)?;
        let mut config = kube::Config::new(url);
        config.default_namespace = self.namespace().unwrap_or_else(|| "default".into());
        config.root_cert = Some(certificates);
        config.root_cert_file = Some(ca_file);
        config.auth_info.token_file = Some(token_file.to_string_lossy().into_owned());
        Ok(config)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, InClusterError> {
    std::fs::read(path).map_err(|source| InClusterError::Read { path: path.to_path_buf(), source })
}

/// The DER certificates of a PEM bundle.
fn certificates(path: &Path, pem: &[u8]) -> Result<Vec<Vec<u8>>, InClusterError> {
    let found: Vec<Vec<u8>> = pem::parse_many(pem)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.tag() == "CERTIFICATE")
        .map(pem::Pem::into_contents)
        .collect();
    if found.is_empty() {
        return Err(InClusterError::NoCertificate { path: path.to_path_buf() });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA: &str = "-----BEGIN CERTIFICATE-----\nAAECAw==\n-----END CERTIFICATE-----\n";

    fn settings(dir: &Path, host: &str, port: &str) -> InCluster {
        InCluster {
            dir: dir.to_path_buf(),
            host: Some(host.into()),
            port: Some(port.into()),
            pod_namespace: None,
        }
    }

    fn account(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn urls_as_client_go_builds_them() {
        let dir = Path::new("/nowhere");
        let cases = [
            ("10.96.0.1", "443", "https://10.96.0.1/"),
            ("127.0.0.1", "6443", "https://127.0.0.1:6443/"),
            ("fd00::1", "443", "https://[fd00::1]/"),
            ("fd00::1", "6443", "https://[fd00::1]:6443/"),
            ("kubernetes.default.svc", "8443", "https://kubernetes.default.svc:8443/"),
        ];
        for (host, port, url) in cases {
            assert_eq!(settings(dir, host, port).url().unwrap().to_string(), url, "{host}:{port}");
        }
        let err = settings(dir, "127.0.0.1", "http").url().unwrap_err();
        assert_eq!(
            err.to_string(),
            "in-cluster: KUBERNETES_SERVICE_PORT `http` is not a port number"
        );
        let unset = InCluster { port: None, ..settings(dir, "127.0.0.1", "443") };
        assert_eq!(
            unset.url().unwrap_err().to_string(),
            "in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not both set"
        );
    }

    #[test]
    fn the_config_points_kube_at_the_files_so_it_re_reads_them() {
        let dir = account(&[("token", "abc"), ("ca.crt", CA), ("namespace", "cetus-system\n")]);
        let config = settings(dir.path(), "127.0.0.1", "6443").config().unwrap();
        assert_eq!(config.cluster_url.to_string(), "https://127.0.0.1:6443/");
        assert_eq!(config.default_namespace, "cetus-system");
        assert_eq!(config.root_cert, Some(vec![vec![0, 1, 2, 3]]));
        assert_eq!(config.root_cert_file, Some(dir.path().join("ca.crt")));
        let token_file = dir.path().join("token").to_string_lossy().into_owned();
        assert_eq!(config.auth_info.token_file, Some(token_file));
        assert!(config.auth_info.token.is_none());
    }

    #[test]
    fn the_namespace_comes_from_the_downward_api_first_then_the_file() {
        let dir = account(&[("namespace", " team-a \n")]);
        let mut settings = settings(dir.path(), "127.0.0.1", "443");
        assert_eq!(settings.namespace().as_deref(), Some("team-a"));
        settings.pod_namespace = Some("team-b".into());
        assert_eq!(settings.namespace().as_deref(), Some("team-b"));
        let empty = account(&[("namespace", "\n")]);
        settings.dir = empty.path().to_path_buf();
        settings.pod_namespace = None;
        assert_eq!(settings.namespace(), None);
    }

    #[test]
    fn missing_or_bad_files_are_named() {
        let dir = account(&[("ca.crt", CA)]);
        let token = dir.path().join("token");
        let err = settings(dir.path(), "127.0.0.1", "443").config().unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("service account file {}: cannot read", token.display())
        );
        let dir = account(&[("token", "abc"), ("ca.crt", "not a certificate\n")]);
        let ca = dir.path().join("ca.crt");
        let err = settings(dir.path(), "127.0.0.1", "443").config().unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("service account CA {}: no PEM certificate in it", ca.display())
        );
        let dir = account(&[("token", "abc"), ("ca.crt", CA)]);
        let config = settings(dir.path(), "127.0.0.1", "443").config().unwrap();
        assert_eq!(config.default_namespace, "default");
    }
}
