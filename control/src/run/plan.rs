//! What a run needs from the configuration: EAL arguments, worker cores, the policy.

use pinhole_dataplane::policy::Policy;
use pinhole_dataplane::steer::SteeringMode;

use crate::config::{self, Config};

/// Everything `run` needs, taken from a loaded (valid) configuration.
#[derive(Clone, Debug)]
pub struct RunPlan {
    /// EAL arguments from the configuration.
    pub eal: Vec<String>,
    /// Worker cores (`workers.cores`), one worker each.
    pub worker_cores: Vec<u32>,
    /// Flow steering (`workers.steering`).
    pub steering: SteeringMode,
    /// The compiled policy.
    pub policy: Policy,
    /// Where audit and alert events go (`logging.events`), and their rate limit.
    pub events: Option<(String, u32)>,
    /// The whole configuration (the API serves and replaces its policy part).
    pub config: Config,
}

impl RunPlan {
    /// The plan for a validated configuration (policy version 1).
    pub fn from_config(config: &Config) -> RunPlan {
        RunPlan {
            eal: config.eal.clone(),
            worker_cores: config.workers.cores.clone(),
            steering: config.workers.steering.into(),
            policy: config::compile(config, 1),
            events: config
                .logging
                .events
                .clone()
                .map(|dest| (dest, config.logging.events_per_second)),
            config: config.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pinhole_dataplane::policy::Forwarding;
    use pinhole_dataplane::IfaceId;

    #[test]
    fn the_plan_carries_eal_cores_and_the_compiled_wire() {
        let json = r#"{"eal":["--no-huge","--vdev","net_null0","--vdev","net_null1"],
            "workers":{"cores":[1]},
            "interfaces":[{"name":"a","port":"net_null0"},{"name":"b","port":"net_null1"}],
            "forwarding":{"mode":"virtual-wire","pairs":[["a","b"]]}}"#;
        let config = config::load_str(json, &[]).map_err(|e| e.to_string());
        let Ok(config) = config else {
            panic!("{config:?}")
        };
        let plan = RunPlan::from_config(&config);
        assert_eq!(plan.eal.len(), 5);
        assert_eq!(plan.worker_cores, vec![1]);
        assert_eq!(plan.steering, SteeringMode::Auto);
        assert_eq!(
            plan.policy.forwarding,
            Forwarding::VirtualWire {
                peer: vec![Some(IfaceId(1)), Some(IfaceId(0))]
            }
        );
    }

    #[test]
    fn the_steering_mode_is_read_and_unknown_modes_are_refused() {
        let doc = |steering: &str| {
            format!(
                r#"{{"eal":["--vdev","net_null0"],"workers":{{"cores":[1,2],"steering":"{steering}"}},
                "interfaces":[{{"name":"a","port":"net_null0"}}],
                "forwarding":{{"mode":"virtual-wire","pairs":[]}}}}"#
            )
        };
        for (text, mode) in [
            ("auto", SteeringMode::Auto),
            ("rss", SteeringMode::Rss),
            ("handoff", SteeringMode::Handoff),
        ] {
            let config = config::load_str(&doc(text), &[]).map_err(|e| e.to_string());
            let Ok(config) = config else {
                panic!("{text}: {config:?}")
            };
            assert_eq!(RunPlan::from_config(&config).steering, mode);
        }
        let refused = config::load_str(&doc("spray"), &[]).map_err(|e| e.to_string());
        let Err(message) = refused else {
            panic!("an unknown mode loaded")
        };
        assert!(message.contains("workers.steering"), "{message}");
    }
}
