"""Fixtures: one real mock BMC (the `ferrofish-mock-bmc` binary) for the whole session.

The binary is built with cargo when needed (set ``FERROFISH_MOCK_BMC`` to use a prebuilt one),
started once on ephemeral loopback ports with HTTPS and a few nodes, and stopped at the end.
Tests that change a node's state (power, boot override, faults) get a node of their own.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import selectors
import signal
import ssl
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest

import ferrofish

REPO_ROOT = Path(__file__).resolve().parents[2]
USERNAME = "admin"
# Not the mock's default, so a test that passes proves the credentials really travel.
PASSWORD = "s3cret-Pa55word-for-tests"

# Node indexes, one per kind of test that changes state.
NODE_READ_ONLY = 0
NODE_POWER = 1
NODE_BOOT = 2
NODE_FAULTS = 3
NODE_COUNT = 4

STARTUP_TIMEOUT_S = 60.0


@contextlib.contextmanager
def keyboard_interrupt_on_sigint() -> Iterator[None]:
    """SIGINT raises ``KeyboardInterrupt`` inside the block, whatever the suite started with.

    Python installs that handler only when SIGINT was not ignored at startup, and a shell
    starts every background job (``cmd &``, CI runners, nohup) with SIGINT ignored. The
    previous handler comes back afterwards. Only the main thread may set handlers, which is
    where pytest runs tests.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def seconds_until_ctrl_c_ends(call: "Callable[[], object]", after: float = 0.3) -> float:
    """Runs ``call`` with SIGINT sent to this process ``after`` seconds in; asserts that it ends
    with ``KeyboardInterrupt`` and returns how long it ran."""
    timer = threading.Timer(after, os.kill, (os.getpid(), signal.SIGINT))
    started = time.monotonic()
    with keyboard_interrupt_on_sigint():
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                call()
        finally:
            timer.cancel()
    return time.monotonic() - started


@dataclass(frozen=True)
class MockBmc:
    """A running mock BMC process: its node URLs, certificate and admin API."""

    urls: List[str]
    ca_pem_path: str
    admin_url: str
    username: str
    password: str

    @classmethod
    def from_ready(cls, ready: Dict[str, Any]) -> "MockBmc":
        """The mock as its ready line describes it (``ca_pem_path`` empty over plain HTTP)."""
        return cls(
            urls=[node["url"] for node in ready["nodes"]],
            ca_pem_path=ready["ca_pem_path"] or "",
            admin_url=ready["admin"],
            username=USERNAME,
            password=PASSWORD,
        )

    def url(self, node: int) -> str:
        return self.urls[node]

    def client(self, node: int, **overrides: Any) -> ferrofish.RedfishClient:
        options: Dict[str, Any] = {
            "username": self.username,
            "password": self.password,
            "verify": self.ca_pem_path,
            "timeout": 30.0,
        }
        options.update(overrides)
        return ferrofish.RedfishClient(self.urls[node], **options)

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """Calls the mock's admin API (plain HTTP on loopback, no credentials)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.admin_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = response.read()
        return json.loads(payload) if payload else None

    def raw_get(self, node: int, path: str) -> Any:
        """GET a Redfish path with urllib and HTTP Basic: a reader independent of ferrofish,
        for expected values."""
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        request = urllib.request.Request(
            self.urls[node] + path,
            headers={"Authorization": f"Basic {token}", "Accept": "application/json"},
        )
        context = ssl.create_default_context(cafile=self.ca_pem_path)
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            return json.loads(response.read())

    def raw_members(self, node: int, path: str) -> List[Any]:
        """Every member of a collection, each fetched with :meth:`raw_get`."""
        collection = self.raw_get(node, path)
        return [self.raw_get(node, member["@odata.id"]) for member in collection["Members"]]

    def requests_seen(self, node: int) -> int:
        """How many requests the node has logged."""
        return int(self.admin("GET", f"/nodes/{node}/requests")["count"])

    def arm_faults(self, node: int, spec: Dict[str, Any]) -> None:
        self.admin("POST", f"/nodes/{node}/faults", spec)

    def clear_faults(self, node: int) -> None:
        self.admin("DELETE", f"/nodes/{node}/faults")

    def node_view(self, node: int) -> Any:
        return self.admin("GET", f"/nodes/{node}")


def _mock_bmc_binary() -> Path:
    prebuilt = os.environ.get("FERROFISH_MOCK_BMC")
    if prebuilt:
        return Path(prebuilt)
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.fail("cargo is not on PATH: install Rust or set FERROFISH_MOCK_BMC to the binary")
    # A no-op when the binary is up to date; builds it when missing or stale.
    build = subprocess.run(
        [cargo, "build", "-p", "ferrofish-mock-bmc", "--bin", "ferrofish-mock-bmc", "--message-format=json"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if build.returncode != 0:
        pytest.fail(f"cargo build -p ferrofish-mock-bmc failed:\n{build.stderr[-4000:]}")
    for line in build.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message.get("executable"):
            if message["target"]["name"] == "ferrofish-mock-bmc":
                return Path(message["executable"])
    pytest.fail("cargo did not report the ferrofish-mock-bmc executable")


def _read_ready_line(process: subprocess.Popen, log_path: Path) -> Dict[str, Any]:
    """Reads the one JSON line the mock prints once every listener is bound."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if selector.select(timeout=0.5):
            line = process.stdout.readline()
            if line:
                return json.loads(line)
        if process.poll() is not None:
            break
    process.kill()
    pytest.fail(f"ferrofish-mock-bmc did not start; its stderr:\n{log_path.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def mock_bmc() -> Iterator[MockBmc]:
    # Short transitions: tests poll for the state, they never sleep for it.
    with spawn_mock_bmc(
        "--nodes", str(NODE_COUNT), "--power-on-ms", "300", "--force-off-ms", "100", tls=True
    ) as ready:
        assert ready["tls"] is True, ready
        yield MockBmc.from_ready(ready)


@pytest.fixture
def client(mock_bmc: MockBmc) -> Iterator[ferrofish.RedfishClient]:
    """A client of the read-only node, closed (session deleted) after the test."""
    with mock_bmc.client(NODE_READ_ONLY) as redfish:
        yield redfish


@contextlib.contextmanager
def spawn_mock_bmc(
    *args: str, password: str = PASSWORD, tls: bool = False
) -> Iterator[Dict[str, Any]]:
    """A mock BMC process with these extra arguments, over HTTPS with its CA written to a
    scratch file when ``tls``, yielding its ready line (``nodes``, ``admin``,
    ``ca_pem_path``); stopped at the end. The password goes through the environment."""
    binary = _mock_bmc_binary()
    with tempfile.TemporaryDirectory(prefix="ferrofish-pytest-mock-") as scratch:
        log_path = Path(scratch) / "mock-bmc.stderr"
        if tls:
            args = (*args, "--tls", "--tls-pem-path", str(Path(scratch) / "mock-bmc-ca.pem"))
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [str(binary), "--listen", "127.0.0.1:0", "--user", USERNAME, *args],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env={**os.environ, "FERROFISH_MOCK_BMC_PASSWORD": password},
            )
            try:
                yield _read_ready_line(process, log_path)
            finally:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
                if process.stdout is not None:
                    process.stdout.close()
