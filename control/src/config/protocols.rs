//! Protocol names a class map may match, with their default ports (Cisco's built-in
//! port-to-application map). The port map overrides or extends these.

use pinhole_dataplane::policy::Alg;

pub use pinhole_dataplane::session::{
    PROTO_ICMP as ICMP, PROTO_ICMPV6 as ICMPV6, PROTO_TCP as TCP, PROTO_UDP as UDP,
};

/// IP protocols known by name (rules, the REST filter, reports and `pinhole ctl`).
const IP_PROTOCOLS: &[(&str, u8)] = &[
    ("tcp", TCP),
    ("udp", UDP),
    ("icmp", ICMP),
    ("icmpv6", ICMPV6),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("sctp", 132),
];

/// A built-in protocol: name, (transport, default destination ports) alternatives, ALG.
pub struct BuiltinProtocol {
    /// Its name in class maps.
    pub name: &'static str,
    /// (IP protocol, destination ports; empty = any port).
    pub ports: &'static [(u8, &'static [u16])],
    /// The ALG `inspect` attaches.
    pub alg: Option<Alg>,
}

/// Every built-in protocol name.
pub const BUILTIN_PROTOCOLS: &[BuiltinProtocol] = &[
    BuiltinProtocol {
        name: "tcp",
        ports: &[(TCP, &[])],
        alg: None,
    },
    BuiltinProtocol {
        name: "udp",
        ports: &[(UDP, &[])],
        alg: None,
    },
    BuiltinProtocol {
        name: "icmp",
        ports: &[(ICMP, &[]), (ICMPV6, &[])],
        alg: None,
    },
    BuiltinProtocol {
        name: "sip",
        ports: &[(UDP, &[5060]), (TCP, &[5060])],
        alg: Some(Alg::Sip),
    },
    BuiltinProtocol {
        name: "skinny",
        ports: &[(TCP, &[2000])],
        alg: Some(Alg::Skinny),
    },
    BuiltinProtocol {
        name: "dns",
        ports: &[(UDP, &[53]), (TCP, &[53])],
        alg: None,
    },
    BuiltinProtocol {
        name: "http",
        ports: &[(TCP, &[80])],
        alg: None,
    },
    BuiltinProtocol {
        name: "https",
        ports: &[(TCP, &[443])],
        alg: None,
    },
    BuiltinProtocol {
        name: "ssh",
        ports: &[(TCP, &[22])],
        alg: None,
    },
    BuiltinProtocol {
        name: "telnet",
        ports: &[(TCP, &[23])],
        alg: None,
    },
    BuiltinProtocol {
        name: "ftp",
        ports: &[(TCP, &[21])],
        alg: None,
    },
    BuiltinProtocol {
        name: "smtp",
        ports: &[(TCP, &[25])],
        alg: None,
    },
    BuiltinProtocol {
        name: "ntp",
        ports: &[(UDP, &[123])],
        alg: None,
    },
    BuiltinProtocol {
        name: "snmp",
        ports: &[(UDP, &[161])],
        alg: None,
    },
    BuiltinProtocol {
        name: "tftp",
        ports: &[(UDP, &[69])],
        alg: None,
    },
    BuiltinProtocol {
        name: "syslog",
        ports: &[(UDP, &[514])],
        alg: None,
    },
    BuiltinProtocol {
        name: "ldap",
        ports: &[(TCP, &[389])],
        alg: None,
    },
    BuiltinProtocol {
        name: "h323",
        ports: &[(TCP, &[1720])],
        alg: None,
    },
    BuiltinProtocol {
        name: "rtsp",
        ports: &[(TCP, &[554])],
        alg: None,
    },
    BuiltinProtocol {
        name: "mgcp",
        ports: &[(UDP, &[2427, 2727])],
        alg: None,
    },
];

/// The built-in protocol called `name`.
pub fn builtin_protocol(name: &str) -> Option<&'static BuiltinProtocol> {
    BUILTIN_PROTOCOLS.iter().find(|p| p.name == name)
}

/// An IP protocol by name (`tcp`, `udp`, `icmp`, `icmpv6`, `sctp`, `gre`, `esp`).
pub fn ip_protocol_number(name: &str) -> Option<u8> {
    IP_PROTOCOLS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, number)| number)
}

/// The name of IP protocol `number`, if it has one.
pub fn ip_protocol_name(number: u8) -> Option<&'static str> {
    IP_PROTOCOLS
        .iter()
        .find(|(_, n)| *n == number)
        .map(|&(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_protocol_maps_both_ways() {
        for &(name, number) in IP_PROTOCOLS {
            assert_eq!(ip_protocol_number(name), Some(number));
            assert_eq!(ip_protocol_name(number), Some(name));
        }
        assert_eq!(ip_protocol_number("quake"), None);
        assert_eq!(ip_protocol_name(99), None);
    }
}
