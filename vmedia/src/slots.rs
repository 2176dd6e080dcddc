//! Pure decisions about virtual-media slots: what a slot is (read leniently from its JSON),
//! which slots fit an image, in which order to try them, the smallest `InsertMedia` body and
//! what to add when the BMC's error asks for more, and how to read an insert failure. No I/O.

use std::fmt;

use serde_json::{Value, json};

/// Where a slot was found. iDRAC9 on 6.x has both; sushy-tools and iDRAC10 only the System's;
/// iLO, XCC and Supermicro only the Manager's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SlotLevel {
    /// `Systems/{id}/VirtualMedia` (preferred, as Ironic does).
    System,
    /// `Managers/{id}/VirtualMedia`.
    Manager,
}

/// What kind of image goes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// An ISO image: slots with `CD` or `DVD` (Cisco UCS slots offer only `DVD`).
    Cd,
    /// A disk or floppy image: slots with `USBStick`, `Floppy` or `RemovableDisk`.
    Removable,
}

impl MediaKind {
    /// The `MediaTypes` values that accept this kind.
    pub fn media_types(self) -> &'static [&'static str] {
        match self {
            MediaKind::Cd => &["CD", "DVD"],
            MediaKind::Removable => &["USBStick", "Floppy", "RemovableDisk"],
        }
    }
}

/// One virtual-media slot as the BMC described it. `Debug` shows the image URL redacted
/// ([`redact_url`]): our image server's URLs carry an access token.
#[derive(Clone, PartialEq, Eq)]
pub struct Slot {
    /// Its `@odata.id`.
    pub path: String,
    /// Its `Id`.
    pub id: String,
    /// Where it was found.
    pub level: SlotLevel,
    /// `MediaTypes`; empty when the BMC does not say (some XCC firmware).
    pub media_types: Vec<String>,
    /// `Inserted`, when reported.
    pub inserted: Option<bool>,
    /// `Image`, when set (empty strings are read as unset).
    pub image: Option<String>,
    /// `ConnectedVia` (`URI`, `Applet`, `NotConnected`, ...).
    pub connected_via: Option<String>,
    /// The `#VirtualMedia.InsertMedia` target; `None` means inserting is a PATCH (XCC).
    pub insert_target: Option<String>,
    /// The `#VirtualMedia.EjectMedia` target; `None` means ejecting is a PATCH.
    pub eject_target: Option<String>,
    /// HPE's `Oem.Hpe.BootOnNextServerReset`, when the slot has it.
    pub hpe_boot_on_next_reset: Option<bool>,
}

/// An image URL for messages: no user-info, no query, and only the last path segment (our
/// image server's URLs carry a token in the path; other servers put tokens in queries).
pub fn redact_url(image: &str) -> String {
    match url::Url::parse(image) {
        Ok(url) => {
            let last = url
                .path_segments()
                .and_then(|mut s| s.next_back())
                .unwrap_or_default()
                .to_owned();
            let host = url.host_str().unwrap_or_default();
            let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
            let hidden = if url.path().matches('/').count() > 1 {
                "…/"
            } else {
                ""
            };
            format!("{}://{host}{port}/{hidden}{last}", url.scheme())
        }
        Err(_) => "<an image URL that does not parse>".to_owned(),
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot")
            .field("path", &self.path)
            .field("id", &self.id)
            .field("level", &self.level)
            .field("media_types", &self.media_types)
            .field("inserted", &self.inserted)
            .field("image", &self.image.as_deref().map(redact_url))
            .field("connected_via", &self.connected_via)
            .field("insert_target", &self.insert_target)
            .field("eject_target", &self.eject_target)
            .field("hpe_boot_on_next_reset", &self.hpe_boot_on_next_reset)
            .finish()
    }
}

fn action_target(value: &Value, action: &str) -> Option<String> {
    value
        .get("Actions")?
        .get(action)?
        .get("target")?
        .as_str()
        .map(str::to_owned)
}

impl Slot {
    /// Reads a slot from its JSON; `None` without an `@odata.id`.
    pub fn from_json(level: SlotLevel, value: &Value) -> Option<Slot> {
        let text = |key: &str| {
            value
                .get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .map(str::to_owned)
        };
        Some(Slot {
            path: value.get("@odata.id")?.as_str()?.to_owned(),
            id: text("Id").unwrap_or_default(),
            level,
            media_types: value
                .get("MediaTypes")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            inserted: value.get("Inserted").and_then(Value::as_bool),
            image: text("Image"),
            connected_via: text("ConnectedVia"),
            insert_target: action_target(value, "#VirtualMedia.InsertMedia"),
            eject_target: action_target(value, "#VirtualMedia.EjectMedia"),
            hpe_boot_on_next_reset: value
                .pointer("/Oem/Hpe/BootOnNextServerReset")
                .and_then(Value::as_bool),
        })
    }

    /// Occupied when `Inserted` or `Image` says so (XCC lets them disagree for a while).
    pub fn is_occupied(&self) -> bool {
        self.inserted == Some(true) || self.image.is_some()
    }

    /// Whether the slot takes `kind`; a slot that lists no `MediaTypes` takes anything.
    pub fn accepts(&self, kind: MediaKind) -> bool {
        self.media_types.is_empty()
            || self
                .media_types
                .iter()
                .any(|t| kind.media_types().contains(&t.as_str()))
    }

    /// Whether a remote URL can go in: the slot is not reserved for the vKVM applet
    /// (`ConnectedVia` `Applet`) and it has an insert action or none at all (PATCH).
    pub fn is_remote_capable(&self) -> bool {
        self.connected_via.as_deref() != Some("Applet")
    }

    /// Whether this slot holds `image` now.
    pub fn holds(&self, image: &str) -> bool {
        self.inserted != Some(false) && self.image.as_deref() == Some(image)
    }
}

/// Indexes of the slots that take `kind`, in the order to try them: free before occupied,
/// remote-capable before applet-only, System level before Manager level, slots that say
/// their media types before those that do not; the BMC's order otherwise.
pub fn rank_slots(slots: &[Slot], kind: MediaKind) -> Vec<usize> {
    let mut order: Vec<usize> = (0..slots.len())
        .filter(|&i| slots[i].accepts(kind))
        .collect();
    order.sort_by_key(|&i| {
        let s = &slots[i];
        (
            s.is_occupied(),
            !s.is_remote_capable(),
            s.level,
            s.media_types.is_empty(),
        )
    });
    order
}

/// The System-level slot `1` moved to the front of `order` when it is in it but not first,
/// for a CD (quirk `idrac10_vmedia_slot_one`: on iDRAC10 only that slot takes an insert).
/// `None` when nothing would change, so the caller asks who the BMC is only then. Pure.
pub fn slot_one_first(slots: &[Slot], order: &[usize], kind: MediaKind) -> Option<Vec<usize>> {
    if kind != MediaKind::Cd {
        return None;
    }
    let one = order
        .iter()
        .position(|&i| slots[i].level == SlotLevel::System && slots[i].id == "1")?;
    if one == 0 {
        return None;
    }
    let mut moved = order.to_vec();
    let index = moved.remove(one);
    moved.insert(0, index);
    Some(moved)
}

/// What an `InsertMedia` (or PATCH) body carries beyond `Image`. Starts empty: the smallest
/// body that works, since Supermicro refuses `Inserted`/`WriteProtected` in the action.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InsertBody {
    /// `TransferProtocolType` from the URL's scheme (Nokia, BMCs answering `GeneralError`).
    pub transfer_protocol: bool,
    /// `TransferMethod: Stream` (OCPBUGS-12703).
    pub transfer_method: bool,
    /// Placeholder `UserName`/`Password` for an anonymous image (NVIDIA DGX).
    pub credentials: bool,
}

/// An addition the BMC's error asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFix {
    /// Add `TransferProtocolType`.
    TransferProtocol,
    /// Add `TransferMethod`.
    TransferMethod,
    /// Add placeholder credentials.
    Credentials,
}

impl InsertBody {
    /// The JSON body for `image`. Through PATCH (no action), `Inserted: true` is required
    /// (XCC) and sent; `WriteProtected` is left at the BMC's default.
    pub fn to_json(self, image: &str, via_patch: bool) -> Value {
        let mut body = json!({ "Image": image });
        if via_patch {
            body["Inserted"] = json!(true);
        }
        if self.transfer_protocol {
            let scheme = image.split_once("://").map_or("http", |(s, _)| s);
            body["TransferProtocolType"] = json!(scheme.to_ascii_uppercase());
        }
        if self.transfer_method {
            body["TransferMethod"] = json!("Stream");
        }
        if self.credentials {
            // Anonymous images: the BMC only wants the fields present (sushy sends the same).
            body["UserName"] = json!("none");
            body["Password"] = json!("none");
        }
        body
    }

    /// The body with `fix` applied, or `None` when it was already applied (so a BMC that
    /// keeps asking cannot make us loop).
    pub fn with(self, fix: BodyFix) -> Option<InsertBody> {
        let mut next = self;
        let flag = match fix {
            BodyFix::TransferProtocol => &mut next.transfer_protocol,
            BodyFix::TransferMethod => &mut next.transfer_method,
            BodyFix::Credentials => &mut next.credentials,
        };
        if *flag {
            return None;
        }
        *flag = true;
        Some(next)
    }
}

/// One message of a BMC error, flattened to what the decisions look at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorText {
    /// `MessageId` (`Base.1.8.ActionParameterMissing`).
    pub message_id: String,
    /// `Message`, `MessageArgs` and `RelatedProperties`, joined.
    pub text: String,
}

fn last_segment(id: &str) -> &str {
    id.rsplit('.').next().unwrap_or(id)
}

/// Which body addition the BMC's error asks for, if any: a "missing" or "required" message
/// (or a `GeneralError` whose text says so) naming `TransferProtocolType`, `TransferMethod`,
/// or `UserName`/`Password`/credentials. Messages saying the parameter is *unknown* or *not
/// supported* never ask for it.
pub fn body_fix_for(messages: &[ErrorText]) -> Option<BodyFix> {
    for m in messages {
        let kind = last_segment(&m.message_id);
        if matches!(
            kind,
            "ActionParameterUnknown" | "ActionParameterNotSupported" | "PropertyUnknown"
        ) {
            continue;
        }
        let text = m.text.to_ascii_lowercase();
        let asks = matches!(
            kind,
            "ActionParameterMissing" | "PropertyMissing" | "CreateFailedMissingReqProperties"
        ) || text.contains("required")
            || text.contains("missing")
            || text.contains("must be");
        if !asks {
            continue;
        }
        if text.contains("transferprotocoltype") {
            return Some(BodyFix::TransferProtocol);
        }
        if text.contains("transfermethod") {
            return Some(BodyFix::TransferMethod);
        }
        if text.contains("username") || text.contains("password") || text.contains("credential") {
            return Some(BodyFix::Credentials);
        }
    }
    None
}

/// What an insert failure means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertFailure {
    /// The BMC could not fetch the image (connection, authorization, not found): no other
    /// slot will do better.
    ImageUnreachable,
    /// The BMC fetched it but refused its format (not an ISO 9660 for a CD slot).
    ImageRejected,
    /// The slot is in use (409 `ResourceInUse`): eject, then try again.
    SlotBusy,
    /// This slot will not take it (400, 404/405 on the action, vKVM-only): try the next slot.
    NextSlot,
    /// A 5xx without a reason we know (iDRAC while an eject is still running): try the same
    /// slot again after a pause, a few times.
    ServerError,
    /// Anything else: stop and report.
    Fatal,
}

/// Reads an insert failure from its status and messages.
pub fn classify_insert_failure(status: Option<u16>, messages: &[ErrorText]) -> InsertFailure {
    let ids: Vec<&str> = messages
        .iter()
        .map(|m| last_segment(&m.message_id))
        .collect();
    let any = |wanted: &[&str]| ids.iter().any(|id| wanted.contains(id));
    let names_image = messages.iter().any(|m| m.text.contains("Image"));
    // A task's messages may carry only text (no id).
    let says_unreachable = messages.iter().any(|m| {
        let text = m.text.to_ascii_lowercase();
        text.contains("establish a connection")
            || text.contains("unreachable")
            || (text.contains("image")
                && (text.contains("not found") || text.contains("authorization error")))
    });
    if says_unreachable
        || any(&[
            "CouldNotEstablishConnection",
            "ResourceAtUriUnauthorized",
            "SourceDoesNotSupportProtocol",
        ])
        || (any(&["ResourceNotFound", "ResourceAtUriInStandby"]) && names_image)
    {
        return InsertFailure::ImageUnreachable;
    }
    if any(&["ActionParameterValueFormatError"]) && names_image {
        return InsertFailure::ImageRejected;
    }
    if status == Some(409) || any(&["ResourceInUse"]) {
        return InsertFailure::SlotBusy;
    }
    match status {
        Some(400 | 404 | 405) => InsertFailure::NextSlot,
        Some(500..=599) => InsertFailure::ServerError,
        _ => InsertFailure::Fatal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(level: SlotLevel, json: &Value) -> Slot {
        Slot::from_json(level, json).unwrap()
    }

    #[test]
    fn slots_are_read_leniently_and_occupancy_uses_inserted_or_image() {
        let s = slot(
            SlotLevel::Manager,
            &json!({"@odata.id": "/m/VM/CD", "Id": "CD", "MediaTypes": ["CD", "DVD"],
                   "Inserted": false, "Image": "http://x/old.iso",
                   "Actions": {"#VirtualMedia.InsertMedia": {"target": "/m/VM/CD/Actions/VirtualMedia.InsertMedia"}}}),
        );
        assert!(
            s.is_occupied(),
            "Image set while Inserted is false still counts"
        );
        assert_eq!(
            s.insert_target.as_deref(),
            Some("/m/VM/CD/Actions/VirtualMedia.InsertMedia")
        );
        assert_eq!(s.eject_target, None);
        let empty = slot(
            SlotLevel::System,
            &json!({"@odata.id": "/s/VM/1", "Image": "", "Inserted": null}),
        );
        assert!(!empty.is_occupied());
        assert!(empty.accepts(MediaKind::Cd) && empty.accepts(MediaKind::Removable));
        assert!(Slot::from_json(SlotLevel::System, &json!({"Id": "x"})).is_none());
    }

    #[test]
    fn debug_does_not_show_the_url_token() {
        let s = slot(
            SlotLevel::System,
            &json!({"@odata.id": "/s/VM/1", "Image": "http://10.0.0.1:8080/SECRETTOKEN/boot.iso", "Inserted": true}),
        );
        let shown = format!("{s:?}");
        assert!(!shown.contains("SECRETTOKEN"), "{shown}");
        assert!(shown.contains("http://10.0.0.1:8080/…/boot.iso"), "{shown}");
    }

    /// Quirk `idrac10_vmedia_slot_one`: the System's slot `1` goes first for a CD even when
    /// the BMC lists it after slot `2`; nothing moves when it is already first, for a USB
    /// stick, or for a Manager-level slot `1`.
    #[test]
    fn idrac10_vmedia_slot_one_goes_first_for_a_cd() {
        let slots = vec![
            slot(
                SlotLevel::System,
                &json!({"@odata.id": "s/2", "Id": "2", "MediaTypes": ["CD", "USBStick"]}),
            ),
            slot(
                SlotLevel::System,
                &json!({"@odata.id": "s/1", "Id": "1", "MediaTypes": ["CD", "USBStick"]}),
            ),
        ];
        let order = rank_slots(&slots, MediaKind::Cd);
        assert_eq!(order, [0, 1]);
        assert_eq!(
            slot_one_first(&slots, &order, MediaKind::Cd),
            Some(vec![1, 0])
        );
        assert_eq!(slot_one_first(&slots, &[1, 0], MediaKind::Cd), None);
        assert_eq!(slot_one_first(&slots, &order, MediaKind::Removable), None);
        let manager = vec![
            slots[0].clone(),
            slot(
                SlotLevel::Manager,
                &json!({"@odata.id": "m/1", "Id": "1", "MediaTypes": ["CD"]}),
            ),
        ];
        assert_eq!(slot_one_first(&manager, &[0, 1], MediaKind::Cd), None);
    }

    #[test]
    fn ranking_prefers_free_remote_system_level_slots_of_the_right_type() {
        let slots = vec![
            slot(
                SlotLevel::Manager,
                &json!({"@odata.id": "m/usb", "MediaTypes": ["USBStick"]}),
            ),
            slot(
                SlotLevel::Manager,
                &json!({"@odata.id": "m/cd", "MediaTypes": ["CD", "DVD"]}),
            ),
            slot(
                SlotLevel::System,
                &json!({"@odata.id": "s/busy", "MediaTypes": ["CD"], "Inserted": true, "Image": "http://a"}),
            ),
            slot(
                SlotLevel::System,
                &json!({"@odata.id": "s/applet", "MediaTypes": ["CD"], "ConnectedVia": "Applet"}),
            ),
            slot(
                SlotLevel::System,
                &json!({"@odata.id": "s/dvd", "MediaTypes": ["DVD"]}),
            ),
            slot(SlotLevel::System, &json!({"@odata.id": "s/any"})),
        ];
        let order: Vec<&str> = rank_slots(&slots, MediaKind::Cd)
            .into_iter()
            .map(|i| slots[i].path.as_str())
            .collect();
        assert_eq!(order, ["s/dvd", "s/any", "m/cd", "s/applet", "s/busy"]);
        let order: Vec<&str> = rank_slots(&slots, MediaKind::Removable)
            .into_iter()
            .map(|i| slots[i].path.as_str())
            .collect();
        assert_eq!(order, ["s/any", "m/usb"]);
    }

    #[test]
    fn the_smallest_body_grows_only_by_what_was_asked_and_never_twice() {
        let body = InsertBody::default();
        assert_eq!(
            body.to_json("https://h/a.iso", false),
            json!({"Image": "https://h/a.iso"})
        );
        assert_eq!(
            body.to_json("http://h/a.iso", true),
            json!({"Image": "http://h/a.iso", "Inserted": true})
        );
        let grown = body
            .with(BodyFix::TransferProtocol)
            .and_then(|b| b.with(BodyFix::TransferMethod))
            .and_then(|b| b.with(BodyFix::Credentials))
            .unwrap();
        assert_eq!(
            grown.to_json("https://h/a.iso", false),
            json!({"Image": "https://h/a.iso", "TransferProtocolType": "HTTPS",
                   "TransferMethod": "Stream", "UserName": "none", "Password": "none"})
        );
        assert_eq!(grown.with(BodyFix::Credentials), None);
    }

    fn msg(id: &str, text: &str) -> ErrorText {
        ErrorText {
            message_id: id.into(),
            text: text.into(),
        }
    }

    #[test]
    fn body_fixes_follow_the_bmc_message() {
        assert_eq!(
            body_fix_for(&[msg(
                "Base.1.8.ActionParameterMissing",
                "The action VirtualMedia.InsertMedia requires the parameter TransferProtocolType to be present"
            )]),
            Some(BodyFix::TransferProtocol)
        );
        // Nokia: only free text in a GeneralError.
        assert_eq!(
            body_fix_for(&[msg(
                "Base.1.5.GeneralError",
                "TransferProtocolType is required for this operation"
            )]),
            Some(BodyFix::TransferProtocol)
        );
        assert_eq!(
            body_fix_for(&[msg(
                "Base.1.8.PropertyMissing",
                "TransferMethod /TransferMethod"
            )]),
            Some(BodyFix::TransferMethod)
        );
        assert_eq!(
            body_fix_for(&[msg(
                "Base.1.0.GeneralError",
                "UserName and Password are required for virtual media"
            )]),
            Some(BodyFix::Credentials)
        );
        assert_eq!(
            body_fix_for(&[msg(
                "Base.1.8.ActionParameterNotSupported",
                "The parameter TransferProtocolType ... is required"
            )]),
            None
        );
        assert_eq!(
            body_fix_for(&[msg("Base.1.8.ActionParameterUnknown", "TransferMethod")]),
            None
        );
        assert_eq!(
            body_fix_for(&[msg("Base.1.8.GeneralError", "internal error")]),
            None
        );
    }

    #[test]
    fn insert_failures_are_read_by_message_then_status() {
        use InsertFailure as F;
        let c = classify_insert_failure;
        assert_eq!(
            c(
                Some(500),
                &[msg(
                    "Base.1.8.CouldNotEstablishConnection",
                    "'http://x/a.iso'"
                )]
            ),
            F::ImageUnreachable
        );
        assert_eq!(
            c(
                Some(400),
                &[msg("Base.1.8.ResourceNotFound", "Image 'x' /Image")]
            ),
            F::ImageUnreachable
        );
        assert_eq!(
            c(
                Some(400),
                &[msg(
                    "Base.1.8.ActionParameterValueFormatError",
                    "Image /Image"
                )]
            ),
            F::ImageRejected
        );
        assert_eq!(
            c(Some(409), &[msg("Base.1.8.ResourceInUse", "")]),
            F::SlotBusy
        );
        assert_eq!(c(Some(405), &[]), F::NextSlot);
        assert_eq!(
            c(
                Some(400),
                &[msg("Base.1.8.PropertyNotWritable", "Inserted")]
            ),
            F::NextSlot
        );
        assert_eq!(
            c(Some(500), &[msg("Base.1.8.InternalError", "")]),
            F::ServerError
        );
        assert_eq!(c(Some(401), &[]), F::Fatal);
        assert_eq!(c(None, &[]), F::Fatal);
        // A failed task often carries only text under a GeneralError.
        assert_eq!(
            c(
                None,
                &[msg(
                    "Base.1.18.GeneralError",
                    "The requested resource of type Image named 'http://x/a.iso' was not found."
                )]
            ),
            F::ImageUnreachable
        );
        assert_eq!(
            c(
                None,
                &[msg(
                    "",
                    "The service failed to establish a connection with the URI"
                )]
            ),
            F::ImageUnreachable
        );
    }
}
