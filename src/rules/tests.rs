//! Tests of the whole rules engine: every operator, `invert`, `multiple`, every action,
//! templates, parse errors with their positions, the six example rules of the reference and
//! the seed's Dell rule exactly as written, secrets, and a property test that evaluation
//! never panics. Over 600 lines because each behaviour has its own test here.

use proptest::prelude::*;
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};

use super::*;

const SEED: &str = include_str!("testdata/seed-dell.json");
const EXAMPLES: [&str; 6] = [
    include_str!("testdata/example1.json"),
    include_str!("testdata/example2.json"),
    include_str!("testdata/example3.json"),
    include_str!("testdata/example4.json"),
    include_str!("testdata/example5.json"),
    include_str!("testdata/example6.json"),
];

fn node(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("a node is an object"),
    }
}

fn dell_data(auto_discovered: bool) -> Value {
    json!({
        "inventory": {
            "system_vendor": {"manufacturer": "Dell Inc.", "product_name": "PowerEdge R650"},
            "bmc_address": "10.20.1.5",
            "memory": {"physical_mb": 262_144},
            "disks": [{"name": "sda", "size": 480_103_981_056_u64}, {"name": "sdb", "size": 1_000_000}],
            "interfaces": [{"name": "NIC.1", "mac_address": "aa:bb:cc:dd:ee:01"}],
        },
        "auto_discovered": auto_discovered,
    })
}

/// One condition over `field` = `value` in the data; whether the rule matches.
fn holds(condition: &Value, value: &Value) -> bool {
    let mut condition = condition.clone();
    condition["field"] = json!("data://x");
    let rules = RuleSet::from_json(
        &json!([{"conditions": [condition], "actions": [{"action": "add-trait", "name": "T"}]}])
            .to_string(),
    )
    .expect("valid rule");
    let mut n = Map::new();
    let applied = rules
        .apply(&json!({ "x": value }), &mut n)
        .expect("applies");
    !applied.matched.is_empty()
}

#[test]
fn the_seed_rule_runs_as_written_and_keeps_the_password_out() {
    let rules = RuleSet::from_json(SEED).expect("the seed's file parses");
    assert_eq!(rules.len(), 1);
    let mut n = node(
        json!({"driver": "redfish", "driver_info": {}, "properties": {}, "traits": [], "extra": {}}),
    );
    let applied = rules.apply(&dell_data(true), &mut n).expect("applies");
    assert_eq!(applied.matched, vec![0]);
    assert_eq!(n["driver"], "idrac");
    assert_eq!(n["driver_info"]["drac_username"], "root");
    assert_eq!(n["driver_info"]["drac_address"], "10.20.1.5");
    assert_eq!(
        n["driver_info"]["drac_password"],
        "secret://rules/driver_info/drac_password"
    );
    assert_eq!(applied.secrets.len(), 1);
    let secret = &applied.secrets[0];
    assert_eq!(secret.path, "driver_info/drac_password");
    assert_eq!(secret.reference, "secret://rules/driver_info/drac_password");
    assert_eq!(secret.value.expose_secret(), "calvin");
    assert_eq!(applied.changes.len(), 4);
    assert!(applied.changes[2].secret);

    // Nowhere in clear: the node, the Debug of everything, the explanation in both forms.
    let explanation = rules.explain(&dell_data(true), &Map::new());
    for text in [
        Value::Object(n.clone()).to_string(),
        format!("{rules:?}"),
        format!("{applied:?}"),
        explanation.to_string(),
        serde_json::to_string(&explanation).unwrap(),
        format!("{explanation:?}"),
    ] {
        assert!(!text.contains("calvin"), "{text}");
    }
    assert!(
        explanation
            .to_string()
            .contains("secret://rules/driver_info/drac_password")
    );
}

#[test]
fn the_seed_rule_leaves_other_nodes_alone() {
    let rules = RuleSet::from_json(SEED).unwrap();
    let before = node(json!({"driver": "redfish"}));
    for data in [
        dell_data(false),
        json!({"inventory": {"system_vendor": {"manufacturer": "HPE"}}, "auto_discovered": true}),
        json!({"auto_discovered": true}),
        json!({}),
    ] {
        let mut n = before.clone();
        let applied = rules.apply(&data, &mut n).unwrap();
        assert!(applied.matched.is_empty(), "{data}");
        assert_eq!(n, before);
        assert!(applied.secrets.is_empty());
    }
}

#[test]
fn the_seed_rule_with_a_missing_bmc_address_is_an_error_that_changes_nothing() {
    let rules = RuleSet::from_json(SEED).unwrap();
    let mut data = dell_data(true);
    data["inventory"]
        .as_object_mut()
        .unwrap()
        .remove("bmc_address");
    let before = node(json!({"driver": "redfish"}));
    let mut n = before.clone();
    let err = rules.apply(&data, &mut n).unwrap_err();
    match &err {
        RuleError::Action {
            rule,
            action,
            pointer,
            message,
            ..
        } => {
            assert_eq!((*rule, *action), (0, 3));
            assert_eq!(pointer, "/0/actions/3");
            assert!(
                message.contains("{data[inventory][bmc_address]}"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(n, before, "all or nothing");
    assert!(!err.to_string().contains("calvin"));
    assert!(matches!(
        rules.explain(&data, &before).outcome,
        Outcome::Error { .. }
    ));
}

#[test]
fn every_comparison_operator() {
    let cases = [
        (json!({"op": "eq", "value": 5}), json!(5), true),
        (json!({"op": "eq", "value": 5}), json!("5"), true),
        (json!({"op": "eq", "value": 5}), json!(6), false),
        (json!({"op": "eq", "value": "a"}), json!("a"), true),
        (json!({"op": "eq", "value": true}), json!(true), true),
        (json!({"op": "eq", "value": true}), json!("yes"), false),
        (json!({"op": "ne", "value": "a"}), json!("b"), true),
        (json!({"op": "ne", "value": "a"}), json!("a"), false),
        (json!({"op": "lt", "value": 10}), json!(9), true),
        (json!({"op": "lt", "value": 10}), json!(10), false),
        (json!({"op": "le", "value": 10}), json!(10), true),
        (json!({"op": "le", "value": 10}), json!(11), false),
        (json!({"op": "gt", "value": 10}), json!(10.5), true),
        (json!({"op": "gt", "value": 10}), json!(10), false),
        (json!({"op": "ge", "value": 10}), json!(10), true),
        (json!({"op": "ge", "value": 10}), json!(9), false),
        (
            json!({"op": "ge", "value": 10}),
            json!("not a number"),
            false,
        ),
        (json!({"op": "lt", "value": "b"}), json!("a"), true),
    ];
    for (condition, value, expected) in cases {
        assert_eq!(
            holds(&condition, &value),
            expected,
            "{condition} on {value}"
        );
    }
}

#[test]
fn every_other_operator() {
    let cases = [
        (
            json!({"op": "contains", "value": "(?i)dell"}),
            json!("Dell Inc."),
            true,
        ),
        (
            json!({"op": "contains", "value": "dell"}),
            json!("Dell Inc."),
            false,
        ),
        (
            json!({"op": "contains", "regex": "R6\\d0"}),
            json!("PowerEdge R650"),
            true,
        ),
        (
            json!({"op": "matches", "value": "Dell"}),
            json!("Dell Inc."),
            false,
        ),
        (
            json!({"op": "matches", "value": "Dell.*"}),
            json!("Dell Inc."),
            true,
        ),
        (
            json!({"op": "matches", "value": "a|b"}),
            json!("abc"),
            false,
        ),
        (json!({"op": "matches", "value": "True"}), json!(true), true),
        (json!({"op": "is-empty"}), json!(""), true),
        (json!({"op": "is-empty"}), json!([]), true),
        (json!({"op": "is-empty"}), json!({}), true),
        (json!({"op": "is-empty"}), json!(null), true),
        (json!({"op": "is-empty"}), json!("x"), false),
        (json!({"op": "is-empty"}), json!(0), false),
        (
            json!({"op": "in-net", "value": "10.20.0.0/16"}),
            json!("10.20.3.4"),
            true,
        ),
        (
            json!({"op": "in-net", "subnet": "10.20.0.0/16"}),
            json!("10.21.3.4"),
            false,
        ),
        (
            json!({"op": "in-net", "value": "10.20.0.0/16"}),
            json!("10.20.3.4:8443"),
            true,
        ),
        (
            json!({"op": "in-net", "value": "fd00::/8"}),
            json!("fd12::1"),
            true,
        ),
        (
            json!({"op": "in-net", "value": "10.0.0.0/8"}),
            json!("bmc.example"),
            false,
        ),
        (
            json!({"op": "one-of", "values": ["a", "b"]}),
            json!("b"),
            true,
        ),
        (json!({"op": "one-of", "value": [1, 2]}), json!(3), false),
        (json!({"op": "is-none"}), json!(null), true),
        (json!({"op": "is-none"}), json!(""), false),
        (json!({"op": "is-true"}), json!("Yes"), true),
        (json!({"op": "is-true"}), json!(0), false),
        (json!({"op": "is-false"}), json!("false"), true),
        (json!({"op": "is-false"}), json!(1), false),
    ];
    for (condition, value, expected) in cases {
        assert_eq!(
            holds(&condition, &value),
            expected,
            "{condition} on {value}"
        );
    }
}

#[test]
fn invert_and_bang_negate_each_value() {
    assert!(!holds(
        &json!({"op": "eq", "value": 1, "invert": true}),
        &json!(1)
    ));
    assert!(holds(
        &json!({"op": "eq", "value": 1, "invert": true}),
        &json!(2)
    ));
    assert!(holds(&json!({"op": "!eq", "value": 1}), &json!(2)));
    assert!(!holds(&json!({"op": "!is-empty"}), &json!("")));
    assert!(holds(
        &json!({"op": "eq", "value": 1, "invert": false}),
        &json!(1)
    ));
}

#[test]
fn multiple_combines_the_selected_values() {
    let run = |multiple: &str, invert: bool, sizes: Value| {
        let rule = json!([{"conditions": [{"field": "data://disks[*].size", "op": "ge", "value": 100,
            "multiple": multiple, "invert": invert}], "actions": [{"action": "add-trait", "name": "T"}]}]);
        let rules = RuleSet::from_json(&rule.to_string()).unwrap();
        let disks: Vec<Value> = sizes
            .as_array()
            .unwrap()
            .iter()
            .map(|s| json!({ "size": s }))
            .collect();
        !rules
            .apply(&json!({ "disks": disks }), &mut Map::new())
            .unwrap()
            .matched
            .is_empty()
    };
    let mixed = json!([50, 150, 70]);
    assert!(run("any", false, mixed.clone()));
    assert!(!run("all", false, mixed.clone()));
    assert!(!run("first", false, mixed.clone()));
    assert!(!run("last", false, mixed.clone()));
    assert!(run("last", false, json!([50, 150])));
    assert!(run("first", false, json!([150, 50])));
    assert!(run("all", false, json!([150, 200])));
    // invert applies to each value, then they combine (ironic-inspector's order).
    assert!(run("all", true, json!([50, 70])));
    assert!(!run("all", true, mixed.clone()));
    assert!(run("any", true, mixed));
}

#[test]
fn a_missing_field_is_null_now_and_skips_the_rule_in_legacy_mode() {
    let rule =
        json!([{"conditions": [{"field": "data://nope", "op": "eq", "value": 1, "invert": true}],
        "actions": [{"action": "add-trait", "name": "T"}]}])
        .to_string();
    let immediate = RuleSet::from_json(&rule).unwrap();
    assert_eq!(
        immediate
            .apply(&json!({}), &mut Map::new())
            .unwrap()
            .matched,
        vec![0]
    );
    let legacy = RuleSet::from_json(&rule)
        .unwrap()
        .with_evaluation(Evaluation::LegacyTwoPhase);
    assert!(
        legacy
            .apply(&json!({}), &mut Map::new())
            .unwrap()
            .matched
            .is_empty()
    );
    // is-empty sees the missing field in both modes.
    let empty = json!([{"conditions": [{"field": "data://nope", "op": "is-empty"}],
        "actions": [{"action": "add-trait", "name": "T"}]}])
    .to_string();
    for mode in [Evaluation::Immediate, Evaluation::LegacyTwoPhase] {
        let rules = RuleSet::from_json(&empty).unwrap().with_evaluation(mode);
        assert_eq!(
            rules.apply(&json!({}), &mut Map::new()).unwrap().matched,
            vec![0],
            "{mode:?}"
        );
    }
}

#[test]
fn node_fields_and_parsed_capabilities_are_readable() {
    let rules = RuleSet::from_json(
        r#"[{"conditions": [
                {"field": "node://capabilities.boot_mode", "op": "eq", "value": "uefi"},
                {"field": "node://driver", "op": "eq", "value": "redfish"},
                {"field": "node://traits[*]", "op": "eq", "value": "CUSTOM_A"}],
             "actions": [{"action": "set-attribute", "path": "/extra/seen", "value": true}]}]"#,
    )
    .unwrap();
    let mut n = node(
        json!({"driver": "redfish", "properties": {"capabilities": "x:1,boot_mode:uefi"},
        "traits": ["CUSTOM_B", "CUSTOM_A"]}),
    );
    rules.apply(&json!({}), &mut n).unwrap();
    assert_eq!(n["extra"]["seen"], true);
}

#[test]
fn set_attribute_accepts_three_path_spellings_and_templates() {
    let rules = RuleSet::from_json(
        r#"[{"actions": [
            {"action": "set-attribute", "path": "/driver_info/a", "value": "https://{data[inventory][bmc_address]}"},
            {"action": "set-attribute", "path": "driver_info/b", "value": "{data[inventory][memory][physical_mb]}"},
            {"action": "set-attribute", "path": "driver_info.c", "value": ["{inventory[bmc_address]}", 1]},
            {"action": "set-attribute", "path": "/properties/root_device", "value": {"size": ">= 200"}},
            {"action": "set-attribute", "path": "/driver", "value": "mem {data[inventory][memory][physical_mb]}"}]}]"#,
    )
    .unwrap();
    let mut n = node(json!({"driver": "redfish", "driver_info": {"keep": 1}}));
    let applied = rules.apply(&dell_data(true), &mut n).unwrap();
    assert_eq!(
        n["driver_info"],
        json!({"keep": 1, "a": "https://10.20.1.5", "b": 262_144, "c": ["10.20.1.5", 1]})
    );
    assert_eq!(n["properties"]["root_device"], json!({"size": ">= 200"}));
    assert_eq!(n["driver"], "mem 262144");
    assert_eq!(applied.changes[4].before, Some(json!("redfish")));
    assert_eq!(applied.changes[4].after, Some(json!("mem 262144")));
}

#[test]
fn extend_attribute_appends_once_when_unique() {
    let rules = RuleSet::from_json(
        r#"[{"actions": [
            {"action": "extend-attribute", "path": "/extra/tags", "value": "a", "unique": true},
            {"action": "extend-attribute", "path": "/extra/tags", "value": "a", "unique": true},
            {"action": "extend-attribute", "path": "/extra/tags", "value": "a"}]}]"#,
    )
    .unwrap();
    let mut n = Map::new();
    let applied = rules.apply(&json!({}), &mut n).unwrap();
    assert_eq!(n["extra"]["tags"], json!(["a", "a"]));
    assert!(applied.changes[1].is_noop());
    // Onto something that is not a list: an error, and nothing changed.
    let before = node(json!({"extra": {"tags": "x"}, "driver": "d"}));
    let mut n = before.clone();
    let err = rules.apply(&json!({}), &mut n).unwrap_err();
    assert!(matches!(err, RuleError::Action { action: 0, .. }), "{err}");
    assert_eq!(n, before);
}

#[test]
fn capabilities_keep_ironics_string_form_and_order() {
    let rules = RuleSet::from_json(
        r#"[{"actions": [
            {"action": "set-capability", "name": "boot_mode", "value": "uefi"},
            {"action": "set-capability", "name": "site", "value": "a"},
            {"action": "unset-capability", "name": "old"}]}]"#,
    )
    .unwrap();
    let mut n = node(json!({"properties": {"capabilities": "old:1,boot_mode:bios,x:y"}}));
    let applied = rules.apply(&json!({}), &mut n).unwrap();
    assert_eq!(n["properties"]["capabilities"], "boot_mode:uefi,x:y,site:a");
    assert_eq!(applied.changes[0].before, Some(json!("bios")));
    assert_eq!(applied.changes[2].before, Some(json!("1")));
    assert_eq!(applied.changes[2].after, None);
    // A node without capabilities gets the string form; an object form stays an object.
    let mut bare = Map::new();
    rules.apply(&json!({}), &mut bare).unwrap();
    assert_eq!(bare["properties"]["capabilities"], "boot_mode:uefi,site:a");
    let mut object = node(json!({"properties": {"capabilities": {"old": "1"}}}));
    rules.apply(&json!({}), &mut object).unwrap();
    assert_eq!(
        object["properties"]["capabilities"],
        json!({"boot_mode": "uefi", "site": "a"})
    );
}

#[test]
fn traits_are_a_set_and_del_attribute_removes() {
    let rules = RuleSet::from_json(
        r#"[{"actions": [
            {"action": "add-trait", "name": "CUSTOM_A"},
            {"action": "add-trait", "name": "CUSTOM_A"},
            {"action": "remove-trait", "name": "CUSTOM_OLD"},
            {"action": "del-attribute", "path": "/extra/gone"},
            {"action": "del-attribute", "path": "/extra/never"}]}]"#,
    )
    .unwrap();
    let mut n = node(json!({"traits": ["CUSTOM_OLD"], "extra": {"gone": 1, "kept": 2}}));
    let applied = rules.apply(&json!({}), &mut n).unwrap();
    assert_eq!(n["traits"], json!(["CUSTOM_A"]));
    assert_eq!(n["extra"], json!({"kept": 2}));
    assert!(applied.changes[1].is_noop());
    assert!(applied.changes[4].is_noop());
}

#[test]
fn fail_is_a_typed_error_with_the_message_and_changes_nothing() {
    let rules = RuleSet::from_json(
        r#"[{"description": "first", "priority": 5, "actions": [{"action": "set-attribute", "path": "driver", "value": "x"}]},
            {"description": "stop", "conditions": [{"field": "memory_mb", "op": "lt", "value": 1024}],
             "actions": [{"action": "fail", "message": "only {data[memory_mb]} MiB"}]}]"#,
    )
    .unwrap();
    let before = node(json!({"driver": "redfish"}));
    let mut n = before.clone();
    let err = rules.apply(&json!({"memory_mb": 512}), &mut n).unwrap_err();
    assert!(err.is_failed_by_rule());
    match &err {
        RuleError::Failed {
            rule,
            message,
            description,
        } => {
            assert_eq!(*rule, 1);
            assert_eq!(message, "only 512 MiB");
            assert_eq!(description.as_deref(), Some("stop"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(n, before);
    let explanation = rules.explain(&json!({"memory_mb": 512}), &before);
    assert_eq!(
        explanation.outcome,
        Outcome::Failed {
            rule: 1,
            message: "only 512 MiB".into()
        }
    );
    assert!(
        explanation
            .to_string()
            .contains("inspection fails (rule 1): only 512 MiB")
    );
    assert!(rules.apply(&json!({"memory_mb": 4096}), &mut n).is_ok());
    assert_eq!(n["driver"], "x");
}

#[test]
fn priority_orders_rules_and_immediate_mode_shows_earlier_changes() {
    let text = r#"[
        {"description": "low", "conditions": [{"field": "node://driver", "op": "eq", "value": "idrac"}],
         "actions": [{"action": "add-trait", "name": "CUSTOM_SAW_IDRAC"}]},
        {"description": "high", "priority": 10,
         "actions": [{"action": "set-attribute", "path": "driver", "value": "idrac"}]}]"#;
    let mut n = node(json!({"driver": "redfish"}));
    let applied = RuleSet::from_json(text)
        .unwrap()
        .apply(&json!({}), &mut n)
        .unwrap();
    assert_eq!(applied.matched, vec![1, 0], "higher priority first");
    assert_eq!(n["traits"], json!(["CUSTOM_SAW_IDRAC"]));
    // Legacy: conditions see the node as it was.
    let mut n = node(json!({"driver": "redfish"}));
    let legacy = RuleSet::from_json(text)
        .unwrap()
        .with_evaluation(Evaluation::LegacyTwoPhase);
    assert_eq!(legacy.apply(&json!({}), &mut n).unwrap().matched, vec![1]);
    assert!(n.get("traits").is_none());
}

#[test]
fn scope_limits_a_rule_to_matching_nodes() {
    let rules = RuleSet::from_json(
        r#"{"scope": "rack-7", "actions": [{"action": "add-trait", "name": "CUSTOM_R7"}]}"#,
    )
    .unwrap();
    let mut other = node(json!({"properties": {"inspection_scope": "rack-8"}}));
    assert!(
        rules
            .apply(&json!({}), &mut other)
            .unwrap()
            .matched
            .is_empty()
    );
    let explanation = rules.explain(&json!({}), &other);
    assert!(explanation.rules[0].skipped.is_some());
    let mut mine = node(json!({"properties": {"inspection_scope": "rack-7"}}));
    assert_eq!(rules.apply(&json!({}), &mut mine).unwrap().matched, vec![0]);
}

#[test]
fn secrets_in_the_data_are_masked_unless_the_rule_is_sensitive() {
    let data = json!({"inventory": {"bmc_password": "hunter2"}});
    let text = |sensitive: bool| {
        json!([{"sensitive": sensitive, "actions": [
            {"action": "set-attribute", "path": "/extra/copy", "value": "{inventory[bmc_password]}"},
            {"action": "set-attribute", "path": "/driver_info/ipmi_password", "value": "{inventory[bmc_password]}"}]}])
        .to_string()
    };
    let mut n = Map::new();
    RuleSet::from_json(&text(false))
        .unwrap()
        .apply(&data, &mut n)
        .unwrap();
    assert_eq!(n["extra"]["copy"], "***");
    let mut n = Map::new();
    let applied = RuleSet::from_json(&text(true))
        .unwrap()
        .apply(&data, &mut n)
        .unwrap();
    assert_eq!(
        n["driver_info"]["ipmi_password"],
        "secret://rules/driver_info/ipmi_password"
    );
    assert_eq!(applied.secrets[0].value.expose_secret(), "hunter2");
    // A condition on a secret field never shows the value or the operand.
    let rules = RuleSet::from_json(
        r#"[{"sensitive": true, "conditions": [{"field": "inventory.bmc_password", "op": "eq", "value": "hunter2"}],
             "actions": [{"action": "add-trait", "name": "CUSTOM_DEFAULT_PW"}]}]"#,
    )
    .unwrap();
    let explanation = rules.explain(&data, &Map::new());
    assert!(explanation.rules[0].matched);
    for text in [
        explanation.to_string(),
        serde_json::to_string(&explanation).unwrap(),
        format!("{rules:?}"),
    ] {
        assert!(!text.contains("hunter2"), "{text}");
    }
}

#[test]
fn secret_values_anywhere_under_a_password_path_are_sealed() {
    let rules = RuleSet::from_json(
        r#"[{"actions": [
            {"action": "set-attribute", "path": "/driver_info", "value": {"redfish_username": "u", "redfish_Password": "p1"}},
            {"action": "set-attribute", "path": "/driver_info/ipmi_password", "value": "secret://bmc/ipmi-default"},
            {"action": "set-attribute", "path": "/driver_info/bmc_password", "value": 1234},
            {"action": "set-capability", "name": "password_hint", "value": "p2"}]}]"#,
    )
    .unwrap();
    let mut n = node(json!({"driver_info": {"redfish_Password": "old-clear-text"}}));
    let applied = rules.apply(&json!({}), &mut n).unwrap();
    assert_eq!(n["driver_info"]["redfish_username"], "u");
    assert_eq!(
        n["driver_info"]["redfish_Password"],
        "secret://rules/driver_info/redfish_Password"
    );
    assert_eq!(
        n["driver_info"]["ipmi_password"], "secret://bmc/ipmi-default",
        "a reference stays"
    );
    assert_eq!(
        n["driver_info"]["bmc_password"],
        "secret://rules/driver_info/bmc_password"
    );
    assert_eq!(
        n["properties"]["capabilities"],
        "password_hint:secret://rules/properties/capabilities/password_hint"
    );
    let values: Vec<&str> = applied
        .secrets
        .iter()
        .map(|s| s.value.expose_secret())
        .collect();
    assert_eq!(values, vec!["p1", "1234", "p2"]);
    let shown = format!("{applied:?}");
    for clear in ["p1", "1234", "p2", "old-clear-text"] {
        assert!(
            !shown.contains(&format!("\"{clear}\"")),
            "{clear} in {shown}"
        );
    }
    assert_eq!(
        applied.changes[0].before,
        Some(json!({"redfish_Password": "<redacted>"}))
    );
}

#[test]
#[allow(clippy::too_many_lines)] // one table of cases
fn parse_errors_name_the_rule_and_the_element() {
    let cases: [(&str, Option<usize>, &str); 16] = [
        (r#"{"actions": []}"#, Some(0), "/actions"),
        (r#"[{"conditions": []}]"#, Some(0), "/0"),
        (
            r#"[{"actions": [{"action": "add-trait", "name": "A"}]}, {"actions": [{"action": "explode"}]}]"#,
            Some(1),
            "/1/actions/0/action",
        ),
        (
            r#"[{"conditions": [{"op": "equals", "field": "x", "value": 1}], "actions": [{"action": "fail", "message": "m"}]}]"#,
            Some(0),
            "/0/conditions/0/op",
        ),
        (
            r#"[{"conditions": [{"op": "eq", "field": "x"}], "actions": [{"action": "fail", "message": "m"}]}]"#,
            Some(0),
            "/0/conditions/0",
        ),
        (
            r#"[{"conditions": [{"op": "eq", "field": "ftp://x", "value": 1}], "actions": [{"action": "fail", "message": "m"}]}]"#,
            Some(0),
            "/0/conditions/0/field",
        ),
        (
            r#"[{"conditions": [{"op": "matches", "field": "x", "value": "("}], "actions": [{"action": "fail", "message": "m"}]}]"#,
            Some(0),
            "/0/conditions/0/value",
        ),
        (
            r#"[{"conditions": [{"op": "in-net", "field": "x", "value": "10.0.0.0/40"}], "actions": [{"action": "fail", "message": "m"}]}]"#,
            Some(0),
            "/0/conditions/0/value",
        ),
        (
            r#"[{"conditions": [{"op": "eq", "field": "x", "value": 1, "multiple": "some"}], "actions": [{"action": "fail", "message": "m"}]}]"#,
            Some(0),
            "/0/conditions/0/multiple",
        ),
        (
            r#"[{"conditions": [{"op": "is-empty", "field": "x", "value": 1}], "actions": [{"action": "fail", "message": "m"}]}]"#,
            Some(0),
            "/0/conditions/0/value",
        ),
        (
            r#"[{"conditions": [{"op": "!eq", "field": "x", "value": 1, "invert": true}], "actions": [{"action": "fail", "message": "m"}]}]"#,
            Some(0),
            "/0/conditions/0/op",
        ),
        (
            r#"[{"actions": [{"action": "set-attribute", "path": "driver", "value": "{data[x]"}]}]"#,
            Some(0),
            "/0/actions/0/value",
        ),
        (
            r#"[{"actions": [{"action": "set-attribute", "path": "a//b", "value": 1}]}]"#,
            Some(0),
            "/0/actions/0/path",
        ),
        (
            r#"[{"actions": [{"action": "set-attribute", "path": "driver", "value": 1, "colour": "red"}]}]"#,
            Some(0),
            "/0/actions/0/colour",
        ),
        (
            r#"[{"priority": "high", "actions": [{"action": "fail", "message": "m"}]}]"#,
            Some(0),
            "/0/priority",
        ),
        (
            r#"[{"actions": [{"action": "api-call", "url": "http://x"}]}]"#,
            Some(0),
            "/0/actions/0/action",
        ),
    ];
    for (text, rule_index, expected_pointer) in cases {
        match RuleSet::from_json(text) {
            Err(RuleError::Invalid {
                rule,
                pointer,
                message,
                ..
            }) => {
                assert_eq!(rule, rule_index, "{text}: {message}");
                assert_eq!(pointer, expected_pointer, "{text}: {message}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
    let err = RuleSet::from_json("[{\"description\": \"x\",\n  \"actions\": [}]").unwrap_err();
    assert!(matches!(err, RuleError::Json { line: 2, .. }), "{err}");
    let err = RuleSet::from_json("42").unwrap_err();
    assert!(
        matches!(err, RuleError::Invalid { rule: None, .. }),
        "{err}"
    );
    // The description names the rule in the message; a value in the file is never echoed.
    let err = RuleSet::from_json(
        r#"[{"description": "Dell", "actions": [{"action": "set-attribute", "path": "driver_info/drac_password", "value": "calvin", "extra": "calvin"}]}]"#,
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("rule 0 (\"Dell\"): at /0/actions/0/extra:"),
        "{text}"
    );
    assert!(!text.contains("calvin"), "{text}");
}

fn inspected(
    manufacturer: &str,
    bmc: &str,
    memory_mb: u64,
    disks: &[u64],
    discovered: bool,
) -> Value {
    let disks: Vec<Value> = disks
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"name": format!("sd{i}"), "size": s}))
        .collect();
    json!({"inventory": {"system_vendor": {"manufacturer": manufacturer}, "bmc_address": bmc,
        "memory": {"physical_mb": memory_mb}, "disks": disks}, "auto_discovered": discovered})
}

#[test]
fn example_1_dell_gets_idrac_and_a_credential_reference() {
    let rules = RuleSet::from_json(EXAMPLES[0]).unwrap();
    let mut n = node(json!({"driver": "redfish", "driver_info": {}}));
    let data = inspected("Dell Inc.", "10.20.1.5", 1024, &[], true);
    let applied = rules.apply(&data, &mut n).unwrap();
    assert_eq!(n["driver"], "idrac");
    assert_eq!(n["boot_interface"], "idrac-redfish-virtual-media");
    assert_eq!(n["driver_info"]["redfish_address"], "https://10.20.1.5");
    assert_eq!(
        n["driver_info"]["redfish_system_id"],
        "/redfish/v1/Systems/System.Embedded.1"
    );
    assert_eq!(
        n["driver_info"]["redfish_password"],
        "secret://bmc/dell-default"
    );
    assert!(
        applied.secrets.is_empty(),
        "a reference is not a secret value"
    );
    // Once credentials are set, the rule no longer fires.
    assert!(rules.apply(&data, &mut n).unwrap().matched.is_empty());
    let mut hpe = Map::new();
    assert!(
        rules
            .apply(&inspected("HPE", "10.0.0.1", 1, &[], true), &mut hpe)
            .unwrap()
            .matched
            .is_empty()
    );
}

#[test]
fn example_2_hpe_gets_redfish_and_uefi() {
    let rules = RuleSet::from_json(EXAMPLES[1]).unwrap();
    for vendor in ["HPE", "Hewlett Packard Enterprise", "hpe"] {
        let mut n = Map::new();
        rules
            .apply(&inspected(vendor, "10.0.0.9", 1, &[], false), &mut n)
            .unwrap();
        assert_eq!(n["driver"], "redfish", "{vendor}");
        assert_eq!(n["properties"]["capabilities"], "boot_mode:uefi");
        assert_eq!(
            n["driver_info"]["redfish_system_id"],
            "/redfish/v1/Systems/1"
        );
    }
    let explanation = rules.explain(&inspected("HPE", "1.2.3.4", 1, &[], false), &Map::new());
    assert_eq!(
        explanation.rules[0].conditions[0].operand,
        Some(json!("(?i)(hpe|hewlett.packard.*)")),
        "the regex as written"
    );
    let mut n = Map::new();
    assert!(
        rules
            .apply(&inspected("HPE Dell", "10.0.0.9", 1, &[], false), &mut n)
            .unwrap()
            .matched
            .is_empty(),
        "matches is a full match"
    );
}

#[test]
fn example_3_other_discovered_vendors_get_ipmi() {
    let rules = RuleSet::from_json(EXAMPLES[2]).unwrap();
    let mut n = Map::new();
    let applied = rules
        .apply(&inspected("Supermicro", "10.0.0.7", 1, &[], true), &mut n)
        .unwrap();
    assert_eq!(n["driver"], "ipmi");
    assert_eq!(n["driver_info"]["ipmi_address"], "10.0.0.7");
    assert_eq!(n["driver_info"]["ipmi_username"], "admin");
    assert_eq!(
        n["driver_info"]["ipmi_password"],
        "secret://bmc/ipmi-default"
    );
    assert!(applied.secrets.is_empty());
    for (vendor, bmc, discovered) in [
        ("Dell Inc.", "10.0.0.7", true),
        ("HPE", "10.0.0.7", true),
        ("Supermicro", "", true),
        ("Supermicro", "10.0.0.7", false),
    ] {
        let mut n = Map::new();
        assert!(
            rules
                .apply(&inspected(vendor, bmc, 1, &[], discovered), &mut n)
                .unwrap()
                .matched
                .is_empty(),
            "{vendor} {bmc:?} {discovered}"
        );
    }
}

#[test]
fn example_4_large_memory_class_and_trait() {
    let rules = RuleSet::from_json(EXAMPLES[3]).unwrap();
    let mut n = node(json!({"extra": {"tags": ["large-mem"]}}));
    rules
        .apply(&inspected("x", "", 262_144, &[], false), &mut n)
        .unwrap();
    assert_eq!(n["resource_class"], "baremetal.large-mem");
    assert_eq!(n["traits"], json!(["CUSTOM_MEM_256G"]));
    assert_eq!(n["extra"]["tags"], json!(["large-mem"]), "unique");
    let mut small = Map::new();
    assert!(
        rules
            .apply(&inspected("x", "", 262_143, &[], false), &mut small)
            .unwrap()
            .matched
            .is_empty()
    );
}

#[test]
fn example_5_fails_without_a_big_enough_disk() {
    let rules = RuleSet::from_json(EXAMPLES[4]).unwrap();
    let big = 200_000_000_000_u64;
    let mut n = Map::new();
    assert!(
        rules
            .apply(&inspected("x", "", 1, &[1, big], false), &mut n)
            .is_ok()
    );
    assert!(
        rules
            .apply(&inspected("x", "", 1, &[big + 1], false), &mut n)
            .is_ok()
    );
    for disks in [&[1_u64, big - 1][..], &[][..]] {
        let err = rules
            .apply(&inspected("x", "", 1, disks, false), &mut n)
            .unwrap_err();
        assert!(
            matches!(&err, RuleError::Failed { message, .. } if message == "no disk of at least 200 GB found"),
            "{disks:?}: {err}"
        );
    }
}

#[test]
fn example_6_places_nodes_by_bmc_subnet() {
    let rules = RuleSet::from_json(EXAMPLES[5]).unwrap();
    let mut n = Map::new();
    rules
        .apply(&inspected("x", "10.20.7.7", 1, &[], false), &mut n)
        .unwrap();
    assert_eq!(n["conductor_group"], "site-a");
    assert_eq!(n["properties"]["capabilities"], "site:a");
    assert_eq!(n["properties"]["root_device"], json!({"size": ">= 200"}));
    let mut other = Map::new();
    assert!(
        rules
            .apply(&inspected("x", "10.21.7.7", 1, &[], false), &mut other)
            .unwrap()
            .matched
            .is_empty()
    );
}

#[test]
fn explain_reports_conditions_and_changes_without_changing_the_node() {
    let rules = RuleSet::from_json(SEED).unwrap();
    let n = node(json!({"driver": "redfish"}));
    let explanation = rules.explain(&dell_data(true), &n);
    assert_eq!(n, node(json!({"driver": "redfish"})));
    let rule = &explanation.rules[0];
    assert!(rule.matched);
    assert_eq!(rule.conditions[1].seen, vec![json!("Dell Inc.")]);
    assert_eq!(rule.changes[0].before, Some(json!("redfish")));
    assert_eq!(rule.changes[0].after, Some(json!("idrac")));
    assert_eq!(explanation.outcome, Outcome::Completed { changes: 4 });
    let text = explanation.to_string();
    assert!(
        text.contains("rule 0 \"Set the vendor driver for Dell hardware\": matched"),
        "{text}"
    );
    assert!(
        text.contains("set-attribute driver: \"redfish\" -> \"idrac\""),
        "{text}"
    );
    assert!(
        text.contains("set-attribute driver_info/drac_address: (absent) -> \"10.20.1.5\""),
        "{text}"
    );
    let json = serde_json::to_value(&explanation).unwrap();
    assert_eq!(
        json["outcome"],
        json!({"status": "completed", "changes": 4})
    );
    assert_eq!(json["rules"][0]["conditions"][0]["op"], "eq");
    // Not matched: every condition is still reported.
    let explanation = rules.explain(&dell_data(false), &n);
    assert!(!explanation.rules[0].matched);
    assert!(!explanation.rules[0].conditions[0].matched);
    assert!(explanation.rules[0].conditions[1].matched);
    assert!(explanation.to_string().contains("not matched"));
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-z0-9:./ ]{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("10.20.3.4"),
            Just("Dell Inc."),
            Just("fd00::1"),
            Just("{data[x]}")
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop_oneof![
            Just("inventory".to_owned()),
            Just("system_vendor".to_owned()),
            Just("manufacturer".to_owned()),
            Just("disks".to_owned()),
            Just("size".to_owned()),
            Just("bmc_address".to_owned()),
            Just("auto_discovered".to_owned()),
            Just("memory".to_owned()),
            Just("physical_mb".to_owned()),
            Just("properties".to_owned()),
            Just("capabilities".to_owned()),
            Just("driver_info".to_owned()),
            Just("traits".to_owned()),
            Just("extra".to_owned()),
            Just("tags".to_owned()),
            "[a-z_]{1,6}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const EVERY_OP: &str = r#"[{"conditions": [
    {"field": "data://inventory.disks[*].size", "op": "ge", "value": 1, "multiple": "all"},
    {"field": "data://inventory.*", "op": "lt", "value": "m", "multiple": "last"},
    {"field": "node://capabilities.boot_mode", "op": "!eq", "value": "uefi", "multiple": "first"},
    {"field": "data://inventory.bmc_address", "op": "in-net", "value": "10.0.0.0/8"},
    {"field": "data://inventory.system_vendor.manufacturer", "op": "contains", "value": "(?i)dell"},
    {"field": "data://x[*]", "op": "matches", "value": ".*"},
    {"field": "node://traits[-1]", "op": "one-of", "values": ["A", 1, null]},
    {"field": "data://auto_discovered", "op": "is-true", "invert": true},
    {"field": "data://auto_discovered", "op": "is-false"},
    {"field": "data://memory", "op": "is-none"},
    {"field": "data://extra", "op": "ne", "value": {"a": 1}},
    {"field": "data://extra", "op": "le", "value": 5},
    {"field": "data://extra", "op": "gt", "value": true},
    {"field": "data://extra", "op": "is-empty"}],
  "actions": [
    {"action": "set-attribute", "path": "/extra/a", "value": "x {data[inventory]}"},
    {"action": "extend-attribute", "path": "/extra/tags", "value": "{data[auto_discovered]}", "unique": true},
    {"action": "set-capability", "name": "c", "value": "{data[memory]}"},
    {"action": "unset-capability", "name": "d"},
    {"action": "add-trait", "name": "CUSTOM_X"},
    {"action": "remove-trait", "name": "CUSTOM_Y"},
    {"action": "del-attribute", "path": "/properties/x"},
    {"action": "set-attribute", "path": "/driver_info/password", "value": "{node.driver_info}"}]},
  {"conditions": [], "actions": [{"action": "set-attribute", "path": "/properties/capabilities/k", "value": 1}]}]"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn evaluation_never_panics_on_random_data(data in arbitrary_json(), node_value in arbitrary_json()) {
        let node_map = match node_value {
            Value::Object(map) => map,
            other => {
                let mut map = Map::new();
                map.insert("extra".into(), other);
                map
            }
        };
        let mut sets: Vec<RuleSet> = EXAMPLES.iter().map(|t| RuleSet::from_json(t).unwrap()).collect();
        sets.push(RuleSet::from_json(SEED).unwrap());
        sets.push(RuleSet::from_json(EVERY_OP).unwrap());
        for set in sets {
            for mode in [Evaluation::Immediate, Evaluation::LegacyTwoPhase] {
                let set = set.clone().with_evaluation(mode);
                let before = node_map.clone();
                let mut working = node_map.clone();
                let explanation = set.explain(&data, &working);
                let _ = explanation.to_string();
                if set.apply(&data, &mut working).is_err() {
                    prop_assert_eq!(&working, &before);
                }
            }
        }
    }

    #[test]
    fn parsing_never_panics(text in "\\PC{0,200}") {
        let _ = RuleSet::from_json(&text);
    }
}
