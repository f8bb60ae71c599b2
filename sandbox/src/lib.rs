//! cetus-sandbox: an in-memory Kubernetes API server that `kubectl` and `kube::Client` both
//! accept, so that Cetus's tests and quickstart run without a cluster. It is not a cluster:
//! no kubelet runs and no pod starts.
#![forbid(unsafe_code)]

pub mod merge;
