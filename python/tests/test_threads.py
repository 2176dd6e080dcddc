"""Blocking calls release the GIL and stay interruptible."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Iterator

import pytest

import ferrofish
from conftest import NODE_FAULTS, MockBmc, keyboard_interrupt_on_sigint, seconds_until_ctrl_c_ends

LATENCY_MS = 1500


@pytest.fixture
def slow_node(mock_bmc: MockBmc) -> Iterator[int]:
    """The fault node, answering every request after LATENCY_MS."""
    mock_bmc.arm_faults(NODE_FAULTS, {"latency_ms": LATENCY_MS})
    try:
        yield NODE_FAULTS
    finally:
        mock_bmc.clear_faults(NODE_FAULTS)
        mock_bmc.arm_faults(NODE_FAULTS, {"latency_ms": 0})


def test_other_threads_run_while_a_call_waits_for_the_bmc(mock_bmc: MockBmc, slow_node: int) -> None:
    in_call = threading.Event()
    stop = threading.Event()
    ticks_during_call = 0

    def count() -> None:
        nonlocal ticks_during_call
        while not stop.is_set():
            if in_call.is_set():
                ticks_during_call += 1

    counter = threading.Thread(target=count)
    counter.start()
    try:
        with mock_bmc.client(slow_node, auth="basic") as redfish:
            in_call.set()
            try:
                redfish.system_ids()  # several requests, each held LATENCY_MS by the BMC
            finally:
                in_call.clear()
    finally:
        stop.set()
        counter.join(timeout=30)
    # Had the call held the GIL, the counter could not have run during it at all.
    assert ticks_during_call > 1000, ticks_during_call


def test_the_main_thread_counts_on_while_a_worker_thread_waits_for_the_bmc(
    mock_bmc: MockBmc, slow_node: int
) -> None:
    result = {}

    def call() -> None:
        with mock_bmc.client(slow_node, auth="basic") as redfish:
            result["ids"] = redfish.system_ids()  # several requests, each held LATENCY_MS

    worker = threading.Thread(target=call)
    started = time.monotonic()
    worker.start()
    count = 0
    while worker.is_alive():  # pure Python: advances only while it holds the GIL
        count += 1
    waited = time.monotonic() - started
    worker.join()
    assert result["ids"], "the call did not complete"
    assert waited >= LATENCY_MS / 1000, waited
    # A call holding the GIL would have stopped this loop for its whole duration (seconds);
    # released, the loop runs millions of times.
    assert count > 100_000, count


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT to its own process")
def test_ctrl_c_interrupts_a_waiting_call(mock_bmc: MockBmc) -> None:
    # Each request is held 20 s by the BMC; SIGINT after 0.3 s must end the wait long before.
    mock_bmc.arm_faults(NODE_FAULTS, {"latency_ms": 20_000})
    try:
        redfish = mock_bmc.client(NODE_FAULTS, auth="basic", retries=0)
        waited = seconds_until_ctrl_c_ends(lambda: redfish.get_json("/redfish/v1"))
    finally:
        mock_bmc.arm_faults(NODE_FAULTS, {"latency_ms": 0})
    # Not a speed assertion: 10 s is half the BMC's delay, far above any scheduling noise.
    assert waited < 10, waited


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT to its own process")
def test_ctrl_c_interrupts_a_call_made_while_another_thread_waits(mock_bmc: MockBmc) -> None:
    # With another blocking call in progress, a call runs on the runtime's workers rather than
    # on its own thread; Ctrl-C must end its wait all the same. Each request is held 6 s.
    mock_bmc.arm_faults(NODE_FAULTS, {"latency_ms": 6_000})
    try:
        other = threading.Thread(
            target=lambda: mock_bmc.client(NODE_FAULTS, auth="basic", retries=0).get_json("/redfish/v1")
        )
        other.start()
        time.sleep(0.5)  # the other thread is inside its call by now
        assert other.is_alive()
        redfish = mock_bmc.client(NODE_FAULTS, auth="basic", retries=0)
        waited = seconds_until_ctrl_c_ends(lambda: redfish.get_json("/redfish/v1"))
        other.join(timeout=30)
    finally:
        mock_bmc.arm_faults(NODE_FAULTS, {"latency_ms": 0})
    # Not a speed assertion: 3 s is half the BMC's delay, far above any scheduling noise.
    assert waited < 3, waited


def _open_sessions(mock_bmc: MockBmc, node: int) -> int:
    return int(mock_bmc.node_view(node)["sessions"])


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT to its own process")
def test_ctrl_c_during_close_still_deletes_the_session(mock_bmc: MockBmc) -> None:
    before = _open_sessions(mock_bmc, NODE_FAULTS)
    redfish = mock_bmc.client(NODE_FAULTS, auth="session", retries=0)
    redfish.system_ids()  # logs in
    assert _open_sessions(mock_bmc, NODE_FAULTS) == before + 1

    # The DELETE is held 2 s by the BMC; Ctrl-C arrives 0.3 s into the wait for it.
    mock_bmc.arm_faults(NODE_FAULTS, {"latency_ms": 2_000})
    try:
        timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
        with keyboard_interrupt_on_sigint():
            timer.start()
            try:
                with pytest.raises(KeyboardInterrupt):
                    redfish.close()
            finally:
                timer.cancel()
        # The interrupt came while the DELETE was still held, not after it was answered.
        assert _open_sessions(mock_bmc, NODE_FAULTS) == before + 1

        # The deletion goes on in the background and lands once the BMC answers.
        deadline = time.monotonic() + 15
        while _open_sessions(mock_bmc, NODE_FAULTS) != before and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        mock_bmc.arm_faults(NODE_FAULTS, {"latency_ms": 0})
    assert _open_sessions(mock_bmc, NODE_FAULTS) == before
    with pytest.raises(ferrofish.ClientClosedError):
        redfish.system_ids()


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
@pytest.mark.parametrize("configured, expected", [(None, 1), ("3", 3)])
def test_the_runtime_has_one_worker_unless_tokio_worker_threads_says(
    mock_bmc: MockBmc, configured: "str | None", expected: int
) -> None:
    import subprocess
    import sys

    script = f"""
import os, ferrofish
client = ferrofish.RedfishClient({mock_bmc.urls[0]!r}, username={mock_bmc.username!r},
    password={mock_bmc.password!r}, verify={mock_bmc.ca_pem_path!r}, auth="basic")
client.system_ids()
names = [open(f"/proc/self/task/{{t}}/comm").read().strip() for t in os.listdir("/proc/self/task")]
print(names.count("ferrofish-tokio"))
"""
    env = {key: value for key, value in os.environ.items() if key != "TOKIO_WORKER_THREADS"}
    if configured is not None:
        env["TOKIO_WORKER_THREADS"] = configured
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert int(done.stdout.strip().splitlines()[-1]) == expected, done.stderr
