//! Query parameters of `/sessions`: filters, page size and the page cursor. Unknown
//! parameters are refused (as unknown configuration fields are), each problem named.

use std::collections::HashMap;
use std::net::IpAddr;

use pinhole_dataplane::pipeline::SessionFilter;
use pinhole_dataplane::session::SessionCursor;

use crate::config::ConfigIssue;

/// Sessions per page when `limit` is absent.
pub const DEFAULT_LIMIT: usize = 100;
/// Largest `limit`.
pub const MAX_LIMIT: usize = 1000;

/// Where a paged walk over every worker's shard resumes: worker, then slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageCursor {
    /// Worker index.
    pub worker: usize,
    /// Where in its shard.
    pub at: SessionCursor,
}

impl PageCursor {
    /// The beginning.
    pub const START: PageCursor = PageCursor {
        worker: 0,
        at: SessionCursor::START,
    };

    /// The opaque form clients pass back (`worker.slot`).
    pub fn encode(self) -> String {
        format!("{}.{}", self.worker, self.at.slot())
    }

    /// Parse what [`PageCursor::encode`] wrote.
    pub fn decode(s: &str) -> Option<PageCursor> {
        let (w, slot) = s.split_once('.')?;
        Some(PageCursor {
            worker: w.parse().ok()?,
            at: SessionCursor::at(slot.parse().ok()?),
        })
    }
}

/// A parsed `/sessions` query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionQuery {
    /// The filter.
    pub filter: SessionFilter,
    /// Page size.
    pub limit: usize,
    /// Where to start.
    pub cursor: PageCursor,
}

/// An IP protocol by name or number.
pub fn protocol_number(s: &str) -> Option<u8> {
    crate::config::ip_protocol_number(&s.to_ascii_lowercase()).or_else(|| s.parse().ok())
}

/// Parse the query; `paged` allows `limit` and `cursor` (GET, not DELETE).
pub fn parse(
    params: &HashMap<String, String>,
    paged: bool,
) -> Result<SessionQuery, Vec<ConfigIssue>> {
    let mut issues = Vec::new();
    let mut q = SessionQuery {
        filter: SessionFilter::default(),
        limit: DEFAULT_LIMIT,
        cursor: PageCursor::START,
    };
    let mut names: Vec<&String> = params.keys().collect();
    names.sort();
    for name in names {
        let value = params.get(name).map(String::as_str).unwrap_or_default();
        let mut bad =
            |m: &str| issues.push(ConfigIssue::new(name.as_str(), format!("{value:?}: {m}")));
        match name.as_str() {
            "zone_pair" => {
                if value.is_empty() {
                    bad("must name a zone pair");
                } else {
                    q.filter.zone_pair = Some(value.to_owned());
                }
            }
            "protocol" => match protocol_number(value) {
                Some(p) => q.filter.protocol = Some(p),
                None => bad("not tcp, udp, icmp, icmpv6 or a number 0-255"),
            },
            "address" => match value.parse::<IpAddr>() {
                Ok(a) => q.filter.address = Some(a),
                Err(_) => bad("not an IP address"),
            },
            "port" => match value.parse::<u16>() {
                Ok(p) => q.filter.port = Some(p),
                Err(_) => bad("not a port (0-65535)"),
            },
            "limit" if paged => match value.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => q.limit = n,
                _ => bad(&format!("not a number between 1 and {MAX_LIMIT}")),
            },
            "cursor" if paged => match PageCursor::decode(value) {
                Some(c) => q.cursor = c,
                None => bad("not a cursor this API returned"),
            },
            _ => issues.push(ConfigIssue::new(name.as_str(), "unknown parameter")),
        }
    }
    if issues.is_empty() {
        Ok(q)
    } else {
        Err(issues)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn protocols_are_named_in_any_case_or_numbered() {
        assert_eq!(protocol_number("UDP"), Some(17));
        assert_eq!(protocol_number("gre"), Some(47));
        assert_eq!(protocol_number("132"), Some(132));
        assert_eq!(protocol_number("quake"), None);
    }

    #[test]
    fn filters_and_paging_parse() {
        let q = parse(
            &params(&[
                ("zone_pair", "in-out"),
                ("protocol", "UDP"),
                ("address", "10.0.0.1"),
                ("port", "5060"),
                ("limit", "5"),
                ("cursor", "1.77"),
            ]),
            true,
        );
        let Ok(q) = q else { panic!("{q:?}") };
        assert_eq!(q.filter.zone_pair.as_deref(), Some("in-out"));
        assert_eq!(q.filter.protocol, Some(17));
        assert_eq!(q.filter.port, Some(5060));
        assert_eq!(q.limit, 5);
        assert_eq!(q.cursor.worker, 1);
        assert_eq!(q.cursor.at.slot(), 77);
        assert_eq!(PageCursor::decode(&q.cursor.encode()), Some(q.cursor));
    }

    #[test]
    fn every_bad_parameter_is_named() {
        let got = parse(
            &params(&[
                ("protocol", "gre!"),
                ("address", "10.0.0"),
                ("port", "70000"),
                ("limit", "0"),
                ("cursor", "x"),
                ("colour", "red"),
            ]),
            true,
        );
        let paths: Vec<String> = got
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|i| i.path)
            .collect();
        assert_eq!(
            paths,
            ["address", "colour", "cursor", "limit", "port", "protocol"]
        );
        let paths: Vec<String> = parse(&params(&[("limit", "5")]), false)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|i| i.path)
            .collect();
        assert_eq!(paths, ["limit"]);
    }
}
