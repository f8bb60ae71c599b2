//! Lists: label and field selectors, pagination with `limit`/`continue`, tables.

use crate::common::{create_namespace, get_json, http, http_to, sandbox, unique};
use serde_json::Value;

async fn seed(ns: &str) {
    for (name, tier) in [("a", "web"), ("b", "web"), ("c", "db"), ("d", "cache"), ("e", "")] {
        let labels =
            if tier.is_empty() { "{}".to_string() } else { format!(r#"{{"tier":"{tier}"}}"#) };
        let body = format!(
            r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{name}","labels":{labels}}}}}"#
        );
        let r = http(
            "POST",
            &format!("/api/v1/namespaces/{ns}/configmaps"),
            Some("application/json"),
            &body,
        )
        .await;
        assert_eq!(r.code, 201, "{}", r.body);
    }
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn label_and_field_selectors() {
    let ns = unique("sel");
    create_namespace(&ns).await;
    seed(&ns).await;
    let cases = [
        ("labelSelector=tier%3Dweb", vec!["a", "b"]),
        ("labelSelector=tier%3D%3Dweb", vec!["a", "b"]),
        ("labelSelector=tier!%3Dweb", vec!["c", "d", "e"]),
        ("labelSelector=tier%20in%20(db,cache)", vec!["c", "d"]),
        ("labelSelector=tier%20notin%20(web)", vec!["c", "d", "e"]),
        ("labelSelector=tier", vec!["a", "b", "c", "d"]),
        ("labelSelector=!tier", vec!["e"]),
        ("fieldSelector=metadata.name%3Dc", vec!["c"]),
        (
            "fieldSelector=metadata.name!%3Dc,metadata.namespace%3D{ns}&labelSelector=tier%3Dweb",
            vec!["a", "b"],
        ),
    ];
    for (query, want) in cases {
        let query = query.replace("{ns}", &ns);
        let (code, list) = get_json(&format!("/api/v1/namespaces/{ns}/configmaps?{query}")).await;
        assert_eq!(code, 200, "{query}");
        assert_eq!(names(&list), want, "{query}");
    }
    let (code, bad) =
        get_json(&format!("/api/v1/namespaces/{ns}/configmaps?fieldSelector=spec.x%3D1")).await;
    assert_eq!((code, bad["message"].as_str()), (400, Some("field label not supported: spec.x")));
    let (_, all) =
        get_json(&format!("/api/v1/configmaps?fieldSelector=metadata.namespace%3D{ns}")).await;
    assert_eq!(names(&all).len(), 5, "the all-namespaces list selects by namespace");
}

#[tokio::test]
async fn pagination_with_limit_and_continue() {
    let ns = unique("page");
    create_namespace(&ns).await;
    seed(&ns).await;
    let base = format!("/api/v1/namespaces/{ns}/configmaps?limit=2");
    let (_, first) = get_json(&base).await;
    assert_eq!(names(&first), vec!["a", "b"]);
    assert_eq!(first["metadata"]["remainingItemCount"], 3);
    let rv = first["metadata"]["resourceVersion"].clone();
    let mut all = names(&first);
    let mut token = first["metadata"]["continue"].as_str().unwrap().to_string();
    loop {
        let (_, page) = get_json(&format!(
            "{base}&continue={}",
            token.replace('=', "%3D").replace('+', "%2B").replace('/', "%2F")
        ))
        .await;
        assert_eq!(
            page["metadata"]["resourceVersion"], rv,
            "pages keep the first page's resourceVersion"
        );
        all.extend(names(&page));
        match page["metadata"]["continue"].as_str() {
            Some(t) if !t.is_empty() => token = t.to_string(),
            _ => break,
        }
    }
    assert_eq!(all, vec!["a", "b", "c", "d", "e"]);
    let (code, _) = get_json(&format!("{base}&continue=notbase64!")).await;
    assert_eq!(code, 400);
}

#[tokio::test]
async fn tables_for_kubectl_get() {
    let ns = unique("tbl");
    create_namespace(&ns).await;
    seed(&ns).await;
    let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    let r = http_to(
        sandbox(),
        "GET",
        &format!("/api/v1/namespaces/{ns}/configmaps"),
        None,
        Some(accept),
        "",
    )
    .await;
    let t = r.json();
    assert_eq!(
        (t["kind"].as_str(), t["apiVersion"].as_str()),
        (Some("Table"), Some("meta.k8s.io/v1"))
    );
    let cols: Vec<&str> = t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cols, vec!["Name", "Data", "Age"]);
    assert_eq!(t["rows"][0]["cells"][0], "a");
    assert_eq!(t["rows"][0]["cells"][1], 0);
    assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
}
