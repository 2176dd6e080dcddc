//! [`Bmc`]: one BMC, spoken to over Redfish, IPMI, or both (a combined endpoint).
//!
//! The address picks the protocol ([`crate::BmcAddress`]); [`BmcOptions::ipmi`] adds IPMI on
//! the same host beside a Redfish address. Power and boot device go to Redfish first and fall
//! back to IPMI when Redfish is unreachable or broken, or does not offer the reset asked for
//! (Fujitsu iRMC lists no `PowerCycle`; [`decide::fallback_reason`]); every
//! answer says which protocol did it ([`Outcome`]). BIOS, virtual media and the inventory need
//! Redfish: over IPMI alone they are [`Error::Unsupported`], never a silent no-op.
//!
//! Over 600 lines: the options and credentials types sit with the one constructor that reads
//! them, and a fifth of the file is tests; the decisions are in `decide.rs`, IPMI in
//! `ipmi_side.rs`.

mod decide;
mod ipmi_side;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{SecretSlice, SecretString};
use tokio::sync::OnceCell;

use crate::address::{BmcAddress, IntoBmcAddress, IpmiPrivilegeLevel, Protocol};
use crate::error::{Capability, Error};
use crate::redfish::{
    self, AuthMode, BootMode, BootOverride, BootOverrideEnabled, Inventory, PowerState,
    QuirksOverride, RedfishClient, RetryPolicy, System, TlsVerification,
};

pub use decide::{
    BootDevice, Capabilities, Effect, PowerAction, fallback_reason, next_poll_delay,
    protocol_capabilities,
};
use ipmi_side::{IpmiFailure, IpmiSide, fallback_failed, ipmi_error};

/// Who logs in: one user name and password for every protocol of the BMC, and the IPMI BMC
/// key (Kg) when one is set. `Debug` shows the user name only.
#[derive(Clone)]
pub struct Credentials {
    username: String,
    password: SecretString,
    ipmi_kg: Option<SecretSlice<u8>>,
}

impl Credentials {
    /// A user name and password.
    pub fn new(username: impl Into<String>, password: SecretString) -> Credentials {
        Credentials {
            username: username.into(),
            password,
            ipmi_kg: None,
        }
    }

    /// Adds the IPMI BMC key (Kg, at most 20 bytes).
    #[must_use]
    pub fn with_ipmi_kg(mut self, kg: SecretSlice<u8>) -> Credentials {
        self.ipmi_kg = Some(kg);
        self
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("ipmi_kg", &self.ipmi_kg.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// How IPMI is spoken: on a combined endpoint (set in [`BmcOptions::ipmi`]) or to an
/// `ipmi://` address (whose own port and `privilegelevel` win over these).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct IpmiOptions {
    /// The UDP port of a combined endpoint (default 623).
    pub port: u16,
    /// Pin cipher suite 17 or 3 (default: 17, then 3 when the BMC refuses 17).
    pub cipher_suite: Option<u8>,
    /// The session privilege (default administrator, stepping down to operator).
    pub privilege: Option<IpmiPrivilegeLevel>,
    /// Per-attempt reply timeout (default 1 s).
    pub timeout: Duration,
    /// Retransmissions after the first attempt (default 3).
    pub retries: u32,
}

impl Default for IpmiOptions {
    fn default() -> IpmiOptions {
        IpmiOptions {
            port: crate::address::DEFAULT_IPMI_PORT,
            cipher_suite: None,
            privilege: None,
            timeout: Duration::from_secs(1),
            retries: 3,
        }
    }
}

impl IpmiOptions {
    /// IPMI on `port`, other settings default.
    pub fn on_port(port: u16) -> IpmiOptions {
        IpmiOptions {
            port,
            ..IpmiOptions::default()
        }
    }
}

/// How to talk to the BMC. Start from `BmcOptions::default()` and set the fields you need.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct BmcOptions {
    /// How the Redfish certificate is checked (default: the system trust store).
    pub tls: TlsVerification,
    /// Redfish authentication (default: a session, else HTTP Basic).
    pub auth: AuthMode,
    /// How long connecting to Redfish may take (default 10 s).
    pub connect_timeout: Duration,
    /// How long one Redfish request may take (default 60 s).
    pub request_timeout: Duration,
    /// Retries of failed Redfish requests (default: 4, from 0.5 s doubling).
    pub redfish_retry: RetryPolicy,
    /// Also speak IPMI on the Redfish address's host (a combined endpoint). For an `ipmi://`
    /// address these are the IPMI settings (its port comes from the address).
    pub ipmi: Option<IpmiOptions>,
    /// The Redfish `User-Agent` (default `ferrofish/<version>`); a process sharing a fleet
    /// names itself here, so the BMC's logs tell the processes apart.
    pub user_agent: Option<String>,
    /// The user's Redfish quirk overrides, applied after vendor detection (default: none).
    pub quirks: QuirksOverride,
}

impl Default for BmcOptions {
    fn default() -> BmcOptions {
        BmcOptions {
            tls: TlsVerification::SystemRoots,
            auth: AuthMode::Auto,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            redfish_retry: RetryPolicy::default(),
            ipmi: None,
            user_agent: None,
            quirks: QuirksOverride::default(),
        }
    }
}

/// A result and the protocol that produced it.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome<T> {
    /// What the operation returned.
    pub value: T,
    /// The protocol that did it.
    pub via: Protocol,
    /// Why Redfish was not used, when IPMI did it on a combined endpoint.
    pub fallback_reason: Option<String>,
}

impl<T> Outcome<T> {
    fn direct(value: T, via: Protocol) -> Outcome<T> {
        Outcome {
            value,
            via,
            fallback_reason: None,
        }
    }
}

/// What setting a boot device did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootDeviceSet {
    /// The device set.
    pub device: BootDevice,
    /// Whether it applies to every boot.
    pub persistent: bool,
    /// A one-time override the BMC stored as continuous: clear it after the boot (Redfish
    /// quirk `once_stored_as_continuous`).
    pub must_clear_after_boot: bool,
}

struct RedfishSide {
    client: RedfishClient,
    system: OnceCell<System>,
}

struct Inner {
    address: BmcAddress,
    redfish: Option<RedfishSide>,
    ipmi: Option<IpmiSide>,
}

/// One BMC over Redfish, IPMI, or both. Cheap to clone (an `Arc` inside), `Send + Sync`.
///
/// ```no_run
/// use ferrofish::{Bmc, BmcOptions, Credentials, IpmiOptions, PowerAction, SecretString};
///
/// # async fn demo() -> Result<(), ferrofish::Error> {
/// let mut options = BmcOptions::default();
/// options.ipmi = Some(IpmiOptions::default()); // the same host also answers IPMI on 623
/// let bmc = Bmc::connect(
///     "idrac-virtualmedia://10.0.0.5",
///     Credentials::new("root", SecretString::from("calvin")),
///     options,
/// )?;
/// let done = bmc.power(PowerAction::Reboot).await?;
/// println!("rebooted over {} ({:?})", done.via, done.fallback_reason);
/// bmc.close().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Bmc {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Bmc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bmc")
            .field("address", &self.inner.address.to_string())
            .field("protocols", &self.capabilities().protocols())
            .finish()
    }
}

impl Bmc {
    /// Parses the address, checks the options and builds the clients. Sends nothing: the first
    /// operation logs in, so a `Bmc` per node of a fleet costs no round trip.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "the Bmc takes the credentials and options over; the caller keeps no copy"
    )]
    pub fn connect(
        address: impl IntoBmcAddress,
        credentials: Credentials,
        options: BmcOptions,
    ) -> Result<Bmc, Error> {
        let address = address.into_bmc_address()?;
        let redfish = match address.redfish_endpoint() {
            Some(endpoint) => {
                let mut builder = RedfishClient::builder(endpoint)
                    .credentials(credentials.username.clone(), credentials.password.clone())
                    .auth(options.auth)
                    .tls(options.tls.clone())
                    .connect_timeout(options.connect_timeout)
                    .request_timeout(options.request_timeout)
                    .retry_policy(options.redfish_retry.clone())
                    .quirks_override(options.quirks.clone());
                if let Some(agent) = &options.user_agent {
                    builder = builder.user_agent(agent.clone());
                }
                let client = builder.build()?;
                Some(RedfishSide {
                    client,
                    system: OnceCell::new(),
                })
            }
            None => None,
        };
        let ipmi_options = match (address.protocol(), &options.ipmi) {
            (Protocol::Ipmi, given) => Some((
                address.port().unwrap_or(crate::address::DEFAULT_IPMI_PORT),
                given.clone().unwrap_or_default(),
            )),
            (Protocol::Redfish, Some(given)) => Some((given.port, given.clone())),
            (Protocol::Redfish, None) => None,
        };
        let ipmi = match ipmi_options {
            Some((port, ipmi_options)) => {
                Some(build_ipmi(&address, port, &credentials, &ipmi_options)?)
            }
            None => None,
        };
        Ok(Bmc {
            inner: Arc::new(Inner {
                address,
                redfish,
                ipmi,
            }),
        })
    }

    /// The address it was connected with.
    pub fn address(&self) -> &BmcAddress {
        &self.inner.address
    }

    /// The protocols it is spoken to with and what each can do.
    pub fn capabilities(&self) -> Capabilities {
        let mut protocols = Vec::new();
        if self.inner.redfish.is_some() {
            protocols.push(Protocol::Redfish);
        }
        if self.inner.ipmi.is_some() {
            protocols.push(Protocol::Ipmi);
        }
        Capabilities::new(protocols)
    }

    /// The Redfish client, when Redfish is spoken.
    pub fn redfish_client(&self) -> Option<&RedfishClient> {
        self.inner.redfish.as_ref().map(|side| &side.client)
    }

    /// The IPMI client, when IPMI is spoken.
    #[cfg(feature = "ipmi")]
    pub fn ipmi_client(&self) -> Option<&crate::ipmi::IpmiClient> {
        self.inner.ipmi.as_ref().map(|side| &side.client)
    }

    /// The Redfish system: the one the address names, else the BMC's only one
    /// ([`Error::NoSingleSystem`] when it lists several or none). Resolved once. Over IPMI
    /// alone: [`Error::Unsupported`] for [`Capability::Inventory`], the first thing it serves.
    pub async fn system(&self) -> Result<System, Error> {
        let side = self.redfish_side(Capability::Inventory)?;
        side.system
            .get_or_try_init(|| async {
                if let Some(path) = self.inner.address.system_path() {
                    return Ok(side.client.system(path).await?);
                }
                let mut ids = side.client.system_ids().await?;
                if ids.len() == 1 {
                    Ok(side.client.system(&ids.remove(0)).await?)
                } else {
                    Err(Error::NoSingleSystem { found: ids })
                }
            })
            .await
            .cloned()
    }

    /// The system's out-of-band inventory (Redfish only).
    pub async fn inventory(&self) -> Result<Inventory, Error> {
        self.redfish_side(Capability::Inventory)?;
        Ok(self.system().await?.inventory().await?)
    }

    /// The system's BIOS settings (Redfish only).
    #[cfg(feature = "bios")]
    pub async fn bios(&self) -> Result<crate::bios::Bios, Error> {
        self.redfish_side(Capability::Bios)?;
        Ok(crate::bios::Bios::new(&self.system().await?))
    }

    /// The system's virtual media (Redfish only).
    #[cfg(feature = "vmedia")]
    pub async fn virtual_media(&self) -> Result<crate::vmedia::VirtualMedia, Error> {
        self.redfish_side(Capability::VirtualMedia)?;
        Ok(crate::vmedia::VirtualMedia::new(&self.system().await?))
    }

    /// The power state: Redfish's `PowerState`, or IPMI's on/off.
    pub async fn power_state(&self) -> Result<Outcome<PowerState>, Error> {
        self.with_fallback(
            Capability::Power,
            Effect::Read,
            |system| async move {
                // A BMC that does not say is treated as broken, so IPMI is asked.
                system.power_state().await?.ok_or_else(|| {
                    Error::Redfish(redfish::Error::Unsupported {
                        operation: "power state",
                        url: system.url().to_string(),
                        missing: "PowerState",
                    })
                })
            },
            |ipmi| async move { ipmi.power_state().await },
        )
        .await
    }

    /// Sends one power action (no state is read first, and nothing waits for it: see
    /// [`Bmc::wait_for_power_state`]).
    pub async fn power(&self, action: PowerAction) -> Result<Outcome<()>, Error> {
        let effect = if action.is_idempotent() {
            Effect::Idempotent
        } else {
            Effect::NotIdempotent
        };
        self.with_fallback(
            action.capability(),
            effect,
            |system| async move { Ok(system.reset(action.reset_type()).await?) },
            |ipmi| async move { ipmi.power(action).await },
        )
        .await
    }

    /// Polls the power state (250 ms doubling to 2 s) until it is `wanted` or `timeout` ends
    /// ([`Error::PowerWaitTimeout`]). The outcome names the protocol of the last read.
    pub async fn wait_for_power_state(
        &self,
        wanted: PowerState,
        timeout: Duration,
    ) -> Result<Outcome<()>, Error> {
        self.wait_for_power_state_with(wanted, timeout, |_, _| {})
            .await
    }

    /// [`Bmc::wait_for_power_state`], calling `progress(state, elapsed)` after every read.
    pub async fn wait_for_power_state_with(
        &self,
        wanted: PowerState,
        timeout: Duration,
        mut progress: impl FnMut(&Outcome<PowerState>, Duration) + Send,
    ) -> Result<Outcome<()>, Error> {
        let started = tokio::time::Instant::now();
        let deadline = started + timeout;
        let mut delay = None;
        let mut last = None;
        loop {
            let read = tokio::time::timeout_at(deadline, self.power_state()).await;
            let Ok(read) = read else { break };
            let read = read?;
            progress(&read, started.elapsed());
            if read.value == wanted {
                return Ok(Outcome {
                    value: (),
                    via: read.via,
                    fallback_reason: read.fallback_reason,
                });
            }
            last = Some(read.value.to_string());
            let now = tokio::time::Instant::now();
            if now >= deadline {
                break;
            }
            let next = next_poll_delay(delay, deadline - now);
            tokio::time::sleep(next).await;
            delay = Some(next);
        }
        Err(Error::PowerWaitTimeout {
            wanted: wanted.to_string(),
            last,
            after: started.elapsed(),
        })
    }

    /// Sets the next boot device (every boot when `persistent`) in `mode` (UEFI when not
    /// given, for IPMI; Redfish keeps the current mode). Redfish reads it back; IPMI reads
    /// back the device.
    pub async fn set_boot_device(
        &self,
        device: BootDevice,
        persistent: bool,
        mode: Option<BootMode>,
    ) -> Result<Outcome<BootDeviceSet>, Error> {
        let set = |must_clear_after_boot| BootDeviceSet {
            device,
            persistent,
            must_clear_after_boot,
        };
        let efi = mode != Some(BootMode::Legacy);
        let redfish_mode = mode.clone();
        self.with_fallback(
            device.capability(),
            Effect::Idempotent,
            |system| async move {
                let done = system
                    .set_boot_override(BootOverride {
                        target: device.redfish_target(),
                        enabled: if persistent {
                            BootOverrideEnabled::Continuous
                        } else {
                            BootOverrideEnabled::Once
                        },
                        mode: redfish_mode,
                    })
                    .await?;
                Ok(set(done.must_clear_after_boot()))
            },
            |ipmi| async move {
                ipmi.set_boot_device(device, persistent, efi)
                    .await
                    .map(|()| set(false))
            },
        )
        .await
    }

    /// Closes the Redfish session and the IPMI session. Both are closed; the first error is
    /// returned.
    pub async fn close(&self) -> Result<(), Error> {
        let redfish = match &self.inner.redfish {
            Some(side) => side.client.close().await.map_err(Error::from),
            None => Ok(()),
        };
        let ipmi = match &self.inner.ipmi {
            Some(side) => side.close().await.map_err(ipmi_error),
            None => Ok(()),
        };
        redfish.and(ipmi)
    }

    /// The Redfish half, or [`Error::Unsupported`] over IPMI for `capability`.
    fn redfish_side(&self, capability: Capability) -> Result<&RedfishSide, Error> {
        self.inner.redfish.as_ref().ok_or(Error::Unsupported {
            capability,
            protocol: Protocol::Ipmi,
        })
    }

    /// Runs an operation over Redfish, then over IPMI when Redfish failed in a way that
    /// warrants it and IPMI can do it; over IPMI alone when that is all there is.
    async fn with_fallback<T, RF, RFut, IF, IFut>(
        &self,
        capability: Capability,
        effect: Effect,
        over_redfish: RF,
        over_ipmi: IF,
    ) -> Result<Outcome<T>, Error>
    where
        RF: FnOnce(System) -> RFut,
        RFut: Future<Output = Result<T, Error>>,
        IF: FnOnce(IpmiSide) -> IFut,
        IFut: Future<Output = Result<T, IpmiFailure>>,
    {
        self.capabilities().require(capability)?;
        let ipmi_can = protocol_capabilities(Protocol::Ipmi).contains(&capability);
        let ipmi = self.inner.ipmi.clone().filter(|_| ipmi_can);
        if self.inner.redfish.is_none() {
            // `require` passed, so IPMI is there and can do it.
            let Some(ipmi) = ipmi else {
                return Err(Error::Unsupported {
                    capability,
                    protocol: Protocol::Ipmi,
                });
            };
            return over_ipmi(ipmi)
                .await
                .map(|value| Outcome::direct(value, Protocol::Ipmi))
                .map_err(ipmi_error);
        }
        let attempt = match self.system().await {
            Ok(system) => over_redfish(system).await,
            Err(err) => Err(err),
        };
        let redfish_error = match attempt {
            Ok(value) => return Ok(Outcome::direct(value, Protocol::Redfish)),
            Err(err) => err,
        };
        let (Some(ipmi), Some(reason)) = (ipmi, fallback_reason(&redfish_error, effect)) else {
            return Err(redfish_error);
        };
        tracing::info!(
            bmc = %self.inner.address,
            capability = %capability,
            reason = %reason,
            "Redfish failed; trying IPMI"
        );
        match over_ipmi(ipmi).await {
            Ok(value) => Ok(Outcome {
                value,
                via: Protocol::Ipmi,
                fallback_reason: Some(reason),
            }),
            Err(ipmi_err) => Err(fallback_failed(redfish_error, ipmi_err)),
        }
    }
}

#[cfg(feature = "ipmi")]
fn build_ipmi(
    address: &BmcAddress,
    port: u16,
    credentials: &Credentials,
    options: &IpmiOptions,
) -> Result<IpmiSide, Error> {
    IpmiSide::build(address, port, credentials, options)
}

#[cfg(not(feature = "ipmi"))]
fn build_ipmi(_: &BmcAddress, _: u16, _: &Credentials, _: &IpmiOptions) -> Result<IpmiSide, Error> {
    Err(Error::InvalidOption {
        name: "ipmi",
        reason: "this build of ferrofish has no IPMI (enable the `ipmi` feature)".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials() -> Credentials {
        Credentials::new("admin", SecretString::from("s3cr3t-Pw"))
            .with_ipmi_kg(SecretSlice::from(b"kg-s3cr3t".to_vec()))
    }

    #[test]
    fn bmc_is_a_shareable_handle_and_its_futures_can_be_spawned() {
        fn shareable<T: Clone + Send + Sync + 'static>() {}
        fn spawnable<F: std::future::Future + Send>(_: F) {}
        shareable::<Bmc>();
        let bmc = Bmc::connect("redfish://bmc", credentials(), BmcOptions::default()).unwrap();
        spawnable(bmc.power(PowerAction::On));
        spawnable(bmc.power_state());
        spawnable(bmc.wait_for_power_state(PowerState::On, Duration::from_secs(1)));
        spawnable(bmc.set_boot_device(BootDevice::Pxe, false, None));
        spawnable(bmc.inventory());
        spawnable(bmc.close());
    }

    #[test]
    fn credentials_debug_shows_no_secret() {
        let text = format!("{:?}", credentials());
        assert!(text.contains("admin"), "{text}");
        assert!(!text.contains("s3cr3t"), "{text}");
    }

    #[test]
    fn connect_builds_the_protocols_the_address_and_options_name() {
        let redfish = Bmc::connect(
            "redfish+http://127.0.0.1:1",
            credentials(),
            BmcOptions::default(),
        )
        .unwrap();
        assert_eq!(redfish.capabilities().protocols(), &[Protocol::Redfish]);
        assert!(redfish.redfish_client().is_some());
        let debug = format!("{redfish:?}");
        assert!(!debug.contains("s3cr3t"), "{debug}");
        assert!(debug.contains("redfish+http://127.0.0.1:1"), "{debug}");

        #[cfg(feature = "ipmi")]
        {
            let options = BmcOptions {
                ipmi: Some(IpmiOptions::on_port(6230)),
                ..BmcOptions::default()
            };
            let both = Bmc::connect("redfish+http://127.0.0.1:1", credentials(), options).unwrap();
            assert_eq!(
                both.capabilities().protocols(),
                &[Protocol::Redfish, Protocol::Ipmi]
            );
            assert_eq!(
                both.ipmi_client().map(|c| c.address().to_owned()),
                Some("127.0.0.1:6230".to_owned())
            );
            let ipmi =
                Bmc::connect("127.0.0.1:6231", credentials(), BmcOptions::default()).unwrap();
            assert_eq!(ipmi.capabilities().protocols(), &[Protocol::Ipmi]);
            assert!(ipmi.redfish_client().is_none());
            assert_eq!(
                ipmi.ipmi_client().map(|c| c.address().to_owned()),
                Some("127.0.0.1:6231".to_owned())
            );
            let bad = BmcOptions {
                ipmi: Some(IpmiOptions {
                    cipher_suite: Some(5),
                    ..IpmiOptions::default()
                }),
                ..BmcOptions::default()
            };
            let err = Bmc::connect("ipmi://127.0.0.1", credentials(), bad).unwrap_err();
            assert!(err.is_invalid_input(), "{err}");
        }
    }

    #[test]
    fn a_bad_address_is_an_address_error() {
        let err = Bmc::connect("ftp://bmc", credentials(), BmcOptions::default()).unwrap_err();
        assert!(matches!(err, Error::Address(_)), "{err:?}");
        assert!(err.to_string().contains("accepted:"), "{err}");
    }

    #[cfg(feature = "ipmi")]
    #[tokio::test]
    async fn bios_virtual_media_and_inventory_over_ipmi_alone_are_unsupported() {
        let bmc = Bmc::connect("ipmi://127.0.0.1:9", credentials(), BmcOptions::default()).unwrap();
        let unsupported = |err: Error, wanted: Capability| {
            assert!(
                matches!(err, Error::Unsupported { capability, protocol: Protocol::Ipmi } if capability == wanted),
                "{err:?}"
            );
        };
        unsupported(bmc.inventory().await.unwrap_err(), Capability::Inventory);
        unsupported(bmc.system().await.unwrap_err(), Capability::Inventory);
        #[cfg(feature = "bios")]
        unsupported(bmc.bios().await.unwrap_err(), Capability::Bios);
        #[cfg(feature = "vmedia")]
        unsupported(
            bmc.virtual_media().await.unwrap_err(),
            Capability::VirtualMedia,
        );
        unsupported(
            bmc.power(PowerAction::GracefulReboot).await.unwrap_err(),
            Capability::GracefulReboot,
        );
        unsupported(
            bmc.set_boot_device(BootDevice::UefiHttp, false, None)
                .await
                .unwrap_err(),
            Capability::UefiHttpBoot,
        );
        assert_eq!(bmc.ipmi_client().map(|c| c.stats().datagrams_sent), Some(0));
    }
}
