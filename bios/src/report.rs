//! Reports of applying staged changes and of a factory reset: plain data, shown without
//! any value (a password is never in them).

use ferrofish_redfish_core::ResetType;
use serde::Serialize;

/// What became of one attribute.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AttributeStatus {
    /// The current value is the requested one.
    Applied,
    /// Still staged, not applied (the BMC accepted it but did not apply it yet).
    StillPending,
    /// The BMC refused it when applying.
    Rejected {
        /// `MessageId`.
        message_id: Option<String>,
        /// The message text.
        message: Option<String>,
    },
    /// Neither current nor pending, and no message says why.
    NotApplied,
    /// A password: it cannot be read back.
    Unverifiable,
}

/// One attribute's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AttributeOutcome {
    /// The vendor attribute name.
    pub name: String,
    /// What became of it.
    #[serde(flatten)]
    pub status: AttributeStatus,
}

/// The per-attribute report of an apply.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApplyReport {
    /// One entry per staged change.
    pub attributes: Vec<AttributeOutcome>,
    /// The reset issued.
    #[serde(skip)]
    pub reset: Option<ResetType>,
    /// The job or task followed.
    pub job: Option<String>,
}

impl ApplyReport {
    /// Every change applied (passwords count as applied: they cannot be read back).
    pub fn all_applied(&self) -> bool {
        self.attributes.iter().all(|a| {
            matches!(
                a.status,
                AttributeStatus::Applied | AttributeStatus::Unverifiable
            )
        })
    }
}

impl std::fmt::Display for ApplyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lines: Vec<String> = self
            .attributes
            .iter()
            .map(|a| match &a.status {
                AttributeStatus::Applied => format!("{}: applied", a.name),
                AttributeStatus::StillPending => format!("{}: still pending", a.name),
                AttributeStatus::Rejected {
                    message_id,
                    message,
                } => format!(
                    "{}: rejected ({}: {})",
                    a.name,
                    message_id.as_deref().unwrap_or("no MessageId"),
                    message.as_deref().unwrap_or("no message")
                ),
                AttributeStatus::NotApplied => format!("{}: not applied", a.name),
                AttributeStatus::Unverifiable => format!("{}: set (cannot be read back)", a.name),
            })
            .collect();
        f.write_str(&lines.join("; "))
    }
}

/// The outcome of a factory reset.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FactoryResetReport {
    /// The reset issued.
    #[serde(skip)]
    pub reset: Option<ResetType>,
    /// Writable attributes whose current value is not the registry's `DefaultValue`.
    pub not_default: Vec<String>,
    /// How many attributes had a `DefaultValue` to check (0 without a registry or defaults:
    /// nothing could be verified).
    pub checked: usize,
}
