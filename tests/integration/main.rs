//! Integration tests of the facade and the examples against ferrofish's mock BMC and real
//! peers (sushy-tools), compiled as one binary so the test suite links once.

mod auth_vs_mock;
#[cfg(feature = "bios")]
mod bios_examples;
#[cfg(all(feature = "ipmi", feature = "bios", feature = "vmedia"))]
mod bmc_vs_mock;
mod inspect_example;
mod inventory_vs_mock;
#[cfg(feature = "ipmi")]
mod ipmi_client_vs_mock;
#[cfg(feature = "ipmi")]
mod ipmi_example;
#[cfg(feature = "provision")]
mod pg_cluster;
#[cfg(feature = "ipmi")]
mod power_example;
#[cfg(feature = "provision")]
mod provision_bios_scenarios;
#[cfg(feature = "provision")]
mod provision_bmc;
#[cfg(feature = "provision")]
mod provision_fleet;
#[cfg(feature = "provision")]
mod provision_happy;
#[cfg(feature = "provision")]
mod provision_power_boot;
#[cfg(feature = "provision")]
mod provision_process;
#[cfg(feature = "provision")]
mod provision_scenarios;
#[cfg(feature = "provision")]
mod provision_support;
mod rules_vs_mock;
mod support;
mod sushy;
mod sushy_support;
mod vendors_vs_mock;
#[cfg(feature = "vmedia")]
mod vmedia_example;
