"""The user's quirk overrides from Python, against real mock BMC processes: each kind of
override changes what goes on the wire (the mock's request log), a misspelt switch is a
``ValueError`` naming the closest, a value of the wrong type a ``TypeError``, both before
anything is sent; ``quirks()`` shows the switches in force.

Kinds: ``RedfishClient``/``AsyncRedfishClient``/``Bmc`` ``quirks={...}`` (redfish-core's
``QuirksOverride``), ``Bios(..., quirks={...})`` (``BiosQuirksOverride``), and
``VirtualMedia.allow_idrac_vmedia_boot_before_6()``."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Iterator, List, Optional

import pytest

import ferrofish
from conftest import PASSWORD, USERNAME, MockBmc, spawn_mock_bmc

pytestmark = pytest.mark.mock_bmc


@pytest.fixture(scope="module")
def generic() -> Iterator[MockBmc]:
    with spawn_mock_bmc("--nodes", "3") as ready:
        yield MockBmc.from_ready(ready)


@pytest.fixture(scope="module")
def lenovo() -> Iterator[MockBmc]:
    with spawn_mock_bmc("--nodes", "2", "--personality", "lenovo") as ready:
        yield MockBmc.from_ready(ready)


@pytest.fixture(scope="module")
def dell() -> Iterator[MockBmc]:
    with spawn_mock_bmc("--nodes", "1", "--personality", "dell") as ready:
        yield MockBmc.from_ready(ready)


def entries(mock: MockBmc, node: int) -> List[Dict[str, Any]]:
    return list(mock.admin("GET", f"/nodes/{node}/requests")["entries"])


def header(entry: Dict[str, Any], name: str) -> Optional[str]:
    for key, value in entry["headers"]:
        if key.lower() == name:
            return str(value)
    return None


def client(mock: MockBmc, node: int, **options: Any) -> ferrofish.RedfishClient:
    return ferrofish.RedfishClient(mock.url(node), username=USERNAME, password=PASSWORD, **options)


def test_a_client_override_changes_the_requests_and_quirks_shows_it(generic: MockBmc) -> None:
    """`accept_encoding_identity` (quirk `gzip_weakens_etag`) on by default; switched off by the
    user, the requests made once the quirks are resolved carry no `Accept-Encoding`."""
    mock = generic
    detected: Dict[str, Any] = {}
    for node, quirks, identity in [(0, None, "identity"), (1, {"accept_encoding_identity": False}, None)]:
        mock.admin("DELETE", f"/nodes/{node}/requests")
        with client(mock, node, quirks=quirks) as redfish:
            in_force = redfish.quirks()
            assert redfish.system_ids()
        reads = [e for e in entries(mock, node) if e["path"] == "/redfish/v1/Systems"]
        assert reads, "the systems were read"
        assert {header(e, "accept-encoding") for e in reads} == {identity}, (quirks, reads)
        if quirks is None:
            detected = in_force
    assert "accept_encoding_identity" not in detected, detected
    assert in_force == {**detected, "accept_encoding_identity": False}
    # None keeps what detection chose.
    with client(mock, 0, quirks={"close_connections": None}) as redfish:
        assert redfish.quirks() == detected


def test_the_async_client_and_bmc_take_the_same_overrides(generic: MockBmc) -> None:
    mock = generic

    async def main() -> Dict[str, Any]:
        async with ferrofish.AsyncRedfishClient(
            mock.url(2), username=USERNAME, password=PASSWORD, quirks={"max_sessions": 3}
        ) as redfish:
            return dict(await redfish.quirks())

    with client(mock, 2) as redfish:
        detected = redfish.quirks()
    assert "max_sessions" not in detected
    assert asyncio.run(main()) == {**detected, "max_sessions": 3}

    mock.admin("DELETE", "/nodes/2/requests")
    with ferrofish.Bmc.connect(
        mock.url(2), username=USERNAME, password=PASSWORD, quirks={"accept_encoding_identity": False}
    ) as bmc:
        bmc.power_state()
    reads = [e for e in entries(mock, 2) if e["method"] == "GET" and "/Systems/" in e["path"]]
    assert reads and all(header(e, "accept-encoding") is None for e in reads), reads


def test_a_misspelt_switch_or_a_wrong_type_is_refused_before_anything_is_sent(generic: MockBmc) -> None:
    mock = generic
    before = len(entries(mock, 0))
    with pytest.raises(ValueError) as raised:
        client(mock, 0, quirks={"close_conections": True})
    assert "close_connections" in str(raised.value), raised.value
    with pytest.raises(TypeError) as typed:
        client(mock, 0, quirks={"max_sessions": "four"})
    assert "max_sessions" in str(typed.value)
    with pytest.raises(TypeError):
        client(mock, 0, quirks={"close_connections": 1})
    with pytest.raises(ValueError):
        ferrofish.Bmc.connect(mock.url(0), username=USERNAME, password=PASSWORD, quirks={"expand": True})
    with client(mock, 0) as redfish:
        with pytest.raises(ValueError) as bios_raised:
            ferrofish.Bios(redfish, quirks={"settings_apply_time_refuse": False})
        assert "settings_apply_time_refused" in str(bios_raised.value)
        with pytest.raises(TypeError):
            ferrofish.Bios(redfish, quirks={"paths_case_insensitive": "yes"})
    assert len(entries(mock, 0)) == before, "nothing sent"
    assert PASSWORD not in str(raised.value) + str(typed.value)


def test_a_bios_override_changes_the_patch(lenovo: MockBmc) -> None:
    """Quirk `settings_apply_time_refused` (Lenovo XCC): as detected, no apply time is sent
    and the change stages; switched off from Python, the apply time is sent and the XCC
    refuses it with `PropertyUnknown`."""
    mock = lenovo
    for node, quirks in [(0, None), (1, {"settings_apply_time_refused": False})]:
        mock.admin("DELETE", f"/nodes/{node}/requests")
        with client(mock, node) as redfish:
            bios = ferrofish.Bios(redfish, quirks=quirks)
            if quirks is None:
                assert bios.stage({"BootSeqRetryCount": 7}).sent
            else:
                with pytest.raises(ferrofish.FerrofishError) as raised:
                    bios.stage({"BootSeqRetryCount": 7})
                assert "PropertyUnknown" in str(raised.value)
        patches = [e for e in entries(mock, node) if e["method"] == "PATCH"]
        assert len(patches) == 1, patches
        assert ("SettingsApplyTime" in patches[0]["body"]) == (quirks is not None), patches[0]
        assert (patches[0]["status"] < 300) == (quirks is None), patches[0]


def test_allowing_vmedia_boot_on_an_old_idrac_sends_the_insert(dell: MockBmc) -> None:
    """Quirk `idrac_vmedia_boot_before_6`: an iDRAC9 on 4.40 is refused before anything is
    sent; `allow_idrac_vmedia_boot_before_6()` gives a `VirtualMedia` that goes ahead."""
    mock = dell
    mock.admin("POST", "/nodes/0/options", {"system": {"manager_firmware": "4.40.00.00", "manager_model": "14G Monolithic"}})
    with ferrofish.ImageServer("127.0.0.1:0") as server, client(mock, 0) as redfish:
        url = server.add_bytes("deploy.iso", ferrofish.build_config_drive({"links": [], "networks": [], "services": []}, {"uuid": "u"}))
        media = redfish.virtual_media()
        mock.admin("DELETE", "/nodes/0/requests")
        with pytest.raises(ferrofish.VirtualMediaError) as raised:
            media.boot_from_iso(url, timeout=2.0, poll_interval=0.1)
        assert "6.00" in str(raised.value)
        assert [e for e in entries(mock, 0) if e["method"] != "GET"] == [], "nothing sent"

        allowed = media.allow_idrac_vmedia_boot_before_6()
        assert allowed is not media and allowed.system == media.system
        try:
            with pytest.raises(ferrofish.FerrofishError):
                # No OS on a bare config drive: the boot times out, but only after the insert.
                allowed.boot_from_iso(url, timeout=2.0, poll_interval=0.1)
        finally:
            allowed.eject_all()
        writes = [e["path"] for e in entries(mock, 0) if e["method"] == "POST"]
        assert any(p.endswith("VirtualMedia.InsertMedia") for p in writes), writes
        # The original object still refuses.
        mock.admin("DELETE", "/nodes/0/requests")
        with pytest.raises(ferrofish.VirtualMediaError):
            media.boot_from_iso(url, timeout=2.0, poll_interval=0.1)
        assert [e for e in entries(mock, 0) if e["method"] != "GET"] == []
