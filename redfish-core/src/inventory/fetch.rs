//! Reading an inventory: every read starts as soon as its link is known, with the deepest
//! `$expand` the service advertises, and a sub-resource that cannot be read becomes a warning.
//!
//! The request plan, on a warm client where the service advertises `$expand` with enough
//! levels: the System; then at once the Chassis, the Storage collection (expanded three
//! levels: controllers, their drives and their volume collections' members), Processors,
//! Memory, EthernetInterfaces and SecureBoot, each collection expanded one level; then, as each
//! chassis arrives, its PCIeDevices collection expanded. Where the service offers fewer
//! levels, what the expansion left as links is read in the next round trip, concurrently.

use std::sync::Mutex;

use futures::future::join_all;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use super::{Inventory, InventoryParts, InventoryWarning, StorageParts, warning_for};
use crate::Error;
use crate::client::{COMPUTER_SYSTEM, RedfishClient};
use crate::decode::decode_value;
use crate::endpoint::resource_key;
use crate::models::{
    Chassis, ComputerSystem, Drive, EthernetInterface, Memory, PCIeDevice, Processor, SecureBoot,
    SimpleStorage, Volume,
};
use crate::odata::{Collection, Link};

/// Pages followed per collection, at most.
const MAX_PAGES: usize = 1000;

/// Levels below the Storage collection: controllers, drives and volume collections, volumes.
const STORAGE_LEVELS: u64 = 3;

/// The `$expand` forms this service accepts, decided once per inventory.
#[derive(Clone, Debug, Default)]
struct ExpandPlan {
    /// For one level (collection members), if any.
    one: Option<String>,
    /// For the Storage collection, and how many levels it reaches.
    storage: Option<(String, u64)>,
}

/// Warnings collected by concurrent reads. Never held across an await.
#[derive(Default)]
struct Warnings(Mutex<Vec<InventoryWarning>>);

impl Warnings {
    /// Records a failed read as a warning, or hands back the error when it must stop the
    /// inventory (see [`warning_for`]).
    fn record(&self, url: &str, err: Error) -> Result<(), Error> {
        let warning = warning_for(url, err)?;
        tracing::warn!(url = %warning.url, reason = ?warning.reason, "inventory: part unreadable");
        if let Ok(mut list) = self.0.lock() {
            list.push(warning);
        }
        Ok(())
    }

    fn into_sorted(self) -> Vec<InventoryWarning> {
        let mut list = self.0.into_inner().unwrap_or_default();
        list.sort_by(|a, b| a.url.cmp(&b.url));
        list
    }
}

/// Members read from one collection, and whether every member (and the collection) was read.
struct Members<T> {
    items: Vec<T>,
    complete: bool,
}

impl<T> Members<T> {
    fn missing() -> Members<T> {
        Members {
            items: Vec::new(),
            complete: false,
        }
    }
}

/// Whether an expanded member came whole: an id, an `Id` and a `Name` property. The
/// expansions of quirk `expand_drops_required_properties` leave `Id` or `Name` out; an empty
/// `Name` is kept, since iLO serves it empty on the member itself too (re-reading it would
/// cost a request and bring the same).
fn is_complete(member: &Value) -> bool {
    let text = |key: &str| member.get(key).and_then(Value::as_str);
    text("@odata.id").is_some_and(|s| !s.is_empty())
        && text("Id").is_some_and(|s| !s.is_empty())
        && text("Name").is_some()
}

/// `{chassis}/PCIeDevices`: where the Redfish schema puts a chassis' PCIe devices.
fn schema_pcie_uri(chassis: &str) -> String {
    format!("{}/PCIeDevices", chassis.trim_end_matches('/'))
}

fn link_path(link: Option<&Link>) -> Option<&str> {
    link.and_then(Link::path)
}

impl RedfishClient {
    /// Reads the inventory of one system (path or bare `Id`).
    ///
    /// Independent reads run concurrently (within the client's request limit), each starting as
    /// soon as its link is known; collections are read with `$expand` in the forms the service
    /// advertises in `ProtocolFeaturesSupported`. No Manager is read: the quirks of reads come
    /// from the service root. A sub-resource that answers an error status, times out
    /// or does not parse is listed in [`Inventory::warnings`] and the rest is returned; CPU
    /// and memory totals then come from
    /// `ProcessorSummary` and `MemorySummary`. Only an unreadable System (or a lost
    /// connection, a refused login, a closed client, a link to another origin) is an error.
    pub async fn inventory(&self, system: &str) -> Result<Inventory, Error> {
        // Boxed: the concurrent reads make a large future.
        Box::pin(self.fetch_inventory(system, None)).await
    }

    /// The inventory of a system already read (by an expanded Systems listing): its
    /// sub-resources are read, the System itself is not read again.
    pub(crate) async fn inventory_of(
        &self,
        system: &str,
        read: ComputerSystem,
    ) -> Result<Inventory, Error> {
        Box::pin(self.fetch_inventory(system, Some(read))).await
    }

    async fn fetch_inventory(
        &self,
        system: &str,
        read: Option<ComputerSystem>,
    ) -> Result<Inventory, Error> {
        let quirks = self.read_quirks().await?;
        let plan = if quirks.expand_collections {
            let root = self.inner.service_root().await?;
            let expand = root
                .protocol_features_supported
                .as_ref()
                .and_then(|f| f.expand_query.as_ref());
            ExpandPlan {
                one: expand.and_then(|e| e.expand_value(1)).map(|(v, _)| v),
                storage: expand.and_then(|e| e.expand_value(STORAGE_LEVELS)),
            }
        } else {
            ExpandPlan::default()
        };
        let sys: ComputerSystem = if let Some(sys) = read {
            sys
        } else {
            let url = self.system_url(system).await?;
            self.inner.get_resource(&url, COMPUTER_SYSTEM).await?
        };
        let warnings = Warnings::default();
        let one = plan.one.as_deref();

        // Reads with a second step first, so they take the first request slots.
        let pcie = self.pcie_devices(&sys, one, &warnings);
        let storage = self.storage_parts(&sys, &plan, &warnings);
        let processors =
            self.optional_members::<Processor>(sys.processors.as_ref(), one, &warnings);
        let memory = self.optional_members::<Memory>(sys.memory.as_ref(), one, &warnings);
        let nics = self.optional_members::<EthernetInterface>(
            sys.ethernet_interfaces.as_ref(),
            one,
            &warnings,
        );
        let secure_boot = async {
            let Some(path) = link_path(sys.secure_boot.as_ref()) else {
                return Ok(None);
            };
            match self.read_one::<SecureBoot>(path).await {
                Ok(value) => Ok(Some(value)),
                Err(err) => warnings.record(path, err).map(|()| None),
            }
        };
        let (pcie_devices, storage, processors, memory, nics, secure_boot) =
            futures::try_join!(pcie, storage, processors, memory, nics, secure_boot)?;
        let mut inventory = Inventory::assemble(
            &sys,
            InventoryParts {
                processors_incomplete: !processors.complete,
                processors: processors.items,
                memory_incomplete: !memory.complete,
                memory: memory.items,
                drives: storage.drives,
                volumes: storage.volumes,
                simple_storage: storage.simple_storage,
                nics: nics.items,
                pcie_devices,
                secure_boot,
            },
        );
        inventory.warnings = warnings.into_sorted();
        Ok(inventory)
    }

    /// GETs one resource at a path the BMC gave.
    async fn read_one<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        let url = self.inner.endpoint.resolve(path)?;
        self.inner.get_typed(&url).await
    }

    /// The members of a linked collection; nothing (and complete) when there is no link.
    async fn optional_members<T: DeserializeOwned>(
        &self,
        link: Option<&Link>,
        expand: Option<&str>,
        warnings: &Warnings,
    ) -> Result<Members<T>, Error> {
        match link_path(link) {
            Some(path) => self.tolerant_members(path, expand, warnings).await,
            None => Ok(Members {
                items: Vec::new(),
                complete: true,
            }),
        }
    }

    /// Every member of a collection, page by page, expanded with `expand` when given. Members
    /// the expansion left incomplete (quirk `expand_drops_required_properties`) are fetched one
    /// by one, concurrently. A collection or member that cannot be read is a warning; a
    /// collection that refuses the expansion is read again without it.
    async fn tolerant_members<T: DeserializeOwned>(
        &self,
        path: &str,
        expand: Option<&str>,
        warnings: &Warnings,
    ) -> Result<Members<T>, Error> {
        let values = match self.member_values(path, expand).await {
            Ok(values) => values,
            Err(err) if expand.is_some() && err.status().is_some_and(|s| s != 404) => {
                tracing::debug!(path, error = %err, "expanded read refused; reading members");
                match self.member_values(path, None).await {
                    Ok(values) => values,
                    Err(err) => return warnings.record(path, err).map(|()| Members::missing()),
                }
            }
            Err(err) => return warnings.record(path, err).map(|()| Members::missing()),
        };
        self.decode_or_fetch(values, warnings).await
    }

    /// The raw members of every page (expanded objects or bare links).
    async fn member_values(&self, path: &str, expand: Option<&str>) -> Result<Vec<Value>, Error> {
        let mut url = self.inner.endpoint.resolve(path)?;
        if let Some(expand) = expand {
            url.set_query(Some(&format!("$expand={expand}")));
        }
        let mut members = Vec::new();
        let mut seen = std::collections::HashSet::new();
        loop {
            seen.insert(url.clone());
            let page: Collection<Value> = self.inner.get_typed(&url).await?;
            members.extend(page.members);
            self.check_member_count(path, members.len())?;
            let Some(next) = page.next_link else { break };
            let next = self.inner.endpoint.resolve(&next)?;
            if seen.contains(&next) || seen.len() >= MAX_PAGES {
                tracing::warn!(path = %next.path(), "collection paging loops; stopping");
                break;
            }
            url = next;
        }
        Ok(members)
    }

    /// Decodes members that came complete, fetches those that are bare links (each once), and
    /// records what fails. Order is kept.
    async fn decode_or_fetch<T: DeserializeOwned>(
        &self,
        values: Vec<Value>,
        warnings: &Warnings,
    ) -> Result<Members<T>, Error> {
        enum Slot<T> {
            Ready(T),
            Fetch(String),
        }
        let mut complete = true;
        let mut slots = Vec::with_capacity(values.len());
        let mut seen = std::collections::HashSet::new();
        for value in values {
            let Some(id) = value
                .get("@odata.id")
                .and_then(Value::as_str)
                .map(str::to_owned)
            else {
                continue;
            };
            if !seen.insert(self.key_of(&id)) {
                continue;
            }
            if is_complete(&value) {
                let decoded = self
                    .inner
                    .endpoint
                    .resolve(&id)
                    .and_then(|url| decode_value::<T>(&url, ".", value));
                match decoded {
                    Ok(item) => slots.push(Slot::Ready(item)),
                    Err(err) => {
                        complete = false;
                        warnings.record(&id, err)?;
                    }
                }
            } else {
                slots.push(Slot::Fetch(id));
            }
        }
        let fetched = join_all(slots.iter().map(|slot| async move {
            match slot {
                Slot::Fetch(path) => Some(self.read_one::<T>(path).await),
                Slot::Ready(_) => None,
            }
        }))
        .await;
        let mut items = Vec::with_capacity(slots.len());
        for (slot, result) in slots.into_iter().zip(fetched) {
            match (slot, result) {
                (Slot::Ready(item), _) | (Slot::Fetch(_), Some(Ok(item))) => items.push(item),
                (Slot::Fetch(path), Some(Err(err))) => {
                    complete = false;
                    warnings.record(&path, err)?;
                }
                (Slot::Fetch(_), None) => {}
            }
        }
        Ok(Members { items, complete })
    }

    /// The identity of a link for de-duplication (`/a/b/` and `/a/b` are one resource).
    fn key_of(&self, path: &str) -> String {
        self.inner.endpoint.resolve(path).map_or_else(
            |_| path.to_owned(),
            |url: Url| resource_key(&url).to_owned(),
        )
    }

    /// Drives and volumes from `Storage`, or `SimpleStorage` when the system has no Storage
    /// drives. With enough `$expand` levels, one request brings the controllers, their drives
    /// and their volumes; what the expansion left as links is read next, concurrently per
    /// controller: a controller with several drive links is read again expanded one level
    /// (one request instead of one per drive), a volume collection is read expanded.
    async fn storage_parts(
        &self,
        sys: &ComputerSystem,
        plan: &ExpandPlan,
        warnings: &Warnings,
    ) -> Result<StorageParts, Error> {
        let mut parts = StorageParts::default();
        if let Some(path) = link_path(sys.storage.as_ref()) {
            let expand = plan.storage.as_ref().map(|(value, _)| value.as_str());
            let controllers = self
                .tolerant_members::<Value>(path, expand, warnings)
                .await?;
            let per_controller = join_all(
                controllers
                    .items
                    .iter()
                    .map(|c| self.controller_parts(c, plan.one.as_deref(), warnings)),
            )
            .await;
            let mut drive_keys = std::collections::HashSet::new();
            for result in per_controller {
                let (drives, volumes) = result?;
                for drive in drives {
                    let key = drive.odata_id.as_ref().map(|id| self.key_of(id.as_str()));
                    if key.is_none_or(|k| drive_keys.insert(k)) {
                        parts.drives.push(drive);
                    }
                }
                parts.volumes.extend(volumes);
            }
        }
        if parts.drives.is_empty()
            && let Some(path) = link_path(sys.simple_storage.as_ref())
        {
            parts.simple_storage = self
                .tolerant_members::<SimpleStorage>(path, plan.one.as_deref(), warnings)
                .await?
                .items;
        }
        Ok(parts)
    }

    /// One controller's drives and volumes, from its (maybe expanded) representation.
    async fn controller_parts(
        &self,
        controller: &Value,
        one: Option<&str>,
        warnings: &Warnings,
    ) -> Result<(Vec<Drive>, Vec<Volume>), Error> {
        let drives = async {
            let items: Vec<Value> = controller
                .get("Drives")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let links = items.iter().filter(|d| !is_complete(d)).count();
            let controller_path = controller.get("@odata.id").and_then(Value::as_str);
            // Several drives left as links: the controller expanded one level brings them all.
            if links >= 2
                && let (Some(expand), Some(path)) = (one, controller_path)
            {
                let mut url = self.inner.endpoint.resolve(path)?;
                url.set_query(Some(&format!("$expand={expand}")));
                match self.inner.get_typed::<Value>(&url).await {
                    Ok(expanded) => {
                        let items = expanded
                            .get("Drives")
                            .and_then(Value::as_array)
                            .cloned()
                            .unwrap_or_default();
                        return self.decode_or_fetch::<Drive>(items, warnings).await;
                    }
                    Err(err) if err.status().is_some() => {
                        tracing::debug!(path, error = %err, "expanded controller refused");
                    }
                    Err(err) => return Err(err),
                }
            }
            self.decode_or_fetch::<Drive>(items, warnings).await
        };
        let volumes = async {
            let Some(volumes) = controller.get("Volumes") else {
                return Ok(Vec::new());
            };
            let inline = volumes.get("Members").and_then(Value::as_array);
            match inline {
                // Expanded down to the volumes: nothing more to read.
                Some(members) if members.iter().all(is_complete) => Ok(self
                    .decode_or_fetch::<Volume>(members.clone(), warnings)
                    .await?
                    .items),
                _ => match volumes.get("@odata.id").and_then(Value::as_str) {
                    Some(path) => Ok(self
                        .tolerant_members::<Volume>(path, one, warnings)
                        .await?
                        .items),
                    None => Ok(Vec::new()),
                },
            }
        };
        let (drives, volumes) = futures::try_join!(drives, volumes)?;
        Ok((drives.items, volumes))
    }

    /// PCIe devices: from the PCIeDevices collections of the system's chassis when the service
    /// expands collections (two requests per chassis however many devices), else from the
    /// System's own `PCIeDevices` links (one request per device); the other source when the
    /// first has nothing.
    async fn pcie_devices(
        &self,
        sys: &ComputerSystem,
        one: Option<&str>,
        warnings: &Warnings,
    ) -> Result<Vec<PCIeDevice>, Error> {
        let system_links: Vec<Value> = sys
            .pcie_devices
            .iter()
            .filter_map(|l| l.path().map(|p| serde_json::json!({ "@odata.id": p })))
            .collect();
        let chassis_links: Vec<&str> = sys
            .links
            .as_ref()
            .map(|l| l.chassis.iter().filter_map(Link::path).collect())
            .unwrap_or_default();
        let by_system = || async {
            Ok::<_, Error>(
                self.decode_or_fetch::<PCIeDevice>(system_links.clone(), warnings)
                    .await?
                    .items,
            )
        };
        if system_links.is_empty() || (one.is_some() && !chassis_links.is_empty()) {
            let (devices, any_collection) = self
                .chassis_pcie_devices(&chassis_links, one, warnings)
                .await?;
            if any_collection || system_links.is_empty() {
                return Ok(devices);
            }
        }
        by_system().await
    }

    /// A chassis' PCIeDevices collection read at `{chassis}/PCIeDevices`, the URI the Redfish
    /// schema prescribes (DSP0266 "Resource URI patterns"), without reading the chassis first.
    /// The 404 when the service does not serve it there; a collection that refuses the
    /// expansion is read again without it; any other failure is a warning.
    async fn pcie_at_schema_uri(
        &self,
        chassis: &str,
        one: Option<&str>,
        warnings: &Warnings,
    ) -> Result<Result<Vec<PCIeDevice>, Error>, Error> {
        let at = schema_pcie_uri(chassis);
        let mut read = self.member_values(&at, one).await;
        if one.is_some()
            && let Err(err) = &read
            && err.status().is_some_and(|s| s != 404)
        {
            read = self.member_values(&at, None).await;
        }
        let values = match read {
            Ok(values) => values,
            Err(err) if err.is_not_found() => return Ok(Err(err)),
            Err(err) => return warnings.record(&at, err).map(|()| Ok(Vec::new())),
        };
        Ok(Ok(self.decode_or_fetch(values, warnings).await?.items))
    }

    /// The devices of every chassis' PCIeDevices collection, in chassis order (each chassis'
    /// collection read as soon as that chassis arrives), and whether any chassis had one.
    async fn chassis_pcie_devices(
        &self,
        chassis_links: &[&str],
        one: Option<&str>,
        warnings: &Warnings,
    ) -> Result<(Vec<PCIeDevice>, bool), Error> {
        let mut seen = std::collections::HashSet::new();
        let unique: Vec<&str> = chassis_links
            .iter()
            .copied()
            .filter(|p| seen.insert(self.key_of(p)))
            .collect();
        let per_chassis = join_all(unique.iter().map(|path| async move {
            // The collection at the URI the schema prescribes first: no round trip waits for
            // the chassis. Only where it is not served there is the chassis read for its link.
            let not_there = match self.pcie_at_schema_uri(path, one, warnings).await? {
                Ok(devices) => return Ok(Some(devices)),
                Err(not_found) => not_found,
            };
            let chassis = match self.read_one::<Chassis>(path).await {
                Ok(chassis) => chassis,
                Err(err) => return warnings.record(path, err).map(|()| None),
            };
            match link_path(chassis.pcie_devices.as_ref()) {
                // The chassis links the very collection that just answered 404.
                Some(collection)
                    if self.key_of(collection) == self.key_of(&schema_pcie_uri(path)) =>
                {
                    warnings
                        .record(collection, not_there)
                        .map(|()| Some(Vec::new()))
                }
                Some(collection) => Ok(Some(
                    self.tolerant_members::<PCIeDevice>(collection, one, warnings)
                        .await?
                        .items,
                )),
                None => Ok(None),
            }
        }))
        .await;
        let mut devices = Vec::new();
        let mut any = false;
        for result in per_chassis {
            if let Some(found) = result? {
                any = true;
                devices.extend(found);
            }
        }
        Ok((devices, any))
    }
}
