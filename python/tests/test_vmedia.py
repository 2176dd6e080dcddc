"""Virtual media from Python against real mock BMC processes (generic and Dell personalities):
slots, insert and eject with the mock's state checked, the DHCP-less boot from a config drive
served by the Python ``ImageServer``, progress callbacks, typed errors, the image server's token
and context manager, and no secret in any ``repr``.

The mock downloads every image from our image server over 127.0.0.1, checks it is ISO 9660,
reads the config drive's ``network_data.json`` and records the static address the node took.
It boots an operating system only from a bootable (El Torito) CD: as in the Rust test, the
config-drive files go into a bootable image, built here with xorriso or genisoimage (skipped
with a message when neither is installed).

Over 600 lines because it covers the whole virtual-media surface (four areas, marked below)
against one set of mock processes started once per module.
"""

from __future__ import annotations

import contextlib
import json
import pickle
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

import ferrofish
from conftest import PASSWORD, MockBmc, spawn_mock_bmc

pytestmark = pytest.mark.mock_bmc

NETWORK_DATA: Dict[str, Any] = {
    "links": [{"id": "eno1", "type": "phy", "ethernet_mac_address": "52:54:00:12:34:56"}],
    "networks": [
        {
            "id": "n0",
            "type": "ipv4",
            "link": "eno1",
            "ip_address": "198.51.100.23",
            "netmask": "255.255.255.0",
            "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "198.51.100.1"}],
        }
    ],
    "services": [{"type": "dns", "address": "198.51.100.53"}],
}
META_DATA = {"uuid": "6f1c7a52-3b8e-4d0b-9f59-0c6a1e2d3b4c", "hostname": "node7"}

# Nodes of each mock process, one per kind of test that changes state.
NODE_SLOTS = 0
NODE_INSERT = 1
NODE_BOOT = 2
NODE_ERRORS = 3
NODE_COUNT = 4


@contextlib.contextmanager
def running_mock(personality: str) -> Iterator[MockBmc]:
    """A mock BMC process of `personality`, as conftest starts the generic one."""
    with spawn_mock_bmc(
        "--nodes",
        str(NODE_COUNT),
        "--personality",
        personality,
        "--power-on-ms",
        "300",
        "--force-off-ms",
        "100",
        tls=True,
    ) as ready:
        yield MockBmc.from_ready(ready)


@pytest.fixture(scope="module", params=["generic", "dell"])
def bmc(request: pytest.FixtureRequest) -> Iterator[Tuple[str, MockBmc]]:
    with running_mock(request.param) as mock:
        yield request.param, mock


@pytest.fixture(scope="module")
def generic_bmc() -> Iterator[MockBmc]:
    with running_mock("generic") as mock:
        yield mock


@pytest.fixture
def server() -> Iterator[ferrofish.ImageServer]:
    with ferrofish.ImageServer("127.0.0.1:0") as srv:
        yield srv


def token_of(url: str) -> str:
    """The image server's token: the first path segment of its URLs."""
    return url.split("/")[3]


def writes(mock: MockBmc, node: int) -> List[Tuple[str, str, str]]:
    """(method, path, body) of every Redfish write the node logged, in order."""
    entries = mock.admin("GET", f"/nodes/{node}/requests")["entries"]
    return [
        (entry["method"], entry["path"], entry.get("body") or "")
        for entry in entries
        if entry["method"] in ("POST", "PATCH", "DELETE") and "SessionService" not in entry["path"]
    ]


def step_of(method: str, path: str, body: str) -> str:
    """Names a write: virtual-media insert/eject (action or PATCH), boot override, reset."""
    parsed = json.loads(body) if body.strip() else {}
    if path.endswith("VirtualMedia.InsertMedia"):
        return "insert"
    if path.endswith("VirtualMedia.EjectMedia"):
        return "eject"
    if path.endswith("ComputerSystem.Reset"):
        return "reset"
    if method == "PATCH" and "/VirtualMedia/" in path:
        return "eject" if parsed.get("Inserted") is False or parsed.get("Image", "") is None else "insert"
    if method == "PATCH" and "Boot" in parsed:
        return "override"
    return "other"


def expected_slots(mock: MockBmc, node: int) -> Dict[str, Tuple[str, Tuple[str, ...]]]:
    """path -> (level, MediaTypes) of every slot, read with urllib (independent of ferrofish)."""
    system_path = mock.raw_get(node, "/redfish/v1/Systems")["Members"][0]["@odata.id"]
    system = mock.raw_get(node, system_path)
    collections = []
    if "VirtualMedia" in system:
        collections.append(("system", system["VirtualMedia"]["@odata.id"]))
    for link in system.get("Links", {}).get("ManagedBy", []):
        manager = mock.raw_get(node, link["@odata.id"])
        if "VirtualMedia" in manager:
            collections.append(("manager", manager["VirtualMedia"]["@odata.id"]))
    return {
        member["@odata.id"]: (level, tuple(member.get("MediaTypes", [])))
        for level, path in collections
        for member in mock.raw_members(node, path)
    }


def bootable_image(files: Dict[str, bytes], directory: Path) -> Path:
    """An El Torito bootable ISO labelled ``config-2`` holding `files`: a deploy image that
    carries its network configuration, as Ironic's DHCP-less boot builds."""
    tool = shutil.which("xorriso") or shutil.which("genisoimage") or shutil.which("mkisofs")
    if tool is None:
        pytest.skip("neither xorriso nor genisoimage is installed: cannot build a bootable ISO")
    tree = directory / "tree"
    for name, data in files.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_bytes(data)
    (tree / "boot.img").write_bytes(b"\0" * 2048)
    output = directory / "deploy.iso"
    prefix = [tool, "-as", "mkisofs"] if tool.endswith("xorriso") else [tool]
    subprocess.run(
        prefix
        + ["-quiet", "-V", "config-2", "-J", "-R", "-b", "boot.img", "-no-emul-boot", "-o", str(output), str(tree)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return output


# --- slots, insert, eject -----------------------------------------------------------------


def test_slots_are_listed_at_the_levels_the_personality_has(bmc: Tuple[str, MockBmc]) -> None:
    personality, mock = bmc
    with mock.client(NODE_SLOTS) as client:
        media = client.virtual_media()
        slots = media.slots()
    expected = expected_slots(mock, NODE_SLOTS)
    assert {slot.path: (slot.level, slot.media_types) for slot in slots} == expected
    levels = {slot.level for slot in slots}
    # Quirk `vmedia_at_system_or_manager`: iDRAC9 on 6.x firmware has both levels.
    assert levels == ({"system", "manager"} if personality == "dell" else {"system"})
    # System level first, as Ironic inserts there.
    assert slots[0].level == "system"
    assert any(slot.accepts("cd") for slot in slots)
    assert all(not slot.occupied and slot.image is None for slot in slots)
    assert media.system == mock.raw_get(NODE_SLOTS, "/redfish/v1/Systems")["Members"][0]["@odata.id"]


def test_insert_and_eject_change_the_mocks_state(
    bmc: Tuple[str, MockBmc], server: ferrofish.ImageServer
) -> None:
    personality, mock = bmc
    url = server.add_bytes("config-2.iso", ferrofish.build_config_drive(NETWORK_DATA, META_DATA))
    with mock.client(NODE_INSERT) as client:
        media = client.virtual_media()
        slot = media.insert(url, media="cd")
        assert slot.image == url and slot.inserted is True and slot.occupied
        assert slot.level == "system", personality
        assert mock.node_view(NODE_INSERT)["inserted_media"] == [[slot.id, url]]
        # The BMC fetched the image from us, over loopback.
        fetched = [f for f in server.fetches() if f.image == "config-2.iso" and f.status == 200]
        assert fetched and all(f.peer.startswith("127.0.0.1:") for f in fetched)
        assert [s for s in media.slots() if s.occupied] == [slot]

        # Inserting again is idempotent: the old copy is ejected first, one image remains.
        again = media.insert(url)
        assert again.path == slot.path
        assert len(mock.node_view(NODE_INSERT)["inserted_media"]) == 1

        assert media.eject(again) is True
        assert mock.node_view(NODE_INSERT)["inserted_media"] == []
        # An empty slot: nothing is sent, and the answer says nothing was ejected.
        before = len(writes(mock, NODE_INSERT))
        assert media.eject(slot.path) is False
        assert len(writes(mock, NODE_INSERT)) == before

        # By Id, and eject_all by kind.
        media.insert(url)
        ejected = media.eject_all("cd")
        assert [s.path for s in ejected] == [slot.path]
        assert mock.node_view(NODE_INSERT)["inserted_media"] == []
        assert media.eject_all() == ()


def test_a_disk_image_goes_to_a_usb_slot(generic_bmc: MockBmc, server: ferrofish.ImageServer) -> None:
    url = server.add_bytes("disk.img", bytes(4096))
    with generic_bmc.client(NODE_INSERT) as client:
        media = client.virtual_media()
        slot = media.insert(url, media="usb")
        try:
            assert slot.accepts("usb")
            assert "CD" not in slot.media_types
            assert generic_bmc.node_view(NODE_INSERT)["inserted_media"] == [[slot.id, url]]
        finally:
            assert media.eject(slot.id) is True


def test_bad_arguments_send_nothing(generic_bmc: MockBmc) -> None:
    with generic_bmc.client(NODE_ERRORS) as client:
        media = client.virtual_media()
        before = generic_bmc.requests_seen(NODE_ERRORS)
        with pytest.raises(ferrofish.InvalidInputError, match="cd.*usb"):
            media.insert("http://127.0.0.1:9/x.iso", media="floppy")
        with pytest.raises(ferrofish.InvalidInputError, match="URL"):
            media.insert("/tmp/boot.iso")
        with pytest.raises(TypeError, match="callable"):
            media.boot_from_iso("http://127.0.0.1:9/x.iso", on_progress=42)  # type: ignore[arg-type]
        with pytest.raises(ferrofish.InvalidInputError, match="timeout"):
            media.boot_from_iso("http://127.0.0.1:9/x.iso", timeout=0)
        assert generic_bmc.requests_seen(NODE_ERRORS) == before
        with pytest.raises(ferrofish.InvalidInputError, match="no virtual-media slot is named"):
            media.eject("NoSuchSlot")


# --- the DHCP-less boot ---------------------------------------------------------------------


def test_dhcp_less_boot_from_a_config_drive_served_from_python(
    bmc: Tuple[str, MockBmc], tmp_path: Path
) -> None:
    personality, mock = bmc
    files = ferrofish.config_drive_files(NETWORK_DATA, META_DATA)
    image = bootable_image(files, tmp_path)
    phases: List[ferrofish.BootPhase] = []
    with ferrofish.ImageServer("127.0.0.1:0") as server, mock.client(NODE_BOOT) as client:
        url = server.add_file("deploy.iso", image)
        media = client.virtual_media()
        boots_before = mock.node_view(NODE_BOOT)["boot_count"]
        mock.admin("DELETE", f"/nodes/{NODE_BOOT}/requests")
        report = media.boot_from_iso(url, timeout=30.0, poll_interval=0.1, eject_after=True, on_progress=phases.append)
        texts = [repr(media), repr(report), repr(server)]
        texts += [repr(p) for p in phases] + [repr(f) for f in server.fetches()]

    view = mock.node_view(NODE_BOOT)
    assert view["boot_count"] == boots_before + 1, personality
    assert view["booted"]["image"] == url
    # The node took the static address from network_data.json: no DHCP.
    assert view["booted"]["static_network"]["address"] == "198.51.100.23"
    assert view["booted"]["static_network"]["gateway"] == "198.51.100.1"
    assert view["boot_enabled"] == "Disabled"
    assert view["inserted_media"] == []

    assert report.ejected is True
    assert report.boot_progress in ("OSBootStarted", "OSRunning")
    assert report.reset in ("ForceRestart", "On")
    assert report.slot.image == url
    assert not report.hpe_boot_on_next_reset

    # The callback saw each phase as it started, in order, and the report keeps them.
    names = [phase.name for phase in phases]
    assert names[0] == "inserting", names
    assert names[1:3] == ["setting_override", "resetting"], names
    assert set(names[3:-1]) == {"waiting_for_boot"} and len(names) > 4, names
    assert names[-1] == "ejecting_at_end", names
    assert report.phases == tuple(phases)
    assert phases[0].slot == report.slot.path and phases[-1].slot == report.slot.path
    assert phases[2].reset == report.reset
    assert phases[-2].last_state == report.boot_progress and phases[-2].override_pending is False
    assert phases[1].hpe_boot_on_next_reset is False
    assert all(phase.description for phase in phases)

    # The BMC saw insert, then the override, then the reset, then the eject.
    assert [step_of(*w) for w in writes(mock, NODE_BOOT)] == ["insert", "override", "reset", "eject"]

    token = token_of(url)
    for text in texts:
        assert token not in text, text
        assert PASSWORD not in text, text


def test_a_progress_callback_that_raises_stops_the_boot_and_propagates(
    generic_bmc: MockBmc, server: ferrofish.ImageServer, tmp_path: Path
) -> None:
    url = server.add_file("deploy.iso", bootable_image(ferrofish.config_drive_files(NETWORK_DATA, META_DATA), tmp_path))
    seen: List[str] = []

    def stop_at_the_override(phase: ferrofish.BootPhase) -> None:
        seen.append(phase.name)
        if phase.name == "setting_override":
            raise RuntimeError("operator said stop")

    with generic_bmc.client(NODE_ERRORS) as client:
        media = client.virtual_media()
        try:
            with pytest.raises(RuntimeError, match="operator said stop"):
                media.boot_from_iso(url, timeout=30.0, poll_interval=0.1, on_progress=stop_at_the_override)
            # No call after the one that raised: the boot was abandoned there.
            time.sleep(1.0)
            assert seen == ["inserting", "setting_override"]
        finally:
            media.eject_all()


def test_a_config_drive_that_carries_no_os_never_boots(generic_bmc: MockBmc, server: ferrofish.ImageServer) -> None:
    """The bare config drive from `build_config_drive` is data: the mock reads its static address
    (proof its ISO reader takes ferrofish's image) but finds no OS to start, and the boot ends
    with the typed timeout and the last BootProgress state."""
    url = server.add_bytes("config-2.iso", ferrofish.build_config_drive(NETWORK_DATA, META_DATA))
    with generic_bmc.client(NODE_ERRORS) as client:
        media = client.virtual_media()
        try:
            with pytest.raises(ferrofish.BootNeverStartedError) as raised:
                media.boot_from_iso(url, timeout=3.0, poll_interval=0.1)
        finally:
            media.eject_all()
    error = raised.value
    assert isinstance(error, ferrofish.VirtualMediaError) and isinstance(error, TimeoutError)
    assert error.timeout is not None and error.timeout >= 3.0
    assert error.last_state is not None and error.last_state not in ("OSBootStarted", "OSRunning")
    assert error.last_state in str(error)
    booted = generic_bmc.node_view(NODE_ERRORS)["booted"]
    assert booted["image"] == url
    assert booted["static_network"]["address"] == "198.51.100.23"


def test_an_unreachable_image_raises_the_typed_error_with_the_bmcs_message(
    generic_bmc: MockBmc, server: ferrofish.ImageServer
) -> None:
    # A name this server does not serve: the BMC's download gets 404.
    url = server.url_for("missing.iso")
    with generic_bmc.client(NODE_ERRORS) as client:
        with pytest.raises(ferrofish.ImageUnreachableError) as raised:
            client.virtual_media().insert(url)
    error = raised.value
    assert isinstance(error, ferrofish.VirtualMediaError)
    assert error.bmc_message and error.bmc_message in str(error)
    assert "missing.iso" in error.bmc_message
    assert error.image is not None and error.image.endswith("/missing.iso")
    assert generic_bmc.node_view(NODE_ERRORS)["inserted_media"] == []
    # The BMC did ask our server, and got 404.
    assert any(f.image == "missing.iso" and f.status == 404 for f in server.fetches())
    token = token_of(url)
    for text in (str(error), repr(error), error.bmc_message, error.image):
        assert token not in text, text
        assert PASSWORD not in text, text
    restored = pickle.loads(pickle.dumps(error))
    assert type(restored) is ferrofish.ImageUnreachableError
    assert restored.bmc_message == error.bmc_message


def test_a_non_iso_image_is_rejected(generic_bmc: MockBmc, server: ferrofish.ImageServer) -> None:
    url = server.add_bytes("not-an.iso", b"just text")
    with generic_bmc.client(NODE_ERRORS) as client:
        with pytest.raises(ferrofish.ImageRejectedError) as raised:
            client.virtual_media().insert(url)
    assert raised.value.bmc_message
    assert token_of(url) not in str(raised.value)


# --- the image server -----------------------------------------------------------------------


def http(url: str, method: str = "GET", headers: Optional[Dict[str, str]] = None) -> Tuple[int, bytes]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def test_image_server_urls_need_the_token(server: ferrofish.ImageServer) -> None:
    data = bytes(range(256)) * 64
    url = server.add_bytes("boot.iso", bytearray(data))
    assert url == server.url_for("boot.iso")
    token = token_of(url)
    assert len(token) >= 32
    assert http(url) == (200, data)
    base = f"http://{server.address}"
    assert http(f"{base}/boot.iso")[0] == 404
    assert http(f"{base}/{token[:-1]}0/boot.iso" if not token.endswith("0") else f"{base}/{token[:-1]}1/boot.iso")[0] == 404
    assert http(f"{base}/{'0' * len(token)}/boot.iso")[0] == 404
    # Range requests and HEAD, as BMCs use them.
    assert http(url, headers={"Range": "bytes=10-19"}) == (206, data[10:20])
    assert http(url, method="HEAD")[0] == 200

    log = server.fetches()
    assert [(f.method, f.image, f.range, f.status) for f in log] == [
        ("GET", "boot.iso", None, 200),
        ("GET", None, None, 404),
        ("GET", None, None, 404),
        ("GET", None, None, 404),
        ("GET", "boot.iso", "bytes=10-19", 206),
        ("HEAD", "boot.iso", None, 200),
    ]
    assert all(f.peer.startswith("127.0.0.1:") and abs(f.at - time.time()) < 60 for f in log)
    assert server.remove("boot.iso") is True
    assert http(url)[0] == 404
    for text in [repr(server)] + [repr(f) for f in server.fetches()]:
        assert token not in text, text


def test_image_server_serves_files_and_directories(server: ferrofish.ImageServer, tmp_path: Path) -> None:
    (tmp_path / "a.iso").write_bytes(b"A" * 5000)
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "kernel").write_bytes(b"K" * 100)
    assert http(server.add_file("a.iso", tmp_path / "a.iso")) == (200, b"A" * 5000)
    directory = server.add_directory("tree", str(tmp_path / "tree"))
    assert directory.endswith("/tree/")
    assert http(directory + "kernel") == (200, b"K" * 100)
    with pytest.raises(ferrofish.ImageServerError) as raised:
        server.add_file("gone.iso", tmp_path / "gone.iso")
    assert raised.value.path == str(tmp_path / "gone.iso")
    with pytest.raises(ferrofish.InvalidInputError):
        server.add_bytes("a/b.iso", b"x")
    with pytest.raises(TypeError, match="bytes"):
        server.add_bytes("text.iso", "not bytes")  # type: ignore[arg-type]


def connection_refused(address: str, deadline_s: float = 5.0) -> bool:
    host, port = address.rsplit(":", 1)
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, int(port)), timeout=1):
                pass
        except OSError:
            return True
        time.sleep(0.05)
    return False


def test_image_server_as_a_context_manager_stops_at_the_end() -> None:
    with pytest.raises(KeyError):
        with ferrofish.ImageServer() as srv:
            url = srv.add_bytes("x.iso", b"x")
            assert srv.running and srv.scheme == "http" and srv.port > 0
            assert http(url) == (200, b"x")
            raise KeyError("the body's exception propagates")
    assert not srv.running
    assert "running=False" in repr(srv)
    assert connection_refused(srv.address)
    # The fetch log survives the stop; everything else says it stopped.
    assert [f.status for f in srv.fetches()] == [200]
    with pytest.raises(ferrofish.ImageServerError, match="stopped"):
        srv.url_for("x.iso")
    srv.stop()  # harmless twice


def test_image_server_refuses_unusable_settings() -> None:
    with pytest.raises(ferrofish.InvalidInputError, match="public_host"):
        ferrofish.ImageServer("0.0.0.0:0")
    with pytest.raises(ferrofish.InvalidInputError, match="IP address and port"):
        ferrofish.ImageServer("localhost")
    with pytest.raises(ferrofish.InvalidInputError, match="tls_key"):
        ferrofish.ImageServer(tls_cert=b"-----BEGIN CERTIFICATE-----")
    with pytest.raises(ferrofish.ImageServerError):
        ferrofish.ImageServer(tls_cert=b"not a pem", tls_key=b"not a pem either")
    with ferrofish.ImageServer() as first:
        with pytest.raises(ferrofish.ImageServerError) as raised:
            ferrofish.ImageServer(first.address)
        assert raised.value.address == first.address


# --- config drives ---------------------------------------------------------------------------


def test_config_drive_from_dicts(tmp_path: Path) -> None:
    target = tmp_path / "config-2.iso"
    image = ferrofish.build_config_drive(NETWORK_DATA, META_DATA, "#cloud-config\nhostname: node7\n", path=target)
    assert target.read_bytes() == image
    assert image[32769:32774] == b"CD001"
    assert image[32808:32816] == b"config-2"

    files = ferrofish.config_drive_files(NETWORK_DATA, META_DATA, b"#!/bin/sh\n")
    assert sorted(files) == [
        "openstack/latest/meta_data.json",
        "openstack/latest/network_data.json",
        "openstack/latest/user_data",
    ]
    assert json.loads(files["openstack/latest/network_data.json"]) == NETWORK_DATA
    assert json.loads(files["openstack/latest/meta_data.json"]) == META_DATA
    assert files["openstack/latest/user_data"] == b"#!/bin/sh\n"
    # Without meta data, a fresh uuid; without network data, no network_data.json.
    bare = ferrofish.config_drive_files(None)
    assert list(bare) == ["openstack/latest/meta_data.json"]
    uuid.UUID(json.loads(bare["openstack/latest/meta_data.json"])["uuid"])


def test_config_drive_is_readable_by_isoinfo(tmp_path: Path) -> None:
    isoinfo = shutil.which("isoinfo")
    if isoinfo is None:
        pytest.skip("isoinfo is not installed")
    target = tmp_path / "config-2.iso"
    ferrofish.build_config_drive(NETWORK_DATA, META_DATA, path=str(target))
    extracted = subprocess.run(
        [isoinfo, "-J", "-i", str(target), "-x", "/openstack/latest/network_data.json"],
        check=True,
        capture_output=True,
    ).stdout
    assert json.loads(extracted) == NETWORK_DATA
    header = subprocess.run([isoinfo, "-d", "-i", str(target)], check=True, capture_output=True, text=True).stdout
    assert "Volume id: config-2" in header


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["networks"][0].update(ip_address="300.1.1.1"), "networks[0].ip_address"),
        (lambda d: d["networks"][0]["routes"][0].update(gateway="nope"), "networks[0].routes[0].gateway"),
        (lambda d: d["links"][0].update(ethernet_mac_address="52:54:00"), "links[0].ethernet_mac_address"),
        (lambda d: d["links"][0].update(mtu="big"), "links[0].mtu"),
        (lambda d: d["services"][0].update(address=5), "services[0]"),
        (lambda d: d.update(links={}), "links"),
    ],
)
def test_a_bad_network_data_dict_names_the_json_path(change: Any, path: str) -> None:
    document = json.loads(json.dumps(NETWORK_DATA))
    change(document)
    with pytest.raises(ferrofish.ConfigDriveError) as raised:
        ferrofish.build_config_drive(document, META_DATA)
    error = raised.value
    assert isinstance(error, ValueError) and isinstance(error, ferrofish.InvalidInputError)
    assert error.document == "network_data.json"
    assert error.path == path
    assert path in str(error)


def test_inconsistent_network_data_and_meta_data_are_refused() -> None:
    dangling = json.loads(json.dumps(NETWORK_DATA))
    dangling["networks"][0]["link"] = "eno9"
    with pytest.raises(ferrofish.ConfigDriveError, match="eno9") as raised:
        ferrofish.build_config_drive(dangling)
    assert raised.value.path is None and raised.value.document == "network_data.json"
    with pytest.raises(ferrofish.ConfigDriveError) as no_uuid:
        ferrofish.config_drive_files(NETWORK_DATA, {"hostname": "x"})
    assert no_uuid.value.document == "meta_data.json"
    with pytest.raises(ferrofish.ConfigDriveError, match="uuid"):
        ferrofish.config_drive_files(NETWORK_DATA, {"uuid": "  "})
    with pytest.raises(TypeError, match="dict"):
        ferrofish.build_config_drive([NETWORK_DATA])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="user_data"):
        ferrofish.build_config_drive(NETWORK_DATA, user_data=7)  # type: ignore[arg-type]


def test_vmedia_exceptions_have_their_standard_bases() -> None:
    assert issubclass(ferrofish.ConfigDriveError, ValueError)
    assert issubclass(ferrofish.OverrideNotConsumedError, TimeoutError)
    assert issubclass(ferrofish.BootNeverStartedError, TimeoutError)
    for cls in (
        ferrofish.NoSlotError,
        ferrofish.SlotBusyError,
        ferrofish.ImageUnreachableError,
        ferrofish.ImageRejectedError,
        ferrofish.InsertFailedError,
        ferrofish.NotInsertedError,
        ferrofish.NotEjectedError,
        ferrofish.ImageServerError,
    ):
        assert issubclass(cls, ferrofish.VirtualMediaError)
        assert not issubclass(cls, ValueError), cls
