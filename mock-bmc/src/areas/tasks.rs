//! Tasks and jobs: the `TaskService`, its tasks, their monitors (202 while running; DELETE
//! cancels, DSP0266) and, on Dell, the iDRAC job queue under the Manager.

use axum::http::{StatusCode, header};
use serde_json::{Value, json};

use super::common::{Answer, Cx, collection, link, status_ok};
use crate::ids::iso_time;
use crate::messages;
use crate::node::{Node, lock};
use crate::reply::Reply;
use crate::routes::{Params, TasksRes};
use crate::state::{BIOS_JOB_NAME, NodeState, Task, TaskState};

const MONITORS: &str = "/redfish/v1/TaskService/TaskMonitors";

pub(crate) fn get(cx: &Cx<'_>, st: &mut NodeState, r: TasksRes, p: &Params<'_>) -> Option<Answer> {
    let node = cx.node;
    let body = match r {
        TasksRes::TaskService => json!({
            "@odata.id": "/redfish/v1/TaskService",
            "@odata.type": "#TaskService.v1_3_0.TaskService",
            "Id": "TaskService", "Name": "Task Service",
            "ServiceEnabled": true, "CompletedTaskOverWritePolicy": "Oldest", "LifeCycleEventOnTaskStateChange": false,
            "Tasks": link("/redfish/v1/TaskService/Tasks"),
            "Status": status_ok(),
        }),
        TasksRes::Tasks => collection(
            "/redfish/v1/TaskService/Tasks",
            "TaskCollection",
            "Task Collection",
            st.tasks
                .iter()
                .map(|t| format!("/redfish/v1/TaskService/Tasks/{}", task_id(node, t.id))),
        ),
        TasksRes::Task => {
            let t = st.tasks.iter().find(|t| task_id(node, t.id) == p.id(0))?;
            task_body(node, t)
        }
        TasksRes::Monitor => {
            let t = st.tasks.iter().find(|t| task_id(node, t.id) == p.id(0))?;
            return Some(Answer::Reply(monitor(node, t, p.id(0))));
        }
        TasksRes::DellJobs => {
            let jobs: Vec<&Task> = st
                .tasks
                .iter()
                .filter(|t| t.name == BIOS_JOB_NAME)
                .collect();
            json!({
                "@odata.id": format!("{}/Jobs", node.shared.paths.manager),
                "@odata.type": "#DellJobCollection.DellJobCollection",
                "Name": "JobQueue",
                "Description": "Collection of Job Instances",
                "Members": jobs.iter().map(|t| link(&dell_job_path(node, t.id))).collect::<Vec<_>>(),
                "Members@odata.count": jobs.len(),
            })
        }
        TasksRes::DellJob => {
            if super::dell::purged_on_read(node, st, p.id(0)) {
                return None;
            }
            let t = st
                .tasks
                .iter()
                .find(|t| t.name == BIOS_JOB_NAME && task_id(node, t.id) == p.id(0))?;
            dell_job_body(node, st, t)
        }
    };
    Some(Answer::Resource(body))
}

/// A task monitor: 202 with `Retry-After` and `Location` while the task runs, then 200 with
/// the task.
fn monitor(node: &Node, task: &Task, tid: &str) -> Reply {
    let body = task_body(node, task);
    if matches!(task.state, TaskState::Pending | TaskState::Running) {
        // A BIOS job waits for a reset; an image download finishes in moments.
        let retry_after = if task.state == TaskState::Running {
            "1"
        } else {
            "5"
        };
        Reply::json(StatusCode::ACCEPTED, body)
            .header(header::RETRY_AFTER, retry_after)
            .header(header::LOCATION, format!("{MONITORS}/{tid}"))
    } else {
        Reply::json(StatusCode::OK, body)
    }
}

/// POST on the Dell job queue: a configuration job for `TargetSettingsURI`, as Dell's
/// scripts create one after a PATCH without an apply time. iDRAC refuses a second job while
/// one is scheduled with `SYS011` (quirk `settings_patch_schedules_job`: the PATCH with an
/// apply time already made one; quadsproject/quads#726), and a job with nothing pending.
pub(crate) fn post(cx: &Cx<'_>, r: TasksRes, bytes: &[u8]) -> Reply {
    let node = cx.node;
    if r != TasksRes::DellJobs {
        return messages::not_found("");
    }
    let Ok(body) = serde_json::from_slice::<Value>(bytes) else {
        return messages::malformed_json();
    };
    let target = body.get("TargetSettingsURI").and_then(Value::as_str);
    if target != Some(node.shared.paths.bios_settings.as_str()) {
        return messages::bad_request(vec![messages::value_not_in_list(
            "TargetSettingsURI",
            &body
                .get("TargetSettingsURI")
                .cloned()
                .unwrap_or(Value::Null),
            "/",
        )]);
    }
    let mut st = node.state_at(cx.now);
    if st.bios_job_scheduled() {
        return messages::dell_job_already_scheduled();
    }
    if st.bios_pending.is_empty() {
        return messages::bad_request(vec![messages::general_error(
            "No pending data present to create a Configuration job.",
        )]);
    }
    let id = st.take_id();
    st.tasks.push(Task {
        id,
        name: BIOS_JOB_NAME,
        state: TaskState::Pending,
        start_unix: crate::ids::unix_now(),
        message: None,
    });
    // iDRAC answers 200 with the new job in `Location` and no body.
    Reply::empty(StatusCode::OK).header(header::LOCATION, dell_job_path(node, id))
}

/// DELETE on a task monitor cancels the task and stops its background work (DSP0266); a task
/// already over stays as it ended.
pub(crate) fn delete(cx: &Cx<'_>, r: TasksRes, p: &Params<'_>, path: &str) -> Reply {
    let node = cx.node;
    let mut st = node.state_at(cx.now);
    let task = st.tasks.iter_mut().find(|t| task_id(node, t.id) == p.id(0));
    let Some(task) = task.filter(|_| r == TasksRes::Monitor) else {
        return messages::not_found(path);
    };
    if matches!(task.state, TaskState::Pending | TaskState::Running) {
        task.state = TaskState::Cancelled;
        let id = task.id;
        drop(st);
        lock(&node.background).retain(|(task_id, handle)| {
            if *task_id == id {
                handle.abort();
            }
            *task_id != id
        });
    }
    Reply::empty(StatusCode::NO_CONTENT)
}

pub(crate) fn task_id(node: &Node, id: u32) -> String {
    if node.profile().bios_patch_creates_job {
        format!("JID_{id:012}")
    } else {
        id.to_string()
    }
}

/// Where a Dell BIOS job lives: `/redfish/v1/Managers/iDRAC.Embedded.1/Jobs/JID_<n>`.
pub(crate) fn dell_job_path(node: &Node, id: u32) -> String {
    format!("{}/Jobs/{}", node.shared.paths.manager, task_id(node, id))
}

/// A Dell job (`DellJob`): `JobState` `Scheduled` until a reset, `Running` while the reset that
/// applies it is under way, then `Completed`.
pub(crate) fn dell_job_body(node: &Node, st: &NodeState, t: &Task) -> Value {
    let (state, pct, message, message_id) = match t.state {
        TaskState::Pending if st.bios_apply_in_progress() => (
            "Running",
            50,
            "Task successfully scheduled.",
            "IDRAC.2.8.JCP001",
        ),
        TaskState::Pending => (
            "Scheduled",
            0,
            "Task successfully scheduled.",
            "IDRAC.2.8.JCP001",
        ),
        TaskState::Running => ("Running", 50, "Job in progress.", "IDRAC.2.8.PR20"),
        TaskState::Completed => (
            "Completed",
            100,
            "Job completed successfully.",
            "IDRAC.2.8.PR19",
        ),
        TaskState::Cancelled => ("Failed", 100, "Job canceled.", "IDRAC.2.8.SUP0518"),
        TaskState::Exception => ("Failed", 100, "Job failed.", "IDRAC.2.8.SYS051"),
    };
    json!({
        "@odata.id": dell_job_path(node, t.id),
        "@odata.type": "#DellJob.v1_5_0.DellJob",
        "Id": task_id(node, t.id),
        "Name": "Configure: BIOS.Setup.1-1",
        "Description": "Job Instance",
        "JobType": "BIOSConfiguration",
        "JobState": state,
        "PercentComplete": pct,
        "Message": message,
        "MessageId": message_id,
        "MessageArgs": [],
        "StartTime": iso_time(t.start_unix),
        "TargetSettingsURI": null,
    })
}

pub(crate) fn task_body(node: &Node, t: &Task) -> Value {
    let id = task_id(node, t.id);
    let (state, status, pct) = match t.state {
        TaskState::Pending => ("Pending", "OK", 0),
        TaskState::Running => ("Running", "OK", 50),
        TaskState::Completed => ("Completed", "OK", 100),
        TaskState::Cancelled => ("Cancelled", "Warning", 0),
        TaskState::Exception => ("Exception", "Critical", 100),
    };
    let mut messages: Vec<Value> = t
        .message
        .iter()
        .map(|m| messages::task_failure(m))
        .collect();
    if node.profile().bios_patch_creates_job && t.name == BIOS_JOB_NAME {
        // iDRAC: the task of a configuration change turned into a Dell job (quirk
        // `task_transitioned_to_job`); the message names the job.
        let job = dell_job_path(node, t.id);
        messages.push(json!({
            "MessageId": "Base.1.18.OperationTransitionedToJob",
            "Message": format!("The requested operation is transitioned to a job at URI '{job}'."),
            "MessageArgs": [job],
            "MessageSeverity": "OK",
        }));
    }
    json!({
        "@odata.id": format!("/redfish/v1/TaskService/Tasks/{id}"),
        "@odata.type": "#Task.v1_7_4.Task",
        "Id": id, "Name": t.name,
        "TaskState": state, "TaskStatus": status, "PercentComplete": pct,
        "StartTime": iso_time(t.start_unix),
        "TaskMonitor": format!("/redfish/v1/TaskService/TaskMonitors/{id}"),
        "Messages": messages,
    })
}
