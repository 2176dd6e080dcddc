//! The fleet runner: drives every node of a store towards a goal ([`FleetPlan`]) with a bound
//! on how many run at once, and reports progress as [`FleetEvent`]s for logs, progress bars and
//! Python callbacks.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use serde::Serialize;

use super::ProvisionError;
use super::driver::{Advance, Driver};
use super::node::{Node, OperationKind, Timestamp};
use super::port::BmcPort;
use super::state::{DeploySpec, Event, ProvisionState};
use super::steps::CleanStep;
use super::store::StateStore;

/// Where the fleet takes each node.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FleetPlan {
    /// Inspect out of band once after verification.
    pub inspect: bool,
    /// Manual clean steps to run once (a BIOS profile, a reboot); none: no manual clean.
    pub clean_steps: Vec<CleanStep>,
    /// Provide (to `available`) after the manual clean.
    pub provide: bool,
    /// Deploy once available.
    pub deploy: Option<DeploySpec>,
}

impl FleetPlan {
    /// The state a node ends in when the plan is done.
    pub fn goal(&self) -> ProvisionState {
        if self.deploy.is_some() {
            ProvisionState::Active
        } else if self.provide {
            ProvisionState::Available
        } else {
            ProvisionState::Manageable
        }
    }
}

/// The next event the plan wants for a node at rest, or `None` when it is at the goal, in a
/// failure state, or enrolled but already refused twice. Pure.
pub fn next_event(node: &Node, plan: &FleetPlan) -> Option<Event> {
    if node.operation.is_some() {
        return None;
    }
    let done = |kind| node.completed.contains(&kind);
    match node.state {
        ProvisionState::Enroll => {
            // Verification failures send the node back here; two more tries, then leave it.
            let failures = node
                .history
                .iter()
                .filter(|h| h.event == "fail" && h.from == ProvisionState::Verifying)
                .count();
            (failures < 3).then_some(Event::Manage)
        }
        ProvisionState::Manageable => {
            if plan.inspect && !done(OperationKind::Inspect) {
                Some(Event::Inspect)
            } else if !plan.clean_steps.is_empty() && !done(OperationKind::Clean) {
                Some(Event::Clean {
                    steps: plan.clean_steps.clone(),
                })
            } else if plan.provide || plan.deploy.is_some() {
                Some(Event::Provide)
            } else {
                None
            }
        }
        ProvisionState::Available => plan.deploy.clone().map(Event::Deploy),
        _ => None,
    }
}

/// Progress of one node.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FleetEvent {
    /// The node.
    pub node: String,
    /// Its state.
    pub state: ProvisionState,
    /// Its sub-phase, when an operation is under way.
    pub phase: Option<String>,
    /// What happened.
    pub message: String,
}

/// Receives progress events (from the runner's task; keep it quick).
pub type EventSink = Arc<dyn Fn(&FleetEvent) + Send + Sync>;

/// Opens a node's BMC. The node's [`super::BmcRef`] holds a credentials reference the
/// connector resolves.
pub trait Connector: Send + Sync {
    /// The port it opens.
    type Port: BmcPort;

    /// Connects to the node's BMC.
    fn connect(
        &self,
        node: &Node,
    ) -> impl Future<Output = Result<Self::Port, ProvisionError>> + Send;

    /// Closes a port (ends its session).
    fn disconnect(&self, port: Self::Port) -> impl Future<Output = ()> + Send;
}

/// How one node ended the run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeOutcome {
    /// The node.
    pub name: String,
    /// Its state at the end.
    pub state: ProvisionState,
    /// Its sub-phase at the end, if an operation is under way.
    pub phase: Option<String>,
    /// Its last error (or why this run could not drive it).
    pub last_error: Option<String>,
    /// Whether it reached the plan's goal.
    pub reached_goal: bool,
    /// Another holder's lease kept this run off it.
    pub skipped: bool,
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FleetSummary {
    /// Every node, by name.
    pub nodes: Vec<NodeOutcome>,
    /// How long the run took.
    pub elapsed_ms: u64,
}

impl FleetSummary {
    /// Nodes that reached the goal.
    pub fn reached(&self) -> usize {
        self.nodes.iter().filter(|n| n.reached_goal).count()
    }
}

/// Drives the nodes of a store with a bound on concurrency.
pub struct Fleet<S, C> {
    driver: Driver<S>,
    connector: C,
    plan: FleetPlan,
    workers: usize,
    group: Option<String>,
    on_event: Option<EventSink>,
}

impl<S: StateStore, C: Connector> Fleet<S, C> {
    /// A runner over `driver`'s store, opening BMCs with `connector`, 8 nodes at a time.
    pub fn new(driver: Driver<S>, connector: C, plan: FleetPlan) -> Fleet<S, C> {
        Fleet {
            driver,
            connector,
            plan,
            workers: 8,
            group: None,
            on_event: None,
        }
    }

    /// How many nodes are driven at once (at least 1).
    #[must_use]
    pub fn workers(mut self, workers: usize) -> Fleet<S, C> {
        self.workers = workers.max(1);
        self
    }

    /// Drive only the nodes of this conductor group.
    #[must_use]
    pub fn group(mut self, group: Option<String>) -> Fleet<S, C> {
        self.group = group;
        self
    }

    /// Where progress goes.
    #[must_use]
    pub fn on_event(mut self, sink: EventSink) -> Fleet<S, C> {
        self.on_event = Some(sink);
        self
    }

    /// The driver.
    pub fn driver(&self) -> &Driver<S> {
        &self.driver
    }

    fn emit(&self, node: &Node, message: impl Into<String>) {
        if let Some(sink) = &self.on_event {
            sink(&FleetEvent {
                node: node.name.clone(),
                state: node.state,
                phase: node.phase().map(super::node::Phase::as_str),
                message: message.into(),
            });
        }
    }

    /// Drives every node (of the group) until it reaches the goal, fails, or is held by
    /// another process; resumes whatever a killed run left.
    pub async fn run(&self) -> Result<FleetSummary, ProvisionError> {
        let started = std::time::Instant::now();
        let rows = self.driver.store().list().await?;
        let names: Vec<String> = rows
            .into_iter()
            .filter(|row| self.group.is_none() || row.conductor_group == self.group)
            .map(|row| row.name)
            .collect();
        let mut nodes: Vec<NodeOutcome> = futures::stream::iter(names)
            .map(|name| self.drive(name))
            .buffer_unordered(self.workers)
            .collect()
            .await;
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(FleetSummary {
            nodes,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }

    async fn drive(&self, name: String) -> NodeOutcome {
        let goal = self.plan.goal();
        let mut node = match self.driver.claim(&name, Timestamp::now()).await {
            Ok(node) => node,
            Err(err) => {
                let stored = self.driver.store().load(&name).await.ok().flatten();
                return NodeOutcome {
                    state: stored.as_ref().map_or(ProvisionState::Enroll, |n| n.state),
                    phase: stored
                        .as_ref()
                        .and_then(|n| n.phase().map(super::node::Phase::as_str)),
                    reached_goal: stored.as_ref().is_some_and(|n| n.state == goal),
                    skipped: err.is_lease_held(),
                    last_error: Some(err.to_string()),
                    name,
                };
            }
        };
        self.emit(&node, "claimed");
        let error = self.drive_claimed(&mut node).await.err();
        if let Some(err) = &error {
            self.emit(&node, format!("stopped: {err}"));
        }
        if let Err(err) = self.driver.release(&node).await {
            tracing::warn!(node = %node.name, error = %err, "releasing the lease");
        }
        NodeOutcome {
            state: node.state,
            phase: node.phase().map(super::node::Phase::as_str),
            reached_goal: node.state == goal && node.operation.is_none(),
            skipped: false,
            last_error: error.map(|e| e.to_string()).or(node.last_error.clone()),
            name,
        }
    }

    async fn drive_claimed(&self, node: &mut Node) -> Result<(), ProvisionError> {
        if node.operation.is_none() && next_event(node, &self.plan).is_none() {
            return Ok(());
        }
        let port = self.connector.connect(node).await?;
        let result = self.drive_with(node, &port).await;
        self.connector.disconnect(port).await;
        result
    }

    async fn drive_with(&self, node: &mut Node, port: &C::Port) -> Result<(), ProvisionError> {
        // Renew well before the lease lapses, even during a long wait.
        let max_sleep = Duration::from_millis(500).max(self.driver.policy().poll_interval);
        let mut last_phase = node.phase();
        loop {
            if node.operation.is_none() {
                let Some(event) = next_event(node, &self.plan) else {
                    return Ok(());
                };
                let kind = event.kind();
                self.driver.send(node, event, Timestamp::now()).await?;
                self.emit(node, kind.as_str());
                last_phase = node.phase();
            }
            let before = node.state;
            let advance = self.driver.advance(node, port, Timestamp::now()).await?;
            if node.phase() != last_phase || node.state != before {
                let message = match &advance {
                    Advance::Done => format!("{} done", before.as_str()),
                    Advance::Failed { error } => format!("failed: {error}"),
                    _ => node
                        .operation
                        .as_ref()
                        .map_or_else(String::new, super::node::Operation::describe),
                };
                self.emit(node, message);
                last_phase = node.phase();
            }
            match advance {
                Advance::Continue | Advance::Done => {}
                Advance::Waiting { until } => {
                    let pause = Timestamp::now().until(until).min(max_sleep);
                    tokio::time::sleep(pause).await;
                }
                Advance::Failed { .. } => return Ok(()),
            }
        }
    }
}
