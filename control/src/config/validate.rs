//! Semantic validation: every problem found, each with its JSON path.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use pinhole_dataplane::policy::Prefix;

use pinhole_dataplane::inspect::sip::ProfileRule;

use super::model::*;
use super::protocols::{builtin_protocol, ip_protocol_number};
use super::ConfigIssue;

/// Most entries in one of a SIP profile's lists (methods, users, domains).
pub const MAX_SIP_LIST: usize = 1024;

/// What is wrong with `m` as a SIP method name, if anything.
fn method_issue(m: &str) -> Option<String> {
    let token = |ch: char| ch.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(ch);
    if m.is_empty() || m.len() > 32 || !m.chars().all(token) {
        return Some(format!("{m:?} is not a SIP method name"));
    }
    let upper = m.to_ascii_uppercase();
    let known = pinhole_dataplane::inspect::sip::Method::from_token(upper.as_bytes());
    if upper != m && !matches!(known, pinhole_dataplane::inspect::sip::Method::Other(_)) {
        return Some(format!(
            "methods are case-sensitive: {m:?} never matches; did you mean {upper:?}?"
        ));
    }
    None
}

/// Zone names that users may not declare.
pub const RESERVED_ZONES: &[&str] = &["self", "default"];

/// Validate a parsed configuration; `extra_eal` are EAL arguments from the command line.
/// Returns every issue (empty = valid).
pub fn validate(c: &Config, extra_eal: &[String]) -> Vec<ConfigIssue> {
    let mut v = Validator::default();
    v.workers(c);
    v.interfaces(c, extra_eal);
    v.forwarding(c);
    v.zones(c);
    v.port_map(c);
    v.class_maps(c);
    v.sip_profiles(c);
    v.parameter_maps(c);
    v.policy_maps(c);
    v.zone_pairs(c);
    v.sizes(c);
    if c.sessions.capacity_per_worker == 0 {
        v.issue("sessions.capacity_per_worker", "must be at least 1");
    }
    if c.logging.events_per_second == 0 {
        v.issue("logging.events_per_second", "must be at least 1");
    }
    if let Some(control) = &c.control {
        v.control(control);
    }
    v.issues
}

#[derive(Default)]
struct Validator {
    issues: Vec<ConfigIssue>,
}

/// The devices EAL arguments declare: vdev names and PCI allow-list entries, and whether
/// PCI is disabled.
struct EalDevices {
    vdevs: Vec<String>,
    pci: Vec<String>,
    no_pci: bool,
}

fn eal_devices(args: impl Iterator<Item = String>) -> EalDevices {
    let args: Vec<String> = args.collect();
    let mut d = EalDevices {
        vdevs: Vec::new(),
        pci: Vec::new(),
        no_pci: false,
    };
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        let value = || inline.clone().or_else(|| args.get(i + 1).cloned());
        match flag {
            "--vdev" => {
                if let Some(v) = value() {
                    d.vdevs.push(v.split(',').next().unwrap_or("").to_string());
                }
            }
            "-a" | "--allow" | "-w" | "--pci-whitelist" => {
                if let Some(v) = value() {
                    d.pci.push(v.split(',').next().unwrap_or("").to_string());
                }
            }
            "--no-pci" => d.no_pci = true,
            _ => {}
        }
        i += 1;
    }
    d
}

/// Whether `s` looks like a PCI address (`0000:01:00.0` or `01:00.0`).
pub fn is_pci_address(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    let hex = |p: &str, n: usize| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit());
    let dev_fn = |p: &str| match p.split_once('.') {
        Some((d, f)) => hex(d, 2) && f.len() == 1 && f.chars().all(|c| c.is_ascii_digit()),
        None => false,
    };
    match parts.as_slice() {
        [dom, bus, df] => hex(dom, 4) && hex(bus, 2) && dev_fn(df),
        [bus, df] => hex(bus, 2) && dev_fn(df),
        _ => false,
    }
}

/// Parse `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = s.split([':', '-']);
    for b in &mut mac {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// Parse a port spec into an inclusive range.
pub fn parse_port_spec(p: &PortSpec) -> Result<(u16, u16), String> {
    match p {
        PortSpec::Port(0) => Err("port 0 is not a port".into()),
        PortSpec::Port(n) => Ok((*n, *n)),
        PortSpec::Range(s) => {
            let (a, b) = s.split_once('-').unwrap_or((s, s));
            let a: u16 = a
                .trim()
                .parse()
                .map_err(|_| format!("{s:?} is not a port or range"))?;
            let b: u16 = b
                .trim()
                .parse()
                .map_err(|_| format!("{s:?} is not a port or range"))?;
            if a == 0 || a > b {
                return Err(format!(
                    "{s:?} is not a valid range (1-65535, first <= last)"
                ));
            }
            Ok((a, b))
        }
    }
}

impl Validator {
    fn issue(&mut self, path: impl Into<String>, msg: impl Into<String>) {
        self.issues.push(ConfigIssue::new(path, msg));
    }

    fn unique<'a>(&mut self, what: &str, names: impl Iterator<Item = &'a str>) {
        let mut seen = HashMap::new();
        for (i, n) in names.enumerate() {
            if n.is_empty() {
                self.issue(format!("{what}[{i}].name"), "must not be empty");
            } else if let Some(first) = seen.insert(n, i) {
                self.issue(
                    format!("{what}[{i}].name"),
                    format!("duplicate name {n:?} (also {what}[{first}])"),
                );
            }
        }
    }

    /// The engine sizes its counter tables once; a policy must fit in them.
    fn sizes(&mut self, c: &Config) {
        use pinhole_dataplane::pipeline::{
            MAX_CLASSES, MAX_INTERFACES, MAX_PARAMETER_MAPS, MAX_ZONE_PAIRS,
        };
        let classes: usize = c.policy_maps.iter().map(|p| p.classes.len() + 1).sum();
        for (what, n, max) in [
            ("interfaces", c.interfaces.len(), MAX_INTERFACES),
            ("zone_pairs", c.zone_pairs.len(), MAX_ZONE_PAIRS),
            (
                "parameter_maps",
                c.parameter_maps.len() + 1,
                MAX_PARAMETER_MAPS,
            ),
            ("policy_maps", classes, MAX_CLASSES),
            ("sip_profiles", c.sip_profiles.len(), MAX_PARAMETER_MAPS),
        ] {
            if n > max {
                self.issue(
                    what,
                    format!("{n} entries (classes for policy_maps) exceed the limit of {max}"),
                );
            }
        }
    }

    fn control(&mut self, c: &ControlConfig) {
        match c.listen.parse::<std::net::SocketAddr>() {
            Err(_) => self.issue(
                "control.listen",
                format!(
                    "{:?} is not an address:port (e.g. 127.0.0.1:8080)",
                    c.listen
                ),
            ),
            Ok(addr) => {
                if c.enabled
                    && !addr.ip().is_loopback()
                    && c.token.is_none()
                    && c.token_env.is_none()
                {
                    self.issue(
                        "control.listen",
                        format!(
                            "{addr} is not a loopback address: set control.token or control.token_env"
                        ),
                    );
                }
            }
        }
        if c.token.is_some() && c.token_env.is_some() {
            self.issue(
                "control.token_env",
                "give either token or token_env, not both",
            );
        }
        if c.token.as_deref().is_some_and(str::is_empty) {
            self.issue("control.token", "must not be empty");
        }
        if c.token_env.as_deref().is_some_and(str::is_empty) {
            self.issue("control.token_env", "must name an environment variable");
        }
        if c.max_body_bytes < 1024 {
            self.issue("control.max_body_bytes", "must be at least 1024");
        }
        if !(1..=3600).contains(&c.request_timeout_secs) {
            self.issue("control.request_timeout_secs", "must be between 1 and 3600");
        }
    }

    fn workers(&mut self, c: &Config) {
        if c.workers.cores.is_empty() {
            self.issue("workers.cores", "at least one worker core is needed");
        }
        let mut seen = HashSet::new();
        for (i, core) in c.workers.cores.iter().enumerate() {
            if !seen.insert(core) {
                self.issue(
                    format!("workers.cores[{i}]"),
                    format!("core {core} is listed twice"),
                );
            }
        }
    }

    fn interfaces(&mut self, c: &Config, extra_eal: &[String]) {
        if c.interfaces.is_empty() {
            self.issue("interfaces", "at least one interface is needed");
        }
        self.unique("interfaces", c.interfaces.iter().map(|i| i.name.as_str()));
        let devices = eal_devices(c.eal.iter().chain(extra_eal).cloned());
        let zones: HashSet<&str> = c.zones.iter().map(|z| z.name.as_str()).collect();
        let mut port_vlans = HashMap::new();
        for (i, itf) in c.interfaces.iter().enumerate() {
            let at = |f: &str| format!("interfaces[{i}].{f}");
            if itf.port.is_empty() {
                self.issue(at("port"), "must name a DPDK device");
            } else if is_pci_address(&itf.port) {
                if devices.no_pci {
                    self.issue(
                        at("port"),
                        format!(
                            "{:?} is a PCI device but the EAL arguments include --no-pci",
                            itf.port
                        ),
                    );
                } else if !devices.pci.is_empty()
                    && !devices
                        .pci
                        .iter()
                        .any(|p| p.ends_with(itf.port.as_str()) || itf.port.ends_with(p.as_str()))
                {
                    self.issue(
                        at("port"),
                        format!(
                            "PCI device {:?} is not in the EAL allow list (-a)",
                            itf.port
                        ),
                    );
                }
            } else if !devices.vdevs.contains(&itf.port) {
                self.issue(
                    at("port"),
                    format!(
                        "no port named {:?} (not a PCI address and no --vdev declares it)",
                        itf.port
                    ),
                );
            }
            if let Some(vlan) = itf.vlan {
                if vlan == 0 || vlan > 4094 {
                    self.issue(at("vlan"), format!("VLAN id {vlan} is outside 1..4094"));
                }
            }
            if let Some(prev) = port_vlans.insert((itf.port.as_str(), itf.vlan), i) {
                self.issue(
                    at("vlan"),
                    format!(
                        "interfaces[{prev}] already uses port {:?} with the same VLAN",
                        itf.port
                    ),
                );
            }
            if let Some(z) = &itf.zone {
                if RESERVED_ZONES.contains(&z.as_str()) {
                    self.issue(at("zone"), format!("{z:?} is reserved; interfaces without a zone are in \"default\" when a zone pair names it"));
                } else if !zones.contains(z.as_str()) {
                    self.issue(at("zone"), format!("no zone named {z:?}"));
                }
            }
            for (j, p) in itf.prefixes.iter().enumerate() {
                if let Err(e) = p.parse::<Prefix>() {
                    self.issue(
                        format!("interfaces[{i}].prefixes[{j}]"),
                        format!("{p:?}: {e}"),
                    );
                }
            }
            for (j, a) in itf.addresses.iter().enumerate() {
                if a.parse::<IpAddr>().is_err() {
                    self.issue(
                        format!("interfaces[{i}].addresses[{j}]"),
                        format!("{a:?} is not an IP address"),
                    );
                }
            }
            if let Some(m) = &itf.mac {
                if parse_mac(m).is_none() {
                    self.issue(at("mac"), format!("{m:?} is not a MAC address"));
                }
            }
        }
    }

    fn forwarding(&mut self, c: &Config) {
        let names: HashSet<&str> = c.interfaces.iter().map(|i| i.name.as_str()).collect();
        match &c.forwarding {
            ForwardingConfig::VirtualWire { pairs } => {
                let mut used = HashMap::new();
                for (i, [a, b]) in pairs.iter().enumerate() {
                    for (k, n) in [a, b].into_iter().enumerate() {
                        let path = format!("forwarding.pairs[{i}][{k}]");
                        if !names.contains(n.as_str()) {
                            self.issue(path, format!("no interface named {n:?}"));
                        } else if let Some(prev) = used.insert(n.as_str(), i) {
                            self.issue(
                                path,
                                format!(
                                    "interface {n:?} is already paired in forwarding.pairs[{prev}]"
                                ),
                            );
                        }
                    }
                    if a == b {
                        self.issue(
                            format!("forwarding.pairs[{i}]"),
                            "an interface cannot be paired with itself",
                        );
                    }
                }
            }
            ForwardingConfig::Routed { routes } => {
                for (i, r) in routes.iter().enumerate() {
                    if let Err(e) = r.prefix.parse::<Prefix>() {
                        self.issue(
                            format!("forwarding.routes[{i}].prefix"),
                            format!("{:?}: {e}", r.prefix),
                        );
                    }
                    if !names.contains(r.interface.as_str()) {
                        self.issue(
                            format!("forwarding.routes[{i}].interface"),
                            format!("no interface named {:?}", r.interface),
                        );
                    }
                    if parse_mac(&r.next_hop_mac).is_none() {
                        self.issue(
                            format!("forwarding.routes[{i}].next_hop_mac"),
                            format!("{:?} is not a MAC address", r.next_hop_mac),
                        );
                    }
                }
            }
        }
    }

    fn zones(&mut self, c: &Config) {
        self.unique("zones", c.zones.iter().map(|z| z.name.as_str()));
        for (i, z) in c.zones.iter().enumerate() {
            if RESERVED_ZONES.contains(&z.name.as_str()) {
                self.issue(
                    format!("zones[{i}].name"),
                    format!("{:?} is reserved", z.name),
                );
            }
        }
    }

    fn port_map(&mut self, c: &Config) {
        for (i, e) in c.port_map.iter().enumerate() {
            if e.protocol.is_empty() {
                self.issue(format!("port_map[{i}].protocol"), "must not be empty");
            }
            if matches!(e.protocol.as_str(), "tcp" | "udp" | "icmp") {
                self.issue(
                    format!("port_map[{i}].protocol"),
                    format!(
                        "{:?} is a transport, not a port-mapped application",
                        e.protocol
                    ),
                );
            }
            if e.ports.is_empty() {
                self.issue(
                    format!("port_map[{i}].ports"),
                    "at least one port is needed",
                );
            }
            for (j, p) in e.ports.iter().enumerate() {
                if let Err(m) = parse_port_spec(p) {
                    self.issue(format!("port_map[{i}].ports[{j}]"), m);
                }
            }
        }
    }

    fn class_maps(&mut self, c: &Config) {
        self.unique("class_maps", c.class_maps.iter().map(|m| m.name.as_str()));
        let mapped: HashSet<&str> = c.port_map.iter().map(|e| e.protocol.as_str()).collect();
        for (i, m) in c.class_maps.iter().enumerate() {
            if m.rules.is_empty() {
                self.issue(
                    format!("class_maps[{i}].rules"),
                    "at least one rule is needed",
                );
            }
            for (j, r) in m.rules.iter().enumerate() {
                let at = format!("class_maps[{i}].rules[{j}]");
                match (&r.protocol, &r.access_group) {
                    (Some(p), None) => {
                        if builtin_protocol(p).is_none() && !mapped.contains(p.as_str()) {
                            self.issue(
                                format!("{at}.protocol"),
                                format!(
                                    "unknown protocol {p:?} (not built in and not in port_map)"
                                ),
                            );
                        }
                    }
                    (None, Some(ag)) => self.access_group(&format!("{at}.access_group"), ag),
                    _ => self.issue(
                        at,
                        "a rule needs exactly one of \"protocol\" or \"access_group\"",
                    ),
                }
            }
        }
    }

    fn access_group(&mut self, at: &str, ag: &AccessGroupConfig) {
        for (f, nets) in [("src", &ag.src), ("dst", &ag.dst)] {
            for (k, n) in nets.iter().flat_map(|n| n.as_slice()).enumerate() {
                if let Err(e) = n.parse::<Prefix>() {
                    let path = match nets {
                        Some(OneOrMany::Many(_)) => format!("{at}.{f}[{k}]"),
                        _ => format!("{at}.{f}"),
                    };
                    self.issue(path, format!("{n:?}: {e}"));
                }
            }
        }
        if let Some(ProtoSpec::Name(n)) = &ag.proto {
            if ip_protocol_number(n).is_none() {
                self.issue(format!("{at}.proto"), format!("unknown IP protocol {n:?}"));
            }
        }
        for (f, ports) in [("src_ports", &ag.src_ports), ("dst_ports", &ag.dst_ports)] {
            for (k, p) in ports.iter().enumerate() {
                if let Err(m) = parse_port_spec(p) {
                    self.issue(format!("{at}.{f}[{k}]"), m);
                }
            }
        }
    }

    fn parameter_maps(&mut self, c: &Config) {
        self.unique(
            "parameter_maps",
            c.parameter_maps.iter().map(|m| m.name.as_str()),
        );
        for (i, m) in c.parameter_maps.iter().enumerate() {
            if m.name == "default" {
                // Classes naming "default" get the built-in map, so this one would be
                // silently ignored.
                self.issue(
                    format!("parameter_maps[{i}].name"),
                    "\"default\" is reserved: the built-in parameter map (a class without `parameter_map` uses it)",
                );
            }
            let t = &m.timeouts;
            for (f, v) in [
                ("tcp_syn", t.tcp_syn),
                ("tcp_established", t.tcp_established),
                ("tcp_fin", t.tcp_fin),
                ("udp", t.udp),
                ("icmp", t.icmp),
                ("media_inactivity", t.media_inactivity),
                ("max_call_duration", t.max_call_duration),
            ] {
                match v {
                    Some(0) => self.issue(
                        format!("parameter_maps[{i}].timeouts.{f}"),
                        "must be at least 1 second",
                    ),
                    Some(s) if s > 30 * 86_400 => self.issue(
                        format!("parameter_maps[{i}].timeouts.{f}"),
                        "must be at most 30 days",
                    ),
                    _ => {}
                }
            }
            let sk = &m.skinny;
            if !(4..=65_536).contains(&sk.max_data_length) {
                self.issue(
                    format!("parameter_maps[{i}].skinny.max_data_length"),
                    "must be between 4 and 65536",
                );
            }
            if !(2..=1000).contains(&sk.calls_per_second) {
                self.issue(
                    format!("parameter_maps[{i}].skinny.calls_per_second"),
                    "must be between 2 and 1000",
                );
            }
            if sk.max_pinholes_per_station == 0 {
                self.issue(
                    format!("parameter_maps[{i}].skinny.max_pinholes_per_station"),
                    "must be at least 1",
                );
            }
            if m.max_sessions == Some(0) {
                self.issue(
                    format!("parameter_maps[{i}].max_sessions"),
                    "must be at least 1 (omit for unlimited)",
                );
            }
            if let Some(name) = &m.sip_profile {
                if !c.sip_profiles.iter().any(|p| p.name == *name) {
                    self.issue(
                        format!("parameter_maps[{i}].sip_profile"),
                        format!("no SIP profile named {name:?}"),
                    );
                }
            }
        }
    }

    fn sip_profiles(&mut self, c: &Config) {
        self.unique(
            "sip_profiles",
            c.sip_profiles.iter().map(|p| p.name.as_str()),
        );
        for (i, p) in c.sip_profiles.iter().enumerate() {
            let at = |f: &str| format!("sip_profiles[{i}].{f}");
            self.range(
                at("max_message_size"),
                p.max_message_size.into(),
                256,
                65_535,
            );
            self.range(at("max_line_size"), p.max_line_size.into(), 32, 8_192);
            if p.max_line_size > p.max_message_size {
                self.issue(at("max_line_size"), "must not exceed max_message_size");
            }
            self.range(at("max_sources"), p.max_sources.into(), 1, 1 << 20);
            if let Some(n) = p.max_dialogs {
                self.range(at("max_dialogs"), n.into(), 1, 1 << 20);
            }
            if let Some(n) = p.max_pinholes_per_call {
                self.range(at("max_pinholes_per_call"), n.into(), 1, 1024);
            }
            self.method_list(&at("allow_methods"), &p.allow_methods);
            self.method_list(&at("deny_methods"), &p.deny_methods);
            for (j, m) in p.deny_methods.iter().enumerate() {
                if p.allow_methods.contains(m) {
                    self.issue(
                        format!("sip_profiles[{i}].deny_methods[{j}]"),
                        format!("{m:?} is also in allow_methods"),
                    );
                }
            }
            self.string_list(&at("deny_users"), &p.deny_users, 256, |_| true);
            self.string_list(&at("deny_domains"), &p.deny_domains, 255, |d| {
                d.parse::<IpAddr>().is_ok()
                    || d.split('.').all(|label| {
                        !label.is_empty()
                            && label
                                .chars()
                                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
                    })
            });
            self.rate_limits(i, p);
            if let Some(b) = &p.block {
                self.range(
                    at("block.rejected_invites"),
                    b.rejected_invites.into(),
                    1,
                    1000,
                );
                self.range(at("block.window"), b.window, 1, 86_400);
                self.range(at("block.duration"), b.duration, 1, 86_400);
            }
            for name in p.actions.keys() {
                if ProfileRule::from_name(name).is_none() {
                    let known: Vec<&str> = ProfileRule::ALL.iter().map(|r| r.name()).collect();
                    self.issue(
                        format!("sip_profiles[{i}].actions.{name}"),
                        format!("unknown rule {name:?} (one of {})", known.join(", ")),
                    );
                }
            }
        }
    }

    fn range(&mut self, path: String, value: u64, min: u64, max: u64) {
        if !(min..=max).contains(&value) {
            self.issue(path, format!("must be between {min} and {max}"));
        }
    }

    /// Methods are case-sensitive tokens; a known method in the wrong case is almost
    /// certainly a mistake (`invite` would never match an INVITE).
    fn method_list(&mut self, at: &str, methods: &[String]) {
        if methods.len() > MAX_SIP_LIST {
            self.issue(at, format!("at most {MAX_SIP_LIST} methods"));
        }
        let mut seen = HashSet::new();
        for (j, m) in methods.iter().enumerate() {
            let path = format!("{at}[{j}]");
            if let Some(issue) = method_issue(m) {
                self.issue(path, issue);
            } else if !seen.insert(m) {
                self.issue(path, format!("{m:?} is listed twice"));
            }
        }
    }

    fn string_list(
        &mut self,
        at: &str,
        items: &[String],
        max_len: usize,
        valid: impl Fn(&str) -> bool,
    ) {
        if items.len() > MAX_SIP_LIST {
            self.issue(at, format!("at most {MAX_SIP_LIST} entries"));
        }
        let mut seen = HashSet::new();
        for (j, item) in items.iter().enumerate() {
            let path = format!("{at}[{j}]");
            if item.is_empty() || item.len() > max_len {
                self.issue(path, format!("must be 1 to {max_len} characters"));
            } else if !valid(item) {
                self.issue(path, format!("{item:?} is not a domain name or address"));
            } else if !seen.insert(item.to_ascii_lowercase()) {
                self.issue(path, format!("{item:?} is listed twice"));
            }
        }
    }

    fn rate_limits(&mut self, i: usize, p: &SipProfileConfig) {
        use pinhole_dataplane::inspect::sip::MAX_RATE_LIMITS;
        if p.rate_limits.len() > MAX_RATE_LIMITS {
            self.issue(
                format!("sip_profiles[{i}].rate_limits"),
                format!("at most {MAX_RATE_LIMITS} rate limits"),
            );
        }
        let mut seen = HashSet::new();
        for (j, r) in p.rate_limits.iter().enumerate() {
            let at = |f: &str| format!("sip_profiles[{i}].rate_limits[{j}].{f}");
            if let Some(issue) = method_issue(&r.method) {
                self.issue(at("method"), issue);
            } else if !seen.insert(&r.method) {
                self.issue(
                    at("method"),
                    format!("{:?} already has a rate limit", r.method),
                );
            }
            self.range(at("per_second"), r.per_second.into(), 1, 100_000);
            if let Some(b) = r.burst {
                self.range(at("burst"), b.into(), 1, 1_000_000);
            }
        }
    }

    fn policy_maps(&mut self, c: &Config) {
        self.unique("policy_maps", c.policy_maps.iter().map(|m| m.name.as_str()));
        let classes: HashSet<&str> = c.class_maps.iter().map(|m| m.name.as_str()).collect();
        let params: HashSet<&str> = c.parameter_maps.iter().map(|m| m.name.as_str()).collect();
        for (i, pm) in c.policy_maps.iter().enumerate() {
            let mut seen = HashSet::new();
            for (j, cl) in pm.classes.iter().enumerate() {
                let at = format!("policy_maps[{i}].classes[{j}]");
                if !classes.contains(cl.class.as_str()) {
                    self.issue(
                        format!("{at}.class"),
                        format!("no class map named {:?}", cl.class),
                    );
                } else if !seen.insert(cl.class.as_str()) {
                    self.issue(
                        format!("{at}.class"),
                        format!("class {:?} appears twice in this policy map", cl.class),
                    );
                }
                if let Some(p) = &cl.parameter_map {
                    if !params.contains(p.as_str()) && p != "default" {
                        self.issue(
                            format!("{at}.parameter_map"),
                            format!("no parameter map named {p:?}"),
                        );
                    }
                }
            }
        }
    }

    fn zone_pairs(&mut self, c: &Config) {
        self.unique("zone_pairs", c.zone_pairs.iter().map(|z| z.name.as_str()));
        let zones: HashSet<&str> = c
            .zones
            .iter()
            .map(|z| z.name.as_str())
            .chain(RESERVED_ZONES.iter().copied())
            .collect();
        let maps: HashSet<&str> = c.policy_maps.iter().map(|m| m.name.as_str()).collect();
        let mut pairs = HashMap::new();
        for (i, zp) in c.zone_pairs.iter().enumerate() {
            for (f, z) in [("source", &zp.source), ("destination", &zp.destination)] {
                if !zones.contains(z.as_str()) {
                    self.issue(
                        format!("zone_pairs[{i}].{f}"),
                        format!("no zone named {z:?}"),
                    );
                }
            }
            if zp.source == "self" && zp.destination == "self" {
                self.issue(
                    format!("zone_pairs[{i}]"),
                    "a zone pair from self to self is not allowed",
                );
            }
            if !maps.contains(zp.service_policy.as_str()) {
                self.issue(
                    format!("zone_pairs[{i}].service_policy"),
                    format!("no policy map named {:?}", zp.service_policy),
                );
            }
            if let Some(prev) = pairs.insert((zp.source.as_str(), zp.destination.as_str()), i) {
                self.issue(
                    format!("zone_pairs[{i}]"),
                    format!(
                        "zone_pairs[{prev}] already covers {} -> {}",
                        zp.source, zp.destination
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pci_addresses() {
        assert!(is_pci_address("0000:01:00.0"));
        assert!(is_pci_address("3b:00.1"));
        assert!(!is_pci_address("net_pcap0"));
        assert!(!is_pci_address("0000:01:00"));
    }

    #[test]
    fn macs() {
        assert_eq!(parse_mac("02:00:00:00:00:0a"), Some([2, 0, 0, 0, 0, 10]));
        assert_eq!(parse_mac("02:00:00:00:00"), None);
        assert_eq!(parse_mac("02:00:00:00:00:00:01"), None);
        assert_eq!(parse_mac("zz:00:00:00:00:00"), None);
    }

    #[test]
    fn eal_vdevs_and_allow_list() {
        let d = eal_devices(
            [
                "--vdev",
                "net_pcap0,rx_pcap=a.pcap",
                "--vdev=net_ring0",
                "-a",
                "0000:01:00.0",
                "--no-pci",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        assert_eq!(d.vdevs, vec!["net_pcap0", "net_ring0"]);
        assert_eq!(d.pci, vec!["0000:01:00.0"]);
        assert!(d.no_pci);
    }
}
