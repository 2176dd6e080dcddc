//! Virtual media of one system, over the public resource layer of `ferrofish-redfish-core`:
//! discover the slots (System and Manager level), eject stale media, insert with the action or
//! PATCH, follow a 202 task, verify with a GET, eject. Decisions come from [`crate::slots`].
//!
//! Requests are counted (the goal: insert + boot once + reset + eject in 7 on a client that
//! knows its vendor): the System is read once and kept, the slot listing is one expanded
//! GET, an empty slot is never ejected, and the insert is verified by one GET of the slot.

use std::collections::HashSet;
use std::time::Duration;

use ferrofish_redfish_core::{Resource, System, TaskWait};
use serde_json::{Value, json};

use crate::boot::BootPhase;
use crate::error::Error;
use crate::slots::{
    ErrorText, InsertBody, InsertFailure, MediaKind, Slot, SlotLevel, body_fix_for,
    classify_insert_failure, rank_slots, redact_url, slot_one_first,
};

/// At most this many POSTs per slot while the BMC asks for more body fields (sushy: 4).
const MAX_BODY_ATTEMPTS: usize = 4;
/// Inserts retried on the same slot after a 5xx without a known reason (Ironic: 3, 3 s apart).
const MAX_SERVER_ERROR_RETRIES: usize = 3;

/// The virtual media of one system. Cheap to build; every call reads what it needs.
#[derive(Clone, Debug)]
pub struct VirtualMedia {
    system: System,
    task_wait: TaskWait,
    server_error_pause: Duration,
    /// Boot from virtual media on an iDRAC whose firmware predates standard virtual-media
    /// boot (quirk `idrac_vmedia_boot_before_6`) instead of refusing.
    allow_old_idrac_boot: bool,
}

/// The BMC's messages flattened for the decisions in [`crate::slots`].
fn error_texts(err: &ferrofish_redfish_core::Error) -> Vec<ErrorText> {
    err.messages()
        .iter()
        .map(|m| {
            let mut text = m.message.clone().unwrap_or_default();
            for arg in &m.message_args {
                text.push(' ');
                text.push_str(arg);
            }
            if let Some(related) = m.extra.get("RelatedProperties") {
                text.push(' ');
                text.push_str(&related.to_string());
            }
            ErrorText {
                message_id: m.message_id.clone().unwrap_or_default(),
                text,
            }
        })
        .collect()
}

/// What the BMC said, for an error message, with the image URL redacted wherever it appears.
fn bmc_message(err: &ferrofish_redfish_core::Error, image: &str) -> String {
    let texts: Vec<String> = err
        .messages()
        .iter()
        .filter_map(|m| m.message.clone())
        .collect();
    let said = if texts.is_empty() {
        err.to_string()
    } else {
        texts.join("; ")
    };
    said.replace(image, &redact_url(image))
}

impl VirtualMedia {
    /// The virtual media of `system`. Tasks (an insert answered with 202) are followed for at
    /// most 10 minutes.
    pub fn new(system: &System) -> VirtualMedia {
        VirtualMedia {
            system: system.clone(),
            task_wait: TaskWait {
                timeout: Duration::from_secs(600),
                ..TaskWait::default()
            },
            server_error_pause: Duration::from_secs(3),
            allow_old_idrac_boot: false,
        }
    }

    /// Lets [`VirtualMedia::boot_from_iso`] go ahead on a Dell iDRAC8, or an iDRAC9 below
    /// 6.00, which it otherwise refuses before sending anything (quirk
    /// `idrac_vmedia_boot_before_6`): for a firmware whose version misleads detection, or
    /// to try anyway.
    #[must_use]
    pub fn allow_idrac_vmedia_boot_before_6(mut self, allow: bool) -> VirtualMedia {
        self.allow_old_idrac_boot = allow;
        self
    }

    /// Whether the boot is refused on an old iDRAC (see
    /// [`VirtualMedia::allow_idrac_vmedia_boot_before_6`]).
    pub(crate) fn allows_old_idrac_boot(&self) -> bool {
        self.allow_old_idrac_boot
    }

    /// Changes how a task is followed.
    #[must_use]
    pub fn with_task_wait(mut self, wait: TaskWait) -> VirtualMedia {
        self.task_wait = wait;
        self
    }

    /// Changes the pause before an insert is retried after a 5xx (default 3 s).
    #[must_use]
    pub fn with_server_error_pause(mut self, pause: Duration) -> VirtualMedia {
        self.server_error_pause = pause;
        self
    }

    /// Whether the BMC is a Dell iDRAC10 (its Manager read only on Dell, where quirk
    /// resolution reads it anyway).
    async fn is_idrac10(&self) -> Result<bool, Error> {
        let client = self.system.client();
        if client.vendor().await? != ferrofish_redfish_core::Vendor::Dell {
            return Ok(false);
        }
        let identity = client.identity().await?;
        Ok(crate::idrac::is_idrac10(
            identity.model.as_deref(),
            identity.firmware.as_deref(),
        ))
    }

    /// The system this is about.
    pub fn system(&self) -> &System {
        &self.system
    }

    /// Every slot, System level first, then each managing Manager's (both levels are read,
    /// as Ironic's eject does: iDRAC9 on 6.x firmware has both).
    pub async fn slots(&self) -> Result<Vec<Slot>, Error> {
        Ok(self.discover(Levels::All).await?.slots)
    }

    /// Reads the System and the slots at `levels`. The System read is kept: the boot sets its
    /// override with the entity tag it carries and resets through its action target, without
    /// reading it again.
    pub(crate) async fn discover(&self, levels: Levels) -> Result<Discovery, Error> {
        let client = self.system.client();
        let system: Resource<Value> = client.get(self.system.path()).await?;
        let mut seen = HashSet::new();
        let mut slots = Vec::new();
        if let Some(path) = odata_id(system.value.get("VirtualMedia")) {
            seen.insert(path.clone());
            // One GET where the BMC expands collections.
            let members: Vec<Value> = client.collection(&path).await?;
            slots.extend(
                members
                    .iter()
                    .filter_map(|member| Slot::from_json(SlotLevel::System, member)),
            );
        }
        if levels == Levels::All || seen.is_empty() {
            let managers = system
                .value
                .pointer("/Links/ManagedBy")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for manager in managers {
                let Some(path) = odata_id(Some(&manager)) else {
                    continue;
                };
                let Some(members) = manager_slots(client, &path, &mut seen).await? else {
                    continue;
                };
                slots.extend(
                    members
                        .iter()
                        .filter_map(|member| Slot::from_json(SlotLevel::Manager, member)),
                );
            }
        }
        Ok(Discovery {
            system,
            slots,
            all_levels: levels == Levels::All,
        })
    }

    /// Reads one slot again.
    pub async fn read_slot(&self, slot: &Slot) -> Result<Slot, Error> {
        let value: Resource<Value> = self.system.client().get(&slot.path).await?;
        Ok(
            Slot::from_json(slot.level, &value.value).unwrap_or_else(|| Slot {
                path: slot.path.clone(),
                ..slot.clone()
            }),
        )
    }

    /// Ejects `slot` as last read. Nothing is sent for a slot that is already empty.
    /// `EjectMedia` carries `{}` (iLO refuses an empty body); slots without the action get a
    /// PATCH (`Image: null, Inserted: false`), read back after. An action's 2xx answer is taken
    /// as done, as sushy and Ironic take it (a slot that still shows the old image afterwards, as iDRAC's may for
    /// a moment, is ejected again by the next insert, which ejects first and retries a 409);
    /// a 202 is followed to its task's end and the slot read back ([`Error::NotEjected`] when
    /// it still holds media). An error on a slot that a re-read shows empty (iLO's answer for
    /// an empty slot) is fine.
    pub async fn eject(&self, slot: &Slot) -> Result<(), Error> {
        if !slot.is_occupied() {
            return Ok(());
        }
        let client = self.system.client();
        let sent = match &slot.eject_target {
            Some(target) => client.post(target, &json!({})).await,
            None => {
                client
                    .patch(&slot.path, &json!({"Image": null, "Inserted": false}))
                    .await
            }
        };
        match sent {
            Ok(response) if response.is_accepted() => {
                client
                    .wait_task(response, &self.task_wait, &mut |_| {})
                    .await?;
                if self.read_slot(slot).await?.is_occupied() {
                    return Err(Error::NotEjected {
                        slot: slot.path.clone(),
                    });
                }
                Ok(())
            }
            // By PATCH (XCC) the slot is read back: its ETag changed under us and the insert
            // PATCH that follows needs the new one (else a 412 round trip), and XCC's `Image`
            // and `Inserted` may disagree for a while (quirk `image_and_inserted_disagree`).
            Ok(_) if slot.eject_target.is_none() => {
                if self.read_slot(slot).await?.is_occupied() {
                    return Err(Error::NotEjected {
                        slot: slot.path.clone(),
                    });
                }
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(err) => {
                if !self.read_slot(slot).await?.is_occupied() {
                    return Ok(());
                }
                Err(err.into())
            }
        }
    }

    /// Ejects every occupied slot that takes `kind`, at both levels; returns the slots it
    /// ejected.
    pub async fn eject_all(&self, kind: MediaKind) -> Result<Vec<Slot>, Error> {
        let slots = self.slots().await?;
        let mut ejected = Vec::new();
        for slot in slots
            .into_iter()
            .filter(|s| s.accepts(kind) && s.is_occupied())
        {
            self.eject(&slot).await?;
            ejected.push(slot);
        }
        Ok(ejected)
    }

    /// Inserts `image` (an `http(s)` URL the BMC can reach) into the best slot for `kind`:
    /// stale media of that kind is ejected first (every slot: BMCs report old images
    /// unreliably), then slots are tried in [`rank_slots`] order with the smallest body,
    /// growing it only as the BMC's error asks; a 202 is followed to the task's end; the slot
    /// is read back to check `Inserted` and `Image`. Returns the slot as read back.
    ///
    /// Slots are looked for where Ironic inserts: in the System's collection when it has one,
    /// else in each Manager's (both levels are read when the System's has no slot for
    /// `kind`). The listing is one GET per collection where the BMC expands collections, and
    /// is what the stale-media ejection works from: a slot it shows empty costs nothing.
    pub async fn insert(&self, image: &str, kind: MediaKind) -> Result<Slot, Error> {
        let found = self.discover(Levels::Preferred).await?;
        self.insert_among(found, image, kind, &mut |_| {}).await
    }

    /// [`VirtualMedia::insert`] on slots already listed; progress goes to `progress`.
    pub(crate) async fn insert_among(
        &self,
        found: Discovery,
        image: &str,
        kind: MediaKind,
        progress: &mut (dyn FnMut(&BootPhase) + Send),
    ) -> Result<Slot, Error> {
        let mut found = found;
        if rank_slots(&found.slots, kind).is_empty() && !found.all_levels {
            found = self.discover(Levels::All).await?;
        }
        let mut slots = found.slots;
        let order = rank_slots(&slots, kind);
        if order.is_empty() {
            return Err(Error::NoSlot {
                kind,
                found: slots.len(),
            });
        }
        for &i in &order {
            if slots[i].is_occupied() {
                progress(&BootPhase::EjectingStale {
                    slot: slots[i].path.clone(),
                });
            }
            self.eject_or_busy(&slots[i], image).await?;
            // Ejected: free now, and ranked as such below.
            slots[i].inserted = Some(false);
            slots[i].image = None;
        }
        let mut order = rank_slots(&slots, kind);
        if let Some(moved) = slot_one_first(&slots, &order, kind)
            && self.is_idrac10().await?
        {
            order = moved;
        }
        let mut first: Option<String> = None;
        let mut last: Option<String> = None;
        for &i in &order {
            let slot = &slots[i];
            progress(&BootPhase::Inserting {
                slot: slot.path.clone(),
            });
            let mut outcome = self.insert_into(slot, image, progress).await;
            let mut server_errors = 0;
            while let Err(err) = &outcome
                && classify_insert_failure(err.status(), &error_texts(err))
                    == InsertFailure::ServerError
                && server_errors < MAX_SERVER_ERROR_RETRIES
            {
                server_errors += 1;
                tracing::debug!(slot = %slot.path, error = %err, "5xx on insert; retrying the slot");
                tokio::time::sleep(self.server_error_pause).await;
                outcome = self.insert_into(slot, image, progress).await;
            }
            if let Err(err) = &outcome
                && classify_insert_failure(err.status(), &error_texts(err))
                    == InsertFailure::SlotBusy
            {
                // The BMC still holds the old image (iDRAC right after an eject): once more.
                let current = self.read_slot(slot).await?;
                self.eject_or_busy(&current, image).await?;
                outcome = self.insert_into(slot, image, progress).await;
            }
            let Err(err) = outcome else {
                return self.verify_inserted(slot, image).await;
            };
            match classify_insert_failure(err.status(), &error_texts(&err)) {
                InsertFailure::ImageUnreachable => {
                    return Err(Error::ImageUnreachable {
                        image: redact_url(image),
                        bmc_message: bmc_message(&err, image),
                    });
                }
                InsertFailure::ImageRejected => {
                    return Err(Error::ImageRejected {
                        image: redact_url(image),
                        bmc_message: bmc_message(&err, image),
                    });
                }
                InsertFailure::NextSlot | InsertFailure::SlotBusy => {
                    tracing::debug!(slot = %slot.path, error = %err, "slot refused the insert; trying the next");
                    let text = format!("{}: {}", slot.path, bmc_message(&err, image));
                    first.get_or_insert_with(|| text.clone());
                    last = Some(text);
                }
                InsertFailure::ServerError | InsertFailure::Fatal => return Err(err.into()),
            }
        }
        Err(Error::InsertFailed {
            first: first.unwrap_or_default(),
            last: last.unwrap_or_default(),
        })
    }

    /// Ejects `slot` unless it is empty; a refusal on a slot holding another image is
    /// [`Error::SlotBusy`].
    async fn eject_or_busy(&self, slot: &Slot, image: &str) -> Result<(), Error> {
        match self.eject(slot).await {
            Err(Error::Redfish(err)) if !slot.holds(image) => Err(Error::SlotBusy {
                slot: slot.path.clone(),
                image: slot
                    .image
                    .as_deref()
                    .map_or_else(|| "an unnamed image".to_owned(), redact_url),
                reason: bmc_message(&err, image),
            }),
            other => other,
        }
    }

    /// One slot: POST the action (or PATCH), growing the body as asked, following a 202.
    async fn insert_into(
        &self,
        slot: &Slot,
        image: &str,
        progress: &mut (dyn FnMut(&BootPhase) + Send),
    ) -> Result<(), ferrofish_redfish_core::Error> {
        let client = self.system.client();
        let mut body = InsertBody::default();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let json = body.to_json(image, slot.insert_target.is_none());
            let sent = match &slot.insert_target {
                Some(target) => client.post(target, &json).await,
                None => client.patch(&slot.path, &json).await,
            };
            match sent {
                Ok(response) => {
                    if response.is_accepted() {
                        progress(&BootPhase::WaitingForTask {
                            monitor: response.location().map(str::to_owned),
                        });
                        client
                            .wait_task(response, &self.task_wait, &mut |_| {})
                            .await?;
                    }
                    return Ok(());
                }
                Err(err) => {
                    let fix = body_fix_for(&error_texts(&err)).and_then(|f| body.with(f));
                    match fix {
                        Some(next) if attempts < MAX_BODY_ATTEMPTS => {
                            tracing::debug!(slot = %slot.path, ?next, "the BMC asks for more in the insert body");
                            body = next;
                        }
                        _ => return Err(err),
                    }
                }
            }
        }
    }

    /// One GET: the slot must show `Inserted` (or not say) and `Image` equal to the URL.
    async fn verify_inserted(&self, slot: &Slot, image: &str) -> Result<Slot, Error> {
        let now = self.read_slot(slot).await?;
        if now.holds(image) {
            Ok(now)
        } else {
            Err(Error::NotInserted {
                slot: slot.path.clone(),
                found: now.image.as_deref().map(redact_url),
            })
        }
    }
}

/// Which collections discovery reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Levels {
    /// The System's when it links one, else the Managers' (where Ironic inserts).
    Preferred,
    /// The System's and every managing Manager's.
    All,
}

/// What discovery read.
#[derive(Clone, Debug)]
pub(crate) struct Discovery {
    /// The System, with its entity tag.
    pub(crate) system: Resource<Value>,
    /// The slots found.
    pub(crate) slots: Vec<Slot>,
    /// Whether both levels were read.
    pub(crate) all_levels: bool,
}

fn odata_id(link: Option<&Value>) -> Option<String> {
    link?.get("@odata.id")?.as_str().map(str::to_owned)
}

/// The members of a Manager's virtual-media collection: read at the URI the Redfish schema
/// gives it (`{manager}/VirtualMedia`), which saves reading the Manager for its link; a
/// Manager that keeps it elsewhere (a 4xx or another resource there) is read for the link. `None` when the
/// Manager has no virtual media, or its collection was listed already.
async fn manager_slots(
    client: &ferrofish_redfish_core::RedfishClient,
    manager: &str,
    seen: &mut HashSet<String>,
) -> Result<Option<Vec<Value>>, Error> {
    let schema_path = format!("{}/VirtualMedia", manager.trim_end_matches('/'));
    if seen.contains(&schema_path) {
        return Ok(None);
    }
    match client.collection::<Value>(&schema_path).await {
        Ok(members) => {
            seen.insert(schema_path);
            return Ok(Some(members));
        }
        // Elsewhere, or something else there: the Manager's own link decides.
        Err(err) if err.is_decode() || err.status().is_some_and(|s| (400..500).contains(&s)) => {}
        Err(err) => return Err(err.into()),
    }
    let manager: Resource<Value> = client.get(manager).await?;
    let Some(path) = odata_id(manager.value.get("VirtualMedia")) else {
        return Ok(None);
    };
    if !seen.insert(path.clone()) {
        return Ok(None);
    }
    Ok(Some(client.collection(&path).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_only_scheme_host_port_and_file_name() {
        assert_eq!(
            redact_url("http://user:pw@10.0.0.1:8080/0123abcd/boot.iso?sig=SECRET"),
            "http://10.0.0.1:8080/…/boot.iso"
        );
        assert_eq!(redact_url("https://h/boot.iso"), "https://h/boot.iso");
        assert!(!redact_url("not a url with SECRET").contains("SECRET"));
    }
}
