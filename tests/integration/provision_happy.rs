//! The whole flow against mock BMCs: enroll → verify → inspect (+ rules hook) → clean with a
//! BIOS profile → provide → deploy by virtual media with a config drive → active.

use std::sync::Arc;

use ferrofish::provision::{Fleet, ProvisionState, StateStore};
use ferrofish_mock_bmc::Personality;
use serde_json::json;

use crate::provision_support::{Env, MockConnector, event_log, writes};

#[tokio::test]
async fn nodes_go_from_enroll_to_active_with_bios_and_config_drive() {
    let env = Env::start(2, Personality::Generic).await;
    env.enroll_all().await;
    let hook_calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let calls = hook_calls.clone();
    let driver =
        env.driver("test-runner")
            .with_inspection_hook(Arc::new(move |inventory, fields| {
                calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                // A rule: large-memory nodes get a trait.
                if inventory.memory.total_mib > 0 {
                    fields.insert("traits".into(), json!(["CUSTOM_INSPECTED"]));
                }
                Ok(())
            }));
    let (log, sink) = event_log();
    let fleet = Fleet::new(
        driver,
        MockConnector,
        env.full_plan(&json!([{"name": "ProcTurboMode", "value": "Disabled"}])),
    )
    .workers(2)
    .on_event(sink);
    let summary = fleet.run().await.unwrap();
    assert_eq!(summary.reached(), 2, "{summary:#?}");
    assert_eq!(hook_calls.load(std::sync::atomic::Ordering::SeqCst), 2);

    for i in 0..2 {
        let node = env.store.load(&format!("node-{i}")).await.unwrap().unwrap();
        assert_eq!(node.state, ProvisionState::Active, "{node:#?}");
        assert!(node.operation.is_none());
        assert!(node.lease.is_none(), "the lease is released at the end");
        let properties = node.properties().unwrap();
        assert!(
            properties["memory_mb"].as_u64().unwrap() > 0,
            "{properties:?}"
        );
        assert_eq!(properties["cpu_arch"], "x86_64");
        assert_eq!(node.fields["traits"], json!(["CUSTOM_INSPECTED"]));
        let events: Vec<&str> = node.history.iter().map(|h| h.event.as_str()).collect();
        assert_eq!(
            events,
            [
                "manage", "done", "inspect", "done", "clean", "done", "provide", "done", "deploy",
                "done"
            ],
            "{:#?}",
            node.history
        );

        let view = env.mock.node(i).view();
        assert_eq!(
            view.bios_changed.get("ProcTurboMode"),
            Some(&json!("Disabled"))
        );
        assert!(view.bios_pending.is_empty(), "{view:?}");
        assert!(view.inserted_media.is_empty(), "media ejected: {view:?}");
        assert_eq!(view.boot_target, "Hdd");
        assert_eq!(view.boot_enabled, "Continuous");
        // The BMC fetched this node's config drive (the mock reads network data only from the
        // booted CD, so the address itself is checked where the drive is built).
        let fetched = env.images.fetches();
        assert!(
            fetched.iter().any(|f| f.status == 200
                && f.image.as_deref() == Some(&format!("node-{i}-config-2.img"))),
            "{fetched:#?}"
        );

        // One BIOS PATCH, one CD insert, one config-drive insert, and the boot from the CD.
        let writes = writes(&env.mock, i);
        let bios_patches = writes
            .iter()
            .filter(|w| w.starts_with("PATCH") && w.contains("Bios"))
            .count();
        assert_eq!(bios_patches, 1, "{writes:#?}");
        let inserts = writes.iter().filter(|w| w.contains("InsertMedia")).count();
        assert_eq!(inserts, 2, "{writes:#?}");
        let booted = view.booted.expect("booted");
        assert!(booted.image.unwrap_or_default().ends_with("/deploy.iso"));
    }
    let log = log.lock().unwrap();
    assert!(
        log.iter()
            .any(|e| e.node == "node-1" && e.state == ProvisionState::Active)
    );
    assert!(
        log.iter()
            .any(|e| e.phase.as_deref() == Some("bios_wait_applied"))
    );
}
