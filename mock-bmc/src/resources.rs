//! Resource payloads, generated on demand from the personality table, the node's compact state,
//! its inventory counts and its index (the seed). Nothing here is stored per node.

use std::fmt::Write as _;
use std::time::Instant;

use serde_json::{Map, Value, json};

use crate::bios;
use crate::node::Node;
use crate::personality::VmediaLocation;
use crate::state::{NodeState, TaskState};

/// Which methods a resource allows (the `Allow` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Allow {
    Get,
    GetPatch,
    GetPost,
    GetDelete,
    Post,
}

impl Allow {
    pub fn header(self) -> &'static str {
        match self {
            Allow::Get => "GET, HEAD",
            Allow::GetPatch => "GET, HEAD, PATCH",
            Allow::GetPost => "GET, HEAD, POST",
            Allow::GetDelete => "GET, HEAD, DELETE",
            Allow::Post => "POST",
        }
    }

    pub fn allows(self, method: &str) -> bool {
        self.header().split(", ").any(|m| m == method)
    }
}

/// A rendered resource.
pub(crate) struct Res {
    pub body: Value,
    pub allow: Allow,
}

#[allow(clippy::unnecessary_wraps)] // every arm of `render` returns an Option
fn res(body: Value, allow: Allow) -> Option<Res> {
    Some(Res { body, allow })
}

pub(crate) fn link(path: &str) -> Value {
    json!({ "@odata.id": path })
}

fn collection(
    path: &str,
    ty: &str,
    name: &str,
    members: impl IntoIterator<Item = String>,
) -> Value {
    let members: Vec<Value> = members.into_iter().map(|m| link(&m)).collect();
    json!({
        "@odata.id": path,
        "@odata.type": format!("#{ty}.{ty}"),
        "Name": name,
        "Members@odata.count": members.len(),
        "Members": members,
    })
}

fn status_ok() -> Value {
    json!({ "State": "Enabled", "Health": "OK" })
}

/// splitmix64: deterministic per-node variety from the node index.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The 1-based member number a path segment names, if it is written canonically (`"2"`, not
/// `"02"`) and within `1..=count`.
fn index_within(segment: &str, count: u8) -> Option<u8> {
    let n: u8 = segment.parse().ok()?;
    (n.to_string() == segment && (1..=count).contains(&n)).then_some(n)
}

pub(crate) fn uuid_for(seed: u64) -> String {
    let a = mix(seed);
    let b = mix(a);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

/// Locally administered, unique per node (24 bits) and interface (8 bits).
pub(crate) fn mac_for(node: usize, nic: u8) -> String {
    let n = node as u32;
    format!(
        "02:F0:{:02X}:{:02X}:{:02X}:{nic:02X}",
        (n >> 16) & 0xff,
        (n >> 8) & 0xff,
        n & 0xff
    )
}

pub(crate) fn iso_time(unix: u64) -> String {
    let days = unix / 86_400;
    let secs = unix % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = i64::try_from(days).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+00:00",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

pub(crate) struct Paths {
    pub system: String,
    pub manager: String,
    pub chassis: String,
    pub vmedia: String,
    pub bios: String,
    pub bios_settings: String,
}

/// The node's resource paths (the same for every node of a fleet, computed once at start).
pub(crate) fn paths(node: &Node) -> &Paths {
    &node.shared.paths
}

/// Resource paths of a personality.
pub(crate) fn paths_of(p: &crate::personality::Profile) -> Paths {
    let system = format!("/redfish/v1/Systems/{}", p.system_id);
    let manager = format!("/redfish/v1/Managers/{}", p.manager_id);
    let vmedia = match p.vmedia_location {
        VmediaLocation::System => format!("{system}/VirtualMedia"),
        VmediaLocation::Manager => format!("{manager}/VirtualMedia"),
    };
    Paths {
        bios: format!("{system}/Bios"),
        bios_settings: format!("{system}/Bios/{}", p.bios_settings_segment),
        chassis: format!("/redfish/v1/Chassis/{}", p.chassis_id),
        system,
        manager,
        vmedia,
    }
}

/// Every message registry / schema namespace the service uses, for `$metadata`.
pub(crate) const SCHEMAS: &[(&str, &str)] = &[
    ("ServiceRoot", "v1_20_0"),
    ("ComputerSystem", "v1_27_0"),
    ("ComputerSystemCollection", ""),
    ("Bios", "v1_2_3"),
    ("Processor", "v1_22_0"),
    ("ProcessorCollection", ""),
    ("Memory", "v1_23_0"),
    ("MemoryCollection", ""),
    ("Storage", "v1_21_0"),
    ("StorageCollection", ""),
    ("Drive", "v1_22_0"),
    ("Volume", "v1_10_2"),
    ("VolumeCollection", ""),
    ("SimpleStorage", "v1_3_2"),
    ("SimpleStorageCollection", ""),
    ("EthernetInterface", "v1_12_4"),
    ("EthernetInterfaceCollection", ""),
    ("PCIeDevice", "v1_21_0"),
    ("PCIeDeviceCollection", ""),
    ("VirtualMedia", "v1_6_5"),
    ("VirtualMediaCollection", ""),
    ("Chassis", "v1_28_0"),
    ("ChassisCollection", ""),
    ("Manager", "v1_24_0"),
    ("ManagerCollection", ""),
    ("SessionService", "v1_2_0"),
    ("Session", "v1_8_0"),
    ("SessionCollection", ""),
    ("AccountService", "v1_18_1"),
    ("ManagerAccount", "v1_14_1"),
    ("ManagerAccountCollection", ""),
    ("Role", "v1_3_3"),
    ("RoleCollection", ""),
    ("TaskService", "v1_3_0"),
    ("Task", "v1_7_4"),
    ("TaskCollection", ""),
    ("MessageRegistryFile", "v1_1_5"),
    ("MessageRegistryFileCollection", ""),
    ("AttributeRegistry", "v1_3_8"),
    ("Message", "v1_3_0"),
    ("Settings", "v1_4_0"),
    ("Resource", "v1_23_0"),
];

/// `$metadata`: references to every schema the service uses.
pub(crate) fn metadata_xml() -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<edmx:Edmx xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\" Version=\"4.0\">\n",
    );
    for (ns, ver) in SCHEMAS {
        let _ = writeln!(
            out,
            "  <edmx:Reference Uri=\"http://redfish.dmtf.org/schemas/v1/{ns}_v1.xml\">\n    <edmx:Include Namespace=\"{ns}\"/>"
        );
        if !ver.is_empty() {
            let _ = writeln!(out, "    <edmx:Include Namespace=\"{ns}.{ver}\"/>");
        }
        out.push_str("  </edmx:Reference>\n");
    }
    out.push_str(
        "  <edmx:Reference Uri=\"http://redfish.dmtf.org/schemas/v1/RedfishExtensions_v1.xml\">\n    <edmx:Include Namespace=\"RedfishExtensions.v1_0_0\" Alias=\"Redfish\"/>\n  </edmx:Reference>\n",
    );
    out.push_str(
        "  <edmx:DataServices>\n    <Schema xmlns=\"http://docs.oasis-open.org/odata/ns/edm\" Namespace=\"Service\">\n      <EntityContainer Name=\"Service\" Extends=\"ServiceRoot.v1_20_0.ServiceContainer\"/>\n    </Schema>\n  </edmx:DataServices>\n</edmx:Edmx>\n",
    );
    out
}

/// The `OData` service document (without the session entries when there is no
/// `SessionService`).
pub(crate) fn odata_doc(basic_auth_only: bool) -> Value {
    let entries = [
        ("Service", "/redfish/v1/"),
        ("Systems", "/redfish/v1/Systems"),
        ("Chassis", "/redfish/v1/Chassis"),
        ("Managers", "/redfish/v1/Managers"),
        ("SessionService", "/redfish/v1/SessionService"),
        ("AccountService", "/redfish/v1/AccountService"),
        ("TaskService", "/redfish/v1/TaskService"),
        ("Registries", "/redfish/v1/Registries"),
        ("Sessions", "/redfish/v1/SessionService/Sessions"),
    ];
    let has_sessions = !basic_auth_only;
    json!({
        "@odata.context": "/redfish/v1/$metadata",
        "value": entries.iter().filter(|(n, _)| has_sessions || !n.starts_with("Session")).map(|(n, u)| json!({"name": n, "kind": "Singleton", "url": u})).collect::<Vec<_>>()
    })
}

/// Deepest `$expand` `$levels` served; the service root advertises it as `MaxLevels`.
pub(crate) const MAX_EXPAND_LEVELS: u8 = 3;

fn oem(node: &Node, body: Value) -> Option<(String, Value)> {
    node.profile().oem_key.map(|k| (k.to_owned(), body))
}

/// Renders the resource at `segs` (path segments after `/redfish/v1`), or `None` for 404.
#[allow(clippy::too_many_lines, clippy::items_after_statements)]
pub(crate) fn render(node: &Node, st: &mut NodeState, segs: &[&str], now: Instant) -> Option<Res> {
    let p = node.profile();
    let ps = paths(node);
    let sizes = node.sizes;
    let seed = node.index as u64;
    match segs {
        [] => {
            let mut root = json!({
                "@odata.id": "/redfish/v1/",
                "@odata.type": "#ServiceRoot.v1_20_0.ServiceRoot",
                "Id": "RootService",
                "Name": "Root Service",
                "RedfishVersion": "1.20.0",
                "UUID": uuid_for(seed ^ 0xb3c),
                "Vendor": p.manufacturer,
                "Product": p.manager_model,
                "ProtocolFeaturesSupported": {
                    "ExpandQuery": {"ExpandAll": true, "Levels": true, "MaxLevels": MAX_EXPAND_LEVELS, "Links": true, "NoLinks": true},
                    "SelectQuery": false,
                    "FilterQuery": false,
                    "OnlyMemberQuery": false,
                    "ExcerptQuery": false
                },
                "Systems": link("/redfish/v1/Systems"),
                "Chassis": link("/redfish/v1/Chassis"),
                "Managers": link("/redfish/v1/Managers"),
                "Tasks": link("/redfish/v1/TaskService"),
                "SessionService": link("/redfish/v1/SessionService"),
                "AccountService": link("/redfish/v1/AccountService"),
                "Registries": link("/redfish/v1/Registries"),
                "Links": {"Sessions": link("/redfish/v1/SessionService/Sessions")},
            });
            if let Some((k, v)) = oem(node, json!({})) {
                root["Oem"] = json!({ k: v });
            }
            if node.basic_auth_only() {
                if let Some(m) = root.as_object_mut() {
                    m.remove("SessionService");
                }
                root["Links"] = json!({});
            }
            res(root, Allow::Get)
        }
        ["Systems"] => res(
            collection(
                "/redfish/v1/Systems",
                "ComputerSystemCollection",
                "Computer System Collection",
                [ps.system.clone()],
            ),
            Allow::Get,
        ),
        ["Systems", id] if *id == p.system_id => res(system(node, st, ps, now), Allow::GetPatch),
        ["Systems", id, "ResetActionInfo"] if *id == p.system_id => res(
            json!({
                "@odata.id": format!("{}/ResetActionInfo", ps.system),
                "@odata.type": "#ActionInfo.v1_5_0.ActionInfo",
                "Id": "ResetActionInfo",
                "Name": "Reset Action Info",
                "Parameters": [{"Name": "ResetType", "Required": true, "DataType": "String", "AllowableValues": p.reset_types}],
            }),
            Allow::Get,
        ),
        ["Systems", id, "Bios"] if *id == p.system_id => {
            res(bios_resource(node, st, ps, now), Allow::Get)
        }
        ["Systems", id, "Bios", seg] if *id == p.system_id && *seg == p.bios_settings_segment => {
            res(bios_settings(node, st, ps), Allow::GetPatch)
        }
        ["Systems", id, "Processors"] if *id == p.system_id => res(
            collection(
                &format!("{}/Processors", ps.system),
                "ProcessorCollection",
                "Processors Collection",
                (1..=sizes.processors).map(|i| format!("{}/Processors/CPU{i}", ps.system)),
            ),
            Allow::Get,
        ),
        ["Systems", id, "Processors", cpu] if *id == p.system_id => {
            let n: u8 = cpu.strip_prefix("CPU")?.parse().ok()?;
            (1..=sizes.processors).contains(&n).then_some(())?;
            let cores = 16 + 8 * (mix(seed) % 3) as u32;
            res(
                json!({
                    "@odata.id": format!("{}/Processors/{cpu}", ps.system),
                    "@odata.type": "#Processor.v1_22_0.Processor",
                    "Id": cpu, "Name": format!("Processor {n}"),
                    "Socket": format!("CPU {n}"),
                    "ProcessorType": "CPU", "ProcessorArchitecture": "x86", "InstructionSet": "x86-64",
                    "Manufacturer": "Intel(R) Corporation",
                    "Model": "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz",
                    "MaxSpeedMHz": 3200, "TotalCores": cores, "TotalThreads": cores * 2,
                    "Status": status_ok(),
                }),
                Allow::Get,
            )
        }
        ["Systems", id, "Memory"] if *id == p.system_id => res(
            collection(
                &format!("{}/Memory", ps.system),
                "MemoryCollection",
                "Memory Module Collection",
                (1..=sizes.dimms).map(|i| format!("{}/Memory/DIMM{i}", ps.system)),
            ),
            Allow::Get,
        ),
        ["Systems", id, "Memory", dimm] if *id == p.system_id => {
            let n: u8 = dimm.strip_prefix("DIMM")?.parse().ok()?;
            (1..=sizes.dimms).contains(&n).then_some(())?;
            res(
                json!({
                    "@odata.id": format!("{}/Memory/{dimm}", ps.system),
                    "@odata.type": "#Memory.v1_23_0.Memory",
                    "Id": dimm, "Name": format!("DIMM {n}"),
                    "CapacityMiB": 32768, "MemoryDeviceType": "DDR4", "MemoryType": "DRAM",
                    "OperatingSpeedMhz": 3200, "Manufacturer": "Micron Technology",
                    "SerialNumber": format!("{:08X}", mix(seed * 64 + u64::from(n)) as u32),
                    "PartNumber": "36ASF4G72PZ-3G2E1",
                    "DeviceLocator": format!("A{n}"),
                    "Status": status_ok(),
                }),
                Allow::Get,
            )
        }
        ["Systems", id, "Storage"] if *id == p.system_id => res(
            collection(
                &format!("{}/Storage", ps.system),
                "StorageCollection",
                "Storage Collection",
                (1..=sizes.storage_controllers).map(|c| format!("{}/Storage/{c}", ps.system)),
            ),
            Allow::Get,
        ),
        ["Systems", id, "Storage", ctrl] if *id == p.system_id => {
            let c = index_within(ctrl, sizes.storage_controllers)?;
            let base = format!("{}/Storage/{c}", ps.system);
            res(
                json!({
                    "@odata.id": base,
                    "@odata.type": "#Storage.v1_21_0.Storage",
                    "Id": ctrl,
                    // The first keeps the single-controller name older callers may match on.
                    "Name": if c == 1 { "RAID Controller".to_owned() } else { format!("RAID Controller {c}") },
                    "Drives@odata.count": sizes.drives,
                    "Drives": (1..=sizes.drives).map(|d| link(&format!("{base}/Drives/{d}"))).collect::<Vec<_>>(),
                    "Volumes": link(&format!("{base}/Volumes")),
                    "Status": status_ok(),
                }),
                Allow::Get,
            )
        }
        ["Systems", id, "Storage", ctrl, "Drives", d] if *id == p.system_id => {
            let c = index_within(ctrl, sizes.storage_controllers)?;
            let n = index_within(d, sizes.drives)?;
            // Controller 1 keeps the serials of the single-controller layout; the others are
            // salted by controller so every drive's serial differs.
            let serial_key = (u64::from(c - 1) << 48) | (seed * 256 + u64::from(n));
            res(
                json!({
                    "@odata.id": format!("{}/Storage/{c}/Drives/{n}", ps.system),
                    "@odata.type": "#Drive.v1_22_0.Drive",
                    "Id": d, "Name": format!("Drive {n}"),
                    "CapacityBytes": 960_197_124_096_u64, "MediaType": "SSD", "Protocol": "SATA",
                    "Manufacturer": "Samsung", "Model": "MZ7LH960HAJR",
                    "SerialNumber": format!("S4{:010X}", mix(serial_key) & 0xff_ffff_ffff),
                    "Status": status_ok(),
                }),
                Allow::Get,
            )
        }
        ["Systems", id, "Storage", ctrl, "Volumes"] if *id == p.system_id => {
            let c = index_within(ctrl, sizes.storage_controllers)?;
            res(
                collection(
                    &format!("{}/Storage/{c}/Volumes", ps.system),
                    "VolumeCollection",
                    "Volume Collection",
                    (1..=sizes.volumes).map(|v| format!("{}/Storage/{c}/Volumes/{v}", ps.system)),
                ),
                Allow::Get,
            )
        }
        ["Systems", id, "Storage", ctrl, "Volumes", vol] if *id == p.system_id => {
            let c = index_within(ctrl, sizes.storage_controllers)?;
            let v = index_within(vol, sizes.volumes)?;
            res(
                json!({
                    "@odata.id": format!("{}/Storage/{c}/Volumes/{v}", ps.system),
                    "@odata.type": "#Volume.v1_10_2.Volume",
                    "Id": vol, "Name": format!("Virtual Disk {v}"),
                    "RAIDType": if sizes.drives >= 2 { "RAID1" } else { "RAID0" },
                    "CapacityBytes": 960_197_124_096_u64,
                    "Status": status_ok(),
                }),
                Allow::Get,
            )
        }
        ["Systems", id, "SimpleStorage"] if *id == p.system_id => res(
            collection(
                &format!("{}/SimpleStorage", ps.system),
                "SimpleStorageCollection",
                "Simple Storage Collection",
                [format!("{}/SimpleStorage/1", ps.system)],
            ),
            Allow::Get,
        ),
        ["Systems", id, "SimpleStorage", "1"] if *id == p.system_id => res(
            json!({
                "@odata.id": format!("{}/SimpleStorage/1", ps.system),
                "@odata.type": "#SimpleStorage.v1_3_2.SimpleStorage",
                "Id": "1", "Name": "Simple Storage Controller",
                "Devices": (1..=sizes.drives).map(|d| json!({"Name": format!("Drive {d}"), "Manufacturer": "Samsung", "Model": "MZ7LH960HAJR", "CapacityBytes": 960_197_124_096_u64, "Status": status_ok()})).collect::<Vec<_>>(),
                "Status": status_ok(),
            }),
            Allow::Get,
        ),
        ["Systems", id, "EthernetInterfaces"] if *id == p.system_id => res(
            collection(
                &format!("{}/EthernetInterfaces", ps.system),
                "EthernetInterfaceCollection",
                "System Ethernet Interface Collection",
                (1..=sizes.nics).map(|i| format!("{}/EthernetInterfaces/NIC{i}", ps.system)),
            ),
            Allow::Get,
        ),
        ["Systems", id, "EthernetInterfaces", nic] if *id == p.system_id => {
            let n: u8 = nic.strip_prefix("NIC")?.parse().ok()?;
            (1..=sizes.nics).contains(&n).then_some(())?;
            let mac = mac_for(node.index, n);
            let mut body = json!({
                "@odata.id": format!("{}/EthernetInterfaces/{nic}", ps.system),
                "@odata.type": "#EthernetInterface.v1_12_4.EthernetInterface",
                "Id": nic, "Name": format!("System Ethernet Interface {n}"),
                "MACAddress": mac, "PermanentMACAddress": mac,
                "SpeedMbps": 25_000, "LinkStatus": "LinkUp", "InterfaceEnabled": true,
                "Status": status_ok(),
            });
            if n == 1
                && let Some(net) = st.booted.as_ref().and_then(|b| b.static_network.as_ref())
                && let std::net::IpAddr::V4(a) = net.address
            {
                body["IPv4Addresses"] = json!([{"Address": a.to_string(), "SubnetMask": net.netmask.clone().unwrap_or_else(|| "255.255.255.0".into()), "AddressOrigin": "Static", "Gateway": net.gateway.map(|g| g.to_string()).unwrap_or_default()}]);
            }
            res(body, Allow::Get)
        }
        [kind, id, "VirtualMedia", rest @ ..] if vmedia_owner(node, kind, id) => {
            vmedia(node, st, ps, rest)
        }
        ["Chassis"] => res(
            collection(
                "/redfish/v1/Chassis",
                "ChassisCollection",
                "Chassis Collection",
                [ps.chassis.clone()],
            ),
            Allow::Get,
        ),
        ["Chassis", id] if *id == p.chassis_id => res(
            json!({
                "@odata.id": ps.chassis,
                "@odata.type": "#Chassis.v1_28_0.Chassis",
                "Id": id, "Name": "Computer System Chassis",
                "ChassisType": "RackMount",
                "Manufacturer": p.manufacturer, "Model": p.model,
                "SerialNumber": format!("FF{:08X}", mix(seed) as u32),
                "PowerState": st.power(now, p, node.delays()).as_str(),
                "PCIeDevices": link(&format!("{}/PCIeDevices", ps.chassis)),
                "Status": status_ok(),
                "Links": {"ComputerSystems": [link(&ps.system)], "ManagedBy": [link(&ps.manager)]},
            }),
            Allow::Get,
        ),
        ["Chassis", id, "PCIeDevices"] if *id == p.chassis_id => res(
            collection(
                &format!("{}/PCIeDevices", ps.chassis),
                "PCIeDeviceCollection",
                "PCIe Device Collection",
                (1..=sizes.pcie_devices).map(|i| format!("{}/PCIeDevices/{i}", ps.chassis)),
            ),
            Allow::Get,
        ),
        ["Chassis", id, "PCIeDevices", d] if *id == p.chassis_id => {
            let n: u8 = d.parse().ok()?;
            (1..=sizes.pcie_devices).contains(&n).then_some(())?;
            const DEVICES: [(&str, &str); 3] = [
                ("Broadcom Inc.", "BCM57414 NetXtreme-E 25Gb"),
                ("NVIDIA", "A100 80GB PCIe"),
                ("Broadcom / LSI", "PERC H755 Front"),
            ];
            let (make, model) = DEVICES[usize::from(n - 1) % DEVICES.len()];
            res(
                json!({
                    "@odata.id": format!("{}/PCIeDevices/{n}", ps.chassis),
                    "@odata.type": "#PCIeDevice.v1_21_0.PCIeDevice",
                    "Id": d, "Name": model, "Manufacturer": make, "Model": model,
                    "DeviceType": "SingleFunction",
                    "SerialNumber": format!("PC{:08X}", mix(seed * 32 + u64::from(n)) as u32),
                    "Status": status_ok(),
                }),
                Allow::Get,
            )
        }
        ["Managers"] => res(
            collection(
                "/redfish/v1/Managers",
                "ManagerCollection",
                "Manager Collection",
                [ps.manager.clone()],
            ),
            Allow::Get,
        ),
        ["Managers", id] if *id == p.manager_id => {
            let mut m = json!({
                "@odata.id": ps.manager,
                "@odata.type": "#Manager.v1_24_0.Manager",
                "Id": id, "Name": "Manager",
                "ManagerType": "BMC",
                "Manufacturer": p.manufacturer, "Model": p.manager_model,
                "FirmwareVersion": p.firmware_version,
                "UUID": uuid_for(seed ^ 0x3a3),
                "PowerState": "On",
                "Status": status_ok(),
                "Links": {"ManagerForServers": [link(&ps.system)], "ManagerForChassis": [link(&ps.chassis)]},
            });
            if p.vmedia_location == VmediaLocation::Manager {
                m["VirtualMedia"] = link(&ps.vmedia);
            }
            if let Some((k, v)) = oem(node, json!({})) {
                m["Oem"] = json!({ k: v });
            }
            if p.bios_patch_creates_job {
                // iDRAC links its job queue from the Manager's OEM links.
                m["Links"]["Oem"] =
                    json!({"Dell": {"Jobs": link(&format!("{}/Jobs", ps.manager))}});
            }
            res(m, Allow::Get)
        }
        ["Managers", id, "Jobs"] if *id == p.manager_id && p.bios_patch_creates_job => res(
            json!({
                "@odata.id": format!("{}/Jobs", ps.manager),
                "@odata.type": "#DellJobCollection.DellJobCollection",
                "Name": "JobQueue",
                "Description": "Collection of Job Instances",
                "Members": st.tasks.iter().filter(|t| t.name == crate::state::BIOS_JOB_NAME)
                    .map(|t| link(&dell_job_path(node, t.id))).collect::<Vec<_>>(),
                "Members@odata.count": st.tasks.iter().filter(|t| t.name == crate::state::BIOS_JOB_NAME).count(),
            }),
            Allow::Get,
        ),
        ["Managers", id, "Jobs", jid] if *id == p.manager_id && p.bios_patch_creates_job => {
            let t = st
                .tasks
                .iter()
                .find(|t| t.name == crate::state::BIOS_JOB_NAME && task_id(node, t.id) == *jid)?;
            res(dell_job_body(node, st, t), Allow::Get)
        }
        ["SessionService", ..] if node.basic_auth_only() => None,
        ["SessionService"] => res(
            json!({
                "@odata.id": "/redfish/v1/SessionService",
                "@odata.type": "#SessionService.v1_2_0.SessionService",
                "Id": "SessionService", "Name": "Session Service",
                "ServiceEnabled": true,
                "SessionTimeout": st.session_timeout_secs,
                "Sessions": link("/redfish/v1/SessionService/Sessions"),
                "Status": status_ok(),
            }),
            Allow::GetPatch,
        ),
        ["SessionService", "Sessions"] => {
            st.expire_sessions(now);
            res(
                collection(
                    "/redfish/v1/SessionService/Sessions",
                    "SessionCollection",
                    "Session Collection",
                    st.sessions
                        .iter()
                        .map(|s| format!("/redfish/v1/SessionService/Sessions/{}", s.id)),
                ),
                Allow::GetPost,
            )
        }
        ["SessionService", "Sessions", sid] => {
            st.expire_sessions(now);
            let s = st.sessions.iter().find(|s| s.id.to_string() == *sid)?;
            res(session_body(s.id, &s.user), Allow::GetDelete)
        }
        ["AccountService"] => res(
            json!({
                "@odata.id": "/redfish/v1/AccountService",
                "@odata.type": "#AccountService.v1_18_1.AccountService",
                "Id": "AccountService", "Name": "Account Service",
                "ServiceEnabled": true,
                "MinPasswordLength": 8, "MaxPasswordLength": 20,
                "AccountLockoutThreshold": 0,
                "Accounts": link("/redfish/v1/AccountService/Accounts"),
                "Roles": link("/redfish/v1/AccountService/Roles"),
                "Status": status_ok(),
            }),
            Allow::Get,
        ),
        ["AccountService", "Accounts"] => res(
            collection(
                "/redfish/v1/AccountService/Accounts",
                "ManagerAccountCollection",
                "Accounts Collection",
                ["/redfish/v1/AccountService/Accounts/1".to_owned()],
            ),
            Allow::Get,
        ),
        ["AccountService", "Accounts", "1"] => res(
            json!({
                "@odata.id": "/redfish/v1/AccountService/Accounts/1",
                "@odata.type": "#ManagerAccount.v1_14_1.ManagerAccount",
                "Id": "1", "Name": "User Account",
                "UserName": node.shared.user,
                "Password": null,
                "RoleId": "Administrator",
                "Enabled": true, "Locked": false,
                "AccountTypes": ["Redfish"],
                "Links": {"Role": link("/redfish/v1/AccountService/Roles/Administrator")},
            }),
            Allow::Get,
        ),
        ["AccountService", "Roles"] => res(
            collection(
                "/redfish/v1/AccountService/Roles",
                "RoleCollection",
                "Roles Collection",
                ROLES
                    .iter()
                    .map(|(r, _)| format!("/redfish/v1/AccountService/Roles/{r}")),
            ),
            Allow::Get,
        ),
        ["AccountService", "Roles", role] => {
            let (name, privs) = ROLES.iter().find(|(r, _)| r == role)?;
            res(
                json!({
                    "@odata.id": format!("/redfish/v1/AccountService/Roles/{name}"),
                    "@odata.type": "#Role.v1_3_3.Role",
                    "Id": name, "Name": format!("{name} Role"), "RoleId": name,
                    "IsPredefined": true, "AssignedPrivileges": privs,
                }),
                Allow::Get,
            )
        }
        ["TaskService"] => res(
            json!({
                "@odata.id": "/redfish/v1/TaskService",
                "@odata.type": "#TaskService.v1_3_0.TaskService",
                "Id": "TaskService", "Name": "Task Service",
                "ServiceEnabled": true, "CompletedTaskOverWritePolicy": "Oldest", "LifeCycleEventOnTaskStateChange": false,
                "Tasks": link("/redfish/v1/TaskService/Tasks"),
                "Status": status_ok(),
            }),
            Allow::Get,
        ),
        ["TaskService", "Tasks"] => res(
            collection(
                "/redfish/v1/TaskService/Tasks",
                "TaskCollection",
                "Task Collection",
                st.tasks
                    .iter()
                    .map(|t| format!("/redfish/v1/TaskService/Tasks/{}", task_id(node, t.id))),
            ),
            Allow::Get,
        ),
        ["TaskService", "Tasks", tid] => {
            let t = st.tasks.iter().find(|t| task_id(node, t.id) == *tid)?;
            res(task_body(node, t), Allow::Get)
        }
        ["Registries"] => res(
            collection(
                "/redfish/v1/Registries",
                "MessageRegistryFileCollection",
                "Registry File Collection",
                [format!("/redfish/v1/Registries/{}", p.bios_registry)],
            ),
            Allow::Get,
        ),
        ["Registries", reg] if *reg == p.bios_registry => res(
            json!({
                "@odata.id": format!("/redfish/v1/Registries/{reg}"),
                "@odata.type": "#MessageRegistryFile.v1_1_5.MessageRegistryFile",
                "Id": reg, "Name": "BIOS Attribute Registry File",
                "Languages": ["en"], "Registry": reg,
                "Location": [{"Language": "en", "Uri": format!("/redfish/v1/Registries/{reg}/{reg}.json")}],
            }),
            Allow::Get,
        ),
        ["Registries", reg, file]
            if *reg == p.bios_registry && file.strip_suffix(".json") == Some(reg) =>
        {
            res(
                bios::registry_json(reg, &format!("/redfish/v1/Registries/{reg}/{file}")),
                Allow::Get,
            )
        }
        _ => None,
    }
}

const ROLES: &[(&str, &[&str])] = &[
    (
        "Administrator",
        &[
            "Login",
            "ConfigureManager",
            "ConfigureUsers",
            "ConfigureSelf",
            "ConfigureComponents",
        ],
    ),
    (
        "Operator",
        &["Login", "ConfigureSelf", "ConfigureComponents"],
    ),
    ("ReadOnly", &["Login", "ConfigureSelf"]),
];

fn vmedia_owner(node: &Node, kind: &str, id: &str) -> bool {
    let p = node.profile();
    match p.vmedia_location {
        VmediaLocation::System => kind == "Systems" && id == p.system_id,
        VmediaLocation::Manager => kind == "Managers" && id == p.manager_id,
    }
}

pub(crate) fn session_body(id: u32, user: &str) -> Value {
    json!({
        "@odata.id": format!("/redfish/v1/SessionService/Sessions/{id}"),
        "@odata.type": "#Session.v1_8_0.Session",
        "Id": id.to_string(), "Name": "User Session",
        "UserName": user,
        "Password": null,
    })
}

pub(crate) fn task_id(node: &Node, id: u32) -> String {
    if node.profile().bios_patch_creates_job {
        format!("JID_{id:012}")
    } else {
        id.to_string()
    }
}

/// Where a Dell BIOS job lives: `/redfish/v1/Managers/iDRAC.Embedded.1/Jobs/JID_<n>`.
pub(crate) fn dell_job_path(node: &Node, id: u32) -> String {
    format!("{}/Jobs/{}", paths(node).manager, task_id(node, id))
}

/// A Dell job (`DellJob`): `JobState` `Scheduled` until a reset, `Running` while the reset that
/// applies it is under way, then `Completed`.
pub(crate) fn dell_job_body(node: &Node, st: &NodeState, t: &crate::state::Task) -> Value {
    let (state, pct, message, message_id) = match t.state {
        TaskState::Pending if st.bios_apply_in_progress() => (
            "Running",
            50,
            "Task successfully scheduled.",
            "IDRAC.2.8.JCP001",
        ),
        TaskState::Pending => (
            "Scheduled",
            0,
            "Task successfully scheduled.",
            "IDRAC.2.8.JCP001",
        ),
        TaskState::Running => ("Running", 50, "Job in progress.", "IDRAC.2.8.PR20"),
        TaskState::Completed => (
            "Completed",
            100,
            "Job completed successfully.",
            "IDRAC.2.8.PR19",
        ),
        TaskState::Cancelled => ("Failed", 100, "Job canceled.", "IDRAC.2.8.SUP0518"),
        TaskState::Exception => ("Failed", 100, "Job failed.", "IDRAC.2.8.SYS051"),
    };
    json!({
        "@odata.id": dell_job_path(node, t.id),
        "@odata.type": "#DellJob.v1_5_0.DellJob",
        "Id": task_id(node, t.id),
        "Name": "Configure: BIOS.Setup.1-1",
        "Description": "Job Instance",
        "JobType": "BIOSConfiguration",
        "JobState": state,
        "PercentComplete": pct,
        "Message": message,
        "MessageId": message_id,
        "MessageArgs": [],
        "StartTime": iso_time(t.start_unix),
        "TargetSettingsURI": null,
    })
}

pub(crate) fn task_body(node: &Node, t: &crate::state::Task) -> Value {
    let id = task_id(node, t.id);
    let (state, status, pct) = match t.state {
        TaskState::Pending => ("Pending", "OK", 0),
        TaskState::Running => ("Running", "OK", 50),
        TaskState::Completed => ("Completed", "OK", 100),
        TaskState::Cancelled => ("Cancelled", "Warning", 0),
        TaskState::Exception => ("Exception", "Critical", 100),
    };
    let messages: Vec<Value> = t
        .message
        .iter()
        .map(|m| {
            json!({
                "@odata.type": "#Message.v1_3_0.Message",
                "MessageId": "Base.1.18.GeneralError",
                "Message": m,
                "MessageArgs": [],
                "MessageSeverity": "Critical",
                "Severity": "Critical",
                "Resolution": "Correct the image URL or the image and insert it again.",
            })
        })
        .collect();
    json!({
        "@odata.id": format!("/redfish/v1/TaskService/Tasks/{id}"),
        "@odata.type": "#Task.v1_7_4.Task",
        "Id": id, "Name": t.name,
        "TaskState": state, "TaskStatus": status, "PercentComplete": pct,
        "StartTime": iso_time(t.start_unix),
        "TaskMonitor": format!("/redfish/v1/TaskService/TaskMonitors/{id}"),
        "Messages": messages,
    })
}

fn system(node: &Node, st: &mut NodeState, ps: &Paths, now: Instant) -> Value {
    let p = node.profile();
    let sizes = node.sizes;
    let seed = node.index as u64;
    let power = st.power(now, p, node.delays());
    let boot_mode_idx = bios::index_of("BootMode").unwrap_or(0);
    let mut sys = json!({
        "@odata.id": ps.system,
        "@odata.type": "#ComputerSystem.v1_27_0.ComputerSystem",
        "Id": p.system_id,
        "Name": "System",
        "SystemType": "Physical",
        "Manufacturer": p.manufacturer,
        "Model": p.model,
        "SKU": format!("FF{:06}", node.index),
        "SerialNumber": format!("FFSN{:08X}", mix(seed) as u32),
        "UUID": uuid_for(seed),
        "HostName": format!("node{:05}", node.index),
        "AssetTag": st.asset_tag,
        "PowerState": power.as_str(),
        "LocationIndicatorActive": st.locator_on,
        "BiosVersion": "2.19.1",
        "Status": status_ok(),
        "Boot": {
            "BootSourceOverrideEnabled": st.boot.enabled.as_str(),
            "BootSourceOverrideEnabled@Redfish.AllowableValues": p.boot_enabled_values,
            "BootSourceOverrideTarget": st.boot.target,
            "BootSourceOverrideTarget@Redfish.AllowableValues": p.boot_targets,
            "BootSourceOverrideMode": st.boot.mode,
            "BootSourceOverrideMode@Redfish.AllowableValues": ["Legacy", "UEFI"],
        },
        "ProcessorSummary": {"Count": sizes.processors, "Model": "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz", "Status": status_ok()},
        "MemorySummary": {"TotalSystemMemoryGiB": u32::from(sizes.dimms) * 32, "Status": status_ok()},
        "Bios": link(&ps.bios),
        "Processors": link(&format!("{}/Processors", ps.system)),
        "Memory": link(&format!("{}/Memory", ps.system)),
        "Storage": link(&format!("{}/Storage", ps.system)),
        "SimpleStorage": link(&format!("{}/SimpleStorage", ps.system)),
        "EthernetInterfaces": link(&format!("{}/EthernetInterfaces", ps.system)),
        "Links": {
            "Chassis": [link(&ps.chassis)],
            "ManagedBy": [link(&ps.manager)],
        },
        "Actions": {
            "#ComputerSystem.Reset": {
                "target": format!("{}/Actions/ComputerSystem.Reset", ps.system),
                "@Redfish.ActionInfo": format!("{}/ResetActionInfo", ps.system),
                "ResetType@Redfish.AllowableValues": p.reset_types,
            }
        },
    });
    // The boot mode the BIOS runs in is what a client sees as the current boot mode.
    if st.bios_value(boot_mode_idx).as_str() == Some("Bios") {
        sys["Boot"]["BootSourceOverrideMode"] = Value::from("Legacy");
    }
    if p.vmedia_location == VmediaLocation::System {
        sys["VirtualMedia"] = link(&ps.vmedia);
    }
    sys["BootProgress"] = json!({"LastState": st.boot_progress(now, p, node.delays())});
    if let Some(k) = p.oem_key {
        let body = match k {
            "Hpe" => {
                json!({"PostState": if power == crate::state::PowerState::On { "FinishedPost" } else { "PowerOff" }, "Bios": {"Current": {"VersionString": "A42 v2.90"}}})
            }
            "Dell" => {
                json!({"DellSystem": {"Id": "System.Embedded.1", "SystemGeneration": "16G Monolithic", "ChassisServiceTag": format!("FF{:05}", node.index)}})
            }
            _ => json!({}),
        };
        sys["Oem"] = json!({ k: body });
    }
    sys
}

fn bios_resource(node: &Node, st: &NodeState, ps: &Paths, now: Instant) -> Value {
    let p = node.profile();
    let mut attrs = Map::new();
    for (i, a) in bios::ATTRIBUTES.iter().enumerate() {
        let v = if matches!(a.kind, bios::AttrKind::Password { .. }) {
            Value::Null
        } else {
            st.bios_value(i)
        };
        attrs.insert(a.name.to_owned(), v);
    }
    let mut settings = json!({
        "@odata.type": "#Settings.v1_4_0.Settings",
        "SettingsObject": link(&ps.bios_settings),
    });
    if !p.settings_apply_times.is_empty() {
        settings["SupportedApplyTimes"] = json!(p.settings_apply_times);
    }
    // After an apply: when, its outcome, and an ETag naming that apply (DSP0266 settings).
    if let Some((at, count)) = st.bios_last_applied {
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            .saturating_sub(now.saturating_duration_since(at).as_secs());
        settings["Time"] = json!(iso_time(unix));
        settings["ETag"] = json!(format!("W/\"bios-apply-{count}\""));
        settings["Messages"] = json!([{
            "@odata.type": "#Message.v1_3_0.Message",
            "MessageId": "Base.1.18.Success",
            "Message": "The request completed successfully.",
            "MessageArgs": [],
            "MessageSeverity": "OK",
            "Severity": "OK",
            "Resolution": "None.",
        }]);
    }
    json!({
        "@odata.id": ps.bios,
        "@odata.type": "#Bios.v1_2_3.Bios",
        "Id": "Bios", "Name": "BIOS Configuration Current Settings",
        "AttributeRegistry": p.bios_registry,
        "Attributes": attrs,
        "ResetBiosToDefaultsPending": st.bios_reset_pending,
        "@Redfish.Settings": settings,
        "Actions": {
            "#Bios.ResetBios": {"target": format!("{}/Actions/Bios.ResetBios", ps.bios)},
        },
    })
}

fn bios_settings(node: &Node, st: &NodeState, ps: &Paths) -> Value {
    let p = node.profile();
    let mut attrs = Map::new();
    if p.pending_lists_all_attributes {
        for (i, a) in bios::ATTRIBUTES.iter().enumerate() {
            if a.read_only || matches!(a.kind, bios::AttrKind::Password { .. }) {
                continue;
            }
            attrs.insert(
                a.name.to_owned(),
                st.bios_pending_value(i).unwrap_or_else(|| st.bios_value(i)),
            );
        }
    } else {
        for (i, v) in &st.bios_pending {
            if let Some(a) = bios::ATTRIBUTES.get(usize::from(*i)) {
                let v = if matches!(a.kind, bios::AttrKind::Password { .. }) {
                    Value::Null
                } else {
                    v.clone()
                };
                attrs.insert(a.name.to_owned(), v);
            }
        }
    }
    let mut body = json!({
        "@odata.id": ps.bios_settings,
        "@odata.type": "#Bios.v1_2_3.Bios",
        "Id": p.bios_settings_segment, "Name": "BIOS Configuration Pending Settings",
        "AttributeRegistry": p.bios_registry,
    });
    if !(p.settings_omit_empty_attributes && attrs.is_empty()) {
        body["Attributes"] = Value::Object(attrs);
    }
    if !p.settings_apply_times.is_empty() {
        body["@Redfish.SettingsApplyTime"] = json!({
            "@odata.type": "#Settings.v1_4_0.PreferredApplyTime",
            "ApplyTime": "OnReset",
        });
    }
    body
}

fn vmedia(node: &Node, st: &NodeState, ps: &Paths, rest: &[&str]) -> Option<Res> {
    let p = node.profile();
    match rest {
        [] => res(
            collection(
                &ps.vmedia,
                "VirtualMediaCollection",
                "Virtual Media Services",
                p.vmedia_slots
                    .iter()
                    .map(|s| format!("{}/{}", ps.vmedia, s.id)),
            ),
            Allow::Get,
        ),
        [slot] => {
            let (i, def) = p
                .vmedia_slots
                .iter()
                .enumerate()
                .find(|(_, s)| s.id == *slot)?;
            let m = st.media.get(i)?;
            let path = format!("{}/{}", ps.vmedia, def.id);
            let mut body = json!({
                "@odata.id": path,
                "@odata.type": "#VirtualMedia.v1_6_5.VirtualMedia",
                "Id": def.id, "Name": def.name,
                "MediaTypes": def.media_types,
                "Image": m.image,
                "ImageName": m.image.as_deref().map(|u| u.rsplit('/').next().unwrap_or(u).to_owned()),
                "Inserted": m.inserted,
                "WriteProtected": m.write_protected || !m.inserted,
                "ConnectedVia": if m.inserted { "URI" } else { "NotConnected" },
                "TransferMethod": "Stream",
                "TransferProtocolType": m.image.as_deref().map(|u| if u.starts_with("https") { "HTTPS" } else { "HTTP" }),
            });
            if !p.vmedia_patch_only {
                body["Actions"] = json!({
                    "#VirtualMedia.InsertMedia": {"target": format!("{path}/Actions/VirtualMedia.InsertMedia")},
                    "#VirtualMedia.EjectMedia": {"target": format!("{path}/Actions/VirtualMedia.EjectMedia")},
                });
            }
            res(body, Allow::GetPatch)
        }
        _ => None,
    }
}
