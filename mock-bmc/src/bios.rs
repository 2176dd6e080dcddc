//! The BIOS attribute registry (≥ 60 attributes of every kind) and pure validation of a
//! requested change against it.
//!
//! Over 600 lines: most of it is the registry table itself (one entry per attribute, data
//! rather than logic) and the validation tests that walk it.

use serde_json::{Value, json};

/// A string pattern, given to clients as a regular expression and checked here by hand (the
/// mock carries no regex engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringPattern {
    /// `^[A-Za-z0-9-]{1,63}$`
    Hostname,
    /// `^[0-9]*$`
    Digits,
    /// `^[ -~]*$` (printable ASCII)
    PrintableAscii,
    /// `^(https?://.*)?$`
    HttpUri,
}

impl StringPattern {
    /// The regular expression published in the registry.
    pub fn regex(self) -> &'static str {
        match self {
            StringPattern::Hostname => "^[A-Za-z0-9-]{1,63}$",
            StringPattern::Digits => "^[0-9]*$",
            StringPattern::PrintableAscii => "^[ -~]*$",
            StringPattern::HttpUri => "^(https?://.*)?$",
        }
    }

    /// Whether `s` matches.
    pub fn matches(self, s: &str) -> bool {
        match self {
            StringPattern::Hostname => {
                !s.is_empty()
                    && s.len() <= 63
                    && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            }
            StringPattern::Digits => s.bytes().all(|b| b.is_ascii_digit()),
            StringPattern::PrintableAscii => s.bytes().all(|b| (b' '..=b'~').contains(&b)),
            StringPattern::HttpUri => {
                s.is_empty() || s.starts_with("http://") || s.starts_with("https://")
            }
        }
    }
}

/// The type of an attribute and its constraints.
#[derive(Debug, Clone, Copy)]
pub enum AttrKind {
    /// One of the listed values.
    Enumeration(&'static [&'static str]),
    /// Integer within bounds, multiple of `step` from `min`.
    Integer {
        /// Lower bound.
        min: i64,
        /// Upper bound.
        max: i64,
        /// Increment.
        step: i64,
    },
    /// String with length bounds and an optional pattern.
    String {
        /// Minimum length.
        min_len: usize,
        /// Maximum length.
        max_len: usize,
        /// Pattern, if any.
        pattern: Option<StringPattern>,
    },
    /// `true` / `false`.
    Boolean,
    /// Write-only password (reads as `null`).
    Password {
        /// Minimum length.
        min_len: usize,
        /// Maximum length.
        max_len: usize,
    },
}

/// Default value of an attribute.
#[derive(Debug, Clone, Copy)]
pub enum DefaultValue {
    /// A string (enumerations, strings).
    Str(&'static str),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// No value (passwords).
    Null,
}

impl DefaultValue {
    fn to_json(self) -> Value {
        match self {
            DefaultValue::Str(s) => Value::from(s),
            DefaultValue::Int(i) => Value::from(i),
            DefaultValue::Bool(b) => Value::from(b),
            DefaultValue::Null => Value::Null,
        }
    }
}

/// One registry entry.
#[derive(Debug, Clone, Copy)]
pub struct AttrDef {
    /// `AttributeName`.
    pub name: &'static str,
    /// `DisplayName`.
    pub display: &'static str,
    /// Menu the attribute appears in.
    pub menu: &'static str,
    /// Type and constraints.
    pub kind: AttrKind,
    /// Default (factory) value.
    pub default: DefaultValue,
    /// `ReadOnly`.
    pub read_only: bool,
}

/// A registry dependency: when `when` equals `equals`, `target` becomes read-only.
#[derive(Debug, Clone, Copy)]
pub struct Dependency {
    /// Attribute the condition reads.
    pub when: &'static str,
    /// Value that triggers the dependency.
    pub equals: &'static str,
    /// Attribute that becomes read-only.
    pub target: &'static str,
}

const ON_OFF: &[&str] = &["Enabled", "Disabled"];

macro_rules! e {
    ($name:literal, $display:literal, $menu:literal, $values:expr, $def:literal) => {
        AttrDef {
            name: $name,
            display: $display,
            menu: $menu,
            kind: AttrKind::Enumeration($values),
            default: DefaultValue::Str($def),
            read_only: false,
        }
    };
}
macro_rules! i {
    ($name:literal, $display:literal, $menu:literal, $min:literal, $max:literal, $step:literal, $def:literal) => {
        AttrDef {
            name: $name,
            display: $display,
            menu: $menu,
            kind: AttrKind::Integer {
                min: $min,
                max: $max,
                step: $step,
            },
            default: DefaultValue::Int($def),
            read_only: false,
        }
    };
}
macro_rules! s {
    ($name:literal, $display:literal, $menu:literal, $min:literal, $max:literal, $pat:expr, $def:literal, $ro:literal) => {
        AttrDef {
            name: $name,
            display: $display,
            menu: $menu,
            kind: AttrKind::String {
                min_len: $min,
                max_len: $max,
                pattern: $pat,
            },
            default: DefaultValue::Str($def),
            read_only: $ro,
        }
    };
}
macro_rules! b {
    ($name:literal, $display:literal, $menu:literal, $def:literal) => {
        AttrDef {
            name: $name,
            display: $display,
            menu: $menu,
            kind: AttrKind::Boolean,
            default: DefaultValue::Bool($def),
            read_only: false,
        }
    };
}

/// The registry, in display order.
pub static ATTRIBUTES: &[AttrDef] = &[
    s!(
        "SystemBiosVersion",
        "System BIOS Version",
        "SysInfo",
        0,
        32,
        None,
        "2.19.1",
        true
    ),
    s!(
        "SystemManufacturer",
        "System Manufacturer",
        "SysInfo",
        0,
        64,
        None,
        "Ferrofish",
        true
    ),
    s!(
        "SystemModelName",
        "System Model Name",
        "SysInfo",
        0,
        64,
        None,
        "Mock Rack Server 1U",
        true
    ),
    s!(
        "SystemServiceTag",
        "System Service Tag",
        "SysInfo",
        0,
        16,
        None,
        "FFMOCK1",
        true
    ),
    s!(
        "ProcBrand",
        "Processor Brand",
        "SysInfo",
        0,
        64,
        None,
        "Mock(R) Xeon(R) Gold 6338",
        true
    ),
    i!(
        "SysMemSize",
        "System Memory Size (GiB)",
        "SysInfo",
        0,
        65536,
        1,
        256
    ),
    e!(
        "BootMode",
        "Boot Mode",
        "BootSettings",
        &["Uefi", "Bios"],
        "Uefi"
    ),
    e!(
        "BootSeqRetry",
        "Boot Sequence Retry",
        "BootSettings",
        ON_OFF,
        "Enabled"
    ),
    i!(
        "BootSeqRetryCount",
        "Boot Sequence Retry Count",
        "BootSettings",
        0,
        10,
        1,
        3
    ),
    e!(
        "HddFailover",
        "Hard-Disk Failover",
        "BootSettings",
        ON_OFF,
        "Disabled"
    ),
    e!(
        "GenericUsbBoot",
        "Generic USB Boot",
        "BootSettings",
        ON_OFF,
        "Disabled"
    ),
    e!(
        "PxeDev1EnDis",
        "PXE Device 1",
        "NetworkSettings",
        ON_OFF,
        "Enabled"
    ),
    e!(
        "PxeDev1Protocol",
        "PXE Device 1 Protocol",
        "NetworkSettings",
        &["IPv4", "IPv6"],
        "IPv4"
    ),
    i!(
        "PxeDev1VlanId",
        "PXE Device 1 VLAN ID",
        "NetworkSettings",
        0,
        4094,
        1,
        0
    ),
    e!(
        "PxeDev1VlanEnDis",
        "PXE Device 1 VLAN",
        "NetworkSettings",
        ON_OFF,
        "Disabled"
    ),
    e!(
        "HttpDev1EnDis",
        "HTTP Device 1",
        "NetworkSettings",
        ON_OFF,
        "Disabled"
    ),
    s!(
        "HttpDev1Uri",
        "HTTP Device 1 URI",
        "NetworkSettings",
        0,
        255,
        Some(StringPattern::HttpUri),
        "",
        false
    ),
    e!(
        "HttpDev1Protocol",
        "HTTP Device 1 Protocol",
        "NetworkSettings",
        &["IPv4", "IPv6"],
        "IPv4"
    ),
    e!(
        "ProcHyperthreading",
        "Logical Processor",
        "ProcSettings",
        ON_OFF,
        "Enabled"
    ),
    e!(
        "ProcVirtualization",
        "Virtualization Technology",
        "ProcSettings",
        ON_OFF,
        "Enabled"
    ),
    e!(
        "SriovGlobalEnable",
        "SR-IOV Global Enable",
        "IntegratedDevices",
        ON_OFF,
        "Disabled"
    ),
    e!(
        "IommuSupport",
        "IOMMU Support",
        "ProcSettings",
        ON_OFF,
        "Enabled"
    ),
    e!(
        "ProcTurboMode",
        "Turbo Boost",
        "ProcSettings",
        ON_OFF,
        "Enabled"
    ),
    e!("ProcCStates", "C States", "ProcSettings", ON_OFF, "Enabled"),
    e!("ProcC1E", "C1E", "ProcSettings", ON_OFF, "Enabled"),
    e!(
        "ProcX2Apic",
        "x2APIC Mode",
        "ProcSettings",
        ON_OFF,
        "Enabled"
    ),
    i!(
        "ProcCoreDisable",
        "Number of Cores Disabled",
        "ProcSettings",
        0,
        62,
        2,
        0
    ),
    e!(
        "ProcPwrPerf",
        "CPU Power Management",
        "SysProfileSettings",
        &["MaxPerf", "OsDbpm", "SysDbpm"],
        "SysDbpm"
    ),
    e!(
        "SysProfile",
        "System Profile",
        "SysProfileSettings",
        &[
            "PerfPerWattOptimizedDapc",
            "PerfOptimized",
            "PerfPerWattOptimizedOs",
            "Custom"
        ],
        "PerfPerWattOptimizedDapc"
    ),
    e!(
        "WorkloadProfile",
        "Workload Profile",
        "SysProfileSettings",
        &[
            "NotAvailable",
            "VtOptimizedProfile",
            "HpcProfile",
            "LowLatencyOptimizedProfile"
        ],
        "NotAvailable"
    ),
    e!(
        "UncoreFrequency",
        "Uncore Frequency",
        "SysProfileSettings",
        &["DynamicUFS", "MaxUFS", "MinUFS"],
        "DynamicUFS"
    ),
    e!(
        "EnergyPerformanceBias",
        "Energy Efficient Policy",
        "SysProfileSettings",
        &[
            "MaxPower",
            "BalancedPerformance",
            "BalancedEfficiency",
            "LowPower"
        ],
        "BalancedPerformance"
    ),
    b!(
        "DynamicLinkWidthManagement",
        "Dynamic Link Width Management",
        "SysProfileSettings",
        true
    ),
    e!(
        "MemTest",
        "System Memory Testing",
        "MemSettings",
        ON_OFF,
        "Disabled"
    ),
    e!(
        "MemOpMode",
        "Memory Operating Mode",
        "MemSettings",
        &["OptimizerMode", "MirrorMode", "FaultResilientMode"],
        "OptimizerMode"
    ),
    e!(
        "NodeInterleave",
        "Node Interleaving",
        "MemSettings",
        ON_OFF,
        "Disabled"
    ),
    b!("MemPatrolScrub", "Memory Patrol Scrub", "MemSettings", true),
    i!(
        "MemRefreshRate",
        "Memory Refresh Rate (x)",
        "MemSettings",
        1,
        4,
        1,
        1
    ),
    e!(
        "EmbSata",
        "Embedded SATA",
        "SataSettings",
        &["AhciMode", "RaidMode", "Off"],
        "AhciMode"
    ),
    e!(
        "EmbNic1",
        "Embedded NIC 1",
        "IntegratedDevices",
        ON_OFF,
        "Enabled"
    ),
    e!(
        "UsbPorts",
        "User Accessible USB Ports",
        "IntegratedDevices",
        &["AllOn", "OnlyBackPortsOn", "AllOff"],
        "AllOn"
    ),
    e!(
        "InternalUsb",
        "Internal USB Port",
        "IntegratedDevices",
        ON_OFF,
        "Enabled"
    ),
    e!(
        "OsWatchdogTimer",
        "OS Watchdog Timer",
        "IntegratedDevices",
        ON_OFF,
        "Disabled"
    ),
    i!(
        "OsWatchdogTimeout",
        "OS Watchdog Timeout (s)",
        "IntegratedDevices",
        60,
        3600,
        60,
        600
    ),
    e!(
        "SecureBoot",
        "Secure Boot",
        "SysSecurity",
        ON_OFF,
        "Disabled"
    ),
    e!(
        "SecureBootPolicy",
        "Secure Boot Policy",
        "SysSecurity",
        &["Standard", "Custom"],
        "Standard"
    ),
    e!(
        "TpmSecurity",
        "TPM Security",
        "SysSecurity",
        &["On", "Off"],
        "On"
    ),
    b!(
        "TpmPpiBypassProvision",
        "TPM PPI Bypass Provision",
        "SysSecurity",
        false
    ),
    e!("IntelTxt", "Intel TXT", "SysSecurity", ON_OFF, "Disabled"),
    e!(
        "AcPwrRcvry",
        "AC Power Recovery",
        "SysSecurity",
        &["On", "Off", "Last"],
        "Last"
    ),
    e!(
        "AcPwrRcvryDelay",
        "AC Power Recovery Delay",
        "SysSecurity",
        &["Immediate", "Random", "User"],
        "Immediate"
    ),
    i!(
        "AcPwrRcvryUserDelay",
        "User Defined Delay (s)",
        "SysSecurity",
        60,
        240,
        1,
        60
    ),
    AttrDef {
        name: "SetupPassword",
        display: "Setup Password",
        menu: "SysSecurity",
        kind: AttrKind::Password {
            min_len: 0,
            max_len: 32,
        },
        default: DefaultValue::Null,
        read_only: false,
    },
    AttrDef {
        name: "SysPassword",
        display: "System Password",
        menu: "SysSecurity",
        kind: AttrKind::Password {
            min_len: 0,
            max_len: 32,
        },
        default: DefaultValue::Null,
        read_only: false,
    },
    s!(
        "AssetTag",
        "Asset Tag",
        "MiscSettings",
        0,
        63,
        Some(StringPattern::PrintableAscii),
        "",
        false
    ),
    s!(
        "OemHostname",
        "OEM Host Name",
        "MiscSettings",
        1,
        63,
        Some(StringPattern::Hostname),
        "localhost",
        false
    ),
    s!(
        "AdminPhone",
        "Administrator Phone",
        "MiscSettings",
        0,
        20,
        Some(StringPattern::Digits),
        "",
        false
    ),
    e!(
        "NumLock",
        "Keyboard NumLock",
        "MiscSettings",
        &["On", "Off"],
        "On"
    ),
    e!(
        "ErrPrompt",
        "F1/F2 Prompt on Error",
        "MiscSettings",
        ON_OFF,
        "Enabled"
    ),
    b!(
        "ForceInt10",
        "Load Legacy Video Option ROM",
        "MiscSettings",
        false
    ),
    e!(
        "SerialComm",
        "Serial Communication",
        "SerialCommSettings",
        &["Off", "OnConRedirCom1", "OnConRedirCom2", "OnNoConRedir"],
        "Off"
    ),
    e!(
        "SerialPortAddress",
        "Serial Port Address",
        "SerialCommSettings",
        &["Com1", "Com2"],
        "Com1"
    ),
    e!(
        "FailSafeBaud",
        "Failsafe Baud Rate",
        "SerialCommSettings",
        &["115200", "57600", "19200", "9600"],
        "115200"
    ),
    e!(
        "ConTermType",
        "Remote Terminal Type",
        "SerialCommSettings",
        &["Vt100Vt220", "Ansi"],
        "Vt100Vt220"
    ),
    b!(
        "RedirAfterBoot",
        "Redirection After Boot",
        "SerialCommSettings",
        true
    ),
];

/// Dependencies published in the registry and enforced on PATCH.
pub static DEPENDENCIES: &[Dependency] = &[
    Dependency {
        when: "ProcVirtualization",
        equals: "Disabled",
        target: "SriovGlobalEnable",
    },
    Dependency {
        when: "BootMode",
        equals: "Bios",
        target: "SecureBoot",
    },
    Dependency {
        when: "AcPwrRcvry",
        equals: "Off",
        target: "AcPwrRcvryDelay",
    },
    Dependency {
        when: "HttpDev1EnDis",
        equals: "Disabled",
        target: "HttpDev1Uri",
    },
];

/// Index of an attribute in [`ATTRIBUTES`].
pub fn index_of(name: &str) -> Option<usize> {
    ATTRIBUTES.iter().position(|a| a.name == name)
}

/// The factory value of attribute `idx`.
pub fn default_value(idx: usize) -> Value {
    ATTRIBUTES
        .get(idx)
        .map_or(Value::Null, |a| a.default.to_json())
}

/// Why a requested value was refused; turned into a `Base` message by the server.
#[derive(Debug, Clone, PartialEq)]
pub enum Violation {
    /// No such attribute.
    Unknown {
        /// Attribute name as sent.
        name: String,
    },
    /// Read-only (statically or through a dependency).
    ReadOnly {
        /// Attribute name.
        name: &'static str,
    },
    /// JSON type does not match the attribute type.
    WrongType {
        /// Attribute name.
        name: &'static str,
        /// The value sent.
        value: Value,
    },
    /// Enumeration value not allowed.
    NotInList {
        /// Attribute name.
        name: &'static str,
        /// The value sent.
        value: Value,
    },
    /// Integer out of bounds, off-step, or string length out of bounds.
    OutOfRange {
        /// Attribute name.
        name: &'static str,
        /// The value sent.
        value: Value,
    },
    /// String does not match the pattern.
    BadFormat {
        /// Attribute name.
        name: &'static str,
        /// The value sent.
        value: Value,
    },
}

/// Validates `changes` (the `Attributes` object of a PATCH). `effective` gives the value an
/// attribute will have (pending, else current) so dependencies see the combined result.
/// Returns the accepted `(index, value)` pairs, or every violation found.
pub fn validate(
    changes: &serde_json::Map<String, Value>,
    effective: impl Fn(usize) -> Value,
) -> Result<Vec<(usize, Value)>, Vec<Violation>> {
    let mut accepted = Vec::new();
    let mut violations = Vec::new();
    // A dependency reads the value the condition attribute will have after this PATCH.
    let value_after = |idx: usize| -> Value {
        ATTRIBUTES
            .get(idx)
            .and_then(|a| changes.get(a.name).cloned())
            .unwrap_or_else(|| effective(idx))
    };
    for (name, value) in changes {
        let Some(idx) = index_of(name) else {
            violations.push(Violation::Unknown { name: name.clone() });
            continue;
        };
        let def = &ATTRIBUTES[idx];
        let dep_read_only = DEPENDENCIES.iter().any(|d| {
            d.target == def.name
                && index_of(d.when).is_some_and(|w| value_after(w).as_str() == Some(d.equals))
        });
        if def.read_only || dep_read_only {
            violations.push(Violation::ReadOnly { name: def.name });
            continue;
        }
        match check_value(def, value) {
            Ok(()) => accepted.push((idx, value.clone())),
            Err(v) => violations.push(v),
        }
    }
    if violations.is_empty() {
        Ok(accepted)
    } else {
        Err(violations)
    }
}

fn check_value(def: &AttrDef, value: &Value) -> Result<(), Violation> {
    let name = def.name;
    let wrong_type = || Violation::WrongType {
        name,
        value: value.clone(),
    };
    match def.kind {
        AttrKind::Enumeration(values) => {
            let s = value.as_str().ok_or_else(wrong_type)?;
            if values.contains(&s) {
                Ok(())
            } else {
                Err(Violation::NotInList {
                    name,
                    value: value.clone(),
                })
            }
        }
        AttrKind::Integer { min, max, step } => {
            let n = value.as_i64().ok_or_else(wrong_type)?;
            if n < min || n > max || (step > 1 && (n - min) % step != 0) {
                Err(Violation::OutOfRange {
                    name,
                    value: value.clone(),
                })
            } else {
                Ok(())
            }
        }
        AttrKind::String {
            min_len,
            max_len,
            pattern,
        } => {
            let s = value.as_str().ok_or_else(wrong_type)?;
            let len = s.chars().count();
            if len < min_len || len > max_len {
                return Err(Violation::OutOfRange {
                    name,
                    value: value.clone(),
                });
            }
            match pattern {
                Some(p) if !p.matches(s) => Err(Violation::BadFormat {
                    name,
                    value: value.clone(),
                }),
                _ => Ok(()),
            }
        }
        AttrKind::Boolean => value.as_bool().map(|_| ()).ok_or_else(wrong_type),
        AttrKind::Password { min_len, max_len } => {
            let s = value.as_str().ok_or_else(wrong_type)?;
            let len = s.chars().count();
            if len < min_len || len > max_len {
                // The value itself is never echoed back for a password.
                Err(Violation::OutOfRange {
                    name,
                    value: Value::from("****"),
                })
            } else {
                Ok(())
            }
        }
    }
}

/// The `AttributeRegistry` resource (`#AttributeRegistry`), generated from [`ATTRIBUTES`];
/// `name_of(i)` spells attribute `i` as the node does (with a suffix on Supermicro).
pub fn registry_json(
    registry_id: &str,
    odata_id: &str,
    name_of: &dyn Fn(usize) -> String,
) -> Value {
    let spelled = |name: &str| index_of(name).map_or_else(|| name.to_owned(), name_of);
    let attributes: Vec<Value> = ATTRIBUTES
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut o = json!({
                "AttributeName": name_of(i),
                "DisplayName": a.display,
                "HelpText": format!("{} setting.", a.display),
                "MenuPath": format!("./{}", a.menu),
                "ReadOnly": a.read_only,
                "ResetRequired": true,
                "Hidden": false,
            });
            let (ty, extra) = match a.kind {
                AttrKind::Enumeration(values) => (
                    "Enumeration",
                    json!({"Value": values.iter().map(|v| json!({"ValueName": v, "ValueDisplayName": v})).collect::<Vec<_>>()}),
                ),
                AttrKind::Integer { min, max, step } => ("Integer", json!({"LowerBound": min, "UpperBound": max, "ScalarIncrement": step})),
                AttrKind::String { min_len, max_len, pattern } => {
                    let mut x = json!({"MinLength": min_len, "MaxLength": max_len});
                    if let Some(p) = pattern {
                        x["ValueExpression"] = Value::from(p.regex());
                    }
                    ("String", x)
                }
                AttrKind::Boolean => ("Boolean", json!({})),
                AttrKind::Password { min_len, max_len } => ("Password", json!({"MinLength": min_len, "MaxLength": max_len, "WriteOnly": true})),
            };
            o["Type"] = Value::from(ty);
            if !matches!(a.default, DefaultValue::Null) {
                o["DefaultValue"] = a.default.to_json();
            }
            if let (Value::Object(o), Value::Object(x)) = (&mut o, extra) {
                o.extend(x);
            }
            o
        })
        .collect();
    let menus: Vec<&str> = {
        let mut m: Vec<&str> = ATTRIBUTES.iter().map(|a| a.menu).collect();
        m.dedup();
        m.sort_unstable();
        m.dedup();
        m
    };
    let dependencies: Vec<Value> = DEPENDENCIES
        .iter()
        .map(|d| {
            json!({
                "DependencyFor": spelled(d.target),
                "Type": "Map",
                "Dependency": {
                    "MapFrom": [{"MapFromAttribute": spelled(d.when), "MapFromCondition": "EQU", "MapFromProperty": "CurrentValue", "MapFromValue": d.equals}],
                    "MapToAttribute": spelled(d.target),
                    "MapToProperty": "ReadOnly",
                    "MapToValue": true
                }
            })
        })
        .collect();
    json!({
        "@odata.id": odata_id,
        "@odata.type": "#AttributeRegistry.v1_3_8.AttributeRegistry",
        "Id": registry_id,
        "Name": "BIOS Attribute Registry",
        "Description": "Attribute registry of the mock BIOS",
        "Language": "en",
        "OwningEntity": "Ferrofish",
        "RegistryVersion": "1.0.0",
        "SupportedSystems": [{"ProductName": "Mock Rack Server", "SystemId": "FFMOCK", "FirmwareVersion": "2.19.1"}],
        "RegistryEntries": {
            "Attributes": attributes,
            "Dependencies": dependencies,
            "Menus": menus.iter().enumerate().map(|(i, m)| json!({"MenuName": m, "DisplayName": m, "DisplayOrder": i, "MenuPath": format!("./{m}"), "ReadOnly": false, "Hidden": false})).collect::<Vec<_>>(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current(idx: usize) -> Value {
        default_value(idx)
    }

    #[allow(clippy::needless_pass_by_value)]
    fn patch(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn registry_is_big_and_covers_every_kind() {
        assert!(ATTRIBUTES.len() >= 60, "{}", ATTRIBUTES.len());
        let has = |f: fn(&AttrKind) -> bool| ATTRIBUTES.iter().any(|a| f(&a.kind));
        assert!(has(|k| matches!(k, AttrKind::Enumeration(_))));
        assert!(has(|k| matches!(k, AttrKind::Integer { .. })));
        assert!(has(|k| matches!(
            k,
            AttrKind::String {
                pattern: Some(_),
                ..
            }
        )));
        assert!(has(|k| matches!(k, AttrKind::Boolean)));
        assert!(has(|k| matches!(k, AttrKind::Password { .. })));
        assert!(ATTRIBUTES.iter().any(|a| a.read_only));
        let mut names: Vec<_> = ATTRIBUTES.iter().map(|a| a.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ATTRIBUTES.len(), "duplicate attribute names");
        for d in DEPENDENCIES {
            assert!(index_of(d.when).is_some() && index_of(d.target).is_some());
        }
    }

    #[test]
    fn every_default_is_valid_except_dependency_locked() {
        let mut locked = Vec::new();
        for a in ATTRIBUTES
            .iter()
            .filter(|a| !a.read_only && !matches!(a.kind, AttrKind::Password { .. }))
        {
            let mut m = serde_json::Map::new();
            m.insert(a.name.to_owned(), a.default.to_json());
            match validate(&m, current) {
                Ok(_) => {}
                Err(v) => {
                    assert_eq!(v, vec![Violation::ReadOnly { name: a.name }]);
                    locked.push(a.name);
                }
            }
        }
        // HTTP boot is disabled at the factory, which locks its URI.
        assert_eq!(locked, vec!["HttpDev1Uri"]);
    }

    #[test]
    fn accepts_good_values() {
        let ok = validate(&patch(json!({"BootMode": "Bios", "PxeDev1VlanId": 100, "AssetTag": "rack 4", "MemPatrolScrub": false, "SetupPassword": "s3cret"})), current).unwrap();
        assert_eq!(ok.len(), 5);
    }

    #[test]
    fn rejects_each_kind_of_bad_value() {
        let errs = validate(
            &patch(json!({
                "BootMode": "Legacy", "PxeDev1VlanId": 5000, "ProcCoreDisable": 3, "OemHostname": "bad_name!",
                "AdminPhone": "12a", "MemPatrolScrub": "yes", "SystemBiosVersion": "9", "Nope": 1,
                "AssetTag": "x".repeat(64)
            })),
            current,
        )
        .unwrap_err();
        assert!(errs.contains(&Violation::NotInList {
            name: "BootMode",
            value: json!("Legacy")
        }));
        assert!(errs.contains(&Violation::OutOfRange {
            name: "PxeDev1VlanId",
            value: json!(5000)
        }));
        assert!(
            errs.contains(&Violation::OutOfRange {
                name: "ProcCoreDisable",
                value: json!(3)
            }),
            "off-step"
        );
        assert!(errs.contains(&Violation::BadFormat {
            name: "OemHostname",
            value: json!("bad_name!")
        }));
        assert!(errs.contains(&Violation::BadFormat {
            name: "AdminPhone",
            value: json!("12a")
        }));
        assert!(errs.contains(&Violation::WrongType {
            name: "MemPatrolScrub",
            value: json!("yes")
        }));
        assert!(errs.contains(&Violation::ReadOnly {
            name: "SystemBiosVersion"
        }));
        assert!(errs.contains(&Violation::Unknown {
            name: "Nope".into()
        }));
        assert!(errs.iter().any(|e| matches!(
            e,
            Violation::OutOfRange {
                name: "AssetTag",
                ..
            }
        )));
        assert_eq!(errs.len(), 9);
    }

    #[test]
    fn dependency_makes_target_read_only() {
        // Disabling virtualisation in the same PATCH locks SR-IOV.
        let errs = validate(
            &patch(json!({"ProcVirtualization": "Disabled", "SriovGlobalEnable": "Enabled"})),
            current,
        )
        .unwrap_err();
        assert_eq!(
            errs,
            vec![Violation::ReadOnly {
                name: "SriovGlobalEnable"
            }]
        );
        // Already-pending condition counts too.
        let virt = index_of("ProcVirtualization").unwrap();
        let pending_off = |i: usize| {
            if i == virt {
                json!("Disabled")
            } else {
                default_value(i)
            }
        };
        assert!(validate(&patch(json!({"SriovGlobalEnable": "Enabled"})), pending_off).is_err());
        assert!(validate(&patch(json!({"SriovGlobalEnable": "Enabled"})), current).is_ok());
    }

    #[test]
    fn password_value_is_never_echoed() {
        let errs = validate(&patch(json!({"SetupPassword": "p".repeat(40)})), current).unwrap_err();
        assert_eq!(
            errs,
            vec![Violation::OutOfRange {
                name: "SetupPassword",
                value: json!("****")
            }]
        );
    }

    #[test]
    fn registry_json_lists_every_attribute() {
        let r = registry_json("BiosAttributeRegistry.v1_0_0", "/x", &|i| {
            ATTRIBUTES[i].name.to_owned()
        });
        assert_eq!(
            r["RegistryEntries"]["Attributes"].as_array().map(Vec::len),
            Some(ATTRIBUTES.len())
        );
        assert_eq!(
            r["RegistryEntries"]["Dependencies"]
                .as_array()
                .map(Vec::len),
            Some(DEPENDENCIES.len())
        );
    }
}
