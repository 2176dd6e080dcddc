"""After ``os.fork()`` the child builds a runtime and connections of its own: it polls the mock
with new clients (blocking and async), refuses the parent's client instead of sending on the
parent's connections, and exits 0; the parent's client, session and connections still work."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import warnings

import pytest

import ferrofish
from conftest import NODE_READ_ONLY, MockBmc

pytestmark = [
    pytest.mark.mock_bmc,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)"),
]

#: A child that hangs (the symptom of a runtime without worker threads) is killed after this.
CHILD_TIMEOUT_S = 60.0

# Child exit codes, so a failure says which step went wrong.
OK = 0
PARENTS_CLIENT_WAS_USED = 10
WRONG_SYSTEMS = 11
WRONG_ASYNC_STATE = 12
UNEXPECTED_ERROR = 13


def _child(mock_bmc: MockBmc, parent: ferrofish.RedfishClient, expected_ids: list, expected_state: object) -> int:
    try:
        try:
            parent.system_ids()
            return PARENTS_CLIENT_WAS_USED
        except ferrofish.ClientClosedError as refused:
            if "os.fork()" not in str(refused):
                return PARENTS_CLIENT_WAS_USED
        with mock_bmc.client(NODE_READ_ONLY, auth="session") as child:
            if child.system_ids() != expected_ids:
                return WRONG_SYSTEMS

        async def poll() -> object:
            async with ferrofish.AsyncRedfishClient(
                mock_bmc.url(NODE_READ_ONLY),
                username=mock_bmc.username,
                password=mock_bmc.password,
                verify=mock_bmc.ca_pem_path,
            ) as client:
                return await client.power_state()

        if asyncio.run(poll()) != expected_state:
            return WRONG_ASYNC_STATE
        return OK
    except BaseException:  # noqa: BLE001 - any failure must become an exit code
        return UNEXPECTED_ERROR


def _wait_for_child(pid: int) -> int:
    deadline = time.monotonic() + CHILD_TIMEOUT_S
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail(f"the forked child hung for {CHILD_TIMEOUT_S} s")


def test_a_forked_child_polls_with_its_own_runtime_and_the_parent_keeps_working(mock_bmc: MockBmc) -> None:
    sessions_before = int(mock_bmc.node_view(NODE_READ_ONLY)["sessions"])
    with mock_bmc.client(NODE_READ_ONLY, auth="session") as parent:
        # The runtime exists, the session is open and a pooled connection is idle.
        expected_ids = parent.system_ids()
        expected_state = parent.power_state()
        logins_before = parent.request_counts()["post"]
        with warnings.catch_warnings():
            # Python 3.12+ warns that forking a multi-threaded process may deadlock: the
            # runtime's threads are what this test is about.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:
            os._exit(_child(mock_bmc, parent, expected_ids, expected_state))
        assert _wait_for_child(pid) == OK
        # The parent's session survived the child (it was neither used nor deleted there).
        assert parent.system_ids() == expected_ids
        assert parent.request_counts()["post"] == logins_before, "the parent had to log in again"
    assert int(mock_bmc.node_view(NODE_READ_ONLY)["sessions"]) == sessions_before
