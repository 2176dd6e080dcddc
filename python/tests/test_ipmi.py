"""``ferrofish.IpmiClient`` (the pyghmi/ipmitool-shaped IPMI client) against the mock BMC's IPMI
server, and against OpenIPMI's ``ipmi_sim`` when it is installed."""

from __future__ import annotations

import json
import pickle
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, List

import pytest

import ferrofish
from conftest import USERNAME, spawn_mock_bmc

#: IPMI passwords have at most 20 bytes.
PASSWORD = "s3cret-Ipmi-Pa55"
NODE_COUNT = 3


@dataclass(frozen=True)
class IpmiMock:
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

    def client(self, node: int, **overrides: Any) -> ferrofish.IpmiClient:
        options: Any = {"username": USERNAME, "password": PASSWORD, "port": self.ipmi_ports[node]}
        options.update(overrides)
        return ferrofish.IpmiClient("127.0.0.1", **options)


@pytest.fixture(scope="module")
def ipmi_mock() -> Iterator[IpmiMock]:
    with spawn_mock_bmc(
        "--nodes", str(NODE_COUNT), "--ipmi", "127.0.0.1:0", "--power-on-ms", "100", "--force-off-ms", "100",
        password=PASSWORD,
    ) as ready:
        yield IpmiMock(
            ipmi_ports=[int(node["ipmi"].rsplit(":", 1)[1]) for node in ready["nodes"]],
            admin_url=ready["admin"],
        )


def wait_for_power(client: ferrofish.IpmiClient, wanted: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while client.power_state() != wanted:
        assert time.monotonic() < deadline, f"power never became {wanted}"
        time.sleep(0.05)


def test_power_actions_change_the_mock_and_power_state_is_the_enum(ipmi_mock: IpmiMock) -> None:
    with ipmi_mock.client(0) as bmc:
        bmc.power_off()
        wait_for_power(bmc, "Off")
        assert ipmi_mock.admin("GET", "/nodes/0")["power"] == "Off"
        bmc.power_on()
        wait_for_power(bmc, "On")
        state = bmc.power_state()
        assert state is ferrofish.PowerState.On and state == "On"
        # IPMI reports "On" from the moment the mock starts powering on.
        assert ipmi_mock.admin("GET", "/nodes/0")["power"] in {"PoweringOn", "On"}
        status = bmc.chassis_status()
        assert status.power_on is True and status.power_fault is False
        assert status.restore_policy in {"AlwaysOff", "Previous", "AlwaysOn", "Unknown"}
        # One session for everything.
        assert bmc.stats()["sessions_opened"] == 1


def test_boot_device_reads_back_and_device_id_is_typed(ipmi_mock: IpmiMock) -> None:
    with ipmi_mock.client(1) as bmc:
        assert bmc.set_boot_device("network", persistent=True) == "pxe"
        assert bmc.set_boot_device("hd") == "disk"
        device = bmc.device_id()
        assert device.ipmi_version == (2, 0)
        assert device.aux_firmware_revision is None or (
            isinstance(device.aux_firmware_revision, bytes) and len(device.aux_firmware_revision) == 4
        )
        assert device.firmware_revision == f"{device.firmware_major}.{device.firmware_minor:02d}"
        assert "DeviceId(" in repr(device)
        # Get Device ID over raw bytes returns the same manufacturer (bytes 6..8, little endian).
        raw = bmc.raw(0x06, 0x01, b"")
        assert isinstance(raw, bytes)
        assert int.from_bytes(raw[6:9], "little") & 0x0FFFFF == device.manufacturer_id


def test_a_refused_command_carries_its_completion_code_and_pickles(ipmi_mock: IpmiMock) -> None:
    with ipmi_mock.client(1) as bmc:
        with pytest.raises(ferrofish.IpmiError) as refused:
            # Application netfn, a command number no BMC implements.
            bmc.raw(0x06, 0xEE, b"\x01")
    error = refused.value
    assert error.completion_code == 0xC1
    assert error.completion_code_name == "InvalidCommand"
    assert error.command == "raw request"
    assert "0xc1" in str(error)
    again = pickle.loads(pickle.dumps(error))
    assert (type(again), again.completion_code, again.completion_code_name) == (
        ferrofish.IpmiError,
        0xC1,
        "InvalidCommand",
    )


def test_bad_arguments_are_refused_before_anything_is_sent(ipmi_mock: IpmiMock) -> None:
    with pytest.raises(ferrofish.InvalidInputError, match="cipher_suite"):
        ipmi_mock.client(2, cipher_suite=0)
    with pytest.raises(ferrofish.InvalidInputError, match="port="):
        ferrofish.IpmiClient("127.0.0.1:623", username=USERNAME, password=PASSWORD)
    with ipmi_mock.client(2) as bmc:
        with pytest.raises(ferrofish.InvalidInputError, match="device must be"):
            bmc.set_boot_device("usb-stick")
        with pytest.raises(ferrofish.InvalidInputError, match="net_fn"):
            bmc.raw(0x40, 0x01, b"")
        assert bmc.stats()["datagrams_sent"] == 0
    with pytest.raises(ferrofish.ClientClosedError):
        bmc.power_state()


def test_a_lost_power_action_is_outcome_unknown_not_a_timeout(ipmi_mock: IpmiMock) -> None:
    with ipmi_mock.client(2, timeout=0.2, retries=1) as bmc:
        assert bmc.power_state() in {"On", "Off"}
        ipmi_mock.admin("POST", "/nodes/2/ipmi/faults", {"drop_every_nth_reply": 1})
        try:
            with pytest.raises(ferrofish.OutcomeUnknown) as lost:
                bmc.power_cycle()
        finally:
            ipmi_mock.admin("DELETE", "/nodes/2/ipmi/faults")
    assert not isinstance(lost.value, TimeoutError)
    assert lost.value.command == "chassis control"
    assert lost.value.attempts == 2
    assert "may or may not have run" in str(lost.value)


def test_wrong_password_and_kg_never_show(ipmi_mock: IpmiMock) -> None:
    wrong = "Wr0ng-Pw-xyz-123"
    kg = b"kg-Secret-Bytes-7"
    bmc = ipmi_mock.client(0, password=wrong, kg=kg, timeout=0.3, retries=1)
    assert wrong not in repr(bmc) and "kg-Secret" not in repr(bmc)
    assert repr(bmc) == f"IpmiClient(address='127.0.0.1:{ipmi_mock.ipmi_ports[0]}', username='admin')"
    with pytest.raises(ferrofish.FerrofishError) as refused:
        bmc.power_state()
    for text in (str(refused.value), repr(refused.value), repr(pickle.loads(pickle.dumps(refused.value)))):
        assert wrong not in text and "kg-Secret" not in text
    bmc.close()


# --- OpenIPMI's ipmi_sim --------------------------------------------------------------------


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def ipmi_sim() -> Iterator[int]:
    """A running ``ipmi_sim`` (user admin/password), configured as ipmi/tests/ipmi_sim.rs does;
    yields its UDP port."""
    binary = shutil.which("ipmi_sim")
    if binary is None:
        pytest.skip("ipmi_sim (Debian package openipmi) is not installed")
    with tempfile.TemporaryDirectory(prefix="ferrofish-pytest-ipmisim-") as scratch:
        root = Path(scratch)
        (root / "state").mkdir()
        (root / "persist").mkdir()
        script = root / "chassis_control.sh"
        # ipmi_sim runs `PROGRAM 0x20 get power boot` and `PROGRAM 0x20 set power 1 boot pxe`.
        script.write_text(
            "#!/bin/sh\n"
            f"state='{root / 'state'}'\nshift\nop=$1\nshift\n"
            'if [ "$op" = get ]; then\n  for p in "$@"; do\n    v=$(cat "$state/$p" 2>/dev/null)\n'
            '    case $p in power) echo "power:${v:-0}";; boot) echo "boot:${v:-none}";; esac\n  done\n'
            'else\n  while [ $# -ge 2 ]; do echo "$2" > "$state/$1"; shift 2; done\nfi\n'
        )
        script.chmod(0o755)
        port = _free_udp_port()
        auths = "none md2 md5 straight"
        (root / "lan.conf").write_text(
            f'name "ferrofish"\nset_working_mc 0x20\n  startlan 1\n    addr 127.0.0.1 {port}\n'
            f"    priv_limit admin\n    allowed_auths_callback {auths}\n    allowed_auths_user {auths}\n"
            f"    allowed_auths_operator {auths}\n    allowed_auths_admin {auths}\n"
            "    guid a123456789abcdefa123456789abcdef\n  endlan\n"
            f'  chassis_control "{script} 0x20"\n'
            f'user 2 true "admin" "password" admin 10 {auths}\n'
        )
        (root / "emu.cmds").write_text(
            "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n"
        )
        process = subprocess.Popen(
            [binary, "-n", "-c", str(root / "lan.conf"), "-f", str(root / "emu.cmds"), "-s", str(root / "persist")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                probe = ferrofish.IpmiClient(
                    "127.0.0.1", username="admin", password="password", port=port, cipher_suite=3, timeout=0.2, retries=0
                )
                try:
                    probe.device_id()
                    break
                except ferrofish.BmcTimeoutError:
                    assert time.monotonic() < deadline, "ipmi_sim did not come up"
                finally:
                    probe.close()
            yield port
        finally:
            process.kill()
            process.wait(timeout=10)


def test_against_ipmi_sim_suite_auto_falls_back_and_power_sticks(ipmi_sim: int) -> None:
    # ipmi_sim refuses suite 17; "auto" falls back to 3 as pyghmi does.
    with ferrofish.IpmiClient("127.0.0.1", username="admin", password="password", port=ipmi_sim, timeout=2.0) as bmc:
        device = bmc.device_id()
        assert (device.manufacturer_id, device.product_id, device.ipmi_version) == (0x1291, 0x0F02, (2, 0))
        assert device.firmware_revision == "9.08"
        bmc.power_on()
        assert bmc.power_state() == ferrofish.PowerState.On
        assert bmc.set_boot_device("pxe") == "pxe"
        bmc.power_off()
        assert bmc.power_state() == "Off"


def test_against_ipmi_sim_a_wrong_password_is_an_authentication_error(ipmi_sim: int) -> None:
    wrong = "Not-The-Pw-42"
    with ferrofish.IpmiClient(
        "127.0.0.1", username="admin", password=wrong, port=ipmi_sim, cipher_suite=3, timeout=1.0, retries=1
    ) as bmc:
        with pytest.raises(ferrofish.AuthenticationError) as refused:
            bmc.power_state()
    assert wrong not in str(refused.value) and wrong not in repr(refused.value)
