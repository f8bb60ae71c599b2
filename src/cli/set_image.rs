//! `cetus set-image NAME=REPOSITORY:TAG [DIR]... [--profile P]`.
//!
//! Updates `images.NAME` in every cetus.yaml under the directories (or, with `--profile`, that
//! profile's `replace`), changing only the bytes of the image reference. Exits 1 when no file
//! has an image of that name.

use super::{Failure, Output};
use crate::render::{SPEC_FILE, find_apps};
use crate::source::LocalTree;
use crate::spec::{Change, ImageRef, set_image};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `cetus set-image`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The image to set: `NAME=REPOSITORY:TAG`, `NAME=REPOSITORY@DIGEST` or both.
    #[arg(value_name = "NAME=REF", value_parser = parse_assignment)]
    pub image: (String, ImageRef),
    /// Directories searched for cetus.yaml files.
    #[arg(default_value = ".")]
    pub dirs: Vec<PathBuf>,
    /// Set the image in this profile's `replace` instead of in `images`.
    #[arg(long, short)]
    pub profile: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

fn parse_assignment(arg: &str) -> Result<(String, ImageRef), String> {
    let (name, reference) = arg.split_once('=').ok_or("expected NAME=REPOSITORY:TAG")?;
    if name.is_empty() {
        return Err("expected NAME=REPOSITORY:TAG with a non-empty name".into());
    }
    Ok((name.to_string(), reference.parse()?))
}

/// The changes made to one file.
#[derive(serde::Serialize)]
struct FileChanges {
    file: String,
    changes: Vec<Change>,
}

/// Runs `cetus set-image`.
pub fn run(args: Args) -> Result<(), Failure> {
    let (name, image) = &args.image;
    let mut found = 0;
    let mut report = Vec::new();
    for dir in &args.dirs {
        for file in spec_files(dir)? {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure::io(format!("{}: {e}", file.display())))?;
            let edited = set_image(&text, name, image, args.profile.as_deref())
                .map_err(|e| Failure::input(format!("{}: {e}", file.display())))?;
            let Some((new_text, changes)) = edited else { continue };
            found += 1;
            if !changes.is_empty() {
                write_atomically(&file, &new_text)?;
                report.push(FileChanges { file: file.display().to_string(), changes });
            }
        }
    }
    if found == 0 {
        let place =
            args.profile.as_ref().map_or(String::new(), |p| format!(" with a profile `{p}`"));
        return Err(Failure::input(format!("no cetus.yaml{place} has an image `{name}`")));
    }
    let text = match args.output {
        Output::Json => format!("{}\n", serde_json::to_string_pretty(&report).unwrap_or_default()),
        Output::Text if report.is_empty() => format!("images `{name}` already at that reference\n"),
        Output::Text => report
            .iter()
            .flat_map(|f| f.changes.iter().map(move |c| format!("{}: {c}\n", f.file)))
            .collect(),
    };
    std::io::stdout().write_all(text.as_bytes()).map_err(|e| Failure::io(e.to_string()))
}

/// The cetus.yaml files under `dir` (hidden directories skipped).
fn spec_files(dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    let tree =
        LocalTree::new(dir).map_err(|e| Failure::input(format!("{}: {e}", dir.display())))?;
    let apps = find_apps(&tree, "").map_err(|e| Failure::io(e.to_string()))?;
    Ok(apps.iter().map(|app| dir.join(app).join(SPEC_FILE)).collect())
}

/// Writes through a temporary file and a rename, so a crash never leaves half a file.
fn write_atomically(path: &Path, text: &str) -> Result<(), Failure> {
    let fail = |e: std::io::Error| Failure::io(format!("{}: {e}", path.display()));
    let tmp = path.with_extension("yaml.cetus-tmp");
    std::fs::write(&tmp, text).map_err(fail)?;
    if let Ok(meta) = std::fs::metadata(path) {
        std::fs::set_permissions(&tmp, meta.permissions()).map_err(fail)?;
    }
    std::fs::rename(&tmp, path).map_err(fail)
}
