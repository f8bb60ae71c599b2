//! Objects read back as a real cluster stores them, and finished Jobs cleaned up after
//! their TTL, through the real kubectl.

use crate::common::unique;
use crate::{kubectl, kubectl_ok, write};

#[tokio::test]
async fn empty_annotations_and_labels_are_not_stored() {
    let ns = unique("k-empty");
    kubectl_ok(&["create", "namespace", &ns]).await;
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: {ns}\n  annotations: {{}}\n  labels: {{}}\ndata: {{}}\n"
    );
    let file = write(&format!("{ns}-empty.yaml"), &text);
    kubectl_ok(&["create", "-f", file.to_str().unwrap()]).await;
    let got: serde_json::Value =
        serde_json::from_str(&kubectl_ok(&["get", "cm", "c", "-n", &ns, "-o", "json"]).await)
            .unwrap();
    let meta = got["metadata"].as_object().unwrap();
    assert!(!meta.contains_key("annotations") && !meta.contains_key("labels"), "{got}");
    assert!(got.get("data").is_none(), "{got}");
}

#[tokio::test]
async fn a_finished_job_with_a_zero_ttl_is_deleted() {
    let ns = unique("k-ttl");
    kubectl_ok(&["create", "namespace", &ns]).await;
    let text = format!(
        "apiVersion: batch/v1
kind: Job
metadata: {{name: once, namespace: {ns}}}
spec:
  ttlSecondsAfterFinished: 0
  template: {{spec: {{restartPolicy: Never, containers: [{{name: c, image: busybox}}]}}}}
"
    );
    let file = write(&format!("{ns}-job.yaml"), &text);
    kubectl_ok(&["apply", "--server-side", "-f", file.to_str().unwrap()]).await;
    let r = kubectl(&["wait", "--for=delete", "job/once", "-n", &ns, "--timeout=10s"]).await;
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = kubectl(&["get", "job", "once", "-n", &ns]).await;
    assert_eq!(r.stderr, "Error from server (NotFound): jobs.batch \"once\" not found\n");
}

#[tokio::test]
async fn client_side_apply_twice_is_unchanged() {
    let ns = unique("k-csa");
    let file = write(&format!("{ns}-csa.yaml"), &crate::manifest(&ns, 2, "nginx:1.27"));
    let path = file.to_str().unwrap();
    let first = kubectl_ok(&["apply", "-f", path]).await;
    assert_eq!(
        first,
        format!(
            "namespace/{ns} created\ndeployment.apps/web created\nservice/web created\nconfigmap/web-config created\n"
        )
    );
    // The lists (containers, ports) merge by their keys, as the openapi documents say.
    let again = kubectl_ok(&["apply", "-f", path]).await;
    assert_eq!(
        again,
        format!(
            "namespace/{ns} unchanged\ndeployment.apps/web unchanged\nservice/web unchanged\nconfigmap/web-config unchanged\n"
        )
    );
}

#[tokio::test]
async fn an_unknown_kind_is_no_match_as_kubectl_words_it() {
    let ns = unique("k-nomatch");
    let text = "apiVersion: nomatch.example.com/v1\nkind: Widget\nmetadata:\n  name: w\n";
    let file = write(&format!("{ns}-widget.yaml"), text);
    let path = file.to_str().unwrap();
    let r = kubectl(&["apply", "-f", path]).await;
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        format!(
            "error: resource mapping not found for name: \"w\" namespace: \"\" from \"{path}\": no matches for kind \"Widget\" in version \"nomatch.example.com/v1\"\nensure CRDs are installed first\n"
        )
    );
}
