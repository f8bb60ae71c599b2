//! The command line of `cetus serve` ([`ServeArgs`]) and its `CETUS_*` environment variables.
//!
//! Every field is an `Option` (or an empty list) so that "not given" can be told apart from a
//! default: the file sits between the environment and the defaults, and only
//! [`load`](super::load) knows it. Each flag's variable is `CETUS_` and the flag's name in
//! upper case with `_` for `-` (`--repo-token-file` is `CETUS_REPO_TOKEN_FILE`); clap reads
//! them. This module does not apply defaults or rules.

use super::{Origin, Problem};
use clap::{Args, CommandFactory, FromArgMatches, Parser, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How the daemon writes its logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The arguments of `cetus serve`. Each setting is also a key of the config file and a
/// `CETUS_*` environment variable; a flag beats the variable, which beats the file, which
/// beats the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct ServeArgs {
    /// The config file (cetusd.yaml); flags and CETUS_* variables override its keys.
    #[arg(long, env = "CETUS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The config repository: an https, http, ssh, git or file:// URL, git@host:path, or a
    /// local directory (for development) [file: repo.url; required].
    #[arg(long, env = "CETUS_REPO_URL", value_name = "URL")]
    pub repo_url: Option<String>,
    /// The branch followed [file: repo.branch; default: main].
    #[arg(long, env = "CETUS_REPO_BRANCH", value_name = "BRANCH")]
    pub repo_branch: Option<String>,
    /// How often the branch is polled, e.g. 30s, 5m [file: repo.interval; default: 60s].
    #[arg(long, env = "CETUS_REPO_INTERVAL", value_name = "DURATION", value_parser = duration)]
    pub repo_interval: Option<Duration>,
    /// A file holding an https token [file: repo.auth.tokenFile].
    #[arg(long, env = "CETUS_REPO_TOKEN_FILE", value_name = "FILE")]
    pub repo_token_file: Option<PathBuf>,
    /// A file holding an ssh private key [file: repo.auth.sshKeyFile].
    #[arg(long, env = "CETUS_REPO_SSH_KEY_FILE", value_name = "FILE")]
    pub repo_ssh_key_file: Option<PathBuf>,
    /// An OpenSSH known_hosts file with the server's host key; needed with an ssh key
    /// [file: repo.auth.knownHostsFile].
    #[arg(long, env = "CETUS_REPO_KNOWN_HOSTS_FILE", value_name = "FILE")]
    pub repo_known_hosts_file: Option<PathBuf>,
    /// The environment this cluster is: the cetus.yaml profile deployed [file: profile;
    /// required].
    #[arg(long, env = "CETUS_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// Globs of the repository's cetus.yaml files that are apps; repeatable, or
    /// comma-separated (a comma inside `{}` belongs to the glob) [file: apps; default:
    /// **/cetus.yaml].
    #[arg(long, env = "CETUS_APPS", value_name = "GLOB")]
    pub apps: Vec<String>,
    /// The sled directory: history, pins, inventories [file: store; default: /var/lib/cetus].
    #[arg(long, env = "CETUS_STORE", value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// The address the API, webhooks, metrics and probes listen on [file: listen; default:
    /// 0.0.0.0:8080].
    #[arg(long, env = "CETUS_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// A file holding the webhook secret; without one, webhooks are refused
    /// [file: webhook.secretFile].
    #[arg(long, env = "CETUS_WEBHOOK_SECRET_FILE", value_name = "FILE")]
    pub webhook_secret_file: Option<PathBuf>,
    /// A file holding the bearer token the API's POSTs need [file: apiTokenFile].
    #[arg(long, env = "CETUS_API_TOKEN_FILE", value_name = "FILE")]
    pub api_token_file: Option<PathBuf>,
    /// Delete what a commit removed [file: prune; default: true].
    #[arg(long, env = "CETUS_PRUNE", value_name = "BOOL")]
    #[arg(num_args = 0..=1, default_missing_value = "true")]
    pub prune: Option<bool>,
    /// Revert changes made to managed objects in the cluster [file: selfHeal; default: true].
    #[arg(long, env = "CETUS_SELF_HEAL", value_name = "BOOL")]
    #[arg(num_args = 0..=1, default_missing_value = "true")]
    pub self_heal: Option<bool>,
    /// Let a render that yields nothing prune everything the app had [file: allowEmpty;
    /// default: false].
    #[arg(long, env = "CETUS_ALLOW_EMPTY", value_name = "BOOL")]
    #[arg(num_args = 0..=1, default_missing_value = "true")]
    pub allow_empty: Option<bool>,
    /// History entries kept per app [file: historyLimit; default: 100].
    #[arg(long, env = "CETUS_HISTORY_LIMIT", value_name = "N")]
    pub history_limit: Option<u64>,
    /// Globs of the environment variables a cetus.yaml `env` var may read; repeatable, or
    /// comma-separated [file: policy.envAllow; default: none].
    #[arg(long, env = "CETUS_POLICY_ENV_ALLOW", value_name = "GLOB")]
    pub policy_env_allow: Vec<String>,
    /// URL prefixes a `git` dependency may come from; repeatable, or comma-separated
    /// [file: policy.dependencies; default: the config repository's scheme and host].
    #[arg(long, env = "CETUS_POLICY_DEPENDENCIES", value_name = "URL")]
    pub policy_dependencies: Vec<String>,
    /// Start the sandbox API server in-process and deploy to it (no cluster needed)
    /// [file: sandbox; default: false].
    #[arg(long, env = "CETUS_SANDBOX", value_name = "BOOL")]
    #[arg(num_args = 0..=1, default_missing_value = "true")]
    pub sandbox: Option<bool>,
    /// The kubeconfig to use; default: $KUBECONFIG, ~/.kube/config, or the in-cluster
    /// service account [file: kubeconfig].
    #[arg(long, env = "CETUS_KUBECONFIG", value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use [file: context; default: the current one].
    #[arg(long, env = "CETUS_CONTEXT", value_name = "NAME")]
    pub context: Option<String>,
    /// Log format [file: logFormat; default: text].
    #[arg(long, env = "CETUS_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    /// Apps synced at the same time [file: concurrency; default: 4].
    #[arg(long, env = "CETUS_CONCURRENCY", value_name = "N")]
    pub concurrency: Option<u64>,
    /// How long an app may take to become healthy after a sync before it is rolled back
    /// [file: healthTimeout; default: 5m].
    #[arg(long, env = "CETUS_HEALTH_TIMEOUT", value_name = "DURATION", value_parser = duration)]
    pub health_timeout: Option<Duration>,
    /// Where mirrors of git repositories are kept [file: cacheDir; default: `git` in the store].
    #[arg(long, env = "CETUS_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

fn duration(text: &str) -> Result<Duration, String> {
    cetus_sandbox::parse_duration(text).map_err(|e| e.to_string())
}

/// [`ServeArgs`] as a command of its own, to parse without clap's environment reading.
#[derive(Debug, Parser)]
#[command(name = "cetus serve")]
struct Serve {
    #[command(flatten)]
    args: ServeArgs,
}

/// The environment variable of a flag: `repo-url` → `CETUS_REPO_URL`.
pub(super) fn env_name(long: &str) -> String {
    format!("CETUS_{}", long.to_ascii_uppercase().replace('-', "_"))
}

impl ServeArgs {
    /// The settings the environment gives, read through `lookup` with the flags' own parsers,
    /// and a problem for each variable that does not parse. As with clap, a variable set to
    /// the empty string is set (and an empty `CETUS_PRUNE` does not parse).
    ///
    /// clap already does this for the process environment when it parses the command line;
    /// this exists so that tests (and callers that are not a process) can pass another.
    pub(super) fn from_env(lookup: &dyn Fn(&str) -> Option<String>) -> (Self, Vec<Problem>) {
        let mut command = Serve::command().mut_args(|a| a.env(None));
        command.build();
        let mut merged = ServeArgs::default();
        let mut problems = Vec::new();
        let longs: Vec<String> =
            command.get_arguments().filter_map(|a| a.get_long()).map(str::to_string).collect();
        for long in longs {
            let name = env_name(&long);
            let Some(value) = lookup(&name) else { continue };
            let argv = ["cetus-serve".to_string(), format!("--{long}={value}")];
            let parsed =
                command.try_get_matches_from_mut(argv).and_then(|m| Serve::from_arg_matches(&m));
            match parsed {
                Ok(one) => merged = merged.or(one.args),
                Err(e) => problems.push(Problem::new(Origin::Env(name), clap_message(&e))),
            }
        }
        (merged, problems)
    }

    /// Each setting of `self`, else of `other`.
    pub(super) fn or(self, other: ServeArgs) -> ServeArgs {
        fn list(a: Vec<String>, b: Vec<String>) -> Vec<String> {
            if a.is_empty() { b } else { a }
        }
        // Destructured so that a new field cannot be forgotten here.
        let ServeArgs {
            config,
            repo_url,
            repo_branch,
            repo_interval,
            repo_token_file,
            repo_ssh_key_file,
            repo_known_hosts_file,
            profile,
            apps,
            store,
            listen,
            webhook_secret_file,
            api_token_file,
            prune,
            self_heal,
            allow_empty,
            history_limit,
            policy_env_allow,
            policy_dependencies,
            sandbox,
            kubeconfig,
            context,
            log_format,
            concurrency,
            health_timeout,
            cache_dir,
        } = self;
        ServeArgs {
            config: config.or(other.config),
            repo_url: repo_url.or(other.repo_url),
            repo_branch: repo_branch.or(other.repo_branch),
            repo_interval: repo_interval.or(other.repo_interval),
            repo_token_file: repo_token_file.or(other.repo_token_file),
            repo_ssh_key_file: repo_ssh_key_file.or(other.repo_ssh_key_file),
            repo_known_hosts_file: repo_known_hosts_file.or(other.repo_known_hosts_file),
            profile: profile.or(other.profile),
            apps: list(apps, other.apps),
            store: store.or(other.store),
            listen: listen.or(other.listen),
            webhook_secret_file: webhook_secret_file.or(other.webhook_secret_file),
            api_token_file: api_token_file.or(other.api_token_file),
            prune: prune.or(other.prune),
            self_heal: self_heal.or(other.self_heal),
            allow_empty: allow_empty.or(other.allow_empty),
            history_limit: history_limit.or(other.history_limit),
            policy_env_allow: list(policy_env_allow, other.policy_env_allow),
            policy_dependencies: list(policy_dependencies, other.policy_dependencies),
            sandbox: sandbox.or(other.sandbox),
            kubeconfig: kubeconfig.or(other.kubeconfig),
            context: context.or(other.context),
            log_format: log_format.or(other.log_format),
            concurrency: concurrency.or(other.concurrency),
            health_timeout: health_timeout.or(other.health_timeout),
            cache_dir: cache_dir.or(other.cache_dir),
        }
    }
}

/// clap's message without its `error: ` lead and usage lines.
fn clap_message(error: &clap::Error) -> String {
    let text = error.to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// Splits list values at commas outside `{}` (glob alternatives keep theirs); empty parts
/// are dropped.
pub(super) fn split_list(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in value.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts.into_iter().map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Parses flags alone: clap's reading of the process environment is turned off.
    pub(crate) fn flags(argv: &[&str]) -> ServeArgs {
        let mut command = Serve::command().mut_args(|a| a.env(None));
        let argv = std::iter::once("cetus-serve").chain(argv.iter().copied());
        let matches = command.try_get_matches_from_mut(argv).unwrap();
        Serve::from_arg_matches(&matches).unwrap().args
    }

    pub(crate) fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn every_flag_has_its_cetus_variable() {
        let command = Serve::command();
        for arg in command.get_arguments().filter(|a| a.get_long().is_some()) {
            let long = arg.get_long().unwrap();
            if ["help", "version"].contains(&long) {
                continue;
            }
            let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
            assert_eq!(env, Some(env_name(long)), "--{long}");
        }
    }

    #[test]
    fn booleans_take_an_optional_value() {
        assert_eq!(flags(&["--prune"]).prune, Some(true));
        assert_eq!(flags(&["--prune", "false"]).prune, Some(false));
        assert_eq!(flags(&["--self-heal=false", "--sandbox"]).self_heal, Some(false));
        assert_eq!(flags(&[]).prune, None);
        let (args, problems) = ServeArgs::from_env(&env(&[("CETUS_ALLOW_EMPTY", "true")]));
        assert_eq!((args.allow_empty, problems.len()), (Some(true), 0));
    }

    #[test]
    fn environment_values_parse_like_flags() {
        let lookup = env(&[
            ("CETUS_REPO_INTERVAL", "90s"),
            ("CETUS_APPS", "a/*/cetus.yaml,b/{x,y}/cetus.yaml"),
            ("CETUS_LOG_FORMAT", "json"),
            ("CETUS_CONTEXT", ""),
        ]);
        let (args, problems) = ServeArgs::from_env(&lookup);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(args.repo_interval, Some(Duration::from_secs(90)));
        assert_eq!(args.log_format, Some(LogFormat::Json));
        assert_eq!(args.context.as_deref(), Some(""), "an empty variable is set, as clap has it");
        assert_eq!(split_list(&args.apps[0]), ["a/*/cetus.yaml", "b/{x,y}/cetus.yaml"]);
    }

    #[test]
    fn environment_values_that_do_not_parse_name_the_variable() {
        let lookup =
            env(&[("CETUS_HISTORY_LIMIT", "lots"), ("CETUS_PRUNE", "yes"), ("CETUS_SANDBOX", "")]);
        let (_, problems) = ServeArgs::from_env(&lookup);
        let texts: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            texts,
            [
                "CETUS_PRUNE: invalid value 'yes' for '--prune [<BOOL>]'",
                "CETUS_HISTORY_LIMIT: invalid value 'lots' for '--history-limit <N>': invalid digit found in string",
                "CETUS_SANDBOX: a value is required for '--sandbox [<BOOL>]' but none was supplied",
            ]
        );
    }
}
