//! The Dell personality's OEM services on the wire: `DellLCService.GetRemoteServicesAPIStatus`
//! with its not-ready switches (and the BIOS PATCH an iDRAC refuses meanwhile),
//! `DellJobService.DeleteJobQueue`, the DMTF `JobService/Jobs` view, the task that turned into
//! a job, and purged finished jobs.

mod common;

use std::time::Duration;

use common::{Bmc, message_ids, spawn};
use ferrofish_mock_bmc::Personality;
use serde_json::json;

const MANAGER: &str = "/redfish/v1/Managers/iDRAC.Embedded.1";
const SETTINGS: &str = "/redfish/v1/Systems/System.Embedded.1/Bios/Settings";
const JOB: &str = "/redfish/v1/Managers/iDRAC.Embedded.1/Jobs/JID_000000000001";

fn lc_action() -> String {
    format!("{MANAGER}/Oem/Dell/DellLCService/Actions/DellLCService.GetRemoteServicesAPIStatus")
}

fn delete_action() -> String {
    format!("{MANAGER}/Oem/Dell/DellJobService/Actions/DellJobService.DeleteJobQueue")
}

fn bios_change(value: &str) -> serde_json::Value {
    json!({"Attributes": {"NumLock": value}, "@Redfish.SettingsApplyTime": {"ApplyTime": "OnReset"}})
}

#[tokio::test]
async fn lc_status_reports_not_ready_for_n_calls_and_a_busy_lc_refuses_the_bios_patch() {
    let mock = spawn(Personality::Dell).await;
    let bmc = Bmc::new(mock.node(0));
    let links = &bmc.get_json(MANAGER).await["Links"]["Oem"]["Dell"];
    assert_eq!(
        links["DellLCService"]["@odata.id"],
        format!("{MANAGER}/Oem/Dell/DellLCService")
    );
    let lc = bmc
        .get_json(&format!("{MANAGER}/Oem/Dell/DellLCService"))
        .await;
    assert_eq!(
        lc["Actions"]["#DellLCService.GetRemoteServicesAPIStatus"]["target"],
        lc_action()
    );
    let ready: serde_json::Value = bmc
        .post(&lc_action(), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ready["LCStatus"], "Ready");
    assert_eq!(ready["ServerStatus"], "PoweredOff");

    mock.node(0).dell_lc_not_ready_calls(2);
    let refused = bmc.patch(SETTINGS, bios_change("Off")).await;
    assert_eq!(refused.status(), 400);
    assert_eq!(
        message_ids(&refused.json().await.unwrap()),
        vec!["IDRAC.2.8.LC060"]
    );
    for _ in 0..2 {
        let busy: serde_json::Value = bmc
            .post(&lc_action(), json!({}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(busy["LCStatus"], "NotReady");
        assert_eq!(busy["Status"], "NotReady");
    }
    let ready: serde_json::Value = bmc
        .post(&lc_action(), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ready["LCStatus"], "Ready");
    assert_eq!(bmc.patch(SETTINGS, bios_change("Off")).await.status(), 202);

    mock.node(0)
        .dell_lc_not_ready_for(Duration::from_millis(200));
    let busy: serde_json::Value = bmc
        .post(&lc_action(), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(busy["LCStatus"], "NotReady");
    tokio::time::sleep(Duration::from_millis(250)).await;
    let ready: serde_json::Value = bmc
        .post(&lc_action(), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ready["LCStatus"], "Ready");
}

#[tokio::test]
async fn delete_job_queue_deletes_one_job_or_all_and_drops_pending_values() {
    let mock = spawn(Personality::Dell).await;
    let bmc = Bmc::new(mock.node(0));
    assert_eq!(bmc.patch(SETTINGS, bios_change("Off")).await.status(), 202);
    assert_eq!(
        bmc.get_json("/redfish/v1/JobService/Jobs").await["Members"],
        json!([{"@odata.id": "/redfish/v1/JobService/Jobs/JID_000000000001"}])
    );
    let dmtf = bmc
        .get_json("/redfish/v1/JobService/Jobs/JID_000000000001")
        .await;
    assert_eq!(dmtf["JobState"], "Pending");
    // The job's TaskService task says it turned into the job.
    let task = bmc
        .get_json("/redfish/v1/TaskService/Tasks/JID_000000000001")
        .await;
    assert_eq!(
        task["Messages"][0]["MessageId"],
        "Base.1.18.OperationTransitionedToJob"
    );
    assert_eq!(task["Messages"][0]["MessageArgs"][0], JOB);

    let missing = bmc.post(&delete_action(), json!({})).await;
    assert_eq!(missing.status(), 400);
    let unknown = bmc
        .post(&delete_action(), json!({"JobID": "JID_999"}))
        .await;
    assert_eq!(unknown.status(), 400);
    let deleted = bmc
        .post(&delete_action(), json!({"JobID": "JID_000000000001"}))
        .await;
    assert_eq!(deleted.status(), 200);
    assert_eq!(bmc.get(JOB).await.status(), 404);
    assert!(mock.node(0).view().bios_pending.is_empty());

    assert_eq!(bmc.patch(SETTINGS, bios_change("On")).await.status(), 202);
    let cleared = bmc
        .post(&delete_action(), json!({"JobID": "JID_CLEARALL"}))
        .await;
    assert_eq!(cleared.status(), 200);
    assert_eq!(
        bmc.get_json(&format!("{MANAGER}/Jobs")).await["Members@odata.count"],
        0
    );
}

#[tokio::test]
async fn purged_finished_jobs_answer_404_once_read_finished() {
    let mock = spawn(Personality::Dell).await;
    mock.node(0).dell_purge_finished_jobs(true);
    let bmc = Bmc::new(mock.node(0));
    assert_eq!(bmc.patch(SETTINGS, bios_change("Off")).await.status(), 202);
    assert_eq!(
        bmc.get_json(JOB).await["JobState"],
        "Scheduled",
        "kept while scheduled"
    );
    assert_eq!(
        bmc.reset("/redfish/v1/Systems/System.Embedded.1", "On")
            .await
            .status(),
        204
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while mock.node(0).view().boot_count < 1 {
        assert!(std::time::Instant::now() < deadline, "node did not boot");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(bmc.get(JOB).await.status(), 404, "finished, then purged");
}
