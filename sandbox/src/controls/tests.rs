use super::*;
use serde_json::json;

fn req(verb: &str, resource: &str, namespace: &str) -> RequestInfo {
    RequestInfo {
        verb: verb.into(),
        resource: resource.into(),
        namespace: namespace.into(),
        name: String::new(),
    }
}

#[test]
fn durations() {
    assert_eq!(parse_duration("10ms").unwrap(), Duration::from_millis(10));
    assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
    assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
    assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
    assert!(parse_duration("10").is_err());
    assert!(parse_duration("ms").is_err());
    assert!(parse_duration("").is_err());
    for d in [Duration::ZERO, Duration::from_millis(150), Duration::from_secs(2)] {
        assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
    }
    assert_eq!(format_duration(Duration::from_millis(150)), "150ms");
}

#[test]
fn injections_are_used_up_and_counters_count() {
    let c = Controls::default();
    c.inject_error(ErrorInjection {
        verb: Some("patch".into()),
        resource: Some("deployments".into()),
        count: 2,
        code: 500,
        ..Default::default()
    });
    let patch = req("patch", "deployments", "");
    let get = req("get", "deployments", "");
    assert!(c.on_request(&get).error.is_none());
    let e = c.on_request(&patch).error.unwrap();
    assert_eq!((e.code, e.reason.as_str()), (500, "InternalError"));
    assert!(c.on_request(&patch).error.is_some());
    assert!(c.on_request(&patch).error.is_none());
    assert_eq!(c.request_count("patch", "deployments"), 3);
    assert_eq!(c.request_counts().len(), 2);
    c.reset_request_counts();
    assert_eq!(c.request_count("patch", "deployments"), 0);
}

#[test]
fn counters_by_namespace() {
    let c = Controls::default();
    c.on_request(&req("get", "configmaps", "a"));
    c.on_request(&req("get", "configmaps", "a"));
    c.on_request(&req("get", "configmaps", "b"));
    c.on_request(&req("list", "namespaces", ""));
    let a = vec![RequestCount { verb: "get".into(), resource: "configmaps".into(), count: 2 }];
    assert_eq!(c.request_counts_in("a"), a);
    assert!(c.request_counts_in("c").is_empty());
    assert_eq!(c.request_count("get", "configmaps"), 3);
    assert_eq!(c.request_counts_in("").len(), 1);
}

#[test]
fn faults_match_and_run_out_and_injections_win() {
    let c = Controls::default();
    let only = RequestMatch::any().verb("patch").namespace("shop").name("web");
    c.add_fault(Fault { matching: only.clone(), count: 1, action: FaultAction::Hang });
    c.add_fault(Fault {
        matching: RequestMatch::any().verb("get"),
        count: 2,
        action: FaultAction::Latency(Duration::from_millis(5)),
    });
    let mut patch = req("patch", "deployments", "shop");
    patch.name = "web".into();
    let mut other = patch.clone();
    other.name = "api".into();
    assert_eq!(c.on_request(&other).fault, None);
    assert_eq!(c.on_request(&patch).fault, Some(FaultAction::Hang));
    assert_eq!(c.on_request(&patch).fault, None, "used up");
    assert_eq!(c.on_request(&req("get", "pods", "x")).extra_latency, Duration::from_millis(5));
    c.inject_error(ErrorInjection {
        verb: Some("get".into()),
        count: 1,
        code: 503,
        ..Default::default()
    });
    let plan = c.on_request(&req("get", "pods", "x"));
    assert_eq!((plan.error.map(|e| e.code), plan.extra_latency), (Some(503), Duration::ZERO));
    assert_eq!(c.faults().len(), 1, "the injection took the request, the fault is left");
}

#[test]
fn job_marks_and_reset() {
    let c = Controls::with_latency(Duration::from_millis(3));
    let job = json!({"metadata": {"name": "smoke-1", "labels": {"suite": "e2e"}}});
    assert!(!c.job_fails("ns", &job));
    c.fail_jobs(JobMatch::prefix(None, "smoke-"));
    assert!(c.job_fails("ns", &job));
    c.clear_job_failure(&JobMatch::prefix(None, "smoke-"));
    assert!(!c.job_fails("ns", &job));
    c.fail_jobs(JobMatch::label(Some("other"), "suite", "e2e"));
    assert!(!c.job_fails("ns", &job), "another namespace");
    c.fail_jobs(JobMatch::label(Some("ns"), "suite", "e2e"));
    assert!(c.job_fails("ns", &job));
    c.fail_jobs(JobMatch::name("ns", "smoke-1"));
    c.fail_rollout("ns", "web");
    c.withhold_crd("widgets.example.com");
    c.hold_claim("ns", "data");
    c.set_latency(Duration::from_secs(1));
    c.on_request(&req("get", "pods", "ns"));
    c.reset();
    assert!(!c.job_fails("ns", &job));
    assert!(!c.rollout_fails("ns", "web"));
    assert!(!c.crd_withheld("widgets.example.com"));
    assert!(!c.claim_held("ns", "data"));
    assert_eq!(c.latency(), Duration::from_millis(3));
    assert!(c.request_counts().is_empty());
}
