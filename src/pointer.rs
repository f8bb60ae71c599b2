//! JSON pointers (RFC 6901): the address of one node of a document, shared by every layer.
//! The YAML parser records spans by pointer, `spec` keeps origins and names fields by
//! pointer, `render` points its errors and profile patches at them.
//!
//! This module owns the syntax only: escaping a segment, appending one, reading one back. It
//! does not look anything up in a value (`serde_json::Value::pointer` does) and does not know
//! what a document is.

use std::borrow::Cow;

/// Escapes one segment: `~` becomes `~0` and `/` becomes `~1`.
// `#[inline]`: the parser calls it for every mapping key, from another module.
#[inline]
pub fn escape(segment: &str) -> Cow<'_, str> {
    if segment.contains(['~', '/']) {
        segment.replace('~', "~0").replace('/', "~1").into()
    } else {
        segment.into()
    }
}

/// Reads one escaped segment back: the inverse of [`escape`].
pub fn unescape(segment: &str) -> Cow<'_, str> {
    if segment.contains('~') {
        // `~1` before `~0`, as RFC 6901 says: the other order turns `~01` (a literal `~1`)
        // into `/`.
        segment.replace("~1", "/").replace("~0", "~").into()
    } else {
        segment.into()
    }
}

/// Appends `/segment`, escaped, to `pointer`.
#[inline]
pub fn push(pointer: &mut String, segment: &str) {
    pointer.push('/');
    pointer.push_str(&escape(segment));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_round_trip_through_escaping() {
        for (raw, escaped) in
            [("a", "a"), ("cetus.dev/prune", "cetus.dev~1prune"), ("~1", "~01"), ("a~/b", "a~0~1b")]
        {
            assert_eq!(escape(raw), escaped);
            assert_eq!(unescape(escaped), raw);
        }
        let mut pointer = "/metadata".to_string();
        push(&mut pointer, "annotations");
        push(&mut pointer, "cetus.dev/prune");
        assert_eq!(pointer, "/metadata/annotations/cetus.dev~1prune");
    }
}
