"""RedfishClient against a real mock BMC: power, boot override, raw JSON, sessions, repr."""

from __future__ import annotations

import contextlib
import gc
import http.server
import json
import pickle
import re
import threading
import time
from typing import Any, Iterator, List

import pytest

import ferrofish
from conftest import NODE_BOOT, NODE_FAULTS, NODE_POWER, NODE_READ_ONLY, MockBmc

SYSTEM = "/redfish/v1/Systems/1"


def test_system_ids_and_power_state_match_the_bmc(mock_bmc: MockBmc, client: ferrofish.RedfishClient) -> None:
    systems = mock_bmc.raw_get(NODE_READ_ONLY, "/redfish/v1/Systems")
    assert client.system_ids() == [member["@odata.id"] for member in systems["Members"]]
    assert client.power_state() == mock_bmc.node_view(NODE_READ_ONLY)["power"]
    # By path and by bare Id, the same system.
    assert client.power_state(SYSTEM) == client.power_state("1") == client.power_state()


def test_reset_changes_the_power_state(mock_bmc: MockBmc) -> None:
    with mock_bmc.client(NODE_POWER) as redfish:
        redfish.reset("On")
        redfish.wait_for_power_state("On", timeout=60)
        assert redfish.power_state() == "On"
        assert mock_bmc.node_view(NODE_POWER)["power"] == "On"

        redfish.reset("ForceOff")
        redfish.wait_for_power_state("Off", timeout=60)
        assert redfish.power_state() == "Off"
        assert mock_bmc.node_view(NODE_POWER)["power"] == "Off"


def test_reset_type_the_bmc_does_not_allow_is_refused_before_sending(mock_bmc: MockBmc) -> None:
    system = mock_bmc.raw_get(NODE_POWER, SYSTEM)
    allowed = system["Actions"]["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"]
    refused = next(kind for kind in ["Suspend", "Pause", "Resume", "Nmi"] if kind not in allowed)
    with mock_bmc.client(NODE_POWER) as redfish:
        redfish.power_state()  # log in and warm the caches
        redfish.reset_request_counts()
        with pytest.raises(ferrofish.ValueNotAllowedError) as raised:
            redfish.reset(refused)
        assert redfish.request_counts()["post"] == 0
    error = raised.value
    assert isinstance(error, ValueError)
    assert error.property == "ResetType"
    assert error.requested == refused
    assert list(error.allowed) == allowed


def test_wait_for_power_state_times_out_with_the_last_state(mock_bmc: MockBmc) -> None:
    with mock_bmc.client(NODE_POWER) as redfish:
        redfish.reset("ForceOff")
        redfish.wait_for_power_state("Off", timeout=60)
        with pytest.raises(ferrofish.WaitTimeoutError) as raised:
            redfish.wait_for_power_state("On", timeout=0.3)
    error = raised.value
    assert isinstance(error, TimeoutError)
    assert (error.what, error.wanted, error.last) == ("PowerState", "On", "Off")
    assert error.url.endswith(SYSTEM)


def test_boot_override_round_trip(mock_bmc: MockBmc) -> None:
    with mock_bmc.client(NODE_BOOT) as redfish:
        redfish.set_boot_override("Pxe", enabled="Once")
        boot = mock_bmc.raw_get(NODE_BOOT, SYSTEM)["Boot"]
        assert boot["BootSourceOverrideTarget"] == "Pxe"
        assert boot["BootSourceOverrideEnabled"] == "Once"

        redfish.set_boot_override("Hdd", enabled="Continuous", mode="UEFI")
        view = mock_bmc.node_view(NODE_BOOT)
        assert (view["boot_target"], view["boot_enabled"], view["boot_mode"]) == ("Hdd", "Continuous", "UEFI")
        assert redfish.get_json(SYSTEM)["Boot"]["BootSourceOverrideTarget"] == "Hdd"

        redfish.set_boot_override("None", enabled="Disabled")
        assert mock_bmc.node_view(NODE_BOOT)["boot_enabled"] == "Disabled"


def test_boot_target_the_bmc_does_not_allow_is_refused(mock_bmc: MockBmc) -> None:
    boot = mock_bmc.raw_get(NODE_BOOT, SYSTEM)["Boot"]
    allowed = boot["BootSourceOverrideTarget@Redfish.AllowableValues"]
    assert "Floppy" not in allowed
    with mock_bmc.client(NODE_BOOT) as redfish:
        with pytest.raises(ferrofish.ValueNotAllowedError) as raised:
            redfish.set_boot_override("Floppy")
    assert raised.value.property == "BootSourceOverrideTarget"
    assert list(raised.value.allowed) == allowed
    assert mock_bmc.raw_get(NODE_BOOT, SYSTEM)["Boot"] == boot


def test_get_json_returns_plain_python_data(mock_bmc: MockBmc, client: ferrofish.RedfishClient) -> None:
    root = client.get_json("/redfish/v1")
    assert root == mock_bmc.raw_get(NODE_READ_ONLY, "/redfish/v1")
    assert isinstance(root, dict)
    assert isinstance(root["Systems"]["@odata.id"], str)


def test_patch_json_writes_and_reads_back(mock_bmc: MockBmc) -> None:
    with mock_bmc.client(NODE_BOOT) as redfish:
        redfish.get_json(SYSTEM)  # the ETag for If-Match comes from this read
        redfish.patch_json(SYSTEM, {"AssetTag": "rack4-u12"})
    assert mock_bmc.raw_get(NODE_BOOT, SYSTEM)["AssetTag"] == "rack4-u12"


@pytest.mark.parametrize(
    ("body", "error_type", "where"),
    [
        ({"AssetTag": {1, 2}}, TypeError, "$.AssetTag"),
        ({"Boot": {"Nested": [1.0, float("nan")]}}, ValueError, "$.Boot.Nested[1]"),
        ({1: "non-string key"}, TypeError, "$"),
        ({"Big": 2**70}, ValueError, "$.Big"),
    ],
)
def test_bodies_json_cannot_carry_are_refused_before_sending(
    mock_bmc: MockBmc, body: object, error_type: type, where: str
) -> None:
    with mock_bmc.client(NODE_BOOT) as redfish:
        with pytest.raises(error_type, match=f"at {re.escape(where)} "):
            redfish.patch_json(SYSTEM, body)
        assert redfish.request_counts()["total"] == 0


def test_self_referencing_body_is_refused() -> None:
    body: dict = {}
    body["self"] = body
    redfish = ferrofish.RedfishClient("https://127.0.0.1:9", username="u", password="p")
    with pytest.raises(ValueError, match="nested deeper"):
        redfish.post_json("/redfish/v1/Systems", body)
    assert redfish.request_counts()["total"] == 0


def test_request_counts_agree_with_the_bmc_log(mock_bmc: MockBmc) -> None:
    mock_bmc.admin("DELETE", f"/nodes/{NODE_FAULTS}/requests")
    with mock_bmc.client(NODE_FAULTS) as redfish:
        redfish.power_state()
        counts = redfish.request_counts()
        assert counts["total"] == mock_bmc.requests_seen(NODE_FAULTS)
        assert counts["post"] == 1  # the session login
        # Service root, default system and session are cached: one more GET, nothing else.
        redfish.power_state()
        again = redfish.request_counts()
        assert again["get"] == counts["get"] + 1
        assert again["total"] == counts["total"] + 1
        redfish.reset_request_counts()
        assert redfish.request_counts()["total"] == 0


def test_context_manager_deletes_the_session(mock_bmc: MockBmc) -> None:
    before = mock_bmc.node_view(NODE_READ_ONLY)["sessions"]
    with mock_bmc.client(NODE_READ_ONLY) as redfish:
        redfish.power_state()
        assert mock_bmc.node_view(NODE_READ_ONLY)["sessions"] == before + 1
    assert mock_bmc.node_view(NODE_READ_ONLY)["sessions"] == before
    with pytest.raises(ferrofish.ClientClosedError):
        redfish.power_state()
    redfish.close()  # closing twice is harmless


def test_dropping_an_unclosed_client_deletes_its_session(mock_bmc: MockBmc) -> None:
    before = mock_bmc.node_view(NODE_READ_ONLY)["sessions"]
    redfish = mock_bmc.client(NODE_READ_ONLY)
    redfish.power_state()
    assert mock_bmc.node_view(NODE_READ_ONLY)["sessions"] == before + 1
    del redfish
    gc.collect()
    # The delete runs in the background: poll for it.
    deadline = time.monotonic() + 30
    while mock_bmc.node_view(NODE_READ_ONLY)["sessions"] != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mock_bmc.node_view(NODE_READ_ONLY)["sessions"] == before


def test_context_manager_closes_on_error_and_lets_it_propagate(mock_bmc: MockBmc) -> None:
    before = mock_bmc.node_view(NODE_READ_ONLY)["sessions"]
    with pytest.raises(KeyError, match="from the body"):
        with mock_bmc.client(NODE_READ_ONLY) as redfish:
            redfish.power_state()
            raise KeyError("from the body")
    assert mock_bmc.node_view(NODE_READ_ONLY)["sessions"] == before


def test_repr_never_shows_the_password_or_token(mock_bmc: MockBmc, client: ferrofish.RedfishClient) -> None:
    client.power_state()  # logged in: a session token exists now
    url = mock_bmc.url(NODE_READ_ONLY)
    # Exactly the URL and the user name: nothing else can hide in it.
    assert repr(client) == f"RedfishClient(url={url!r}, username='admin')"
    assert str(client) == repr(client)
    assert mock_bmc.password not in repr(client)
    assert client.url == url
    assert client.username == "admin"
    assert not hasattr(client, "password")


def test_client_cannot_be_pickled(client: ferrofish.RedfishClient) -> None:
    # Pickling would have to write the password somewhere.
    with pytest.raises(TypeError, match="pickle"):
        pickle.dumps(client)


def test_system_none_needs_exactly_one_system(mock_bmc: MockBmc, client: ferrofish.RedfishClient) -> None:
    # The mock has one system per node; system=None picks it and remembers it.
    assert len(client.system_ids()) == 1
    assert client.power_state() == client.power_state(client.system_ids()[0])


class _SystemsBmc(http.server.BaseHTTPRequestHandler):
    """A minimal Redfish service with HTTP Basic whose Systems collection lists `systems`."""

    systems: List[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path.rstrip("/") == "/redfish/v1":
            body = {
                "@odata.id": "/redfish/v1",
                "@odata.type": "#ServiceRoot.v1_15_0.ServiceRoot",
                "Systems": {"@odata.id": "/redfish/v1/Systems"},
            }
        elif self.path == "/redfish/v1/Systems" and self.headers.get("Authorization", "").startswith("Basic "):
            body = {"Members": [{"@odata.id": s} for s in self.systems], "Members@odata.count": len(self.systems)}
        else:
            self.send_error(404)
            return
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@contextlib.contextmanager
def _systems_bmc(systems: List[str]) -> Iterator[str]:
    handler = type("Handler", (_SystemsBmc,), {"systems": systems})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)


@pytest.mark.parametrize(
    ("systems", "expected"),
    [
        ([], "the BMC lists no system"),
        (
            ["/redfish/v1/Systems/a", "/redfish/v1/Systems/b"],
            "exactly one system, this one has 2: /redfish/v1/Systems/a, /redfish/v1/Systems/b; pass system=",
        ),
    ],
)
def test_system_none_refuses_zero_or_several_systems(systems: List[str], expected: str) -> None:
    # The mock BMC serves one system per node, so a small local service lists zero or two.
    with _systems_bmc(systems) as url:
        with ferrofish.RedfishClient(url, username="u", password="p", auth="basic") as redfish:
            assert redfish.system_ids() == systems
            for call in (redfish.power_state, redfish.inventory, lambda: redfish.reset("On")):
                with pytest.raises(ferrofish.InvalidInputError, match=re.escape(expected)):
                    call()
            # Nothing but the root and the collection was asked for: no system, no action.
            counts = redfish.request_counts()
            assert counts["post"] == 0
