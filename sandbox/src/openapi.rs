//! OpenAPI v3 documents: the `/openapi/v3` index and one document per group/version with
//! the paths and operations of every served resource and the schemas they use.
//!
//! kubectl reads them to decide how to validate: when the PATCH operation of a kind lists
//! the `fieldValidation` query parameter, kubectl skips client-side validation and sends
//! `fieldValidation=Strict`, which the server enforces ([`crate::schema`]). Built-in
//! schemas come from k8s-openapi's `schemars` implementations; CRD schemas from their
//! `openAPIV3Schema`. Documents are cached per registry generation.

use crate::registry::{Registry, ResourceInfo};
use crate::schema::builtin;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

const PREFIX: &str = "#/components/schemas/";
const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
const SCALE: &str = "io.k8s.api.autoscaling.v1.Scale";

/// Rendered documents of one registry generation.
#[derive(Debug, Default)]
pub struct Cache {
    generation: u64,
    docs: BTreeMap<String, (Arc<Vec<u8>>, String)>,
}

fn op_group(group: &str) -> String {
    if group.is_empty() {
        return "Core".into();
    }
    group
        .trim_end_matches(".k8s.io")
        .split(['.', '-'])
        .map(|s| {
            let mut c = s.chars();
            c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

fn query_param(name: &str, description: &str, type_: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": type_, "uniqueItems": true}})
}

fn write_params(patch: bool) -> Vec<Value> {
    let mut p = vec![
        query_param(
            "dryRun",
            "When present, indicates that modifications should not be persisted. The only valid value is All.",
            "string",
        ),
        query_param(
            "fieldManager",
            "fieldManager is a name associated with the actor or entity that is making these changes.",
            "string",
        ),
        query_param(
            "fieldValidation",
            "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are Ignore, Warn (default) and Strict.",
            "string",
        ),
    ];
    if patch {
        p.push(query_param("force", "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people.", "boolean"));
    }
    p
}

fn list_params() -> Vec<Value> {
    [
        ("allowWatchBookmarks", "boolean"),
        ("continue", "string"),
        ("fieldSelector", "string"),
        ("labelSelector", "string"),
        ("limit", "integer"),
        ("resourceVersion", "string"),
        ("resourceVersionMatch", "string"),
        ("sendInitialEvents", "boolean"),
        ("timeoutSeconds", "integer"),
        ("watch", "boolean"),
    ]
    .iter()
    .map(|(n, t)| query_param(n, n, t))
    .collect()
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("{PREFIX}{name}")})
}

fn body(content_types: &[&str], schema: &Value) -> Value {
    let content: Map<String, Value> =
        content_types.iter().map(|ct| ((*ct).to_string(), json!({"schema": schema}))).collect();
    json!({"content": content, "required": true})
}

fn responses(codes: &[&str], schema: &Value) -> Value {
    let mut r: Map<String, Value> = codes
        .iter()
        .map(|c| {
            (
                (*c).to_string(),
                json!({"description": "OK", "content": {"application/json": {"schema": schema}}}),
            )
        })
        .collect();
    r.insert("401".into(), json!({"description": "Unauthorized"}));
    Value::Object(r)
}

struct Op<'a> {
    info: &'a ResourceInfo,
    action: &'a str,
    id_verb: &'a str,
    gvk: Value,
}

impl Op<'_> {
    fn render(
        &self,
        params: Vec<Value>,
        request: Option<Value>,
        codes: &[&str],
        response: &Value,
    ) -> Value {
        let namespaced = if self.info.namespaced && self.id_verb != "listForAllNamespaces" {
            "Namespaced"
        } else {
            ""
        };
        let id = format!(
            "{}{}{}{namespaced}{}",
            self.id_verb,
            op_group(&self.info.group),
            capital(&self.info.version),
            self.info.kind
        );
        let mut op = json!({
            "tags": [format!("{}_{}", self.info.group, self.info.version)],
            "description": format!("{} {}", self.action, self.info.kind),
            "operationId": id,
            "parameters": params,
            "responses": responses(codes, response),
            "x-kubernetes-action": self.action,
            "x-kubernetes-group-version-kind": self.gvk,
        });
        if let Some(r) = request {
            op["requestBody"] = r;
        }
        op
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

fn path_param(name: &str) -> Value {
    json!({"name": name, "in": "path", "description": format!("{name} of the resource"), "required": true, "schema": {"type": "string", "uniqueItems": true}})
}

const PATCH_TYPES: [&str; 4] = [
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
];

/// The operations of one resource, path by path.
struct ResourcePaths<'a> {
    info: &'a ResourceInfo,
    gvk: Value,
    kind: Value,
    scope_params: Vec<Value>,
    item_params: Vec<Value>,
}

impl<'a> ResourcePaths<'a> {
    fn new(info: &'a ResourceInfo, kind_def: &str) -> Self {
        let scope_params: Vec<Value> =
            if info.namespaced { vec![path_param("namespace")] } else { vec![] };
        let mut item_params = scope_params.clone();
        item_params.insert(0, path_param("name"));
        Self {
            info,
            gvk: json!({"group": info.group, "kind": info.kind, "version": info.version}),
            kind: schema_ref(kind_def),
            scope_params,
            item_params,
        }
    }

    fn op(&self, action: &'a str, id_verb: &'a str) -> Op<'a> {
        Op { info: self.info, action, id_verb, gvk: self.gvk.clone() }
    }

    fn collection(&self) -> Value {
        let any = json!({"type": "object"});
        let mut c = json!({
            "get": self.op("list", "list").render(list_params(), None, &["200"], &any),
            "post": self.op("post", "create").render(write_params(false), Some(body(&["*/*"], &self.kind)), &["200", "201", "202"], &self.kind),
            "parameters": self.scope_params,
        });
        if self.info.delete_collection {
            let request = Some(body(&["*/*"], &schema_ref(DELETE_OPTIONS)));
            c["delete"] = self.op("deletecollection", "deleteCollection").render(
                list_params(),
                request,
                &["200"],
                &schema_ref(STATUS),
            );
        }
        c
    }

    fn item(&self) -> Value {
        let k = &self.kind;
        let propagation = vec![query_param("propagationPolicy", "propagationPolicy", "string")];
        json!({
            "get": self.op("get", "read").render(vec![], None, &["200"], k),
            "put": self.op("put", "replace").render(write_params(false), Some(body(&["*/*"], k)), &["200", "201"], k),
            "patch": self.op("patch", "patch").render(write_params(true), Some(body(&PATCH_TYPES, &schema_ref(PATCH))), &["200", "201"], k),
            "delete": self.op("delete", "delete").render(propagation, Some(body(&["*/*"], &schema_ref(DELETE_OPTIONS))), &["200", "202"], &schema_ref(STATUS)),
            "parameters": self.item_params,
        })
    }

    fn subresource(&self, sub: &str) -> Value {
        let (schema, id) = if sub == "scale" {
            (schema_ref(SCALE), "Scale")
        } else {
            (self.kind.clone(), "Status")
        };
        let (read, replace, patch) =
            (format!("read{id}"), format!("replace{id}"), format!("patch{id}"));
        let render = |action: &str, id_verb: &str, params: Vec<Value>, request: Option<Value>| {
            Op { info: self.info, action, id_verb, gvk: self.gvk.clone() }.render(
                params,
                request,
                &["200", "201"],
                &schema,
            )
        };
        json!({
            "get": render("get", &read, vec![], None),
            "put": render("put", &replace, write_params(false), Some(body(&["*/*"], &schema))),
            "patch": render("patch", &patch, write_params(true), Some(body(&PATCH_TYPES, &schema_ref(PATCH)))),
            "parameters": self.item_params,
        })
    }
}

/// The paths of one resource.
fn resource_paths(info: &ResourceInfo, kind_def: &str, paths: &mut Map<String, Value>) {
    let base = if info.group.is_empty() {
        "/api/v1".to_string()
    } else {
        format!("/apis/{}/{}", info.group, info.version)
    };
    let scope = if info.namespaced {
        format!("{base}/namespaces/{{namespace}}/{}", info.plural)
    } else {
        format!("{base}/{}", info.plural)
    };
    let r = ResourcePaths::new(info, kind_def);
    paths.insert(scope.clone(), r.collection());
    paths.insert(format!("{scope}/{{name}}"), r.item());
    for sub in info.subresources().into_iter().filter(|s| !matches!(*s, "finalize" | "log")) {
        paths.insert(format!("{scope}/{{name}}/{sub}"), r.subresource(sub));
    }
    if info.namespaced {
        let list = r.op("list", "listForAllNamespaces").render(
            list_params(),
            None,
            &["200"],
            &json!({"type": "object"}),
        );
        paths.insert(format!("{base}/{}", info.plural), json!({"get": list}));
    }
}

/// Every definition reachable from `roots` through `$ref`s.
fn closure(defs: &Map<String, Value>, roots: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(r) =
                    m.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix(PREFIX))
                {
                    out.push(r.to_string());
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = roots.into_iter().collect();
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(d) = defs.get(&name) {
            refs(d, &mut todo);
        }
    }
    seen
}

/// The definition name of a custom kind: `com.example.v1.Widget` for `example.com/v1`.
fn custom_def_name(info: &ResourceInfo) -> String {
    let reversed: Vec<&str> = info.group.split('.').rev().collect();
    format!("{}.{}.{}", reversed.join("."), info.version, info.kind)
}

fn custom_schema(info: &ResourceInfo) -> Value {
    let mut s = match &info.crd_schema {
        Some(v @ Value::Object(_)) => v.clone(),
        _ => json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
    };
    s["type"] = json!("object");
    s["properties"]["apiVersion"] = json!({"type": "string"});
    s["properties"]["kind"] = json!({"type": "string"});
    s["properties"]["metadata"] =
        json!({"allOf": [schema_ref("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")]});
    s
}

/// The document of one group/version, or `None` if nothing is served there.
pub fn document(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let infos = registry.resources_of(group, version);
    if infos.is_empty() {
        return None;
    }
    let b = builtin::builtin();
    let mut schemas = Map::new();
    let mut roots = vec![
        "io.k8s.apimachinery.pkg.apis.meta.v1.Status".to_string(),
        "io.k8s.apimachinery.pkg.apis.meta.v1.Patch".to_string(),
        "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions".to_string(),
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta".to_string(),
    ];
    let mut paths = Map::new();
    for info in &infos {
        let def = if info.custom {
            let name = custom_def_name(info);
            let mut s = custom_schema(info);
            s["x-kubernetes-group-version-kind"] =
                json!([{"group": info.group, "kind": info.kind, "version": info.version}]);
            schemas.insert(name.clone(), s);
            name
        } else {
            let name =
                builtin::definition_name(&info.group, &info.version, &info.kind)?.to_string();
            roots.push(name.clone());
            name
        };
        if info.scale.is_some() {
            roots.push("io.k8s.api.autoscaling.v1.Scale".into());
        }
        resource_paths(info, &def, &mut paths);
    }
    for name in closure(&b.definitions, roots) {
        if let Some(d) = b.definitions.get(&name) {
            let mut d = d.clone();
            if let Some((g, v, k, _)) = b.kinds.iter().find(|(_, _, _, n)| *n == name) {
                d["x-kubernetes-group-version-kind"] =
                    json!([{"group": g, "kind": k, "version": v}]);
            }
            schemas.insert(name, d);
        }
    }
    for info in infos.iter().filter(|i| !i.custom) {
        if let Some(def) = builtin::definition_name(&info.group, &info.version, &info.kind) {
            for (path, ext) in info.merge.list_extensions() {
                annotate(&mut schemas, def, &path, &ext);
            }
        }
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

/// The definition a property schema refers to (`$ref`, or `allOf: [{$ref}]`).
fn referred(schema: &Value) -> Option<String> {
    let r = schema.get("$ref").or_else(|| schema.get("allOf")?.get(0)?.get("$ref"))?;
    r.as_str()?.strip_prefix(PREFIX).map(str::to_string)
}

/// Puts a list's merge extensions on the property schema at `path` from definition `def`
/// (following `$ref`s through objects and `[]` through array items), as kube-openapi
/// publishes them; kubectl's client-side apply reads them to merge lists by key.
fn annotate(
    schemas: &mut Map<String, Value>,
    def: &str,
    path: &[String],
    ext: &Map<String, Value>,
) {
    let Some((last, steps)) = path.split_last() else { return };
    let mut current = def.to_string();
    let mut i = 0;
    while i < steps.len() {
        let Some(prop) = schemas.get(&current).and_then(|d| d["properties"].get(&steps[i])) else {
            return;
        };
        let mut target = prop.clone();
        i += 1;
        while i < steps.len() && steps[i] == "[]" {
            target = target["items"].clone();
            i += 1;
        }
        match referred(&target) {
            Some(next) => current = next,
            None => return,
        }
    }
    if let Some(Value::Object(prop)) = schemas
        .get_mut(&current)
        .and_then(|d| d.get_mut("properties"))
        .and_then(|p| p.get_mut(last))
    {
        for (k, v) in ext {
            prop.insert(k.clone(), v.clone());
        }
    }
}

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() { format!("api/{version}") } else { format!("apis/{group}/{version}") }
}

impl Cache {
    fn refresh(&mut self, registry: &Registry) {
        if self.generation == registry.generation() && !self.docs.is_empty() {
            return;
        }
        self.docs.clear();
        self.generation = registry.generation();
        for (group, versions) in registry.groups() {
            for version in versions {
                if let Some(doc) = document(registry, &group, &version) {
                    let bytes = serde_json::to_vec(&doc).unwrap_or_default();
                    let mut h = DefaultHasher::new();
                    bytes.hash(&mut h);
                    let hash = format!("{:016X}", h.finish());
                    self.docs.insert(gv_path(&group, &version), (Arc::new(bytes), hash));
                }
            }
        }
    }

    /// The `/openapi/v3` index.
    pub fn index(&mut self, registry: &Registry) -> Value {
        self.refresh(registry);
        let paths: Map<String, Value> = self
            .docs
            .iter()
            .map(|(p, (_, hash))| {
                (p.clone(), json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={hash}")}))
            })
            .collect();
        json!({"paths": paths})
    }

    /// The document at `/openapi/v3/{path}` (`api/v1`, `apis/apps/v1`).
    pub fn get(&mut self, registry: &Registry, path: &str) -> Option<Arc<Vec<u8>>> {
        self.refresh(registry);
        self.docs.get(path.trim_matches('/')).map(|(d, _)| d.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_operations_advertise_field_validation() {
        let r = Registry::builtin();
        let doc = document(&r, "apps", "v1").unwrap();
        let patch =
            &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"],
            json!({"group": "apps", "kind": "Deployment", "version": "v1"})
        );
        assert!(
            patch["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation" && p["in"] == "query")
        );
        assert!(doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"].is_object());
        assert!(doc["components"]["schemas"]["io.k8s.api.core.v1.Container"].is_object());
        assert_eq!(op_group("rbac.authorization.k8s.io"), "RbacAuthorization");
    }

    #[test]
    fn index_lists_every_group_version() {
        let r = Registry::builtin();
        let mut cache = Cache::default();
        let index = cache.index(&r);
        let url = index["paths"]["apis/apps/v1"]["serverRelativeURL"].as_str().unwrap();
        assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="));
        assert!(cache.get(&r, "api/v1").is_some());
    }
}
