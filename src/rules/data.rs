//! Inspection data in the shape Ironic's inspector produces, built from the out-of-band
//! [`Inventory`]. Pure.
//!
//! What the out-of-band inventory cannot know is left out rather than invented: IP addresses
//! of the host's interfaces, LLDP, the host name, the root disk choice, PCI vendor/product
//! ids, CPU flags, usable (as opposed to installed) memory, and the BMC's own MAC. IPA reports
//! those from inside the running host.

use ferrofish_redfish_core::{BootMode, Inventory};
use serde_json::{Map, Value, json};

/// Ironic's rule for `local_gb`: the smallest disk of at least 4 GiB.
const MIN_ROOT_DISK_BYTES: u64 = 4 << 30;
const GIB: u64 = 1 << 30;

/// Builds `{"inventory": {...}, "auto_discovered": ..., "memory_mb": ..., ...}` from an
/// out-of-band inventory.
///
/// - `inventory.system_vendor`: `manufacturer`, `product_name` (Redfish `Model`),
///   `serial_number`, `sku`, `system_uuid`, `firmware.version` (the BIOS version).
/// - `inventory.bmc_address`: `bmc_address` as given (the host the BMC answered on, with its
///   port when not the default; a URL is reduced to that); absent when `None`. An IPv6 host
///   also fills `bmc_v6address`.
/// - `inventory.interfaces`: `name` (Redfish `Id`), `mac_address` (lower case),
///   `speed_mbps`, `has_carrier` (link up).
/// - `inventory.disks`: `name`, `size` (bytes), `model`, `serial`, `rotational` (HDD),
///   `protocol`.
/// - `inventory.memory`: `physical_mb` and `total` (bytes: installed memory, since usable
///   memory is only known in-band).
/// - `inventory.cpu`: `count` (sockets, as Ironic's Redfish inspection counts), `model_name`,
///   `architecture` (`x86_64`, `aarch64`, ... as Ironic maps them), `frequency` (MHz),
///   `cores`, `threads`.
/// - `inventory.boot.current_boot_mode`: `uefi` or `bios`.
/// - Top level, as ironic-inspector's hooks add them: `auto_discovered`, `memory_mb`,
///   `cpus`, `cpu_arch`, `local_gb` (Ironic's rule: smallest disk of at least 4 GiB, in GiB
///   minus one; 0 when none), `macs`.
pub fn inspection_data(
    inventory: &Inventory,
    bmc_address: Option<&str>,
    auto_discovered: bool,
) -> Value {
    let vendor = system_vendor(inventory);
    let interfaces = interfaces(inventory);
    let disks = disks(inventory);
    let memory_mb = inventory.memory.total_mib;
    let cpu = &inventory.cpu;
    let cpu_arch = cpu.architecture.as_deref().and_then(ironic_architecture);
    let cpu_entry = cpu_entry(inventory, cpu_arch);

    let mut inv = Map::new();
    inv.insert("system_vendor".into(), Value::Object(vendor));
    if let Some(address) = bmc_address.map(bmc_host).filter(|a| !a.is_empty()) {
        if let Some(v6) = bare_ipv6(&address) {
            inv.insert("bmc_v6address".into(), Value::String(v6));
        }
        inv.insert("bmc_address".into(), Value::String(address));
    }
    inv.insert("interfaces".into(), Value::Array(interfaces));
    inv.insert("disks".into(), Value::Array(disks));
    inv.insert(
        "memory".into(),
        json!({ "physical_mb": memory_mb, "total": memory_mb.saturating_mul(1 << 20) }),
    );
    inv.insert("cpu".into(), Value::Object(cpu_entry));
    match &inventory.boot_mode {
        Some(BootMode::Uefi) => {
            inv.insert("boot".into(), json!({ "current_boot_mode": "uefi" }));
        }
        Some(BootMode::Legacy) => {
            inv.insert("boot".into(), json!({ "current_boot_mode": "bios" }));
        }
        _ => {}
    }

    let mut data = Map::new();
    data.insert("inventory".into(), Value::Object(inv));
    data.insert("auto_discovered".into(), Value::Bool(auto_discovered));
    data.insert("memory_mb".into(), memory_mb.into());
    data.insert("cpus".into(), cpu.count.into());
    if let Some(arch) = cpu_arch {
        data.insert("cpu_arch".into(), Value::String(arch.to_owned()));
    }
    data.insert(
        "local_gb".into(),
        local_gb(inventory.disks.iter().filter_map(|d| d.capacity_bytes)).into(),
    );
    let macs: Vec<Value> = inventory
        .nics
        .iter()
        .map(|n| Value::String(n.mac_address.to_ascii_lowercase()))
        .collect();
    data.insert("macs".into(), Value::Array(macs));
    Value::Object(data)
}

fn system_vendor(inventory: &Inventory) -> Map<String, Value> {
    let system = &inventory.system;
    let mut vendor = Map::new();
    insert_opt(&mut vendor, "manufacturer", system.manufacturer.as_deref());
    insert_opt(&mut vendor, "product_name", system.model.as_deref());
    insert_opt(
        &mut vendor,
        "serial_number",
        system.serial_number.as_deref(),
    );
    insert_opt(&mut vendor, "sku", system.sku.as_deref());
    insert_opt(&mut vendor, "system_uuid", system.uuid.as_deref());
    if let Some(version) = &system.bios_version {
        vendor.insert("firmware".into(), json!({ "version": version }));
    }
    vendor
}

fn interfaces(inventory: &Inventory) -> Vec<Value> {
    inventory
        .nics
        .iter()
        .map(|nic| {
            let mut entry = Map::new();
            insert_opt(&mut entry, "name", nic.id.as_deref());
            entry.insert(
                "mac_address".into(),
                Value::String(nic.mac_address.to_ascii_lowercase()),
            );
            if let Some(speed) = nic.speed_mbps {
                entry.insert("speed_mbps".into(), speed.into());
            }
            if let Some(link) = &nic.link_status {
                entry.insert(
                    "has_carrier".into(),
                    Value::Bool(link.eq_ignore_ascii_case("LinkUp")),
                );
            }
            Value::Object(entry)
        })
        .collect()
}

fn disks(inventory: &Inventory) -> Vec<Value> {
    inventory
        .disks
        .iter()
        .map(|disk| {
            let mut entry = Map::new();
            insert_opt(
                &mut entry,
                "name",
                disk.name.as_deref().or(disk.id.as_deref()),
            );
            if let Some(size) = disk.capacity_bytes {
                entry.insert("size".into(), size.into());
            }
            insert_opt(&mut entry, "model", disk.model.as_deref());
            insert_opt(&mut entry, "serial", disk.serial_number.as_deref());
            if let Some(media) = &disk.media_type {
                entry.insert(
                    "rotational".into(),
                    Value::Bool(media.eq_ignore_ascii_case("HDD")),
                );
            }
            insert_opt(&mut entry, "protocol", disk.protocol.as_deref());
            Value::Object(entry)
        })
        .collect()
}

fn cpu_entry(inventory: &Inventory, architecture: Option<&str>) -> Map<String, Value> {
    let cpu = &inventory.cpu;
    let mut entry = Map::new();
    entry.insert("count".into(), cpu.count.into());
    insert_opt(&mut entry, "model_name", cpu.model.as_deref());
    insert_opt(&mut entry, "architecture", architecture);
    if let Some(mhz) = cpu.processors.first().and_then(|p| p.max_speed_mhz) {
        entry.insert("frequency".into(), mhz.into());
    }
    if let Some(cores) = cpu.cores {
        entry.insert("cores".into(), cores.into());
    }
    if let Some(threads) = cpu.threads {
        entry.insert("threads".into(), threads.into());
    }
    entry
}

fn insert_opt(map: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(value) = value {
        map.insert(key.to_owned(), Value::String(value.to_owned()));
    }
}

/// Ironic's names for the Redfish instruction sets. The inventory keeps the
/// `ProcessorArchitecture` family when the BMC gives it (`x86`, `ARM`); every server CPU a
/// Redfish BMC manages in those families is 64-bit, so the family maps to the 64-bit name.
fn ironic_architecture(redfish: &str) -> Option<&'static str> {
    Some(match redfish.to_ascii_lowercase().as_str() {
        "x86-64" | "x86_64" | "x86" => "x86_64",
        "arm-a64" | "arm" | "aarch64" => "aarch64",
        "arm-a32" => "arm",
        "ia-64" => "ia64",
        "mips32" => "mips",
        "mips64" => "mips64",
        "powerisa" | "power" => "ppc64le",
        "rv64" => "riscv64",
        _ => return None,
    })
}

/// Ironic's `local_gb`: sizes sorted, the first of at least 4 GiB, in GiB minus one.
fn local_gb(sizes: impl Iterator<Item = u64>) -> u64 {
    let mut sizes: Vec<u64> = sizes.filter(|s| *s >= MIN_ROOT_DISK_BYTES).collect();
    sizes.sort_unstable();
    sizes.first().map_or(0, |s| s / GIB - 1)
}

/// The host (and a non-default port) of a BMC address: `https://10.0.0.5/` → `10.0.0.5`,
/// `http://127.0.0.1:8000` → `127.0.0.1:8000`, `10.0.0.5` stays.
pub(crate) fn bmc_host(address: &str) -> String {
    let trimmed = address.trim();
    let Some((scheme, rest)) = trimmed.split_once("://") else {
        return trimmed.trim_end_matches('/').to_owned();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let default_port = if scheme.to_ascii_lowercase().ends_with("https") {
        ":443"
    } else {
        ":80"
    };
    authority
        .strip_suffix(default_port)
        .unwrap_or(authority)
        .to_owned()
}

/// The IPv6 address of a host (`[fd00::1]:8443` → `fd00::1`), as IPA's `bmc_v6address`.
fn bare_ipv6(host: &str) -> Option<String> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.split_once(']'))
        .map_or(host, |(h, _)| h);
    bare.parse::<std::net::Ipv6Addr>()
        .ok()
        .map(|ip| ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrofish_redfish_core::{CpuInfo, DiskInfo, NicInfo};

    fn sample() -> Inventory {
        let mut inv = Inventory::default();
        inv.system.manufacturer = Some("Dell Inc.".into());
        inv.system.model = Some("PowerEdge R650".into());
        inv.system.serial_number = Some("CN123".into());
        inv.system.uuid = Some("4c4c4544".into());
        inv.system.bios_version = Some("1.2.3".into());
        inv.cpu.count = 2;
        inv.cpu.model = Some("Xeon".into());
        inv.cpu.architecture = Some("x86".into());
        inv.cpu.cores = Some(32);
        inv.cpu.processors = vec![CpuInfo {
            max_speed_mhz: Some(3500),
            ..CpuInfo::default()
        }];
        inv.memory.total_mib = 262_144;
        inv.disks = vec![
            DiskInfo {
                name: Some("Disk 0".into()),
                capacity_bytes: Some(480_103_981_056),
                media_type: Some("SSD".into()),
                ..DiskInfo::default()
            },
            DiskInfo {
                id: Some("small".into()),
                capacity_bytes: Some(1 << 30),
                media_type: Some("HDD".into()),
                ..DiskInfo::default()
            },
        ];
        inv.nics = vec![NicInfo {
            id: Some("NIC.1".into()),
            mac_address: "AA:BB:CC:DD:EE:01".into(),
            speed_mbps: Some(25_000),
            link_status: Some("LinkUp".into()),
        }];
        inv.boot_mode = Some(BootMode::Uefi);
        inv
    }

    #[test]
    fn the_shape_is_ironics() {
        let data = inspection_data(&sample(), Some("https://10.20.1.5/"), true);
        let inv = &data["inventory"];
        assert_eq!(inv["system_vendor"]["manufacturer"], "Dell Inc.");
        assert_eq!(inv["system_vendor"]["product_name"], "PowerEdge R650");
        assert_eq!(inv["system_vendor"]["serial_number"], "CN123");
        assert_eq!(inv["system_vendor"]["firmware"]["version"], "1.2.3");
        assert_eq!(inv["bmc_address"], "10.20.1.5");
        assert!(inv.get("bmc_v6address").is_none());
        assert_eq!(inv["interfaces"][0]["name"], "NIC.1");
        assert_eq!(inv["interfaces"][0]["mac_address"], "aa:bb:cc:dd:ee:01");
        assert_eq!(inv["interfaces"][0]["has_carrier"], true);
        assert_eq!(inv["disks"][0]["name"], "Disk 0");
        assert_eq!(inv["disks"][0]["size"], 480_103_981_056_u64);
        assert_eq!(inv["disks"][0]["rotational"], false);
        assert_eq!(inv["disks"][1]["name"], "small");
        assert_eq!(inv["memory"]["physical_mb"], 262_144);
        assert_eq!(inv["memory"]["total"], 262_144_u64 << 20);
        assert_eq!(inv["cpu"]["count"], 2);
        assert_eq!(inv["cpu"]["architecture"], "x86_64");
        assert_eq!(inv["cpu"]["frequency"], 3500);
        assert_eq!(inv["cpu"]["cores"], 32);
        assert!(inv["cpu"].get("threads").is_none());
        assert_eq!(inv["boot"]["current_boot_mode"], "uefi");
        assert_eq!(data["auto_discovered"], true);
        assert_eq!(data["memory_mb"], 262_144);
        assert_eq!(data["cpus"], 2);
        assert_eq!(data["cpu_arch"], "x86_64");
        // 480103981056 bytes = 447.1 GiB → 447 - 1.
        assert_eq!(data["local_gb"], 446);
        assert_eq!(data["macs"], json!(["aa:bb:cc:dd:ee:01"]));
    }

    #[test]
    fn nothing_is_invented() {
        let data = inspection_data(&Inventory::default(), None, false);
        let inv = &data["inventory"];
        assert!(inv.get("bmc_address").is_none());
        assert!(inv.get("boot").is_none());
        assert_eq!(inv["system_vendor"], json!({}));
        assert_eq!(inv["disks"], json!([]));
        assert!(data.get("cpu_arch").is_none());
        assert_eq!(data["local_gb"], 0);
        assert_eq!(data["auto_discovered"], false);
    }

    #[test]
    fn bmc_hosts_keep_only_a_non_default_port() {
        assert_eq!(bmc_host("https://10.0.0.5"), "10.0.0.5");
        assert_eq!(bmc_host("https://10.0.0.5:443/redfish/v1"), "10.0.0.5");
        assert_eq!(bmc_host("http://127.0.0.1:8000"), "127.0.0.1:8000");
        assert_eq!(bmc_host("http://user@bmc.example:80/"), "bmc.example");
        assert_eq!(bmc_host("10.0.0.5"), "10.0.0.5");
        assert_eq!(bmc_host("https://[fd00::1]:8443"), "[fd00::1]:8443");
        let data = inspection_data(&Inventory::default(), Some("https://[fd00::1]"), true);
        assert_eq!(data["inventory"]["bmc_v6address"], "fd00::1");
        assert_eq!(ironic_architecture("ARM-A64"), Some("aarch64"));
        assert_eq!(ironic_architecture("OEM"), None);
        assert_eq!(local_gb([5 << 30, 4 << 30, 1].into_iter()), 3);
    }
}
