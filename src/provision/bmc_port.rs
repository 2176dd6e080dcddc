//! [`BmcPort`] over the facade's [`Bmc`], and [`BmcConnector`], which opens one per node from
//! its BMC address (the Metal3 schemes of [`crate::BmcAddress`]) and a credentials reference.
//!
//! Power and the boot override go through [`Bmc`]'s Redfish → IPMI fallback, so a combined
//! endpoint keeps provisioning while its Redfish side is down; the protocol that did it is
//! logged. BIOS, virtual media and the inventory are Redfish's ([`RedfishPort`] on the
//! [`Bmc`]'s system, one code path): over IPMI alone they are [`PortErrorKind::Unsupported`],
//! never a silent no-op.

use secrecy::SecretString;

use super::ProvisionError;
use super::fleet::Connector;
use super::node::Node;
use super::port::{
    BiosPlan, BiosStatus, BmcPort, BootDevice, MediaSlot, MediaStatus, PortError, PortErrorKind,
    Power, SystemReading,
};
use super::redfish_port::{RedfishPort, port_error};
use super::state::BootModeChoice;
use super::steps::BiosSetting;
use crate::address::Protocol;
use crate::bmc::{Bmc, BmcOptions, Credentials, Outcome, PowerAction};
use crate::error::{Capability, Error};
use crate::redfish::{BootMode, Inventory, PowerState};

/// A facade error in the state machine's terms (messages are already scrubbed).
pub(crate) fn facade_port_error(err: &Error) -> PortError {
    if err.is_unsupported() {
        return PortError::new(PortErrorKind::Unsupported, err.to_string());
    }
    // A failed fallback answers for its last attempt; a lone Redfish error keeps the
    // BMC's messages as `RedfishPort` reports them.
    if let Error::Redfish(inner) = err {
        return port_error(inner);
    }
    let kind = if err.is_connection() || err.is_timeout() {
        PortErrorKind::Unreachable
    } else if err.is_auth() || err.is_forbidden() {
        PortErrorKind::Unauthorized
    } else if err.is_not_applied() {
        PortErrorKind::NotApplied
    } else if err.is_invalid_input() || err.status().is_some_and(|s| (400..500).contains(&s)) {
        PortErrorKind::Rejected
    } else {
        PortErrorKind::Failed
    };
    PortError::new(kind, err.to_string())
}

fn unsupported_over_ipmi(capability: Capability) -> PortError {
    facade_port_error(&Error::Unsupported {
        capability,
        protocol: Protocol::Ipmi,
    })
}

/// Logs which protocol did a change, and why Redfish was not used when IPMI did it.
fn note<T>(bmc: &Bmc, what: &str, outcome: &Outcome<T>) {
    if let Some(reason) = &outcome.fallback_reason {
        tracing::info!(bmc = %bmc.address(), via = %outcome.via, %reason, "{what}");
    } else {
        tracing::debug!(bmc = %bmc.address(), via = %outcome.via, "{what}");
    }
}

impl Bmc {
    /// The Redfish port on this BMC's system, or `Unsupported` for `capability` over IPMI.
    async fn redfish_port(&self, capability: Capability) -> Result<RedfishPort, PortError> {
        if self.redfish_client().is_none() {
            return Err(unsupported_over_ipmi(capability));
        }
        let system = self.system().await.map_err(|err| facade_port_error(&err))?;
        Ok(RedfishPort::new(&system))
    }

    async fn power_action(&self, action: PowerAction) -> Result<(), PortError> {
        let outcome = self
            .power(action)
            .await
            .map_err(|err| facade_port_error(&err))?;
        note(self, action.as_str(), &outcome);
        Ok(())
    }

    /// The power state alone (IPMI, or Redfish then IPMI), as a reading.
    async fn power_reading(&self) -> Result<SystemReading, PortError> {
        let outcome = self
            .power_state()
            .await
            .map_err(|err| facade_port_error(&err))?;
        Ok(SystemReading {
            power: Some(match outcome.value {
                PowerState::On => Power::On,
                PowerState::Off => Power::Off,
                PowerState::PoweringOn => Power::PoweringOn,
                PowerState::PoweringOff => Power::PoweringOff,
                _ => Power::Unknown,
            }),
            ..SystemReading::default()
        })
    }
}

impl BmcPort for Bmc {
    fn address(&self) -> String {
        Bmc::address(self).to_string()
    }

    async fn read_system(&self) -> Result<SystemReading, PortError> {
        if self.redfish_client().is_none() {
            return self.power_reading().await;
        }
        let redfish = match self.redfish_port(Capability::Power).await {
            Ok(port) => port.read_system().await,
            Err(err) => Err(err),
        };
        match redfish {
            // On a combined endpoint whose Redfish side is down, the power state still reads
            // over IPMI (the override and BootProgress stay unknown).
            Err(err)
                if self.capabilities().protocols().contains(&Protocol::Ipmi)
                    && matches!(err.kind, PortErrorKind::Unreachable | PortErrorKind::Failed) =>
            {
                tracing::info!(bmc = %Bmc::address(self), error = %err, "reading the System failed; reading the power over IPMI");
                self.power_reading().await
            }
            other => other,
        }
    }

    async fn power_on(&self) -> Result<(), PortError> {
        self.power_action(PowerAction::On).await
    }

    async fn power_off(&self) -> Result<(), PortError> {
        self.power_action(PowerAction::Off).await
    }

    async fn reset(&self) -> Result<(), PortError> {
        self.power_action(PowerAction::Reboot).await
    }

    async fn set_boot_override(
        &self,
        device: BootDevice,
        persistent: bool,
        mode: Option<BootModeChoice>,
    ) -> Result<bool, PortError> {
        let device = match device {
            BootDevice::Cd => crate::bmc::BootDevice::Cdrom,
            BootDevice::Disk => crate::bmc::BootDevice::Disk,
            BootDevice::Pxe => crate::bmc::BootDevice::Pxe,
        };
        let mode = mode.map(|m| match m {
            BootModeChoice::Uefi => BootMode::Uefi,
            BootModeChoice::Bios => BootMode::Legacy,
        });
        let outcome = self
            .set_boot_device(device, persistent, mode)
            .await
            .map_err(|err| facade_port_error(&err))?;
        note(self, "boot device set", &outcome);
        Ok(!persistent && outcome.value.must_clear_after_boot)
    }

    async fn clear_boot_override(&self) -> Result<(), PortError> {
        // IPMI's boot flags lapse by themselves after one boot; clearing a persistent one
        // needs Redfish.
        self.redfish_port(Capability::BootDevice)
            .await?
            .clear_boot_override()
            .await
    }

    async fn inventory(&self) -> Result<Inventory, PortError> {
        Bmc::inventory(self)
            .await
            .map_err(|err| facade_port_error(&err))
    }

    async fn bios_plan(&self, settings: &[BiosSetting]) -> Result<BiosPlan, PortError> {
        self.redfish_port(Capability::Bios)
            .await?
            .bios_plan(settings)
            .await
    }

    async fn bios_stage(&self, settings: &[BiosSetting]) -> Result<bool, PortError> {
        self.redfish_port(Capability::Bios)
            .await?
            .bios_stage(settings)
            .await
    }

    async fn bios_status(&self, settings: &[BiosSetting]) -> Result<BiosStatus, PortError> {
        self.redfish_port(Capability::Bios)
            .await?
            .bios_status(settings)
            .await
    }

    async fn bios_factory_reset(&self) -> Result<(), PortError> {
        self.redfish_port(Capability::Bios)
            .await?
            .bios_factory_reset()
            .await
    }

    async fn media_status(&self) -> Result<MediaStatus, PortError> {
        self.redfish_port(Capability::VirtualMedia)
            .await?
            .media_status()
            .await
    }

    async fn eject_all(&self) -> Result<(), PortError> {
        self.redfish_port(Capability::VirtualMedia)
            .await?
            .eject_all()
            .await
    }

    async fn insert(&self, image: &str, slot: MediaSlot) -> Result<(), PortError> {
        self.redfish_port(Capability::VirtualMedia)
            .await?
            .insert(image, slot)
            .await
    }
}

/// Opens a [`Bmc`] per node from its [`super::BmcRef`]: the address in any scheme
/// [`crate::BmcAddress`] accepts (`redfish-virtualmedia://…`, `idrac-virtualmedia://…`,
/// `ipmi://…`, `http(s)://…`, a bare host), the user name, and the password read from the
/// environment variable `password_env` names at connect time (never stored). Nodes that name
/// no `password_env` use the credentials given to [`BmcConnector::with_credentials`], if any.
#[derive(Clone, Debug)]
pub struct BmcConnector {
    options: BmcOptions,
    shared: Option<Credentials>,
}

impl Default for BmcConnector {
    fn default() -> BmcConnector {
        BmcConnector::new(BmcOptions::default())
    }
}

impl BmcConnector {
    /// A connector building each [`Bmc`] with `options`.
    pub fn new(options: BmcOptions) -> BmcConnector {
        BmcConnector {
            options,
            shared: None,
        }
    }

    /// Credentials for the nodes whose reference names no `password_env` (one login for a
    /// fleet given on the command line, the embedded mock).
    #[must_use]
    pub fn with_credentials(mut self, credentials: Credentials) -> BmcConnector {
        self.shared = Some(credentials);
        self
    }

    /// The options each [`Bmc`] is built with.
    pub fn options(&self) -> &BmcOptions {
        &self.options
    }

    /// The credentials for `node`: its `username` and the variable `password_env` names, else
    /// the shared ones. Errors name the node and the variable, never a value.
    pub fn credentials_for(&self, node: &Node) -> Result<Credentials, ProvisionError> {
        let failed = |reason: String| ProvisionError::Connect {
            node: node.name.clone(),
            reason,
        };
        let Some(var) = node.bmc.password_env.as_deref() else {
            return self.shared.clone().ok_or_else(|| {
                failed(
                    "its BMC reference names no password_env and no credentials were given".into(),
                )
            });
        };
        let user = node
            .bmc
            .username
            .as_deref()
            .or_else(|| self.shared.as_ref().map(Credentials::username))
            .ok_or_else(|| failed("no username in its BMC reference".into()))?;
        let password = std::env::var(var)
            .map_err(|_| failed(format!("environment variable {var} is not set")))?;
        Ok(Credentials::new(user, SecretString::from(password)))
    }
}

impl Connector for BmcConnector {
    type Port = Bmc;

    async fn connect(&self, node: &Node) -> Result<Bmc, ProvisionError> {
        let credentials = self.credentials_for(node)?;
        // Builds the clients only; the first read logs in.
        Bmc::connect(node.bmc.address.as_str(), credentials, self.options.clone()).map_err(|err| {
            ProvisionError::Connect {
                node: node.name.clone(),
                reason: err.to_string(),
            }
        })
    }

    async fn disconnect(&self, port: Bmc) {
        if let Err(err) = port.close().await {
            tracing::debug!(error = %err, "closing the BMC sessions");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provision::BmcRef;

    fn node(password_env: Option<&str>) -> Node {
        Node::new(
            "n1",
            BmcRef {
                address: "idrac-virtualmedia://127.0.0.1:1".into(),
                username: Some("root".into()),
                password_env: password_env.map(str::to_owned),
                credentials_ref: None,
            },
        )
    }

    #[tokio::test]
    async fn the_password_is_read_from_the_named_variable_at_connect_time() {
        let connector = BmcConnector::default();
        let var = "FERROFISH_BMC_PORT_TEST_UNSET_VAR";
        let err = connector.connect(&node(Some(var))).await.unwrap_err();
        assert!(err.to_string().contains(var), "{err}");
        let err = connector.connect(&node(None)).await.unwrap_err();
        assert!(err.to_string().contains("no password_env"), "{err}");
        let shared = connector.with_credentials(Credentials::new(
            "admin",
            SecretString::from("s3cr3t-shared"),
        ));
        let bmc = shared.connect(&node(None)).await.unwrap();
        assert_eq!(BmcPort::address(&bmc), "idrac-virtualmedia://127.0.0.1:1");
        assert!(!format!("{bmc:?} {shared:?}").contains("s3cr3t"));
    }

    #[tokio::test]
    async fn a_bad_address_is_a_connect_error_listing_the_schemes() {
        let mut bad = node(None);
        bad.bmc.address = "ftp://bmc".into();
        let connector = BmcConnector::default()
            .with_credentials(Credentials::new("admin", SecretString::from("pw")));
        let err = connector.connect(&bad).await.unwrap_err();
        assert!(err.to_string().contains("redfish-virtualmedia"), "{err}");
    }

    #[cfg(feature = "ipmi")]
    #[tokio::test]
    async fn bios_media_and_inventory_over_ipmi_alone_are_unsupported_and_send_nothing() {
        let bmc = Bmc::connect(
            "ipmi://127.0.0.1:9",
            Credentials::new("admin", SecretString::from("pw")),
            BmcOptions::default(),
        )
        .unwrap();
        let settings = [BiosSetting {
            name: "turbo".into(),
            value: serde_json::json!("disabled"),
        }];
        let errors = [
            bmc.bios_plan(&settings).await.unwrap_err(),
            bmc.bios_stage(&settings).await.unwrap_err(),
            bmc.bios_factory_reset().await.unwrap_err(),
            bmc.media_status().await.unwrap_err(),
            bmc.eject_all().await.unwrap_err(),
            bmc.insert("http://img/x.iso", MediaSlot::Cd)
                .await
                .unwrap_err(),
            BmcPort::inventory(&bmc).await.unwrap_err(),
            bmc.clear_boot_override().await.unwrap_err(),
        ];
        for err in errors {
            assert_eq!(err.kind, PortErrorKind::Unsupported, "{err}");
            assert!(err.message.contains("IPMI"), "{err}");
        }
        assert_eq!(bmc.ipmi_client().map(|c| c.stats().datagrams_sent), Some(0));
    }
}
