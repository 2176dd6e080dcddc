//! The crate's one error type.

use crate::problem::Problem;

/// Everything that can go wrong reading, validating or staging BIOS settings.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BiosError {
    /// Talking to the BMC failed (its status, URL and `@Message.ExtendedInfo` are inside).
    #[error(transparent)]
    Redfish(#[from] ferrofish_redfish_core::Error),
    /// A registry, BIOS resource or settings object is not what Redfish describes.
    #[error("malformed BIOS data at {url} ({json_path}): {reason}")]
    Malformed {
        /// The URL it was read from (empty when parsed from a caller's value).
        url: String,
        /// Where in the document, as a JSON path (`$.RegistryEntries.Attributes[3].Type`).
        json_path: String,
        /// What was wrong.
        reason: String,
    },
    /// A profile could not be read (not JSON of a known shape, a line without `=`).
    #[error("unreadable BIOS profile: {reason}")]
    ProfileFormat {
        /// What was wrong, with the line or index.
        reason: String,
    },
    /// The profile has problems; nothing was sent. Every problem is listed.
    #[error("the BIOS profile was refused ({} problem(s)): {}", problems.len(), crate::problem::summary(problems))]
    Invalid {
        /// Every problem found.
        problems: Vec<Problem>,
    },
    /// The BMC accepted the changes but did not apply them all: the report says, per
    /// attribute, applied, still pending, rejected (with the BMC's message) or not applied.
    #[error("BIOS changes accepted but not applied: {report}")]
    NotApplied {
        /// The per-attribute report.
        report: crate::report::ApplyReport,
    },
    /// After a factory reset, attributes are not at their registry defaults.
    #[error("BIOS factory reset not applied: {} attribute(s) not at their default ({})", report.not_default.len(), report.not_default.join(", "))]
    FactoryResetNotApplied {
        /// What was checked and what differs.
        report: crate::report::FactoryResetReport,
    },
    /// The system links no `Bios` resource.
    #[error("system {system} has no Bios resource")]
    NoBios {
        /// The system's path.
        system: String,
    },
}

impl BiosError {
    /// The problems of an [`BiosError::Invalid`] profile (empty otherwise).
    pub fn problems(&self) -> &[Problem] {
        match self {
            BiosError::Invalid { problems } => problems,
            _ => &[],
        }
    }
}
