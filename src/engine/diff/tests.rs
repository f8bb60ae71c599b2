use super::*;
use std::path::Path;

fn testdata() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine/diff/testdata")
}

fn load(name: &str) -> Value {
    let source = std::fs::read_to_string(testdata().join(name)).expect("fixture is readable");
    crate::yaml::parse_document(&source).unwrap_or_else(|e| panic!("{name}: {e}")).value
}

/// Each fixture holds `before` and/or `after` (live objects as the API server answers them,
/// or dry-run results), the exact `diff` text expected (`""` for none), and `hidden`: text
/// that must appear nowhere in the output, coloured or not.
#[test]
fn fixtures() {
    let mut names: Vec<String> = std::fs::read_dir(testdata())
        .expect("testdata is readable")
        .map(|entry| entry.expect("testdata entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    names.sort();
    let mut failures = Vec::new();
    let mut changes = std::collections::BTreeSet::new();
    for name in &names {
        let fixture = load(name);
        let (before, after) = (fixture.get("before"), fixture.get("after"));
        let key = ObjectKey::of(after.or(before).expect("a side"));
        let diff = diff_object(&key, before, after);
        let text = diff.as_ref().map(|d| d.text.as_str()).unwrap_or_default();
        let expected = fixture["diff"].as_str().unwrap_or_else(|| panic!("{name}: no `diff:`"));
        if text != expected {
            failures.push(format!("{name}: expected\n{expected}\ngot\n{text}"));
        }
        let output = [render(diff.as_slice(), false), render(diff.as_slice(), true)].concat();
        for hidden in fixture["hidden"].as_array().into_iter().flatten() {
            let hidden = hidden.as_str().expect("hidden text");
            if output.contains(hidden) {
                failures.push(format!("{name}: the output shows `{hidden}`"));
            }
        }
        changes.insert(diff.map_or("none".to_string(), |d| d.change.to_string()));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let expected = ["added", "changed", "none", "removed"];
    assert_eq!(changes.iter().map(String::as_str).collect::<Vec<_>>(), expected);
}

#[test]
fn normalize_removes_what_it_should_and_nothing_else() {
    let live = serde_json::json!({
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {
            "name": "pv-1", "generateName": "pv-", "labels": {"tier": "db"},
            "annotations": {LAST_APPLIED: "{}", "pv.kubernetes.io/provisioned-by": "local"},
            "finalizers": ["kubernetes.io/pv-protection"],
            "managedFields": [{"manager": "cetus"}], "resourceVersion": "7", "generation": 2,
            "uid": "u-1", "creationTimestamp": "2025-06-02T09:14:03Z", "selfLink": "/api/v1/x",
        },
        // Fields of the same names below `metadata` are the user's.
        "spec": {"claimRef": {"uid": "u-2", "resourceVersion": "5", "name": "data"},
                 "status": "kept"},
        "status": {"phase": "Bound"},
    });
    let expected = serde_json::json!({
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {
            "name": "pv-1", "generateName": "pv-", "labels": {"tier": "db"},
            "annotations": {"pv.kubernetes.io/provisioned-by": "local"},
            "finalizers": ["kubernetes.io/pv-protection"],
        },
        "spec": {"claimRef": {"uid": "u-2", "resourceVersion": "5", "name": "data"},
                 "status": "kept"},
    });
    assert_eq!(normalize(&live, &[]), expected);
}

#[test]
fn normalize_drops_a_map_only_what_it_removed_held() {
    let live = serde_json::json!({"metadata": {"name": "a", "annotations": {LAST_APPLIED: "{}"}}});
    assert_eq!(normalize(&live, &[]), serde_json::json!({"metadata": {"name": "a"}}));
    let ignore = ["/spec/template/metadata/annotations/restartedAt".to_string()];
    let restarted = serde_json::json!({"spec": {"replicas": 1, "template": {"metadata": {
        "annotations": {"restartedAt": "2025-06-03T10:00:00Z"}}, "spec": {}}}});
    let expected = serde_json::json!({"spec": {"replicas": 1, "template": {"spec": {}}}});
    assert_eq!(normalize(&restarted, &ignore), expected);
}

#[test]
fn ignored_pointers_are_unescaped_and_index_lists() {
    let object = serde_json::json!({
        "metadata": {"annotations": {"example.com/owner": "team-a", "a~b": "x", "keep": "y"}},
        "spec": {"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]},
    });
    let ignore: Vec<String> = [
        "/metadata/annotations/example.com~1owner",
        "/metadata/annotations/a~0b",
        "/spec/containers/1/image",
        "/spec/containers/01/name", // not an index: names nothing
        "/spec/missing/field",
        "/spec/containers/9",
    ]
    .map(String::from)
    .into();
    let expected = serde_json::json!({
        "metadata": {"annotations": {"keep": "y"}},
        "spec": {"containers": [{"name": "a", "image": "a:1"}, {"name": "b"}]},
    });
    assert_eq!(normalize(&object, &ignore), expected);
}

#[test]
fn ignored_fields_reads_the_annotation() {
    let with =
        |value: &str| serde_json::json!({"metadata": {"annotations": {IGNORE_FIELDS: value}}});
    let fields = ignored_fields(&with("/spec/replicas, /spec/template/metadata/annotations"));
    assert_eq!(fields, ["/spec/replicas", "/spec/template/metadata/annotations"]);
    assert_eq!(ignored_fields(&with("/a,/b /c")), ["/a", "/b", "/c"]);
    assert_eq!(ignored_fields(&with("spec.replicas, /d")), ["/d"]);
    assert!(ignored_fields(&with("")).is_empty());
    assert!(ignored_fields(&serde_json::json!({"metadata": {"name": "x"}})).is_empty());
}

fn secret(data: Value) -> Value {
    serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                       "data": data})
}

#[test]
fn masking_keeps_unchanged_keys_equal_and_marks_changed_ones() {
    let mut before = secret(serde_json::json!({"same": "YQ==", "changed": "Yg==", "gone": "Yw=="}));
    let mut after = secret(serde_json::json!({"same": "YQ==", "changed": "ZA==", "new": "ZQ=="}));
    mask_secrets(Some(&mut before), Some(&mut after));
    let expected_before = serde_json::json!({"same": MASKED, "changed": MASKED, "gone": MASKED});
    let expected_after =
        serde_json::json!({"same": MASKED, "changed": MASKED_CHANGED, "new": MASKED});
    assert_eq!((before["data"].clone(), after["data"].clone()), (expected_before, expected_after));
}

#[test]
fn masking_covers_one_sided_secrets_string_data_and_odd_shapes() {
    let mut added = secret(serde_json::json!({"k": "dg=="}));
    added["stringData"] = serde_json::json!({"plain": "v"});
    mask_secrets(None, Some(&mut added));
    assert_eq!(added["data"], serde_json::json!({"k": MASKED}));
    assert_eq!(added["stringData"], serde_json::json!({"plain": MASKED}));

    let mut odd = secret(serde_json::json!("not-a-map"));
    let mut fixed = secret(serde_json::json!({"k": "dg=="}));
    mask_secrets(Some(&mut odd), Some(&mut fixed));
    assert_eq!(
        (odd["data"].clone(), fixed["data"].clone()),
        (serde_json::json!(MASKED), serde_json::json!(MASKED_CHANGED))
    );

    let mut empty = secret(Value::Null);
    mask_secrets(Some(&mut empty), None);
    assert_eq!(empty["data"], Value::Null);

    let config = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
                                    "data": {"k": "visible"}});
    let mut masked = config.clone();
    mask_secrets(Some(&mut masked), None);
    assert_eq!(masked, config);
}

#[test]
fn equal_objects_and_absent_ones_have_no_diff() {
    let config = load("configmap-added.yaml")["after"].clone();
    let key = ObjectKey::of(&config);
    assert_eq!(diff_object(&key, Some(&config), Some(&config)), None);
    assert_eq!(diff_object(&key, None, None), None);
}

fn config(name: &str, value: &str) -> Value {
    serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": name, "namespace": "shop"}, "data": {"k": value}})
}

#[test]
fn sets_pair_objects_by_identity() {
    let before = [config("a", "1"), config("b", "1"), config("c", "1")];
    let after = [config("d", "1"), config("c", "1"), config("a", "2"), config("a", "3")];
    let diffs = diff_sets(&before, &after);
    let summary: Vec<(Change, &str)> =
        diffs.iter().map(|d| (d.change, d.key.name.as_str())).collect();
    assert_eq!(summary, [(Change::Added, "d"), (Change::Changed, "a"), (Change::Removed, "b")]);
    // The first `a` of the after set counts.
    assert!(diffs[1].text.contains("+  k: \"2\"\n"), "{}", diffs[1].text);
    assert!(diff_sets(&before, &before).is_empty());
}

#[test]
fn colour_only_when_asked() {
    let diff = diff_object(
        &ObjectKey::of(&config("a", "1")),
        Some(&config("a", "1")),
        Some(&config("a", "2")),
    )
    .expect("a diff");
    let plain = render(std::slice::from_ref(&diff), false);
    assert_eq!(plain, diff.text);
    assert!(!plain.contains('\x1b'));
    let expected = concat!(
        "\x1b[1mchanged ConfigMap shop/a\x1b[0m\n",
        "\x1b[36m@@ -4,4 +4,4 @@\x1b[0m\n",
        "   name: a\n",
        "   namespace: shop\n",
        " data:\n",
        "\x1b[31m-  k: \"1\"\x1b[0m\n",
        "\x1b[32m+  k: \"2\"\x1b[0m\n",
    );
    assert_eq!(render(&[diff], true), expected);
}
