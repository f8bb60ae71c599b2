//! The kinds real-world manifests carry that the sandbox serves besides the workloads:
//! IngressClass, webhook configurations, APIService, PersistentVolume, StorageClass,
//! Endpoints, EndpointSlice, ControllerRevision, PriorityClass and autoscaling/v1 — each
//! applied, listed with the columns kube-apiserver prints, and deleted by the real kubectl.

use crate::common::unique;
use crate::{kubectl_ok, write};

fn manifests(ns: &str) -> String {
    format!(
        "apiVersion: v1
kind: Namespace
metadata: {{name: {ns}}}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {{name: {ns}-nginx}}
spec: {{controller: k8s.io/ingress-nginx}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {{name: {ns}-check}}
webhooks:
- name: check.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  clientConfig: {{service: {{namespace: {ns}, name: hook}}}}
  rules: [{{apiGroups: [''], apiVersions: [v1], operations: [CREATE], resources: [pods]}}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {{name: {ns}-inject}}
webhooks:
- name: inject.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  clientConfig: {{service: {{namespace: {ns}, name: hook}}}}
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {{name: v1beta1.{ns}.example.com}}
spec: {{group: {ns}.example.com, version: v1beta1, groupPriorityMinimum: 100, versionPriority: 100,
  insecureSkipTLSVerify: true, service: {{namespace: {ns}, name: metrics}}}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {{name: {ns}-pv}}
spec: {{capacity: {{storage: 2048Mi}}, accessModes: [ReadWriteOnce], hostPath: {{path: /data}}}}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {{name: {ns}-fast}}
provisioner: example.com/fast
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {{name: {ns}-high}}
value: 1000
---
apiVersion: v1
kind: Endpoints
metadata: {{name: db, namespace: {ns}}}
subsets: [{{addresses: [{{ip: 10.0.0.1}}], ports: [{{port: 5432}}]}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: db-1, namespace: {ns}}}
addressType: IPv4
endpoints: [{{addresses: [10.0.0.1]}}]
ports: [{{port: 5432}}]
---
apiVersion: apps/v1
kind: ControllerRevision
metadata: {{name: db-1, namespace: {ns}}}
data: {{spec: {{replicas: 1}}}}
revision: 1
---
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {{name: web, namespace: {ns}}}
spec: {{scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}, maxReplicas: 3,
  targetCPUUtilizationPercentage: 50}}
"
    )
}

/// The table `kubectl get` prints, cut at the header's column starts (empty cells stay),
/// the AGE column dropped.
async fn table(args: &[&str]) -> Vec<Vec<String>> {
    let out = kubectl_ok(args).await;
    let mut lines = out.lines();
    let header = lines.next().unwrap_or_default();
    let starts: Vec<usize> = header
        .char_indices()
        // kubectl pads columns with at least three spaces; headers like `ACCESS MODES`
        // have single ones.
        .filter(|(i, c)| *c != ' ' && (*i == 0 || header[..*i].ends_with("  ")))
        .map(|(i, _)| i)
        .collect();
    let cut = |line: &str| -> Vec<String> {
        (0..starts.len())
            .map(|k| {
                let end = starts.get(k + 1).copied().unwrap_or(line.len()).min(line.len());
                line.get(starts[k].min(line.len())..end).unwrap_or("").trim().to_string()
            })
            .collect()
    };
    let rows: Vec<Vec<String>> = std::iter::once(header).chain(lines).map(cut).collect();
    let age = rows[0].iter().position(|c| c == "AGE");
    rows.into_iter()
        .map(|mut r| {
            if let Some(i) = age {
                r.remove(i);
            }
            r
        })
        .collect()
}

#[tokio::test]
async fn newly_served_kinds_apply_list_and_delete() {
    let ns = unique("k-kinds");
    let file = write(&format!("{ns}-kinds.yaml"), &manifests(&ns));
    let path = file.to_str().unwrap();
    let out = kubectl_ok(&["apply", "--server-side", "-f", path]).await;
    assert_eq!(
        out,
        format!(
            "namespace/{ns} serverside-applied
ingressclass.networking.k8s.io/{ns}-nginx serverside-applied
validatingwebhookconfiguration.admissionregistration.k8s.io/{ns}-check serverside-applied
mutatingwebhookconfiguration.admissionregistration.k8s.io/{ns}-inject serverside-applied
apiservice.apiregistration.k8s.io/v1beta1.{ns}.example.com serverside-applied
persistentvolume/{ns}-pv serverside-applied
storageclass.storage.k8s.io/{ns}-fast serverside-applied
priorityclass.scheduling.k8s.io/{ns}-high serverside-applied
endpoints/db serverside-applied
endpointslice.discovery.k8s.io/db-1 serverside-applied
controllerrevision.apps/db-1 serverside-applied
horizontalpodautoscaler.autoscaling/web serverside-applied
"
        )
    );
    let n = |s: &str| format!("{ns}-{s}");
    assert_eq!(
        table(&["get", "ingressclass", &n("nginx")]).await[1],
        [n("nginx"), "k8s.io/ingress-nginx".into(), "<none>".into()]
    );
    assert_eq!(
        table(&["get", "validatingwebhookconfiguration", &n("check")]).await,
        [vec!["NAME".to_string(), "WEBHOOKS".into()], vec![n("check"), "1".into()]]
    );
    assert_eq!(
        table(&["get", "pv", &n("pv")]).await[1],
        [
            n("pv"),
            "2Gi".into(),
            "RWO".into(),
            "Retain".into(),
            "Pending".into(),
            String::new(),
            String::new(),
            "<unset>".into(),
            String::new()
        ]
    );
    assert_eq!(
        table(&["get", "sc", &n("fast")]).await[1],
        [n("fast"), "example.com/fast".into(), "Delete".into(), "Immediate".into(), "false".into()]
    );
    assert_eq!(
        table(&["get", "pc", &n("high")]).await[1],
        [n("high"), "1000".into(), "false".into(), "PreemptLowerPriority".into()]
    );
    assert_eq!(table(&["get", "ep", "db", "-n", &ns]).await[1], ["db", "10.0.0.1:5432"]);
    assert_eq!(
        table(&["get", "endpointslice", "db-1", "-n", &ns]).await[1],
        ["db-1", "IPv4", "5432", "10.0.0.1"]
    );
    assert_eq!(
        table(&["get", "controllerrevision", "db-1", "-n", &ns]).await[1],
        ["db-1", "<none>", "1"]
    );
    assert_eq!(
        table(&["get", "hpa", "web", "-n", &ns]).await,
        [
            vec!["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS"],
            vec!["web", "Deployment/web", "cpu: <unknown>/50%", "1", "3", "0"]
        ]
    );
    let out = kubectl_ok(&["delete", "-f", path, "--wait=false"]).await;
    assert_eq!(out.lines().count(), 12, "{out}");
    assert!(out.lines().all(|l| l.ends_with(" deleted")), "{out}");
}

#[tokio::test]
async fn everyday_kinds_print_kube_apiserver_columns() {
    let ns = unique("k-cols");
    let text = format!(
        "apiVersion: v1
kind: Namespace
metadata: {{name: {ns}}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {{name: nightly, namespace: {ns}}}
spec:
  schedule: '0 3 * * *'
  jobTemplate: {{spec: {{template: {{spec: {{restartPolicy: Never, containers: [{{name: c, image: busybox}}]}}}}}}}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {{name: ci, namespace: {ns}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: reader, namespace: {ns}}}
rules: [{{apiGroups: [''], resources: [pods], verbs: [get]}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: ci-reader, namespace: {ns}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}}
subjects: [{{kind: ServiceAccount, name: ci, namespace: {ns}}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: db, namespace: {ns}}}
spec: {{podSelector: {{matchLabels: {{app: db}}}}}}
"
    );
    let file = write(&format!("{ns}-cols.yaml"), &text);
    kubectl_ok(&["apply", "--server-side", "-f", file.to_str().unwrap()]).await;
    let get = |kind: &'static str, name: &'static str| {
        let ns = ns.clone();
        async move { table(&["get", kind, name, "-n", &ns]).await }
    };
    assert_eq!(
        get("cronjob", "nightly").await,
        [
            vec!["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE"],
            vec!["nightly", "0 3 * * *", "<none>", "False", "0", "<none>"]
        ]
    );
    assert_eq!(get("sa", "ci").await, [vec!["NAME", "SECRETS"], vec!["ci", "0"]]);
    let role = get("role", "reader").await;
    assert_eq!(role[0], ["NAME", "CREATED AT"]);
    assert!(role[1][1].ends_with('Z'), "a timestamp, not an age: {role:?}");
    assert_eq!(
        get("rolebinding", "ci-reader").await,
        [vec!["NAME", "ROLE"], vec!["ci-reader", "Role/reader"]]
    );
    assert_eq!(get("netpol", "db").await, [vec!["NAME", "POD-SELECTOR"], vec!["db", "app=db"]]);
}
