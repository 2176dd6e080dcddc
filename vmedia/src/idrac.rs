//! Dell iDRAC rules for virtual media, decided from the Manager's `Model` and
//! `FirmwareVersion` (redfish-core's `BmcIdentity`). Pure.

use ferrofish_redfish_core::{Vendor, parse_firmware_version};

/// Whether a Dell iDRAC with this Manager `model` and `firmware` cannot boot from standard
/// virtual media (quirk `idrac_vmedia_boot_before_6`, Ironic's `_validate_vendor`): an iDRAC8
/// or older (12G/13G models), or an iDRAC9 below 6.00. iDRAC10 restarted its versions at 1.x
/// (quirk `idrac10_version_restart`: a `17G` model or a major below 3) and is not "below 6".
/// An unknown firmware is not refused: the BMC's own answer then decides. Pure.
pub fn idrac_cannot_boot_vmedia(model: Option<&str>, firmware: Option<&str>) -> bool {
    let model = model.unwrap_or_default();
    if model.starts_with("12G") || model.starts_with("13G") {
        return true;
    }
    let Some(major) = dell_major(firmware) else {
        return false;
    };
    !is_idrac10(Some(model), firmware) && major < 6
}

/// The major version of a Dell firmware string.
fn dell_major(firmware: Option<&str>) -> Option<u32> {
    firmware
        .and_then(|raw| parse_firmware_version(&Vendor::Dell, raw))
        .and_then(|v| v.first().copied())
}

/// Whether a Dell Manager is an iDRAC10: a `17G` model, or a major below 3 on a model that is
/// not an iDRAC8 (quirk `idrac10_version_restart`). Pure.
pub fn is_idrac10(model: Option<&str>, firmware: Option<&str>) -> bool {
    let model = model.unwrap_or_default();
    if model.starts_with("12G") || model.starts_with("13G") {
        return false;
    }
    model.starts_with("17G") || dell_major(firmware).is_some_and(|major| major < 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Quirk `idrac_vmedia_boot_before_6`, by model and firmware; iDRAC10's restarted
    /// versions (quirk `idrac10_version_restart`) are not "below 6".
    #[test]
    fn idrac_vmedia_boot_before_6_by_model_and_firmware() {
        let refused =
            |model: &str, firmware: &str| idrac_cannot_boot_vmedia(Some(model), Some(firmware));
        assert!(refused("14G Monolithic", "5.10.50.00"));
        assert!(refused("15G Monolithic", "4.40.00.00"));
        assert!(refused("13G Monolithic", "2.75.75.75"));
        assert!(
            refused("13G Monolithic", "6.00.00.00"),
            "an iDRAC8 never boots it"
        );
        assert!(!refused("16G Monolithic", "6.10.30.00"));
        assert!(!refused("16G Monolithic", "7.00.00.00"));
        assert!(!refused("17G Monolithic", "1.20.25.00"));
        assert!(!refused("", "1.20.25.00"), "a major below 3 is iDRAC10");
        assert!(
            !refused("17G Monolithic", "5.00.00.00"),
            "a 17G model is iDRAC10"
        );
        assert!(!idrac_cannot_boot_vmedia(Some("14G Monolithic"), None));
        assert!(!idrac_cannot_boot_vmedia(None, Some("garbage")));
    }

    /// Quirk `idrac10_vmedia_slot_one` needs iDRAC10 told from iDRAC8 and iDRAC9.
    #[test]
    fn idrac10_by_model_or_restarted_version() {
        assert!(is_idrac10(Some("17G Monolithic"), Some("1.20.25.00")));
        assert!(is_idrac10(None, Some("2.10.00.00")));
        assert!(!is_idrac10(Some("13G Monolithic"), Some("2.75.75.75")));
        assert!(!is_idrac10(Some("16G Monolithic"), Some("6.10.30.00")));
        assert!(!is_idrac10(None, None));
    }
}
