//! The two-zone voice lab the pipeline tests share: phones on an `inside` interface,
//! everything else behind `wan` in `outside`, a virtual wire between them, and one
//! class inspecting one protocol from inside to outside. Each test overrides what it is
//! about (extra zone pairs, a SIP profile, other prefixes) and keeps the rest.

#![allow(dead_code)] // each test file uses part of it

use std::net::Ipv4Addr;
use std::sync::Arc;

use pinhole_control::config;
use pinhole_dataplane::packet::build::udp4_frame;
use pinhole_dataplane::{Dataplane, Pipeline, Timestamp, Verdict};
use serde_json::{json, Value};

/// The lab's configuration document inspecting `protocol` (`sip`, `skinny`) from
/// `inside` (the interface `phones`, reaching `phones_prefix`) to `outside` (`wan`);
/// every top-level key of `overrides` replaces the lab's.
pub fn document(protocol: &str, phones_prefix: &str, overrides: Value) -> Value {
    let mut doc = json!({
        "eal": ["--vdev", "net_ring0", "--vdev", "net_ring1"],
        "interfaces": [
            {"name": "phones", "port": "net_ring0", "zone": "inside", "prefixes": [phones_prefix]},
            {"name": "wan", "port": "net_ring1", "zone": "outside", "prefixes": ["0.0.0.0/0"]}
        ],
        "forwarding": {"mode": "virtual-wire", "pairs": [["phones", "wan"]]},
        "zones": [{"name": "inside"}, {"name": "outside"}],
        "class_maps": [{"name": protocol, "rules": [{"protocol": protocol}]}],
        "policy_maps": [{"name": "voice", "classes": [{"class": protocol, "action": "inspect"}]}],
        "zone_pairs": [{"name": "in-out", "source": "inside", "destination": "outside", "service_policy": "voice"}]
    });
    if let (Some(doc), Some(overrides)) = (doc.as_object_mut(), overrides.as_object()) {
        for (key, value) in overrides {
            doc.insert(key.clone(), value.clone());
        }
    }
    doc
}

/// A dataplane running [`document`].
pub fn dataplane(protocol: &str, phones_prefix: &str, overrides: Value) -> Arc<Dataplane> {
    let doc = document(protocol, phones_prefix, overrides);
    let cfg = config::load_str(&doc.to_string(), &[]).unwrap();
    Dataplane::new(config::compile(&cfg, 1))
}

/// The interface a packet from `src` enters by: `phones` for 10.0.0.0/8, else `wan`.
pub fn ingress_of(p: &Pipeline, src: Ipv4Addr) -> pinhole_dataplane::IfaceId {
    let name = if src.octets()[0] == 10 {
        "phones"
    } else {
        "wan"
    };
    p.policy().interface_by_name(name).unwrap()
}

/// One UDP datagram `from -> to` as a burst of its own at `at` seconds.
pub fn send_udp(
    p: &mut Pipeline,
    from: (&str, u16),
    to: (&str, u16),
    payload: &[u8],
    at: u64,
) -> Verdict {
    let src: Ipv4Addr = from.0.parse().unwrap();
    let dst: Ipv4Addr = to.0.parse().unwrap();
    let ingress = ingress_of(p, src);
    let mut frame = udp4_frame(src, dst, from.1, to.1, payload);
    let t = Timestamp::from_secs(at);
    p.begin_burst(t);
    let v = p.process(&mut frame, ingress, t);
    p.end_burst(t);
    v
}
