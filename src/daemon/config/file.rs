//! Reading the config file (cetusd.yaml, DESIGN §6) into typed settings that remember where
//! each was written.
//!
//! The document is parsed by [`crate::yaml`] and walked by hand rather than through serde, so
//! that every problem is reported at once: each unknown key (with the nearest valid one
//! suggested), each value of the wrong type, each value that does not parse. Problems read
//! like cetus.yaml's: `cetusd.yaml:4:3: repo: unknown key `intervl`; did you mean
//! `interval`?`. A relative path in the file is relative to the file's directory. Rules that
//! involve defaults, other layers or other keys belong to `resolve`.

use super::args::LogFormat;
use super::location;
use super::{Located, Origin, Problem};
use crate::pointer::escape as escape_pointer_segment;
use crate::spec::{self, Origins};
use crate::spec::{describe, unknown_key_message as unknown_key};
use crate::yaml;
use serde_json::{Map, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A list of values, each located, and where the list itself is.
pub(super) type List = Located<Vec<Located<String>>>;

/// The settings a config file gives; field names are those of
/// [`ServeArgs`](super::ServeArgs).
#[derive(Debug, Default)]
pub(super) struct FileSettings {
    /// The file, as named on the command line (empty when there is none).
    pub file: String,
    pub repo_url: Option<Located<String>>,
    pub repo_branch: Option<Located<String>>,
    pub repo_interval: Option<Located<Duration>>,
    pub repo_token_file: Option<Located<PathBuf>>,
    pub repo_ssh_key_file: Option<Located<PathBuf>>,
    pub repo_known_hosts_file: Option<Located<PathBuf>>,
    pub profile: Option<Located<String>>,
    pub apps: Option<List>,
    pub store: Option<Located<PathBuf>>,
    pub listen: Option<Located<SocketAddr>>,
    pub webhook_secret_file: Option<Located<PathBuf>>,
    pub api_token_file: Option<Located<PathBuf>>,
    pub prune: Option<Located<bool>>,
    pub self_heal: Option<Located<bool>>,
    pub allow_empty: Option<Located<bool>>,
    pub history_limit: Option<Located<u64>>,
    pub policy_env_allow: Option<List>,
    pub policy_dependencies: Option<List>,
    pub sandbox: Option<Located<bool>>,
    pub kubeconfig: Option<Located<PathBuf>>,
    pub context: Option<Located<String>>,
    pub log_format: Option<Located<LogFormat>>,
    pub concurrency: Option<Located<u64>>,
    pub health_timeout: Option<Located<Duration>>,
    pub cache_dir: Option<Located<PathBuf>>,
}

const TOP: &[&str] = &[
    "repo",
    "profile",
    "apps",
    "store",
    "listen",
    "webhook",
    "apiTokenFile",
    "prune",
    "selfHeal",
    "allowEmpty",
    "historyLimit",
    "policy",
    "sandbox",
    "kubeconfig",
    "context",
    "logFormat",
    "concurrency",
    "healthTimeout",
    "cacheDir",
];
const REPO: &[&str] = &["url", "branch", "interval", "auth"];
const AUTH: &[&str] = &["tokenFile", "sshKeyFile", "knownHostsFile"];
const WEBHOOK: &[&str] = &["secretFile"];
const POLICY: &[&str] = &["envAllow", "dependencies"];

/// Reads the settings of `source`, the text of the file named `file`, and every problem
/// found in it.
pub(super) fn read(file: &str, source: &str) -> (FileSettings, Vec<Problem>) {
    let mut r = Reader {
        file,
        dir: Path::new(file).parent().unwrap_or(Path::new("")).to_path_buf(),
        origins: Origins::default(),
        problems: Vec::new(),
    };
    let mut s = FileSettings { file: file.to_string(), ..FileSettings::default() };
    let doc = match yaml::parse_document(source) {
        Ok(doc) => doc,
        Err(e) => {
            let origin = Origin::File {
                file: file.to_string(),
                position: Some(e.position),
                key: String::new(),
            };
            return (s, vec![Problem::new(origin, e.message)]);
        }
    };
    let (value, origins) = Origins::split(doc);
    r.origins = origins;
    let top = r.map(Some(&value).filter(|v| !v.is_null()), "", TOP);
    let repo = r.map(get(top, "repo"), "/repo", REPO);
    s.repo_url = r.string(get(repo, "url"), "/repo/url").map(|url| r.repo_url(url));
    s.repo_branch = r.string(get(repo, "branch"), "/repo/branch");
    s.repo_interval = r.duration(get(repo, "interval"), "/repo/interval");
    let auth = r.map(get(repo, "auth"), "/repo/auth", AUTH);
    s.repo_token_file = r.path(get(auth, "tokenFile"), "/repo/auth/tokenFile");
    s.repo_ssh_key_file = r.path(get(auth, "sshKeyFile"), "/repo/auth/sshKeyFile");
    s.repo_known_hosts_file = r.path(get(auth, "knownHostsFile"), "/repo/auth/knownHostsFile");
    s.profile = r.string(get(top, "profile"), "/profile");
    s.apps = r.list(get(top, "apps"), "/apps");
    s.store = r.path(get(top, "store"), "/store");
    s.listen = r.parsed(get(top, "listen"), "/listen", "a socket address (e.g. 0.0.0.0:8080)");
    let webhook = r.map(get(top, "webhook"), "/webhook", WEBHOOK);
    s.webhook_secret_file = r.path(get(webhook, "secretFile"), "/webhook/secretFile");
    s.api_token_file = r.path(get(top, "apiTokenFile"), "/apiTokenFile");
    s.prune = r.boolean(get(top, "prune"), "/prune");
    s.self_heal = r.boolean(get(top, "selfHeal"), "/selfHeal");
    s.allow_empty = r.boolean(get(top, "allowEmpty"), "/allowEmpty");
    s.history_limit = r.integer(get(top, "historyLimit"), "/historyLimit");
    let policy = r.map(get(top, "policy"), "/policy", POLICY);
    s.policy_env_allow = r.list(get(policy, "envAllow"), "/policy/envAllow");
    s.policy_dependencies = r.list(get(policy, "dependencies"), "/policy/dependencies");
    s.sandbox = r.boolean(get(top, "sandbox"), "/sandbox");
    s.kubeconfig = r.path(get(top, "kubeconfig"), "/kubeconfig");
    s.context = r.string(get(top, "context"), "/context");
    s.log_format = r.log_format(get(top, "logFormat"), "/logFormat");
    s.concurrency = r.integer(get(top, "concurrency"), "/concurrency");
    s.health_timeout = r.duration(get(top, "healthTimeout"), "/healthTimeout");
    s.cache_dir = r.path(get(top, "cacheDir"), "/cacheDir");
    (s, r.problems)
}

/// A key's value; `null` is the same as leaving the key out.
fn get<'v>(map: Option<&'v Map<String, Value>>, key: &str) -> Option<&'v Value> {
    map?.get(key).filter(|v| !v.is_null())
}

struct Reader<'a> {
    file: &'a str,
    dir: PathBuf,
    origins: Origins,
    problems: Vec<Problem>,
}

impl Reader<'_> {
    fn origin(&self, origin: Option<&spec::Origin>, key: String) -> Origin {
        let position = match origin {
            Some(spec::Origin::At(p)) => Some(*p),
            _ => None,
        };
        Origin::File { file: self.file.to_string(), position, key }
    }

    /// Where the value at `pointer` is, named by its dotted path.
    fn at(&self, pointer: &str) -> Origin {
        self.origin(self.origins.value(pointer), spec::field_path(pointer))
    }

    fn fail(&mut self, pointer: &str, message: impl Into<String>) {
        self.problems.push(Problem::new(self.at(pointer), message));
    }

    fn located<T>(&self, pointer: &str, value: T) -> Located<T> {
        Located { value, origin: self.at(pointer) }
    }

    /// The map at `pointer`, after reporting each key not in `keys`; `None` if absent or not
    /// a map (reported).
    fn map<'v>(
        &mut self,
        value: Option<&'v Value>,
        pointer: &str,
        keys: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let map = match value? {
            Value::Object(map) => map,
            other => {
                self.fail(pointer, format!("invalid type: {}, expected a map", describe(other)));
                return None;
            }
        };
        for key in map.keys().filter(|k| !keys.contains(&k.as_str())) {
            let key_at = format!("{pointer}/{}", escape_pointer_segment(key));
            let origin = self.origin(self.origins.key(&key_at), spec::field_path(pointer));
            self.problems.push(Problem::new(origin, unknown_key(key, keys)));
        }
        Some(map)
    }

    fn string(&mut self, value: Option<&Value>, pointer: &str) -> Option<Located<String>> {
        match value? {
            Value::String(s) => Some(self.located(pointer, s.clone())),
            // YAML makes numbers of `branch: 2024` or `profile: 1`; they are meant as text.
            Value::Number(n) => Some(self.located(pointer, n.to_string())),
            other => {
                self.fail(pointer, format!("invalid type: {}, expected a string", describe(other)));
                None
            }
        }
    }

    fn path(&mut self, value: Option<&Value>, pointer: &str) -> Option<Located<PathBuf>> {
        let text = self.string(value, pointer)?;
        Some(Located { value: self.dir.join(&text.value), origin: text.origin })
    }

    /// A local repository path is relative to the file, like the file's other paths.
    fn repo_url(&self, url: Located<String>) -> Located<String> {
        if location::is_plain_path(&url.value) && Path::new(&url.value).is_relative() {
            let joined = self.dir.join(&url.value).to_string_lossy().into_owned();
            return Located { value: joined, origin: url.origin };
        }
        url
    }

    fn boolean(&mut self, value: Option<&Value>, pointer: &str) -> Option<Located<bool>> {
        match value? {
            Value::Bool(b) => Some(self.located(pointer, *b)),
            other => {
                let message = format!("invalid type: {}, expected true or false", describe(other));
                self.fail(pointer, message);
                None
            }
        }
    }

    fn integer(&mut self, value: Option<&Value>, pointer: &str) -> Option<Located<u64>> {
        let value = value?;
        match value.as_u64() {
            Some(n) => Some(self.located(pointer, n)),
            None if value.as_i64().is_some() => {
                self.fail(pointer, format!("{value} is negative; expected a positive integer"));
                None
            }
            None => {
                let message = format!("invalid type: {}, expected an integer", describe(value));
                self.fail(pointer, message);
                None
            }
        }
    }

    fn duration(&mut self, value: Option<&Value>, pointer: &str) -> Option<Located<Duration>> {
        let text = match value? {
            Value::String(s) => s,
            other => {
                let message =
                    format!("invalid type: {}, expected a duration (e.g. 60s)", describe(other));
                self.fail(pointer, message);
                return None;
            }
        };
        match cetus_sandbox::parse_duration(text) {
            Ok(d) => Some(self.located(pointer, d)),
            Err(e) => {
                self.fail(pointer, e.to_string());
                None
            }
        }
    }

    fn parsed<T: std::str::FromStr>(
        &mut self,
        value: Option<&Value>,
        pointer: &str,
        expected: &str,
    ) -> Option<Located<T>> {
        let text = self.string(value, pointer)?;
        match text.value.parse() {
            Ok(v) => Some(Located { value: v, origin: text.origin }),
            Err(_) => {
                self.fail(pointer, format!("`{}` is not {expected}", text.value));
                None
            }
        }
    }

    fn log_format(&mut self, value: Option<&Value>, pointer: &str) -> Option<Located<LogFormat>> {
        let text = self.string(value, pointer)?;
        match text.value.as_str() {
            "text" => Some(Located { value: LogFormat::Text, origin: text.origin }),
            "json" => Some(Located { value: LogFormat::Json, origin: text.origin }),
            other => {
                let message = format!("unknown value `{other}`, expected one of `text`, `json`");
                self.fail(pointer, message);
                None
            }
        }
    }

    fn list(&mut self, value: Option<&Value>, pointer: &str) -> Option<List> {
        let items = match value? {
            Value::Array(items) => items,
            other => {
                self.fail(pointer, format!("invalid type: {}, expected a list", describe(other)));
                return None;
            }
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let at = format!("{pointer}/{i}");
            if item.is_null() {
                self.fail(&at, "invalid type: null, expected a string");
            } else if let Some(text) = self.string(Some(item), &at) {
                out.push(text);
            }
        }
        Some(self.located(pointer, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(source: &str) -> Vec<String> {
        read("cetusd.yaml", source).1.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn reads_every_key_with_its_position() {
        let source = "repo:\n  url: ../config\n  interval: 90s\n  auth: { tokenFile: t }\n\
                      profile: 1\nlisten: 127.0.0.1:9000\nlogFormat: json\napps: [a, b]\n";
        let (s, found) = read("etc/cetusd.yaml", source);
        assert!(found.is_empty(), "{found:?}");
        assert_eq!(s.repo_url.unwrap().value, "etc/../config");
        let interval = s.repo_interval.unwrap();
        assert_eq!(interval.value, Duration::from_secs(90));
        assert_eq!(interval.origin.to_string(), "etc/cetusd.yaml:3:13: repo.interval");
        assert_eq!(s.repo_token_file.unwrap().value, PathBuf::from("etc/t"));
        assert_eq!(s.profile.unwrap().value, "1");
        assert_eq!(s.listen.unwrap().value, "127.0.0.1:9000".parse::<SocketAddr>().unwrap());
        assert_eq!(s.log_format.unwrap().value, LogFormat::Json);
        let apps = s.apps.unwrap();
        assert_eq!(apps.value[1].origin.to_string(), "etc/cetusd.yaml:8:11: apps[1]");
    }

    #[test]
    fn null_and_empty_files_set_nothing() {
        let (s, found) = read("cetusd.yaml", "# nothing yet\n");
        assert!(found.is_empty() && s.repo_url.is_none());
        let (s, found) = read("cetusd.yaml", "store: ~\nrepo:\n");
        assert!(found.is_empty() && s.store.is_none());
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let source = "\
repo:
  url: https://git.example.com/platform/config.git
  intervl: 60s
  auth: { tokenfile: /t }
profile: [staging]
prune: yes
historyLimit: -1
concurrency: 2.5
listen: localhost:80
logFormat: xml
healthTimeout: 5
apps: apps/*/cetus.yaml
policy: { envAllow: [ APP_*, ~ ], dependancies: [] }
webhook: /secret
zzzzzz: 1
";
        assert_eq!(
            problems(source),
            [
                "cetusd.yaml:15:1: unknown key `zzzzzz`; expected one of: repo, profile, apps, store, listen, webhook, apiTokenFile, prune, selfHeal, allowEmpty, historyLimit, policy, sandbox, kubeconfig, context, logFormat, concurrency, healthTimeout, cacheDir",
                "cetusd.yaml:3:3: repo: unknown key `intervl`; did you mean `interval`?",
                "cetusd.yaml:4:11: repo.auth: unknown key `tokenfile`; did you mean `tokenFile`?",
                "cetusd.yaml:5:10: profile: invalid type: a list, expected a string",
                "cetusd.yaml:12:7: apps: invalid type: string \"apps/*/cetus.yaml\", expected a list",
                "cetusd.yaml:9:9: listen: `localhost:80` is not a socket address (e.g. 0.0.0.0:8080)",
                "cetusd.yaml:14:10: webhook: invalid type: string \"/secret\", expected a map",
                "cetusd.yaml:6:8: prune: invalid type: string \"yes\", expected true or false",
                "cetusd.yaml:7:15: historyLimit: -1 is negative; expected a positive integer",
                "cetusd.yaml:13:35: policy: unknown key `dependancies`; did you mean `dependencies`?",
                "cetusd.yaml:13:30: policy.envAllow[1]: invalid type: null, expected a string",
                "cetusd.yaml:10:12: logFormat: unknown value `xml`, expected one of `text`, `json`",
                "cetusd.yaml:8:14: concurrency: invalid type: number 2.5, expected an integer",
                "cetusd.yaml:11:16: healthTimeout: invalid type: number 5, expected a duration (e.g. 60s)",
            ]
        );
    }

    #[test]
    fn flag_style_keys_get_the_file_spelling_suggested() {
        assert_eq!(
            problems("history_limit: 5\nrepo:\n  auth:\n    ssh_key_file: /k\n"),
            [
                "cetusd.yaml:1:1: unknown key `history_limit`; did you mean `historyLimit`?",
                "cetusd.yaml:4:5: repo.auth: unknown key `ssh_key_file`; did you mean `sshKeyFile`?",
            ]
        );
    }

    #[test]
    fn bad_durations_and_syntax_errors_are_located() {
        assert_eq!(
            problems("repo:\n  interval: soon\n"),
            [
                "cetusd.yaml:2:13: repo.interval: duration \"soon\" is invalid: expected a number and a unit (ms, s, m, h), e.g. 10ms"
            ]
        );
        assert_eq!(problems("repo: [1, 2\n"), ["cetusd.yaml:1:7: unclosed bracket '['"]);
        assert_eq!(problems("- a\n"), ["cetusd.yaml:1:1: invalid type: a list, expected a map"]);
    }
}
