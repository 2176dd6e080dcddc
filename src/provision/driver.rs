//! The driver: the observer that reads the BMC for a node's phase, then [`super::decide()`],
//! then at most one mutating request, then the write to the store. One call of
//! [`Driver::advance`] is one bounded step; a service is a loop over it.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use super::ProvisionError;
use super::decide::{
    Action, Decision, Needs, Observation, Outcome, Policy, after_failed_action, apply, decide,
    needs, resume_after_takeover,
};
use super::events::handle_event;
use super::node::{Node, Timestamp};
use super::port::{BmcPort, MediaSlot, PortError, PortErrorKind};
use super::rules_hook::InspectionRules;
use super::state::Event;
use super::store::StateStore;
use crate::redfish::Inventory;
use crate::vmedia::{ConfigDrive, ImageServer, NetworkData};

/// The inspection-rules hook: gets the inventory and the node's fields (`driver`,
/// `driver_info`, `properties`, `traits`, `extra`, ...) after the properties were set, and may
/// change the fields; an `Err` fails the inspection (properties are then not saved).
pub type InspectionHook =
    Arc<dyn Fn(&Inventory, &mut Map<String, Value>) -> Result<(), String> + Send + Sync>;

/// What one [`Driver::advance`] call leaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Advance {
    /// Progress was made; call again now.
    Continue,
    /// Waiting for the BMC: call again at `until`.
    Waiting {
        /// When to call again.
        until: Timestamp,
    },
    /// No operation is under way (it finished, or there was none).
    Done,
    /// The operation failed: the node is in its failure state with `last_error`.
    Failed {
        /// Why.
        error: String,
    },
}

/// Drives nodes held through a [`StateStore`]: events, `advance`, leases.
pub struct Driver<S> {
    store: S,
    holder: String,
    lease_ttl: Duration,
    policy: Policy,
    hook: Option<InspectionHook>,
    rules: Option<InspectionRules>,
    images: Option<Arc<ImageServer>>,
}

impl<S: StateStore> Driver<S> {
    /// A driver writing to `store` as lease holder `holder` (leases last 30 s, renewed by
    /// every write).
    pub fn new(store: S, holder: impl Into<String>) -> Driver<S> {
        Driver {
            store,
            holder: holder.into(),
            lease_ttl: Duration::from_secs(30),
            policy: Policy::default(),
            hook: None,
            rules: None,
            images: None,
        }
    }

    /// Changes the timeouts and poll pacing.
    #[must_use]
    pub fn with_policy(mut self, policy: Policy) -> Driver<S> {
        self.policy = policy;
        self
    }

    /// Changes how long a lease lasts without renewal.
    #[must_use]
    pub fn with_lease_ttl(mut self, ttl: Duration) -> Driver<S> {
        self.lease_ttl = ttl;
        self
    }

    /// Runs `hook` after out-of-band inspection (before the rules of [`Driver::with_rules`]).
    #[must_use]
    pub fn with_inspection_hook(mut self, hook: InspectionHook) -> Driver<S> {
        self.hook = Some(hook);
        self
    }

    /// Runs Ironic's inspection rules after out-of-band inspection, on the inspection data
    /// built from the inventory, the node's BMC address and `extra.auto_discovered`. A rule's
    /// `fail` fails the inspection with its message (`inspect_failed`, nothing saved); the
    /// secrets rules set go to `rules`' [`super::SecretMap`], the node holds references.
    #[must_use]
    pub fn with_rules(mut self, rules: InspectionRules) -> Driver<S> {
        self.rules = Some(rules);
        self
    }

    /// The inspection rules in force.
    pub fn rules(&self) -> Option<&InspectionRules> {
        self.rules.as_ref()
    }

    /// Serves config drives from `server` (needed to deploy with network data).
    #[must_use]
    pub fn with_image_server(mut self, server: Arc<ImageServer>) -> Driver<S> {
        self.images = Some(server);
        self
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The lease holder name.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// How long a lease lasts without renewal.
    pub fn lease_ttl(&self) -> Duration {
        self.lease_ttl
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Takes the lease on `name`. When the node was left by a process (a crash, or a lease
    /// that lapsed) in the middle of an operation, its phase's crash-resume rule is applied
    /// and written before anything else.
    pub async fn claim(&self, name: &str, now: Timestamp) -> Result<Node, ProvisionError> {
        let claimed = self
            .store
            .claim(name, &self.holder, now, self.lease_ttl)
            .await?;
        let mut node = claimed.node;
        if claimed.previous.is_some() && node.operation.is_some() {
            let from = node.state;
            if resume_after_takeover(&mut node, now) {
                tracing::warn!(node = %node.name, error = ?node.last_error, "operation interrupted; failed as its phase cannot resume");
            } else {
                let phase = node
                    .phase()
                    .map(super::node::Phase::as_str)
                    .unwrap_or_default();
                node.record(now, "resume", from, Some(phase));
            }
            self.store
                .save(&mut node, &self.holder, now, self.lease_ttl)
                .await?;
        }
        Ok(node)
    }

    /// Renews the lease on `node` without changing it (a write of the node as it is: its
    /// revision moves on). Refused once the lease has lapsed or was taken over.
    pub async fn renew(&self, node: &mut Node, now: Timestamp) -> Result<(), ProvisionError> {
        self.check_lease(node, now)?;
        self.store
            .save(node, &self.holder, now, self.lease_ttl)
            .await
    }

    /// Gives the lease on `node` up.
    pub async fn release(&self, node: &Node) -> Result<(), ProvisionError> {
        self.store.release(&node.name, &self.holder).await
    }

    /// Applies `event` and writes the node. A refused event changes nothing (and writes
    /// nothing). On a store error the in-memory node is ahead of the store: reload it.
    pub async fn send(
        &self,
        node: &mut Node,
        event: Event,
        now: Timestamp,
    ) -> Result<(), ProvisionError> {
        self.check_lease(node, now)?;
        let mut changed = node.clone();
        handle_event(&mut changed, event, now)?;
        self.store
            .save(&mut changed, &self.holder, now, self.lease_ttl)
            .await?;
        *node = changed;
        Ok(())
    }

    fn check_lease(&self, node: &Node, now: Timestamp) -> Result<(), ProvisionError> {
        match &node.lease {
            Some(lease) if lease.holder == self.holder && lease.expires_at > now => Ok(()),
            Some(lease) => Err(ProvisionError::LeaseHeld {
                node: node.name.clone(),
                holder: lease.holder.clone(),
                remaining_ms: u64::try_from(now.until(lease.expires_at).as_millis())
                    .unwrap_or(u64::MAX),
            }),
            None => Err(ProvisionError::LeaseHeld {
                node: node.name.clone(),
                holder: "nobody (claim it first)".into(),
                remaining_ms: 0,
            }),
        }
    }

    /// One step: read what the node's phase needs, decide, make at most one mutating request,
    /// apply, write. The node must be claimed by this driver's holder.
    pub async fn advance<P: BmcPort>(
        &self,
        node: &mut Node,
        port: &P,
        now: Timestamp,
    ) -> Result<Advance, ProvisionError> {
        if node.operation.is_none() {
            return Ok(Advance::Done);
        }
        self.check_lease(node, now)?;
        let observation = observe(port, &needs(node)).await;
        let mut decision = decide(node, &observation, now, &self.policy);
        let mut updated = node.clone();
        if let Some(properties) = decision.inspected.take() {
            self.inspected(&mut updated, &observation, properties, &mut decision);
        }
        if let Some(action) = decision.action.take() {
            let described = updated.operation.as_ref().map_or_else(String::new, |op| {
                match &op.scratch.failure {
                    Some(failure) => format!("{failure}; clean-up in {}", op.describe()),
                    None => op.describe(),
                }
            });
            if let Err(err) = self
                .execute(&updated, port, action.clone(), &mut decision)
                .await
            {
                tracing::warn!(node = %node.name, error = %err, "BMC request failed");
                let power = decision.power;
                decision =
                    after_failed_action(&updated, &action, &err).unwrap_or_else(|| Decision {
                        scratch: None,
                        boot_memory: None,
                        outcome: Outcome::Fail {
                            error: format!("{described}: {err}"),
                        },
                        ..decision
                    });
                decision.power = decision.power.or(power);
            }
        }
        if let Outcome::Wait {
            warning: Some(warning),
            ..
        } = &decision.outcome
        {
            tracing::warn!(node = %node.name, %warning, "BMC read failed while waiting; will retry until the deadline");
        }
        let advance = match &decision.outcome {
            Outcome::Idle | Outcome::Finish => Advance::Done,
            Outcome::Phase { .. } | Outcome::NextStep => Advance::Continue,
            Outcome::Wait { until, .. } => Advance::Waiting { until: *until },
            Outcome::Fail { error } => Advance::Failed {
                error: error.clone(),
            },
        };
        apply(&mut updated, decision, now);
        self.store
            .save(&mut updated, &self.holder, now, self.lease_ttl)
            .await?;
        *node = updated;
        Ok(advance)
    }

    /// Merges inspected properties and runs the hook, then the rules, on the fields; a hook or
    /// rule error fails the inspection and nothing it or the inspection changed is kept.
    fn inspected(
        &self,
        node: &mut Node,
        observation: &Observation,
        properties: Map<String, Value>,
        decision: &mut Decision,
    ) {
        let mut candidate = node.clone();
        let target = candidate.properties_mut();
        for (key, value) in properties {
            target.insert(key, value);
        }
        if let (Some(hook), Some(Ok(inventory))) = (&self.hook, &observation.inventory)
            && let Err(error) = hook(inventory, &mut candidate.fields)
        {
            decision.outcome = Outcome::Fail {
                error: format!("inspection rules: {error}"),
            };
            return;
        }
        if let (Some(rules), Some(Ok(inventory))) = (&self.rules, &observation.inventory) {
            match rules.apply(&mut candidate, inventory) {
                Ok(applied) => {
                    tracing::debug!(node = %node.name, matched = ?applied.matched, changes = applied.changes.len(), "inspection rules applied");
                }
                Err(error) => {
                    decision.outcome = Outcome::Fail {
                        error: format!("inspection rules: {error}"),
                    };
                    return;
                }
            }
        }
        node.fields = candidate.fields;
    }

    async fn execute<P: BmcPort>(
        &self,
        node: &Node,
        port: &P,
        action: Action,
        decision: &mut Decision,
    ) -> Result<(), PortError> {
        let scratch = || {
            decision.scratch.clone().unwrap_or_else(|| {
                node.operation
                    .as_ref()
                    .map(|op| op.scratch.clone())
                    .unwrap_or_default()
            })
        };
        match action {
            Action::PowerOn => port.power_on().await,
            Action::PowerOff => port.power_off().await,
            Action::SetBootOverride {
                device,
                persistent,
                mode,
            } => {
                let must_clear = port.set_boot_override(device, persistent, mode).await?;
                let mut next = scratch();
                next.must_clear_override = must_clear;
                decision.scratch = Some(next);
                Ok(())
            }
            Action::ClearBootOverride => port.clear_boot_override().await,
            Action::BiosStage(settings) => port.bios_stage(&settings).await.map(|_| ()),
            Action::BiosFactoryReset => port.bios_factory_reset().await,
            Action::EjectAll => port.eject_all().await,
            Action::Insert { image, slot } => port.insert(&image, slot).await,
            Action::InsertConfigDrive { network_data } => {
                let url = self.publish_config_drive(node, &network_data).await?;
                port.insert(&url, MediaSlot::Removable).await?;
                let mut next = scratch();
                next.config_drive_url = Some(url);
                decision.scratch = Some(next);
                Ok(())
            }
        }
    }

    async fn publish_config_drive(
        &self,
        node: &Node,
        network_data: &Value,
    ) -> Result<String, PortError> {
        let server = self.images.as_ref().ok_or_else(|| {
            PortError::new(
                PortErrorKind::Unsupported,
                "deploying with network data needs an image server for the config drive (Driver::with_image_server)",
            )
        })?;
        let rejected =
            |err: crate::vmedia::Error| PortError::new(PortErrorKind::Rejected, err.to_string());
        let network = NetworkData::from_json(&network_data.to_string()).map_err(rejected)?;
        let uuid = node
            .properties()
            .and_then(|p| p.get("system_uuid"))
            .and_then(Value::as_str)
            .map_or_else(|| node.name.clone(), str::to_owned);
        let mut drive = ConfigDrive::new(uuid, Some(network));
        drive.meta_data.name = Some(node.name.clone());
        drive.meta_data.hostname = Some(node.name.clone());
        let image = drive.build().map_err(rejected)?;
        let name: String = node
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let url = server
            .serve_bytes(&format!("{name}-config-2.img"), image)
            .await
            .map_err(rejected)?;
        Ok(url.to_string())
    }
}

/// Reads what `needs` asks for. Reads never change the BMC.
pub async fn observe<P: BmcPort>(port: &P, needs: &Needs) -> Observation {
    let mut observation = Observation::default();
    if needs.system {
        observation.system = Some(port.read_system().await);
    }
    if needs.inventory {
        observation.inventory = Some(port.inventory().await);
    }
    if let Some(settings) = &needs.bios_plan {
        observation.bios_plan = Some(port.bios_plan(settings).await);
    }
    if let Some(settings) = &needs.bios_status {
        observation.bios_status = Some(port.bios_status(settings).await);
    }
    if needs.media {
        observation.media = Some(port.media_status().await);
    }
    observation
}
