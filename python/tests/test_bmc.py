"""``ferrofish.Bmc`` against a mock BMC process whose nodes answer Redfish and IPMI on the same
state: addresses, capabilities, power and boot device, the fallback to IPMI, and the errors."""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List

import pytest

import ferrofish
from conftest import USERNAME, spawn_mock_bmc

NODE_COUNT = 4
#: IPMI passwords have at most 20 bytes, so not the session mock's.
PASSWORD = "s3cret-Ipmi-Pa55"


@dataclass(frozen=True)
class CombinedMock:
    """A mock BMC process with IPMI: each node's Redfish URL and IPMI port, and its admin API."""

    urls: List[str]
    ipmi_ports: List[int]
    admin_url: str

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.admin_url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = response.read()
        return json.loads(payload) if payload else None

    def requests(self, node: int) -> List[Dict[str, Any]]:
        return self.admin("GET", f"/nodes/{node}/requests")["entries"]

    def ipmi_controls(self, node: int) -> int:
        return sum(1 for e in self.requests(node) if e["method"] == "IPMI" and e["path"] == "/ipmi/chassis/control")

    def connect(self, node: int, **overrides: Any) -> ferrofish.Bmc:
        options: Dict[str, Any] = {"username": USERNAME, "password": PASSWORD, "timeout": 5.0}
        options.update(overrides)
        return ferrofish.Bmc.connect(self.urls[node], **options)


@pytest.fixture(scope="module")
def combined() -> Iterator[CombinedMock]:
    with spawn_mock_bmc(
        "--nodes", str(NODE_COUNT), "--ipmi", "127.0.0.1:0", "--power-on-ms", "300", "--force-off-ms", "100",
        password=PASSWORD,
    ) as ready:
        yield CombinedMock(
            urls=[node["url"] for node in ready["nodes"]],
            ipmi_ports=[int(node["ipmi"].rsplit(":", 1)[1]) for node in ready["nodes"]],
            admin_url=ready["admin"],
        )


def test_capabilities_follow_the_address_and_ipmi_port(combined: CombinedMock) -> None:
    with combined.connect(0) as redfish_only:
        assert list(redfish_only.capabilities()) == ["redfish"]
        assert "inventory" in redfish_only.capabilities()["redfish"]
    with combined.connect(0, ipmi_port=combined.ipmi_ports[0]) as both:
        caps = both.capabilities()
        assert list(caps) == ["redfish", "ipmi"]
        assert caps["ipmi"] == ["power", "boot-device"]
    with ferrofish.Bmc.connect(
        f"ipmi://127.0.0.1:{combined.ipmi_ports[0]}", username=USERNAME, password=PASSWORD
    ) as ipmi:
        assert ipmi.address == f"ipmi://127.0.0.1:{combined.ipmi_ports[0]}"
        assert list(ipmi.capabilities()) == ["ipmi"]


def test_power_over_redfish_then_over_ipmi_alone(combined: CombinedMock) -> None:
    with combined.connect(1) as bmc:
        done = bmc.power("on")
        assert (done.value, done.via, done.fallback_reason) == (None, "redfish", None)
        waited = bmc.wait_for_power_state("On", timeout=10.0)
        assert waited.via == "redfish"
        state = bmc.power_state()
        assert (state.value, state.via) == ("On", "redfish")
    assert combined.ipmi_controls(1) == 0

    with ferrofish.Bmc.connect(
        f"127.0.0.1:{combined.ipmi_ports[1]}", username=USERNAME, password=PASSWORD
    ) as ipmi:
        off = ipmi.power("off")
        assert off.via == "ipmi"
        assert ipmi.wait_for_power_state("Off", timeout=10.0).via == "ipmi"
    assert combined.ipmi_controls(1) == 1
    assert combined.admin("GET", "/nodes/1")["power"] == "Off"


def test_a_5xx_redfish_side_falls_back_to_ipmi_and_says_why(combined: CombinedMock) -> None:
    combined.admin("POST", "/nodes/2/faults", {"fail_next": {"count": 10000, "status": 500}})
    try:
        with combined.connect(2, ipmi_port=combined.ipmi_ports[2]) as bmc:
            done = bmc.power("on")
            assert done.via == "ipmi"
            assert done.fallback_reason is not None and "HTTP 500" in done.fallback_reason
            boot = bmc.set_boot_device("pxe", persistent=True)
            assert boot.via == "ipmi"
            assert boot.value == {"device": "pxe", "persistent": True, "must_clear_after_boot": False}
            assert "via='ipmi'" in repr(boot) or 'via="ipmi"' in repr(boot)
    finally:
        combined.admin("DELETE", "/nodes/2/faults")
    view = combined.admin("GET", "/nodes/2")
    assert view["power"] != "Off"
    assert combined.ipmi_controls(2) == 1


def test_bad_addresses_and_names_raise_invalid_input_before_sending(combined: CombinedMock) -> None:
    with pytest.raises(ferrofish.InvalidInputError, match="accepted: redfish://"):
        ferrofish.Bmc.connect("ftp://10.0.0.5", username=USERNAME, password=PASSWORD)
    with pytest.raises(ferrofish.InvalidInputError) as refused:
        ferrofish.Bmc.connect("redfish://root:hunter2-secret@10.0.0.5", username=USERNAME, password=PASSWORD)
    assert "hunter2-secret" not in str(refused.value)
    before = len(combined.requests(3))
    with combined.connect(3) as bmc:
        with pytest.raises(ferrofish.InvalidInputError, match="action must be"):
            bmc.power("reset")
        with pytest.raises(ferrofish.InvalidInputError, match="device must be"):
            bmc.set_boot_device("usb")
    assert len(combined.requests(3)) == before


def test_unsupported_over_ipmi_and_timeouts_map_to_the_existing_exceptions(combined: CombinedMock) -> None:
    with ferrofish.Bmc.connect(
        f"ipmi://127.0.0.1:{combined.ipmi_ports[3]}", username=USERNAME, password=PASSWORD
    ) as ipmi:
        with pytest.raises(ferrofish.UnsupportedOperationError) as unsupported:
            ipmi.power("graceful-reboot")
        assert unsupported.value.operation == "graceful-reboot"
        assert "not available over IPMI" in str(unsupported.value)
        with pytest.raises(ferrofish.UnsupportedOperationError):
            ipmi.set_boot_device("uefi-http")
    with combined.connect(3) as bmc:
        started = time.monotonic()
        with pytest.raises(ferrofish.WaitTimeoutError) as waited:
            bmc.wait_for_power_state("Paused", timeout=0.5)
        assert waited.value.wanted == "Paused"
        assert waited.value.last in {"On", "Off"}
        assert time.monotonic() - started < 5


def test_wrong_password_is_an_authentication_error_without_the_password(combined: CombinedMock) -> None:
    wrong = "not-the-Passw0rd-xyz"
    with ferrofish.Bmc.connect(
        f"ipmi://127.0.0.1:{combined.ipmi_ports[0]}", username=USERNAME, password=wrong
    ) as ipmi:
        with pytest.raises(ferrofish.AuthenticationError) as refused:
            ipmi.power_state()
    assert wrong not in str(refused.value) and wrong not in repr(refused.value)
    bmc = combined.connect(0, password=wrong)
    assert wrong not in repr(bmc)
    with pytest.raises(ferrofish.AuthenticationError):
        bmc.power_state()
    bmc.close()
    with pytest.raises(ferrofish.ClientClosedError):
        bmc.power_state()


def test_a_lost_ipmi_power_action_is_outcome_unknown_as_from_ipmiclient(combined: CombinedMock) -> None:
    # Issue 15: the same class IpmiClient raises (Bmc raised BmcTimeoutError before).
    with ferrofish.Bmc.connect(
        f"ipmi://127.0.0.1:{combined.ipmi_ports[3]}", username=USERNAME, password=PASSWORD
    ) as ipmi:
        assert ipmi.power_state().via == "ipmi"  # the session is up
        combined.admin("POST", "/nodes/3/ipmi/faults", {"drop_every_nth_reply": 1})
        try:
            with pytest.raises(ferrofish.OutcomeUnknown) as lost:
                ipmi.power("cycle")
        finally:
            combined.admin("DELETE", "/nodes/3/ipmi/faults")
    assert not isinstance(lost.value, TimeoutError)
    assert lost.value.command == "chassis control"
    assert lost.value.attempts == 4  # the first try and Bmc's three retransmissions
    assert lost.value.address == f"127.0.0.1:{combined.ipmi_ports[3]}"
    assert PASSWORD not in str(lost.value) and PASSWORD not in repr(lost.value)
