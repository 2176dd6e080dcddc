use proptest::prelude::*;
use serde_json::json;

use super::*;

fn registry() -> AttributeRegistry {
    AttributeRegistry::parse(
        "/r",
        &json!({"Id": "T.v1_0_0", "RegistryEntries": {
            "Attributes": [
                {"AttributeName": "ProcVirtualization", "Type": "Enumeration", "Value": [{"ValueName": "Enabled"}, {"ValueName": "Disabled"}]},
                {"AttributeName": "SriovGlobalEnable", "Type": "Enumeration", "Value": [{"ValueName": "Enabled"}, {"ValueName": "Disabled"}]},
                {"AttributeName": "BootSeqRetryCount", "Type": "Integer", "LowerBound": 0, "UpperBound": 10, "ScalarIncrement": 1},
                {"AttributeName": "ProcCoreDisable", "Type": "Integer", "LowerBound": 0, "UpperBound": 62, "ScalarIncrement": 2},
                {"AttributeName": "OemHostname", "Type": "String", "MinLength": 1, "MaxLength": 63, "ValueExpression": "^[A-Za-z0-9-]{1,63}$"},
                {"AttributeName": "SystemBiosVersion", "Type": "String", "ReadOnly": true},
                {"AttributeName": "MemPatrolScrub", "Type": "Boolean"},
                {"AttributeName": "SetupPassword", "Type": "Password", "MinLength": 8, "MaxLength": 32},
                {"AttributeName": "QuietBoot#002E", "Type": "Enumeration", "Value": [{"ValueName": "Enabled"}, {"ValueName": "Disabled"}]},
                {"AttributeName": "HttpDev1Protocol", "Type": "Enumeration", "Value": [{"ValueName": "IPv4"}, {"ValueName": "IPv6"}]},
                {"AttributeName": "HttpDev1Ip", "Type": "String"}
            ],
            "Dependencies": [
                {"Type": "Map", "DependencyFor": "SriovGlobalEnable", "Dependency": {
                    "MapFrom": [{"MapFromAttribute": "ProcVirtualization", "MapFromCondition": "EQU", "MapFromProperty": "CurrentValue", "MapFromValue": "Disabled"}],
                    "MapToAttribute": "SriovGlobalEnable", "MapToProperty": "ReadOnly", "MapToValue": true}},
                {"Type": "Map", "DependencyFor": "HttpDev1Ip", "Dependency": {
                    "MapFrom": [{"MapFromAttribute": "HttpDev1Protocol", "MapFromCondition": "EQU", "MapFromProperty": "CurrentValue", "MapFromValue": "IPv6"}],
                    "MapToAttribute": "HttpDev1Ip", "MapToProperty": "Hidden", "MapToValue": true}}
            ]}}),
    )
    .unwrap()
}

fn current() -> Attributes {
    let e = |s: &str| AttributeValue::Enum(s.to_owned());
    [
        ("ProcVirtualization", e("Enabled")),
        ("SriovGlobalEnable", e("Disabled")),
        ("BootSeqRetryCount", AttributeValue::Integer(3)),
        ("ProcCoreDisable", AttributeValue::Integer(0)),
        ("OemHostname", AttributeValue::String("localhost".into())),
        ("MemPatrolScrub", AttributeValue::Boolean(true)),
        ("HttpDev1Protocol", e("IPv4")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn check(
    profile: &Profile,
    registry: Option<&AttributeRegistry>,
) -> Result<Validated, Vec<Problem>> {
    let current = current();
    let pending = Attributes::new();
    validate(
        profile,
        &Context {
            registry,
            current: &current,
            pending: &pending,
            vendor: VendorRow::Generic,
        },
    )
}

#[test]
fn every_kind_of_problem_at_once() {
    let r = registry();
    let profile = Profile::new()
        .set("ProcVirtualisation", "Enabled")
        .set("SystemBiosVersion", "9.9")
        .set("MemPatrolScrub", "yes")
        .set("BootSeqRetryCount", 11)
        .set("ProcCoreDisable", 3)
        .set("OemHostname", "bad_name!")
        .set("SetupPassword", "short-p")
        .set("ProcVirtualization", "Disabled")
        .set("SriovGlobalEnable", "Enabled")
        .set("HttpDev1Protocol", "IPv5");
    let problems = check(&profile, Some(&r)).unwrap_err();
    let kinds: Vec<(&str, &ProblemKind)> = problems
        .iter()
        .map(|p| (p.name.as_str(), &p.kind))
        .collect();
    assert!(
        matches!(kinds[0], ("ProcVirtualisation", ProblemKind::UnknownName { suggestions }) if suggestions[0] == "ProcVirtualization"),
        "{kinds:?}"
    );
    assert!(kinds.contains(&(
        "SystemBiosVersion",
        &ProblemKind::ReadOnly {
            by_dependency: false
        }
    )));
    assert!(kinds.contains(&(
        "MemPatrolScrub",
        &ProblemKind::WrongType {
            expected: ValueKind::Boolean,
            got: "a string"
        }
    )));
    assert!(kinds.contains(&(
        "BootSeqRetryCount",
        &ProblemKind::OutOfBounds {
            value: 11,
            lower: Some(0),
            upper: Some(10)
        }
    )));
    assert!(kinds.contains(&(
        "ProcCoreDisable",
        &ProblemKind::OffIncrement {
            value: 3,
            increment: 2,
            from: 0
        }
    )));
    assert!(
        kinds
            .iter()
            .any(|(n, k)| *n == "OemHostname" && matches!(k, ProblemKind::Pattern { .. }))
    );
    assert!(kinds.contains(&(
        "SetupPassword",
        &ProblemKind::Length {
            length: 7,
            min: Some(8),
            max: Some(32)
        }
    )));
    assert!(
        kinds.contains(&(
            "SriovGlobalEnable",
            &ProblemKind::ReadOnly {
                by_dependency: true
            }
        )),
        "{kinds:?}"
    );
    assert!(kinds.iter().any(|(n, k)| *n == "HttpDev1Protocol"
        && matches!(k, ProblemKind::NotAllowed { allowed, .. } if allowed == &["IPv4", "IPv6"])));
    assert_eq!(problems.len(), 9, "{problems:#?}");
    let text = crate::problem::summary(&problems);
    assert!(!text.contains("short-p"), "a password never shows: {text}");
    assert!(text.contains("did you mean ProcVirtualization"), "{text}");
}

#[test]
fn dependencies_read_the_resulting_configuration() {
    let r = registry();
    // Enabling virtualization in the same profile unlocks SR-IOV.
    let ok = check(
        &Profile::new()
            .set("ProcVirtualization", "Enabled")
            .set("SriovGlobalEnable", "Enabled"),
        Some(&r),
    );
    assert!(ok.is_ok(), "{ok:?}");
    let hidden = check(
        &Profile::new()
            .set("HttpDev1Protocol", "IPv6")
            .set("HttpDev1Ip", "10.0.0.1"),
        Some(&r),
    )
    .unwrap_err();
    assert_eq!(hidden[0].kind, ProblemKind::Hidden);
}

#[test]
fn conversions_suffixes_portables_and_duplicates() {
    let r = registry();
    let v = check(
        &Profile::parse("BootSeqRetryCount=4\nMemPatrolScrub=false\nQuietBoot=Disabled\nsr-iov=on\nSetupPassword=longenough1").unwrap(),
        Some(&r),
    )
    .unwrap();
    let got: Vec<(&str, &AttributeValue)> = v
        .settings
        .iter()
        .map(|s| (s.name.as_str(), &s.value))
        .collect();
    assert_eq!(got[0], ("BootSeqRetryCount", &AttributeValue::Integer(4)));
    assert_eq!(got[1], ("MemPatrolScrub", &AttributeValue::Boolean(false)));
    assert_eq!(
        got[2],
        ("QuietBoot#002E", &AttributeValue::Enum("Disabled".into()))
    );
    assert_eq!(
        got[3],
        ("SriovGlobalEnable", &AttributeValue::Enum("Enabled".into()))
    );
    assert_eq!(got[4].1.kind(), ValueKind::Password);
    assert!(!v.registry_missing);
    let dup = check(
        &Profile::new()
            .set("sriov", "on")
            .set("SriovGlobalEnable", "Enabled"),
        Some(&r),
    )
    .unwrap_err();
    assert_eq!(dup[0].kind, ProblemKind::Duplicate);
    let none = check(&Profile::new().set("turbo", "on"), Some(&r)).unwrap_err();
    assert!(
        matches!(&none[0].kind, ProblemKind::PortableUnavailable { tried } if tried.contains(&"ProcTurboMode".to_owned()))
    );
}

#[test]
fn without_a_registry_types_come_from_current_values() {
    let v = check(
        &Profile::new()
            .set("BootSeqRetryCount", "5")
            .set("ProcVirtualization", "Whatever"),
        None,
    )
    .unwrap();
    assert!(v.registry_missing);
    assert_eq!(v.settings[0].value, AttributeValue::Integer(5));
    let problems = check(
        &Profile::new()
            .set("MemPatrolScrub", 3)
            .set("BootSeqRetryCount", "x")
            .set("Nope", 1),
        None,
    )
    .unwrap_err();
    assert_eq!(problems.len(), 3);
    assert!(
        matches!(&problems[2].kind, ProblemKind::UnknownName { suggestions } if suggestions.len() == 3)
    );
}

#[test]
fn a_name_the_firmware_repeats_with_two_suffixes_is_ambiguous() {
    let r = AttributeRegistry::parse(
        "/r",
        &json!({"RegistryEntries": {"Attributes": [
            {"AttributeName": "TXTSupport#0062", "Type": "Enumeration", "Value": [{"ValueName": "Enabled"}, {"ValueName": "Disabled"}]},
            {"AttributeName": "TXTSupport#0072", "Type": "Enumeration", "Value": [{"ValueName": "Enabled"}, {"ValueName": "Disabled"}]}
        ]}}),
    )
    .unwrap();
    let problems = check(&Profile::new().set("TXTSupport", "Enabled"), Some(&r)).unwrap_err();
    assert_eq!(
        problems[0].kind,
        ProblemKind::Ambiguous {
            candidates: vec!["TXTSupport#0062".into(), "TXTSupport#0072".into()]
        }
    );
    assert!(
        problems[0]
            .to_string()
            .contains("TXTSupport#0062, TXTSupport#0072")
    );
    // Either suffixed spelling works.
    assert!(check(&Profile::new().set("TXTSupport#0072", "Enabled"), Some(&r)).is_ok());
}

#[test]
fn suggestions_ignore_suffixes() {
    let names = [
        "BootSeqRetry#0035",
        "BootSeqRetryCount#0038",
        "BootMode#0032",
    ];
    assert_eq!(
        closest_names("BootSeqRetryCnt", names.iter().copied())[0],
        "BootSeqRetryCount#0038"
    );
}

#[test]
fn closest_names_picks_three_by_edit_distance() {
    let names = [
        "ProcTurboMode",
        "ProcVirtualization",
        "ProcX2Apic",
        "BootMode",
        "ProcCStates",
    ];
    assert_eq!(
        closest_names("proc_turbo_mode", names.iter().copied())[0],
        "ProcTurboMode"
    );
    assert_eq!(closest_names("BootMod", names.iter().copied()).len(), 3);
    assert_eq!(edit_distance("kitten", "sitting"), 3);
}

proptest! {
    #[test]
    fn integers_are_accepted_exactly_on_the_grid(v in -10i64..80) {
        let r = registry();
        let ok = check(&Profile::new().set("ProcCoreDisable", v), Some(&r)).is_ok();
        prop_assert_eq!(ok, (0..=62).contains(&v) && v % 2 == 0);
    }

    #[test]
    fn validation_never_panics_on_any_value(name in "[A-Za-z#_-]{0,20}", s in ".{0,40}", n in any::<i64>()) {
        let r = registry();
        for value in [json!(s), json!(n), json!(null), json!([s]), json!({"k": n})] {
            let _ = check(&Profile::new().set(name.clone(), value.clone()).set("OemHostname", value), Some(&r));
        }
    }
}

#[test]
fn restating_a_locked_value_is_not_a_problem() {
    let r = registry();
    // SR-IOV is locked once virtualization is off, but it is already Disabled.
    let ok = check(
        &Profile::new()
            .set("ProcVirtualization", "Disabled")
            .set("SriovGlobalEnable", "Disabled"),
        Some(&r),
    );
    assert!(ok.is_ok(), "{ok:?}");
    let locked = check(
        &Profile::new()
            .set("ProcVirtualization", "Disabled")
            .set("SriovGlobalEnable", "Enabled"),
        Some(&r),
    );
    assert_eq!(
        locked.unwrap_err()[0].kind,
        ProblemKind::ReadOnly {
            by_dependency: true
        }
    );
}
