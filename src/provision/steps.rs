//! Clean steps in Ironic's manual-cleaning JSON (`{"interface", "step", "args"}`), typed.
//! Pure.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One step as the user writes it (Ironic's `clean_steps` entry). Kept in this shape in the
/// node document, so what was asked is what is stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CleanStep {
    /// `bios`, `power`, ... Optional for the reserved steps (`power_on`, `power_off`,
    /// `reboot`, `wait`), which Ironic runs whatever the interface.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    /// The step's name (`apply_configuration`).
    pub step: String,
    /// Its arguments.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub args: Map<String, Value>,
}

/// One BIOS setting of `bios.apply_configuration` (`{"name", "value"}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BiosSetting {
    /// Attribute name, vendor or portable (`hyper-threading`).
    pub name: String,
    /// Wanted value.
    pub value: Value,
}

/// What a step does.
#[derive(Clone, Debug, PartialEq)]
pub enum StepKind {
    /// `bios.apply_configuration {settings}`: validate, stage (one PATCH), reboot, verify.
    BiosApply(Vec<BiosSetting>),
    /// `bios.factory_reset`: `#Bios.ResetBios`, reboot, wait for the BMC to report the boot.
    BiosFactoryReset,
    /// `power_on` (skipped when already on).
    PowerOn,
    /// `power_off` (skipped when already off).
    PowerOff,
    /// `reboot`: off (skipped when off) then on, two persisted sub-phases.
    Reboot,
    /// `wait {seconds}`.
    Wait(u64),
}

/// The steps this library runs, for error messages.
pub const KNOWN_STEPS: &str = "bios.apply_configuration{settings}, bios.factory_reset, power_on, power_off, reboot, wait{seconds}";

impl CleanStep {
    /// A step from its parts.
    pub fn new(interface: Option<&str>, step: &str, args: Map<String, Value>) -> CleanStep {
        CleanStep {
            interface: interface.map(str::to_owned),
            step: step.to_owned(),
            args,
        }
    }

    /// `bios.apply_configuration` with these settings.
    pub fn bios_apply(settings: &[BiosSetting]) -> CleanStep {
        let mut args = Map::new();
        args.insert(
            "settings".into(),
            serde_json::to_value(settings).unwrap_or(Value::Null),
        );
        CleanStep::new(Some("bios"), "apply_configuration", args)
    }

    /// `interface.step`, or the step alone.
    pub fn label(&self) -> String {
        match &self.interface {
            Some(interface) => format!("{interface}.{}", self.step),
            None => self.step.clone(),
        }
    }

    /// The typed step, or why it is not one this library runs (unknown step, unexpected or
    /// missing argument).
    pub fn kind(&self) -> Result<StepKind, String> {
        let no_args = |kind: StepKind| {
            if let Some(name) = self.args.keys().next() {
                Err(format!("{}: unexpected argument {name:?}", self.label()))
            } else {
                Ok(kind)
            }
        };
        match (self.interface.as_deref(), self.step.as_str()) {
            (Some("bios"), "apply_configuration") => {
                if let Some(name) = self.args.keys().find(|k| k.as_str() != "settings") {
                    return Err(format!("{}: unexpected argument {name:?}", self.label()));
                }
                let settings = self
                    .args
                    .get("settings")
                    .ok_or_else(|| format!("{}: missing argument \"settings\"", self.label()))?;
                let settings: Vec<BiosSetting> =
                    serde_json::from_value(settings.clone()).map_err(|err| {
                        format!(
                            "{}: \"settings\" must be a list of {{\"name\", \"value\"}}: {err}",
                            self.label()
                        )
                    })?;
                if settings.is_empty() {
                    return Err(format!("{}: \"settings\" is empty", self.label()));
                }
                Ok(StepKind::BiosApply(settings))
            }
            (Some("bios"), "factory_reset") => no_args(StepKind::BiosFactoryReset),
            (_, "power_on") => no_args(StepKind::PowerOn),
            (_, "power_off") => no_args(StepKind::PowerOff),
            (_, "reboot") => no_args(StepKind::Reboot),
            (_, "wait") => {
                if let Some(name) = self.args.keys().find(|k| k.as_str() != "seconds") {
                    return Err(format!("{}: unexpected argument {name:?}", self.label()));
                }
                let seconds = self
                    .args
                    .get("seconds")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| {
                        format!(
                            "{}: \"seconds\" must be a whole number of seconds",
                            self.label()
                        )
                    })?;
                Ok(StepKind::Wait(seconds))
            }
            _ => Err(format!(
                "{}: not a step this library runs (known: {KNOWN_STEPS})",
                self.label()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn step(value: Value) -> CleanStep {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn every_known_step_parses() {
        assert_eq!(
            step(json!({"interface": "bios", "step": "factory_reset"}))
                .kind()
                .unwrap(),
            StepKind::BiosFactoryReset
        );
        assert_eq!(
            step(json!({"step": "wait", "args": {"seconds": 3}}))
                .kind()
                .unwrap(),
            StepKind::Wait(3)
        );
        assert_eq!(
            step(json!({"interface": "power", "step": "reboot"}))
                .kind()
                .unwrap(),
            StepKind::Reboot
        );
        let bios = CleanStep::bios_apply(&[BiosSetting {
            name: "ProcTurboMode".into(),
            value: json!("Disabled"),
        }]);
        assert!(matches!(bios.kind().unwrap(), StepKind::BiosApply(s) if s.len() == 1));
    }

    #[test]
    fn bad_arguments_are_named() {
        let err = step(json!({"step": "reboot", "args": {"force": true}}))
            .kind()
            .unwrap_err();
        assert!(err.contains("\"force\""), "{err}");
        let err = step(json!({"interface": "bios", "step": "apply_configuration"}))
            .kind()
            .unwrap_err();
        assert!(err.contains("missing argument"), "{err}");
        let err = step(json!({"step": "wait", "args": {"seconds": "soon"}}))
            .kind()
            .unwrap_err();
        assert!(err.contains("seconds"), "{err}");
    }
}
