//! The resource paths of a personality, rendered once per fleet.

use crate::personality::{Profile, VmediaLocation};

impl Paths {
    /// The virtual-media collection at `at` (System or Manager).
    pub(crate) fn vmedia(&self, at: VmediaLocation) -> &str {
        match at {
            VmediaLocation::Manager => &self.vmedia_manager,
            _ => &self.vmedia_system,
        }
    }
}

/// Most Systems one node serves ([`crate::MockBmcBuilder::systems_per_node`]).
pub(crate) const MAX_SYSTEMS: u8 = 16;

pub(crate) struct Paths {
    /// `Id` of every System, the first first.
    pub system_ids: Vec<String>,
    /// Path of every System, the first first (the one IPMI, BIOS and virtual media act on).
    pub systems: Vec<String>,
    pub manager: String,
    pub chassis: String,
    /// `{system}/VirtualMedia` of the first System (served when the personality has slots there).
    pub vmedia_system: String,
    /// `{manager}/VirtualMedia` (served when the personality has slots there).
    pub vmedia_manager: String,
    pub bios: String,
    pub bios_settings: String,
}

/// The `Id` of System `i` (0-based): the personality's for the first; for the others its
/// trailing number counted up (`System.Embedded.1` → `System.Embedded.2`), or `-N` appended
/// when it has none.
pub(crate) fn system_id(first: &str, i: usize) -> String {
    if i == 0 {
        return first.to_owned();
    }
    let digits = first.len() - first.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    match first[first.len() - digits..].parse::<usize>() {
        Ok(n) => format!("{}{}", &first[..first.len() - digits], n + i),
        Err(_) => format!("{first}-{}", i + 1),
    }
}

/// Resource paths of a personality serving `systems` Systems per node.
pub(crate) fn paths_of(p: &Profile, systems: u8) -> Paths {
    let system_ids: Vec<String> = (0..usize::from(systems.max(1)))
        .map(|i| system_id(p.system_id, i))
        .collect();
    let systems: Vec<String> = system_ids
        .iter()
        .map(|id| format!("/redfish/v1/Systems/{id}"))
        .collect();
    let system = systems[0].clone();
    let manager = format!("/redfish/v1/Managers/{}", p.manager_id);
    let vmedia_system = format!("{system}/VirtualMedia");
    let vmedia_manager = format!("{manager}/VirtualMedia");
    Paths {
        bios: format!("{system}/Bios"),
        bios_settings: format!("{system}/Bios/{}", p.bios_settings_segment),
        chassis: format!("/redfish/v1/Chassis/{}", p.chassis_id),
        system_ids,
        systems,
        manager,
        vmedia_system,
        vmedia_manager,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn further_systems_count_the_trailing_number_up() {
        assert_eq!(system_id("1", 0), "1");
        assert_eq!(system_id("1", 2), "3");
        assert_eq!(system_id("System.Embedded.1", 1), "System.Embedded.2");
        assert_eq!(system_id("Self", 1), "Self-2");
        let p = crate::personality::Personality::Dell.profile();
        let paths = paths_of(p, 2);
        assert_eq!(
            paths.systems,
            [
                "/redfish/v1/Systems/System.Embedded.1",
                "/redfish/v1/Systems/System.Embedded.2"
            ]
        );
        assert_eq!(paths.bios, "/redfish/v1/Systems/System.Embedded.1/Bios");
    }
}
