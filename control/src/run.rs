//! `pinhole run`: initialise DPDK, start the engine on the policy's ports, forward until
//! a signal (or a demo/test stop condition), then stop cleanly and report.

pub mod eal_args;
pub mod plan;
pub mod summary;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use dpdk_sys::Eal;
use pinhole_dataplane::engine::{Engine, EngineConfig};
use pinhole_dataplane::Dataplane;

use crate::api::policy::PolicyStore;
use crate::api::{ApiServer, ApiSettings, ApiState, PortStatsRequest};
use crate::config::Config;

pub use self::plan::RunPlan;
pub use self::summary::{RunSummary, StopCause};

/// How long the control thread sleeps between looks at the stop conditions.
const POLL: Duration = Duration::from_millis(20);

/// Options of a run beyond the configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Stop once no packet has arrived for this long (counted from the start, too).
    pub exit_when_idle: Option<Duration>,
    /// Write the summary as JSON here when the run ends.
    pub summary_json: Option<PathBuf>,
    /// Mbufs in the pool (default: sized from ports, workers and descriptors).
    pub mbufs: Option<u32>,
    /// Serve the REST API on this address instead of `control.listen` (turns it on).
    pub control_listen: Option<String>,
    /// Write the API's bound address to this file once it listens.
    pub control_addr_file: Option<PathBuf>,
}

fn stop_cause(
    signalled: &AtomicBool,
    opts: &RunOptions,
    started: Instant,
    last_activity: Instant,
) -> Option<StopCause> {
    if signalled.load(Ordering::Relaxed) {
        return Some(StopCause::Signal);
    }
    if opts.duration.is_some_and(|d| started.elapsed() >= d) {
        return Some(StopCause::Duration);
    }
    if opts
        .exit_when_idle
        .is_some_and(|d| last_activity.elapsed() >= d)
    {
        return Some(StopCause::Idle);
    }
    None
}

/// Run the engine for a loaded configuration with `extra_eal` appended to its EAL
/// arguments, until a signal or a stop condition of `opts`.
///
/// Errors are one line naming what is wrong (a configuration path where there is one).
pub fn run(config: &Config, extra_eal: &[String], opts: &RunOptions) -> anyhow::Result<RunSummary> {
    run_plan(&RunPlan::from_config(config), extra_eal, opts)
}

/// [`run`] for a plan (EAL arguments, worker cores and an already compiled policy).
pub fn run_plan(
    plan: &RunPlan,
    extra_eal: &[String],
    opts: &RunOptions,
) -> anyhow::Result<RunSummary> {
    let args = eal_args::build(
        &plan.eal,
        extra_eal,
        &plan.worker_cores,
        &eal_args::online_cpus(),
    )?;
    tracing::info!(?args, "EAL arguments");

    let api_settings = ApiSettings::resolve(
        plan.config.control.as_ref(),
        opts.control_listen.as_deref(),
        opts.control_addr_file.clone(),
    )?;
    let signalled = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second signal while stopping exits at once.
        signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&signalled))
            .context("installing signal handlers")?;
        signal_hook::flag::register(signal, Arc::clone(&signalled))
            .context("installing signal handlers")?;
    }

    // Opened before anything starts: a bad path fails at once.
    let event_writer = match &plan.events {
        Some((dest, rate)) => Some(
            crate::events::EventWriter::open(dest, *rate)
                .with_context(|| format!("logging.events: opening {dest}"))?,
        ),
        None => None,
    };
    let eal = Eal::init("pinhole", &args).map_err(|e| anyhow::anyhow!("DPDK EAL: {e}"))?;
    let dataplane = Dataplane::new(plan.policy.clone());
    let engine_cfg = EngineConfig {
        worker_lcores: plan.worker_cores.clone(),
        mbufs: opts.mbufs,
        steering: plan.steering,
        ..EngineConfig::default()
    };
    let engine = Engine::start(&eal, &dataplane, &engine_cfg)?;
    // After EAL init: the API thread inherits the main lcore's affinity, never a worker's.
    let (port_stats_tx, port_stats_rx) = std::sync::mpsc::sync_channel::<PortStatsRequest>(8);
    let api = match &api_settings {
        Some(settings) => {
            let state = ApiState::new(
                settings,
                Arc::clone(&dataplane),
                engine.monitor(),
                port_stats_tx,
                PolicyStore::new(plan.config.clone(), plan.policy.version),
                extra_eal.to_vec(),
            );
            match ApiServer::start(settings, Arc::new(state)) {
                Ok(server) => Some(server),
                Err(e) => {
                    drop(engine.stop());
                    return Err(e);
                }
            }
        }
        None => None,
    };

    // Events carry the engine's clock (zero at its start); the stream carries Unix time.
    let unix_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let base = unix_now - engine.monitor().now().0 as f64 / 1e9;
    let mut event_writer = event_writer.map(|w| w.with_clock_base(base));
    // Kept past `engine.stop()`: the workers' last events are written after they stop.
    let events = engine.events().clone();
    let started = Instant::now();
    let mut last_activity = started;
    let mut last_rx = 0;
    let cause = loop {
        std::thread::sleep(POLL);
        write_events(
            events.try_iter(),
            event_writer.as_mut(),
            &dataplane.policy(),
        );
        for reply in port_stats_rx.try_iter() {
            let _ = reply.try_send(engine.port_stats());
        }
        let rx = engine.rx_packets();
        if rx != last_rx {
            last_rx = rx;
            last_activity = Instant::now();
        }
        if let Some(cause) = stop_cause(&signalled, opts, started, last_activity) {
            break cause;
        }
    };
    tracing::info!(?cause, "stopping");
    if let Some(api) = api {
        api.stop();
    }
    let report = engine.stop();
    write_events(
        events.try_iter(),
        event_writer.as_mut(),
        &dataplane.policy(),
    );
    drop(dataplane);
    drop(eal);

    let summary = RunSummary::new(report, cause);
    if let Some(path) = &opts.summary_json {
        let json = serde_json::to_string_pretty(&summary).context("serialising the summary")?;
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(summary)
}

/// Write the events queued so far to the stream (or the debug log without one).
fn write_events(
    events: impl Iterator<Item = pinhole_dataplane::pipeline::Event>,
    mut writer: Option<&mut crate::events::EventWriter>,
    policy: &pinhole_dataplane::policy::Policy,
) {
    for event in events {
        match writer.as_deref_mut() {
            Some(w) => {
                if let Err(e) = w.write(policy, &event) {
                    tracing::warn!(error = %e, "writing the event stream");
                }
            }
            None => tracing::debug!(target: "pinhole::event", ?event),
        }
    }
    if let Some(w) = writer {
        let _ = w.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_stop_condition_met_wins() {
        let flag = AtomicBool::new(false);
        let now = Instant::now();
        let long_ago = now.checked_sub(Duration::from_secs(10)).unwrap_or(now);
        let none = RunOptions::default();
        assert_eq!(stop_cause(&flag, &none, long_ago, long_ago), None);
        let idle = RunOptions {
            exit_when_idle: Some(Duration::from_secs(1)),
            ..RunOptions::default()
        };
        assert_eq!(stop_cause(&flag, &idle, long_ago, now), None);
        assert_eq!(
            stop_cause(&flag, &idle, long_ago, long_ago),
            Some(StopCause::Idle)
        );
        let timed = RunOptions {
            duration: Some(Duration::from_secs(5)),
            ..idle
        };
        assert_eq!(
            stop_cause(&flag, &timed, long_ago, long_ago),
            Some(StopCause::Duration)
        );
        flag.store(true, Ordering::Relaxed);
        assert_eq!(
            stop_cause(&flag, &timed, long_ago, long_ago),
            Some(StopCause::Signal)
        );
    }
}
