//! Real-world CRD schemas through the real kubectl: `enum` and `default` on properties
//! under `properties` (as prometheus-operator's and postgres-operator's CRDs have them), a
//! custom object defaulted by its schema, and one over its schema's maximum refused with
//! `Invalid`.

use crate::common::unique;
use crate::{kubectl, kubectl_ok, write};

fn crd(group: &str) -> String {
    format!(
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.{group}
spec:
  group: {group}
  scope: Namespaced
  names: {{kind: Widget, plural: widgets, singular: widget}}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size:
                type: string
                enum: [small, large]
                default: small
              replicas:
                type: integer
                minimum: 1
                maximum: 5
                default: 1
              labels:
                type: object
                default: {{tier: web}}
                additionalProperties: {{type: string}}
"
    )
}

#[tokio::test]
async fn crd_with_enum_and_default_under_properties_defaults_and_validates_objects() {
    let ns = unique("k-crd");
    let group = format!("{ns}.example.com");
    kubectl_ok(&["create", "namespace", &ns]).await;
    let file = write(&format!("{ns}-crd.yaml"), &crd(&group));
    let out = kubectl_ok(&["apply", "--server-side", "-f", file.to_str().unwrap()]).await;
    assert_eq!(
        out,
        format!(
            "customresourcedefinition.apiextensions.k8s.io/widgets.{group} serverside-applied\n"
        )
    );
    kubectl_ok(&["wait", "--for=condition=Established", &format!("crd/widgets.{group}")]).await;

    let cr = format!(
        "apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: small\n  namespace: {ns}\nspec: {{}}\n"
    );
    let file = write(&format!("{ns}-small.yaml"), &cr);
    kubectl_ok(&["apply", "--server-side", "-f", file.to_str().unwrap()]).await;
    let spec = kubectl_ok(&[
        "get",
        &format!("widgets.{group}"),
        "small",
        "-n",
        &ns,
        "-o",
        "jsonpath={.spec}",
    ])
    .await;
    let spec: serde_json::Value = serde_json::from_str(&spec).unwrap();
    assert_eq!(
        spec,
        serde_json::json!({"size": "small", "replicas": 1, "labels": {"tier": "web"}})
    );

    let big = format!(
        "apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: big\n  namespace: {ns}\nspec:\n  replicas: 9\n  size: huge\n"
    );
    let file = write(&format!("{ns}-big.yaml"), &big);
    let r = kubectl(&["apply", "--server-side", "-f", file.to_str().unwrap()]).await;
    assert_ne!(r.code, 0);
    // kubectl words a 422 with causes one line per cause.
    assert_eq!(
        r.stderr,
        "The Widget \"big\" is invalid: \n\
         * spec.replicas: Invalid value: 9: spec.replicas in body should be less than or equal to 5\n\
         * spec.size: Unsupported value: \"huge\": supported values: \"small\", \"large\"\n"
    );
    let r = kubectl(&["get", &format!("widgets.{group}"), "big", "-n", &ns]).await;
    assert_ne!(r.code, 0, "nothing was stored");
}
