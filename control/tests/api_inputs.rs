//! Whatever a client sends, the API's parsers answer with a value or a list of issues
//! by path: never a panic (they run before anything reaches the engine).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::collections::HashMap;

use pinhole_control::api::policy::PolicyStore;
use pinhole_control::api::query;
use pinhole_control::config;
use proptest::prelude::*;

fn store() -> PolicyStore {
    let doc = r#"{"eal":["--no-huge","--vdev","net_null0"],
        "interfaces":[{"name":"a","port":"net_null0"}],
        "forwarding":{"mode":"virtual-wire","pairs":[]}}"#;
    PolicyStore::new(config::load_str(doc, &[]).unwrap(), 1)
}

proptest! {
    #[test]
    fn any_body_is_a_policy_or_issues(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let s = store();
        if let Err(issues) = s.prepare(&body, &[]) {
            prop_assert!(!issues.is_empty());
        }
    }

    #[test]
    fn any_json_shaped_body_is_a_policy_or_issues(
        key in "[a-z_]{1,12}",
        value in prop_oneof![Just("1".to_owned()), Just("\"x\"".to_owned()), Just("[{}]".to_owned()), Just("null".to_owned()), Just("{\"a\":[]}".to_owned())],
    ) {
        let s = store();
        let mut doc = s.document();
        doc[key.as_str()] = serde_json::from_str(&value).unwrap();
        if let Err(issues) = s.prepare(doc.to_string().as_bytes(), &[]) {
            prop_assert!(!issues.is_empty());
            prop_assert!(issues.iter().all(|i| i.path.is_empty() || i.path.starts_with(&key) || i.path.starts_with("forwarding") || i.path.starts_with("interfaces")), "{issues:?}");
        }
    }

    #[test]
    fn any_query_is_parsed_or_each_bad_parameter_named(
        params in proptest::collection::hash_map("[a-z_]{1,10}", ".{0,24}", 0..6),
        paged in any::<bool>(),
    ) {
        let params: HashMap<String, String> = params;
        match query::parse(&params, paged) {
            Ok(q) => prop_assert!((1..=query::MAX_LIMIT).contains(&q.limit)),
            Err(issues) => {
                prop_assert!(!issues.is_empty());
                prop_assert!(issues.iter().all(|i| params.contains_key(&i.path)));
            }
        }
    }
}
