"""Interop: ferrofish.RedfishClient against OpenStack's sushy-tools emulator, a Redfish service
nobody here wrote and the one Ironic's CI runs against.

The emulator runs its fake driver (no libvirt) on 127.0.0.1 with HTTP basic auth from a bcrypt
htpasswd file and its state in a temp dir of its own. Its service root names no SessionService,
its linked ``Memory`` collection answers 404, and it stores a one-time boot override as
``Continuous``. Each test starts its own emulator, so state never leaks between tests. Skipped
when sushy-tools is not installed (``scripts/test.sh`` installs it into ``.venv``), unless
``FERROFISH_REQUIRE_SUSHY`` is set (CI sets it).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

import ferrofish

USERNAME = "admin"
PASSWORD = "sushy-Pa55word-for-python"
SYSTEM_UUID = "27946b59-9e44-4fa7-8e91-f3527a1ef094"
NIC_MAC = "52:54:00:4f:e3:02"
DRIVE_CAPACITY_BYTES = 899_527_000_000
STARTUP_TIMEOUT_S = 30.0

CONFIG = """
SUSHY_EMULATOR_FAKE_DRIVER = True
SUSHY_EMULATOR_AUTH_FILE = {htpasswd!r}
SUSHY_EMULATOR_STATE_DIR = {state!r}
SUSHY_EMULATOR_FAKE_SYSTEMS = [{{
    "uuid": {uuid!r},
    "name": "ferrofish-fake",
    "power_state": "Off",
    "external_notifier": False,
    "nics": [{{"mac": {mac!r}, "ip": "192.0.2.11"}}],
}}]
SUSHY_EMULATOR_STORAGE = {{
    {uuid!r}: [{{
        "Id": "1",
        "Name": "Local Storage Controller",
        "StorageControllers": [{{"MemberId": "0", "Name": "RAID", "SpeedGbps": 12}}],
        "Drives": ["disk0"],
    }}],
}}
SUSHY_EMULATOR_DRIVES = {{
    ({uuid!r}, "1"): [{{
        "Id": "disk0", "Name": "Drive 0", "CapacityBytes": {capacity}, "Protocol": "SAS",
    }}],
}}
SUSHY_EMULATOR_VOLUMES = {{({uuid!r}, "1"): []}}
"""


@dataclass(frozen=True)
class Sushy:
    url: str
    log_path: Path

    def client(self, password: str = PASSWORD, **options: Any) -> ferrofish.RedfishClient:
        return ferrofish.RedfishClient(
            self.url, username=USERNAME, password=password, retries=0, **options
        )

    def raw_get(self, path: str) -> Any:
        """GET with urllib and basic auth: a reader independent of ferrofish."""
        token = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        request = urllib.request.Request(
            self.url + path, headers={"Authorization": f"Basic {token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())


def _find_emulator() -> Optional[Path]:
    beside_python = Path(sys.executable).parent / "sushy-emulator"
    if beside_python.is_file():
        return beside_python
    found = shutil.which("sushy-emulator")
    return Path(found) if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _service_root_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/redfish/v1/", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


@pytest.fixture
def sushy() -> Iterator[Sushy]:
    emulator = _find_emulator()
    try:
        import bcrypt
    except ImportError:
        bcrypt = None
    if emulator is None or bcrypt is None:
        why = "sushy-tools is not installed here: pip install sushy-tools"
        # CI sets it, so a broken install fails instead of skipping quietly.
        if os.environ.get("FERROFISH_REQUIRE_SUSHY"):
            pytest.fail(f"FERROFISH_REQUIRE_SUSHY is set but {why}")
        pytest.skip(why)
    with tempfile.TemporaryDirectory(prefix="ferrofish-sushy-py-") as scratch:
        scratch_path = Path(scratch)
        htpasswd = scratch_path / "htpasswd"
        # Cost 4, the lowest: sushy checks the hash on every request.
        digest = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
        htpasswd.write_text(f"{USERNAME}:{digest}\n")
        config = scratch_path / "emulator.conf"
        config.write_text(
            CONFIG.format(
                htpasswd=str(htpasswd),
                state=str(scratch_path / "state"),
                uuid=SYSTEM_UUID,
                mac=NIC_MAC,
                capacity=DRIVE_CAPACITY_BYTES,
            )
        )
        log_path = scratch_path / "emulator.log"
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [str(emulator), "--config", str(config), "--interface", "127.0.0.1", "--port", str(port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                deadline = time.monotonic() + STARTUP_TIMEOUT_S
                while not _service_root_answers(url):
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"sushy-emulator did not start:\n{log_path.read_text()[-4000:]}")
                    time.sleep(0.1)
                yield Sushy(url=url, log_path=log_path)
            finally:
                process.kill()
                process.wait(timeout=10)


SYSTEM_PATH = f"/redfish/v1/Systems/{SYSTEM_UUID}"


def test_basic_auth_lists_systems_and_reads_power(sushy: Sushy) -> None:
    with sushy.client(auth="basic") as bmc:
        assert bmc.system_ids() == [SYSTEM_PATH]
        assert bmc.power_state() == "Off"


def test_basic_auth_sets_a_continuous_pxe_boot(sushy: Sushy) -> None:
    assert sushy.raw_get(SYSTEM_PATH)["Boot"]["BootSourceOverrideTarget"] == "Hdd"
    with sushy.client(auth="basic") as bmc:
        bmc.set_boot_override("Pxe", enabled="Continuous")
    boot = sushy.raw_get(SYSTEM_PATH)["Boot"]
    assert boot["BootSourceOverrideTarget"] == "Pxe"
    assert boot["BootSourceOverrideEnabled"] == "Continuous"


def test_basic_auth_sets_a_one_time_pxe_boot(sushy: Sushy) -> None:
    with sushy.client(auth="basic") as bmc:
        bmc.set_boot_override("Pxe", enabled="Once")
    boot = sushy.raw_get(SYSTEM_PATH)["Boot"]
    assert boot["BootSourceOverrideTarget"] == "Pxe"
    # sushy keeps every override as Continuous, a one-time one included.
    assert boot["BootSourceOverrideEnabled"] == "Continuous"


def test_basic_auth_reads_the_inventory(sushy: Sushy) -> None:
    with sushy.client(auth="basic") as bmc:
        inventory = bmc.inventory()
    assert inventory.system.id == SYSTEM_UUID
    assert [nic.mac_address.lower() for nic in inventory.nics] == [NIC_MAC]
    assert [disk.capacity_bytes for disk in inventory.disks] == [DRIVE_CAPACITY_BYTES]
    assert inventory.memory.total_mib == 0


def test_default_auth_lists_systems_and_reads_power(sushy: Sushy) -> None:
    with sushy.client() as bmc:
        assert bmc.system_ids() == [SYSTEM_PATH]
        assert bmc.power_state() == "Off"


@pytest.mark.parametrize(
    "auth",
    [
        None,
        "session",
        "basic",
        # No SessionService in sushy's root: auto chooses basic.
        "auto",
    ],
)
def test_a_wrong_password_is_an_authentication_error(sushy: Sushy, auth: Optional[str]) -> None:
    options = {} if auth is None else {"auth": auth}
    with sushy.client(password="not-the-password", **options) as bmc:
        with pytest.raises(ferrofish.AuthenticationError) as raised:
            bmc.system_ids()
    shown = f"{raised.value} {raised.value!r} {raised.value.args!r}"
    assert "not-the-password" not in shown
