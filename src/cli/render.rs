//! `cetus render [DIR] [--profile P] [--set path=value]... [-o yaml|json]`.
//!
//! Renders one app (a directory holding cetus.yaml) or every app under a directory, and
//! prints the manifests. Invalid input prints every problem on stderr and nothing on stdout.

use super::{Failure, Format, repo_root};
use crate::render::{RenderInput, Rendered, StdinReader, find_apps, render};
use crate::source::LocalTree;
use crate::source::git::{DependencyOptions, GitDependencies};
use serde_json::Value;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
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
    let objects: Vec<Value> = render_dir(&args.dir, args.profile.as_deref(), args.sets)?
        .into_iter()
        .flat_map(|rendered| rendered.objects.into_iter().map(|o| o.value))
        .collect();
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

/// Renders the app in `dir`, or every app below it, for `profile`. An app without that
/// profile is left out with a note on stderr; any invalid app fails the whole call (exit 1),
/// every problem listed.
pub fn render_dir(
    dir: &Path,
    profile: Option<&str>,
    sets: Vec<(String, Value)>,
) -> Result<Vec<Rendered>, Failure> {
    let canonical =
        dir.canonicalize().map_err(|e| Failure::input(format!("{}: {e}", dir.display())))?;
    let root = repo_root(&canonical);
    let tree =
        LocalTree::new(&root).map_err(|e| Failure::input(format!("{}: {e}", root.display())))?;
    let relative =
        canonical.strip_prefix(tree.root()).unwrap_or(&canonical).to_string_lossy().into_owned();
    let apps = find_apps(&tree, &relative).map_err(|e| Failure::input(crate::error_chain(&e)))?;
    let apps = if apps.contains(&relative) { vec![relative] } else { apps };
    if apps.is_empty() {
        return Err(Failure::input(format!("{}: no cetus.yaml here or below", dir.display())));
    }
    // Fetched only if an app has `git` dependencies.
    let git = GitDependencies::new(super::cache_dir().join("git"), DependencyOptions::default());
    let input = RenderInput {
        profile: profile.map(String::from),
        sets,
        stdin: Some(stdin_reader()),
        fetcher: Some(&git),
        ..RenderInput::default()
    };
    let mut rendered = Vec::new();
    let mut errors = Vec::new();
    for app in &apps {
        match render(&tree, app, &input) {
            Ok(Some(one)) => rendered.push(one),
            Ok(None) => eprintln!(
                "note: {app}: no profile `{}`; the app is not deployed there",
                profile.unwrap_or_default()
            ),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() { Ok(rendered) } else { Err(Failure::input(errors.join("\n"))) }
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
