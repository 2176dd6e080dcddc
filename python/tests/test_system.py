"""The system handle (``client.system(id)``, ``client.systems()``), blocking and asyncio,
against real mock BMC processes: one system per node (the shared mock) and three per node
(a mock of its own), where the request log shows which system each call reached.

No pytest plugin: each async test runs its coroutine with ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Iterator, List

import pytest

import ferrofish
from conftest import NODE_POWER, NODE_READ_ONLY, PASSWORD, MockBmc, spawn_mock_bmc

pytestmark = pytest.mark.mock_bmc

SYSTEMS_PER_NODE = 3
SYSTEM_PATHS = [f"/redfish/v1/Systems/{n}" for n in range(1, SYSTEMS_PER_NODE + 1)]


@pytest.fixture(scope="module")
def multi_mock() -> Iterator[MockBmc]:
    """A mock whose one node serves three Systems, each with its own power state (all Off at
    the start)."""
    with spawn_mock_bmc(
        "--nodes", "1", "--systems-per-node", str(SYSTEMS_PER_NODE), "--power-on-ms", "50", "--force-off-ms", "50",
        tls=True,
    ) as ready:
        yield MockBmc.from_ready(ready)


def request_log(mock: MockBmc, node: int) -> List[Dict[str, Any]]:
    return list(mock.admin("GET", f"/nodes/{node}/requests")["entries"])


def clear_request_log(mock: MockBmc, node: int) -> None:
    mock.admin("DELETE", f"/nodes/{node}/requests")


def async_client(mock: MockBmc, node: int) -> ferrofish.AsyncRedfishClient:
    return ferrofish.AsyncRedfishClient(
        mock.url(node),
        username=mock.username,
        password=mock.password,
        verify=mock.ca_pem_path,
        timeout=30.0,
    )


# --- One system -----------------------------------------------------------------------------


def test_system_without_id_is_the_only_system(client: ferrofish.RedfishClient, mock_bmc: MockBmc) -> None:
    system = client.system()
    assert isinstance(system, ferrofish.System)
    [only] = mock_bmc.raw_get(NODE_READ_ONLY, "/redfish/v1/Systems")["Members"]
    assert system.path == only["@odata.id"]
    assert system.id == only["@odata.id"].rsplit("/", 1)[-1]
    assert system.client is client


def test_system_methods_are_the_clients_for_that_system(client: ferrofish.RedfishClient, mock_bmc: MockBmc) -> None:
    system = client.system()
    expected = mock_bmc.raw_get(NODE_READ_ONLY, system.path)
    assert system.power_state() == expected["PowerState"]
    assert system.power_state() == client.power_state()
    inventory = system.inventory()
    assert inventory == client.inventory()
    assert inventory.system.odata_id == system.path
    assert isinstance(system.virtual_media(), ferrofish.VirtualMedia)
    bios = system.bios()
    assert isinstance(bios, ferrofish.Bios)
    assert bios.read() == ferrofish.Bios(client, system.path).read()


def test_system_power_and_boot_act_on_the_system(mock_bmc: MockBmc) -> None:
    with mock_bmc.client(NODE_POWER) as redfish:
        system = redfish.system()
        system.reset("ForceOff")
        system.wait_for_power_state("Off", timeout=30.0)
        assert mock_bmc.raw_get(NODE_POWER, system.path)["PowerState"] == "Off"
        system.reset("On")
        system.wait_for_power_state("On", timeout=30.0)
        assert system.power_state() == ferrofish.PowerState.On
        outcome = system.set_boot_override("Pxe", enabled="Once")
        assert outcome.must_clear_after_boot is False
        boot = mock_bmc.raw_get(NODE_POWER, system.path)["Boot"]
        assert boot["BootSourceOverrideTarget"] == "Pxe"
        assert boot["BootSourceOverrideEnabled"] == "Once"
        redfish.set_boot_override("None", enabled="Disabled")


def test_system_refuses_bad_input_before_sending(client: ferrofish.RedfishClient) -> None:
    system = client.system()
    client.reset_request_counts()
    with pytest.raises(ferrofish.InvalidInputError):
        system.reset("")
    with pytest.raises(ferrofish.InvalidInputError):
        system.wait_for_power_state("On", timeout=-1.0)
    with pytest.raises(ferrofish.InvalidInputError):
        client.system("  ")
    assert client.request_counts()["total"] == 0


def test_repr_names_the_system_and_never_the_password(client: ferrofish.RedfishClient) -> None:
    system = client.system()
    text = repr(system)
    assert text == f"System(path={system.path!r}, url={client.url!r})"
    assert PASSWORD not in text and PASSWORD not in str(system)


# --- Several systems ------------------------------------------------------------------------


def test_system_without_id_on_several_systems_lists_them(multi_mock: MockBmc) -> None:
    with multi_mock.client(0) as redfish:
        with pytest.raises(ferrofish.InvalidInputError) as raised:
            redfish.system()
        message = str(raised.value)
        for path in SYSTEM_PATHS:
            assert path in message
        assert PASSWORD not in message


def test_systems_lists_a_handle_per_member(multi_mock: MockBmc) -> None:
    with multi_mock.client(0) as redfish:
        systems = redfish.systems()
        assert [system.path for system in systems] == SYSTEM_PATHS
        assert [system.id for system in systems] == ["1", "2", "3"]
        assert all(isinstance(system, ferrofish.System) for system in systems)


def test_system_by_id_reaches_that_system_only(multi_mock: MockBmc) -> None:
    with multi_mock.client(0) as redfish:
        by_id = redfish.system("2")
        by_path = redfish.system("/redfish/v1/Systems/2")
        assert by_id.path == by_path.path == "/redfish/v1/Systems/2"
        before = {path: multi_mock.raw_get(0, path)["PowerState"] for path in SYSTEM_PATHS}
        assert before["/redfish/v1/Systems/2"] == "Off", before
        clear_request_log(multi_mock, 0)
        by_id.reset("On")
        by_id.wait_for_power_state("On", timeout=30.0)
        posts = [e["path"] for e in request_log(multi_mock, 0) if e["method"] == "POST"]
        resets = [path for path in posts if "ComputerSystem.Reset" in path]
        assert resets == ["/redfish/v1/Systems/2/Actions/ComputerSystem.Reset"]
        after = {path: multi_mock.raw_get(0, path)["PowerState"] for path in SYSTEM_PATHS}
        assert after == {**before, "/redfish/v1/Systems/2": "On"}
        by_id.reset("ForceOff")
        by_id.wait_for_power_state("Off", timeout=30.0)


# --- asyncio --------------------------------------------------------------------------------


def test_async_system_without_id_and_its_methods(mock_bmc: MockBmc) -> None:
    expected = mock_bmc.raw_get(NODE_READ_ONLY, "/redfish/v1/Systems")["Members"][0]["@odata.id"]

    async def main() -> None:
        async with async_client(mock_bmc, NODE_READ_ONLY) as redfish:
            system = await redfish.system()
            assert isinstance(system, ferrofish.AsyncSystem)
            assert system.path == expected
            assert system.client is redfish
            assert await system.power_state() == mock_bmc.raw_get(NODE_READ_ONLY, expected)["PowerState"]
            assert await system.inventory() == await redfish.inventory()
            assert isinstance(await system.virtual_media(), ferrofish.AsyncVirtualMedia)
            bios = system.bios()
            assert isinstance(bios, ferrofish.AsyncBios)
            assert await bios.read() == await ferrofish.AsyncBios(redfish, expected).read()
            assert repr(system) == f"AsyncSystem(path={expected!r}, url={redfish.url!r})"
            assert PASSWORD not in repr(system)

    asyncio.run(main())


def test_async_system_by_id_on_several_systems(multi_mock: MockBmc) -> None:
    async def main() -> None:
        async with async_client(multi_mock, 0) as redfish:
            with pytest.raises(ferrofish.InvalidInputError, match="Systems/3"):
                await redfish.system()
            systems = await redfish.systems()
            assert [system.path for system in systems] == SYSTEM_PATHS
            assert all(isinstance(system, ferrofish.AsyncSystem) for system in systems)
            third = await redfish.system("3")
            clear_request_log(multi_mock, 0)
            outcome = await third.set_boot_override("Pxe", enabled="Once")
            assert outcome.must_clear_after_boot is False
            patches = [e["path"] for e in request_log(multi_mock, 0) if e["method"] == "PATCH"]
            assert patches == ["/redfish/v1/Systems/3"]
            assert multi_mock.raw_get(0, "/redfish/v1/Systems/3")["Boot"]["BootSourceOverrideTarget"] == "Pxe"
            assert multi_mock.raw_get(0, "/redfish/v1/Systems/1")["Boot"]["BootSourceOverrideTarget"] != "Pxe"
            await third.set_boot_override("None", enabled="Disabled")

    asyncio.run(main())


def test_system_of_a_closed_client_raises_client_closed(mock_bmc: MockBmc) -> None:
    redfish = mock_bmc.client(NODE_READ_ONLY)
    system = redfish.system()
    redfish.close()
    with pytest.raises(ferrofish.ClientClosedError):
        system.power_state()
