//! Raw manifests listed under `manifests:`: files or directories of multi-document YAML (or
//! JSON), vars interpolated, put in the app's namespace when they are namespaced and name none.
//!
//! A kind is cluster-scoped if it is a built-in cluster-scoped kind or a CustomResourceDefinition
//! in the same render says `scope: Cluster`; any other kind is taken as namespaced.
//!
//! Nothing under an entry is skipped quietly: what cannot be listed or read, and an entry that
//! is neither a file nor a directory (a git submodule), is an error naming its path.

use super::limits::{Reader, tree_message};
use super::object::{Object, Source, is_cluster_scoped, stamped};
use super::vars::{Vars, interpolate};
use crate::source::{EntryKind, Tree, join, normalize};
use crate::spec::{Diagnostic, Origin, Origins};
use crate::yaml::Position;
use serde_json::Value;
use std::collections::BTreeSet;

/// One parsed manifest document, before it becomes an [`Object`].
struct Raw {
    value: Value,
    file: String,
    position: Position,
}

/// Where a spec's manifests are read from, and what they are interpolated with.
pub struct Context<'a> {
    /// The files.
    pub tree: &'a dyn Tree,
    /// The directory of the cetus.yaml.
    pub dir: &'a str,
    /// The cetus.yaml, for errors about its `manifests` entries.
    pub file: &'a str,
    /// Its origins.
    pub origins: &'a Origins,
    /// Its resolved vars.
    pub vars: &'a Vars,
    /// Reads the files, within the render's limits.
    pub reader: &'a Reader<'a>,
}

/// Loads the `manifests` entries of a spec, for `app`, defaulting to `namespace`.
pub fn load(
    entries: &[String],
    ctx: &Context,
    app: &str,
    namespace: &str,
) -> Result<Vec<Object>, Vec<Diagnostic>> {
    let Context { tree, dir, file, origins, reader, .. } = *ctx;
    let mut errors = Vec::new();
    let mut raws = Vec::new();
    'entries: for (i, entry) in entries.iter().enumerate() {
        let fail = |m: String| Diagnostic::at(file, origins, &format!("/manifests/{i}"), m);
        match files_of(tree, dir, entry) {
            Ok(paths) => {
                for path in paths {
                    read_file(tree, &path, ctx, &mut raws, &mut errors);
                    if reader.exhausted() {
                        break 'entries; // every further read would fail the same way
                    }
                }
            }
            Err(message) => errors.push(fail(message)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let cluster_kinds = cluster_scoped_crd_kinds(&raws);
    Ok(raws
        .into_iter()
        .map(|mut raw| {
            let kind = raw.value["kind"].as_str().unwrap_or_default().to_string();
            let namespaced = !is_cluster_scoped(&kind) && !cluster_kinds.contains(&kind);
            if namespaced && raw.value.pointer("/metadata/namespace").is_none() {
                raw.value["metadata"]["namespace"] = namespace.into();
            }
            if kind == "Secret" {
                fold_string_data(&mut raw.value);
            }
            let name = raw.value["metadata"]["name"].as_str().unwrap_or_default().to_string();
            let what = format!("{kind} {name}");
            stamped(raw.value, app, Source { file: raw.file, position: Some(raw.position), what })
        })
        .collect())
}

/// Moves a Secret's `stringData` into `data`, base64-encoded, as the API server stores it.
///
/// `stringData` is write-only: the live object only ever has `data`, so applying `stringData`
/// would show as a difference on every diff.
fn fold_string_data(secret: &mut Value) {
    use base64::Engine;
    let Some(Value::Object(strings)) = secret.as_object_mut().and_then(|o| o.remove("stringData"))
    else {
        return;
    };
    let mut data = secret["data"].as_object().cloned().unwrap_or_default();
    for (key, value) in strings {
        let text = match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        data.insert(key, base64::engine::general_purpose::STANDARD.encode(text).into());
    }
    secret["data"] = Value::Object(data);
}

/// The manifest files an entry names: itself, or the YAML and JSON files under a directory.
fn files_of(tree: &dyn Tree, dir: &str, entry: &str) -> Result<Vec<String>, String> {
    let path = normalize(dir, entry).map_err(|e| e.to_string())?;
    match tree.kind(&path).map_err(|e| tree_message(&e))? {
        None => Err(format!("{path}: no such file or directory")),
        Some(EntryKind::File) => Ok(vec![path]),
        Some(EntryKind::Dir) => {
            let mut files = Vec::new();
            collect(tree, &path, &mut files)?;
            Ok(files)
        }
        Some(EntryKind::Other) => Err(not_a_file(&path)),
    }
}

fn collect(tree: &dyn Tree, dir: &str, out: &mut Vec<String>) -> Result<(), String> {
    for entry in tree.list(dir).map_err(|e| tree_message(&e))? {
        let path = join(dir, &entry.name);
        match entry.kind {
            EntryKind::Dir => collect(tree, &path, out)?,
            EntryKind::File
                if [".yaml", ".yml", ".json"].iter().any(|x| entry.name.ends_with(x)) =>
            {
                out.push(path)
            }
            EntryKind::File => {}
            // A submodule's manifests would be missing from the render without a word.
            EntryKind::Other => return Err(not_a_file(&path)),
        }
    }
    Ok(())
}

fn not_a_file(path: &str) -> String {
    format!("{path}: neither a file nor a directory (a git submodule, a socket or a device)")
}

fn read_file(
    tree: &dyn Tree,
    path: &str,
    ctx: &Context,
    raws: &mut Vec<Raw>,
    errors: &mut Vec<Diagnostic>,
) {
    let text = match ctx.reader.text(tree, path) {
        Ok(text) => text,
        Err(diagnostic) => return errors.push(diagnostic),
    };
    let docs = match crate::yaml::parse_stream_with(&text, &ctx.reader.yaml()) {
        Ok(docs) => docs,
        Err(e) => {
            return errors.push(Diagnostic {
                file: path.to_string(),
                origin: Some(Origin::At(e.position)),
                field: None,
                message: e.message,
            });
        }
    };
    for doc in docs {
        let position = doc.value_span("").map(|s| s.start).unwrap_or_default();
        let (mut value, origins) = Origins::split(doc);
        interpolate(&mut value, "", ctx.vars, path, &origins, errors);
        let items = match value.get("kind").and_then(Value::as_str) {
            Some("List") => {
                value.get("items").and_then(Value::as_array).cloned().unwrap_or_default()
            }
            _ => vec![value],
        };
        for value in items {
            match check(&value) {
                Ok(()) => raws.push(Raw { value, file: path.to_string(), position }),
                Err(message) => errors.push(Diagnostic::at(path, &origins, "", message)),
            }
        }
    }
}

/// A manifest needs a map with `apiVersion`, `kind` and `metadata.name`.
fn check(value: &Value) -> Result<(), String> {
    if !value.is_object() {
        return Err("a manifest must be a map".into());
    }
    for (pointer, field) in
        [("/apiVersion", "apiVersion"), ("/kind", "kind"), ("/metadata/name", "metadata.name")]
    {
        if value.pointer(pointer).and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(format!("a manifest needs `{field}` (a non-empty string)"));
        }
    }
    Ok(())
}

fn cluster_scoped_crd_kinds(raws: &[Raw]) -> BTreeSet<String> {
    raws.iter()
        .filter(|r| {
            r.value["kind"] == "CustomResourceDefinition" && r.value["spec"]["scope"] == "Cluster"
        })
        .filter_map(|r| r.value["spec"]["names"]["kind"].as_str().map(str::to_string))
        .collect()
}
