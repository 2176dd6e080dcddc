//! Real vendor captures (Dell iDRAC9 with its 682-attribute registry, HPE iLO 5 with its
//! registry under the lower-case `registrystore`), served from a tiny local server: the
//! registry is located the way each BMC needs, parsed, and profiles are validated and staged
//! against it. Skipped (with a message) when `../shared/fixtures/vendor-captures` is absent.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ferrofish_bios::{AttributeValue, Bios, ProblemKind, Profile};
use ferrofish_mock_bmc::CaptureBmc;
use ferrofish_redfish_core::{RedfishClient, SecretString};
use serde_json::Value;

fn capture_dir(vendor: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/vendor-captures")
        .join(vendor);
    if dir.join("redfish/v1/index.json").is_file() {
        Some(dir)
    } else {
        println!("skipping: vendor capture {} not found", dir.display());
        None
    }
}

/// The capture served by the mock BMC's capture server, and a client of it.
async fn serve(dir: PathBuf) -> (CaptureBmc, RedfishClient) {
    let server = CaptureBmc::serve(dir).await.expect("serve the capture");
    let client = RedfishClient::builder(server.url())
        .credentials("root", SecretString::from("capture-password"))
        .request_timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    (server, client)
}

fn patches(server: &CaptureBmc) -> Vec<(String, Value)> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| (r.path, r.body.unwrap_or(Value::Null)))
        .collect()
}

#[tokio::test]
async fn dell_registry_682_attributes_located_under_bios_and_validated() {
    let Some(dir) = capture_dir("dell") else {
        return;
    };
    let (server, client) = serve(dir).await;
    let system = client.systems().await.expect("systems").remove(0);
    let bios = Bios::new(&system);
    let snapshot = bios.read().await.expect("read");
    assert_eq!(
        snapshot.attribute_registry.as_deref(),
        Some("BiosAttributeRegistry.v1_0_3")
    );
    let registry = snapshot.registry.registry.clone().expect("registry found");
    assert_eq!(registry.attributes.len(), 682);
    assert_eq!(
        snapshot
            .registry
            .url
            .as_deref()
            .map(|u| u.ends_with("/redfish/v1/Systems/System.Embedded.1/Bios/BiosRegistry")),
        Some(true),
        "named v1_0_3, offered as member v1_0_0, located under the Bios resource"
    );
    // Every pattern Dell publishes compiles.
    for a in &registry.attributes {
        if let ferrofish_bios::AttributeKind::String {
            pattern: Some(p), ..
        } = &a.kind
        {
            assert!(regex::Regex::new(p).is_ok(), "{}: {p}", a.name);
        }
    }
    assert_eq!(
        snapshot.current.get("BootMode"),
        Some(&AttributeValue::Enum("Uefi".into()))
    );

    // Portable names resolve to Dell's; a dependency unlocks turbo only with a custom profile.
    let good = Profile::parse(
        "hyper-threading=off\nvirtualization=on\nsr-iov=on\nboot-mode=uefi\nSysProfile=Custom\nturbo=off",
    )
    .unwrap();
    let plan = snapshot.plan(&good).expect("valid on Dell");
    let names: Vec<&str> = plan
        .validated
        .settings
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "LogicalProc",
            "ProcVirtualization",
            "SriovGlobalEnable",
            "BootMode",
            "SysProfile",
            "ProcTurboMode"
        ]
    );
    assert!(
        plan.validated.notes.is_empty(),
        "{:?}",
        plan.validated.notes
    );
    assert_dell_refusals(&snapshot);

    // Staging goes to Bios/Settings with the apply time Dell advertises.
    let outcome = bios
        .stage(&Profile::new().set("hyper-threading", "off"))
        .await
        .expect("stage");
    assert!(outcome.sent);
    let sent = patches(&server);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].0,
        "/redfish/v1/Systems/System.Embedded.1/Bios/Settings"
    );
    assert_eq!(
        sent[0].1,
        serde_json::json!({"Attributes": {"LogicalProc": "Disabled"}, "@Redfish.SettingsApplyTime": {"ApplyTime": "OnReset"}})
    );
}

/// Every problem of a bad profile against Dell's registry.
fn assert_dell_refusals(snapshot: &ferrofish_bios::BiosSnapshot) {
    let bad = Profile::parse("turbo=off\npower-profile=performance\nAcPwrRcvryUserDelay=7\nLogicalProcc=Enabled\nIscsiDev1Con1Ip=300.1.1.1").unwrap();
    let err = snapshot.plan(&bad).expect_err("refused");
    let kinds: Vec<(&str, &ProblemKind)> = err
        .problems()
        .iter()
        .map(|p| (p.name.as_str(), &p.kind))
        .collect();
    assert!(
        kinds.contains(&(
            "turbo",
            &ProblemKind::ReadOnly {
                by_dependency: true
            }
        )),
        "{err}"
    );
    assert!(
        kinds
            .iter()
            .any(|(n, k)| *n == "AcPwrRcvryUserDelay"
                && matches!(k, ProblemKind::OutOfBounds { .. })),
        "{err}"
    );
    assert!(kinds.iter().any(|(n, k)| *n == "LogicalProcc" && matches!(k, ProblemKind::UnknownName { suggestions } if suggestions[0] == "LogicalProc")), "{err}");
    assert!(
        kinds
            .iter()
            .any(|(n, k)| *n == "IscsiDev1Con1Ip" && matches!(k, ProblemKind::Pattern { .. })),
        "{err}"
    );
}

#[tokio::test]
async fn hpe_registry_found_in_the_lower_case_registrystore() {
    let Some(dir) = capture_dir("hpe") else {
        return;
    };
    let (server, client) = serve(dir).await;
    let system = client.systems().await.expect("systems").remove(0);
    let bios = Bios::new(&system);
    let snapshot = bios.read().await.expect("read");
    let registry = snapshot.registry.registry.clone().expect("registry found");
    assert_eq!(registry.id, "BiosAttributeRegistryA42.v1_2_60");
    assert_eq!(registry.attributes.len(), 402);
    assert!(
        snapshot.registry.url.as_deref().is_some_and(|u| u
            .ends_with("/redfish/v1/registrystore/registries/en/biosattributeregistrya42.v1_2_60")),
        "{:?}",
        snapshot.registry.url
    );
    assert_eq!(
        snapshot.settings.url.path(),
        "/redfish/v1/systems/1/bios/settings/"
    );
    assert!(snapshot.quirks.paths_case_insensitive && snapshot.quirks.pending_lists_all_attributes);
    assert_eq!(
        snapshot.pending.len(),
        277,
        "iLO lists every attribute as pending"
    );

    // AMD names: hyper-threading is ProcSMT, turbo ProcAMDBoost; no virtualization toggle.
    let plan = snapshot
        .plan(
            &Profile::parse(
                "hyper-threading=off\nturbo=on\npower-profile=performance\nSriov=Enabled",
            )
            .unwrap(),
        )
        .expect("valid on HPE");
    let names: Vec<&str> = plan.diff.changes.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["ProcSMT", "WorkloadProfile"],
        "turbo and SR-IOV are already so"
    );
    let err = snapshot
        .plan(&Profile::new().set("virtualization", "on"))
        .expect_err("no such toggle");
    assert!(matches!(
        err.problems()[0].kind,
        ProblemKind::PortableUnavailable { .. }
    ));

    bios.stage(&Profile::new().set("hyper-threading", "off"))
        .await
        .expect("stage");
    let sent = patches(&server);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "/redfish/v1/systems/1/bios/settings/");
    assert_eq!(
        sent[0].1,
        serde_json::json!({"Attributes": {"ProcSMT": "Disabled"}}),
        "iLO advertises no apply time"
    );
}

/// Every portable setting resolves on the Dell capture; on the HPE (AMD) capture all but
/// virtualization, which that registry has no toggle for.
#[tokio::test]
async fn portable_names_checked_against_the_captured_registries() {
    for (vendor, unavailable) in [("dell", vec![]), ("hpe", vec!["virtualization"])] {
        let Some(dir) = capture_dir(vendor) else {
            return;
        };
        let (_server, client) = serve(dir).await;
        let system = client.systems().await.expect("systems").remove(0);
        let snapshot = Bios::new(&system).read().await.expect("read");
        let registry = snapshot.registry.registry.clone().expect("registry");
        for setting in ferrofish_bios::PORTABLE_SETTINGS {
            for value in setting.values {
                let result = snapshot.validate(&Profile::new().set(setting.name, *value));
                let missing = unavailable.contains(&setting.name);
                match result {
                    Ok(v) => {
                        assert!(!missing, "{vendor} {}", setting.name);
                        let s = &v.settings[0];
                        let def = registry.get(&s.name).expect("a registry attribute");
                        if let ferrofish_bios::AttributeKind::Enumeration { values } = &def.kind {
                            assert!(
                                values.iter().any(|x| Some(x.as_str()) == s.value.as_text()),
                                "{vendor} {} {value} -> {} {}",
                                setting.name,
                                s.name,
                                s.value
                            );
                        }
                    }
                    Err(err) => {
                        // Locked by a dependency is fine (it resolved); unavailable only where expected.
                        let unavailable_here = err
                            .problems()
                            .iter()
                            .any(|p| matches!(p.kind, ProblemKind::PortableUnavailable { .. }));
                        assert_eq!(
                            unavailable_here, missing,
                            "{vendor} {} {value}: {err}",
                            setting.name
                        );
                    }
                }
            }
        }
    }
}
