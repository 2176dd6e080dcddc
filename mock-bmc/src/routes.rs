//! The route table: every resource and action the service serves, its path pattern below
//! `/redfish/v1`, the methods it allows, and (through [`Resource`]) the area module that serves
//! it. The first row that matches wins.
//!
//! Placeholders in a pattern match one path segment: `{system}` any of the node's System ids,
//! `{manager}`, `{chassis}`, `{settings}` (the BIOS settings object) and `{registry}` (the BIOS
//! attribute registry) the personality's single id, `{slot}` a virtual-media slot id, and
//! `{id}` anything (captured in [`Params::ids`], in order; the area decides whether it names a
//! member).

use crate::areas::dell::DellRes;
use crate::node::Node;
use crate::reply::Allow;

/// Service root and metadata (`areas::root`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RootRes {
    /// `/redfish`: the version document.
    Versions,
    ServiceRoot,
    Metadata,
    Odata,
}

/// Sessions and accounts (`areas::sessions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionsRes {
    SessionService,
    Sessions,
    /// `Sessions/Members`, where some clients POST to log in.
    SessionsMembers,
    Session,
    AccountService,
    Accounts,
    Account,
    Roles,
    Role,
}

/// Systems with power and boot (`areas::systems`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SystemsRes {
    Collection,
    System,
    ResetActionInfo,
    Reset,
    /// iLO's `Oem/Hpe/HpeComputerSystemExt.PowerButton` (`PushType` `Press`, `PressAndHold`).
    HpePowerButton,
    /// iLO's `Oem/Hpe/HpeComputerSystemExt.SystemReset` (`ResetType` `ColdBoot`, `AuxCycle`).
    HpeSystemReset,
}

/// BIOS and its attribute registry (`areas::bios`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BiosRes {
    Bios,
    Settings,
    ResetBios,
    Registries,
    Registry,
    RegistryFile,
}

/// Virtual media (`areas::vmedia`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VmediaRes {
    Collection,
    Slot,
    Insert,
    Eject,
}

/// Tasks, task monitors and Dell jobs (`areas::tasks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TasksRes {
    TaskService,
    Tasks,
    Task,
    Monitor,
    DellJobs,
    DellJob,
}

/// Generated inventory: processors, memory, storage, NICs, chassis and `PCIe` devices
/// (`areas::inventory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InventoryRes {
    Processors,
    Processor,
    Memory,
    Dimm,
    Storages,
    Storage,
    Drive,
    Volumes,
    Volume,
    SimpleStorages,
    SimpleStorage,
    Nics,
    Nic,
    ChassisCollection,
    Chassis,
    PcieDevices,
    PcieDevice,
}

/// Managers (`areas::managers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ManagersRes {
    Collection,
    Manager,
}

/// A resource, by area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resource {
    Root(RootRes),
    Sessions(SessionsRes),
    Systems(SystemsRes),
    Bios(BiosRes),
    Vmedia(VmediaRes),
    Tasks(TasksRes),
    Inventory(InventoryRes),
    Managers(ManagersRes),
    /// Dell OEM services (`areas::dell`).
    Dell(crate::areas::dell::DellRes),
}

impl Resource {
    /// Whether query parameters apply: not to the version document, `$metadata` and the
    /// `OData` service document, which ignore them.
    pub fn takes_query(self) -> bool {
        !matches!(
            self,
            Resource::Root(RootRes::Versions | RootRes::Metadata | RootRes::Odata)
        )
    }
}

/// What the placeholders of the matched row captured.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Params<'a> {
    /// `{system}`: index of the System (0 when the pattern has none).
    pub system: usize,
    /// `{slot}`: index of the virtual-media slot.
    pub slot: usize,
    /// Where the virtual-media row sits: the Manager's collection or the System's.
    pub vmedia_at: Option<crate::personality::VmediaLocation>,
    /// `{id}` segments, in order.
    pub ids: Vec<&'a str>,
}

impl<'a> Params<'a> {
    /// The `n`th `{id}`, or "".
    pub fn id(&self, n: usize) -> &'a str {
        self.ids.get(n).copied().unwrap_or_default()
    }
}

/// The row a path matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Matched<'a> {
    pub resource: Resource,
    pub allow: Allow,
    pub params: Params<'a>,
}

/// One row of the table.
pub(crate) struct Route {
    pattern: &'static str,
    resource: Resource,
    allow: Allow,
    /// The row exists only when this holds for the node (a personality or option).
    when: fn(&Node) -> bool,
}

const fn route(pattern: &'static str, resource: Resource, allow: Allow) -> Route {
    Route {
        pattern,
        resource,
        allow,
        when: always,
    }
}

const fn route_when(
    pattern: &'static str,
    resource: Resource,
    allow: Allow,
    when: fn(&Node) -> bool,
) -> Route {
    Route {
        pattern,
        resource,
        allow,
        when,
    }
}

fn always(_: &Node) -> bool {
    true
}

fn has_sessions(node: &Node) -> bool {
    !node.basic_auth_only()
}

fn vmedia_at_system(node: &Node) -> bool {
    node.profile().vmedia_location != crate::personality::VmediaLocation::Manager
}

fn vmedia_at_manager(node: &Node) -> bool {
    node.profile().vmedia_location != crate::personality::VmediaLocation::System
}

fn vmedia_actions_at_system(node: &Node) -> bool {
    vmedia_at_system(node) && !node.profile().vmedia_patch_only
}

fn vmedia_actions_at_manager(node: &Node) -> bool {
    vmedia_at_manager(node) && !node.profile().vmedia_patch_only
}

fn hpe_oem_actions(node: &Node) -> bool {
    node.profile().oem_key == Some("Hpe")
}

fn dell_jobs(node: &Node) -> bool {
    node.profile().bios_patch_creates_job
}

fn dell_oem(node: &Node) -> bool {
    node.profile().oem_key == Some("Dell")
}

use Allow::{Get, GetDelete, GetPatch, GetPost, Post};
use Resource as R;

/// The table. Adding a resource: a row here, a variant in its area's enum above, and the arms
/// in that area module's `get` (and `patch`/`post`/`delete` when the row allows them).
pub(crate) static ROUTES: &[Route] = &[
    // Service root and metadata.
    route("", R::Root(RootRes::ServiceRoot), Get),
    route("$metadata", R::Root(RootRes::Metadata), Get),
    route("odata", R::Root(RootRes::Odata), Get),
    // Sessions and accounts.
    route_when(
        "SessionService",
        R::Sessions(SessionsRes::SessionService),
        GetPatch,
        has_sessions,
    ),
    route_when(
        "SessionService/Sessions",
        R::Sessions(SessionsRes::Sessions),
        GetPost,
        has_sessions,
    ),
    route_when(
        "SessionService/Sessions/Members",
        R::Sessions(SessionsRes::SessionsMembers),
        GetPost,
        has_sessions,
    ),
    route_when(
        "SessionService/Sessions/{id}",
        R::Sessions(SessionsRes::Session),
        GetDelete,
        has_sessions,
    ),
    route(
        "AccountService",
        R::Sessions(SessionsRes::AccountService),
        Get,
    ),
    route(
        "AccountService/Accounts",
        R::Sessions(SessionsRes::Accounts),
        Get,
    ),
    route(
        "AccountService/Accounts/{id}",
        R::Sessions(SessionsRes::Account),
        Get,
    ),
    route("AccountService/Roles", R::Sessions(SessionsRes::Roles), Get),
    route(
        "AccountService/Roles/{id}",
        R::Sessions(SessionsRes::Role),
        Get,
    ),
    // Systems, power and boot.
    route("Systems", R::Systems(SystemsRes::Collection), Get),
    route("Systems/{system}", R::Systems(SystemsRes::System), GetPatch),
    route(
        "Systems/{system}/ResetActionInfo",
        R::Systems(SystemsRes::ResetActionInfo),
        Get,
    ),
    route(
        "Systems/{system}/Actions/ComputerSystem.Reset",
        R::Systems(SystemsRes::Reset),
        Post,
    ),
    route_when(
        "Systems/{system}/Actions/Oem/Hpe/HpeComputerSystemExt.PowerButton",
        R::Systems(SystemsRes::HpePowerButton),
        Post,
        hpe_oem_actions,
    ),
    route_when(
        "Systems/{system}/Actions/Oem/Hpe/HpeComputerSystemExt.SystemReset",
        R::Systems(SystemsRes::HpeSystemReset),
        Post,
        hpe_oem_actions,
    ),
    // BIOS.
    route("Systems/{system}/Bios", R::Bios(BiosRes::Bios), Get),
    route(
        "Systems/{system}/Bios/{settings}",
        R::Bios(BiosRes::Settings),
        GetPatch,
    ),
    route(
        "Systems/{system}/Bios/Actions/Bios.ResetBios",
        R::Bios(BiosRes::ResetBios),
        Post,
    ),
    route("Registries", R::Bios(BiosRes::Registries), Get),
    route("Registries/{registry}", R::Bios(BiosRes::Registry), Get),
    route(
        "Registries/{registry}/{id}",
        R::Bios(BiosRes::RegistryFile),
        Get,
    ),
    // Virtual media, under the System or the Manager as the personality has it.
    route_when(
        "Systems/{system}/VirtualMedia",
        R::Vmedia(VmediaRes::Collection),
        Get,
        vmedia_at_system,
    ),
    route_when(
        "Systems/{system}/VirtualMedia/{slot}",
        R::Vmedia(VmediaRes::Slot),
        GetPatch,
        vmedia_at_system,
    ),
    route_when(
        "Systems/{system}/VirtualMedia/{slot}/Actions/VirtualMedia.InsertMedia",
        R::Vmedia(VmediaRes::Insert),
        Post,
        vmedia_actions_at_system,
    ),
    route_when(
        "Systems/{system}/VirtualMedia/{slot}/Actions/VirtualMedia.EjectMedia",
        R::Vmedia(VmediaRes::Eject),
        Post,
        vmedia_actions_at_system,
    ),
    route_when(
        "Managers/{manager}/VirtualMedia",
        R::Vmedia(VmediaRes::Collection),
        Get,
        vmedia_at_manager,
    ),
    route_when(
        "Managers/{manager}/VirtualMedia/{slot}",
        R::Vmedia(VmediaRes::Slot),
        GetPatch,
        vmedia_at_manager,
    ),
    route_when(
        "Managers/{manager}/VirtualMedia/{slot}/Actions/VirtualMedia.InsertMedia",
        R::Vmedia(VmediaRes::Insert),
        Post,
        vmedia_actions_at_manager,
    ),
    route_when(
        "Managers/{manager}/VirtualMedia/{slot}/Actions/VirtualMedia.EjectMedia",
        R::Vmedia(VmediaRes::Eject),
        Post,
        vmedia_actions_at_manager,
    ),
    // Tasks and jobs.
    route("TaskService", R::Tasks(TasksRes::TaskService), Get),
    route("TaskService/Tasks", R::Tasks(TasksRes::Tasks), Get),
    route("TaskService/Tasks/{id}", R::Tasks(TasksRes::Task), Get),
    route(
        "TaskService/TaskMonitors/{id}",
        R::Tasks(TasksRes::Monitor),
        GetDelete,
    ),
    route_when(
        "Managers/{manager}/Jobs",
        R::Tasks(TasksRes::DellJobs),
        GetPost,
        dell_jobs,
    ),
    route_when(
        "Managers/{manager}/Jobs/{id}",
        R::Tasks(TasksRes::DellJob),
        Get,
        dell_jobs,
    ),
    // Dell OEM services and the DMTF view of the Dell job queue.
    route_when(
        "Managers/{manager}/Oem/Dell/DellLCService",
        R::Dell(DellRes::LcService),
        Get,
        dell_oem,
    ),
    route_when(
        "Managers/{manager}/Oem/Dell/DellLCService/Actions/DellLCService.GetRemoteServicesAPIStatus",
        R::Dell(DellRes::LcStatus),
        Post,
        dell_oem,
    ),
    route_when(
        "Managers/{manager}/Oem/Dell/DellJobService",
        R::Dell(DellRes::JobService),
        Get,
        dell_oem,
    ),
    route_when(
        "Managers/{manager}/Oem/Dell/DellJobService/Actions/DellJobService.DeleteJobQueue",
        R::Dell(DellRes::DeleteJobQueue),
        Post,
        dell_oem,
    ),
    route_when(
        "JobService",
        R::Dell(DellRes::DmtfJobService),
        Get,
        dell_oem,
    ),
    route_when("JobService/Jobs", R::Dell(DellRes::DmtfJobs), Get, dell_oem),
    route_when(
        "JobService/Jobs/{id}",
        R::Dell(DellRes::DmtfJob),
        Get,
        dell_oem,
    ),
    // Inventory.
    route(
        "Systems/{system}/Processors",
        R::Inventory(InventoryRes::Processors),
        Get,
    ),
    route(
        "Systems/{system}/Processors/{id}",
        R::Inventory(InventoryRes::Processor),
        Get,
    ),
    route(
        "Systems/{system}/Memory",
        R::Inventory(InventoryRes::Memory),
        Get,
    ),
    route(
        "Systems/{system}/Memory/{id}",
        R::Inventory(InventoryRes::Dimm),
        Get,
    ),
    route(
        "Systems/{system}/Storage",
        R::Inventory(InventoryRes::Storages),
        Get,
    ),
    route(
        "Systems/{system}/Storage/{id}",
        R::Inventory(InventoryRes::Storage),
        Get,
    ),
    route(
        "Systems/{system}/Storage/{id}/Drives/{id}",
        R::Inventory(InventoryRes::Drive),
        Get,
    ),
    route(
        "Systems/{system}/Storage/{id}/Volumes",
        R::Inventory(InventoryRes::Volumes),
        Get,
    ),
    route(
        "Systems/{system}/Storage/{id}/Volumes/{id}",
        R::Inventory(InventoryRes::Volume),
        Get,
    ),
    route(
        "Systems/{system}/SimpleStorage",
        R::Inventory(InventoryRes::SimpleStorages),
        Get,
    ),
    route(
        "Systems/{system}/SimpleStorage/{id}",
        R::Inventory(InventoryRes::SimpleStorage),
        Get,
    ),
    route(
        "Systems/{system}/EthernetInterfaces",
        R::Inventory(InventoryRes::Nics),
        Get,
    ),
    route(
        "Systems/{system}/EthernetInterfaces/{id}",
        R::Inventory(InventoryRes::Nic),
        Get,
    ),
    route(
        "Chassis",
        R::Inventory(InventoryRes::ChassisCollection),
        Get,
    ),
    route(
        "Chassis/{chassis}",
        R::Inventory(InventoryRes::Chassis),
        Get,
    ),
    route(
        "Chassis/{chassis}/PCIeDevices",
        R::Inventory(InventoryRes::PcieDevices),
        Get,
    ),
    route(
        "Chassis/{chassis}/PCIeDevices/{id}",
        R::Inventory(InventoryRes::PcieDevice),
        Get,
    ),
    // Managers.
    route("Managers", R::Managers(ManagersRes::Collection), Get),
    route("Managers/{manager}", R::Managers(ManagersRes::Manager), Get),
];

/// The row serving `path` (the URI path, trailing slash removed), or `None` (404).
pub(crate) fn resolve<'a>(node: &Node, path: &'a str) -> Option<Matched<'a>> {
    if path == "/redfish" {
        return Some(Matched {
            resource: R::Root(RootRes::Versions),
            allow: Get,
            params: Params::default(),
        });
    }
    let rest = path.strip_prefix("/redfish/v1")?;
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    ROUTES.iter().find_map(|route| {
        let params = match_pattern(node, route.pattern, &segs)?;
        (route.when)(node).then_some(Matched {
            resource: route.resource,
            allow: route.allow,
            params,
        })
    })
}

fn match_pattern<'a>(node: &Node, pattern: &str, segs: &[&'a str]) -> Option<Params<'a>> {
    // Most rows differ in length from the path: a byte count rules them out cheaply.
    let pattern_len = if pattern.is_empty() {
        0
    } else {
        1 + pattern.bytes().filter(|b| *b == b'/').count()
    };
    if pattern_len != segs.len() {
        return None;
    }
    let p = node.profile();
    let mut params = Params::default();
    let mut parts = pattern.split('/').filter(|s| !s.is_empty());
    for seg in segs {
        let part = parts.next()?;
        match part {
            "{system}" => {
                params.system = node
                    .shared
                    .paths
                    .system_ids
                    .iter()
                    .position(|id| id == seg)?;
            }
            "{manager}" if *seg == p.manager_id => {}
            "{chassis}" if *seg == p.chassis_id => {}
            "{settings}" if *seg == p.bios_settings_segment => {}
            "{registry}" if *seg == p.bios_registry => {}
            "{slot}" => {
                // The same id may exist at both levels (never on today's personalities, but
                // a slot is looked up among those of the row's level).
                let at = params.vmedia_at?;
                params.slot = p
                    .vmedia_slots
                    .iter()
                    .position(|s| s.at == at && s.id == *seg)?;
            }
            "VirtualMedia" if *seg == "VirtualMedia" => {
                params.vmedia_at = Some(if pattern.starts_with("Managers") {
                    crate::personality::VmediaLocation::Manager
                } else {
                    crate::personality::VmediaLocation::System
                });
            }
            "{id}" => params.ids.push(seg),
            literal if literal == *seg => {}
            _ => return None,
        }
    }
    parts.next().is_none().then_some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_well_formed_and_placeholders_known() {
        for route in ROUTES {
            for part in route.pattern.split('/').filter(|p| p.starts_with('{')) {
                assert!(
                    matches!(
                        part,
                        "{system}"
                            | "{manager}"
                            | "{chassis}"
                            | "{settings}"
                            | "{registry}"
                            | "{slot}"
                            | "{id}"
                    ),
                    "{}: {part}",
                    route.pattern
                );
            }
            assert!(!route.pattern.starts_with('/') && !route.pattern.ends_with('/'));
        }
    }
}
