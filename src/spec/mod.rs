//! The cetus.yaml format: its types, reading it with positions, and the rules it must follow.
//!
//! This module owns the contract of DESIGN §3 as data: [`Spec`] and its parts, the reading of a
//! value into them (with errors that name `file:line:column`, the field and the rule, and
//! suggest the nearest valid key for a typo), the semantic checks ([`validate`]), and the
//! [`Origins`] that keep positions true while profiles edit a document. Applying profiles and
//! vars, and generating Kubernetes objects, belong to `render`.

mod de;
mod origin;
mod references;
mod set_image;
mod types;
mod validate;

pub use de::describe;
pub use origin::{Origin, Origins};
pub use references::{References, references};
pub use set_image::{Change, ImageRef, SetImageError, set_image};
pub use types::*;
pub use validate::{is_dns_label, is_dns_subdomain, parse_duration, validate};

use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt;

/// One problem with the input, located as precisely as the input allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, relative to the repository (or `<command line>`).
    pub file: String,
    /// Where in the file, when known.
    pub origin: Option<Origin>,
    /// The field, as a dotted path (`services.web.replicas`), or a JSON pointer for patches.
    pub field: Option<String>,
    /// What rule was broken.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic for the node at `pointer` of a document from `file`.
    pub fn at(file: &str, origins: &Origins, pointer: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.to_string(),
            origin: origins.value(pointer).cloned(),
            field: Some(field_path(pointer)).filter(|f| !f.is_empty()),
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Some(Origin::At(p)) => write!(f, "{}:{}:{}: ", self.file, p.line, p.column)?,
            Some(Origin::Flag(flag)) => write!(f, "{} ({flag}): ", self.file)?,
            None => write!(f, "{}: ", self.file)?,
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Turns a JSON pointer into the dotted path users write (`services.web.ports[0].port`).
/// Keys that contain dots or slashes are quoted: `annotations["cetus.dev/prune"]`.
pub fn field_path(pointer: &str) -> String {
    let mut out = String::new();
    for raw in pointer.split('/').skip(1) {
        let segment = crate::pointer::unescape(raw);
        if segment.parse::<usize>().is_ok() && !out.is_empty() {
            out.push_str(&format!("[{segment}]"));
        } else if segment.contains(['.', '/', '[', ' ']) || segment.is_empty() {
            out.push_str(&format!("[{segment:?}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    out
}

/// Reads the value at `pointer` into `T`, locating any error in `file` through `origins`.
///
/// An unknown key is reported at the key itself with the nearest valid key suggested.
pub fn read<T: DeserializeOwned>(
    value: &Value,
    pointer: &str,
    file: &str,
    origins: &Origins,
) -> Result<T, Diagnostic> {
    // The fast path; tracking the path costs an allocation per key, so only on failure.
    if let Ok(parsed) = T::deserialize(value) {
        return Ok(parsed);
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let mut at = pointer.to_string();
        for segment in err.path().iter() {
            use serde_path_to_error::Segment;
            match segment {
                Segment::Seq { index } => at.push_str(&format!("/{index}")),
                Segment::Map { key } => {
                    at.push('/');
                    at.push_str(&crate::pointer::escape(key));
                }
                Segment::Enum { .. } | Segment::Unknown => {}
            }
        }
        let message = err.inner().to_string();
        match unknown_key(&message) {
            Some((key, expected)) => {
                // The path may or may not already end in the offending key.
                let escaped = crate::pointer::escape(&key);
                let key_at = match at.strip_suffix(escaped.as_ref()) {
                    Some(parent) if parent.ends_with('/') => {
                        let key_at = at.clone();
                        at = parent.trim_end_matches('/').to_string();
                        key_at
                    }
                    _ => format!("{at}/{escaped}"),
                };
                let mut diagnostic = Diagnostic::at(file, origins, &key_at, "");
                diagnostic.origin = origins.key(&key_at).cloned();
                diagnostic.field = Some(field_path(&at)).filter(|f| !f.is_empty());
                diagnostic.message = unknown_key_message(&key, &expected);
                diagnostic
            }
            None => Diagnostic::at(file, origins, &at, tidy_serde_message(&message)),
        }
    })
}

/// Picks apart serde's "unknown field `x`, expected one of `a`, `b`" message.
fn unknown_key(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (key, rest) = rest.split_once('`')?;
    let expected = rest.split('`').skip(1).step_by(2).map(str::to_string).collect();
    Some((key.to_string(), expected))
}

/// The message for an unknown key, suggesting the nearest expected one: a key that differs
/// only in case, `_` or `-` (`target_port`, as other tools spell it) always matches, else the
/// closest by edit distance if it is close enough. Shared by cetus.yaml and cetusd.yaml.
pub fn unknown_key_message<S: AsRef<str>>(key: &str, expected: &[S]) -> String {
    let expected: Vec<&str> = expected.iter().map(AsRef::as_ref).collect();
    let folded = |k: &str| k.replace(['_', '-'], "").to_ascii_lowercase();
    let same = expected.iter().find(|candidate| folded(candidate) == folded(key));
    let nearest = same.map(|c| (0, *c)).or_else(|| {
        expected
            .iter()
            .map(|candidate| (strsim::damerau_levenshtein(key, candidate), *candidate))
            .filter(|(distance, candidate)| *distance <= (candidate.len() / 3).max(2))
            .min()
    });
    match nearest {
        Some((_, suggestion)) => format!("unknown key `{key}`; did you mean `{suggestion}`?"),
        None if expected.is_empty() => format!("unknown key `{key}`; no keys are allowed here"),
        None => format!("unknown key `{key}`; expected one of: {}", expected.join(", ")),
    }
}

/// Rewords serde's type names (`u16`, `i64`) for people who write YAML.
fn tidy_serde_message(message: &str) -> String {
    let mut out = message.to_string();
    for (from, to) in [
        ("expected i64", "expected an integer"),
        ("expected u16", "expected an integer"),
        ("expected a boolean", "expected true or false"),
        ("expected a sequence", "expected a list"),
        ("expected struct ", "expected a map: "),
        ("expected a map: ", "expected a map ("),
    ] {
        out = out.replace(from, to);
    }
    if out.contains("expected a map (") {
        out.push(')');
    }
    out.replace("unknown variant", "unknown value")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_document;

    fn read_spec(src: &str) -> Result<Spec, String> {
        let doc = parse_document(src).unwrap();
        read::<Spec>(&doc.value, "", "cetus.yaml", &Origins::of(&doc)).map_err(|d| d.to_string())
    }

    #[test]
    fn field_paths_read_like_yaml() {
        assert_eq!(field_path("/services/web/ports/0/port"), "services.web.ports[0].port");
        assert_eq!(
            field_path("/services/web/annotations/cetus.dev~1prune"),
            "services.web.annotations[\"cetus.dev/prune\"]"
        );
        assert_eq!(field_path(""), "");
    }

    #[test]
    fn unknown_key_is_located_at_the_key_with_a_suggestion() {
        let err = read_spec("name: a\nservices:\n  web:\n    image: x\n    replcas: 2\n");
        assert_eq!(
            err.unwrap_err(),
            "cetus.yaml:5:5: services.web: unknown key `replcas`; did you mean `replicas`?"
        );
    }

    #[test]
    fn unknown_key_far_from_any_lists_the_valid_ones() {
        let err = read_spec("name: a\nimages:\n  web: { repository: x, zzzzzz: 1 }\n");
        assert_eq!(
            err.unwrap_err(),
            "cetus.yaml:3:25: images.web: unknown key `zzzzzz`; expected one of: repository, tag, digest"
        );
    }

    #[test]
    fn wrong_type_names_the_field_and_the_rule() {
        let err = read_spec("name: a\nservices:\n  web:\n    image: x\n    replicas: lots\n");
        assert_eq!(
            err.unwrap_err(),
            "cetus.yaml:5:15: services.web.replicas: invalid type: string \"lots\", expected an integer"
        );
        let err = read_spec("name: a\nservices:\n  web: { image: x, expose: Public }\n");
        assert_eq!(
            err.unwrap_err(),
            "cetus.yaml:3:28: services.web.expose: unknown value `Public`, expected one of \
             `ClusterIP`, `NodePort`, `LoadBalancer`"
        );
    }

    #[test]
    fn lenient_scalars() {
        let spec = read_spec(
            "name: a\nservices:\n  web: { image: x, replicas: '3', env: { A: 1, B: true } }\n",
        )
        .unwrap();
        let web = &spec.services["web"];
        assert_eq!(web.replicas, Some(3));
        assert_eq!(web.env["A"], "1");
        assert_eq!(web.env["B"], "true");
    }
}
