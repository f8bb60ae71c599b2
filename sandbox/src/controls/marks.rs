//! Which Jobs a fail mark selects: one by name, every Job whose name starts with a prefix,
//! or every Job carrying a label, in one namespace or (prefix and label) in all.

use serde_json::Value;

/// A fail mark for Jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobMatch {
    /// The Job `namespace/name`.
    Name {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// Every Job whose name starts with `prefix`, in `namespace` (or any, if `None`).
    NamePrefix {
        /// The namespace, or `None` for all.
        namespace: Option<String>,
        /// The start of the names.
        prefix: String,
    },
    /// Every Job labelled `key=value`, in `namespace` (or any, if `None`).
    Label {
        /// The namespace, or `None` for all.
        namespace: Option<String>,
        /// The label key.
        key: String,
        /// The label value.
        value: String,
    },
}

impl JobMatch {
    /// The Job `namespace/name`.
    pub fn name(namespace: &str, name: &str) -> Self {
        Self::Name { namespace: namespace.into(), name: name.into() }
    }

    /// Jobs in `namespace` (`None`: any) whose name starts with `prefix`.
    pub fn prefix(namespace: Option<&str>, prefix: &str) -> Self {
        Self::NamePrefix { namespace: namespace.map(str::to_string), prefix: prefix.into() }
    }

    /// Jobs in `namespace` (`None`: any) labelled `key=value`.
    pub fn label(namespace: Option<&str>, key: &str, value: &str) -> Self {
        Self::Label {
            namespace: namespace.map(str::to_string),
            key: key.into(),
            value: value.into(),
        }
    }

    /// Whether the mark selects `job`, which lives in `namespace`.
    pub fn selects(&self, namespace: &str, job: &Value) -> bool {
        let in_ns = |want: &Option<String>| want.as_deref().is_none_or(|w| w == namespace);
        let name = job["metadata"]["name"].as_str().unwrap_or_default();
        match self {
            Self::Name { namespace: ns, name: n } => ns == namespace && n == name,
            Self::NamePrefix { namespace: ns, prefix } => in_ns(ns) && name.starts_with(prefix),
            Self::Label { namespace: ns, key, value } => {
                in_ns(ns) && job["metadata"]["labels"][key].as_str() == Some(value.as_str())
            }
        }
    }
}
