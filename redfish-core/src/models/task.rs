//! Task.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Health, RedfishMessage, redfish_enum};
use crate::de;
use crate::odata::ODataId;

redfish_enum! {
    /// `TaskState`.
    TaskState {
        /// Created, not started.
        New => "New",
        /// Starting.
        Starting => "Starting",
        /// Running.
        Running => "Running",
        /// Suspended.
        Suspended => "Suspended",
        /// Interrupted.
        Interrupted => "Interrupted",
        /// Pending.
        Pending => "Pending",
        /// Stopping.
        Stopping => "Stopping",
        /// Finished successfully.
        Completed => "Completed",
        /// Killed.
        Killed => "Killed",
        /// Finished with an exception.
        Exception => "Exception",
        /// Service-side state.
        Service => "Service",
        /// Cancelling.
        Cancelling => "Cancelling",
        /// Cancelled.
        Cancelled => "Cancelled",
    }
}

impl TaskState {
    /// Whether the task will not change any more.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            TaskState::Completed | TaskState::Killed | TaskState::Exception | TaskState::Cancelled
        )
    }
}

/// A task, `/redfish/v1/TaskService/Tasks/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Task {
    /// `@odata.id`.
    #[serde(rename = "@odata.id")]
    pub odata_id: Option<ODataId>,
    /// `Id`.
    #[serde(deserialize_with = "de::opt_string")]
    pub id: Option<String>,
    /// `Name`.
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// `TaskState`.
    pub task_state: Option<TaskState>,
    /// `TaskStatus`.
    pub task_status: Option<Health>,
    /// Progress in percent.
    #[serde(deserialize_with = "de::opt_u64")]
    pub percent_complete: Option<u64>,
    /// `StartTime`.
    #[serde(deserialize_with = "de::opt_string")]
    pub start_time: Option<String>,
    /// `EndTime`.
    #[serde(deserialize_with = "de::opt_string")]
    pub end_time: Option<String>,
    /// `TaskMonitor`.
    #[serde(deserialize_with = "de::opt_nonempty_string")]
    pub task_monitor: Option<String>,
    /// `Messages` (for example `OperationTransitionedToJob` on Dell, quirk `task_transitioned_to_job`).
    #[serde(deserialize_with = "de::null_as_empty")]
    pub messages: Vec<RedfishMessage>,
    /// Every other property, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn task_states_and_messages() {
        let t: Task = serde_json::from_value(json!({
            "Id": "JID_1", "TaskState": "Completed", "TaskStatus": "OK", "PercentComplete": "100",
            "Messages": [{"MessageId": "TaskEvent.1.0.TaskCompletedOK"}]
        }))
        .unwrap();
        assert!(t.task_state.as_ref().unwrap().is_terminal());
        assert!(!TaskState::Running.is_terminal());
        assert_eq!(t.percent_complete, Some(100));
        assert_eq!(t.messages[0].short_id(), Some("TaskCompletedOK"));
    }
}
