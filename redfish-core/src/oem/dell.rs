//! Dell iDRAC: Lifecycle Controller readiness and the job queue, typed.
//!
//! - [`DellOem::remote_services_status`] asks `DellLCService.GetRemoteServicesAPIStatus`
//!   whether the Lifecycle Controller (LC) can take configuration work; while it is not
//!   `Ready` an iDRAC refuses new configuration jobs (quirk `lc_busy_refuses_config`).
//!   [`DellOem::wait_until_ready`] polls it with backoff until a deadline.
//! - The job queue (`Managers/iDRAC.Embedded.1/Jobs`, or wherever the Manager's
//!   `Links.Oem.Dell.Jobs` points; iDRAC9 6.x links `…/Oem/Dell/Jobs`): [`DellOem::jobs`],
//!   [`DellOem::job`], [`DellOem::wait_job`], and `DellJobService.DeleteJobQueue` for
//!   [`DellOem::delete_job`] and [`DellOem::clear_job_queue`].
//! - A TaskService task that says `OperationTransitionedToJob` is followed to the job it
//!   names ([`DellOem::follow_task`], quirk `task_transitioned_to_job`).
//!
//! A job that answers 404 while it is waited on (quirk `dell_job_vanished`: iDRAC deletes
//! finished jobs on its own, some firmware within seconds, and a queue clear deletes them
//! all) is treated as Ironic treats a task monitor it can no longer read: as ended, outcome
//! unknown ([`JobEnd::Vanished`]), not as an error. The caller then checks the effect itself
//! (the BIOS crate reads the attributes back). A 404 before the job was ever seen is first
//! retried a few times (quirk `dell_job_not_yet_visible`: the job appears a moment after
//! the request that created it).
//!
//! Every decision (readiness, terminal and failed job states, what a 404 means, the id check)
//! is a pure function with unit tests; the methods only loop over them. Job ids are checked
//! (`JID_` or `RID_` and digits) before they are put in a URL, and every link the BMC sends
//! is resolved with the client's origin check.
//!
//! Over 600 lines: the client, its pure decisions and their unit tests, which exercise
//! private helpers and so live beside them.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::models::{RedfishMessage, Task, redfish_enum};
use crate::task::{TaskWait, next_poll_delay};
use crate::{Error, RedfishClient, Resource};

redfish_enum! {
    /// A readiness value of `GetRemoteServicesAPIStatus` (`LCStatus`, `RTStatus`, `Status`).
    Readiness {
        /// Ready to take requests.
        Ready => "Ready",
        /// Not ready (the iDRAC is reloading, the host is in POST, a job is running).
        NotReady => "NotReady",
        /// The LC is starting (up to a minute).
        NotInitialized => "NotInitialized",
        /// The LC refreshes its data after a configuration change.
        ReloadingData => "ReloadingData",
        /// The LC is disabled.
        Disabled => "Disabled",
        /// The LC is in recovery mode.
        InRecovery => "InRecovery",
        /// The LC is in use (the F10 Unified Server Configurator, a running job).
        InUse => "InUse",
    }
}

redfish_enum! {
    /// `ServerStatus` of `GetRemoteServicesAPIStatus`: what the host is doing.
    ServerStatus {
        /// Off.
        PoweredOff => "PoweredOff",
        /// In POST.
        InPost => "InPOST",
        /// Past POST.
        OutOfPost => "OutOfPOST",
        /// Collecting the system inventory on restart.
        CollectingSystemInventory => "CollectingSystemInventory",
        /// Running scheduled jobs (the automated task application).
        AutomatedTaskExecution => "AutomatedTaskExecution",
        /// In the Lifecycle Controller's own interface.
        LifecycleControllerUnifiedServerConfigurator => "LifecycleControllerUnifiedServerConfigurator",
    }
}

/// The answer of `DellLCService.GetRemoteServicesAPIStatus`. A field the iDRAC left out is
/// `None`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LcStatus {
    /// `LCStatus`: the Lifecycle Controller (decides [`LcStatus::is_ready`]).
    pub lc: Option<Readiness>,
    /// `RTStatus`: the real-time configuration service (RAID, NICs).
    pub rt: Option<Readiness>,
    /// `ServerStatus`: what the host is doing.
    pub server: Option<ServerStatus>,
    /// `Status`: the remote services API as a whole.
    pub status: Option<Readiness>,
}

impl LcStatus {
    /// Reads the action's answer. Pure.
    pub fn from_body(body: &Value) -> LcStatus {
        let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::trim);
        LcStatus {
            lc: text("LCStatus").map(Readiness::from),
            rt: text("RTStatus").map(Readiness::from),
            server: text("ServerStatus").map(ServerStatus::from),
            status: text("Status").map(Readiness::from),
        }
    }

    /// Whether configuration work (a BIOS job, a virtual-media insert) can start: `LCStatus`
    /// is `Ready`, as sushy-oem-idrac's `is_idrac_ready` decides. Pure.
    pub fn is_ready(&self) -> bool {
        self.lc == Some(Readiness::Ready)
    }
}

impl std::fmt::Display for LcStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: Option<&str>| v.unwrap_or("?").to_owned();
        write!(
            f,
            "LCStatus={} RTStatus={} ServerStatus={} Status={}",
            show(self.lc.as_ref().map(Readiness::as_str)),
            show(self.rt.as_ref().map(Readiness::as_str)),
            show(self.server.as_ref().map(ServerStatus::as_str)),
            show(self.status.as_ref().map(Readiness::as_str)),
        )
    }
}

redfish_enum! {
    /// `JobState` of a Dell job (`DellJob`), or of the DMTF `Job` iDRAC shows under
    /// `JobService/Jobs`.
    JobState {
        /// Created, not scheduled.
        New => "New",
        /// Waiting for its start time or for a reboot.
        Scheduled => "Scheduled",
        /// Being scheduled.
        Scheduling => "Scheduling",
        /// Ready to run at the next chance.
        ReadyForExecution => "ReadyForExecution",
        /// Waiting.
        Waiting => "Waiting",
        /// Running.
        Running => "Running",
        /// Downloading a package.
        Downloading => "Downloading",
        /// Package downloaded.
        Downloaded => "Downloaded",
        /// Paused.
        Paused => "Paused",
        /// A reboot is pending for it.
        RebootPending => "RebootPending",
        /// Waiting to be activated.
        PendingActivation => "PendingActivation",
        /// Finished well.
        Completed => "Completed",
        /// The reboot it asked for happened.
        RebootCompleted => "RebootCompleted",
        /// Finished, some of it failed.
        CompletedWithErrors => "CompletedWithErrors",
        /// Failed.
        Failed => "Failed",
        /// The reboot it asked for failed.
        RebootFailed => "RebootFailed",
        /// DMTF: cancelled.
        Cancelled => "Cancelled",
        /// DMTF: ended with an exception.
        Exception => "Exception",
        /// DMTF: killed.
        Killed => "Killed",
        /// The iDRAC does not know (or the job said nothing).
        Unknown => "Unknown",
    }
}

impl JobState {
    /// Whether the job will not change any more. Pure.
    pub fn is_terminal(&self) -> bool {
        matches!(self, JobState::Completed | JobState::RebootCompleted) || self.is_failure()
    }

    /// Whether the job ended badly (all of it or part of it). Pure.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            JobState::CompletedWithErrors
                | JobState::Failed
                | JobState::RebootFailed
                | JobState::Cancelled
                | JobState::Exception
                | JobState::Killed
        )
    }
}

/// A Dell job, from the Dell job queue (`DellJob`) or `JobService/Jobs` (DMTF `Job`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DellJob {
    /// `Id` (`JID_…`, `RID_…`).
    pub id: String,
    /// `Name`, for example `Configure: BIOS.Setup.1-1`.
    pub name: Option<String>,
    /// `JobType`, for example `BIOSConfiguration`.
    pub job_type: Option<String>,
    /// `JobState`.
    pub state: JobState,
    /// `PercentComplete`.
    pub percent: Option<u64>,
    /// `Message` (a DMTF `Job`: its first message's text).
    pub message: Option<String>,
    /// `MessageId`, for example `PR19` or `IDRAC.2.7.PR19`.
    pub message_id: Option<String>,
    /// `StartTime`; `None` when the iDRAC says `TIME_NA` or `TIME_NOW`.
    pub start_time: Option<String>,
    /// `EndTime` (or `CompletionTime`); `None` when the iDRAC says `TIME_NA`.
    pub end_time: Option<String>,
}

impl DellJob {
    /// Reads a job body. Missing or malformed fields are `None`; a missing `JobState` is
    /// [`JobState::Unknown`]. Pure.
    pub fn from_body(body: &Value) -> DellJob {
        let text = |key: &str| match body.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let time = |key: &str| text(key).filter(|t| !t.starts_with("TIME_"));
        let first_message = body
            .get("Messages")
            .and_then(Value::as_array)
            .and_then(|m| m.first())
            .and_then(|m| serde_json::from_value::<RedfishMessage>(m.clone()).ok());
        DellJob {
            id: text("Id").unwrap_or_default(),
            name: text("Name"),
            job_type: text("JobType"),
            state: text("JobState").map_or(JobState::Unknown, |s| JobState::from(s.as_str())),
            percent: body
                .get("PercentComplete")
                .and_then(crate::de::value_to_u64)
                .map(|p| p.min(100)),
            message: text("Message").or_else(|| first_message.as_ref()?.message.clone()),
            message_id: text("MessageId").or_else(|| first_message.as_ref()?.message_id.clone()),
            start_time: time("StartTime"),
            end_time: time("EndTime").or_else(|| time("CompletionTime")),
        }
    }

    /// The job's message as a [`RedfishMessage`] (for reports and errors).
    pub fn redfish_message(&self) -> RedfishMessage {
        RedfishMessage {
            message_id: self.message_id.clone(),
            message: self.message.clone(),
            ..RedfishMessage::default()
        }
    }
}

/// How a wait for a job ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JobEnd {
    /// The job reached a terminal state (check [`JobState::is_failure`]).
    Finished(DellJob),
    /// The job answered 404 after it was seen, or never appeared: the iDRAC deleted it (quirk
    /// `dell_job_vanished`). Its outcome is unknown; the caller checks the effect.
    Vanished {
        /// The job URL.
        url: String,
        /// The last observation, when there was one.
        last: Option<DellJob>,
    },
}

impl JobEnd {
    /// The final (or last seen) job.
    pub fn job(&self) -> Option<&DellJob> {
        match self {
            JobEnd::Finished(job) => Some(job),
            JobEnd::Vanished { last, .. } => last.as_ref(),
        }
    }

    /// The failure's message when the job ended badly; `None` when it succeeded or vanished.
    pub fn failure(&self) -> Option<RedfishMessage> {
        match self {
            JobEnd::Finished(job) if job.state.is_failure() => Some(job.redfish_message()),
            _ => None,
        }
    }

    /// Whether the job vanished before it was seen to end.
    pub fn vanished(&self) -> bool {
        matches!(self, JobEnd::Vanished { .. })
    }
}

/// How following a TaskService task ended ([`DellOem::follow_task`]).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Followed {
    /// The task ended as a task (no job).
    Task(Task),
    /// The task turned into a job, followed to its end.
    Job(JobEnd),
}

/// Where a task that turned into a job sends the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobLink {
    /// A job id (checked with [`valid_job_id`]).
    Id(String),
    /// The job's URI as the message gave it (resolved with the origin check before use).
    Uri(String),
}

/// The job a task names in an `OperationTransitionedToJob` message (its argument: a job URI
/// or a job id; else the task's own id when that is a job id), or `None` when the task did not
/// turn into a job. Pure.
pub fn transitioned_job(task: &Task) -> Option<JobLink> {
    let message = task
        .messages
        .iter()
        .find(|m| m.short_id() == Some("OperationTransitionedToJob"))?;
    let from_args = message.message_args.iter().find_map(|arg| {
        let arg = arg.trim();
        if arg.contains('/') {
            Some(JobLink::Uri(arg.to_owned()))
        } else {
            valid_job_id(arg).then(|| JobLink::Id(arg.to_owned()))
        }
    });
    from_args.or_else(|| {
        task.id
            .as_deref()
            .filter(|id| valid_job_id(id))
            .map(|id| JobLink::Id(id.to_owned()))
    })
}

/// Whether `id` is a Dell job id that may go into a URL: `JID_` or `RID_` followed by 1 to 20
/// digits (nothing else: no `/`, `?`, `..` or spaces). Pure.
pub fn valid_job_id(id: &str) -> bool {
    let digits = id
        .strip_prefix("JID_")
        .or_else(|| id.strip_prefix("RID_"))
        .unwrap_or_default();
    (1..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// What a 404 for a job means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingJob {
    /// Not created yet as far as the iDRAC's reader knows: poll again.
    TryAgain,
    /// Deleted: the job vanished.
    Vanished,
}

/// How many 404s before the job is first seen are taken for "not visible yet" (quirk
/// `dell_job_not_yet_visible`; sushy's Dell OEM retries three times).
pub const MISSES_BEFORE_SEEN: u32 = 3;

/// What the `misses`-th 404 (counting from 1) means, given whether the job was seen before.
/// Pure.
pub fn on_missing_job(seen: bool, misses: u32) -> MissingJob {
    if !seen && misses <= MISSES_BEFORE_SEEN {
        MissingJob::TryAgain
    } else {
        MissingJob::Vanished
    }
}

/// Where the Dell resources of one iDRAC are, as the BMC linked them (not yet resolved).
#[derive(Clone, Debug, PartialEq, Eq)]
struct DellPaths {
    manager: String,
    jobs: String,
    lc_service: String,
    job_service: String,
}

/// The Dell links of a Manager (`Links.Oem.Dell`), with the known paths for what it does not
/// link. Links are returned as the BMC wrote them; the caller resolves them. Pure.
fn dell_links(manager: &str, links: Option<&Map<String, Value>>) -> (String, String, String) {
    let dell = links.and_then(|l| l.get("Oem")).and_then(|o| o.get("Dell"));
    let link = |key: &str| {
        dell.and_then(|d| d.get(key))
            .and_then(|l| l.get("@odata.id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let manager = manager.trim_end_matches('/');
    (
        link("Jobs").unwrap_or_else(|| format!("{manager}/Jobs")),
        link("DellLCService").unwrap_or_else(|| format!("{manager}/Oem/Dell/DellLCService")),
        link("DellJobService").unwrap_or_else(|| format!("{manager}/Oem/Dell/DellJobService")),
    )
}

/// An action's target in a resource body, or the known `{resource}/Actions/{name}`. Pure.
fn action_target(resource: &str, body: Option<&Value>, action: &str) -> String {
    body.and_then(|b| b.get("Actions"))
        .and_then(|a| a.get(format!("#{action}")))
        .and_then(|a| a.get("target"))
        .and_then(Value::as_str)
        .map_or_else(
            || format!("{}/Actions/{action}", resource.trim_end_matches('/')),
            str::to_owned,
        )
}

const LC_STATUS_ACTION: &str = "DellLCService.GetRemoteServicesAPIStatus";
const DELETE_JOB_QUEUE_ACTION: &str = "DellJobService.DeleteJobQueue";

/// The Dell OEM client of one iDRAC: `DellOem::new(&client)`. Sends nothing until used; the
/// Manager's links and action targets are read once per client and cached.
#[derive(Clone, Debug)]
pub struct DellOem {
    client: RedfishClient,
}

impl DellOem {
    /// The Dell extension of `client`.
    pub fn new(client: &RedfishClient) -> DellOem {
        DellOem {
            client: client.clone(),
        }
    }

    /// The client.
    pub fn client(&self) -> &RedfishClient {
        &self.client
    }

    async fn paths(&self) -> Result<DellPaths, Error> {
        let client = self.client.clone();
        self.client
            .cached("ferrofish-oem-dell/paths", || async move {
                let root = client.service_root().await?;
                let manager = client.first_manager(&root).await?.cloned();
                let Some(manager) = manager else {
                    return Err(Error::Unsupported {
                        operation: "Dell OEM",
                        url: client.endpoint().to_string(),
                        missing: "a readable Manager",
                    });
                };
                let Some(manager_path) = manager.odata_id.as_ref().map(|id| id.as_str().to_owned())
                else {
                    return Err(Error::Unsupported {
                        operation: "Dell OEM",
                        url: client.endpoint().to_string(),
                        missing: "the Manager's @odata.id",
                    });
                };
                let (jobs, lc_service, job_service) =
                    dell_links(&manager_path, manager.links.as_ref());
                // Kept as the BMC wrote them: each is resolved (origin checked) when used, so
                // one bad link does not block the others.
                Ok(DellPaths {
                    manager: manager_path,
                    jobs,
                    lc_service,
                    job_service,
                })
            })
            .await
    }

    /// A link the BMC gave, resolved with the origin check, as a path.
    fn local(&self, link: &str) -> Result<String, Error> {
        Ok(self.client.resolve_link(link)?.path().to_owned())
    }

    /// An action's target on an OEM service resource, read once per client; the known URI when
    /// the resource is missing or does not list the action.
    async fn target(&self, service: &str, ty: &'static str, action: &str) -> Result<String, Error> {
        let client = self.client.clone();
        let service = self.local(service)?;
        let action = action.to_owned();
        let key = format!("ferrofish-oem-dell/action/{action}");
        self.client
            .cached(&key, || async move {
                let body = match client.get_as::<Value>(&service, ty).await {
                    Ok(resource) => Some(resource.value),
                    Err(err) if err.is_not_found() => None,
                    Err(err) => return Err(err),
                };
                let target = action_target(&service, body.as_ref(), &action);
                Ok(client.resolve_link(&target)?.path().to_owned())
            })
            .await
    }

    /// The Manager this client's Dell resources hang under.
    pub async fn manager_path(&self) -> Result<String, Error> {
        self.local(&self.paths().await?.manager)
    }

    /// Asks the Lifecycle Controller whether it is ready: one POST of
    /// `DellLCService.GetRemoteServicesAPIStatus` (the first call also reads the Manager
    /// when detection did not, and the `DellLCService` resource for the action's target).
    pub async fn remote_services_status(&self) -> Result<LcStatus, Error> {
        let paths = self.paths().await?;
        let target = self
            .target(&paths.lc_service, "DellLCService", LC_STATUS_ACTION)
            .await?;
        let answer = self.client.post(&target, &json!({})).await?;
        let status = LcStatus::from_body(answer.body());
        if status.lc.is_none() && status.status.is_none() {
            return Err(Error::Unsupported {
                operation: "remote_services_status",
                url: answer.url().to_string(),
                missing: "LCStatus in the answer",
            });
        }
        Ok(status)
    }

    /// Polls [`DellOem::remote_services_status`] until the LC is ready ([`LcStatus::is_ready`]),
    /// with the backoff of `wait` ([`next_poll_delay`]); `on_progress` sees every answer. The
    /// deadline is [`Error::WaitTimeout`] naming the last `LCStatus`. A ready LC costs one
    /// request.
    pub async fn wait_until_ready(
        &self,
        wait: &TaskWait,
        on_progress: &mut (dyn FnMut(&LcStatus) + Send),
    ) -> Result<LcStatus, Error> {
        let started = tokio::time::Instant::now();
        let deadline = started + wait.timeout;
        let mut delay = None;
        loop {
            let status = self.remote_services_status().await?;
            on_progress(&status);
            if status.is_ready() {
                return Ok(status);
            }
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            if remaining.is_zero() {
                return Err(Error::WaitTimeout {
                    url: self.local(&self.paths().await?.lc_service)?,
                    what: "LCStatus",
                    wanted: Readiness::Ready.to_string(),
                    last: Some(status.to_string()),
                    after: started.elapsed(),
                });
            }
            let pause = next_poll_delay(delay, None, wait, remaining);
            delay = Some(pause);
            tokio::time::sleep(pause).await;
        }
    }

    /// The path of the job queue collection.
    pub async fn jobs_path(&self) -> Result<String, Error> {
        self.local(&self.paths().await?.jobs)
    }

    /// Every job in the queue, through the client's bounded collection reader.
    pub async fn jobs(&self) -> Result<Vec<DellJob>, Error> {
        let path = self.jobs_path().await?;
        let members: Vec<Value> = self.client.collection(&path).await?;
        Ok(members.iter().map(DellJob::from_body).collect())
    }

    /// The path of job `id` in the queue; a malformed id is [`Error::InvalidPath`] and
    /// nothing is sent.
    pub async fn job_path(&self, id: &str) -> Result<String, Error> {
        check_job_id(id)?;
        Ok(format!(
            "{}/{id}",
            self.jobs_path().await?.trim_end_matches('/')
        ))
    }

    /// One job of the queue.
    pub async fn job(&self, id: &str) -> Result<DellJob, Error> {
        let path = self.job_path(id).await?;
        let resource: Resource<Value> = self.client.get(&path).await?;
        Ok(DellJob::from_body(&resource.value))
    }

    /// Waits for job `id` to reach a terminal state, polling with the backoff of `wait`;
    /// `on_progress` sees every observation. A job that vanished is [`JobEnd::Vanished`]
    /// (see the module docs); a failed job is a [`JobEnd::Finished`] whose state says so.
    pub async fn wait_job(
        &self,
        id: &str,
        wait: &TaskWait,
        on_progress: &mut (dyn FnMut(&DellJob) + Send),
    ) -> Result<JobEnd, Error> {
        let path = self.job_path(id).await?;
        self.wait_job_at(&path, wait, on_progress).await
    }

    /// [`DellOem::wait_job`] for a job link the BMC gave (a `Location` after a settings PATCH),
    /// resolved with the origin check.
    pub async fn wait_job_at(
        &self,
        link: &str,
        wait: &TaskWait,
        on_progress: &mut (dyn FnMut(&DellJob) + Send),
    ) -> Result<JobEnd, Error> {
        let url = self.client.resolve_link(link)?;
        let path = url.path().to_owned();
        let started = tokio::time::Instant::now();
        let deadline = started + wait.timeout;
        let mut delay = None;
        let mut last: Option<DellJob> = None;
        let mut misses = 0;
        loop {
            match self.client.get::<Value>(&path).await {
                Ok(resource) => {
                    let job = DellJob::from_body(&resource.value);
                    on_progress(&job);
                    if job.state.is_terminal() {
                        return Ok(JobEnd::Finished(job));
                    }
                    last = Some(job);
                }
                Err(err) if err.is_not_found() => {
                    misses += 1;
                    if on_missing_job(last.is_some(), misses) == MissingJob::Vanished {
                        tracing::info!(job = %path, "the Dell job vanished; its outcome is unknown");
                        return Ok(JobEnd::Vanished {
                            url: url.to_string(),
                            last,
                        });
                    }
                }
                Err(err) => return Err(err),
            }
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            if remaining.is_zero() {
                return Err(Error::WaitTimeout {
                    url: url.to_string(),
                    what: "JobState",
                    wanted: "a terminal state".into(),
                    last: last.map(|j| j.state.to_string()),
                    after: started.elapsed(),
                });
            }
            let pause = next_poll_delay(delay, None, wait, remaining);
            delay = Some(pause);
            tokio::time::sleep(pause).await;
        }
    }

    /// Follows a TaskService task (or task monitor) until it ends; when it says
    /// `OperationTransitionedToJob` (quirk `task_transitioned_to_job`), follows the job it
    /// names to its end instead. A task that fails is [`Error::TaskFailed`]; a task that
    /// answers 404 is [`Error::TaskVanished`].
    pub async fn follow_task(
        &self,
        task: &str,
        wait: &TaskWait,
        on_progress: &mut (dyn FnMut(&DellJob) + Send),
    ) -> Result<Followed, Error> {
        let url = self.client.resolve_link(task)?;
        let path = url.path().to_owned();
        let started = tokio::time::Instant::now();
        let deadline = started + wait.timeout;
        let mut delay = None;
        loop {
            let body = match self.client.get::<Value>(&path).await {
                Ok(resource) => resource.value,
                Err(err) if err.is_not_found() => {
                    return Err(Error::TaskVanished {
                        url: url.to_string(),
                    });
                }
                Err(err) => return Err(err),
            };
            let parsed: Task = serde_json::from_value(body).unwrap_or_default();
            if let Some(link) = transitioned_job(&parsed) {
                let job_path = match link {
                    JobLink::Id(id) => self.job_path(&id).await?,
                    JobLink::Uri(uri) => self.client.resolve_link(&uri)?.path().to_owned(),
                };
                let rest = TaskWait {
                    timeout: deadline.saturating_duration_since(tokio::time::Instant::now()),
                    ..*wait
                };
                return Ok(Followed::Job(
                    self.wait_job_at(&job_path, &rest, on_progress).await?,
                ));
            }
            match &parsed.task_state {
                Some(state) if state.is_terminal() => {
                    if matches!(state, crate::models::TaskState::Completed) {
                        return Ok(Followed::Task(parsed));
                    }
                    return Err(Error::TaskFailed {
                        url: url.to_string(),
                        state: state.to_string(),
                        messages: parsed.messages,
                    });
                }
                _ => {}
            }
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            if remaining.is_zero() {
                return Err(Error::WaitTimeout {
                    url: url.to_string(),
                    what: "TaskState",
                    wanted: "Completed".into(),
                    last: parsed.task_state.map(|s| s.to_string()),
                    after: started.elapsed(),
                });
            }
            let pause = next_poll_delay(delay, None, wait, remaining);
            delay = Some(pause);
            tokio::time::sleep(pause).await;
        }
    }

    async fn delete_job_queue(&self, job_id: &str) -> Result<(), Error> {
        let paths = self.paths().await?;
        let target = self
            .target(
                &paths.job_service,
                "DellJobService",
                DELETE_JOB_QUEUE_ACTION,
            )
            .await?;
        self.client
            .post(&target, &json!({ "JobID": job_id }))
            .await?;
        Ok(())
    }

    /// Deletes one job through `DellJobService.DeleteJobQueue` (`{"JobID": id}`); a malformed
    /// id is [`Error::InvalidPath`] and nothing is sent.
    pub async fn delete_job(&self, id: &str) -> Result<(), Error> {
        check_job_id(id)?;
        self.delete_job_queue(id).await
    }

    /// Empties the job queue (`JobID` `JID_CLEARALL`). `force` sends `JID_CLEARALL_FORCE`,
    /// which also clears pending configuration and restarts the LC services (the LC is then
    /// not ready for a few minutes: see [`DellOem::wait_until_ready`]).
    pub async fn clear_job_queue(&self, force: bool) -> Result<(), Error> {
        self.delete_job_queue(if force {
            "JID_CLEARALL_FORCE"
        } else {
            "JID_CLEARALL"
        })
        .await
    }
}

/// [`valid_job_id`] as an error: the id (cut to 64 characters) and why.
fn check_job_id(id: &str) -> Result<(), Error> {
    if valid_job_id(id) {
        Ok(())
    } else {
        Err(Error::InvalidPath {
            path: id.chars().take(64).collect(),
            reason: "a Dell job id is JID_ or RID_ followed by digits",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lc_status_reads_the_four_fields_and_ready_means_lcstatus_ready() {
        let ready = LcStatus::from_body(&json!({
            "LCStatus": "Ready", "RTStatus": "Ready", "ServerStatus": "OutOfPOST", "Status": "Ready"
        }));
        assert!(ready.is_ready());
        assert_eq!(ready.server, Some(ServerStatus::OutOfPost));
        let busy = LcStatus::from_body(&json!({
            "LCStatus": "NotReady", "RTStatus": "NotReady", "ServerStatus": "InPOST", "Status": "NotReady"
        }));
        assert!(!busy.is_ready());
        assert_eq!(busy.server, Some(ServerStatus::InPost));
        let odd = LcStatus::from_body(&json!({"LCStatus": "Sleeping", "Status": 3}));
        assert_eq!(odd.lc, Some(Readiness::Other("Sleeping".into())));
        assert_eq!(odd.status, None, "a number is not a readiness");
        assert!(!odd.is_ready());
        assert!(busy.to_string().contains("LCStatus=NotReady"), "{busy}");
    }

    #[test]
    fn terminal_and_failed_job_states() {
        for done in ["Completed", "RebootCompleted"] {
            let s = JobState::from(done);
            assert!(s.is_terminal() && !s.is_failure(), "{done}");
        }
        for failed in [
            "Failed",
            "CompletedWithErrors",
            "RebootFailed",
            "Cancelled",
            "Exception",
            "Killed",
        ] {
            let s = JobState::from(failed);
            assert!(s.is_terminal() && s.is_failure(), "{failed}");
        }
        for running in [
            "New",
            "Scheduled",
            "Running",
            "Downloading",
            "Unknown",
            "Whatever",
        ] {
            assert!(!JobState::from(running).is_terminal(), "{running}");
        }
    }

    #[test]
    fn a_dell_job_and_a_dmtf_job_decode_alike() {
        let dell = DellJob::from_body(&json!({
            "Id": "JID_102241909559", "JobState": "Completed", "JobType": "BIOSConfiguration",
            "Message": "Job completed successfully.", "MessageId": "PR19", "PercentComplete": 100,
            "StartTime": "2024-03-12T01:16:30", "EndTime": "TIME_NA",
            "CompletionTime": "2024-03-26T22:17:44", "Name": "Configure: BIOS.Setup.1-1"
        }));
        assert_eq!(dell.state, JobState::Completed);
        assert_eq!(dell.end_time.as_deref(), Some("2024-03-26T22:17:44"));
        assert_eq!(dell.message_id.as_deref(), Some("PR19"));
        let dmtf = DellJob::from_body(&json!({
            "Id": "JID_1", "JobState": "Exception", "PercentComplete": "40",
            "Messages": [{"Message": "Job failed.", "MessageId": "IDRAC.2.7.SYS051"}]
        }));
        assert_eq!(dmtf.percent, Some(40));
        assert_eq!(dmtf.message.as_deref(), Some("Job failed."));
        assert!(dmtf.state.is_failure());
        let empty = DellJob::from_body(&json!({"PercentComplete": 400, "StartTime": "TIME_NOW"}));
        assert_eq!(empty.state, JobState::Unknown);
        assert_eq!(empty.percent, Some(100), "bounded");
        assert_eq!(empty.start_time, None);
    }

    #[test]
    fn job_ids_are_checked_before_they_reach_a_url() {
        for ok in ["JID_1", "JID_102241909559", "RID_000000000001"] {
            assert!(valid_job_id(ok), "{ok}");
        }
        for bad in [
            "",
            "JID_",
            "JID_CLEARALL",
            "JID_1/../../Sessions",
            "JID_1?x=1",
            "jid_1",
            "JID_123456789012345678901",
            " JID_1",
            "TASK_1",
        ] {
            assert!(!valid_job_id(bad), "{bad:?}");
        }
        let err = check_job_id(&"x".repeat(1000)).unwrap_err();
        assert!(err.is_invalid_input());
        assert!(err.to_string().len() < 200, "the id is cut in the error");
    }

    #[test]
    fn a_404_before_the_job_was_seen_is_retried_then_it_vanished() {
        assert_eq!(on_missing_job(false, 1), MissingJob::TryAgain);
        assert_eq!(
            on_missing_job(false, MISSES_BEFORE_SEEN),
            MissingJob::TryAgain
        );
        assert_eq!(
            on_missing_job(false, MISSES_BEFORE_SEEN + 1),
            MissingJob::Vanished
        );
        assert_eq!(
            on_missing_job(true, 1),
            MissingJob::Vanished,
            "seen, then gone"
        );
    }

    #[test]
    fn job_end_failure_and_vanished() {
        let failed = JobEnd::Finished(DellJob::from_body(
            &json!({"Id": "JID_1", "JobState": "Failed", "MessageId": "SYS011", "Message": "bad"}),
        ));
        assert_eq!(
            failed.failure().and_then(|m| m.message_id).as_deref(),
            Some("SYS011")
        );
        let ok = JobEnd::Finished(DellJob::from_body(
            &json!({"Id": "JID_1", "JobState": "Completed"}),
        ));
        assert!(ok.failure().is_none() && !ok.vanished());
        let gone = JobEnd::Vanished {
            url: "u".into(),
            last: None,
        };
        assert!(gone.vanished() && gone.failure().is_none() && gone.job().is_none());
    }

    fn task(v: Value) -> Task {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn task_transitioned_to_job_names_the_job_by_uri_or_id() {
        let by_uri = task(json!({"Id": "JID_5", "TaskState": "Running", "Messages": [{
            "MessageId": "Base.1.16.0.OperationTransitionedToJob",
            "MessageArgs": ["/redfish/v1/Managers/iDRAC.Embedded.1/Jobs/JID_5"]}]}));
        assert_eq!(
            transitioned_job(&by_uri),
            Some(JobLink::Uri(
                "/redfish/v1/Managers/iDRAC.Embedded.1/Jobs/JID_5".into()
            ))
        );
        let by_id = task(json!({"TaskState": "Running", "Messages": [{
            "MessageId": "Base.1.16.0.OperationTransitionedToJob", "MessageArgs": ["JID_7"]}]}));
        assert_eq!(transitioned_job(&by_id), Some(JobLink::Id("JID_7".into())));
        let by_task_id = task(json!({"Id": "JID_9", "Messages": [{
            "MessageId": "Base.1.16.0.OperationTransitionedToJob", "MessageArgs": ["JID_x;rm"]}]}));
        assert_eq!(
            transitioned_job(&by_task_id),
            Some(JobLink::Id("JID_9".into()))
        );
        let plain = task(json!({"Id": "JID_9", "TaskState": "Running", "Messages": [{
            "MessageId": "Base.1.16.0.Success"}]}));
        assert_eq!(transitioned_job(&plain), None);
    }

    #[test]
    fn dell_links_come_from_the_manager_or_the_known_paths() {
        let manager = "/redfish/v1/Managers/iDRAC.Embedded.1";
        let linked: Map<String, Value> = serde_json::from_value(json!({"Oem": {"Dell": {
            "Jobs": {"@odata.id": "/redfish/v1/Managers/iDRAC.Embedded.1/Oem/Dell/Jobs"},
            "DellLCService": {"@odata.id": "/redfish/v1/Managers/iDRAC.Embedded.1/Oem/Dell/DellLCService"}
        }}}))
        .unwrap();
        let (jobs, lc, js) = dell_links(manager, Some(&linked));
        assert_eq!(jobs, "/redfish/v1/Managers/iDRAC.Embedded.1/Oem/Dell/Jobs");
        assert!(lc.ends_with("/Oem/Dell/DellLCService"));
        assert_eq!(js, format!("{manager}/Oem/Dell/DellJobService"));
        let (jobs, _, _) = dell_links(manager, None);
        assert_eq!(jobs, format!("{manager}/Jobs"));
    }

    #[test]
    fn action_targets_come_from_actions_or_the_known_uri() {
        let svc = "/redfish/v1/Managers/iDRAC.Embedded.1/Oem/Dell/DellLCService";
        let body =
            json!({"Actions": {"#DellLCService.GetRemoteServicesAPIStatus": {"target": "/x/y"}}});
        assert_eq!(action_target(svc, Some(&body), LC_STATUS_ACTION), "/x/y");
        assert_eq!(
            action_target(svc, None, LC_STATUS_ACTION),
            format!("{svc}/Actions/{LC_STATUS_ACTION}")
        );
    }
}
