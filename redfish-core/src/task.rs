//! Following tasks to the end: a task monitor (`202 Accepted` + `Location`) or a TaskService
//! task, with a deadline, backoff, `Retry-After` and progress events. What one answer means
//! ([`task_step`]) and how long to wait before the next poll ([`next_poll_delay`]) are pure
//! functions; [`RedfishClient::wait_task`] only loops over them.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use url::Url;

use crate::models::{RedfishMessage, Task, TaskState};
use crate::resource::Response;
use crate::transport::RequestOptions;
use crate::{Error, RedfishClient};

/// How long and how often to poll a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskWait {
    /// Give up after this long with [`Error::WaitTimeout`] (default 30 minutes: BIOS jobs
    /// and firmware updates take minutes).
    pub timeout: Duration,
    /// The first pause between polls (default 1 s), doubled after each poll.
    pub initial_delay: Duration,
    /// The longest pause between polls (default 15 s). A `Retry-After` from the BMC is
    /// honoured up to this too.
    pub max_delay: Duration,
}

impl Default for TaskWait {
    fn default() -> TaskWait {
        TaskWait {
            timeout: Duration::from_secs(30 * 60),
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(15),
        }
    }
}

/// One observation of a running task, passed to the progress callback.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskProgress {
    /// The monitor or task polled.
    pub url: Url,
    /// `TaskState`, when the BMC said.
    pub state: Option<TaskState>,
    /// `PercentComplete`, when the BMC said.
    pub percent: Option<u64>,
    /// The task's `Messages` so far.
    pub messages: Vec<RedfishMessage>,
}

/// How a task ended well.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskOutcome {
    /// The monitor or task that was followed; `None` when the operation finished at once
    /// (no `202`), so there was nothing to follow.
    pub url: Option<Url>,
    /// The last Task resource seen, when the BMC showed one.
    pub task: Option<Task>,
    /// The final answer: the operation's own response when a task monitor delivers it.
    pub response: Response,
}

/// What one poll answer means. Pure data, produced by [`task_step`].
#[derive(Clone, Debug, PartialEq)]
pub enum TaskStep {
    /// Still running; poll again.
    Running(Option<Task>),
    /// Finished well.
    Done(Option<Task>),
    /// Ended in `Exception`, `Killed` or `Cancelled`.
    Failed(Task),
}

/// Interprets one answer from a task monitor or a task URL. A `202` means running. Any other
/// success carrying a Task decides by its `TaskState` (a TaskService task answers `200` while
/// it runs); a success without a Task is the operation's final answer. Pure.
pub fn task_step(status: u16, body: &Value) -> TaskStep {
    let task = as_task(body);
    if status == 202 {
        return TaskStep::Running(task);
    }
    match task {
        Some(task) => match &task.task_state {
            Some(TaskState::Exception | TaskState::Killed | TaskState::Cancelled) => {
                TaskStep::Failed(task)
            }
            Some(TaskState::Completed) => TaskStep::Done(Some(task)),
            // A state we do not know the end of (or none): if the service calls the task
            // finished by its status, believe that; otherwise keep polling.
            Some(state) if !state.is_terminal() => TaskStep::Running(Some(task)),
            _ => TaskStep::Done(Some(task)),
        },
        None => TaskStep::Done(None),
    }
}

/// The body as a Task, when it is one (declared by `@odata.type`, or shaped like one).
fn as_task(body: &Value) -> Option<Task> {
    let declared = body.get("@odata.type").and_then(Value::as_str);
    let is_task = match declared {
        Some(t) => crate::decode::resource_type(t).eq_ignore_ascii_case("Task"),
        None => body.get("TaskState").is_some(),
    };
    if !is_task {
        return None;
    }
    serde_json::from_value(body.clone()).ok()
}

/// The pause before the next poll: the BMC's `Retry-After` when it sent one, else
/// `previous` doubled (the first pause is `wait.initial_delay`); never above
/// `wait.max_delay`, and never past the deadline (`remaining`). Pure.
pub fn next_poll_delay(
    previous: Option<Duration>,
    retry_after: Option<Duration>,
    wait: &TaskWait,
    remaining: Duration,
) -> Duration {
    let wanted = match (retry_after, previous) {
        (Some(asked), _) => asked,
        (None, Some(previous)) => previous.saturating_mul(2),
        (None, None) => wait.initial_delay,
    };
    wanted.min(wait.max_delay).min(remaining)
}

impl RedfishClient {
    /// Follows the task an operation started. When `started` is not a `202 Accepted`, the
    /// operation already finished and its response is returned as is. Otherwise the task
    /// monitor in `Location` (or the Task the body names) is polled with backoff and
    /// `Retry-After` until it ends: `on_progress` sees every observation. A task that ends in
    /// `Exception`, `Killed` or `Cancelled` is [`Error::TaskFailed`] with its messages; a
    /// monitor that answers 404 is [`Error::TaskVanished`]; the deadline is
    /// [`Error::WaitTimeout`].
    pub async fn wait_task(
        &self,
        started: Response,
        wait: &TaskWait,
        on_progress: &mut (dyn FnMut(&TaskProgress) + Send),
    ) -> Result<TaskOutcome, Error> {
        if !started.is_accepted() {
            return Ok(TaskOutcome {
                url: None,
                task: None,
                response: started,
            });
        }
        let link = started
            .location()
            .map(str::to_owned)
            .or_else(|| {
                let task = as_task(started.body())?;
                task.task_monitor
                    .or_else(|| task.odata_id.map(|id| id.as_str().to_owned()))
            })
            .ok_or_else(|| Error::Unsupported {
                operation: "wait_task",
                url: started.url().to_string(),
                missing: "a Location header or Task in the 202 answer",
            })?;
        let url = self.resolve_link(&link)?;
        self.poll_task(
            url,
            as_task(started.body()),
            started.retry_after(),
            wait,
            on_progress,
        )
        .await
    }

    /// Follows a task by its URL (a task monitor or a TaskService task, for example one a
    /// vendor job points to) until it ends, as [`RedfishClient::wait_task`] does.
    pub async fn wait_task_at(
        &self,
        task: &str,
        wait: &TaskWait,
        on_progress: &mut (dyn FnMut(&TaskProgress) + Send),
    ) -> Result<TaskOutcome, Error> {
        let url = self.inner.endpoint.resolve_caller_path(task)?;
        self.poll_task(url, None, None, wait, on_progress).await
    }

    /// Cancels a task by deleting its monitor (or the task). A task already gone (404) is
    /// not an error.
    pub async fn cancel_task(&self, task: &str) -> Result<(), Error> {
        match self.delete(task).await {
            Ok(_) => Ok(()),
            Err(err) if err.is_not_found() => Ok(()),
            Err(err) => Err(err),
        }
    }

    async fn poll_task(
        &self,
        url: Url,
        mut last_task: Option<Task>,
        mut retry_after: Option<Duration>,
        wait: &TaskWait,
        on_progress: &mut (dyn FnMut(&TaskProgress) + Send),
    ) -> Result<TaskOutcome, Error> {
        let started = tokio::time::Instant::now();
        let deadline = started + wait.timeout;
        let mut delay = None;
        loop {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            if remaining.is_zero() {
                return Err(Error::WaitTimeout {
                    url: url.to_string(),
                    what: "TaskState",
                    wanted: TaskState::Completed.to_string(),
                    last: last_task
                        .as_ref()
                        .and_then(|t| t.task_state.as_ref())
                        .map(ToString::to_string),
                    after: started.elapsed(),
                });
            }
            let pause = next_poll_delay(delay, retry_after.take(), wait, remaining);
            delay = Some(pause);
            tokio::time::sleep(pause).await;
            let answer = tokio::time::timeout_at(
                deadline,
                self.send(Method::GET, &url, None, &RequestOptions::default()),
            )
            .await;
            let response = match answer {
                Err(_) => continue, // the deadline passed mid-request: report it above
                Ok(Ok(response)) => response,
                Ok(Err(err)) if err.is_not_found() => {
                    return Err(Error::TaskVanished {
                        url: url.to_string(),
                    });
                }
                Ok(Err(err)) => return Err(err),
            };
            retry_after = response.retry_after();
            match task_step(response.status(), response.body()) {
                TaskStep::Running(task) => {
                    if let Some(task) = task {
                        last_task = Some(task);
                    }
                    on_progress(&TaskProgress {
                        url: url.clone(),
                        state: last_task.as_ref().and_then(|t| t.task_state.clone()),
                        percent: last_task.as_ref().and_then(|t| t.percent_complete),
                        messages: last_task
                            .as_ref()
                            .map(|t| t.messages.clone())
                            .unwrap_or_default(),
                    });
                }
                TaskStep::Done(task) => {
                    return Ok(TaskOutcome {
                        url: Some(url),
                        task: task.or(last_task),
                        response,
                    });
                }
                TaskStep::Failed(task) => {
                    let mut err = Error::TaskFailed {
                        url: url.to_string(),
                        state: task
                            .task_state
                            .as_ref()
                            .map_or_else(String::new, ToString::to_string),
                        messages: task.messages,
                    };
                    self.inner.scrub_credentials(&mut err);
                    return Err(err);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_202_is_running_whatever_the_body() {
        assert_eq!(task_step(202, &Value::Null), TaskStep::Running(None));
        let running = json!({"@odata.type": "#Task.v1_4_0.Task", "TaskState": "Running", "PercentComplete": 40});
        let TaskStep::Running(Some(task)) = task_step(202, &running) else {
            panic!("running")
        };
        assert_eq!(task.percent_complete, Some(40));
    }

    #[test]
    fn a_task_decides_by_its_state_and_a_plain_answer_is_the_result() {
        let task = |state: &str| json!({"@odata.type": "#Task.v1_4_0.Task", "TaskState": state});
        assert!(matches!(
            task_step(200, &task("Running")),
            TaskStep::Running(Some(_))
        ));
        assert!(matches!(
            task_step(200, &task("Pending")),
            TaskStep::Running(Some(_))
        ));
        assert!(matches!(
            task_step(200, &task("Completed")),
            TaskStep::Done(Some(_))
        ));
        for failed in ["Exception", "Killed", "Cancelled"] {
            assert!(
                matches!(task_step(200, &task(failed)), TaskStep::Failed(_)),
                "{failed}"
            );
        }
        // The operation's own answer (a System after a PATCH, nothing after a reset).
        let system = json!({"@odata.type": "#ComputerSystem.v1_20_0.ComputerSystem"});
        assert_eq!(task_step(200, &system), TaskStep::Done(None));
        assert_eq!(task_step(204, &Value::Null), TaskStep::Done(None));
        // No @odata.type but shaped like a task.
        assert!(matches!(
            task_step(200, &json!({"TaskState": "Running"})),
            TaskStep::Running(Some(_))
        ));
    }

    #[test]
    fn poll_delay_backs_off_honours_retry_after_and_the_deadline() {
        let wait = TaskWait::default();
        let far = Duration::from_secs(3600);
        assert_eq!(
            next_poll_delay(None, None, &wait, far),
            Duration::from_secs(1)
        );
        assert_eq!(
            next_poll_delay(Some(Duration::from_secs(4)), None, &wait, far),
            Duration::from_secs(8)
        );
        assert_eq!(
            next_poll_delay(Some(Duration::from_secs(12)), None, &wait, far),
            Duration::from_secs(15),
            "capped"
        );
        assert_eq!(
            next_poll_delay(
                Some(Duration::from_secs(1)),
                Some(Duration::from_secs(7)),
                &wait,
                far
            ),
            Duration::from_secs(7),
            "Retry-After wins over the backoff"
        );
        assert_eq!(
            next_poll_delay(None, Some(Duration::from_secs(600)), &wait, far),
            Duration::from_secs(15),
            "a Retry-After beyond the cap is capped"
        );
        assert_eq!(
            next_poll_delay(None, None, &wait, Duration::from_millis(300)),
            Duration::from_millis(300),
            "never past the deadline"
        );
    }
}
