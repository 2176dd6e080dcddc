"""What the Python bindings cost over the Rust library: printed, never asserted (issue 15).

Starts one mock BMC process (``ferrofish-mock-bmc``, ``--nodes 1000``, plain HTTP on
127.0.0.1), then measures, from Python and from Rust (``cargo bench --bench python_overhead``)
against the same mock:

1. per-call time of N sequential ``power_state`` reads on one client: the sync API
   (``RedfishClient.power_state(system)``) versus the same two steps in Rust; goal ≤ 1.3×;
2. one ``power_state`` read of every one of the 1,000 BMCs at once: asyncio
   (``AsyncRedfishClient``, one event loop, ``asyncio.gather``) versus Rust (``join_all`` on one
   task).

Usage: ``python python/bench/overhead.py [--calls 2000] [--bmcs 1000]`` from the repository root
after ``maturin develop``. ``FERROFISH_MOCK_BMC`` names a prebuilt mock binary; otherwise
cargo builds it. ``CARGO_TARGET_DIR`` is honoured; the Rust half is built with the bench
(release) profile, so build the module with ``maturin develop --release`` for a fair ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

import ferrofish

REPO_ROOT = Path(__file__).resolve().parents[2]
USERNAME = "admin"
PASSWORD = "bench-Pa55word"


def mock_binary() -> str:
    prebuilt = os.environ.get("FERROFISH_MOCK_BMC")
    if prebuilt:
        return prebuilt
    built = subprocess.run(
        ["cargo", "build", "--release", "-p", "ferrofish-mock-bmc", "--bin", "ferrofish-mock-bmc",
         "--message-format=json"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True, check=True,
    )
    for line in built.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message.get("executable"):
            if message["target"]["name"] == "ferrofish-mock-bmc":
                return str(message["executable"])
    sys.exit("cargo did not report the ferrofish-mock-bmc executable")


def start_mock(bmcs: int) -> "tuple[subprocess.Popen[str], Dict[str, Any]]":
    process = subprocess.Popen(
        [mock_binary(), "--listen", "127.0.0.1:0", "--user", USERNAME, "--nodes", str(bmcs), "--power-on-ms", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "FERROFISH_MOCK_BMC_PASSWORD": PASSWORD},
    )
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    if not selector.select(timeout=120):
        process.kill()
        sys.exit("the mock BMC did not start")
    return process, json.loads(process.stdout.readline())


def python_serial(url: str, calls: int) -> float:
    with ferrofish.RedfishClient(url, username=USERNAME, password=PASSWORD) as client:
        system = client.system_ids()[0]
        client.power_state(system)  # logs in and opens the connection
        started = time.perf_counter()
        for _ in range(calls):
            client.power_state(system)
        return time.perf_counter() - started


def python_fleet(urls: List[str]) -> float:
    async def poll() -> float:
        clients = [
            ferrofish.AsyncRedfishClient(url, username=USERNAME, password=PASSWORD, auth="basic") for url in urls
        ]
        started = time.perf_counter()
        states = await asyncio.gather(*(client.power_state() for client in clients))
        elapsed = time.perf_counter() - started
        assert len(states) == len(urls)
        return elapsed

    return asyncio.run(poll())


def rust(urls: List[str], calls: int) -> Dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(urls))
    try:
        done = subprocess.run(
            ["cargo", "bench", "--quiet", "--bench", "python_overhead", "--",
             "--urls-file", listing.name, "--calls", str(calls), "--user", USERNAME],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True, check=True,
            env={**os.environ, "FERROFISH_PASSWORD": PASSWORD},
        )
    finally:
        os.unlink(listing.name)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--bmcs", type=int, default=1000)
    args = parser.parse_args()
    # The plain-http warning of 1,000 clients would drown the figures.
    import logging

    logging.getLogger("ferrofish").setLevel(logging.ERROR)
    process, ready = start_mock(args.bmcs)
    try:
        urls = [node["url"] for node in ready["nodes"]]
        rust_figures = rust(urls, args.calls)
        py_serial = python_serial(urls[0], args.calls)
        py_fleet = python_fleet(urls)
    finally:
        process.terminate()
        process.wait(timeout=30)
    rust_per_call = rust_figures["serial_seconds"] / args.calls
    py_per_call = py_serial / args.calls
    print(f"sync power_state, {args.calls} sequential calls on one client:")
    print(f"  Python  {py_per_call * 1e6:8.1f} µs/call")
    print(f"  Rust    {rust_per_call * 1e6:8.1f} µs/call")
    print(f"  ratio   {py_per_call / rust_per_call:8.2f}×  (goal ≤ 1.3×)")
    print(f"power_state of {len(urls)} BMCs at once:")
    print(f"  asyncio {py_fleet:8.3f} s  ({len(urls) / py_fleet:,.0f} polls/s)")
    print(f"  Rust    {rust_figures['fleet_seconds']:8.3f} s  ({len(urls) / rust_figures['fleet_seconds']:,.0f} polls/s)")
    print(f"  ratio   {py_fleet / rust_figures['fleet_seconds']:8.2f}×")


if __name__ == "__main__":
    main()
