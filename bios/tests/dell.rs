//! Dell iDRAC: the typed Dell client of redfish-core (`oem::dell`) and the BIOS apply built on
//! it, against the mock's Dell personality: Lifecycle Controller readiness before a BIOS
//! change (with the check and without it), the job queue (list, wait, delete, clear), a job
//! that vanishes, and a task that turns into a job.

use std::time::Duration;

use ferrofish_bios::{ApplyEvent, ApplyOptions, Bios, BiosError, Profile};
use ferrofish_mock_bmc::{
    DEFAULT_PASSWORD, DEFAULT_USER, MockBmc, MockBmcHandle, Personality, PowerState,
};
use ferrofish_redfish_core::oem::dell::{DellOem, Followed, JobEnd, JobState, Readiness};
use ferrofish_redfish_core::{
    Error, QuirksOverride, RedfishClient, ResetType, SecretString, System, TaskWait,
};

const LC_STATUS: &str = "/redfish/v1/Managers/iDRAC.Embedded.1/Oem/Dell/DellLCService/Actions/DellLCService.GetRemoteServicesAPIStatus";

async fn start(overrides: QuirksOverride) -> (MockBmcHandle, RedfishClient, System) {
    let mock = MockBmc::builder()
        .personality(Personality::Dell)
        .spawn()
        .await
        .expect("mock");
    let client = RedfishClient::builder(mock.node(0).url())
        .credentials(DEFAULT_USER, SecretString::from(DEFAULT_PASSWORD))
        .quirks_override(overrides)
        .build()
        .expect("client");
    let system = client.systems().await.expect("systems").remove(0);
    mock.node(0).set_power(true);
    // Booted before anything is staged, so no boot applies a job a test means to watch.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while mock.node(0).view().power != PowerState::On {
        assert!(
            std::time::Instant::now() < deadline,
            "the node did not power on"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (mock, client, system)
}

fn fast(timeout: Duration) -> TaskWait {
    TaskWait {
        timeout,
        initial_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
    }
}

fn turbo_off() -> Profile {
    Profile::parse("turbo=off").unwrap()
}

fn lc_posts(mock: &MockBmcHandle) -> usize {
    mock.node(0).count("POST", LC_STATUS)
}

fn patches(mock: &MockBmcHandle) -> usize {
    mock.node(0)
        .requests()
        .iter()
        .filter(|e| e.method == "PATCH")
        .count()
}

#[tokio::test]
async fn lc_not_ready_waits_then_stages() {
    let (mock, _client, system) = start(QuirksOverride::default()).await;
    mock.node(0).dell_lc_not_ready_calls(3);
    let bios = Bios::new(&system).with_lc_wait(fast(Duration::from_secs(10)));
    let staged = bios.stage(&turbo_off()).await.expect("staged once ready");
    assert!(staged.sent && staged.job.is_some());
    assert_eq!(lc_posts(&mock), 4, "three answers not ready, then ready");
    assert_eq!(patches(&mock), 1, "the PATCH waited for the LC");
}

#[tokio::test]
async fn lc_not_ready_for_a_while_waits_by_the_clock() {
    let (mock, _client, system) = start(QuirksOverride::default()).await;
    mock.node(0)
        .dell_lc_not_ready_for(Duration::from_millis(400));
    let bios = Bios::new(&system).with_lc_wait(fast(Duration::from_secs(10)));
    let started = std::time::Instant::now();
    bios.stage(&turbo_off()).await.expect("staged once ready");
    assert!(started.elapsed() >= Duration::from_millis(350));
    assert!(lc_posts(&mock) >= 2, "polled while not ready");
}

#[tokio::test]
async fn lc_busy_refuses_config_without_the_check() {
    let overrides = QuirksOverride {
        lc_ready_before_config: Some(false),
        ..QuirksOverride::default()
    };
    let (mock, _client, system) = start(overrides).await;
    mock.node(0).dell_lc_not_ready_calls(3);
    let err = Bios::new(&system)
        .stage(&turbo_off())
        .await
        .expect_err("a busy LC refuses the change");
    let BiosError::Redfish(inner) = &err else {
        panic!("{err}")
    };
    assert_eq!(inner.status(), Some(400), "{inner}");
    assert!(
        inner.message_ids().any(|id| id.ends_with("LC060")),
        "the iDRAC's LC message: {inner}"
    );
    assert_eq!(lc_posts(&mock), 0, "the check is off");
}

#[tokio::test]
async fn lc_wait_times_out_with_the_last_status() {
    let (mock, client, _system) = start(QuirksOverride::default()).await;
    mock.node(0).dell_lc_not_ready_calls(10_000);
    let dell = DellOem::new(&client);
    let mut seen = Vec::new();
    let err = dell
        .wait_until_ready(&fast(Duration::from_millis(300)), &mut |s| {
            seen.push(s.clone());
        })
        .await
        .expect_err("never ready");
    assert!(
        matches!(
            err,
            Error::WaitTimeout {
                what: "LCStatus",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("NotReady"), "{err}");
    assert!(seen.len() >= 2);
    assert!(seen.iter().all(|s| s.lc == Some(Readiness::NotReady)));
}

#[tokio::test]
async fn lc_ready_costs_one_request_per_stage() {
    let (_mock, client, system) = start(QuirksOverride::default()).await;
    let dell = DellOem::new(&client);
    assert!(
        dell.remote_services_status()
            .await
            .expect("status")
            .is_ready()
    );
    let bios = Bios::new(&system);
    bios.read().await.expect("warm the registry");
    client.reset_request_counts();
    bios.stage(&turbo_off()).await.expect("stage");
    assert_eq!(
        client.request_counts().total,
        4,
        "GET Bios, GET settings, POST LC status, PATCH"
    );
}

#[tokio::test]
async fn dell_job_queue_lists_deletes_and_clears() {
    let (mock, client, system) = start(QuirksOverride::default()).await;
    let dell = DellOem::new(&client);
    assert!(dell.jobs().await.expect("empty queue").is_empty());
    let bios = Bios::new(&system);
    let staged = bios.stage(&turbo_off()).await.expect("stage");
    let jobs = dell.jobs().await.expect("jobs");
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert!(job.id.starts_with("JID_"), "{job:?}");
    assert_eq!(job.job_type.as_deref(), Some("BIOSConfiguration"));
    assert_eq!(job.state, JobState::Scheduled);
    assert!(staged.job.as_deref().unwrap().ends_with(&job.id));
    assert_eq!(
        dell.job(&job.id).await.expect("job").state,
        JobState::Scheduled
    );

    dell.delete_job(&job.id).await.expect("delete");
    assert!(dell.jobs().await.expect("jobs").is_empty());
    assert!(
        bios.read().await.expect("read").pending.is_empty(),
        "deleting the scheduled job drops its pending values"
    );
    let err = dell.job(&job.id).await.expect_err("gone");
    assert!(err.is_not_found(), "{err}");

    bios.stage(&turbo_off()).await.expect("stage again");
    assert_eq!(dell.jobs().await.expect("jobs").len(), 1);
    dell.clear_job_queue(false).await.expect("clear");
    assert!(dell.jobs().await.expect("jobs").is_empty());

    // A hostile id never reaches the BMC.
    let before = mock.node(0).request_count();
    for bad in ["JID_1/../../SessionService", "JID_CLEARALL", "../x", ""] {
        let err = dell.delete_job(bad).await.expect_err(bad);
        assert!(err.is_invalid_input(), "{bad}: {err}");
        assert!(dell.job(bad).await.expect_err(bad).is_invalid_input());
    }
    assert_eq!(mock.node(0).request_count(), before, "nothing sent");
}

#[tokio::test]
async fn a_job_deleted_while_waiting_vanishes() {
    let (_mock, client, system) = start(QuirksOverride::default()).await;
    let dell = DellOem::new(&client);
    Bios::new(&system).stage(&turbo_off()).await.expect("stage");
    let id = dell.jobs().await.expect("jobs").remove(0).id;
    let waiter = {
        let dell = dell.clone();
        let id = id.clone();
        tokio::spawn(async move {
            let mut states = Vec::new();
            let end = dell
                .wait_job(&id, &fast(Duration::from_secs(10)), &mut |j| {
                    states.push(j.state.clone());
                })
                .await;
            (end, states)
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    dell.clear_job_queue(false).await.expect("clear");
    let (end, states) = waiter.await.expect("join");
    let end = end.expect("a vanished job is not an error");
    let JobEnd::Vanished { url, last } = &end else {
        panic!("{end:?}")
    };
    assert!(url.ends_with(&id));
    assert_eq!(
        last.as_ref().map(|j| j.state.clone()),
        Some(JobState::Scheduled)
    );
    assert!(
        states.iter().all(|s| *s == JobState::Scheduled),
        "{states:?}"
    );
    assert!(end.failure().is_none());
}

#[tokio::test]
async fn dell_job_vanished_bios_apply_verifies_the_attributes() {
    let (mock, _client, system) = start(QuirksOverride::default()).await;
    mock.node(0).dell_purge_finished_jobs(true);
    let bios = Bios::new(&system);
    let staged = bios.stage(&turbo_off()).await.expect("stage");
    let options = ApplyOptions {
        wait: fast(Duration::from_secs(20)),
        reset: true,
    };
    let mut events = Vec::new();
    let report = bios
        .apply(&staged, &options, &mut |e| events.push(e.clone()))
        .await
        .expect("the attributes show the change applied");
    assert!(report.all_applied(), "{report}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ApplyEvent::JobVanished { .. })),
        "{events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ApplyEvent::Job { state, .. } if state == "Completed")),
        "the job was never seen completed: {events:?}"
    );
}

#[tokio::test]
async fn task_transitioned_to_job_is_followed_to_the_end() {
    let (_mock, client, system) = start(QuirksOverride::default()).await;
    let dell = DellOem::new(&client);
    Bios::new(&system).stage(&turbo_off()).await.expect("stage");
    let id = dell.jobs().await.expect("jobs").remove(0).id;
    let task = format!("/redfish/v1/TaskService/Tasks/{id}");
    let following = {
        let dell = dell.clone();
        tokio::spawn(async move {
            dell.follow_task(&task, &fast(Duration::from_secs(20)), &mut |_| {})
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    system
        .reset(ResetType::ForceRestart)
        .await
        .expect("the reset that runs the job");
    let followed = following.await.expect("join").expect("followed");
    let Followed::Job(JobEnd::Finished(job)) = &followed else {
        panic!("{followed:?}")
    };
    assert_eq!(job.id, id);
    assert_eq!(job.state, JobState::Completed);
    // The DMTF view of the same job, as iDRAC9 has it under JobService.
    let dmtf = client
        .get_json(&format!("/redfish/v1/JobService/Jobs/{id}"))
        .await
        .expect("JobService job");
    assert_eq!(dmtf.body()["JobState"], "Completed");
}

/// Quirk `settings_patch_schedules_job` on Dell: with it (the vendor's default) the settings
/// PATCH with an apply time makes the BIOS job itself, ferrofish follows the one in
/// `Location` and never posts another, and the change applies. Switched off
/// (`BiosQuirksOverride`), ferrofish creates the configuration job as Dell's scripts do
/// (`POST …/Jobs` with `TargetSettingsURI`) and the iDRAC refuses the second job with
/// `SYS011`, as in quadsproject/quads#726: one job in the queue, the stage an error.
#[tokio::test]
async fn settings_patch_schedules_job_on_and_off_on_dell() {
    let jobs_posts = |mock: &MockBmcHandle| {
        mock.node(0)
            .requests()
            .into_iter()
            .filter(|e| e.method == "POST" && e.path.ends_with("/Jobs"))
            .collect::<Vec<_>>()
    };
    let (mock, client, system) = start(QuirksOverride::default()).await;
    let bios = Bios::new(&system);
    let staged = bios.stage(&turbo_off()).await.expect("stage");
    assert!(jobs_posts(&mock).is_empty(), "no job posted");
    let job = staged.job.clone().expect("the PATCH's job");
    assert!(job.contains("/Jobs/JID_"), "{job}");
    assert_eq!(DellOem::new(&client).jobs().await.unwrap().len(), 1);
    let options = ApplyOptions {
        wait: fast(Duration::from_secs(30)),
        reset: true,
    };
    let report = bios
        .apply(&staged, &options, &mut |_| {})
        .await
        .expect("applied through the PATCH's job");
    assert!(report.all_applied(), "{report}");

    let (mock, client, system) = start(QuirksOverride::default()).await;
    let mut off = ferrofish_bios::BiosQuirksOverride::default();
    off.settings_patch_schedules_job = Some(false);
    let err = Bios::new(&system)
        .with_quirks_override(off)
        .stage(&turbo_off())
        .await
        .expect_err("the iDRAC refuses a second job");
    let BiosError::Redfish(inner) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(inner.status(), Some(400), "{err}");
    assert!(err.to_string().contains("SYS011"), "{err}");
    let posted = jobs_posts(&mock);
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(posted[0].status, 400);
    assert!(
        posted[0].body.contains("TargetSettingsURI"),
        "{}",
        posted[0].body
    );
    assert_eq!(patches(&mock), 1);
    assert_eq!(
        DellOem::new(&client).jobs().await.unwrap().len(),
        1,
        "only the PATCH's job"
    );
}
