//! Dell iDRAC9 OEM services, as a real iDRAC9 has them: `DellLCService` with
//! `GetRemoteServicesAPIStatus` (Lifecycle Controller readiness), `DellJobService` with
//! `DeleteJobQueue` (one job, `JID_CLEARALL`, `JID_CLEARALL_FORCE`), and the DMTF
//! `JobService/Jobs/JID_*` view of the job queue. The Dell job queue itself
//! (`Managers/iDRAC.Embedded.1/Jobs`) is served by [`super::tasks`], which owns the jobs.
//!
//! Switches, for tests ([`NodeHandle::dell_lc_not_ready_calls`],
//! [`NodeHandle::dell_lc_not_ready_for`], [`NodeHandle::dell_purge_finished_jobs`]):
//! - the LC reports not ready for the next N status calls, or for a while; meanwhile a BIOS
//!   settings PATCH is refused with the iDRAC's `LC060` message, as an iDRAC refuses new
//!   configuration while its LC is busy (quirk `lc_busy_refuses_config`);
//! - finished jobs are purged as soon as they are read finished (iDRAC deletes finished jobs on
//!   its own; some 7.00 firmware within seconds), so a client waiting on one sees it vanish.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::common::{Answer, Cx, link, parse_body, status_ok};
use super::tasks::{dell_job_path, task_id};
use crate::handle::NodeHandle;
use crate::ids::iso_time;
use crate::messages;
use crate::node::{Node, lock};
use crate::reply::Reply;
use crate::routes::Params;
use crate::state::{BIOS_JOB_NAME, NodeState, Task, TaskState};

/// The Dell resources (`areas::dell`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DellRes {
    /// `Managers/{manager}/Oem/Dell/DellLCService`.
    LcService,
    /// Its `GetRemoteServicesAPIStatus` action.
    LcStatus,
    /// `Managers/{manager}/Oem/Dell/DellJobService`.
    JobService,
    /// Its `DeleteJobQueue` action.
    DeleteJobQueue,
    /// `JobService` (DMTF).
    DmtfJobService,
    /// `JobService/Jobs`.
    DmtfJobs,
    /// `JobService/Jobs/{id}`.
    DmtfJob,
}

/// The Dell switches of one node.
#[derive(Debug, Default)]
pub(crate) struct DellState {
    /// The next this many `GetRemoteServicesAPIStatus` answers say not ready.
    lc_not_ready_calls: u32,
    /// The LC is not ready until then.
    lc_not_ready_until: Option<Instant>,
    /// A finished job is deleted as soon as it is read finished.
    purge_finished_jobs: bool,
}

impl DellState {
    fn lc_ready(&self, now: Instant) -> bool {
        self.lc_not_ready_calls == 0 && self.lc_not_ready_until.is_none_or(|until| now >= until)
    }
}

impl NodeHandle {
    /// Dell: the next `calls` answers of `DellLCService.GetRemoteServicesAPIStatus` report the
    /// Lifecycle Controller not ready; until they are used up, a BIOS settings PATCH is
    /// refused with 400 `IDRAC.2.8.LC060`.
    pub fn dell_lc_not_ready_calls(&self, calls: u32) {
        lock(&self.node.state).dell.lc_not_ready_calls = calls;
    }

    /// Dell: the Lifecycle Controller is not ready for `how_long` from now (status answers
    /// and BIOS settings changes as with [`NodeHandle::dell_lc_not_ready_calls`]).
    pub fn dell_lc_not_ready_for(&self, how_long: Duration) {
        lock(&self.node.state).dell.lc_not_ready_until = Some(Instant::now() + how_long);
    }

    /// Dell: delete a finished job as soon as a GET of the job queue member sees it finished
    /// (the GET answers 404), as iDRAC firmware that purges finished jobs does.
    pub fn dell_purge_finished_jobs(&self, on: bool) {
        lock(&self.node.state).dell.purge_finished_jobs = on;
    }
}

/// The refusal of a configuration change while the LC is busy, or `None` when it is ready.
pub(crate) fn lc_refuses(st: &NodeState, now: Instant) -> Option<Reply> {
    (!st.dell.lc_ready(now)).then(|| {
        messages::bad_request(vec![dell_message(
            "IDRAC.2.8.LC060",
            "Lifecycle Controller Remote Services is not ready.",
            "Wait until Lifecycle Controller Remote Services is ready and retry the operation.",
        )])
    })
}

/// Before a GET of a Dell job: with the purge switch on, a finished job is deleted and the GET
/// answers 404 (`true`).
pub(crate) fn purged_on_read(node: &Node, st: &mut NodeState, id: &str) -> bool {
    if !st.dell.purge_finished_jobs {
        return false;
    }
    let before = st.tasks.len();
    st.tasks.retain(|t| {
        !(t.name == BIOS_JOB_NAME
            && task_id(node, t.id) == id
            && !matches!(t.state, TaskState::Pending | TaskState::Running))
    });
    st.tasks.len() != before
}

fn dell_message(id: &str, text: &str, resolution: &str) -> Value {
    json!({
        "@odata.type": "#Message.v1_3_0.Message",
        "MessageId": id, "Message": text, "MessageArgs": [],
        "Severity": "Informational", "MessageSeverity": "OK",
        "Resolution": resolution,
    })
}

fn lc_path(node: &Node) -> String {
    format!("{}/Oem/Dell/DellLCService", node.shared.paths.manager)
}

fn job_service_path(node: &Node) -> String {
    format!("{}/Oem/Dell/DellJobService", node.shared.paths.manager)
}

fn dell_jobs(st: &NodeState) -> impl Iterator<Item = &Task> {
    st.tasks.iter().filter(|t| t.name == BIOS_JOB_NAME)
}

pub(crate) fn get(cx: &Cx<'_>, st: &mut NodeState, r: DellRes, p: &Params<'_>) -> Option<Answer> {
    let node = cx.node;
    let body = match r {
        DellRes::LcService => {
            let path = lc_path(node);
            json!({
                "@odata.id": path,
                "@odata.type": "#DellLCService.v1_3_0.DellLCService",
                "Id": "DellLCService", "Name": "DellLCService",
                "Description": "The DellLCService resource provides some actions to support Lifecycle Controller functionality.",
                "Actions": {"#DellLCService.GetRemoteServicesAPIStatus": {
                    "target": format!("{path}/Actions/DellLCService.GetRemoteServicesAPIStatus"),
                }},
            })
        }
        DellRes::JobService => {
            let path = job_service_path(node);
            json!({
                "@odata.id": path,
                "@odata.type": "#DellJobService.v1_2_0.DellJobService",
                "Id": "Job Service", "Name": "DellJobService",
                "Description": "The DellJobService resource provides some actions to support Job management functionality.",
                "CurrentNumberOfJobs": dell_jobs(st).count(),
                "MaximumNumberOfJobs": 256,
                "Actions": {"#DellJobService.DeleteJobQueue": {
                    "target": format!("{path}/Actions/DellJobService.DeleteJobQueue"),
                }},
            })
        }
        DellRes::DmtfJobService => json!({
            "@odata.id": "/redfish/v1/JobService",
            "@odata.type": "#JobService.v1_0_4.JobService",
            "Id": "JobService", "Name": "Job Service",
            "Description": "Represent a job service for a Redfish",
            "ServiceEnabled": true,
            "ServiceCapabilities": {"MaxJobs": 256, "MaxSteps": 1, "Scheduling": true},
            "Jobs": link("/redfish/v1/JobService/Jobs"),
            "Status": status_ok(),
        }),
        DellRes::DmtfJobs => {
            let members: Vec<Value> = dell_jobs(st)
                .map(|t| {
                    link(&format!(
                        "/redfish/v1/JobService/Jobs/{}",
                        task_id(node, t.id)
                    ))
                })
                .collect();
            json!({
                "@odata.id": "/redfish/v1/JobService/Jobs",
                "@odata.type": "#JobCollection.JobCollection",
                "Name": "JobCollection",
                "Description": "A Collection of Job resource instances",
                "Members@odata.count": members.len(),
                "Members": members,
            })
        }
        DellRes::DmtfJob => {
            let t = dell_jobs(st).find(|t| task_id(node, t.id) == p.id(0))?;
            dmtf_job(node, t)
        }
        DellRes::LcStatus | DellRes::DeleteJobQueue => return None,
    };
    Some(Answer::Resource(body))
}

/// A job as the DMTF `Job` resource iDRAC shows under `JobService/Jobs`.
fn dmtf_job(node: &Node, t: &Task) -> Value {
    let id = task_id(node, t.id);
    let (state, status, pct, text, msg_id) = match t.state {
        TaskState::Pending => ("Pending", "OK", 0, "Task successfully scheduled.", "JCP001"),
        TaskState::Running => ("Running", "OK", 50, "Job in progress.", "PR20"),
        TaskState::Completed => (
            "Completed",
            "OK",
            100,
            "Job completed successfully.",
            "PR19",
        ),
        TaskState::Cancelled => ("Cancelled", "Warning", 100, "Job canceled.", "SUP0518"),
        TaskState::Exception => ("Exception", "Critical", 100, "Job failed.", "SYS051"),
    };
    json!({
        "@odata.id": format!("/redfish/v1/JobService/Jobs/{id}"),
        "@odata.type": "#Job.v1_0_7.Job",
        "Id": id, "Name": "ConfigBIOS:BIOS.Setup.1-1",
        "Description": "Represent a job in Redfish",
        "JobState": state, "JobStatus": status, "PercentComplete": pct,
        "StartTime": iso_time(t.start_unix),
        "Messages": [{"Message": text, "MessageId": format!("IDRAC.2.8.{msg_id}"), "MessageArgs": []}],
        "Links": {"Oem": {"Dell": {"DellJob": link(&dell_job_path(node, t.id))}}},
    })
}

/// POST: the two actions.
pub(crate) fn post(cx: &Cx<'_>, r: DellRes, bytes: &[u8]) -> Reply {
    let node = cx.node;
    match r {
        DellRes::LcStatus => {
            let mut st = node.state_at(cx.now);
            let ready = st.dell.lc_ready(cx.now);
            if st.dell.lc_not_ready_calls > 0 {
                st.dell.lc_not_ready_calls -= 1;
            }
            let server = match st.power(cx.now, node.profile(), node.delays()) {
                crate::state::PowerState::Off => "PoweredOff",
                crate::state::PowerState::PoweringOn => "InPOST",
                _ => "OutOfPOST",
            };
            let word = if ready { "Ready" } else { "NotReady" };
            let (id, text) = if ready {
                (
                    "IDRAC.2.8.LC061",
                    "Lifecycle Controller Remote Services is ready.",
                )
            } else {
                (
                    "IDRAC.2.8.LC060",
                    "Lifecycle Controller Remote Services is not ready.",
                )
            };
            Reply::json(
                StatusCode::OK,
                json!({
                    "LCStatus": word, "RTStatus": word, "ServerStatus": server, "Status": word,
                    "@Message.ExtendedInfo": [dell_message(id, text, "No response action is required.")],
                }),
            )
        }
        DellRes::DeleteJobQueue => {
            let body = match parse_body(bytes, false) {
                Ok(b) => b,
                Err(reply) => return reply,
            };
            let Some(job_id) = body.get("JobID").and_then(Value::as_str) else {
                return messages::bad_request(vec![messages::action_parameter_missing(
                    "DeleteJobQueue",
                    "JobID",
                )]);
            };
            delete_jobs(node, cx.now, job_id)
        }
        _ => messages::not_found(""),
    }
}

/// `DeleteJobQueue`: one job, or every job (`JID_CLEARALL`, `JID_CLEARALL_FORCE`). Deleting a
/// scheduled BIOS job drops the pending values it would have applied, as on an iDRAC.
fn delete_jobs(node: &Node, now: Instant, job_id: &str) -> Reply {
    let mut st = node.state_at(now);
    let all = matches!(job_id, "JID_CLEARALL" | "JID_CLEARALL_FORCE");
    let doomed = |t: &Task| t.name == BIOS_JOB_NAME && (all || task_id(node, t.id) == job_id);
    if !all && !st.tasks.iter().any(doomed) {
        return messages::bad_request(vec![messages::general_error(&format!(
            "The job {job_id} does not exist in the job queue."
        ))]);
    }
    let dropped_scheduled = st
        .tasks
        .iter()
        .any(|t| doomed(t) && t.state == TaskState::Pending);
    st.tasks.retain(|t| !doomed(t));
    if dropped_scheduled {
        st.bios_pending.clear();
    }
    Reply::json(
        StatusCode::OK,
        json!({"@Message.ExtendedInfo": [messages::success()]}),
    )
}
