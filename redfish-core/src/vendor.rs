//! Vendor detection from the service root and the manager: a pure function.

use serde::{Deserialize, Serialize};

use crate::models::{Manager, ServiceRoot};

/// The BMC vendor, detected once per client.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Vendor {
    /// Dell iDRAC.
    Dell,
    /// HPE iLO.
    Hpe,
    /// Lenovo XClarity Controller.
    Lenovo,
    /// Supermicro.
    Supermicro,
    /// AMI MegaRAC based BMCs (many OEM boards).
    Ami,
    /// NVIDIA (DGX, BlueField).
    Nvidia,
    /// Cisco CIMC.
    Cisco,
    /// Fujitsu iRMC.
    Fujitsu,
    /// The service names a vendor ferrofish has no table entry for.
    Other(String),
    /// Nothing identifies the vendor; DMTF behaviour only.
    Generic,
}

impl Vendor {
    /// Maps a vendor or manufacturer name to a known vendor.
    fn from_name(name: &str) -> Option<Vendor> {
        let lower = name.trim().to_ascii_lowercase();
        let table: [(&str, Vendor); 10] = [
            ("dell", Vendor::Dell),
            ("hpe", Vendor::Hpe),
            ("hewlett", Vendor::Hpe),
            ("lenovo", Vendor::Lenovo),
            ("supermicro", Vendor::Supermicro),
            ("super micro", Vendor::Supermicro),
            ("american megatrends", Vendor::Ami),
            ("nvidia", Vendor::Nvidia),
            ("cisco", Vendor::Cisco),
            ("fujitsu", Vendor::Fujitsu),
        ];
        if lower == "ami" || lower == "hp" {
            return Some(if lower == "ami" {
                Vendor::Ami
            } else {
                Vendor::Hpe
            });
        }
        table
            .into_iter()
            .find(|(needle, _)| lower.contains(needle))
            .map(|(_, v)| v)
    }

    /// Maps a key of the service root's `Oem` object.
    fn from_oem_key(key: &str) -> Option<Vendor> {
        match key.to_ascii_lowercase().as_str() {
            "dell" => Some(Vendor::Dell),
            "hpe" | "hp" => Some(Vendor::Hpe),
            "lenovo" => Some(Vendor::Lenovo),
            "supermicro" | "smc" => Some(Vendor::Supermicro),
            "ami" => Some(Vendor::Ami),
            "nvidia" => Some(Vendor::Nvidia),
            "cisco" => Some(Vendor::Cisco),
            "ts_fujitsu" | "fujitsu" => Some(Vendor::Fujitsu),
            _ => None,
        }
    }

    /// Recognises a BMC product or manager model (`iDRAC`, `iLO 5`, `XClarity`, ...).
    fn from_product(product: &str) -> Option<Vendor> {
        let lower = product.to_ascii_lowercase();
        if lower.contains("idrac") || lower.contains("g monolithic") || lower.contains("g modular")
        {
            Some(Vendor::Dell)
        } else if lower.starts_with("ilo") || lower.contains(" ilo") {
            Some(Vendor::Hpe)
        } else if lower.contains("xclarity") || lower.starts_with("xcc") {
            Some(Vendor::Lenovo)
        } else if lower.contains("irmc") {
            Some(Vendor::Fujitsu)
        } else if lower.contains("cimc") {
            Some(Vendor::Cisco)
        } else if lower.starts_with("ami ") || lower.contains("megarac") {
            // AMI's Redfish service names itself "AMI Redfish Server"; MegaRAC is its BMC.
            Some(Vendor::Ami)
        } else {
            None
        }
    }
}

/// Detects the vendor: ServiceRoot `Vendor`, then its `Oem` keys, then `Product`, then the
/// manager's model and manufacturer. A `Vendor` string no table knows yields [`Vendor::Other`].
pub fn detect_vendor(root: &ServiceRoot, manager: Option<&Manager>) -> Vendor {
    let by_vendor = root.vendor.as_deref().and_then(Vendor::from_name);
    let by_oem = || root.oem_keys().find_map(Vendor::from_oem_key);
    let by_product = || {
        let product = root.product.as_deref()?;
        Vendor::from_product(product).or_else(|| Vendor::from_name(product))
    };
    let by_manager = || {
        let manager = manager?;
        manager
            .model
            .as_deref()
            .and_then(Vendor::from_product)
            .or_else(|| manager.manufacturer.as_deref().and_then(Vendor::from_name))
            .or_else(|| {
                manager
                    .oem
                    .iter()
                    .flat_map(|m| m.keys())
                    .find_map(|k| Vendor::from_oem_key(k))
            })
    };
    by_vendor
        .or_else(by_oem)
        .or_else(by_product)
        .or_else(by_manager)
        .or_else(|| root.vendor.clone().map(Vendor::Other))
        .unwrap_or(Vendor::Generic)
}

/// A firmware version reduced to its numeric parts, for table lookups.
///
/// Vendor prefixes are removed first: HPE's `iLO 5 v2.72` reads as `2.72`; Lenovo's build-id
/// prefix (`TEI3A8A-3.10`, quirk `firmware_build_prefix`) is trimmed.
pub fn parse_firmware_version(vendor: &Vendor, raw: &str) -> Option<Vec<u32>> {
    let raw = raw.trim();
    let version_part = match vendor {
        Vendor::Hpe => raw.rsplit_once(" v").map_or(raw, |(_, v)| v),
        Vendor::Lenovo => raw.rsplit_once('-').map_or(raw, |(_, v)| v),
        _ => raw,
    };
    let start = version_part.find(|c: char| c.is_ascii_digit())?;
    let numbers: Vec<u32> = version_part[start..]
        .split('.')
        .map_while(|part| {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect();
    (!numbers.is_empty()).then_some(numbers)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn root(v: serde_json::Value) -> ServiceRoot {
        serde_json::from_value(v).unwrap()
    }

    fn manager(v: serde_json::Value) -> Manager {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn detection_table() {
        let cases = [
            (json!({"Vendor": "Dell"}), None, Vendor::Dell),
            (json!({"Vendor": "HPE"}), None, Vendor::Hpe),
            (json!({"Vendor": "Lenovo"}), None, Vendor::Lenovo),
            (json!({"Vendor": "Supermicro"}), None, Vendor::Supermicro),
            (json!({"Vendor": "AMI"}), None, Vendor::Ami),
            (
                json!({"Vendor": "Contoso"}),
                None,
                Vendor::Other("Contoso".into()),
            ),
            (json!({"Oem": {"Hpe": {}}}), None, Vendor::Hpe),
            (json!({"Oem": {"ts_fujitsu": {}}}), None, Vendor::Fujitsu),
            (
                json!({"Product": "Integrated Dell Remote Access Controller"}),
                None,
                Vendor::Dell,
            ),
            (json!({}), Some(json!({"Model": "iLO 5"})), Vendor::Hpe),
            (
                json!({}),
                Some(json!({"Model": "14G Monolithic"})),
                Vendor::Dell,
            ),
            (
                json!({}),
                Some(json!({"Manufacturer": "Lenovo"})),
                Vendor::Lenovo,
            ),
            (json!({"Vendor": "Fujitsu"}), None, Vendor::Fujitsu),
            (
                json!({}),
                Some(json!({"Model": "iRMC S5"})),
                Vendor::Fujitsu,
            ),
            (json!({"Product": "AMI Redfish Server"}), None, Vendor::Ami),
            (
                json!({}),
                Some(json!({"Model": "MegaRAC SP-X"})),
                Vendor::Ami,
            ),
            (json!({}), None, Vendor::Generic),
        ];
        for (r, m, want) in cases {
            let m = m.map(manager);
            assert_eq!(detect_vendor(&root(r.clone()), m.as_ref()), want, "{r}");
        }
    }

    #[test]
    fn root_vendor_wins_over_manager() {
        let m = manager(json!({"Model": "iLO 5"}));
        assert_eq!(
            detect_vendor(&root(json!({"Vendor": "Dell"})), Some(&m)),
            Vendor::Dell
        );
    }

    #[test]
    fn firmware_versions() {
        assert_eq!(
            parse_firmware_version(&Vendor::Dell, "6.00.30.00"),
            Some(vec![6, 0, 30, 0])
        );
        assert_eq!(
            parse_firmware_version(&Vendor::Hpe, "iLO 5 v2.72"),
            Some(vec![2, 72])
        );
        assert_eq!(
            parse_firmware_version(&Vendor::Lenovo, "TEI3A8A-3.10"),
            Some(vec![3, 10])
        );
        assert_eq!(
            parse_firmware_version(&Vendor::Generic, "v1.2.3-rc1"),
            Some(vec![1, 2, 3])
        );
        assert_eq!(parse_firmware_version(&Vendor::Generic, "unknown"), None);
    }
}
