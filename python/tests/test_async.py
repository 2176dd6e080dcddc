"""The asyncio twins (``AsyncRedfishClient``, ``AsyncBmc``, ``AsyncBios``, ``AsyncVirtualMedia``)
against real mock BMC processes: every capability awaited, ``async with`` deleting the session,
a cancelled task leaking no session, typed errors, and 1,000 concurrent power polls of 1,000
BMCs from one event loop.

No pytest plugin: each test runs its coroutine with ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any, Awaitable, Callable, Dict, Iterator, List, TypeVar

import pytest

import ferrofish
from conftest import (
    NODE_BOOT,
    NODE_FAULTS,
    NODE_POWER,
    NODE_READ_ONLY,
    PASSWORD,
    USERNAME,
    MockBmc,
    seconds_until_ctrl_c_ends,
    spawn_mock_bmc,
)

pytestmark = pytest.mark.mock_bmc

T = TypeVar("T")

#: BMCs polled at once from one event loop.
FLEET_SIZE = 1000


def run(coroutine_function: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await coroutine_function()

    return asyncio.run(main())


def async_client(mock: MockBmc, node: int, **overrides: Any) -> ferrofish.AsyncRedfishClient:
    options: Dict[str, Any] = {
        "username": mock.username,
        "password": mock.password,
        "verify": mock.ca_pem_path,
        "timeout": 30.0,
    }
    options.update(overrides)
    return ferrofish.AsyncRedfishClient(mock.url(node), **options)


def open_sessions(mock: MockBmc, node: int) -> int:
    return int(mock.node_view(node)["sessions"])


def wait_for_sessions(mock: MockBmc, node: int, expected: int, timeout: float = 15.0) -> int:
    """The node's open sessions once they reach ``expected`` (or the last count seen)."""
    deadline = time.monotonic() + timeout
    seen = open_sessions(mock, node)
    while seen != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        seen = open_sessions(mock, node)
    return seen


# --- AsyncRedfishClient -----------------------------------------------------------------------


def test_reads_await_the_same_values_as_the_blocking_client(mock_bmc: MockBmc) -> None:
    with mock_bmc.client(NODE_READ_ONLY) as blocking:
        expected_ids = blocking.system_ids()
        expected_state = blocking.power_state()
        expected_inventory = blocking.inventory()
        expected_root = blocking.get_json("/redfish/v1")

    async def main() -> None:
        async with async_client(mock_bmc, NODE_READ_ONLY) as client:
            assert isinstance(client, ferrofish.AsyncRedfishClient)
            assert await client.system_ids() == expected_ids
            state = await client.power_state()
            assert state == expected_state
            assert isinstance(state, ferrofish.PowerState)
            inventory = await client.inventory()
            assert inventory == expected_inventory
            assert await client.get_json("/redfish/v1") == expected_root
            assert client.request_counts()["get"] > 0

    run(main)


def test_async_with_deletes_the_session(mock_bmc: MockBmc) -> None:
    before = open_sessions(mock_bmc, NODE_READ_ONLY)

    async def main() -> None:
        async with async_client(mock_bmc, NODE_READ_ONLY, auth="session") as client:
            await client.system_ids()
            assert open_sessions(mock_bmc, NODE_READ_ONLY) == before + 1
        with pytest.raises(ferrofish.ClientClosedError):
            await client.system_ids()

    run(main)
    assert open_sessions(mock_bmc, NODE_READ_ONLY) == before


def test_power_actions_and_waits_are_awaited(mock_bmc: MockBmc) -> None:
    async def main() -> None:
        async with async_client(mock_bmc, NODE_POWER) as client:
            await client.reset("ForceOff")
            await client.wait_for_power_state(ferrofish.PowerState.Off, timeout=30.0)
            assert await client.power_state() == "Off"
            await client.reset(ferrofish.ResetType.On)
            await client.wait_for_power_state("On", timeout=30.0)
            assert await client.power_state() == ferrofish.PowerState.On
            with pytest.raises(ferrofish.WaitTimeoutError) as waited:
                await client.wait_for_power_state("Paused", timeout=0.3)
            assert waited.value.wanted == "Paused"

    run(main)
    assert mock_bmc.node_view(NODE_POWER)["power"] == "On"


def test_boot_override_and_raw_writes_are_awaited(mock_bmc: MockBmc) -> None:
    async def main() -> None:
        async with async_client(mock_bmc, NODE_BOOT) as client:
            outcome = await client.set_boot_override("Pxe", enabled="Once")
            assert isinstance(outcome, ferrofish.BootOverrideOutcome)
            system = (await client.system_ids())[0]
            boot = (await client.get_json(system))["Boot"]
            assert (boot["BootSourceOverrideTarget"], boot["BootSourceOverrideEnabled"]) == ("Pxe", "Once")
            await client.patch_json(system, {"Boot": {"BootSourceOverrideEnabled": "Disabled"}})
            boot = (await client.get_json(system))["Boot"]
            assert boot["BootSourceOverrideEnabled"] == "Disabled"
            with pytest.raises(ferrofish.ValueNotAllowedError):
                await client.set_boot_override("NoSuchTarget")

    run(main)
    assert mock_bmc.raw_get(NODE_BOOT, mock_bmc.raw_members(NODE_BOOT, "/redfish/v1/Systems")[0]["@odata.id"])[
        "Boot"
    ]["BootSourceOverrideEnabled"] == "Disabled"


def test_errors_are_the_blocking_clients_classes_without_the_password(mock_bmc: MockBmc) -> None:
    wrong = "not-the-Passw0rd-async"

    async def main() -> BaseException:
        client = async_client(mock_bmc, NODE_READ_ONLY, password=wrong, auth="session", retries=0)
        assert wrong not in repr(client)
        assert repr(client) == f"AsyncRedfishClient(url='{mock_bmc.url(NODE_READ_ONLY)}', username='admin')"
        with pytest.raises(ferrofish.AuthenticationError) as refused:
            await client.system_ids()
        with pytest.raises(ferrofish.InvalidInputError):
            await client.reset("")  # refused before anything is sent or awaited
        await client.close()
        return refused.value

    error = run(main)
    assert wrong not in str(error) and wrong not in repr(error)
    bmc = ferrofish.AsyncBmc.connect("redfish+" + mock_bmc.url(NODE_READ_ONLY), username=USERNAME, password=wrong)
    assert wrong not in repr(bmc) and repr(bmc).startswith("AsyncBmc(address='redfish://127.0.0.1:")


def test_a_cancelled_task_still_deletes_its_session(mock_bmc: MockBmc) -> None:
    before = open_sessions(mock_bmc, NODE_FAULTS)
    async def main() -> None:
        ready = asyncio.Event()

        async def work() -> None:
            async with async_client(mock_bmc, NODE_FAULTS, auth="session", retries=0) as client:
                await client.system_ids()  # logs in
                ready.set()
                await client.get_json("/redfish/v1")  # held by the BMC when cancelled

        task = asyncio.create_task(work())
        await ready.wait()
        assert open_sessions(mock_bmc, NODE_FAULTS) == before + 1
        mock_bmc.arm_faults(NODE_FAULTS, {"latency_ms": 1_000})
        await asyncio.sleep(0.2)  # the GET is in flight
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    try:
        run(main)
        # __aexit__ ran on the cancellation; the DELETE lands once the BMC answers it, even
        # though the event loop that awaited it is gone.
        assert wait_for_sessions(mock_bmc, NODE_FAULTS, before) == before
    finally:
        mock_bmc.arm_faults(NODE_FAULTS, {"latency_ms": 0})


def test_cancelling_the_close_itself_does_not_stop_the_deletion(mock_bmc: MockBmc) -> None:
    before = open_sessions(mock_bmc, NODE_FAULTS)

    async def main() -> None:
        client = async_client(mock_bmc, NODE_FAULTS, auth="session", retries=0)
        await client.system_ids()
        mock_bmc.arm_faults(NODE_FAULTS, {"latency_ms": 1_500})
        closing = asyncio.ensure_future(client.close())
        await asyncio.sleep(0.3)
        closing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closing
        # Cancelled while the DELETE was still held by the BMC.
        assert open_sessions(mock_bmc, NODE_FAULTS) == before + 1

    try:
        run(main)
        assert wait_for_sessions(mock_bmc, NODE_FAULTS, before) == before
    finally:
        mock_bmc.arm_faults(NODE_FAULTS, {"latency_ms": 0})


def test_the_event_loop_keeps_running_while_a_call_waits_for_the_bmc(mock_bmc: MockBmc) -> None:
    async def main() -> int:
        async with async_client(mock_bmc, NODE_FAULTS, auth="basic", retries=0) as client:
            mock_bmc.arm_faults(NODE_FAULTS, {"latency_ms": 1_000})
            call = asyncio.ensure_future(client.get_json("/redfish/v1"))
            ticks = 0
            while not call.done():
                ticks += 1
                await asyncio.sleep(0)
            assert (await call)["Id"] == "RootService"
            return ticks

    try:
        ticks = run(main)
    finally:
        mock_bmc.arm_faults(NODE_FAULTS, {"latency_ms": 0})
    # The loop turned over and over during the second the BMC held the request.
    assert ticks > 1_000, ticks


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT to its own process")
def test_ctrl_c_interrupts_an_awaited_call(mock_bmc: MockBmc) -> None:
    # Each request is held 20 s by the BMC; SIGINT after 0.3 s must end asyncio.run long before.
    mock_bmc.arm_faults(NODE_FAULTS, {"latency_ms": 20_000})
    try:

        async def main() -> None:
            client = async_client(mock_bmc, NODE_FAULTS, auth="basic", retries=0)
            await client.get_json("/redfish/v1")

        waited = seconds_until_ctrl_c_ends(lambda: run(main))
    finally:
        mock_bmc.arm_faults(NODE_FAULTS, {"latency_ms": 0})
    # Not a speed assertion: 10 s is half the BMC's delay, far above any scheduling noise.
    assert waited < 10, waited


def test_awaitables_need_a_running_event_loop(mock_bmc: MockBmc) -> None:
    client = async_client(mock_bmc, NODE_READ_ONLY, auth="basic")
    with pytest.raises(RuntimeError):
        client.system_ids()


# --- AsyncBios and AsyncVirtualMedia ----------------------------------------------------------


@pytest.fixture(scope="module")
def plain_mock() -> Iterator[MockBmc]:
    """A mock of two nodes over plain HTTP, for BIOS and virtual media."""
    with spawn_mock_bmc("--nodes", "2", "--power-on-ms", "100", "--force-off-ms", "50") as ready:
        yield MockBmc.from_ready(ready)


def test_bios_reads_validates_stages_and_applies(plain_mock: MockBmc) -> None:
    with ferrofish.RedfishClient(plain_mock.url(0), username=USERNAME, password=PASSWORD) as blocking:
        expected_read = ferrofish.Bios(blocking).read()

    async def main() -> List[Dict[str, Any]]:
        async with ferrofish.AsyncRedfishClient(plain_mock.url(0), username=USERNAME, password=PASSWORD) as client:
            bios = ferrofish.AsyncBios(client)
            assert repr(bios).startswith("AsyncBios(url=")
            read = await bios.read()
            assert read["current"] == expected_read["current"]
            registry = await bios.registry()
            assert registry["attributes"]
            with pytest.raises(ferrofish.BiosValidationError):
                await bios.validate({"NoSuchAttribute": "x"})
            diff = await bios.diff({"BootSeqRetryCount": 6})
            assert [c["name"] for c in diff["changes"]] == ["BootSeqRetryCount"]
            staged = await bios.stage({"BootSeqRetryCount": 6})
            assert isinstance(staged, ferrofish.BiosStaged) and staged.sent
            return await bios.apply(staged, timeout=30.0, poll_interval=0.2)

    report = run(main)
    assert [(a["name"], a["status"]) for a in report] == [("BootSeqRetryCount", "applied")]


def test_virtual_media_slots_and_eject_are_awaited(plain_mock: MockBmc) -> None:
    with ferrofish.RedfishClient(plain_mock.url(1), username=USERNAME, password=PASSWORD) as blocking:
        expected_slots = blocking.virtual_media().slots()

    async def main() -> None:
        async with ferrofish.AsyncRedfishClient(plain_mock.url(1), username=USERNAME, password=PASSWORD) as client:
            media = await client.virtual_media()
            assert isinstance(media, ferrofish.AsyncVirtualMedia)
            assert media.system.startswith("/redfish/v1/Systems/")
            slots = await media.slots()
            assert slots == expected_slots
            assert await media.eject_all() == ()
            assert await media.eject(slots[0]) is False  # empty: nothing sent
            with pytest.raises(ferrofish.InvalidInputError):
                await media.eject("no-such-slot")
            with pytest.raises(ferrofish.InvalidInputError):
                await media.insert("/tmp/boot.iso")  # no scheme: refused before sending

    run(main)


# --- AsyncBmc ---------------------------------------------------------------------------------


def test_async_bmc_power_boot_and_inventory(plain_mock: MockBmc) -> None:
    address = "redfish+" + plain_mock.url(0)

    async def main() -> None:
        async with ferrofish.AsyncBmc.connect(address, username=USERNAME, password=PASSWORD) as bmc:
            assert repr(bmc).startswith("AsyncBmc(address=")
            assert list(bmc.capabilities()) == ["redfish"]
            done = await bmc.power("on")
            assert (done.value, done.via) == (None, "redfish")
            await bmc.wait_for_power_state("On", timeout=30.0)
            state = await bmc.power_state()
            assert (state.value, state.via) == (ferrofish.PowerState.On, "redfish")
            boot = await bmc.set_boot_device("pxe", persistent=False)
            assert boot.value["device"] == "pxe"
            inventory = await bmc.inventory()
            assert isinstance(inventory, ferrofish.Inventory)
            assert inventory.system.power_state == ferrofish.PowerState.On
            assert isinstance(inventory.system.power_state, ferrofish.PowerState)

    run(main)


# --- 1,000 BMCs from one event loop -----------------------------------------------------------


@pytest.fixture(scope="module")
def fleet() -> Iterator[MockBmc]:
    """FLEET_SIZE BMCs in one mock process (each starts off), plain HTTP, powering on at once."""
    with spawn_mock_bmc("--nodes", str(FLEET_SIZE), "--power-on-ms", "0") as ready:
        yield MockBmc.from_ready(ready)


def test_a_thousand_bmcs_are_polled_at_once_from_one_event_loop(fleet: MockBmc) -> None:
    # Power the even nodes on through Redfish first, so the expected state varies by node.
    async def power_on_evens() -> None:
        clients = [
            ferrofish.AsyncRedfishClient(fleet.url(node), username=USERNAME, password=PASSWORD, auth="basic")
            for node in range(0, FLEET_SIZE, 2)
        ]
        await asyncio.gather(*(client.reset("On") for client in clients))

    run(power_on_evens)
    expected = {node: ("On" if node % 2 == 0 else "Off") for node in range(FLEET_SIZE)}

    async def poll_all() -> List[Any]:
        clients = [
            ferrofish.AsyncRedfishClient(fleet.url(node), username=USERNAME, password=PASSWORD, auth="basic")
            for node in range(FLEET_SIZE)
        ]
        return await asyncio.gather(*(client.power_state() for client in clients))

    states = run(poll_all)
    assert len(states) == FLEET_SIZE
    mismatched = {node: state for node, state in enumerate(states) if state != expected[node]}
    assert mismatched == {}
    assert all(isinstance(state, ferrofish.PowerState) for state in states)
