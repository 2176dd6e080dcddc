//! Service root and metadata: `/redfish`, the service root, `$metadata` and the `OData`
//! service document.

use std::fmt::Write as _;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::common::{Answer, Cx, link, oem};
use crate::ids::uuid_for;
use crate::reply::Reply;
use crate::routes::RootRes;

pub(crate) fn get(cx: &Cx<'_>, r: RootRes) -> Answer {
    let node = cx.node;
    match r {
        RootRes::Versions => {
            Answer::Reply(Reply::json(StatusCode::OK, json!({"v1": "/redfish/v1/"})))
        }
        RootRes::Metadata => Answer::Reply(Reply::xml(metadata_xml())),
        RootRes::Odata => Answer::Reply(Reply::json(
            StatusCode::OK,
            odata_doc(node.basic_auth_only()),
        )),
        RootRes::ServiceRoot => Answer::Resource(service_root(node)),
    }
}

/// Deepest `$expand` `$levels` served; the service root advertises it as `MaxLevels`.
pub(crate) const MAX_EXPAND_LEVELS: u8 = 3;

fn service_root(node: &crate::node::Node) -> Value {
    let p = node.profile();
    let seed = node.index as u64;
    let mut root = json!({
        "@odata.id": "/redfish/v1/",
        "@odata.type": "#ServiceRoot.v1_20_0.ServiceRoot",
        "Id": "RootService",
        "Name": "Root Service",
        "RedfishVersion": "1.20.0",
        "UUID": uuid_for(seed ^ 0xb3c),
        "Vendor": p.service_vendor,
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
    if p.oem_key == Some("Dell") {
        root["JobService"] = link("/redfish/v1/JobService");
    }
    if node.basic_auth_only() {
        if let Some(m) = root.as_object_mut() {
            m.remove("SessionService");
        }
        root["Links"] = json!({});
    }
    root
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
    ("JobService", "v1_0_4"),
    ("Job", "v1_0_7"),
    ("JobCollection", ""),
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
