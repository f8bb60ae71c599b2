//! Merging the layers (flag, environment, file, default) of each setting and checking the
//! rules that need the merged value: ranges, names, URLs, globs, combinations of keys, and
//! the secret files, which are read here. Every broken rule becomes a [`Problem`] naming the
//! layer the value came from.

use super::args::{ServeArgs, env_name, split_list};
use super::file::{FileSettings, List};
use super::location::{self, Location};
use super::policy::{self, DependencyPrefix, Policy};
use super::{
    ApiToken, AppGlobs, Cluster, DaemonConfig, Located, Origin, Problem, RepoSettings, SecretFile,
    SyncSettings,
};
use crate::api::webhooks::Secret;
use crate::source::git::Auth;
use globset::{GlobBuilder, GlobSetBuilder};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The layers of settings above the defaults.
pub(super) struct Layers<'a> {
    /// The command line (possibly with clap's environment merged in).
    pub flags: &'a ServeArgs,
    /// The environment alone.
    pub env: &'a ServeArgs,
    /// The config file.
    pub file: &'a FileSettings,
}

/// A setting's value from the highest layer that has one; the field names are shared by
/// [`ServeArgs`] and [`FileSettings`], and the flag is the field's name with dashes.
macro_rules! pick {
    ($layers:expr, $field:ident) => {
        $layers.pick(
            &$layers.flags.$field,
            &$layers.env.$field,
            &stringify!($field).replace('_', "-"),
            &$layers.file.$field,
        )
    };
}

macro_rules! pick_list {
    ($layers:expr, $field:ident) => {
        $layers.list(
            &$layers.flags.$field,
            &$layers.env.$field,
            &stringify!($field).replace('_', "-"),
            &$layers.file.$field,
        )
    };
}

impl Layers<'_> {
    fn pick<T: Clone + PartialEq>(
        &self,
        flag: &Option<T>,
        env: &Option<T>,
        long: &str,
        file: &Option<Located<T>>,
    ) -> Option<Located<T>> {
        if let Some(value) = flag {
            // clap gives a variable's value as the flag's: name the variable when it is that.
            let origin = if env.as_ref() == Some(value) {
                Origin::Env(env_name(long))
            } else {
                Origin::Flag(format!("--{long}"))
            };
            return Some(Located { value: value.clone(), origin });
        }
        if let Some(value) = env {
            return Some(Located { value: value.clone(), origin: Origin::Env(env_name(long)) });
        }
        file.clone()
    }

    fn list(
        &self,
        flag: &[String],
        env: &[String],
        long: &str,
        file: &Option<List>,
    ) -> Option<List> {
        let (values, origin) = if !flag.is_empty() && flag != env {
            (flag, Origin::Flag(format!("--{long}")))
        } else if !env.is_empty() {
            (env, Origin::Env(env_name(long)))
        } else {
            return file.clone();
        };
        let items = values
            .iter()
            .flat_map(|v| split_list(v))
            .map(|value| Located { value, origin: origin.clone() })
            .collect();
        Some(Located { value: items, origin })
    }

    /// Where a setting nobody gave is named: the file's key when there is a file.
    fn missing(&self, key: &str) -> Origin {
        if self.file.file.is_empty() {
            Origin::Key(key.to_string())
        } else {
            Origin::File { file: self.file.file.clone(), position: None, key: key.to_string() }
        }
    }
}

struct Checker<'p> {
    problems: &'p mut Vec<Problem>,
}

impl Checker<'_> {
    fn fail(&mut self, origin: &Origin, message: impl Into<String>) {
        self.problems.push(Problem::new(origin.clone(), message));
    }

    fn required<T>(
        &mut self,
        l: &Layers,
        value: Option<Located<T>>,
        key: &str,
        long: &str,
    ) -> Option<Located<T>> {
        if value.is_none() {
            let message = format!(
                "required; set it in the config file, with --{long} or with {}",
                env_name(long)
            );
            self.fail(&l.missing(key), message);
        }
        value
    }

    fn at_least(
        &mut self,
        value: Option<Located<Duration>>,
        min: Duration,
        default: Duration,
    ) -> Duration {
        match value {
            Some(v) if v.value < min => {
                self.fail(&v.origin, format!("must be at least {min:?}, not {:?}", v.value));
                default
            }
            Some(v) => v.value,
            None => default,
        }
    }

    fn count(&mut self, value: Option<Located<u64>>, default: usize) -> usize {
        match value {
            Some(v) if v.value == 0 => {
                self.fail(&v.origin, "must be at least 1");
                default
            }
            Some(v) => usize::try_from(v.value).unwrap_or(usize::MAX),
            None => default,
        }
    }

    /// Reads a secret file and returns its bytes without surrounding whitespace, or reports
    /// why it cannot be used.
    fn secret(&mut self, file: &Located<PathBuf>, empty_means: &str) -> Option<Vec<u8>> {
        let path = file.value.display();
        match std::fs::read(&file.value) {
            Ok(bytes) if bytes.trim_ascii().is_empty() => {
                self.fail(&file.origin, format!("file `{path}` is empty{empty_means}"));
                None
            }
            Ok(bytes) => Some(bytes.trim_ascii().to_vec()),
            Err(e) => {
                let why = match e.kind() {
                    std::io::ErrorKind::NotFound => "does not exist".to_string(),
                    std::io::ErrorKind::PermissionDenied => {
                        "cannot be read: permission denied".into()
                    }
                    std::io::ErrorKind::IsADirectory => "is a directory, not a file".into(),
                    kind => format!("cannot be read: {kind}"),
                };
                let mut problem = Problem::new(file.origin.clone(), format!("file `{path}` {why}"));
                problem.source = Some(Arc::new(e));
                self.problems.push(problem);
                None
            }
        }
    }
}

/// Resolves every setting; `None` (with `problems` non-empty) when a rule is broken.
pub(super) fn resolve(l: &Layers, problems: &mut Vec<Problem>) -> Option<DaemonConfig> {
    let mut c = Checker { problems };
    let repo = repo(&mut c, l);
    let profile = c.required(l, pick!(l, profile), "profile", "profile").inspect(|p| {
        if !crate::spec::is_dns_label(&p.value, 63) {
            let rule = "use at most 63 lowercase letters, digits and '-', starting and ending \
                        with a letter or digit (RFC 1123)";
            c.fail(&p.origin, format!("`{}` is not a valid profile name: {rule}", p.value));
        }
    });
    let apps = app_globs(&mut c, l);
    let store = pick!(l, store).map_or_else(|| PathBuf::from("/var/lib/cetus"), |s| s.value);
    let cache_dir = pick!(l, cache_dir).map_or_else(|| store.join("git"), |d| d.value);
    let listen = pick!(l, listen).map_or(([0, 0, 0, 0], 8080).into(), |a| a.value);
    let webhook_secret = pick!(l, webhook_secret_file).and_then(|file| {
        let empty = "; an empty webhook secret would turn signature checks into no check at all";
        let value = Secret::new(c.secret(&file, empty)?);
        Some(SecretFile { path: file.value, value })
    });
    let api_token = pick!(l, api_token_file).and_then(|file| api_token(&mut c, file));
    let sync = sync_settings(&mut c, l);
    let (url, auth) = repo.as_ref().map_or(("", Auth::None), |r| (r.url.as_str(), r.auth.clone()));
    let policy = policy(&mut c, l, url, auth);
    let cluster = cluster(&mut c, l);
    let log_format = pick!(l, log_format).map(|f| f.value).unwrap_or_default();
    if !c.problems.is_empty() {
        return None;
    }
    Some(DaemonConfig {
        config_file: None,
        repo: repo?,
        profile: profile?.value,
        apps: apps?,
        store,
        cache_dir,
        listen,
        webhook_secret,
        api_token,
        sync,
        policy: policy?,
        cluster,
        log_format,
    })
}

/// `repo.*`; `None` when the URL is missing or unusable (reported).
fn repo(c: &mut Checker, l: &Layers) -> Option<RepoSettings> {
    let url = c.required(l, pick!(l, repo_url), "repo.url", "repo-url");
    let location = url.as_ref().and_then(|u| repo_location(c, u));
    let branch = match pick!(l, repo_branch) {
        Some(b) => branch(c, b),
        None => "main".to_string(),
    };
    let interval =
        c.at_least(pick!(l, repo_interval), Duration::from_secs(1), Duration::from_secs(60));
    let auth = repo_auth(c, l, url.as_ref().zip(location.as_ref()));
    location?;
    Some(RepoSettings { url: url?.value, branch, interval, auth })
}

fn sync_settings(c: &mut Checker, l: &Layers) -> SyncSettings {
    let defaults = SyncSettings::default();
    SyncSettings {
        prune: pick!(l, prune).map_or(defaults.prune, |v| v.value),
        self_heal: pick!(l, self_heal).map_or(defaults.self_heal, |v| v.value),
        allow_empty: pick!(l, allow_empty).map_or(defaults.allow_empty, |v| v.value),
        history_limit: c.count(pick!(l, history_limit), defaults.history_limit),
        concurrency: c.count(pick!(l, concurrency), defaults.concurrency),
        health_timeout: c.at_least(
            pick!(l, health_timeout),
            Duration::from_secs(1),
            defaults.health_timeout,
        ),
    }
}

fn repo_location(c: &mut Checker, url: &Located<String>) -> Option<Location> {
    let location = match location::parse(&url.value) {
        Ok(location) => location,
        Err(message) => {
            c.fail(&url.origin, message);
            return None;
        }
    };
    if let Location::Local(path) = &location {
        let why = match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => return Some(location),
            Ok(_) => "is not a directory".to_string(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "does not exist".to_string(),
            Err(e) => format!("cannot be read: {}", e.kind()),
        };
        c.fail(&url.origin, format!("local repository `{}` {why}", path.display()));
    }
    Some(location)
}

fn branch(c: &mut Checker, b: Located<String>) -> String {
    if b.value.starts_with("refs/") {
        c.fail(&b.origin, format!("`{}` is a ref; write the branch's name (e.g. main)", b.value));
    } else if !git2::Reference::is_valid_name(&format!("refs/heads/{}", b.value)) {
        c.fail(&b.origin, format!("`{}` is not a valid branch name", b.value));
    }
    b.value
}

fn repo_auth(c: &mut Checker, l: &Layers, repo: Option<(&Located<String>, &Location)>) -> Auth {
    let token = pick!(l, repo_token_file);
    let key = pick!(l, repo_ssh_key_file);
    let known_hosts = pick!(l, repo_known_hosts_file);
    let scheme = match repo {
        Some((_, Location::Remote(r))) => Some(r.scheme.as_str()),
        _ => None,
    };
    let url = repo.map_or("", |(u, _)| u.value.as_str());
    match (token, key) {
        (Some(token), Some(key)) => {
            let message = format!(
                "a token and an ssh key cannot both be set; use one (the token is from {})",
                token.origin
            );
            c.fail(&key.origin, message);
            Auth::None
        }
        (Some(token), None) => {
            if let Some(kh) = &known_hosts {
                c.fail(&kh.origin, "a known_hosts file is only used with an ssh key");
            }
            if repo.is_some() && !matches!(scheme, Some("https" | "http")) {
                let message = format!(
                    "a token is sent over https or http, and `{url}` is not an https or http URL"
                );
                c.fail(&token.origin, message);
            }
            if scheme == Some("http") {
                tracing::warn!(url, "the repository token will be sent unencrypted over http");
            }
            c.secret(&token, "");
            Auth::Token { token_file: token.value }
        }
        (None, Some(key)) => {
            ssh_auth(c, key, known_hosts, repo.is_some() && scheme != Some("ssh"), url)
        }
        (None, None) => {
            if let Some(kh) = &known_hosts {
                c.fail(&kh.origin, "a known_hosts file is only used with an ssh key");
            }
            if let (Some((url, _)), Some("ssh")) = (repo, scheme) {
                let message = "an ssh URL needs an ssh key and a known_hosts file \
                               (repo.auth.sshKeyFile and repo.auth.knownHostsFile)";
                c.fail(&url.origin, message);
            }
            Auth::None
        }
    }
}

/// An ssh key and its known_hosts file; `wrong_url` when the repository is not an ssh one.
fn ssh_auth(
    c: &mut Checker,
    key: Located<PathBuf>,
    known_hosts: Option<Located<PathBuf>>,
    wrong_url: bool,
    url: &str,
) -> Auth {
    if wrong_url {
        c.fail(&key.origin, format!("an ssh key is used with ssh URLs, and `{url}` is not one"));
    }
    c.secret(&key, "");
    let Some(known_hosts) = known_hosts else {
        let message = "an ssh key needs a known_hosts file (repo.auth.knownHostsFile, \
                       --repo-known-hosts-file or CETUS_REPO_KNOWN_HOSTS_FILE) to check the \
                       server's host key";
        c.fail(&key.origin, message);
        return Auth::None;
    };
    c.secret(&known_hosts, "");
    Auth::SshKey { key_file: key.value, passphrase_file: None, known_hosts_file: known_hosts.value }
}

fn api_token(c: &mut Checker, file: Located<PathBuf>) -> Option<SecretFile<ApiToken>> {
    let bytes =
        c.secret(&file, "; an empty token would let a request with an empty bearer token through")?;
    match String::from_utf8(bytes) {
        Ok(token) => Some(SecretFile { path: file.value, value: ApiToken::new(token) }),
        Err(_) => {
            c.fail(&file.origin, format!("file `{}` is not UTF-8 text", file.value.display()));
            None
        }
    }
}

fn app_globs(c: &mut Checker, l: &Layers) -> Option<AppGlobs> {
    let list = pick_list!(l, apps).unwrap_or_else(|| {
        let origin = Origin::Key("apps".into());
        Located {
            value: vec![Located { value: "**/cetus.yaml".into(), origin: origin.clone() }],
            origin,
        }
    });
    if list.value.is_empty() {
        c.fail(&list.origin, "needs at least one glob");
        return None;
    }
    let mut set = GlobSetBuilder::new();
    let mut ok = true;
    for item in &list.value {
        if item.value.starts_with('/') {
            let rule = "globs match paths from the repository's root, without a leading `/`";
            c.fail(&item.origin, format!("`{}` starts with `/`; {rule}", item.value));
            ok = false;
            continue;
        }
        match GlobBuilder::new(&item.value).literal_separator(true).build() {
            Ok(glob) => {
                set.add(glob);
            }
            Err(e) => {
                c.fail(&item.origin, format!("`{}` is not a valid glob: {}", item.value, e.kind()));
                ok = false;
            }
        }
    }
    let set = match set.build() {
        Ok(set) => set,
        Err(e) => {
            c.fail(&list.origin, format!("the globs do not compile: {e}"));
            return None;
        }
    };
    let patterns = list.value.into_iter().map(|i| i.value).collect();
    ok.then_some(AppGlobs { patterns, set })
}

fn policy(c: &mut Checker, l: &Layers, repo_url: &str, auth: Auth) -> Option<Policy> {
    let env_allow = pick_list!(l, policy_env_allow);
    let mut ok = true;
    let mut globs = Vec::new();
    for item in env_allow.iter().flat_map(|list| &list.value) {
        match policy::env_glob(&item.value) {
            Ok(glob) => globs.push(glob),
            Err(message) => {
                c.fail(&item.origin, message);
                ok = false;
            }
        }
    }
    let prefixes = pick_list!(l, policy_dependencies).map(|list| {
        let mut prefixes = Vec::new();
        for item in &list.value {
            match DependencyPrefix::parse(&item.value) {
                Ok(prefix) => prefixes.push(prefix),
                Err(message) => {
                    c.fail(&item.origin, message);
                    ok = false;
                }
            }
        }
        prefixes
    });
    if !ok {
        return None;
    }
    match Policy::build(globs, prefixes, repo_url, auth) {
        Ok(policy) => Some(policy),
        Err(message) => {
            let origin = env_allow.map_or(Origin::Key("policy.envAllow".into()), |l| l.origin);
            c.fail(&origin, message);
            None
        }
    }
}

fn cluster(c: &mut Checker, l: &Layers) -> Cluster {
    let sandbox = pick!(l, sandbox);
    let kubeconfig = pick!(l, kubeconfig);
    let context = pick!(l, context);
    if let Some(sandbox) = sandbox.as_ref().filter(|s| s.value) {
        for given in [kubeconfig.as_ref().map(|k| &k.origin), context.as_ref().map(|k| &k.origin)]
            .into_iter()
            .flatten()
        {
            let message = format!(
                "cannot be used with the sandbox (set by {}), which is the cluster",
                sandbox.origin
            );
            c.fail(given, message);
        }
        return Cluster::Sandbox;
    }
    if let Some(file) = &kubeconfig
        && !file.value.is_file()
    {
        c.fail(&file.origin, format!("file `{}` does not exist", file.value.display()));
    }
    Cluster::Kubeconfig { path: kubeconfig.map(|k| k.value), context: context.map(|c| c.value) }
}
