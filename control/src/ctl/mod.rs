//! `pinhole ctl`: the REST API from the command line, with Cisco-familiar views
//! (`show zone-pair security`, `show policy-map type inspect zone-pair [NAME]
//! [sessions]`, `show sessions`, `show pinholes`, `show stats`, `clear sessions`,
//! `apply FILE`). Tables by default, the API's JSON with `--json`. The token comes
//! from `--token` or `PINHOLE_TOKEN`.

mod table;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::{json, Value};

use self::table::Table;
use crate::api::policy::RUNTIME_SECTIONS;

/// Sessions `show ... sessions` fetches at most (in pages).
const MAX_SESSIONS: usize = 100_000;

/// `pinhole ctl` arguments.
#[derive(clap::Args, Debug)]
pub struct CtlArgs {
    /// Base URL of the engine's API.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Bearer token (default: the PINHOLE_TOKEN environment variable).
    #[arg(long)]
    pub token: Option<String>,
    /// Print the API's JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: CtlCommand,
}

/// Session filters (as `GET`/`DELETE /sessions` take them).
#[derive(clap::Args, Debug, Default)]
pub struct FilterArgs {
    /// Only sessions of this zone pair.
    #[arg(long)]
    pub zone_pair: Option<String>,
    /// Only this protocol (tcp, udp, icmp, icmpv6 or a number).
    #[arg(long)]
    pub protocol: Option<String>,
    /// Only sessions with this address at either end.
    #[arg(long)]
    pub address: Option<String>,
    /// Only sessions with this port at either end.
    #[arg(long)]
    pub port: Option<u16>,
}

/// `pinhole ctl` commands.
#[derive(clap::Subcommand, Debug)]
pub enum CtlCommand {
    /// show zone-pair security | show policy-map type inspect zone-pair [NAME] [sessions] |
    /// show sessions | show pinholes | show stats | show sip dialogs | show sccp stations
    Show {
        /// The words of the view.
        words: Vec<String>,
        /// Session filters (`show sessions`).
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// clear sessions [filters] | clear zone-pair NAME [inspect sessions]
    Clear {
        /// The words of the command.
        words: Vec<String>,
        /// Session filters.
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Replace the running policy with FILE (a policy document or a whole
    /// configuration: its runtime sections are left out).
    Apply {
        /// The JSON file.
        file: PathBuf,
        /// Apply only if this policy version is in force.
        #[arg(long, value_name = "VERSION")]
        if_match: Option<u64>,
    },
}

/// A client of one engine's API.
struct Client {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl Client {
    fn new(url: &str, token: Option<String>) -> Client {
        Client {
            base: format!("{}/api/v1", url.trim_end_matches('/')),
            token: token.or_else(|| std::env::var("PINHOLE_TOKEN").ok()),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .build(),
        }
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, String)],
        body: Option<(&str, Option<u64>)>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut r = self.agent.request(method, &url);
        for (k, v) in query {
            r = r.query(k, v);
        }
        if let Some(t) = &self.token {
            r = r.set("Authorization", &format!("Bearer {t}"));
        }
        let result = match body {
            Some((doc, if_match)) => {
                r = r.set("Content-Type", "application/json");
                if let Some(v) = if_match {
                    r = r.set("If-Match", &format!("\"{v}\""));
                }
                r.send_string(doc)
            }
            None => r.call(),
        };
        match result {
            Ok(resp) => resp
                .into_json()
                .with_context(|| format!("{method} {url}: the answer is not JSON")),
            Err(ureq::Error::Status(status, resp)) => {
                let v: Value = resp.into_json().unwrap_or(Value::Null);
                let mut msg = format!(
                    "{status}: {}",
                    v["error"].as_str().unwrap_or("error without a message")
                );
                for d in v["details"].as_array().into_iter().flatten() {
                    let path = d["path"].as_str().unwrap_or_default();
                    let m = d["message"].as_str().unwrap_or_default();
                    msg.push('\n');
                    msg.push_str(&if path.is_empty() {
                        m.to_owned()
                    } else {
                        format!("{path}: {m}")
                    });
                }
                bail!(msg)
            }
            Err(e) => bail!("{}: {e}", self.base),
        }
    }

    fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call("GET", path, &[], None)
    }

    /// Every session matching `query`, following the cursors.
    fn sessions(&self, query: &[(&str, String)]) -> anyhow::Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut q = query.to_vec();
            q.push(("limit", "1000".into()));
            if let Some(c) = cursor.take() {
                q.push(("cursor", c));
            }
            let page = self.call("GET", "/sessions", &q, None)?;
            out.extend(page["sessions"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(c) if out.len() < MAX_SESSIONS => cursor = Some(c.to_owned()),
                _ => return Ok(out),
            }
        }
    }
}

fn filter_query(f: &FilterArgs) -> Vec<(&'static str, String)> {
    let mut q = Vec::new();
    if let Some(v) = &f.zone_pair {
        q.push(("zone_pair", v.clone()));
    }
    if let Some(v) = &f.protocol {
        q.push(("protocol", v.clone()));
    }
    if let Some(v) = &f.address {
        q.push(("address", v.clone()));
    }
    if let Some(v) = f.port {
        q.push(("port", v.to_string()));
    }
    q
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A dialog's zone names as `a<->b` (empty when unknown).
fn zones(v: &Value) -> String {
    match v.as_array().map(|a| a.iter().map(text).collect::<Vec<_>>()) {
        Some(names) => names.join("<->"),
        None => String::new(),
    }
}

fn list<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v[key].as_array().into_iter().flatten()
}

/// The traffic entry named `name` in the stats list `key`.
fn traffic<'a>(stats: &'a Value, key: &str, name: &str) -> Option<&'a Value> {
    list(stats, key).find(|t| t["name"] == name)
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

fn words(w: &[String]) -> Vec<&str> {
    w.iter().map(String::as_str).collect()
}

/// Run a `pinhole ctl` command; the text to print.
pub fn run_cli(args: &CtlArgs) -> anyhow::Result<String> {
    let client = Client::new(&args.url, args.token.clone());
    match &args.command {
        CtlCommand::Show { words: w, filter } => match words(w).as_slice() {
            ["zone-pair", "security"] => zone_pairs(&client, args.json),
            ["policy-map", "type", "inspect", "zone-pair", rest @ ..] => {
                let (name, sessions) = match rest {
                    [] => (None, false),
                    ["sessions"] => (None, true),
                    [name] => (Some(*name), false),
                    [name, "sessions"] => (Some(*name), true),
                    _ => bail!("show policy-map type inspect zone-pair [NAME] [sessions]"),
                };
                policy_map(&client, name, sessions, args.json)
            }
            ["sessions"] => {
                let s = client.sessions(&filter_query(filter))?;
                Ok(if args.json {
                    pretty(&json!(s))
                } else {
                    sessions_table(&s)
                })
            }
            ["pinholes"] => {
                let p = client.get("/pinholes")?;
                Ok(if args.json { pretty(&p) } else { pinholes_table(&p) })
            }
            ["stats"] => {
                let s = client.get("/stats")?;
                Ok(if args.json { pretty(&s) } else { stats_text(&s) })
            }
            ["sip", "dialogs"] => {
                let d = client.get("/sip/dialogs")?;
                Ok(if args.json { pretty(&d) } else { dialogs_table(&d) })
            }
            ["sccp", "stations"] => {
                let d = client.get("/sccp/stations")?;
                Ok(if args.json { pretty(&d) } else { stations_table(&d) })
            }
            other => bail!(
                "unknown view {:?}: show zone-pair security | show policy-map type inspect zone-pair [NAME] [sessions] | show sessions | show pinholes | show stats | show sip dialogs | show sccp stations",
                other.join(" ")
            ),
        },
        CtlCommand::Clear { words: w, filter } => {
            let mut q = filter_query(filter);
            match words(w).as_slice() {
                ["sessions"] => {}
                ["zone-pair", name] | ["zone-pair", name, "inspect", "sessions"] => {
                    q.retain(|(k, _)| *k != "zone_pair");
                    q.push(("zone_pair", (*name).to_owned()));
                }
                _ => bail!("clear sessions [filters] | clear zone-pair NAME [inspect sessions]"),
            }
            let r = client.call("DELETE", "/sessions", &q, None)?;
            Ok(if args.json {
                pretty(&r)
            } else {
                format!("cleared {} session(s)\n", text(&r["cleared"]))
            })
        }
        CtlCommand::Apply { file, if_match } => {
            let raw = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let mut doc: Value = serde_json::from_str(&raw)
                .with_context(|| format!("{}: not JSON", file.display()))?;
            if let Value::Object(map) = &mut doc {
                for key in RUNTIME_SECTIONS {
                    map.remove(key);
                }
            }
            let r = client.call(
                "PUT",
                "/policy",
                &[],
                Some((&doc.to_string(), *if_match)),
            )?;
            Ok(if args.json {
                pretty(&r)
            } else {
                format!("policy version {} in force\n", text(&r["version"]))
            })
        }
    }
}

fn zone_pairs(client: &Client, as_json: bool) -> anyhow::Result<String> {
    let policy = client.get("/policy")?;
    let stats = client.get("/stats")?;
    let rows: Vec<Value> = list(&policy, "zone_pairs")
        .map(|zp| {
            let name = text(&zp["name"]);
            let t = traffic(&stats, "zone_pairs", &name);
            json!({
                "name": name,
                "source": zp["source"],
                "destination": zp["destination"],
                "service_policy": zp["service_policy"],
                "packets": t.map_or(json!(0), |t| t["packets"].clone()),
                "sessions": t.map_or(json!(0), |t| t["sessions"].clone()),
            })
        })
        .collect();
    if as_json {
        return Ok(pretty(&json!({ "zone_pairs": rows })));
    }
    let mut t = Table::new(&[
        "Zone-pair",
        "Source",
        "Destination",
        "Service-policy",
        "Packets",
        "Sessions",
    ]);
    for r in &rows {
        t.row(
            [
                "name",
                "source",
                "destination",
                "service_policy",
                "packets",
                "sessions",
            ]
            .iter()
            .map(|k| text(&r[*k]))
            .collect(),
        );
    }
    Ok(t.render())
}

fn policy_map(
    client: &Client,
    name: Option<&str>,
    sessions: bool,
    as_json: bool,
) -> anyhow::Result<String> {
    let policy = client.get("/policy")?;
    let stats = if sessions {
        Value::Null
    } else {
        client.get("/stats")?
    };
    let pairs: Vec<&Value> = list(&policy, "zone_pairs")
        .filter(|zp| name.is_none_or(|n| zp["name"] == n))
        .collect();
    if pairs.is_empty() {
        bail!("no zone pair named {:?}", name.unwrap_or_default());
    }
    let mut out = String::new();
    let mut as_value = Vec::new();
    for zp in pairs {
        let zp_name = text(&zp["name"]);
        let pm_name = text(&zp["service_policy"]);
        out.push_str(&format!(
            "Zone-pair: {zp_name} ({} -> {})\n  Service-policy inspect: {pm_name}\n",
            text(&zp["source"]),
            text(&zp["destination"])
        ));
        if sessions {
            let s = client.sessions(&[("zone_pair", zp_name.clone())])?;
            out.push_str(&indent(&sessions_table(&s)));
            as_value.push(json!({"zone_pair": zp_name, "sessions": s}));
            continue;
        }
        let pm = list(&policy, "policy_maps").find(|p| p["name"] == pm_name.as_str());
        let mut t = Table::new(&[
            "Class",
            "Action",
            "Parameter-map",
            "Packets",
            "Bytes",
            "Sessions",
        ]);
        let mut classes = Vec::new();
        let mut add = |class: String, action: String, params: String| {
            let c = traffic(&stats, "classes", &format!("{pm_name}/{class}"));
            let n = |k: &str| c.map_or(json!(0), |c| c[k].clone());
            let row = json!({
                "class": class, "action": action, "parameter_map": params,
                "packets": n("packets"), "bytes": n("bytes"), "sessions": n("sessions"),
            });
            t.row(
                [
                    "class",
                    "action",
                    "parameter_map",
                    "packets",
                    "bytes",
                    "sessions",
                ]
                .iter()
                .map(|k| text(&row[*k]))
                .collect(),
            );
            classes.push(row);
        };
        for cl in pm.map(|p| list(p, "classes")).into_iter().flatten() {
            add(
                text(&cl["class"]),
                text(&cl["action"]),
                cl.get("parameter_map").map(text).unwrap_or_default(),
            );
        }
        let default_action = pm
            .and_then(|p| p.get("class_default"))
            .map(text)
            .unwrap_or_else(|| "drop".into());
        add("class-default".into(), default_action, String::new());
        out.push_str(&indent(&t.render()));
        as_value.push(json!({"zone_pair": zp_name, "service_policy": pm_name, "classes": classes}));
    }
    Ok(if as_json {
        pretty(&json!(as_value))
    } else {
        out
    })
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}

fn endpoint(ip: &Value, port: &Value) -> String {
    let ip = text(ip);
    if ip.contains(':') {
        format!("[{ip}]:{}", text(port))
    } else {
        format!("{ip}:{}", text(port))
    }
}

fn proto_name(p: &Value) -> String {
    p.as_u64()
        .and_then(|n| u8::try_from(n).ok())
        .and_then(crate::config::ip_protocol_name)
        .map_or_else(|| text(p), str::to_owned)
}

fn sessions_table(sessions: &[Value]) -> String {
    let mut t = Table::new(&[
        "Worker",
        "Proto",
        "Initiator",
        "Responder",
        "Zone-pair",
        "Class",
        "State",
        "Pkts-f",
        "Pkts-r",
        "Bytes-f",
        "Bytes-r",
        "Idle",
    ]);
    for s in sessions {
        t.row(vec![
            text(&s["worker"]),
            proto_name(&s["protocol"]),
            endpoint(&s["src"], &s["src_port"]),
            endpoint(&s["dst"], &s["dst_port"]),
            text(&s["zone_pair"]),
            text(&s["class"]),
            s.get("tcp_state")
                .map(text)
                .or_else(|| s.get("alg").map(text))
                .unwrap_or_else(|| text(&s["origin"])),
            text(&s["packets_forward"]),
            text(&s["packets_reverse"]),
            text(&s["bytes_forward"]),
            text(&s["bytes_reverse"]),
            text(&s["idle_secs"]),
        ]);
    }
    let mut out = t.render();
    out.push_str(&format!("{} session(s)\n", sessions.len()));
    out
}

fn pinholes_table(p: &Value) -> String {
    let mut t = Table::new(&[
        "Id",
        "State",
        "By",
        "Kind",
        "Transport",
        "Source",
        "Destination",
        "Call",
        "Packets",
        "Age",
    ]);
    for p in list(p, "pinholes") {
        let src = match (&p["src"], &p["src_port"]) {
            (Value::Null, _) => "any".to_owned(),
            (ip, Value::Null) => format!("{}:any", text(ip)),
            (ip, port) => endpoint(ip, port),
        };
        t.row(vec![
            text(&p["id"]),
            text(&p["state"]),
            text(&p["opened_by"]),
            text(&p["kind"]),
            text(&p["transport"]),
            src,
            endpoint(&p["dst"], &p["dst_port"]),
            text(&p["call"]),
            text(&p["packets"]),
            text(&p["age_secs"]),
        ]);
    }
    t.render()
}

fn dialogs_table(d: &Value) -> String {
    let mut t = Table::new(&["Call-ID", "Kind", "Zones", "Confirmed", "Streams", "Age"]);
    for d in list(d, "dialogs") {
        t.row(vec![
            text(&d["call_id"]),
            text(&d["kind"]),
            zones(&d["zones"]),
            text(&d["confirmed"]),
            text(&d["open_streams"]),
            text(&d["age_secs"]),
        ]);
    }
    t.render()
}

fn stations_table(d: &Value) -> String {
    let mut t = Table::new(&["Station", "Device", "Registration", "Pinholes", "Idle"]);
    for s in list(d, "stations") {
        t.row(vec![
            text(&s["address"]),
            text(&s["device_name"]),
            text(&s["registration"]),
            text(&s["pinholes"]),
            text(&s["idle_secs"]),
        ]);
    }
    t.render()
}

/// Non-zero numbers of a (nested) counter object, as `(name, value)`.
fn nonzero(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    if let Value::Object(map) = v {
        for (k, v) in map {
            let name = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                Value::Number(n) if n.as_u64() != Some(0) => out.push((name, n.to_string())),
                Value::Object(_) => nonzero(&name, v, out),
                _ => {}
            }
        }
    }
}

fn stats_text(s: &Value) -> String {
    let mut out = format!(
        "Uptime {}s, policy version {}\n\nPorts\n",
        text(&s["uptime_secs"]),
        text(&s["policy_version"])
    );
    let mut t = Table::new(&[
        "Port",
        "Rx-packets",
        "Tx-packets",
        "Rx-missed",
        "Rx-errors",
        "Tx-errors",
    ]);
    for p in list(s, "ports") {
        t.row(
            [
                "name", "ipackets", "opackets", "imissed", "ierrors", "oerrors",
            ]
            .iter()
            .map(|k| text(&p[*k]))
            .collect(),
        );
    }
    out.push_str(&indent(&t.render()));
    out.push_str("\nWorkers\n");
    let mut t = Table::new(&[
        "Worker",
        "Lcore",
        "Rx",
        "Tx",
        "Forwarded",
        "Dropped",
        "Session-hits",
    ]);
    for w in list(s, "workers") {
        t.row(vec![
            text(&w["worker"]),
            text(&w["lcore"]),
            text(&w["rx_packets"]),
            text(&w["tx_packets"]),
            text(&w["pipeline"]["forwarded"]),
            text(&w["pipeline"]["dropped"]),
            text(&w["pipeline"]["session_hits"]),
        ]);
    }
    out.push_str(&indent(&t.render()));
    let mut drops = Table::new(&["Drop reason", "Packets"]);
    for (reason, n) in s["drops"].as_object().into_iter().flatten() {
        drops.row(vec![reason.clone(), text(n)]);
    }
    if !drops.is_empty() {
        out.push_str("\nDrops\n");
        out.push_str(&indent(&drops.render()));
    }
    let mut counters = Vec::new();
    nonzero("", &s["inspectors"], &mut counters);
    if !counters.is_empty() {
        out.push_str("\nInspectors\n");
        let mut t = Table::new(&["Counter", "Value"]);
        for (k, v) in counters {
            t.row(vec![k, v]);
        }
        out.push_str(&indent(&t.render()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_render_with_protocol_names_and_bracketed_v6() {
        let s = json!({"worker": 0, "protocol": 17, "src": "2001:db8::1", "src_port": 5060,
            "dst": "10.0.0.2", "dst_port": 5060, "zone_pair": "in-out", "class": "p/voice",
            "alg": "sip", "origin": "inspect", "packets_forward": 3, "packets_reverse": 1,
            "bytes_forward": 900, "bytes_reverse": 300, "idle_secs": 2});
        let out = sessions_table(&[s]);
        assert!(
            out.contains("udp    [2001:db8::1]:5060  10.0.0.2:5060  in-out"),
            "{out}"
        );
        assert!(out.ends_with("1 session(s)\n"));
    }

    #[test]
    fn nonzero_counters_are_flattened_with_dots() {
        let mut v = Vec::new();
        nonzero("", &json!({"a": 0, "b": {"c": 2}, "d": 1}), &mut v);
        assert_eq!(
            v,
            [
                ("b.c".to_owned(), "2".to_owned()),
                ("d".to_owned(), "1".to_owned())
            ]
        );
    }
}
