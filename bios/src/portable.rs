//! Portable names: a small table of settings every server has under a different name
//! (`hyper-threading` is Dell `LogicalProc`, HPE `ProcHyperthreading` or `ProcSMT`, Lenovo
//! `Processors_HyperThreading`, ...) with portable values (`enabled`/`disabled`, `uefi`/`legacy`,
//! `performance`/`balanced`). A portable name is resolved against what the BMC really has:
//! the vendor's own candidates first, then every other vendor's (the mock BMC and OEM boards
//! reuse names), keeping the first attribute that exists; its value is the first candidate
//! the registry allows. Vendor names always work too and take precedence.
//!
//! Where the names come from: Dell and HPE rows are checked against the registries in
//! `vendor-captures` (tests in `tests/captures.rs`); the generic row is the mock BMC's registry;
//! Lenovo and Supermicro rows follow published XCC/X12 attribute names and are not checked
//! against a capture here (Supermicro names carry `#XXXX` suffixes, matched by
//! [`crate::validate`](mod@crate::validate)). Supermicro's power-profile row is
//! `ENERGY_PERF_BIAS_CFGmode`, the name Supermicro's Redfish Reference Guide (2.0a, §5.3)
//! uses in its dependency example, with the values of the X11/X12 setup screen ("Maximum
//! Performance", "Performance", "Balanced Performance"); the registry's dependency on
//! `PowerTechnology` = `Custom` is checked like any other.

use serde_json::Value;

/// The vendor row of the table to try first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VendorRow {
    /// Dell iDRAC.
    Dell,
    /// HPE iLO.
    Hpe,
    /// Lenovo XCC.
    Lenovo,
    /// Supermicro.
    Supermicro,
    /// The mock BMC and anything unknown.
    Generic,
}

impl VendorRow {
    /// The row for a vendor redfish-core detected.
    pub fn of(vendor: &ferrofish_redfish_core::Vendor) -> VendorRow {
        use ferrofish_redfish_core::Vendor;
        match vendor {
            Vendor::Dell => VendorRow::Dell,
            Vendor::Hpe => VendorRow::Hpe,
            Vendor::Lenovo => VendorRow::Lenovo,
            Vendor::Supermicro => VendorRow::Supermicro,
            _ => VendorRow::Generic,
        }
    }
}

/// One vendor's attribute names and values for a portable setting.
#[derive(Debug)]
pub struct Mapping {
    /// Which vendor.
    pub vendor: VendorRow,
    /// Candidate attribute names, in preference order.
    pub attributes: &'static [&'static str],
    /// (portable value, vendor value) pairs; a portable value may have several.
    pub values: &'static [(&'static str, &'static str)],
}

/// One portable setting.
#[derive(Debug)]
pub struct PortableSetting {
    /// The portable name, for example `hyper-threading`.
    pub name: &'static str,
    /// Other spellings accepted.
    pub aliases: &'static [&'static str],
    /// The portable values.
    pub values: &'static [&'static str],
    /// Per vendor.
    pub mappings: &'static [Mapping],
}

const TOGGLE: &[&str] = &["enabled", "disabled"];
const ENABLED: &[(&str, &str)] = &[("enabled", "Enabled"), ("disabled", "Disabled")];
const ENABLE_EITHER: &[(&str, &str)] = &[
    ("enabled", "Enabled"),
    ("enabled", "Enable"),
    ("disabled", "Disabled"),
    ("disabled", "Disable"),
];
const ENABLE_SHORT_FIRST: &[(&str, &str)] = &[
    ("enabled", "Enable"),
    ("enabled", "Enabled"),
    ("disabled", "Disable"),
    ("disabled", "Disabled"),
];

/// The table.
pub static PORTABLE_SETTINGS: &[PortableSetting] = &[
    PortableSetting {
        name: "hyper-threading",
        aliases: &["hyperthreading", "ht", "smt", "logical-processor"],
        values: TOGGLE,
        mappings: &[
            Mapping {
                vendor: VendorRow::Dell,
                attributes: &["LogicalProc"],
                values: ENABLED,
            },
            Mapping {
                vendor: VendorRow::Hpe,
                attributes: &["ProcHyperthreading", "ProcSMT"],
                values: ENABLED,
            },
            Mapping {
                vendor: VendorRow::Lenovo,
                attributes: &["Processors_HyperThreading", "Processors_SMTMode"],
                values: ENABLE_EITHER,
            },
            Mapping {
                vendor: VendorRow::Supermicro,
                attributes: &[
                    "HyperThreading",
                    "Hyper-Threading",
                    "HyperThreadingTechnology",
                    "SMTControl",
                ],
                values: ENABLE_SHORT_FIRST,
            },
            Mapping {
                vendor: VendorRow::Generic,
                attributes: &["ProcHyperthreading"],
                values: ENABLED,
            },
        ],
    },
    PortableSetting {
        name: "virtualization",
        aliases: &["vt", "vt-x", "svm", "cpu-virtualization"],
        values: TOGGLE,
        mappings: &[
            Mapping {
                vendor: VendorRow::Dell,
                attributes: &["ProcVirtualization"],
                values: ENABLED,
            },
            Mapping {
                vendor: VendorRow::Hpe,
                attributes: &["ProcVirtualization"],
                values: ENABLED,
            },
            Mapping {
                vendor: VendorRow::Lenovo,
                attributes: &[
                    "Processors_IntelVirtualizationTechnology",
                    "Processors_SVMMode",
                ],
                values: ENABLE_EITHER,
            },
            Mapping {
                vendor: VendorRow::Supermicro,
                attributes: &["IntelVirtualizationTechnology", "SVMMode", "SVM"],
                values: ENABLE_SHORT_FIRST,
            },
            Mapping {
                vendor: VendorRow::Generic,
                attributes: &["ProcVirtualization"],
                values: ENABLED,
            },
        ],
    },
    PortableSetting {
        name: "sr-iov",
        aliases: &["sriov"],
        values: TOGGLE,
        mappings: &[
            Mapping {
                vendor: VendorRow::Dell,
                attributes: &["SriovGlobalEnable"],
                values: ENABLED,
            },
            Mapping {
                vendor: VendorRow::Hpe,
                attributes: &["Sriov"],
                values: ENABLED,
            },
            Mapping {
                vendor: VendorRow::Lenovo,
                attributes: &["DevicesandIOPorts_SRIOV", "Devices_and_IO_Ports_SRIOV"],
                values: ENABLE_EITHER,
            },
            Mapping {
                vendor: VendorRow::Supermicro,
                attributes: &["SR-IOVSupport"],
                values: ENABLE_EITHER,
            },
            Mapping {
                vendor: VendorRow::Generic,
                attributes: &["SriovGlobalEnable"],
                values: ENABLED,
            },
        ],
    },
    PortableSetting {
        name: "boot-mode",
        aliases: &["bootmode"],
        values: &["uefi", "legacy"],
        mappings: &[
            Mapping {
                vendor: VendorRow::Dell,
                attributes: &["BootMode"],
                values: &[("uefi", "Uefi"), ("legacy", "Bios")],
            },
            Mapping {
                vendor: VendorRow::Hpe,
                attributes: &["BootMode"],
                values: &[("uefi", "Uefi"), ("legacy", "LegacyBios")],
            },
            Mapping {
                vendor: VendorRow::Lenovo,
                attributes: &["BootModes_SystemBootMode"],
                values: &[("uefi", "UEFIMode"), ("legacy", "LegacyMode")],
            },
            Mapping {
                vendor: VendorRow::Supermicro,
                attributes: &["BootModeSelect"],
                values: &[("uefi", "UEFI"), ("legacy", "LEGACY")],
            },
            Mapping {
                vendor: VendorRow::Generic,
                attributes: &["BootMode"],
                values: &[("uefi", "Uefi"), ("legacy", "Bios")],
            },
        ],
    },
    PortableSetting {
        name: "turbo",
        aliases: &["turbo-boost", "turbo-mode", "boost"],
        values: TOGGLE,
        mappings: &[
            Mapping {
                vendor: VendorRow::Dell,
                attributes: &["ProcTurboMode"],
                values: ENABLED,
            },
            Mapping {
                vendor: VendorRow::Hpe,
                attributes: &["ProcTurbo", "ProcAMDBoost"],
                values: ENABLED,
            },
            Mapping {
                vendor: VendorRow::Lenovo,
                attributes: &["Processors_TurboMode", "Processors_CorePerformanceBoost"],
                values: ENABLE_EITHER,
            },
            Mapping {
                vendor: VendorRow::Supermicro,
                attributes: &["IntelTurboBoostTechnology", "CorePerformanceBoost"],
                values: ENABLE_SHORT_FIRST,
            },
            Mapping {
                vendor: VendorRow::Generic,
                attributes: &["ProcTurboMode"],
                values: ENABLED,
            },
        ],
    },
    PortableSetting {
        name: "power-profile",
        aliases: &["performance-profile", "system-profile"],
        values: &["performance", "balanced"],
        mappings: &[
            Mapping {
                vendor: VendorRow::Dell,
                attributes: &["SysProfile"],
                values: &[
                    ("performance", "PerfOptimized"),
                    ("balanced", "PerfPerWattOptimizedDapc"),
                ],
            },
            Mapping {
                vendor: VendorRow::Hpe,
                attributes: &["WorkloadProfile"],
                values: &[
                    ("performance", "GeneralPeakFrequencyCompute"),
                    ("balanced", "GeneralPowerEfficientCompute"),
                ],
            },
            Mapping {
                vendor: VendorRow::Lenovo,
                attributes: &["OperatingModes_ChooseOperatingMode"],
                values: &[
                    ("performance", "MaximumPerformance"),
                    ("balanced", "Efficiency-FavorPerformance"),
                ],
            },
            Mapping {
                vendor: VendorRow::Supermicro,
                attributes: &["ENERGY_PERF_BIAS_CFGmode"],
                values: &[
                    ("performance", "Maximum Performance"),
                    ("performance", "Performance"),
                    ("balanced", "Balanced Performance"),
                ],
            },
            Mapping {
                vendor: VendorRow::Generic,
                attributes: &["SysProfile"],
                values: &[
                    ("performance", "PerfOptimized"),
                    ("balanced", "PerfPerWattOptimizedDapc"),
                ],
            },
        ],
    },
];

fn normalise(s: &str) -> String {
    s.trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c == '_' || c == ' ' { '-' } else { c })
        .collect()
}

/// The portable setting `name` names (`Hyper_Threading`, `hyperthreading`, `smt` ...).
pub fn lookup(name: &str) -> Option<&'static PortableSetting> {
    let n = normalise(name);
    PORTABLE_SETTINGS
        .iter()
        .find(|s| s.name == n || s.aliases.contains(&n.as_str()))
}

/// A portable value in its canonical spelling (`on`, `true`, `enable` → `enabled`; `bios` →
/// `legacy`), or `None` when `value` is not one of `setting`'s portable values.
fn portable_value(setting: &PortableSetting, value: &Value) -> Option<&'static str> {
    let raw = match value {
        Value::Bool(true) => "enabled".to_owned(),
        Value::Bool(false) => "disabled".to_owned(),
        Value::String(s) => normalise(s),
        _ => return None,
    };
    let canonical = match raw.as_str() {
        "on" | "true" | "enable" | "yes" => "enabled",
        "off" | "false" | "disable" | "no" => "disabled",
        "bios" | "legacy-bios" => "legacy",
        "perf" | "max-performance" | "maximum-performance" => "performance",
        "efficiency" | "power-efficient" => "balanced",
        other => other,
    };
    setting.values.iter().copied().find(|v| *v == canonical)
}

/// The vendor attribute and value a portable setting resolves to.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    /// The vendor attribute name (as the BMC spells it).
    pub attribute: String,
    /// The vendor value: a portable value translated, or the value as given when it is not
    /// a portable value (it is then validated as a vendor value).
    pub value: Value,
}

/// Answers whether the BMC has an attribute: its actual spelling and allowed values.
pub type FindAttribute<'a> = dyn Fn(&str) -> Option<(String, Vec<String>)> + 'a;

/// Resolves a portable setting on one BMC. `find(name)` answers whether the BMC has an
/// attribute of that name, with its actual spelling and its allowed values (empty when not
/// an enumeration or unknown). `None` when no candidate attribute exists. Pure.
pub fn resolve(
    setting: &PortableSetting,
    value: &Value,
    vendor: VendorRow,
    find: &FindAttribute<'_>,
) -> Option<Resolved> {
    let ordered = setting
        .mappings
        .iter()
        .filter(|m| m.vendor == vendor)
        .chain(setting.mappings.iter().filter(|m| m.vendor != vendor));
    let (mapping, attribute, allowed) = ordered
        .flat_map(|m| m.attributes.iter().map(move |a| (m, *a)))
        .find_map(|(m, a)| find(a).map(|(actual, allowed)| (m, actual, allowed)))?;
    let Some(wanted) = portable_value(setting, value) else {
        return Some(Resolved {
            attribute,
            value: value.clone(),
        });
    };
    let candidates = mapping
        .values
        .iter()
        .chain(setting.mappings.iter().flat_map(|m| m.values.iter()))
        .filter(|(p, _)| *p == wanted)
        .map(|(_, v)| *v);
    let chosen = if allowed.is_empty() {
        candidates.clone().next()
    } else {
        candidates.clone().find(|c| allowed.iter().any(|a| a == c))
    };
    Some(Resolved {
        attribute,
        value: Value::from(
            chosen
                .or_else(|| candidates.clone().next())
                .unwrap_or(wanted),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bmc<'a>(
        attrs: &'a [(&'a str, &'a [&'a str])],
    ) -> impl Fn(&str) -> Option<(String, Vec<String>)> + 'a {
        move |name| {
            attrs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(n, v)| ((*n).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
        }
    }

    #[test]
    fn every_setting_has_every_vendor() {
        for s in PORTABLE_SETTINGS {
            for row in [
                VendorRow::Dell,
                VendorRow::Hpe,
                VendorRow::Lenovo,
                VendorRow::Supermicro,
                VendorRow::Generic,
            ] {
                assert!(
                    s.mappings.iter().any(|m| m.vendor == row),
                    "{} {row:?}",
                    s.name
                );
            }
            for m in s.mappings {
                for v in s.values {
                    assert!(
                        m.values.iter().any(|(p, _)| p == v),
                        "{} {:?} {v}",
                        s.name,
                        m.vendor
                    );
                }
            }
        }
        assert!(lookup("Hyper_Threading").is_some());
        assert!(lookup("SMT").is_some());
        assert!(lookup("ProcTurboMode").is_none());
    }

    #[test]
    fn resolves_the_vendor_row_first_and_values_the_registry_allows() {
        let s = lookup("hyper-threading").unwrap();
        let dell = bmc(&[("LogicalProc", &["Enabled", "Disabled"])]);
        assert_eq!(
            resolve(s, &Value::from("off"), VendorRow::Dell, &dell),
            Some(Resolved {
                attribute: "LogicalProc".into(),
                value: Value::from("Disabled")
            })
        );
        // A Lenovo whose registry spells the values short.
        let lenovo = bmc(&[("Processors_HyperThreading", &["Enable", "Disable"])]);
        assert_eq!(
            resolve(s, &Value::Bool(true), VendorRow::Lenovo, &lenovo)
                .unwrap()
                .value,
            Value::from("Enable")
        );
        // The mock speaks Dell values under generic names, whatever personality it wears.
        let mock = bmc(&[("ProcHyperthreading", &["Enabled", "Disabled"])]);
        assert_eq!(
            resolve(s, &Value::from("enabled"), VendorRow::Dell, &mock)
                .unwrap()
                .attribute,
            "ProcHyperthreading"
        );
        assert_eq!(
            resolve(s, &Value::from("enabled"), VendorRow::Dell, &bmc(&[])),
            None
        );
        // A vendor value passes through unchanged, to be validated.
        let p = lookup("power-profile").unwrap();
        let hpe = bmc(&[("WorkloadProfile", &["LowLatency"])]);
        assert_eq!(
            resolve(p, &Value::from("LowLatency"), VendorRow::Hpe, &hpe)
                .unwrap()
                .value,
            Value::from("LowLatency")
        );
        // Supermicro's EPB mode, suffixed as its firmware spells it, in the registry's values.
        let smc = bmc(&[(
            "ENERGY_PERF_BIAS_CFGmode",
            &["Performance", "Balanced Performance", "Power"],
        )]);
        assert_eq!(
            resolve(p, &Value::from("performance"), VendorRow::Supermicro, &smc),
            Some(Resolved {
                attribute: "ENERGY_PERF_BIAS_CFGmode".into(),
                value: Value::from("Performance")
            })
        );
        let boot = lookup("boot-mode").unwrap();
        let hpe = bmc(&[("BootMode", &["Uefi", "LegacyBios"])]);
        assert_eq!(
            resolve(boot, &Value::from("bios"), VendorRow::Hpe, &hpe)
                .unwrap()
                .value,
            Value::from("LegacyBios")
        );
    }
}
