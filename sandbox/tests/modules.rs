//! The module graph of `sandbox/src` has no circle: read every `crate::`, `super::` and
//! `self::` path of every file (in `use` lines and inline alike), and at every level of the
//! module tree check that the sibling modules do not depend on each other in a circle. A
//! new circle fails `cargo test` with the chain it found.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module path, e.g. `["verbs", "patch"]`; the crate root is `[]`.
type ModPath = Vec<String>;

/// Every module file under `src` with its module path.
fn module_files(src: &Path) -> BTreeMap<ModPath, String> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("a readable source directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).expect("under src");
            let mut parts: ModPath = rel
                .iter()
                .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
                .collect();
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
                parts.pop();
            }
            out.insert(parts, std::fs::read_to_string(&path).expect("a readable source file"));
        }
    }
    out
}

/// The code of a line without its comment (doc comments included).
fn code(line: &str) -> &str {
    line.find("//").map_or(line, |i| &line[..i])
}

/// The paths a file names: `crate::a::b`, `super::x`, `self::y`, and each first-level
/// member of a braced group (`crate::{a, b::c}`), as written (prefix included).
fn named_paths(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let flat: String = text.lines().map(code).collect::<Vec<_>>().join(" ");
    let bytes: Vec<char> = flat.chars().collect();
    let ident = |i: &mut usize| {
        let start = *i;
        while *i < bytes.len() && (bytes[*i].is_alphanumeric() || bytes[*i] == '_') {
            *i += 1;
        }
        bytes[start..*i].iter().collect::<String>()
    };
    let mut i = 0;
    while i < bytes.len() {
        let boundary = i == 0 || !(bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_');
        let rest: String = bytes[i..bytes.len().min(i + 7)].iter().collect();
        let prefix = ["crate::", "super::", "self::"].into_iter().find(|p| rest.starts_with(p));
        let (Some(prefix), true) = (prefix, boundary) else {
            i += 1;
            continue;
        };
        let mut path = vec![prefix.trim_end_matches("::").to_string()];
        i += prefix.len();
        loop {
            if bytes.get(i) == Some(&'{') {
                // One level of a braced group: each member's first segment.
                let mut depth = 0;
                let mut member = String::new();
                let mut members = Vec::new();
                for &c in &bytes[i..] {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        ',' if depth == 1 => members.push(std::mem::take(&mut member)),
                        _ if depth == 1 => member.push(c),
                        _ => {}
                    }
                    i += 1;
                    if depth == 0 {
                        break;
                    }
                }
                members.push(member);
                for m in members {
                    let seg: Vec<String> = m
                        .split("::")
                        .map(|s| s.split_whitespace().next().unwrap_or("").to_string())
                        .take_while(|s| !s.is_empty() && !s.starts_with('{'))
                        .collect();
                    let mut p = path.clone();
                    p.extend(seg.into_iter().filter(|s| s != "self"));
                    out.push(p);
                }
                break;
            }
            let seg = ident(&mut i);
            if seg.is_empty() {
                break;
            }
            path.push(seg);
            if bytes.get(i) == Some(&':') && bytes.get(i + 1) == Some(&':') {
                i += 2;
            } else {
                break;
            }
        }
        if path.len() > 1 || prefix == "super::" {
            out.push(path);
        }
    }
    out
}

/// The module a written path refers to, from the module `from`: the longest prefix that
/// is a module file.
fn resolve(
    from: &[String],
    written: &[String],
    modules: &BTreeMap<ModPath, String>,
) -> Option<ModPath> {
    let (mut base, rest): (ModPath, &[String]) = match written[0].as_str() {
        "crate" => (Vec::new(), &written[1..]),
        "self" => (from.to_vec(), &written[1..]),
        "super" => {
            let mut b = from.to_vec();
            let mut r = written;
            while r.first().map(String::as_str) == Some("super") {
                b.pop();
                r = &r[1..];
            }
            (b, r)
        }
        _ => return None,
    };
    let mut found = modules.contains_key(&base).then(|| base.clone());
    for seg in rest {
        base.push(seg.clone());
        if modules.contains_key(&base) {
            found = Some(base.clone());
        } else {
            break;
        }
    }
    found
}

/// A circle among the children of some module, as `a -> b -> a` (with full paths).
fn find_circle(modules: &BTreeMap<ModPath, String>) -> Option<String> {
    let mut deps: BTreeSet<(ModPath, ModPath)> = BTreeSet::new();
    for (from, text) in modules {
        for written in named_paths(text) {
            if let Some(to) = resolve(from, &written, modules) {
                deps.insert((from.clone(), to));
            }
        }
    }
    for parent in modules.keys() {
        let child_of = |m: &ModPath| {
            (m.len() > parent.len() && m.starts_with(parent)).then(|| m[..=parent.len()].to_vec())
        };
        let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
        for (from, to) in &deps {
            if let (Some(a), Some(b)) = (child_of(from), child_of(to))
                && a != b
            {
                edges.entry(a).or_default().insert(b);
            }
        }
        if let Some(circle) = circle_in(&edges) {
            let names: Vec<String> = circle.iter().map(|m| m.join("::")).collect();
            return Some(names.join(" -> "));
        }
    }
    None
}

/// A circle in a directed graph, first node repeated at the end.
fn circle_in(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Option<Vec<ModPath>> {
    fn visit(
        node: &ModPath,
        edges: &BTreeMap<ModPath, BTreeSet<ModPath>>,
        stack: &mut Vec<ModPath>,
        done: &mut BTreeSet<ModPath>,
    ) -> Option<Vec<ModPath>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut circle = stack[at..].to_vec();
            circle.push(node.clone());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, edges, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    edges.keys().find_map(|n| visit(n, edges, &mut Vec::new(), &mut done))
}

#[test]
fn the_sandbox_module_graph_has_no_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = module_files(&src);
    assert!(modules.len() > 40, "read the whole crate: {} modules", modules.len());
    assert_eq!(find_circle(&modules), None);
}

fn tree(files: &[(&str, &str)]) -> BTreeMap<ModPath, String> {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    module_files(dir.path())
}

#[test]
fn the_check_finds_circles_at_every_level() {
    let top = tree(&[
        ("lib.rs", "pub mod a; pub mod b;"),
        ("a.rs", "use crate::b::Thing;"),
        ("b/mod.rs", "mod inner;"),
        ("b/inner.rs", "fn f() { crate::a::g() } // crate::nothing::here"),
    ]);
    assert_eq!(find_circle(&top).as_deref(), Some("a -> b -> a"));
    let nested = tree(&[
        ("lib.rs", "pub mod v;"),
        ("v/mod.rs", "mod x; mod y; use self::x::X;"),
        ("v/x.rs", "use super::{y::Y, Call};"),
        ("v/y.rs", "use super::x::{self, X};"),
    ]);
    assert_eq!(find_circle(&nested).as_deref(), Some("v::x -> v::y -> v::x"));
    let fine = tree(&[
        ("lib.rs", "pub mod a; pub mod b;"),
        ("a.rs", "use crate::b;"),
        ("b.rs", "/// Unlike [`crate::a`], ...\nuse super::Root;"),
    ]);
    assert_eq!(find_circle(&fine), None);
}
