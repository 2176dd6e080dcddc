//! BIOS: the current values (`Bios`), the settings object with its PATCH (validated against the
//! attribute registry, Dell's configuration jobs), `Bios.ResetBios`, and the attribute registry
//! files under `Registries`. The first System's only.

use std::time::Instant;

use axum::http::{StatusCode, header};
use serde_json::{Map, Value, json};

use super::common::{Cx, collection, link, parse_body};
use super::tasks;
use crate::bios as registry;
use crate::bios_options::{registry_name, wire_name};
use crate::ids::{iso_time, unix_now};
use crate::messages;
use crate::node::Node;
use crate::reply::Reply;
use crate::routes::{BiosRes, Params};
use crate::state::{BIOS_JOB_NAME, NodeState, Task, TaskState};

pub(crate) fn get(cx: &Cx<'_>, st: &mut NodeState, r: BiosRes, p: &Params<'_>) -> Option<Value> {
    let node = cx.node;
    let prof = node.profile();
    let reg = prof.bios_registry;
    match r {
        BiosRes::Bios if p.system == 0 => Some(bios_resource(node, st, cx.now)),
        BiosRes::Settings if p.system == 0 => Some(bios_settings(node, st)),
        BiosRes::Bios | BiosRes::Settings | BiosRes::ResetBios => None,
        BiosRes::Registries => Some(collection(
            "/redfish/v1/Registries",
            "MessageRegistryFileCollection",
            "Registry File Collection",
            [format!("/redfish/v1/Registries/{reg}")],
        )),
        BiosRes::Registry => Some(json!({
            "@odata.id": format!("/redfish/v1/Registries/{reg}"),
            "@odata.type": "#MessageRegistryFile.v1_1_5.MessageRegistryFile",
            "Id": reg, "Name": "BIOS Attribute Registry File",
            "Languages": ["en"], "Registry": reg,
            "Location": [{"Language": "en", "Uri": format!("/redfish/v1/Registries/{reg}/{reg}.json")}],
        })),
        BiosRes::RegistryFile => {
            let file = p.id(0);
            let options = &st.bios_options;
            (file.strip_suffix(".json") == Some(reg)).then(|| {
                registry::registry_json(
                    reg,
                    &format!("/redfish/v1/Registries/{reg}/{file}"),
                    &|i| wire_name(options, i),
                )
            })
        }
    }
}

/// PATCH of the settings object.
pub(crate) fn patch(
    cx: &Cx<'_>,
    r: BiosRes,
    p: &Params<'_>,
    changes: &Map<String, Value>,
) -> Reply {
    match r {
        BiosRes::Settings if p.system == 0 => patch_settings(cx.node, changes, cx.now),
        _ => super::common::read_only(changes),
    }
}

/// POST: `Bios.ResetBios` (defaults restored at the next applying reset).
pub(crate) fn post(cx: &Cx<'_>, r: BiosRes, p: &Params<'_>, bytes: &[u8]) -> Reply {
    if r != BiosRes::ResetBios || p.system != 0 {
        return messages::not_found(&format!(
            "{}/Actions/Bios.ResetBios",
            cx.node.shared.paths.bios
        ));
    }
    let mut st = cx.node.state_at(cx.now);
    // Quirk `reset_bios_needs_body`: no body at all is malformed JSON to this firmware.
    if let Err(reply) = parse_body(bytes, !st.bios_options.reset_bios_needs_body) {
        return reply;
    }
    st.bios_reset_pending = true;
    Reply::empty(StatusCode::NO_CONTENT)
}

fn bios_resource(node: &Node, st: &NodeState, now: Instant) -> Value {
    let p = node.profile();
    let ps = &node.shared.paths;
    let mut attrs = Map::new();
    for (i, a) in registry::ATTRIBUTES.iter().enumerate() {
        let v = if matches!(a.kind, registry::AttrKind::Password { .. }) {
            Value::Null
        } else {
            st.bios_value(i)
        };
        attrs.insert(wire_name(&st.bios_options, i), v);
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
        // From the wall clock at full precision, then whole seconds: subtracting whole
        // elapsed seconds from whole current seconds would move the same apply's Time by a
        // second between two reads, and a client would take that for a new apply.
        let unix = std::time::SystemTime::now()
            .checked_sub(now.saturating_duration_since(at))
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        settings["Time"] = json!(iso_time(unix));
        settings["ETag"] = json!(format!("W/\"bios-apply-{count}\""));
        settings["Messages"] = json!(st.bios_messages);
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

fn bios_settings(node: &Node, st: &NodeState) -> Value {
    let p = node.profile();
    let ps = &node.shared.paths;
    let mut attrs = Map::new();
    if p.pending_lists_all_attributes {
        for (i, a) in registry::ATTRIBUTES.iter().enumerate() {
            if a.read_only || matches!(a.kind, registry::AttrKind::Password { .. }) {
                continue;
            }
            attrs.insert(
                wire_name(&st.bios_options, i),
                st.bios_pending_value(i).unwrap_or_else(|| st.bios_value(i)),
            );
        }
    } else {
        for (i, v) in &st.bios_pending {
            if let Some(a) = registry::ATTRIBUTES.get(usize::from(*i)) {
                let v = if matches!(a.kind, registry::AttrKind::Password { .. }) {
                    Value::Null
                } else {
                    v.clone()
                };
                attrs.insert(wire_name(&st.bios_options, usize::from(*i)), v);
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

fn patch_settings(node: &Node, patch: &Map<String, Value>, now: Instant) -> Reply {
    let p = node.profile();
    let mut infos = Vec::new();
    let mut apply_time = None;
    for (k, v) in patch {
        match k.as_str() {
            "Attributes" => {}
            "@Redfish.SettingsApplyTime" if p.rejects_settings_apply_time => {
                infos.push(messages::property_unknown(k, "/"));
            }
            "@Redfish.SettingsApplyTime" => {
                let at = v
                    .get("ApplyTime")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if p.settings_apply_times.contains(&at) {
                    apply_time = Some(at.to_owned());
                } else {
                    infos.push(messages::value_not_in_list(
                        "ApplyTime",
                        &Value::from(at),
                        "/@Redfish.SettingsApplyTime/",
                    ));
                }
            }
            _ => infos.push(messages::property_unknown(k, "/")),
        }
    }
    let Some(attrs) = patch.get("Attributes").and_then(Value::as_object) else {
        infos.push(messages::property_missing("Attributes"));
        return messages::bad_request(infos);
    };
    let mut st = node.state_at(now);
    // Quirk `lc_busy_refuses_config`: a busy Lifecycle Controller takes no configuration.
    if p.oem_key == Some("Dell")
        && let Some(refusal) = super::dell::lc_refuses(&st, now)
    {
        return refusal;
    }
    // Quirk `bios_suffixed_names`: the firmware knows only its own spelling of each name.
    let mut attrs_by_registry_name = Map::new();
    for (wire, v) in attrs {
        match registry_name(&st.bios_options, wire) {
            Some(name) => {
                attrs_by_registry_name.insert(name.to_owned(), v.clone());
            }
            None => infos.push(messages::property_unknown(wire, "/Attributes/")),
        }
    }
    // Quirk `bios_rejected_at_patch`: the firmware refuses the value in the PATCH itself.
    for (wire, v) in attrs {
        if registry_name(&st.bios_options, wire)
            .is_some_and(|name| st.bios_options.rejected_at_patch.iter().any(|r| r == name))
        {
            infos.push(messages::value_not_in_list(wire, v, "/Attributes/"));
        }
    }
    if !infos.is_empty() {
        return messages::bad_request(infos);
    }
    let attrs = &attrs_by_registry_name;
    let creates_job = p.bios_patch_creates_job && apply_time.is_some();
    if creates_job && st.bios_job_scheduled() {
        return messages::dell_job_already_scheduled();
    }
    let effective = |i: usize| st.bios_pending_value(i).unwrap_or_else(|| st.bios_value(i));
    let accepted = match registry::validate(attrs, effective) {
        Ok(a) => a,
        Err(violations) => {
            return messages::bad_request(
                violations.iter().map(messages::violation_message).collect(),
            );
        }
    };
    st.stage_bios(accepted);
    if creates_job {
        let id = st.take_id();
        st.tasks.push(Task {
            id,
            name: BIOS_JOB_NAME,
            state: TaskState::Pending,
            start_unix: unix_now(),
            message: None,
        });
        // iDRAC answers with its job (not a task monitor) in `Location`; the job is also a
        // TaskService task whose monitor is `/redfish/v1/TaskService/TaskMonitors/JID_<n>`.
        let body = st
            .tasks
            .last()
            .map_or(Value::Null, |t| tasks::dell_job_body(node, &st, t));
        return Reply::json(StatusCode::ACCEPTED, body)
            .header(header::LOCATION, tasks::dell_job_path(node, id));
    }
    Reply::empty(StatusCode::NO_CONTENT)
}
