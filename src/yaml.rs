//! YAML in and out, behind one small module so the parser can be swapped.
//!
//! Parsing turns YAML into `serde_json::Value` (the shape the rest of Cetus works on) and keeps
//! where every node came from: the line and column of each value and each mapping key, by
//! JSON pointer, and their byte ranges, so errors can point at `file:line:column` and
//! `cetus set-image` can rewrite one scalar without touching the bytes around it.
//!
//! Scalars resolve by the YAML 1.2 core schema: `yes`, `on` and `no` are strings, and only
//! `true`/`false` are booleans. Anchors, aliases and `<<` merge keys are supported; duplicate
//! keys and non-scalar keys are errors. What aliases may copy is capped ([`Limits`]), so a
//! "billion laughs" document fails fast instead of eating memory. The parser is
//! `granit-parser`, through `serde-saphyr` (the YAML stack kube-rs itself uses), so Cetus
//! carries one YAML implementation.
//!
//! This module does not know what a cetus.yaml or a Kubernetes object is. The syntax of the
//! JSON pointers it records is [`crate::pointer`]'s; hashing values is the render's
//! (`render::digest`).

use serde_json::{Map, Number, Value};
use serde_saphyr::granit_parser::{Event, Marker, Parser, ScalarStyle, Span as RawSpan, Tag};
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

/// A position in a source file, both 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    /// Line number, from 1.
    pub line: usize,
    /// Column number, from 1, counted in characters.
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Where a node sits in its source: its start position and its byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The first character of the node.
    pub start: Position,
    /// The bytes the node covers: a quoted scalar with its quotes, a flow collection with its
    /// brackets; a block collection ends where the parser saw it end (often the next line).
    pub bytes: Range<usize>,
    /// How a scalar was written; `None` for collections.
    pub style: Option<Style>,
}

/// How a scalar was written in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Unquoted.
    Plain,
    /// `'single quoted'`.
    SingleQuoted,
    /// `"double quoted"`.
    DoubleQuoted,
    /// A `|` or `>` block scalar.
    Block,
}

/// A YAML syntax error, with the position it was found at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{position}: {message}")]
pub struct YamlError {
    /// Where the problem is.
    pub position: Position,
    /// What is wrong, in the parser's words.
    pub message: String,
}

/// Where one node of a document is: its value and, for a mapping entry, its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpans {
    /// The node's JSON pointer.
    pub pointer: String,
    /// The span of its value.
    pub value: Span,
    /// The span of its key, when the node is the value of a mapping entry.
    pub key: Option<Span>,
}

/// One parsed YAML document: its value and where each of its nodes came from.
#[derive(Debug, Clone, Default)]
pub struct Document {
    /// The document as JSON.
    pub value: Value,
    /// Node spans in document order; lookups are linear, which suits the few a caller makes.
    nodes: Vec<NodeSpans>,
}

impl Document {
    /// The span of the value at a JSON pointer (`""` is the whole document).
    pub fn value_span(&self, pointer: &str) -> Option<&Span> {
        self.nodes.iter().find(|n| n.pointer == pointer).map(|n| &n.value)
    }

    /// The span of the mapping key whose value is at `pointer`.
    pub fn key_span(&self, pointer: &str) -> Option<&Span> {
        self.nodes.iter().find(|n| n.pointer == pointer).and_then(|n| n.key.as_ref())
    }

    /// Every value span, by JSON pointer (for callers that carry spans through edits).
    pub fn value_spans(&self) -> impl Iterator<Item = (&str, &Span)> {
        self.nodes.iter().map(|n| (n.pointer.as_str(), &n.value))
    }

    /// Every key span, by the JSON pointer of the key's value.
    pub fn key_spans(&self) -> impl Iterator<Item = (&str, &Span)> {
        self.nodes.iter().filter_map(|n| Some((n.pointer.as_str(), n.key.as_ref()?)))
    }

    /// The spans of every node, in document order.
    pub fn nodes(&self) -> &[NodeSpans] {
        &self.nodes
    }

    /// Takes the document apart: its value and the spans of its nodes.
    pub fn into_parts(self) -> (Value, Vec<NodeSpans>) {
        (self.value, self.nodes)
    }
}

/// Caps on what one parse builds.
///
/// serde-saphyr's own `Budget` guards its deserializer, which this module does not use (it
/// builds values from parser events to keep spans), and its event pre-scan counts alias
/// events, not what they copy: a billion-laughs document has under a hundred. So the cap is
/// kept here, on the nodes aliases copy, which is what costs memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The most nodes (scalars and collections) that aliases may copy in one source, all
    /// aliases together: 100,000 by default.
    pub max_alias_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_alias_nodes: 100_000 }
    }
}

/// Parses a source that must hold at most one document (an empty source is `null`).
pub fn parse_document(source: &str) -> Result<Document, YamlError> {
    parse_document_with(source, &Limits::default())
}

/// [`parse_document`] with the given limits.
pub fn parse_document_with(source: &str, limits: &Limits) -> Result<Document, YamlError> {
    let mut docs = parse_stream_with(source, limits)?;
    match docs.len() {
        0 => Ok(Document { value: Value::Null, ..Document::default() }),
        1 => Ok(docs.remove(0)),
        _ => {
            let position = docs[1].value_span("").map(|s| s.start).unwrap_or_default();
            Err(YamlError {
                position,
                message: "expected a single YAML document, found several".into(),
            })
        }
    }
}

/// Parses a multi-document stream; empty or `null` documents are skipped, as kubectl does.
pub fn parse_stream(source: &str) -> Result<Vec<Document>, YamlError> {
    parse_stream_with(source, &Limits::default())
}

/// [`parse_stream`] with the given limits.
pub fn parse_stream_with(source: &str, limits: &Limits) -> Result<Vec<Document>, YamlError> {
    let mut builder = Builder::new(source, limits);
    for event in Parser::new_from_str(source) {
        let (event, span) = event.map_err(|e| YamlError {
            position: builder.position(e.marker()),
            message: e.kind().to_string(),
        })?;
        builder.event(event, span)?;
    }
    Ok(builder.documents)
}

/// Serializes a value as one YAML document (block style, keys in the map's order).
pub fn to_string(value: &Value) -> String {
    // Serializing a serde_json::Value cannot fail: every key is a string, every number finite.
    serde_saphyr::to_string(value).expect("a JSON value always serializes to YAML")
}

/// Serializes a Kubernetes manifest as one YAML document, with `apiVersion`, `kind` and
/// `metadata` first (and `name`, `namespace` first in `metadata`), as people expect to read it.
pub fn manifest_to_string(value: &Value) -> String {
    serde_saphyr::to_string(&Manifest(value)).expect("a JSON value always serializes to YAML")
}

/// A manifest whose first keys come in reading order; the rest stay sorted.
struct Manifest<'a>(&'a Value);

impl serde::Serialize for Manifest<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let Value::Object(map) = self.0 else { return self.0.serialize(serializer) };
        let first = ["apiVersion", "kind", "metadata"];
        let mut out = serializer.serialize_map(Some(map.len()))?;
        for key in first.iter().filter(|k| map.contains_key(**k)) {
            match (*key, &map[*key]) {
                ("metadata", Value::Object(meta)) => out.serialize_entry(key, &Metadata(meta))?,
                (_, value) => out.serialize_entry(key, value)?,
            }
        }
        for (key, value) in map.iter().filter(|(k, _)| !first.contains(&k.as_str())) {
            out.serialize_entry(key, value)?;
        }
        out.end()
    }
}

struct Metadata<'a>(&'a Map<String, Value>);

impl serde::Serialize for Metadata<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let first = ["name", "namespace"];
        let mut out = serializer.serialize_map(Some(self.0.len()))?;
        for key in first.iter().filter(|k| self.0.contains_key(**k)) {
            out.serialize_entry(key, &self.0[*key])?;
        }
        for (key, value) in self.0.iter().filter(|(k, _)| !first.contains(&k.as_str())) {
            out.serialize_entry(key, value)?;
        }
        out.end()
    }
}

/// Writes `text` as a YAML scalar that reads back as exactly that string, in `preferred`
/// style when it can: plain only if plain reads back as this string (`1.10` would be a
/// number) and is safe in flow collections; single quotes when preferred; else double quotes.
pub fn encode_string(text: &str, preferred: Style) -> String {
    const SPECIAL_START: &[char] = &[
        '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@',
        '`', ' ',
    ];
    let plain_ok = !text.is_empty()
        && !text.starts_with(SPECIAL_START)
        && !text.ends_with([' ', ':'])
        && !text.contains(": ")
        && !text.contains(" #")
        && !text.contains([',', '[', ']', '{', '}', '\n', '\t', '\r'])
        && !matches!(
            text,
            "y" | "Y" | "n" | "N" | "yes" | "no" | "on" | "off" | "Yes" | "No" | "On" | "Off"
        )
        && resolve_plain(text) == Value::String(text.to_string());
    match preferred {
        Style::Plain if plain_ok => text.to_string(),
        Style::SingleQuoted if !text.contains(['\n', '\r', '\t']) => {
            format!("'{}'", text.replace('\'', "''"))
        }
        // A JSON string is a valid YAML double-quoted scalar.
        _ => Value::String(text.to_string()).to_string(),
    }
}

/// Builds values from parser events, recording spans by JSON pointer.
struct Builder<'s> {
    source: &'s str,
    /// Byte offset of the start of each line, to turn markers into byte ranges.
    line_starts: Vec<usize>,
    stack: Vec<Frame>,
    /// Anchored values by id, with their size in nodes (what an alias of them copies).
    anchors: HashMap<usize, (Value, usize)>,
    /// Nodes copied by aliases so far, against `max_alias_nodes`.
    alias_nodes: usize,
    max_alias_nodes: usize,
    current: Document,
    documents: Vec<Document>,
}

enum Frame {
    Mapping {
        map: Map<String, Value>,
        pointer: String,
        span: Span,
        anchor: usize,
        /// The key waiting for its value: its text, span, and whether it is `<<`.
        key: Option<(String, Span, bool)>,
        merges: Vec<Value>,
        /// Nodes in it so far, itself included.
        nodes: usize,
    },
    Sequence {
        items: Vec<Value>,
        pointer: String,
        span: Span,
        anchor: usize,
        nodes: usize,
    },
}

impl Frame {
    fn nodes(&mut self) -> &mut usize {
        match self {
            Frame::Mapping { nodes, .. } | Frame::Sequence { nodes, .. } => nodes,
        }
    }
}

impl<'s> Builder<'s> {
    fn new(source: &'s str, limits: &Limits) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        Self {
            source,
            line_starts,
            stack: Vec::new(),
            anchors: HashMap::new(),
            alias_nodes: 0,
            max_alias_nodes: limits.max_alias_nodes,
            current: Document::default(),
            documents: Vec::new(),
        }
    }

    fn position(&self, marker: &Marker) -> Position {
        Position { line: marker.line(), column: marker.col() + 1 }
    }

    fn byte_offset(&self, marker: &Marker) -> usize {
        if let Some(offset) = marker.byte_offset() {
            return offset;
        }
        let line_start = self.line_starts.get(marker.line().saturating_sub(1)).copied();
        let line_start = line_start.unwrap_or(self.source.len());
        let rest = &self.source[line_start..];
        line_start + rest.char_indices().nth(marker.col()).map_or(rest.len(), |(i, _)| i)
    }

    fn span(&self, raw: &RawSpan, style: Option<Style>) -> Span {
        Span {
            start: self.position(&raw.start),
            bytes: self.byte_offset(&raw.start)..self.byte_offset(&raw.end),
            style,
        }
    }

    fn error(&self, span: &Span, message: impl Into<String>) -> YamlError {
        YamlError { position: span.start, message: message.into() }
    }

    /// The pointer of the node that starts now, as a child of the top frame.
    fn child_pointer(&self) -> String {
        match self.stack.last() {
            None => String::new(),
            Some(Frame::Mapping { pointer, key: Some((k, _, _)), .. }) => {
                let mut child = String::with_capacity(pointer.len() + k.len() + 1);
                child.push_str(pointer);
                crate::pointer::push(&mut child, k);
                child
            }
            // A key is being read: keys have no pointer of their own.
            Some(Frame::Mapping { pointer, key: None, .. }) => pointer.clone(),
            Some(Frame::Sequence { items, pointer, .. }) => {
                use std::fmt::Write;
                let mut child = pointer.clone();
                let _ = write!(child, "/{}", items.len()); // writing to a String cannot fail
                child
            }
        }
    }

    fn reading_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Mapping { key: None, .. }))
    }

    fn event(&mut self, event: Event<'_>, raw: RawSpan) -> Result<(), YamlError> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let span = self.span(&raw, Some(style_of(style)));
                if self.reading_key() {
                    return self.key(text.into_owned(), span, style);
                }
                let value = resolve_scalar(&text, style, tag.as_deref())
                    .map_err(|message| self.error(&span, message))?;
                if anchor != 0 {
                    self.anchors.insert(anchor, (value.clone(), 1));
                }
                self.node(value, span, 1)
            }
            Event::Alias(id) => {
                let span = self.span(&raw, None);
                if self.reading_key() {
                    return Err(self.error(&span, "an alias cannot be a mapping key"));
                }
                // The parser knows the anchor; only one still open (an alias inside the
                // collection it names) is missing here.
                let Some((value, nodes)) = self.anchors.get(&id) else {
                    return Err(self.error(&span, "an alias cannot refer to a collection it is in"));
                };
                let nodes = *nodes;
                self.alias_nodes = self.alias_nodes.saturating_add(nodes);
                if self.alias_nodes > self.max_alias_nodes {
                    let message = format!(
                        "aliases copy more than {} nodes, the most one file may expand to",
                        self.max_alias_nodes
                    );
                    return Err(self.error(&span, message));
                }
                let value = value.clone();
                self.node(value, span, nodes)
            }
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                let span = self.span(&raw, None);
                if self.reading_key() {
                    return Err(self.error(&span, "mapping keys must be scalars"));
                }
                let pointer = self.child_pointer();
                self.stack.push(if matches!(event, Event::MappingStart(..)) {
                    let (map, key, merges) = (Map::new(), None, Vec::new());
                    Frame::Mapping { map, pointer, span, anchor, key, merges, nodes: 1 }
                } else {
                    Frame::Sequence { items: Vec::new(), pointer, span, anchor, nodes: 1 }
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let end = self.byte_offset(&raw.end);
                self.end_collection(end)
            }
            Event::DocumentEnd => {
                let doc = std::mem::take(&mut self.current);
                // An empty document (`---` and comments) is a null scalar: nothing to keep.
                if !doc.value.is_null() {
                    self.documents.push(doc);
                }
                self.anchors.clear();
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn key(&mut self, text: String, span: Span, style: ScalarStyle) -> Result<(), YamlError> {
        let Some(Frame::Mapping { map, key, pointer, .. }) = self.stack.last_mut() else {
            unreachable!("reading_key checked the top frame");
        };
        let is_merge = text == "<<" && style == ScalarStyle::Plain;
        if !is_merge && map.contains_key(&text) {
            let at = format!("{pointer}/{}", crate::pointer::escape(&text));
            let first = self.current.key_span(&at).map(|s| s.start).unwrap_or_default();
            return Err(YamlError {
                position: span.start,
                message: format!("duplicate key `{text}` (first defined at {first})"),
            });
        }
        *key = Some((text, span, is_merge));
        Ok(())
    }

    /// Closes the top collection; `end` is where its closing event ends (after a flow `}`).
    fn end_collection(&mut self, end: usize) -> Result<(), YamlError> {
        let frame = self.stack.pop().expect("the parser balances collection events");
        let (value, mut span, anchor, nodes) = match frame {
            Frame::Mapping { mut map, span, anchor, merges, nodes, .. } => {
                // Explicit keys win over merged ones, whatever their order (YAML merge keys).
                for merged in merges {
                    if let Value::Object(entries) = merged {
                        for (k, v) in entries {
                            map.entry(k).or_insert(v);
                        }
                    }
                }
                (Value::Object(map), span, anchor, nodes)
            }
            Frame::Sequence { items, span, anchor, nodes, .. } => {
                (Value::Array(items), span, anchor, nodes)
            }
        };
        span.bytes.end = span.bytes.end.max(end);
        if anchor != 0 {
            self.anchors.insert(anchor, (value.clone(), nodes));
        }
        self.node(value, span, nodes)
    }

    /// Attaches a finished node of `nodes` nodes to its parent (or makes it the document).
    fn node(&mut self, value: Value, span: Span, nodes: usize) -> Result<(), YamlError> {
        let pointer = self.child_pointer();
        if let Some(parent) = self.stack.last_mut() {
            let count = parent.nodes();
            *count = count.saturating_add(nodes);
        }
        match self.stack.last_mut() {
            None => {
                self.current.nodes.push(NodeSpans { pointer, value: span, key: None });
                self.current.value = value;
            }
            Some(Frame::Sequence { items, .. }) => {
                self.current.nodes.push(NodeSpans { pointer, value: span, key: None });
                items.push(value);
            }
            Some(Frame::Mapping { map, key, merges, .. }) => {
                let (text, key_span, is_merge) = key.take().expect("a value follows its key");
                if is_merge {
                    match value {
                        Value::Object(_) => merges.push(value),
                        Value::Array(list) if list.iter().all(Value::is_object) => {
                            merges.extend(list)
                        }
                        _ => {
                            return Err(self.error(&span, "a `<<` merge key needs a mapping"));
                        }
                    }
                    return Ok(());
                }
                self.current.nodes.push(NodeSpans { pointer, value: span, key: Some(key_span) });
                map.insert(text, value);
            }
        }
        Ok(())
    }
}

fn style_of(style: ScalarStyle) -> Style {
    match style {
        ScalarStyle::Plain => Style::Plain,
        ScalarStyle::SingleQuoted => Style::SingleQuoted,
        ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
        _ => Style::Block,
    }
}

const CORE_TAG: &str = "tag:yaml.org,2002:";

/// Resolves a scalar to a JSON value by its tag, or by the YAML 1.2 core schema when plain.
fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    if let Some(tag) = tag.filter(|t| t.handle() == CORE_TAG) {
        let wanted = tag.suffix();
        let value = match wanted {
            "str" | "binary" | "timestamp" => return Ok(Value::String(text.to_string())),
            _ => resolve_plain(text),
        };
        let ok = match wanted {
            "null" => value.is_null(),
            "bool" => value.is_boolean(),
            "int" => value.is_i64() || value.is_u64(),
            "float" => value.is_number(),
            _ => true,
        };
        return if ok { Ok(value) } else { Err(format!("`{text}` is not a valid !!{wanted}")) };
    }
    if style != ScalarStyle::Plain {
        return Ok(Value::String(text.to_string()));
    }
    Ok(resolve_plain(text))
}

fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(n) = parse_int(text) {
        return Value::Number(n);
    }
    if looks_like_float(text)
        && let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64)
    {
        return Value::Number(n);
    }
    // `.inf` and `.nan` have no JSON form: they stay strings.
    Value::String(text.to_string())
}

fn parse_int(text: &str) -> Option<Number> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(hex) = digits.strip_prefix("0x") {
        (16, hex)
    } else if let Some(octal) = digits.strip_prefix("0o") {
        (8, octal)
    } else {
        (10, digits)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    if radix != 10 && text.starts_with(['-', '+']) {
        return None; // the core schema has no signed hex or octal
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        let n = i64::try_from(magnitude).ok()?;
        Some(Number::from(-n))
    } else {
        Some(Number::from(magnitude))
    }
}

fn looks_like_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = digits(int) && digits(frac) && !(int.is_empty() && frac.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok && (mantissa.contains('.') || exponent.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resolves_core_schema_scalars() {
        let doc = parse_document(
            "a: 1\nb: -2\nc: 1.5\nd: true\ne: yes\nf: ~\ng: '3'\nh: 0x1f\ni: 1e3\nj: .inf\nk: 08\n",
        )
        .unwrap();
        assert_eq!(
            doc.value,
            json!({"a": 1, "b": -2, "c": 1.5, "d": true, "e": "yes", "f": null, "g": "3",
                   "h": 31, "i": 1000.0, "j": ".inf", "k": 8})
        );
    }

    #[test]
    fn records_value_and_key_positions() {
        let src = "name: web\nservices:\n  web:\n    ports: [ { port: 80 } ]\n";
        let doc = parse_document(src).unwrap();
        let at = |p: &str| doc.value_span(p).unwrap().start;
        assert_eq!(at("/name"), Position { line: 1, column: 7 });
        assert_eq!(at("/services/web/ports/0/port"), Position { line: 4, column: 22 });
        assert_eq!(doc.key_span("/services/web").unwrap().start, Position { line: 3, column: 3 });
        let name = doc.value_span("/name").unwrap();
        assert_eq!(&src[name.bytes.clone()], "web");
    }

    #[test]
    fn byte_ranges_cover_quotes_and_count_multibyte_characters() {
        let src = "é: \"x\"\nb: 'y'\n";
        let doc = parse_document(src).unwrap();
        assert_eq!(&src[doc.value_span("/é").unwrap().bytes.clone()], "\"x\"");
        assert_eq!(&src[doc.value_span("/b").unwrap().bytes.clone()], "'y'");
        assert_eq!(doc.value_span("/b").unwrap().style, Some(Style::SingleQuoted));
    }

    #[test]
    fn flow_collections_span_their_brackets() {
        let src = "a: { b: [1, 2], c: 3 }\n";
        let doc = parse_document(src).unwrap();
        assert_eq!(&src[doc.value_span("/a").unwrap().bytes.clone()], "{ b: [1, 2], c: 3 }");
        assert_eq!(&src[doc.value_span("/a/b").unwrap().bytes.clone()], "[1, 2]");
    }

    #[test]
    fn encoded_strings_read_back_as_themselves() {
        for (text, style, expected) in [
            ("v1.2", Style::Plain, "v1.2"),
            ("1.10", Style::Plain, "\"1.10\""),
            ("on", Style::Plain, "\"on\""),
            ("a: b", Style::Plain, "\"a: b\""),
            ("it's", Style::SingleQuoted, "'it''s'"),
            ("x", Style::DoubleQuoted, "\"x\""),
        ] {
            let encoded = encode_string(text, style);
            assert_eq!(encoded, expected);
            let doc = parse_document(&format!("k: {{ v: {encoded} }}")).unwrap();
            assert_eq!(doc.value["k"]["v"], text);
        }
    }

    #[test]
    fn syntax_error_has_a_position() {
        let err = parse_document("a: 1\nb: [1, 2\n").unwrap_err();
        assert_eq!(err.to_string(), "2:4: unclosed bracket '['");
    }

    #[test]
    fn duplicate_key_is_an_error_naming_both() {
        let err = parse_document("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.to_string(), "3:1: duplicate key `a` (first defined at 1:1)");
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let doc = parse_document("base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\nd: *b\n").unwrap();
        assert_eq!(doc.value["c"], json!({"x": 1, "y": 3}));
        assert_eq!(doc.value["d"], json!({"x": 1, "y": 2}));
    }

    /// Nine levels of nine aliases each: 9^9 (387 million) strings once expanded.
    fn billion_laughs() -> String {
        let mut doc = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..=9 {
            let p = i - 1;
            doc.push_str(&format!("a{i}: &a{i} [{}]\n", vec![format!("*a{p}"); 9].join(", ")));
        }
        doc
    }

    #[test]
    fn a_billion_laughs_fails_at_the_alias_that_crosses_the_cap() {
        let err = parse_document(&billion_laughs()).unwrap_err();
        // a4 is 66,430 nodes; a1 to a4 copied 74,718 between them, so the first alias in a5
        // (line 6) crosses 100,000.
        assert_eq!(
            err.to_string(),
            "6:10: aliases copy more than 100000 nodes, the most one file may expand to"
        );
    }

    #[test]
    fn aliases_within_the_cap_parse() {
        let limits = Limits { max_alias_nodes: 5 };
        // `*b` copies 2 nodes (the map and its value; keys are not nodes), twice: 4.
        let doc = parse_document_with("b: &b {x: 1}\nc: *b\nd: *b\n", &limits).unwrap();
        assert_eq!(doc.value["d"], json!({"x": 1}));
        let err = parse_document_with("b: &b {x: 1}\nc: *b\nd: *b\ne: *b\n", &limits).unwrap_err();
        assert_eq!(
            err.to_string(),
            "4:4: aliases copy more than 5 nodes, the most one file may expand to"
        );
    }

    #[test]
    fn an_alias_inside_its_own_anchor_is_an_error() {
        let err = parse_document("a: &x [1, *x]\n").unwrap_err();
        assert_eq!(err.to_string(), "1:11: an alias cannot refer to a collection it is in");
    }

    #[test]
    fn streams_skip_empty_documents() {
        let docs = parse_stream("---\n# nothing\n---\na: 1\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].value, json!({"b": 2}));
        assert_eq!(docs[1].value_span("/b").unwrap().start.line, 6);
        assert!(parse_document("a: 1\n---\nb: 2\n").is_err());
    }

    #[test]
    fn manifests_print_identity_first() {
        let v = json!({"spec": {"a": 1}, "metadata": {"labels": {"x": "z"}, "name": "web"}, "kind": "K", "apiVersion": "v1"});
        assert_eq!(
            manifest_to_string(&v),
            "apiVersion: v1\nkind: K\nmetadata:\n  name: web\n  labels:\n    x: z\nspec:\n  a: 1\n"
        );
        // YAML 1.1 readers (kubectl's) would take a bare `y` or `on` for a boolean: quoted.
        assert_eq!(to_string(&json!({"a": "y", "b": "on"})), "a: \"y\"\nb: \"on\"\n");
    }

    #[test]
    fn round_trips_through_yaml_text() {
        let v = json!({"a": "on", "b": "1", "c": 1, "d": ["x", {"e": null}], "f": "multi\nline"});
        assert_eq!(parse_document(&to_string(&v)).unwrap().value, v);
    }
}
