//! [`BmcPort`] over Redfish: redfish-core's [`System`] handle for power, boot override and
//! inventory, `ferrofish-bios` for the BIOS, `ferrofish-vmedia` for virtual media.

use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};

use super::port::{
    BiosPlan, BiosStatus, BmcPort, BootDevice, MediaSlot, MediaStatus, PortError, PortErrorKind,
    Power, SystemReading,
};
use super::state::BootModeChoice;
use super::steps::BiosSetting;
use crate::bios::{AttributeStatus, Bios, BiosError, Profile};
use crate::redfish::{
    BootMode, BootOverride, BootOverrideEnabled, BootSource, Error as RedfishError, Inventory,
    RedfishClient, ResetType, Resource, System, Vendor,
};
use crate::vmedia::{MediaKind, VirtualMedia, redact_url};

/// A node's BMC over Redfish: one System of one client.
#[derive(Clone, Debug)]
pub struct RedfishPort {
    system: System,
    media: VirtualMedia,
}

impl RedfishPort {
    /// A port on `system`.
    pub fn new(system: &System) -> RedfishPort {
        RedfishPort {
            system: system.clone(),
            media: VirtualMedia::new(system),
        }
    }

    /// Connects to `address` (`http(s)://host[:port]`, optionally followed by
    /// `/redfish/v1/Systems/<id>`; without a system path the first System is used).
    pub async fn connect(
        address: &str,
        username: &str,
        password: SecretString,
        request_timeout: Duration,
    ) -> Result<RedfishPort, PortError> {
        Self::connect_as(address, username, password, request_timeout, None).await
    }

    /// [`RedfishPort::connect`], saying who is calling in the `User-Agent` (`ferrofish/VERSION
    /// (AGENT)`): the BMC's logs then show which process (lease holder) sent each request.
    pub async fn connect_as(
        address: &str,
        username: &str,
        password: SecretString,
        request_timeout: Duration,
        agent: Option<&str>,
    ) -> Result<RedfishPort, PortError> {
        let (endpoint, system) = split_address(address);
        let mut builder = RedfishClient::builder(endpoint)
            .credentials(username, password)
            .request_timeout(request_timeout);
        if let Some(agent) = agent {
            builder =
                builder.user_agent(format!("ferrofish/{} ({agent})", env!("CARGO_PKG_VERSION")));
        }
        let client = builder.build().map_err(|err| port_error(&err))?;
        let system = match system {
            Some(path) => client.system(path).await.map_err(|err| port_error(&err))?,
            None => client
                .systems()
                .await
                .map_err(|err| port_error(&err))?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    PortError::new(PortErrorKind::Unsupported, "the BMC lists no system")
                })?,
        };
        Ok(RedfishPort::new(&system))
    }

    /// Changes the pause before an insert is retried after a 5xx (default 3 s; tests and
    /// benchmarks against the mock use less).
    #[must_use]
    pub fn with_media_retry_pause(mut self, pause: Duration) -> RedfishPort {
        self.media = self.media.with_server_error_pause(pause);
        self
    }

    /// The System handle.
    pub fn system(&self) -> &System {
        &self.system
    }

    /// Closes the client's session.
    pub async fn close(&self) {
        if let Err(err) = self.system.client().close().await {
            tracing::debug!(error = %err, "closing the BMC session");
        }
    }

    async fn reset(&self, reset: ResetType) -> Result<(), PortError> {
        self.system
            .reset(reset)
            .await
            .map_err(|err| port_error(&err))
    }

    fn profile(settings: &[BiosSetting]) -> Result<Profile, PortError> {
        let value = serde_json::to_value(settings)
            .map_err(|err| PortError::new(PortErrorKind::Rejected, err.to_string()))?;
        Profile::from_json(&value).map_err(|err| bios_error(&err))
    }
}

/// Splits `http://h:p/redfish/v1/Systems/1` into the endpoint and the system path.
fn split_address(address: &str) -> (&str, Option<&str>) {
    let after_scheme = address.find("://").map_or(0, |i| i + 3);
    match address[after_scheme..].find('/') {
        Some(slash) => {
            let (endpoint, path) = address.split_at(after_scheme + slash);
            let path = path.trim_end_matches('/');
            if path.starts_with("/redfish/v1/Systems/") {
                (endpoint, Some(path))
            } else {
                (endpoint, None)
            }
        }
        None => (address, None),
    }
}

/// A Redfish error in the state machine's terms (its message is already scrubbed).
pub(crate) fn port_error(err: &RedfishError) -> PortError {
    let kind = if err.is_connection() || err.is_timeout() {
        PortErrorKind::Unreachable
    } else if err.is_unauthorized() || err.is_forbidden() {
        PortErrorKind::Unauthorized
    } else if err.is_not_applied() {
        PortErrorKind::NotApplied
    } else if matches!(err, RedfishError::Unsupported { .. }) {
        PortErrorKind::Unsupported
    } else if err.status().is_some_and(|s| (400..500).contains(&s)) || err.is_invalid_input() {
        PortErrorKind::Rejected
    } else {
        PortErrorKind::Failed
    };
    let mut message = err.to_string();
    let said: Vec<String> = err
        .messages()
        .iter()
        .filter_map(|m| m.message.clone())
        .filter(|m| !message.contains(m.as_str()))
        .collect();
    if !said.is_empty() {
        message = format!("{message}: {}", said.join("; "));
    }
    PortError::new(kind, message)
}

fn bios_error(err: &BiosError) -> PortError {
    match err {
        BiosError::Redfish(inner) => port_error(inner),
        BiosError::NoBios { .. } => PortError::new(PortErrorKind::Unsupported, err.to_string()),
        _ => PortError::new(PortErrorKind::Rejected, err.to_string()),
    }
}

fn media_error(err: &crate::vmedia::Error) -> PortError {
    match err {
        crate::vmedia::Error::Redfish(inner) => port_error(inner),
        crate::vmedia::Error::NoSlot { .. } => {
            PortError::new(PortErrorKind::Unsupported, err.to_string())
        }
        _ => PortError::new(PortErrorKind::Rejected, err.to_string()),
    }
}

fn vendor_name(vendor: &Vendor) -> Option<String> {
    match vendor {
        Vendor::Other(name) => Some(name.clone()),
        Vendor::Generic => None,
        known => Some(format!("{known:?}")),
    }
}

fn power(state: Option<&str>) -> Option<Power> {
    state.map(|s| match s {
        "On" => Power::On,
        "Off" => Power::Off,
        "PoweringOn" => Power::PoweringOn,
        "PoweringOff" => Power::PoweringOff,
        _ => Power::Unknown,
    })
}

impl BmcPort for RedfishPort {
    fn address(&self) -> String {
        self.system.url().to_string()
    }

    async fn read_system(&self) -> Result<SystemReading, PortError> {
        let client = self.system.client();
        let system: Resource<Value> = client
            .get(self.system.path())
            .await
            .map_err(|err| port_error(&err))?;
        let text = |pointer: &str| {
            system
                .value
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        // Vendor detection is cached by the client: one read per BMC, not per call.
        let vendor = match client.vendor().await {
            Ok(vendor) => vendor_name(&vendor),
            Err(err) => return Err(port_error(&err)),
        }
        .or_else(|| text("/Manufacturer"));
        Ok(SystemReading {
            power: power(text("/PowerState").as_deref()),
            override_target: text("/Boot/BootSourceOverrideTarget"),
            override_enabled: text("/Boot/BootSourceOverrideEnabled"),
            boot_progress: text("/BootProgress/LastState"),
            vendor,
        })
    }

    async fn power_on(&self) -> Result<(), PortError> {
        self.reset(ResetType::On).await
    }

    async fn power_off(&self) -> Result<(), PortError> {
        self.reset(ResetType::ForceOff).await
    }

    async fn reset(&self) -> Result<(), PortError> {
        RedfishPort::reset(self, ResetType::ForceRestart).await
    }

    async fn set_boot_override(
        &self,
        device: BootDevice,
        persistent: bool,
        mode: Option<BootModeChoice>,
    ) -> Result<bool, PortError> {
        let target = match device {
            BootDevice::Cd => BootSource::Cd,
            BootDevice::Disk => BootSource::Hdd,
            BootDevice::Pxe => BootSource::Pxe,
        };
        let outcome = self
            .system
            .set_boot_override(BootOverride {
                target,
                enabled: if persistent {
                    BootOverrideEnabled::Continuous
                } else {
                    BootOverrideEnabled::Once
                },
                mode: mode.map(|m| match m {
                    BootModeChoice::Uefi => BootMode::Uefi,
                    BootModeChoice::Bios => BootMode::Legacy,
                }),
            })
            .await
            .map_err(|err| port_error(&err))?;
        Ok(!persistent && outcome.must_clear_after_boot())
    }

    async fn clear_boot_override(&self) -> Result<(), PortError> {
        match self
            .system
            .set_boot_override(BootOverride {
                target: BootSource::Cd,
                enabled: BootOverrideEnabled::Disabled,
                mode: None,
            })
            .await
        {
            Ok(_) => Ok(()),
            // Some BMCs keep the last target with `Disabled`; the override is off all the same.
            Err(err) if err.is_not_applied() => {
                let read = self.read_system().await?;
                if read.override_enabled.as_deref() == Some("Disabled") {
                    Ok(())
                } else {
                    Err(port_error(&err))
                }
            }
            Err(err) => Err(port_error(&err)),
        }
    }

    async fn inventory(&self) -> Result<Inventory, PortError> {
        self.system
            .inventory()
            .await
            .map_err(|err| port_error(&err))
    }

    async fn bios_plan(&self, settings: &[BiosSetting]) -> Result<BiosPlan, PortError> {
        let profile = Self::profile(settings)?;
        match Bios::new(&self.system).plan(&profile).await {
            Ok((_, plan)) => Ok(BiosPlan {
                problems: Vec::new(),
                changes: plan.diff.changes.iter().map(|c| c.name.clone()).collect(),
                already_pending: plan.diff.already_pending.clone(),
            }),
            Err(BiosError::Invalid { problems }) => Ok(BiosPlan {
                problems: problems.iter().map(ToString::to_string).collect(),
                ..BiosPlan::default()
            }),
            Err(err) => Err(bios_error(&err)),
        }
    }

    async fn bios_stage(&self, settings: &[BiosSetting]) -> Result<bool, PortError> {
        let profile = Self::profile(settings)?;
        Bios::new(&self.system)
            .stage(&profile)
            .await
            .map(|staged| staged.sent)
            .map_err(|err| bios_error(&err))
    }

    async fn bios_status(&self, settings: &[BiosSetting]) -> Result<BiosStatus, PortError> {
        let profile = Self::profile(settings)?;
        let (snapshot, plan) = Bios::new(&self.system)
            .plan(&profile)
            .await
            .map_err(|err| bios_error(&err))?;
        // The BMC's verdict on the last apply names the attributes it refused (quirk
        // `bios_rejected_at_apply`: firmware that checks a value only at POST).
        let rejected = crate::bios::apply::verify(
            &plan.diff.changes,
            &snapshot.current,
            &snapshot.pending,
            &snapshot.settings.messages,
            None,
            snapshot.quirks.pending_lists_all_attributes,
        )
        .into_iter()
        .filter_map(|outcome| match outcome.status {
            AttributeStatus::Rejected {
                message_id,
                message,
            } => Some(format!(
                "{}: {}",
                outcome.name,
                message
                    .or(message_id)
                    .unwrap_or_else(|| "refused".to_owned())
            )),
            _ => None,
        })
        .collect();
        // Still to send, or sent and still pending (Dell-style pending objects list only
        // changes; `Diff` already ignores pending where it lists every attribute).
        let not_applied = plan
            .diff
            .changes
            .iter()
            .map(|c| c.name.clone())
            .chain(plan.diff.already_pending.iter().cloned())
            .collect();
        Ok(BiosStatus {
            not_applied,
            rejected,
        })
    }

    async fn bios_factory_reset(&self) -> Result<(), PortError> {
        let bios = Bios::new(&self.system);
        let path = bios.bios_path().await.map_err(|err| bios_error(&err))?;
        let client = self.system.client();
        let resource: Resource<Value> = client.get(&path).await.map_err(|err| port_error(&err))?;
        let target = resource
            .value
            .pointer("/Actions/#Bios.ResetBios/target")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                PortError::new(
                    PortErrorKind::Unsupported,
                    format!("{path} offers no #Bios.ResetBios action"),
                )
            })?
            .to_owned();
        // `{}` rather than no body: some iDRACs refuse the action without one (quirk
        // `reset_bios_needs_body`).
        client
            .post(&target, &json!({}))
            .await
            .map(|_| ())
            .map_err(|err| port_error(&err))
    }

    async fn media_status(&self) -> Result<MediaStatus, PortError> {
        let slots = self.media.slots().await.map_err(|err| media_error(&err))?;
        Ok(MediaStatus {
            occupied: slots
                .iter()
                .filter(|s| {
                    s.is_occupied() && (s.accepts(MediaKind::Cd) || s.accepts(MediaKind::Removable))
                })
                .map(|s| {
                    (
                        s.path.clone(),
                        s.image.as_deref().map(redact_url).unwrap_or_default(),
                    )
                })
                .collect(),
        })
    }

    async fn eject_all(&self) -> Result<(), PortError> {
        self.media
            .eject_all(MediaKind::Cd)
            .await
            .map_err(|err| media_error(&err))?;
        self.media
            .eject_all(MediaKind::Removable)
            .await
            .map(|_| ())
            .map_err(|err| media_error(&err))
    }

    async fn insert(&self, image: &str, slot: MediaSlot) -> Result<(), PortError> {
        let kind = match slot {
            MediaSlot::Cd => MediaKind::Cd,
            MediaSlot::Removable => MediaKind::Removable,
        };
        self.media
            .insert(image, kind)
            .await
            .map(|_| ())
            .map_err(|err| media_error(&err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_into_endpoint_and_system() {
        assert_eq!(
            split_address("http://127.0.0.1:8000/redfish/v1/Systems/1"),
            ("http://127.0.0.1:8000", Some("/redfish/v1/Systems/1"))
        );
        assert_eq!(
            split_address("https://bmc.example/"),
            ("https://bmc.example", None)
        );
        assert_eq!(split_address("bmc.example"), ("bmc.example", None));
    }

    #[test]
    fn power_states_map() {
        assert_eq!(power(Some("On")), Some(Power::On));
        assert_eq!(power(Some("Paused")), Some(Power::Unknown));
        assert_eq!(power(None), None);
    }
}
