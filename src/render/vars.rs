//! Vars: resolving each var's value, and `${name}` interpolation.
//!
//! A string that is exactly `${name}` becomes the var's value with its type (a number stays a
//! number); inside a longer string the value is printed. `$${` is a literal `${`. An unknown
//! var is an error at the string that uses it.

use super::RenderInput;
use super::limits::Reader;
use crate::pointer::escape as esc;
use crate::source::{Tree, normalize};
use crate::spec::{Diagnostic, Origins, Var};
use serde_json::Value;
use std::collections::BTreeMap;

/// Resolved vars, by name.
pub type Vars = BTreeMap<String, Value>;

/// Resolves every var of a document: `env`, then `default`; `file`; `stdin`.
pub fn resolve(
    vars: &BTreeMap<String, Var>,
    tree: &dyn Tree,
    dir: &str,
    file: &str,
    origins: &Origins,
    input: &RenderInput,
    reader: &Reader,
) -> Result<Vars, Vec<Diagnostic>> {
    let mut resolved = Vars::new();
    let mut errors = Vec::new();
    for (name, var) in vars {
        let at = format!("/vars/{}", esc(name));
        match resolve_one(name, var, tree, dir, input, reader) {
            Ok(value) => {
                resolved.insert(name.clone(), value);
            }
            Err((field, message)) => {
                errors.push(Diagnostic::at(file, origins, &format!("{at}{field}"), message))
            }
        }
    }
    if errors.is_empty() { Ok(resolved) } else { Err(errors) }
}

/// One var's value, or the sub-field to blame and why.
fn resolve_one(
    name: &str,
    var: &Var,
    tree: &dyn Tree,
    dir: &str,
    input: &RenderInput,
    reader: &Reader,
) -> Result<Value, (&'static str, String)> {
    if let Some(env) = &var.env {
        return match (input.env)(env) {
            Some(value) => Ok(Value::String(value)),
            None => var.default.clone().ok_or_else(|| {
                (
                    "/env",
                    format!(
                        "environment variable `{env}` is not set and var `{name}` has no default"
                    ),
                )
            }),
        };
    }
    if let Some(path) = &var.file {
        let full = normalize(dir, path).map_err(|e| ("/file", e.to_string()))?;
        let text = reader.text(tree, &full).map_err(|d| ("/file", d.to_string()))?;
        return Ok(Value::String(text.trim_end_matches(['\n', '\r']).to_string()));
    }
    if var.stdin == Some(true) {
        return match &input.stdin {
            Some(read) => match read() {
                Ok(text) => Ok(Value::String(text.trim_end_matches(['\n', '\r']).to_string())),
                Err(message) => Err(("/stdin", message)),
            },
            None => Err((
                "/stdin",
                format!(
                    "var `{name}` reads standard input, which only the CLI provides; the daemon refuses stdin vars"
                ),
            )),
        };
    }
    Ok(var.default.clone().unwrap_or(Value::Null))
}

/// Interpolates every string under `value` (at `pointer`), collecting errors.
pub fn interpolate(
    value: &mut Value,
    pointer: &str,
    vars: &Vars,
    file: &str,
    origins: &Origins,
    errors: &mut Vec<Diagnostic>,
) {
    let report =
        &mut |at: String, message: String| errors.push(Diagnostic::at(file, origins, &at, message));
    walk(value, &|| pointer.to_string(), vars, report);
}

/// Walks a value; `at` builds the node's pointer, only when an error needs it.
fn walk(
    value: &mut Value,
    at: &dyn Fn() -> String,
    vars: &Vars,
    report: &mut dyn FnMut(String, String),
) {
    match value {
        Value::String(text) if text.contains('$') => match expand(text, vars) {
            Ok(Some(new)) => *value = new,
            Ok(None) => {}
            Err(message) => report(at(), message),
        },
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, &|| format!("{}/{i}", at()), vars, report);
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                walk(item, &|| format!("{}/{}", at(), esc(key)), vars, report);
            }
        }
        _ => {}
    }
}

/// Expands one string; `None` when it holds no `${` at all (nothing to replace).
fn expand(text: &str, vars: &Vars) -> Result<Option<Value>, String> {
    if let Some(name) = text.strip_prefix("${").and_then(|t| t.strip_suffix('}'))
        && is_var_name(name)
    {
        return lookup(name, vars).map(|v| Some(v.clone()));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
            changed = true;
        } else if let Some(after) = tail.strip_prefix("${") {
            let end = after.find('}').ok_or_else(|| format!("unterminated `${{` in {text:?}"))?;
            let name = &after[..end];
            if !is_var_name(name) {
                return Err(format!(
                    "`${{{name}}}` is not a var reference: var names are letters, digits, '_' and '-'"
                ));
            }
            match lookup(name, vars)? {
                Value::String(s) => out.push_str(s),
                Value::Null => {}
                other => out.push_str(&other.to_string()),
            }
            rest = &after[end + 1..];
            changed = true;
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(changed.then_some(Value::String(out)))
}

fn is_var_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn lookup<'v>(name: &str, vars: &'v Vars) -> Result<&'v Value, String> {
    vars.get(name).ok_or_else(|| {
        let nearest = vars
            .keys()
            .map(|k| (strsim::damerau_levenshtein(name, k), k))
            .filter(|(d, k)| *d <= (k.len() / 3).max(1))
            .min()
            .map(|(_, k)| format!("; did you mean `{k}`?"));
        let known = if vars.is_empty() {
            "; this file defines no vars".to_string()
        } else {
            nearest.unwrap_or_else(|| {
                format!("; vars defined: {}", vars.keys().cloned().collect::<Vec<_>>().join(", "))
            })
        };
        format!("unknown var `{name}`{known}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> Vars {
        [("replicas", json!(2)), ("region", json!("eu")), ("on", json!(true))]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    #[test]
    fn whole_scalar_keeps_the_type_inside_a_string_prints_it() {
        assert_eq!(expand("${replicas}", &vars()).unwrap(), Some(json!(2)));
        assert_eq!(expand("${on}", &vars()).unwrap(), Some(json!(true)));
        assert_eq!(expand("x-${replicas}-${region}", &vars()).unwrap(), Some(json!("x-2-eu")));
        assert_eq!(
            expand("$${region} costs $5", &vars()).unwrap(),
            Some(json!("${region} costs $5"))
        );
        assert_eq!(expand("$$ and $", &vars()).unwrap(), None);
    }

    #[test]
    fn unknown_and_malformed_references() {
        assert_eq!(
            expand("${regoin}", &vars()).unwrap_err(),
            "unknown var `regoin`; did you mean `region`?"
        );
        assert_eq!(
            expand("${zzz}", &vars()).unwrap_err(),
            "unknown var `zzz`; vars defined: on, region, replicas"
        );
        assert!(expand("${region", &vars()).unwrap_err().starts_with("unterminated"));
        assert!(expand("${a b}", &vars()).unwrap_err().contains("not a var reference"));
    }
}
