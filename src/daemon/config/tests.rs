//! Tests of [`load`](super::load): precedence, the rules' exact messages, secret files, the
//! example config file and redaction.

use super::args::tests::{env, flags};
use super::*;
use std::path::Path;

const URL: &str = "https://git.example.com/platform/config.git";

/// A temp dir to hold config and secret files.
struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Self {
        Self(tempfile::tempdir().unwrap())
    }

    fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    fn path(&self, name: &str) -> String {
        self.0.path().join(name).display().to_string()
    }
}

fn load_from(argv: &[&str], vars: &[(&str, &str)]) -> Result<DaemonConfig, ConfigError> {
    load_with_env(&flags(argv), &env(vars))
}

fn problems(argv: &[&str], vars: &[(&str, &str)]) -> Vec<String> {
    match load_from(argv, vars) {
        Ok(config) => panic!("loaded: {config:?}"),
        Err(ConfigError::Invalid(problems)) => problems.iter().map(ToString::to_string).collect(),
        Err(other) => panic!("{other}"),
    }
}

#[test]
fn defaults_fill_what_no_layer_gives() {
    let config = load_from(&["--repo-url", URL, "--profile", "staging"], &[]).unwrap();
    assert_eq!(config.config_file, None);
    assert_eq!(
        config.repo,
        RepoSettings {
            url: URL.into(),
            branch: "main".into(),
            interval: Duration::from_secs(60),
            auth: Auth::None,
        }
    );
    assert_eq!(config.apps.patterns(), ["**/cetus.yaml"]);
    assert!(config.apps.matches("cetus.yaml") && config.apps.matches("apps/a/b/cetus.yaml"));
    assert_eq!(config.store, PathBuf::from("/var/lib/cetus"));
    assert_eq!(config.cache_dir, PathBuf::from("/var/lib/cetus/git"));
    assert_eq!(config.listen, "0.0.0.0:8080".parse::<SocketAddr>().unwrap());
    assert!(config.webhook_secret.is_none() && config.api_token.is_none());
    assert_eq!(config.sync, SyncSettings::default());
    assert_eq!(config.cluster, Cluster::Kubeconfig { path: None, context: None });
    assert_eq!(config.log_format, LogFormat::Text);
    assert_eq!(config.policy.env_allow(), [] as [&str; 0]);
    assert_eq!(config.policy.dependency_prefixes(), ["https://git.example.com/"]);
}

/// One setting of each type, set by more and more layers: default, file, env, flag.
struct Case {
    file_line: &'static str,
    var: (&'static str, &'static str),
    flag: [&'static str; 2],
    get: fn(&DaemonConfig) -> String,
    expected: [&'static str; 4],
}

#[test]
fn flag_beats_env_beats_file_beats_default() {
    let cases = [
        Case {
            file_line: "repo: { url: URL, branch: file }",
            var: ("CETUS_REPO_BRANCH", "env"),
            flag: ["--repo-branch", "flag"],
            get: |c| c.repo.branch.clone(),
            expected: ["main", "file", "env", "flag"],
        },
        Case {
            file_line: "repo: { url: URL, interval: 2m }",
            var: ("CETUS_REPO_INTERVAL", "90s"),
            flag: ["--repo-interval", "1.5s"],
            get: |c| format!("{:?}", c.repo.interval),
            expected: ["60s", "120s", "90s", "1.5s"],
        },
        Case {
            file_line: "prune: false",
            var: ("CETUS_PRUNE", "true"),
            flag: ["--prune", "false"],
            get: |c| c.sync.prune.to_string(),
            expected: ["true", "false", "true", "false"],
        },
        Case {
            file_line: "historyLimit: 10",
            var: ("CETUS_HISTORY_LIMIT", "20"),
            flag: ["--history-limit", "30"],
            get: |c| c.sync.history_limit.to_string(),
            expected: ["100", "10", "20", "30"],
        },
        Case {
            file_line: "apps: [ \"apps/*/cetus.yaml\" ]",
            var: ("CETUS_APPS", "a/*/cetus.yaml,b/{x,y}/cetus.yaml"),
            flag: ["--apps", "c/cetus.yaml"],
            get: |c| c.apps.patterns().join(" "),
            expected: [
                "**/cetus.yaml",
                "apps/*/cetus.yaml",
                "a/*/cetus.yaml b/{x,y}/cetus.yaml",
                "c/cetus.yaml",
            ],
        },
        Case {
            file_line: "store: data",
            var: ("CETUS_STORE", "/env/store"),
            flag: ["--store", "/flag/store"],
            get: |c| {
                format!("{} {}", c.store.display(), c.cache_dir.file_name().unwrap().display())
            },
            expected: ["/var/lib/cetus git", "DIR/data git", "/env/store git", "/flag/store git"],
        },
        Case {
            file_line: "listen: 127.0.0.1:1",
            var: ("CETUS_LISTEN", "127.0.0.1:2"),
            flag: ["--listen", "[::1]:3"],
            get: |c| c.listen.to_string(),
            expected: ["0.0.0.0:8080", "127.0.0.1:1", "127.0.0.1:2", "[::1]:3"],
        },
        Case {
            file_line: "logFormat: json",
            var: ("CETUS_LOG_FORMAT", "text"),
            flag: ["--log-format", "json"],
            get: |c| format!("{:?}", c.log_format),
            expected: ["Text", "Json", "Text", "Json"],
        },
    ];
    let dir = Dir::new();
    for case in cases {
        let base = format!("repo: {{ url: {URL} }}\nprofile: staging\n");
        let with_key = match case.file_line.strip_prefix("repo: ") {
            Some(repo) => format!("profile: staging\nrepo: {}\n", repo.replace("URL", URL)),
            None => format!("{base}{}\n", case.file_line),
        };
        let config = |file: &str, var: bool, flag: bool| {
            let path = dir.write("cetusd.yaml", file);
            let mut argv = vec!["--config", path.to_str().unwrap()];
            if flag {
                argv.extend(case.flag);
            }
            let vars = if var { vec![case.var] } else { vec![] };
            let config = load_from(&argv, &vars).unwrap();
            (case.get)(&config).replace(&dir.0.path().display().to_string(), "DIR")
        };
        let got = [
            config(&base, false, false),
            config(&with_key, false, false),
            config(&with_key, true, false),
            config(&with_key, true, true),
        ];
        assert_eq!(got, case.expected, "{}", case.file_line);
    }
}

#[test]
fn problems_name_the_layer_the_value_came_from() {
    let dir = Dir::new();
    let file =
        dir.write("cetusd.yaml", &format!("repo:\n  url: {URL}\n  interval: 500ms\nprofile: a\n"));
    let file = file.to_str().unwrap();
    let rule = "must be at least 1s, not 500ms";
    assert_eq!(problems(&["--config", file], &[]), [format!("{file}:3:13: repo.interval: {rule}")]);
    let var = [("CETUS_REPO_INTERVAL", "500ms")];
    assert_eq!(problems(&["--config", file], &var), [format!("CETUS_REPO_INTERVAL: {rule}")]);
    let flag = ["--config", file, "--repo-interval", "500ms"];
    assert_eq!(
        problems(&flag, &[("CETUS_REPO_INTERVAL", "2s")]),
        [format!("--repo-interval: {rule}")]
    );
    // clap hands a variable's value over as the flag's: it is still named as the variable.
    assert_eq!(problems(&flag, &var), [format!("CETUS_REPO_INTERVAL: {rule}")]);
    assert_eq!(
        problems(&["--repo-url", URL, "--profile", "a"], &[("CETUS_CONCURRENCY", "many")]),
        [
            "CETUS_CONCURRENCY: invalid value 'many' for '--concurrency <N>': invalid digit found in string"
        ]
    );
}

#[test]
fn required_settings_say_where_to_set_them() {
    let required = |key: &str, flag: &str, var: &str| {
        format!("{key}: required; set it in the config file, with --{flag} or with {var}")
    };
    assert_eq!(
        problems(&[], &[]),
        [
            required("repo.url", "repo-url", "CETUS_REPO_URL"),
            required("profile", "profile", "CETUS_PROFILE")
        ]
    );
    let dir = Dir::new();
    let file = dir.write("cetusd.yaml", "store: /x\n");
    let file = file.to_str().unwrap();
    assert_eq!(
        problems(&["--config", file], &[]),
        [
            format!("{file}: {}", required("repo.url", "repo-url", "CETUS_REPO_URL")),
            format!("{file}: {}", required("profile", "profile", "CETUS_PROFILE")),
        ]
    );
}

#[test]
fn every_rule_of_the_file_at_once() {
    let dir = Dir::new();
    dir.write("token", "t0ken\n"); // found relative to the file, as `tokenFile: token`
    let source = "\
repo:
  url: ftp://git.example.com/config
  branch: refs/heads/main
  auth: { tokenFile: token, sshKeyFile: token }
profile: Staging
apps: [ \"/apps/*/cetus.yaml\", \"apps/[x\" ]
historyLimit: 0
concurrency: 0
healthTimeout: 0s
policy:
  envAllow: [ \"APP_{\" ]
  dependencies: [ git.example.com/platform/, \"https://h/\" ]
sandbox: true
context: prod
";
    let file = dir.write("cetusd.yaml", source);
    let file = file.to_str().unwrap();
    let got = problems(&["--config", file], &[]);
    let expected = [
        "2:8: repo.url: `ftp://git.example.com/config`: unsupported scheme `ftp`; use https, http, ssh, git or file",
        "3:11: repo.branch: `refs/heads/main` is a ref; write the branch's name (e.g. main)",
        "4:41: repo.auth.sshKeyFile: a token and an ssh key cannot both be set; use one (the token is from FILE:4:22: repo.auth.tokenFile)",
        "5:10: profile: `Staging` is not a valid profile name: use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit (RFC 1123)",
        "6:9: apps[0]: `/apps/*/cetus.yaml` starts with `/`; globs match paths from the repository's root, without a leading `/`",
        "6:31: apps[1]: `apps/[x` is not a valid glob: unclosed character class; missing ']'",
        "7:15: historyLimit: must be at least 1",
        "8:14: concurrency: must be at least 1",
        "9:16: healthTimeout: must be at least 1s, not 0ns",
        "11:15: policy.envAllow[0]: `APP_{` is not a valid glob: unclosed alternate group; missing '}' (maybe escape '{' with '[{]'?)",
        "12:19: policy.dependencies[0]: `git.example.com/platform/` is not a URL prefix: a URL prefix needs a scheme and a host (e.g. https://git.example.com/platform/), or is a file:// URL",
        "14:10: context: cannot be used with the sandbox (set by FILE:13:10: sandbox), which is the cluster",
    ];
    let expected: Vec<String> =
        expected.iter().map(|e| format!("{file}:{}", e.replace("FILE", file))).collect();
    assert_eq!(got, expected);
}

#[test]
fn repository_urls_and_their_credentials() {
    let dir = Dir::new();
    std::fs::create_dir(dir.0.path().join("repo")).unwrap();
    let key = dir.write("key", "-----BEGIN OPENSSH PRIVATE KEY-----\n");
    let hosts = dir.write("known_hosts", "github.com ssh-ed25519 AAAA\n");
    let token = dir.write("token", "t0ken");
    let (key, hosts, token) =
        (key.to_str().unwrap(), hosts.to_str().unwrap(), token.to_str().unwrap());
    let local = dir.path("repo");
    let file_url = format!("file://{local}");
    let ssh = ["--repo-ssh-key-file", key, "--repo-known-hosts-file", hosts];
    let https_token = ["--repo-token-file", token];
    let accepted: [(&str, &[&str]); 8] = [
        (URL, &https_token),
        ("http://127.0.0.1:8000/config.git", &[]),
        ("ssh://git@github.com:22/acme/config.git", &ssh),
        ("git@github.com:acme/config.git", &ssh),
        ("git://127.0.0.1/config.git", &[]),
        (file_url.as_str(), &[]),
        (&local, &[]),
        (URL, &[]),
    ];
    for (url, extra) in accepted {
        let mut argv = vec!["--repo-url", url, "--profile", "p"];
        argv.extend(extra);
        let config = load_from(&argv, &[]).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(config.repo.is_local(), url.contains(local.as_str()), "{url}");
    }
    let config = load_from(
        &[&["--repo-url", "git@github.com:a/b", "--profile", "p"][..], &ssh[..]].concat(),
        &[],
    )
    .unwrap();
    assert_eq!(
        config.repo.auth,
        Auth::SshKey {
            key_file: key.into(),
            passphrase_file: None,
            known_hosts_file: hosts.into()
        }
    );

    let refused = |url: &str, extra: &[&str]| {
        let mut argv = vec!["--repo-url", url, "--profile", "p"];
        argv.extend(extra);
        problems(&argv, &[])
    };
    assert_eq!(
        refused("git@github.com:a/b", &["--repo-ssh-key-file", key]),
        [
            "--repo-ssh-key-file: an ssh key needs a known_hosts file (repo.auth.knownHostsFile, --repo-known-hosts-file or CETUS_REPO_KNOWN_HOSTS_FILE) to check the server's host key"
        ]
    );
    assert_eq!(
        refused("git@github.com:a/b", &[]),
        [
            "--repo-url: an ssh URL needs an ssh key and a known_hosts file (repo.auth.sshKeyFile and repo.auth.knownHostsFile)"
        ]
    );
    assert_eq!(
        refused(URL, &["--repo-known-hosts-file", hosts]),
        ["--repo-known-hosts-file: a known_hosts file is only used with an ssh key"]
    );
    assert_eq!(
        refused("git@github.com:a/b", &https_token),
        [
            "--repo-token-file: a token is sent over https or http, and `git@github.com:a/b` is not an https or http URL"
        ]
    );
    assert_eq!(
        refused(URL, &ssh),
        [format!("--repo-ssh-key-file: an ssh key is used with ssh URLs, and `{URL}` is not one")]
    );
    assert_eq!(
        refused(&dir.path("missing"), &[]),
        [format!("--repo-url: local repository `{}` does not exist", dir.path("missing"))]
    );
    assert_eq!(
        refused(token, &[]),
        [format!("--repo-url: local repository `{token}` is not a directory")]
    );
    assert_eq!(
        refused(
            URL,
            &[
                "--repo-branch",
                "a..b",
                "--listen",
                "127.0.0.1:1",
                "--sandbox",
                "--kubeconfig",
                token
            ]
        ),
        [
            "--repo-branch: `a..b` is not a valid branch name",
            "--kubeconfig: cannot be used with the sandbox (set by --sandbox), which is the cluster",
        ]
    );
    assert_eq!(
        refused(URL, &["--kubeconfig", &dir.path("nope")]),
        [format!("--kubeconfig: file `{}` does not exist", dir.path("nope"))]
    );
    assert_eq!(refused(URL, &["--apps", ""]), ["--apps: needs at least one glob"]);
}

#[test]
fn secret_files_must_be_readable_and_not_empty() {
    let dir = Dir::new();
    let empty = dir.write("empty", " \n\t\n");
    let empty = empty.to_str().unwrap();
    let missing = dir.path("missing");
    let a_dir = dir.path("");
    let a_dir = a_dir.trim_end_matches('/');
    let base = ["--repo-url", URL, "--profile", "p"];
    let with = |flag: &str, path: &str| problems(&[&base[..], &[flag, path][..]].concat(), &[]);
    let is_empty = |flag: &str, why: &str| format!("--{flag}: file `{empty}` is empty{why}");
    assert_eq!(with("--repo-token-file", empty), [is_empty("repo-token-file", "")]);
    assert_eq!(
        with("--webhook-secret-file", empty),
        [is_empty(
            "webhook-secret-file",
            "; an empty webhook secret would turn signature checks into no check at all"
        )]
    );
    assert_eq!(
        with("--api-token-file", empty),
        [is_empty(
            "api-token-file",
            "; an empty token would let a request with an empty bearer token through"
        )]
    );
    assert_eq!(
        with("--webhook-secret-file", &missing),
        [format!("--webhook-secret-file: file `{missing}` does not exist")]
    );
    assert_eq!(
        with("--api-token-file", a_dir),
        [format!("--api-token-file: file `{a_dir}` is a directory, not a file")]
    );
    let ssh = ["--repo-url", "git@h:a", "--profile", "p", "--repo-ssh-key-file", empty];
    assert_eq!(
        problems(&[&ssh[..], &["--repo-known-hosts-file", &missing][..]].concat(), &[]),
        [
            format!("--repo-ssh-key-file: file `{empty}` is empty"),
            format!("--repo-known-hosts-file: file `{missing}` does not exist"),
        ]
    );
    let binary = dir.path("binary");
    std::fs::write(&binary, [0xff, 0xfe]).unwrap();
    assert_eq!(
        with("--api-token-file", &binary),
        [format!("--api-token-file: file `{binary}` is not UTF-8 text")]
    );

    // The I/O error is the problem's source, not part of its message.
    let Err(ConfigError::Invalid(found)) =
        load_from(&[&base[..], &["--api-token-file", &missing][..]].concat(), &[])
    else {
        panic!("loaded");
    };
    let source = std::error::Error::source(&found[0]).unwrap();
    assert_eq!(
        source.downcast_ref::<std::io::Error>().unwrap().kind(),
        std::io::ErrorKind::NotFound
    );
}

#[test]
fn an_unreadable_secret_file_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = Dir::new();
    let path = dir.write("secret", "s3cret");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    // root reads any file, so this case only exists for other users (CI runners, laptops).
    if std::fs::read(&path).is_ok() {
        return;
    }
    let path = path.to_str().unwrap();
    assert_eq!(
        problems(&["--repo-url", URL, "--profile", "p", "--webhook-secret-file", path], &[]),
        [format!("--webhook-secret-file: file `{path}` cannot be read: permission denied")]
    );
}

#[test]
fn the_example_config_loads_with_its_secrets_in_place() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config-repo-example/cetusd.yaml");
    let example = example.to_str().unwrap();
    assert_eq!(
        problems(&["--config", example], &[]),
        [
            format!(
                "{example}:7:22: repo.auth.tokenFile: file `/secrets/git/token` does not exist"
            ),
            format!(
                "{example}:12:24: webhook.secretFile: file `/secrets/webhook/secret` does not exist"
            ),
            format!("{example}:13:15: apiTokenFile: file `/secrets/api/token` does not exist"),
        ]
    );
    let dir = Dir::new();
    let token = dir.write("token", "git-token\n");
    let secret = dir.write("secret", "  hook-secret\n");
    let api = dir.write("api", "api-token\n");
    let argv = [
        "--config",
        example,
        "--repo-token-file",
        token.to_str().unwrap(),
        "--webhook-secret-file",
        secret.to_str().unwrap(),
        "--api-token-file",
        api.to_str().unwrap(),
    ];
    let config = load_from(&argv, &[]).unwrap();
    assert_eq!(config.config_file.as_deref(), Some(Path::new(example)));
    assert_eq!(
        config.repo,
        RepoSettings {
            url: URL.into(),
            branch: "main".into(),
            interval: Duration::from_secs(60),
            auth: Auth::Token { token_file: token.clone() },
        }
    );
    assert_eq!(config.profile, "staging");
    assert_eq!(config.apps.patterns(), ["apps/*/cetus.yaml"]);
    assert!(config.apps.matches("apps/bookinfo/cetus.yaml"));
    assert!(
        !config.apps.matches("lib/postgres/cetus.yaml")
            && !config.apps.matches("apps/a/b/cetus.yaml")
    );
    assert_eq!(config.store, PathBuf::from("/var/lib/cetus"));
    assert_eq!(config.listen.to_string(), "0.0.0.0:8080");
    let webhook = config.webhook_secret.as_ref().unwrap();
    assert_eq!((&webhook.path, &webhook.value), (&secret, &Secret::new("hook-secret")));
    let api_token = config.api_token.as_ref().unwrap();
    assert!(api_token.value.matches("api-token") && !api_token.value.matches("api-token\n"));
    assert_eq!(
        config.sync,
        SyncSettings {
            prune: true,
            self_heal: true,
            allow_empty: false,
            ..SyncSettings::default()
        }
    );
    assert_eq!(config.policy.dependency_prefixes(), ["https://git.example.com/"]);
    assert_eq!(
        config.policy.dependency_auth(),
        [crate::source::git::HostAuth {
            host: "git.example.com".into(),
            auth: Auth::Token { token_file: token }
        }]
    );
    let webhooks = config.webhooks();
    assert_eq!(webhooks.repos, [FollowedRepo { url: URL.into(), branch: "main".into() }]);
    assert_eq!(webhooks.secrets.github, Some(Secret::new("hook-secret")));
}

#[test]
fn debug_output_redacts_secret_values() {
    let dir = Dir::new();
    let secret = dir.write("secret", "hook-secret-value");
    let api = dir.write("api", "api-token-value");
    let argv = [
        "--repo-url",
        URL,
        "--profile",
        "p",
        "--webhook-secret-file",
        secret.to_str().unwrap(),
        "--api-token-file",
        api.to_str().unwrap(),
    ];
    let shown = format!("{:?}", load_from(&argv, &[]).unwrap());
    assert!(!shown.contains("hook-secret-value") && !shown.contains("api-token-value"), "{shown}");
    assert!(
        shown.contains("Secret(<redacted>)") && shown.contains("ApiToken(<redacted>)"),
        "{shown}"
    );
    assert!(shown.contains(secret.to_str().unwrap()), "the paths are kept: {shown}");
}

#[test]
fn a_missing_config_file_is_an_io_error() {
    let err = load_from(&["--config", "/nonexistent/cetusd.yaml"], &[]).unwrap_err();
    assert_eq!(err.to_string(), "/nonexistent/cetusd.yaml: cannot read the daemon's config file");
    let ConfigError::Read { source, .. } = err else { panic!("{err:?}") };
    assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
    let from_env = load_from(&[], &[("CETUS_CONFIG", "/nonexistent/x.yaml")]).unwrap_err();
    assert_eq!(from_env.to_string(), "/nonexistent/x.yaml: cannot read the daemon's config file");
}
