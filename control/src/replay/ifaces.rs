//! Which interface a captured packet entered and would leave by: longest prefix over
//! the interfaces' `prefixes`, their own `addresses` (as host prefixes) and the
//! `--iface NAME=PREFIX` overrides. An override wins over a configured prefix of the
//! same length; between configured prefixes of the same length the interface listed
//! first in the configuration wins.

use std::net::IpAddr;
use std::str::FromStr;

use pinhole_dataplane::policy::{Policy, Prefix};
use pinhole_dataplane::IfaceId;

use super::ReplayError;

/// `--iface NAME=PREFIX`: traffic from or to `prefix` is on interface `interface`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfaceOverride {
    /// Interface name, as in the configuration.
    pub interface: String,
    /// The prefix (a bare address means a host prefix).
    pub prefix: Prefix,
}

impl FromStr for IfaceOverride {
    type Err = ReplayError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ReplayError::BadIfaceArg(s.to_string());
        let (name, prefix) = s.split_once('=').ok_or_else(bad)?;
        if name.is_empty() {
            return Err(bad());
        }
        let prefix: Prefix = prefix.parse().map_err(|_| bad())?;
        Ok(IfaceOverride {
            interface: name.to_string(),
            prefix,
        })
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    prefix: Prefix,
    iface: IfaceId,
    /// Overrides rank above configured prefixes of the same length.
    rank: u8,
}

/// The address-to-interface map of one replay.
#[derive(Clone, Debug)]
pub struct InterfaceMap {
    entries: Vec<Entry>,
}

impl InterfaceMap {
    /// Build the map from the policy's interfaces and the overrides; an override naming
    /// an interface the policy does not have is an error.
    pub fn new(policy: &Policy, overrides: &[IfaceOverride]) -> Result<Self, ReplayError> {
        let mut entries = Vec::new();
        for (i, itf) in policy.interfaces.iter().enumerate() {
            let Ok(id) = u16::try_from(i).map(IfaceId) else {
                continue;
            };
            let hosts = itf.addresses.iter().map(|a| Prefix::host(*a));
            for prefix in itf.prefixes.iter().copied().chain(hosts) {
                entries.push(Entry {
                    prefix,
                    iface: id,
                    rank: 0,
                });
            }
        }
        for o in overrides {
            let iface = policy.interface_by_name(&o.interface).ok_or_else(|| {
                ReplayError::UnknownInterface {
                    name: o.interface.clone(),
                    known: policy
                        .interfaces
                        .iter()
                        .map(|i| i.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                }
            })?;
            entries.push(Entry {
                prefix: o.prefix,
                iface,
                rank: 1,
            });
        }
        Ok(InterfaceMap { entries })
    }

    /// The interface `ip` lives behind, if any prefix covers it.
    pub fn lookup(&self, ip: IpAddr) -> Option<IfaceId> {
        let mut best: Option<&Entry> = None;
        for e in self.entries.iter().filter(|e| e.prefix.contains(ip)) {
            let better = match best {
                None => true,
                Some(b) => (e.prefix.len, e.rank) > (b.prefix.len, b.rank),
            };
            if better {
                best = Some(e);
            }
        }
        best.map(|e| e.iface)
    }
}
