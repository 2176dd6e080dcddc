"""What the Rust client reports beyond values: the boot override outcome and inventory warnings."""

from __future__ import annotations

import http.server
import json
import threading
import warnings
from typing import Any, Iterator

import pytest

import ferrofish
from conftest import NODE_BOOT, NODE_READ_ONLY, MockBmc


def test_set_boot_override_returns_its_outcome(mock_bmc: MockBmc) -> None:
    with mock_bmc.client(NODE_BOOT) as redfish:
        outcome = redfish.set_boot_override("Pxe", enabled="Once")
        # The mock stores Once as Once: applied, nothing to clear after the boot.
        assert isinstance(outcome, ferrofish.BootOverrideOutcome)
        assert outcome.outcome == "applied"
        assert outcome.must_clear_after_boot is False
        assert outcome == redfish.set_boot_override("Pxe", enabled="Once")
        assert hash(outcome) == hash(redfish.set_boot_override("Pxe", enabled="Once"))
        assert repr(outcome) == "BootOverrideOutcome(outcome=\"applied\", must_clear_after_boot=False)"
        redfish.set_boot_override("None", enabled="Disabled")
    assert mock_bmc.node_view(NODE_BOOT)["boot_enabled"] == "Disabled"


def test_a_healthy_inventory_has_no_warnings_and_says_so(mock_bmc: MockBmc) -> None:
    with mock_bmc.client(NODE_READ_ONLY) as redfish:
        inventory = redfish.inventory()
    assert inventory.warnings == ()
    assert inventory.to_dict()["warnings"] == []
    assert ferrofish.InventoryWarning.__name__ == "InventoryWarning"


class _BrokenBmc(http.server.BaseHTTPRequestHandler):
    """A BMC that links a Memory collection it does not serve and stores a one-time boot
    override as Continuous (what the sushy-tools emulator does)."""

    boot = {"BootSourceOverrideTarget": "None", "BootSourceOverrideEnabled": "Disabled"}

    def _send(self, status: int, body: Any = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        system = "/redfish/v1/Systems/1"
        resources = {
            "/redfish/v1/": {"@odata.id": "/redfish/v1/", "Vendor": "Lenovo", "Systems": {"@odata.id": "/redfish/v1/Systems"}},
            "/redfish/v1/Systems": {"Members": [{"@odata.id": system}]},
            system: {
                "@odata.id": system, "Id": "1", "Name": "System", "PowerState": "On",
                "Boot": dict(self.boot, **{"BootSourceOverrideTarget@Redfish.AllowableValues": ["None", "Pxe"]}),
                "MemorySummary": {"TotalSystemMemoryGiB": 128},
                "Memory": {"@odata.id": f"{system}/Memory"},
            },
        }
        body = resources.get(self.path)
        self._send(200 if body is not None else 404, body)

    def do_PATCH(self) -> None:  # noqa: N802 (the http.server API)
        length = int(self.headers.get("Content-Length", "0"))
        boot = json.loads(self.rfile.read(length))["Boot"]
        stored = dict(boot)
        if stored.get("BootSourceOverrideEnabled") == "Once":
            stored["BootSourceOverrideEnabled"] = "Continuous"
        type(self).boot = {**type(self).boot, **stored}
        self._send(204)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the http.server API)
        pass


@pytest.fixture()
def broken_bmc() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BrokenBmc)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_warnings_and_a_continuous_outcome_reach_python(broken_bmc: str) -> None:
    with warnings.catch_warnings():
        # Plain HTTP with credentials may warn; that is not what this test is about.
        warnings.simplefilter("ignore")
        redfish = ferrofish.RedfishClient(broken_bmc, username="u", password="p", auth="basic", retries=0)
    with redfish:
        inventory = redfish.inventory()
        (warning,) = inventory.warnings
        assert isinstance(warning, ferrofish.InventoryWarning)
        assert warning.url == f"{broken_bmc}/redfish/v1/Systems/1/Memory"
        assert (warning.reason, warning.status) == ("not_found", 404)
        assert "404" in warning.message
        assert inventory.memory.total_mib == 128 * 1024, "from MemorySummary"
        assert inventory.to_dict()["warnings"][0]["reason"] == "not_found"

        outcome = redfish.set_boot_override("Pxe", enabled="Once")
        assert outcome.outcome == "applied_as_continuous"
        assert outcome.must_clear_after_boot is True
