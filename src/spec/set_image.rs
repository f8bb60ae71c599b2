//! `cetus set-image`: point one image of a cetus.yaml at a new reference, changing no byte of
//! the file but the ones that hold the image's repository, tag or digest.
//!
//! CI pipelines run this and commit the result, and reviewers read the diff, so comments,
//! key order, quoting and indentation stay as they were. Scalars are rewritten in place in
//! their own quoting style; a missing entry is inserted after its siblings with their
//! indentation (or into a flow mapping `{ ... }`). Every edit is verified by parsing the
//! result: the document must equal the old one with just the image changed.

use crate::pointer::escape as esc;
use crate::yaml::{self, Document, Span, Style, encode_string};
use serde_json::Value;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

/// An image reference: `repository[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Registry and repository.
    pub repository: String,
    /// The tag, if given.
    pub tag: Option<String>,
    /// The digest (`sha256:...`), if given.
    pub digest: Option<String>,
}

impl FromStr for ImageRef {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (rest, digest) = match s.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest.to_string())),
            None => (s, None),
        };
        // A ':' before the last '/' is a registry port (`registry:5000/app`), not a tag.
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match rest[slash..].rfind(':') {
            Some(i) => (&rest[..slash + i], Some(rest[slash + i + 1..].to_string())),
            None => (rest, None),
        };
        if repository.is_empty() || tag.as_deref() == Some("") || digest.as_deref() == Some("") {
            return Err(format!(
                "`{s}` is not an image reference (REPOSITORY:TAG or REPOSITORY@DIGEST)"
            ));
        }
        if tag.is_none() && digest.is_none() {
            return Err(format!("`{s}` has neither a tag nor a digest"));
        }
        Ok(ImageRef { repository: repository.to_string(), tag, digest })
    }
}

/// One field changed by [`set_image`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// The field, as written in the file (`images.web.tag`, or a profile's replace key).
    pub field: String,
    /// The value before, if there was one.
    pub old: Option<String>,
    /// The value after.
    pub new: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.old {
            Some(old) => write!(f, "{}: {old} → {}", self.field, self.new),
            None => write!(f, "{}: {} (added)", self.field, self.new),
        }
    }
}

/// Why an image could not be set.
#[derive(Debug, thiserror::Error)]
pub enum SetImageError {
    /// The file is not valid YAML.
    #[error("{0}")]
    Yaml(#[from] yaml::YamlError),
    /// The edit would be wrong or cannot be made without changing the layout.
    #[error("{0}")]
    Refused(String),
}

/// Sets image `name` to `image` in the cetus.yaml `text`: in its `images` section, or with a
/// `profile`, in that profile's `replace` (adding `images.<name>.tag: ...` there if needed).
///
/// Returns `None` when the file has no image of that name (or no such profile); otherwise the
/// new text and the changes (empty when the image is already at that reference).
pub fn set_image(
    text: &str,
    name: &str,
    image: &ImageRef,
    profile: Option<&str>,
) -> Result<Option<(String, Vec<Change>)>, SetImageError> {
    let doc = yaml::parse_document(text)?;
    let base = format!("/images/{}", esc(name));
    let Some(current) = doc.value.pointer(&base).filter(|v| v.is_object()) else { return Ok(None) };
    let mut plan = Plan {
        text,
        doc: &doc,
        edits: Vec::new(),
        changes: Vec::new(),
        expected: doc.value.clone(),
    };
    let wanted = [
        ("repository", Some(&image.repository)),
        ("tag", image.tag.as_ref()),
        ("digest", image.digest.as_ref()),
    ];
    match profile {
        None => {
            for (field, value) in wanted {
                plan.set_in_map(&base, field, &format!("images.{name}.{field}"), value)?;
            }
        }
        Some(p) => {
            let at = format!("/profiles/{}", esc(p));
            if doc.value.pointer(&at).is_none() {
                return Ok(None);
            }
            for (field, value) in wanted {
                plan.set_in_profile(&at, name, field, value, current.get(field))?;
            }
        }
    }
    plan.finish().map(Some)
}

/// The edits planned on one file, and the document they must produce.
struct Plan<'a> {
    text: &'a str,
    doc: &'a Document,
    edits: Vec<(Range<usize>, String)>,
    changes: Vec<Change>,
    expected: Value,
}

impl Plan<'_> {
    /// Sets entry `key` of the mapping at `map` (`images.web`, a replace value, or a replace
    /// itself), reporting the change as `field`.
    fn set_in_map(
        &mut self,
        map: &str,
        key: &str,
        field: &str,
        value: Option<&String>,
    ) -> Result<(), SetImageError> {
        let at = format!("{map}/{}", esc(key));
        match (self.doc.value.pointer(&at), value) {
            (Some(Value::String(old)), Some(new)) if old == new => Ok(()),
            (Some(_), Some(new)) => self.replace_scalar(&at, field, new),
            (None, Some(new)) => self.insert(map, key, new, field),
            (Some(old), None) if key.ends_with("digest") => Err(SetImageError::Refused(format!(
                "{field}: the image is pinned to digest {old}; give a digest too \
                 (IMAGE=REPOSITORY:TAG@DIGEST)"
            ))),
            (_, None) => Ok(()),
        }
    }

    /// Sets `field` through a profile's `replace`: an existing `images.<name>.<field>` key,
    /// an `images.<name>` map, or a new `images.<name>.<field>` key when the base differs.
    fn set_in_profile(
        &mut self,
        profile: &str,
        name: &str,
        field: &str,
        value: Option<&String>,
        base: Option<&Value>,
    ) -> Result<(), SetImageError> {
        let replace = format!("{profile}/replace");
        let key = format!("images.{name}.{field}");
        let scalar_at = format!("{replace}/{}", esc(&key));
        let object_at = format!("{replace}/{}", esc(&format!("images.{name}")));
        if self.doc.value.pointer(&scalar_at).is_some() {
            return self.set_in_map(&replace, &key, &key, value);
        }
        if self.doc.value.pointer(&object_at).is_some_and(Value::is_object) {
            return self.set_in_map(&object_at, field, &key, value);
        }
        match (value, base) {
            (Some(new), Some(Value::String(old))) if old == new => Ok(()),
            (Some(new), _) if self.doc.value.pointer(&replace).is_some() => {
                self.insert(&replace, &key, new, &key)
            }
            (Some(new), _) => self.insert_nested(profile, "replace", &key, new),
            (None, Some(old)) if field == "digest" => Err(SetImageError::Refused(format!(
                "{key}: the image is pinned to digest {old}; give a digest too \
                 (IMAGE=REPOSITORY:TAG@DIGEST)"
            ))),
            (None, _) => Ok(()),
        }
    }

    fn span(&self, pointer: &str) -> Result<&Span, SetImageError> {
        self.doc
            .value_span(pointer)
            .ok_or_else(|| SetImageError::Refused(format!("cannot locate {pointer} in the file")))
    }

    fn replace_scalar(
        &mut self,
        pointer: &str,
        field: &str,
        new: &str,
    ) -> Result<(), SetImageError> {
        let span = self.span(pointer)?.clone();
        let style = match span.style {
            Some(Style::Block) | None => {
                return Err(SetImageError::Refused(format!(
                    "{field} is not a one-line scalar; edit it by hand"
                )));
            }
            Some(style) => style,
        };
        let old = self
            .doc
            .value
            .pointer(pointer)
            .map(|v| v.as_str().map_or(v.to_string(), str::to_string));
        self.edits.push((span.bytes.clone(), encode_string(new, style)));
        self.record(pointer, field, old, new);
        Ok(())
    }

    fn record(&mut self, pointer: &str, field: &str, old: Option<String>, new: &str) {
        if let Some(slot) = self.expected.pointer_mut(pointer) {
            *slot = Value::String(new.to_string());
        } else if let Some((parent, key)) = pointer.rsplit_once('/') {
            let key = crate::pointer::unescape(key).into_owned();
            if let Some(Value::Object(map)) = self.expected.pointer_mut(parent) {
                map.insert(key, Value::String(new.to_string()));
            }
        }
        self.changes.push(Change { field: field.to_string(), old, new: new.to_string() });
    }

    /// Inserts `key: value` as the last entry of the mapping at `map`.
    fn insert(
        &mut self,
        map: &str,
        key: &str,
        value: &str,
        field: &str,
    ) -> Result<(), SetImageError> {
        let entry =
            format!("{}: {}", encode_string(key, Style::Plain), encode_string(value, Style::Plain));
        let (at, text) = self.entry_insertion(map, &entry, None)?;
        self.edits.push((at..at, text));
        self.record(&format!("{map}/{}", esc(key)), field, None, value);
        Ok(())
    }

    /// Inserts `outer:` with one entry `key: value` under it into the mapping at `map`.
    fn insert_nested(
        &mut self,
        map: &str,
        outer: &str,
        key: &str,
        value: &str,
    ) -> Result<(), SetImageError> {
        let inner =
            format!("{}: {}", encode_string(key, Style::Plain), encode_string(value, Style::Plain));
        let (at, text) = self.entry_insertion(map, outer, Some(&inner))?;
        self.edits.push((at..at, text));
        if let Some(Value::Object(m)) = self.expected.pointer_mut(map) {
            m.insert(outer.to_string(), serde_json::json!({ key: value }));
        }
        self.changes.push(Change { field: key.to_string(), old: None, new: value.to_string() });
        Ok(())
    }

    /// Where and what to insert so the mapping at `map` gains `entry` (or `entry:` holding
    /// `inner`) as its last entry, in the mapping's own style.
    fn entry_insertion(
        &self,
        map: &str,
        entry: &str,
        inner: Option<&str>,
    ) -> Result<(usize, String), SetImageError> {
        let span = self.span(map)?;
        let source = &self.text[span.bytes.clone()];
        let empty =
            self.doc.value.pointer(map).and_then(Value::as_object).is_none_or(|m| m.is_empty());
        if source.starts_with('{') {
            let entry = match inner {
                Some(inner) => format!("{entry}: {{ {inner} }}"),
                None => entry.to_string(),
            };
            let close = span.bytes.end - 1;
            // Keep the mapping's own spacing: `{ a: 1 }` → `{ a: 1, b: 2 }`, `{}` → `{ b: 2 }`.
            let spaced = self.text[..close].ends_with(' ');
            let at = if spaced { close - 1 } else { close };
            let text = match (empty, spaced) {
                (false, _) => format!(", {entry}"),
                (true, true) => format!(" {entry}"),
                (true, false) => format!(" {entry} "),
            };
            return Ok((at, text));
        }
        if empty {
            return Err(SetImageError::Refused(format!(
                "{} is empty; add the entry by hand",
                crate::spec::field_path(map)
            )));
        }
        let (indent, end) = self.last_entry(map)?;
        let mut at = end;
        if !self.text[..at].ends_with('\n') {
            at = self.text[at..].find('\n').map_or(self.text.len(), |i| at + i + 1);
        }
        let pad = " ".repeat(indent);
        let mut text = match inner {
            Some(inner) => format!("{pad}{entry}:\n{pad}  {inner}\n"),
            None => format!("{pad}{entry}\n"),
        };
        if at == self.text.len() && !self.text.ends_with('\n') {
            text.insert(0, '\n');
            text.pop();
        }
        Ok((at, text))
    }

    /// The indentation of a block mapping's keys and the end of its last entry.
    fn last_entry(&self, map: &str) -> Result<(usize, usize), SetImageError> {
        let prefix = format!("{map}/");
        let children = self
            .doc
            .key_spans()
            .filter(|(p, _)| p.strip_prefix(&prefix).is_some_and(|rest| !rest.contains('/')));
        let (last, key) = children
            .max_by_key(|(_, s)| s.bytes.start)
            .ok_or_else(|| SetImageError::Refused(format!("{map} has no entries")))?;
        let within = format!("{last}/");
        let end = self
            .doc
            .value_spans()
            .chain(self.doc.key_spans())
            .filter(|(p, _)| *p == last || p.starts_with(&within))
            .map(|(_, s)| s.bytes.end)
            .max()
            .unwrap_or(key.bytes.end);
        Ok((key.start.column - 1, end))
    }

    /// Applies the edits back to front and checks the result.
    fn finish(mut self) -> Result<(String, Vec<Change>), SetImageError> {
        self.edits.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
        let mut out = self.text.to_string();
        for (range, replacement) in &self.edits {
            out.replace_range(range.clone(), replacement);
        }
        let after = yaml::parse_document(&out)?;
        if after.value != self.expected {
            return Err(SetImageError::Refused(
                "the edit would change more than the image; edit the file by hand".into(),
            ));
        }
        Ok((out, self.changes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(s: &str) -> ImageRef {
        s.parse().unwrap()
    }

    #[test]
    fn parses_references() {
        assert_eq!(
            image("r.io:5000/a/b:v1"),
            ImageRef { repository: "r.io:5000/a/b".into(), tag: Some("v1".into()), digest: None }
        );
        assert_eq!(image("a@sha256:00").digest.as_deref(), Some("sha256:00"));
        assert!("r.io:5000/a".parse::<ImageRef>().is_err(), "a port is not a tag");
        assert!("a:".parse::<ImageRef>().is_err());
    }

    #[test]
    fn rewrites_only_the_tag_bytes_in_flow_style() {
        let text = "images:\n  web: { repository: r/web, tag: \"1.9\" } # pinned\n";
        let (out, changes) = set_image(text, "web", &image("r/web:1.10"), None).unwrap().unwrap();
        assert_eq!(out, "images:\n  web: { repository: r/web, tag: \"1.10\" } # pinned\n");
        assert_eq!(
            changes,
            [Change {
                field: "images.web.tag".into(),
                old: Some("1.9".into()),
                new: "1.10".into()
            }]
        );
    }

    #[test]
    fn plain_tags_that_would_read_as_numbers_get_quoted() {
        let (out, _) = set_image(
            "images:\n  w:\n    repository: r\n    tag: v1\n",
            "w",
            &image("r:1.10"),
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(out, "images:\n  w:\n    repository: r\n    tag: \"1.10\"\n");
    }

    #[test]
    fn inserts_a_missing_tag_after_its_siblings() {
        let text = "images:\n  w:\n    repository: r   # the registry\n    digest: sha256:ab\nservices: {}\n";
        let (out, _) = set_image(text, "w", &image("r:v2@sha256:ab"), None).unwrap().unwrap();
        assert_eq!(
            out,
            "images:\n  w:\n    repository: r   # the registry\n    digest: sha256:ab\n    tag: v2\nservices: {}\n"
        );
        let (out, _) = set_image(
            "images: { w: { repository: r, digest: sha256:ab } }\n",
            "w",
            &image("r:v2@sha256:ab"),
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(out, "images: { w: { repository: r, digest: sha256:ab, tag: v2 } }\n");
    }

    #[test]
    fn refuses_to_drop_a_digest() {
        let err = set_image(
            "images: { w: { repository: r, digest: sha256:ab } }\n",
            "w",
            &image("r:v2"),
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("pinned to digest"), "{err}");
    }

    #[test]
    fn absent_image_or_profile_is_none() {
        assert!(set_image("images: {}\n", "w", &image("r:v2"), None).unwrap().is_none());
        assert!(
            set_image(
                "images: { w: { repository: r, tag: a } }\n",
                "w",
                &image("r:v2"),
                Some("qa")
            )
            .unwrap()
            .is_none()
        );
    }

    #[test]
    fn profile_edits_its_replace_key_or_adds_one() {
        let text = "images: { w: { repository: r, tag: a } }\nprofiles:\n  staging:\n    replace:\n      images.w.tag: b # CI\n  prod:\n    namespace: p\n";
        let (out, _) = set_image(text, "w", &image("r:c"), Some("staging")).unwrap().unwrap();
        assert_eq!(out, text.replace("images.w.tag: b", "images.w.tag: c"));
        let (out, changes) = set_image(text, "w", &image("r:c"), Some("prod")).unwrap().unwrap();
        assert_eq!(out, format!("{text}    replace:\n      images.w.tag: c\n"));
        assert_eq!(changes[0].field, "images.w.tag");
    }
}
