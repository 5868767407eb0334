//! Read-only views of the shared tables: pinholes, SIP dialogs, Skinny stations and
//! calls. They read the shared structures directly (the pinhole table is lock-free to
//! read; the dialog and station tables lock one shard at a time for the copy).

use std::collections::BTreeMap;
use std::net::IpAddr;

use pinhole_dataplane::inspect::action::InspectorKind;
use pinhole_dataplane::inspect::sccp::Registration;
use pinhole_dataplane::inspect::sip::DialogView;
use pinhole_dataplane::pinhole::Pinhole;
use pinhole_dataplane::policy::{Policy, ZonePairId};
use pinhole_dataplane::{Dataplane, Timestamp};
use serde::Serialize;

/// Entries a list returns at most (the tables can hold hundreds of thousands).
pub const MAX_ENTRIES: usize = 10_000;

/// One open pinhole.
#[derive(Clone, Debug, Serialize)]
pub struct PinholeView {
    /// Its id.
    pub id: u64,
    /// `pregen` (no packet yet) or `active`.
    pub state: pinhole_dataplane::pinhole::PinholeState,
    /// `sip` or `skinny`.
    pub opened_by: InspectorKind,
    /// What it carries.
    pub kind: pinhole_dataplane::inspect::action::MediaKind,
    /// `udp` or `tcp`.
    pub transport: pinhole_dataplane::inspect::action::Transport,
    /// Admitted source (absent: any).
    pub src: Option<IpAddr>,
    /// Admitted source port (absent: any).
    pub src_port: Option<u16>,
    /// Destination.
    pub dst: IpAddr,
    /// Destination port.
    pub dst_port: u16,
    /// How the source is checked.
    pub source_match: pinhole_dataplane::pinhole::SourceMatch,
    /// The call it belongs to.
    pub call: u64,
    /// The stream within the call.
    pub stream: u32,
    /// Packets admitted.
    pub packets: u64,
    /// Seconds since it was opened.
    pub age_secs: u64,
}

fn pinhole_view(p: &Pinhole, now: Timestamp) -> PinholeView {
    let r = &p.request;
    PinholeView {
        id: p.id.0,
        state: p.state(),
        opened_by: r.opened_by,
        kind: r.kind,
        transport: r.transport,
        src: r.src,
        src_port: r.src_port,
        dst: r.dst,
        dst_port: r.dst_port,
        source_match: p.source_match,
        call: r.call.0,
        stream: r.stream.0,
        packets: p.packets(),
        age_secs: now.since(p.opened_at).as_secs(),
    }
}

/// Open pinholes (by id), at most [`MAX_ENTRIES`].
pub fn pinholes(dp: &Dataplane, now: Timestamp) -> Vec<PinholeView> {
    dp.pinholes
        .open_pinholes()
        .iter()
        .take(MAX_ENTRIES)
        .map(|p| pinhole_view(p, now))
        .collect()
}

/// One SIP dialog with its zones named.
#[derive(Clone, Debug, Serialize)]
pub struct Dialog {
    /// The dialog.
    #[serde(flatten)]
    pub dialog: DialogView,
    /// The two zones it runs between, by name, as a zone pair of the policy in force
    /// names them (source first); absent when no zone pair joins them any more, or for
    /// a dialog between unzoned interfaces.
    pub zones: Option<[String; 2]>,
}

/// SIP dialogs and registrations followed now, at most [`MAX_ENTRIES`].
pub fn dialogs(dp: &Dataplane, policy: &Policy, now: Timestamp) -> Vec<Dialog> {
    let mut v: Vec<Dialog> = dp
        .algs
        .sip
        .snapshot(now, MAX_ENTRIES)
        .into_iter()
        .map(|d| Dialog {
            zones: policy
                .zone_pairs
                .iter()
                .enumerate()
                .find(|(i, _)| {
                    u16::try_from(*i).is_ok_and(|i| policy.zone_link(ZonePairId(i)) == d.zone_link)
                })
                .map(|(_, zp)| {
                    [
                        policy.zone_name(zp.source).to_owned(),
                        policy.zone_name(zp.destination).to_owned(),
                    ]
                }),
            dialog: d,
        })
        .collect();
    v.sort_by_key(|d| d.dialog.call);
    v
}

/// One Skinny station.
#[derive(Clone, Debug, Serialize)]
pub struct StationView {
    /// Its address.
    pub address: IpAddr,
    /// `unknown`, `registering`, `registered`, `rejected`, `unregistered`.
    pub registration: String,
    /// Device name from its Register.
    pub device_name: String,
    /// Pinholes it holds open.
    pub pinholes: u32,
    /// Seconds since a PDU last concerned it.
    pub idle_secs: u64,
}

/// Skinny stations known now (by address), at most [`MAX_ENTRIES`].
pub fn stations(dp: &Dataplane, now: Timestamp) -> Vec<StationView> {
    let mut v: Vec<StationView> = dp
        .algs
        .skinny
        .stations(MAX_ENTRIES)
        .into_iter()
        .map(|(address, s)| StationView {
            address,
            registration: match s.registration {
                Registration::Unknown => "unknown",
                Registration::Registering => "registering",
                Registration::Registered => "registered",
                Registration::Rejected => "rejected",
                Registration::Unregistered => "unregistered",
            }
            .to_owned(),
            device_name: String::from_utf8_lossy(
                s.device_name.split(|b| *b == 0).next().unwrap_or_default(),
            )
            .into_owned(),
            pinholes: s.pinholes,
            idle_secs: now.since(s.last_seen).as_secs(),
        })
        .collect();
    v.sort_by_key(|s| s.address);
    v
}

/// One Skinny call: the media pinholes it holds.
#[derive(Clone, Debug, Serialize)]
pub struct CallView {
    /// The call identity.
    pub call: u64,
    /// Its open pinholes.
    pub pinholes: Vec<PinholeView>,
}

/// Skinny calls with open pinholes, by call.
pub fn skinny_calls(dp: &Dataplane, now: Timestamp) -> Vec<CallView> {
    let mut calls: BTreeMap<u64, Vec<PinholeView>> = BTreeMap::new();
    for p in dp.pinholes.open_pinholes() {
        if p.request.opened_by == InspectorKind::Skinny {
            calls
                .entry(p.request.call.0)
                .or_default()
                .push(pinhole_view(&p, now));
        }
    }
    calls
        .into_iter()
        .take(MAX_ENTRIES)
        .map(|(call, pinholes)| CallView { call, pinholes })
        .collect()
}
