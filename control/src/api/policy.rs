//! The policy document the API reads and replaces, and how a replacement is checked.
//!
//! The document is the configuration without its runtime sections
//! ([`RUNTIME_SECTIONS`]: what the process was started with). A replacement is
//! parsed and validated exactly like a configuration file (every issue, with its path),
//! with the running runtime sections put back; then what cannot change on a running
//! engine is checked ([`fixed_at_start`]); only then is it compiled and published.

use serde_json::Value;

use crate::config::{self, Config, ConfigIssue};
use pinhole_dataplane::policy::Policy;

/// Top-level keys that are not part of the policy: fixed when the process starts.
pub const RUNTIME_SECTIONS: [&str; 4] = ["eal", "workers", "control", "logging"];

/// The running configuration and the version of the policy compiled from it.
#[derive(Clone, Debug)]
pub struct PolicyStore {
    config: Config,
    version: u64,
}

/// A checked replacement, ready to publish.
#[derive(Debug)]
pub struct Prepared {
    /// The whole new configuration (runtime sections unchanged).
    pub config: Config,
    /// Its compiled policy, with the next version.
    pub policy: Policy,
}

impl PolicyStore {
    /// The store for the configuration the engine started with (policy `version`).
    pub fn new(config: Config, version: u64) -> Self {
        PolicyStore { config, version }
    }

    /// The version of the policy in force.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The policy document (the configuration without its runtime sections).
    pub fn document(&self) -> Value {
        let mut doc = serde_json::to_value(&self.config).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut doc {
            for key in RUNTIME_SECTIONS {
                map.remove(key);
            }
        }
        doc
    }

    /// Check `body` as the next policy; every issue found, by path, if it is not valid.
    pub fn prepare(&self, body: &[u8], extra_eal: &[String]) -> Result<Prepared, Vec<ConfigIssue>> {
        let doc: Value = serde_json::from_slice(body)
            .map_err(|e| vec![ConfigIssue::new("", format!("not a JSON document: {e}"))])?;
        let Value::Object(mut doc) = doc else {
            return Err(vec![ConfigIssue::new(
                "",
                "the policy must be a JSON object",
            )]);
        };
        let misplaced: Vec<ConfigIssue> = RUNTIME_SECTIONS
            .iter()
            .filter(|k| doc.contains_key(**k))
            .map(|k| ConfigIssue::new(*k, "not part of the policy (fixed when the engine starts)"))
            .collect();
        if !misplaced.is_empty() {
            return Err(misplaced);
        }
        let running = serde_json::to_value(&self.config).unwrap_or(Value::Null);
        for key in RUNTIME_SECTIONS {
            if let Some(v) = running.get(key) {
                doc.insert(key.to_owned(), v.clone());
            }
        }
        let merged = Value::Object(doc).to_string();
        let config = config::load_str(&merged, extra_eal).map_err(|e| e.issues().to_vec())?;
        let fixed = fixed_at_start(&self.config, &config);
        if !fixed.is_empty() {
            return Err(fixed);
        }
        let policy = config::compile(&config, self.version.saturating_add(1));
        Ok(Prepared { config, policy })
    }

    /// Make `config` (whose policy, `version`, was just published) the running one.
    pub fn commit(&mut self, config: Config, version: u64) {
        self.version = version;
        self.config = config;
    }
}

/// What a push may not change: the interfaces' identity (name, port, VLAN, in order:
/// ports are set up and mapped to workers' queues at start) and the session tables'
/// capacity (allocated at start). Zones, prefixes, addresses and MACs of interfaces may
/// change.
pub fn fixed_at_start(running: &Config, next: &Config) -> Vec<ConfigIssue> {
    let mut issues = Vec::new();
    if running.interfaces.len() != next.interfaces.len() {
        issues.push(ConfigIssue::new(
            "interfaces",
            format!(
                "the engine runs {} interfaces; interfaces cannot be added or removed while it runs",
                running.interfaces.len()
            ),
        ));
    }
    for (i, (a, b)) in running.interfaces.iter().zip(&next.interfaces).enumerate() {
        for (field, was, now) in [
            ("name", a.name.clone(), b.name.clone()),
            ("port", a.port.clone(), b.port.clone()),
            ("vlan", format!("{:?}", a.vlan), format!("{:?}", b.vlan)),
        ] {
            if was != now {
                issues.push(ConfigIssue::new(
                    format!("interfaces[{i}].{field}"),
                    format!("fixed while the engine runs (running: {was})"),
                ));
            }
        }
    }
    if running.sessions.capacity_per_worker != next.sessions.capacity_per_worker {
        issues.push(ConfigIssue::new(
            "sessions.capacity_per_worker",
            format!(
                "allocated at start (running: {}); restart the engine to change it",
                running.sessions.capacity_per_worker
            ),
        ));
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running() -> PolicyStore {
        let json = r#"{"eal":["--no-huge","--vdev","net_null0","--vdev","net_null1"],
            "interfaces":[{"name":"a","port":"net_null0","zone":"in"},
                          {"name":"b","port":"net_null1","zone":"out"}],
            "forwarding":{"mode":"virtual-wire","pairs":[["a","b"]]},
            "zones":[{"name":"in"},{"name":"out"}],
            "control":{"listen":"127.0.0.1:0"}}"#;
        let config = config::load_str(json, &[]).map_err(|e| e.to_string());
        let Ok(config) = config else {
            panic!("{config:?}")
        };
        PolicyStore::new(config, 1)
    }

    fn paths(r: Result<Prepared, Vec<ConfigIssue>>) -> Vec<String> {
        r.err()
            .unwrap_or_default()
            .into_iter()
            .map(|i| i.path)
            .collect()
    }

    #[test]
    fn the_document_round_trips_without_runtime_sections() {
        let store = running();
        let doc = store.document();
        for key in RUNTIME_SECTIONS {
            assert!(doc.get(key).is_none(), "{key} in {doc}");
        }
        let body = doc.to_string();
        let prepared = store.prepare(body.as_bytes(), &[]);
        let Ok(prepared) = prepared else {
            panic!("{prepared:?}")
        };
        assert_eq!(prepared.policy.version, 2);
        assert_eq!(prepared.config.eal, store.config.eal);
        assert!(prepared.config.control.is_some());
    }

    #[test]
    fn every_issue_is_reported_by_path() {
        let store = running();
        let mut doc = store.document();
        doc["zone_pairs"] = serde_json::json!([
            {"name":"x","source":"in","destination":"out","service_policy":"missing"},
            {"name":"y","source":"nowhere","destination":"out","service_policy":"missing"}
        ]);
        let got = paths(store.prepare(doc.to_string().as_bytes(), &[]));
        assert_eq!(
            got,
            [
                "zone_pairs[0].service_policy",
                "zone_pairs[1].source",
                "zone_pairs[1].service_policy"
            ]
        );
    }

    #[test]
    fn syntax_types_unknown_fields_and_runtime_sections_are_refused() {
        let store = running();
        assert_eq!(paths(store.prepare(b"{", &[])), [""]);
        assert_eq!(paths(store.prepare(b"[]", &[])), [""]);
        let mut doc = store.document();
        doc["zones"] = serde_json::json!([{"name": 7}]);
        assert_eq!(
            paths(store.prepare(doc.to_string().as_bytes(), &[])),
            ["zones[0].name"]
        );
        let mut doc = store.document();
        doc["zones"] = serde_json::json!([{"name": "in", "colour": "red"}, {"name": "out"}]);
        assert_eq!(
            paths(store.prepare(doc.to_string().as_bytes(), &[])),
            ["zones[0].colour"]
        );
        let mut doc = store.document();
        doc["eal"] = serde_json::json!([]);
        doc["workers"] = serde_json::json!({"cores": [2]});
        assert_eq!(
            paths(store.prepare(doc.to_string().as_bytes(), &[])),
            ["eal", "workers"]
        );
    }

    #[test]
    fn interfaces_and_capacity_are_fixed_but_zones_may_move() {
        let store = running();
        let mut doc = store.document();
        doc["interfaces"][1]["port"] = "net_null0".into();
        doc["interfaces"][1]["vlan"] = 5.into();
        doc["sessions"]["capacity_per_worker"] = 10.into();
        assert_eq!(
            paths(store.prepare(doc.to_string().as_bytes(), &[])),
            [
                "interfaces[1].port",
                "interfaces[1].vlan",
                "sessions.capacity_per_worker"
            ]
        );
        let mut doc = store.document();
        doc["interfaces"][0]["zone"] = "out".into();
        assert!(store.prepare(doc.to_string().as_bytes(), &[]).is_ok());
    }
}
