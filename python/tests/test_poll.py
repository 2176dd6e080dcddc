"""``RedfishClient.poll_power_states`` and its asyncio twin: a fleet's power poll in one call,
against a real mock BMC process (plain HTTP on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any, Iterator, List

import pytest

import ferrofish
from conftest import PASSWORD, USERNAME, MockBmc, spawn_mock_bmc

pytestmark = pytest.mark.mock_bmc

NODES = 8
#: Nodes the fault tests slow down; the others stay fast.
SLOW = (6, 7)


@pytest.fixture(scope="module")
def fleet() -> Iterator[MockBmc]:
    """NODES BMCs, the even ones powered on through Redfish."""
    with spawn_mock_bmc("--nodes", str(NODES), "--power-on-ms", "0") as ready:
        mock = MockBmc.from_ready(ready)
        for node in range(0, NODES, 2):
            with client(mock, node) as redfish:
                redfish.reset("On")
        yield mock


def client(mock: MockBmc, node: int, **options: Any) -> ferrofish.RedfishClient:
    return ferrofish.RedfishClient(
        mock.url(node), username=USERNAME, password=PASSWORD, auth="basic", **options
    )


def expected_states(mock: MockBmc) -> List[str]:
    """Each node's PowerState as urllib reads it (a reader independent of ferrofish)."""
    return [mock.raw_get(node, "/redfish/v1/Systems/1")["PowerState"] for node in range(NODES)]


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_each_bmcs_state_comes_back_in_the_order_of_the_clients(fleet: MockBmc) -> None:
    expected = expected_states(fleet)
    assert set(expected) == {"On", "Off"}, expected
    clients = [client(fleet, node) for node in range(NODES)]
    clients.reverse()
    states = ferrofish.RedfishClient.poll_power_states(clients)
    assert states == list(reversed(expected))
    assert all(isinstance(state, ferrofish.PowerState) for state in states)
    # The same answers as each client's own call.
    assert states == [redfish.power_state() for redfish in clients]


def test_a_batch_sends_what_the_single_calls_send(fleet: MockBmc) -> None:
    warm = [client(fleet, node) for node in range(NODES)]
    for redfish in warm:
        redfish.power_state()  # looks up the only system once per client
    before = [fleet.requests_seen(node) for node in range(NODES)]
    ferrofish.RedfishClient.poll_power_states(warm)
    after_batch = [fleet.requests_seen(node) for node in range(NODES)]
    for redfish in warm:
        redfish.power_state()
    after_single = [fleet.requests_seen(node) for node in range(NODES)]
    batch = [a - b for a, b in zip(after_batch, before)]
    single = [a - b for a, b in zip(after_single, after_batch)]
    assert batch == single
    assert all(count >= 1 for count in batch), batch


def test_a_failing_bmc_is_an_exception_in_its_place_and_the_others_answer(fleet: MockBmc) -> None:
    unreachable = ferrofish.RedfishClient(
        f"http://127.0.0.1:{unused_port()}", username=USERNAME, password=PASSWORD, auth="basic",
        retries=0, connect_timeout=2.0,
    )
    closed = client(fleet, 1)
    closed.close()
    absent_system = (client(fleet, 2), "NoSuchSystem")
    named_system = (client(fleet, 4), "1")
    states = ferrofish.RedfishClient.poll_power_states(
        [client(fleet, 0), unreachable, closed, absent_system, named_system, client(fleet, 3)]
    )
    expected = expected_states(fleet)
    assert states[0] == expected[0]
    assert isinstance(states[1], ferrofish.BmcConnectionError), states[1]
    assert isinstance(states[2], ferrofish.ClientClosedError), states[2]
    assert isinstance(states[3], ferrofish.NotFoundError), states[3]
    assert states[3].status == 404
    assert states[4] == expected[4]
    assert states[5] == expected[3]
    # No secret in what came back.
    assert all(PASSWORD not in repr(state) and PASSWORD not in str(state) for state in states)


def test_bad_entries_raise_before_anything_is_sent(fleet: MockBmc) -> None:
    before = fleet.requests_seen(0)
    with pytest.raises(TypeError, match="RedfishClient or AsyncRedfishClient"):
        ferrofish.RedfishClient.poll_power_states([client(fleet, 0), "http://bmc"])
    with pytest.raises(TypeError, match="system"):
        ferrofish.RedfishClient.poll_power_states([(client(fleet, 0), 1)])
    with pytest.raises(ValueError, match="max_in_flight"):
        ferrofish.RedfishClient.poll_power_states([client(fleet, 0)], max_in_flight=0)
    assert fleet.requests_seen(0) == before
    assert ferrofish.RedfishClient.poll_power_states([]) == []


@pytest.fixture
def slow_nodes(fleet: MockBmc) -> Iterator[int]:
    """SLOW nodes answering each request after the returned latency, in milliseconds."""
    latency_ms = 300
    for node in SLOW:
        fleet.arm_faults(node, {"latency_ms": latency_ms})
    try:
        yield latency_ms
    finally:
        for node in SLOW:
            fleet.clear_faults(node)
            fleet.arm_faults(node, {"latency_ms": 0})


def test_max_in_flight_bounds_the_polls_at_once(fleet: MockBmc, slow_nodes: int) -> None:
    clients = [client(fleet, node) for node in SLOW]
    for redfish in clients:
        redfish.system_ids()
    started = time.monotonic()
    ferrofish.RedfishClient.poll_power_states(clients, max_in_flight=1)
    one_at_a_time = time.monotonic() - started
    # A lower bound, which noise cannot break: one at a time, each waits the latency in turn.
    assert one_at_a_time >= len(SLOW) * slow_nodes / 1000, one_at_a_time


def test_other_threads_run_while_a_batch_waits(fleet: MockBmc, slow_nodes: int) -> None:
    clients = [client(fleet, node) for node in SLOW]
    result: List[Any] = []
    worker = threading.Thread(target=lambda: result.extend(ferrofish.RedfishClient.poll_power_states(clients)))
    worker.start()
    count = 0
    while worker.is_alive():  # pure Python: advances only while it holds the GIL
        count += 1
    worker.join()
    assert result == [expected_states(fleet)[node] for node in SLOW]
    # Holding the GIL for the batch's wait (at least the latency) would have stopped this loop.
    assert count > 100_000, count


def test_the_async_twin_awaits_the_same_list(fleet: MockBmc) -> None:
    async def poll() -> List[Any]:
        clients = [
            ferrofish.AsyncRedfishClient(fleet.url(node), username=USERNAME, password=PASSWORD, auth="basic")
            for node in range(NODES)
        ]
        states = await ferrofish.AsyncRedfishClient.poll_power_states(clients, max_in_flight=3)
        return list(states)

    assert asyncio.run(poll()) == expected_states(fleet)
