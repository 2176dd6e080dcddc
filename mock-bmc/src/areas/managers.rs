//! Managers: the BMC itself (its virtual media and, on Dell, its job queue are linked from
//! here and served by their own areas).

use serde_json::{Value, json};

use super::common::{Cx, collection, link, oem, status_ok};
use crate::ids::uuid_for;
use crate::personality::VmediaLocation;
use crate::routes::ManagersRes;
use crate::state::NodeState;

pub(crate) fn get(cx: &Cx<'_>, st: &NodeState, r: ManagersRes) -> Value {
    let node = cx.node;
    let p = node.profile();
    let ps = &node.shared.paths;
    let seed = node.index as u64;
    match r {
        ManagersRes::Collection => collection(
            "/redfish/v1/Managers",
            "ManagerCollection",
            "Manager Collection",
            [ps.manager.clone()],
        ),
        ManagersRes::Manager => {
            let servers: Vec<Value> = ps.systems.iter().map(|s| link(s)).collect();
            // The identity switches ([`crate::SystemOptions`]) stand in for another firmware.
            let (model, firmware) = {
                let o = &st.system_options;
                (
                    o.manager_model
                        .clone()
                        .unwrap_or_else(|| p.manager_model.into()),
                    o.manager_firmware
                        .clone()
                        .unwrap_or_else(|| p.firmware_version.into()),
                )
            };
            let mut m = json!({
                "@odata.id": ps.manager,
                "@odata.type": "#Manager.v1_24_0.Manager",
                "Id": p.manager_id, "Name": "Manager",
                "ManagerType": "BMC",
                "Manufacturer": p.manufacturer, "Model": model,
                "FirmwareVersion": firmware,
                "UUID": uuid_for(seed ^ 0x3a3),
                "PowerState": "On",
                "Status": status_ok(),
                "Links": {"ManagerForServers": servers, "ManagerForChassis": [link(&ps.chassis)]},
            });
            if p.vmedia_location != VmediaLocation::System {
                m["VirtualMedia"] = link(&ps.vmedia_manager);
            }
            if let Some((k, v)) = oem(node, json!({})) {
                m["Oem"] = json!({ k: v });
            }
            if p.bios_patch_creates_job {
                // iDRAC links its job queue from the Manager's OEM links.
                m["Links"]["Oem"] = json!({"Dell": {
                    "Jobs": link(&format!("{}/Jobs", ps.manager)),
                    "DellLCService": link(&format!("{}/Oem/Dell/DellLCService", ps.manager)),
                    "DellJobService": link(&format!("{}/Oem/Dell/DellJobService", ps.manager)),
                }});
            }
            m
        }
    }
}
