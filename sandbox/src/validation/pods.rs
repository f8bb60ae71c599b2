//! Validation of pod specs, wherever they sit (a Pod, a workload's or a Job's template):
//! the required fields (`containers`, each container's `name` and `image`) and the restart
//! policies the owning kind allows, with kube-apiserver's field paths and messages
//! (`ValidatePodSpec`, `ValidatePodTemplateSpecForReplicaSet`, `ValidateJobSpec`).

use crate::status::FieldError;
use serde_json::Value;

/// The restart policies a Pod may have.
pub const POD: &[&str] = &["Always", "OnFailure", "Never"];
/// The restart policy of a Deployment's, StatefulSet's, DaemonSet's or ReplicaSet's pods.
pub const WORKLOAD: &[&str] = &["Always"];
/// The restart policies of a Job's pods.
pub const JOB: &[&str] = &["OnFailure", "Never"];

/// The errors of the pod spec `spec` at `path` (e.g. `spec.template.spec`) whose owner
/// allows the restart policies `restart`.
pub fn pod_spec_errors(spec: &Value, path: &str, restart: &[&str]) -> Vec<FieldError> {
    let mut errs = Vec::new();
    match spec["containers"].as_array() {
        Some(cs) if !cs.is_empty() => {
            for (i, c) in cs.iter().enumerate() {
                for field in ["name", "image"] {
                    if c[field].as_str().unwrap_or_default().is_empty() {
                        errs.push(FieldError::required(
                            format!("{path}.containers[{i}].{field}"),
                            "",
                        ));
                    }
                }
            }
        }
        _ => errs.push(FieldError::required(format!("{path}.containers"), "")),
    }
    // Defaulting has set a policy by now (`Always`), as in kube-apiserver.
    let policy = spec["restartPolicy"].as_str().unwrap_or_default();
    if !restart.contains(&policy) {
        let supported: Vec<String> = restart.iter().map(|p| format!("{p:?}")).collect();
        errs.push(FieldError::not_supported(
            format!("{path}.restartPolicy"),
            format!("{policy:?}"),
            format!("supported values: {}", supported.join(", ")),
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rendered(spec: Value, restart: &[&str]) -> Vec<String> {
        pod_spec_errors(&spec, "spec.template.spec", restart)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn required_fields_and_restart_policies() {
        let table: &[(Value, &[&str], &[&str])] = &[
            (
                json!({"containers": [{"name": "c", "image": "i"}], "restartPolicy": "Never"}),
                JOB,
                &[],
            ),
            (
                json!({"containers": [{"name": "c", "image": "i"}], "restartPolicy": "Always"}),
                JOB,
                &[
                    "spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"",
                ],
            ),
            (
                json!({"containers": [{"name": "c", "image": "i"}], "restartPolicy": "Never"}),
                WORKLOAD,
                &[
                    "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
                ],
            ),
            (
                json!({"restartPolicy": "Always"}),
                WORKLOAD,
                &["spec.template.spec.containers: Required value"],
            ),
            (
                json!({"containers": [{"name": "c"}, {"image": "i"}], "restartPolicy": "Always"}),
                POD,
                &[
                    "spec.template.spec.containers[0].image: Required value",
                    "spec.template.spec.containers[1].name: Required value",
                ],
            ),
        ];
        for (spec, restart, want) in table {
            assert_eq!(rendered(spec.clone(), restart), *want, "{spec}");
        }
    }
}
