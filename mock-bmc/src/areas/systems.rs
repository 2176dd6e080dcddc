//! Systems with power and boot: the Systems collection, each System (power state, boot
//! override with the personality's vocabulary and quirks, `BootProgress`), `ResetActionInfo`
//! and `ComputerSystem.Reset`.
//!
//! A node serves [`crate::MockBmcBuilder::systems_per_node`] Systems; each has its own power
//! state machine, boot override and inventory. BIOS and virtual media belong to the first,
//! which is also the one IPMI acts on.

use axum::http::{StatusCode, header};
use serde_json::{Map, Value, json};

use super::common::{Cx, collection, link, parse_body, status_ok};
use crate::ids::{mix, system_seed, uuid_for};
use crate::messages;
use crate::personality::VmediaLocation;
use crate::reply::{Reply, etag_of};
use crate::routes::{Params, SystemsRes};
use crate::state::{NodeState, OverrideEnabled, PowerState, ResetRefusal, ResetType};

pub(crate) fn get(cx: &Cx<'_>, st: &mut NodeState, r: SystemsRes, p: &Params<'_>) -> Option<Value> {
    let ps = &cx.node.shared.paths;
    match r {
        SystemsRes::Collection => Some(collection(
            "/redfish/v1/Systems",
            "ComputerSystemCollection",
            "Computer System Collection",
            ps.systems.iter().cloned(),
        )),
        SystemsRes::System => Some(system(cx, st.system_mut(p.system)?, p.system)),
        SystemsRes::ResetActionInfo => {
            let path = ps.systems.get(p.system)?;
            Some(json!({
                "@odata.id": format!("{path}/ResetActionInfo"),
                "@odata.type": "#ActionInfo.v1_5_0.ActionInfo",
                "Id": "ResetActionInfo",
                "Name": "Reset Action Info",
                "Parameters": [{"Name": "ResetType", "Required": true, "DataType": "String", "AllowableValues": cx.node.profile().reset_types}],
            }))
        }
        SystemsRes::Reset | SystemsRes::HpePowerButton | SystemsRes::HpeSystemReset => None,
    }
}

/// The System resource of System `index`.
fn system(cx: &Cx<'_>, st: &mut NodeState, index: usize) -> Value {
    let node = cx.node;
    let p = node.profile();
    let ps = &node.shared.paths;
    let path = &ps.systems[index];
    let sizes = node.sizes;
    let seed = system_seed(node.index, index);
    let power = st.power(cx.now, p, node.delays());
    let boot_mode_idx = crate::bios::index_of("BootMode").unwrap_or(0);
    // Further Systems are told apart by a suffix; the first keeps the single-System values.
    let suffix = if index == 0 {
        String::new()
    } else {
        format!("-{}", index + 1)
    };
    let mut sys = json!({
        "@odata.id": path,
        "@odata.type": "#ComputerSystem.v1_27_0.ComputerSystem",
        "Id": ps.system_ids[index],
        "Name": "System",
        "SystemType": "Physical",
        "Manufacturer": p.manufacturer,
        "Model": p.model,
        "SKU": format!("FF{:06}{suffix}", node.index),
        "SerialNumber": format!("FFSN{:08X}", mix(seed) as u32),
        "UUID": uuid_for(seed),
        "HostName": format!("node{:05}{suffix}", node.index),
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
        "BootProgress": {"LastState": st.boot_progress(cx.now, p, node.delays())},
        "ProcessorSummary": {"Count": sizes.processors, "Model": "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz", "Status": status_ok()},
        "MemorySummary": {"TotalSystemMemoryGiB": u32::from(sizes.dimms) * 32, "Status": status_ok()},
        "Processors": link(&format!("{path}/Processors")),
        "Memory": link(&format!("{path}/Memory")),
        "Storage": link(&format!("{path}/Storage")),
        "SimpleStorage": link(&format!("{path}/SimpleStorage")),
        "EthernetInterfaces": link(&format!("{path}/EthernetInterfaces")),
        "Links": {
            "Chassis": [link(&ps.chassis)],
            "ManagedBy": [link(&ps.manager)],
        },
        "Actions": {
            "#ComputerSystem.Reset": {
                "target": format!("{path}/Actions/ComputerSystem.Reset"),
                "@Redfish.ActionInfo": format!("{path}/ResetActionInfo"),
                "ResetType@Redfish.AllowableValues": p.reset_types,
            }
        },
    });
    // The boot mode the BIOS runs in is what a client sees as the current boot mode.
    if st.bios_value(boot_mode_idx).as_str() == Some("Bios") {
        sys["Boot"]["BootSourceOverrideMode"] = Value::from("Legacy");
    }
    if index == 0 {
        sys["Bios"] = link(&ps.bios);
        if p.vmedia_location != VmediaLocation::Manager {
            sys["VirtualMedia"] = link(&ps.vmedia_system);
        }
    }
    if let Some(k) = p.oem_key {
        let body = match k {
            "Hpe" => {
                json!({
                    "PostState": if power == PowerState::On { "FinishedPost" } else { "PowerOff" },
                    "Bios": {"Current": {"VersionString": "A42 v2.90"}},
                    // iLO 5's power button and cold boot live here, not in the standard reset.
                    "Actions": {
                        "#HpeComputerSystemExt.PowerButton": {
                            "PushType@Redfish.AllowableValues": HPE_PUSH_TYPES,
                            "target": format!("{path}/Actions/Oem/Hpe/HpeComputerSystemExt.PowerButton/"),
                        },
                        "#HpeComputerSystemExt.SystemReset": {
                            "ResetType@Redfish.AllowableValues": HPE_SYSTEM_RESET_TYPES,
                            "target": format!("{path}/Actions/Oem/Hpe/HpeComputerSystemExt.SystemReset/"),
                        },
                    },
                })
            }
            "Dell" => {
                json!({"DellSystem": {"Id": ps.system_ids[index], "SystemGeneration": "16G Monolithic", "ChassisServiceTag": format!("FF{:05}", node.index)}})
            }
            _ => json!({}),
        };
        sys["Oem"] = json!({ k: body });
    }
    sys
}

/// iLO 5's `PushType` values of `HpeComputerSystemExt.PowerButton`.
const HPE_PUSH_TYPES: &[&str] = &["Press", "PressAndHold"];
/// iLO 5's `ResetType` values of `HpeComputerSystemExt.SystemReset`.
const HPE_SYSTEM_RESET_TYPES: &[&str] = &["ColdBoot", "AuxCycle"];

/// POST: `ComputerSystem.Reset`, and on HPE iLO's power button and system reset.
pub(crate) fn post(cx: &Cx<'_>, r: SystemsRes, p: &Params<'_>, bytes: &[u8]) -> Reply {
    let body = match parse_body(bytes, false) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let profile = cx.node.profile();
    // What each action's parameter means as a standard reset: iLO's press is the standard
    // button push, press-and-hold a forced off, a cold boot an off-and-on.
    let parsed = match r {
        SystemsRes::Reset => one_parameter(
            &body,
            "ComputerSystem.Reset",
            "ResetType",
            profile.reset_types,
            ResetType::parse,
        ),
        SystemsRes::HpePowerButton => one_parameter(
            &body,
            "HpeComputerSystemExt.PowerButton",
            "PushType",
            HPE_PUSH_TYPES,
            |v| match v {
                "Press" => Some(ResetType::PushPowerButton),
                "PressAndHold" => Some(ResetType::ForceOff),
                _ => None,
            },
        ),
        SystemsRes::HpeSystemReset => one_parameter(
            &body,
            "HpeComputerSystemExt.SystemReset",
            "ResetType",
            HPE_SYSTEM_RESET_TYPES,
            |v| match v {
                "ColdBoot" => Some(ResetType::PowerCycle),
                "AuxCycle" => Some(ResetType::FullPowerCycle),
                _ => None,
            },
        ),
        _ => return messages::not_found(""),
    };
    match parsed {
        Ok((kind, name)) => reset(cx, p.system, kind, name),
        Err(reply) => reply,
    }
}

/// The one parameter of a reset action: present, alone, among `allowed`, and what it means.
fn one_parameter<'b>(
    body: &'b Map<String, Value>,
    action: &str,
    parameter: &str,
    allowed: &[&str],
    meaning: impl Fn(&str) -> Option<ResetType>,
) -> Result<(ResetType, &'b str), Reply> {
    let Some(value) = body.get(parameter).and_then(Value::as_str) else {
        return Err(messages::bad_request(vec![
            messages::action_parameter_missing(action, parameter),
        ]));
    };
    if let Some(unknown) = body.keys().find(|k| *k != parameter) {
        return Err(messages::bad_request(vec![
            messages::action_parameter_unknown(action, unknown),
        ]));
    }
    match meaning(value).filter(|_| allowed.contains(&value)) {
        Some(kind) => Ok((kind, value)),
        None => Err(messages::bad_request(vec![
            messages::action_parameter_not_supported(
                value,
                action,
                parameter,
                "Remove the parameter supplied and resubmit the request if the operation failed.",
            ),
        ])),
    }
}

fn reset(cx: &Cx<'_>, system: usize, kind: ResetType, kind_str: &str) -> Reply {
    let node = cx.node;
    let now = cx.now;
    let p = node.profile();
    let delays = node.delays();
    let mut guard = node.state_at(now);
    // Quirk `idrac10_power_on_conflict`: the switch is the node's, counted on any System.
    if matches!(kind, ResetType::On | ResetType::ForceOn)
        && guard.system_options.power_on_conflicts > 0
        && system < guard.system_count()
    {
        guard.system_options.power_on_conflicts -= 1;
        drop(guard);
        return messages::error(
            StatusCode::CONFLICT,
            vec![messages::reset_conflict(
                kind_str,
                "the server was powered off a moment ago",
            )],
        );
    }
    let Some(st) = guard.system_mut(system) else {
        return messages::not_found("");
    };
    if let (Some(ms), Some(last)) = (p.busy_after_power_change_ms, st.last_power_change)
        && now.duration_since(last) < std::time::Duration::from_millis(ms)
    {
        drop(guard);
        return messages::vendor_error(p.transient_error);
    }
    match st.reset(kind, now, p, delays) {
        Ok(()) => Reply::empty(StatusCode::NO_CONTENT),
        Err(ResetRefusal::AlreadyInState) if !p.redundant_power_conflict => {
            Reply::empty(StatusCode::NO_CONTENT)
        }
        Err(refusal) => {
            let why = match refusal {
                ResetRefusal::AlreadyInState => {
                    "the system is already in the requested power state"
                }
                ResetRefusal::NotPoweredOn => "the system is powered off",
                ResetRefusal::InTransition => "a power transition is in progress",
            };
            messages::error(
                StatusCode::CONFLICT,
                vec![messages::reset_conflict(kind_str, why)],
            )
        }
    }
}

fn is_known_system_property(k: &str) -> bool {
    matches!(
        k,
        "Id" | "Name"
            | "PowerState"
            | "Manufacturer"
            | "Model"
            | "SerialNumber"
            | "UUID"
            | "Status"
            | "HostName"
            | "SKU"
            | "SystemType"
            | "BiosVersion"
    )
}

/// PATCH of a System: the boot override (with the personality's quirks), `AssetTag`,
/// `LocationIndicatorActive`. Answers 200 with the System as it now is.
pub(crate) fn patch(
    cx: &Cx<'_>,
    r: SystemsRes,
    params: &Params<'_>,
    patch: &Map<String, Value>,
) -> Reply {
    if r != SystemsRes::System {
        return super::common::read_only(patch);
    }
    let p = cx.node.profile();
    let mut infos = Vec::new();
    for k in patch.keys() {
        if !matches!(k.as_str(), "Boot" | "AssetTag" | "LocationIndicatorActive") {
            infos.push(if is_known_system_property(k) {
                messages::property_not_writable(k, "/")
            } else {
                messages::property_unknown(k, "/")
            });
        }
    }
    let mut guard = cx.node.state_at(cx.now);
    // Quirk `ilo_busy_during_post`: the host is in POST, the boot override cannot change.
    if patch.contains_key("Boot") && guard.system_options.ilo_busy_during_post > 0 {
        guard.system_options.ilo_busy_during_post -= 1;
        drop(guard);
        return messages::vendor_error(crate::personality::VendorError {
            status: 400,
            message_id: "iLO.2.15.UnableToModifyDuringSystemPOST",
            message: "The value for the property cannot be changed while the computer system is in POST.",
            retry_after_secs: None,
        });
    }
    let refuse_continuous = guard.system_options.continuous_boot_refused;
    let Some(st) = guard.system_mut(params.system) else {
        return messages::not_found("");
    };
    let mut boot = st.boot.clone();
    if let Some(b) = patch.get("Boot") {
        let Some(b) = b.as_object() else {
            return messages::bad_request(vec![messages::property_unknown("Boot", "/")]);
        };
        for (k, v) in b {
            let text = v.as_str();
            match (k.as_str(), text) {
                ("BootSourceOverrideTarget", Some(t)) if p.boot_targets.contains(&t) => {
                    t.clone_into(&mut boot.target);
                }
                // Quirk `continuous_boot_refused`: listed as allowable, refused when asked.
                ("BootSourceOverrideEnabled", Some("Continuous"))
                    if refuse_continuous && p.boot_enabled_values.contains(&"Continuous") =>
                {
                    infos.push(messages::value_not_in_list(k, v, "/Boot/"));
                }
                ("BootSourceOverrideEnabled", Some(e)) if p.boot_enabled_values.contains(&e) => {
                    boot.enabled = OverrideEnabled::parse(e).unwrap_or(OverrideEnabled::Disabled);
                }
                ("BootSourceOverrideMode", Some(m)) if m == "UEFI" || m == "Legacy" => {
                    m.clone_into(&mut boot.mode);
                }
                (
                    "BootSourceOverrideTarget"
                    | "BootSourceOverrideEnabled"
                    | "BootSourceOverrideMode",
                    _,
                ) => infos.push(messages::value_not_in_list(k, v, "/Boot/")),
                _ => infos.push(messages::property_unknown(k, "/Boot/")),
            }
        }
        // Supermicro drops the override unless Enabled is re-sent with the target.
        if p.override_needs_enabled
            && b.contains_key("BootSourceOverrideTarget")
            && !b.contains_key("BootSourceOverrideEnabled")
        {
            boot.enabled = OverrideEnabled::Disabled;
        }
        // ...and falls back to Legacy unless the mode is re-sent with the target.
        if p.override_mode_needs_resend
            && b.contains_key("BootSourceOverrideTarget")
            && !b.contains_key("BootSourceOverrideMode")
        {
            "Legacy".clone_into(&mut boot.mode);
        }
    }
    if !infos.is_empty() {
        return messages::bad_request(infos);
    }
    st.boot = boot;
    if let Some(tag) = patch.get("AssetTag").and_then(Value::as_str) {
        st.asset_tag = tag.chars().take(64).collect();
    }
    if let Some(on) = patch
        .get("LocationIndicatorActive")
        .and_then(Value::as_bool)
    {
        st.locator_on = on;
    }
    let body = system(cx, st, params.system);
    let etag = etag_of(&body);
    Reply::json(StatusCode::OK, body).header(header::ETAG, etag)
}
