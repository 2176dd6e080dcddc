//! The node document: one versioned, serializable value per node (never a secret), its
//! operation with steps and sub-phase, and how each sub-phase resumes after a crash.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::state::{DeploySpec, Event, ProvisionState};
use super::steps::{BiosSetting, CleanStep};

/// The schema of the node document; a reader refuses any other.
pub const NODE_SCHEMA: &str = "ferrofish.node/1";

/// At most this many history entries are kept (oldest dropped first).
pub const HISTORY_CAP: usize = 32;

/// A point in time: milliseconds since the Unix epoch. Passed in, never read by the pure
/// layers.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The system clock now (for callers; the pure layers take it as an argument).
    pub fn now() -> Timestamp {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        Timestamp(u64::try_from(millis).unwrap_or(u64::MAX))
    }

    /// This time plus `duration` (saturating).
    #[must_use]
    pub fn plus(self, duration: Duration) -> Timestamp {
        let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        Timestamp(self.0.saturating_add(millis))
    }

    /// How long from `self` until `later` (zero when `later` is not later).
    pub fn until(self, later: Timestamp) -> Duration {
        Duration::from_millis(later.0.saturating_sub(self.0))
    }

    /// Milliseconds since the epoch, as the store keeps it.
    pub fn as_millis(self) -> u64 {
        self.0
    }
}

/// How to reach the node's BMC. Credentials are a reference the caller resolves (the name of
/// an environment variable, an opaque secret id), never the secret itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BmcRef {
    /// The BMC's address (an `http(s)://` URL, optionally with the system path).
    pub address: String,
    /// The user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The environment variable holding the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// An opaque reference to the credentials (`secret://bmc/r640-12`), for callers that keep
    /// them in a vault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_ref: Option<String>,
}

/// Who may drive the node until when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The holder's name (a process, a worker).
    pub holder: String,
    /// When the lease lapses unless renewed.
    pub expires_at: Timestamp,
}

/// One history line: an event or a state change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When.
    pub at: Timestamp,
    /// What (`manage`, `done`, `fail`, `abort`, `resume`, `warning`).
    pub event: String,
    /// State before.
    pub from: ProvisionState,
    /// State after.
    pub to: ProvisionState,
    /// Details (the error of a failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What an operation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    /// Verifying the BMC (`manage` from `enroll`).
    Verify,
    /// Out-of-band inspection.
    Inspect,
    /// Manual cleaning.
    Clean,
    /// Automated cleaning on the way to `available`.
    Provide,
    /// Deploying.
    Deploy,
    /// Tearing down.
    Undeploy,
    /// Adopting a node deployed by other means.
    Adopt,
}

impl OperationKind {
    /// The name (`clean`).
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Verify => "verify",
            OperationKind::Inspect => "inspect",
            OperationKind::Clean => "clean",
            OperationKind::Provide => "provide",
            OperationKind::Deploy => "deploy",
            OperationKind::Undeploy => "undeploy",
            OperationKind::Adopt => "adopt",
        }
    }
}

/// How a sub-phase is re-entered after a crash (or by a process taking over an expired
/// lease).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resume {
    /// Read the BMC again and decide from what it says (every write is guarded by a read of
    /// the state it changes, so nothing is done twice).
    Reread,
    /// Issue the same call again: it is idempotent.
    Reissue,
    /// Fail with "interrupted in step X", as Ironic does for its stuck states.
    Fail,
}

/// The sub-phase of an operation: what `advance` does next. Each declares how it resumes
/// ([`Phase::resume`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Verify: read power state and vendor.
    VerifyRead,
    /// Inspect: read the inventory, set properties, run the rules.
    InspectRead,
    /// Adopt: check the power state is readable.
    AdoptRead,
    /// Start the step at `index` (or finish when none is left).
    StepStart,
    /// `power_on`: read, then `On` unless on.
    PowerOnRequest,
    /// `power_on`: wait until on.
    PowerOnWait,
    /// `power_off`: read, then `ForceOff` unless off.
    PowerOffRequest,
    /// `power_off`: wait until off.
    PowerOffWait,
    /// Reboot, first half: `ForceOff` unless off.
    RebootOff,
    /// Reboot: wait until off.
    RebootOffWait,
    /// Reboot, second half: `On` unless on.
    RebootOn,
    /// Reboot: wait until on.
    RebootOnWait,
    /// `wait {seconds}`: until the deadline.
    WaitUntil,
    /// `bios.apply_configuration`: validate and stage (the one PATCH).
    BiosStage,
    /// `bios.apply_configuration`: after the reboot, wait for the boot and the values.
    BiosWaitApplied,
    /// `bios.factory_reset`: post `#Bios.ResetBios`.
    BiosFactoryReset,
    /// `bios.factory_reset`: after the reboot, wait for the boot.
    BiosWaitReset,
    /// Deploy: `ForceOff` unless off.
    DeployPowerOff,
    /// Deploy: wait until off.
    DeployPowerOffWait,
    /// Deploy: eject stale media (every occupied CD and removable slot).
    DeployEject,
    /// Deploy: build, publish and insert the config drive.
    DeployConfigDrive,
    /// Deploy: insert the image into a CD slot.
    DeployInsert,
    /// Deploy: one-time boot override to CD.
    DeployBootOnce,
    /// Deploy: `On`.
    DeployPowerOn,
    /// Deploy: wait for the override consumed and `BootProgress` in an OS state.
    DeployWaitBoot,
    /// Deploy: eject the media.
    DeployEjectAfter,
    /// Deploy: persistent boot from disk.
    DeployBootDisk,
    /// A failed deploy boot: power off before failing (Ironic's deploy clean-up).
    DeployCleanupPowerOff,
    /// A failed deploy boot: eject the media, then fail.
    DeployCleanupEject,
    /// Undeploy: `ForceOff` unless off.
    UndeployPowerOff,
    /// Undeploy: wait until off.
    UndeployPowerOffWait,
    /// Undeploy: eject all media.
    UndeployEject,
    /// Undeploy: clear the boot override.
    UndeployClearOverride,
}

impl Phase {
    /// How this phase resumes after a crash.
    ///
    /// Every write is guarded by a read of what it changes (power requests read the power
    /// state, ejects read the slots, the BIOS stage reads current and pending values), so
    /// most phases re-read. Verification fails as Ironic's `verifying` does on restart (back to
    /// `enroll`, to be managed again). Boot overrides and inserts are idempotent and re-issued.
    pub fn resume(self) -> Resume {
        match self {
            Phase::VerifyRead => Resume::Fail,
            Phase::DeployBootOnce
            | Phase::DeployBootDisk
            | Phase::UndeployClearOverride
            | Phase::DeployInsert
            | Phase::DeployConfigDrive => Resume::Reissue,
            _ => Resume::Reread,
        }
    }

    /// A phase that only waits for the BMC (read errors there are warnings until the deadline;
    /// `abort` is accepted there).
    pub fn is_waiting(self) -> bool {
        matches!(
            self,
            Phase::PowerOnWait
                | Phase::PowerOffWait
                | Phase::RebootOffWait
                | Phase::RebootOnWait
                | Phase::WaitUntil
                | Phase::BiosWaitApplied
                | Phase::BiosWaitReset
                | Phase::DeployPowerOffWait
                | Phase::DeployWaitBoot
                | Phase::UndeployPowerOffWait
        )
    }

    /// The snake_case name.
    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// What a step or phase keeps across `advance` calls and crashes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Scratch {
    /// A BIOS change (or factory reset) was staged and awaits the reboot: never PATCH (or
    /// POST) again for this step.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reboot_requested: bool,
    /// The BIOS settings staged (names and values; never password attributes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requested_attrs: Vec<BiosSetting>,
    /// The config drive's URL, once inserted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_drive_url: Option<String>,
    /// The BMC stored the one-time override as continuous: clear it after the boot.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub must_clear_override: bool,
    /// Reads that failed while waiting (BMC unreachable), since the phase began.
    #[serde(skip_serializing_if = "is_zero")]
    pub failed_reads: u32,
    /// The last of those failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_warning: Option<String>,
    /// Why the operation fails, while its clean-up phases run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// The BMC refused a persistent (`Continuous`) boot override with this error: the phase
    /// sets it once instead and remembers the device ([`Node::remembered_boot`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuous_refused: Option<String>,
    /// The remembered boot device was re-applied in this phase: the power-on goes out next,
    /// whatever the BMC shows (never a second override for one power-on).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub boot_restored: bool,
}

/// A boot device the BMC would not keep persistently, set once instead and re-applied before
/// every later power-on or reboot while the BMC has consumed or dropped it (Ironic's
/// `driver_internal_info.redfish_boot_device`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RememberedBoot {
    /// The device.
    pub device: super::port::BootDevice,
    /// The boot mode it was set with (`None`: left as it was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<super::state::BootModeChoice>,
}

// serde's `skip_serializing_if` passes a reference.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The operation under way: its steps, the step index and the sub-phase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// What it is.
    pub kind: OperationKind,
    /// Clean steps (manual cleaning); empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<CleanStep>,
    /// The step being run.
    #[serde(default)]
    pub index: usize,
    /// The sub-phase.
    pub phase: Phase,
    /// When the phase began.
    pub phase_entered_at: Timestamp,
    /// When the phase gives up (a wait's deadline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Timestamp>,
    /// What to deploy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<DeploySpec>,
    /// Step state kept across calls and crashes.
    #[serde(default)]
    pub scratch: Scratch,
}

impl Operation {
    /// The current step, when the operation runs steps.
    pub fn step(&self) -> Option<&CleanStep> {
        self.steps.get(self.index)
    }

    /// Where the operation is, for messages: `clean step 2 (bios.apply_configuration),
    /// phase bios_stage`.
    pub fn describe(&self) -> String {
        match self.step() {
            Some(step) => format!(
                "{} step {} ({}), phase {}",
                self.kind.as_str(),
                self.index + 1,
                step.label(),
                self.phase.as_str()
            ),
            None => format!("{}, phase {}", self.kind.as_str(), self.phase.as_str()),
        }
    }
}

/// One node: a versioned JSON document. It holds no secret: the BMC's credentials are a
/// reference ([`BmcRef`]) and any `*password*` field is scrubbed before it is stored
/// ([`scrub_secrets`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// [`NODE_SCHEMA`].
    pub schema: String,
    /// Unique name.
    pub name: String,
    /// Its BMC.
    pub bmc: BmcRef,
    /// The group of processes that may drive it (Ironic's conductor group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conductor_group: Option<String>,
    /// Provision state.
    pub state: ProvisionState,
    /// Where a transitional state is heading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<ProvisionState>,
    /// The power state last read (`on`, `off`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_state: Option<String>,
    /// Set when a clean step failed (Ironic's maintenance mode).
    #[serde(default)]
    pub maintenance: bool,
    /// Why it is in maintenance (`clean failure`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// The last failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The operation under way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<Operation>,
    /// Operations finished since enrolment, for a fleet's plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub completed: Vec<OperationKind>,
    /// Bumped by every store write: compare-and-swap guard.
    #[serde(default)]
    pub revision: u64,
    /// Who drives it (kept by the store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<Lease>,
    /// The last [`HISTORY_CAP`] events.
    #[serde(default)]
    pub history: VecDeque<HistoryEntry>,
    /// Ironic's node fields: `driver`, `driver_info`, `properties`, `traits`, `extra`, ...
    /// (what inspection and the rules write).
    #[serde(default)]
    pub fields: Map<String, Value>,
    /// A boot device set once because the BMC refused it persistently, re-applied before each
    /// later power-on while the BMC no longer shows it; forgotten when another boot device is
    /// set or the override is cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remembered_boot: Option<RememberedBoot>,
}

impl Node {
    /// A node in `enroll`.
    pub fn new(name: impl Into<String>, bmc: BmcRef) -> Node {
        Node {
            schema: NODE_SCHEMA.to_owned(),
            name: name.into(),
            bmc,
            conductor_group: None,
            state: ProvisionState::Enroll,
            target: None,
            power_state: None,
            maintenance: false,
            fault: None,
            last_error: None,
            operation: None,
            completed: Vec::new(),
            revision: 0,
            lease: None,
            history: VecDeque::new(),
            fields: Map::new(),
            remembered_boot: None,
        }
    }

    /// `fields.properties`, created when missing.
    pub fn properties_mut(&mut self) -> &mut Map<String, Value> {
        let entry = self
            .fields
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        match entry {
            Value::Object(map) => map,
            _ => unreachable!("made an object above"),
        }
    }

    /// `fields.properties`.
    pub fn properties(&self) -> Option<&Map<String, Value>> {
        self.fields.get("properties").and_then(Value::as_object)
    }

    /// The sub-phase, when an operation is under way.
    pub fn phase(&self) -> Option<Phase> {
        self.operation.as_ref().map(|op| op.phase)
    }

    /// Appends a history entry, dropping the oldest past [`HISTORY_CAP`].
    pub fn record(
        &mut self,
        at: Timestamp,
        event: &str,
        from: ProvisionState,
        message: Option<String>,
    ) {
        if self.history.len() >= HISTORY_CAP {
            self.history.pop_front();
        }
        self.history.push_back(HistoryEntry {
            at,
            event: event.to_owned(),
            from,
            to: self.state,
            message,
        });
    }

    /// The document as JSON text, secrets scrubbed.
    pub fn to_json(&self) -> Result<String, super::ProvisionError> {
        let mut clean = self.clone();
        scrub_secrets(&mut clean.fields);
        serde_json::to_string(&clean).map_err(|err| super::ProvisionError::Document {
            node: self.name.clone(),
            reason: err.to_string(),
        })
    }

    /// Reads a document written by [`Node::to_json`]; another schema is refused.
    pub fn from_json(text: &str) -> Result<Node, super::ProvisionError> {
        let node: Node =
            serde_json::from_str(text).map_err(|err| super::ProvisionError::Document {
                node: String::new(),
                reason: err.to_string(),
            })?;
        if node.schema != NODE_SCHEMA {
            return Err(super::ProvisionError::Document {
                node: node.name,
                reason: format!("schema {:?}, expected {NODE_SCHEMA:?}", node.schema),
            });
        }
        Ok(node)
    }

    /// Whether `event` is a kind this node's state accepts now (abort only while waiting).
    pub(crate) fn accepts(&self, event: &Event) -> bool {
        let kind = event.kind();
        if !self.state.allowed_events().contains(&kind) {
            return false;
        }
        if kind == super::state::EventKind::Abort {
            return self.phase().is_some_and(Phase::is_waiting);
        }
        true
    }
}

/// What stands for a scrubbed secret.
pub const REDACTED: &str = "<redacted>";

/// Replaces every string under a key that names a password, token or key (`redfish_password`,
/// `ipmi_password`, `auth_token`, `bmc_key`) with [`REDACTED`], unless it is a reference
/// (`secret://…`, `env:…`). Rules may write credentials into `driver_info`; the document keeps
/// only references. Recursive.
pub fn scrub_secrets(map: &mut Map<String, Value>) {
    for (key, value) in map.iter_mut() {
        let lower = key.to_ascii_lowercase();
        let secret_key = lower.contains("password")
            || lower.contains("token")
            || lower.ends_with("_key")
            || lower == "key";
        match value {
            Value::String(text)
                if secret_key
                    && !(text.starts_with("secret://")
                        || text.starts_with("env:")
                        || text == REDACTED) =>
            {
                REDACTED.clone_into(text);
            }
            Value::Object(inner) => scrub_secrets(inner),
            Value::Array(items) => {
                for item in items {
                    if let Value::Object(inner) = item {
                        scrub_secrets(inner);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_document_holds_no_secret() {
        let mut node = Node::new(
            "r640-12",
            BmcRef {
                address: "https://10.0.0.12".into(),
                username: Some("root".into()),
                password_env: Some("R640_PASSWORD".into()),
                credentials_ref: None,
            },
        );
        node.fields.insert(
            "driver_info".into(),
            json!({"redfish_password": "calvin-SECRET", "ipmi_password": "secret://bmc/x",
                   "nested": [{"auth_token": "tok-SECRET"}], "redfish_username": "root"}),
        );
        let text = node.to_json().unwrap();
        assert!(!text.contains("SECRET"), "{text}");
        assert!(text.contains("secret://bmc/x"), "references stay: {text}");
        assert!(text.contains("R640_PASSWORD"), "the env var's name stays");
        let back = Node::from_json(&text).unwrap();
        assert_eq!(back.name, "r640-12");
        assert_eq!(
            back.fields["driver_info"]["redfish_password"],
            json!(REDACTED)
        );
    }

    #[test]
    fn another_schema_is_refused() {
        let mut value = serde_json::to_value(Node::new("n", BmcRef::default())).unwrap();
        value["schema"] = json!("ferrofish.node/99");
        let err = Node::from_json(&value.to_string()).unwrap_err();
        assert!(err.to_string().contains("ferrofish.node/99"), "{err}");
    }

    #[test]
    fn history_is_bounded() {
        let mut node = Node::new("n", BmcRef::default());
        for i in 0..(HISTORY_CAP as u64 + 10) {
            node.record(Timestamp(i), "manage", ProvisionState::Enroll, None);
        }
        assert_eq!(node.history.len(), HISTORY_CAP);
        assert_eq!(node.history.front().unwrap().at, Timestamp(10));
    }
}
