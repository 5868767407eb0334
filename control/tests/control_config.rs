//! The `control` section: defaults, and every mistake reported with its path.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use pinhole_control::config::{self, ControlConfig};
use serde_json::{json, Value};

fn with_control(control: Value) -> Result<config::Config, Vec<String>> {
    let doc = json!({
        "eal": ["--no-huge", "--vdev", "net_null0"],
        "interfaces": [{"name": "a", "port": "net_null0"}],
        "forwarding": {"mode": "virtual-wire", "pairs": []},
        "control": control
    });
    config::load_str(&doc.to_string(), &[])
        .map_err(|e| e.issues().iter().map(ToString::to_string).collect())
}

#[test]
fn an_empty_section_means_loopback_8080_without_token() {
    let c = with_control(json!({})).unwrap();
    assert_eq!(c.control, Some(ControlConfig::default()));
    let d = ControlConfig::default();
    assert_eq!(
        (d.listen.as_str(), d.enabled, d.token),
        ("127.0.0.1:8080", true, None)
    );
}

#[test]
fn mistakes_are_reported_by_path() {
    assert_eq!(
        with_control(json!({"listen": "0.0.0.0:80"})).unwrap_err(),
        ["control.listen: 0.0.0.0:80 is not a loopback address: set control.token or control.token_env"]
    );
    assert!(with_control(json!({"listen": "0.0.0.0:80", "token_env": "T"})).is_ok());
    assert!(with_control(json!({"listen": "[::]:80", "enabled": false})).is_ok());
    assert_eq!(
        with_control(json!({"listen": "localhost"})).unwrap_err(),
        ["control.listen: \"localhost\" is not an address:port (e.g. 127.0.0.1:8080)"]
    );
    assert_eq!(
        with_control(
            json!({"token": "", "token_env": "T", "max_body_bytes": 10, "request_timeout_secs": 0})
        )
        .unwrap_err(),
        [
            "control.token_env: give either token or token_env, not both",
            "control.token: must not be empty",
            "control.max_body_bytes: must be at least 1024",
            "control.request_timeout_secs: must be between 1 and 3600",
        ]
    );
    assert_eq!(
        with_control(json!({"port": 80})).unwrap_err(),
        ["control.port: unknown field"]
    );
}
