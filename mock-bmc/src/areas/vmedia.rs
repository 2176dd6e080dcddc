//! Virtual media: the slots, `InsertMedia` / `EjectMedia` (or PATCH `Image` + `Inserted` where
//! the personality has no actions), the image download with its checks (ISO 9660 for CD
//! slots, config drive, El Torito), and asynchronous inserts run as tasks.

use std::path::Path;
use std::sync::Arc;

use axum::http::{StatusCode, header};
use serde_json::{Map, Value, json};

use super::common::{Cx, collection, parse_body};
use super::tasks;
use crate::ids::unix_now;
use crate::iso9660;
use crate::messages;
use crate::node::{Node, lock};
use crate::personality::VmediaQuirk;
use crate::redact::{strip_userinfo, without_userinfo};
use crate::reply::Reply;
use crate::routes::{Params, VmediaRes};
use crate::state::{MediaSlot, NodeState, Task, TaskState};

const INSERT: &str = "VirtualMedia.InsertMedia";

/// Name of the task an asynchronous insert runs as.
const INSERT_TASK: &str = "Virtual media insert";

/// Virtual media belongs to the first System (or to the Manager).
fn owned(p: &Params<'_>) -> bool {
    p.system == 0
}

fn slot_path(node: &Node, slot: usize) -> String {
    let Some(def) = node.profile().vmedia_slots.get(slot) else {
        return node.shared.paths.vmedia_system.clone();
    };
    format!("{}/{}", node.shared.paths.vmedia(def.at), def.id)
}

pub(crate) fn get(
    cx: &Cx<'_>,
    st: &mut NodeState,
    r: VmediaRes,
    params: &Params<'_>,
) -> Option<Value> {
    let node = cx.node;
    let p = node.profile();
    let ps = &node.shared.paths;
    if !owned(params) {
        return None;
    }
    match r {
        VmediaRes::Collection => {
            let at = params.vmedia_at?;
            let base = ps.vmedia(at);
            Some(collection(
                base,
                "VirtualMediaCollection",
                "Virtual Media Services",
                p.vmedia_slots
                    .iter()
                    .filter(|s| s.at == at)
                    .map(|s| format!("{base}/{}", s.id)),
            ))
        }
        VmediaRes::Slot => {
            let def = p.vmedia_slots.get(params.slot)?;
            let m = st.media.get(params.slot)?;
            let path = slot_path(node, params.slot);
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
            if node.shared.vmedia_quirk(VmediaQuirk::HpeBootOnNextReset) {
                body["Oem"] = json!({"Hpe": {
                    "@odata.type": "#HpeiLOVirtualMedia.v2_2_0.HpeiLOVirtualMedia",
                    "BootOnNextServerReset": m.boot_on_next_reset,
                }});
            }
            if !p.vmedia_patch_only {
                body["Actions"] = json!({
                    "#VirtualMedia.InsertMedia": {"target": format!("{path}/Actions/VirtualMedia.InsertMedia")},
                    "#VirtualMedia.EjectMedia": {"target": format!("{path}/Actions/VirtualMedia.EjectMedia")},
                });
            }
            Some(body)
        }
        VmediaRes::Insert | VmediaRes::Eject => None,
    }
}

/// PATCH on a slot: `Image` + `Inserted` inserts (how XCC works), `Image` null or `Inserted`
/// false ejects.
pub(crate) async fn patch(
    cx: &Cx<'_>,
    r: VmediaRes,
    params: &Params<'_>,
    patch: &Map<String, Value>,
) -> Reply {
    let node = cx.node;
    let p = node.profile();
    if r != VmediaRes::Slot || !owned(params) {
        return super::common::read_only(patch);
    }
    let eject = patch.get("Image").is_some_and(Value::is_null)
        || patch.get("Inserted") == Some(&Value::Bool(false));
    if eject {
        if let Some(m) = node.state_at(cx.now).media.get_mut(params.slot) {
            *m = MediaSlot::default();
        }
        return Reply::empty(StatusCode::NO_CONTENT);
    }
    if let Some(flag) = patch
        .get("Oem")
        .and_then(|o| o.pointer("/Hpe/BootOnNextServerReset"))
        && node.shared.vmedia_quirk(VmediaQuirk::HpeBootOnNextReset)
        && !patch.contains_key("Image")
    {
        return set_boot_on_next_reset(cx, params.slot, flag);
    }
    if p.vmedia_patch_only && patch.contains_key("Image") && !patch.contains_key("Inserted") {
        return messages::bad_request(vec![messages::property_missing("Inserted")]);
    }
    if patch.contains_key("Image") {
        return insert_media(node, params.slot, patch, false).await;
    }
    super::common::read_only(patch)
}

/// Quirk `hpe_boot_on_next_reset`: iLO takes the flag only on a slot holding media (its
/// `iLO.2.15.PropertyValueBadParam` otherwise); a boolean only.
fn set_boot_on_next_reset(cx: &Cx<'_>, slot: usize, flag: &Value) -> Reply {
    let Some(on) = flag.as_bool() else {
        return messages::bad_request(vec![messages::value_not_in_list(
            "BootOnNextServerReset",
            flag,
            "/Oem/Hpe/",
        )]);
    };
    let mut st = cx.node.state_at(cx.now);
    let Some(m) = st.media.get_mut(slot) else {
        return messages::not_found(&slot_path(cx.node, slot));
    };
    if on && !m.inserted {
        return messages::bad_request(vec![messages::general_error(
            "BootOnNextServerReset can be set only on a virtual media slot with media inserted.",
        )]);
    }
    m.boot_on_next_reset = on;
    Reply::empty(StatusCode::NO_CONTENT)
}

/// POST: `InsertMedia`, `EjectMedia`.
pub(crate) async fn post(cx: &Cx<'_>, r: VmediaRes, params: &Params<'_>, bytes: &[u8]) -> Reply {
    let node = cx.node;
    let p = node.profile();
    if !owned(params) {
        return messages::not_found(&slot_path(node, params.slot));
    }
    match r {
        VmediaRes::Insert => match parse_body(bytes, false) {
            Ok(body) => insert_media(node, params.slot, &body, true).await,
            Err(reply) => reply,
        },
        VmediaRes::Eject => {
            if p.eject_requires_body && bytes.is_empty() {
                return messages::malformed_json_resolved("Send an empty JSON object.");
            }
            if let Err(reply) = parse_body(bytes, true) {
                return reply;
            }
            if let Some(m) = node.state_at(cx.now).media.get_mut(params.slot) {
                *m = MediaSlot::default();
            }
            Reply::empty(StatusCode::NO_CONTENT)
        }
        VmediaRes::Collection | VmediaRes::Slot => {
            messages::not_found(&slot_path(node, params.slot))
        }
    }
}

/// Validates `InsertMedia` parameters, downloads the image, checks it and stores it in the slot.
#[allow(clippy::items_after_statements)]
async fn insert_media(
    node: &Arc<Node>,
    slot_idx: usize,
    body: &Map<String, Value>,
    via_action: bool,
) -> Reply {
    let p = node.profile();
    const KNOWN: &[&str] = &[
        "Image",
        "Inserted",
        "WriteProtected",
        "TransferProtocolType",
        "TransferMethod",
        "UserName",
        "Password",
        "MediaType",
    ];
    if let Some(unknown) = body.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return messages::bad_request(vec![messages::action_parameter_unknown(INSERT, unknown)]);
    }
    if via_action
        && p.insert_rejects_readonly_fields
        && let Some(ro) = ["Inserted", "WriteProtected"]
            .into_iter()
            .find(|k| body.contains_key(*k))
    {
        return messages::bad_request(vec![messages::property_not_writable(ro, "/")]);
    }
    let Some(image) = body.get("Image").and_then(Value::as_str).map(str::to_owned) else {
        return messages::bad_request(vec![messages::action_parameter_missing(INSERT, "Image")]);
    };
    if let Some(refusal) = missing_required_field(node, slot_idx, body, via_action) {
        return refusal;
    }
    let write_protected = body
        .get("WriteProtected")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    {
        let st = lock(&node.state);
        let inserting = st
            .tasks
            .iter()
            .any(|t| t.state == TaskState::Running && t.name == INSERT_TASK);
        if inserting || st.media.get(slot_idx).is_some_and(|m| m.inserted) {
            return messages::error(StatusCode::CONFLICT, vec![messages::resource_in_use()]);
        }
    }
    if non_http_transfer(&image, body) {
        return messages::bad_request(vec![messages::action_parameter_not_supported(
            "TransferProtocolType",
            INSERT,
            "TransferProtocolType",
            "Use an http or https image URL (TransferProtocolType HTTP or HTTPS).",
        )]);
    }
    if via_action && node.shared.insert_returns_task {
        return insert_as_task(node, slot_idx, image, write_protected);
    }
    match load_image(node, slot_idx, image, write_protected).await {
        Ok(slot) => {
            if let Some(m) = lock(&node.state).media.get_mut(slot_idx) {
                *m = slot;
            }
            Reply::empty(StatusCode::NO_CONTENT)
        }
        Err((status, info)) => messages::error(status, vec![info]),
    }
}

/// The body quirks ([`VmediaQuirk`]): the refusal of an insert lacking a field the switched-on
/// quirk requires, asked one at a time in the order sushy meets them (protocol, method,
/// credentials), each shaped as the BMC answers it. Through PATCH (no action) a missing
/// field is `PropertyMissing`.
fn missing_required_field(
    node: &Node,
    slot_idx: usize,
    body: &Map<String, Value>,
    via_action: bool,
) -> Option<Reply> {
    let on = |q| node.shared.vmedia_quirk(q);
    let action = format!("{}/Actions/{INSERT}", slot_path(node, slot_idx));
    let missing = |field: &str| {
        if via_action {
            messages::action_parameter_missing(&action, field)
        } else {
            messages::property_missing(field)
        }
    };
    if on(VmediaQuirk::TransferProtocolRequired) && !body.contains_key("TransferProtocolType") {
        return Some(messages::bad_request(vec![missing("TransferProtocolType")]));
    }
    if on(VmediaQuirk::TransferMethodRequired) && !body.contains_key("TransferMethod") {
        // OCPBUGS-12703's BMC names the field only in a GeneralError's text.
        return Some(messages::bad_request(vec![messages::general_error(
            "'TransferMethod' property which is mandatory to complete the action is missing in the request body.",
        )]));
    }
    if on(VmediaQuirk::CredentialsRequired) {
        let infos: Vec<Value> = ["UserName", "Password"]
            .into_iter()
            .filter(|k| !body.contains_key(*k))
            .map(missing)
            .collect();
        if !infos.is_empty() {
            return Some(messages::bad_request(infos));
        }
    }
    None
}

/// Option `insert_returns_task` ([`crate::MockBmcBuilder::insert_returns_task`]): answers 202
/// with the task at once and loads the image in the background; the task ends `Completed`, or
/// `Exception` with the reason a synchronous insert would have answered. A DELETE on its
/// monitor aborts the download.
fn insert_as_task(
    node: &Arc<Node>,
    slot_idx: usize,
    image: String,
    write_protected: bool,
) -> Reply {
    let (id, body) = {
        let mut st = lock(&node.state);
        let id = st.take_id();
        let task = Task {
            id,
            name: INSERT_TASK,
            state: TaskState::Running,
            start_unix: unix_now(),
            message: None,
        };
        let body = tasks::task_body(node, &task);
        st.tasks.push(task);
        (id, body)
    };
    let background = node.clone();
    let download = tokio::spawn(async move {
        let outcome = load_image(&background, slot_idx, image, write_protected).await;
        let mut st = lock(&background.state);
        // A task cancelled meanwhile (DELETE on its monitor) stores nothing.
        let Some(task) = st
            .tasks
            .iter_mut()
            .find(|t| t.id == id && t.state == TaskState::Running)
        else {
            return;
        };
        match outcome {
            Ok(slot) => {
                task.state = TaskState::Completed;
                if let Some(m) = st.media.get_mut(slot_idx) {
                    *m = slot;
                }
            }
            Err((_, info)) => {
                task.state = TaskState::Exception;
                task.message = info
                    .get("Message")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
        }
    });
    let mut running = lock(&node.background);
    running.retain(|(_, handle)| !handle.is_finished());
    running.push((id, download.abort_handle()));
    drop(running);
    let monitor = format!(
        "/redfish/v1/TaskService/TaskMonitors/{}",
        tasks::task_id(node, id)
    );
    Reply::json(StatusCode::ACCEPTED, body)
        .header(header::LOCATION, monitor)
        .header(header::RETRY_AFTER, "1")
}

/// Downloads the image and checks it (ISO 9660 for CD slots, config drive, El Torito): the
/// slot to store. `Err` carries the status and message a BMC answers for the failure.
async fn load_image(
    node: &Arc<Node>,
    slot_idx: usize,
    image: String,
    write_protected: bool,
) -> Result<MediaSlot, (StatusCode, Value)> {
    let p = node.profile();
    // A slot taking both CDs and disks (iDRAC's System-level instances) decides by the
    // image's name, as iDRAC does by its extension.
    let is_cd = p.vmedia_slots.get(slot_idx).is_some_and(|s| {
        s.media_types.contains(&"CD")
            && (!s.media_types.contains(&"USBStick")
                || !Path::new(image.split(['?', '#']).next().unwrap_or_default())
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("img")))
    });
    // Messages name the image without its user-info.
    let shown = strip_userinfo(&image);
    let data = match fetch_image(node, &image).await {
        Ok(d) => d,
        Err(failure) => return Err(fetch_failure_reply(&shown, failure)),
    };
    let (label, config_drive, bootable) = if is_cd {
        if !iso9660::has_iso9660_signature(&data) {
            return Err((
                StatusCode::BAD_REQUEST,
                messages::image_format_error(&shown, INSERT, "Provide an ISO 9660 image."),
            ));
        }
        match iso9660::IsoImage::parse(&data) {
            Ok(iso) => (
                Some(iso.volume_label().to_owned()),
                iso9660::config_drive_network(&iso).ok().flatten(),
                iso.is_bootable(),
            ),
            Err(_) => (None, None, false),
        }
    } else {
        (None, None, false)
    };
    Ok(MediaSlot {
        // The slot keeps the URL without its user-info: `Image` is readable by every client.
        image: Some(without_userinfo(&image)),
        inserted: true,
        write_protected,
        image_size: data.len() as u64,
        volume_label: label,
        config_drive,
        bootable,
        boot_on_next_reset: false,
    })
}

/// Why an image download failed; each maps to the error a BMC answers ([`fetch_failure_reply`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FetchFailure {
    /// No usable connection: refused, unreachable, timed out, cut mid-transfer (or the
    /// image-download fault).
    Connection,
    /// The image server answered 401 or 403.
    Unauthorized(u16),
    /// The image server answered another non-success status (404 and the rest).
    NotFound(u16),
    /// Not a URL at all.
    InvalidUrl,
    /// Larger than the node accepts.
    TooLarge,
}

/// The status and message for a failed download of `image` (already without user-info).
fn fetch_failure_reply(image: &str, failure: FetchFailure) -> (StatusCode, Value) {
    match failure {
        FetchFailure::Connection => (
            StatusCode::INTERNAL_SERVER_ERROR,
            messages::could_not_establish_connection(image),
        ),
        FetchFailure::Unauthorized(status) => (
            StatusCode::BAD_REQUEST,
            messages::resource_at_uri_unauthorized(image, &format!("HTTP {status}")),
        ),
        FetchFailure::NotFound(_) => (StatusCode::BAD_REQUEST, messages::image_not_found(image)),
        FetchFailure::InvalidUrl => (
            StatusCode::BAD_REQUEST,
            messages::image_format_error(image, INSERT, "Provide an absolute http or https URL."),
        ),
        FetchFailure::TooLarge => (StatusCode::BAD_REQUEST, messages::image_value_error(INSERT)),
    }
}

/// Whether an insert asks for a protocol other than HTTP(S): by `TransferProtocolType` or by
/// the scheme of `Image`. The mock (like most BMCs' HTTP-only firmware) downloads over http and
/// https only.
fn non_http_transfer(image: &str, body: &Map<String, Value>) -> bool {
    let protocol = body.get("TransferProtocolType").and_then(Value::as_str);
    if protocol.is_some_and(|p| !matches!(p, "HTTP" | "HTTPS")) {
        return true;
    }
    url::Url::parse(image).is_ok_and(|u| !matches!(u.scheme(), "http" | "https"))
}

async fn fetch_image(node: &Node, url: &str) -> Result<Vec<u8>, FetchFailure> {
    {
        let mut f = lock(&node.faults);
        if f.image_fail_next > 0 {
            f.image_fail_next -= 1;
            return Err(FetchFailure::Connection);
        }
    }
    let parsed = url::Url::parse(url).map_err(|_| FetchFailure::InvalidUrl)?;
    let mut resp = node
        .shared
        .http
        .get(parsed)
        .send()
        .await
        .map_err(|_| FetchFailure::Connection)?;
    let status = resp.status().as_u16();
    match status {
        200..=299 => {}
        401 | 403 => return Err(FetchFailure::Unauthorized(status)),
        _ => return Err(FetchFailure::NotFound(status)),
    }
    let mut data = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|_| FetchFailure::Connection)? {
        data.extend_from_slice(&chunk);
        if data.len() as u64 > node.shared.max_image_bytes {
            return Err(FetchFailure::TooLarge);
        }
    }
    Ok(data)
}
