//! Configuration loading: every shipped example is valid, and every class of mistake is
//! reported with its JSON path.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use pinhole_control::config::{self, ConfigError};
use serde_json::{json, Value};

fn base() -> Value {
    json!({
        "eal": ["--no-huge", "--no-pci", "--vdev", "net_ring0", "--vdev", "net_ring1"],
        "workers": {"cores": [1]},
        "interfaces": [
            {"name": "a", "port": "net_ring0", "zone": "inside", "prefixes": ["10.0.0.0/8"]},
            {"name": "b", "port": "net_ring1", "zone": "outside", "prefixes": ["0.0.0.0/0"]}
        ],
        "forwarding": {"mode": "virtual-wire", "pairs": [["a", "b"]]},
        "zones": [{"name": "inside"}, {"name": "outside"}],
        "class_maps": [{"name": "voice", "rules": [{"protocol": "sip"}]}],
        "parameter_maps": [{"name": "pm"}],
        "policy_maps": [{"name": "p", "classes": [{"class": "voice", "action": "inspect", "parameter_map": "pm"}]}],
        "zone_pairs": [{"name": "in-out", "source": "inside", "destination": "outside", "service_policy": "p"}]
    })
}

fn issues_of(v: &Value) -> Vec<String> {
    match config::load_str(&v.to_string(), &[]) {
        Ok(_) => Vec::new(),
        Err(ConfigError::Invalid(issues)) => issues.iter().map(ToString::to_string).collect(),
        Err(e) => vec![e.to_string()],
    }
}

#[test]
fn shipped_configs_are_valid() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../configs");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            config::load(&path, &[]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            names.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    names.sort();
    // Every shipped example, by name: one that goes missing is noticed.
    assert_eq!(
        names,
        [
            "demo-firewall.json",
            "demo.json",
            "office.json",
            "seed-sip-zone1-zone2.json",
            "seed-skinny-self.json"
        ]
    );
}

#[test]
fn base_is_valid() {
    assert_eq!(issues_of(&base()), Vec::<String>::new());
}

#[test]
fn mistakes_are_reported_with_paths() {
    type Mutation = fn(&mut Value);
    let cases: &[(&str, Mutation, &str)] = &[
        (
            "missing port",
            |v| v["interfaces"][1]["port"] = json!("net_pcap3"),
            "interfaces[1].port: no port named \"net_pcap3\"",
        ),
        (
            "unknown zone",
            |v| v["interfaces"][0]["zone"] = json!("dmz"),
            "interfaces[0].zone: no zone named \"dmz\"",
        ),
        (
            "reserved zone",
            |v| v["zones"][0]["name"] = json!("self"),
            "zones[0].name: \"self\" is reserved",
        ),
        (
            "bad prefix",
            |v| v["interfaces"][0]["prefixes"][0] = json!("10.0.0.0/40"),
            "interfaces[0].prefixes[0]",
        ),
        (
            "bad address",
            |v| v["interfaces"][0]["addresses"] = json!(["10.0.0.300"]),
            "interfaces[0].addresses[0]",
        ),
        (
            "pair unknown",
            |v| v["forwarding"]["pairs"][0][1] = json!("c"),
            "forwarding.pairs[0][1]: no interface named \"c\"",
        ),
        (
            "dup interface",
            |v| v["interfaces"][1]["name"] = json!("a"),
            "interfaces[1].name: duplicate name \"a\"",
        ),
        (
            "unknown protocol",
            |v| v["class_maps"][0]["rules"][0]["protocol"] = json!("quake"),
            "class_maps[0].rules[0].protocol: unknown protocol \"quake\"",
        ),
        (
            "empty rule",
            |v| v["class_maps"][0]["rules"][0] = json!({}),
            "class_maps[0].rules[0]: a rule needs exactly one",
        ),
        (
            "dangling class",
            |v| v["policy_maps"][0]["classes"][0]["class"] = json!("nope"),
            "policy_maps[0].classes[0].class: no class map named \"nope\"",
        ),
        (
            "dangling param map",
            |v| v["policy_maps"][0]["classes"][0]["parameter_map"] = json!("nope"),
            "policy_maps[0].classes[0].parameter_map",
        ),
        (
            "reserved parameter map",
            |v| v["parameter_maps"] = json!([{"name": "default", "max_sessions": 10}]),
            "parameter_maps[0].name: \"default\" is reserved",
        ),
        (
            "dangling policy",
            |v| v["zone_pairs"][0]["service_policy"] = json!("nope"),
            "zone_pairs[0].service_policy: no policy map named \"nope\"",
        ),
        (
            "dangling zone",
            |v| v["zone_pairs"][0]["source"] = json!("dmz"),
            "zone_pairs[0].source: no zone named \"dmz\"",
        ),
        (
            "self to self",
            |v| {
                v["zone_pairs"][0]["source"] = json!("self");
                v["zone_pairs"][0]["destination"] = json!("self");
            },
            "self to self",
        ),
        (
            "zero timeout",
            |v| v["parameter_maps"][0]["timeouts"] = json!({"udp": 0}),
            "parameter_maps[0].timeouts.udp",
        ),
        (
            "bad port range",
            |v| {
                v["port_map"] =
                    json!([{"protocol": "sip", "transport": "udp", "ports": ["6000-5000"]}])
            },
            "port_map[0].ports[0]",
        ),
        (
            "unknown field",
            |v| v["interfaces"][0]["colour"] = json!("red"),
            "interfaces[0].colour: unknown field",
        ),
        (
            "wrong type",
            |v| v["workers"]["cores"] = json!("one"),
            "workers.cores",
        ),
        (
            "bad action",
            |v| v["policy_maps"][0]["classes"][0]["action"] = json!("allow"),
            "policy_maps[0].classes[0].action",
        ),
        (
            "no workers",
            |v| v["workers"]["cores"] = json!([]),
            "workers.cores: at least one",
        ),
        (
            "pci with no-pci",
            |v| v["interfaces"][0]["port"] = json!("0000:01:00.0"),
            "--no-pci",
        ),
        (
            "vlan range",
            |v| v["interfaces"][0]["vlan"] = json!(4095),
            "interfaces[0].vlan",
        ),
    ];
    for (name, mutate, want) in cases {
        let mut v = base();
        mutate(&mut v);
        let issues = issues_of(&v);
        assert!(
            issues.iter().any(|i| i.contains(want)),
            "{name}: expected an issue containing {want:?}, got {issues:?}"
        );
    }
}

#[test]
fn every_issue_is_reported_not_just_the_first() {
    let mut v = base();
    v["interfaces"][0]["zone"] = json!("dmz");
    v["zone_pairs"][0]["service_policy"] = json!("nope");
    v["interfaces"][1]["port"] = json!("net_pcap9");
    assert_eq!(issues_of(&v).len(), 3, "{:?}", issues_of(&v));
}

#[test]
fn malformed_json_is_an_issue_not_a_panic() {
    for doc in [
        "",
        "{",
        "[]",
        "{\"interfaces\": 3}",
        "null",
        "{\"interfaces\": [], \"forwarding\": {\"mode\": \"teleport\"}}",
    ] {
        assert!(
            config::load_str(doc, &[]).is_err(),
            "{doc:?} should be refused"
        );
    }
}

#[test]
fn extra_eal_arguments_declare_ports() {
    let mut v = base();
    v["eal"] = json!(["--no-huge"]);
    assert!(!issues_of(&v).is_empty());
    let extra: Vec<String> = ["--vdev", "net_ring0", "--vdev", "net_ring1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert!(config::load_str(&v.to_string(), &extra).is_ok());
}

fn with_sip_profile(profile: Value) -> Value {
    let mut v = base();
    v["sip_profiles"] = json!([profile]);
    v["parameter_maps"][0]["sip_profile"] = json!("hardening");
    v
}

#[test]
fn a_full_sip_profile_is_valid_and_compiles() {
    let v = with_sip_profile(json!({
        "name": "hardening",
        "max_message_size": 4096,
        "max_line_size": 1024,
        "min_max_forwards": 2,
        "allow_methods": ["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER"],
        "deny_methods": ["MESSAGE"],
        "deny_users": ["scanner"],
        "deny_domains": ["example.org", "192.0.2.66"],
        "rate_limits": [{"method": "INVITE", "per_second": 5, "burst": 10}, {"method": "REGISTER", "per_second": 2}],
        "max_sources": 4096,
        "max_dialogs": 1000,
        "max_pinholes_per_call": 16,
        "block": {"rejected_invites": 5, "window": 60, "duration": 300},
        "actions": {"unknown_method": "drop", "rate_limited": "forward"}
    }));
    assert_eq!(issues_of(&v), Vec::<String>::new());
    let cfg = config::load_str(&v.to_string(), &[]).unwrap();
    let policy = config::compile(&cfg, 1);
    let profile = policy.parameter_maps[1].sip_profile.as_ref().unwrap();
    use pinhole_dataplane::inspect::sip::{ProfileRule, RuleAction};
    assert_eq!(profile.name, "hardening");
    assert_eq!(profile.max_message_size, 4096);
    assert_eq!(
        profile.rate_limits[1].burst, 2,
        "burst defaults to the rate"
    );
    assert_eq!(
        profile.actions.get(ProfileRule::UnknownMethod),
        RuleAction::Drop
    );
    assert_eq!(
        profile.actions.get(ProfileRule::RateLimited),
        RuleAction::Forward
    );
    assert_eq!(
        profile.actions.get(ProfileRule::DialogLimit),
        RuleAction::Drop
    );
    assert_eq!(
        profile.block.unwrap().duration,
        std::time::Duration::from_secs(300)
    );
    assert!(policy.parameter_maps[0].sip_profile.is_none());
}

#[test]
fn sip_profile_mistakes_are_reported_with_paths() {
    type Mutation = fn(&mut Value);
    let cases: &[(&str, Mutation, &str)] = &[
        (
            "dangling profile",
            |v| v["parameter_maps"][0]["sip_profile"] = json!("nope"),
            "parameter_maps[0].sip_profile: no SIP profile named \"nope\"",
        ),
        (
            "duplicate profile",
            |v| {
                v["sip_profiles"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"name": "hardening"}))
            },
            "sip_profiles[1].name: duplicate name \"hardening\"",
        ),
        (
            "empty name",
            |v| v["sip_profiles"][0]["name"] = json!(""),
            "sip_profiles[0].name: must not be empty",
        ),
        (
            "message size",
            |v| v["sip_profiles"][0]["max_message_size"] = json!(100_000),
            "sip_profiles[0].max_message_size: must be between 256 and 65535",
        ),
        (
            "line size above message size",
            |v| {
                v["sip_profiles"][0]["max_message_size"] = json!(512);
                v["sip_profiles"][0]["max_line_size"] = json!(1024);
            },
            "sip_profiles[0].max_line_size: must not exceed max_message_size",
        ),
        (
            "min max-forwards out of u8",
            |v| v["sip_profiles"][0]["min_max_forwards"] = json!(300),
            "sip_profiles[0].min_max_forwards",
        ),
        (
            "lowercase method",
            |v| v["sip_profiles"][0]["deny_methods"] = json!(["invite"]),
            "sip_profiles[0].deny_methods[0]: methods are case-sensitive",
        ),
        (
            "bad method",
            |v| v["sip_profiles"][0]["allow_methods"] = json!(["IN VITE"]),
            "sip_profiles[0].allow_methods[0]: \"IN VITE\" is not a SIP method name",
        ),
        (
            "allowed and denied",
            |v| {
                v["sip_profiles"][0]["allow_methods"] = json!(["INVITE"]);
                v["sip_profiles"][0]["deny_methods"] = json!(["INVITE"]);
            },
            "sip_profiles[0].deny_methods[0]: \"INVITE\" is also in allow_methods",
        ),
        (
            "duplicate method",
            |v| v["sip_profiles"][0]["deny_methods"] = json!(["INFO", "INFO"]),
            "sip_profiles[0].deny_methods[1]: \"INFO\" is listed twice",
        ),
        (
            "bad domain",
            |v| v["sip_profiles"][0]["deny_domains"] = json!(["exa mple.org"]),
            "sip_profiles[0].deny_domains[0]",
        ),
        (
            "empty user",
            |v| v["sip_profiles"][0]["deny_users"] = json!([""]),
            "sip_profiles[0].deny_users[0]: must be 1 to 256 characters",
        ),
        (
            "zero rate",
            |v| {
                v["sip_profiles"][0]["rate_limits"] = json!([{"method": "INVITE", "per_second": 0}])
            },
            "sip_profiles[0].rate_limits[0].per_second: must be between 1 and 100000",
        ),
        (
            "duplicate rate limit",
            |v| {
                v["sip_profiles"][0]["rate_limits"] = json!([
                    {"method": "INVITE", "per_second": 1},
                    {"method": "INVITE", "per_second": 2}
                ])
            },
            "sip_profiles[0].rate_limits[1].method: \"INVITE\" already has a rate limit",
        ),
        (
            "too many rate limits",
            |v| {
                let limits: Vec<Value> = ["A", "B", "C", "D", "E", "F", "G", "H", "I"]
                    .iter()
                    .map(|m| json!({"method": m, "per_second": 1}))
                    .collect();
                v["sip_profiles"][0]["rate_limits"] = json!(limits);
            },
            "sip_profiles[0].rate_limits: at most 8 rate limits",
        ),
        (
            "zero sources",
            |v| v["sip_profiles"][0]["max_sources"] = json!(0),
            "sip_profiles[0].max_sources: must be between 1 and",
        ),
        (
            "zero dialogs",
            |v| v["sip_profiles"][0]["max_dialogs"] = json!(0),
            "sip_profiles[0].max_dialogs: must be between 1 and",
        ),
        (
            "zero pinholes",
            |v| v["sip_profiles"][0]["max_pinholes_per_call"] = json!(0),
            "sip_profiles[0].max_pinholes_per_call: must be between 1 and 1024",
        ),
        (
            "block window",
            |v| {
                v["sip_profiles"][0]["block"] =
                    json!({"rejected_invites": 3, "window": 0, "duration": 60})
            },
            "sip_profiles[0].block.window: must be between 1 and 86400",
        ),
        (
            "block threshold",
            |v| {
                v["sip_profiles"][0]["block"] =
                    json!({"rejected_invites": 0, "window": 10, "duration": 60})
            },
            "sip_profiles[0].block.rejected_invites: must be between 1 and 1000",
        ),
        (
            "unknown rule",
            |v| v["sip_profiles"][0]["actions"] = json!({"too_loud": "drop"}),
            "sip_profiles[0].actions.too_loud: unknown rule \"too_loud\"",
        ),
        (
            "bad action",
            |v| v["sip_profiles"][0]["actions"] = json!({"rate_limited": "reject"}),
            "sip_profiles[0].actions.rate_limited",
        ),
        (
            "unknown profile field",
            |v| v["sip_profiles"][0]["max_calls"] = json!(3),
            "sip_profiles[0].max_calls: unknown field",
        ),
        (
            "too many deny entries",
            |v| {
                let users: Vec<String> = (0..1025).map(|n| format!("u{n}")).collect();
                v["sip_profiles"][0]["deny_users"] = json!(users);
            },
            "sip_profiles[0].deny_users: at most 1024 entries",
        ),
    ];
    for (name, mutate, want) in cases {
        let mut v = with_sip_profile(json!({"name": "hardening"}));
        assert_eq!(
            issues_of(&v),
            Vec::<String>::new(),
            "the base profile is valid"
        );
        mutate(&mut v);
        let issues = issues_of(&v);
        assert!(
            issues.iter().any(|i| i.contains(want)),
            "{name}: expected an issue containing {want:?}, got {issues:?}"
        );
    }
}
