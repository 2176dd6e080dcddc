//! Events: a caller's request applied to a node, or refused naming the allowed events. Pure.

use super::ProvisionError;
use super::decide::{fail_node, target_of};
use super::node::{Node, Operation, OperationKind, Phase, Scratch, Timestamp};
use super::state::{DeploySpec, Event, EventKind, ProvisionState};

fn start(node: &mut Node, state: ProvisionState, op: Operation) {
    node.state = state;
    node.target = Some(target_of(op.kind));
    node.operation = Some(op);
}

fn operation(kind: OperationKind, phase: Phase, now: Timestamp) -> Operation {
    Operation {
        kind,
        steps: Vec::new(),
        index: 0,
        phase,
        phase_entered_at: now,
        deadline: None,
        deploy: None,
        scratch: Scratch::default(),
    }
}

/// Checks a deploy request before anything is stored: an `http(s)` image URL, network data
/// that makes a valid `network_data.json`.
pub fn validate_deploy(spec: &DeploySpec) -> Result<(), String> {
    let rest = spec
        .image
        .strip_prefix("http://")
        .or_else(|| spec.image.strip_prefix("https://"))
        .ok_or_else(|| {
            format!(
                "image {:?}: the BMC fetches images over http or https; give an http(s) URL",
                spec.image
            )
        })?;
    if rest.split('/').next().is_none_or(str::is_empty) {
        return Err(format!("image {:?} has no host", spec.image));
    }
    if let Some(network) = &spec.network_data {
        crate::vmedia::NetworkData::from_json(&network.to_string())
            .and_then(|data| data.validate().map(|()| data))
            .map_err(|err| err.to_string())?;
    }
    Ok(())
}

/// Applies a caller's event: starts the operation it asks for, or refuses it with the events
/// the state accepts. Nothing is changed on refusal. Pure.
pub fn handle_event(node: &mut Node, event: Event, now: Timestamp) -> Result<(), ProvisionError> {
    let refused = |node: &Node, reason: Option<String>| ProvisionError::InvalidEvent {
        node: node.name.clone(),
        state: node.state,
        event: event.kind(),
        allowed: node.state.allowed_events().to_vec(),
        reason,
    };
    if !node.accepts(&event) {
        let reason = (event.kind() == EventKind::Abort && node.state.is_transitional())
            .then(|| "abort is accepted only while the node waits".to_owned());
        return Err(refused(node, reason));
    }
    if node.operation.is_some() && event.kind() != EventKind::Abort {
        let reason = node
            .operation
            .as_ref()
            .map(|op| format!("{} is under way", op.describe()));
        return Err(refused(node, reason));
    }
    let from = node.state;
    let kind = event.kind();
    match event {
        Event::Manage => {
            if from == ProvisionState::Enroll {
                start(
                    node,
                    ProvisionState::Verifying,
                    operation(OperationKind::Verify, Phase::VerifyRead, now),
                );
            } else {
                node.state = ProvisionState::Manageable;
                node.maintenance = false;
                node.fault = None;
            }
        }
        Event::Inspect => start(
            node,
            ProvisionState::Inspecting,
            operation(OperationKind::Inspect, Phase::InspectRead, now),
        ),
        Event::Clean { steps } => {
            if steps.is_empty() {
                return Err(ProvisionError::InvalidStep {
                    index: 0,
                    reason: "a manual clean needs at least one step".into(),
                });
            }
            for (index, step) in steps.iter().enumerate() {
                step.kind()
                    .map_err(|reason| ProvisionError::InvalidStep { index, reason })?;
            }
            let mut op = operation(OperationKind::Clean, Phase::StepStart, now);
            op.steps = steps;
            start(node, ProvisionState::Cleaning, op);
        }
        Event::Provide => start(
            node,
            ProvisionState::Cleaning,
            operation(OperationKind::Provide, Phase::StepStart, now),
        ),
        Event::Deploy(spec) => {
            validate_deploy(&spec).map_err(|reason| ProvisionError::InvalidDeploy {
                node: node.name.clone(),
                reason,
            })?;
            let mut op = operation(OperationKind::Deploy, Phase::DeployPowerOff, now);
            op.deploy = Some(spec);
            start(node, ProvisionState::Deploying, op);
        }
        Event::Undeploy => start(
            node,
            ProvisionState::Deleting,
            operation(OperationKind::Undeploy, Phase::UndeployPowerOff, now),
        ),
        Event::Abort => {
            let described = node
                .operation
                .as_ref()
                .map_or_else(String::new, Operation::describe);
            fail_node(node, now, &format!("aborted in {described}"));
            return Ok(());
        }
        Event::Adopt => {
            let op = operation(OperationKind::Adopt, Phase::AdoptRead, now);
            node.target = Some(ProvisionState::Active);
            node.operation = Some(op);
        }
    }
    node.last_error = None;
    node.record(now, kind.as_str(), from, None);
    Ok(())
}
