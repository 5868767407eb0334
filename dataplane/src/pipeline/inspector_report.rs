//! The inspectors' counters as reports show them: the shared pinhole and dialog tables,
//! and the SIP and Skinny inspectors summed over every worker. One collector serves the
//! replay report and the engine's stop report.

use std::sync::atomic::Ordering;

use serde::Serialize;

use super::{Dataplane, Pipeline};

/// Pinhole table counters.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PinholeTableCounters {
    /// Pinholes opened.
    pub opened: u64,
    /// Open requests that refreshed an identical pinhole.
    pub refreshed: u64,
    /// Pinholes closed by inspectors.
    pub closed: u64,
    /// Pinholes expired.
    pub expired: u64,
    /// Open requests refused because the table was full.
    pub refused_full: u64,
    /// Pinholes still open when the counters were read (last packet, engine stop).
    pub open_at_end: u64,
}

/// Counters per inspector. The extension point for inspector counters: each inspector
/// adds its own key (`sip`, `skinny`) in [`InspectorCounters::collect`]; absent keys
/// are omitted from the JSON.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct InspectorCounters {
    /// The shared pinhole table.
    pub pinholes: PinholeTableCounters,
    /// SIP dialogs and registrations still held in the shared dialog table when the
    /// counters were read: a finished call leaves none.
    pub sip_dialogs_open_at_end: u64,
    /// The SIP inspector (messages, dialogs, pinholes requested, anomalies), summed
    /// over every SIP inspector of every worker.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sip: Option<serde_json::Value>,
    /// The Skinny inspector and the pipeline's inspector glue, summed over workers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skinny: Option<serde_json::Value>,
}

impl InspectorCounters {
    /// Read the shared tables of `dp` and sum the inspector counters of `pipelines`
    /// (the workers' pipelines of that dataplane).
    pub fn collect<'a>(dp: &Dataplane, pipelines: impl IntoIterator<Item = &'a Pipeline>) -> Self {
        let mut sip = None;
        let mut skinny = None;
        for pipeline in pipelines {
            for counters in pipeline.sip_counters() {
                sip = add(sip, serde_json::to_value(counters).ok());
            }
            skinny = add(skinny, serde_json::to_value(pipeline.alg_counters()).ok());
        }
        let c = &dp.pinholes.counters;
        InspectorCounters {
            pinholes: PinholeTableCounters {
                opened: c.opened.load(Ordering::Relaxed),
                refreshed: c.refreshed.load(Ordering::Relaxed),
                closed: c.closed.load(Ordering::Relaxed),
                expired: c.expired.load(Ordering::Relaxed),
                refused_full: c.refused_full.load(Ordering::Relaxed),
                open_at_end: dp.pinholes.len(),
            },
            sip_dialogs_open_at_end: u64::try_from(dp.algs.sip.len()).unwrap_or(u64::MAX),
            sip,
            skinny,
        }
    }

    /// The summed SIP counter `name` (0 when SIP was never inspected).
    pub fn sip_counter(&self, name: &str) -> u64 {
        self.sip
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
    }
}

fn add(a: Option<serde_json::Value>, b: Option<serde_json::Value>) -> Option<serde_json::Value> {
    match (a, b) {
        (Some(a), Some(b)) => Some(sum_counters(&a, &b)),
        (a, b) => a.or(b),
    }
}

/// Field-wise sum of JSON objects of counters (`None` when there are none).
pub fn sum_counter_values(
    values: impl IntoIterator<Item = serde_json::Value>,
) -> Option<serde_json::Value> {
    values.into_iter().reduce(|a, b| sum_counters(&a, &b))
}

/// Field-wise sum of two JSON objects of counters (inspectors of several parameter maps
/// or workers); non-numeric fields keep the first value.
pub fn sum_counters(a: &serde_json::Value, b: &serde_json::Value) -> serde_json::Value {
    match (a, b) {
        (serde_json::Value::Object(x), serde_json::Value::Object(y)) => serde_json::Value::Object(
            x.iter()
                .map(|(k, v)| {
                    let w = y
                        .get(k)
                        .map(|w| sum_counters(v, w))
                        .unwrap_or_else(|| v.clone());
                    (k.clone(), w)
                })
                .collect(),
        ),
        (serde_json::Value::Number(x), serde_json::Value::Number(y)) => {
            match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => serde_json::Value::from(x.saturating_add(y)),
                _ => a.clone(),
            }
        }
        _ => a.clone(),
    }
}
