//! BIOS behaviours a node can be switched into, each a named quirk of real firmware, so that
//! every branch of a BIOS client runs against the mock. Set at start
//! ([`crate::MockBmcBuilder::bios_rejected_at_apply`] and the other `bios_*` builder methods),
//! changed at run time ([`crate::NodeHandle::set_bios_options`], admin `POST
//! /nodes/{i}/options`). The personality gives the defaults ([`BiosOptions::for_personality`]).

use serde::{Deserialize, Serialize};

use crate::personality::Personality;

/// The BIOS quirk switches of one node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(clippy::struct_excessive_bools)] // each bool is one named quirk
pub struct BiosOptions {
    /// Quirk `bios_rejected_at_apply`: these attributes (registry names, without suffix) are
    /// accepted by the settings PATCH but refused by the BIOS at the applying reset: the value
    /// is not applied, the pending value is dropped, and the Bios resource's
    /// `@Redfish.Settings.Messages` carries a `Base.1.18.PropertyValueNotInList` message naming
    /// the attribute (`MessageArgs`, `RelatedProperties`), as firmware that checks a value
    /// only at POST reports it.
    pub rejected_at_apply: Vec<String>,
    /// Quirk `bios_rejected_at_patch`: a settings PATCH naming one of these attributes
    /// (registry names, without suffix) is refused with 400 and one
    /// `Base.1.18.PropertyValueNotInList` message per such attribute (its name and value in
    /// `MessageArgs`, `/Attributes/<name>` in `RelatedProperties`); nothing is staged.
    pub rejected_at_patch: Vec<String>,
    /// Quirk `bios_never_applies`: the settings PATCH is accepted (and a Dell job completes)
    /// but no reset applies the values: they stay pending, `@Redfish.Settings.Time` does not
    /// move and no message says why.
    pub never_applies: bool,
    /// Quirk `bios_suffixed_names`: attribute names carry a `#XXXX` suffix (four hex digits)
    /// in the registry, the Bios resource, the settings object and the PATCH, as on
    /// Supermicro (`QuietBoot#002E`); a PATCH with an unsuffixed name is refused with
    /// `PropertyUnknown`. On by default for Supermicro.
    pub suffixed_names: bool,
    /// Quirk `bios_settings_if_match_star`: a PATCH of the BIOS settings object without
    /// `If-Match` is refused with 428 `PreconditionRequired`, and one with an entity tag, weak
    /// or strong, with 412 `PreconditionFailed`: only `If-Match: *` is accepted (AMI
    /// `MegaRAC` firmware that requires the header and refuses its own tags).
    pub settings_if_match_star: bool,
    /// Quirk `reset_bios_needs_body`: `#Bios.ResetBios` without a JSON body is refused with
    /// 400 `MalformedJSON`; `{}` is accepted (Dell R630 iDRAC 2.75 and others).
    pub reset_bios_needs_body: bool,
}

impl BiosOptions {
    /// The defaults of a personality: Supermicro names its attributes with suffixes, AMI's
    /// `Bios/SD` takes `If-Match: *` only; every other switch is off.
    pub fn for_personality(personality: Personality) -> BiosOptions {
        BiosOptions {
            suffixed_names: personality == Personality::Supermicro,
            settings_if_match_star: personality == Personality::Ami,
            ..BiosOptions::default()
        }
    }
}

/// Changes to [`BiosOptions`]: a `None` field leaves the setting as it is (builder, admin API).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BiosOptionsChange {
    /// [`BiosOptions::rejected_at_apply`].
    pub rejected_at_apply: Option<Vec<String>>,
    /// [`BiosOptions::rejected_at_patch`].
    pub rejected_at_patch: Option<Vec<String>>,
    /// [`BiosOptions::never_applies`].
    pub never_applies: Option<bool>,
    /// [`BiosOptions::suffixed_names`].
    pub suffixed_names: Option<bool>,
    /// [`BiosOptions::settings_if_match_star`].
    pub settings_if_match_star: Option<bool>,
    /// [`BiosOptions::reset_bios_needs_body`].
    pub reset_bios_needs_body: Option<bool>,
}

impl BiosOptionsChange {
    /// Applies the change.
    pub fn apply_to(&self, options: &mut BiosOptions) {
        if let Some(names) = &self.rejected_at_apply {
            options.rejected_at_apply.clone_from(names);
        }
        if let Some(names) = &self.rejected_at_patch {
            options.rejected_at_patch.clone_from(names);
        }
        if let Some(on) = self.never_applies {
            options.never_applies = on;
        }
        if let Some(on) = self.suffixed_names {
            options.suffixed_names = on;
        }
        if let Some(on) = self.settings_if_match_star {
            options.settings_if_match_star = on;
        }
        if let Some(on) = self.reset_bios_needs_body {
            options.reset_bios_needs_body = on;
        }
    }
}

/// The `#XXXX` suffix of attribute `idx` (four upper-case hex digits, distinct per attribute).
pub fn suffix_of(idx: usize) -> String {
    format!("#{:04X}", 0x20 + idx * 3)
}

/// The name attribute `idx` has on the wire.
pub(crate) fn wire_name(options: &BiosOptions, idx: usize) -> String {
    let base = crate::bios::ATTRIBUTES
        .get(idx)
        .map_or("", |a| a.name)
        .to_owned();
    if options.suffixed_names {
        base + &suffix_of(idx)
    } else {
        base
    }
}

/// The registry name a wire name stands for: itself, or with suffixes on, the name without
/// its own attribute's suffix (`None` for an unsuffixed or wrongly suffixed name, which the
/// firmware does not know).
pub(crate) fn registry_name<'a>(options: &BiosOptions, wire: &'a str) -> Option<&'a str> {
    if !options.suffixed_names {
        return Some(wire);
    }
    let (base, _) = wire.split_once('#')?;
    let idx = crate::bios::index_of(base)?;
    (wire_name(options, idx) == wire).then_some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixed_names_round_trip_and_unsuffixed_ones_are_unknown() {
        let on = BiosOptions::for_personality(Personality::Supermicro);
        assert!(on.suffixed_names);
        let idx = crate::bios::index_of("ProcTurboMode").unwrap();
        let wire = wire_name(&on, idx);
        assert!(
            wire.starts_with("ProcTurboMode#") && wire.len() == "ProcTurboMode#0000".len(),
            "{wire}"
        );
        assert_eq!(registry_name(&on, &wire), Some("ProcTurboMode"));
        assert_eq!(registry_name(&on, "ProcTurboMode"), None);
        assert_eq!(registry_name(&on, "ProcTurboMode#FFFF"), None);
        let off = BiosOptions::for_personality(Personality::Dell);
        assert_eq!(wire_name(&off, idx), "ProcTurboMode");
        assert_eq!(registry_name(&off, "ProcTurboMode"), Some("ProcTurboMode"));
        let mut names: Vec<String> = (0..crate::bios::ATTRIBUTES.len())
            .map(|i| wire_name(&on, i))
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), crate::bios::ATTRIBUTES.len());
    }

    #[test]
    fn a_change_sets_only_what_it_names() {
        let mut o = BiosOptions::for_personality(Personality::Supermicro);
        BiosOptionsChange {
            never_applies: Some(true),
            ..BiosOptionsChange::default()
        }
        .apply_to(&mut o);
        assert!(o.never_applies && o.suffixed_names);
        let change: BiosOptionsChange =
            serde_json::from_str(r#"{"suffixed_names": false, "rejected_at_apply": ["BootMode"]}"#)
                .unwrap();
        change.apply_to(&mut o);
        assert!(!o.suffixed_names && o.never_applies);
        assert_eq!(o.rejected_at_apply, ["BootMode"]);
        assert!(serde_json::from_str::<BiosOptionsChange>(r#"{"nope": 1}"#).is_err());
    }
}
