//! What a run needs from the configuration: EAL arguments, worker cores, the policy.
//!
//! `RunPlan::from_json` reads only the foundation subset of the configuration
//! (`eal`, `workers.cores`, `interfaces`, virtual-wire `forwarding`); it is the stand-in
//! until `pinhole_control::config` (full model and validation) is wired to `run`.

use std::path::Path;

use pinhole_dataplane::policy::{Forwarding, Interface, Policy};
use pinhole_dataplane::IfaceId;
use serde::Deserialize;

/// Everything `run` needs.
#[derive(Clone, Debug)]
pub struct RunPlan {
    /// EAL arguments from the configuration.
    pub eal: Vec<String>,
    /// Worker cores (`workers.cores`), one worker each.
    pub worker_cores: Vec<u32>,
    /// The compiled policy.
    pub policy: Policy,
}

#[derive(Deserialize)]
struct Doc {
    #[serde(default)]
    eal: Vec<String>,
    #[serde(default)]
    workers: Option<Workers>,
    interfaces: Vec<Iface>,
    forwarding: Fwd,
}

#[derive(Deserialize)]
struct Workers {
    cores: Vec<u32>,
}

#[derive(Deserialize)]
struct Iface {
    name: String,
    port: String,
    #[serde(default)]
    vlan: Option<u16>,
}

#[derive(Deserialize)]
struct Fwd {
    mode: String,
    #[serde(default)]
    pairs: Vec<[String; 2]>,
}

impl RunPlan {
    /// Parse the foundation subset of a configuration document.
    pub fn from_json(text: &str) -> anyhow::Result<RunPlan> {
        let doc: Doc =
            serde_json::from_str(text).map_err(|e| anyhow::anyhow!("invalid JSON: {e}"))?;
        if doc.forwarding.mode != "virtual-wire" {
            anyhow::bail!(
                "forwarding.mode: {:?} is not supported by run yet (use \"virtual-wire\")",
                doc.forwarding.mode
            );
        }
        let interfaces: Vec<Interface> = doc
            .interfaces
            .iter()
            .map(|i| Interface {
                name: i.name.clone(),
                port: i.port.clone(),
                vlan: i.vlan,
                zone: None,
                prefixes: Vec::new(),
                addresses: Vec::new(),
                mac: [0; 6],
            })
            .collect();
        let find = |name: &str, at: String| -> anyhow::Result<IfaceId> {
            interfaces
                .iter()
                .position(|i| i.name == name)
                .and_then(|i| u16::try_from(i).ok())
                .map(IfaceId)
                .ok_or_else(|| anyhow::anyhow!("{at}: no interface named {name:?}"))
        };
        let mut peer = vec![None; interfaces.len()];
        for (n, [a, b]) in doc.forwarding.pairs.iter().enumerate() {
            let a = find(a, format!("forwarding.pairs[{n}][0]"))?;
            let b = find(b, format!("forwarding.pairs[{n}][1]"))?;
            for (from, to) in [(a, b), (b, a)] {
                if let Some(slot) = peer.get_mut(from.index()) {
                    *slot = Some(to);
                }
            }
        }
        Ok(RunPlan {
            eal: doc.eal,
            worker_cores: doc.workers.map_or_else(|| vec![1], |w| w.cores),
            policy: Policy::forwarding_only(interfaces, Forwarding::VirtualWire { peer }),
        })
    }

    /// Read and parse a configuration file; errors start with the file name.
    pub fn from_file(path: &Path) -> anyhow::Result<RunPlan> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        RunPlan::from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_become_symmetric_peers() {
        let plan = RunPlan::from_json(
            r#"{"eal":["--no-huge"],"workers":{"cores":[1]},
                "interfaces":[{"name":"a","port":"net_null0"},{"name":"b","port":"net_null1"},{"name":"c","port":"net_null2"}],
                "forwarding":{"mode":"virtual-wire","pairs":[["a","b"]]}}"#,
        );
        let plan = plan.map_err(|e| e.to_string());
        let Ok(plan) = plan else { panic!("{plan:?}") };
        assert_eq!(
            plan.policy.forwarding,
            Forwarding::VirtualWire {
                peer: vec![Some(IfaceId(1)), Some(IfaceId(0)), None]
            }
        );
        assert_eq!(plan.worker_cores, vec![1]);
    }

    #[test]
    fn unknown_pair_members_and_bad_json_are_one_line_errors() {
        let e = RunPlan::from_json(
            r#"{"interfaces":[{"name":"a","port":"p"}],"forwarding":{"mode":"virtual-wire","pairs":[["a","z"]]}}"#,
        )
        .err()
        .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("forwarding.pairs[0][1]: no interface named \"z\"")
        );
        let e = RunPlan::from_json("{")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("invalid JSON: EOF"), "{e}");
    }
}
