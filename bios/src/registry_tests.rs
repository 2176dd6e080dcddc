use serde_json::json;

use super::*;

#[allow(clippy::needless_pass_by_value)]
fn dep(from: Value, prop: &str, to: Value) -> Value {
    json!({"Type": "Map", "DependencyFor": "T", "Dependency": {
        "MapFrom": from, "MapToAttribute": "T", "MapToProperty": prop, "MapToValue": to}})
}

#[allow(clippy::needless_pass_by_value)]
fn registry(attrs: Value, deps: Value) -> AttributeRegistry {
    AttributeRegistry::parse(
        "/r",
        &json!({"Id": "R.v1_0_0", "RegistryEntries": {"Attributes": attrs, "Dependencies": deps}}),
    )
    .unwrap()
}

fn values(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<Value> {
    let map: HashMap<String, Value> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn malformed_registries_name_the_json_path() {
    let err = AttributeRegistry::parse("/x", &json!({"RegistryEntries": {}})).unwrap_err();
    assert!(
        matches!(&err, BiosError::Malformed { url, json_path, .. } if url == "/x" && json_path == "$.RegistryEntries.Attributes"),
        "{err}"
    );
    let err = AttributeRegistry::parse(
        "/x",
        &json!({"RegistryEntries": {"Attributes": [{"AttributeName": "A", "Type": "Integer"}, {"Type": "String"}]}}),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("Attributes[1].AttributeName"),
        "{err}"
    );
    assert!(AttributeRegistry::parse("/x", &json!([1])).is_err());
}

#[test]
fn lenient_on_unknown_types_and_dependencies() {
    let r = registry(
        json!([{"AttributeName": "A", "Type": "Fancy", "Extra": 1}, {"AttributeName": "B", "Type": "Integer", "ScalarIncrement": 0}]),
        json!([{"Type": "Other"}, {"Type": "Map", "Dependency": {}}]),
    );
    assert_eq!(
        r.get("A").unwrap().kind,
        AttributeKind::Other("Fancy".into())
    );
    assert!(matches!(
        r.get("B").unwrap().kind,
        AttributeKind::Integer {
            increment: None,
            ..
        }
    ));
    assert!(r.dependencies.is_empty());
}

#[test]
fn dell_style_read_only_is_re_evaluated_on_the_resulting_configuration() {
    // Published read-only because SysProfile is not Custom now.
    let r = registry(
        json!([{"AttributeName": "T", "Type": "Enumeration", "ReadOnly": true, "Value": [{"ValueName": "Enabled"}]},
               {"AttributeName": "SysProfile", "Type": "Enumeration", "Value": [{"ValueName": "Custom"}, {"ValueName": "Perf"}]}]),
        json!([dep(
            json!([{"MapFromAttribute": "SysProfile", "MapFromCondition": "NEQ", "MapFromProperty": "CurrentValue", "MapFromValue": "Custom"}]),
            "ReadOnly",
            json!(true)
        )]),
    );
    let now = values(&[("SysProfile", "Perf")]);
    let custom = values(&[("SysProfile", "Custom")]);
    assert!(r.effective("T", &now, &now).read_only);
    assert!(!r.effective("T", &custom, &now).read_only);
}

#[test]
fn a_published_flag_no_dependency_explains_stays() {
    let r = registry(
        json!([{"AttributeName": "T", "Type": "String", "ReadOnly": true}]),
        json!([dep(
            json!([{"MapFromAttribute": "X", "MapFromCondition": "EQU", "MapFromValue": "a"}]),
            "ReadOnly",
            json!(true)
        )]),
    );
    let none = values(&[("X", "b")]);
    assert!(r.effective("T", &none, &none).read_only);
}

#[test]
fn terms_and_conditions() {
    let d = parse_dependency(&dep(
        json!([
            {"MapFromAttribute": "A", "MapFromCondition": "EQU", "MapFromValue": "x"},
            {"MapFromAttribute": "B", "MapFromCondition": "GEQ", "MapFromValue": 5, "MapTerms": "AND"}
        ]),
        "Hidden",
        json!(true),
    ))
    .unwrap();
    let cfg = |a: &'static str, b: i64| {
        move |k: &str| match k {
            "A" => Some(Value::from(a)),
            "B" => Some(Value::from(b)),
            _ => None,
        }
    };
    assert!(d.holds(&cfg("x", 5)));
    assert!(!d.holds(&cfg("x", 4)));
    assert!(!d.holds(&cfg("y", 9)));
    let or = parse_dependency(&dep(
        json!([
            {"MapFromAttribute": "A", "MapFromCondition": "EQU", "MapFromValue": "x"},
            {"MapFromAttribute": "A", "MapFromCondition": "EQU", "MapFromValue": "z"}
        ]),
        "Hidden",
        json!(true),
    ))
    .unwrap();
    assert!(or.holds(&cfg("z", 0)));
}

#[test]
fn forced_values_and_hidden() {
    let r = registry(
        json!([{"AttributeName": "T", "Type": "Enumeration", "Value": [{"ValueName": "On"}]}]),
        json!([
            dep(
                json!([{"MapFromAttribute": "P", "MapFromCondition": "EQU", "MapFromValue": "perf"}]),
                "CurrentValue",
                json!("On")
            ),
            dep(
                json!([{"MapFromAttribute": "Q", "MapFromCondition": "EQU", "MapFromValue": "v6"}]),
                "Hidden",
                json!(true)
            )
        ]),
    );
    let cfg = values(&[("P", "perf"), ("Q", "v6")]);
    let e = r.effective("T", &cfg, &values(&[]));
    assert_eq!(e.forced_value, Some(Value::from("On")));
    assert!(e.hidden);
    assert!(!e.read_only);
}
