//! Out-of-band inspection: Ironic's node properties from the Redfish inventory. Pure.

use serde_json::{Map, Value, json};

use crate::redfish::Inventory;

/// Ironic's properties from the out-of-band inventory: `memory_mb`, `cpu_arch`, `cpus`,
/// `local_gb` (the smallest disk or volume of at least 4 GiB, in GiB minus one), `vendor`,
/// and `boot_mode:<uefi|bios>` in `capabilities` unless one is set. Missing `memory_mb` or
/// `cpu_arch` fails inspection, as in Ironic. Pure.
pub fn properties_from_inventory(
    inventory: &Inventory,
    existing: Option<&Map<String, Value>>,
) -> Result<Map<String, Value>, String> {
    const MIN_ROOT: u64 = 4 * 1024 * 1024 * 1024;
    let mut properties = Map::new();
    if inventory.memory.total_mib == 0 {
        return Err("inspection found no memory (MemorySummary missing): memory_mb unknown".into());
    }
    properties.insert("memory_mb".into(), json!(inventory.memory.total_mib));
    let arch = inventory
        .cpu
        .architecture
        .as_deref()
        .and_then(cpu_arch)
        .ok_or_else(|| {
            format!(
                "inspection found no usable CPU architecture ({:?}): cpu_arch unknown",
                inventory.cpu.architecture
            )
        })?;
    properties.insert("cpu_arch".into(), json!(arch));
    properties.insert("cpus".into(), json!(inventory.cpu.count));
    let mut sizes: Vec<u64> = inventory
        .disks
        .iter()
        .filter_map(|d| d.capacity_bytes)
        .chain(inventory.volumes.iter().filter_map(|v| v.capacity_bytes))
        .filter(|&size| size >= MIN_ROOT)
        .collect();
    sizes.sort_unstable();
    let local_gb = sizes
        .first()
        .map_or(0, |&bytes| (bytes / (1024 * 1024 * 1024)).saturating_sub(1));
    properties.insert("local_gb".into(), json!(local_gb));
    if let Some(vendor) = &inventory.system.manufacturer {
        properties.insert("vendor".into(), json!(vendor));
    }
    let capabilities = existing
        .and_then(|p| p.get("capabilities"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if let Some(mode) = &inventory.boot_mode
        && !capabilities.split(',').any(|c| c.starts_with("boot_mode:"))
    {
        let mode = if mode.as_str() == "UEFI" {
            "uefi"
        } else {
            "bios"
        };
        let joined = if capabilities.is_empty() {
            format!("boot_mode:{mode}")
        } else {
            format!("{capabilities},boot_mode:{mode}")
        };
        properties.insert("capabilities".into(), json!(joined));
    }
    Ok(properties)
}

/// Redfish `ProcessorArchitecture` / `InstructionSet` to Ironic's `cpu_arch`. `x86` is taken
/// as `x86_64`: the inventory reports the architecture family, and servers are 64-bit.
fn cpu_arch(redfish: &str) -> Option<&'static str> {
    match redfish {
        "x86" | "x86-64" | "x86_64" => Some("x86_64"),
        "ARM" | "ARM-A64" | "aarch64" => Some("aarch64"),
        "ARM-A32" => Some("arm"),
        "IA-64" => Some("ia64"),
        "MIPS" | "MIPS64" => Some("mips64"),
        "MIPS32" => Some("mips"),
        "Power" | "PowerISA" => Some("ppc64le"),
        _ => None,
    }
}
