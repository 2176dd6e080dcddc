//! Generated inventory: processors, memory, storage controllers with drives and volumes,
//! simple storage, Ethernet interfaces, the chassis and its `PCIe` devices. Counts come from
//! the node's [`crate::InventorySize`], values from its seed; nothing is stored.

use serde_json::{Value, json};

use super::common::{Cx, collection, link, status_ok};
use crate::ids::{mac_for, mix, system_seed};
use crate::routes::{InventoryRes, Params};
use crate::state::NodeState;

/// The 1-based member number a path segment names, if it is written canonically (`"2"`, not
/// `"02"`) and within `1..=count`.
fn index_within(segment: &str, count: u8) -> Option<u8> {
    let n: u8 = segment.parse().ok()?;
    (n.to_string() == segment && (1..=count).contains(&n)).then_some(n)
}

#[allow(
    clippy::too_many_lines,
    clippy::items_after_statements,
    clippy::many_single_char_names
)] // one arm per resource; `n`, `c`, `d`, `v` are member numbers
pub(crate) fn get(
    cx: &Cx<'_>,
    st: &mut NodeState,
    r: InventoryRes,
    params: &Params<'_>,
) -> Option<Value> {
    let node = cx.node;
    let now = cx.now;
    let p = node.profile();
    let ps = &node.shared.paths;
    let sizes = node.sizes;
    let sys = ps.systems.get(params.system)?;
    let seed = system_seed(node.index, params.system);
    match r {
        InventoryRes::Processors => Some(collection(
            &format!("{sys}/Processors"),
            "ProcessorCollection",
            "Processors Collection",
            (1..=sizes.processors).map(|i| format!("{sys}/Processors/CPU{i}")),
        )),
        InventoryRes::Processor => {
            let cpu = params.id(0);
            let n: u8 = cpu.strip_prefix("CPU")?.parse().ok()?;
            (1..=sizes.processors).contains(&n).then_some(())?;
            let cores = 16 + 8 * (mix(seed) % 3) as u32;
            Some(json!({
                "@odata.id": format!("{sys}/Processors/{cpu}"),
                "@odata.type": "#Processor.v1_22_0.Processor",
                "Id": cpu, "Name": format!("Processor {n}"),
                "Socket": format!("CPU {n}"),
                "ProcessorType": "CPU", "ProcessorArchitecture": "x86", "InstructionSet": "x86-64",
                "Manufacturer": "Intel(R) Corporation",
                "Model": "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz",
                "MaxSpeedMHz": 3200, "TotalCores": cores, "TotalThreads": cores * 2,
                "Status": status_ok(),
            }))
        }
        InventoryRes::Memory => Some(collection(
            &format!("{sys}/Memory"),
            "MemoryCollection",
            "Memory Module Collection",
            (1..=sizes.dimms).map(|i| format!("{sys}/Memory/DIMM{i}")),
        )),
        InventoryRes::Dimm => {
            let dimm = params.id(0);
            let n: u8 = dimm.strip_prefix("DIMM")?.parse().ok()?;
            (1..=sizes.dimms).contains(&n).then_some(())?;
            Some(json!({
                "@odata.id": format!("{sys}/Memory/{dimm}"),
                "@odata.type": "#Memory.v1_23_0.Memory",
                "Id": dimm, "Name": format!("DIMM {n}"),
                "CapacityMiB": 32768, "MemoryDeviceType": "DDR4", "MemoryType": "DRAM",
                "OperatingSpeedMhz": 3200, "Manufacturer": "Micron Technology",
                "SerialNumber": format!("{:08X}", mix(seed * 64 + u64::from(n)) as u32),
                "PartNumber": "36ASF4G72PZ-3G2E1",
                "DeviceLocator": format!("A{n}"),
                "Status": status_ok(),
            }))
        }
        InventoryRes::Storages => Some(collection(
            &format!("{sys}/Storage"),
            "StorageCollection",
            "Storage Collection",
            (1..=sizes.storage_controllers).map(|c| format!("{sys}/Storage/{c}")),
        )),
        InventoryRes::Storage => {
            let ctrl = params.id(0);
            let c = index_within(ctrl, sizes.storage_controllers)?;
            let base = format!("{sys}/Storage/{c}");
            Some(json!({
                "@odata.id": base,
                "@odata.type": "#Storage.v1_21_0.Storage",
                "Id": ctrl,
                // The first keeps the single-controller name older callers may match on.
                "Name": if c == 1 { "RAID Controller".to_owned() } else { format!("RAID Controller {c}") },
                "Drives@odata.count": sizes.drives,
                "Drives": (1..=sizes.drives).map(|d| link(&format!("{base}/Drives/{d}"))).collect::<Vec<_>>(),
                "Volumes": link(&format!("{base}/Volumes")),
                "Status": status_ok(),
            }))
        }
        InventoryRes::Drive => {
            let (ctrl, d) = (params.id(0), params.id(1));
            let c = index_within(ctrl, sizes.storage_controllers)?;
            let n = index_within(d, sizes.drives)?;
            // Controller 1 keeps the serials of the single-controller layout; the others are
            // salted by controller so every drive's serial differs.
            let serial_key = (u64::from(c - 1) << 48) | (seed * 256 + u64::from(n));
            Some(json!({
                "@odata.id": format!("{sys}/Storage/{c}/Drives/{n}"),
                "@odata.type": "#Drive.v1_22_0.Drive",
                "Id": d, "Name": format!("Drive {n}"),
                "CapacityBytes": 960_197_124_096_u64, "MediaType": "SSD", "Protocol": "SATA",
                "Manufacturer": "Samsung", "Model": "MZ7LH960HAJR",
                "SerialNumber": format!("S4{:010X}", mix(serial_key) & 0xff_ffff_ffff),
                "Status": status_ok(),
            }))
        }
        InventoryRes::Volumes => {
            let ctrl = params.id(0);
            let c = index_within(ctrl, sizes.storage_controllers)?;
            Some(collection(
                &format!("{sys}/Storage/{c}/Volumes"),
                "VolumeCollection",
                "Volume Collection",
                (1..=sizes.volumes).map(|v| format!("{sys}/Storage/{c}/Volumes/{v}")),
            ))
        }
        InventoryRes::Volume => {
            let (ctrl, vol) = (params.id(0), params.id(1));
            let c = index_within(ctrl, sizes.storage_controllers)?;
            let v = index_within(vol, sizes.volumes)?;
            Some(json!({
                "@odata.id": format!("{sys}/Storage/{c}/Volumes/{v}"),
                "@odata.type": "#Volume.v1_10_2.Volume",
                "Id": vol, "Name": format!("Virtual Disk {v}"),
                "RAIDType": if sizes.drives >= 2 { "RAID1" } else { "RAID0" },
                "CapacityBytes": 960_197_124_096_u64,
                "Status": status_ok(),
            }))
        }
        InventoryRes::SimpleStorages => Some(collection(
            &format!("{sys}/SimpleStorage"),
            "SimpleStorageCollection",
            "Simple Storage Collection",
            [format!("{sys}/SimpleStorage/1")],
        )),
        InventoryRes::SimpleStorage if params.id(0) == "1" => Some(json!({
            "@odata.id": format!("{sys}/SimpleStorage/1"),
            "@odata.type": "#SimpleStorage.v1_3_2.SimpleStorage",
            "Id": "1", "Name": "Simple Storage Controller",
            "Devices": (1..=sizes.drives).map(|d| json!({"Name": format!("Drive {d}"), "Manufacturer": "Samsung", "Model": "MZ7LH960HAJR", "CapacityBytes": 960_197_124_096_u64, "Status": status_ok()})).collect::<Vec<_>>(),
            "Status": status_ok(),
        })),
        InventoryRes::Nics => Some(collection(
            &format!("{sys}/EthernetInterfaces"),
            "EthernetInterfaceCollection",
            "System Ethernet Interface Collection",
            (1..=sizes.nics).map(|i| format!("{sys}/EthernetInterfaces/NIC{i}")),
        )),
        InventoryRes::Nic => {
            let nic = params.id(0);
            let n: u8 = nic.strip_prefix("NIC")?.parse().ok()?;
            (1..=sizes.nics).contains(&n).then_some(())?;
            let mac = mac_for(node.index, params.system, n);
            let mut body = json!({
                "@odata.id": format!("{sys}/EthernetInterfaces/{nic}"),
                "@odata.type": "#EthernetInterface.v1_12_4.EthernetInterface",
                "Id": nic, "Name": format!("System Ethernet Interface {n}"),
                "MACAddress": mac, "PermanentMACAddress": mac,
                "SpeedMbps": 25_000, "LinkStatus": "LinkUp", "InterfaceEnabled": true,
                "Status": status_ok(),
            });
            if n == 1
                && let Some(net) = st
                    .system_mut(params.system)?
                    .booted
                    .as_ref()
                    .and_then(|b| b.static_network.as_ref())
                && let std::net::IpAddr::V4(a) = net.address
            {
                body["IPv4Addresses"] = json!([{"Address": a.to_string(), "SubnetMask": net.netmask.clone().unwrap_or_else(|| "255.255.255.0".into()), "AddressOrigin": "Static", "Gateway": net.gateway.map(|g| g.to_string()).unwrap_or_default()}]);
            }
            Some(body)
        }
        InventoryRes::ChassisCollection => Some(collection(
            "/redfish/v1/Chassis",
            "ChassisCollection",
            "Chassis Collection",
            [ps.chassis.clone()],
        )),
        InventoryRes::Chassis => Some(json!({
            "@odata.id": ps.chassis,
            "@odata.type": "#Chassis.v1_28_0.Chassis",
            "Id": p.chassis_id, "Name": "Computer System Chassis",
            "ChassisType": "RackMount",
            "Manufacturer": p.manufacturer, "Model": p.model,
            "SerialNumber": format!("FF{:08X}", mix(seed) as u32),
            "PowerState": st.power(now, p, node.delays()).as_str(),
            "PCIeDevices": link(&format!("{}/PCIeDevices", ps.chassis)),
            "Status": status_ok(),
            "Links": {"ComputerSystems": ps.systems.iter().map(|s| link(s)).collect::<Vec<_>>(), "ManagedBy": [link(&ps.manager)]},
        })),
        InventoryRes::PcieDevices => Some(collection(
            &format!("{}/PCIeDevices", ps.chassis),
            "PCIeDeviceCollection",
            "PCIe Device Collection",
            (1..=sizes.pcie_devices).map(|i| format!("{}/PCIeDevices/{i}", ps.chassis)),
        )),
        InventoryRes::PcieDevice => {
            let d = params.id(0);
            let n: u8 = d.parse().ok()?;
            (1..=sizes.pcie_devices).contains(&n).then_some(())?;
            const DEVICES: [(&str, &str); 3] = [
                ("Broadcom Inc.", "BCM57414 NetXtreme-E 25Gb"),
                ("NVIDIA", "A100 80GB PCIe"),
                ("Broadcom / LSI", "PERC H755 Front"),
            ];
            let (make, model) = DEVICES[usize::from(n - 1) % DEVICES.len()];
            Some(json!({
                "@odata.id": format!("{}/PCIeDevices/{n}", ps.chassis),
                "@odata.type": "#PCIeDevice.v1_21_0.PCIeDevice",
                "Id": d, "Name": model, "Manufacturer": make, "Model": model,
                "DeviceType": "SingleFunction",
                "SerialNumber": format!("PC{:08X}", mix(seed * 32 + u64::from(n)) as u32),
                "Status": status_ok(),
            }))
        }
        InventoryRes::SimpleStorage => None,
    }
}
