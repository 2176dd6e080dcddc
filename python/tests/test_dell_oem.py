"""``ferrofish.DellOem`` against a mock BMC of the Dell personality: Lifecycle Controller
readiness, a BIOS job in the queue read one by one and as a list, deleting it, clearing the
queue, and a malformed job id refused before anything is sent."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List

import pytest

import ferrofish
from conftest import PASSWORD, MockBmc, spawn_mock_bmc

pytestmark = pytest.mark.mock_bmc


@pytest.fixture(scope="module")
def dell_mock() -> Iterator[MockBmc]:
    with spawn_mock_bmc("--nodes", "2", "--personality", "dell", tls=True) as ready:
        yield MockBmc.from_ready(ready)


def request_log(mock: MockBmc) -> List[Dict[str, Any]]:
    return list(mock.admin("GET", "/nodes/0/requests")["entries"])


def schedule_bios_job(redfish: ferrofish.RedfishClient) -> None:
    """Stages a BIOS change, which the iDRAC turns into a job applied at the next reset."""
    ferrofish.Bios(redfish).stage({"BootMode": "Bios"})


def test_remote_services_status_reports_a_ready_lc(dell_mock: MockBmc) -> None:
    with dell_mock.client(0) as redfish:
        oem = ferrofish.DellOem(redfish)
        assert oem.client is redfish
        status = oem.remote_services_status()
        assert status["lc"] == "Ready"
        assert status["ready"] is True
        posts = [e["path"] for e in request_log(dell_mock) if e["method"] == "POST"]
        assert any(path.endswith("DellLCService.GetRemoteServicesAPIStatus") for path in posts)


def test_jobs_job_and_delete(dell_mock: MockBmc) -> None:
    with dell_mock.client(0) as redfish:
        oem = ferrofish.DellOem(redfish)
        oem.clear_job_queue()
        assert oem.jobs() == []
        schedule_bios_job(redfish)
        [job] = oem.jobs()
        assert job["id"].startswith("JID_")
        assert job["state"] == "Scheduled"
        assert job["terminal"] is False and job["failed"] is False
        assert oem.job(job["id"]) == job
        oem.delete_job(job["id"])
        assert oem.jobs() == []
        with pytest.raises(ferrofish.NotFoundError):
            oem.job(job["id"])


def test_clear_job_queue_empties_it(dell_mock: MockBmc) -> None:
    # A node of its own: the staged change of the test above stays pending on node 0.
    with dell_mock.client(1) as redfish:
        oem = ferrofish.DellOem(redfish)
        schedule_bios_job(redfish)
        assert [job["state"] for job in oem.jobs()] == ["Scheduled"]
        oem.clear_job_queue()
        assert oem.jobs() == []
        posts = [e for e in dell_mock.admin("GET", "/nodes/1/requests")["entries"] if e["method"] == "POST"]
        assert any(e["path"].endswith("DellJobService.DeleteJobQueue") for e in posts)


def test_malformed_job_id_is_refused_before_sending(dell_mock: MockBmc) -> None:
    with dell_mock.client(0) as redfish:
        oem = ferrofish.DellOem(redfish)
        redfish.reset_request_counts()
        for bad in ["", "JID_", "../Systems", "JID_12;x"]:
            with pytest.raises(ferrofish.InvalidInputError):
                oem.job(bad)
            with pytest.raises(ferrofish.InvalidInputError):
                oem.delete_job(bad)
        assert redfish.request_counts()["total"] == 0


def test_repr_names_the_bmc_and_never_the_password(dell_mock: MockBmc) -> None:
    with dell_mock.client(0) as redfish:
        text = repr(ferrofish.DellOem(redfish))
        assert text == f"DellOem(url={redfish.url!r})"
        assert PASSWORD not in text
