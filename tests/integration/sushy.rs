//! Interop: the facade's Redfish client against `OpenStack`'s sushy-tools emulator, a Redfish
//! service nobody here wrote and the one Ironic's CI runs against. Its service root names no
//! `SessionService`, it takes HTTP basic auth only, its linked `Memory` collection answers 404,
//! and it stores a one-time boot override as `Continuous`.
//!
//! Each test starts its own emulator (see `sushy_support`), so state never leaks between tests;
//! each skips with a message when sushy-tools is not installed.

use ferrofish::SecretString;
use ferrofish::redfish::{
    AuthMode, BootOverride, BootOverrideEnabled, BootSource, PowerState, RedfishClient,
};

use crate::sushy_support::{
    DRIVE_CAPACITY_BYTES, NIC_MAC, SUSHY_PASSWORD, SUSHY_USERNAME, SYSTEM_UUID, Sushy,
};

/// A client of `sushy` with the right credentials; `auth` forces a mode, `None` keeps the
/// default a new user gets.
fn client(sushy: &Sushy, auth: Option<AuthMode>, password: &str) -> RedfishClient {
    let mut builder = RedfishClient::builder(sushy.url())
        .credentials(SUSHY_USERNAME, SecretString::from(password.to_owned()));
    if let Some(mode) = auth {
        builder = builder.auth(mode);
    }
    builder.build().expect("a valid client configuration")
}

/// Lists the systems and reads the power state the emulator was configured with.
async fn reads_systems_and_power(auth: Option<AuthMode>) {
    let Some(sushy) = Sushy::start() else { return };
    let redfish = client(&sushy, auth, SUSHY_PASSWORD);

    let systems = redfish.system_ids().await.expect("list the systems");
    assert_eq!(
        systems,
        [format!("/redfish/v1/Systems/{SYSTEM_UUID}")],
        "{}",
        sushy.log()
    );
    let system = redfish.system(SYSTEM_UUID).await.expect("the system");
    assert_eq!(
        system.power_state().await.expect("read the system"),
        Some(PowerState::Off)
    );
    redfish.close().await.expect("close");
}

/// The emulator's one system, read through its handle.
async fn read_system(
    redfish: &ferrofish::redfish::RedfishClient,
) -> ferrofish::redfish::ComputerSystem {
    let system = redfish.system(SYSTEM_UUID).await.expect("the system");
    system.read().await.expect("read the system").value
}

/// Sets a PXE boot override with `enabled` and checks what the emulator then reports, read
/// by a second client so nothing cached by the first can answer.
async fn sets_a_pxe_boot_override(auth: Option<AuthMode>, enabled: BootOverrideEnabled) {
    let Some(sushy) = Sushy::start() else { return };
    let redfish = client(&sushy, auth, SUSHY_PASSWORD);
    let before = read_system(&redfish).await;
    let before = before.boot.expect("the system has Boot");
    assert_eq!(
        before.boot_source_override_target,
        Some(BootSource::Hdd),
        "sushy's fake system starts on Hdd, so Pxe below is a change"
    );

    // Through the system's handle, as bios and vmedia reach it.
    let outcome = redfish
        .system(SYSTEM_UUID)
        .await
        .expect("the system")
        .set_boot_override(BootOverride {
            target: BootSource::Pxe,
            enabled: enabled.clone(),
            mode: None,
        })
        .await
        .expect("set the boot override");
    // sushy stores a one-time override as Continuous: the caller is told to clear it.
    assert_eq!(
        outcome.must_clear_after_boot(),
        enabled == BootOverrideEnabled::Once,
        "{outcome:?}"
    );
    redfish.close().await.expect("close");

    let reader = client(&sushy, Some(AuthMode::Basic), SUSHY_PASSWORD);
    let after = read_system(&reader).await;
    let after = after.boot.expect("the system has Boot");
    assert_eq!(after.boot_source_override_target, Some(BootSource::Pxe));
    // sushy keeps every override as Continuous, a one-time one included.
    assert_eq!(
        after.boot_source_override_enabled,
        Some(BootOverrideEnabled::Continuous),
        "asked for {enabled:?}"
    );
    reader.close().await.expect("close");
}

/// Reads the inventory: the NIC and the drive the emulator was configured with, and no memory
/// (its `Memory` collection answers 404).
async fn reads_the_inventory(auth: Option<AuthMode>) {
    let Some(sushy) = Sushy::start() else { return };
    let redfish = client(&sushy, auth, SUSHY_PASSWORD);

    let inventory = redfish
        .inventory(SYSTEM_UUID)
        .await
        .unwrap_or_else(|e| panic!("inventory: {e}\n{}", sushy.log()));
    assert_eq!(inventory.system.id.as_deref(), Some(SYSTEM_UUID));
    let macs: Vec<String> = inventory
        .nics
        .iter()
        .map(|nic| nic.mac_address.to_ascii_lowercase())
        .collect();
    assert_eq!(macs, [NIC_MAC]);
    let capacities: Vec<Option<u64>> = inventory.disks.iter().map(|d| d.capacity_bytes).collect();
    assert_eq!(capacities, [Some(DRIVE_CAPACITY_BYTES)]);
    assert!(inventory.memory.dimms.is_empty());
    assert_eq!(inventory.memory.total_mib, 0);
    // The 404 Memory collection is reported, not fatal.
    assert!(
        inventory
            .warnings
            .iter()
            .any(|w| w.url.ends_with("/Memory")),
        "{:?}",
        inventory.warnings
    );
    redfish.close().await.expect("close");
}

// ----- the default auth a new user gets (no `.auth()` call) -----

#[tokio::test]
async fn default_auth_lists_systems_and_reads_power() {
    reads_systems_and_power(None).await;
}

#[tokio::test]
async fn default_auth_sets_a_one_time_pxe_boot() {
    sets_a_pxe_boot_override(None, BootOverrideEnabled::Once).await;
}

#[tokio::test]
async fn default_auth_reads_the_inventory() {
    reads_the_inventory(None).await;
}

// ----- HTTP basic auth forced -----

#[tokio::test]
async fn basic_auth_lists_systems_and_reads_power() {
    reads_systems_and_power(Some(AuthMode::Basic)).await;
}

#[tokio::test]
async fn basic_auth_sets_a_continuous_pxe_boot() {
    sets_a_pxe_boot_override(Some(AuthMode::Basic), BootOverrideEnabled::Continuous).await;
}

#[tokio::test]
async fn basic_auth_sets_a_one_time_pxe_boot() {
    sets_a_pxe_boot_override(Some(AuthMode::Basic), BootOverrideEnabled::Once).await;
}

#[tokio::test]
async fn basic_auth_reads_the_inventory() {
    reads_the_inventory(Some(AuthMode::Basic)).await;
}

// ----- wrong credentials -----

#[tokio::test]
async fn a_wrong_password_is_an_authentication_error_in_every_mode() {
    let Some(sushy) = Sushy::start() else { return };
    for auth in [None, Some(AuthMode::Basic), Some(AuthMode::Auto)] {
        let redfish = client(&sushy, auth, "not-the-password");
        let err = redfish
            .system_ids()
            .await
            .expect_err("a wrong password must be refused");
        assert!(err.is_unauthorized(), "{auth:?}: {err}");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("not-the-password"), "{auth:?}: {shown}");
        redfish.close().await.expect("close");
    }
}
