//! The IPMI half of a [`crate::Bmc`]: the same few operations whether or not this build has
//! IPMI, so the fallback logic is written once. Without the `ipmi` feature [`IpmiSide`] and
//! [`IpmiFailure`] are uninhabited: no value of them exists and their methods cannot run.

#[cfg(not(feature = "ipmi"))]
use super::decide::{BootDevice, PowerAction};
#[cfg(not(feature = "ipmi"))]
use crate::error::Error;
#[cfg(not(feature = "ipmi"))]
use crate::redfish::PowerState;

#[cfg(feature = "ipmi")]
mod real {
    use secrecy::ExposeSecret as _;

    use crate::address::{BmcAddress, IpmiPrivilegeLevel};
    use crate::error::Error;
    use crate::ipmi::{self, BootOptions, ChassisControl, IpmiClient};
    use crate::redfish::PowerState;

    use super::super::decide::{BootDevice, PowerAction};
    use super::super::{Credentials, IpmiOptions};

    /// The error of an IPMI attempt.
    pub(crate) type IpmiFailure = ipmi::Error;

    /// An IPMI client on the BMC.
    #[derive(Clone, Debug)]
    pub(crate) struct IpmiSide {
        pub(crate) client: IpmiClient,
    }

    impl IpmiSide {
        /// Builds the client for `host:port` (no I/O).
        pub(crate) fn build(
            address: &BmcAddress,
            port: u16,
            credentials: &Credentials,
            options: &IpmiOptions,
        ) -> Result<IpmiSide, Error> {
            let mut builder = IpmiClient::builder(address.host_port(port))
                .credentials(credentials.username.clone(), credentials.password.clone())
                .timeout(options.timeout)
                .retries(options.retries);
            if let Some(suite) = options.cipher_suite {
                builder = builder.cipher_suite(ipmi::CipherSuite::from_id(suite)?);
            }
            if let Some(kg) = &credentials.ipmi_kg {
                builder = builder.kg(kg.expose_secret().to_vec().into());
            }
            let level = address.ipmi_privilege().or(options.privilege);
            if let Some(level) = level {
                builder = builder.privilege(match level {
                    IpmiPrivilegeLevel::Administrator => ipmi::Privilege::Administrator,
                    IpmiPrivilegeLevel::Operator => ipmi::Privilege::Operator,
                    IpmiPrivilegeLevel::User => ipmi::Privilege::User,
                });
            }
            Ok(IpmiSide {
                client: builder.build()?,
            })
        }

        pub(crate) async fn power_state(&self) -> Result<PowerState, IpmiFailure> {
            let status = self.client.chassis_status().await?;
            Ok(if status.power_on {
                PowerState::On
            } else {
                PowerState::Off
            })
        }

        /// Sends the action (a graceful reboot, which IPMI cannot express, is refused by the
        /// caller first).
        pub(crate) async fn power(&self, action: PowerAction) -> Result<(), IpmiFailure> {
            let control = match action {
                PowerAction::On => ChassisControl::PowerOn,
                PowerAction::Off => ChassisControl::PowerOff,
                PowerAction::GracefulOff => ChassisControl::SoftOff,
                PowerAction::Cycle => ChassisControl::PowerCycle,
                // A graceful reboot is refused before this (`Capability::GracefulReboot`).
                PowerAction::Reboot | PowerAction::GracefulReboot => ChassisControl::HardReset,
            };
            self.client.chassis_control(control).await
        }

        pub(crate) async fn set_boot_device(
            &self,
            device: BootDevice,
            persistent: bool,
            efi: bool,
        ) -> Result<(), IpmiFailure> {
            let device = match device {
                BootDevice::Pxe => ipmi::BootDevice::Pxe,
                BootDevice::Disk => ipmi::BootDevice::Disk,
                BootDevice::Cdrom => ipmi::BootDevice::Cdrom,
                // UEFI HTTP is refused before this (`Capability::UefiHttpBoot`).
                BootDevice::BiosSetup | BootDevice::UefiHttp => ipmi::BootDevice::BiosSetup,
            };
            self.client
                .set_boot_device(device, BootOptions { persistent, efi })
                .await
                .map(|_| ())
        }

        pub(crate) async fn close(&self) -> Result<(), IpmiFailure> {
            self.client.close().await
        }
    }

    /// Both halves failed.
    pub(crate) fn fallback_failed(redfish: Error, ipmi: IpmiFailure) -> Error {
        match redfish {
            Error::Redfish(redfish) => Error::FallbackFailed {
                redfish: Box::new(redfish),
                ipmi: Box::new(ipmi),
            },
            // Only Redfish errors warrant a fallback; anything else keeps the IPMI error.
            _ => Error::Ipmi(ipmi),
        }
    }

    /// An IPMI-only failure.
    pub(crate) fn ipmi_error(ipmi: IpmiFailure) -> Error {
        Error::Ipmi(ipmi)
    }
}

#[cfg(feature = "ipmi")]
pub(crate) use real::{IpmiFailure, IpmiSide, fallback_failed, ipmi_error};

/// No IPMI in this build: no value of these types exists.
#[cfg(not(feature = "ipmi"))]
#[derive(Clone, Debug)]
pub(crate) enum IpmiSide {}

/// No IPMI in this build.
#[cfg(not(feature = "ipmi"))]
#[derive(Clone, Copy, Debug)]
pub(crate) enum IpmiFailure {}

#[cfg(not(feature = "ipmi"))]
#[allow(
    clippy::unused_async,
    reason = "the same signatures as with IPMI, so callers are written once"
)]
impl IpmiSide {
    pub(crate) async fn power_state(&self) -> Result<PowerState, IpmiFailure> {
        match *self {}
    }

    pub(crate) async fn power(&self, _: PowerAction) -> Result<(), IpmiFailure> {
        match *self {}
    }

    pub(crate) async fn set_boot_device(
        &self,
        _: BootDevice,
        _: bool,
        _: bool,
    ) -> Result<(), IpmiFailure> {
        match *self {}
    }

    pub(crate) async fn close(&self) -> Result<(), IpmiFailure> {
        match *self {}
    }
}

#[cfg(not(feature = "ipmi"))]
pub(crate) fn fallback_failed(_: Error, ipmi: IpmiFailure) -> Error {
    match ipmi {}
}

#[cfg(not(feature = "ipmi"))]
pub(crate) fn ipmi_error(ipmi: IpmiFailure) -> Error {
    match ipmi {}
}
