//! The options every write takes from its query (`dryRun`, `fieldManager`,
//! `fieldValidation`), validated as kube-apiserver validates them. The verbs read the raw
//! parameters from their request; this module only judges them.

use crate::status::{ApiError, FieldError};

/// The raw option parameters of a write, as the request carried them.
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionParams<'a> {
    /// `dryRun`.
    pub dry_run: Option<&'a str>,
    /// `fieldManager`.
    pub field_manager: Option<&'a str>,
    /// `fieldValidation`.
    pub field_validation: Option<&'a str>,
    /// The request's `User-Agent`, for the default field manager.
    pub user_agent: &'a str,
}

/// Whether a `dryRun` value asks for a dry run; any value other than `All` is invalid.
pub fn dry_run(value: Option<&str>, options_kind: &str) -> Result<bool, ApiError> {
    match value {
        None | Some("") => Ok(false),
        Some("All") => Ok(true),
        Some(other) => Err(ApiError::invalid(
            "meta.k8s.io",
            options_kind,
            "",
            &[FieldError::not_supported(
                "dryRun",
                format!("[]string{{\"{other}\"}}"),
                "supported values: \"All\"",
            )],
        )),
    }
}

/// `fieldValidation`: what to do about unknown fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    /// Fail the request (400).
    Strict,
    /// Drop them and warn (the default).
    Warn,
    /// Drop them silently.
    Ignore,
}

/// The options every write takes from the query.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// `dryRun=All`.
    pub dry_run: bool,
    /// The field manager (explicit, or derived from the user agent).
    pub manager: String,
    /// Whether the manager was given explicitly.
    pub explicit_manager: bool,
    /// Unknown-field handling.
    pub validation: FieldValidation,
}

impl WriteOptions {
    /// Reads and validates the options of a write from its query parameters;
    /// `options_kind` names the options type in errors (`CreateOptions`, `UpdateOptions`,
    /// `PatchOptions`).
    pub fn parse(params: &OptionParams<'_>, options_kind: &str) -> Result<Self, ApiError> {
        let dry_run = dry_run(params.dry_run, options_kind)?;
        let validation = match params.field_validation {
            None | Some("") | Some("Warn") => FieldValidation::Warn,
            Some("Strict") => FieldValidation::Strict,
            Some("Ignore") => FieldValidation::Ignore,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "fieldValidation parameter unsupported: {other:?}; supported values: \"Ignore\", \"Warn\", \"Strict\""
                )));
            }
        };
        let explicit = params.field_manager.filter(|m| !m.is_empty()).map(str::to_string);
        if let Some(m) = &explicit
            && m.len() > 128
        {
            return Err(ApiError::invalid(
                "meta.k8s.io",
                options_kind,
                "",
                &[FieldError {
                    kind: crate::status::FieldErrorKind::Invalid,
                    field: "fieldManager".into(),
                    value: None,
                    detail: "Too long: may not be more than 128 bytes".into(),
                }],
            ));
        }
        // apiserver names an unnamed manager after the user agent's program name.
        let derived = params.user_agent.split('/').next().unwrap_or_default().to_string();
        Ok(Self {
            dry_run,
            explicit_manager: explicit.is_some(),
            manager: explicit.unwrap_or(derived),
            validation,
        })
    }
}
