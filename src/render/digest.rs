//! Hashes that identify what a render produced: the render's digest, the short hash in
//! immutable object names, and the canonical JSON both are computed over.
//!
//! Canonical JSON is the one serialization whose bytes depend only on the value: keys sorted
//! at every level, no whitespace. It does not parse or order objects (see `object`).

use super::object::Object;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::Write;

/// The digest of a render: `sha256:` and the sha256 of the canonical JSON of its ordered
/// manifests, as one list.
pub fn digest(objects: &[Object]) -> String {
    // The canonical JSON of the list `[o1,o2,...]`, streamed into the hash through a buffer
    // (serde_json writes many tiny pieces).
    let mut out = std::io::BufWriter::with_capacity(16 * 1024, HashWriter(Sha256::new()));
    let mut write = || -> std::io::Result<()> {
        out.write_all(b"[")?;
        for (i, object) in objects.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            write_canonical_json(&object.value, &mut out)?;
        }
        out.write_all(b"]")
    };
    write().expect("hashing cannot fail");
    let hasher = out.into_inner().map_err(|_| ()).expect("flushing into a hash cannot fail");
    format!("sha256:{}", hex::encode(hasher.0.finalize()))
}

/// A short hash of a value's canonical JSON, for immutable object names (`migrate-3f2a1c`).
pub fn short_hash(value: &Value) -> String {
    let mut hasher = HashWriter(Sha256::new());
    write_canonical_json(value, &mut hasher).expect("hashing cannot fail");
    hex::encode(&hasher.0.finalize()[..3])
}

/// Writes the canonical JSON of `value` (keys sorted at every level, no whitespace) to `out`.
///
/// `serde_json::Map` keeps keys sorted unless serde_json's `preserve_order` feature is on; a
/// test below fails if some dependency ever turns it on, because digests would then depend on
/// the order keys were written in.
pub fn write_canonical_json(value: &Value, out: impl Write) -> std::io::Result<()> {
    serde_json::to_writer(out, value).map_err(std::io::Error::other)
}

/// The canonical JSON of `value`, as a string (see [`write_canonical_json`]).
pub fn canonical_json(value: &Value) -> String {
    let mut out = Vec::new();
    write_canonical_json(value, &mut out).expect("writing to a Vec cannot fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Lets serde_json write straight into a hash.
struct HashWriter(Sha256);

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Source;
    use serde_json::{Map, json};

    #[test]
    fn digest_is_the_sha256_of_the_canonical_list() {
        let source = || Source { file: "f".into(), position: None, what: "x".into() };
        let objects = vec![
            Object::new(json!({"kind": "A", "b": 1}), source()),
            Object::new(json!({"kind": "B"}), source()),
        ];
        let list = Value::Array(objects.iter().map(|o| o.value.clone()).collect());
        let expected = hex::encode(Sha256::digest(canonical_json(&list).as_bytes()));
        assert_eq!(digest(&objects), format!("sha256:{expected}"));
    }

    #[test]
    fn json_maps_keep_keys_sorted() {
        let mut map = Map::new();
        map.insert("b".into(), Value::Null);
        map.insert("a".into(), Value::Null);
        assert_eq!(map.keys().collect::<Vec<_>>(), ["a", "b"], "serde_json/preserve_order is on");
    }

    #[test]
    fn canonical_json_sorts_keys() {
        let v: Value = serde_json::from_str(r#"{"b": 1, "a": {"d": 2, "c": [3]}}"#).unwrap();
        assert_eq!(canonical_json(&v), r#"{"a":{"c":[3],"d":2},"b":1}"#);
    }

    #[test]
    fn short_hashes_are_six_hex_digits_of_the_canonical_json() {
        let full = hex::encode(Sha256::digest(br#"{"a":1,"b":2}"#));
        assert_eq!(short_hash(&json!({"b": 2, "a": 1})), full[..6]);
    }
}
