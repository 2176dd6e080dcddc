//! Property tests of the pure layer: whatever the node and whatever the BMC says, `decide`
//! never panics, never writes while waiting, never reboots twice, never re-stages a BIOS
//! change once a reboot was requested, and `apply` keeps the document consistent.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::provision::events::handle_event;
use crate::provision::node::BmcRef;
use crate::provision::state::{DeploySpec, Event};
use crate::provision::steps::CleanStep;

const PHASES: &[Phase] = &[
    Phase::VerifyRead,
    Phase::InspectRead,
    Phase::AdoptRead,
    Phase::StepStart,
    Phase::PowerOnRequest,
    Phase::PowerOnWait,
    Phase::PowerOffRequest,
    Phase::PowerOffWait,
    Phase::RebootOff,
    Phase::RebootOffWait,
    Phase::RebootOn,
    Phase::RebootOnWait,
    Phase::WaitUntil,
    Phase::BiosStage,
    Phase::BiosWaitApplied,
    Phase::BiosFactoryReset,
    Phase::BiosWaitReset,
    Phase::DeployPowerOff,
    Phase::DeployPowerOffWait,
    Phase::DeployEject,
    Phase::DeployConfigDrive,
    Phase::DeployInsert,
    Phase::DeployBootOnce,
    Phase::DeployPowerOn,
    Phase::DeployWaitBoot,
    Phase::DeployEjectAfter,
    Phase::DeployBootDisk,
    Phase::DeployCleanupPowerOff,
    Phase::DeployCleanupEject,
    Phase::UndeployPowerOff,
    Phase::UndeployPowerOffWait,
    Phase::UndeployEject,
    Phase::UndeployClearOverride,
];

const KINDS: &[OperationKind] = &[
    OperationKind::Verify,
    OperationKind::Inspect,
    OperationKind::Clean,
    OperationKind::Provide,
    OperationKind::Deploy,
    OperationKind::Undeploy,
    OperationKind::Adopt,
];

const POWERS: &[Power] = &[
    Power::On,
    Power::Off,
    Power::PoweringOn,
    Power::PoweringOff,
    Power::Unknown,
];

fn steps() -> Vec<CleanStep> {
    vec![
        CleanStep::bios_apply(&[BiosSetting {
            name: "ProcTurboMode".into(),
            value: json!("Disabled"),
        }]),
        CleanStep::new(Some("bios"), "factory_reset", Map::new()),
        CleanStep::new(None, "reboot", Map::new()),
        CleanStep::new(Some("power"), "power_on", Map::new()),
        CleanStep::new(
            None,
            "wait",
            json!({"seconds": 2}).as_object().unwrap().clone(),
        ),
    ]
}

fn state_of(kind: OperationKind) -> ProvisionState {
    match kind {
        OperationKind::Verify => ProvisionState::Verifying,
        OperationKind::Inspect => ProvisionState::Inspecting,
        OperationKind::Clean | OperationKind::Provide => ProvisionState::Cleaning,
        OperationKind::Deploy => ProvisionState::Deploying,
        OperationKind::Undeploy => ProvisionState::Deleting,
        OperationKind::Adopt => ProvisionState::Manageable,
    }
}

fn port_error() -> impl Strategy<Value = PortError> {
    prop_oneof![
        Just(PortError::new(
            super::super::port::PortErrorKind::Unreachable,
            "connection refused"
        )),
        Just(PortError::new(
            super::super::port::PortErrorKind::Rejected,
            "400 Bad Request"
        )),
    ]
}

fn read<T: std::fmt::Debug + Clone + 'static>(
    ok: impl Strategy<Value = T> + 'static,
) -> impl Strategy<Value = Option<Result<T, PortError>>> {
    prop_oneof![
        1 => Just(None),
        4 => ok.prop_map(|v| Some(Ok(v))),
        1 => port_error().prop_map(|e| Some(Err(e))),
    ]
}

fn system() -> impl Strategy<Value = SystemReading> {
    (
        proptest::option::of(proptest::sample::select(POWERS)),
        proptest::option::of(proptest::sample::select(vec!["Cd", "UsbCd", "Hdd", "None"])),
        proptest::option::of(proptest::sample::select(vec![
            "Once",
            "Continuous",
            "Disabled",
        ])),
        proptest::option::of(proptest::sample::select(vec![
            "OSRunning",
            "OSBootStarted",
            "MemoryInitializationStarted",
            "SystemHardwareInitializationComplete",
        ])),
    )
        .prop_map(|(power, target, enabled, progress)| SystemReading {
            power,
            override_target: target.map(str::to_owned),
            override_enabled: enabled.map(str::to_owned),
            boot_progress: progress.map(str::to_owned),
            vendor: Some("Dell".into()),
        })
}

fn names() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(Just("ProcTurboMode".to_owned()), 0..2)
}

fn observation() -> impl Strategy<Value = Observation> {
    (
        read(system()),
        read(
            (names(), names(), names()).prop_map(|(problems, changes, already_pending)| BiosPlan {
                problems,
                changes,
                already_pending,
            }),
        ),
        read(names().prop_map(|not_applied| BiosStatus {
            not_applied,
            rejected: Vec::new(),
        })),
        read(
            proptest::collection::vec(Just(("/slot/1".to_owned(), "x.iso".to_owned())), 0..2)
                .prop_map(|occupied| MediaStatus { occupied }),
        ),
    )
        .prop_map(|(system, bios_plan, bios_status, media)| Observation {
            system,
            inventory: None,
            bios_plan,
            bios_status,
            media,
        })
}

prop_compose! {
    fn node()(
        kind in proptest::sample::select(KINDS),
        phase in proptest::sample::select(PHASES),
        index in 0_usize..6,
        reboot_requested in any::<bool>(),
        deadline in proptest::option::of(0_u64..20_000),
        network in any::<bool>(),
        remembered in any::<bool>(),
        boot_restored in any::<bool>(),
    ) -> Node {
        let mut node = Node::new("n", BmcRef::default());
        node.remembered_boot = remembered.then_some(RememberedBoot {
            device: BootDevice::Cd,
            mode: None,
        });
        node.state = state_of(kind);
        let steps = steps();
        node.operation = Some(Operation {
            kind,
            index: index.min(steps.len()),
            steps,
            phase,
            phase_entered_at: Timestamp(1_000),
            deadline: deadline.map(Timestamp),
            deploy: Some(DeploySpec {
                image: "http://127.0.0.1/x.iso".into(),
                network_data: network.then(|| json!({"links": [], "networks": []})),
                boot_mode: None,
            }),
            scratch: Scratch {
                reboot_requested,
                requested_attrs: vec![BiosSetting { name: "ProcTurboMode".into(), value: json!("Disabled") }],
                boot_restored,
                ..Scratch::default()
            },
        });
        node
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn decide_is_safe_whatever_the_bmc_says(
        node in node(),
        observation in observation(),
        now in 0_u64..30_000,
    ) {
        let now = Timestamp(now);
        let policy = Policy::default();
        let decision = decide(&node, &observation, now, &policy);
        prop_assert_eq!(&decision, &decide(&node, &observation, now, &policy), "deterministic");
        let op = node.operation.as_ref().unwrap();
        let power = observation.system.as_ref().and_then(|s| s.as_ref().ok()).and_then(|s| s.power);

        // No write while waiting.
        if op.phase.is_waiting() {
            prop_assert!(decision.action.is_none(), "{:?} wrote {:?}", op.phase, decision.action);
        }
        // Never a second power-on after a crash: on (or coming on) means the On went out.
        if matches!(op.phase, Phase::RebootOn | Phase::DeployPowerOn)
            && matches!(power, Some(Power::On | Power::PoweringOn))
        {
            prop_assert_ne!(&decision.action, &Some(Action::PowerOn));
        }
        // A remembered boot device is armed before any power-on of a reboot or `power_on`
        // step (the On goes out only once the BMC shows it, or once it was re-applied), and
        // re-applied at most once per phase.
        if matches!(op.phase, Phase::RebootOn | Phase::PowerOnRequest)
            && let Some(remembered) = &node.remembered_boot
        {
            let sys = observation.system.as_ref().and_then(|s| s.as_ref().ok());
            if decision.action == Some(Action::PowerOn) {
                prop_assert!(
                    op.scratch.boot_restored || sys.is_some_and(|s| shows_override(s, *remembered)),
                    "On without the remembered device: {:?}", sys
                );
            }
            if op.scratch.boot_restored {
                let overrides = matches!(decision.action, Some(Action::SetBootOverride { .. }));
                prop_assert!(!overrides, "a second override in {:?}", op.phase);
            }
            if let Some(Action::SetBootOverride { device, persistent, .. }) = &decision.action {
                prop_assert_eq!(*device, remembered.device);
                prop_assert!(!persistent);
            }
        }
        // A requested reboot means the BIOS was staged: never PATCH or POST again.
        if op.scratch.reboot_requested {
            prop_assert!(!matches!(decision.action, Some(Action::BiosStage(_) | Action::BiosFactoryReset)));
        }
        // A BIOS profile with problems is never staged.
        if let Some(Ok(plan)) = &observation.bios_plan && !plan.problems.is_empty() {
            prop_assert!(!matches!(decision.action, Some(Action::BiosStage(_))));
        }
        // Waits look forward, and not past the deadline.
        if let Outcome::Wait { until, .. } = &decision.outcome {
            prop_assert!(*until >= now);
            if let Some(deadline) = op.deadline && deadline > now {
                prop_assert!(*until <= deadline);
            }
        }
        // A failed read while waiting, before the deadline, changes nothing but the warning.
        if op.phase.is_waiting() && op.deadline.is_some_and(|d| d > now)
            && needs(&node).system
            && matches!(observation.system, Some(Err(_)))
        {
            prop_assert!(matches!(decision.outcome, Outcome::Wait { warning: Some(_), .. }), "{:?}", decision.outcome);
        }

        let mut after = node.clone();
        let outcome = decision.outcome.clone();
        apply(&mut after, decision, now);
        match outcome {
            Outcome::Fail { error } => {
                prop_assert!(after.operation.is_none());
                prop_assert_eq!(after.state, node.state.on_failure());
                prop_assert_eq!(after.last_error.as_deref(), Some(error.as_str()));
                prop_assert_eq!(after.maintenance, node.state == ProvisionState::Cleaning);
            }
            Outcome::Finish => {
                prop_assert!(after.operation.is_none());
                prop_assert_eq!(after.state, target_of(op.kind));
                prop_assert!(after.completed.contains(&op.kind));
            }
            _ => {
                let next = after.operation.as_ref().unwrap();
                prop_assert!(next.index <= next.steps.len());
                prop_assert_eq!(after.state, node.state);
            }
        }
        prop_assert!(after.history.len() <= crate::provision::node::HISTORY_CAP);
    }

    #[test]
    fn an_event_is_applied_or_refused_without_a_change(
        state in proptest::sample::select(ProvisionState::ALL.to_vec()),
        event in proptest::sample::select(vec![
            Event::Manage, Event::Inspect, Event::Provide, Event::Undeploy, Event::Abort, Event::Adopt,
            Event::Clean { steps: steps() },
            Event::Deploy(DeploySpec { image: "http://127.0.0.1/x.iso".into(), network_data: None, boot_mode: None }),
        ]),
    ) {
        let mut node = Node::new("n", BmcRef::default());
        node.state = state;
        let before = node.clone();
        match handle_event(&mut node, event.clone(), Timestamp(5)) {
            Ok(()) => {
                prop_assert!(state.allowed_events().contains(&event.kind()));
                prop_assert_eq!(node.history.back().map(|h| h.from), Some(state));
            }
            Err(err) => {
                prop_assert_eq!(&node, &before, "a refusal changes nothing");
                let text = err.to_string();
                prop_assert!(text.contains(state.as_str()), "{}", text);
                for allowed in state.allowed_events() {
                    prop_assert!(text.contains(allowed.as_str()), "{}", text);
                }
            }
        }
    }
}

/// A refused persistent override is set once on the next call and remembered; a refused
/// one-time override, or an unreachable BMC, fails the operation.
#[test]
fn a_refused_continuous_override_falls_back_to_once_and_is_remembered() {
    let mut node = Node::new("n", BmcRef::default());
    node.state = ProvisionState::Deploying;
    node.operation = Some(Operation {
        kind: OperationKind::Deploy,
        steps: Vec::new(),
        index: 0,
        phase: Phase::DeployBootDisk,
        phase_entered_at: Timestamp(1),
        deadline: None,
        deploy: None,
        scratch: Scratch::default(),
    });
    let first = decide(
        &node,
        &Observation::default(),
        Timestamp(2),
        &Policy::default(),
    );
    let persistent = Action::SetBootOverride {
        device: BootDevice::Disk,
        persistent: true,
        mode: None,
    };
    assert_eq!(first.action, Some(persistent.clone()));
    assert_eq!(first.boot_memory, Some(BootMemory::Forget));
    let refused = PortError::new(PortErrorKind::Rejected, "400 PropertyValueNotInList");
    let unreachable = PortError::new(PortErrorKind::Unreachable, "connection refused");
    assert_eq!(after_failed_action(&node, &persistent, &unreachable), None);
    let fallback = after_failed_action(&node, &persistent, &refused).expect("a fallback");
    assert_eq!(fallback.action, None);
    apply(&mut node, fallback, Timestamp(3));
    let op = node.operation.as_ref().unwrap();
    assert_eq!(op.phase, Phase::DeployBootDisk);
    assert!(
        op.scratch
            .continuous_refused
            .as_deref()
            .unwrap()
            .contains("PropertyValueNotInList")
    );

    let second = decide(
        &node,
        &Observation::default(),
        Timestamp(4),
        &Policy::default(),
    );
    let once = Action::SetBootOverride {
        device: BootDevice::Disk,
        persistent: false,
        mode: None,
    };
    assert_eq!(second.action, Some(once.clone()));
    assert_eq!(
        after_failed_action(&node, &once, &refused),
        None,
        "Once refused: fail"
    );
    apply(&mut node, second, Timestamp(5));
    assert_eq!(node.state, ProvisionState::Active);
    assert_eq!(
        node.remembered_boot,
        Some(RememberedBoot {
            device: BootDevice::Disk,
            mode: None
        })
    );
}
