//! `cetus render [DIR] [--profile P] [--set path=value]... [-o yaml|json]`.
//!
//! Renders one app (a directory holding cetus.yaml) or every app under a directory, and
//! prints the manifests. Invalid input prints every problem on stderr and nothing on stdout.

use super::{Failure, Format, repo_root};
use crate::render::{RenderInput, StdinReader, find_apps, render};
use crate::source::LocalTree;
use crate::source::git::{DependencyOptions, GitDependencies};
use serde_json::Value;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Arguments of `cetus render`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// An app directory (holding cetus.yaml), or a directory whose apps are all rendered.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The environment to render for; without it, the file as written, with no profile.
    #[arg(long, short)]
    pub profile: Option<String>,
    /// Sets a field after the profile, as a profile `replace` would (`services.web.replicas=3`).
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_set)]
    pub sets: Vec<(String, Value)>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Yaml)]
    pub output: Format,
}

/// Parses `path=value`; the value is read as YAML, so `3` is a number and `"3"` text.
fn parse_set(arg: &str) -> Result<(String, Value), String> {
    let (path, value) = arg.split_once('=').ok_or("expected PATH=VALUE")?;
    if path.is_empty() {
        return Err("expected PATH=VALUE with a non-empty path".into());
    }
    let value = crate::yaml::parse_document(value).map_err(|e| format!("the value: {e}"))?.value;
    Ok((path.to_string(), value))
}

/// Runs `cetus render`.
pub fn run(args: Args) -> Result<(), Failure> {
    let dir = args
        .dir
        .canonicalize()
        .map_err(|e| Failure::input(format!("{}: {e}", args.dir.display())))?;
    let root = repo_root(&dir);
    let tree =
        LocalTree::new(&root).map_err(|e| Failure::input(format!("{}: {e}", root.display())))?;
    let relative = dir.strip_prefix(tree.root()).unwrap_or(&dir).to_string_lossy().into_owned();
    let apps = find_apps(&tree, &relative)
        .map_err(|e| Failure::input(format!("{:#}", anyhow::Error::new(e))))?;
    let apps = if apps.contains(&relative) { vec![relative] } else { apps };
    if apps.is_empty() {
        return Err(Failure::input(format!("{}: no cetus.yaml here or below", args.dir.display())));
    }
    // Fetched only if an app has `git` dependencies.
    let git = GitDependencies::new(super::cache_dir().join("git"), DependencyOptions::default());
    let input = RenderInput {
        profile: args.profile.clone(),
        sets: args.sets,
        stdin: Some(stdin_reader()),
        fetcher: Some(&git),
        ..RenderInput::default()
    };
    let mut objects = Vec::new();
    let mut errors = Vec::new();
    for app in &apps {
        match render(&tree, app, &input) {
            Ok(Some(rendered)) => objects.extend(rendered.objects.into_iter().map(|o| o.value)),
            Ok(None) => eprintln!(
                "note: {app}: no profile `{}`; the app is not deployed there",
                args.profile.as_deref().unwrap_or_default()
            ),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if !errors.is_empty() {
        return Err(Failure::input(errors.join("\n")));
    }
    let text = match args.output {
        Format::Yaml => objects
            .iter()
            .map(|o| format!("---\n{}", crate::yaml::manifest_to_string(o)))
            .collect::<String>(),
        Format::Json => {
            let list = serde_json::json!({ "apiVersion": "v1", "kind": "List", "items": objects });
            format!("{}\n", serde_json::to_string_pretty(&list).unwrap_or_default())
        }
    };
    std::io::stdout().write_all(text.as_bytes()).map_err(|e| Failure::io(e.to_string()))
}

/// Reads standard input once, on first use; refuses a terminal (a var needs piped input).
fn stdin_reader() -> StdinReader {
    let cache: Mutex<Option<Result<String, String>>> = Mutex::new(None);
    Arc::new(move || {
        let mut cache = cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        cache
            .get_or_insert_with(|| {
                let mut stdin = std::io::stdin();
                if stdin.is_terminal() {
                    return Err("this var reads standard input: pipe its value in".into());
                }
                let mut text = String::new();
                stdin
                    .read_to_string(&mut text)
                    .map(|_| text)
                    .map_err(|e| format!("reading standard input: {e}"))
            })
            .clone()
    })
}
