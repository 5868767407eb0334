//! The configuration: one JSON document. Its runtime part (`eal`, `workers`, `control`,
//! `logging`) is fixed for the engine's life; the rest is the policy, which a push over
//! the REST API replaces: `interfaces`, `forwarding`, `sessions`, and the part that
//! mirrors Cisco's zone-based policy firewall commands (`zones`, `class_maps`,
//! `port_map`, `parameter_maps`, `sip_profiles`, `policy_maps`, `zone_pairs`).
//!
//! Loading reports every unknown field and every semantic error with its JSON path
//! (e.g. `interfaces[1].port: no port named "net_pcap3"`); a configuration that loads is
//! valid and compiles into a [`pinhole_dataplane::policy::Policy`].

mod compile;
mod model;
mod protocols;
mod validate;

use std::fmt;
use std::path::Path;

pub use compile::compile;
pub use model::*;
pub use protocols::{builtin_protocol, ip_protocol_name, ip_protocol_number, BUILTIN_PROTOCOLS};
pub use validate::validate;

/// One problem in a configuration, located by its JSON path.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ConfigIssue {
    /// JSON path such as `interfaces[1].port` (empty for the document itself).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigIssue {
    /// An issue at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigIssue {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Why a configuration could not be loaded: every issue found.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The document is not valid (syntax, types, unknown fields, semantics).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<ConfigIssue>),
}

impl ConfigError {
    /// The issues, if the document was read but is invalid.
    pub fn issues(&self) -> &[ConfigIssue] {
        match self {
            ConfigError::Invalid(v) => v,
            ConfigError::Read { .. } => &[],
        }
    }
}

/// Parse a JSON document into a [`Config`] (types and unknown fields checked, with
/// paths; semantics not yet).
pub fn parse(json: &str) -> Result<Config, ConfigError> {
    let mut unknown = Vec::new();
    let mut de = serde_json::Deserializer::from_str(json);
    let mut on_unknown = |path: serde_ignored::Path<'_>| {
        unknown.push(ConfigIssue::new(ignored_path(&path), "unknown field"));
    };
    let parsed: Result<Config, _> = serde_path_to_error::deserialize(
        serde_ignored::Deserializer::new(&mut de, &mut on_unknown),
    );
    match parsed {
        Ok(config) => {
            if let Err(e) = de.end() {
                return Err(ConfigError::Invalid(vec![ConfigIssue::new(
                    "",
                    e.to_string(),
                )]));
            }
            if unknown.is_empty() {
                Ok(config)
            } else {
                Err(ConfigError::Invalid(unknown))
            }
        }
        Err(e) => {
            let path = json_path(&e.path().to_string());
            let mut issues = unknown;
            issues.push(ConfigIssue::new(
                if path == "." { String::new() } else { path },
                e.inner().to_string(),
            ));
            Err(ConfigError::Invalid(issues))
        }
    }
}

/// Parse and validate a JSON document.
pub fn load_str(json: &str, extra_eal: &[String]) -> Result<Config, ConfigError> {
    let config = parse(json)?;
    let issues = validate(&config, extra_eal);
    if issues.is_empty() {
        Ok(config)
    } else {
        Err(ConfigError::Invalid(issues))
    }
}

/// Read, parse and validate a configuration file; `extra_eal` are EAL arguments given
/// on the command line (they may declare ports).
pub fn load(path: &Path, extra_eal: &[String]) -> Result<Config, ConfigError> {
    let json = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    load_str(&json, extra_eal)
}

/// serde's paths look like `interfaces[1].port` already except for `?` segments of
/// untagged values and a leading `.` for the root; tidy them.
fn json_path(p: &str) -> String {
    p.trim_start_matches('.').replace(".?", "").replace('?', "")
}

/// Format a serde_ignored path as `a[1].b`.
fn ignored_path(p: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match p {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", ignored_path(parent)),
        Path::Map { parent, key } => {
            let parent = ignored_path(parent);
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_path(parent),
    }
}
