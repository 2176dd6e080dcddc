//! Handles: a value that names one resource of one BMC and carries what operations on it
//! need. [`System`] is the first; `ferrofish-bios` and `ferrofish-vmedia` reach the BIOS and
//! virtual media of a system through it (its [`System::client`] and [`System::url`] and the
//! public resource layer), never through crate-private items. See `docs/architecture.md`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use url::Url;

use crate::client::COMPUTER_SYSTEM;
use crate::models::{ComputerSystem, PowerState, ResetType};
use crate::resource::{Resource, SettingsObject};
use crate::{Error, Inventory, RedfishClient};

/// One ComputerSystem of one BMC: the client and the system's resolved URL. Cheap to clone,
/// `Send + Sync + 'static`; creating one sends nothing unless the Systems collection's path
/// must be learnt from the service root.
#[derive(Clone, Debug)]
pub struct System {
    client: RedfishClient,
    url: Url,
    /// The System as an expanded listing returned it, used once by the first operation that
    /// would read it again (so listing and inventory cost one round trip less); shared by
    /// clones, taken by whichever uses it first. Boxed: a fleet holds one handle per BMC, and
    /// most handles never carry a listed System (a `ComputerSystem` inline is about 1.5 KiB).
    listed: Arc<Mutex<Option<Box<ComputerSystem>>>>,
}

impl RedfishClient {
    /// A handle on one system, by path (`/redfish/v1/Systems/1`) or bare `Id` (`1`). Nothing
    /// is read: a path that names another kind of resource is refused by the first operation
    /// with [`Error::WrongResourceType`].
    pub async fn system(&self, system: &str) -> Result<System, Error> {
        Ok(System {
            client: self.clone(),
            url: self.system_url(system).await?,
            listed: Arc::default(),
        })
    }

    /// A handle on every member of the Systems collection. Where the service expands
    /// collections, the listing is one expanded request and each handle keeps its System for
    /// its first [`System::inventory`] (one round trip less); elsewhere only the links are read.
    pub async fn systems(&self) -> Result<Vec<System>, Error> {
        self.inner.prime(true).await?;
        // Whether to expand is decided from the service root alone (what it advertises, the
        // vendor it names), so a vendor detection that needs the Manager runs beside the
        // listing instead of before it; a member the expansion left incomplete is fetched.
        let root = self.inner.service_root().await?;
        let root_decides = self.inner.quirks_from_root(root);
        if !root_decides.expand_collections {
            return self
                .system_ids()
                .await?
                .iter()
                .map(|id| self.listed_system(id, None))
                .collect();
        }
        let path = self.systems_path().await?;
        let (quirks, members) = futures::join!(
            self.read_quirks(),
            self.collection_members::<ComputerSystem>(&path, true)
        );
        quirks?;
        let members = members?;
        members
            .into_iter()
            .map(|member| {
                let id = member
                    .odata_id
                    .as_ref()
                    .map(|id| id.as_str().to_owned())
                    .ok_or_else(|| Error::Unsupported {
                        operation: "systems",
                        url: path.clone(),
                        missing: "the @odata.id of a member",
                    })?;
                self.listed_system(&id, Some(member))
            })
            .collect()
    }

    fn listed_system(&self, id: &str, read: Option<ComputerSystem>) -> Result<System, Error> {
        Ok(System {
            client: self.clone(),
            url: self.resolve_link(id)?,
            listed: Arc::new(Mutex::new(read.map(Box::new))),
        })
    }
}

impl System {
    /// The client this handle talks through.
    pub fn client(&self) -> &RedfishClient {
        &self.client
    }

    /// The system's URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The system's path, `/redfish/v1/Systems/1`.
    pub fn path(&self) -> &str {
        self.url.path()
    }

    /// Reads the system (its ETag is remembered for the next PATCH).
    pub async fn read(&self) -> Result<Resource<ComputerSystem>, Error> {
        self.client.get_url(&self.url, Some(COMPUTER_SYSTEM)).await
    }

    /// The current `PowerState` (`None` when the BMC does not say).
    pub async fn power_state(&self) -> Result<Option<PowerState>, Error> {
        /// Fleets poll this: only the one field is decoded, not the whole System.
        #[derive(serde::Deserialize)]
        struct PowerOnly {
            #[serde(rename = "PowerState")]
            power_state: Option<PowerState>,
        }
        // Straight to the typed read: a `Resource` would copy the URL and look up the ETag,
        // which a poll does not use (the ETag is still remembered for a later PATCH).
        let read: PowerOnly = self
            .client
            .inner
            .get_resource(&self.url, COMPUTER_SYSTEM)
            .await?;
        Ok(read.power_state)
    }

    /// Resets the system: [`RedfishClient::reset`].
    pub async fn reset(&self, reset_type: ResetType) -> Result<(), Error> {
        self.client.reset(self.path(), reset_type).await
    }

    /// [`System::reset`] with the System as already read (its action and allowable values),
    /// saving the read: for a caller that just read it.
    pub async fn reset_as_read(
        &self,
        read: &ComputerSystem,
        reset_type: ResetType,
    ) -> Result<(), Error> {
        self.client.reset_as_read(&self.url, read, reset_type).await
    }

    /// Waits for a power state: [`RedfishClient::wait_for_power_state`].
    pub async fn wait_for_power_state(
        &self,
        wanted: PowerState,
        timeout: Duration,
    ) -> Result<(), Error> {
        self.client
            .wait_for_power_state(self.path(), wanted, timeout)
            .await
    }

    /// Sets the boot source override and reads it back: [`RedfishClient::set_boot_override`].
    pub async fn set_boot_override(
        &self,
        wanted: crate::BootOverride,
    ) -> Result<crate::BootOverrideOutcome, Error> {
        self.client.set_boot_override(self.path(), wanted).await
    }

    /// [`System::set_boot_override`] with the System as already read (its `Boot` and
    /// settings object), saving the read; verified from the PATCH's answer where it shows the
    /// written values, else by reading Boot back.
    pub async fn set_boot_override_as_read(
        &self,
        read: &ComputerSystem,
        wanted: crate::BootOverride,
    ) -> Result<crate::BootOverrideOutcome, Error> {
        self.client
            .set_boot_override_as_read(&self.url, read, wanted)
            .await
    }

    /// The inventory: [`RedfishClient::inventory`]. Right after an expanded
    /// [`RedfishClient::systems`] listing, the System it returned is used instead of reading it
    /// again (once).
    pub async fn inventory(&self) -> Result<Inventory, Error> {
        let listed = self
            .listed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        match listed {
            Some(read) => self.client.inventory_of(self.path(), *read).await,
            None => self.client.inventory(self.path()).await,
        }
    }

    /// The system's own `@Redfish.Settings` object (where boot settings go on some BMCs).
    pub async fn settings_object(&self) -> Result<Option<SettingsObject>, Error> {
        self.client.settings_object(self.path()).await
    }

    /// The path of a link of the system (for example `Bios`, `VirtualMedia`, `SecureBoot`):
    /// `None` when the system does not link it. Reads the system.
    pub async fn link(&self, property: &str) -> Result<Option<String>, Error> {
        let system: Resource<serde_json::Value> = self
            .client
            .get_url(&self.url, Some(COMPUTER_SYSTEM))
            .await?;
        Ok(system
            .value
            .get(property)
            .and_then(|l| l.get("@odata.id"))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned))
    }
}
