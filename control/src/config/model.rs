//! The configuration document's types (serde). Field names are the JSON names.

use serde::{Deserialize, Serialize};

/// The whole configuration document.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct Config {
    /// EAL arguments (`--no-huge`, `--vdev ...`, `-a 0000:01:00.0`, ...).
    #[serde(default)]
    pub eal: Vec<String>,
    /// Worker cores.
    #[serde(default)]
    pub workers: Workers,
    /// Interfaces (ports, VLANs, zone membership, reachable networks).
    pub interfaces: Vec<InterfaceConfig>,
    /// How egress is chosen.
    pub forwarding: ForwardingConfig,
    /// Security zones (`zone security NAME`).
    #[serde(default)]
    pub zones: Vec<ZoneConfig>,
    /// Class maps (`class-map type inspect`).
    #[serde(default)]
    pub class_maps: Vec<ClassMapConfig>,
    /// Port map (`ip port-map`): extends or overrides the built-in protocol ports.
    #[serde(default)]
    pub port_map: Vec<PortMapConfig>,
    /// SIP inspect profiles (conformance and application security), named by
    /// `parameter_maps[].sip_profile`.
    #[serde(default)]
    pub sip_profiles: Vec<SipProfileConfig>,
    /// Parameter maps (`parameter-map type inspect`).
    #[serde(default)]
    pub parameter_maps: Vec<ParameterMapConfig>,
    /// Policy maps (`policy-map type inspect`).
    #[serde(default)]
    pub policy_maps: Vec<PolicyMapConfig>,
    /// Zone pairs (`zone-pair security` with `service-policy type inspect`).
    #[serde(default)]
    pub zone_pairs: Vec<ZonePairConfig>,
    /// Session-table settings.
    #[serde(default)]
    pub sessions: SessionsConfig,
    /// Logging, audit trail and alerts.
    #[serde(default)]
    pub logging: LoggingConfig,
    /// The REST control plane (absent: no API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<ControlConfig>,
}

/// Worker cores.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct Workers {
    /// The cores (lcores) workers run on, one worker each.
    pub cores: Vec<u32>,
    /// How both directions of a flow are kept on one worker.
    #[serde(default)]
    pub steering: SteeringConfig,
}

impl Default for Workers {
    fn default() -> Self {
        Workers {
            cores: vec![1],
            steering: SteeringConfig::default(),
        }
    }
}

/// `workers.steering`: how both directions of a flow reach the worker owning its session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SteeringConfig {
    /// Symmetric RSS when every port can do it, the software hand-off otherwise.
    #[default]
    Auto,
    /// Symmetric RSS only; starting fails on a multi-queue port that cannot do it.
    Rss,
    /// Workers hash every packet and hand other workers' flows to them through rings.
    Handoff,
}

impl From<SteeringConfig> for pinhole_dataplane::steer::SteeringMode {
    fn from(c: SteeringConfig) -> Self {
        match c {
            SteeringConfig::Auto => Self::Auto,
            SteeringConfig::Rss => Self::Rss,
            SteeringConfig::Handoff => Self::Handoff,
        }
    }
}

/// One interface.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct InterfaceConfig {
    /// Its name (referenced by `forwarding` and reports).
    pub name: String,
    /// DPDK device name: a PCI address or a vdev name (`net_pcap0`, `net_ring0`, ...).
    pub port: String,
    /// 802.1Q VLAN id for a VLAN sub-interface.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
    /// Zone membership (`zone-member security`); absent = unzoned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Networks reached through this interface (`10.0.0.0/8`, `2001:db8::/32`).
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// The engine's own addresses on this interface (the `self` zone).
    #[serde(default)]
    pub addresses: Vec<String>,
    /// MAC used as source when routing out of it (`02:00:00:00:00:01`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

/// Forwarding mode.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "mode", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ForwardingConfig {
    /// Interface pairs; what enters one leaves the other unchanged.
    VirtualWire {
        /// Pairs of interface names.
        pairs: Vec<[String; 2]>,
    },
    /// Static routes, longest prefix wins; MACs rewritten.
    Routed {
        /// Routes.
        routes: Vec<RouteConfig>,
    },
}

impl Default for ForwardingConfig {
    fn default() -> Self {
        ForwardingConfig::VirtualWire { pairs: Vec::new() }
    }
}

/// A static route.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct RouteConfig {
    /// Destination network.
    pub prefix: String,
    /// Egress interface name.
    pub interface: String,
    /// Static neighbour MAC.
    pub next_hop_mac: String,
}

/// A zone.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct ZoneConfig {
    /// Its name (`self` and `default` are reserved).
    pub name: String,
}

/// `match-any` or `match-all`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchKind {
    /// Any rule matches.
    #[default]
    Any,
    /// Every rule must match.
    All,
}

/// A class map.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct ClassMapConfig {
    /// Its name.
    pub name: String,
    /// How rules combine.
    #[serde(default, rename = "match")]
    pub match_kind: MatchKind,
    /// Its rules.
    pub rules: Vec<RuleConfig>,
}

/// One class-map rule: exactly one of `protocol` or `access_group`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct RuleConfig {
    /// `match protocol NAME` (`sip`, `skinny`, `tcp`, `udp`, `icmp`, `http`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// `match access-group`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_group: Option<AccessGroupConfig>,
}

/// An access-group rule; absent fields match anything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct AccessGroupConfig {
    /// Source network(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<OneOrMany<String>>,
    /// Destination network(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst: Option<OneOrMany<String>>,
    /// `tcp`, `udp`, `icmp`, `icmpv6` or a protocol number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proto: Option<ProtoSpec>,
    /// Source ports.
    #[serde(default)]
    pub src_ports: Vec<PortSpec>,
    /// Destination ports.
    #[serde(default)]
    pub dst_ports: Vec<PortSpec>,
}

/// One value or a list of them.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// One.
    One(T),
    /// Many.
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// The values as a slice.
    pub fn as_slice(&self) -> &[T] {
        match self {
            OneOrMany::One(v) => std::slice::from_ref(v),
            OneOrMany::Many(v) => v,
        }
    }
}

/// An IP protocol by name or number.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum ProtoSpec {
    /// A number (0..=255).
    Number(u8),
    /// A name.
    Name(String),
}

/// A port (`5060`) or an inclusive range (`"16384-32767"`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum PortSpec {
    /// One port.
    Port(u16),
    /// A range written `first-last`.
    Range(String),
}

/// `udp` or `tcp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportName {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
}

/// A port-map entry.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct PortMapConfig {
    /// Protocol name (built-in, or a new user protocol).
    pub protocol: String,
    /// Transport.
    pub transport: TransportName,
    /// Ports that mean this protocol (replacing the built-in ones for this transport).
    pub ports: Vec<PortSpec>,
}

/// Timeouts in seconds; absent ones keep the defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct TimeoutsConfig {
    /// Half-open TCP (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_syn: Option<u64>,
    /// Established TCP idle (default 3600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_established: Option<u64>,
    /// TCP after FIN/RST (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_fin: Option<u64>,
    /// UDP idle (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub udp: Option<u64>,
    /// ICMP idle (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp: Option<u64>,
    /// Media inactivity (default 120).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_inactivity: Option<u64>,
    /// Maximum call duration (default 43200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_call_duration: Option<u64>,
}

/// Where pinhole media may come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaSourceName {
    /// The address the other party announced (default).
    #[default]
    Announced,
    /// The signalling peer.
    SignallingPeer,
    /// The announced address's /24 or /64.
    SamePrefix,
    /// Anywhere.
    Any,
}

/// A parameter map.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct ParameterMapConfig {
    /// Its name.
    pub name: String,
    /// Alerts on (default true).
    #[serde(default = "yes")]
    pub alert: bool,
    /// Session audit records (default false).
    #[serde(default)]
    pub audit_trail: bool,
    /// Timeouts.
    #[serde(default)]
    pub timeouts: TimeoutsConfig,
    /// Max half-open TCP sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_incomplete: Option<u32>,
    /// Max sessions under this map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_sessions: Option<u32>,
    /// Media source policy for pinholes opened under this map.
    #[serde(default)]
    pub media_source: MediaSourceName,
    /// Skinny inspection profile.
    #[serde(default)]
    pub skinny: SkinnyProfileConfig,
    /// The SIP inspect profile (a `sip_profiles` name); absent = none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sip_profile: Option<String>,
}

/// What a SIP inspect-profile rule does with a message that breaks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleActionName {
    /// Forward it and count.
    Forward,
    /// Drop it and count.
    Drop,
}

/// A per-source rate limit on one SIP method.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct SipRateLimitConfig {
    /// The method, as on the wire (`INVITE`, `REGISTER`; case-sensitive).
    pub method: String,
    /// Sustained requests per second per source address.
    pub per_second: u32,
    /// Requests at once after a quiet period (default: `per_second`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
}

/// The temporary block list.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct SipBlockConfig {
    /// Rejected INVITEs (final 4xx-6xx to an initial INVITE) that block the source.
    pub rejected_invites: u32,
    /// Within this many seconds of the first of them.
    pub window: u64,
    /// Seconds the source stays blocked.
    pub duration: u64,
    /// Count 401/407 challenges as rejections (default false).
    #[serde(default)]
    pub count_challenges: bool,
}

/// A SIP inspect profile.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct SipProfileConfig {
    /// Its name.
    pub name: String,
    /// Largest message in bytes (default 65535).
    #[serde(default = "default_sip_max_message_size")]
    pub max_message_size: u32,
    /// Longest start or header line in bytes (default 8192).
    #[serde(default = "default_sip_max_line_size")]
    pub max_line_size: u32,
    /// Lowest Max-Forwards a request may carry (default 1).
    #[serde(default = "default_min_max_forwards")]
    pub min_max_forwards: u8,
    /// Methods allowed (empty = all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_methods: Vec<String>,
    /// Methods denied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny_methods: Vec<String>,
    /// From/To users denied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny_users: Vec<String>,
    /// From/To domains denied (subdomains included).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny_domains: Vec<String>,
    /// Per-source, per-method rate limits.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rate_limits: Vec<SipRateLimitConfig>,
    /// Sources tracked at once by the rate limits and block list (default 65536).
    #[serde(default = "default_sip_max_sources")]
    pub max_sources: u32,
    /// Dialogs and registrations followed at once under this profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_dialogs: Option<u32>,
    /// Pinholes one call may hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pinholes_per_call: Option<u32>,
    /// The temporary block list (absent = off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<SipBlockConfig>,
    /// Rule name -> action, overriding the defaults.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub actions: std::collections::BTreeMap<String, RuleActionName>,
}

fn default_sip_max_message_size() -> u32 {
    65_535
}

fn default_sip_max_line_size() -> u32 {
    8_192
}

fn default_min_max_forwards() -> u8 {
    1
}

fn default_sip_max_sources() -> u32 {
    65_536
}

/// The Skinny inspection profile of a parameter map.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct SkinnyProfileConfig {
    /// Largest `data_length` accepted (default 4000, at least 4).
    #[serde(default = "default_skinny_max_data_length")]
    pub max_data_length: u32,
    /// Drop unknown message ids and versions instead of passing and counting them.
    #[serde(default)]
    pub strict: bool,
    /// Drop media messages of stations that are not registered.
    #[serde(default)]
    pub enforce_registration: bool,
    /// New calls per second per station (2..1000, default 20).
    #[serde(default = "default_calls_per_second")]
    pub calls_per_second: u32,
    /// Pinholes a station may hold open (default 32).
    #[serde(default = "default_pinholes_per_station")]
    pub max_pinholes_per_station: u32,
}

fn default_skinny_max_data_length() -> u32 {
    4000
}

fn default_calls_per_second() -> u32 {
    20
}

fn default_pinholes_per_station() -> u32 {
    32
}

impl Default for SkinnyProfileConfig {
    fn default() -> Self {
        SkinnyProfileConfig {
            max_data_length: default_skinny_max_data_length(),
            strict: false,
            enforce_registration: false,
            calls_per_second: default_calls_per_second(),
            max_pinholes_per_station: default_pinholes_per_station(),
        }
    }
}

fn yes() -> bool {
    true
}

/// A class action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionName {
    /// Stateful, ALG attached.
    Inspect,
    /// Stateless, this direction.
    Pass,
    /// Drop.
    Drop,
}

/// `class-default` action.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DefaultActionName {
    /// Drop (the default).
    #[default]
    Drop,
    /// Pass.
    Pass,
}

/// A class inside a policy map.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct PolicyClassConfig {
    /// Class-map name.
    pub class: String,
    /// Action.
    pub action: ActionName,
    /// Parameter map name (default: the built-in defaults).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_map: Option<String>,
    /// Log matches.
    #[serde(default)]
    pub log: bool,
}

/// A policy map.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct PolicyMapConfig {
    /// Its name.
    pub name: String,
    /// Classes in order.
    pub classes: Vec<PolicyClassConfig>,
    /// What `class-default` does (default drop).
    #[serde(default)]
    pub class_default: DefaultActionName,
}

/// A zone pair.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct ZonePairConfig {
    /// Its name.
    pub name: String,
    /// Source zone (a zone, `self` or `default`).
    pub source: String,
    /// Destination zone.
    pub destination: String,
    /// Policy-map name.
    pub service_policy: String,
}

/// Session-table settings.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct SessionsConfig {
    /// Sessions per worker shard (default 1048576).
    #[serde(default = "default_capacity")]
    pub capacity_per_worker: u32,
    /// Pick up TCP connections already established (default false).
    #[serde(default)]
    pub midstream_pickup: bool,
}

fn default_capacity() -> u32 {
    1 << 20
}

impl Default for SessionsConfig {
    fn default() -> Self {
        SessionsConfig {
            capacity_per_worker: default_capacity(),
            midstream_pickup: false,
        }
    }
}

/// Logging settings.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct LoggingConfig {
    /// `tracing` filter (`info`, `pinhole=debug`); `PINHOLE_LOG` overrides.
    #[serde(default = "default_level")]
    pub level: String,
    /// Where audit-trail and alert events go: a file path, or `stdout`; absent = off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<String>,
    /// At most this many events per second (the rest are counted as suppressed).
    #[serde(default = "default_event_rate")]
    pub events_per_second: u32,
}

fn default_level() -> String {
    "info".into()
}

fn default_event_rate() -> u32 {
    100
}

impl Default for LoggingConfig {
    fn default() -> Self {
        LoggingConfig {
            level: default_level(),
            events: None,
            events_per_second: default_event_rate(),
        }
    }
}

/// The REST/JSON control plane (`control`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct ControlConfig {
    /// Serve the API (default true; `false` keeps the section but turns the API off).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Address and port to listen on (default `127.0.0.1:8080`).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Bearer token every request must carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Name of an environment variable holding the token (instead of `token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// Largest request body accepted, in bytes (default 1 MiB).
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Longest a request may take, in seconds (default 10).
    #[serde(default = "default_request_timeout")]
    pub request_timeout_secs: u64,
}

/// The listen address when `control.listen` is absent.
pub const DEFAULT_CONTROL_LISTEN: &str = "127.0.0.1:8080";

fn default_listen() -> String {
    DEFAULT_CONTROL_LISTEN.into()
}

fn default_max_body() -> usize {
    1 << 20
}

fn default_request_timeout() -> u64 {
    10
}

impl Default for ControlConfig {
    fn default() -> Self {
        ControlConfig {
            enabled: true,
            listen: default_listen(),
            token: None,
            token_env: None,
            max_body_bytes: default_max_body(),
            request_timeout_secs: default_request_timeout(),
        }
    }
}
