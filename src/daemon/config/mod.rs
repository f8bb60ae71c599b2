//! The daemon's configuration: `cetus serve`'s flags ([`ServeArgs`]), its `CETUS_*`
//! environment variables and its config file (cetusd.yaml, DESIGN §6), merged and checked
//! into a [`DaemonConfig`] by [`load`].
//!
//! Precedence, for each setting on its own: a flag, then its environment variable, then the
//! file's key, then the default. clap merges the first two; [`load`] reads the file named by
//! `--config` and fills what neither gave. A list (`apps`, `policy.envAllow`,
//! `policy.dependencies`) is taken whole from one layer, never joined across layers.
//!
//! | key | flag | default |
//! |---|---|---|
//! | `repo.url` | `--repo-url` | required |
//! | `repo.branch` | `--repo-branch` | `main` |
//! | `repo.interval` | `--repo-interval` | `60s` (at least `1s`) |
//! | `repo.auth.tokenFile` | `--repo-token-file` | none |
//! | `repo.auth.sshKeyFile` | `--repo-ssh-key-file` | none |
//! | `repo.auth.knownHostsFile` | `--repo-known-hosts-file` | none; needed with an ssh key |
//! | `profile` | `--profile` | required |
//! | `apps` | `--apps` | `**/cetus.yaml` |
//! | `store` | `--store` | `/var/lib/cetus` |
//! | `listen` | `--listen` | `0.0.0.0:8080` |
//! | `webhook.secretFile` | `--webhook-secret-file` | none: webhooks are refused |
//! | `apiTokenFile` | `--api-token-file` | none: API POSTs are refused |
//! | `prune` | `--prune` | `true` |
//! | `selfHeal` | `--self-heal` | `true` |
//! | `allowEmpty` | `--allow-empty` | `false` |
//! | `historyLimit` | `--history-limit` | `100` |
//! | `policy.envAllow` | `--policy-env-allow` | none allowed |
//! | `policy.dependencies` | `--policy-dependencies` | the config repo's scheme and host |
//! | `sandbox` | `--sandbox` | `false` |
//! | `kubeconfig`, `context` | `--kubeconfig`, `--context` | kube's own inference |
//! | `logFormat` | `--log-format` | `text` |
//! | `concurrency` | `--concurrency` | `4` |
//! | `healthTimeout` | `--health-timeout` | `5m` |
//! | `cacheDir` | `--cache-dir` | `<store>/git` |
//!
//! The defaults of `prune` and `selfHeal` are Flux's behaviour (a reconciler that corrects
//! drift and removes what Git removed), not Argo CD's opt-ins. A relative path in the file is
//! relative to the file; on the command line, to the working directory.
//!
//! Every problem is reported at once, each naming where the value came from
//! (`cetusd.yaml:4:3: repo.interval`, `--repo-interval`, `CETUS_REPO_INTERVAL`) and the rule.
//! Secret and token files are read here, at start, so that an empty or unreadable one stops
//! the daemon instead of turning a check off; their paths are kept too, for the git layer,
//! which reads its credentials again at each connection so that rotation needs no restart.
//! What a cetus.yaml may reach is [`Policy`]. This module owns no runtime state.

mod args;
mod file;
mod location;
mod policy;
mod resolve;
#[cfg(test)]
mod tests;

pub use args::{LogFormat, ServeArgs};
pub use policy::Policy;

use crate::api::webhooks::{FollowedRepo, Secret, WebhookConfig, WebhookSecrets};
use crate::source::git::Auth;
use crate::yaml::Position;
use globset::GlobSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The daemon's configuration, validated: every setting resolved, secrets read.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    /// The config file that was read, if any.
    pub config_file: Option<PathBuf>,
    /// The config repository and how to reach it.
    pub repo: RepoSettings,
    /// The profile deployed: the environment this cluster is.
    pub profile: String,
    /// Which cetus.yaml files of the repository are apps.
    pub apps: AppGlobs,
    /// The sled directory.
    pub store: PathBuf,
    /// Where git mirrors (the config repo's and dependencies') are kept.
    pub cache_dir: PathBuf,
    /// The address the HTTP server listens on.
    pub listen: SocketAddr,
    /// The webhook secret; `None` refuses every webhook.
    pub webhook_secret: Option<SecretFile<Secret>>,
    /// The bearer token API POSTs need; `None` refuses them.
    pub api_token: Option<SecretFile<ApiToken>>,
    /// How syncs behave.
    pub sync: SyncSettings,
    /// What cetus.yaml files may reach.
    pub policy: Policy,
    /// The cluster deployed to.
    pub cluster: Cluster,
    /// How logs are written.
    pub log_format: LogFormat,
}

impl DaemonConfig {
    /// The configuration of the webhook routes: the one secret for every provider, and the
    /// config repository's branch as the only followed repository.
    pub fn webhooks(&self) -> WebhookConfig {
        WebhookConfig {
            secrets: match &self.webhook_secret {
                Some(secret) => WebhookSecrets::all(secret.value.clone()),
                None => WebhookSecrets::default(),
            },
            repos: vec![FollowedRepo {
                url: self.repo.url.clone(),
                branch: self.repo.branch.clone(),
            }],
            ..WebhookConfig::default()
        }
    }
}

/// The config repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoSettings {
    /// The URL as configured (a relative local path from the file is made relative to the
    /// working directory).
    pub url: String,
    /// The branch followed.
    pub branch: String,
    /// How often the branch head is checked.
    pub interval: Duration,
    /// Its credentials (paths only: the git layer reads them at each connection).
    pub auth: Auth,
}

impl RepoSettings {
    /// Whether the repository is on this machine (a path or `file://`), as in development.
    pub fn is_local(&self) -> bool {
        matches!(location::parse(&self.url), Ok(location::Location::Local(_)))
    }
}

/// How syncs behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncSettings {
    /// Delete objects a commit removed.
    pub prune: bool,
    /// Revert changes made in the cluster to managed objects (drift triggers a sync).
    pub self_heal: bool,
    /// Let a render that yields nothing prune an app's whole inventory.
    pub allow_empty: bool,
    /// History entries kept per app (at least 1).
    pub history_limit: usize,
    /// Apps synced at the same time (at least 1).
    pub concurrency: usize,
    /// How long an app may take to become healthy after a sync.
    pub health_timeout: Duration,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            prune: true,
            self_heal: true,
            allow_empty: false,
            history_limit: 100,
            concurrency: 4,
            health_timeout: Duration::from_secs(300),
        }
    }
}

/// The cluster the daemon deploys to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cluster {
    /// The sandbox API server, started in-process.
    Sandbox,
    /// A cluster from a kubeconfig.
    Kubeconfig {
        /// The file; `None` lets kube infer ($KUBECONFIG, ~/.kube/config, in-cluster).
        path: Option<PathBuf>,
        /// The context; `None` is the file's current one.
        context: Option<String>,
    },
}

/// The globs that pick apps' cetus.yaml files, matched against repository paths (`/`
/// separated, no leading `/`); `*` stays within a directory, `**` crosses them.
#[derive(Debug, Clone)]
pub struct AppGlobs {
    patterns: Vec<String>,
    set: GlobSet,
}

impl AppGlobs {
    /// The globs as written.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether the file at `path` is an app's cetus.yaml.
    pub fn matches(&self, path: &str) -> bool {
        self.set.is_match(path)
    }
}

/// A secret read from a file at start: the file, and its value then (whitespace trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretFile<T> {
    /// The file.
    pub path: PathBuf,
    /// What it held; its type's `Debug` is redacted.
    pub value: T,
}

/// A bearer token for the API. Its `Debug` output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    /// A token from its text.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// Whether `presented` is this token, compared in constant time (leaking neither the
    /// token's length nor a prefix: the webhook routes' comparison).
    pub fn matches(&self, presented: &str) -> bool {
        crate::api::webhooks::token_matches(self.0.as_bytes(), presented.as_bytes())
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

/// Where a setting's value came from, as problems name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The config file; `key` is the dotted path (empty for the whole document), `position`
    /// is missing for a key the file lacks.
    File {
        /// The file, as named on the command line.
        file: String,
        /// Where in the file.
        position: Option<Position>,
        /// The key's dotted path (`repo.auth.tokenFile`, `apps[1]`).
        key: String,
    },
    /// A flag, with its dashes (`--repo-url`).
    Flag(String),
    /// An environment variable (`CETUS_REPO_URL`).
    Env(String),
    /// No layer: a required setting nobody gave, named by its key.
    Key(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { file, position, key } => {
                f.write_str(file)?;
                if let Some(p) = position {
                    write!(f, ":{p}")?;
                }
                if !key.is_empty() {
                    write!(f, ": {key}")?;
                }
                Ok(())
            }
            Origin::Flag(name) | Origin::Env(name) | Origin::Key(name) => f.write_str(name),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Located<T> {
    pub value: T,
    pub origin: Origin,
}

/// One problem with the configuration: where, and which rule is broken. A file that could
/// not be read has the I/O error as its `source()`.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Where the offending value came from.
    pub origin: Origin,
    /// The rule broken.
    pub message: String,
    /// Shared so that problems stay `Clone`.
    source: Option<Arc<std::io::Error>>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

impl std::error::Error for Problem {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl Problem {
    fn new(origin: Origin, message: impl Into<String>) -> Self {
        Self { origin, message: message.into(), source: None }
    }
}

/// Why the daemon's configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("{}: cannot read the daemon's config file", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Settings break rules; every problem found, one per line.
    #[error("{}", lines(.0))]
    Invalid(Vec<Problem>),
}

fn lines(problems: &[Problem]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

/// Builds the configuration from the command line (with clap's environment variables), the
/// config file it names, and the defaults.
pub fn load(args: &ServeArgs) -> Result<DaemonConfig, ConfigError> {
    load_with_env(args, &|name| std::env::var(name).ok())
}

/// [`load`] with the environment read through `env`. `args` may hold flags alone or flags
/// already merged with the environment (as clap gives them); either way flags win.
pub fn load_with_env(
    args: &ServeArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<DaemonConfig, ConfigError> {
    let (from_env, mut problems) = ServeArgs::from_env(env);
    let config_file = args.config.clone().or_else(|| from_env.config.clone());
    let settings = match &config_file {
        Some(path) => {
            let source = std::fs::read_to_string(path)
                .map_err(|source| ConfigError::Read { path: path.clone(), source })?;
            let (settings, found) = file::read(&path.to_string_lossy(), &source);
            problems.extend(found);
            settings
        }
        None => file::FileSettings::default(),
    };
    let layers = resolve::Layers { flags: args, env: &from_env, file: &settings };
    match resolve::resolve(&layers, &mut problems) {
        Some(config) if problems.is_empty() => Ok(DaemonConfig { config_file, ..config }),
        _ => Err(ConfigError::Invalid(problems)),
    }
}
