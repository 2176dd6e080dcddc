//! The mapping of `ProvisionError` onto the Python exception classes.

use std::time::Duration;

use ferrofish::provision::ProvisionError;
use pyo3::prelude::*;

use crate::errors::{ExceptionClass, ExceptionSpec, Field, build_exception};

/// Decides the Python exception for a provisioning error, by its predicates and variants.
pub(crate) fn provision_exception_spec(error: &ProvisionError) -> ExceptionSpec {
    let spec = |class, fields| ExceptionSpec {
        class,
        message: error.to_string(),
        fields,
        cause: None,
    };
    let node = |name: &str| ("node", Field::Text(Some(name.to_owned())));
    match error {
        ProvisionError::InvalidEvent {
            node: name,
            state,
            event,
            allowed,
            reason,
        } => spec(
            ExceptionClass::InvalidEvent,
            vec![
                node(name),
                ("state", Field::Text(Some(state.as_str().to_owned()))),
                ("event", Field::Text(Some(event.as_str().to_owned()))),
                (
                    "allowed",
                    Field::TextList(allowed.iter().map(|e| e.as_str().to_owned()).collect()),
                ),
                ("reason", Field::Text(reason.clone())),
            ],
        ),
        ProvisionError::InvalidStep { index, .. } => spec(
            ExceptionClass::InvalidStep,
            vec![
                ("node", Field::Text(None)),
                ("index", Field::MaybeCount(Some(*index as u64))),
            ],
        ),
        ProvisionError::InvalidDeploy { node: name, .. } => {
            spec(ExceptionClass::InvalidDeploy, vec![node(name)])
        }
        ProvisionError::StaleRevision {
            node: name,
            revision,
        } => spec(
            ExceptionClass::StaleRevision,
            vec![node(name), ("revision", Field::Count(*revision))],
        ),
        ProvisionError::LeaseHeld {
            node: name,
            holder,
            remaining_ms,
        } => spec(
            ExceptionClass::LeaseHeld,
            vec![
                node(name),
                ("holder", Field::Text(Some(holder.clone()))),
                (
                    "remaining",
                    Field::Seconds(Duration::from_millis(*remaining_ms).as_secs_f64()),
                ),
            ],
        ),
        ProvisionError::NotFound { node: name } => {
            spec(ExceptionClass::NodeNotFound, vec![node(name)])
        }
        ProvisionError::AlreadyEnrolled { node: name } => {
            spec(ExceptionClass::AlreadyEnrolled, vec![node(name)])
        }
        ProvisionError::Connect { node: name, .. } => {
            spec(ExceptionClass::NodeConnection, vec![node(name)])
        }
        ProvisionError::Store { operation, .. } => spec(
            ExceptionClass::Store,
            vec![
                ("node", Field::Text(None)),
                ("operation", Field::Text(Some((*operation).to_owned()))),
            ],
        ),
        ProvisionError::Document { node: name, .. } => spec(
            ExceptionClass::Store,
            vec![
                (
                    "node",
                    Field::Text(Some(name.clone()).filter(|n| !n.is_empty())),
                ),
                ("operation", Field::Text(None)),
            ],
        ),
        // A bad store URL is the caller's mistake, found before anything is opened.
        _ if error.is_invalid_input() => spec(ExceptionClass::InvalidInput, Vec::new()),
        // A BMC call outside an operation, and a variant added later.
        _ => spec(ExceptionClass::Provision, vec![("node", Field::Text(None))]),
    }
}

pub(crate) fn provision_to_pyerr(py: Python<'_>, error: &ProvisionError) -> PyErr {
    build_exception(py, &provision_exception_spec(error)).unwrap_or_else(|failure| failure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrofish::provision::{EventKind, ProvisionState};

    #[test]
    fn provision_errors_map_by_variant_with_their_fields() {
        let refused = provision_exception_spec(&ProvisionError::InvalidEvent {
            node: "node-0".into(),
            state: ProvisionState::Available,
            event: EventKind::Clean,
            allowed: vec![EventKind::Deploy, EventKind::Manage],
            reason: None,
        });
        assert_eq!(refused.class, ExceptionClass::InvalidEvent);
        assert!(refused.fields.contains(&(
            "allowed",
            Field::TextList(vec!["deploy".into(), "manage".into()])
        )));
        assert!(
            refused
                .fields
                .contains(&("state", Field::Text(Some("available".into()))))
        );
        let none = provision_exception_spec(&ProvisionError::InvalidEvent {
            node: "n".into(),
            state: ProvisionState::Verifying,
            event: EventKind::Manage,
            allowed: Vec::new(),
            reason: None,
        });
        assert!(
            none.fields
                .contains(&("allowed", Field::TextList(Vec::new())))
        );

        let stale = provision_exception_spec(&ProvisionError::StaleRevision {
            node: "n".into(),
            revision: 7,
        });
        assert_eq!(stale.class, ExceptionClass::StaleRevision);
        assert!(stale.fields.contains(&("revision", Field::Count(7))));

        let held = provision_exception_spec(&ProvisionError::LeaseHeld {
            node: "n".into(),
            holder: "other".into(),
            remaining_ms: 1500,
        });
        assert_eq!(held.class, ExceptionClass::LeaseHeld);
        assert!(held.fields.contains(&("remaining", Field::Seconds(1.5))));

        let url = provision_exception_spec(&ProvisionError::StoreUrl {
            url: "postgres://x".into(),
            reason: "not a sqlite: URL".into(),
        });
        assert_eq!(url.class, ExceptionClass::InvalidInput);
        assert_eq!(
            provision_exception_spec(&ProvisionError::NotFound { node: "x".into() }).class,
            ExceptionClass::NodeNotFound
        );
        assert_eq!(
            provision_exception_spec(&ProvisionError::InvalidStep {
                index: 1,
                reason: "unknown".into()
            })
            .fields,
            vec![
                ("node", Field::Text(None)),
                ("index", Field::MaybeCount(Some(1)))
            ]
        );
    }
}
