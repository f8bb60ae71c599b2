//! The repository paths an app reads besides its own directory, for change detection.
//!
//! The daemon re-renders an app only when something it reads changed; a tree diff gives the
//! changed paths, and [`references`] says which paths matter to an app.

use super::Spec;
use crate::source::{TreeError, normalize};

/// What an app reads, as repository paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References {
    /// Directories of `path` dependencies (each a cetus.yaml app of its own).
    pub path_dependencies: Vec<String>,
    /// Files and directories read directly: var files and `manifests` entries.
    pub files: Vec<String>,
    /// `git` dependencies, as `(url, ref)`.
    pub git_dependencies: Vec<(String, String)>,
}

/// The references of `spec`, whose cetus.yaml sits in directory `dir` of the repository.
///
/// Fails if a path leaves the repository; rendering would fail the same way.
pub fn references(spec: &Spec, dir: &str) -> Result<References, TreeError> {
    let mut refs = References::default();
    for dep in spec.dependencies.values() {
        match (&dep.git, &dep.path, &dep.reference) {
            (Some(url), _, Some(reference)) => {
                refs.git_dependencies.push((url.clone(), reference.clone()))
            }
            (None, Some(path), _) => refs.path_dependencies.push(normalize(dir, path)?),
            _ => {}
        }
    }
    for var in spec.vars.values() {
        if let Some(file) = &var.file {
            refs.files.push(normalize(dir, file)?);
        }
    }
    for entry in &spec.manifests {
        refs.files.push(normalize(dir, entry)?);
    }
    // Paths inside the app's directory change with it; only the ones outside are news.
    refs.files.retain(|f| f != dir && !f.starts_with(&format!("{dir}/")));
    Ok(refs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_paths_outside_the_app_directory() {
        let spec: Spec = serde_json::from_value(serde_json::json!({
            "name": "a",
            "vars": { "r": { "file": "../../shared/region.txt" }, "l": { "file": "local.txt" } },
            "manifests": ["extra/", "../common/crds"],
            "dependencies": {
                "db": { "path": "../../lib/postgres" },
                "cache": { "git": "https://git.example.com/redis.git", "ref": "v1" }
            }
        }))
        .unwrap();
        let refs = references(&spec, "apps/a").unwrap();
        assert_eq!(refs.path_dependencies, ["lib/postgres"]);
        assert_eq!(refs.files, ["shared/region.txt", "apps/common/crds"]);
        assert_eq!(
            refs.git_dependencies,
            [("https://git.example.com/redis.git".into(), "v1".into())]
        );
    }
}
